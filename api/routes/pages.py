"""Static pages: the embeddable web widget (+ a demo page) and the hotline-agent console.

The console is for agents only: a configured token (``?token=`` once, then an HttpOnly cookie, or
``Authorization: Bearer``) or HTTP basic auth. Without configuration it stays closed.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from api.auth import authorised, same_secret
from api.deps import Context

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
COOKIE = "tthc_console"
WIDGET_FILES = {"widget.js": "text/javascript", "widget.css": "text/css"}
CONSOLE_FILES = {"console.js": "text/javascript", "console.css": "text/css"}

router = APIRouter(include_in_schema=False)


def console_authorised(request: Request, context: Context) -> bool:
    settings = context.settings
    return authorised(request, COOKIE, settings.console_token, settings.console_user, settings.console_password)


def require_console(request: Request, context: Context) -> None:
    if not context.settings.console_enabled:
        raise HTTPException(503, "Bảng tra cứu chưa được cấu hình (ASSISTANT_CONSOLE_TOKEN).")
    if not console_authorised(request, context):
        headers = (
            {"WWW-Authenticate": 'Basic realm="console", charset="UTF-8"'} if context.settings.console_user else {}
        )
        raise HTTPException(401, "Cần đăng nhập để dùng bảng tra cứu.", headers=headers)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/widget/demo", status_code=307)


@router.get("/widget/demo")
def widget_demo() -> FileResponse:
    return FileResponse(STATIC_DIR / "widget" / "demo.html", media_type="text/html; charset=utf-8")


@router.get("/widget/{name}")
def widget_asset(name: str) -> FileResponse:
    if name not in WIDGET_FILES:
        raise HTTPException(404, "Không có tệp này.")
    return FileResponse(STATIC_DIR / "widget" / name, media_type=WIDGET_FILES[name] + "; charset=utf-8")


@router.get("/console", response_model=None)
def console(request: Request, context: Context, token: str | None = None) -> Response:
    settings = context.settings
    if token and settings.console_token and same_secret(token, settings.console_token.get_secret_value()):
        # Trade the token in the address (which lands in browser history) for a cookie.
        response = RedirectResponse("/console", status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/", max_age=12 * 3600)
        return response
    require_console(request, context)
    return FileResponse(STATIC_DIR / "console" / "console.html", media_type="text/html; charset=utf-8")


@router.get("/console/{name}")
def console_asset(name: str, request: Request, context: Context) -> FileResponse:
    require_console(request, context)
    if name not in CONSOLE_FILES:
        raise HTTPException(404, "Không có tệp này.")
    return FileResponse(STATIC_DIR / "console" / name, media_type=CONSOLE_FILES[name] + "; charset=utf-8")
