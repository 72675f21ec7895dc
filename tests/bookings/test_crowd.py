"""A crowd at once, and faults, against real processes: ``bookwithme serve`` (one process on
SQLite, two on PostgreSQL), ``bookwithme worker``, real HTTP and a real SMTP server.

A popular organizer's link shared with a class: 150 invitees post bookings in the same
instant at 16 overlapping starts. Every one of them gets an answer within 15 seconds, and
only one a person can act on (201 booked, 409 taken, 429 or 503 try again); the server
keeps answering; no two confirmed bookings overlap; every booking made has its row and
exactly one pair of emails. Then the faults: parallel cancels of one booking have one
effect, and ``kill -9`` of a server mid-burst and of the worker mid-delivery loses no
acknowledged booking and sends no email twice.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from bookwithme.db import make_engine
from bookwithme.models import Booking, Job, OutboxMessage, User, utcnow
from tests.support import aio, crowd
from tests.support.crowd import Inbox, Organizer, Server, free_port

ANSWER_WITHIN = 15.0  # seconds: the client gives up after this, and that fails the test
PERSON_ANSWERS = {201, 409, 429, 503}


@dataclass
class Deployment:
    database_url: str
    data_dir: Path
    inbox: Inbox
    smtp_port: int
    embedded_worker: bool
    servers: list[Server] = field(default_factory=list)
    worker: Server | None = None
    ports: list[int] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return crowd.environment(
            self.database_url,
            self.data_dir,
            smtp_url=f"smtp://127.0.0.1:{self.smtp_port}",
            embedded_worker="true" if self.embedded_worker else "false",
        )

    def start_servers(self, count: int) -> None:
        for n in range(count):
            self.ports.append(free_port())
            self.start_server(n)

    def start_server(self, n: int) -> None:
        server = crowd.start_serve(self.env(), self.ports[n], self.data_dir / f"serve{n}.log")
        if n < len(self.servers):
            self.servers[n] = server
        else:
            self.servers.append(server)

    def start_worker(self) -> None:
        self.worker = crowd.start_worker(self.env(), self.data_dir / "worker.log")

    @property
    def urls(self) -> list[str]:
        return [s.base_url for s in self.servers]

    def logs(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text()[-3000:]}" for log in self.data_dir.glob("*.log")
        )


@pytest.fixture
def deployment(
    request: pytest.FixtureRequest, make_database, tmp_path: Path
) -> Iterator[Deployment]:  # type: ignore[no-untyped-def]
    """An empty, migrated database of the test's backend and an SMTP server; the test
    starts the processes it needs. Everything is stopped afterwards."""
    backend = request.param
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    deployed = Deployment(
        database_url=make_database(backend),
        data_dir=tmp_path,
        inbox=inbox,
        smtp_port=port,
        embedded_worker=backend == "sqlite",
    )
    try:
        yield deployed
    finally:
        for server in [*deployed.servers, *([deployed.worker] if deployed.worker else [])]:
            server.stop()
        controller.stop()


BOTH = pytest.mark.parametrize("deployment", ["sqlite", "postgresql"], indirect=True)


def deploy(deployment: Deployment) -> None:
    """SQLite: one ``serve`` with its embedded worker. PostgreSQL: two ``serve`` processes
    and a separate ``bookwithme worker``."""
    if deployment.embedded_worker:
        deployment.start_servers(1)
    else:
        deployment.start_servers(2)
        deployment.start_worker()


def confirmed(engine: Engine, organizer: Organizer) -> list[Booking]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(Booking)
                .join(User, User.id == Booking.user_id)
                .where(Booking.status == "confirmed", User.email == organizer.email)
                .order_by(Booking.blocked_start_at)
            )
        )


def assert_no_overlap(bookings: list[Booking]) -> None:
    for earlier, later in itertools.pairwise(bookings):
        assert earlier.blocked_end_at <= later.blocked_start_at, (earlier.id, later.id)


def wait_until_delivered(engine: Engine, deployment: Deployment, limit: float) -> list[str]:
    """The Message-IDs of the outbox once every message in it is sent."""
    deadline = time.monotonic() + limit
    while True:
        with Session(engine) as session:
            rows = session.execute(select(OutboxMessage.status, OutboxMessage.message_id)).all()
        if rows and all(status == "sent" for status, _ in rows):
            return [message_id for _, message_id in rows]
        if time.monotonic() > deadline:
            pending = Counter(status for status, _ in rows)
            raise AssertionError(f"outbox not delivered: {pending}\n{deployment.logs()}")
        time.sleep(0.25)


def emails_by_booking(engine: Engine) -> dict[str, Counter[str]]:
    with Session(engine) as session:
        rows = session.execute(select(OutboxMessage.booking_id, OutboxMessage.kind)).all()
    found: dict[str, Counter[str]] = {}
    for booking_id, kind in rows:
        found.setdefault(str(booking_id), Counter())[kind] += 1
    return found


@BOTH
def test_a_crowd_of_150_at_one_organizer_gets_prompt_answers_and_nothing_doubled(
    deployment: Deployment,
) -> None:
    popular = crowd.prepare_organizer(deployment.database_url, "popular@example.com")
    other = crowd.prepare_organizer(deployment.database_url, "other@example.com")
    deploy(deployment)

    # While the crowd is at the popular organizer, another organizer's invitee opens the
    # page and books: neither waits behind the crowd nor is refused.
    meanwhile: dict[str, int] = {}

    def someone_else() -> None:
        time.sleep(0.3)
        with httpx.Client(timeout=ANSWER_WITHIN) as client:
            page = client.get(deployment.urls[-1] + f"/p/{other.key}")
            meanwhile["page"] = page.status_code
            booked = client.post(
                deployment.urls[-1] + other.bookings_path(),
                json={
                    "start": other.starts()[0].isoformat(),
                    "name": "Someone Else",
                    "email": "someone@example.com",
                    "time_zone": "UTC",
                },
            )
            meanwhile["booking"] = booked.status_code

    elsewhere = threading.Thread(target=someone_else)
    elsewhere.start()
    result = crowd.crowd(deployment.urls, popular, invitees=150, timeout=ANSWER_WITHIN)
    elsewhere.join()
    assert meanwhile == {"page": 200, "booking": 201}

    assert set(result.codes) <= PERSON_ANSWERS, result.summary() + "\n" + deployment.logs()
    assert result.created, result.summary()
    for answer in result.answers:
        if answer.status == 503:
            assert answer.retry_after is not None and int(answer.retry_after) > 0
        if answer.status == 409:
            assert answer.body["error"]["code"] == "slot_unavailable"  # type: ignore[index]

    # Right after, every server answers a plain GET, the popular page included.
    with httpx.Client(timeout=5) as client:
        for base in deployment.urls:
            assert client.get(base + "/healthz").json() == {"status": "ok"}
            page = client.get(base + f"/p/{popular.key}", headers={"accept": "text/html"})
            assert page.status_code == 200 and "Office hours" in page.text

    engine = make_engine(deployment.database_url)
    try:
        rows = confirmed(engine, popular)
        assert_no_overlap(rows)
        assert {str(r.id) for r in rows} == {a.body["id"] for a in result.created}
        message_ids = wait_until_delivered(engine, deployment, limit=60)
        # One pair of emails per booking made, each handed to the SMTP server once.
        assert deployment.inbox.message_ids() == Counter(message_ids)
        per_booking = emails_by_booking(engine)
        for answer in result.created:
            assert per_booking[str(answer.body["id"])] == Counter(
                {"booking_created_invitee": 1, "booking_created_organizer": 1}
            )
    finally:
        engine.dispose()


async def _ten(
    deployment: Deployment, path: str, body: Callable[[int], dict[str, str]]
) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=ANSWER_WITHIN) as client:
        return await asyncio.gather(
            *(
                client.post(deployment.urls[n % len(deployment.urls)] + path, json=body(n))
                for n in range(10)
            )
        )


def ten_at_once(
    deployment: Deployment, path: str, body: Callable[[int], dict[str, str]]
) -> list[httpx.Response]:
    """Ten POSTs to one address at once, spread over the servers; ``body(n)`` is the n-th."""
    return aio.run(_ten(deployment, path, body))


def book_one(deployment: Deployment, organizer: Organizer) -> dict[str, Any]:
    made = httpx.post(
        deployment.urls[0] + organizer.bookings_path(),
        json={
            "start": organizer.starts()[3].isoformat(),
            "name": "Ada",
            "email": "ada@example.com",
            "time_zone": "Europe/Paris",
        },
        timeout=10,
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def the_one_change(deployment: Deployment, booking_id: str, change: str) -> Booking:
    """The booking after one change (one sequence bump), once its emails went out: one pair
    for its creation and one for the change, each handed to the SMTP server once."""
    engine = make_engine(deployment.database_url)
    try:
        with Session(engine) as session:
            booking = session.scalars(select(Booking)).one()
        assert booking.sequence == 1
        message_ids = wait_until_delivered(engine, deployment, limit=60)
        assert emails_by_booking(engine)[booking_id] == Counter(
            {
                "booking_created_invitee": 1,
                "booking_created_organizer": 1,
                f"booking_{change}_invitee": 1,
                f"booking_{change}_organizer": 1,
            }
        )
        assert deployment.inbox.message_ids() == Counter(message_ids)
        return booking
    finally:
        engine.dispose()


@BOTH
def test_ten_reschedules_of_one_booking_to_one_time_at_once_have_one_effect(
    deployment: Deployment,
) -> None:
    organizer = crowd.prepare_organizer(deployment.database_url, "popular@example.com")
    deploy(deployment)
    made = book_one(deployment, organizer)
    new_start = organizer.starts()[10]
    path = f"/api/v1/public/bookings/{made['manage_token']}/reschedule"
    answers = ten_at_once(deployment, path, lambda _: {"start": new_start.isoformat()})
    assert {a.status_code for a in answers} == {200}, [a.text for a in answers]
    assert {a.json()["start"] for a in answers} == {new_start.isoformat().replace("+00:00", "Z")}

    booking = the_one_change(deployment, made["id"], "rescheduled")
    assert booking.start_at == new_start


@BOTH
def test_ten_cancels_of_one_booking_at_once_have_one_effect(deployment: Deployment) -> None:
    organizer = crowd.prepare_organizer(deployment.database_url, "popular@example.com")
    deploy(deployment)
    made = book_one(deployment, organizer)
    token = made["manage_token"]

    answers = ten_at_once(
        deployment,
        f"/api/v1/public/bookings/{token}/cancel",
        lambda n: {"reason": f"attempt {n}"},
    )
    assert {a.status_code for a in answers} == {200}
    assert {a.json()["status"] for a in answers} == {"cancelled"}
    # Exactly one of them took effect: every answer shows that one's reason.
    assert len({a.json()["cancel_reason"] for a in answers}) == 1

    booking = the_one_change(deployment, made["id"], "cancelled")
    assert booking.status == "cancelled"


@pytest.mark.parametrize("deployment", ["sqlite", "postgresql"], indirect=True)
def test_kill_9_of_a_server_mid_burst_and_of_the_worker_mid_delivery_loses_and_doubles_nothing(
    deployment: Deployment,
) -> None:
    # A type with 144 distinct five-minute starts, so most of a burst of 120 is booked.
    organizer = crowd.prepare_organizer(
        deployment.database_url, "popular@example.com", duration=5, step=5, until="21:00"
    )
    deployment.embedded_worker = False  # the worker runs apart, so each can be killed alone
    deployment.start_servers(1 if deployment.database_url.startswith("sqlite") else 2)

    def kill_mid_burst(answered: int) -> None:
        if answered == 30:
            deployment.servers[0].kill()

    result = crowd.crowd(
        deployment.urls, organizer, invitees=120, distinct=True, on_answer=kill_mid_burst
    )
    assert set(result.codes) <= PERSON_ANSWERS | {0}, result.summary()
    assert len(result.created) >= 30, result.summary()
    deployment.start_server(0)  # back after the crash, on the same database
    assert httpx.get(deployment.urls[0] + "/healthz", timeout=5).status_code == 200

    engine = make_engine(deployment.database_url)
    try:
        rows = confirmed(engine, organizer)
        assert_no_overlap(rows)
        # Every acknowledged booking is there (a booking whose answer was lost with the
        # server may be there too: it was committed before the crash).
        stored = {str(r.id) for r in rows}
        assert {a.body["id"] for a in result.created} <= stored

        # The worker dies as the SMTP server receives its seventh message, before the
        # server accepts it; a new worker sends what was not accepted, and only that.
        def kill_the_worker(arrival: int) -> bool:
            if arrival == 7:
                assert deployment.worker is not None
                deployment.worker.kill()
                return False
            return True

        deployment.inbox.before_accepting = kill_the_worker
        deployment.start_worker()
        deadline = time.monotonic() + 30
        while deployment.worker is not None and deployment.worker.process.poll() is None:
            assert time.monotonic() < deadline, deployment.logs()
            time.sleep(0.1)
        accepted_before_restart = sum(deployment.inbox.message_ids().values())
        assert accepted_before_restart == 6
        # The dead worker's jobs are taken over when their leases run out, a minute on;
        # the test lets them run out now rather than wait.
        with Session(engine) as session, session.begin():
            running = session.execute(
                update(Job)
                .where(Job.status == "running")
                .values(locked_until=utcnow() - timedelta(seconds=1))
            )
            assert running.rowcount >= 1  # the worker did die holding its batch
        deployment.start_worker()
        message_ids = wait_until_delivered(engine, deployment, limit=150)
        assert len(message_ids) == 2 * len(stored)
        received = deployment.inbox.message_ids()
        assert received == Counter(message_ids), [m for m, n in received.items() if n > 1]
        per_booking = emails_by_booking(engine)
        assert all(
            per_booking[str(r.id)]
            == Counter({"booking_created_invitee": 1, "booking_created_organizer": 1})
            for r in rows
        )
    finally:
        engine.dispose()
