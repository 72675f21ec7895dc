"""The administrator's outbox and jobs pages and the organizer's webhooks page show every
instant in the viewer's own zone, name that zone, and speak the viewer's language; deleting a
webhook asks first, on a page of its own."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.db import session_scope
from bookwithme.i18n import moment
from bookwithme.models import (
    Job,
    OutboxMessage,
    User,
    WebhookDelivery,
    WebhookSubscription,
)
from tests.bookings.test_booking_api import Page, at
from tests.factories import create_account, sign_in
from tests.factories import post_form as post
from tests.scheduling.test_public_slots import next_monday

HTML = {"accept": "text/html"}
# 13:05:07 UTC: 14:05 in Paris (winter), 08:05 in New York.
WRITTEN = datetime(2026, 1, 15, 13, 5, 7, tzinfo=UTC)
PUBLIC_RECEIVER = "https://93.184.216.34/hooks/bookwithme"


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def speaks(factory: sessionmaker[Session], email: str, locale: str) -> None:
    with session_scope(factory, write=True) as session:
        session.execute(update(User).where(User.email == email).values(locale=locale))


# --- The shared helper -------------------------------------------------------------------


def test_an_instant_is_written_in_the_viewers_zone_and_language() -> None:
    assert moment(WRITTEN, "Europe/Paris", "en") == "Jan 15, 2026, 14:05 (Europe/Paris)"
    assert moment(WRITTEN, "Europe/Paris", "fr") == "15 janv. 2026, 14:05 (Europe/Paris)"
    assert moment(WRITTEN, "America/New_York", "en", named=False) == "Jan 15, 2026, 08:05"
    assert moment(WRITTEN, "Asia/Kolkata", "fr", named=False, seconds=True) == (
        "15 janv. 2026, 18:35:07"
    )
    # Summer time, and a naive value (as SQLite gives it back) read as UTC.
    summer = datetime(2026, 7, 1, 22, 30)
    assert moment(summer, "Europe/Paris", "fr") == "2 juil. 2026, 00:30 (Europe/Paris)"


# --- The outbox -----------------------------------------------------------------------------


@pytest.fixture
def outbox_written(client: TestClient, session_factory: sessionmaker[Session]) -> Page:
    """Ada's booking wrote two emails, both stamped at ``WRITTEN``; Ada is no administrator."""
    ada = Page(client, create_account(session_factory, "ada@example.com"))
    assert ada.book(at(next_monday(), 9)).status_code == 201
    with session_scope(session_factory, write=True) as session:
        session.execute(update(OutboxMessage).values(created_at=WRITTEN))
    return ada


def test_the_outbox_is_in_the_admins_zone_and_language(
    client: TestClient, session_factory: sessionmaker[Session], outbox_written: Page
) -> None:
    create_account(
        session_factory, "root@example.com", name="Root", is_admin=True, time_zone="Asia/Tokyo"
    )
    sign_in(client, "root@example.com")
    page = text_of(client.get("/admin/outbox", headers=HTML).text)
    assert "Times in Asia/Tokyo." in page
    assert page.count("Jan 15, 2026, 22:05") == 2 and "UTC" not in page

    speaks(session_factory, "root@example.com", "fr")
    page = text_of(client.get("/admin/outbox", headers=HTML).text)
    assert "Boîte d\u2019envoi" in page and "Heures en Asia/Tokyo." in page
    assert page.count("15 janv. 2026, 22:05") == 2
    assert "Destinataire" in page and "En attente" in page and "Waiting" not in page

    with session_factory() as session:
        message = session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == "grace@example.com")
        ).one()
    detail = text_of(client.get(f"/admin/outbox/{message.id}", headers=HTML).text)
    # To the second, the zone named; the email's language in the admin's words.
    assert "15 janv. 2026, 22:05:07 (Asia/Tokyo)" in detail
    assert "En attente d\u2019envoi" in detail and "Langue anglais" in detail
    assert "Texte brut" in detail and "UTC" not in detail


# --- Background jobs ----------------------------------------------------------------------


def add_job(factory: sessionmaker[Session], kind: str, status: str, **fields: Any) -> uuid.UUID:
    with session_scope(factory, write=True) as session:
        job = Job(
            id=uuid.uuid4(),
            kind=kind,
            key=str(uuid.uuid4()),
            payload={},
            status=status,
            run_at=WRITTEN,
            created_at=WRITTEN,
            **fields,
        )
        session.add(job)
    return job.id


