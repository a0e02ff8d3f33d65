"""Masking of personal numbers before anything is logged or stored for analytics.

CCCD (12 digits), old CMND (9 digits), Vietnamese phone numbers (0xxxxxxxxx, +84xxxxxxxxx,
with spaces, dots or dashes) and e-mail addresses. The last digits are kept so that staff can
still tell two masked values apart in a conversation.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+])(?:\+?84|0)(?:[\s.\-]?\d){8,10}(?!\d)")
_ID_NUMBER = re.compile(r"(?<!\d)(?:\d{12}|\d{9})(?!\d)")


def _keep_last(value: str, keep: int = 2) -> str:
    digits = [index for index, char in enumerate(value) if char.isdigit()]
    hide = set(digits[:-keep]) if len(digits) > keep else set(digits)
    return "".join("*" if index in hide else char for index, char in enumerate(value))


def mask_pii(text: str) -> str:
    """Return ``text`` with e-mails, phone numbers and ID numbers masked."""
    if not text:
        return text
    text = _EMAIL.sub(lambda m: m.group(0)[0] + "***@" + m.group(0).split("@", 1)[1], text)
    text = _PHONE.sub(lambda m: _keep_last(m.group(0)), text)
    text = _ID_NUMBER.sub(lambda m: _keep_last(m.group(0)), text)
    return text


def contains_pii(text: str) -> bool:
    return bool(_EMAIL.search(text) or _PHONE.search(text) or _ID_NUMBER.search(text))
