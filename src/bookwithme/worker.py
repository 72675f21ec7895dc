"""The background worker: delivers the outbox and keeps connected calendars synced.

It runs inside ``serve`` (``EMBEDDED_WORKER``, the default) or alone as ``bookwithme worker``;
several may run at once, sharing the work through leases in the database."""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.calendars.sync import sync_due
from bookwithme.calendars.writeback import write_back_due
from bookwithme.config import Settings
from bookwithme.models import OutboxMessage
from bookwithme.notifications.delivery import BATCH, SMTPConfig, SMTPSender, deliver_due

log = logging.getLogger("bookwithme.worker")
CALENDAR_CHECK_EVERY = 5.0  # seconds between looks for calendars due a sync


class Worker:
    def __init__(
        self, factory: sessionmaker[Session], settings: Settings, interval: float = 1.0
    ) -> None:
        self.factory = factory
        self.interval = interval
        self.name = f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        # A bad SMTP_URL fails here, at start-up, with the reason.
        self.smtp = SMTPConfig.from_url(settings.smtp_url) if settings.smtp_url else None
        self.sender = SMTPSender(self.smtp) if self.smtp else None
        self.mail_from = settings.mail_from
        self.secret_key = settings.resolved_secret_key
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_calendar_check = 0.0
        # Wake up as soon as this process commits new outbox rows, instead of waiting for
        # the next poll (other processes' rows are found by polling).
        event.listen(factory, "after_flush", self._note_new_messages)
        event.listen(factory, "after_commit", self._wake_if_noted)

    def _note_new_messages(self, session: Session, _context: object) -> None:
        if any(isinstance(obj, OutboxMessage) for obj in session.new):
            session.info["bookwithme.outbox_written"] = True

    def _wake_if_noted(self, session: Session) -> None:
        if session.info.pop("bookwithme.outbox_written", False):
            self._wake.set()

    def deliver(self) -> int:
        if self.sender is None:
            return 0  # no SMTP: emails wait in the outbox for an administrator to read
        return deliver_due(self.factory, self.sender, self.mail_from, self.name)

    def sync_calendars(self) -> int:
        synced = sync_due(self.factory, self.name, self.secret_key)
        write_back_due(self.factory, self.name, self.secret_key)
        return synced

    def run_once(self) -> None:
        while self.deliver() == BATCH and not self._stop.is_set():
            pass
        if time.monotonic() >= self._next_calendar_check:
            self._next_calendar_check = time.monotonic() + CALENDAR_CHECK_EVERY
            self.sync_calendars()

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("the worker hit an error; it will try again")
            self._wake.wait(self.interval)
            self._wake.clear()

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.run_forever, name="bookwithme-worker", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=20)
