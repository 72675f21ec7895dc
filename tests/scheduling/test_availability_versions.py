"""The invitee's pages keep each organizer's busy time in memory under an availability
version (scheduling/versions.py). Every kind of change that can move free times must be
seen by the very next request, on both databases, whichever process made it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.calendars.base import SourceBusy
from bookwithme.calendars.sync import Outcome, store
from bookwithme.db import session_scope
from bookwithme.meeting_types import bookable
from bookwithme.models import CalendarConnection, User, utcnow
from bookwithme.scheduling import versions
from bookwithme.web.admission import NOT_READ, AsyncKeyReads
from tests.factories import create_account
from tests.scheduling.test_public_slots import Organizer, next_monday, paris

MONDAY = next_monday()
WEEK = {"start": MONDAY.isoformat(), "end": MONDAY.isoformat()}


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Organizer:
    account = create_account(
        session_factory, "ada@example.com", time_zone="Europe/Paris", is_admin=True
    )
    return Organizer(client, account)


@pytest.fixture
def key_reads(client: TestClient, database_url: str) -> AsyncKeyReads:
    """The app's awaited key reads: PostgreSQL only (SQLite reads on the event loop)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("only PostgreSQL's reads are awaited")
    found: AsyncKeyReads = client.app.state.admission.key_reads  # type: ignore[attr-defined]
    return found


def monday_at(ada: Organizer) -> list[str]:
    """Monday's offered local start times (HH:MM), warming the server's memory."""
    return [s[11:16] for s in ada.slots(**WEEK)]


def version(factory: sessionmaker[Session], ada: Organizer) -> int:
    with factory() as session:
        found = versions.version_of(session, ada.account.user.id)
    assert found is not None
    return found


