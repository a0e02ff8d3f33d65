"""The web widget and the hotline console in a real browser (headless Debian chromium).

A live uvicorn server answers over the fixture corpus; the tests do what a citizen or an agent
does (click, type, press keys) and check what they would see. Screenshots land in artifacts/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from knowledge.settings import REPOSITORY_ROOT
from tests.browser import LiveServer, SwitchableLimiter, chromium, require_chromium
from tests.conftest import make_api_settings

ARTIFACTS = REPOSITORY_ROOT / "artifacts"
WAIT_SECONDS = 10
BIRTH = "1.001193"
BIRTH_NAME = "Thủ tục đăng ký khai sinh"
BIRTH_BUNDLE = "2.000986"  # the joint birth + residence + health-insurance procedure, ranked second


@pytest.fixture(scope="module")
def browser() -> Iterator[Chrome]:
    require_chromium()
    driver = chromium()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def limiter() -> SwitchableLimiter:
    return SwitchableLimiter()


@pytest.fixture(scope="module")
def live(browser: Chrome, fixture_service, limiter: SwitchableLimiter, tmp_path_factory) -> Iterator[LiveServer]:
    from api.app import create_app

    settings = make_api_settings(tmp_path_factory.mktemp("browser"))
    server = LiveServer(create_app(settings, service=fixture_service, limiter=limiter))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def wait(driver: Chrome, seconds: float = WAIT_SECONDS) -> WebDriverWait:
    return WebDriverWait(driver, seconds)


def screenshot(driver: Chrome, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


def page_problems(driver: Chrome) -> list[str]:
    """Errors the page logged: CSP violations, script exceptions, failed loads."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


# -- the widget ------------------------------------------------------------------------------


def open_widget(driver: Chrome, live: LiveServer) -> WebElement:
    """Load the demo portal page, open the chat panel, return the question box."""
    driver.get(f"{live.url}/widget/demo")
    page_problems(driver)  # reading the log empties it: what is left from earlier pages goes
    launcher = wait(driver).until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".tthc-w-launcher")))
    launcher.click()
    return wait(driver).until(ec.visibility_of_element_located((By.ID, "tthc-w-input")))


def bot_replies(driver: Chrome) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, ".tthc-w-msg-bot[data-answer-id]")


def ask(driver: Chrome, question: str) -> WebElement:
    """Type a question, send it with Enter, return the reply bubble."""
    before = len(bot_replies(driver))
    field = driver.find_element(By.ID, "tthc-w-input")
    field.send_keys(question, Keys.ENTER)
    return next_reply(driver, before)


def next_reply(driver: Chrome, before: int) -> WebElement:
    wait(driver).until(lambda d: len(bot_replies(d)) > before)
    return bot_replies(driver)[-1]


def click_button(container: WebElement, text: str) -> None:
    buttons = [b for b in container.find_elements(By.TAG_NAME, "button") if text in b.text]
    assert buttons, f"no button {text!r} in {container.text!r}"
    buttons[0].click()


def press(driver: Chrome, container: WebElement, text: str) -> WebElement:
    """Click the button labelled ``text`` in ``container`` and return the reply it brings."""
    before = len(bot_replies(driver))
    click_button(container, text)
    return next_reply(driver, before)


def errors_shown(driver: Chrome) -> list[str]:
    return [item.text for item in driver.find_elements(By.CSS_SELECTOR, ".tthc-w-error")]


