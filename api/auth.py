"""Who may open the pages for people who run the service: the agents' console and the staff dashboard.

Each door is opened by its own configured token (``?token=`` once, traded for an HttpOnly cookie,
or ``Authorization: Bearer``) or by HTTP basic credentials. A door with neither configured stays closed.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from fastapi import HTTPException, Request
from pydantic import SecretStr

from api.deps import Context

STAFF_COOKIE = "tthc_staff"
STAFF_CLOSED = "Bảng theo dõi chưa được cấu hình (ASSISTANT_STAFF_TOKEN)."
STAFF_LOGIN = "Cần đăng nhập để xem bảng theo dõi."


def same_secret(given: str, expected: str) -> bool:
    """Compare in constant time (a timing difference would leak the secret byte by byte)."""
    return secrets.compare_digest(given.encode(), expected.encode())


def basic_credentials(header: str) -> tuple[str, str] | None:
    """(user, password) from an ``Authorization: Basic`` header, None when it is not one."""
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def authorised(
    request: Request,
    cookie: str,
    token: SecretStr | None,
    user: str | None,
    password: SecretStr | None,
) -> bool:
    """True when the request carries the token (bearer or cookie) or the user and password."""
    header = request.headers.get("authorization", "")
    if token:
        expected = token.get_secret_value()
        bearer = header[7:] if header.lower().startswith("bearer ") else ""
        for given in (bearer, request.cookies.get(cookie, "")):
            if given and same_secret(given, expected):
                return True
    if user and password:
        credentials = basic_credentials(header)
        if credentials:
            given_user, given_password = credentials
            # both compared every time: stopping at a wrong user name would say which part was wrong
            return same_secret(given_user, user) & same_secret(given_password, password.get_secret_value())
    return False


def staff_authorised(request: Request, context: Context) -> bool:
    settings = context.settings
    return authorised(request, STAFF_COOKIE, settings.staff_token, settings.staff_user, settings.staff_password)


def require_staff(request: Request, context: Context) -> None:
    """Dependency of every staff route: 503 until configured, 401 without the staff credentials."""
    if not context.settings.staff_enabled:
        raise HTTPException(503, STAFF_CLOSED)
    if not staff_authorised(request, context):
        headers = {"WWW-Authenticate": 'Basic realm="staff", charset="UTF-8"'} if context.settings.staff_user else {}
        raise HTTPException(401, STAFF_LOGIN, headers=headers)
