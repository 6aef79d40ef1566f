"""Recognise prompt-injection attempts in a shopper's text, so they can be logged.

Recognising an attempt is not what keeps the shop safe: the output guard checks every
draft against the facts and the offer policy whatever the text said, and the shopper's
namespace comes from the verified sender. These signals make attempts visible in the
message log and in the turn's state, so a store can see who tried what.
"""

from __future__ import annotations

import re
import unicodedata

_SIGNALS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        (
            "override-instructions",
            r"\b(?:ignore|disregard|forget|override|bypass|skip)\b.{0,40}?"
            r"\b(?:instructions?|rules?|prompts?|guidelines?|polic(?:y|ies)|programming|"
            r"guardrails?|restrictions?|directives?)\b"
            r"|\bnew\s+instructions?\b|\byour\s+(?:real|true|new)\s+(?:task|job|instructions?)\b",
        ),
        (
            "prompt-extraction",
            r"\b(?:system|hidden|initial|developer|original)\s+(?:prompt|message|instructions?)\b"
            r"|\b(?:print|reveal|show|repeat|tell|give|output|leak|dump)\b.{0,30}?"
            r"\b(?:your|the)\s+(?:prompt|instructions?|rules|configuration|config)\b"
            r"|\bwhat\s+(?:are|were)\s+your\s+(?:instructions?|rules)\b",
        ),
        (
            "role-play",
            r"\b(?:you\s+are\s+now|from\s+now\s+on\s+you|pretend\s+(?:to\s+be|you(?:'re|\s+are))|"
            r"act\s+as\s+(?:an?\s+)?(?:admin|developer|manager|owner|system|dan)|"
            r"developer\s+mode|jailbreak|\bDAN\b|sudo|admin\s+mode|i\s+am\s+(?:the|your)\s+"
            r"(?:admin|developer|manager|owner|boss))",
        ),
        (
            "fake-markup",
            r"<\s*/?\s*(?:system|assistant|instructions?|im_start|im_end)\b|\[/?(?:system|inst)\]"
            r"|#{2,}\s*(?:system|instruction)|\bBEGIN\s+(?:SYSTEM|PROMPT)\b",
        ),
        (
            "other-shopper-data",
            r"\b(?:other|another|previous|last|different)\s+(?:shoppers?|customers?|users?|"
            r"persons?|people|buyers?)\b.{0,40}?\b(?:buy|bought|order|orders|ordered|data|"
            r"numbers?|address|purchases?|info|details|history|texts?|messages?)\b"
            r"|\b(?:shopper|customer|person|user|guy|woman|man|someone)\s+(?:at|with|on)\s+"
            r"(?:\+?\d[\d\s().-]{6,})"
            r"|\b(?:list|dump|export|show)\b.{0,20}?\b(?:all\s+)?(?:customers?|shoppers?|users?|"
            r"phone\s+numbers?)\b",
        ),
        (
            "redirect",
            r"\b(?:text|send|message|forward|sms|reply)\b.{0,40}?(?:to\s+)?"
            r"\+?\d[\d\s().-]{8,}\d.{0,20}?\b(?:instead|too|also|as\s+well)\b"
            r"|\b(?:text|send|message|forward|sms|reply)\s+(?:it|this|that|the\s+\w+|your\s+reply|"
            r"everything)?\s*to\s+\+?\d[\d\s().-]{8,}\d",
        ),
        (
            "discount-demand",
            r"\b(?:give|send|make|apply|want|need|gimme)\b.{0,30}?\b(?:[2-9]\d|100)\s?%"
            r"|\b(?:[2-9]\d|100)\s?%\s*(?:off|discount)\b.{0,20}?\b(?:now|please|or\s+else|code)\b"
            r"|\bfree\s+(?:stuff|products?|items?|order)\b|\bfor\s+free\b|\$0\b",
        ),
        (
            "code-words",
            r"\b(?:base64|eval\(|exec\(|rm\s+-rf|drop\s+table|select\s+\*\s+from|<script)\b",
        ),
    )
)


def injection_signals(text: str | None) -> list[str]:
    """Names of the injection patterns a shopper's text shows; empty for ordinary texts."""
    if not text:
        return []
    plain = unicodedata.normalize("NFKC", text)
    return [name for name, pattern in _SIGNALS if pattern.search(plain)]