def test_widget_answers_a_question_with_the_procedure_and_its_source(browser: Chrome, live: LiveServer) -> None:
    field = open_widget(browser, live)
    panel = browser.find_element(By.CSS_SELECTOR, "[role=dialog]")
    assert panel.get_attribute("aria-label")
    log = panel.find_element(By.CSS_SELECTOR, "[role=log]")
    assert log.get_attribute("aria-live") == "polite"
    assert browser.switch_to.active_element == field  # opening the panel puts the cursor in the box
    assert browser.find_element(By.CSS_SELECTOR, "label[for=tthc-w-input]").get_attribute("textContent")
    examples = log.find_elements(By.CSS_SELECTOR, ".tthc-w-actions button")
    assert len(examples) == 3 and "khai sinh" in examples[0].text

    reply = ask(browser, "đăng ký khai sinh cần giấy tờ gì")
    assert BIRTH_NAME in reply.text and BIRTH in reply.text
    assert "Giấy chứng sinh" in reply.text
    link = reply.find_element(By.CSS_SELECTOR, "a.tthc-w-link")
    assert link.get_attribute("href").startswith("https://dichvucong.gov.vn/")
    for label in (
        "Hồ sơ",
        "Lệ phí",
        "Thời hạn",
        "Nơi nộp",
        "Hướng dẫn nộp trực tuyến",
        "Hữu ích 👍",
        "Chưa hữu ích 👎",
    ):
        assert any(b.text == label for b in reply.find_elements(By.TAG_NAME, "button")), label
    screenshot(browser, "widget.png")

    fee = press(browser, reply, "Lệ phí")
    assert "Phí, lệ phí" in fee.text and "Miễn phí" in fee.text and BIRTH in fee.text

    unaccented = ask(browser, "dang ky khai sinh can giay to gi")
    assert BIRTH_NAME in unaccented.text and BIRTH in unaccented.text
    assert not page_problems(browser)


def test_widget_candidate_buttons_and_feedback_reach_the_api(browser: Chrome, live: LiveServer) -> None:
    open_widget(browser, live)
    first = ask(browser, "đăng ký khai sinh cần giấy tờ gì")
    similar = first.find_element(By.CSS_SELECTOR, "[role=group][aria-label='Thủ tục khác gần giống']")
    bundle = press(browser, similar, BIRTH_BUNDLE)
    assert BIRTH_BUNDLE in bundle.text and "Liên thông" in bundle.text

    store = live.app.state.context.store
    session = browser.execute_script("return sessionStorage.getItem('tthc-widget-session')")
    asked = [turn.question for turn in store.turns(f"web:{session}")]
    assert asked[-2:] == ["đăng ký khai sinh cần giấy tờ gì", f"[nút] {BIRTH_BUNDLE}"]
    click_button(bundle, "Hữu ích 👍")
    wait(browser).until(lambda _: "Cảm ơn bạn đã phản hồi!" in bundle.text)
    assert store.feedback_for(bundle.get_attribute("data-answer-id")) == [(True, None)]

    click_button(first, "Chưa hữu ích 👎")
    comment = first.find_element(By.CSS_SELECTOR, "input.tthc-w-comment")
    assert browser.switch_to.active_element == comment
    comment.send_keys("Thiếu mẫu tờ khai", Keys.ENTER)
    wait(browser).until(lambda _: "Cảm ơn bạn đã phản hồi!" in first.text)
    assert store.feedback_for(first.get_attribute("data-answer-id")) == [(False, "Thiếu mẫu tờ khai")]


