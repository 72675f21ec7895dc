"""Webhooks (SPEC 2.9): subscribing through the API and the organizer's page, and what a
real receiver on 127.0.0.1 gets: signed deliveries of booking changes, retries with the same
``webhook-id``, and the subscription turning itself off after 3 days of failures."""

from __future__ import annotations

import json
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook

from bookwithme import targets
from bookwithme.config import Settings
from bookwithme.db import session_scope
from bookwithme.models import Job, OutboxMessage, WebhookSubscription, utcnow
from bookwithme.notifications.outbox import opened
from bookwithme.webhooks import delivery as webhook_delivery
from tests.bookings.test_booking_api import Page, at
from tests.factories import create_account, sign_in
from tests.factories import post_form as post
from tests.scheduling.test_public_slots import next_monday

HTML = {"accept": "text/html"}
ALL_EVENTS = ["booking.created", "booking.rescheduled", "booking.cancelled"]


# --- A receiver: a real web server on 127.0.0.1 ---------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    def verified(self, secret: str) -> Any:
        """The payload, once its signature is checked the way a receiver would."""
        return Webhook(secret).verify(self.body, self.headers)


@dataclass
class Receiver:
    """Answers each POST with the next of ``answers`` (then ``default``) and keeps it."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    default: int = 204

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            with lock:
                status = state.answers.pop(0) if state.answers else state.default
                state.received.append(
                    Received(
                        self.path, {k.lower(): v for k, v in self.headers.items()}, body, status
                    )
                )
            answer = b"" if status < 300 else b"receiver is down for maintenance"
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


# --- Helpers ----------------------------------------------------------------------------------


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Page:
    return Page(
        client, create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    )


def subscribe(page: Page, url: str, events: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url}
    if events is not None:
        body["events"] = events
    answer = page.client.post("/api/v1/webhooks", json=body, headers=page.account.headers)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def get(page: Page, path: str) -> Any:
    answer = page.client.get(path, headers=page.account.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def deliveries(page: Page, webhook_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = get(page, f"/api/v1/webhooks/{webhook_id}/deliveries")["items"]
    return items


def deliver(
    factory: sessionmaker[Session], settings: Settings, now: datetime | None = None
) -> list[str | None]:
    from tests.support.jobs import run_due

    return run_due(factory, settings, ["webhook"], now=now)


def queued_webhook_job(factory: sessionmaker[Session]) -> Job | None:
    with factory() as session:
        return session.scalars(
            select(Job).where(Job.kind == "webhook", Job.status == "queued")
        ).first()


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- The API ----------------------------------------------------------------------------------


def test_subscribe_read_change_and_delete(ada: Page, session: Session) -> None:
    created = subscribe(ada, "https://93.184.216.34/hooks/bookings")
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 30
    Webhook(created["secret"])  # a secret the Standard Webhooks libraries accept
    assert created["events"] == ALL_EVENTS and created["active"] is True
    assert created["url"] == "https://93.184.216.34/hooks/bookings"
    assert created["created_at"].endswith("Z")
    # The secret is shown once: never in what is read later, and stored only encrypted.
    listed = get(ada, "/api/v1/webhooks")["items"]
    assert [w["id"] for w in listed] == [created["id"]] and "secret" not in listed[0]
    one = get(ada, f"/api/v1/webhooks/{created['id']}")
    assert one == {k: v for k, v in created.items() if k != "secret"}
    stored = session.scalars(select(WebhookSubscription)).one()
    assert created["secret"] not in stored.secret_sealed

    headers = ada.account.headers
    changed = ada.client.patch(
        f"/api/v1/webhooks/{created['id']}",
        json={"events": ["booking.cancelled", "booking.created"], "active": False},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["events"] == ["booking.created", "booking.cancelled"]
    assert changed.json()["active"] is False
    moved = ada.client.patch(
        f"/api/v1/webhooks/{created['id']}",
        json={"url": "https://93.184.216.34/v2", "active": True},
        headers=headers,
    )
    assert moved.json()["url"] == "https://93.184.216.34/v2" and moved.json()["active"] is True

    gone = ada.client.delete(f"/api/v1/webhooks/{created['id']}", headers=headers)
    assert gone.status_code == 204 and gone.content == b""
    assert ada.client.get(f"/api/v1/webhooks/{created['id']}", headers=headers).status_code == 404
    assert get(ada, "/api/v1/webhooks")["items"] == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"url": "ftp://93.184.216.34/x"}, "http"),
        ({"url": "not an address"}, "http"),
        ({"url": ""}, "url"),
        ({"url": "http://["}, "not a valid web address"),
        ({"url": "https://93.184.216.34/a b"}, "http"),
        ({"url": "https://93.184.216.34/" + "x" * 2000}, "2000"),
        ({"url": "https://93.184.216.34/", "events": []}, "events"),
        ({"url": "https://93.184.216.34/", "events": ["booking.deleted"]}, "booking.created"),
        ({"url": "https://93.184.216.34/", "events": ["booking.created"] * 2}, "twice"),
        ({"url": "https://93.184.216.34/", "secret": "whsec_mine"}, "secret"),
        ({"events": ALL_EVENTS}, "url"),
    ],
)
def test_bad_input_is_422_with_a_reason(
    ada: Page, session: Session, body: dict[str, Any], message: str
) -> None:
    answer = ada.client.post("/api/v1/webhooks", json=body, headers=ada.account.headers)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "validation_error" and message in json.dumps(error)
    assert session.scalar(select(func.count()).select_from(WebhookSubscription)) == 0


def test_an_organizer_has_at_most_20_webhooks(ada: Page) -> None:
    for n in range(20):
        subscribe(ada, f"https://93.184.216.34/{n}")
    answer = ada.client.post(
        "/api/v1/webhooks", json={"url": "https://93.184.216.34/21"}, headers=ada.account.headers
    )
    assert answer.status_code == 409 and "at most 20" in answer.json()["error"]["message"]
    assert len(get(ada, "/api/v1/webhooks")["items"]) == 20


def test_a_patch_is_checked_too(ada: Page) -> None:
    created = subscribe(ada, "https://93.184.216.34/hook")
    path, headers = f"/api/v1/webhooks/{created['id']}", ada.account.headers
    bodies: list[dict[str, Any]] = [
        {"active": None},
        {"active": "no"},
        {"events": []},
        {"url": "mailto:a@b.c"},
        {"url": None},
        {"secret": "whsec_mine"},
    ]
    for body in bodies:
        answer = ada.client.patch(path, json=body, headers=headers)
        assert answer.status_code == 422, body
    assert get(ada, path) == {k: v for k, v in created.items() if k != "secret"}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://2130706433/hook",  # 127.0.0.1 spelled as one number
    ],
)
def test_private_addresses_are_refused_and_nothing_is_stored(
    ada: Page, session: Session, url: str
) -> None:
    answer = ada.client.post("/api/v1/webhooks", json={"url": url}, headers=ada.account.headers)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "target_not_allowed"
    assert "BOOKWITHME_ALLOW_PRIVATE_TARGETS" in error["message"]
    assert error["details"] == [{"field": "url", "message": error["message"][len("url: ") :]}]
    assert session.scalar(select(func.count()).select_from(WebhookSubscription)) == 0

    # Nor can a webhook be moved there.
    created = subscribe(ada, "https://93.184.216.34/hook")
    moved = ada.client.patch(
        f"/api/v1/webhooks/{created['id']}", json={"url": url}, headers=ada.account.headers
    )
    assert moved.status_code == 422 and moved.json()["error"]["code"] == "target_not_allowed"
    assert get(ada, f"/api/v1/webhooks/{created['id']}")["url"] == "https://93.184.216.34/hook"


def test_another_organizers_webhooks_are_404(
    ada: Page, client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    created = subscribe(ada, "https://93.184.216.34/hook")
    grace = create_account(session_factory, "grace@example.com", name="Grace Hopper")
    path = f"/api/v1/webhooks/{created['id']}"
    for method, suffix, body in (
        ("GET", "", None),
        ("PATCH", "", {"active": False}),
        ("DELETE", "", None),
        ("GET", "/deliveries", None),
        ("POST", "/test", None),
    ):
        answer = client.request(method, path + suffix, json=body, headers=grace.headers)
        assert answer.status_code == 404, (method, suffix)
        assert answer.json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/webhooks", headers=grace.headers).json() == {"items": []}
    assert client.get("/api/v1/webhooks/not-an-id", headers=grace.headers).status_code == 404
    # Untouched, and nothing was queued for it.
    assert get(ada, path)["active"] is True and deliveries(ada, created["id"]) == []
    # Without credentials: 401.
    assert client.get("/api/v1/webhooks").status_code == 401
    assert client.post("/api/v1/webhooks", json={"url": "https://x.example/"}).status_code == 401


# --- Deliveries to a real receiver ------------------------------------------------------------


@pytest.mark.private_targets
def test_each_booking_change_reaches_its_subscribers_signed(
    ada: Page,
    receiver: Receiver,
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    created_only = subscribe(ada, f"{receiver.url}/created", ["booking.created"])
    changes = subscribe(
        ada, f"{receiver.url}/changes", ["booking.rescheduled", "booking.cancelled"]
    )
    everything = subscribe(ada, f"{receiver.url}/all")
    secrets = {"/created": created_only, "/changes": changes, "/all": everything}
    headers = ada.account.headers
    monday = next_monday()

    def step(event: str, booking_id: str, paths: list[str]) -> None:
        """Deliver what is due; each of ``paths`` (and no other) got ``event``, signed,
        with the booking as the API shows it now."""
        shown = get(ada, f"/api/v1/bookings/{booking_id}")
        before = len(receiver.received)
        assert deliver(session_factory, settings) == ["done"] * len(paths)
        got = receiver.received[before:]
        assert sorted(r.path for r in got) == sorted(paths)
        for r in got:
            payload = r.verified(secrets[r.path]["secret"])
            assert set(payload) == {"type", "timestamp", "data"}
            assert payload["type"] == event
            assert payload["data"] == shown
            assert r.headers["content-type"] == "application/json"
            assert r.headers["webhook-id"].startswith("msg_")
            assert abs(int(r.headers["webhook-timestamp"]) - utcnow().timestamp()) < 60
            assert r.headers["webhook-signature"].startswith("v1,")
            # Signed with this subscription's secret, no other's.
            for other in secrets.values():
                if other["secret"] != secrets[r.path]["secret"]:
                    with pytest.raises(Exception, match="signature"):
                        r.verified(other["secret"])
        assert len({r.headers["webhook-id"] for r in got}) == len(got)

    booked = ada.book(at(monday, 10))
    assert booked.status_code == 201, booked.text
    booking_id = booked.json()["id"]
    step("booking.created", booking_id, ["/created", "/all"])
    assert get(ada, f"/api/v1/bookings/{booking_id}")["reminders"]  # in data, above

    # Moved by the invitee (through the manage link), cancelled by the organizer.
    token = booked.json()["manage_token"]
    moved = ada.client.post(
        f"/api/v1/public/bookings/{token}/reschedule", json={"start": at(monday, 11)}
    )
    assert moved.status_code == 200, moved.text
    step("booking.rescheduled", booking_id, ["/changes", "/all"])

    cancelled = ada.client.post(
        f"/api/v1/bookings/{booking_id}/cancel", json={"reason": "ill"}, headers=headers
    )
    assert cancelled.status_code == 200, cancelled.text
    step("booking.cancelled", booking_id, ["/changes", "/all"])
    assert receiver.received[-1].verified(everything["secret"])["data"]["status"] == "cancelled"

    # Each subscription's deliveries, newest first.
    listed = deliveries(ada, everything["id"])
    assert [d["event"] for d in listed] == [
        "booking.cancelled",
        "booking.rescheduled",
        "booking.created",
    ]
    assert all(
        d["status"] == "delivered"
        and d["attempts"] == 1
        and d["last_status_code"] == 204
        and d["last_error"] is None
        and d["next_attempt_at"] is None
        and d["delivered_at"].endswith("Z")
        for d in listed
    )
    assert [d["event"] for d in deliveries(ada, created_only["id"])] == ["booking.created"]


@pytest.mark.private_targets
def test_a_failed_attempt_is_retried_with_the_same_id_within_30_seconds(
    ada: Page,
    receiver: Receiver,
    session_factory: sessionmaker[Session],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hook = subscribe(ada, f"{receiver.url}/hook")
    receiver.answers = [500]
    booking_id = ada.book(at(next_monday(), 10)).json()["id"]

    first_at = utcnow()
    assert deliver(session_factory, settings, now=first_at) == ["queued"]
    [pending] = deliveries(ada, hook["id"])
    assert pending["status"] == "pending" and pending["attempts"] == 1
    assert pending["last_status_code"] == 500
    assert pending["last_error"] == "The receiver answered 500: receiver is down for maintenance"
    retry_at = instant(pending["next_attempt_at"])
    assert first_at < retry_at <= first_at + timedelta(seconds=30)
    job = queued_webhook_job(session_factory)
    assert job is not None and job.run_at == retry_at
    # Not before it is due.
    assert deliver(session_factory, settings, now=retry_at - timedelta(seconds=1)) == []

    # 31 seconds later, by the handler's clock: a new timestamp, the same id.
    later = utcnow() + timedelta(seconds=31)
    monkeypatch.setattr(webhook_delivery, "utcnow", lambda: later)
    assert deliver(session_factory, settings, now=retry_at) == ["done"]
    first, second = receiver.at("/hook")
    assert (first.answered, second.answered) == (500, 204)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    assert int(second.headers["webhook-timestamp"]) >= int(first.headers["webhook-timestamp"]) + 30
    assert first.headers["webhook-signature"] != second.headers["webhook-signature"]
    for attempt in (first, second):  # both verify (the first is 31 s old now: still fine)
        assert attempt.verified(hook["secret"])["data"]["id"] == booking_id

    [done] = deliveries(ada, hook["id"])
    assert done["id"] == pending["id"] and done["status"] == "delivered"
    assert done["attempts"] == 2 and done["last_status_code"] == 204 and done["last_error"] is None
    assert done["next_attempt_at"] is None and instant(done["delivered_at"]) == later
    assert queued_webhook_job(session_factory) is None


@pytest.mark.private_targets
def test_three_days_of_failures_turn_the_webhook_off_and_tell_the_organizer(
    ada: Page,
    receiver: Receiver,
    session_factory: sessionmaker[Session],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One booking, to a receiver that never answers 2xx: it is tried again and again for
    3 days (the worker's clock is moved to each retry), then the webhook turns itself off,
    what still waited is failed, and the organizer has an email."""
    hook = subscribe(ada, f"{receiver.url}/hook")
    receiver.default = 503
    ada.book(at(next_monday(), 10))
    start = utcnow()
    clock = [start]
    monkeypatch.setattr(webhook_delivery, "utcnow", lambda: clock[0])

    attempts = []  # the moments a request was made
    while (job := queued_webhook_job(session_factory)) is not None:
        clock[0] = max(job.run_at, clock[0])
        before = len(receiver.received)
        deliver(session_factory, settings, now=clock[0])
        if len(receiver.received) > before:
            attempts.append(clock[0])
        assert len(attempts) < 100

    [failed] = deliveries(ada, hook["id"])
    created = instant(failed["created_at"])
    gaps = [b - a for a, b in pairwise(attempts)]
    assert gaps[0] <= timedelta(seconds=30)  # the first retry
    assert max(gaps) <= timedelta(hours=4)
    # Turned off at the first attempt after 3 days, no sooner.
    assert attempts[-1] - created >= timedelta(days=3) > attempts[-2] - created
    sent = receiver.at("/hook")
    assert len(sent) == len(attempts) and {r.answered for r in sent} == {503}
    assert len({r.headers["webhook-id"] for r in sent}) == 1
    assert failed["status"] == "failed" and failed["attempts"] == len(sent)
    assert failed["last_status_code"] == 503 and failed["next_attempt_at"] is None

    shown = get(ada, f"/api/v1/webhooks/{hook['id']}")
    assert shown["active"] is False and "3 days" in shown["disabled_reason"]
    with session_factory() as session:
        [email] = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "webhook_turned_off")
        ).all()
        text = opened(settings.resolved_secret_key, email.body_text)
    assert email.recipient == "ada@example.com"
    assert email.subject == "Your webhook was turned off"
    assert f"{receiver.url}/hook" in (text or "") and "http://testserver/webhooks" in (text or "")

    # Turned off, it is sent nothing more; turned on again, it starts afresh.
    ada.book(at(next_monday(), 14))
    assert queued_webhook_job(session_factory) is None
    on = ada.client.patch(
        f"/api/v1/webhooks/{hook['id']}", json={"active": True}, headers=ada.account.headers
    )
    assert on.json()["active"] is True and on.json()["disabled_reason"] is None
    with session_factory() as session:
        assert session.get_one(WebhookSubscription, uuid.UUID(hook["id"])).failing_since is None


