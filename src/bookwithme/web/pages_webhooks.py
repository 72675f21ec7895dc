"""The organizer's webhooks page (``/webhooks``): the URLs told of booking changes, each with
its recent deliveries; add one, send it a test, turn it off or on, delete it (after a
confirmation page). The same services as the API; every form works without JavaScript and
every change redirects. In the organizer's language, times in their zone.

A new webhook's secret is shown once, on the page the creation redirects to: it travels
there in a cookie sealed with the server's key, bound to the organizer and the webhook,
good for a few minutes and deleted by the page that shows it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from bookwithme.config import Settings
from bookwithme.errors import Conflict, InvalidInput, TargetNotAllowed
from bookwithme.i18n import N_, moment, spoken, translations
from bookwithme.models import User, WebhookDelivery, WebhookSubscription, utcnow
from bookwithme.web.api.webhooks import with_checked_target
from bookwithme.web.calendar_reads import in_unit, signed_in
from bookwithme.web.deps import NotSignedIn, PageUser, SessionDep, SettingsDep
from bookwithme.web.forms import form_fields, validate_form
from bookwithme.web.setup_gate import require_setup
from bookwithme.web.shown_once import ShownOnce
from bookwithme.web.templating import render
from bookwithme.webhooks import service
from bookwithme.webhooks.service import EVENTS, WebhookCreate, WebhookUpdate

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_setup)])
FormFields = Annotated[dict[str, str], Depends(form_fields)]

SHOWN_DELIVERIES = 10  # per webhook on the page (the API lists 50)
# A new webhook's signing secret, carried to the page that shows it once.
NEW_SECRET = ShownOnce("bookwithme_new_webhook", b"bookwithme webhook secret shown once v1", 300)

# English here, translated where the page shows them.
EVENT_TEXT = {
    "booking.created": N_("A booking is made"),
    "booking.rescheduled": N_("A booking is moved"),
    "booking.cancelled": N_("A booking is cancelled"),
    service.TEST_EVENT: N_("Test"),
}
NOTICES = {
    "added": N_("Added. Booking changes are sent to it from now on."),
    "test_sent": N_(
        "A test delivery is on its way. Its result shows below in a few seconds (reload the page)."
    ),
    "off": N_("Turned off. Nothing is sent to it until you turn it on again."),
    "on": N_("Turned on. Booking changes are sent to it again."),
    "deleted": N_("Deleted. Nothing more is sent to it."),
}
# Why a webhook is off: the only reason bookwithme writes (webhooks/delivery.py), or the
# organizer's own switch.
TURNED_OFF_BY_FAILURES = N_(
    "Turned off by bookwithme after every delivery failed for 3 days. Turn it on again once "
    "the receiver answers."
)
TURNED_OFF_BY_YOU = N_("Turned off by you. Nothing is sent to it until you turn it on again.")
OFF_BEFORE_SENT = N_("The webhook was turned off before this could be delivered.")
# The form's messages.
URL_NOT_WEB = N_("Enter the full address of your receiver, starting with https://.")
URL_TOO_LONG = N_("The address is too long: at most 2,000 characters.")
NO_EVENT = N_("Choose at least one event.")
NOT_PUBLIC = N_(
    "This address is on a private or local network, and bookwithme only sends to public "
    "addresses. If your receiver really is on your own network, your administrator can "
    "allow such addresses (BOOKWITHME_ALLOW_PRIVATE_TARGETS=true)."
)
TOO_MANY = N_(
    "You already have %(limit)s webhooks, the most an account can have: delete one first."
)


class _View:
    """What the page writes in the organizer's language and zone."""

    def __init__(self, user: User) -> None:
        self.lang = spoken(user.locale)
        self.zone = user.time_zone
        self.gettext: Callable[[str], str] = translations(self.lang).gettext

    def moment(self, value: Any) -> str:
        """An instant to the second (deliveries are retried within seconds); the page names
        the zone once, above the list."""
        if value is None:
            return ""
        return moment(value, self.zone, self.lang, named=False, seconds=True)


