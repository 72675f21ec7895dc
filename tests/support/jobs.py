"""Running background jobs in tests the way the worker does, with a chosen clock and, for
some kinds, a chosen resource (an SMTP sender that dies half-way, say)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bookwithme import jobs
from bookwithme.config import Settings
from bookwithme.worker import Worker  # noqa: F401  (registers every kind)


def run_due(
    factory: sessionmaker[Session],
    settings: Settings,
    kinds: list[str],
    *,
    worker: str = "w1",
    now: datetime | None = None,
    state: Any = None,
    limit: int = 100,
) -> list[str | None]:
    """Claim what of ``kinds`` is due at ``now`` and run it; the statuses it ended with."""
    statuses = []
    for job in jobs.claim(factory, kinds, worker, limit, now):
        kind = jobs.REGISTRY[job.kind]
        own = state is None and kind.setup is not None
        resource = kind.setup(settings) if own and kind.setup else state
        context = jobs.JobContext(job, factory, settings, worker, kind.lease, resource)
        try:
            statuses.append(jobs.run(context, now))
        finally:
            if state is None and resource is not None and hasattr(resource, "close"):
                resource.close()
    return statuses


def deliver_due(
    factory: sessionmaker[Session],
    settings: Settings,
    sender: Any,
    *,
    worker: str = "w1",
    now: datetime | None = None,
) -> int:
    """Send the emails due at ``now`` through ``sender``; how many were sent."""
    try:
        statuses = run_due(factory, settings, ["email"], worker=worker, now=now, state=sender)
    finally:
        sender.close()
    return statuses.count("done")
