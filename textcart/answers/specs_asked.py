"""Which specs a text asks about: weight, load, drop, capacity, brightness, battery, warmth...

Read by rules, like the rest of the question: "how much weight can it carry" asks for the
load, not for what the pack weighs; "how many hrs on max" asks the run time in a mode.
"""

from __future__ import annotations

import re

from textcart.answers.policy_topics import any_of

# The load it carries, asked before its own weight: "how much weight is it comfy with".
LOAD = any_of(
    r"how (much|heavy)( of an?)? (weight|load)\b[^?.!]{0,30}\b(carry|carries|hold|take|handle|"
    r"comfy|comfortabl\w*|manage)",
    r"\b(max(imum)?|comfortable|recommended) (weight|load)\b",
    r"\bcarr(y|ies) (comfortably|well)\b",
    r"\bload (limit|capacity|rating)\b",
)
_SPECS: list[tuple[str, re.Pattern[str]]] = [
    ("load", LOAD),
    (
        "weight",
        any_of(
            r"weigh",
            r"\bheav(y|ier|iest)\b"
            r"(?! (rain|downpour|snow|use|duty|sweat\w*|rainfall|packs?|backpack|loads?))",
            r"\blight(er|est|weight)?\b",
            r"\bgrams?\b",
            r"\boz\b",
        ),
    ),
    ("drop", any_of(r"\bdrop\b", r"heel[- ]to[- ]toe", r"\bstack\b(?! (up|against))", r"cushion")),
    (
        "capacity",
        any_of(
            r"capacity",
            r"lit(er|re)s?\b",
            r"\d+ ?l\b",
            r"how big",
            r"how much (does it |will it )?hold",
            r"fit a (laptop|bladder)",
            r"volume",
        ),
    ),
    ("brightness", any_of(r"bright", r"lumens?", r"how far")),
    (
        "battery",
        any_of(
            r"battery",
            r"charg",
            r"rechargeable",
            r"run ?time",
            r"\busb\b",
            r"how long does (it|the battery) last",
            r"how many (hrs|hours)\b",
            # "how long does the beacon 400 go on low": a light's run time in a mode.
            r"how long\b.{0,40}\b(go|run|last|stay on)s? (on|at) (low|high|max|medium|full)",
        ),
    ),
    (
        "warmth",
        any_of(
            r"\bwarm(th|er|est)?\b",
            r"\bcold\b",
            r"temperature",
            r"\btemps?\b",
            r"how cold",
            r"comfort (rating|range)",
            r"degrees",
            r"rated (to|for)",
            r"insulat",
            r"fill power",
            r"\bfreezing\b",
            r"below zero",
        ),
    ),
    ("traction", any_of(r"\blugs?\b", r"\bgrip\b", r"traction", r"outsole", r"\bsole\b")),
    (
        "length",
        any_of(
            r"inseam",
            r"\blength\b",
            r"how long (are|is) (the|they|it)\b",
            r"\binch",
            # "how long do the carbon poles extend"
            r"\bhow (long|tall|short|far)\b.{0,30}\b(extend|extends|adjust|adjusts|reach)\b",
        ),
    ),
    ("pockets", any_of(r"pockets?")),
    ("dimensions", any_of(r"dimensions", r"how tall", r"how wide")),
    # A part or accessory: "does it come w a rain cover?", "does the parka have a hood?"
    (
        "includes",
        any_of(
            r"\bcomes? (w|w/|with)\b",
            r"\binclud(e|es|ed|ing)\b",
            r"\b(does|do) (it|they|the \w+( \w+){0,3}) (have|has) (an?|any) \w+",
            r"\bgot (an? )?(?!(any|it|them|em|one|that|those|these|this|some|my|your|ur)\b)"
            r"\w+( \w+)?\s*\?",
        ),
    ),
]
MODE_WORDS = r"max|maximum|full|high|highest|brightest|turbo|low|lowest|eco|medium|mid"
_MODE = re.compile(rf"\b(on|at|in) ({MODE_WORDS})( (brightness|power|mode|setting))?\b", re.I)


def spec_asked(text: str) -> str | None:
    """The first spec a text asks about, or None."""
    specs = specs_asked(text)
    return specs[0] if specs else None


_WHOLE = ("load", "battery")  # read on the whole text: "how long does it last on low"


def specs_asked(text: str) -> list[str]:
    """Every spec a text asks about, in order ("how bright + how long does the battery last")."""
    # "how much weight can it carry" asks for the load, not for what the pack weighs;
    # "how many hrs on max brightness" asks the run time in a mode, not the brightness.
    rest = _MODE.sub(" ", LOAD.sub(" ", text))
    return [spec for spec, pattern in _SPECS if pattern.search(text if spec in _WHOLE else rest)]
