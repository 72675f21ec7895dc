"""Administrators see the background jobs, dead ones with their last error, and queue a dead
one again (API and page); nobody else can."""

from __future__ import annotations

import uuid
from datetime import timedelta
from html import unescape
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.config import Settings
from bookwithme.db import session_scope
from bookwithme.models import AuditLogEntry, Job, utcnow
from tests.factories import create_account, csrf_token, sign_in
from tests.support.jobs import run_due

HTML = {"accept": "text/html"}
ERROR = "ConnectionRefusedError: [Errno 111] Connection refused <smtp.example.com>"


def add_job(
    factory: sessionmaker[Session],
    kind: str,
    key: str,
    status: str,
    *,
    minutes_ago: int,
    attempts: int = 0,
    last_error: str | None = None,
) -> uuid.UUID:
    """A job row as the worker leaves it (a dead one has failed ``attempts`` times)."""
    now = utcnow()
    created = now - timedelta(minutes=minutes_ago)
    finished = status in ("done", "dead", "cancelled")
    with session_scope(factory, write=True) as session:
        job = Job(
            id=uuid.uuid4(),
            kind=kind,
            key=key,
            payload={},
            status=status,
            run_at=created + timedelta(minutes=1),
            attempts=attempts,
            last_error=last_error,
            created_at=created,
            finished_at=now - timedelta(minutes=1) if finished else None,
        )
        session.add(job)
    return job.id


def job_row(factory: sessionmaker[Session], job_id: uuid.UUID) -> Job:
    with factory() as session:
        return session.get_one(Job, job_id)


