"""A crowd of invitees against real ``bookwithme serve`` processes.

Used by the crowd tests (``tests/bookings/test_crowd.py``) and by ``make bench``: an
organizer whose one free morning offers 16 overlapping starts (a 30-minute type on a
15-minute step), and many invitees posting bookings at once over real HTTP.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from bookwithme.accounts import service as accounts
from bookwithme.db import make_engine, make_session_factory, session_scope
from bookwithme.meeting_types import service as meeting_types
from bookwithme.meeting_types.schemas import MeetingTypeCreate
from bookwithme.models import utcnow
from tests.support import aio

ROOT = Path(__file__).resolve().parents[2]
CANDIDATE_STARTS = 16


@dataclass
class Organizer:
    email: str
    key: str
    type_id: str
    day: date
    token: str
    step: int = 15
    count: int = CANDIDATE_STARTS

    def starts(self) -> list[datetime]:
        first = datetime(self.day.year, self.day.month, self.day.day, 9, tzinfo=UTC)
        return [first + timedelta(minutes=self.step * k) for k in range(self.count)]

    def bookings_path(self) -> str:
        return f"/api/v1/public/pages/{self.key}/meeting-types/{self.type_id}/bookings"


def prepare_organizer(
    database_url: str,
    email: str,
    *,
    duration: int = 30,
    step: int = 15,
    until: str = "13:15",
) -> Organizer:
    """A published organizer with one type bookable on one day from 09:00 UTC to ``until``:
    by default 30 minutes every 15 minutes, 16 candidate starts, each overlapping its
    neighbours."""
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    day = (utcnow() + timedelta(days=3)).date()
    hours = {
        d: [{"start": "09:00", "end": until}]
        for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    }
    try:
        with session_scope(factory, write=True) as session:
            org = accounts.get_or_create_organization(session, "Crowd")
            user = accounts.create_user(
                session, org, email=email, name="Popular Organizer", time_zone="UTC"
            )
            mt = meeting_types.create_type(
                session,
                user,
                MeetingTypeCreate.model_validate(
                    {
                        "title": "Office hours",
                        "duration_minutes": duration,
                        "slot_interval_minutes": step,
                        "availability": {
                            "time_zone": "UTC",
                            "weekly": hours,
                            "date_range": {"start": day.isoformat(), "end": day.isoformat()},
                        },
                    }
                ),
            )
            page = meeting_types.get_page(session, user)
            meeting_types.publish(session, user, page, False, utcnow())
            _, token = accounts.create_api_token(session, user, "crowd")
            h, m = (int(x) for x in until.split(":"))
            starts = ((h - 9) * 60 + m - duration) // step + 1
            return Organizer(email, page.key, str(mt.id), day, token, step, starts)
    finally:
        engine.dispose()


@dataclass
class Server:
    """One ``bookwithme serve`` (or ``bookwithme worker``) process."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def environment(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "BOOKWITHME_DATABASE_URL": database_url,
        "BOOKWITHME_DATA_DIR": str(data_dir),
        "BOOKWITHME_SECRET_KEY": "crowd-secret-key-" + "x" * 32,
        # The crowd is 150 different invitees, but all of them post from 127.0.0.1: the
        # limits per address (bookings/limits.py) would take them for one machine.
        "BOOKWITHME_PUBLIC_WRITE_LIMITS": "false",
    }
    env.update({f"BOOKWITHME_{k.upper()}": v for k, v in extra.items()})
    return env


def start_serve(env: dict[str, str], port: int, log: Path, *options: str) -> Server:
    handle = log.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "bookwithme", "serve", "--port", str(port), *options],
        env=env,
        cwd=ROOT,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve stopped at start: {log.read_text()[-2000:]}")
        try:
            if httpx.get(server.base_url + "/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"serve did not answer within 60 s: {log.read_text()[-2000:]}")


def start_worker(env: dict[str, str], log: Path) -> Server:
    handle = log.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "bookwithme", "worker"],
        env=env,
        cwd=ROOT,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    return Server(process, "", log)


@dataclass
class Answer:
    status: int  # 0: no answer (connection error or client time-out)
    seconds: float
    start: str
    body: dict[str, object] = field(default_factory=dict)
    retry_after: str | None = None


