"""The organizer's webhooks page (``/webhooks``): the URLs told of booking changes, each with
its recent deliveries; add one, send it a test, turn it off or on, delete it. The same
services as the API; every form works without JavaScript and every change redirects.

A new webhook's secret is shown once, on the page the creation redirects to: it travels
there in a cookie sealed with the server's key, bound to the organizer and the webhook,
good for a few minutes and deleted by the page that shows it."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from typing import Annotated, Any

from babel.dates import format_datetime
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from bookwithme.config import Settings
from bookwithme.errors import Conflict, InvalidInput
from bookwithme.models import User, WebhookDelivery, WebhookSubscription, utcnow
from bookwithme.secrets_box import SecretUnreadable, seal, unseal
from bookwithme.timezones import named_zone
from bookwithme.web.api.webhooks import with_checked_target
from bookwithme.web.calendar_reads import in_unit, signed_in
from bookwithme.web.deps import NotSignedIn, PageUser, SessionDep, SettingsDep
from bookwithme.web.forms import form_fields, validate_form
from bookwithme.web.setup_gate import require_setup
from bookwithme.web.templating import render
from bookwithme.webhooks import service
from bookwithme.webhooks.service import EVENTS, WebhookCreate, WebhookUpdate

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_setup)])
FormFields = Annotated[dict[str, str], Depends(form_fields)]

SHOWN_DELIVERIES = 10  # per webhook on the page (the API lists 50)
FLASH_COOKIE = "bookwithme_new_webhook"  # carries a new secret to the page that shows it
SECRET_PURPOSE = b"bookwithme webhook secret shown once v1"
SECRET_SHOWN_FOR = 300  # seconds the page that shows a new secret may be opened

EVENT_TEXT = {
    "booking.created": "A booking is made",
    "booking.rescheduled": "A booking is moved",
    "booking.cancelled": "A booking is cancelled",
    service.TEST_EVENT: "Test",
}
NOTICES = {
    "test_sent": "A test delivery is on its way. Its result shows below in a few seconds "
    "(reload the page).",
    "off": "Turned off. Nothing is sent to it until you turn it on again.",
    "on": "Turned on. Booking changes are sent to it again.",
    "deleted": "Deleted. Nothing more is sent to it.",
}


def _moment(value: datetime | None, zone: str) -> str:
    if value is None:
        return ""
    return format_datetime(value, "MMM d, HH:mm:ss", tzinfo=named_zone(zone), locale="en")


def _delivery_row(delivery: WebhookDelivery, zone: str) -> dict[str, Any]:
    return {
        "d": delivery,
        "event": EVENT_TEXT.get(delivery.event, delivery.event),
        "created": _moment(delivery.created_at, zone),
        "next": _moment(delivery.next_attempt_at, zone),
        "delivered": _moment(delivery.delivered_at, zone),
    }


def _webhook_row(session: Session, subscription: WebhookSubscription, zone: str) -> dict[str, Any]:
    deliveries = service.recent_deliveries(session, subscription, SHOWN_DELIVERIES)
    return {
        "w": subscription,
        "events": [EVENT_TEXT.get(e, e) for e in subscription.events],
        "failing_since": _moment(subscription.failing_since, zone),
        "deliveries": [_delivery_row(d, zone) for d in deliveries],
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
    zone = user.time_zone
    subscriptions = service.list_webhooks(session, user)
    if new_secret is not None:  # named by its address; not at all once it is deleted
        url = next((s.url for s in subscriptions if str(s.id) == new_secret["id"]), None)
        new_secret = {**new_secret, "url": url} if url else None
    response = render(
        request,
        "organizer/webhooks.html",
        {
            "webhooks": [_webhook_row(session, s, zone) for s in subscriptions],
            "events": [(e, EVENT_TEXT[e]) for e in EVENTS],
            "zone": zone,
            "notice": NOTICES.get(notice or ""),
            "new_secret": new_secret,
            "values": values or {"url": "", "events": list(EVENTS)},
            "errors": errors or {},
            "limit": service.MAX_SUBSCRIPTIONS,
            "shown": SHOWN_DELIVERIES,
        },
        status_code=status_code,
    )
    response.headers["cache-control"] = "private, no-store"
    return response


# --- The secret, shown once --------------------------------------------------------------


def _remember_secret(
    response: Response, settings: Settings, user_id: uuid.UUID, webhook_id: uuid.UUID, secret: str
) -> None:
    sealed = seal(
        settings.resolved_secret_key,
        json.dumps({"u": str(user_id), "w": str(webhook_id), "s": secret, "t": int(time.time())}),
        SECRET_PURPOSE,
    )
    response.set_cookie(
        FLASH_COOKIE,
        sealed,
        max_age=SECRET_SHOWN_FOR,
        path="/webhooks",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def _recall_secret(request: Request, settings: Settings, user: User) -> dict[str, str] | None:
    sealed = request.cookies.get(FLASH_COOKIE)
    if not sealed:
        return None
    try:
        data = json.loads(unseal(settings.resolved_secret_key, sealed, SECRET_PURPOSE))
    except (SecretUnreadable, ValueError):
        return None
    if not isinstance(data, dict) or data.get("u") != str(user.id):
        return None
    if not isinstance(data.get("t"), int) or time.time() - data["t"] > SECRET_SHOWN_FOR:
        return None
    return {"id": str(data.get("w", "")), "secret": str(data.get("s", ""))}


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
    if FLASH_COOKIE in request.cookies:  # shown (or stale): never again
        response.delete_cookie(
            FLASH_COOKIE,
            path="/webhooks",
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
        )
    return response


def _sentence(message: str) -> str:
    """A field's message as the page shows it: "Must be …." rather than "must be …"."""
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


def _form_errors(exc: InvalidInput) -> dict[str, str]:
    if isinstance(exc.details, list) and exc.details:
        first = exc.details[0]
        if isinstance(first, dict) and first.get("field") in ("url", "events"):
            return {str(first["field"]): str(first["message"])}
    return {"__all__": exc.message}


@router.post("/webhooks")
async def webhook_create(request: Request, fields: FormFields, settings: SettingsDep) -> Response:
    """Add a webhook: its address is looked up first, and saved only if it may be called."""
    url = fields.get("url", "").strip()
    events = [e for e in EVENTS if e in fields]
    data, errors = validate_form(WebhookCreate, {"url": url, "events": events})
    if "events" in errors:
        errors["events"] = "Choose at least one event."
    if url and "url" not in errors and not url.lower().startswith(("https://", "http://")):
        errors["url"] = "Must be an http:// or https:// address."
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
        except InvalidInput as exc:  # TargetNotAllowed too
            errors = _form_errors(exc)
        except Conflict as exc:  # too many
            errors = {"__all__": exc.message}
    if created is not None:
        response = RedirectResponse("/webhooks#new-secret", status_code=303)
        _remember_secret(response, settings, *created)
        return response

    errors = {field: _sentence(message) for field, message in errors.items()}

    def page(session: Session) -> Response:
        user = signed_in(request, session, settings, NotSignedIn())
        values = {"url": url, "events": events}
        return _page(request, session, user, values=values, errors=errors, status_code=422)

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


@router.post("/webhooks/{webhook_id}/delete")
def webhook_delete(webhook_id: str, user: PageUser, session: SessionDep) -> Response:
    service.delete_webhook(session, service.get_webhook(session, user, webhook_id))
    return RedirectResponse("/webhooks?notice=deleted", status_code=303)
