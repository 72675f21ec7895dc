"""The CSRF cookie on pages (``middleware.CSRFProtection``): made only for a page whose form
uses it, kept when the browser already has a good one, replaced when it was tampered with,
and the token in the form is the one a post must repeat."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import PASSWORD, create_account

HTML = {"accept": "text/html"}


def _form_token(page: str) -> str:
    found = re.search(r'name="csrftoken" value="([^"]+)"', page)
    assert found is not None, "the page has no form token"
    return found.group(1)


def test_the_cookie_comes_with_a_form_and_only_then(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    create_account(session_factory, "ada@example.com")
    # A page without a form: no cookie, nothing varies on cookies.
    healthz = client.get("/healthz")
    assert "set-cookie" not in healthz.headers and "vary" not in healthz.headers
    # The sign-in form: a signed token in the form and the same in the cookie.
    signin = client.get("/signin", headers=HTML)
    cookie = signin.headers["set-cookie"]
    token = _form_token(signin.text)
    assert cookie == f"csrftoken={token}; Path=/; SameSite=Lax"
    assert "Cookie" in signin.headers["vary"]
    # With the cookie, the form repeats it and no new one is set.
    again = client.get("/signin", headers=HTML)
    assert "set-cookie" not in again.headers and _form_token(again.text) == token
    assert "Cookie" in again.headers["vary"]
    # The token works: signing in with it succeeds; without it, it is refused.
    refused = client.post(
        "/signin", data={"email": "ada@example.com", "password": PASSWORD}, follow_redirects=False
    )
    assert refused.status_code == 403
    signed_in = client.post(
        "/signin",
        data={"email": "ada@example.com", "password": PASSWORD, "csrftoken": token},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303


def test_a_tampered_cookie_is_replaced(client: TestClient) -> None:
    client.cookies.set("csrftoken", "forged.value")
    page = client.get("/signin", headers=HTML)
    token = _form_token(page.text)
    assert token != "forged.value"
    assert page.headers["set-cookie"].startswith(f"csrftoken={token};")
