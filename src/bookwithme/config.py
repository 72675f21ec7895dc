"""Runtime configuration, read from the environment (prefix ``BOOKWITHME_``)."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, PrivateAttr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bookwithme.proxies import IPNetwork, parse_networks

SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name)
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Addresses that mean "every interface": no browser reaches the server at them.
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})  # noqa: S104 (compared, not bound)


def listening_url(host: str, port: int) -> str:
    """The address of a server listening on ``host:port``, for links when BASE_URL is not
    set: one listening on every interface is shown as ``localhost``, and an IPv6 address
    gets its brackets."""
    if host in _WILDCARD_HOSTS:
        host = "localhost"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


class Settings(BaseSettings):
    """Every setting of SPEC section 5. Nothing here is read at import time: the app,
    the CLI and the tests each build their own ``Settings``."""

    model_config = SettingsConfigDict(env_prefix="BOOKWITHME_", extra="ignore")

    data_dir: Path = Path("./var")
    database_url: str | None = None
    # Unset (or empty): where ``serve`` listens (``for_listener``), else this default.
    base_url: str = listening_url(DEFAULT_HOST, DEFAULT_PORT)
    secret_key: str | None = Field(default=None, repr=False)
    smtp_url: str | None = Field(default=None, repr=False)
    mail_from: str = "bookwithme <bookings@localhost>"
    online_meeting_url_template: str = "https://meet.jit.si/bookwithme-{token}"
    embedded_worker: bool = True
    # Keep rendered slot answers until their organizer's data or the clock changes them
    # (see web/answer_cache.py). Off only to measure or to rule it out when debugging.
    cache_answers: bool = True
    # The reverse proxies whose X-Forwarded-For is believed (addresses or CIDR networks,
    # comma-separated); empty: nobody's, the client is the connection's peer.
    trusted_proxies: Annotated[tuple[IPNetwork, ...], NoDecode] = ()
    # Limits on booking, moving and cancelling without signing in, per client address and
    # per email or booking (see bookings/limits.py). Off only for load tests from one
    # machine or a kiosk that books for many people.
    public_write_limits: bool = True
    # Calendars and webhooks on loopback, private, link-local or otherwise non-public
    # addresses are refused (SPEC 2.9, targets.py) unless this is on.
    allow_private_targets: bool = False

    _base_url_given: bool = PrivateAttr(default=False)

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _default_base_url(self) -> Settings:
        self._base_url_given = "base_url" in self.model_fields_set and bool(self.base_url)
        if not self.base_url:
            self.base_url = listening_url(DEFAULT_HOST, DEFAULT_PORT)
        return self

    @property
    def base_url_given(self) -> bool:
        """Whether BASE_URL was set (to something), rather than left to its default."""
        return self._base_url_given

    def for_listener(self, host: str, port: int) -> Settings:
        """These settings for a server listening on ``host:port``: without a BASE_URL of
        their own, the links it writes (manage, page, private links, calendar UIDs) point
        at that address. A BASE_URL that was set always wins."""
        if self.base_url_given:
            return self
        return self.model_copy(update={"base_url": listening_url(host, port)})

    @field_validator("database_url", "secret_key", "smtp_url")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        if isinstance(value, str) or (
            isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
        ):
            return parse_networks(value)
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'bookwithme.db').resolve()}"

    @cached_property
    def resolved_secret_key(self) -> str:
        """The configured key, else one generated on first use and kept under ``data_dir``
        so sessions and encrypted calendar passwords survive a restart."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / SECRET_KEY_FILE
        try:
            existing = path.read_text().strip()
        except FileNotFoundError:
            existing = ""
        if existing:
            return existing
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # O_EXCL: if two processes start at once, the first one's key wins.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(key + "\n")
        return key

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")
