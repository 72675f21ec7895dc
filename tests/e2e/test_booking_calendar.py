"""The booking page's month calendar in a real browser, on a phone and on a desktop: an
invitee in New York picks a day, then a time, gives their details and lands on the
confirmation page; nothing overflows sideways; and axe finds no serious or critical
accessibility problem on the booking page or the private-link page, in English or French."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.test_first_run import shot
from tests.scheduling.test_public_slots import next_monday

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 800}
DESKTOP = {"width": 1280, "height": 900}
NEW_YORK = ZoneInfo("America/New_York")


def assert_no_overflow(page, where: str) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    assert width <= viewport, f"{where}: {width} px wide in a {viewport} px viewport"


def assert_accessible(page, where: str) -> None:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{where}: {bad}"


def show_month_of(page, day: date) -> None:  # type: ignore[no-untyped-def]
    """Page forward (by the calendar's own arrow) until ``day``'s month is shown."""
    for _ in range(3):
        if page.locator(f"#d-{day.isoformat()}").count():
            return
        label = page.locator("#month-label").inner_text()
        page.click("#m-next")
        page.wait_for_function(
            "label => document.getElementById('month-label').innerText !== label", arg=label
        )
    raise AssertionError(f"{day} never shown")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_an_invitee_picks_a_day_then_a_time_and_books(
    browser, organizer_api: httpx.Client, viewport: dict[str, int]
) -> None:  # type: ignore[no-untyped-def]
    api = organizer_api
    page_url = api.post("/api/v1/page/publish").json()["url"]
    label = "phone" if viewport is PHONE else "desktop"
    monday = next_monday()
    context = browser.new_context(viewport=viewport, timezone_id="America/New_York", locale="en-US")
    page = context.new_page()
    page.goto(page_url)
    page.click("text=30 minute meeting")
    page.wait_for_url("**tz=America%2FNew_York*")  # the browser's zone, asked for once
    assert page.locator("#f-tz").input_value() == "America/New_York"
    # The next day with room is chosen already, its times beside (or below) the calendar.
    chosen = page.locator("a.day-link[aria-current=true]")
    assert chosen.count() == 1
    assert page.locator("a.time").count() > 0
    assert_no_overflow(page, "calendar")
    layout = page.evaluate(
        """() => {
        const month = document.querySelector('.month').getBoundingClientRect();
        const times = document.querySelector('.day-times').getBoundingClientRect();
        return {beside: times.left >= month.right - 1, below: times.top >= month.bottom - 1};
    }"""
    )
    assert layout["beside"] if viewport is DESKTOP else layout["below"], layout

    # Pick next Monday: the day's times come without reloading the page (htmx).
    page.evaluate("window.notReloaded = true")
    show_month_of(page, monday)
    page.click(f"#d-{monday.isoformat()}")
    page.wait_for_url(f"**day={monday.isoformat()}*")
    heading = page.locator("h3.day")
    heading.filter(has_text=monday.strftime("%A, %B ") + str(monday.day)).wait_for()
    assert page.evaluate("window.notReloaded") is True
    # 09:00 in Paris is 3:00 AM in New York; en-US reads a 12-hour clock.
    assert page.locator("a.time").first.inner_text() == "3:00\N{NO-BREAK SPACE}AM"
    assert page.locator(f"#d-{monday.isoformat()}").get_attribute("aria-current") == "true"
    assert_no_overflow(page, "day chosen")
    shot(page, f"booking-{label}")

    page.locator("a.time", has_text="4:00").first.click()
    page.locator(".chosen").wait_for()
    assert "4:00\N{NO-BREAK SPACE}AM" in page.locator(".chosen").inner_text()
    assert_no_overflow(page, "details")
    page.fill("#f-name", "Grace Hopper")
    page.fill("#f-email", "grace@example.com")
    page.click("text=Book this time")
    page.wait_for_url("**/b/**")
    assert_no_overflow(page, "confirmation")
    context.close()

    bookings = api.get("/api/v1/bookings").json()["items"]
    assert len(bookings) == 1
    start = datetime.fromisoformat(bookings[0]["start"].replace("Z", "+00:00"))
    assert start.astimezone(NEW_YORK).replace(tzinfo=None) == datetime(
        monday.year, monday.month, monday.day, 4
    )
    assert bookings[0]["invitee"]["time_zone"] == "America/New_York"


def test_the_calendar_answers_the_arrow_keys(browser, organizer_api: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    page_url = organizer_api.post("/api/v1/page/publish").json()["url"]
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Paris", locale="en-GB")
    page = context.new_page()
    page.goto(page_url)
    page.click("text=30 minute meeting")
    page.locator("#f-tz").wait_for()  # Paris is the organizer's zone too: no reload
    days = page.locator("a.day-link")
    # One tab stop: the chosen day.
    assert page.locator("a.day-link[tabindex='0']").count() == 1
    chosen = page.locator("a.day-link[aria-current=true]")
    chosen.focus()
    first = chosen.get_attribute("data-date")
    page.keyboard.press("ArrowRight")
    moved = page.evaluate("document.activeElement.dataset.date")
    assert moved is not None and moved > first
    page.keyboard.press("Enter")
    page.wait_for_url(f"**day={moved}*")
    assert page.locator("a.day-link[aria-current=true]").get_attribute("data-date") == moved
    assert days.count() > 0
    assert page.locator("a.time").first.inner_text() == "09:00"  # en-GB: a 24-hour clock
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_pages_are_accessible_in_english_and_french(
    browser, organizer_api: httpx.Client, live_server: LiveServer, viewport: dict[str, int]
) -> None:  # type: ignore[no-untyped-def]
    api = organizer_api
    page_url = api.post("/api/v1/page/publish").json()["url"]
    type_id = api.get("/api/v1/meeting-types").json()["items"][1]["id"]
    link = api.post(f"/api/v1/meeting-types/{type_id}/private-links", json={"single_use": True})
    link_url = f"{live_server.url}/l/{link.json()['token']}"
    label = "phone" if viewport is PHONE else "desktop"
    for locale, lang in (("en-US", "en"), ("fr-FR", "fr")):
        context = browser.new_context(
            viewport=viewport, timezone_id="America/New_York", locale=locale
        )
        page = context.new_page()
        page.goto(f"{page_url}/{type_id}?tz=America/New_York")
        assert page.locator("html").get_attribute("lang") == lang
        assert_no_overflow(page, f"booking page, {locale}")
        assert_accessible(page, f"booking page, {locale}")
        if lang == "fr":
            assert page.locator("a.time").first.inner_text().endswith(":00")  # 24-hour
            shot(page, f"booking-{label}-fr")
        page.goto(link_url + "?tz=America/New_York")
        assert_no_overflow(page, f"private link, {locale}")
        assert_accessible(page, f"private link, {locale}")
        page.locator("a.time").first.click()
        page.locator(".chosen").wait_for()
        assert_no_overflow(page, f"private link details, {locale}")
        assert_accessible(page, f"private link details, {locale}")
        context.close()