def _delivery_row(delivery: WebhookDelivery, view: _View) -> dict[str, Any]:
    last_error = delivery.last_error
    if last_error == service.OFF_BEFORE_SENT:
        last_error = view.gettext(OFF_BEFORE_SENT)
    return {
        "d": delivery,
        "event": view.gettext(EVENT_TEXT.get(delivery.event, delivery.event)),
        "created": view.moment(delivery.created_at),
        "next": view.moment(delivery.next_attempt_at),
        "delivered": view.moment(delivery.delivered_at),
        "last_error": last_error,
    }


def _webhook_row(
    session: Session, subscription: WebhookSubscription, view: _View
) -> dict[str, Any]:
    deliveries = service.recent_deliveries(session, subscription, SHOWN_DELIVERIES)
    off_reason = TURNED_OFF_BY_FAILURES if subscription.disabled_reason else TURNED_OFF_BY_YOU
    return {
        "w": subscription,
        "events": [view.gettext(EVENT_TEXT.get(e, e)) for e in subscription.events],
        "off_reason": view.gettext(off_reason),
        "failing_since": view.moment(subscription.failing_since),
        "deliveries": [_delivery_row(d, view) for d in deliveries],
        # Open when the newest delivery is something to look at.
        "open": bool(deliveries) and deliveries[0].status != "delivered",
    }


