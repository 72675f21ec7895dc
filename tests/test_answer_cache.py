"""The exact answer cache: an answer is served again only while neither its organizer's data
nor the clock could change it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.meeting_types.bookable import Bookable
from bookwithme.models import MeetingType, Organization, PrivateLink, User
from bookwithme.scheduling.schedules import default_schedule
from bookwithme.web.answer_cache import AnswerCache, CachedAnswer, valid_until
from tests.factories import create_account
from tests.scheduling.test_public_slots import Organizer, count_queries, next_monday, paris

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


ORGANIZER = uuid.uuid4()


def answer(version: int, until: datetime, body: bytes = b"{}") -> CachedAnswer:
    headers = [(b"content-type", b"application/json")]
    return CachedAnswer(ORGANIZER, version, until, 200, headers, body)


def test_answers_expire_with_the_clock_and_make_room() -> None:
    cache = AnswerCache(max_entries=2)
    cache.put("a", answer(1, NOW + timedelta(minutes=5), b"A"))
    assert cache.get("a", NOW).body == b"A"  # type: ignore[union-attr]
    assert cache.get("a", NOW + timedelta(minutes=5)) is None  # the clock moved past it
    assert cache.get("a", NOW) is None  # and it is gone

    for key in ("a", "b", "c"):  # least recently used goes first
        cache.put(key, answer(1, NOW + timedelta(minutes=5)))
    assert cache.get("a", NOW) is None and cache.get("c", NOW) is not None
    # Discarding an outdated answer leaves a newer one put meanwhile alone.
    old = cache.get("c", NOW)
    assert old is not None
    cache.put("c", answer(2, NOW + timedelta(minutes=5), b"new"))
    cache.discard("c", old)
    assert cache.get("c", NOW).body == b"new"  # type: ignore[union-attr]


def bookable(
    notice: int = 0, link_expiry: datetime | None = None, zone: str = "Europe/Paris"
) -> Bookable:
    link = PrivateLink(expires_at=link_expiry) if link_expiry else None
    return Bookable(
        meeting_type=MeetingType(minimum_notice_minutes=notice, duration_minutes=30),
        organizer=User(time_zone=zone),
        organization=Organization(),
        schedule=default_schedule(zone),
        link=link,
    )


def test_valid_until_is_the_first_instant_time_alone_changes_the_answer() -> None:
    five_min = timedelta(minutes=5)
    # Nothing offered, nothing time-bound: the cap.
    assert valid_until(bookable(), None, NOW, "Europe/Paris", five_min) == NOW + five_min
    # The first slot stops being offered once its minimum notice begins.
    first = NOW + timedelta(hours=2)
    until = valid_until(bookable(notice=119), first, NOW, "UTC", timedelta(hours=9))
    assert until == first - timedelta(minutes=119) + timedelta(microseconds=1)
    # Midnight in the schedule's zone moves the horizon; midnight in the asked zone moves
    # the default dates.
    assert valid_until(bookable(), None, NOW, "UTC", timedelta(days=3)) == datetime(
        2026, 12, 1, 23, tzinfo=UTC
    )
    assert valid_until(bookable(), None, NOW, "Asia/Tokyo", timedelta(days=3)) == datetime(
        2026, 12, 1, 15, tzinfo=UTC
    )
    # A private link that expires.
    expiry = NOW + timedelta(minutes=1)
    assert valid_until(bookable(link_expiry=expiry), None, NOW, "UTC", five_min) == expiry


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Organizer:
    return Organizer(
        client, create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    )


def test_repeated_questions_cost_one_row_until_the_organizer_changes_something(
    ada: Organizer, app
) -> None:  # type: ignore[no-untyped-def]
    monday = next_monday()
    params = {"start": monday.isoformat(), "end": monday.isoformat()}
    url = f"/api/v1/public/pages/{ada.key}/meeting-types/{ada.t30}/slots"
    first = ada.client.get(url, params=params)
    assert "x-bookwithme-cache" not in first.headers  # the private marker never leaves
    engine = app.state.engine
    # On both databases: the organizer's version, one row, and nothing else.
    queries = count_queries(engine, lambda: ada.client.get(url, params=params))
    assert queries == 1
    again = ada.client.get(url, params=params)
    assert again.json() == first.json() and again.headers["content-type"] == "application/json"

    # Any change is seen by the very next request.
    ada.client.post(
        "/api/v1/me/busy",
        json={"start": paris(monday, 9).isoformat(), "end": paris(monday, 10).isoformat()},
        headers=ada.account.headers,
    )
    changed = ada.client.get(url, params=params).json()["slots"]
    assert len(changed) == len(first.json()["slots"]) - 2
    ada.client.post("/api/v1/page/unpublish", headers=ada.account.headers)
    assert ada.client.get(url, params=params).status_code == 404
