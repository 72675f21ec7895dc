"""The invitee opens the link from their email, moves the meeting, then cancels it."""

from __future__ import annotations

import httpx
import pytest

from tests.bookings.test_booking_api import at
from tests.e2e.test_first_run import DESKTOP, PHONE, shot
from tests.scheduling.test_public_slots import next_monday

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_move_and_cancel_from_the_email_link(
    browser, organizer_api: httpx.Client, viewport: dict[str, int]
) -> None:  # type: ignore[no-untyped-def]
    api = organizer_api
    key = api.post("/api/v1/page/publish").json()["key"]
    type_id = api.get("/api/v1/meeting-types").json()["items"][1]["id"]
    monday = next_monday()
    booked = api.post(
        f"/api/v1/public/pages/{key}/meeting-types/{type_id}/bookings",
        json={
            "start": at(monday, 10),
            "name": "Grace Hopper",
            "email": "grace@example.com",
            "time_zone": "Europe/Paris",
        },
    ).json()
    label = "phone" if viewport is PHONE else "desktop"

    page = browser.new_context(viewport=viewport).new_page()
    page.goto(booked["manage_url"])
    assert page.locator("h1").inner_text() == "30 minute meeting"
    shot(page, f"manage-link-{label}")
    # Two steps: the free times from the booking's week, then "old -> new" and Confirm.
    page.click("text=Reschedule")
    page.locator(".times").first.locator("a.time", has_text="11:30").click()
    page.click("text=Confirm the new time")
    assert "Your meeting has moved." in page.locator(".alert").inner_text()
    assert "11:30" in page.locator(".when-line").inner_text()
    page.click("text=Cancel meeting")
    page.fill("#f-reason", "Something came up")
    page.click("text=Yes, cancel")
    assert "Your meeting is cancelled." in page.locator(".alert").inner_text()
    shot(page, f"manage-cancelled-{label}")
    assert api.get(f"/api/v1/bookings/{booked['id']}").json()["status"] == "cancelled"
