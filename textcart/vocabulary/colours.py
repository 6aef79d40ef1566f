"""Colour words shoppers text and product titles use."""

from __future__ import annotations

# The colours a shopper picks a colourway by ("the black one", "any in blue?").
COLOURS = (
    "black", "white", "grey", "gray", "navy", "blue", "teal", "green", "olive", "red",
    "orange", "yellow", "pink", "purple", "lavender", "brown", "tan", "beige", "charcoal",
)  # fmt: skip

# Every colour word the answer step and the output guard know, mapped to its family:
# "charcoal" is asked for as grey.
COLOUR_WORDS: dict[str, str] = {
    "black": "black",
    "white": "white",
    "grey": "grey",
    "gray": "grey",
    "charcoal": "grey",
    "blue": "blue",
    "navy": "navy",
    "teal": "teal",
    "green": "green",
    "olive": "olive",
    "red": "red",
    "orange": "orange",
    "yellow": "yellow",
    "pink": "pink",
    "purple": "purple",
    "lavender": "purple",
    "plum": "purple",
    "brown": "brown",
    "tan": "tan",
    "beige": "tan",
    "coral": "orange",
    "mint": "green",
    "sage": "green",
    "maroon": "red",
    "burgundy": "red",
    "cream": "white",
    "ivory": "white",
    "cobalt": "blue",
    "indigo": "blue",
    "turquoise": "teal",
    "slate": "grey",
    "moss": "green",
    "khaki": "tan",
    "mustard": "yellow",
    "magenta": "pink",
    "fuchsia": "pink",
}

# Colour names that are also everyday words ("will the poles rust", "running on sand"):
# a colour only when said as one ("the rust ones", "in sand", "what about stone").
COLOURWAY_WORDS: dict[str, str] = {
    "rust": "orange",
    "sand": "tan",
    "stone": "grey",
    "smoke": "grey",
    "forest": "green",
    "volt": "yellow",
    "ember": "red",
}
