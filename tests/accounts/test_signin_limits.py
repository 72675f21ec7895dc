"""Sign-in limits stop guessers without letting anyone lock a person out: strangers use up
their own tries, and the browsers the owner already signed in with keep working."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.accounts import ratelimit
from bookwithme.accounts.devices import (
    DEVICE_COOKIE,
    KnownDevice,
    decode_device,
    encode_device,
)
from bookwithme.db import session_scope
from bookwithme.models import SignInAttempt, utcnow
from tests.factories import PASSWORD, create_account, csrf_token

HTML = {"accept": "text/html"}
SECRET = "test-secret-key-" + "x" * 32  # the key of the ``settings`` fixture
LOCKED = "Too many failed sign-ins. Try again in 15 minutes."
TRY_A_KNOWN_BROWSER = "or sign in from a browser you have signed in with before"


def browser(client: TestClient, address: str) -> TestClient:
    """A new browser (no cookies) whose connections come from ``address``."""
    return TestClient(client.app, client=(address, 50000))


def post_signin(client: TestClient, email: str, password: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/signin",
        data={"email": email, "password": password, "next": "/", "csrftoken": csrf_token(client)},
        headers=HTML,
        follow_redirects=False,
    )


def signed_in(client: TestClient, email: str) -> TestClient:
    response = post_signin(client, email, PASSWORD)
    assert response.status_code == 303, response.text
    return client


def test_strangers_guessing_from_elsewhere_do_not_lock_the_owner_out(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    create_account(session_factory, "ada@example.com")
    # Six machines use up their own tries on Ada's account: more failures than the whole
    # account was once allowed (20), and each only blocks itself.
    for i in range(6):
        stranger = browser(client, f"203.0.113.{i + 1}")
        for _ in range(ratelimit.MAX_PER_ACCOUNT_AND_ADDRESS):
            assert post_signin(stranger, "ada@example.com", "guess").status_code == 401
        blocked = post_signin(stranger, "ada@example.com", PASSWORD)
        assert blocked.status_code == 429 and LOCKED in blocked.text
    # Ada, at her own address in a browser she never used here, signs in.
    ada = browser(client, "198.51.100.7")
    assert post_signin(ada, "ada@example.com", PASSWORD).status_code == 303


def test_a_crowd_at_the_account_ceiling_blocks_new_browsers_not_the_owners(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    create_account(session_factory, "ada@example.com")
    laptop = signed_in(browser(client, "198.51.100.7"), "ada@example.com")
    device = decode_device(SECRET, laptop.cookies.get(DEVICE_COOKIE))
    assert device is not None and len(device.user_ids) == 1
    laptop.post("/signout", data={"csrftoken": csrf_token(laptop)})

    # A botnet: many addresses, each under its own limit, together at the account ceiling.
    now = utcnow()
    with session_scope(session_factory, write=True) as session:
        for i in range(ratelimit.MAX_PER_ACCOUNT):
            address = f"203.0.{i // 4}.{i % 4 + 1}"
            ratelimit.record_failed_sign_in(session, "ada@example.com", address, now)

    # A browser that never signed in to the account is refused, even at Ada's address,
    # and told what still works.
    refused = post_signin(browser(client, "198.51.100.7"), "ada@example.com", PASSWORD)
    assert refused.status_code == 429
    assert TRY_A_KNOWN_BROWSER in refused.text
    assert 800 < int(refused.headers["retry-after"]) <= 901
    # Ada's laptop signs in, from anywhere: the ceiling is not for her known browsers.
    assert post_signin(laptop, "ada@example.com", PASSWORD).status_code == 303
    laptop.cookies.clear()
    roaming = TestClient(client.app, client=("192.0.2.99", 1))
    roaming.cookies.set(DEVICE_COOKIE, encode_device(SECRET, device, device.user_ids[0]))
    assert post_signin(roaming, "ada@example.com", PASSWORD).status_code == 303


def test_a_known_browser_has_its_own_limit(
    client: TestClient, session_factory: sessionmaker[Session], session: Session
) -> None:
    create_account(session_factory, "ada@example.com")
    laptop = signed_in(browser(client, "198.51.100.7"), "ada@example.com")
    for _ in range(ratelimit.MAX_PER_DEVICE):
        assert post_signin(laptop, "ada@example.com", "typo").status_code == 401
    locked = post_signin(laptop, "ada@example.com", PASSWORD)
    assert locked.status_code == 429 and LOCKED in locked.text
    assert 800 < int(locked.headers["retry-after"]) <= 901
    # They were counted against the browser alone, not against strangers at its address.
    device = decode_device(SECRET, laptop.cookies.get(DEVICE_COOKIE))
    assert device is not None
    stored = session.scalars(select(SignInAttempt.device)).all()
    assert stored == [device.id] * ratelimit.MAX_PER_DEVICE
    other = browser(client, "198.51.100.7")
    assert post_signin(other, "ada@example.com", PASSWORD).status_code == 303


def test_a_successful_sign_in_forgets_that_browsers_failures_only(
    client: TestClient, session_factory: sessionmaker[Session], session: Session
) -> None:
    create_account(session_factory, "ada@example.com")
    ada = browser(client, "198.51.100.7")
    for _ in range(ratelimit.MAX_PER_ACCOUNT_AND_ADDRESS - 1):
        assert post_signin(ada, "ada@example.com", "typo").status_code == 401
    stranger = browser(client, "203.0.113.1")
    assert post_signin(stranger, "ada@example.com", "guess").status_code == 401
    signed_in(ada, "ada@example.com")
    assert session.scalars(select(SignInAttempt.client_address)).all() == ["203.0.113.1"]


def test_guessers_are_still_stopped_per_account_and_address(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    create_account(session_factory, "ada@example.com")
    create_account(session_factory, "eve@example.com", name="Eve")
    # Eve's known-device cookie is for her own account: guessing Ada's, she is a stranger.
    eve = signed_in(browser(client, "203.0.113.9"), "eve@example.com")
    for _ in range(ratelimit.MAX_PER_ACCOUNT_AND_ADDRESS):
        assert post_signin(eve, "ada@example.com", "guess").status_code == 401
    assert post_signin(eve, "ada@example.com", PASSWORD).status_code == 429

    # A device cookie not signed with this server's key counts for nothing.
    account = create_account(session_factory, "grace@example.com", name="Grace")
    forger = browser(client, "203.0.113.10")
    forged = encode_device("not-the-secret-key", KnownDevice("x" * 22), account.user.id)
    forger.cookies.set(DEVICE_COOKIE, forged)
    for _ in range(ratelimit.MAX_PER_ACCOUNT_AND_ADDRESS):
        assert post_signin(forger, "grace@example.com", "guess").status_code == 401
    assert post_signin(forger, "grace@example.com", PASSWORD).status_code == 429


def test_one_address_trying_many_accounts_is_stopped(
    client: TestClient, session_factory: sessionmaker[Session], session: Session
) -> None:
    create_account(session_factory, "ada@example.com")
    laptop = signed_in(browser(client, "192.0.2.50"), "ada@example.com")
    sprayer = browser(client, "192.0.2.50")
    for i in range(ratelimit.MAX_PER_ADDRESS):
        assert post_signin(sprayer, f"user{i}@example.com", "Winter2026!").status_code == 401
    blocked = post_signin(sprayer, "ada@example.com", PASSWORD)
    assert blocked.status_code == 429 and LOCKED in blocked.text
    counted = session.scalar(select(func.count()).select_from(SignInAttempt))
    assert counted == ratelimit.MAX_PER_ADDRESS
    # Ada's own browser at that same address is not the sprayer.
    assert post_signin(laptop, "ada@example.com", PASSWORD).status_code == 303


def test_an_ipv6_host_counts_as_its_whole_64_network(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    create_account(session_factory, "ada@example.com")
    for i in range(ratelimit.MAX_PER_ACCOUNT_AND_ADDRESS):
        guesser = browser(client, f"2001:db8:0:7::{i + 1:x}")
        assert post_signin(guesser, "ada@example.com", "guess").status_code == 401
    same_network = browser(client, "2001:db8:0:7:ffff:ffff:ffff:ffff")
    assert post_signin(same_network, "ada@example.com", PASSWORD).status_code == 429
    next_network = browser(client, "2001:db8:0:8::1")
    assert post_signin(next_network, "ada@example.com", PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
        ("unknown", "unknown"),
    ],
)
def test_what_an_address_counts_as(address: str, key: str) -> None:
    assert ratelimit.address_key(address) == key


def test_the_device_cookie_is_signed_and_keeps_a_few_accounts() -> None:
    import uuid

    users = [uuid.uuid4() for _ in range(7)]
    cookie = encode_device(SECRET, None, users[0])
    device = decode_device(SECRET, cookie)
    assert device is not None and device.user_ids == (users[0],)
    for user in users[1:]:
        device = decode_device(SECRET, encode_device(SECRET, device, user))
        assert device is not None
    # The same device, the most recent accounts first.
    assert device.id == decode_device(SECRET, cookie).id  # type: ignore[union-attr]
    assert device.user_ids == tuple(reversed(users))[:5]
    assert device.knows(users[6]) and not device.knows(users[0])
    assert decode_device("another key", cookie) is None
    assert decode_device(SECRET, cookie[:-2]) is None
    assert decode_device(SECRET, "garbage") is None
    assert decode_device(SECRET, None) is None
