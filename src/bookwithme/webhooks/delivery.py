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
from bookwithme.secrets_box import WEBHOOK_SECRETS, unseal
from bookwithme.targets import public_client
from bookwithme.webhooks.service import WEBHOOK_JOB

log = logging.getLogger("bookwithme.webhooks")

TIMEOUT = 10.0  # seconds for the receiver to answer
FIRST_RETRY = timedelta(seconds=20)  # shortened at random by up to half: within 30 s
LONGEST_RETRY = timedelta(hours=4)
GIVE_UP_AFTER = timedelta(days=3)  # a delivery is retried this long (at least 24 hours)
TURN_OFF_AFTER = timedelta(days=3)  # failing this long turns the subscription off
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


def _deliver(context: jobs.JobContext) -> None:
    delivery_id = uuid.UUID(context.job.key)
    with context.factory() as reader:
        delivery = reader.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.status != "pending":
            return
        subscription = reader.get_one(WebhookSubscription, delivery.subscription_id)
        if not subscription.active:
            raise jobs.Permanent("The webhook was turned off before this could be delivered.")
        url, body, message_id = subscription.url, delivery.body, delivery.message_id
        secret = unseal(
            context.settings.resolved_secret_key, subscription.secret_sealed, WEBHOOK_SECRETS
        )
    timestamp = utcnow()
    signature = Webhook(secret).sign(message_id, timestamp, body)
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
    }
    client: httpx.Client = context.state
    status_code: int | None = None
    try:
        response = client.post(url, content=body.encode(), headers=headers)
        status_code = response.status_code
        error = None
        if not 200 <= status_code < 300:
            answer = response.text[:ANSWER_KEPT].strip()
            error = f"The receiver answered {status_code}" + (f": {answer}" if answer else ".")
    except TargetNotAllowed as exc:
        error = str(exc)
    except httpx.TimeoutException:
        error = f"The receiver did not answer within {TIMEOUT:.0f} seconds."
    except httpx.HTTPError as exc:
        error = f"The receiver could not be reached ({type(exc).__name__}: {exc})."
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
        lease=timedelta(seconds=TIMEOUT * 3),
        batch=5,
        on_failure=_failed,
        setup=_client,
    )
)
