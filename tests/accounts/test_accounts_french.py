"""The account pages in French (issue 11): before sign-in they speak the browser's language
(Accept-Language), a new account keeps the language it was made in (and starts with its
meeting types titled in it), and after sign-in every page speaks the user's own language,
which they choose on their account page. Form messages and error pages follow; the API
stays English."""

from __future__ import annotations

import uuid
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.accounts import ratelimit
from bookwithme.errors import TooManyAttempts
from bookwithme.models import MeetingType, User
from bookwithme.web.pages_accounts import _locked_out
from tests.accounts.test_setup import HTML, setup_fields
from tests.accounts.test_setup_names import form_of
from tests.factories import create_account, csrf_token, post_form, sign_in

FRENCH = {"accept-language": "fr-FR,fr;q=0.9,en;q=0.5"}
ENGLISH = {"accept-language": "en-GB,en;q=0.9"}
FRENCH_TYPES = ["Réunion de 15 minutes", "Réunion de 30 minutes"]


def titles(session: Session, user: User) -> list[str]:
    session.rollback()  # a new read: SQLite would still show an older snapshot
    return list(
        session.scalars(
            select(MeetingType.title)
            .where(MeetingType.user_id == user.id)
            .order_by(MeetingType.position)
        )
    )


def the_user(session: Session, email: str) -> User:
    session.rollback()
    return session.scalars(select(User).where(User.email == email)).one()


def test_setup_in_a_french_browser_is_in_french_and_the_admin_stays_french(
    client: TestClient, session: Session
) -> None:
    client.headers.update(FRENCH)
    page = client.get("/setup", headers=HTML)
    text = unescape(page.text)
    assert '<html lang="fr">' in page.text
    assert "<h1>Bienvenue dans bookwithme</h1>" in text
    for french in ("Nom de l\u2019organisation", "Votre nom", "Mot de passe", "Fuseau horaire"):
        assert french in text
    for english in ("Welcome to", "Organization name", "Password", "Time zone", "Your name"):
        assert english not in text

    refused = client.post(
        "/setup",
        data=setup_fields(
            client,
            organization_name="  ",
            name="x" * 201,
            email="not-an-email",
            password="short",
            password_confirm="short",
        ),
        headers=HTML,
    )
    assert refused.status_code == 422
    assert form_of(unescape(refused.text)).errors == {
        "organization_name": "Saisissez le nom de votre organisation.",
        "name": "Utilisez au plus 200 caractères.",
        "email": "Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.",
        "password": "Utilisez au moins 8 caractères.",
    }
    zone = client.post("/setup", data=setup_fields(client, time_zone="Mars/Olympus"), headers=HTML)
    assert form_of(unescape(zone.text)).errors == {
        "time_zone": "« Mars/Olympus » n\u2019est pas un fuseau horaire IANA connu. "
        "Choisissez le vôtre dans la liste."
    }

    done = client.post("/setup", data=setup_fields(client), follow_redirects=False)
    assert done.status_code == 303
    admin = the_user(session, "ada@example.com")
    assert admin.locale == "fr"
    assert titles(session, admin) == FRENCH_TYPES

    # Signed in, the pages follow the account, whatever the browser says.
    client.headers.update(ENGLISH)
    listing = client.get("/bookings", headers=HTML)
    assert '<html lang="fr">' in listing.text
    nav = unescape(listing.text)
    assert "Réservations" in nav and ">Compte</span>" in nav and "Se déconnecter" in nav
    assert 'href="/account"' in nav


def test_setup_in_an_english_browser_makes_an_english_account(
    client: TestClient, session: Session
) -> None:
    client.headers.update(ENGLISH)
    page = client.get("/setup", headers=HTML)
    assert '<html lang="en">' in page.text and "Welcome to bookwithme" in page.text
    assert client.post("/setup", data=setup_fields(client)).status_code == 200
    admin = the_user(session, "ada@example.com")
    assert admin.locale == "en"
    assert titles(session, admin) == ["15 minute meeting", "30 minute meeting"]


