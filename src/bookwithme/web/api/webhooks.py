"""The organizer's webhooks (SPEC 2.9): the URLs told of booking changes, and what each was
sent.

Adding a webhook or changing its address looks the address's host up (a private network is
refused with 422 ``target_not_allowed``). That look-up is made between two units of work,
never inside one, so a slow name server cannot hold the database meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from anyio import to_thread
from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from bookwithme.config import Settings
from bookwithme.errors import Conflict, DomainError, TargetNotAllowed, Unauthorized
from bookwithme.models import User, WebhookSubscription, utcnow
from bookwithme.web.api.common import ItemList
from bookwithme.web.calendar_reads import in_unit, signed_in
from bookwithme.web.deps import CurrentUser, SessionDep, SettingsDep
from bookwithme.web.openapi import raises
from bookwithme.webhooks import service
from bookwithme.webhooks.service import (
    DeliveryOut,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookUpdate,
)

router = APIRouter(tags=["webhooks"])

T = TypeVar("T")


def owned_webhook(webhook_id: str, user: CurrentUser, session: SessionDep) -> WebhookSubscription:
    return service.get_webhook(session, user, webhook_id)


OwnedWebhook = Annotated[WebhookSubscription, Depends(owned_webhook)]


async def with_checked_target(
    request: Request,
    settings: Settings,
    url: str | None,
    work: Callable[[Session, User], T],
    signed_out: DomainError,
) -> T:
    """``work`` in a unit of work of its own, as the signed-in organizer, once ``url`` (if
    any) has been looked up and found to lead where webhooks may go. The caller is known
    before anything is looked up, and the look-up runs outside any transaction."""
    if url is not None:
        await in_unit(request, lambda s: signed_in(request, s, settings, signed_out), write=False)
        await to_thread.run_sync(service.check_target, url, settings.allow_private_targets)
    return await in_unit(
        request, lambda s: work(s, signed_in(request, s, settings, signed_out)), write=True
    )


@router.get("/webhooks")
def list_webhooks(user: CurrentUser, session: SessionDep) -> ItemList[WebhookOut]:
    return ItemList(items=[service.webhook_out(w) for w in service.list_webhooks(session, user)])


@router.post(
    "/webhooks", status_code=201, responses=raises(Unauthorized, TargetNotAllowed, Conflict)
)
async def create_webhook(
    body: WebhookCreate, request: Request, settings: SettingsDep
) -> WebhookCreated:
    """Subscribe ``url`` to ``events`` (default: all three). The answer carries the
    signing ``secret`` (``whsec_…``), this once only: keep it to verify deliveries. An
    address on a loopback, private, link-local or otherwise non-public network is refused
    with 422 ``target_not_allowed`` (unless the server allows them), and nothing is saved.
    An organizer has at most 20 webhooks (409 ``conflict`` past that)."""

    def create(session: Session, user: User) -> WebhookCreated:
        subscription, secret = service.create_webhook(
            session,
            user,
            body,
            secret_key=settings.resolved_secret_key,
            allow_private=settings.allow_private_targets,
            target_checked=True,
        )
        return WebhookCreated(**service.webhook_out(subscription).model_dump(), secret=secret)

    return await with_checked_target(request, settings, body.url, create, Unauthorized())


@router.get("/webhooks/{webhook_id}")
def get_webhook(webhook: OwnedWebhook) -> WebhookOut:
    return service.webhook_out(webhook)


@router.patch("/webhooks/{webhook_id}", responses=raises(Unauthorized, TargetNotAllowed))
async def update_webhook(
    webhook_id: str, body: WebhookUpdate, request: Request, settings: SettingsDep
) -> WebhookOut:
    """Change ``url``, ``events`` or ``active``. Turning a webhook on again (one that
    turned itself off after 3 days of failures, say) starts its count of failures anew."""

    def update(session: Session, user: User) -> WebhookOut:
        subscription = service.get_webhook(session, user, webhook_id)
        service.update_webhook(
            session,
            subscription,
            body,
            allow_private=settings.allow_private_targets,
            target_checked=True,
        )
        return service.webhook_out(subscription)

    url = body.url if "url" in body.model_fields_set else None
    return await with_checked_target(request, settings, url, update, Unauthorized())


@router.delete("/webhooks/{webhook_id}", status_code=204)
def delete_webhook(webhook: OwnedWebhook, session: SessionDep) -> Response:
    """The webhook and its deliveries; nothing more is sent to it."""
    service.delete_webhook(session, webhook)
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/deliveries")
def list_deliveries(webhook: OwnedWebhook, session: SessionDep) -> ItemList[DeliveryOut]:
    """The webhook's last 50 deliveries, newest first."""
    return ItemList(
        items=[service.delivery_out(d) for d in service.recent_deliveries(session, webhook)]
    )


@router.post("/webhooks/{webhook_id}/test", status_code=202)
def test_webhook(webhook: OwnedWebhook, session: SessionDep) -> DeliveryOut:
    """Queue a ``webhook.test`` delivery, signed like the others, to check a receiver (also
    while the webhook is off). The answer is the delivery as queued; follow it in
    ``/deliveries``."""
    return service.delivery_out(service.send_test(session, webhook, utcnow()))
