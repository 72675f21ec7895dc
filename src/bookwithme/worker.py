"""The background worker: runs every kind of job (``jobs.py``), each lane in threads of its
own, so a slow calendar never holds up anyone's confirmation email.

It runs inside ``serve`` (``EMBEDDED_WORKER``, the default) or alone as ``bookwithme worker``;
several may run at once, on any number of hosts, sharing the work through the jobs table."""

from __future__ import annotations

import logging
import socket
import threading
import uuid

from sqlalchemy.orm import Session, sessionmaker

from bookwithme import jobs

# Importing the modules that do the work registers their kinds of job.
from bookwithme.calendars import sync, writeback  # noqa: F401
from bookwithme.config import Settings
from bookwithme.db import session_scope
from bookwithme.jobs import Kind, Lane
from bookwithme.notifications import delivery, reminders  # noqa: F401
from bookwithme.notifications.delivery import SMTPConfig
from bookwithme.webhooks import delivery as webhook_delivery  # noqa: F401

log = logging.getLogger("bookwithme.worker")

# Threads per lane. Calendars and webhooks wait on other people's servers (up to their time
# budget each), so they get two, and can never take the mail lane's.
LANE_THREADS = {"mail": 1, "calendars": 2, "webhooks": 2, "upkeep": 1}


class Worker:
    def __init__(
        self, factory: sessionmaker[Session], settings: Settings, interval: float = 1.0
    ) -> None:
        if settings.smtp_url:
            SMTPConfig.from_url(settings.smtp_url)  # a bad SMTP_URL fails here, with the reason
        self.factory = factory
        self.settings = settings
        self.interval = interval
        self.name = f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        lanes: dict[str, list[Kind]] = {}
        for kind in jobs.REGISTRY.values():
            if kind.enabled(settings):
                lanes.setdefault(kind.lane, []).append(kind)
        self.lanes = lanes
        self._wake = {name: threading.Event() for name in lanes}
        self._lane_of = {kind.name: kind.lane for kinds in lanes.values() for kind in kinds}

    def _woken(self, kinds: set[str]) -> None:
        for kind in kinds:
            lane = self._lane_of.get(kind)
            if lane is not None:
                self._wake[lane].set()

    def lane(self, name: str) -> Lane:
        return Lane(self.lanes[name], self.factory, self.settings, self.name)

    def run_until_idle(self) -> int:
        """Run every lane until nothing is due (tests and one-off runs); returns how many
        jobs ran."""
        total = 0
        for name in self.lanes:
            lane = self.lane(name)
            while ran := lane.run_batch():
                total += ran
        return total

    def _loop(self, name: str) -> None:
        lane = self.lane(name)
        wake = self._wake[name]
        while not self._stop.is_set():
            try:
                if lane.run_batch() >= max(kind.batch for kind in lane.kinds):
                    continue  # a full batch: there may be more at once
            except Exception:
                log.exception("the %s lane hit an error; it will try again", name)
            wake.wait(self.interval)
            wake.clear()

    def start(self) -> None:
        with session_scope(self.factory, write=True) as session:
            jobs.enqueue(session, "upkeep", "upkeep")  # keeps itself going from there
        jobs.on_enqueue(self._woken)
        for name in self.lanes:
            for index in range(LANE_THREADS.get(name, 1)):
                thread = threading.Thread(
                    target=self._loop, args=(name,), name=f"bookwithme-{name}-{index}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def stop(self) -> None:
        jobs.off_enqueue(self._woken)
        self._stop.set()
        for event in self._wake.values():
            event.set()
        for thread in self._threads:
            thread.join(timeout=25)
