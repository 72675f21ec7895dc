"""No two confirmed bookings of one organizer overlap (PostgreSQL: an exclusion constraint).

The constraint covers each booking widened by its own buffers (``blocked_start_at`` to
``blocked_end_at``), which is exactly what the slot rule forbids to overlap. SQLite has no
exclusion constraints; there bookings are written in IMMEDIATE transactions, one at a time,
and the rule is checked inside them.

Revision ID: 5b1f0c2d9e47
Revises: cad09096a181
Create Date: 2026-11-21 10:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5b1f0c2d9e47"
down_revision: str | None = "cad09096a181"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute(
        "ALTER TABLE bookings ADD CONSTRAINT ex_bookings_no_overlap EXCLUDE USING gist "
        "(user_id WITH =, tstzrange(blocked_start_at, blocked_end_at, '[)') WITH &&) "
        "WHERE (status = 'confirmed')"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE bookings DROP CONSTRAINT ex_bookings_no_overlap")
