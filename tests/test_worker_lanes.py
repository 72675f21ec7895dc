"""Kinds of background work do not hold each other up: a calendar feed that hangs does not
delay anyone's confirmation email (each lane has threads of its own)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.config import Settings
from bookwithme.db import session_scope
from bookwithme.models import Job, utcnow
from tests.bookings.test_booking_api import Page, at
from tests.factories import create_account
from tests.notifications.test_delivery import Inbox, with_smtp
from tests.scheduling.test_public_slots import next_monday

FEED = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nEND:VCALENDAR\r\n"


class HangingFeed:
    """Answers a calendar once, then holds every later request until ``release``."""

    def __init__(self) -> None:
        self.answered = 0
        self.hanging = threading.Event()
        self.released = threading.Event()
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if feed.answered:
                    feed.hanging.set()
                    feed.released.wait(30)
                feed.answered += 1
                self.send_response(200)
                self.send_header("Content-Type", "text/calendar")
                self.send_header("Content-Length", str(len(FEED)))
                self.end_headers()
                self.wfile.write(FEED)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/work.ics"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()


@pytest.fixture
def hanging_feed() -> Iterator[HangingFeed]:
    feed = HangingFeed()
    yield feed
    feed.close()


@pytest.mark.private_targets
def test_a_hanging_calendar_does_not_hold_up_confirmation_emails(
    settings: Settings,
    session_factory: sessionmaker[Session],
    hanging_feed: HangingFeed,
    smtp: tuple[Inbox, Any],
) -> None:
    from bookwithme.app import create_app

    inbox, sender = smtp
    with TestClient(create_app(with_smtp(settings, sender))) as client:
        page = Page(client, create_account(session_factory, "ada@example.com"))
        connected = client.post(
            "/api/v1/calendars",
            json={"kind": "ics", "name": "Work", "url": hanging_feed.url},
            headers=page.account.headers,
        )
        assert connected.status_code == 201, connected.text
        # The feed is due again now, and hangs when the worker reads it.
        with session_scope(session_factory, write=True) as session:
            session.execute(
                update(Job)
                .where(Job.kind == "calendar.sync", Job.status == "queued")
                .values(run_at=utcnow())
            )
        assert hanging_feed.hanging.wait(15), "the worker never read the feed"
        page.book(at(next_monday(), 10))
        deadline = time.monotonic() + 15
        while len(inbox.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        # Both emails went out while the calendar read was still hanging.
        assert sorted(m["To"] for m in inbox.messages) == ["ada@example.com", "grace@example.com"]
        assert not hanging_feed.released.is_set()
        hanging_feed.released.set()
