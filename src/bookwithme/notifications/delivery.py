"""Delivering the outbox: each message is a job of kind ``email`` (``jobs.py``), sent over
SMTP by the worker's mail lane, which keeps one connection open for a batch.

A message is marked sent in its own transaction right after the SMTP server accepted it,
and only while this worker still holds its job, so a worker that dies mid-batch leaves
behind only the messages the server had not accepted; they are taken again when their
lease runs out. Nothing written to the outbox is lost, and the only message that can go out
twice is one accepted in the instant between the server's "250 OK" and that commit; it
keeps its Message-ID, which mail systems use to drop duplicates. (SMTP has no way to close
that last window: the server may have accepted a message whose answer never arrived.)
Once sent, its bodies are dropped: they hold the invitee's manage link.

Without ``SMTP_URL`` the kind is off: messages wait in the outbox for an administrator.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import cache
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from sqlalchemy import update
from sqlalchemy.orm import Session

from bookwithme import jobs
from bookwithme.config import Settings
from bookwithme.db import session_scope
from bookwithme.models import OutboxMessage, utcnow
from bookwithme.notifications.outbox import EMAIL_JOB, opened

log = logging.getLogger("bookwithme.delivery")

LEASE = timedelta(seconds=60)  # renewed as a batch goes on
BATCH = 20
MAX_ATTEMPTS = 12  # about a day and a half of retries
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=6)
RETRY = jobs.RetryPolicy(first=FIRST_RETRY, longest=LONGEST_RETRY, max_attempts=MAX_ATTEMPTS)


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


@cache
def tls_context() -> ssl.SSLContext:
    """The TLS settings for the SMTP server, made once: making them reads the system's
    certificate authorities, which cost more than sending a message (one context serves
    every connection and thread)."""
    return ssl.create_default_context()


class SMTPSender:
    """Keeps one SMTP connection open for a batch of messages (``close`` ends it); a
    connection the server dropped is opened again once."""

    def __init__(self, config: SMTPConfig, timeout: float = 30) -> None:
        self.config = config
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        smtp: smtplib.SMTP
        if c.implicit_tls:
            smtp = smtplib.SMTP_SSL(c.host, c.port, timeout=self.timeout, context=tls_context())
        else:
            smtp = smtplib.SMTP(c.host, c.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if not c.implicit_tls and smtp.has_extn("starttls"):
                smtp.starttls(context=tls_context())
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


SERVICE_NAME = "bookwithme"


def _one_line(name: str) -> str:
    """A person's name as a header may carry it: control characters (CR and LF above all,
    which would start a header of their own) and runs of spaces become one space."""
    return " ".join("".join(c if c.isprintable() else " " for c in name).split())


def _address(name: str, addr_spec: str) -> Address | None:
    """``name <addr_spec>``, quoted and encoded as the header needs (a comma, a quote or
    "Zoë" in a name are safe); None for an address the header cannot carry."""
    try:
        return Address(display_name=_one_line(name), addr_spec=addr_spec.strip())
    except (ValueError, IndexError):
        return None


def sender(mail_from: str, on_behalf_of: str | None) -> Address | str:
    """The From of an email about a person's meeting: "Ada Lovelace via bookwithme" at
    MAIL_FROM's address (MAIL_FROM's own display name, when it has one, stands for
    "bookwithme"); MAIL_FROM as it is for the service's own emails."""
    service, addr_spec = parseaddr(mail_from)
    who = _one_line(on_behalf_of or "")
    if not who or not addr_spec:
        return mail_from
    via = _one_line(service) or SERVICE_NAME
    return _address(f"{who} via {via}", addr_spec) or mail_from


def build_message(
    row: OutboxMessage,
    mail_from: str,
    secret_key: str,
    headers: dict[str, Any] | None = None,
) -> EmailMessage:
    """Plain text and HTML alternatives, the invitation inline as text/calendar (what Outlook
    and Gmail read) and again as an .ics attachment (what everything else opens).
    ``headers`` is what the email job carries (``outbox.enqueue_email``): ``sender_name``,
    shown as "… via bookwithme" in From, and ``reply_to`` as [name, address]."""
    headers = headers or {}
    message = EmailMessage()
    message["From"] = sender(mail_from, headers.get("sender_name"))
    message["To"] = row.recipient
    reply_to = headers.get("reply_to")
    if isinstance(reply_to, list) and len(reply_to) == 2:
        address = _address(str(reply_to[0]), str(reply_to[1]))
        if address is not None:
            message["Reply-To"] = address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = row.message_id or make_msgid(domain="bookwithme")
    message["Content-Language"] = row.locale
    text = opened(secret_key, row.body_text)
    if text is None:
        raise jobs.Permanent("The message's text cannot be read with this SECRET_KEY.")
    message.set_content(text)
    html = opened(secret_key, row.body_html)
    if html:
        message.add_alternative(html, subtype="html")
    ics = opened(secret_key, row.ics)
    if ics:
        method = row.ics_method or "REQUEST"
        message.add_alternative(ics, subtype="calendar", params={"method": method})
        message.add_attachment(
            ics.encode("utf-8"),
            maintype="application",
            subtype="ics",
            filename="invite.ics" if method == "REQUEST" else "cancel.ics",
        )
    return message


def _deliver(context: jobs.JobContext) -> None:
    message_id = uuid.UUID(context.job.payload["message"])
    with context.factory() as reader:
        row = reader.get(OutboxMessage, message_id)
        if row is None or row.status == "sent":
            return  # sent already, or deleted with its booking's organizer
        # A "failed" message runs again only when an administrator retried its dead job.
        message = build_message(
            row,
            context.settings.mail_from,
            context.settings.resolved_secret_key,
            context.job.payload,
        )
    sender: Sender = context.state
    try:
        sender.send(message)
    except (TimeoutError, smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise RuntimeError(f"{type(exc).__name__}: {exc}"[:2000]) from exc
    with session_scope(context.factory, write=True) as session:
        context.complete(session)  # sent, and the job done, in one write
        _mark_sent(session, message_id, utcnow())


def _mark_sent(session: Session, message_id: uuid.UUID, now: datetime) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status != "sent")
        .values(
            status="sent",
            sent_at=now,
            last_error=None,
            attempts=OutboxMessage.attempts + 1,
            body_text=None,
            body_html=None,
            ics=None,
        )
    )


def _failed(
    session: Session, context: jobs.JobContext, error: str, next_at: datetime | None
) -> None:
    """What the administrators' outbox view shows of a failed attempt."""
    values: dict[str, object] = {"attempts": OutboxMessage.attempts + 1, "last_error": error}
    if next_at is None:
        values["status"] = "failed"
    else:
        values["next_attempt_at"] = next_at
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == uuid.UUID(context.job.payload["message"]),
            OutboxMessage.status == "pending",
        )
        .values(**values)
    )


def _smtp_configured(settings: Settings) -> bool:
    return settings.smtp_url is not None


def _sender(settings: Settings) -> SMTPSender:
    assert settings.smtp_url is not None
    return SMTPSender(SMTPConfig.from_url(settings.smtp_url))


EMAIL = jobs.register(
    jobs.Kind(
        EMAIL_JOB,
        _deliver,
        lane="mail",
        retry=RETRY,
        lease=LEASE,
        batch=BATCH,
        on_failure=_failed,
        enabled=_smtp_configured,
        setup=_sender,
    )
)
