"""The resident's phone page in real headless Chromium (Debian's package, driven by Playwright)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.hub.conftest import RunningHub

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# Record what the page asks of the phone, since headless Chromium has no vibration motor.
SPY = (
    "window.__vibrations = [];"
    "navigator.vibrate = (p) => { window.__vibrations.push(p); return true; };"
)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, locale="en-US")
    context.add_init_script(SPY)
    opened = context.new_page()
    yield opened
    context.close()


def test_the_page_shows_the_call_within_a_second(hub: RunningHub, page: Page) -> None:
    clerk = hub.sign_in("maria")
    hub.empty_queue("c1", clerk)
    issued = hub.issue("permits")
    page.goto(issued["url"])
    expect(page.locator("#number")).to_have_text(issued["ticket"]["label"])
    expect(page.locator("#headline")).to_have_text("Waiting")
    expect(page.locator("#ahead")).to_have_text("You are next")
    page.wait_for_timeout(300)  # let the live stream connect
    called_at = time.perf_counter()
    hub.post("/api/counters/c1/call-next", clerk)
    expect(page.locator("#state")).to_have_attribute("data-status", "called", timeout=5000)
    elapsed = time.perf_counter() - called_at
    expect(page.locator("#headline")).to_have_text("It's your turn")
    expect(page.locator("#detail")).to_have_text("Please go to Counter 1 now")
    # Live, not on reload; generous for a loaded machine (benchmarks/bench_hub.py measures it).
    assert elapsed < 5
    assert page.evaluate("window.__vibrations.length") == 1
    assert page.locator("#state").get_attribute("aria-live") == "assertive"


def test_an_alert_when_two_are_ahead(hub: RunningHub, page: Page) -> None:
    clerk = hub.sign_in("maria")
    hub.empty_queue("c5", clerk)
    for _ in range(3):
        hub.issue("ids")
    issued = hub.issue("ids")
    page.goto(issued["url"])
    expect(page.locator("#ahead")).to_have_text("3 ahead of you")
    page.wait_for_timeout(300)
    hub.post("/api/counters/c5/call-next", clerk)
    expect(page.locator("#ahead")).to_have_text("2 ahead of you")
    expect(page.locator("body")).to_have_attribute("data-alert", "almost")
    expect(page.locator("#detail")).to_contain_text("Almost your turn")


def test_leaving_the_line_asks_first(hub: RunningHub, page: Page) -> None:
    issued = hub.issue("licenses")
    page.goto(issued["url"])
    page.get_by_role("button", name="Leave the line").click()
    page.get_by_role("button", name="No, stay in line").click()
    expect(page.locator("#headline")).to_have_text("Waiting")
    page.get_by_role("button", name="Leave the line").click()
    page.get_by_role("button", name="Yes, leave the line").click()
    expect(page.locator("#headline")).to_have_text("You left the line")
    expect(page.get_by_role("button", name="Leave the line")).to_be_hidden()
    assert hub.get(f"/api/tickets/{issued['token']}").json()["status"] == "left"


def test_arabic_reads_right_to_left_and_languages_switch(hub: RunningHub, page: Page) -> None:
    issued = hub.issue("payments", lang="ar")
    page.goto(issued["url"])
    assert page.evaluate("document.documentElement.dir") == "rtl"
    expect(page.locator("#service")).to_have_text("دفع فاتورة")
    with page.expect_navigation(url=re.compile(r"lang=zh")):  # the page reloads in Chinese
        page.select_option("#language", "zh")
    expect(page.locator("#service")).to_have_text("缴费")
    assert page.evaluate("document.documentElement.dir") == "ltr"
    assert "lang=zh" in page.url


def test_readable_at_double_text_size(hub: RunningHub, page: Page) -> None:
    issued = hub.issue("permits", lang="vi")
    page.goto(issued["url"])
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    for selector in ("#number", "#headline", "#leave"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


def test_unknown_tickets_show_nothing_but_that(hub: RunningHub, page: Page) -> None:
    response = page.goto(f"{hub.url}/t/this-is-not-a-ticket")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_contain_text("could not find this ticket")
    assert page.locator("#number").count() == 0


def test_join_remotely_from_the_poster(hub: RunningHub, page: Page) -> None:
    page.goto(f"{hub.url}/join?lang=es")
    expect(page.locator("h1")).to_have_text("Haga fila desde su teléfono")
    names = page.locator(".line h2").all_inner_texts()
    assert "Permisos de construcción" in names and "Actas de nacimiento y defunción" not in names
    page.locator("li.line", has_text="Licencias comerciales").get_by_role("button").click()
    page.wait_for_url(re.compile(r"/t/[\w-]{22}\?lang=es$"))
    expect(page.locator("#number")).to_have_text(re.compile(r"^B-\d{3}$"))
    expect(page.locator("#headline")).to_have_text("En espera")


def test_a_refused_join_shows_the_hubs_sentence(hub: RunningHub, page: Page) -> None:
    page.goto(f"{hub.url}/join?lang=en")
    join = page.locator("li.line", has_text="Business licenses").get_by_role("button")
    expect(join).to_be_visible()
    clerk = hub.sign_in("maria")  # the line pauses while the resident reads the page
    paused = hub.post("/api/lines/licenses/pause", clerk, json={"reason": "Back at 2 pm"})
    assert paused.status_code == 200, paused.text
    try:
        join.click()
        # The problem document's `detail`, as the hub wrote it.
        expect(page.locator("#join-error")).to_have_text("This line is paused: Back at 2 pm.")
    finally:
        hub.post("/api/lines/licenses/resume", clerk)
