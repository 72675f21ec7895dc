"""Signing in and out with a password and a signed session cookie."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.accounts import ratelimit
from bookwithme.accounts import service as accounts
from bookwithme.accounts.sessions import SESSION_COOKIE, encode_session
from bookwithme.db import session_scope
from bookwithme.errors import TooManyAttempts
from bookwithme.models import SignInAttempt, User, utcnow
from tests.factories import PASSWORD, create_account, csrf_token, sign_in

HTML = {"accept": "text/html"}


def post_signin(client: TestClient, email: str, password: str, next_url: str = "/"):  # type: ignore[no-untyped-def]
    return client.post(
        "/signin",
        data={
            "email": email,
            "password": password,
            "next": next_url,
            "csrftoken": csrf_token(client),
        },
        headers=HTML,
        follow_redirects=False,
    )


def test_sign_in_and_out(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    create_account(session_factory, "ada@example.com")
    assert (
        client.get("/", headers=HTML, follow_redirects=False).headers["location"]
        == "/signin?next=/"
    )

    response = post_signin(client, "ADA@example.com ", PASSWORD, "/api/v1/me")
    assert response.status_code == 303 and response.headers["location"] == "/api/v1/me"
    assert client.get("/api/v1/me").json()["email"] == "ada@example.com"
    assert "Hello, Ada Lovelace" in client.get("/", headers=HTML).text

    stolen = client.cookies[SESSION_COOKIE]
    out = client.post("/signout", data={"csrftoken": csrf_token(client)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/signin"
    assert client.get("/api/v1/me").status_code == 401
    # Signing out also ends the session everywhere else (a copied cookie no longer works).
    thief = TestClient(client.app, cookies={SESSION_COOKIE: stolen})
    assert thief.get("/api/v1/me").status_code == 401


def test_wrong_password_or_unknown_email(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    create_account(session_factory, "ada@example.com")
    for email, password in (("ada@example.com", "wrong password"), ("eve@example.com", PASSWORD)):
        response = post_signin(client, email, password)
        assert response.status_code == 401
        assert "The email or password is not correct." in response.text
        assert SESSION_COOKIE not in client.cookies
    assert post_signin(client, "", "").status_code == 422


def test_failed_sign_ins_are_limited_per_account_and_address(
    client: TestClient, session_factory: sessionmaker[Session], session: Session
) -> None:
    create_account(session_factory, "ada@example.com")
    for _ in range(ratelimit.MAX_PER_ACCOUNT_AND_ADDRESS):
        assert post_signin(client, "ada@example.com", "guess").status_code == 401
    # Now even the right password is refused for a while, with a clear message.
    locked = post_signin(client, "ada@example.com", PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed sign-ins. Try again in 15 minutes." in locked.text
    assert 800 < int(locked.headers["retry-after"]) <= 901
    assert SESSION_COOKIE not in client.cookies

    # After the window the account opens again.
    session.execute(
        update(SignInAttempt).values(created_at=utcnow() - ratelimit.WINDOW - timedelta(seconds=1))
    )
    session.commit()
    assert post_signin(client, "ada@example.com", PASSWORD).status_code == 303


def test_the_limit_counts_per_address_and_per_account(
    session_factory: sessionmaker[Session],
) -> None:
    now = utcnow()
    with session_scope(session_factory) as session:
        for i in range(ratelimit.MAX_PER_ADDRESS):
            ratelimit.record_failed_sign_in(session, f"user{i}@example.com", "203.0.113.9", now)
    with session_scope(session_factory) as session:
        # One address guessing many accounts is stopped...
        with pytest.raises(TooManyAttempts):
            ratelimit.check_sign_in_allowed(session, "new@example.com", "203.0.113.9", now)
        # ...but other addresses are not.
        ratelimit.check_sign_in_allowed(session, "new@example.com", "198.51.100.1", now)


def test_next_never_leaves_the_site(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    create_account(session_factory, "ada@example.com")
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = post_signin(client, "ada@example.com", PASSWORD, target)
        assert response.headers["location"] == "/"


def test_forged_or_stale_session_cookies_are_ignored(
    client: TestClient, session_factory: sessionmaker[Session], session: Session
) -> None:
    account = create_account(session_factory, "ada@example.com")
    forged = encode_session("not-the-secret-key", account.user.id, 1)
    client.cookies.set(SESSION_COOKIE, forged)
    assert client.get("/api/v1/me").status_code == 401
    client.cookies.set(SESSION_COOKIE, "garbage.value.here")
    assert client.get("/api/v1/me").status_code == 401

    sign_in(client, "ada@example.com")
    assert client.get("/api/v1/me").status_code == 200
    with session_scope(session_factory) as s:
        accounts.set_password(s, s.get_one(User, account.user.id), "a brand new password")
    assert client.get("/api/v1/me").status_code == 401


def test_a_deactivated_user_cannot_sign_in_or_use_a_session_or_token(
    client: TestClient, session_factory: sessionmaker[Session], session: Session
) -> None:
    account = create_account(session_factory, "ada@example.com")
    sign_in(client, "ada@example.com")
    session.execute(update(User).where(User.id == account.user.id).values(active=False))
    session.commit()
    assert client.get("/api/v1/me").status_code == 401
    assert TestClient(client.app).get("/api/v1/me", headers=account.headers).status_code == 401
    client.cookies.clear()
    assert post_signin(client, "ada@example.com", PASSWORD).status_code == 401
    assert session.scalar(select(User.active).where(User.id == account.user.id)) is False
