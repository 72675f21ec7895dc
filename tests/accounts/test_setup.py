"""First run: the setup page creates the organization and its first admin, once."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bookwithme.models import MeetingType, Organization, Page, Schedule, User
from tests.factories import csrf_token

HTML = {"accept": "text/html"}


def setup_fields(client: TestClient, **overrides: str) -> dict[str, str]:
    fields = {
        "csrftoken": csrf_token_for_setup(client),
        "organization_name": "Acme Consulting",
        "name": "Ada Lovelace",
        "email": "Ada@Example.com",
        "password": "analytical engine",
        "password_confirm": "analytical engine",
        "time_zone": "Asia/Kolkata",
    }
    fields.update(overrides)
    return fields


def csrf_token_for_setup(client: TestClient) -> str:
    if "csrftoken" not in client.cookies:
        client.get("/setup", headers=HTML)
    return str(client.cookies["csrftoken"])


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_fresh_install_sends_every_page_to_setup(client: TestClient) -> None:
    for path in ("/", "/signin"):
        response = client.get(path, headers=HTML, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/setup"
    page = client.get("/setup", headers=HTML)
    assert page.status_code == 200
    assert "Create your organization" in page.text
    assert 'name="time_zone"' in page.text and ">Europe/Paris<" in page.text
    # The API does not redirect: it needs credentials.
    assert client.get("/api/v1/me").json()["error"]["code"] == "unauthorized"


def test_setup_creates_the_organization_and_a_signed_in_admin(
    client: TestClient, session: Session
) -> None:
    response = client.post("/setup", data=setup_fields(client), follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"

    cookie = response.headers["set-cookie"]
    assert "bookwithme_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")

    me = client.get("/api/v1/me").json()
    assert me["email"] == "ada@example.com"
    assert me["is_admin"] is True
    assert me["time_zone"] == "Asia/Kolkata"
    assert me["personal_bookings"] == {"enabled": True, "reasons": []}

    organization = session.scalars(select(Organization)).one()
    assert organization.name == "Acme Consulting"
    user = session.scalars(select(User)).one()
    assert user.password_hash and user.password_hash.startswith("$argon2id$")
    assert "analytical engine" not in user.password_hash

    # What every new organizer starts with.
    schedule = session.scalars(select(Schedule).where(Schedule.user_id == user.id)).one()
    assert schedule.is_default and schedule.time_zone == "Asia/Kolkata"
    assert schedule.weekly["mon"] == [{"start": "09:00", "end": "17:00"}]
    assert schedule.weekly["sat"] == [] and schedule.weekly["sun"] == []
    types = session.scalars(select(MeetingType).order_by(MeetingType.position)).all()
    assert [(t.title, t.duration_minutes, t.visibility) for t in types] == [
        ("15 minute meeting", 15, "public"),
        ("30 minute meeting", 30, "public"),
    ]
    page = session.scalars(select(Page)).one()
    assert page.published is False and len(page.key) >= 43  # 256 random bits

    dashboard = client.get("/", headers=HTML)
    assert "Hello, Ada Lovelace" in dashboard.text
    assert "30 minute meeting" in dashboard.text


def test_setup_runs_only_once(client: TestClient, session: Session) -> None:
    client.post("/setup", data=setup_fields(client))
    other = TestClient(client.app)
    response = other.post(
        "/setup",
        data=setup_fields(other, email="mallory@example.com"),
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/signin"
    assert other.get("/setup", follow_redirects=False).headers["location"] == "/signin"
    assert count(session, User) == 1 and count(session, Organization) == 1


def test_two_simultaneous_setups_create_one_admin(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    results: list[int] = []

    def attempt(i: int) -> None:
        with TestClient(app) as c:
            r = c.post(
                "/setup",
                data=setup_fields(c, email=f"admin{i}@example.com"),
                headers=HTML,
                follow_redirects=False,
            )
            results.append(r.status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert count(session, User) == 1
    assert count(session, Organization) == 1
    assert sorted(results) == [303] * 6  # one to "/", the rest to "/signin"


def test_setup_form_errors_are_shown_and_nothing_is_written(
    client: TestClient, session: Session
) -> None:
    cases = {
        "password_confirm": ({"password_confirm": "something else"}, "not the same"),
        "email": ({"email": "not-an-email"}, "valid email"),
        "time_zone": ({"time_zone": "Mars/Olympus_Mons"}, "not a known IANA time zone"),
        "password": ({"password": "short", "password_confirm": "short"}, "at least 8"),
        "name": ({"name": "x" * 201}, "at most 200"),
        "organization_name": ({"organization_name": "   "}, "Enter the name of your organization"),
    }
    for field, (overrides, message) in cases.items():
        response = client.post("/setup", data=setup_fields(client, **overrides), headers=HTML)
        assert response.status_code == 422, field
        assert message in response.text, field
        assert 'aria-invalid="true"' in response.text
    assert count(session, User) == 0 and count(session, Organization) == 0


def test_setup_without_the_csrf_token_is_refused(client: TestClient, session: Session) -> None:
    csrf_token(client)  # the browser has the cookie, but the form does not carry it
    fields = setup_fields(client)
    fields["csrftoken"] = "forged"
    response = client.post("/setup", data=fields, headers=HTML)
    assert response.status_code == 403
    assert "Reload the page" in response.text
    assert count(session, User) == 0
