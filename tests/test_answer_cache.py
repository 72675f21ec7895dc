"""The exact answer cache: an answer is served again only while neither the database nor the
clock could change it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.cache import AnswerCache, CachedAnswer, SQLiteChangeWatcher
from bookwithme.db import make_engine
from bookwithme.models import MeetingType, Organization, PrivateLink, User
from bookwithme.scheduling.schedules import default_schedule
from bookwithme.scheduling.service import Bookable, valid_until
from bookwithme.scheduling.slots import Slot
from tests.factories import create_account
from tests.scheduling.test_public_slots import Organizer, count_queries, next_monday, paris

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def answer(version: tuple[int, int], until: datetime, body: bytes = b"{}") -> CachedAnswer:
    return CachedAnswer(version, until, 200, [(b"content-type", b"application/json")], body)


def test_answers_expire_with_the_version_and_the_clock(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    cache = AnswerCache(SQLiteChangeWatcher(str(tmp_path / "db.sqlite")), max_entries=2)
    v1 = cache.version()
    cache.put("a", answer(v1, NOW + timedelta(minutes=5), b"A"))
    assert cache.get("a", v1, NOW).body == b"A"  # type: ignore[union-attr]
    assert cache.get("a", v1, NOW + timedelta(minutes=5)) is None  # the clock moved past it

    cache.put("a", answer(v1, NOW + timedelta(minutes=5), b"A"))
    with engine.begin() as conn:  # any commit, from any other connection
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    v2 = cache.version()
    assert v2 != v1
    assert cache.get("a", v2, NOW) is None

    for key in ("a", "b", "c"):  # least recently used goes first
        cache.put(key, answer(v2, NOW + timedelta(minutes=5)))
    assert cache.get("a", v2, NOW) is None and cache.get("c", v2, NOW) is not None
    cache.close()
    engine.dispose()


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
    assert valid_until(bookable(), [], NOW, "Europe/Paris", five_min) == NOW + five_min
    # The first slot stops being offered once its minimum notice begins.
    first = Slot(NOW + timedelta(hours=2), NOW + timedelta(hours=2, minutes=30))
    later = Slot(NOW + timedelta(hours=3), NOW + timedelta(hours=3, minutes=30))
    until = valid_until(bookable(notice=119), [later, first], NOW, "UTC", timedelta(hours=9))
    assert until == first.start - timedelta(minutes=119) + timedelta(microseconds=1)
    # Midnight in the schedule's zone moves the horizon; midnight in the asked zone moves
    # the default dates.
    assert valid_until(bookable(), [], NOW, "UTC", timedelta(days=3)) == datetime(
        2026, 12, 1, 23, tzinfo=UTC
    )
    assert valid_until(bookable(), [], NOW, "Asia/Tokyo", timedelta(days=3)) == datetime(
        2026, 12, 1, 15, tzinfo=UTC
    )
    # A private link that expires.
    expiry = NOW + timedelta(minutes=1)
    assert valid_until(bookable(link_expiry=expiry), [], NOW, "UTC", five_min) == expiry


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Organizer:
    return Organizer(
        client, create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    )


def test_repeated_questions_are_answered_without_the_database_until_it_changes(
    ada: Organizer, app
) -> None:  # type: ignore[no-untyped-def]
    monday = next_monday()
    params = {"start": monday.isoformat(), "end": monday.isoformat()}
    url = f"/api/v1/public/pages/{ada.key}/meeting-types/{ada.t30}/slots"
    first = ada.client.get(url, params=params)
    assert "x-bookwithme-cache-until" not in first.headers
    engine = app.state.engine
    queries = count_queries(engine, lambda: ada.client.get(url, params=params))
    if app.state.answer_cache is not None:  # SQLite
        assert queries == 0
    else:  # PostgreSQL: no cheap change signal, every answer is computed
        assert queries > 0
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
