"""Sending webhook deliveries: a ``webhook`` job each, in the worker's webhooks lane.

Each attempt is a ``POST`` of the stored body, signed the Standard Webhooks way (the
``standardwebhooks`` package) with the subscription's secret: ``webhook-id`` is the same on
every attempt, ``webhook-timestamp`` is the attempt's. Any answer but a 2xx, or none within
``TIMEOUT``, is tried again, the first time within 30 seconds, then after growing delays for
``GIVE_UP_AFTER``; a subscription whose deliveries have all failed for ``TURN_OFF_AFTER``
turns itself off, and its organizer gets an email saying so. The address is checked on
every connection, redirects included (``targets.py``).
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from bookwithme import __version__, jobs
from bookwithme.config import Settings
from bookwithme.db import session_scope
from bookwithme.errors import TargetNotAllowed
from bookwithme.i18n import translations
from bookwithme.models import User, WebhookDelivery, WebhookSubscription, utcnow
from bookwithme.notifications.emails import Email
from bookwithme.notifications.outbox import enqueue_email
from bookwithme.secrets_box import WEBHOOK_SECRETS, SecretUnreadable, unseal
from bookwithme.targets import public_client
from bookwithme.webhooks.service import OFF_BEFORE_SENT, TEST_EVENT, WEBHOOK_JOB, drop_pending

log = logging.getLogger("bookwithme.webhooks")

TIMEOUT = 10.0  # seconds for the receiver to answer
FIRST_RETRY = timedelta(seconds=20)  # shortened at random by up to half: within 30 s
LONGEST_RETRY = timedelta(hours=4)
TURN_OFF_AFTER = timedelta(days=3)  # failing this long turns the subscription off
# A delivery is retried this long (at least 24 hours). Longer than TURN_OFF_AFTER by the
# longest delay, so that the last attempt of a delivery that never gets through comes after
# the three days: a webhook called once, to a receiver that is gone, is turned off too.
GIVE_UP_AFTER = TURN_OFF_AFTER + LONGEST_RETRY
ANSWER_KEPT = 300  # characters of a failed answer's body kept in last_error


class AttemptFailed(Exception):
    pass


def _client(settings: Settings) -> httpx.Client:
    return public_client(
        settings.allow_private_targets,
        TIMEOUT,
        follow_redirects=False,  # a receiver answers; a redirect is a failure to look at
        headers={"user-agent": f"bookwithme/{__version__} (webhooks)"},
    )


def _record(
    session: Session, delivery_id: uuid.UUID, status_code: int | None, error: str | None
) -> None:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is not None:
        delivery.last_status_code = status_code
        delivery.last_error = error


def _answer_start(response: httpx.Response, deadline: float) -> str:
    """The start of a failed answer's body, for ``last_error``: never more than a few
    kilobytes of it, nor read past ``deadline`` (a receiver that trickles its body)."""
    kept = b""
    for chunk in response.iter_bytes():
        kept += chunk
        if len(kept) >= ANSWER_KEPT * 4 or time.monotonic() > deadline:
            break
    return kept.decode("utf-8", errors="replace")[:ANSWER_KEPT].strip()


def _post(
    client: httpx.Client, url: str, body: str, headers: dict[str, str]
) -> tuple[int | None, str | None]:
    """One attempt: the receiver's status code (None: no answer) and what went wrong (None:
    a 2xx). The answer's body is not read, but for the start of a failure's."""
    deadline = time.monotonic() + TIMEOUT
    try:
        with client.stream("POST", url, content=body.encode(), headers=headers) as response:
            status_code = response.status_code
            if 200 <= status_code < 300:
                return status_code, None
            answer = _answer_start(response, deadline)
            return status_code, f"The receiver answered {status_code}" + (
                f": {answer}" if answer else "."
            )
    except TargetNotAllowed as exc:
        return None, str(exc)
    except httpx.TimeoutException:
        return None, f"The receiver did not answer within {TIMEOUT:.0f} seconds."
    except httpx.HTTPError as exc:
        return None, f"The receiver could not be reached ({type(exc).__name__}: {exc})."


def _deliver(context: jobs.JobContext) -> None:
    delivery_id = uuid.UUID(context.job.key)
    with context.factory() as reader:
        delivery = reader.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.status != "pending":
            return
        subscription = reader.get_one(WebhookSubscription, delivery.subscription_id)
        # A test goes even to a webhook that is off: that is how to check a receiver
        # before turning it on again.
        turned_off = not subscription.active and delivery.event != TEST_EVENT
        url, body, message_id = subscription.url, delivery.body, delivery.message_id
        sealed = subscription.secret_sealed
    if turned_off:  # nothing is sent, and that is no attempt
        with session_scope(context.factory, write=True) as session:
            context.hold(session)
            _give_up(session, delivery_id, OFF_BEFORE_SENT)
        return
    try:
        secret = unseal(context.settings.resolved_secret_key, sealed, WEBHOOK_SECRETS)
    except SecretUnreadable:
        raise jobs.Permanent(
            "The webhook's secret cannot be read with this SECRET_KEY: delete the webhook "
            "and add it again."
        ) from None
    timestamp = utcnow()
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, timestamp, body),
    }
    status_code, error = _post(context.state, url, body, headers)
    now = utcnow()
    with session_scope(context.factory, write=True) as session:
        context.hold(session)
        _record(session, delivery_id, status_code, error)
        if error is None:
            delivered = session.get_one(WebhookDelivery, delivery_id)
            delivered.status = "delivered"
            delivered.delivered_at = now
            delivered.attempts += 1
            delivered.next_attempt_at = None
            session.get_one(WebhookSubscription, delivered.subscription_id).failing_since = None
    if error is not None:
        raise AttemptFailed(error)


def _give_up(session: Session, delivery_id: uuid.UUID, error: str) -> None:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is not None and delivery.status == "pending":
        delivery.status = "failed"
        delivery.next_attempt_at = None
        delivery.last_error = error


def _failed(
    session: Session, context: jobs.JobContext, error: str, next_at: datetime | None
) -> None:
    delivery = session.get(WebhookDelivery, uuid.UUID(context.job.key))
    if delivery is None:
        return
    now = utcnow()
    delivery.attempts += 1
    delivery.last_error = error
    delivery.next_attempt_at = next_at
    if next_at is None:
        delivery.status = "failed"
    query = select(WebhookSubscription).where(WebhookSubscription.id == delivery.subscription_id)
    subscription = session.scalar(query)
    if subscription is None or not subscription.active:
        return
    if subscription.failing_since is None:
        subscription.failing_since = delivery.created_at
    if now - subscription.failing_since >= TURN_OFF_AFTER:
        _turn_off(session, subscription, context.settings, now)


def _turn_off(
    session: Session, subscription: WebhookSubscription, settings: Settings, now: datetime
) -> None:
    subscription.active = False
    subscription.disabled_reason = (
        "Turned off after every delivery failed for 3 days. Turn it on again once the "
        "receiver answers."
    )
    drop_pending(session, subscription)
    organizer = session.get_one(User, subscription.user_id)
    _ = translations(organizer.locale).gettext
    text = "\n".join(
        [
            _("Hello %(name)s,") % {"name": organizer.name},
            "",
            _(
                "Every delivery to your webhook %(url)s has failed for 3 days, so bookwithme "
                "has turned it off."
            )
            % {"url": subscription.url},
            _("Turn it on again in your webhooks settings once the receiver answers:"),
            f"{settings.base_url}/webhooks",
            "",
            "-- ",
            _("Sent by bookwithme."),
        ]
    )
    email = Email(
        kind="webhook_turned_off",
        recipient=organizer.email,
        locale=organizer.locale,
        subject=_("Your webhook was turned off"),
        text=text + "\n",
        html="",
        ics=None,
        ics_method=None,
    )
    enqueue_email(session, email, booking_id=None, secret_key=settings.resolved_secret_key, now=now)
    log.warning("webhook %s turned off after 3 days of failures", subscription.id)


jobs.register(
    jobs.Kind(
        WEBHOOK_JOB,
        _deliver,
        lane="webhooks",
        retry=jobs.RetryPolicy(
            first=FIRST_RETRY, longest=LONGEST_RETRY, give_up_after=GIVE_UP_AFTER
        ),
        # Longer than an attempt can take (connecting, sending and the answer's first
        # bytes each get TIMEOUT) with room to record it.
        lease=timedelta(minutes=1),
        batch=5,
        on_failure=_failed,
        setup=_client,
    )
)
