"""Small helpers that create what a test needs, committed, through the real services."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.accounts import service as accounts
from bookwithme.db import session_scope
from bookwithme.models import User

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
    with session_scope(factory) as session:
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


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    response = client.post(
        "/signin",
        data={"email": email, "password": password, "csrftoken": csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
