"""The staff dashboard's figures, exports and sign-in, over a seeded store on SQLite and on PostgreSQL.

The PostgreSQL database runs with the Hanoi time zone as its session zone, so a day boundary that
followed the server's zone instead of UTC would move the seeded 00:00:00 and 23:59:59 turns.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api import analytics
from api.analytics import GapQuestion, Period, StaffReport, cluster, group_questions
from api.routes import staff
from api.store import ConversationStore
from knowledge.answer.contract import Answer
from knowledge.dialogue import DialogueState
from tests.conftest import make_api_settings
from tests.staff_seed import (
    BIRTH,
    FIREWORKS,
    FIREWORKS_AGAIN,
    FIRST_DAY,
    LAST_DAY,
    MASKED_PHONE_QUESTION,
    PER_DAY,
    PETS,
    PROCEDURES,
    RESIDENCE,
    TOTALS,
    seed,
    staff_app,
)

POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TOKEN = "staff-secret"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
PERIOD = {"from": FIRST_DAY.isoformat(), "to": LAST_DAY.isoformat()}
BOM = b"\xef\xbb\xbf"


@contextmanager
def throwaway_postgres(timezone: str = "Asia/Ho_Chi_Minh") -> Iterator[str]:
    """A new database on the local PostgreSQL (fails, not skips, when it is down), dropped afterwards."""
    name = f"tthc_staff_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        connection.execute(text(f"ALTER DATABASE \"{name}\" SET timezone TO '{timezone}'"))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded_store(request, tmp_path_factory, fixture_service) -> Iterator[ConversationStore]:
    if request.param == "sqlite":
        store = ConversationStore(f"sqlite:///{tmp_path_factory.mktemp('staff') / 'store.sqlite3'}")
        seed(store, fixture_service)
        yield store
        store.close()
        return
    with throwaway_postgres() as url:
        store = ConversationStore(url)
        seed(store, fixture_service)
        yield store
        store.close()


@pytest.fixture(scope="module")
def staff_client(seeded_store, fixture_service, tmp_path_factory) -> Iterator[TestClient]:
    settings = make_api_settings(tmp_path_factory.mktemp("staff-api"), staff_token=TOKEN)
    with TestClient(staff_app(settings, fixture_service, seeded_store)) as client:
        yield client


def get_summary(client: TestClient, **params: str) -> dict:
    response = client.get("/staff/api/summary", params={**PERIOD, **params}, headers=STAFF)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


def read_csv(response) -> list[list[str]]:  # an httpx response
    assert response.content.startswith(BOM), "Excel needs the byte order mark to read UTF-8"
    return list(csv.reader(io.StringIO(response.content[len(BOM) :].decode("utf-8"), newline="")))


# -- the figures -------------------------------------------------------------------------------


def test_summary_counts_the_seeded_period_exactly(staff_client: TestClient, fixture_service) -> None:
    body = get_summary(staff_client)
    assert body["period"] == {
        "from": "2025-03-03",
        "to": "2025-03-05",
        "channel": None,
        "days": ["2025-03-03", "2025-03-04", "2025-03-05"],
    }
    assert body["totals"] == TOTALS
    assert body["questions_per_day"] == {"channels": ["telegram", "web"], "series": PER_DAY}
    stats = {p["code"]: (p["questions"], p["feedback"], p["useful"]) for p in body["procedures"]}
    assert stats == PROCEDURES
    assert [p["code"] for p in body["procedures"]] == [BIRTH, RESIDENCE]  # most asked first
    birth = body["procedures"][0]
    assert birth["name"] == fixture_service.procedure(BIRTH).name == "Thủ tục đăng ký khai sinh"
    assert birth["useful_rate"] == 0.3333
    assert [(p["code"], p["useful_rate"]) for p in body["rated_procedures"]] == [(BIRTH, 0.3333), (RESIDENCE, 1.0)]


def test_the_knowledge_gaps_group_paraphrases_and_keep_other_questions_apart(staff_client: TestClient) -> None:
    groups = get_summary(staff_client)["gaps"]["groups"]
    summary = [(g["count"], g["abstained"], g["not_useful"], sorted(g["examples"]), g["last_date"]) for g in groups]
    assert summary == [
        (2, 2, 0, sorted([FIREWORKS, FIREWORKS_AGAIN]), "2025-03-04"),  # the evening before is outside
        (1, 0, 1, [MASKED_PHONE_QUESTION], "2025-03-05"),
        (1, 1, 0, [PETS], "2025-03-05"),
        (1, 0, 1, ["lệ phí bao nhiêu"], "2025-03-03"),
    ]


def test_handovers_come_with_their_masked_conversation(staff_client: TestClient) -> None:
    body = get_summary(staff_client)
    [handover] = body["handovers"]
    assert handover["channel"] == "telegram" and handover["last_at"] == "2025-03-05T08:05:00+00:00"
    assert [(t["question"], t["decision"]) for t in handover["turns"]] == [
        (PETS, "abstain"),
        ("cho tôi gặp nhân viên", "answer"),
    ]
    assert "t2" not in handover["conversation"]  # the chat id stays out of the dashboard
    assert "0912345678" not in staff_client.get("/staff/api/summary", params=PERIOD, headers=STAFF).text


def test_one_channel_and_single_utc_days(staff_client: TestClient) -> None:
    telegram = get_summary(staff_client, channel="telegram")
    assert telegram["questions_per_day"] == {"channels": ["telegram"], "series": {"telegram": [1, 0, 3]}}
    assert telegram["totals"]["questions"] == 4 and telegram["totals"]["handover_conversations"] == 1
    assert [p["code"] for p in telegram["procedures"]] == [BIRTH, RESIDENCE]

    # 00:00:00 belongs to its day, 23:59:59 too; the turns a second outside do not.
    second_day = get_summary(staff_client, **{"from": "2025-03-04", "to": "2025-03-04"})
    assert second_day["questions_per_day"]["series"] == {"web": [3]}
    last_day = get_summary(staff_client, **{"from": "2025-03-05", "to": "2025-03-05"})
    assert last_day["questions_per_day"]["series"] == {"telegram": [3], "web": [2]}
    empty = get_summary(staff_client, **{"from": "2024-01-01", "to": "2024-01-31"})
    assert empty["totals"]["questions"] == 0 and empty["totals"]["useful_rate"] is None
    assert empty["gaps"]["groups"] == [] and empty["handovers"] == [] and len(empty["period"]["days"]) == 31


# -- CSV exports -------------------------------------------------------------------------------


def test_csv_exports_open_in_excel_with_vietnamese_text(staff_client: TestClient) -> None:
    response = staff_client.get("/staff/api/export.csv", params={**PERIOD, "kind": "questions"}, headers=STAFF)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert disposition == 'attachment; filename="cau-hoi_2025-03-03_2025-03-05.csv"'
    assert b"\r\n" in response.content  # the line ends Excel expects
    rows = read_csv(response)
    assert rows[0][:3] == ["Thời điểm (UTC)", "Kênh", "Kết quả"]
    assert len(rows) == 1 + TOTALS["questions"]
    assert rows[1] == [
        "2025-03-03 10:00:00",
        "web",
        "trả lời",
        BIRTH,
        "Thủ tục đăng ký khai sinh",
        "đăng ký khai sinh cần giấy tờ gì",
        "1",
        "0",
    ]
    assert [row[5] for row in rows[1:]].count(MASKED_PHONE_QUESTION) == 1
    assert "0912345678" not in response.content.decode("utf-8")

    feedback = read_csv(staff_client.get("/staff/api/export.csv", params={**PERIOD, "kind": "feedback"}, headers=STAFF))
    assert len(feedback) == 1 + TOTALS["feedback"]
    assert [row[5] for row in feedback[1:]].count("không") == 2
    assert feedback[2][4:] == ["lệ phí bao nhiêu", "không", "chưa đúng ý tôi"]

    gaps = read_csv(staff_client.get("/staff/api/export.csv", params={**PERIOD, "kind": "gaps"}, headers=STAFF))
    assert gaps[0][0] == "Nhóm"
    fireworks = [row for row in gaps[1:] if row[0] == "1"]
    assert sorted(row[6] for row in fireworks) == sorted([FIREWORKS, FIREWORKS_AGAIN])
    assert {row[1] for row in fireworks} == {"2"}

    telegram = staff_client.get(
        "/staff/api/export.csv", params={**PERIOD, "kind": "questions", "channel": "telegram"}, headers=STAFF
    )
    assert telegram.headers["content-disposition"].endswith('_2025-03-05_telegram.csv"')
    assert len(read_csv(telegram)) == 1 + 4


def test_csv_cells_that_look_like_formulas_stay_text(tmp_path: Path, fixture_service) -> None:
    store = ConversationStore(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    for typed in ('=HYPERLINK("http://x","bấm")', "+84 lệ phí", "@SUM(A1)", "-1 khai sinh"):
        store.record_turn(
            "web:x",
            "web",
            typed,
            Answer(question=typed, decision="abstain", aspect="general", text="Xin lỗi"),
            DialogueState(),
        )
    settings = make_api_settings(tmp_path, staff_token=TOKEN)
    with TestClient(staff_app(settings, fixture_service, store)) as client:
        response = client.get("/staff/api/export.csv", params={"kind": "questions"}, headers=STAFF)
    questions = sorted(row[5] for row in read_csv(response)[1:])
    assert questions == ["'+84 lệ phí", "'-1 khai sinh", '\'=HYPERLINK("http://x","bấm")', "'@SUM(A1)"]
    store.close()


# -- bad requests ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"from": "2025-13-01"}, "Ngày 'from' không hợp lệ: cần một ngày có thật dạng YYYY-MM-DD, ví dụ 2025-01-31."),
        ({"to": "2025-02-30"}, "Ngày 'to' không hợp lệ: cần một ngày có thật dạng YYYY-MM-DD, ví dụ 2025-01-31."),
        ({"from": "03/03/2025"}, "Ngày 'from' không hợp lệ: cần một ngày có thật dạng YYYY-MM-DD, ví dụ 2025-01-31."),
        ({"from": "2025-W10-1"}, "Ngày 'from' không hợp lệ: cần một ngày có thật dạng YYYY-MM-DD, ví dụ 2025-01-31."),
        ({"from": "2025-03-06", "to": "2025-03-05"}, "Ngày bắt đầu (from) phải trước hoặc trùng ngày kết thúc (to)."),
        ({"from": "2024-01-01", "to": "2025-01-01"}, "Khoảng thời gian dài nhất là 366 ngày."),
        ({"channel": "facebook"}, "Kênh không hợp lệ: chọn một trong web, console, api, telegram, zalo."),
    ],
    ids=["month-13", "february-30", "day-first", "week-date", "reversed", "367-days", "unknown-channel"],
)
def test_a_bad_period_is_refused_with_the_reason(staff_client: TestClient, params: dict, detail: str) -> None:
    for path in ("/staff/api/summary", "/staff/api/export.csv"):
        response = staff_client.get(path, params=params, headers=STAFF)
        assert response.status_code == 422, path
        assert response.json() == {"detail": detail}


def test_the_longest_period_and_the_default_period(staff_client: TestClient) -> None:
    leap_year = get_summary(staff_client, **{"from": "2024-01-01", "to": "2024-12-31"})
    assert len(leap_year["period"]["days"]) == 366
    default = staff_client.get("/staff/api/summary", headers=STAFF).json()["period"]
    today = datetime.now(UTC).date()
    assert default["to"] == today.isoformat() and default["from"] == (today - timedelta(days=29)).isoformat()
    wrong_kind = staff_client.get("/staff/api/export.csv", params={"kind": "everything"}, headers=STAFF)
    assert wrong_kind.status_code == 422
    assert wrong_kind.json() == {"detail": "Loại tệp không hợp lệ: chọn một trong questions, gaps, feedback."}


# -- sign-in -----------------------------------------------------------------------------------


STAFF_ROUTES = ("/staff", "/staff/staff.js", "/staff/staff.css", "/staff/api/summary", "/staff/api/export.csv")


def test_staff_routes_need_the_staff_credentials(staff_client: TestClient) -> None:
    staff_client.cookies.clear()
    for path in STAFF_ROUTES:
        refused = staff_client.get(path)
        assert refused.status_code == 401, path
        assert refused.json() == {"detail": "Cần đăng nhập để xem bảng theo dõi."}
        assert staff_client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert staff_client.get(path, headers={"Authorization": "Bearer console-secret"}).status_code == 401
        assert staff_client.get(path, headers=STAFF).status_code == 200, path
    # the staff token is not the console's either
    assert staff_client.get("/console", headers=STAFF).status_code == 401
    # bad input from someone not signed in says nothing about the input
    assert staff_client.get("/staff/api/summary", params={"from": "x"}).status_code == 401


def test_the_token_in_the_address_becomes_a_staff_only_cookie(staff_client: TestClient) -> None:
    response = staff_client.get("/staff", params={"token": TOKEN, **PERIOD}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/staff?from=2025-03-03&to=2025-03-05"
    cookie = response.headers["set-cookie"]
    assert "tthc_staff=" in cookie and "HttpOnly" in cookie and "Path=/staff" in cookie
    assert "samesite=strict" in cookie.lower()
    page = staff_client.get("/staff")  # the client now sends the cookie
    assert page.status_code == 200 and "Bảng theo dõi" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'; script-src 'self'; style-src 'self'")
    assert page.headers["cache-control"] == "no-store"
    assert staff_client.get("/staff/api/summary", params=PERIOD).status_code == 200
    staff_client.cookies.clear()
    assert staff_client.get("/staff/api/summary").status_code == 401


def test_staff_basic_auth(tmp_path: Path, fixture_service) -> None:
    settings = make_api_settings(tmp_path, staff_user="thongke", staff_password="mat-khau")
    with TestClient(staff_app(settings, fixture_service)) as client:
        refused = client.get("/staff")
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == 'Basic realm="staff", charset="UTF-8"'
        assert client.get("/staff", auth=("thongke", "sai")).status_code == 401
        assert client.get("/staff", auth=("khac", "mat-khau")).status_code == 401
        assert client.get("/staff/api/summary", auth=("thongke", "mat-khau")).status_code == 200


def test_the_dashboard_is_closed_until_configured(tmp_path: Path, fixture_service) -> None:
    with TestClient(staff_app(make_api_settings(tmp_path), fixture_service)) as client:
        for path in STAFF_ROUTES:
            response = client.get(path, headers=STAFF)
            assert response.status_code == 503, path
            assert response.json() == {"detail": "Bảng theo dõi chưa được cấu hình (ASSISTANT_STAFF_TOKEN)."}
        assert client.get("/staff", params={"token": TOKEN}, follow_redirects=False).status_code == 503


def test_the_vendored_chart_library_is_public_and_its_absence_says_how_to_get_it(
    staff_client: TestClient, tmp_path: Path, monkeypatch
) -> None:
    if (staff.VENDOR_DIR / "chart.umd.js").is_file():
        library = staff_client.get("/staff/vendor/chart.umd.js")
        assert library.status_code == 200 and library.headers["content-type"].startswith("text/javascript")
        assert "Chart.js v4." in library.text[:200]
    assert staff_client.get("/staff/vendor/other.js").status_code == 404
    monkeypatch.setattr(staff, "VENDOR_DIR", tmp_path)
    missing = staff_client.get("/staff/vendor/chart.umd.js")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Chưa có thư viện biểu đồ: chạy scripts/vendor_js.sh (./dev.sh chạy nó)."}


# -- grouping ----------------------------------------------------------------------------------


class TopicEncoder:
    """Deterministic test encoder: one axis per topic word found in the text (plus a small shared part)."""

    name = "test:topics"
    model_id = "test-topics"
    TOPICS = ("pháo hoa", "chó mèo", "lệ phí", "khai sinh")
    dimension = len(TOPICS) + 1

    def encode_query(self, texts: list[str]) -> np.ndarray:
        rows = []
        for text_ in texts:
            vector = np.array([1.0 if topic in text_ else 0.0 for topic in self.TOPICS] + [0.3])
            rows.append(vector / np.linalg.norm(vector))
        return np.array(rows, dtype=np.float32)

    encode_document = encode_query


def gap(question: str, minutes: int = 0, abstained: bool = True) -> GapQuestion:
    return GapQuestion(question, "web", datetime(2025, 3, 4, tzinfo=UTC) + timedelta(minutes=minutes), abstained, False)


def test_grouping_puts_paraphrases_together_and_a_different_question_apart() -> None:
    questions = [
        gap(FIREWORKS, 1),
        gap(PETS, 2),
        gap(FIREWORKS_AGAIN, 3),
        gap("Xin giấy phép  bắn pháo hoa đám cưới", 4),  # same wording: counted, not a new example
    ]
    groups = group_questions(questions, TopicEncoder(), threshold=0.9, cache=analytics.VectorCache())
    assert [(g.count, g.examples) for g in groups] == [
        (3, ["Xin giấy phép  bắn pháo hoa đám cưới", FIREWORKS_AGAIN]),
        (1, [PETS]),
    ]
    assert groups[0].last_date.isoformat() == "2025-03-04"


def test_average_linkage_does_not_chain_neighbours_into_one_group() -> None:
    # 0°, 30° and 60° apart: neighbours are close (cos 30° = 0.87) but the ends are not (cos 60° = 0.5).
    angles = np.radians([0.0, 30.0, 60.0])
    vectors = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    assert cluster(vectors, threshold=0.8) == [[0, 1], [2]]
    assert cluster(vectors, threshold=0.6) == [[0, 1, 2]]
    assert cluster(vectors, threshold=0.95) == [[0], [1], [2]]
    assert cluster(np.zeros((0, 2)), threshold=0.5) == []


def test_groups_merge_on_their_mean_cosine_computed_by_hand() -> None:
    # Rows at 50°, 0° and 20°: 0° and 20° merge first (cos 20° = 0.940); the pair is then as close to 50°
    # as the mean of cos 50° and cos 30°, (0.643 + 0.866) / 2 = 0.754 — not the nearest pair's 0.866
    # (single linkage) nor the farthest pair's 0.643 (complete linkage).
    angles = np.radians([50.0, 0.0, 20.0])
    vectors = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    assert cluster(vectors, threshold=0.76) == [[0], [1, 2]]
    assert cluster(vectors, threshold=0.75) == [[0, 1, 2]]
    assert cluster(vectors, threshold=0.94) == [[0], [1], [2]]
    # a question the encoder gave nothing to (a zero vector) is like no other; one question is its own group
    assert cluster(np.array([[1.0, 0.0], [0.0, 0.0], [2.0, 0.0]]), threshold=0.5) == [[0, 2], [1]]
    assert cluster(np.array([[0.3, 0.4]]), threshold=0.5) == [[0]]


def test_the_lexical_fallback_is_used_without_a_dense_encoder(fixture_service, tmp_path: Path) -> None:
    store = ConversationStore(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    report = StaffReport(store, fixture_service)
    assert report.threshold == analytics.LEXICAL_THRESHOLD and report.encoder.name == "lexical:lexical-hash-512"
    assert report.summary(Period(FIRST_DAY, LAST_DAY)).gap_method == report.encoder.name
    store.close()


@pytest.mark.slow
def test_the_real_e5_encoder_groups_citizens_paraphrases(service, tmp_path: Path) -> None:
    """With the full knowledge base's dense encoder (multilingual-e5-small) and its threshold."""
    store = ConversationStore(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    asked = [
        FIREWORKS,
        FIREWORKS_AGAIN,
        "đám cưới có được bắn pháo hoa không, xin phép thế nào",
        PETS,
        "đăng ký kết hôn với người nước ngoài",
        "muốn kết hôn với người nước ngoài cần làm gì",
        "làm sao để đổi bằng lái xe quốc tế",
    ]
    for number, typed in enumerate(asked):
        answer = Answer(question=typed, decision="abstain", aspect="general", text="Xin lỗi")
        store.record_turn(f"web:e5-{number}", "web", typed, answer, DialogueState())
    report = StaffReport(store, service)
    assert report.threshold == analytics.DENSE_THRESHOLD and "e5" in report.encoder.model_id
    today = datetime.now(UTC).date()
    groups = report.gaps(Period(today - timedelta(days=1), today))  # recorded just now, maybe across midnight
    assert sorted(sorted(group.examples) for group in groups) == sorted(
        [
            sorted(asked[:3]),
            [PETS],
            sorted(asked[4:6]),
            ["làm sao để đổi bằng lái xe quốc tế"],
        ]
    )
    store.close()
