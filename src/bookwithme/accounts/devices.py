"""Known devices: a browser that has signed in to an account before keeps a signed cookie
saying so (OWASP, "Slow Down Online Guessing Attacks with Device Cookies").

Sign-in limits then tell the account's own browsers from everyone else's: failures from a
known device count against that device only, so a crowd of strangers guessing an account's
password can block strangers, never the browsers its owner already uses (see
``ratelimit.py``). The cookie grants nothing else: it is not a session and names no secret.

It holds a random device id and the ids of the accounts (at most ``MAX_ACCOUNTS``, the most
recent first) that signed in with this browser, signed with SECRET_KEY. Signing out keeps it.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field

from itsdangerous import BadSignature, URLSafeTimedSerializer

DEVICE_COOKIE = "bookwithme_device"
DEVICE_MAX_AGE = 365 * 24 * 3600  # renewed by every successful sign-in
MAX_ACCOUNTS = 5
_SALT = "bookwithme.known-device"


@dataclass(frozen=True)
class KnownDevice:
    id: str
    user_ids: tuple[uuid.UUID, ...] = field(default=())

    def knows(self, user_id: uuid.UUID) -> bool:
        return user_id in self.user_ids


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def decode_device(secret_key: str, cookie: str | None) -> KnownDevice | None:
    """The device a cookie names, or None for no cookie, a forged, foreign or expired one."""
    if not cookie:
        return None
    try:
        payload = _serializer(secret_key).loads(cookie, max_age=DEVICE_MAX_AGE)
        device_id = payload["d"]
        if not isinstance(device_id, str) or not 16 <= len(device_id) <= 64:
            return None
        users = tuple(uuid.UUID(u) for u in payload["u"][:MAX_ACCOUNTS])
    except (BadSignature, KeyError, TypeError, ValueError, AttributeError):
        return None
    return KnownDevice(id=device_id, user_ids=users)


def encode_device(secret_key: str, device: KnownDevice | None, user_id: uuid.UUID) -> str:
    """The cookie of ``device`` (a new device when None) once ``user_id`` signed in with it."""
    device_id = device.id if device is not None else secrets.token_urlsafe(16)
    earlier = [u for u in (device.user_ids if device else ()) if u != user_id]
    users = [user_id, *earlier][:MAX_ACCOUNTS]
    return _serializer(secret_key).dumps({"d": device_id, "u": [str(u) for u in users]})
