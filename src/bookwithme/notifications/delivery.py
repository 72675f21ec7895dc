"""Delivering the outbox: claim due messages with a lease, send them over SMTP, record the
result; failures are retried with exponential backoff.

Several workers may run at once (``serve`` processes and ``bookwithme worker``): a batch is
claimed by one of them for ``LEASE`` and only its holder may mark it. Each message is marked
sent in its own transaction right after the SMTP server accepted it (and the lease of the
rest of the batch is renewed there), so a worker that dies mid-batch leaves behind only the
messages the server had not accepted; they are picked up again when the lease runs out.
Nothing written to the outbox is lost, and the only message that can go out twice is one
accepted in the instant between the server's "250 OK" and that commit; it keeps its
Message-ID, which mail systems use to drop duplicates. (SMTP has no way to close that last
window: the server may have accepted a message whose answer never arrived.)
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Protocol
from urllib.parse import unquote, urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.db import session_scope
from bookwithme.models import OutboxMessage, utcnow

log = logging.getLogger("bookwithme.delivery")

LEASE = timedelta(seconds=60)  # renewed after each message of a batch
BATCH = 20
MAX_ATTEMPTS = 12  # about a day and a half of retries
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=6)


class SMTPSettingsError(ValueError):
    pass


@dataclass(frozen=True)
class SMTPConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool

    @classmethod
    def from_url(cls, url: str) -> SMTPConfig:
        """``smtp://user:pass@host:port`` (STARTTLS when the server offers it) or
        ``smtps://…`` (TLS from the start)."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise SMTPSettingsError("SMTP_URL must start with smtp:// or smtps://")
        if not parts.hostname:
            raise SMTPSettingsError("SMTP_URL needs a host name")
        try:
            port = parts.port or (465 if parts.scheme == "smtps" else 25)
        except ValueError as exc:
            raise SMTPSettingsError("SMTP_URL has an invalid port") from exc
        return cls(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=parts.scheme == "smtps",
        )


class Sender(Protocol):
    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...


class SMTPSender:
    """Keeps one SMTP connection open for a batch of messages (``close`` ends it); a
    connection the server dropped is opened again once."""

    def __init__(self, config: SMTPConfig, timeout: float = 30) -> None:
        self.config = config
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if c.implicit_tls:
            smtp = smtplib.SMTP_SSL(c.host, c.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(c.host, c.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if not c.implicit_tls and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            if c.username:
                smtp.login(c.username, c.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPServerDisconnected:
            self._smtp = self._connect()
            self._smtp.send_message(message)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


def build_message(row: OutboxMessage, mail_from: str) -> EmailMessage:
    """Plain text and HTML alternatives, the invitation inline as text/calendar (what Outlook
    and Gmail read) and again as an .ics attachment (what everything else opens)."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = row.message_id or make_msgid(domain="bookwithme")
    message["Content-Language"] = row.locale
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    if row.ics:
        method = row.ics_method or "REQUEST"
        message.add_alternative(row.ics, subtype="calendar", params={"method": method})
        message.add_attachment(
            row.ics.encode("utf-8"),
            maintype="application",
            subtype="ics",
            filename="invite.ics" if method == "REQUEST" else "cancel.ics",
        )
    return message


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min … at most 6 h."""
    delay: timedelta = FIRST_RETRY * (2 ** max(0, attempts - 1))
    return min(delay, LONGEST_RETRY)


def _claim(session: Session, worker: str, now: datetime, limit: int) -> list[OutboxMessage]:
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.created_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(session.scalars(due))
    if not ids:
        return []
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(locked_by=worker, locked_until=now + LEASE)
    )
    # In the order they were written: a calendar must see REQUEST before CANCEL.
    rows = list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .order_by(OutboxMessage.created_at, OutboxMessage.kind)
        )
    )
    for row in rows:
        if row.message_id is None:
            row.message_id = f"<{row.id}@bookwithme>"
    return rows


def deliver_due(
    factory: sessionmaker[Session],
    sender: Sender,
    mail_from: str,
    worker: str,
    now: datetime | None = None,
    limit: int = BATCH,
) -> int:
    """Send what is due now; returns how many messages were sent."""
    now = now or utcnow()
    with session_scope(factory, write=True) as session:
        claimed = _claim(session, worker, now, limit)
    try:
        return _send_claimed(factory, sender, mail_from, worker, now, claimed)
    finally:
        sender.close()


def _send_claimed(
    factory: sessionmaker[Session],
    sender: Sender,
    mail_from: str,
    worker: str,
    now: datetime,
    claimed: list[OutboxMessage],
) -> int:
    """Send the batch over one connection, recording each message as soon as the server
    has answered for it; the lease of the rest of the batch is renewed as time goes by."""
    sent = 0
    rest = [row.id for row in claimed]
    began = renewed_at = time.monotonic()
    for row in claimed:
        rest.remove(row.id)
        try:
            sender.send(build_message(row, mail_from))
            error = None
        except (TimeoutError, smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
            log.warning("delivery of %s to %s failed: %s", row.id, row.recipient, error)
        renew: datetime | None = None
        if rest and time.monotonic() - renewed_at > LEASE.total_seconds() / 4:
            renewed_at = time.monotonic()
            renew = now + timedelta(seconds=renewed_at - began) + LEASE
        with session_scope(factory, write=True) as session:
            if renew is not None:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(rest), OutboxMessage.locked_by == worker)
                    .values(locked_until=renew)
                )
            if error is None:
                sent += _mark_sent(session, worker, row.id)
            else:
                _mark_failed(session, worker, row.id, error, now)
    return sent


def _mark_sent(session: Session, worker: str, message_id: uuid.UUID) -> int:
    """One statement, and only while this worker still holds the message (its lease may
    have run out and gone to another worker)."""
    done = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.locked_by == worker)
        .values(
            status="sent",
            sent_at=utcnow(),
            last_error=None,
            attempts=OutboxMessage.attempts + 1,
            locked_by=None,
            locked_until=None,
        )
        .returning(OutboxMessage.id)
    ).first()
    return 0 if done is None else 1


def _mark_failed(
    session: Session, worker: str, message_id: uuid.UUID, error: str, now: datetime
) -> None:
    current = session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.locked_by == worker)
        .with_for_update()
    )
    if current is None:
        return
    current.attempts += 1
    current.locked_by = None
    current.locked_until = None
    current.last_error = error
    if current.attempts >= MAX_ATTEMPTS:
        current.status = "failed"
    else:
        current.next_attempt_at = now + backoff(current.attempts)
