"""The GSM-7 alphabet (GSM 03.38): what an SMS carries at 160 characters a segment.

Any character outside it switches the whole message to UCS-2, 70 characters a segment.
"""

from __future__ import annotations

# The basic set: one septet a character.
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: an escape and the character, two septets each.
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")
GSM_CHARACTERS = GSM_BASIC | GSM_EXTENDED