@pytest.mark.private_targets
def test_failures_spread_over_three_days_turn_it_off_a_success_starts_afresh(
    ada: Page,
    receiver: Receiver,
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    """The count is of time, across deliveries: failing since 3 days (moved back in the
    database), the next failed attempt turns the webhook off; a delivery that gets through
    before that clears it."""
    hook = subscribe(ada, f"{receiver.url}/hook")
    receiver.default = 500
    monday = next_monday()
    ada.book(at(monday, 10))
    assert deliver(session_factory, settings) == ["queued"]

    def failing_since(moment: datetime) -> None:
        with session_scope(session_factory, write=True) as session:
            session.execute(
                update(WebhookSubscription)
                .where(WebhookSubscription.id == uuid.UUID(hook["id"]))
                .values(failing_since=moment)
            )

    # A success meanwhile: the count starts again.
    failing_since(utcnow() - timedelta(days=2))
    receiver.answers = [204]
    ada.book(at(monday, 11))
    assert deliver(session_factory, settings) == ["done"]
    with session_factory() as session:
        assert session.get_one(WebhookSubscription, uuid.UUID(hook["id"])).failing_since is None

    ada.book(at(monday, 12))
    assert deliver(session_factory, settings) == ["queued"]
    failing_since(utcnow() - timedelta(days=3, minutes=1))
    retries = [
        instant(d["next_attempt_at"])
        for d in deliveries(ada, hook["id"])
        if d["status"] == "pending"
    ]
    # The first of the two to be tried again turns it off; the other is then not sent.
    before = len(receiver.received)
    assert deliver(session_factory, settings, now=max(retries)) == ["queued", "done"]
    assert len(receiver.received) == before + 1
    shown = get(ada, f"/api/v1/webhooks/{hook['id']}")
    assert shown["active"] is False
    statuses = sorted(d["status"] for d in deliveries(ada, hook["id"]))
    assert statuses == ["delivered", "failed", "failed"]
    with session_factory() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.kind == "webhook_turned_off",
                    OutboxMessage.recipient == "ada@example.com",
                )
            )
            == 1
        )
    # The job still waiting ends without sending anything more.
    before = len(receiver.received)
    assert deliver(session_factory, settings, now=utcnow() + timedelta(hours=5)) == ["done"]
    assert len(receiver.received) == before


