"""A newcomer's first minutes, in a real browser: setup, the dashboard, sign out, sign in."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot_dir

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = screenshot_dir()
    if folder is not None:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_setup_then_sign_out_and_in(browser, live_server, viewport: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    context = browser.new_context(viewport=viewport, timezone_id="Europe/Paris", locale="en-GB")
    page = context.new_page()
    label = "phone" if viewport is PHONE else "desktop"

    page.goto(base + "/")
    assert page.url == base + "/setup"
    # The browser's own zone is preselected.
    assert page.locator("#f-time_zone").input_value() == "Europe/Paris"
    shot(page, f"setup-{label}")

    page.fill("#f-organization_name", "Acme Consulting")
    page.fill("#f-name", "Ada Lovelace")
    page.fill("#f-email", "ada@example.com")
    page.fill("#f-password", "analytical engine")
    page.fill("#f-password_confirm", "analytical engne")
    page.click("button[type=submit]")
    assert page.locator("#e-password_confirm").inner_text() == "The two passwords are not the same"
    assert page.locator("#f-email").input_value() == "ada@example.com"  # nothing typed is lost
    shot(page, f"setup-error-{label}")

    page.fill("#f-password", "analytical engine")
    page.fill("#f-password_confirm", "analytical engine")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    assert page.locator("h1").inner_text() == "Hello, Ada Lovelace"
    assert "Europe/Paris" in page.content()
    shot(page, f"dashboard-{label}")

    page.click("text=Sign out")
    page.wait_for_url(base + "/signin")
    page.fill("#f-email", "ada@example.com")
    page.fill("#f-password", "wrong password")
    page.click("button[type=submit]")
    assert "The email or password is not correct." in page.locator(".alert").inner_text()
    shot(page, f"signin-error-{label}")
    page.fill("#f-password", "analytical engine")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    assert page.locator("h1").inner_text() == "Hello, Ada Lovelace"
    context.close()