def test_dead_jobs_are_listed_with_their_error_and_retried_through_the_api(
    client: TestClient, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    admin = create_account(session_factory, "root@example.com", name="Root", is_admin=True)
    dead = add_job(
        session_factory, "upkeep", "upkeep", "dead", minutes_ago=30, attempts=9, last_error=ERROR
    )
    waiting = add_job(session_factory, "reminder", str(uuid.uuid4()), "queued", minutes_ago=20)
    done = add_job(session_factory, "email", str(uuid.uuid4()), "done", minutes_ago=10)

    listed = client.get("/api/v1/admin/jobs", headers=admin.headers)
    assert listed.status_code == 200
    body = listed.json()
    assert [i["id"] for i in body["items"]] == [str(done), str(waiting), str(dead)]
    assert body["next_cursor"] is None
    shown = body["items"][2]
    assert set(shown) == {
        "id",
        "kind",
        "key",
        "status",
        "attempts",
        "run_at",
        "last_error",
        "created_at",
        "finished_at",
    }
    assert (shown["kind"], shown["status"], shown["attempts"]) == ("upkeep", "dead", 9)
    assert shown["last_error"] == ERROR and shown["finished_at"].endswith("Z")

    only_dead = client.get(
        "/api/v1/admin/jobs", params={"status": "dead"}, headers=admin.headers
    ).json()
    assert [i["id"] for i in only_dead["items"]] == [str(dead)]
    emails = client.get("/api/v1/admin/jobs", params={"kind": "email"}, headers=admin.headers)
    assert [i["id"] for i in emails.json()["items"]] == [str(done)]

    first = client.get("/api/v1/admin/jobs", params={"limit": 2}, headers=admin.headers).json()
    rest = client.get(
        "/api/v1/admin/jobs",
        params={"limit": 2, "cursor": first["next_cursor"]},
        headers=admin.headers,
    ).json()
    assert [i["id"] for i in first["items"] + rest["items"]] == [i["id"] for i in body["items"]]
    assert rest["next_cursor"] is None
    for params in ({"status": "lost"}, {"cursor": "nonsense"}, {"limit": "0"}):
        answer = client.get("/api/v1/admin/jobs", params=params, headers=admin.headers)
        assert answer.status_code == 422, params

    # Only a dead job can be retried, and the answer says why not.
    for job_id, status in ((waiting, "queued"), (done, "done")):
        refused = client.post(f"/api/v1/admin/jobs/{job_id}/retry", headers=admin.headers)
        assert refused.status_code == 409
        error = refused.json()["error"]
        assert error["code"] == "job_not_dead"
        assert f"This job is {status}, not dead" in error["message"]
        assert job_row(session_factory, job_id).status == status
    for unknown in (str(uuid.uuid4()), "not-an-id"):
        missing = client.post(f"/api/v1/admin/jobs/{unknown}/retry", headers=admin.headers)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"

    retried = client.post(f"/api/v1/admin/jobs/{dead}/retry", headers=admin.headers)
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "queued" and retried.json()["attempts"] == 0
    row = job_row(session_factory, dead)
    assert (row.status, row.attempts, row.finished_at) == ("queued", 0, None)
    assert row.run_at <= utcnow() and row.last_error == ERROR  # kept until it runs again
    again = client.post(f"/api/v1/admin/jobs/{dead}/retry", headers=admin.headers)
    assert again.status_code == 409 and "waiting to run already" in again.json()["error"]["message"]

    with session_factory() as session:
        entry = session.scalars(select(AuditLogEntry)).one()
    assert (entry.actor, entry.action, entry.target) == (
        "root@example.com",
        "job.retry",
        "upkeep upkeep",
    )
    assert entry.before == {"status": "dead", "attempts": 9} and entry.after == {"status": "queued"}

    # A worker takes it again at once, and this time it succeeds.
    assert run_due(session_factory, settings, ["upkeep"]) == ["done"]
    assert job_row(session_factory, dead).status == "done"


def test_a_dead_job_whose_work_waits_already_is_closed_instead(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    admin = create_account(session_factory, "root@example.com", name="Root", is_admin=True)
    key = str(uuid.uuid4())
    dead = add_job(
        session_factory, "calendar.sync", key, "dead", minutes_ago=60, attempts=5, last_error="x"
    )
    twin = add_job(session_factory, "calendar.sync", key, "queued", minutes_ago=5)
    answer = client.post(f"/api/v1/admin/jobs/{dead}/retry", headers=admin.headers)
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    assert job_row(session_factory, dead).status == "cancelled"
    assert job_row(session_factory, twin).status == "queued"


def post_form(client: TestClient, path: str, **fields: Any):  # type: ignore[no-untyped-def]
    return client.post(
        path, data={"csrftoken": csrf_token(client), **fields}, headers=HTML, follow_redirects=False
    )


def test_the_jobs_page_shows_dead_jobs_and_retries_them(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    create_account(session_factory, "root@example.com", name="Root", is_admin=True)
    message_id = str(uuid.uuid4())
    dead = add_job(
        session_factory, "email", message_id, "dead", minutes_ago=30, attempts=12, last_error=ERROR
    )
    add_job(session_factory, "webhook", str(uuid.uuid4()), "queued", minutes_ago=20, attempts=2)
    add_job(session_factory, "reminder", str(uuid.uuid4()), "done", minutes_ago=10)
    sign_in(client, "root@example.com")

    settings_page = client.get("/admin", headers=HTML)
    assert 'href="/admin/jobs?status=dead"' in settings_page.text
    assert "1 dead" in settings_page.text

    page = client.get("/admin/jobs", headers=HTML)
    assert page.status_code == 200
    text = unescape(page.text)
    assert "1 job failed too often and will not run again" in text
    assert ERROR in text and "12 attempts" in text and "Retrying" in text
    assert f'href="/admin/outbox/{message_id}"' in page.text  # an email job leads to its email
    assert text.count("Retry now") == 1 and f"/admin/jobs/{dead}/retry" in page.text
    # Counts per status, on the filter tabs.
    assert '<span class="count alarm">1</span>' in page.text
    assert 'All <span class="count">3</span>' in page.text

    dead_only = unescape(client.get("/admin/jobs?status=dead", headers=HTML).text)
    assert ERROR in dead_only and "<strong>Webhook call</strong>" not in dead_only
    webhooks = unescape(client.get("/admin/jobs?kind=webhook", headers=HTML).text)
    assert "<strong>Webhook call</strong>" in webhooks and ERROR not in webhooks

    # Without the browser's CSRF token nothing happens.
    forged = client.post(f"/admin/jobs/{dead}/retry", data={"status": "dead"}, headers=HTML)
    assert forged.status_code == 403
    assert job_row(session_factory, dead).status == "dead"

    retried = post_form(client, f"/admin/jobs/{dead}/retry", status="dead")
    assert retried.status_code == 303
    assert retried.headers["location"] == "/admin/jobs?notice=queued&status=dead"
    assert job_row(session_factory, dead).status == "queued"
    after = client.get(retried.headers["location"], headers=HTML)
    assert "The job is queued again" in after.text and "No jobs with this status." in after.text
    twice = post_form(client, f"/admin/jobs/{dead}/retry")
    assert twice.status_code == 409 and "only a dead job can be retried" in twice.text


def test_only_administrators_see_or_retry_jobs(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    ada = create_account(session_factory, "ada@example.com")
    dead = add_job(session_factory, "upkeep", "upkeep", "dead", minutes_ago=5, last_error="x")
    listed = client.get("/api/v1/admin/jobs", headers=ada.headers)
    assert listed.status_code == 403 and listed.json()["error"]["code"] == "forbidden"
    refused = client.post(f"/api/v1/admin/jobs/{dead}/retry", headers=ada.headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/admin/jobs").status_code == 401
    assert client.post(f"/api/v1/admin/jobs/{dead}/retry").status_code == 401

    sign_in(client, "ada@example.com")
    page = client.get("/admin/jobs", headers=HTML)
    assert page.status_code == 403 and "Only administrators" in page.text
    assert post_form(client, f"/admin/jobs/{dead}/retry").status_code == 403
    assert job_row(session_factory, dead).status == "dead"
