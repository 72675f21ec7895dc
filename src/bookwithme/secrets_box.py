"""Secrets the server must be able to read back (CalDAV passwords, webhook secrets, emails
waiting in the outbox), encrypted at rest with a key derived from SECRET_KEY (HKDF-SHA256,
one key per purpose, then Fernet: AES-128-CBC with HMAC-SHA256)."""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PASSWORDS = b"bookwithme calendar passwords v1"
MAIL = b"bookwithme outbox bodies v1"
WEBHOOK_SECRETS = b"bookwithme webhook secrets v1"


class SecretUnreadable(Exception):
    """Encrypted with another SECRET_KEY (or damaged)."""


@cache
def _fernet(secret_key: str, purpose: bytes) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret_key: str, plaintext: str, purpose: bytes = PASSWORDS) -> str:
    return _fernet(secret_key, purpose).encrypt(plaintext.encode()).decode()


def unseal(secret_key: str, token: str, purpose: bytes = PASSWORDS, ttl: int | None = None) -> str:
    """``ttl``: refuse what was sealed more than this many seconds ago."""
    try:
        return _fernet(secret_key, purpose).decrypt(token.encode(), ttl=ttl).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "The stored password cannot be read with this SECRET_KEY; enter it again."
        ) from None
