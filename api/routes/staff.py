"""The staff dashboard: the page, its figures as JSON, CSV exports, and the vendored chart library.

Staff sign in like agents in the console, with their own credentials (``ASSISTANT_STAFF_TOKEN`` or
``ASSISTANT_STAFF_USER`` + ``ASSISTANT_STAFF_PASSWORD``); without them every staff route answers 503.
Periods are whole UTC days given as ``from``/``to`` (YYYY-MM-DD, both included, at most 366 days).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse

from api.analytics import MAX_PERIOD_DAYS, Period, ProcedureStat, StaffReport, Summary
from api.auth import STAFF_COOKIE, require_staff, same_secret
from api.conversation import CHANNELS
from api.deps import Context
from api.routes.pages import STATIC_DIR

PAGE_DIR = STATIC_DIR / "staff"
VENDOR_DIR = STATIC_DIR / "vendor"
STAFF_FILES = {"staff.js": "text/javascript", "staff.css": "text/css"}
VENDOR_FILES = {"chart.umd.js": "text/javascript"}
DEFAULT_DAYS = 30
# Figures about citizens' conversations: no browser or proxy keeps a copy.
NO_STORE = {"Cache-Control": "no-store"}
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EXPORTS: dict[str, tuple[str, list[str]]] = {
    "questions": (
        "cau-hoi",
        [
            "Thời điểm (UTC)",
            "Kênh",
            "Kết quả",
            "Mã thủ tục",
            "Tên thủ tục",
            "Câu hỏi (đã che thông tin cá nhân)",
            "Đánh giá hữu ích",
            "Đánh giá chưa hữu ích",
        ],
    ),
    "gaps": (
        "chua-tra-loi-duoc",
        [
            "Nhóm",
            "Số câu trong nhóm",
            "Thời điểm (UTC)",
            "Kênh",
            "Không trả lời được",
            "Bị đánh giá chưa hữu ích",
            "Câu hỏi (đã che thông tin cá nhân)",
        ],
    ),
    "feedback": (
        "phan-hoi",
        [
            "Thời điểm câu trả lời (UTC)",
            "Kênh",
            "Mã thủ tục",
            "Tên thủ tục",
            "Câu hỏi (đã che thông tin cá nhân)",
            "Hữu ích",
            "Góp ý",
        ],
    ),
}
# Spreadsheet programs run a cell that starts with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

router = APIRouter(prefix="/staff", include_in_schema=False)
StaffOnly = Depends(require_staff)


def _day(value: str, name: str) -> date:
    # date.fromisoformat also takes week dates and compact forms; staff type (or pick) calendar days.
    if ISO_DAY.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise HTTPException(422, f"Ngày '{name}' không hợp lệ: cần một ngày có thật dạng YYYY-MM-DD, ví dụ 2025-01-31.")


def parse_period(first: str | None, last: str | None, channel: str | None, today: date | None = None) -> Period:
    """The period asked for; by default the last 30 days up to today (UTC). 422 with the reason otherwise."""
    today = today or datetime.now(UTC).date()
    end = _day(last, "to") if last else today
    start = _day(first, "from") if first else end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise HTTPException(422, "Ngày bắt đầu (from) phải trước hoặc trùng ngày kết thúc (to).")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise HTTPException(422, f"Khoảng thời gian dài nhất là {MAX_PERIOD_DAYS} ngày.")
    if channel and channel not in CHANNELS:
        raise HTTPException(422, f"Kênh không hợp lệ: chọn một trong {', '.join(CHANNELS)}.")
    return Period(start, end, channel or None)


def summary_json(summary: Summary) -> dict:
    """The page's data: plain numbers and texts, days as YYYY-MM-DD, instants in ISO 8601 UTC."""
    period, totals = summary.period, summary.totals
    return {
        "period": {
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
            "channel": period.channel,
            "days": [day.isoformat() for day in period.days()],
        },
        "totals": {
            "questions": totals.questions,
            "conversations": totals.conversations,
            "answered": totals.answered,
            "clarified": totals.clarified,
            "abstained": totals.abstained,
            "handover_conversations": totals.handover_conversations,
            "handover_turns": totals.handover_turns,
            "feedback": totals.feedback,
            "useful": totals.useful,
            "useful_rate": totals.useful_rate,
        },
        "questions_per_day": {"channels": summary.channels, "series": summary.per_day},
        "procedures": [_procedure(item) for item in summary.procedures],
        "rated_procedures": [_procedure(item) for item in summary.rated_procedures],
        "gaps": {
            "method": summary.gap_method,
            "threshold": summary.gap_threshold,
            "groups": [
                {
                    "count": group.count,
                    "abstained": group.abstained,
                    "not_useful": group.not_useful,
                    "examples": group.examples,
                    "last_date": group.last_date.isoformat(),
                }
                for group in summary.gaps
            ],
        },
        "handovers": [
            {
                "conversation": handover.conversation,
                "channel": handover.channel,
                "last_at": handover.last_at.isoformat(),
                "turns": [
                    {
                        "at": turn.at.isoformat(),
                        "question": turn.question,
                        "reply": turn.reply,
                        "decision": turn.decision,
                    }
                    for turn in handover.turns
                ],
            }
            for handover in summary.handovers
        ],
    }


