"""Personal access tokens: Bearer auth for the API, stored only as hashes."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.models import ApiToken, utcnow
from tests.factories import create_account, sign_in


def test_a_token_authenticates_and_is_stored_hashed(
    client: TestClient, session_factory: sessionmaker[Session], session: Session
) -> None:
    account = create_account(session_factory, "ada@example.com")
    response = client.get("/api/v1/me", headers=account.headers)
    assert response.status_code == 200
    assert response.json()["email"] == "ada@example.com"

    row = session.scalars(select(ApiToken)).one()
    assert account.token.startswith("bwm_") and len(account.token) >= 4 + 43
    assert row.token_hash != account.token and account.token not in row.token_hash
    # Its last use is recorded by a request that writes anyway (on PostgreSQL by any);
    # a read on SQLite does not take the write lock just for that.
    if session.get_bind().dialect.name == "sqlite":
        assert row.last_used_at is None
    else:
        assert row.last_used_at is not None
    changed = client.patch("/api/v1/me", json={"name": "Ada King"}, headers=account.headers)
    assert changed.status_code == 200
    session.rollback()  # a new snapshot
    assert session.scalars(select(ApiToken)).one().last_used_at is not None


def test_bad_tokens_get_a_clear_401(
    client: TestClient, session_factory: sessionmaker[Session], session: Session
) -> None:
    account = create_account(session_factory, "ada@example.com")
    cases = {
        "Bearer bwm_not-a-real-token": "not valid or has been revoked",
        "Bearer ": "must be 'Bearer <token>'",
        f"Basic {account.token}": "must be 'Bearer <token>'",
        "Bearer " + "x" * 5000: "not valid",
    }
    for header, message in cases.items():
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json()["error"]["code"] == "unauthorized"
        assert message in response.json()["error"]["message"]

    session.execute(update(ApiToken).values(revoked_at=utcnow()))
    session.commit()
    assert client.get("/api/v1/me", headers=account.headers).status_code == 401


def test_a_token_wins_over_a_session_cookie(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    ada = create_account(session_factory, "ada@example.com")
    bob = create_account(session_factory, "bob@example.com", name="Bob")
    sign_in(client, "ada@example.com")
    # A request that names a token is that token's user, and needs no CSRF token.
    response = client.patch("/api/v1/me", json={"name": "Robert"}, headers=bob.headers)
    assert response.status_code == 200 and response.json()["email"] == "bob@example.com"
    assert client.get("/api/v1/me").json()["name"] == ada.user.name
