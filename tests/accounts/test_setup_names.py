"""Setup (and sign-up) require the organization's and the person's names: a name left out,
empty or only spaces is refused next to its field, nothing is written, and the form never
comes back with the text "None" in it (issue 11)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.accounts import service as accounts
from bookwithme.db import session_scope
from bookwithme.errors import InvalidInput
from bookwithme.models import Organization, User
from tests.accounts.test_setup import HTML, count, setup_fields
from tests.factories import create_account, csrf_token

ORGANIZATION_MESSAGE = "Enter the name of your organization."
NAME_MESSAGE = "Enter your name."


class _Form(HTMLParser):
    """The fields of a page's form as a browser would post them back: each input's value
    and each select's chosen option."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        self._select: str | None = None
        self._error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            self.values[str(a["name"])] = a.get("value") or ""
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value") or ""
        elif tag == "p" and a.get("class") == "error" and (a.get("id") or "").startswith("e-"):
            self._error = str(a["id"])[2:]

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "p":
            self._error = None

    def handle_data(self, data: str) -> None:
        if self._error:
            self.errors[self._error] = self.errors.get(self._error, "") + data


def form_of(html: str) -> _Form:
    form = _Form()
    form.feed(html)
    return form


def test_names_left_out_of_the_post_are_required_and_never_written_as_none(
    client: TestClient, session: Session
) -> None:
    fields = setup_fields(client)
    del fields["organization_name"], fields["name"]
    response = client.post("/setup", data=fields, headers=HTML)
    assert response.status_code == 422
    form = form_of(response.text)
    # A clear message next to each field, not pydantic's "Field required".
    assert form.errors["organization_name"] == ORGANIZATION_MESSAGE
    assert form.errors["name"] == NAME_MESSAGE
    assert "Field required" not in response.text
    # The fields come back empty: no "None" to be sent again.
    assert form.values["organization_name"] == "" and form.values["name"] == ""
    assert 'value="None"' not in response.text
    # What the person typed elsewhere is kept.
    assert form.values["email"] == "Ada@Example.com"
    assert form.values["time_zone"] == "Asia/Kolkata"
    assert count(session, User) == 0 and count(session, Organization) == 0

    # Sending the re-rendered form back as it is (plus the passwords, never echoed)
    # is refused again: before the fix this stored an organization and an admin "None".
    again = {**form.values, "password": fields["password"], "password_confirm": fields["password"]}
    resent = client.post("/setup", data=again, headers=HTML)
    assert resent.status_code == 422
    assert form_of(resent.text).errors == {
        "organization_name": ORGANIZATION_MESSAGE,
        "name": NAME_MESSAGE,
    }
    assert count(session, User) == 0 and count(session, Organization) == 0

    # Filled in, setup goes through with those names.
    again.update(organization_name="Acme Consulting", name="Ada Lovelace")
    done = client.post("/setup", data=again, follow_redirects=False)
    assert done.status_code == 303
    session.rollback()  # a new read: SQLite would still show the snapshot counted above
    assert session.scalars(select(Organization.name)).one() == "Acme Consulting"
    assert session.scalars(select(User.name)).one() == "Ada Lovelace"
    assert "Hello, Ada Lovelace" in client.get("/", headers=HTML).text


@pytest.mark.parametrize("blank", ["", "   ", "\t \u00a0"])
def test_blank_names_are_refused_next_to_their_field(
    client: TestClient, session: Session, blank: str
) -> None:
    response = client.post(
        "/setup", data=setup_fields(client, organization_name=blank, name=blank), headers=HTML
    )
    assert response.status_code == 422
    form = form_of(response.text)
    assert form.errors == {"organization_name": ORGANIZATION_MESSAGE, "name": NAME_MESSAGE}
    assert 'aria-describedby="e-organization_name"' in response.text
    assert 'aria-describedby="e-name"' in response.text
    assert count(session, User) == 0 and count(session, Organization) == 0


