"""Background jobs: every piece of work the worker does, one row each (see ``jobs.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from bookwithme.models.base import Base, IdMixin, utcnow

JOB_STATUSES = ("queued", "running", "done", "dead", "cancelled")


class Job(IdMixin, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'running', 'done', 'dead', 'cancelled')", name="status"
        ),
        Index(None, "status", "kind", "run_at"),
        # The dedupe key: at most one job of a kind and key waits, and at most one runs.
        # The second is what keeps two workers from ever doing one thing at once (writing
        # one calendar, sending one reminder): a database constraint, not only a query.
        Index(
            "ix_jobs_one_queued_per_key",
            "kind",
            "key",
            unique=True,
            sqlite_where=text("status = 'queued'"),
            postgresql_where=text("status = 'queued'"),
        ),
        Index(
            "ix_jobs_one_running_per_key",
            "kind",
            "key",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
    )

    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Raised when a worker takes the job, so one that kills its worker still ends dead.
    attempts: Mapped[int] = mapped_column(default=0)
    locked_by: Mapped[str | None] = mapped_column(String(64), default=None)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