def test_widget_shows_markup_as_text_and_answers_a_chosen_option(browser: Chrome, live: LiveServer) -> None:
    open_widget(browser, live)
    typed = '<img src=x onerror="window.__pwned=1">'
    reply = ask(browser, typed)
    assert reply.get_attribute("data-decision") == "abstain"
    asked = browser.find_elements(By.CSS_SELECTOR, ".tthc-w-msg-user")[-1]
    assert typed in asked.text

    # The fixture corpus has no look-alike variants, so this one clarification comes from a stub;
    # its names carry markup to prove that API data is shown as text too.
    clarify = {
        "answer_id": "0" * 32,
        "session_id": "stub",
        "decision": "clarify",
        "aspect": "general",
        "reply": "Có mấy thủ tục gần giống nhau, bạn cần thủ tục nào?\n<b>1.</b> <img src=x onerror=window.__pwned=2>",
        "procedure": None,
        "options": [
            {"code": BIRTH, "name": "Đăng ký khai sinh <img src=x onerror=window.__pwned=3>", "score": 0.9},
            {"code": BIRTH_BUNDLE, "name": "Liên thông khai sinh", "score": 0.88},
        ],
        "candidates": [],
        "citation": None,
    }
    browser.execute_script(
        """
        const body = arguments[0];
        const original = window.fetch;
        window.fetch = function (url, init) {
          if (String(url).endsWith('/v1/ask') && !window.__stubbed) {
            window.__stubbed = true;
            return Promise.resolve(new Response(JSON.stringify(body), {headers: {'Content-Type': 'application/json'}}));
          }
          return original.apply(this, arguments);
        };
        """,
        clarify,
    )
    options = ask(browser, "khai sinh")
    assert "<b>1.</b> <img src=x onerror=window.__pwned=2>" in options.text
    buttons = options.find_elements(By.CSS_SELECTOR, "button.tthc-w-option")
    assert [b.text for b in buttons] == [
        f"1. Đăng ký khai sinh <img src=x onerror=window.__pwned=3> (mã {BIRTH})",
        f"2. Liên thông khai sinh (mã {BIRTH_BUNDLE})",
    ]
    assert not browser.find_elements(By.CSS_SELECTOR, ".tthc-w img, .tthc-w b")
    assert browser.execute_script("return window.__pwned === undefined")

    chosen = press(browser, options, "1. Đăng ký khai sinh")
    assert chosen.get_attribute("data-decision") == "answer"
    assert BIRTH_NAME in chosen.text and BIRTH in chosen.text


def test_widget_says_when_the_user_is_rate_limited_or_offline(browser: Chrome, live: LiveServer, limiter) -> None:
    field = open_widget(browser, live)
    limiter.refuse = True
    try:
        field.send_keys("đăng ký khai sinh", Keys.ENTER)
        wait(browser).until(lambda d: errors_shown(d))
    finally:
        limiter.refuse = False
    assert errors_shown(browser)[-1].endswith("Bạn gửi quá nhiều yêu cầu, vui lòng thử lại sau ít phút.")
    assert not browser.find_elements(By.CSS_SELECTOR, ".tthc-w-typing")

    browser.execute_script(
        "const original = window.fetch;"
        "window.fetch = function () { window.fetch = original; return Promise.reject(new TypeError('offline')); };"
    )
    field.send_keys("đăng ký khai sinh", Keys.ENTER)
    wait(browser).until(lambda d: len(errors_shown(d)) == 2)
    assert errors_shown(browser)[-1].endswith("Không kết nối được tới trợ lý. Bạn kiểm tra mạng rồi thử lại nhé.")

    # the user can go on once the limit has passed and the network is back
    reply = ask(browser, "đăng ký khai sinh")
    assert BIRTH in reply.text


def test_widget_fits_a_phone_and_closes_with_escape(browser: Chrome, live: LiveServer) -> None:
    browser.set_window_size(360, 740)
    try:
        field = open_widget(browser, live)
        ask(browser, "đăng ký khai sinh cần giấy tờ gì")
        width, height = browser.execute_script("return [window.innerWidth, window.innerHeight]")
        assert width == 360
        panel = browser.find_element(By.CSS_SELECTOR, "[role=dialog]").rect
        box = [round(panel[key]) for key in ("x", "y", "width", "height")]
        assert box == [0, 0, width, height], f"panel {box} on a {width}×{height} screen"
        page = browser.execute_script(
            "const e = document.documentElement;"
            "const log = document.querySelector('.tthc-w-log');"
            "return [e.scrollWidth, e.clientWidth, log.scrollWidth, log.clientWidth]"
        )
        assert page[0] <= page[1] and page[2] <= page[3], f"horizontal scroll at 360 px: {page}"
        screenshot(browser, "widget-phone.png")

        field.send_keys(Keys.ESCAPE)
        wait(browser).until(ec.invisibility_of_element_located((By.CSS_SELECTOR, "[role=dialog]")))
        launcher = browser.find_element(By.CSS_SELECTOR, ".tthc-w-launcher")
        assert browser.switch_to.active_element == launcher
        assert launcher.get_attribute("aria-expanded") == "false"
    finally:
        browser.set_window_size(1280, 900)


