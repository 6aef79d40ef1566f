"""What of a shopper's phone number may appear in logs and guard notes."""

from __future__ import annotations


def mask_phone(phone: str) -> str:
    """A phone number safe for logs: country code and last two digits only."""
    return phone[:2] + "*" * max(len(phone) - 4, 0) + phone[-2:] if len(phone) > 4 else "***"
