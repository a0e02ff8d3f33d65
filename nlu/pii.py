"""Masking of personal numbers before anything is logged or stored for analytics.

CCCD (12 digits), old CMND (9 digits), Vietnamese phone numbers (0xxxxxxxxx, +84xxxxxxxxx,
with spaces, dots or dashes) and e-mail addresses. The last digits are kept so that staff can
still tell two masked values apart in a conversation.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+])(?:\+?84|0)(?:[\s.\-]?\d){8,10}(?!\d)")
_ID_NUMBER = re.compile(r"(?<!\d)(?:\d{12}|\d{9})(?!\d)")


def _keep_last(value: str, keep: int = 2) -> str:
    digits = [index for index, char in enumerate(value) if char.isdigit()]
    hide = set(digits[:-keep]) if len(digits) > keep else set(digits)
    return "".join("*" if index in hide else char for index, char in enumerate(value))


# A URL's query string, as in an access log line: "?q=goi+0912+345+678&x=lan%40example.com".
_QUERY = re.compile(r"\?[^\s\"'<>?]*=[^\s\"'<>]*")


def _mask_plain(text: str) -> str:
    text = _EMAIL.sub(lambda m: m.group(0)[0] + "***@" + m.group(0).split("@", 1)[1], text)
    text = _PHONE.sub(lambda m: _keep_last(m.group(0)), text)
    return _ID_NUMBER.sub(lambda m: _keep_last(m.group(0)), text)


def _mask_query(match: re.Match) -> str:
    """A query string is masked decoded ("+" for a space, "%40" for "@" hide values from the patterns)."""
    pairs = parse_qsl(match.group(0)[1:], keep_blank_values=True)
    masked = [(_mask_plain(key), _mask_plain(value)) for key, value in pairs]
    return match.group(0) if masked == pairs else "?" + urlencode(masked, safe="*")


def mask_pii(text: str) -> str:
    """Return ``text`` with e-mails, phone numbers and ID numbers masked, in URL query strings too."""
    if not text:
        return text
    if "=" in text:
        text = _QUERY.sub(_mask_query, text)
    return _mask_plain(text)


def contains_pii(text: str) -> bool:
    return bool(_EMAIL.search(text) or _PHONE.search(text) or _ID_NUMBER.search(text))