# -- the hotline console ---------------------------------------------------------------------


def test_console_needs_the_token(browser: Chrome, live: LiveServer) -> None:
    browser.delete_all_cookies()
    browser.get(f"{live.url}/console")
    assert "Cần đăng nhập để dùng bảng tra cứu." in browser.find_element(By.TAG_NAME, "body").text
    assert not browser.find_elements(By.ID, "search-input")


def test_console_finds_a_procedure_and_copies_its_short_answer(browser: Chrome, live: LiveServer) -> None:
    browser.delete_all_cookies()
    browser.get(f"{live.url}/console?token=console-secret")
    search = wait(browser).until(ec.visibility_of_element_located((By.ID, "search-input")))
    assert browser.current_url == f"{live.url}/console"  # the token left the address bar
    assert browser.get_cookie("tthc_console")["httpOnly"]
    page_problems(browser)

    search.send_keys("khai sinh")
    first = wait(browser).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "#results [role=option]")))
    codes = [item.get_attribute("data-code") for item in browser.find_elements(By.CSS_SELECTOR, "#results li")]
    assert codes[0] == BIRTH and BIRTH_BUNDLE in codes
    assert BIRTH_NAME in first.text and BIRTH in first.text
    # by keyboard: down to the second result, back up to the first, Enter opens it
    search.send_keys(Keys.ARROW_DOWN)
    assert search.get_attribute("aria-activedescendant") == "result-1"
    search.send_keys(Keys.ARROW_UP, Keys.ENTER)

    card = wait(browser).until(ec.visibility_of_element_located((By.ID, "card")))
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "card-name"), BIRTH_NAME))
    assert browser.find_element(By.ID, "card-code").text == BIRTH
    assert browser.find_element(By.ID, "card-levels").text == "Cấp xã"
    assert browser.find_element(By.ID, "card-field").text == "Hộ tịch"
    assert "Cổng Dịch vụ công quốc gia" in browser.find_element(By.ID, "card-online").text
    documents = card.find_element(By.CSS_SELECTOR, ".section-documents")
    assert "Hồ sơ cần chuẩn bị" in documents.text and "Giấy chứng sinh" in documents.text
    assert card.find_element(By.CSS_SELECTOR, ".section-fee").text.endswith("Miễn phí")
    assert browser.find_element(By.ID, "card-link").get_attribute("href").startswith("https://dichvucong.gov.vn/")
    assert "163/QĐ-BTP" in browser.find_element(By.ID, "card-citation").text

    browser.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"origin": live.url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )
    browser.find_element(By.ID, "copy-button").click()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "copy-status"), "Đã sao chép"))
    expected = live.app.state.context.service.composer.short_answer(live.app.state.context.service.procedure(BIRTH))
    assert browser.find_element(By.ID, "card-short").text == expected
    pasted = browser.execute_async_script("navigator.clipboard.readText().then(arguments[0], String)")
    assert pasted == expected
    screenshot(browser, "console.png")
    assert not page_problems(browser)


def test_console_search_is_debounced_and_enter_opens_the_best_match(browser: Chrome, live: LiveServer) -> None:
    browser.get(f"{live.url}/console?token=console-secret")
    search = wait(browser).until(ec.visibility_of_element_located((By.ID, "search-input")))
    browser.execute_script(
        """
        window.__searches = [];
        const original = window.fetch;
        window.fetch = function (url, init) {
          if (String(url).includes('/v1/search')) window.__searches.push(String(url));
          return original.apply(this, arguments);
        };
        """
    )
    typed = "đăng ký tạm trú"
    # an agent who types fast and presses Enter at once gets the match for the whole text
    search.send_keys(typed, Keys.ENTER)
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "card-name"), "Đăng ký tạm trú"))
    assert browser.find_element(By.ID, "card-code").text == "1.004194"
    searches = json.loads(browser.execute_script("return JSON.stringify(window.__searches)"))
    # a request or two for the whole text, not one per keystroke
    assert 1 <= len(searches) <= 3 and searches[-1].endswith("q=" + quote(typed) + "&top_k=10")