def test_an_empty_email_and_a_short_password_are_explained_in_plain_words(
    client: TestClient, session: Session
) -> None:
    response = client.post(
        "/setup",
        data=setup_fields(client, email="", password="short", password_confirm="short"),
        headers=HTML,
    )
    assert response.status_code == 422
    assert form_of(response.text).errors == {
        "email": "Enter your email address.",
        "password": "Use at least 8 characters.",
    }
    assert "String should have" not in response.text
    missing = client.post("/setup", data=setup_fields(client, password=""), headers=HTML)
    assert form_of(missing.text).errors["password"] == (
        "Choose a password of at least 8 characters."
    )
    assert count(session, User) == 0 and count(session, Organization) == 0


def test_one_missing_name_keeps_the_other_as_typed(client: TestClient, session: Session) -> None:
    response = client.post("/setup", data=setup_fields(client, name=" "), headers=HTML)
    assert response.status_code == 422
    form = form_of(response.text)
    assert form.errors == {"name": NAME_MESSAGE}
    assert form.values["organization_name"] == "Acme Consulting"

    other = client.post(
        "/setup", data=setup_fields(client, password_confirm="something else"), headers=HTML
    )
    form = form_of(other.text)
    assert set(form.errors) == {"password_confirm"}
    assert (form.values["organization_name"], form.values["name"]) == (
        "Acme Consulting",
        "Ada Lovelace",
    )
    assert count(session, User) == 0 and count(session, Organization) == 0


def test_names_are_stored_trimmed(client: TestClient, session: Session) -> None:
    response = client.post(
        "/setup",
        data=setup_fields(client, organization_name="  Acme Consulting \t", name=" Ada Lovelace "),
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert session.scalars(select(Organization.name)).one() == "Acme Consulting"
    assert session.scalars(select(User.name)).one() == "Ada Lovelace"


@pytest.mark.parametrize(
    ("organization_name", "name", "fields"),
    [
        ("", "Ada", ["organization_name"]),
        ("Acme", "  ", ["name"]),
        (" ", "", ["organization_name", "name"]),
    ],
)
def test_the_setup_service_refuses_blank_names_and_writes_nothing(
    session_factory: sessionmaker[Session],
    session: Session,
    organization_name: str,
    name: str,
    fields: list[str],
) -> None:
    data = accounts.SetupInput(
        organization_name=organization_name,
        name=name,
        email="ada@example.com",
        password="analytical engine",
        time_zone="UTC",
    )
    with (
        pytest.raises(InvalidInput) as raised,
        session_scope(session_factory, write=True) as writer,
    ):
        accounts.set_up_installation(writer, data)
    assert [d["field"] for d in raised.value.details] == fields
    assert count(session, User) == 0 and count(session, Organization) == 0


def test_a_user_is_never_created_with_a_blank_name(
    session_factory: sessionmaker[Session], session: Session
) -> None:
    with pytest.raises(InvalidInput):
        create_account(session_factory, "ada@example.com", name="   ")
    assert count(session, User) == 0


def test_sign_up_requires_a_name_too_and_never_shows_none(
    client: TestClient, session_factory: sessionmaker[Session], session: Session
) -> None:
    root = create_account(session_factory, "root@example.com", name="Root", is_admin=True)
    client.patch("/api/v1/admin/org", json={"allow_signup": True}, headers=root.headers)
    fields = {
        "csrftoken": csrf_token(client),
        "email": "eve@example.com",
        "password": "a long password",
        "password_confirm": "a long password",
        "time_zone": "Europe/Berlin",
    }
    response = client.post("/signup", data=fields, headers=HTML)
    assert response.status_code == 422
    form = form_of(response.text)
    assert form.errors == {"name": NAME_MESSAGE}
    assert form.values["name"] == "" and form.values["email"] == "eve@example.com"
    assert count(session, User) == 1