def test_every_change_kind_is_seen_by_the_next_request(
    ada: Organizer, client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    headers = ada.account.headers
    assert monday_at(ada)[:3] == ["09:00", "09:30", "10:00"]

    # A booking takes its time...
    booked = client.post(
        f"/api/v1/public/pages/{ada.key}/meeting-types/{ada.t30}/bookings",
        json={
            "start": paris(MONDAY, 9).isoformat(),
            "name": "Bo",
            "email": "bo@example.com",
            "time_zone": "Europe/Paris",
        },
    )
    assert booked.status_code == 201, booked.text
    assert "09:00" not in monday_at(ada)
    # ...and cancelling it gives it back.
    cancelled = client.post(f"/api/v1/public/bookings/{booked.json()['manage_token']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert "09:00" in monday_at(ada)

    # A busy block.
    block = client.post(
        "/api/v1/me/busy",
        json={"start": paris(MONDAY, 10).isoformat(), "end": paris(MONDAY, 11).isoformat()},
        headers=headers,
    )
    assert block.status_code == 201, block.text
    assert {"10:00", "10:30"}.isdisjoint(monday_at(ada))
    assert (
        client.delete(f"/api/v1/me/busy/{block.json()['id']}", headers=headers).status_code == 204
    )
    assert {"10:00", "10:30"} <= set(monday_at(ada))

    # A calendar read bringing busy time (what the background sync stores).
    with session_scope(session_factory, write=True) as session:
        connection = CalendarConnection(
            user_id=ada.account.user.id,
            kind="ics",
            name="Work",
            url="https://calendar.example.com/work.ics",
            last_success_at=utcnow(),
        )
        session.add(connection)
    assert "11:00" in monday_at(ada)
    with session_scope(session_factory, write=True) as session:
        busy = SourceBusy(intervals=[(paris(MONDAY, 11), paris(MONDAY, 12))])
        assert store(session, connection.id, Outcome(result=busy), utcnow())
    assert {"11:00", "11:30"}.isdisjoint(monday_at(ada))
    # A read that only says "nothing changed" leaves the version (and memory) alone.
    before = version(session_factory, ada)
    with session_scope(session_factory, write=True) as session:
        assert store(session, connection.id, Outcome(result=SourceBusy(unchanged=True)), utcnow())
    assert version(session_factory, ada) == before

    # The schedule.
    hours = client.put(
        "/api/v1/me/availability",
        json={
            "time_zone": "Europe/Paris",
            "weekly": {"mon": [{"start": "14:00", "end": "15:00"}]},
        },
        headers=headers,
    )
    assert hours.status_code == 200, hours.text
    assert monday_at(ada) == ["14:00", "14:30"]

    # The meeting type.
    changed = client.patch(
        f"/api/v1/meeting-types/{ada.t30}", json={"duration_minutes": 60}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert monday_at(ada) == ["14:00"]

    # The organization's policy: personal bookings off for everyone.
    policy = client.patch("/api/v1/admin/org", json={"apps_enabled": False}, headers=headers)
    assert policy.status_code == 200, policy.text
    url = f"/api/v1/public/pages/{ada.key}/meeting-types/{ada.t30}/slots"
    assert client.get(url, params=WEEK).status_code == 404
    assert client.get(f"/p/{ada.key}/{ada.t30}").status_code == 404


def test_a_change_made_by_another_process_is_seen_by_the_next_request(
    ada: Organizer, database_url: str
) -> None:
    """Another process (a second server, the worker, the command line) adds a busy block
    straight through the services: this server's memory must not hide it."""
    assert "09:00" in monday_at(ada)
    start, end = paris(MONDAY, 9), paris(MONDAY, 10)
    script = textwrap.dedent(
        f"""
        from datetime import datetime
        from bookwithme.db import make_engine, make_session_factory, session_scope
        from bookwithme.models import BusyBlock
        import uuid
        engine = make_engine({database_url!r})
        with session_scope(make_session_factory(engine), write=True) as session:
            session.add(BusyBlock(
                user_id=uuid.UUID({str(ada.account.user.id)!r}),
                start_at=datetime.fromisoformat({start.isoformat()!r}),
                end_at=datetime.fromisoformat({end.isoformat()!r}),
            ))
        engine.dispose()
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert {"09:00", "09:30"}.isdisjoint(monday_at(ada))


def test_a_bulk_statement_that_says_nothing_raises_every_version(
    ada: Organizer, session_factory: sessionmaker[Session]
) -> None:
    """A bulk change of a watched table that does not say what it does to free times is
    taken as a change for everyone: coarse, never stale."""
    from sqlalchemy import update

    from bookwithme.models import MeetingType

    before = version(session_factory, ada)
    with session_scope(session_factory, write=True) as session:
        session.execute(update(MeetingType).values(duration_minutes=MeetingType.duration_minutes))
    assert version(session_factory, ada) == before + 1
    # One that says it leaves availability unchanged raises nothing.
    with session_scope(session_factory, write=True) as session:
        session.execute(
            update(CalendarConnection)
            .values(last_error=None)
            .execution_options(**versions.LEAVES_UNCHANGED)
        )
    assert version(session_factory, ada) == before + 1


def test_a_savepoint_rolled_back_takes_its_raise_with_it(
    ada: Organizer, session_factory: sessionmaker[Session]
) -> None:
    """After a savepoint that raised the version is rolled back, the next change in the
    same transaction raises it again."""
    before = version(session_factory, ada)
    with session_scope(session_factory, write=True) as session:
        user = session.scalar(select(User).where(User.id == ada.account.user.id))
        assert user is not None
        nested = session.begin_nested()
        user.time_zone = "Asia/Tokyo"
        session.flush()
        nested.rollback()
        user.name = "Ada L."
        session.flush()
    assert version(session_factory, ada) == before + 1


def test_lost_database_connections_are_made_again(
    ada: Organizer, client: TestClient, database_url: str
) -> None:
    """PostgreSQL: the connections the event loop keeps for invitees' reads (synchronous
    and asynchronous) are cut by the server; the next requests still answer, exactly,
    and a change made after that is still seen."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server to lose a connection to")
    page = f"/p/{ada.key}/{ada.t30}?tz=Europe/Paris&month={MONDAY:%Y-%m}&day={MONDAY}"
    assert "09:00" in monday_at(ada) and client.get(page).status_code == 200
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        cut = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    assert cut >= 2  # at least the loop's own and one asynchronous one
    for _ in range(3):
        assert monday_at(ada)[:2] == ["09:00", "09:30"]
        assert ">09:00<" in client.get(page).text
    client.post(
        "/api/v1/me/busy",
        json={"start": paris(MONDAY, 9).isoformat(), "end": paris(MONDAY, 10).isoformat()},
        headers=ada.account.headers,
    )
    assert {"09:00", "09:30"}.isdisjoint(monday_at(ada))


def test_key_reads_awaited_on_postgresql_answer_as_the_session_would(
    ada: Organizer, key_reads: AsyncKeyReads, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        expected = bookable.page_owner(session, ada.key)
    assert expected is not None

    async def read(key: str) -> object:
        return await key_reads.first(*bookable.page_owner_read(key))

    async def reads() -> list[object]:
        return [await read(ada.key), await read("no-such-page"), await read(ada.key)]

    found, missing, again = asyncio.run(reads())
    assert found == again == (expected.organizer_id, expected.version)
    assert missing is None


def test_visitors_share_awaited_reads_but_never_one_sent_before_they_came(
    ada: Organizer,
    client: TestClient,
    key_reads: AsyncKeyReads,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Visitors share the version reads (PostgreSQL, ``AsyncKeyReads``), at one page and
    across pages, yet a visitor who comes after a change was committed sees it, even while
    a read sent before the change is still on its way back."""
    bob = Organizer(client, create_account(session_factory, "bob@example.com"))
    user_id, bob_id = ada.account.user.id, bob.account.user.id
    before, bobs = version(session_factory, ada), version(session_factory, bob)
    sent: list[list[str]] = []  # the keys of each statement sent
    back = asyncio.Event()  # set when the first read's answer may come back
    real_read = type(key_reads)._read_values

    async def slow_read(self, reads, read, values):  # type: ignore[no-untyped-def]
        found: list[object] = await real_read(self, reads, read, values)
        sent.append(values)
        if len(sent) == 1:
            await back.wait()  # the first answer is slow to come back
        return found

    monkeypatch.setattr(type(key_reads), "_read_values", slow_read)

    async def crowd() -> tuple[object, list[object], object]:
        def visit(key: str) -> asyncio.Future[object]:
            return asyncio.ensure_future(key_reads.first(*bookable.page_owner_read(key)))

        first = visit(ada.key)
        while not sent:  # the first visitor's read has been answered by the database
            await asyncio.sleep(0.001)
        with session_scope(session_factory, write=True) as session:
            versions.raise_version(session, [user_id])
        later = [visit(key) for key in [ada.key] * 10 + [bob.key] * 10 + ["no-such-page"] * 3]
        await asyncio.sleep(0.01)
        back.set()
        found = await first
        answers = await asyncio.gather(*later)
        # Once everybody is answered, the next visitor reads on their own again.
        alone = await visit(ada.key)
        return found, answers, alone

    found, answers, alone = asyncio.run(crowd())
    assert found == (user_id, before)  # read before the change, and answered as such
    # Everyone who came after sees the change, and each their own organizer.
    assert answers == [(user_id, before + 1)] * 10 + [(bob_id, bobs)] * 10 + [None] * 3
    assert alone == (user_id, before + 1)
    # The first read, one statement for the 23 who came after (each key once), one alone.
    assert sent == [[ada.key], [ada.key, bob.key, "no-such-page"], [ada.key]]


def test_a_batch_of_reads_takes_any_text_as_a_key(
    ada: Organizer, key_reads: AsyncKeyReads, session_factory: sessionmaker[Session]
) -> None:
    """Keys come from addresses people type: quotes, backslashes, commas and braces are
    keys like any other in the batch's text array, and only the real one is found."""
    read, _ = bookable.page_owner_read(ada.key)
    odd = ['a"b', "c\\d", "{x,y}", "e f", "NULL", "", "\\", '"', "é"]

    async def batch() -> list[object]:
        reads = key_reads._reads()
        found: list[object] = await key_reads._read_values(reads, read, [*odd, ada.key])
        return found

    found = asyncio.run(batch())
    assert found == [None] * len(odd) + [(ada.account.user.id, version(session_factory, ada))]

    async def with_nul() -> object:
        return await key_reads.first(read, {"key": "a\x00b"})

    assert asyncio.run(with_nul()) is NOT_READ  # read the usual way, which refuses it


def test_visitors_waiting_for_a_batch_that_fails_read_the_usual_way(
    ada: Organizer,
    key_reads: AsyncKeyReads,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A shared read that fails unexpectedly answers ``NOT_READ`` to everyone waiting for
    it (they read synchronously, which reports errors), and the next visitors share
    reads again: nobody is left waiting."""
    owner = (ada.account.user.id, version(session_factory, ada))
    real = type(key_reads)._read_batch
    batches = []
    hold = asyncio.Event()

    async def flaky(self, reads, keys):  # type: ignore[no-untyped-def]
        batches.append(keys)
        if len(batches) == 1:
            await hold.wait()
        if len(batches) == 2:
            raise RuntimeError("something nobody planned for")
        return await real(self, reads, keys)

    monkeypatch.setattr(type(key_reads), "_read_batch", flaky)

    async def visits() -> tuple[object, list[object], object]:
        def visit() -> asyncio.Future[object]:
            return asyncio.ensure_future(key_reads.first(*bookable.page_owner_read(ada.key)))

        first = visit()
        await asyncio.sleep(0.01)
        later = [visit() for _ in range(5)]
        await asyncio.sleep(0.01)
        hold.set()
        return await first, await asyncio.gather(*later), await visit()

    found, later, after = asyncio.run(visits())
    assert found == owner
    assert later == [NOT_READ] * 5
    assert after == owner
    assert len(batches) == 3