def test_the_jobs_page_is_in_the_admins_zone_and_language(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    create_account(
        session_factory,
        "root@example.com",
        name="Root",
        is_admin=True,
        time_zone="America/New_York",
    )
    add_job(
        session_factory, "webhook", "dead", attempts=7, last_error="HTTP 502", finished_at=WRITTEN
    )
    add_job(
        session_factory, "calendar.sync", "dead", attempts=1, last_error="x", finished_at=WRITTEN
    )
    add_job(session_factory, "email", "queued")
    sign_in(client, "root@example.com")

    page = text_of(client.get("/admin/jobs", headers=HTML).text)
    assert "Times in America/New_York." in page and "UTC" not in page
    assert page.count("Ended Jan 15, 2026, 08:05") == 2
    assert "Runs Jan 15, 2026, 08:05" in page and "Queued Jan 15, 2026, 08:05" in page
    assert "2 jobs failed too often and will not run again unless you retry them." in page
    assert "7 attempts" in page and "1 attempt " in page

    speaks(session_factory, "root@example.com", "fr")
    page = text_of(client.get("/admin/jobs", headers=HTML).text)
    assert "Tâches de fond" in page and "Heures en America/New_York." in page
    assert page.count("Terminée le 15 janv. 2026, 08:05") == 2
    assert "Prévue le 15 janv. 2026, 08:05" in page
    assert "2 tâches ont échoué trop souvent et ne seront plus lancées" in page
    assert "sauf si vous les relancez." in page
    assert "7 tentatives" in page and "1 tentative " in page
    assert "Appel de webhook" in page and "Lecture d\u2019agenda" in page
    assert "Relancer maintenant" in page and "Retry now" not in page

    empty = text_of(client.get("/admin/jobs?status=running&kind=email", headers=HTML).text)
    assert "Aucune tâche de ce type avec ce statut." in empty


# --- The organizer's webhooks ----------------------------------------------------------------


@pytest.fixture
def hook(client: TestClient, session_factory: sessionmaker[Session]) -> dict[str, Any]:
    """Ada (Europe/Paris) with one webhook, a failing delivery and one not tried yet, and her
    browser."""
    ada = create_account(session_factory, "ada@example.com")
    created = client.post(
        "/api/v1/webhooks",
        json={"url": PUBLIC_RECEIVER, "events": ["booking.created"]},
        headers=ada.headers,
    )
    assert created.status_code == 201, created.text
    webhook_id = uuid.UUID(created.json()["id"])
    with session_scope(session_factory, write=True) as session:
        session.add(
            WebhookDelivery(
                subscription_id=webhook_id,
                event="booking.created",
                message_id="msg_" + uuid.uuid4().hex,
                body="{}",
                status="pending",
                attempts=2,
                last_status_code=502,
                last_error="Bad gateway",
                next_attempt_at=datetime(2026, 1, 15, 13, 35, 0, tzinfo=UTC),
                created_at=WRITTEN,
            )
        )
        session.add(  # not tried yet
            WebhookDelivery(
                subscription_id=webhook_id,
                event="booking.created",
                message_id="msg_" + uuid.uuid4().hex,
                body="{}",
                next_attempt_at=WRITTEN,
                created_at=WRITTEN,
            )
        )
        session.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id == webhook_id)
            .values(failing_since=WRITTEN)
        )
    sign_in(client, "ada@example.com")
    return {"id": str(webhook_id), "account": ada}


def test_webhook_deliveries_are_in_the_organizers_zone_and_language(
    client: TestClient, session_factory: sessionmaker[Session], hook: dict[str, Any]
) -> None:
    page = text_of(client.get("/webhooks", headers=HTML).text)
    assert "Times in Europe/Paris." in page
    assert "Jan 15, 2026, 14:05:07" in page and "Jan 15, 2026, 14:35:00" in page
    assert "Every delivery has failed since Jan 15, 2026, 14:05:07." in page

    speaks(session_factory, "ada@example.com", "fr")
    page = text_of(client.get("/webhooks", headers=HTML).text)
    assert "Heures en Europe/Paris." in page
    assert "15 janv. 2026, 14:05:07" in page and "15 janv. 2026, 14:35:00" in page
    assert "Tous les envois échouent depuis le 15 janv. 2026, 14:05:07." in page
    assert "Une réservation est créée" in page and "Nouvel essai" in page
    assert "Envoyer un test" in page and "Ajouter un webhook" in page
    assert "Send a test" not in page and "UTC" not in page

    off = post(client, f"/webhooks/{hook['id']}/active", active="false")
    assert off.status_code == 303
    page = text_of(client.get(off.headers["location"], headers=HTML).text)
    assert "Désactivé. Plus rien ne lui est envoyé tant que vous ne le réactivez pas." in page
    assert "Désactivé par vous." in page
    # The delivery still waiting was dropped, with the reason in French.
    assert "Le webhook a été désactivé avant que cet envoi ne soit remis." in page


