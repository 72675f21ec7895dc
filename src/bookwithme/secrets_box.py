"""Secrets the server must be able to read back (CalDAV passwords), encrypted at rest with a
key derived from SECRET_KEY (HKDF-SHA256, then Fernet: AES-128-CBC with HMAC-SHA256)."""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_PURPOSE = b"bookwithme calendar passwords v1"


class SecretUnreadable(Exception):
    """Encrypted with another SECRET_KEY (or damaged)."""


@cache
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret_key: str, plaintext: str) -> str:
    return _fernet(secret_key).encrypt(plaintext.encode()).decode()


def unseal(secret_key: str, token: str) -> str:
    try:
        return _fernet(secret_key).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "The stored password cannot be read with this SECRET_KEY; enter it again."
        ) from None
