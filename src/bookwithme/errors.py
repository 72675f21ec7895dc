"""Domain errors carry their HTTP meaning; ``web/errors.py`` renders them as JSON for the API
and as a page for the browser."""

from __future__ import annotations

from typing import Any

from bookwithme.i18n import N_


class DomainError(Exception):
    status_code = 400
    code = "bad_request"
    default_message = "The request could not be processed."
    retry_after: int | None = None  # seconds, sent as Retry-After

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_message = "Not found."


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"
    default_message = "Sign in or send a valid personal access token."


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"
    default_message = "You are not allowed to do this."


class PersonalBookingsDisabled(Forbidden):
    code = "personal_bookings_disabled"
    default_message = "Personal bookings is turned off for your account by your administrator."


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    default_message = "This conflicts with the current state."


class EmailTaken(Conflict):
    code = "email_taken"
    default_message = "An account with this email address already exists."


class AlreadySetUp(Conflict):
    code = "already_set_up"
    default_message = "bookwithme is already set up; sign in instead."


class InvalidInput(DomainError):
    status_code = 422
    code = "validation_error"
    default_message = "Some fields are not valid."


class CalendarUnreadable(InvalidInput):
    """Connecting a calendar reads it once; what did not answer a readable calendar is
    refused, with the reason, and nothing is saved."""

    code = "calendar_unreadable"


class TargetNotAllowed(InvalidInput):
    """An address people typed (a calendar, a webhook) leads to a network bookwithme does not
    connect to unless its administrator says so (``targets.py``). Nothing was fetched from
    it, and nothing was saved."""

    code = "target_not_allowed"
    default_message = (
        "This address is on a private, loopback, link-local or otherwise non-public network, "
        "and bookwithme only connects to public addresses. If the server really is on your "
        "own network, the administrator can allow such addresses with "
        "BOOKWITHME_ALLOW_PRIVATE_TARGETS=true."
    )


class TooManyAttempts(DomainError):
    status_code = 429
    code = "too_many_attempts"
    default_message = "Too many failed attempts. Wait a few minutes and try again."

    def __init__(self, message: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(TooManyAttempts):
    """Too many bookings, moves or cancellations from one network, or for one email address
    or booking, in a short time (``bookings/limits.py``); nothing was written."""

    code = "rate_limited"
    default_message = "Too many requests in a short time. Wait a few minutes and try again."


class Busy(DomainError):
    """The server cannot take this change within a few seconds (a crowd at one organizer,
    or the database held by other writers); nothing was saved."""

    status_code = 503
    code = "busy"
    default_message = N_(
        "Many changes are being made at this moment. Nothing was saved; please try again "
        "in a few seconds."
    )

    def __init__(self, message: str | None = None, *, retry_after: int = 2) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DatabaseUnavailable(DomainError):
    """What ``/healthz`` answers when the database does not."""

    status_code = 503
    code = "database_unavailable"
    default_message = "The database does not answer."


class SlotUnavailable(Conflict):
    code = "slot_unavailable"
    default_message = "This time is no longer available. Pick another one."


class Gone(DomainError):
    status_code = 410
    code = "gone"


class LinkExpired(Gone):
    code = "link_expired"
    default_message = N_("This booking link has expired. Ask the organizer for a new one.")


class LinkUsed(Gone):
    code = "link_used"
    default_message = N_("This booking link was for one booking only, and it has been used.")


class LinkRevoked(Gone):
    code = "link_revoked"
    default_message = N_("The organizer has turned this booking link off.")
