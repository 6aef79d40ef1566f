"""The store's voice, as rules a draft can be checked against without a model.

Words the store never texts are refused in a model's draft (the template wording, which
the store controls, is not second-guessed); an emoji policy of "none" removes emoji from
every text; a sign-off is added only when the text still fits its segment budget.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Pictographs, dingbats, flags and the joiners and selectors that build emoji sequences.
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\u200d\ufe0f\u2b50\u2b55]+"
)


def avoided_words(text: str, avoid: Sequence[str]) -> list[str]:
    """The store's words-to-avoid that `text` uses, as whole words, in any case."""
    found = []
    for word in avoid:
        if word and re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE):
            found.append(f"uses {word!r}, a word the store never texts")
    return found


def without_emoji(text: str) -> str:
    """`text` with every emoji removed and the spaces they leave tidied."""
    cleaned = _EMOJI.sub("", text)
    return re.sub(r"[ \t]{2,}", " ", re.sub(r"\s+([!?.,])", r"\1", cleaned)).strip()


def signed(text: str, sign_off: str) -> str:
    """`text` with the store's sign-off on its own line (unchanged when there is none)."""
    sign_off = sign_off.strip()
    if not sign_off or text.rstrip().endswith(sign_off):
        return text
    return f"{text.rstrip()}\n{sign_off}"
