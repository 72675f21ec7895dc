"""Webhook subscriptions (SPEC 2.9): what an organizer's URLs are told, and when.

A booking change writes one delivery per subscription that wants the event, in the change's
own transaction, each with a ``webhook`` job (``webhooks/delivery.py`` sends it)."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bookwithme import jobs
from bookwithme.errors import Conflict, InvalidInput, NotFound, TargetNotAllowed
from bookwithme.instants import UTCInstant
from bookwithme.lookup import parse_id
from bookwithme.models import User, WebhookDelivery, WebhookSubscription
from bookwithme.secrets_box import WEBHOOK_SECRETS, seal
from bookwithme.targets import check_url, require_host
from bookwithme.validation import _SPACE, Flag, PatchModel, at_most

WEBHOOK_JOB = "webhook"
BookingEvent = Literal["booking.created", "booking.rescheduled", "booking.cancelled"]
EVENTS: tuple[str, ...] = ("booking.created", "booking.rescheduled", "booking.cancelled")
TEST_EVENT = "webhook.test"
MAX_SUBSCRIPTIONS = 20
RECENT_DELIVERIES = 50

OFF_BEFORE_SENT = "The webhook was turned off before this could be delivered."
# What the documented pattern allows in an address: no space (what ``str.isspace`` calls one)
# and no control character; spaces around it are stripped (``_SPACE``: what ``str.strip``
# removes).
_URL_CHAR = r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


def _unfit(char: str) -> bool:
    """A space or a control character, which no address holds (``_URL_CHAR``'s complement)."""
    return ord(char) <= 0x20 or 0x7F <= ord(char) <= 0xA0 or char.isspace()


def _web_address(value: str) -> str:
    value = value.strip()  # as the pattern says; pydantic's strip leaves U+001C to U+001F
    if not value.lower().startswith(("http://", "https://")) or any(map(_unfit, value)):
        raise ValueError("must be an http:// or https:// address")
    return require_host(value)


# The documented schema says what the validator checks, but for the host (its message is
# one the API's fuzz test knows to be beyond a schema).
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=8, max_length=2000),
    at_most(2000),
    AfterValidator(_web_address),
    Field(
        json_schema_extra={"pattern": f"^{_SPACE}*[Hh][Tt][Tt][Pp][Ss]?://{_URL_CHAR}+{_SPACE}*$"}
    ),
]
Events = Annotated[
    list[BookingEvent],
    Field(min_length=1, max_length=len(EVENTS), json_schema_extra={"uniqueItems": True}),
]


def _distinct(events: list[str] | None) -> list[str] | None:
    if events is not None and len(set(events)) != len(events):
        raise ValueError("an event is listed twice")
    return events


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url
    events: Events = ["booking.created", "booking.rescheduled", "booking.cancelled"]

    _events = field_validator("events")(_distinct)


class WebhookUpdate(PatchModel):
    nullable: ClassVar[frozenset[str]] = frozenset()

    url: Url | None = None
    events: Events | None = None
    active: Flag | None = None

    _events = field_validator("events")(_distinct)


class WebhookOut(BaseModel):
    id: uuid.UUID
    url: str
    events: list[str]
    active: bool
    created_at: UTCInstant
    disabled_reason: str | None


class WebhookCreated(WebhookOut):
    secret: str


class DeliveryOut(BaseModel):
    id: uuid.UUID
    event: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: UTCInstant | None
    delivered_at: UTCInstant | None
    created_at: UTCInstant


def webhook_out(subscription: WebhookSubscription) -> WebhookOut:
    return WebhookOut.model_validate(subscription, from_attributes=True)


