"""The jobs layer: one waiting and one running job per key, leases that handlers re-check,
retries with backoff, dead jobs, and workers that never take one job twice."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bookwithme import jobs
from bookwithme.config import Settings
from bookwithme.db import session_scope
from bookwithme.models import Job, utcnow

KIND = "test.record"
done: list[str] = []  # what handlers of this kind recorded, in order
LEASE = timedelta(seconds=30)
FIRST = timedelta(seconds=20)


def _record(context: jobs.JobContext) -> None:
    """Fails as often as the payload says, then records its key while it holds the job."""
    payload = context.job.payload
    if payload.get("permanent"):
        raise jobs.Permanent("this can never work")
    if context.job.attempts <= payload.get("fail", 0):
        raise RuntimeError(f"attempt {context.job.attempts} failed")
    if "before_record" in payload:
        hooks[payload["before_record"]]()
    with session_scope(context.factory, write=True) as session:
        if payload.get("complete"):
            context.complete(session)
            if payload.get("then_fail"):
                raise RuntimeError("the effect's transaction failed after complete")
        else:
            context.hold(session)
        done.append(context.job.key)


hooks: dict[str, object] = {}
jobs.register(
    jobs.Kind(
        KIND,
        _record,
        lane="test",
        retry=jobs.RetryPolicy(first=FIRST, longest=timedelta(minutes=5), max_attempts=3),
        lease=LEASE,
        batch=5,
    )
)


@pytest.fixture(autouse=True)
def _fresh() -> None:
    done.clear()
    hooks.clear()


def enqueue(factory: sessionmaker[Session], key: str, **payload: object) -> None:
    with session_scope(factory, write=True) as session:
        jobs.enqueue(session, KIND, key, dict(payload))


def rows(factory: sessionmaker[Session]) -> list[Job]:
    with factory() as session:
        return list(session.scalars(select(Job).where(Job.kind == KIND).order_by(Job.created_at)))


def run(factory: sessionmaker[Session], settings: Settings, worker: str, now=None) -> list:  # type: ignore[no-untyped-def]
    statuses = []
    for job in jobs.claim(factory, [KIND], worker, 10, now):
        context = jobs.JobContext(job, factory, settings, worker, LEASE)
        statuses.append(jobs.run(context, now))
    return statuses


def test_enqueueing_one_key_twice_keeps_one_job_at_the_earlier_time(
    session_factory: sessionmaker[Session],
) -> None:
    now = utcnow()
    with session_scope(session_factory, write=True) as session:
        jobs.enqueue(session, KIND, "a", {"n": 1}, run_at=now + timedelta(hours=2))
        jobs.enqueue(session, KIND, "a", {"n": 2}, run_at=now + timedelta(hours=1))
        jobs.enqueue(session, KIND, "a", {"n": 3}, run_at=now + timedelta(hours=3))
    [job] = rows(session_factory)
    assert job.run_at == now + timedelta(hours=1) and job.payload == {"n": 3}
    # A job that moved (a reminder of a rescheduled booking) takes the new time.
    with session_scope(session_factory, write=True) as session:
        jobs.enqueue(session, KIND, "a", {}, run_at=now + timedelta(hours=5), replace=True)
    [job] = rows(session_factory)
    assert job.run_at == now + timedelta(hours=5)
    with session_scope(session_factory, write=True) as session:
        jobs.cancel(session, KIND, "a")
    assert [j.status for j in rows(session_factory)] == ["cancelled"]


def test_a_job_is_leased_to_one_worker_and_taken_over_when_its_lease_ends(
    session_factory: sessionmaker[Session],
) -> None:
    enqueue(session_factory, "a")
    now = utcnow()
    [first] = jobs.claim(session_factory, [KIND], "w1", 10, now)
    assert first.attempts == 1
    assert jobs.claim(session_factory, [KIND], "w2", 10, now + LEASE / 2) == []
    # w1 died: once the lease ends, w2 takes it over.
    [again] = jobs.claim(session_factory, [KIND], "w2", 10, now + LEASE * 2)
    assert again.id == first.id and again.attempts == 2
    [row] = rows(session_factory)
    assert (row.status, row.locked_by) == ("running", "w2")


def test_a_worker_whose_lease_ended_records_nothing(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    enqueue(session_factory, "slow", before_record="stall")
    now = utcnow()
    stalled: list[bool] = []

    def stall() -> None:
        """w1 stalls past its lease; meanwhile w2 takes the job over and finishes it."""
        if stalled:
            return
        stalled.append(True)
        assert run(session_factory, settings, "w2", now=utcnow() + LEASE * 2) == ["done"]

    hooks["stall"] = stall
    [job] = jobs.claim(session_factory, [KIND], "w1", 10, now)
    context = jobs.JobContext(job, session_factory, settings, "w1", LEASE)
    assert jobs.run(context, now) is None  # w1 lost it: it records nothing
    assert done == ["slow"]  # once, by w2
    [row] = rows(session_factory)
    assert (row.status, row.locked_by) == ("done", None)


def test_a_handler_may_record_its_job_done_with_its_effect(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    """``complete``: done in the effect's own transaction; if that transaction fails, the
    job is not done but tried again like any failure."""
    enqueue(session_factory, "together", complete=True)
    enqueue(session_factory, "rolled-back", complete=True, then_fail=True)
    assert sorted(s or "" for s in run(session_factory, settings, "w1")) == ["done", "queued"]
    by_key = {row.key: row for row in rows(session_factory)}
    done_row, failed_row = by_key["together"], by_key["rolled-back"]
    assert (done_row.status, done_row.locked_by, done_row.finished_at is not None) == (
        "done",
        None,
        True,
    )
    assert (failed_row.status, failed_row.attempts, failed_row.locked_by) == ("queued", 1, None)
    assert "after complete" in (failed_row.last_error or "")


def test_failures_are_retried_with_backoff_then_dead_and_retried_by_hand(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    enqueue(session_factory, "flaky", fail=1)
    enqueue(session_factory, "broken", fail=99)
    enqueue(session_factory, "hopeless", permanent=True)
    now = utcnow()
    assert sorted(run(session_factory, settings, "w1", now)) == ["dead", "queued", "queued"]
    by_key = {j.key: j for j in rows(session_factory)}
    flaky = by_key["flaky"]
    assert flaky.last_error == "attempt 1 failed" and flaky.attempts == 1
    # The first retry waits between half and all of FIRST (spread at random).
    assert now + FIRST / 2 <= flaky.run_at <= now + FIRST
    assert (by_key["hopeless"].status, by_key["hopeless"].last_error) == (
        "dead",
        "this can never work",
    )
    assert run(session_factory, settings, "w1", now + FIRST / 4) == []  # not due yet
    later = now + timedelta(minutes=1)
    assert sorted(run(session_factory, settings, "w1", later)) == ["done", "queued"]
    assert done == ["flaky"]
    broken = {j.key: j for j in rows(session_factory)}["broken"]
    assert broken.attempts == 2
    assert run(session_factory, settings, "w1", later + timedelta(minutes=10)) == ["dead"]
    broken = {j.key: j for j in rows(session_factory)}["broken"]
    assert (broken.status, broken.attempts, broken.last_error) == ("dead", 3, "attempt 3 failed")

    # An administrator fixes the cause and retries it.
    with session_scope(session_factory, write=True) as session:
        session.execute(update(Job).where(Job.id == broken.id).values(payload={}))
        jobs.retry_now(session, broken.id)
    assert run(session_factory, settings, "w1") == ["done"]
    assert done == ["flaky", "broken"]


def test_a_key_that_runs_is_not_run_again_until_it_ends(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    enqueue(session_factory, "calendar-1")
    now = utcnow()
    [running] = jobs.claim(session_factory, [KIND], "w1", 10, now)
    enqueue(session_factory, "calendar-1")  # a change while it runs: queued once more
    assert [j.status for j in rows(session_factory)] == ["running", "queued"]
    assert jobs.claim(session_factory, [KIND], "w2", 10, now) == []  # not beside the first
    jobs.run(jobs.JobContext(running, session_factory, settings, "w1", LEASE), now)
    assert run(session_factory, settings, "w2") == ["done"]
    assert done == ["calendar-1", "calendar-1"]


def test_the_database_refuses_two_running_jobs_of_one_key(
    session_factory: sessionmaker[Session],
) -> None:
    now = utcnow()
    with pytest.raises(IntegrityError), session_scope(session_factory, write=True) as session:
        for worker in ("w1", "w2"):
            session.add(
                Job(
                    id=uuid.uuid4(),
                    kind=KIND,
                    key="k",
                    status="running",
                    locked_by=worker,
                    locked_until=now + LEASE,
                    payload={},
                )
            )
            session.flush()


def test_workers_claiming_at_once_share_the_jobs_without_overlap(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_scope(session_factory, write=True) as session:
        for n in range(60):
            jobs.enqueue(session, KIND, f"job-{n}", {})
    taken: dict[str, list[uuid.UUID]] = {}
    start = threading.Barrier(4)

    def worker(name: str) -> None:
        start.wait()
        mine = taken.setdefault(name, [])
        while claimed := jobs.claim(session_factory, [KIND], name, 5):
            mine.extend(job.id for job in claimed)

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    every = [job_id for ids in taken.values() for job_id in ids]
    assert len(every) == 60 and len(set(every)) == 60
    assert {j.locked_by for j in rows(session_factory)} <= set(taken)
