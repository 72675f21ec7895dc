"""The gates requests wait at (web/admission.py): first come, first served, bounded waits,
and no place lost when a waiter gives up or is cancelled."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bookwithme.errors import Busy
from bookwithme.web.admission import Gate
from tests.support.aio import run


def test_places_pass_to_waiters_in_the_order_they_came() -> None:
    async def scenario() -> list[int]:
        gate = Gate(capacity=1)
        deadline = asyncio.get_running_loop().time() + 5
        order: list[int] = []

        async def visitor(n: int) -> None:
            async with gate.held(deadline):
                order.append(n)
                await asyncio.sleep(0.001)

        tasks = []
        for n in range(20):
            tasks.append(asyncio.create_task(visitor(n)))
            await asyncio.sleep(0)  # each arrives after the previous one
        await asyncio.gather(*tasks)
        assert gate.idle
        return order

    assert run(scenario()) == list(range(20))


def test_a_wait_past_the_deadline_is_busy_and_gives_its_place_back() -> None:
    async def scenario() -> None:
        gate = Gate(capacity=1)
        loop = asyncio.get_running_loop()
        await gate.acquire(loop.time() + 5)  # held by someone slow
        with pytest.raises(Busy) as refused:
            await gate.acquire(loop.time() + 0.05)
        assert refused.value.status_code == 503 and refused.value.retry_after
        assert gate.waiting == 0
        gate.release(0.01)
        assert gate.idle

    run(scenario())


def test_a_newcomer_who_would_surely_wait_too_long_is_told_at_once() -> None:
    async def scenario() -> None:
        gate = Gate(capacity=1)
        loop = asyncio.get_running_loop()
        await gate.acquire(loop.time() + 5)
        gate.release(2.0)  # each turn has been taking two seconds
        await gate.acquire(loop.time() + 5)
        waiters = [asyncio.create_task(gate.acquire(loop.time() + 5)) for _ in range(3)]
        await asyncio.sleep(0)
        began = loop.time()
        with pytest.raises(Busy):
            await gate.acquire(loop.time() + 5)  # four turns of 2 s ahead: past 5 s
        assert loop.time() - began < 0.5
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
        assert gate.waiting == 0

    run(scenario())


def test_a_cancelled_waiter_that_was_just_handed_the_place_passes_it_on() -> None:
    async def scenario() -> None:
        gate = Gate(capacity=1)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        await gate.acquire(deadline)
        first = asyncio.create_task(gate.acquire(deadline))
        second = asyncio.create_task(gate.acquire(deadline))
        await asyncio.sleep(0)
        gate.release(0.01)  # handed to ``first``, which is cancelled before it runs
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        await asyncio.wait_for(second, 1)  # the place went on to ``second``
        gate.release(0.01)
        assert gate.idle

    run(scenario())


def test_one_gate_serves_event_loops_in_several_threads() -> None:
    gate = Gate(capacity=1)
    inside = 0
    most = 0
    lock = threading.Lock()

    async def visit() -> None:
        nonlocal inside, most
        deadline = asyncio.get_running_loop().time() + 10
        for _ in range(50):
            async with gate.held(deadline):
                with lock:
                    inside += 1
                    most = max(most, inside)
                await asyncio.sleep(0)
                with lock:
                    inside -= 1

    threads = [threading.Thread(target=asyncio.run, args=(visit(),)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1 and gate.idle


def test_an_exhausted_connection_pool_answers_503_with_retry_after(
    settings, monkeypatch: pytest.MonkeyPatch, session_factory
) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from bookwithme import db
    from bookwithme.app import create_app
    from tests.factories import create_account

    account = create_account(session_factory)
    monkeypatch.setattr(db, "POOL_SIZE", 1)
    monkeypatch.setattr(db, "MAX_OVERFLOW", 0)
    monkeypatch.setattr(db, "POOL_TIMEOUT", 0.2)
    app = create_app(settings)
    with TestClient(app) as client:
        taken = app.state.engine.connect()  # the pool's only connection, held elsewhere
        try:
            answer = client.get("/api/v1/me", headers=account.headers)
        finally:
            taken.close()
        assert answer.status_code == 503
        assert answer.json()["error"]["code"] == "busy"
        assert int(answer.headers["retry-after"]) > 0
        assert client.get("/api/v1/me", headers=account.headers).json()["email"] == (
            "ada@example.com"
        )


def test_an_organizer_locked_by_another_server_past_lock_timeout_answers_503_and_writes_nothing(
    settings, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Another server holds the organizer's row lock (a long booking change there): this
    one waits at most ``lock_timeout``, then answers 503 with nothing half-written."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer; its busy timeout is the writer gate's concern")
    from fastapi.testclient import TestClient
    from sqlalchemy import func, select, text

    from bookwithme import db
    from bookwithme.app import create_app
    from bookwithme.models import Booking, OutboxMessage
    from tests.support import crowd

    organizer = crowd.prepare_organizer(database_url, "locked@example.com")
    monkeypatch.setattr(db, "LOCK_TIMEOUT_MS", 300)
    app = create_app(settings)
    body = {
        "start": organizer.starts()[0].isoformat(),
        "name": "Grace",
        "email": "grace@example.com",
        "time_zone": "UTC",
    }
    other_server = db.make_engine(database_url)
    try:
        with TestClient(app) as client:
            with other_server.begin() as conn:
                conn.execute(
                    text("SELECT id FROM users WHERE email = :email FOR UPDATE"),
                    {"email": organizer.email},
                )
                answer = client.post(organizer.bookings_path(), json=body)
            assert answer.status_code == 503, answer.text
            assert answer.json()["error"]["code"] == "busy"
            assert int(answer.headers["retry-after"]) > 0
            with other_server.connect() as conn:
                assert conn.scalar(select(func.count()).select_from(Booking)) == 0
                assert conn.scalar(select(func.count()).select_from(OutboxMessage)) == 0
            assert client.post(organizer.bookings_path(), json=body).status_code == 201
    finally:
        other_server.dispose()