@pytest.mark.private_targets
def test_turning_a_webhook_off_drops_what_waits_for_it(
    ada: Page,
    receiver: Receiver,
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    hook = subscribe(ada, f"{receiver.url}/hook")
    receiver.answers = [500]
    monday = next_monday()
    ada.book(at(monday, 10))
    assert deliver(session_factory, settings) == ["queued"]  # to be tried again
    ada.book(at(monday, 11))  # not tried yet
    off = ada.client.patch(
        f"/api/v1/webhooks/{hook['id']}", json={"active": False}, headers=ada.account.headers
    )
    assert off.json()["active"] is False and off.json()["disabled_reason"] is None
    dropped = deliveries(ada, hook["id"])
    assert [d["status"] for d in dropped] == ["failed", "failed"]
    assert [d["attempts"] for d in dropped] == [0, 1]
    assert dropped[0]["last_error"] == "The webhook was turned off before this could be delivered."
    assert dropped[1]["last_error"].startswith("The receiver answered 500")
    assert all(d["next_attempt_at"] is None for d in dropped)
    # Their jobs end without a request.
    later = utcnow() + timedelta(minutes=1)
    assert deliver(session_factory, settings, now=later) == ["done", "done"]
    assert len(receiver.received) == 1


@pytest.mark.private_targets
def test_a_test_delivery(
    ada: Page,
    receiver: Receiver,
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    hook = subscribe(ada, f"{receiver.url}/hook", ["booking.cancelled"])
    path = f"/api/v1/webhooks/{hook['id']}/test"
    queued = ada.client.post(path, headers=ada.account.headers)
    assert queued.status_code == 202, queued.text
    assert queued.json()["event"] == "webhook.test" and queued.json()["status"] == "pending"
    assert queued.json()["attempts"] == 0
    assert deliver(session_factory, settings) == ["done"]
    [got] = receiver.received
    payload = got.verified(hook["secret"])
    assert payload["type"] == "webhook.test" and payload["data"]["webhook_id"] == hook["id"]
    [shown] = deliveries(ada, hook["id"])
    assert shown["id"] == queued.json()["id"] and shown["status"] == "delivered"

    # Also to a webhook that is off: that is how a receiver is checked before turning it on.
    ada.client.patch(
        f"/api/v1/webhooks/{hook['id']}", json={"active": False}, headers=ada.account.headers
    )
    assert ada.client.post(path, headers=ada.account.headers).status_code == 202
    assert deliver(session_factory, settings) == ["done"]
    assert len(receiver.received) == 2
    # A booking change is not sent to it, though.
    ada.book(at(next_monday(), 10))
    assert deliver(session_factory, settings) == []


def test_an_address_that_turns_private_later_is_not_called(
    ada: Page,
    receiver: Receiver,
    session_factory: sessionmaker[Session],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Checked at every connection, not only when subscribing: a name that answered a
    public address then and 127.0.0.1 now (DNS rebinding) is refused before anything is
    sent, and the attempt counts as failed."""
    port = receiver.url.rsplit(":", 1)[1]
    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1"])

    def dns(host: str, port: Any, *args: Any) -> list[targets.AddressInfo]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), int(port)))]

    monkeypatch.setattr(targets, "getaddrinfo", dns)
    hook = subscribe(ada, f"http://hooks.example.com:{port}/hook")
    ada.client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=ada.account.headers)
    assert deliver(session_factory, settings) == ["queued"]
    assert receiver.received == []
    [refused] = deliveries(ada, hook["id"])
    assert refused["status"] == "pending" and refused["attempts"] == 1
    assert refused["last_status_code"] is None
    assert "private" in refused["last_error"]


# --- The organizer's page ---------------------------------------------------------------------


@pytest.fixture
def browser(ada: Page) -> TestClient:
    sign_in(ada.client, "ada@example.com")
    return ada.client


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.mark.private_targets
def test_the_page_adds_tests_turns_off_and_deletes(
    browser: TestClient,
    ada: Page,
    receiver: Receiver,
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    empty = browser.get("/webhooks", headers=HTML)
    assert empty.status_code == 200 and "No webhook yet" in empty.text
    assert 'href="/webhooks"' in browser.get("/", headers=HTML).text  # in the navigation

    url = f"{receiver.url}/from-the-page"
    added = post(browser, "/webhooks", url=url, **{"booking.created": "on"})
    assert added.status_code == 303
    assert added.headers["location"] == "/webhooks?notice=added#new-secret"
    # The page it leads to shows the secret, once.
    shown = browser.get(added.headers["location"], headers=HTML)
    assert shown.status_code == 200 and "private" in shown.headers["cache-control"]
    secret = re.search(r'id="webhook-secret"[^>]*>(whsec_[^<]+)</textarea>', shown.text)
    assert secret is not None and "shown only this once" in shown.text
    assert 'data-copy="webhook-secret"' in shown.text and "/static/js/copy.js" in shown.text
    again = browser.get("/webhooks", headers=HTML)
    assert "whsec_" not in again.text and secret.group(1) not in again.text
    [hook] = get(ada, "/api/v1/webhooks")["items"]
    assert hook["url"] == url and hook["events"] == ["booking.created"]
    assert url in again.text and "A booking is made" in text_of(again.text)

    # "Send a test": queued, delivered, signed with the secret the page showed.
    tested = post(browser, f"/webhooks/{hook['id']}/test")
    assert tested.status_code == 303
    assert tested.headers["location"] == f"/webhooks?notice=test_sent#w-{hook['id']}"
    assert deliver(session_factory, settings) == ["done"]
    [got] = receiver.received
    assert got.verified(secret.group(1))["type"] == "webhook.test"
    page = text_of(browser.get(tested.headers["location"], headers=HTML).text)
    assert "A test delivery is on its way" in page
    assert "Delivered" in page and "webhook.test" in page and "204" in page

    # A failing one shows its status code, error and next attempt.
    receiver.answers = [502]
    post(browser, f"/webhooks/{hook['id']}/test")
    deliver(session_factory, settings)
    page = text_of(browser.get("/webhooks", headers=HTML).text)
    assert "Retrying" in page and "502" in page and "receiver is down for maintenance" in page
    [pending, _] = deliveries(ada, hook["id"])
    assert pending["status"] == "pending" and pending["next_attempt_at"] is not None
    assert "Next attempt" in page

    # Turn off, and on again.
    off = post(browser, f"/webhooks/{hook['id']}/active", active="false")
    assert off.status_code == 303 and get(ada, f"/api/v1/webhooks/{hook['id']}")["active"] is False
    page = text_of(browser.get(off.headers["location"], headers=HTML).text)
    assert "Turned off by you" in page and "Turn on" in page
    on = post(browser, f"/webhooks/{hook['id']}/active", active="true")
    assert on.status_code == 303 and get(ada, f"/api/v1/webhooks/{hook['id']}")["active"] is True

    # Delete: behind a confirmation page, then gone.
    page = browser.get("/webhooks", headers=HTML).text
    assert f'href="/webhooks/{hook["id"]}/delete"' in page
    confirm = browser.get(f"/webhooks/{hook['id']}/delete", headers=HTML)
    assert confirm.status_code == 200 and "Delete this webhook?" in confirm.text
    assert get(ada, "/api/v1/webhooks")["items"] != []  # asking deletes nothing
    deleted = post(browser, f"/webhooks/{hook['id']}/delete")
    assert deleted.status_code == 303 and deleted.headers["location"] == "/webhooks?notice=deleted"
    assert get(ada, "/api/v1/webhooks")["items"] == []


def test_the_page_refuses_private_and_bad_addresses(
    browser: TestClient, ada: Page, session: Session
) -> None:
    private = post(browser, "/webhooks", url="http://127.0.0.1:9/hook", **{"booking.created": "on"})
    assert private.status_code == 422
    assert "private" in text_of(private.text) and "Nothing was added" in private.text
    assert 'value="http://127.0.0.1:9/hook"' in private.text  # kept for fixing
    none = post(browser, "/webhooks", url="https://93.184.216.34/hook")
    assert none.status_code == 422 and "Choose at least one event." in none.text
    bad = post(browser, "/webhooks", url="ftp://93.184.216.34/", **{"booking.created": "on"})
    assert bad.status_code == 422 and "http" in text_of(bad.text)
    assert session.scalar(select(func.count()).select_from(WebhookSubscription)) == 0
    # Without the browser's CSRF token, nothing is done.
    forged = browser.post(
        "/webhooks", data={"url": "https://93.184.216.34/", "booking.created": "on"}, headers=HTML
    )
    assert forged.status_code == 403
    assert session.scalar(select(func.count()).select_from(WebhookSubscription)) == 0


def test_the_page_is_the_organizers_own(
    browser: TestClient, ada: Page, client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    grace = create_account(session_factory, "grace@example.com", name="Grace Hopper")
    theirs = client.post(
        "/api/v1/webhooks", json={"url": "https://93.184.216.34/grace"}, headers=grace.headers
    ).json()
    assert "93.184.216.34/grace" not in browser.get("/webhooks", headers=HTML).text
    for action in ("test", "active", "delete"):
        answer = post(browser, f"/webhooks/{theirs['id']}/{action}", active="false")
        assert answer.status_code == 404, action
    assert (
        client.get(f"/api/v1/webhooks/{theirs['id']}", headers=grace.headers).json()["active"]
        is True
    )
    # Signed out: to the sign-in page.
    stranger = TestClient(client.app)
    answer = stranger.get("/webhooks", headers=HTML, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")


def test_a_secret_is_shown_only_to_its_organizer(
    browser: TestClient, ada: Page, session_factory: sessionmaker[Session]
) -> None:
    """The cookie that carries a new secret to the page is the organizer's alone: another
    organizer signed in on the same browser does not see it."""
    added = post(browser, "/webhooks", url="https://93.184.216.34/x", **{"booking.created": "on"})
    assert added.status_code == 303
    create_account(session_factory, "grace@example.com", name="Grace Hopper")
    sign_in(browser, "grace@example.com")
    assert "whsec_" not in browser.get("/webhooks", headers=HTML).text
