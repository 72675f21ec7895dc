"""The organizer moves a booking in a browser, on a phone (375 px) and a desktop (1280 px):
"Move" in the bookings list, a month calendar and the day's free times, a reason, confirm,
and the list says where it went. Nothing wider than the screen, no serious accessibility
fault (axe-core)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from tests.bookings.test_booking_api import at
from tests.e2e.test_first_run import shot
from tests.e2e.test_manage_flow import accessible, book, fits
from tests.factories import PASSWORD
from tests.scheduling.test_public_slots import next_monday

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 800}
DESKTOP = {"width": 1280, "height": 900}


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_move_a_booking_from_the_list(
    browser, live_server, organizer_api: httpx.Client, viewport: dict[str, int]
) -> None:  # type: ignore[no-untyped-def]
    api = organizer_api
    tuesday = next_monday() + timedelta(days=1)
    booked = book(api, at(tuesday, 10))
    context = browser.new_context(viewport=viewport, timezone_id="Europe/Paris", locale="en-GB")
    page = context.new_page()
    page.goto(live_server.url + "/signin")
    page.fill("#f-email", "ada@example.com")
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")

    page.goto(live_server.url + "/bookings")
    page.click(f"a[href='/bookings/{booked['id']}/move']")
    assert page.locator("h1").inner_text() == "Move a booking"
    assert "Times in Europe/Paris." in page.content()
    assert page.locator(".day-link[aria-current='true']").inner_text() == str(tuesday.day)
    assert page.locator(".time.current").inner_text().endswith("10:00")
    fits(page, viewport)
    accessible(page)

    # Another day from the calendar, then a time and a reason.
    wednesday = tuesday + timedelta(days=1)
    if wednesday.month == tuesday.month:
        page.click(f"#d-{wednesday.isoformat()}")
        assert page.locator("h2.day").inner_text().startswith("Wednesday")
        assert page.locator(".time.current").count() == 0
        page.click(f"#d-{tuesday.isoformat()}")
    page.locator("label.time-pick", has_text="14:00").click()
    assert page.locator("input[name=start]:checked").input_value() == at(tuesday, 14)
    page.fill("#f-reason", "The room is taken")
    fits(page, viewport)
    accessible(page)
    shot(page, f"move-booking-{viewport['width']}")

    page.click("text=Move to this time")
    page.wait_for_url(f"**/bookings?moved={booked['id']}")
    notice = page.locator(".alert.success").inner_text()
    assert notice.startswith("Moved to Tuesday") and "14:00 (Europe/Paris)" in notice
    assert "14:00" in page.locator(".booking-row.just-moved .booking-when").inner_text()
    fits(page, viewport)
    accessible(page)
    shot(page, f"bookings-moved-{viewport['width']}")
    # Opening "Cancel" beside "Move" keeps the row within the screen.
    page.click(".booking-row.just-moved summary")
    assert page.locator(".booking-row.just-moved textarea[name=reason]").is_visible()
    fits(page, viewport)
    shot(page, f"bookings-cancel-open-{viewport['width']}")
    moved = api.get(f"/api/v1/bookings/{booked['id']}").json()
    assert moved["start"] != booked["start"] and moved["status"] == "confirmed"
    context.close()