def _page(
    request: Request,
    session: Session,
    user: User,
    *,
    notice: str | None = None,
    new_secret: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    view = _View(user)
    subscriptions = service.list_webhooks(session, user)
    if new_secret is not None:  # named by its address; not at all once it is deleted
        url = next((s.url for s in subscriptions if str(s.id) == new_secret["id"]), None)
        new_secret = {**new_secret, "url": url} if url else None
    notice_text = NOTICES.get(notice or "")
    response = render(
        request,
        "organizer/webhooks.html",
        {
            "webhooks": [_webhook_row(session, s, view) for s in subscriptions],
            "events": [(e, view.gettext(EVENT_TEXT[e])) for e in EVENTS],
            "zone": view.zone,
            "notice": view.gettext(notice_text) if notice_text else None,
            "new_secret": new_secret,
            "values": values or {"url": "", "events": list(EVENTS)},
            "errors": errors or {},
            "limit": service.MAX_SUBSCRIPTIONS,
            "shown": SHOWN_DELIVERIES,
        },
        status_code=status_code,
        lang=view.lang,
    )
    response.headers["cache-control"] = "private, no-store"
    return response


# --- The secret, shown once --------------------------------------------------------------


def _recall_secret(request: Request, settings: Settings, user: User) -> dict[str, str] | None:
    kept = NEW_SECRET.recall(request, settings, str(user.id))
    return (
        None if kept is None else {"id": kept.get("webhook", ""), "secret": kept.get("secret", "")}
    )


# --- Routes ---------------------------------------------------------------------------------


@router.get("/webhooks")
def webhooks_page(
    request: Request,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    notice: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    new_secret = _recall_secret(request, settings, user)
    response = _page(request, session, user, notice=notice, new_secret=new_secret)
    NEW_SECRET.forget(request, response, settings, "/webhooks")
    return response


def _form_errors(url: str, errors: dict[str, str]) -> dict[str, str]:
    """The form's messages (in English, translated by the page) for what the model refused:
    the page's own words, not the API's."""
    mine: dict[str, str] = {}
    if "url" in errors or (url and not url.lower().startswith(("https://", "http://"))):
        mine["url"] = URL_TOO_LONG if len(url) > 2000 else URL_NOT_WEB
    if "events" in errors:
        mine["events"] = NO_EVENT
    if not mine and errors:  # a field the form does not have: cannot happen from the page
        mine["__all__"] = URL_NOT_WEB
    return mine


@router.post("/webhooks")
async def webhook_create(request: Request, fields: FormFields, settings: SettingsDep) -> Response:
    """Add a webhook: its address is looked up first, and saved only if it may be called."""
    url = fields.get("url", "").strip()
    events = [e for e in EVENTS if e in fields]
    data, errors = validate_form(WebhookCreate, {"url": url, "events": events})
    errors = _form_errors(url, errors)
    too_many = False
    created: tuple[uuid.UUID, uuid.UUID, str] | None = None
    if data is not None and not errors:

        def create(session: Session, user: User) -> tuple[uuid.UUID, uuid.UUID, str]:
            subscription, secret = service.create_webhook(
                session,
                user,
                data,
                secret_key=settings.resolved_secret_key,
                allow_private=settings.allow_private_targets,
                target_checked=True,
            )
            return user.id, subscription.id, secret

        try:
            created = await with_checked_target(request, settings, data.url, create, NotSignedIn())
        except TargetNotAllowed:
            errors = {"url": NOT_PUBLIC}
        except InvalidInput:  # not an http(s) address: the model let nothing else through
            errors = {"url": URL_NOT_WEB}
        except Conflict:
            too_many = True
    if created is not None:
        response = RedirectResponse("/webhooks?notice=added#new-secret", status_code=303)
        user_id, webhook_id, secret = created
        NEW_SECRET.remember(
            response,
            settings,
            "/webhooks",
            str(user_id),
            {"webhook": str(webhook_id), "secret": secret},
        )
        return response

    def page(session: Session) -> Response:
        user = signed_in(request, session, settings, NotSignedIn())
        gettext = translations(spoken(user.locale)).gettext
        shown = {field: gettext(message) for field, message in errors.items()}
        if too_many:
            shown["__all__"] = gettext(TOO_MANY) % {"limit": service.MAX_SUBSCRIPTIONS}
        values = {"url": url, "events": events}
        return _page(request, session, user, values=values, errors=shown, status_code=422)

    return await in_unit(request, page, write=False)


@router.post("/webhooks/{webhook_id}/test")
def webhook_test(webhook_id: str, user: PageUser, session: SessionDep) -> Response:
    subscription = service.get_webhook(session, user, webhook_id)
    service.send_test(session, subscription, utcnow())
    return RedirectResponse(f"/webhooks?notice=test_sent#w-{subscription.id}", status_code=303)


@router.post("/webhooks/{webhook_id}/active")
def webhook_switch(
    webhook_id: str, fields: FormFields, user: PageUser, session: SessionDep, settings: SettingsDep
) -> Response:
    """Turn a webhook off (``active=false``) or on again (``active=true``)."""
    subscription = service.get_webhook(session, user, webhook_id)
    active = fields.get("active") == "true"
    service.update_webhook(
        session,
        subscription,
        WebhookUpdate(active=active),
        allow_private=settings.allow_private_targets,
    )
    notice = "on" if active else "off"
    return RedirectResponse(f"/webhooks?notice={notice}#w-{subscription.id}", status_code=303)


@router.get("/webhooks/{webhook_id}/delete")
def webhook_delete_confirm(
    webhook_id: str, request: Request, user: PageUser, session: SessionDep
) -> Response:
    """Deleting cannot be undone: this page asks first (no JavaScript needed)."""
    subscription = service.get_webhook(session, user, webhook_id)
    view = _View(user)
    response = render(
        request,
        "organizer/webhook_delete.html",
        {
            "w": subscription,
            "events": [view.gettext(EVENT_TEXT.get(e, e)) for e in subscription.events],
        },
        lang=view.lang,
    )
    response.headers["cache-control"] = "private, no-store"
    return response


@router.post("/webhooks/{webhook_id}/delete")
def webhook_delete(webhook_id: str, user: PageUser, session: SessionDep) -> Response:
    service.delete_webhook(session, service.get_webhook(session, user, webhook_id))
    return RedirectResponse("/webhooks?notice=deleted", status_code=303)