def test_sign_in_speaks_the_browsers_language(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    create_account(session_factory, "ada@example.com")
    french = TestClient(client.app, headers=FRENCH)
    page = unescape(french.get("/signin", headers=HTML).text)
    assert "<h1>Se connecter</h1>" in page and "Mot de passe" in page and "Sign in" not in page

    def attempt(**fields: str):  # type: ignore[no-untyped-def]
        data = {"csrftoken": csrf_token(french), "next": "/", **fields}
        return french.post("/signin", data=data, headers=HTML, follow_redirects=False)

    empty = attempt(email="ada@example.com", password="")
    assert empty.status_code == 422
    assert "Saisissez votre adresse e-mail et votre mot de passe." in unescape(empty.text)
    for _ in range(ratelimit.MAX_PER_ACCOUNT_AND_ADDRESS):
        wrong = attempt(email="ada@example.com", password="guess")
        assert wrong.status_code == 401
        assert "L\u2019adresse e-mail ou le mot de passe est incorrect." in unescape(wrong.text)
    locked = attempt(email="ada@example.com", password="guess")
    assert locked.status_code == 429
    assert "Trop de connexions ont échoué. Réessayez dans 15 minutes." in unescape(locked.text)
    assert "Too many" not in locked.text


@pytest.mark.parametrize(
    ("template", "seconds", "english", "french"),
    [
        (
            ratelimit.TRY_AGAIN,
            900,
            "Too many failed sign-ins. Try again in 15 minutes.",
            "Trop de connexions ont échoué. Réessayez dans 15 minutes.",
        ),
        (
            ratelimit.TRY_AGAIN,
            40,
            "Too many failed sign-ins. Try again in 1 minute.",
            "Trop de connexions ont échoué. Réessayez dans 1 minute.",
        ),
        (
            ratelimit.TRY_A_KNOWN_BROWSER,
            120,
            "Too many failed sign-ins to this account from browsers it has not been used with. "
            "Try again in 2 minutes, or sign in from a browser you have signed in with before.",
            "Trop de connexions ont échoué sur ce compte depuis des navigateurs jamais utilisés "
            "avec lui. Réessayez dans 2 minutes, ou connectez-vous depuis un navigateur que vous "
            "avez déjà utilisé pour ce compte.",
        ),
    ],
)
def test_a_locked_sign_in_says_which_limit_and_how_long_in_either_language(
    template: str, seconds: int, english: str, french: str
) -> None:
    minutes = -(-seconds // 60)
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    exc = TooManyAttempts(template.format(wait=wait), retry_after=seconds)
    assert _locked_out(exc, "en") == exc.message == english
    assert _locked_out(exc, "fr") == french


def test_sign_up_in_french_makes_a_french_account(
    client: TestClient, session_factory: sessionmaker[Session], session: Session
) -> None:
    root = create_account(session_factory, "root@example.com", name="Root", is_admin=True)
    client.patch("/api/v1/admin/org", json={"allow_signup": True}, headers=root.headers)
    client.headers.update(FRENCH)
    assert "Créer un compte" in unescape(client.get("/signin", headers=HTML).text)
    page = unescape(client.get("/signup", headers=HTML).text)
    assert "<h1>Créez votre compte</h1>" in page and "Confirmez le mot de passe" in page

    fields = {
        "csrftoken": csrf_token(client),
        "name": "Eve Example",
        "email": "eve@example.com",
        "password": "a long password",
        "password_confirm": "a long password",
        "time_zone": "Europe/Paris",
    }
    mismatch = client.post("/signup", data={**fields, "password_confirm": "x" * 9}, headers=HTML)
    assert form_of(unescape(mismatch.text)).errors == {
        "password_confirm": "Les deux mots de passe ne sont pas identiques"
    }
    taken = client.post("/signup", data={**fields, "email": "root@example.com"}, headers=HTML)
    assert taken.status_code == 409
    assert form_of(unescape(taken.text)).errors == {
        "email": "Un compte existe déjà avec cette adresse e-mail. Connectez-vous plutôt."
    }
    assert client.post("/signup", data=fields, follow_redirects=False).status_code == 303
    eve = the_user(session, "eve@example.com")
    assert eve.locale == "fr"
    assert titles(session, eve) == FRENCH_TYPES


def test_an_administrator_made_french_user_starts_with_french_meeting_types(
    client: TestClient, session_factory: sessionmaker[Session], session: Session
) -> None:
    root = create_account(session_factory, "root@example.com", name="Root", is_admin=True)
    made = client.post(
        "/api/v1/admin/users",
        json={"email": "zoe@example.com", "name": "Zoé", "locale": "fr"},
        headers=root.headers,
    )
    assert made.status_code == 201, made.text
    assert titles(session, the_user(session, "zoe@example.com")) == FRENCH_TYPES
    assert titles(session, root.user) == ["15 minute meeting", "30 minute meeting"]


def test_the_account_page_changes_the_name_and_the_language(
    client: TestClient, session_factory: sessionmaker[Session], session: Session
) -> None:
    create_account(session_factory, "ada@example.com")
    anonymous = client.get("/account", headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/signin?next=/account"

    sign_in(client, "ada@example.com")
    client.headers.update(FRENCH)  # the account's language wins over the browser's
    page = client.get("/account", headers=HTML)
    assert '<html lang="en">' in page.text
    assert "<h1>Your account</h1>" in page.text and "ada@example.com" in page.text
    assert 'value="en" lang="en" checked' in page.text

    blank = post_form(client, "/account", name="  ", locale="fr")
    assert blank.status_code == 422
    assert form_of(blank.text).errors == {"name": "Enter your name."}
    odd = post_form(client, "/account", name="Ada King", locale="de")
    assert odd.status_code == 422
    assert "Choose English or French." in odd.text
    unchanged = the_user(session, "ada@example.com")
    assert (unchanged.name, unchanged.locale) == ("Ada Lovelace", "en")

    saved = post_form(client, "/account", name=" Ada King ", locale="fr")
    assert saved.status_code == 303 and saved.headers["location"] == "/account?saved=1"
    changed = the_user(session, "ada@example.com")
    assert (changed.name, changed.locale) == ("Ada King", "fr")
    after = client.get(saved.headers["location"], headers=HTML)
    text = unescape(after.text)
    assert '<html lang="fr">' in after.text
    assert "<h1>Votre compte</h1>" in text and "Enregistré." in text
    assert 'value="fr" lang="fr" checked' in after.text
    assert "Ada King" in text  # in the top bar too

    again = post_form(client, "/account", name="", locale="en")
    assert form_of(unescape(again.text)).errors == {"name": "Saisissez votre nom."}


def test_error_pages_speak_the_browsers_language_before_sign_in_and_the_api_stays_english(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    account = create_account(session_factory, "ada@example.com")
    unknown = client.get("/no-such-page", headers={**HTML, **FRENCH})
    assert unknown.status_code == 404
    assert '<html lang="fr">' in unknown.text
    assert "<h1>Introuvable</h1>" in unknown.text
    assert "Il n\u2019y a rien ici. Vérifiez l\u2019adresse." in unescape(unknown.text)
    assert "Aller à la page d\u2019accueil" in unescape(unknown.text)
    english = client.get("/no-such-page", headers={**HTML, **ENGLISH})
    assert "<h1>Not found</h1>" in english.text

    api = client.get(f"/api/v1/meeting-types/{uuid.uuid4()}", headers={**FRENCH, **account.headers})
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    assert api.json()["error"]["message"].isascii()  # English, as the API always is
    too_long = client.patch(
        "/api/v1/me", json={"name": "x" * 201}, headers={**FRENCH, **account.headers}
    )
    assert too_long.status_code == 422
    assert too_long.json()["error"]["details"] == [
        {"field": "name", "message": "String should have at most 200 characters"}
    ]


def test_an_error_page_speaks_the_signed_in_organizers_language_not_the_browsers(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    account = create_account(session_factory, "marie@example.com", name="Marie Curie")
    with session_factory() as s:
        s.get(User, account.user.id).locale = "fr"  # type: ignore[union-attr]
        s.commit()
    sign_in(client, "marie@example.com")
    client.headers.update(ENGLISH)
    missing = client.get(f"/meeting-types/{uuid.uuid4()}", headers=HTML)
    assert missing.status_code == 404
    assert '<html lang="fr">' in missing.text
    assert "Introuvable" in unescape(missing.text)
    assert "Not found" not in missing.text

    client.cookies.clear()  # signed out: the browser's language again
    anonymous = client.get("/no-such-page", headers=HTML)
    assert anonymous.status_code == 404 and '<html lang="en">' in anonymous.text
