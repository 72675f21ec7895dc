"""An invitee in New York books on the organizer's page, in a real browser: the times appear
in the browser's own zone without asking, another zone can be picked, and the booking lands."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.test_first_run import DESKTOP, PHONE, shot
from tests.scheduling.test_public_slots import next_monday

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_an_invitee_books_in_their_own_time_zone(
    browser, organizer_api: httpx.Client, viewport: dict[str, int]
) -> None:  # type: ignore[no-untyped-def]
    api = organizer_api
    page_url = api.post("/api/v1/page/publish").json()["url"]
    label = "phone" if viewport is PHONE else "desktop"
    monday = next_monday()

    context = browser.new_context(viewport=viewport, timezone_id="America/New_York", locale="en-US")
    page = context.new_page()
    page.goto(page_url)
    shot(page, f"booking-page-{label}")
    page.click("text=30 minute meeting")
    # The script switches the times to the browser's zone on the first visit.
    page.wait_for_url("**tz=America%2FNew_York*")
    assert page.locator("#f-tz").input_value() == "America/New_York"
    page.goto(page.url + f"&from={monday.isoformat()}")
    monday_label = monday.strftime("%A, %B ") + str(monday.day)
    day = page.locator("h3.day", has_text=monday_label)
    first_times = day.locator("xpath=following-sibling::div[1]").locator("a.time")
    # 09:00 in Paris is 3:00 AM in New York (en-US reads a 12-hour clock).
    assert first_times.first.inner_text() == "3:00\N{NO-BREAK SPACE}AM"
    shot(page, f"booking-times-{label}")

    # Picking another zone reloads the times at once.
    page.select_option("#f-tz", "Asia/Kolkata")
    page.wait_for_url("**tz=Asia%2FKolkata*")
    assert page.locator("a.time").first.inner_text() == "1:30\N{NO-BREAK SPACE}PM"
    page.select_option("#f-tz", "America/New_York")
    page.wait_for_url("**tz=America%2FNew_York*")

    page.locator("a.time", has_text="4:00").first.click()
    assert "4:00\N{NO-BREAK SPACE}AM" in page.locator(".chosen").inner_text()
    page.click("text=Book this time")
    assert page.locator("#e-name").inner_text().startswith("Please enter your name")
    page.fill("#f-name", "Grace Hopper")
    page.fill("#f-email", "grace@example.com")
    page.fill("#f-notes", "About compilers")
    shot(page, f"booking-details-{label}")
    page.click("text=Book this time")
    assert "You are booked." in page.locator(".alert").inner_text()
    assert page.locator("#f-tz").input_value() == "America/New_York"  # the zone booked in
    shot(page, f"booking-done-{label}")

    bookings = api.get("/api/v1/bookings").json()["items"]
    assert len(bookings) == 1
    assert bookings[0]["invitee"] == {
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "time_zone": "America/New_York",
        "locale": "en",
    }
    assert bookings[0]["notes"] == "About compilers"
    context.close()