def delivery_out(delivery: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut.model_validate(delivery, from_attributes=True)


def check_target(url: str, allow_private: bool) -> str:
    """``url`` if a webhook may be sent there: an http(s) address whose host is not on a
    private network (``TargetNotAllowed``, 422 ``target_not_allowed``) unless the server
    allows those. It looks the host up: routes call it before their transaction, so that a
    slow name server never holds the database (SQLite's write lock) meanwhile."""
    if not url.lower().startswith(("https://", "http://")):
        raise InvalidInput(
            "url: a webhook needs an http:// or https:// address",
            details=[{"field": "url", "message": "needs an http:// or https:// address"}],
        )
    try:
        check_url(url, allow_private)
    except TargetNotAllowed as exc:
        raise TargetNotAllowed(
            f"url: {exc.message}", details=[{"field": "url", "message": exc.message}]
        ) from None
    return url


def _events(events: Sequence[str]) -> list[str]:
    """In the order of ``EVENTS``, whatever order they were given in."""
    return [event for event in EVENTS if event in events]


def new_secret() -> str:
    """``whsec_`` and the base64 of 24 random bytes, as Standard Webhooks secrets are."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def list_webhooks(session: Session, user: User) -> list[WebhookSubscription]:
    return list(
        session.scalars(
            select(WebhookSubscription)
            .where(WebhookSubscription.user_id == user.id)
            .order_by(WebhookSubscription.created_at)
        )
    )


def get_webhook(session: Session, user: User, webhook_id: str) -> WebhookSubscription:
    parsed = parse_id(webhook_id)
    subscription = session.get(WebhookSubscription, parsed) if parsed else None
    if subscription is None or subscription.user_id != user.id:
        raise NotFound("No webhook with this id.")
    return subscription


def create_webhook(
    session: Session,
    user: User,
    data: WebhookCreate,
    *,
    secret_key: str,
    allow_private: bool,
    target_checked: bool = False,
) -> tuple[WebhookSubscription, str]:
    """The new subscription and its secret (shown once, kept encrypted). ``target_checked``:
    the caller has just passed ``data.url`` through ``check_target``."""
    if len(list_webhooks(session, user)) >= MAX_SUBSCRIPTIONS:
        raise Conflict(
            f"An account can have at most {MAX_SUBSCRIPTIONS} webhooks: delete one first."
        )
    url = data.url if target_checked else check_target(data.url, allow_private)
    secret = new_secret()
    subscription = WebhookSubscription(
        id=uuid.uuid4(),
        user_id=user.id,
        url=url,
        events=_events(data.events),
        secret_sealed=seal(secret_key, secret, WEBHOOK_SECRETS),
        active=True,
    )
    session.add(subscription)
    session.flush()
    return subscription, secret


def update_webhook(
    session: Session,
    subscription: WebhookSubscription,
    data: WebhookUpdate,
    *,
    allow_private: bool,
    target_checked: bool = False,
) -> WebhookSubscription:
    changes = data.changes()
    if "url" in changes:
        url = changes["url"]
        subscription.url = url if target_checked else check_target(url, allow_private)
    if "events" in changes:
        subscription.events = _events(changes["events"])
    if "active" in changes:
        was_active, subscription.active = subscription.active, changes["active"]
        if subscription.active:  # turned on again: a fresh start
            subscription.failing_since = None
            subscription.disabled_reason = None
        elif was_active:
            drop_pending(session, subscription)
    session.flush()
    return subscription


def drop_pending(session: Session, subscription: WebhookSubscription) -> None:
    """A webhook was turned off: what still waits to be sent to it is not (its jobs find
    the deliveries failed, and end)."""
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription.id,
            WebhookDelivery.status == "pending",
        )
        .values(
            status="failed",
            next_attempt_at=None,
            last_error=func.coalesce(WebhookDelivery.last_error, OFF_BEFORE_SENT),
        )
    )


def delete_webhook(session: Session, subscription: WebhookSubscription) -> None:
    session.delete(subscription)  # its deliveries go with it; their jobs find nothing
    session.flush()


def recent_deliveries(
    session: Session, subscription: WebhookSubscription, limit: int = RECENT_DELIVERIES
) -> list[WebhookDelivery]:
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == subscription.id)
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
            .limit(limit)
        )
    )


def _deliver(
    session: Session,
    subscription: WebhookSubscription,
    event: str,
    data: dict[str, Any],
    now: datetime,
) -> WebhookDelivery:
    body = json.dumps(
        {"type": event, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    delivery = WebhookDelivery(
        id=uuid.uuid4(),
        subscription_id=subscription.id,
        event=event,
        message_id=f"msg_{uuid.uuid4().hex}",
        body=body,
        status="pending",
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    jobs.enqueue(session, WEBHOOK_JOB, str(delivery.id), run_at=now)
    return delivery


def emit(
    session: Session,
    organizer_id: uuid.UUID,
    event: str,
    data: Callable[[], dict[str, Any]],
    now: datetime,
) -> int:
    """In the transaction of the change: one delivery to each of the organizer's active
    subscriptions to ``event``; returns how many. ``data`` makes the payload, only if a
    subscription wants it (most organizers have none)."""
    subscriptions = session.scalars(
        select(WebhookSubscription).where(
            WebhookSubscription.user_id == organizer_id, WebhookSubscription.active.is_(True)
        )
    )
    count = 0
    payload: dict[str, Any] | None = None
    for subscription in subscriptions:
        if event in subscription.events:
            if payload is None:
                payload = data()
            _deliver(session, subscription, event, payload, now)
            count += 1
    return count


def send_test(
    session: Session, subscription: WebhookSubscription, now: datetime
) -> WebhookDelivery:
    """A ``webhook.test`` delivery, signed like any other, to check a receiver."""
    return _deliver(
        session,
        subscription,
        TEST_EVENT,
        {"webhook_id": str(subscription.id), "message": "A test delivery from bookwithme."},
        now,
    )
