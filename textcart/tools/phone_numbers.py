"""Phone numbers through Google's libphonenumber (`phonenumbers`): parse, validate, locate.

Any country's number is accepted if it can exist (the metadata says so); the 555-0100 to
555-0199 lines the North American plan reserves for fiction (the demo's numbers) are
accepted too. For a time zone and, in the US and Canada, a state or province, the same
metadata is used: a shopper whose profile has no time zone still has a number. Ported
numbers and people who moved make this a best guess, which is why a profile's zone wins
and send windows must hold in every zone a number may be in.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberFormat, geocoder
from phonenumbers import timezone as number_timezones

_NOISE = re.compile(r"[\s().\-]")
# A number whose metadata names more zones than this (toll-free, non-geographic) has none.
_MAX_ZONES = 4

# US states (and DC) and Canadian provinces by the English name the geocoder gives.
_SUBDIVISIONS = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA",
    "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
    "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS",
    "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV",
    "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY",
    "North Carolina": "NC", "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK",
    "Oregon": "OR", "Pennsylvania": "PA", "Rhode Island": "RI", "South Carolina": "SC",
    "South Dakota": "SD", "Tennessee": "TN", "Texas": "TX", "Utah": "UT", "Vermont": "VT",
    "Virginia": "VA", "Washington": "WA", "West Virginia": "WV", "Wisconsin": "WI",
    "Wyoming": "WY", "Washington D.C.": "DC", "District of Columbia": "DC",
    "Washington State": "WA", "Puerto Rico": "PR",
    "Alberta": "AB", "British Columbia": "BC", "Manitoba": "MB", "New Brunswick": "NB",
    "Newfoundland and Labrador": "NL", "Nova Scotia": "NS", "Ontario": "ON",
    "Prince Edward Island": "PE", "Quebec": "QC", "Saskatchewan": "SK",
    "Northwest Territories": "NT", "Nunavut": "NU", "Yukon": "YT",
}  # fmt: skip
_CODES = frozenset(_SUBDIVISIONS.values())


def _parse(raw: str) -> phonenumbers.PhoneNumber:
    digits = _NOISE.sub("", raw or "")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    try:
        # Numbers without a country code are read as North American, as the carrier would.
        return phonenumbers.parse(digits, "US")
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None


def is_fiction(number: phonenumbers.PhoneNumber) -> bool:
    """True for a North American 555-01xx number (reserved for fiction, used by the demo)."""
    national = str(number.national_number)
    return (
        number.country_code == 1
        and len(national) == 10
        and national[3:6] == "555"
        and 100 <= int(national[6:]) <= 199
    )


def parse_phone(raw: str) -> str:
    """The E.164 form of a number that can exist, or ValueError saying why not."""
    number = _parse(raw)
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a phone number: wrong length for its country")
    if not (phonenumbers.is_valid_number(number) or is_fiction(number)):
        raise ValueError("not a phone number that can exist")
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


@lru_cache(maxsize=4096)
def zones_of(phone: str) -> tuple[str, ...]:
    """The IANA time zones a number may be in (empty when its metadata does not say)."""
    try:
        number = _parse(phone)
    except ValueError:
        return ()
    zones = tuple(z for z in number_timezones.time_zones_for_number(number) if "/" in z)
    zones = tuple(z for z in zones if z != "Etc/Unknown")
    return zones if 0 < len(zones) <= _MAX_ZONES else ()


@lru_cache(maxsize=4096)
def subdivision_of(phone: str) -> str | None:
    """The US state or Canadian province of a number ("FL", "ON"), or None."""
    try:
        number = _parse(phone)
    except ValueError:
        return None
    if number.country_code != 1:
        return None
    place = geocoder.description_for_number(number, "en")
    if not place:
        return None
    if ", " in place:
        code = place.rsplit(", ", 1)[1].strip()
        return code if code in _CODES else None
    return _SUBDIVISIONS.get(place)
