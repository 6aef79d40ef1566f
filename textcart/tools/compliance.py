"""Deterministic messaging rules: consent keywords, quiet hours, frequency caps, SMS segments.

Nothing here calls a model. These rules run before any decider and again on the way out,
so no model output can text a shopper who opted out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from textcart.tools.phone_numbers import zones_of
from textcart.vocabulary.gsm import GSM_BASIC, GSM_EXTENDED

KeywordAction = Literal["opt_out", "opt_in", "help"]

OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT"}
)
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES", "SUBSCRIBE"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})
# Courtesy words a shopper wraps a keyword in ("STOP please", "pls stop now"); a message of
# a keyword plus only these is still the keyword, anything more makes it a sentence.
_COURTESY = frozenset({"PLEASE", "PLS", "PLZ", "NOW", "THANKS", "THANK YOU", "THX", "IT", "OK"})

# Plain-language revocations. Each names the texts, the list or "me" as what should stop,
# so "stop the order", "cancel my order", "stop by the store" or "I can't stop thinking
# about those boots" never read as an opt-out.
_TEXTS = r"(?:texts?|txts?|messages?|msgs?|sms|marketing|promos?|promotions?|spam|alerts?)"
_REVOCATION = re.compile(
    r"\b(?:"
    r"(?:stop|quit|cease)\s+(?:texting|messaging|txting|contacting|spamming|"
    r"bugging|bothering|pestering)\b"
    r"|(?:stop|quit)\s+sending\s+(?:me\b|(?:these\s+|those\s+|your\s+|all\s+)?" + _TEXTS + r"\b)"
    r"|(?:stop|no\s+more|enough)\s+(?:(?:the|these|those|your|all|all\s+the|of\s+the|"
    r"of\s+these|of\s+your)\s+)?" + _TEXTS + r"\b"
    r"|(?:don'?t|do\s+not|never)\s+(?:ever\s+)?(?:(?:text|message|txt|contact|sms)\s+me"
    r"|send\s+me\s+(?:any\s+more\s+)?" + _TEXTS + r")\b"
    r"|(?:don'?t|do\s+not|no\s+longer)\s+(?:want|wish\s+to\s+(?:get|receive))\s+"
    r"(?:any\s+(?:more\s+)?|these\s+|your\s+|more\s+)?" + _TEXTS + r"\b"
    r"|remove\s+(?:me|my\s+(?:number|phone))|take\s+(?:me|my\s+number)\s+off"
    r"|delete\s+my\s+(?:number|phone\s+number)|lose\s+my\s+number"
    r"|unsubscribe\s+me|(?:want|wanna|like|need|how\s+(?:do|can)\s+i)\s+(?:to\s+)?unsubscribe"
    r"|opt\s*-?\s*me\s+out|(?:want|wanna|like)\s+to\s+opt\s*-?\s*out"
    r"|leave\s+me\s+alone|wrong\s+number"
    r"|cancel\s+(?:my\s+|the\s+|these\s+|your\s+)?(?:text|txt|sms)\s*"
    r"(?:subscription|alerts?|messages?|list)?"
    r")",
    re.IGNORECASE,
)
_NOT_WORD = re.compile(r"[^A-Z ]+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


def _plain(text: str) -> str:
    """Compatibility-folded text (full-width letters, curly apostrophes) for matching."""
    return unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)


def _keyword_form(text: str) -> str:
    """Upper-case letters and single spaces only: what a keyword match compares."""
    folded = unicodedata.normalize("NFKD", text).upper()
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def _bare(form: str) -> str:
    """A keyword form without the courtesy words around it."""
    words = form.replace("THANK YOU", "THANKS").split()
    kept = [w for w in words if w not in _COURTESY]
    return " ".join(kept) if kept else form


def keyword_action(text: str) -> KeywordAction | None:
    """Return the consent action a text asks for, or None for an ordinary message.

    Keywords count only as the whole message (with any punctuation, emoji or courtesy words
    around them), as carriers do; plain-language revocations count anywhere in the text.
    """
    form = _keyword_form(text)
    for candidate in (form, _bare(form)):
        if candidate in OPT_OUT_KEYWORDS or candidate.replace(" ", "") in OPT_OUT_KEYWORDS:
            return "opt_out"
        if candidate in OPT_IN_KEYWORDS:
            return "opt_in"
        if candidate in HELP_KEYWORDS:
            return "help"
    if _REVOCATION.search(_plain(text)):
        return "opt_out"
    return None


# Opt-in keywords that are also everyday answers ("yes" to "want the link?"): they change
# consent only for a shopper who opted out.
ANSWER_WORDS = frozenset({"YES"})


def keyword_of(text: str) -> str:
    """The text reduced to a keyword form: letters only, courtesy words dropped."""
    return _bare(_keyword_form(text))


def consent_source(text: str) -> tuple[Literal["keyword", "phrase"], str]:
    """How a consent change was asked for, for its history.

    Returns ("keyword", "STOP") for a keyword, ("phrase", "stop texting") for a revocation.
    """
    form = _bare(_keyword_form(text))
    if form.replace(" ", "") in OPT_OUT_KEYWORDS | OPT_IN_KEYWORDS or form in OPT_OUT_KEYWORDS:
        return "keyword", form.replace(" ", "")
    match = _REVOCATION.search(_plain(text))
    return ("phrase", match.group(0).lower()) if match else ("keyword", form)


def opt_out_confirmation(store_name: str) -> str:
    """The single confirmation a shopper gets after opting out."""
    return f"{store_name}: You're unsubscribed and won't get more texts. Reply START to rejoin."


def opt_in_confirmation(store_name: str) -> str:
    """The reply to START/UNSTOP."""
    return (
        f"{store_name}: You're subscribed again. Msg & data rates may apply. "
        "Reply STOP to opt out, HELP for help."
    )


def help_text(store_name: str) -> str:
    """The reply to HELP/INFO."""
    return (
        f"{store_name}: Ask us anything about products or orders. "
        "Msg&data rates may apply. Reply STOP to opt out."
    )


def shopper_zone(timezone: str | None, fallback: str, phone: str | None = None) -> ZoneInfo:
    """The shopper's time zone: their profile's, else their number's, else the store's."""
    number_zones = zones_of(phone) if phone else ()
    for name in (timezone, number_zones[0] if number_zones else None, fallback):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def in_quiet_hours(now: datetime, zone: ZoneInfo, start_hour: int, end_hour: int) -> bool:
    """True when `now` falls in [start_hour, end_hour) local time (wrapping midnight)."""
    hour = now.astimezone(zone).hour
    if start_hour == end_hour:
        return False
    if start_hour < end_hour:
        return start_hour <= hour < end_hour
    return hour >= start_hour or hour < end_hour


def quiet_hours_end(now: datetime, zone: ZoneInfo, start_hour: int, end_hour: int) -> datetime:
    """When the quiet hours `now` falls in end (UTC); `now` itself outside quiet hours."""
    if not in_quiet_hours(now, zone, start_hour, end_hour):
        return now.astimezone(UTC)
    local = now.astimezone(zone)
    wall = datetime.combine(local.date(), time(end_hour), tzinfo=zone)
    if wall <= local:
        # Wall-clock arithmetic on the date, so a DST change overnight still gives 9:00.
        wall = datetime.combine(local.date() + timedelta(days=1), time(end_hour), tzinfo=zone)
    return wall.astimezone(UTC)


# Typographic characters that force a whole message into UCS-2 (70 characters a segment)
# and have a plain GSM-7 equivalent a reader would not miss.
_GSM_LOOKALIKES = str.maketrans(
    {
        "\u2014": "-",
        "\u2013": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u00a0": " ",
        "\u2022": "-",
        # "150 g/m²" costs a whole text UCS-2 for one superscript.
        "\u00b2": "2",
        "\u00b3": "3",
    }
)


def gsm_friendly(text: str) -> str:
    """Replace dashes, curly quotes and ellipses with GSM-7 characters (emoji are kept)."""
    return text.translate(_GSM_LOOKALIKES)


@dataclass(frozen=True)
class SegmentInfo:
    """How an SMS text is encoded and how many segments it costs."""

    encoding: Literal["GSM-7", "UCS-2"]
    units: int
    segments: int


def _septets(char: str) -> int:
    return 2 if char in GSM_EXTENDED else 1


def _utf16_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _count_segments(text: str, cost: Callable[[str], int], single: int, multi: int) -> int:
    """Segments for a text whose characters cost `cost` units each.

    A two-unit character (a GSM-7 escape sequence, a UTF-16 surrogate pair) is never split
    across two segments, so a concatenated text can need one more segment than
    units / multi suggests.
    """
    if sum(cost(c) for c in text) <= single:
        return 1
    segments, used = 1, 0
    for char in text:
        units = cost(char)
        if used + units > multi:
            segments, used = segments + 1, 0
        used += units
    return segments


def is_gsm7(text: str) -> bool:
    """True when every character of `text` is in the GSM-7 basic or extension table."""
    return all(c in GSM_BASIC or c in GSM_EXTENDED for c in text)


def sms_segments(text: str) -> SegmentInfo:
    """Count SMS segments the way carriers do (GSM-7 160/153, UCS-2 70/67 code units)."""
    if not text:
        return SegmentInfo(encoding="GSM-7", units=0, segments=0)
    if is_gsm7(text):
        units = sum(_septets(c) for c in text)
        return SegmentInfo("GSM-7", units, _count_segments(text, _septets, 160, 153))
    units = sum(_utf16_units(c) for c in text)
    return SegmentInfo("UCS-2", units, _count_segments(text, _utf16_units, 70, 67))


def _is_symbol(char: str) -> bool:
    """Emoji, pictographs and their joiners/modifiers: decoration, not words."""
    return unicodedata.category(char) in ("So", "Sk", "Cf", "Mn", "Cs")


def fewest_segments(text: str) -> str:
    """Drop emoji and other symbols when that alone lets a text cost fewer segments.

    One emoji turns a whole text into UCS-2 (70 characters a segment instead of 160); if
    the words alone fit in fewer segments, the shopper gets the same words for less.
    """
    if is_gsm7(text):
        return text
    plain = "".join(c for c in text if c in GSM_BASIC or c in GSM_EXTENDED or not _is_symbol(c))
    plain = " ".join(plain.split(" ")).replace("  ", " ").strip()
    if not is_gsm7(plain):
        return text  # letters outside GSM-7 (e.g. a name in another script) must stay
    if plain and sms_segments(plain).segments < sms_segments(text).segments:
        return plain
    return text


def fit_to_segments(text: str, max_segments: int) -> str:
    """Shorten a text to at most `max_segments`, cutting at a sentence or word boundary."""
    if sms_segments(text).segments <= max_segments:
        return text
    words = text.split(" ")
    while words and sms_segments(" ".join(words) + "...").segments > max_segments:
        words.pop()
    cut = " ".join(words)
    sentence_end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    if sentence_end > len(cut) // 2:
        return cut[: sentence_end + 1]
    return cut + "..."
