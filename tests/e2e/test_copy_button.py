"""The start page's "Copy link" in a real browser: it puts the page's address on the
clipboard, says "Copied" on the button and to screen readers; without JavaScript there is
no dead button, only the address to select. No serious accessibility fault (axe-core)."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.test_manage_flow import accessible
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e


def test_copy_the_page_link(browser, live_server, organizer_api: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    url = organizer_api.post("/api/v1/page/publish").json()["url"]
    context = browser.new_context(
        viewport={"width": 375, "height": 800}, timezone_id="Europe/Paris", locale="en-GB"
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.goto(live_server.url + "/signin")
    page.fill("#f-email", "ada@example.com")
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")

    button = page.locator("button[data-copy='page-url']")
    assert button.is_visible() and button.inner_text() == "Copy link"
    accessible(page)
    button.click()
    page.wait_for_function(
        "document.querySelector(\"[role=status][aria-live=polite]\")?.textContent === 'Copied'"
    )
    assert button.inner_text() == "Copied"
    assert page.evaluate("navigator.clipboard.readText()") == url
    page.wait_for_function(
        "document.querySelector(\"button[data-copy='page-url']\").textContent === 'Copy link'",
        timeout=5000,
    )
    context.close()

    # Without JavaScript: no button that does nothing, the address is there to select.
    still = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 800})
    bare = still.new_page()
    bare.goto(live_server.url + "/signin")
    bare.fill("#f-email", "ada@example.com")
    bare.fill("#f-password", PASSWORD)
    bare.click("button[type=submit]")
    bare.wait_for_url(live_server.url + "/")
    assert bare.locator("#page-url").input_value() == url
    assert not bare.locator("button[data-copy='page-url']").is_visible()
    still.close()
