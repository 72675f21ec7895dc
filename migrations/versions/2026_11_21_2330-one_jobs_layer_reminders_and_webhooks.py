"""One table of background jobs for everything the worker does; reminders of bookings;
webhook subscriptions and deliveries. Emails waiting in the outbox, calendar syncs and
write-backs become jobs; delivered emails lose their bodies (they held manage links).

Revision ID: 5a9e3c1d7b20
Revises: b7c1e2f30a11
Create Date: 2026-11-21 23:30:00+00:00
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op


revision: str = '5a9e3c1d7b20'
down_revision: str | None = 'b7c1e2f30a11'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_REMINDERS = '[{"minutes_before": 1440, "to": "invitee"}]'


def _jobs_table() -> sa.Table:
    return sa.table(
        'jobs',
        sa.column('id', sa.Uuid()),
        sa.column('kind', sa.String()),
        sa.column('key', sa.String()),
        sa.column('payload', sa.JSON()),
        sa.column('status', sa.String()),
        sa.column('run_at', sa.DateTime(timezone=True)),
        sa.column('attempts', sa.Integer()),
        sa.column('created_at', sa.DateTime(timezone=True)),
    )


def upgrade() -> None:
    op.create_table(
        'jobs',
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('run_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('locked_by', sa.String(length=64), nullable=True),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'dead', 'cancelled')",
            name=op.f('ck_jobs_status'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    )
    op.create_index(op.f('ix_jobs_status_kind_run_at'), 'jobs', ['status', 'kind', 'run_at'])
    op.create_index(
        'ix_jobs_one_queued_per_key', 'jobs', ['kind', 'key'], unique=True,
        sqlite_where=sa.text("status = 'queued'"), postgresql_where=sa.text("status = 'queued'"),
    )
    op.create_index(
        'ix_jobs_one_running_per_key', 'jobs', ['kind', 'key'], unique=True,
        sqlite_where=sa.text("status = 'running'"), postgresql_where=sa.text("status = 'running'"),
    )

    op.create_table(
        'booking_reminders',
        sa.Column('booking_id', sa.Uuid(), nullable=False),
        sa.Column('minutes_before', sa.Integer(), nullable=False),
        sa.Column('recipient', sa.String(length=16), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('manage_url_sealed', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "recipient IN ('invitee', 'organizer', 'both')",
            name=op.f('ck_booking_reminders_recipient'),
        ),
        sa.CheckConstraint(
            "status IN ('scheduled', 'sent', 'skipped', 'cancelled')",
            name=op.f('ck_booking_reminders_status'),
        ),
        sa.ForeignKeyConstraint(
            ['booking_id'], ['bookings.id'],
            name=op.f('fk_booking_reminders_booking_id_bookings'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_reminders')),
    )
    op.create_index(
        op.f('ix_booking_reminders_booking_id'), 'booking_reminders', ['booking_id']
    )

    op.create_table(
        'webhook_subscriptions',
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('events', sa.JSON(), nullable=False),
        sa.Column('secret_sealed', sa.Text(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
        sa.Column('disabled_reason', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'],
            name=op.f('fk_webhook_subscriptions_user_id_users'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscriptions')),
    )
    op.create_index(
        op.f('ix_webhook_subscriptions_user_id'), 'webhook_subscriptions', ['user_id']
    )

    op.create_table(
        'webhook_deliveries',
        sa.Column('subscription_id', sa.Uuid(), nullable=False),
        sa.Column('event', sa.String(length=40), nullable=False),
        sa.Column('message_id', sa.String(length=64), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')",
            name=op.f('ck_webhook_deliveries_status'),
        ),
        sa.ForeignKeyConstraint(
            ['subscription_id'], ['webhook_subscriptions.id'],
            name=op.f('fk_webhook_deliveries_subscription_id_webhook_subscriptions'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
        sa.UniqueConstraint('message_id', name=op.f('uq_webhook_deliveries_message_id')),
    )
    op.create_index(
        op.f('ix_webhook_deliveries_subscription_id_created_at'),
        'webhook_deliveries', ['subscription_id', 'created_at'],
    )

    with op.batch_alter_table('meeting_types', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('reminders', sa.JSON(), server_default=DEFAULT_REMINDERS, nullable=False)
        )

    # What was waiting becomes jobs: emails not sent yet, every calendar's next sync, and a
    # look at every write-back calendar.
    bind = op.get_bind()
    now = datetime.now(UTC)
    if bind.dialect.name == 'sqlite':
        now = now.replace(tzinfo=None)
    outbox = sa.table(
        'outbox_messages',
        sa.column('id', sa.Uuid()),
        sa.column('status', sa.String()),
        sa.column('next_attempt_at', sa.DateTime(timezone=True)),
        sa.column('body_text', sa.Text()),
        sa.column('body_html', sa.Text()),
        sa.column('ics', sa.Text()),
    )
    connections = sa.table(
        'calendar_connections',
        sa.column('id', sa.Uuid()),
        sa.column('kind', sa.String()),
        sa.column('write_back', sa.Boolean()),
        sa.column('next_sync_at', sa.DateTime(timezone=True)),
    )
    rows = []
    for message_id, due in bind.execute(
        sa.select(outbox.c.id, outbox.c.next_attempt_at).where(outbox.c.status == 'pending')
    ):
        rows.append(('email', message_id, {'message': str(message_id)}, due))
    for connection_id, kind, write_back, due in bind.execute(
        sa.select(
            connections.c.id, connections.c.kind, connections.c.write_back,
            connections.c.next_sync_at,
        )
    ):
        rows.append(('calendar.sync', connection_id, {}, due))
        if write_back and kind == 'caldav':
            rows.append(('calendar.write_back', connection_id, {}, now))
    if rows:
        op.bulk_insert(
            _jobs_table(),
            [
                {
                    'id': uuid.uuid4(), 'kind': kind, 'key': str(key), 'payload': payload,
                    'status': 'queued', 'run_at': due or now, 'attempts': 0, 'created_at': now,
                }
                for kind, key, payload, due in rows
            ],
        )
    bind.execute(
        outbox.update()
        .where(outbox.c.status == 'sent')
        .values(body_text=None, body_html=None, ics=None)
    )

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.alter_column('body_text', existing_type=sa.Text(), nullable=True)
        batch_op.drop_column('locked_by')
        batch_op.drop_column('locked_until')

    with op.batch_alter_table('calendar_connections', schema=None) as batch_op:
        batch_op.drop_index('ix_calendar_connections_next_sync_at')
        batch_op.drop_column('lease_expires_at')
        batch_op.drop_column('lease_owner')
        batch_op.drop_column('next_sync_at')


def downgrade() -> None:
    with op.batch_alter_table('calendar_connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_sync_at', sa.DateTime(timezone=True),
                                      server_default=sa.func.now(), nullable=False))
        batch_op.add_column(sa.Column('lease_owner', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('lease_expires_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index('ix_calendar_connections_next_sync_at', ['next_sync_at'])
    op.execute("UPDATE outbox_messages SET body_text = '' WHERE body_text IS NULL")
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('locked_by', sa.String(length=64), nullable=True))
        batch_op.alter_column('body_text', existing_type=sa.Text(), nullable=False)
    with op.batch_alter_table('meeting_types', schema=None) as batch_op:
        batch_op.drop_column('reminders')
    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_subscriptions')
    op.drop_table('booking_reminders')
    op.drop_table('jobs')
