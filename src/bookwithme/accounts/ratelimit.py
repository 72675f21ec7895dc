"""Failed sign-ins are limited so that guessing is slow and nobody can lock a person out.

The counts live in the database, so every server process shares them. Each limit counts the
failures of the last ``WINDOW``; once one is reached, sign-in answers 429 until enough of
them are older than the window.

A browser that signed in to the account before (a known device, ``devices.py``) is judged
only by its own failures: ``MAX_PER_DEVICE``. Everyone else (a new browser, a stranger, a
script) is judged by three counts of the failures of browsers that are not known devices:

``MAX_PER_ACCOUNT_AND_ADDRESS`` = 5, the tight one: someone mistyping, or one machine
    guessing one account, gets 5 tries per 15 minutes (480 a day), and blocks only itself.
``MAX_PER_ADDRESS`` = 30, across accounts: one machine trying a few passwords on many
    accounts (password spraying) is stopped after 30; it is far above what the people of an
    office sharing one address mistype in 15 minutes.
``MAX_PER_ACCOUNT`` = 100, the ceiling of one account: it caps what a crowd of machines
    guessing one account can try at 100 per 15 minutes (NIST SP 800-63B 5.2.2 allows at most
    100 failures in a row on an account). Reaching it takes 20 machines (20 /64 networks in
    IPv6) each using up its own 5, so a stranger or two can no longer block anyone, as the
    old ceiling of 20 let four stray addresses do; and even a crowd that reaches it blocks
    only new browsers: the owner's known devices sign in as usual.

Addresses are counted as they are in IPv4, and per /64 network in IPv6, since one IPv6
host usually holds a whole /64 and could otherwise pose as any number of machines.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from ipaddress import IPv6Address, IPv6Network, ip_address

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from bookwithme.errors import TooManyAttempts
from bookwithme.models import SignInAttempt

WINDOW = timedelta(minutes=15)
MAX_PER_ACCOUNT_AND_ADDRESS = 5
MAX_PER_ADDRESS = 30
MAX_PER_ACCOUNT = 100
MAX_PER_DEVICE = 5  # a known browser gets the same 5 tries as an account and address

TRY_AGAIN = "Too many failed sign-ins. Try again in {wait}."
TRY_A_KNOWN_BROWSER = (
    "Too many failed sign-ins to this account from browsers it has not been used with. "
    "Try again in {wait}, or sign in from a browser you have signed in with before."
)


def address_key(address: str) -> str:
    """What an address counts as: itself, or its /64 network for an IPv6 address."""
    try:
        parsed = ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(parsed, IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(IPv6Network((int(parsed) >> 64 << 64, 64)))
    return str(parsed)


def _limits(
    email: str, address: str, device: str | None
) -> list[tuple[ColumnElement[bool], int, str]]:
    if device is not None:
        return [(SignInAttempt.device == device, MAX_PER_DEVICE, TRY_AGAIN)]
    stranger = SignInAttempt.device.is_(None)
    key = address_key(address)
    return [
        (
            stranger & (SignInAttempt.email == email) & (SignInAttempt.client_address == key),
            MAX_PER_ACCOUNT_AND_ADDRESS,
            TRY_AGAIN,
        ),
        (stranger & (SignInAttempt.client_address == key), MAX_PER_ADDRESS, TRY_AGAIN),
        (stranger & (SignInAttempt.email == email), MAX_PER_ACCOUNT, TRY_A_KNOWN_BROWSER),
    ]


def _in_minutes(seconds: int) -> str:
    minutes = (seconds + 59) // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def check_sign_in_allowed(
    session: Session, email: str, address: str, now: datetime, device: str | None = None
) -> None:
    """Raise ``TooManyAttempts`` while a limit that applies to this attempt is reached.
    ``device`` is the known-device id when the browser signed in to this account before."""
    since = now - WINDOW
    for condition, limit, message in _limits(email, address, device):
        recent = SignInAttempt.created_at > since
        count = session.scalar(select(func.count()).where(condition, recent)) or 0
        if count < limit:
            continue
        # Open again once all but limit - 1 of these failures are older than the window.
        freed_by = session.scalar(
            select(SignInAttempt.created_at)
            .where(condition, recent)
            .order_by(SignInAttempt.created_at)
            .offset(count - limit)
            .limit(1)
        )
        assert freed_by is not None
        wait = max(1, int((freed_by + WINDOW - now).total_seconds()) + 1)
        raise TooManyAttempts(message.format(wait=_in_minutes(wait)), retry_after=wait)


def record_failed_sign_in(
    session: Session, email: str, address: str, now: datetime, device: str | None = None
) -> None:
    session.add(
        SignInAttempt(
            email=email, client_address=address_key(address), device=device, created_at=now
        )
    )
    # Forget attempts nobody will count again.
    session.execute(delete(SignInAttempt).where(SignInAttempt.created_at < now - 2 * WINDOW))
    session.flush()


def clear_failed_sign_ins(
    session: Session, email: str, address: str, device: str | None = None
) -> None:
    """After a successful sign-in: forget the failures this one counted against (those of
    the known device, else those of the account from this address), never the others."""
    if device is not None:
        mine = SignInAttempt.device == device
    else:
        mine = SignInAttempt.device.is_(None) & (
            SignInAttempt.client_address == address_key(address)
        )
    session.execute(delete(SignInAttempt).where(SignInAttempt.email == email, mine))
