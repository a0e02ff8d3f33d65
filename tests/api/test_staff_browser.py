"""The staff dashboard in a real browser (headless Debian chromium) over a live server and a seeded store.

The charts are read back from the Chart.js instances on the page, so the test sees the numbers the
charts were drawn with, not the JSON behind them. A screenshot lands in artifacts/staff.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import update

from api.routes import staff
from api.store import ConversationStore, interactions
from knowledge.dialogue import DialogueState
from knowledge.service import Answer
from tests.api.test_browser import page_problems, screenshot
from tests.browser import LiveServer, chromium, require_chromium
from tests.conftest import make_api_settings
from tests.staff_seed import BIRTH, FIREWORKS, FIREWORKS_AGAIN, PETS, RESIDENCE, seed, staff_app

TOKEN = "staff-secret"
WAIT_SECONDS = 15
MARKUP = '<img src=x onerror="window.__pwned=1"> xin phép <b>karaoke</b>'
MARKUP_DAY = "2025-03-10"

READ_CHARTS = """
const read = (id) => {
  const chart = Chart.getChart(document.getElementById(id));
  if (!chart) return null;
  const painted = chart.getDatasetMeta(0).data.filter((e) => Number.isFinite(e.x) && Number.isFinite(e.y)).length;
  return {
    type: chart.config.type,
    labels: chart.data.labels,
    datasets: chart.data.datasets.map((d) => ({label: d.label, data: d.data})),
    painted: painted,
  };
};
return {
  days: read('chart-days'),
  decisions: read('chart-decisions'),
  procedures: read('chart-procedures'),
  useful: read('chart-useful'),
};
"""

COUNT_PAINTED_PIXELS = """
const canvas = document.getElementById(arguments[0]);
const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
let painted = 0;
for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
return painted;
"""


def require_chart_library() -> None:
    library = staff.VENDOR_DIR / "chart.umd.js"
    if not library.is_file():
        pytest.fail(
            f"{library} is missing: scripts/vendor_js.sh (run by ./dev.sh) vendors Chart.js from npm", pytrace=False
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[Chrome]:
    require_chart_library()
    require_chromium()
    driver = chromium(1366, 900)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def live(browser: Chrome, fixture_service, tmp_path_factory) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("staff-browser")
    store = ConversationStore(f"sqlite:///{directory / 'store.sqlite3'}")
    seed(store, fixture_service)
    # A question carrying markup, alone on its own day: the page must show it as text.
    answer_id = store.record_turn(
        "web:markup", "web", MARKUP, Answer(MARKUP, "abstain", "general", "…"), DialogueState()
    )
    with store.engine.begin() as connection:
        moment = datetime.fromisoformat(f"{MARKUP_DAY}T09:00:00").replace(tzinfo=UTC)
        connection.execute(update(interactions).where(interactions.c.id == answer_id).values(created_at=moment))
    server = LiveServer(staff_app(make_api_settings(directory, staff_token=TOKEN), fixture_service, store))
    server.start()
    try:
        yield server
    finally:
        server.stop()
        store.close()


def wait(driver: Chrome) -> WebDriverWait:
    return WebDriverWait(driver, WAIT_SECONDS)


def open_dashboard(driver: Chrome, live: LiveServer, query: str, loaded: str) -> None:
    page_problems(driver)  # reading the log empties it: what earlier pages logged goes
    driver.get(f"{live.url}/staff?token={TOKEN}&{query}")
    wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, f"body[data-loaded='{loaded}']")))


def charts(driver: Chrome) -> dict:
    return driver.execute_script(READ_CHARTS)


def table_rows(driver: Chrome, body_id: str) -> list[list[str]]:
    rows = driver.find_elements(By.CSS_SELECTOR, f"#{body_id} tr")
    return [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows]


def test_the_dashboard_needs_the_staff_token(browser: Chrome, live: LiveServer) -> None:
    browser.delete_all_cookies()
    browser.get(f"{live.url}/staff")
    assert "Cần đăng nhập để xem bảng theo dõi." in browser.find_element(By.TAG_NAME, "body").text
    assert not browser.find_elements(By.TAG_NAME, "canvas")


def test_the_charts_show_the_seeded_numbers_and_the_gap_list_the_unanswered_question(
    browser: Chrome, live: LiveServer
) -> None:
    open_dashboard(browser, live, "from=2025-03-03&to=2025-03-05", "2025-03-03/2025-03-05/")
    assert browser.current_url == f"{live.url}/staff?from=2025-03-03&to=2025-03-05"  # the token left the address
    assert browser.get_cookie("tthc_staff")["httpOnly"]
    drawn = charts(browser)

    assert drawn["days"]["type"] == "line"
    assert drawn["days"]["labels"] == ["03/03/2025", "04/03/2025", "05/03/2025"]
    assert drawn["days"]["datasets"] == [
        {"label": "Telegram", "data": [1, 0, 3]},
        {"label": "Widget trên web", "data": [3, 3, 2]},
    ]
    assert drawn["decisions"]["labels"] == [
        "Đã trả lời",
        "Hỏi lại",
        "Chưa trả lời được",
        "Chuyển người hỗ trợ (hội thoại)",
    ]
    assert drawn["decisions"]["datasets"][0]["data"] == [8, 1, 3, 1]
    assert [label.split(" · ")[0] for label in drawn["procedures"]["labels"]] == [BIRTH, RESIDENCE]
    assert drawn["procedures"]["labels"][0] == f"{BIRTH} · Thủ tục đăng ký khai sinh"
    assert drawn["procedures"]["datasets"][0]["data"] == [4, 3]
    assert drawn["useful"]["datasets"] == [
        {"label": "Hữu ích", "data": [1, 2]},
        {"label": "Chưa hữu ích", "data": [2, 0]},
    ]
    # drawn, not only configured: every point has a position and each canvas has paint on it
    assert [drawn[name]["painted"] for name in ("days", "decisions", "procedures", "useful")] == [3, 4, 2, 2]
    for canvas in ("chart-days", "chart-decisions", "chart-procedures", "chart-useful"):
        assert browser.execute_script(COUNT_PAINTED_PIXELS, canvas) > 500, canvas

    def card(name: str) -> str:
        return browser.find_element(By.ID, name).text

    assert [card("total-questions"), card("total-answered"), card("total-abstained"), card("total-handovers")] == [
        "12",
        "8",
        "3",
        "1",
    ]
    assert card("total-useful-rate") == "60%" and card("total-feedback") == "3 / 5 đánh giá hữu ích"

    gaps = table_rows(browser, "gaps-body")
    assert gaps[0][0] == "2" and FIREWORKS in gaps[0][1] and FIREWORKS_AGAIN in gaps[0][1]
    assert gaps[0][4] == "04/03/2025"
    assert any(PETS in row[1] for row in gaps[1:])
    assert table_rows(browser, "procedures-body")[0] == [BIRTH, "Thủ tục đăng ký khai sinh", "4", "3", "1", "33,3%"]

    # a handover opens by keyboard and shows its masked conversation in order
    [handover] = browser.find_elements(By.CSS_SELECTOR, "#handovers-list details")
    summary = handover.find_element(By.TAG_NAME, "summary")
    assert summary.text.startswith("Telegram · lần cuối 05/03/2025 08:05 · 2 lượt")
    assert handover.get_attribute("open") is None
    summary.send_keys(Keys.ENTER)
    wait(browser).until(lambda _: handover.get_attribute("open") is not None)
    turns = [item.text for item in handover.find_elements(By.CSS_SELECTOR, ".turn-user")]
    assert turns == [f"Người dân (05/03/2025 08:00): {PETS}", "Người dân (05/03/2025 08:05): cho tôi gặp nhân viên"]

    link = browser.find_element(By.ID, "export-gaps").get_attribute("href")
    assert link == f"{live.url}/staff/api/export.csv?from=2025-03-03&to=2025-03-05&kind=gaps"
    first_bytes = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then((r) => r.arrayBuffer()).then((b) => done(Array.from(new Uint8Array(b).slice(0, 3))));",
        link,
    )
    assert first_bytes == [0xEF, 0xBB, 0xBF]  # the CSV link downloads UTF-8 with its byte order mark

    # the whole page in one picture: a window as tall as the page (headless chromium has no browser frame)
    height = min(int(browser.execute_script("return document.documentElement.scrollHeight")) + 100, 4000)
    browser.set_window_size(1366, height)
    try:
        wait(browser).until(lambda d: d.execute_script("return window.innerHeight") > 900)
        browser.execute_script("window.scrollTo(0, 0)")
        screenshot(browser, "staff.png")
    finally:
        browser.set_window_size(1366, 900)
    assert not page_problems(browser)


def test_the_channel_filter_redraws_the_charts(browser: Chrome, live: LiveServer) -> None:
    open_dashboard(browser, live, "from=2025-03-03&to=2025-03-05", "2025-03-03/2025-03-05/")
    Select(browser.find_element(By.ID, "filters-channel")).select_by_value("telegram")
    browser.find_element(By.ID, "filters-apply").send_keys(Keys.ENTER)  # by keyboard
    wait(browser).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "body[data-loaded='2025-03-03/2025-03-05/telegram']"))
    )
    drawn = charts(browser)
    assert drawn["days"]["datasets"] == [{"label": "Telegram", "data": [1, 0, 3]}]
    assert drawn["decisions"]["datasets"][0]["data"] == [3, 0, 1, 1]
    assert browser.current_url.endswith("/staff?from=2025-03-03&to=2025-03-05&channel=telegram")
    assert (
        browser.find_element(By.ID, "export-questions")
        .get_attribute("href")
        .endswith("from=2025-03-03&to=2025-03-05&channel=telegram&kind=questions")
    )
    assert "Telegram" in browser.find_element(By.ID, "status").text
    assert not page_problems(browser)


def test_questions_with_markup_are_shown_as_text(browser: Chrome, live: LiveServer) -> None:
    open_dashboard(browser, live, f"from={MARKUP_DAY}&to={MARKUP_DAY}", f"{MARKUP_DAY}/{MARKUP_DAY}/")
    [row] = table_rows(browser, "gaps-body")
    assert row[1] == MARKUP
    assert not browser.find_elements(By.CSS_SELECTOR, "main img, main b")
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.find_element(By.ID, "procedures-empty").is_displayed()
    assert browser.find_element(By.ID, "handovers-empty").is_displayed()


def test_a_bad_period_says_why(browser: Chrome, live: LiveServer) -> None:
    browser.get(f"{live.url}/staff?token={TOKEN}&from=2025-03-06&to=2025-03-05")
    wait(browser).until(
        ec.text_to_be_present_in_element(
            (By.ID, "status"), "Ngày bắt đầu (from) phải trước hoặc trùng ngày kết thúc (to)."
        )
    )
