"""Booking, rescheduling and cancelling through the API (SPEC 2.3 step 7, 2.5)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.models import Booking, Organization, OutboxMessage
from tests.factories import Account, create_account
from tests.scheduling.test_public_slots import next_monday

PARIS = ZoneInfo("Europe/Paris")


def at(day: date, hour: int, minute: int = 0) -> str:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS).isoformat()


class Page:
    def __init__(self, client: TestClient, account: Account) -> None:
        self.client, self.account = client, account
        self.key = client.post("/api/v1/page/publish", headers=account.headers).json()["key"]
        self.t30 = client.get("/api/v1/meeting-types", headers=account.headers).json()["items"][1][
            "id"
        ]

    def book(self, start: str, type_id: str | None = None, **fields: Any):  # type: ignore[no-untyped-def]
        body = {
            "start": start,
            "name": "Grace Hopper",
            "email": "grace@example.com",
            "time_zone": "America/New_York",
            **fields,
        }
        return self.client.post(
            f"/api/v1/public/pages/{self.key}/meeting-types/{type_id or self.t30}/bookings",
            json=body,
        )

    def starts(self, day: date, type_id: str | None = None) -> list[str]:
        r = self.client.get(
            f"/api/v1/public/pages/{self.key}/meeting-types/{type_id or self.t30}/slots",
            params={"start": day.isoformat(), "end": day.isoformat(), "tz": "Europe/Paris"},
        )
        return [s["start"] for s in r.json()["slots"]]


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Page:
    return Page(
        client, create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    )


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Booking)) or 0)


def test_book_a_free_slot(ada: Page, session: Session) -> None:
    monday = next_monday()
    response = ada.book(at(monday, 10), notes="About the engine", locale="fr")
    assert response.status_code == 201, response.text
    booking = response.json()
    assert booking["status"] == "confirmed" and booking["title"] == "30 minute meeting"
    assert booking["start"] == datetime(
        monday.year, monday.month, monday.day, 10, tzinfo=PARIS
    ).astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert booking["invitee"] == {
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "time_zone": "America/New_York",
        "locale": "fr",
    }
    assert booking["manage_url"] == f"http://testserver/b/{booking['manage_token']}"
    assert booking["online_meeting_url"].startswith("https://meet.jit.si/bookwithme-")
    assert booking["location"] == {"kind": "online", "details": None}
    # The slot is gone, and the organizer sees the booking.
    assert at(monday, 10) not in ada.starts(monday)
    listed = ada.client.get("/api/v1/bookings", headers=ada.account.headers).json()
    assert [b["id"] for b in listed["items"]] == [booking["id"]] and listed["next_cursor"] is None
    assert "manage_token" not in listed["items"][0]
    stored = session.scalars(select(Booking)).one()
    assert stored.manage_token_hash != booking["manage_token"]


def test_a_start_that_is_not_offered_is_409(ada: Page, session: Session) -> None:
    monday = next_monday()
    assert ada.book(at(monday, 10)).status_code == 201
    for start in (
        at(monday, 10),  # taken
        at(monday, 10, 15),  # overlaps the booking (and is off the step)
        at(monday, 10, 45),  # off the 30-minute step
        at(monday, 7),  # outside hours
        at(monday - timedelta(days=14), 10),  # in the past
        at(monday + timedelta(days=90), 10),  # beyond the 60-day horizon
        at(monday + timedelta(days=5), 10),  # a Saturday
    ):
        response = ada.book(start)
        assert response.status_code == 409, start
        assert response.json()["error"]["code"] == "slot_unavailable"
    assert count(session) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"start": "next monday"}, "valid datetime"),
        ({"start": "2027-01-04T10:00:00"}, "timezone"),
        ({"start": 1798012800}, "ISO 8601"),
        ({"name": ""}, "at least 1"),
        ({"name": "x" * 201}, "at most 200"),
        ({"email": "grace@"}, "valid email"),
        ({"email": "g" * 250 + "@example.com"}, "at most 254"),
        ({"time_zone": "Eastern"}, "IANA"),
        ({"notes": "x" * 5001}, "at most 5000"),
        ({"locale": "not a language"}, "language tag"),
        ({"locale": 7}, "language tag"),
        ({"answers": {"company": "x" * 2001}}, "at most 2000"),
        ({"extra": 1}, "Extra inputs"),
    ],
)
def test_bad_invitee_input_is_422_and_writes_nothing(
    ada: Page, session: Session, fields: dict[str, Any], message: str
) -> None:
    monday = next_monday()
    body = {"start": at(monday, 10), **fields}
    response = ada.book(**body)
    assert response.status_code == 422
    assert message in response.json()["error"]["message"], response.json()
    assert count(session) == 0


def test_questions_are_answered_as_asked(ada: Page, session: Session) -> None:
    monday = next_monday()
    mt = ada.client.post(
        "/api/v1/meeting-types",
        json={
            "title": "Consultation",
            "questions": [
                {"id": "company", "label": "Company", "kind": "text", "required": True},
                {"id": "size", "label": "Team size", "kind": "select", "options": ["1-10", "11+"]},
                {"id": "terms", "label": "I accept", "kind": "checkbox", "required": True},
            ],
        },
        headers=ada.account.headers,
    ).json()
    bad = [
        ({"size": "1-10", "terms": True}, "answers.company", "'Company' is required"),
        ({"company": "  ", "terms": True}, "answers.company", "'Company' is required"),
        (
            {"company": "Navy", "size": "huge", "terms": True},
            "answers.size",
            "must be one of: 1-10, 11+",
        ),
        ({"company": "Navy", "terms": "yes"}, "answers.terms", "must be true or false"),
        ({"company": "Navy", "terms": False}, "answers.terms", "'I accept' must be checked"),
        (
            {"company": "Navy", "terms": True, "color": "red"},
            "answers.color",
            "there is no such question",
        ),
    ]
    for answers, field, message in bad:
        response = ada.book(at(monday, 10), mt["id"], answers=answers)
        assert response.status_code == 422, answers
        assert {"field": field, "message": message} in response.json()["error"]["details"]
    assert count(session) == 0
    ok = ada.book(at(monday, 10), mt["id"], answers={"company": " Navy ", "terms": True})
    assert ok.status_code == 201
    assert ok.json()["answers"] == {"company": "Navy", "size": "", "terms": True}


def test_locale_comes_from_the_body_else_the_browser(ada: Page) -> None:
    monday = next_monday()
    body = {
        "start": at(monday, 9),
        "name": "Marie",
        "email": "marie@example.fr",
        "time_zone": "Europe/Paris",
    }
    url = f"/api/v1/public/pages/{ada.key}/meeting-types/{ada.t30}/bookings"
    fr = ada.client.post(
        url, json=body, headers={"Accept-Language": "de-DE, fr-FR;q=0.8, en;q=0.5"}
    ).json()
    assert fr["invitee"]["locale"] == "fr"
    body["start"] = at(monday, 11)
    en = ada.client.post(url, json=body, headers={"Accept-Language": "es"}).json()
    assert en["invitee"]["locale"] == "en"


def test_reschedule_and_cancel_through_the_manage_link(ada: Page) -> None:
    monday = next_monday()
    created = ada.book(at(monday, 10)).json()
    manage = f"/api/v1/public/bookings/{created['manage_token']}"
    assert ada.client.get(manage).json()["id"] == created["id"]

    # Its own time counts as free when moving it.
    own = ada.client.get(
        f"{manage}/slots",
        params={"start": monday.isoformat(), "end": monday.isoformat(), "tz": "Europe/Paris"},
    ).json()
    assert at(monday, 10) in [s["start"] for s in own["slots"]]
    other = ada.book(at(monday, 14), name="Other").json()
    assert (
        ada.client.post(f"{manage}/reschedule", json={"start": at(monday, 14)}).json()["error"][
            "code"
        ]
        == "slot_unavailable"
    )

    moved = ada.client.post(f"{manage}/reschedule", json={"start": at(monday, 11)})
    assert moved.status_code == 200
    eleven_utc = datetime(monday.year, monday.month, monday.day, 11, tzinfo=PARIS).astimezone(UTC)
    assert moved.json()["start"] == eleven_utc.isoformat().replace("+00:00", "Z")
    assert moved.json()["id"] == created["id"]
    assert at(monday, 10) in ada.starts(monday) and at(monday, 11) not in ada.starts(monday)

    cancelled = ada.client.post(f"{manage}/cancel", json={"reason": "Something came up"}).json()
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "Something came up"
    assert cancelled["cancelled_at"].endswith("Z")
    assert at(monday, 11) in ada.starts(monday)  # freed
    again = ada.client.post(f"{manage}/reschedule", json={"start": at(monday, 12)})
    assert again.status_code == 409 and again.json()["error"]["code"] == "booking_cancelled"
    assert ada.client.post(f"{manage}/cancel").json()["status"] == "cancelled"
    assert (
        ada.client.get(f"/api/v1/public/bookings/{other['manage_token']}").json()["status"]
        == "confirmed"
    )
    assert ada.client.get("/api/v1/public/bookings/not-a-token").status_code == 404


def test_single_use_links_are_used_up_by_their_booking(ada: Page, session: Session) -> None:
    monday = next_monday()
    link = ada.client.post(
        f"/api/v1/meeting-types/{ada.t30}/private-links",
        json={"single_use": True},
        headers=ada.account.headers,
    ).json()
    body = {"start": at(monday, 9), "name": "Once", "email": "once@example.com", "time_zone": "UTC"}
    first = ada.client.post(f"/api/v1/public/links/{link['token']}/bookings", json=body)
    assert first.status_code == 201
    body["start"] = at(monday, 10)
    second = ada.client.post(f"/api/v1/public/links/{link['token']}/bookings", json=body)
    assert second.status_code == 410 and second.json()["error"]["code"] == "link_used"
    statuses = [
        i["status"]
        for i in ada.client.get(
            f"/api/v1/meeting-types/{ada.t30}/private-links", headers=ada.account.headers
        ).json()["items"]
    ]
    assert statuses == ["used"]
    assert count(session) == 1


def test_organizer_list_filters_pages_and_cancels(
    ada: Page, session_factory: sessionmaker[Session]
) -> None:
    monday = next_monday()
    # Six people book (one person gets at most five bookings in ten minutes).
    ids = [
        ada.book(at(monday + timedelta(days=d), h), email=f"invitee{d}{h}@example.com").json()["id"]
        for d in range(3)
        for h in (9, 10)
    ]
    headers = ada.account.headers
    page1 = ada.client.get("/api/v1/bookings", params={"limit": 4}, headers=headers).json()
    page2 = ada.client.get(
        "/api/v1/bookings", params={"limit": 4, "cursor": page1["next_cursor"]}, headers=headers
    ).json()
    assert [b["id"] for b in page1["items"] + page2["items"]] == ids and page2[
        "next_cursor"
    ] is None
    tuesday = datetime(monday.year, monday.month, monday.day, tzinfo=PARIS) + timedelta(days=1)
    window = ada.client.get(
        "/api/v1/bookings",
        params={"start": tuesday.isoformat(), "end": (tuesday + timedelta(days=1)).isoformat()},
        headers=headers,
    ).json()
    assert [b["id"] for b in window["items"]] == ids[2:4]
    cancelled = ada.client.post(f"/api/v1/bookings/{ids[0]}/cancel", headers=headers).json()
    assert cancelled["status"] == "cancelled"
    only = ada.client.get(
        "/api/v1/bookings", params={"status": "cancelled"}, headers=headers
    ).json()["items"]
    assert [b["id"] for b in only] == [ids[0]]
    assert ada.client.get(f"/api/v1/bookings/{ids[1]}", headers=headers).json()["id"] == ids[1]
    for params in (
        {"cursor": "garbage"},
        {"status": "maybe"},
        {"limit": 0},
        {"start": "yesterday"},
    ):
        assert ada.client.get("/api/v1/bookings", params=params, headers=headers).status_code == 422
    bob = create_account(session_factory, "bob@example.com", name="Bob")
    assert ada.client.get(f"/api/v1/bookings/{ids[1]}", headers=bob.headers).status_code == 404
    assert (
        ada.client.post(f"/api/v1/bookings/{ids[1]}/cancel", headers=bob.headers).status_code == 404
    )


def test_deleting_a_type_keeps_its_bookings(ada: Page) -> None:
    monday = next_monday()
    booking = ada.book(at(monday, 9)).json()
    ada.client.delete(f"/api/v1/meeting-types/{ada.t30}", headers=ada.account.headers)
    kept = ada.client.get(f"/api/v1/bookings/{booking['id']}", headers=ada.account.headers).json()
    assert kept["meeting_type_id"] == ada.t30 and kept["status"] == "confirmed"
    manage = f"/api/v1/public/bookings/{booking['manage_token']}"
    assert (
        ada.client.post(f"{manage}/reschedule", json={"start": at(monday, 11)}).status_code == 404
    )
    assert ada.client.post(f"{manage}/cancel").json()["status"] == "cancelled"


def test_when_personal_bookings_is_off_bookings_stay_and_can_be_cancelled(
    ada: Page, session: Session
) -> None:
    monday = next_monday()
    first = ada.book(at(monday, 9)).json()
    second = ada.book(at(monday, 10)).json()
    session.execute(update(Organization).values(apps_enabled=False))
    session.commit()
    assert ada.book(at(monday, 11)).status_code == 404
    assert (
        ada.client.post(f"/api/v1/public/bookings/{first['manage_token']}/cancel").json()["status"]
        == "cancelled"
    )
    assert (
        ada.client.post(
            f"/api/v1/bookings/{second['id']}/cancel", headers=ada.account.headers
        ).json()["status"]
        == "cancelled"
    )


def test_sixty_four_simultaneous_attempts_at_overlapping_times_one_wins(
    ada: Page, session: Session
) -> None:
    monday = next_monday()
    hour = ada.client.post(
        "/api/v1/meeting-types",
        json={"title": "Hour", "duration_minutes": 60, "slot_interval_minutes": 5},
        headers=ada.account.headers,
    ).json()
    starts = [at(monday, 9, m) for m in range(0, 60, 5)]  # every pair overlaps
    barrier = threading.Barrier(64)
    statuses: list[int] = []

    def attempt(i: int) -> None:
        # 64 people, each on their own machine (one address may try 20 times in 10 minutes).
        with TestClient(ada.client.app, client=(f"198.51.100.{i + 1}", 50000)) as c:
            body = {
                "start": starts[i % len(starts)],
                "name": f"Invitee {i}",
                "email": f"i{i}@example.com",
                "time_zone": "UTC",
            }
            barrier.wait()
            r = c.post(
                f"/api/v1/public/pages/{ada.key}/meeting-types/{hour['id']}/bookings", json=body
            )
            statuses.append(r.status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Counter(statuses) == {201: 1, 409: 63}
    assert count(session) == 1
    winner = session.scalars(select(Booking)).one()
    assert winner.status == "confirmed" and winner.start_at.minute % 5 == 0


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("fr-CA", "fr"), ("FR", "fr"), ("de", "en"), ("en-US", "en"), ("pt_BR", "en")],
)
def test_a_browser_language_tag_becomes_a_language_bookwithme_speaks(
    ada: Page, session: Session, sent: str, kept: str
) -> None:
    booked = ada.book(at(next_monday(), 10), locale=sent)
    assert booked.status_code == 201, booked.text
    assert booked.json()["invitee"]["locale"] == kept
    invitee_mail = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "booking_created_invitee")
    ).one()
    assert invitee_mail.subject.startswith("Confirmé" if kept == "fr" else "Confirmed")


def test_the_organizers_online_meeting_setting_skips_meetings_in_a_room_or_on_the_phone(
    ada: Page,
) -> None:
    """ "An online meeting for every booking" (PATCH /me) gives online and custom meetings a
    link; an in-person or phone meeting gets one only when its own type asks for it."""
    headers = ada.account.headers
    me = ada.client.patch("/api/v1/me", json={"add_online_meeting": True}, headers=headers)
    assert me.status_code == 200 and me.json()["add_online_meeting"] is True

    def new_type(kind: str, **extra: Any) -> str:
        body = {"title": f"At {kind}", "duration_minutes": 30, **extra}
        body["location"] = {
            "kind": kind,
            "details": "12 rue de Rivoli" if kind != "online" else None,
        }
        r = ada.client.post("/api/v1/meeting-types", json=body, headers=headers)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    monday = next_monday()
    links = {}
    for hour, (kind, extra) in enumerate(
        [
            ("online", {"add_online_meeting": False}),
            ("custom", {"add_online_meeting": False}),
            ("in_person", {}),
            ("phone", {}),
            ("in_person", {"add_online_meeting": True}),
        ],
        start=9,
    ):
        booked = ada.book(at(monday, hour), new_type(kind, **extra))
        assert booked.status_code == 201, booked.text
        links[(kind, bool(extra.get("add_online_meeting")))] = booked.json()["online_meeting_url"]
    assert links[("online", False)] is not None and links[("custom", False)] is not None
    assert links[("in_person", False)] is None and links[("phone", False)] is None
    assert links[("in_person", True)] is not None
