"""PostgreSQL itself refuses two overlapping confirmed bookings of one organizer, whatever
the application does (SQLite relies on serialized writers instead)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.models import MeetingType
from tests.factories import add_booking, create_account

T = datetime(2027, 1, 4, 9, tzinfo=UTC)


def test_the_database_refuses_overlapping_confirmed_bookings(
    session_factory: sessionmaker[Session], session: Session, database_url: str
) -> None:
    ada = create_account(session_factory, "ada@example.com")
    bob = create_account(session_factory, "bob@example.com", name="Bob")
    first_type = select(MeetingType.id).order_by(MeetingType.position).limit(1)
    ada_type = session.scalar(first_type.where(MeetingType.user_id == ada.user.id))
    bob_type = session.scalar(first_type.where(MeetingType.user_id == bob.user.id))
    assert ada_type is not None and bob_type is not None
    add_booking(session_factory, ada.user, ada_type, T, 30, after=15)  # blocks 09:00-09:45
    add_booking(session_factory, ada.user, ada_type, T.replace(minute=45), 30)  # touches: fine
    add_booking(session_factory, ada.user, ada_type, T.replace(minute=10), 30, status="cancelled")
    add_booking(session_factory, bob.user, bob_type, T, 30)  # another organizer: fine
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no exclusion constraints; writers are serialized instead")
    with pytest.raises(IntegrityError, match="ex_bookings_no_overlap"):
        add_booking(session_factory, ada.user, ada_type, T.replace(minute=40), 5)  # in the buffer
