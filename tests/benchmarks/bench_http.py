"""Benchmark (b): the public slots endpoint under wrk (32 connections), for a 7-day window
with 1,000 busy blocks, next to a bare FastAPI endpoint served the same way in the same run.
Both run in one uvicorn process with one worker, on the embedded SQLite default."""

from __future__ import annotations

import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from bookwithme import migrate
from bookwithme.accounts import service as accounts
from bookwithme.config import Settings
from bookwithme.db import make_engine, make_session_factory, session_scope
from bookwithme.meeting_types import service as meeting_types
from bookwithme.models import BusyBlock, utcnow

CONNECTIONS = 32
DURATION = os.environ.get("BENCH_DURATION", "10s")
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(data_dir: Path, busy_blocks: int = 1000) -> tuple[str, str, str, str]:
    """An organizer with a published page and ``busy_blocks`` short blocks in the coming
    week; returns the slots path and its query."""
    settings = Settings(data_dir=data_dir)
    migrate.upgrade(settings.resolved_database_url, configure_logging=False)
    factory = make_session_factory(make_engine(settings.resolved_database_url))
    paris = ZoneInfo("Europe/Paris")
    today = datetime.now(paris).date()
    monday = today + timedelta(days=7 - today.weekday())
    rng = random.Random(1)
    with session_scope(factory) as session:
        org = accounts.get_or_create_organization(session, "Bench")
        user = accounts.create_user(
            session, org, email="bench@example.com", name="Bench", time_zone="Europe/Paris"
        )
        page = meeting_types.get_page(session, user)
        meeting_types.publish(session, user, page, False, utcnow())
        type_id = str(meeting_types.list_types(session, user)[1].id)
        week_start = datetime(monday.year, monday.month, monday.day, tzinfo=paris).astimezone(UTC)
        # Mostly outside working hours, so the week still has free times to list; one in a
        # hundred inside, so the engine has real work.
        for i in range(busy_blocks):
            day = week_start + timedelta(days=rng.randrange(7))
            inside = i % 100 == 0
            minute = rng.randrange(9 * 60, 17 * 60) if inside else rng.randrange(18 * 60, 32 * 60)
            start = day + timedelta(minutes=minute)
            session.add(
                BusyBlock(user_id=user.id, start_at=start, end_at=start + timedelta(minutes=5))
            )
        key = page.key
    end = monday + timedelta(days=6)
    return key, type_id, monday.isoformat(), end.isoformat()


def serve(app: str, port: int, env: dict[str, str], factory: bool) -> subprocess.Popen[bytes]:
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    if factory:
        args.append("--factory")
    process = subprocess.Popen(args, env=env, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=0.5)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{app} did not start")


def wrk(url: str, label: str) -> float:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url} answered {errors.group(1)} errors under load:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match, out
    p99 = re.search(r"99%\s+(\S+)", out)
    print(f"  {label:>24}: {float(match.group(1)):>9.0f} req/s, p99 {p99.group(1) if p99 else '?'}")
    return float(match.group(1))


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    data_dir = Path(tempfile.mkdtemp(prefix="bookwithme-bench-"))
    key, type_id, start, end = prepare(data_dir)
    env = {
        **os.environ,
        "BOOKWITHME_DATA_DIR": str(data_dir),
        "BOOKWITHME_EMBEDDED_WORKER": "false",
    }
    slots_path = f"/api/v1/public/pages/{key}/meeting-types/{type_id}/slots?start={start}&end={end}"

    print(f"(b) HTTP, wrk -t2 -c{CONNECTIONS} -d{DURATION}, one uvicorn worker each, SQLite")
    results = {}
    for label, cache in (("slots", "true"), ("slots, answer cache off", "false")):
        port = free_port()
        app = serve(
            "bookwithme.app:create_app",
            port,
            {**env, "BOOKWITHME_CACHE_ANSWERS": cache},
            factory=True,
        )
        try:
            body = httpx.get(f"http://127.0.0.1:{port}{slots_path}").json()
            print(f"  {label}: 7-day window, 1,000 busy blocks, {len(body['slots'])} slots offered")
            results[label] = wrk(f"http://127.0.0.1:{port}{slots_path}", label)
        finally:
            app.terminate()
            app.wait()
    port = free_port()
    bare = serve("tests.benchmarks.bare_app:app", port, env, factory=False)
    try:
        bare_rps = wrk(f"http://127.0.0.1:{port}/bare", "bare")
    finally:
        bare.terminate()
        bare.wait()
    for label, rps in results.items():
        print(f"  {label} / bare = {rps / bare_rps:.2f} (goal: at least 0.50)")
    shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
