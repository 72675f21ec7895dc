"""Engine and session factory; one transaction per request, CLI command or worker job.

Services ``flush()``; only the unit of work (``session_scope`` here, or the request
dependency in ``web/deps.py`` built on it) commits.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.errors import Busy
from bookwithme.key_reads import MEMORY_ONLY, WouldRead

# Every session raises organizers' availability versions as it writes (see its module).
from bookwithme.scheduling import versions as _versions  # noqa: F401

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Connections per process. Requests use at most REQUEST_CONNECTIONS of them at once (the
# database gate in web/admission.py); the rest are kept for the background worker and the
# health check, so a request never waits for a connection. PostgreSQL's max_connections
# must allow POOL_SIZE + MAX_OVERFLOW for every serve and worker process, and for a serve
# process the AsyncKeyReads.SIZE connections of its version reads (web/admission.py).
POOL_SIZE = 20
MAX_OVERFLOW = 10
REQUEST_CONNECTIONS = 24
POOL_TIMEOUT = 10  # seconds; a pool still exhausted after that answers 503
# PostgreSQL: how long a statement may wait for a row lock (an organizer's bookings held by
# another server), and how long a transaction may sit idle before the server ends it.
LOCK_TIMEOUT_MS = 5_000
IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, **kwargs: Any) -> Engine:
    if is_sqlite(url):
        _ensure_sqlite_dir(url)
        if ":memory:" not in url:
            _pool_sizes(kwargs)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        # psycopg 3 is the driver we ship; accept the plain libpq-style URL too.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    kwargs.setdefault("pool_pre_ping", True)
    _pool_sizes(kwargs)
    kwargs.setdefault(
        "connect_args",
        {
            "options": f"-c lock_timeout={LOCK_TIMEOUT_MS} "
            f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_TIMEOUT_MS}"
        },
    )
    return create_engine(url, **kwargs)


def _pool_sizes(kwargs: dict[str, Any]) -> None:
    kwargs.setdefault("pool_size", POOL_SIZE)
    kwargs.setdefault("max_overflow", MAX_OVERFLOW)
    kwargs.setdefault("pool_timeout", POOL_TIMEOUT)


def _ensure_sqlite_dir(url: str) -> None:
    from pathlib import Path

    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        # The database holds password hashes: its folder is for this user only.
        Path(database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)


def _configure_sqlite(engine: Engine) -> None:
    """WAL for concurrent readers, enforced foreign keys, and transactions that we begin
    ourselves so a writer can ask for ``BEGIN IMMEDIATE`` (see ``begin_immediate``)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" hook emit BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    # Writers of this process queue on a fair lock before asking SQLite for its write lock:
    # SQLite's own busy handler sleeps and polls, which under contention hands the lock over
    # slowly and unfairly. Other processes still meet at SQLite's lock (busy_timeout).
    writer_turn = threading.Lock()
    held = WRITER_TURN

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # each statement on its own (Admission.quick_read)
        mode = options.get("sqlite_begin", "DEFERRED")
        if mode == "IMMEDIATE":
            if not writer_turn.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
                raise DatabaseBusy()
            conn.info[held] = True
        try:
            conn.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            _release(conn.info)
            raise

    def _release(info: dict[str, Any]) -> None:
        if info.pop(held, False):
            writer_turn.release()

    @event.listens_for(engine, "commit")
    def _on_commit(conn: Connection) -> None:
        _release(conn.info)

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn: Connection) -> None:
        _release(conn.info)

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        _release(record.info)  # never leave the turn held by a connection back in the pool


def longer_read(session: Session) -> None:
    """Call before a read that may take long (many rows, joins): a ``MEMORY_ONLY``
    session stops here."""
    if session.info.get(MEMORY_ONLY):
        raise WouldRead()


WRITER_TURN = "bookwithme.writer_turn"  # in a SQLite connection's info while it is the writer


def began_as_writer(session: Session) -> bool:
    """Whether a write in this session's transaction needs no lock it does not hold yet:
    always on PostgreSQL (row locks), on SQLite only when the transaction began as the
    writer (``begin_immediate``). A read request on SQLite that wrote would take the
    database's write lock behind the writer gate's back and hold it to its end."""
    if session.get_bind().dialect.name != "sqlite":
        return True
    return session.in_transaction() and bool(session.connection().info.get(WRITER_TURN))


class DatabaseBusy(Busy):
    """The database stayed locked by other writers for longer than the busy timeout."""


def begin_immediate(session: Session) -> None:
    """Start the session's transaction as a writer.

    On SQLite this takes the database write lock up front (``BEGIN IMMEDIATE``), so a
    check-then-insert cannot interleave with another writer. It only has an effect as the
    first thing the session does (a request that writes has already begun this way). On
    PostgreSQL it is a no-op; there row locks and constraints decide.
    """
    bind = session.get_bind()
    if bind.dialect.name == "sqlite" and not session.in_transaction():
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def session_scope(factory: sessionmaker[Session], *, write: bool = False) -> Iterator[Session]:
    """One unit of work: commit when the block succeeds, roll back when it raises.

    ``write=True`` begins it as a writer (``begin_immediate``). On SQLite a transaction
    that reads and then writes must say so up front: otherwise, when another process
    wrote in between, its first write fails at once with "database is locked" instead of
    waiting its turn."""
    with factory() as session:
        try:
            if write:
                begin_immediate(session)
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def lock_key(session: Session, key: str) -> None:
    """Serialize transactions that share ``key`` until they end: a PostgreSQL advisory
    transaction lock. On SQLite, writers are already serialized by ``begin_immediate``."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
