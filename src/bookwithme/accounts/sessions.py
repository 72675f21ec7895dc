"""Browser sessions: a signed, HttpOnly, SameSite=Lax cookie; no server-side state.

The cookie holds the user id, the user's ``session_version`` (raised on password change or
deactivation, which signs out every browser) and 128 random bits, signed with SECRET_KEY.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "bookwithme_session"
SESSION_MAX_AGE = 14 * 24 * 3600
_SALT = "bookwithme.session"


@dataclass(frozen=True)
class SessionClaims:
    user_id: uuid.UUID
    version: int


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def encode_session(secret_key: str, user_id: uuid.UUID, version: int) -> str:
    payload = {"u": str(user_id), "v": version, "n": secrets.token_urlsafe(16)}
    return _serializer(secret_key).dumps(payload)


def decode_session(secret_key: str, cookie: str) -> SessionClaims | None:
    try:
        payload = _serializer(secret_key).loads(cookie, max_age=SESSION_MAX_AGE)
        return SessionClaims(user_id=uuid.UUID(payload["u"]), version=int(payload["v"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
