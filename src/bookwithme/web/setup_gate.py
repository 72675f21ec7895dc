"""Until the first account exists, every page sends the visitor to /setup."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.accounts.service import has_any_user
from bookwithme.errors import AlreadySetUp, DomainError


class SetupRequired(DomainError):
    status_code = 409
    code = "setup_required"
    default_message = "bookwithme is not set up yet. Open /setup to create the first account."


def is_set_up(request: Request) -> bool:
    # Once set up, always set up (accounts are deactivated, never deleted): remember it.
    if getattr(request.app.state, "set_up", False):
        return True
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        done = has_any_user(session)
    if done:
        request.app.state.set_up = True
    return done


def mark_set_up(request: Request) -> None:
    request.app.state.set_up = True


def require_setup(request: Request) -> None:
    if not is_set_up(request):
        raise SetupRequired()


def require_no_setup(request: Request) -> None:
    if is_set_up(request):
        raise AlreadySetUp()
