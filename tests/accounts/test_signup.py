"""Self sign-up: only while the organization allows it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.models import User
from tests.factories import create_account, csrf_token

HTML = {"accept": "text/html"}


def fields(client: TestClient, **overrides: str) -> dict[str, str]:
    base = {
        "csrftoken": csrf_token(client),
        "name": "Eve Example",
        "email": "eve@example.com",
        "password": "a long password",
        "password_confirm": "a long password",
        "time_zone": "Europe/Berlin",
    }
    return {**base, **overrides}


def test_sign_up_only_when_allowed(
    client: TestClient, session_factory: sessionmaker[Session], session: Session
) -> None:
    root = create_account(session_factory, "root@example.com", name="Root", is_admin=True)
    assert client.get("/signup", headers=HTML).status_code == 404
    assert client.post("/signup", data=fields(client), headers=HTML).status_code == 404
    assert "Create an account" not in client.get("/signin", headers=HTML).text

    client.patch(
        "/api/v1/admin/org", json={"allow_signup": True, "default_plan": "E3"}, headers=root.headers
    )
    assert "Create an account" in client.get("/signin", headers=HTML).text
    assert client.get("/signup", headers=HTML).status_code == 200
    bad = client.post("/signup", data=fields(client, password_confirm="other"), headers=HTML)
    assert bad.status_code == 422 and "not the same" in bad.text
    done = client.post("/signup", data=fields(client), follow_redirects=False)
    assert done.status_code == 303
    me = client.get("/api/v1/me").json()
    assert (me["email"], me["is_admin"], me["time_zone"]) == (
        "eve@example.com",
        False,
        "Europe/Berlin",
    )
    assert (
        client.get("/api/v1/admin/users/eve@example.com", headers=root.headers).json()["plan"]
        == "E3"
    )
    again = TestClient(client.app)
    taken = again.post("/signup", data=fields(again), headers=HTML)
    assert taken.status_code == 409 and "already exists" in taken.text
    cross_site = TestClient(client.app).post(
        "/signup", data={"name": "X", "email": "x@example.com"}
    )
    assert cross_site.status_code == 403
    assert session.scalar(select(func.count()).select_from(User)) == 2
