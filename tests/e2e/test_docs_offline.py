"""The API documentation at /docs works on a server cut off from the internet: Swagger UI
comes from the app's own static files, and the page asks nothing of any other host."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from bookwithme.web.openapi import DOCS_POLICY, SWAGGER_UI

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("live_server", ["sqlite"], indirect=True)  # no data is written
def test_docs_show_every_operation_with_the_internet_cut_off(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    app_host = urlsplit(live_server.url).netloc
    elsewhere: list[str] = []
    refused_by_policy: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def only_the_app(route) -> None:  # type: ignore[no-untyped-def]
        if urlsplit(route.request.url).netloc == app_host:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_app)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            refused_by_policy.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.goto(live_server.url + "/docs")

    # The operations, grouped by tag, each with its method and path.
    page.locator(".opblock").first.wait_for(timeout=15_000)
    document = httpx.get(live_server.url + "/openapi.json").json()
    operations = sum(len(methods) for methods in document["paths"].values())
    assert page.locator(".opblock").count() == operations
    me = page.locator(".opblock-get", has=page.locator("[data-path='/api/v1/me']"))
    assert me.first.is_visible()
    assert page.locator(".opblock-post [data-path='/api/v1/webhooks']").count() == 1
    assert "bookwithme" in page.locator(".info .title").inner_text()

    # One operation opens with its parameters and answers, errors included.
    me.first.locator(".opblock-summary").first.click()
    responses = me.first.locator(".responses-table")
    responses.first.wait_for()
    assert "401" in responses.first.inner_text()

    assert elsewhere == []  # nothing was even asked of another host
    assert refused_by_policy == []
    context.close()


def test_docs_page_loads_only_the_apps_own_files(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert f'src="{SWAGGER_UI}/swagger-ui-bundle.js' in page.text
    assert f'href="{SWAGGER_UI}/swagger-ui.css' in page.text
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    # Our policy, and the app's own "no framing" one, both apply.
    policies = page.headers.get_list("content-security-policy")
    assert DOCS_POLICY in policies and "frame-ancestors 'none'" in policies
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert client.get(f"{SWAGGER_UI}/{asset}").status_code == 200
    assert client.get("/static/js/api-docs.js").status_code == 200


def test_redoc_is_not_offered(client: TestClient) -> None:
    # It would load from a CDN; Swagger UI at /docs shows the same document.
    assert client.get("/redoc").status_code == 404
    assert client.get("/docs/oauth2-redirect").status_code == 404
