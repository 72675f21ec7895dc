"""Background jobs: one table, one claim, one retry policy, and a registry of handlers by kind.

Everything the worker does is a job: delivering an email, reading a connected calendar,
writing bookings back to one, sending a reminder, calling a webhook. A job is a row of
``jobs``, written with ``enqueue`` in the caller's transaction, so it exists exactly when
the change that caused it does (a booking and its emails commit together or not at all).

A worker takes due jobs with ``claim``: on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so
several workers on several hosts split the work without waiting on each other; on SQLite
inside the single writer. Taking a job leases it to that worker (``locked_by``, until
``locked_until``); a worker that dies leaves its jobs to be taken again when the lease runs
out. A handler that records an effect calls ``JobContext.hold`` in the same transaction, so a
worker whose lease ran out (and went to another) records nothing.

Each job has a dedupe ``key``: at most one job of a kind and key waits and at most one runs
(two unique partial indexes), so enqueueing twice merges, and two workers can never do one
thing at once. A job that fails is queued again after a delay that doubles each time, with
jitter, until its kind's policy gives up; then it is ``dead``, with its last error, for
administrators to see and retry (``/admin/jobs``, ``/api/v1/admin/jobs``).

Why the database and not a message broker: a booking and the work it causes must commit
together, which a broker cannot promise without this same table in front of it (the
transactional outbox); SQLite deployments need no other server; and PostgreSQL deployments
get as many workers as they run processes, with nothing more to operate.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import and_, case, delete, event, exists, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased, sessionmaker

from bookwithme.config import Settings
from bookwithme.db import session_scope
from bookwithme.models import Job, utcnow

log = logging.getLogger("bookwithme.jobs")

_ENQUEUED = "bookwithme.jobs_enqueued"
KEEP_FINISHED = timedelta(days=7)  # done and cancelled jobs are deleted after this


class Permanent(Exception):
    """The job can never succeed as it stands: it ends dead at once, with this message."""


class LeaseLost(Exception):
    """Another worker holds the job now (this one's lease ran out): stop, record nothing."""


@dataclass(frozen=True)
class RetryPolicy:
    """Delays of ``first``, twice that, four times … at most ``longest``, each shortened by
    up to a half at random so that jobs that failed together do not return together. The
    job is dead after ``max_attempts`` attempts, or once it is older than ``give_up_after``."""

    first: timedelta
    longest: timedelta
    max_attempts: int | None = None
    give_up_after: timedelta | None = None

    def next_attempt(self, attempts: int, created_at: datetime, now: datetime) -> datetime | None:
        if self.max_attempts is not None and attempts >= self.max_attempts:
            return None
        delay = min(self.first * (2 ** max(0, attempts - 1)), self.longest)
        at: datetime = now + delay * random.uniform(0.5, 1.0)  # noqa: S311 (spreading load)
        if self.give_up_after is not None and at > created_at + self.give_up_after:
            return None
        return at


@dataclass(frozen=True)
class Claimed:
    """What a handler is told about its job."""

    id: uuid.UUID
    kind: str
    key: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


@dataclass
class JobContext:
    job: Claimed
    factory: sessionmaker[Session]
    settings: Settings
    worker: str
    lease: timedelta
    state: Any = None  # what the kind's ``setup`` made for this lane (an SMTP connection)
    completed: bool = False  # recorded done by the handler itself (``complete``)

    def hold(self, session: Session) -> None:
        """In the transaction that records the job's effect: check that this worker still
        holds the job, and extend the lease. Raises ``LeaseLost`` otherwise. The row stays
        locked until that transaction ends, so nobody can take the job in between."""
        held = session.execute(
            update(Job)
            .where(Job.id == self.job.id, Job.locked_by == self.worker, Job.status == "running")
            .values(locked_until=utcnow() + self.lease)
            .returning(Job.id)
        ).first()
        if held is None:
            raise LeaseLost(f"job {self.job.id} is no longer held by {self.worker}")

    def complete(self, session: Session) -> None:
        """``hold``, and record the job done in that same transaction: for a handler whose
        effect is its last step, one write instead of two (on SQLite every write waits
        for the database's one writer, bookings included)."""
        self.hold(session)
        session.execute(
            update(Job)
            .where(Job.id == self.job.id)
            .values(
                status="done",
                finished_at=utcnow(),
                last_error=None,
                locked_by=None,
                locked_until=None,
            )
        )
        self.completed = True


Handler = Callable[[JobContext], None]
# Told of each failed attempt, in the transaction that records it: the error, and when the
# job runs again (None: it is dead).
FailureHook = Callable[[Session, "JobContext", str, datetime | None], None]


def _always(settings: Settings) -> bool:
    return True


@dataclass(frozen=True)
class Kind:
    name: str
    handler: Handler
    lane: str  # kinds of one lane share its threads; lanes never wait on each other
    retry: RetryPolicy
    lease: timedelta = timedelta(minutes=2)  # longer than one run may take
    batch: int = 10  # jobs taken at once by one thread
    on_failure: FailureHook | None = None
    enabled: Callable[[Settings], bool] = _always
    setup: Callable[[Settings], Any] | None = None


REGISTRY: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    REGISTRY[kind.name] = kind
    return kind


# --- writing jobs, in the caller's transaction ------------------------------------------


def enqueue(
    session: Session,
    kind: str,
    key: str,
    payload: dict[str, Any] | None = None,
    run_at: datetime | None = None,
    *,
    replace: bool = False,
) -> None:
    """Queue a job of ``kind`` for ``key``. If one is already waiting for that key, it is
    kept, with this payload, and runs at the earlier of the two times (``replace``: at
    ``run_at``, for a job that moved, such as a reminder of a rescheduled booking)."""
    now = utcnow()
    connection = session.connection()
    connection.execute(
        _upsert(connection.dialect.name, replace),
        {
            "id": uuid.uuid4(),
            "kind": kind,
            "key": key,
            "payload": payload or {},
            "status": "queued",
            "run_at": run_at or now,
            "attempts": 0,
            "created_at": now,
        },
    )
    session.info.setdefault(_ENQUEUED, set()).add(kind)


@cache
def _upsert(dialect: str, replace: bool) -> Any:
    """The insert-or-merge of ``enqueue``, built once per database and mode: a booking
    queues several jobs, and building the statement cost more than running it."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Job)
    new_time = stmt.excluded.run_at
    return stmt.on_conflict_do_update(
        index_elements=[Job.kind, Job.key],
        # Spelled as the index is: PostgreSQL matches the predicate's text, and a bound
        # parameter stops matching once psycopg prepares the statement.
        index_where=text("status = 'queued'"),
        set_={
            "payload": stmt.excluded.payload,
            "run_at": new_time
            if replace
            else case((new_time < Job.run_at, new_time), else_=Job.run_at),
        },
    )


def cancel(session: Session, kind: str, key: str) -> None:
    """The waiting job of ``kind`` for ``key``, if any, will not run."""
    session.execute(
        update(Job)
        .where(Job.kind == kind, Job.key == key, Job.status == "queued")
        .values(status="cancelled", finished_at=utcnow())
    )


# Wake a worker of this process as soon as a transaction that queued jobs commits, instead
# of at its next look (jobs of other processes are found by looking).
_wake_listeners: list[Callable[[set[str]], None]] = []


def on_enqueue(listener: Callable[[set[str]], None]) -> None:
    _wake_listeners.append(listener)


def off_enqueue(listener: Callable[[set[str]], None]) -> None:
    if listener in _wake_listeners:
        _wake_listeners.remove(listener)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    kinds = session.info.pop(_ENQUEUED, None)
    if kinds:
        for listener in list(_wake_listeners):
            listener(kinds)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous: object) -> None:
    session.info.pop(_ENQUEUED, None)


# --- taking and finishing jobs -------------------------------------------------------------


def _claimable(kinds: Iterable[str], now: datetime) -> Any:
    twin = aliased(Job)
    another_runs = exists().where(
        twin.kind == Job.kind, twin.key == Job.key, twin.status == "running", twin.id != Job.id
    )
    return and_(
        Job.kind.in_(list(kinds)),
        or_(
            and_(Job.status == "queued", Job.run_at <= now, ~another_runs),
            # Its worker died (or stalled past its lease): take it over.
            and_(Job.status == "running", Job.locked_until < now),
        ),
    )


def claim(
    factory: sessionmaker[Session],
    kinds: list[str],
    worker: str,
    limit: int,
    now: datetime | None = None,
) -> list[Claimed]:
    """Lease up to ``limit`` due jobs of ``kinds`` to ``worker``, oldest due first."""
    now = now or utcnow()
    with factory() as reader:  # a look first, so an idle worker never takes the write lock
        if reader.scalar(select(Job.id).where(_claimable(kinds, now)).limit(1)) is None:
            return []
    with session_scope(factory, write=True) as session:
        due = (
            select(Job)
            .where(_claimable(kinds, now))
            .order_by(Job.run_at, Job.created_at)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True, of=Job)
        rows = list(session.scalars(due))
        for row in rows:
            row.status = "running"
            row.locked_by = worker
            row.locked_until = now + REGISTRY[row.kind].lease
            row.attempts += 1
        session.flush()
        return [
            Claimed(row.id, row.kind, row.key, dict(row.payload), row.attempts, row.created_at)
            for row in rows
        ]


def renew(
    factory: sessionmaker[Session], ids: list[uuid.UUID], worker: str, until: datetime
) -> None:
    """Extend the lease of jobs this worker took but has not run yet."""
    if not ids:
        return
    with session_scope(factory, write=True) as session:
        session.execute(
            update(Job)
            .where(Job.id.in_(ids), Job.locked_by == worker, Job.status == "running")
            .values(locked_until=until)
        )


def finish(
    context: JobContext,
    error: str | None = None,
    *,
    permanent: bool = False,
    now: datetime | None = None,
) -> str | None:
    """Record how a run ended: done, queued again after a delay, or dead. Nothing is
    recorded if the job is no longer this worker's. Returns the new status."""
    now = now or utcnow()
    job, worker = context.job, context.worker
    kind = REGISTRY.get(job.kind)
    with session_scope(context.factory, write=True) as session:
        row = session.scalar(
            select(Job)
            .where(Job.id == job.id, Job.locked_by == worker, Job.status == "running")
            .with_for_update()
        )
        if row is None:
            return None
        row.locked_by = None
        row.locked_until = None
        if error is None:
            row.status = "done"
            row.finished_at = now
            row.last_error = None
            return row.status
        row.last_error = error[:4000]
        next_at = None
        if not permanent and kind is not None:
            next_at = kind.retry.next_attempt(row.attempts, row.created_at, now)
        if next_at is None:
            row.status = "dead"
            row.finished_at = now
        else:
            waiting = session.scalar(
                select(Job).where(Job.kind == row.kind, Job.key == row.key, Job.status == "queued")
            )
            if waiting is not None:
                # Queued again meanwhile: that one does the work, at the earlier time.
                waiting.run_at = min(waiting.run_at, next_at)
                row.status = "cancelled"
                row.finished_at = now
            else:
                row.status = "queued"
                row.run_at = next_at
        if kind is not None and kind.on_failure is not None:
            kind.on_failure(session, context, row.last_error, next_at)
        session.flush()
        return row.status


def run(context: JobContext, now: datetime | None = None) -> str | None:
    """Run one claimed job and record the outcome. A handler ends normally when the work is
    done, raises ``Permanent`` when it never can be, and raises anything else to be tried
    again; a job this worker no longer holds records nothing."""
    job = context.job
    kind = REGISTRY.get(job.kind)
    if kind is None:
        return finish(context, f"no handler for '{job.kind}'", permanent=True, now=now)
    try:
        kind.handler(context)
    except LeaseLost:
        log.warning("%s job %s was taken over by another worker", job.kind, job.id)
        return None
    except Permanent as exc:
        return finish(context, str(exc), permanent=True, now=now)
    except Exception as exc:
        error = str(exc) or type(exc).__name__
        log.warning("%s job %s failed (attempt %d): %s", job.kind, job.id, job.attempts, error)
        return finish(context, error, now=now)
    if context.completed:
        return "done"
    return finish(context, now=now)


@dataclass
class Lane:
    """One thread's share of the work: claim a batch of its kinds, run them in order."""

    kinds: list[Kind]
    factory: sessionmaker[Session]
    settings: Settings
    worker: str
    states: dict[str, Any] = field(default_factory=dict)

    def run_batch(self, now: datetime | None = None) -> int:
        """Run what is due (now, or at ``now``); returns how many jobs were taken (a full
        batch means there may be more)."""
        batch = max(kind.batch for kind in self.kinds)
        kinds = [kind.name for kind in self.kinds]
        claimed = claim(self.factory, kinds, self.worker, batch, now)
        if not claimed:
            return 0
        taken_at = renewed_at = utcnow()
        try:
            for index, job in enumerate(claimed):
                kind = REGISTRY[job.kind]
                moment = utcnow()
                if moment - renewed_at > kind.lease / 4:
                    renewed_at = moment
                    rest = [j.id for j in claimed[index:]]
                    renew(self.factory, rest, self.worker, moment + kind.lease)
                state = self._state(kind)
                context = JobContext(
                    job, self.factory, self.settings, self.worker, kind.lease, state
                )
                run(context, now)
        finally:
            self.close()
        log.debug("ran %d jobs in %s", len(claimed), utcnow() - taken_at)
        return len(claimed)

    def _state(self, kind: Kind) -> Any:
        if kind.setup is None:
            return None
        if kind.name not in self.states:
            self.states[kind.name] = kind.setup(self.settings)
        return self.states[kind.name]

    def close(self) -> None:
        """End what a batch kept open (an SMTP connection) once the lane goes idle."""
        states, self.states = self.states, {}
        for state in states.values():
            closer = getattr(state, "close", None)
            if closer is not None:
                closer()


# --- what administrators see ---------------------------------------------------------------


def retry_now(session: Session, job_id: uuid.UUID) -> Job | None:
    """Queue a dead job again, at once, with its attempts counted from zero."""
    row = session.get(Job, job_id)
    if row is None or row.status != "dead":
        return row
    waiting = session.scalar(
        select(Job.id).where(Job.kind == row.kind, Job.key == row.key, Job.status == "queued")
    )
    if waiting is None:
        row.status = "queued"
        row.run_at = utcnow()
        row.attempts = 0
        row.finished_at = None
        session.info.setdefault(_ENQUEUED, set()).add(row.kind)
    session.flush()
    return row


def prune(session: Session, now: datetime) -> int:
    """Delete finished jobs older than ``KEEP_FINISHED`` (dead ones stay until retried)."""
    result = session.execute(
        delete(Job)
        .where(Job.status.in_(("done", "cancelled")), Job.finished_at < now - KEEP_FINISHED)
        .returning(Job.id)
    )
    return len(result.all())


def _upkeep(context: JobContext) -> None:
    """Delete old finished jobs, then come back in an hour."""
    with session_scope(context.factory, write=True) as session:
        context.hold(session)
        removed = prune(session, utcnow())
        enqueue(session, "upkeep", "upkeep", run_at=utcnow() + timedelta(hours=1))
    if removed:
        log.info("deleted %d finished jobs", removed)


register(
    Kind(
        "upkeep",
        _upkeep,
        lane="upkeep",
        retry=RetryPolicy(first=timedelta(minutes=1), longest=timedelta(hours=1)),
        batch=1,
    )
)