def _procedure(item: ProcedureStat) -> dict:
    return {
        "code": item.code,
        "name": item.name,
        "questions": item.questions,
        "feedback": item.feedback,
        "useful": item.useful,
        "useful_rate": item.useful_rate,
    }


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "có" if value else "không"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_lines(header: list[str], rows: Iterable[list[object]]) -> Iterator[bytes]:
    """UTF-8 with a byte order mark (Excel reads Vietnamese right only with it), CRLF rows, in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


# -- routes ----------------------------------------------------------------------------------


@router.get("", response_model=None)
def dashboard(request: Request, context: Context, token: str | None = None) -> Response:
    settings = context.settings
    if token and settings.staff_token and same_secret(token, settings.staff_token.get_secret_value()):
        # Trade the token in the address (which lands in browser history) for a cookie sent to /staff only;
        # the rest of the address (a period, a channel) is kept so that a bookmarked view opens as saved.
        kept = urlencode([(key, value) for key, value in request.query_params.multi_items() if key != "token"])
        response = RedirectResponse("/staff" + (f"?{kept}" if kept else ""), status_code=303)
        response.set_cookie(STAFF_COOKIE, token, httponly=True, samesite="strict", path="/staff", max_age=12 * 3600)
        return response
    require_staff(request, context)
    return FileResponse(PAGE_DIR / "staff.html", media_type="text/html; charset=utf-8", headers=NO_STORE)


@router.get("/vendor/{name}")
def vendored(name: str) -> FileResponse:
    """Third-party browser code (public, no sign-in needed), copied from npm by scripts/vendor_js.sh."""
    if name not in VENDOR_FILES:
        raise HTTPException(404, "Không có tệp này.")
    path = VENDOR_DIR / name
    if not path.is_file():
        raise HTTPException(404, "Chưa có thư viện biểu đồ: chạy scripts/vendor_js.sh (./dev.sh chạy nó).")
    return FileResponse(path, media_type=VENDOR_FILES[name] + "; charset=utf-8")


@router.get("/api/summary", dependencies=[StaffOnly])
def summary(
    context: Context,
    first: str | None = Query(None, alias="from"),
    to: str | None = None,
    channel: str | None = None,
) -> JSONResponse:
    period = parse_period(first, to, channel)
    report = StaffReport(context.store, context.service).summary(period)
    return JSONResponse(summary_json(report), headers=NO_STORE)


@router.get("/api/export.csv", dependencies=[StaffOnly])
def export(
    context: Context,
    first: str | None = Query(None, alias="from"),
    to: str | None = None,
    channel: str | None = None,
    kind: str = "questions",
) -> StreamingResponse:
    if kind not in EXPORTS:
        raise HTTPException(422, f"Loại tệp không hợp lệ: chọn một trong {', '.join(EXPORTS)}.")
    period = parse_period(first, to, channel)
    report = StaffReport(context.store, context.service)
    rows = {"questions": report.question_rows, "gaps": report.gap_rows, "feedback": report.feedback_rows}[kind]
    stem, header = EXPORTS[kind]
    name = f"{stem}_{period.first}_{period.last}{'_' + period.channel if period.channel else ''}.csv"
    headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(csv_lines(header, rows(period)), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/{name}", dependencies=[StaffOnly])
def asset(name: str) -> FileResponse:
    if name not in STAFF_FILES:
        raise HTTPException(404, "Không có tệp này.")
    return FileResponse(PAGE_DIR / name, media_type=STAFF_FILES[name] + "; charset=utf-8")
