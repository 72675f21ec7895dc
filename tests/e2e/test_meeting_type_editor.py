"""The meeting-type page in a browser, on a phone (375 px): questions added, moved and
removed in place, hours of its own with a date range, a colour, Where changed to "In
person" (the online meeting link unticks itself), saved with Enter; then, without
JavaScript, a question moved by the same buttons. Nothing wider than the screen, no serious
accessibility fault (axe-core)."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.test_first_run import shot
from tests.e2e.test_manage_flow import accessible, fits
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 800}


def sign_in(browser, base: str, javascript: bool = True):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        viewport=PHONE, timezone_id="Europe/Paris", locale="en-GB", java_script_enabled=javascript
    )
    page = context.new_page()
    page.goto(base + "/signin")
    page.fill("#f-email", "ada@example.com")
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    return context, page


def labels(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        page.locator(f"#q{i}_label").input_value()
        for i in range(page.locator("[data-questions] [data-question]").count())
    ]


def test_questions_hours_and_place_in_the_browser(
    browser, live_server, organizer_api: httpx.Client
) -> None:  # type: ignore[no-untyped-def]
    api = organizer_api
    type_id = api.get("/api/v1/meeting-types").json()["items"][1]["id"]
    context, page = sign_in(browser, live_server.url)
    page.goto(f"{live_server.url}/meeting-types/{type_id}")

    # Three questions, each in a new row the script adds in place.
    page.fill("#q0_label", "Team size")
    page.select_option("#q0_kind", "select")
    assert page.locator("#q0_options").is_visible()  # options only for a list
    page.fill("#q0_options", "1-10, 11-50, 51+")
    for i, label in ((1, "Company"), (2, "Role")):
        page.click("[data-q-add]")
        assert page.evaluate("document.activeElement.id") == f"q{i}_label"
        page.keyboard.type(label)
    assert not page.locator("#q1_options").is_visible()
    assert labels(page) == ["Team size", "Company", "Role"]

    # Moved in place: names follow the new order, and the status line says where it went.
    page.click("#q-2 [data-q-action=up]")
    assert labels(page) == ["Team size", "Role", "Company"]
    assert page.locator("[data-q-status]").inner_text() == "Moved up: now question 2."
    page.click("#q-0 [data-q-action=down]")
    assert labels(page) == ["Role", "Team size", "Company"]
    assert page.locator("#q1_options").input_value() == "1-10, 11-50, 51+"
    assert page.locator("#q-0 [data-q-action=up]").is_disabled()
    assert page.locator("#q-2 [data-q-action=down]").is_disabled()
    page.click("[data-q-add]")
    page.click("#q-2 [data-q-action=remove]")
    assert labels(page) == ["Role", "Team size", ""]

    # Hours of its own: hidden until chosen, the working hours to start from.
    assert not page.locator("#f-mon").is_visible()
    page.check("#f-hours-custom")
    assert page.locator("#f-mon").input_value() == "09:00-17:00"
    page.fill("#f-mon", "09:00-12:00, 14:00-17:00")
    page.fill("#f-tue", "")
    page.fill("#f-range_start", "2027-01-04")
    page.fill("#f-range_end", "2027-03-31")

    # A colour picked chooses "This colour".
    page.fill("#f-color", "#0ca678")
    assert page.locator("#f-color-pick").is_checked()

    # In person: the online meeting link unticks itself, and comes back for online.
    box = page.locator("#f-add_online_meeting")
    assert box.is_checked()
    page.select_option("#f-location_kind", "in_person")
    assert not box.is_checked()
    assert "in person or by phone" in page.locator("[data-online-note]").inner_text()
    page.select_option("#f-location_kind", "online")
    assert box.is_checked()
    page.select_option("#f-location_kind", "in_person")
    page.fill("#f-location_details", "12 rue de Rivoli, Paris")
    fits(page, PHONE)
    accessible(page)

    # Enter in a text field saves (it is not taken for a question's button).
    page.press("#f-title", "Enter")
    page.wait_for_url(f"**/meeting-types/{type_id}?notice=saved")
    assert page.locator(".alert.success").inner_text() == "Saved."
    saved = api.get(f"/api/v1/meeting-types/{type_id}").json()
    assert [q["label"] for q in saved["questions"]] == ["Role", "Team size"]
    assert saved["questions"][1]["options"] == ["1-10", "11-50", "51+"]
    assert saved["location"] == {"kind": "in_person", "details": "12 rue de Rivoli, Paris"}
    assert saved["add_online_meeting"] is False and saved["color"] == "#0ca678"
    availability = saved["availability"]
    assert availability["weekly"]["mon"] == [
        {"start": "09:00", "end": "12:00"},
        {"start": "14:00", "end": "17:00"},
    ]
    assert availability["weekly"]["tue"] == [] and availability["time_zone"] == "Europe/Paris"
    assert availability["date_range"] == {"start": "2027-01-04", "end": "2027-03-31"}
    assert page.locator("#f-mon").is_visible()  # the type's own hours are shown open
    fits(page, PHONE)
    shot(page, "meeting-type-375")
    context.close()

    # Without JavaScript the same buttons post the form: the page comes back reordered.
    context, page = sign_in(browser, live_server.url, javascript=False)
    page.goto(f"{live_server.url}/meeting-types/{type_id}")
    page.click("#q-1 [data-q-action=up]")
    assert labels(page) == ["Team size", "Role", ""]
    assert "Not saved yet" in page.locator(".alert.success").inner_text()
    assert page.evaluate("document.activeElement.id") == "q0_label"
    page.click("button.primary[value=save]")
    page.wait_for_url(f"**/meeting-types/{type_id}?notice=saved")
    saved = api.get(f"/api/v1/meeting-types/{type_id}").json()
    assert [q["label"] for q in saved["questions"]] == ["Team size", "Role"]
    assert saved["availability"] == availability
    context.close()
