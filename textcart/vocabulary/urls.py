"""Web addresses as texts contain them: one pattern for the output guard and the link tracker.

A link in running text often ends a sentence ("see https://shop.example/boots."); the
punctuation after it is the sentence's, not the address's.
"""

from __future__ import annotations

import re

URL_PATTERN = re.compile(r"https?://[^\s<>\"']+")
_SENTENCE_END = ".,;:!?)"


def split_trailing(url: str) -> tuple[str, str]:
    """A URL found in running text, and the sentence punctuation that followed it."""
    trimmed = url.rstrip(_SENTENCE_END)
    return trimmed, url[len(trimmed) :]