def test_the_webhook_form_answers_in_the_organizers_language(
    client: TestClient, session_factory: sessionmaker[Session], hook: dict[str, Any]
) -> None:
    speaks(session_factory, "ada@example.com", "fr")
    refused = post(client, "/webhooks", url="ftp://93.184.216.34/", **{"booking.created": "on"})
    assert refused.status_code == 422
    page = text_of(refused.text)
    assert "Rien n\u2019a été ajouté." in page
    assert (
        "Saisissez l\u2019adresse complète de votre destinataire, commençant par https://." in page
    )
    no_event = text_of(post(client, "/webhooks", url=PUBLIC_RECEIVER + "/2").text)
    assert "Choisissez au moins un événement." in no_event
    private = text_of(
        post(client, "/webhooks", url="http://127.0.0.1:9/", **{"booking.created": "on"}).text
    )
    assert "Cette adresse est sur un réseau privé ou local" in private
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(WebhookSubscription)) == 1

    added = post(client, "/webhooks", url=PUBLIC_RECEIVER + "/3", **{"booking.cancelled": "on"})
    assert added.status_code == 303
    assert added.headers["location"] == "/webhooks?notice=added#new-secret"
    page = text_of(client.get(added.headers["location"], headers=HTML).text)
    assert "Ajouté. Les changements de vos réservations lui sont désormais envoyés." in page
    assert "Le secret de signature de votre nouveau webhook" in page
    assert "Copiez-le maintenant : il n\u2019est affiché que cette fois-ci." in page


def test_deleting_a_webhook_asks_first(
    client: TestClient, session_factory: sessionmaker[Session], hook: dict[str, Any]
) -> None:
    page = client.get("/webhooks", headers=HTML).text
    assert f'href="/webhooks/{hook["id"]}/delete"' in page
    assert f'action="/webhooks/{hook["id"]}/delete"' not in page  # no delete in one click

    question = client.get(f"/webhooks/{hook['id']}/delete", headers=HTML)
    assert question.status_code == 200 and "no-store" in question.headers["cache-control"]
    asked = text_of(question.text)
    assert "Delete this webhook?" in asked and PUBLIC_RECEIVER in asked
    assert "A booking is made" in asked and "This cannot be undone." in asked
    assert f'action="/webhooks/{hook["id"]}/delete"' in question.text
    assert f'href="/webhooks#w-{hook["id"]}"' in question.text  # "Keep it" goes back
    with session_factory() as session:  # asking deleted nothing
        assert session.scalar(select(func.count()).select_from(WebhookSubscription)) == 1

    speaks(session_factory, "ada@example.com", "fr")
    asked = text_of(client.get(f"/webhooks/{hook['id']}/delete", headers=HTML).text)
    assert "Supprimer ce webhook ?" in asked and "Cette action est irréversible." in asked
    assert "Supprimer le webhook" in asked and "Le garder" in asked

    deleted = post(client, f"/webhooks/{hook['id']}/delete")
    assert deleted.status_code == 303 and deleted.headers["location"] == "/webhooks?notice=deleted"
    after = text_of(client.get(deleted.headers["location"], headers=HTML).text)
    assert "Supprimé. Plus rien ne lui est envoyé." in after and PUBLIC_RECEIVER not in after
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(WebhookSubscription)) == 0
        assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_another_organizers_webhook_cannot_be_asked_about(
    client: TestClient, session_factory: sessionmaker[Session], hook: dict[str, Any]
) -> None:
    create_account(session_factory, "grace@example.com", name="Grace Hopper")
    sign_in(client, "grace@example.com")
    answer = client.get(f"/webhooks/{hook['id']}/delete", headers=HTML)
    assert answer.status_code == 404 and PUBLIC_RECEIVER not in answer.text
    assert client.get("/webhooks/not-an-id/delete", headers=HTML).status_code == 404
