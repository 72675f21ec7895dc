"""Benchmark (e): a crowd at once. 150 invitees post bookings to one organizer in the same
instant, over real HTTP, against real ``bookwithme serve`` processes: on SQLite one process
(embedded worker), on PostgreSQL two processes and a separate ``bookwithme worker``. Two
cases: 16 overlapping starts (a shared link; most of the crowd must hear "taken"), and 150
distinct starts (everyone can be booked: bookings per second). A bare FastAPI endpoint
answering the same 150 POSTs in the same run is the yardstick."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import text

from bookwithme import migrate
from bookwithme.db import make_engine
from tests.benchmarks.bench_http import serve_bare
from tests.support import crowd, postgres

INVITEES = 150


def bare_crowd() -> None:
    port = crowd.free_port()
    process = serve_bare(port)
    try:
        anyone = crowd.Organizer("bare", "", "", crowd.utcnow().date(), "")
        result = crowd.crowd([f"http://127.0.0.1:{port}"], anyone, INVITEES, path="/bare")
        print(f"  {'bare FastAPI POST':>38}: {result.summary()}")
    finally:
        process.terminate()
        process.wait()


def run(label: str, database_url: str, servers: int, data_dir: Path) -> None:
    env = crowd.environment(database_url, data_dir, embedded_worker=str(servers == 1).lower())
    processes = [
        crowd.start_serve(env, crowd.free_port(), data_dir / f"serve{n}.log")
        for n in range(servers)
    ]
    if servers > 1:
        processes.append(crowd.start_worker(env, data_dir / "worker.log"))
    urls = [p.base_url for p in processes if p.base_url]
    try:
        overlapping = crowd.prepare_organizer(database_url, f"overlap-{label}@example.com")
        result = crowd.crowd(urls, overlapping, INVITEES, timeout=60)
        rate = len(result.answers) / result.seconds
        print(
            f"  {label + ', 16 overlapping starts':>38}: {result.summary()}; {rate:.0f} answers/s"
        )
        distinct = crowd.prepare_organizer(
            database_url, f"distinct-{label}@example.com", duration=5, step=5, until="21:30"
        )
        result = crowd.crowd(urls, distinct, INVITEES, timeout=60, distinct=True)
        rate = len(result.created) / result.seconds
        print(f"  {label + ', 150 distinct starts':>38}: {result.summary()}; {rate:.0f} bookings/s")
    finally:
        for process in processes:
            process.stop()


def main() -> None:
    print(f"(e) a crowd: {INVITEES} booking POSTs at once to one organizer")
    bare_crowd()
    data_dir = Path(tempfile.mkdtemp(prefix="bookwithme-crowd-"))
    sqlite_url = f"sqlite:///{data_dir / 'bookwithme.db'}"
    migrate.upgrade(sqlite_url, configure_logging=False)
    run("SQLite, 1 serve", sqlite_url, 1, data_dir)
    server = postgres.start()
    try:
        admin = make_engine(server.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE crowd"))
        admin.dispose()
        pg_url = server.url_for("crowd")
        migrate.upgrade(pg_url, configure_logging=False)
        run("PostgreSQL, 2 serve + worker", pg_url, 2, data_dir)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
