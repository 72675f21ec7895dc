"""Small helpers that create what a test needs, committed, through the real services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from bookwithme.accounts import service as accounts
from bookwithme.cli import app as cli
from bookwithme.db import session_scope
from bookwithme.models import Booking, User
from bookwithme.security import hash_token, new_token

PASSWORD = "correct horse battery"


@dataclass
class Account:
    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def create_account(
    factory: sessionmaker[Session],
    email: str = "ada@example.com",
    *,
    name: str = "Ada Lovelace",
    time_zone: str = "Europe/Paris",
    is_admin: bool = False,
    password: str | None = PASSWORD,
    plan: str | None = None,
) -> Account:
    with session_scope(factory, write=True) as session:
        organization = accounts.get_or_create_organization(session, "Acme")
        user = accounts.create_user(
            session,
            organization,
            email=email,
            name=name,
            time_zone=time_zone,
            password=password,
            is_admin=is_admin,
            plan=plan,
        )
        _, token = accounts.create_api_token(session, user, "tests")
    return Account(user=user, token=token)


def csrf_token(client: TestClient) -> str:
    """The CSRF cookie a browser would have after loading any form."""
    if "csrftoken" not in client.cookies:
        client.get("/signin", headers={"accept": "text/html"})
    return str(client.cookies["csrftoken"])


def post_form(client: TestClient, path: str, **fields: Any) -> Any:
    """A form as the browser sends it, with the CSRF token of the signed-in browser."""
    return client.post(
        path,
        data={"csrftoken": csrf_token(client), **fields},
        headers={"accept": "text/html"},
        follow_redirects=False,
    )


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    response = client.post(
        "/signin",
        data={"email": email, "password": password, "csrftoken": csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def add_booking(
    factory: sessionmaker[Session],
    organizer: User,
    meeting_type_id: uuid.UUID | str,
    start: datetime,
    minutes: int = 30,
    *,
    before: int = 0,
    after: int = 0,
    status: str = "confirmed",
) -> Booking:
    """A booking row as the booking service stores it (snapshot and widened span)."""
    with session_scope(factory, write=True) as session:
        booking = Booking(
            user_id=organizer.id,
            meeting_type_id=uuid.UUID(str(meeting_type_id)),
            status=status,
            start_at=start,
            end_at=start + timedelta(minutes=minutes),
            blocked_start_at=start - timedelta(minutes=before),
            blocked_end_at=start + timedelta(minutes=minutes + after),
            title="Booked",
            duration_minutes=minutes,
            buffer_before_minutes=before,
            buffer_after_minutes=after,
            location_kind="online",
            invitee_name="Invitee",
            invitee_email="invitee@example.com",
            invitee_time_zone="UTC",
            manage_token_hash=hash_token(new_token()),
            ical_uid=f"{uuid.uuid4()}@bookwithme",
        )
        session.add(booking)
    return booking


def run_cli(*args: str, input: str | None = None) -> Result:
    """Run the `bookwithme` command in process."""
    return CliRunner().invoke(cli, list(args), input=input)
