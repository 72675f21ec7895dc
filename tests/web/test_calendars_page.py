"""The calendars page: when each calendar was last read, in the organizer's zone (named)
and language; disconnecting asks first, without JavaScript; in French for a French
organizer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.db import session_scope
from bookwithme.models.calendar import CalendarConnection
from tests.factories import Account, create_account, sign_in
from tests.factories import post_form as post

HTML = {"accept": "text/html"}
READ_AT = datetime(2026, 11, 21, 13, 5, tzinfo=UTC)


def connected(
    factory: sessionmaker[Session], account: Account, name: str = "Work", write_back: bool = False
) -> uuid.UUID:
    """A calendar as it is once read (no server needed: the page shows what is stored)."""
    with session_scope(factory, write=True) as session:
        calendar = CalendarConnection(
            user_id=account.user.id,
            kind="ics",
            name=name,
            url="https://calendar.example.com/work.ics",
            write_back=write_back,
            last_synced_at=READ_AT,
            last_success_at=READ_AT,
            busy_count=3,
        )
        session.add(calendar)
        session.flush()
        return calendar.id


def names(factory: sessionmaker[Session]) -> list[str]:
    with session_scope(factory) as session:
        return list(session.scalars(select(CalendarConnection.name)))


def test_last_read_in_the_organizers_zone_and_language(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    ada = create_account(session_factory, "ada@example.com", time_zone="America/New_York")
    connected(session_factory, ada)
    sign_in(client, "ada@example.com")
    page = unescape(client.get("/calendars", headers=HTML).text)
    assert "3 busy periods · last read Nov 21, 2026, 08:05 (America/New_York)" in page
    home = unescape(client.get("/", headers=HTML).text)
    assert "3 busy periods, read Nov 21, 2026, 08:05 (America/New_York)" in home
    assert "UTC" not in home

    client.patch(
        "/api/v1/me", json={"locale": "fr", "time_zone": "Europe/Paris"}, headers=ada.headers
    )
    page = unescape(client.get("/calendars", headers=HTML).text)
    assert "3 périodes occupées · dernière lecture le 21 nov. 2026, 14:05 (Europe/Paris)" in page
    assert "Calendriers" in page and "Lire maintenant" in page and "Déconnecter" in page
    assert "Connecter un calendrier" in page and "Flux ICS" in page


def test_disconnecting_asks_first(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    ada = create_account(session_factory, "ada@example.com")
    calendar_id = connected(session_factory, ada, name="Work", write_back=True)
    sign_in(client, "ada@example.com")
    page = client.get("/calendars", headers=HTML).text
    # The button is a link to the question, not a form that disconnects at once.
    assert f'<a class="button danger small" href="/calendars/{calendar_id}/delete">' in page
    assert f'action="/calendars/{calendar_id}/delete"' not in page

    question = client.get(f"/calendars/{calendar_id}/delete", headers=HTML)
    text = unescape(question.text)
    assert question.status_code == 200 and "Disconnect “Work”?" in text
    assert "Its busy times stop counting" in text
    assert "Bookings are no longer written into it." in text  # it had write-back
    assert f'action="/calendars/{calendar_id}/delete"' in text
    assert 'name="confirm" value="yes"' in text and 'href="/calendars"' in text
    assert names(session_factory) == ["Work"]

    unasked = post(client, f"/calendars/{calendar_id}/delete")
    assert unasked.status_code == 303
    assert unasked.headers["location"] == f"/calendars/{calendar_id}/delete"
    assert names(session_factory) == ["Work"]

    done = post(client, f"/calendars/{calendar_id}/delete", confirm="yes")
    assert done.status_code == 303 and done.headers["location"] == "/calendars?notice=removed"
    assert names(session_factory) == []
    after = unescape(client.get(done.headers["location"], headers=HTML).text)
    assert "Disconnected. Its busy time no longer counts." in after
    # Reloading the question for a calendar that is gone: not found, nothing else happens.
    assert client.get(f"/calendars/{calendar_id}/delete", headers=HTML).status_code == 404


def test_another_organizers_calendar_cannot_be_disconnected(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    grace = create_account(session_factory, "grace@example.com", name="Grace")
    theirs = connected(session_factory, grace, name="Grace's")
    create_account(session_factory, "ada@example.com")
    sign_in(client, "ada@example.com")
    assert client.get(f"/calendars/{theirs}/delete", headers=HTML).status_code == 404
    assert post(client, f"/calendars/{theirs}/delete", confirm="yes").status_code == 404
    assert names(session_factory) == ["Grace's"]


def test_the_question_in_french(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    ada = create_account(session_factory, "ada@example.com")
    calendar_id = connected(session_factory, ada, name="Travail")
    client.patch("/api/v1/me", json={"locale": "fr"}, headers=ada.headers)
    sign_in(client, "ada@example.com")
    text = unescape(client.get(f"/calendars/{calendar_id}/delete", headers=HTML).text)
    assert "Déconnecter «\u00a0Travail\u00a0»\u00a0?" in text
    assert "Ses périodes occupées ne comptent plus" in text
    done = post(client, f"/calendars/{calendar_id}/delete", confirm="yes")
    after = unescape(client.get(done.headers["location"], headers=HTML).text)
    assert "Déconnecté. Ses périodes occupées ne comptent plus." in after
