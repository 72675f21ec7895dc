"""Background jobs as administrators see them: what waits, what runs, and what is dead (failed
too often to be tried again), with its last error, and a way to queue a dead one again.

Jobs have no organization: an email job is keyed by its outbox message, a calendar job by
its connection, the clean-up job by nothing at all. A self-hosted deployment has one
organization, so every administrator sees every job; a deployment shared by several
organizations would need jobs to carry one before this list could be split.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bookwithme import jobs
from bookwithme.admin.service import record
from bookwithme.errors import Conflict, NotFound
from bookwithme.instants import UTCInstant
from bookwithme.lookup import parse_id
from bookwithme.models import Job, Organization, utcnow
from bookwithme.models.job import JOB_STATUSES
from bookwithme.paging import page_after

PAGE_SIZE = 50
JobStatus = Literal["queued", "running", "done", "dead", "cancelled"]  # JOB_STATUSES


class JobNotDead(Conflict):
    code = "job_not_dead"
    default_message = "Only a dead job can be retried."


class JobItem(BaseModel):
    id: uuid.UUID
    kind: str
    key: str
    status: str
    attempts: int
    run_at: UTCInstant
    last_error: str | None
    created_at: UTCInstant
    finished_at: UTCInstant | None


class JobPage(BaseModel):
    items: list[JobItem]
    next_cursor: str | None


def list_jobs(
    session: Session,
    status: str | None,
    kind: str | None,
    cursor: str | None,
    limit: int = PAGE_SIZE,
) -> JobPage:
    """Newest first; every organization's jobs (see the module's note)."""
    query = select(Job)
    if status is not None:
        query = query.where(Job.status == status)
    if kind is not None:
        query = query.where(Job.kind == kind)
    rows, next_cursor = page_after(
        session, query, Job.created_at, Job.id, cursor, limit, newest_first=True
    )
    return JobPage(
        items=[JobItem.model_validate(r, from_attributes=True) for r in rows],
        next_cursor=next_cursor,
    )


def counts(session: Session) -> dict[str, int]:
    """How many jobs have each status (every status, zeros included)."""
    query = select(Job.status, func.count()).group_by(Job.status)
    found: dict[str, int] = {status: count for status, count in session.execute(query)}
    return {status: found.get(status, 0) for status in JOB_STATUSES}


def kinds(session: Session) -> list[str]:
    """The kinds of job there are now, for a filter."""
    return list(session.scalars(select(Job.kind).distinct().order_by(Job.kind)))


def retry(
    session: Session, organization: Organization, actor: str, actor_id: uuid.UUID, job_id: str
) -> JobItem:
    """Queue a dead job again, to run at once with its attempts counted from zero, and write
    it to the audit log. If a job for the same thing (its kind and key) is already waiting,
    that one does the work: the dead one is closed as ``cancelled`` instead."""
    parsed = parse_id(job_id)
    row = None
    if parsed is not None:
        # Locked, so that two administrators retrying at once queue it once.
        row = session.scalar(select(Job).where(Job.id == parsed).with_for_update())
    if row is None:
        raise NotFound("No job with this id.")
    if row.status != "dead":
        raise JobNotDead(
            f"This job is {row.status}, not dead: only a dead job can be retried. "
            + _why_not(row.status)
        )
    attempts = row.attempts
    jobs.retry_now(session, row.id)
    if row.status == "dead":  # one of its kind and key waits already
        row.status = "cancelled"
        row.finished_at = utcnow()
        session.flush()
    record(
        session,
        organization,
        actor,
        actor_id,
        "job.retry",
        "job",
        f"{row.kind} {row.key}",
        {"status": "dead", "attempts": attempts},
        {"status": row.status},
    )
    return JobItem.model_validate(row, from_attributes=True)


def _why_not(status: str) -> str:
    return {
        "queued": "It is waiting to run already.",
        "running": "A worker is running it now.",
        "done": "It has succeeded.",
        "cancelled": "It was cancelled, or another job does its work.",
    }.get(status, "")


def dead_count(session: Session) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Job).where(Job.status == "dead")) or 0
    )
