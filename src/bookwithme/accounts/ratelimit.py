"""Failed sign-ins are limited per account and client address, in the database so every
server process shares the count."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bookwithme.errors import TooManyAttempts
from bookwithme.models import SignInAttempt

WINDOW = timedelta(minutes=15)
MAX_PER_ACCOUNT_AND_ADDRESS = 5
MAX_PER_ACCOUNT = 20
MAX_PER_ADDRESS = 30


def check_sign_in_allowed(session: Session, email: str, address: str, now: datetime) -> None:
    """Raise ``TooManyAttempts`` while the account or the address has too many recent failures."""
    since = now - WINDOW
    limits = (
        (
            (SignInAttempt.email == email) & (SignInAttempt.client_address == address),
            MAX_PER_ACCOUNT_AND_ADDRESS,
        ),
        (SignInAttempt.email == email, MAX_PER_ACCOUNT),
        (SignInAttempt.client_address == address, MAX_PER_ADDRESS),
    )
    for condition, limit in limits:
        count, oldest = session.execute(
            select(func.count(), func.min(SignInAttempt.created_at)).where(
                condition, SignInAttempt.created_at > since
            )
        ).one()
        if count >= limit and oldest is not None:
            wait = max(1, int((oldest + WINDOW - now).total_seconds()) + 1)
            minutes = (wait + 59) // 60
            raise TooManyAttempts(
                f"Too many failed sign-ins. Try again in {minutes} minute"
                f"{'s' if minutes != 1 else ''}.",
                retry_after=wait,
            )


def record_failed_sign_in(session: Session, email: str, address: str, now: datetime) -> None:
    session.add(SignInAttempt(email=email, client_address=address, created_at=now))
    # Forget attempts nobody will count again.
    session.execute(delete(SignInAttempt).where(SignInAttempt.created_at < now - 2 * WINDOW))
    session.flush()


def clear_failed_sign_ins(session: Session, email: str, address: str) -> None:
    session.execute(
        delete(SignInAttempt).where(
            SignInAttempt.email == email, SignInAttempt.client_address == address
        )
    )
