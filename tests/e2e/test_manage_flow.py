"""The invitee's manage page in a browser, on a phone and a desktop: the meeting and its
add-to-calendar links, moving in two steps, cancelling after a confirmation; nothing wider
than the screen and no serious accessibility fault (axe-core) on any of the three pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.bookings.test_booking_api import at
from tests.e2e.test_first_run import shot
from tests.scheduling.test_public_slots import next_monday

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 800}
DESKTOP = {"width": 1280, "height": 900}


def fits(page: Any, viewport: dict[str, int]) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"{page.url} is {width}px wide"


def accessible(page: Any) -> None:
    results = Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{page.url}: {bad}"


def book(api: httpx.Client, start: str) -> dict[str, Any]:
    key = api.post("/api/v1/page/publish").json()["key"]
    type_id = api.get("/api/v1/meeting-types").json()["items"][1]["id"]
    response = api.post(
        f"/api/v1/public/pages/{key}/meeting-types/{type_id}/bookings",
        json={
            "start": start,
            "name": "Grace Hopper",
            "email": "grace@example.com",
            "time_zone": "Europe/Paris",
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_see_add_move_and_cancel(
    browser, organizer_api: httpx.Client, viewport: dict[str, int]
) -> None:  # type: ignore[no-untyped-def]
    api = organizer_api
    monday = next_monday(2)  # not this week: the times start at the booking's own week
    tuesday = monday + timedelta(days=1)
    booked = book(api, at(tuesday, 10))
    label = "phone" if viewport is PHONE else "desktop"
    context = browser.new_context(viewport=viewport, locale="en-GB")
    page = context.new_page()

    # The page the booking form leads to.
    page.goto(booked["manage_url"] + "?notice=booked")
    assert page.locator("h1").inner_text() == "30 minute meeting"
    assert "You are booked." in page.locator(".alert").inner_text()
    assert "10:00\u201310:30" in page.locator(".when-line").inner_text()
    google = page.locator("a[href^='https://calendar.google.com/calendar/render?']")
    outlook = page.locator("a[href^='https://outlook.live.com/calendar/0/action/compose?']")
    ics = page.locator("a[href$='/invite.ics']")
    assert google.count() == outlook.count() == ics.count() == 1
    assert "30%20minute%20meeting" in (google.get_attribute("href") or "")
    invite = page.request.get(booked["manage_url"] + "/invite.ics")
    assert invite.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "BEGIN:VEVENT" in invite.text()
    fits(page, viewport)
    accessible(page)
    shot(page, f"manage-{label}")

    # Step 1: the free times of the booking's week; step 2: old -> new, nothing moved yet.
    page.click("text=Reschedule")
    assert page.url.endswith("/reschedule")
    assert page.locator("h2.day").first.inner_text().startswith("Monday")
    assert page.locator(".time.current").inner_text().endswith("10:00")
    fits(page, viewport)
    shot(page, f"reschedule-{label}")
    page.locator(".times").nth(1).locator("a.time", has_text="11:30").click()
    move = page.locator(".move").inner_text()
    assert "10:00" in move and "11:30" in move and move.index("10:00") < move.index("11:30")
    assert api.get(f"/api/v1/bookings/{booked['id']}").json()["start"] == booked["start"]
    fits(page, viewport)
    accessible(page)
    shot(page, f"reschedule-confirm-{label}")
    page.click("text=Confirm the new time")
    assert "Your meeting has moved." in page.locator(".alert").inner_text()
    assert "11:30\u201312:00" in page.locator(".when-line").inner_text()
    moved = api.get(f"/api/v1/bookings/{booked['id']}").json()
    assert moved["start"] != booked["start"] and moved["status"] == "confirmed"

    # Cancel: a confirmation with a reason, then the POST.
    page.click("text=Cancel meeting")
    assert page.locator("h1").inner_text() == "Cancel this meeting?"
    assert api.get(f"/api/v1/bookings/{booked['id']}").json()["status"] == "confirmed"
    fits(page, viewport)
    accessible(page)
    shot(page, f"cancel-confirm-{label}")
    page.fill("#f-reason", "Something came up")
    page.click("text=Yes, cancel")
    assert "Your meeting is cancelled." in page.locator(".alert").inner_text()
    fits(page, viewport)
    cancelled = api.get(f"/api/v1/bookings/{booked['id']}").json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_reason"] == "Something came up"
    context.close()