@dataclass
class CrowdResult:
    answers: list[Answer]
    seconds: float

    @property
    def codes(self) -> Counter[int]:
        return Counter(a.status for a in self.answers)

    @property
    def slowest(self) -> float:
        return max(a.seconds for a in self.answers)

    @property
    def created(self) -> list[Answer]:
        return [a for a in self.answers if a.status == 201]

    def summary(self) -> str:
        codes = ", ".join(f"{n}x{code or 'no answer'}" for code, n in sorted(self.codes.items()))
        return (
            f"{len(self.answers)} bookings in {self.seconds:.1f} s: {codes}; "
            f"slowest answer {self.slowest:.2f} s"
        )


async def _crowd(
    base_urls: list[str],
    organizer: Organizer,
    invitees: int,
    timeout: float,
    seed: int,
    distinct: bool,
    on_answer: Callable[[int], None] | None,
    path: str,
) -> CrowdResult:
    rng = random.Random(seed)
    starts = organizer.starts()
    if distinct:
        assert invitees <= len(starts)
        rng.shuffle(starts)
    answered = 0
    limits = httpx.Limits(max_connections=invitees, max_keepalive_connections=0)
    gate = asyncio.Event()

    async def one(client: httpx.AsyncClient, n: int) -> Answer:
        nonlocal answered
        answer = await attempt(client, n)
        answered += 1
        if on_answer is not None:
            on_answer(answered)
        return answer

    async def attempt(client: httpx.AsyncClient, n: int) -> Answer:
        chosen = starts[n] if distinct else rng.choice(starts)
        start = chosen.isoformat().replace("+00:00", "Z")
        body = {
            "start": start,
            "name": f"Invitee {n}",
            "email": f"invitee{n}@example.com",
            "time_zone": rng.choice(["Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC"]),
        }
        url = base_urls[n % len(base_urls)] + path
        await gate.wait()
        t0 = time.perf_counter()
        try:
            response = await client.post(url, json=body)
        except httpx.HTTPError:
            return Answer(0, time.perf_counter() - t0, start)
        try:
            payload = response.json()
        except ValueError:
            payload = {"raw": response.text[:200]}
        return Answer(
            response.status_code,
            time.perf_counter() - t0,
            start,
            payload,
            response.headers.get("retry-after"),
        )

    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        tasks = [asyncio.create_task(one(client, n)) for n in range(invitees)]
        await asyncio.sleep(0.2)  # every request ready, then all at once
        t0 = time.perf_counter()
        gate.set()
        answers = await asyncio.gather(*tasks)
    return CrowdResult(list(answers), time.perf_counter() - t0)


def crowd(
    base_urls: list[str],
    organizer: Organizer,
    invitees: int = 150,
    timeout: float = 60.0,
    seed: int = 1,
    *,
    distinct: bool = False,
    on_answer: Callable[[int], None] | None = None,
    path: str | None = None,
) -> CrowdResult:
    """``invitees`` booking POSTs at once, spread over ``base_urls``, each at one of the
    organizer's candidate starts (at random, or each a different one with ``distinct``);
    ``on_answer(n)`` is called as the n-th answer arrives; ``path`` replaces the booking
    address (the benchmark's bare endpoint)."""
    path = path or organizer.bookings_path()
    return aio.run(_crowd(base_urls, organizer, invitees, timeout, seed, distinct, on_answer, path))


class Inbox:
    """A real SMTP server (aiosmtpd) that keeps the Message-ID and recipient of every
    message it accepts. ``before_accepting(n)`` runs as the n-th message arrives, before
    it is accepted; if it returns False the message is refused (451) and not kept."""

    def __init__(self, before_accepting: Callable[[int], bool] | None = None) -> None:
        self.accepted: list[tuple[str, str, str]] = []  # (Message-ID, To, Subject)
        self.before_accepting = before_accepting
        self.arrivals = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.arrivals += 1
            arrival = self.arrivals
        if self.before_accepting is not None and not self.before_accepting(arrival):
            return "451 Requested action aborted"
        with self._lock:
            self.accepted.append((message["Message-ID"], message["To"], message["Subject"]))
        return "250 Message accepted for delivery"

    def message_ids(self) -> Counter[str]:
        with self._lock:
            return Counter(m for m, _, _ in self.accepted)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
