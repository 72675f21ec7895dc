"""Benchmark (c): bookings per second, one client at a time and 32 at once, and the time from
a booking to its email being handed to the SMTP server. A real ``bookwithme serve`` (one
uvicorn worker, embedded delivery worker) on SQLite, and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller

from bookwithme import migrate
from bookwithme.accounts import service as accounts
from bookwithme.config import Settings
from bookwithme.db import make_engine, make_session_factory, session_scope
from bookwithme.meeting_types import service as meeting_types
from bookwithme.meeting_types.schemas import MeetingTypeCreate
from bookwithme.models import utcnow
from tests.benchmarks.bench_http import ROOT
from tests.support.crowd import free_port

SEQUENTIAL = 200
CONCURRENT = 32
CONCURRENT_TOTAL = 640
PACED = 50


class Arrivals:
    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        now = time.perf_counter()
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.at.setdefault(rcpt, now)
        return "250 OK"


def prepare(data_dir: Path) -> tuple[str, str]:
    settings = Settings(data_dir=data_dir)
    migrate.upgrade(settings.resolved_database_url, configure_logging=False)
    factory = make_session_factory(make_engine(settings.resolved_database_url))
    with session_scope(factory) as session:
        org = accounts.get_or_create_organization(session, "Bench")
        user = accounts.create_user(
            session, org, email="bench@example.com", name="Bench", time_zone="UTC"
        )
        mt = meeting_types.create_type(
            session,
            user,
            MeetingTypeCreate.model_validate(
                {
                    "title": "Five minutes",
                    "duration_minutes": 5,
                    "max_advance_days": 730,
                    "availability": {
                        "time_zone": "UTC",
                        "weekly": {
                            d: [{"start": "00:00", "end": "24:00"}]
                            for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
                        },
                    },
                }
            ),
        )
        page = meeting_types.get_page(session, user)
        meeting_types.publish(session, user, page, False, utcnow())
        return page.key, str(mt.id)


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bookwithme-bench-"))
    key, type_id = prepare(data_dir)
    arrivals = Arrivals()
    smtp_port = free_port()
    controller = Controller(arrivals, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    port = free_port()
    env = {
        **os.environ,
        "BOOKWITHME_DATA_DIR": str(data_dir),
        "BOOKWITHME_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "BOOKWITHME_EMBEDDED_WORKER": "true",
        # Hundreds of different invitees, all posting from 127.0.0.1: the limits per
        # address (bookings/limits.py) would take them for one machine.
        "BOOKWITHME_PUBLIC_WRITE_LIMITS": "false",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bookwithme.app:create_app",
            "--factory",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    url = f"{base}/api/v1/public/pages/{key}/meeting-types/{type_id}/bookings"
    first = (utcnow() + timedelta(days=2)).replace(
        hour=0, minute=0, second=0, microsecond=0, tzinfo=UTC
    )
    starts = iter(first + timedelta(minutes=5 * i) for i in range(100_000))
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/healthz", timeout=0.5)
                break
            except httpx.HTTPError:
                time.sleep(0.1)

        def book(client: httpx.Client, n: int, start: datetime) -> float:
            body = {
                "start": start.isoformat(),
                "name": f"Invitee {n}",
                "email": f"i{n}@example.com",
                "time_zone": "UTC",
            }
            response = client.post(url, json=body, timeout=60)
            assert response.status_code == 201, response.text
            return time.perf_counter()

        print(
            "(c) bookings: bookwithme serve, one uvicorn worker, SQLite, embedded delivery to aiosmtpd"
        )
        booked_at: dict[str, float] = {}
        with httpx.Client() as client:
            t0 = time.perf_counter()
            for n in range(SEQUENTIAL):
                booked_at[f"i{n}@example.com"] = book(client, n, next(starts))
            sequential = SEQUENTIAL / (time.perf_counter() - t0)
        print(f"  sequential: {sequential:7.1f} bookings/s ({SEQUENTIAL} bookings, one client)")
        # The paced run below measures latency at a steady pace, not the flat-out run's
        # backlog: wait until every email of the flat-out run has reached SMTP.
        drained = time.perf_counter()
        while not all(a in arrivals.at for a in booked_at):
            time.sleep(0.01)
        print(
            f"  the flat-out run's emails all reached SMTP {time.perf_counter() - drained:.1f} s after it ended"
        )

        # A realistic pace: ten bookings a second, each timed until its email reaches SMTP.
        paced: dict[str, float] = {}
        with httpx.Client() as client:
            for n in range(PACED):
                paced[f"i{n + 100_000}@example.com"] = book(client, n + 100_000, next(starts))
                time.sleep(0.1)

        clients = [httpx.Client() for _ in range(CONCURRENT)]
        jobs = [
            (clients[n % CONCURRENT], SEQUENTIAL + n, next(starts)) for n in range(CONCURRENT_TOTAL)
        ]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENT) as pool:
            list(pool.map(lambda job: book(*job), jobs))
        concurrent = CONCURRENT_TOTAL / (time.perf_counter() - t0)
        for c in clients:
            c.close()
        print(
            f"  concurrent: {concurrent:7.1f} bookings/s ({CONCURRENT_TOTAL} bookings, {CONCURRENT} clients)"
        )

        deadline = time.monotonic() + 120
        wanted = {**booked_at, **paced}
        while time.monotonic() < deadline and not all(a in arrivals.at for a in wanted):
            time.sleep(0.05)
        for label, sample in (("at 10 bookings/s", paced), ("flat out, one client", booked_at)):
            delays = sorted((arrivals.at[a] - sample[a]) * 1000 for a in sample if a in arrivals.at)
            print(
                f"  booking -> email handed to SMTP, {label}: "
                f"median {statistics.median(delays):.0f} ms, "
                f"p95 {delays[int(len(delays) * 0.95) - 1]:.0f} ms, max {delays[-1]:.0f} ms "
                f"({len(delays)} of {len(sample)} arrived)"
            )
    finally:
        server.terminate()
        server.wait()
        controller.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
