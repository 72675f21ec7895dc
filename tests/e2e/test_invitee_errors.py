"""An invitee in France opens a private link that was for one booking only and has been
used: a French page, not JSON, that says so and offers the organizer's booking page; axe
finds no serious or critical accessibility problem on it."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.test_booking_calendar import assert_accessible, assert_no_overflow

pytestmark = pytest.mark.e2e


def test_a_used_link_opened_in_french(browser, organizer_api: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    api = organizer_api
    page_url = api.post("/api/v1/page/publish").json()["url"]
    type_id = api.get("/api/v1/meeting-types").json()["items"][0]["id"]
    link = api.post(
        f"/api/v1/meeting-types/{type_id}/private-links", json={"single_use": True}
    ).json()
    base = page_url.split("/p/")[0]
    slot = httpx.get(f"{base}/api/v1/public/links/{link['token']}/slots").json()["slots"][0]
    booked = httpx.post(
        f"{base}/api/v1/public/links/{link['token']}/bookings",
        json={
            "start": slot["start"],
            "name": "Grace",
            "email": "grace@example.com",
            "time_zone": "Europe/Paris",
        },
    )
    assert booked.status_code == 201, booked.text

    context = browser.new_context(
        viewport={"width": 375, "height": 800}, locale="fr-FR", timezone_id="Europe/Paris"
    )
    page = context.new_page()
    answer = page.goto(f"{base}/l/{link['token']}")
    assert answer is not None and answer.status == 410
    assert answer.headers["content-type"].startswith("text/html")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("h1").inner_text() == "Ce lien a déjà servi"
    assert "Demandez un nouveau lien à Ada Lovelace." in page.locator("main").inner_text()
    assert_no_overflow(page, "used link")
    assert_accessible(page, "used link")
    page.click("text=Voir la page de réservation de Ada Lovelace")
    page.wait_for_url(page_url)
    assert page.locator("text=30 minute meeting").count() >= 1
    context.close()
