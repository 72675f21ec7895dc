"""A secret shown once, on the page a form leads to: a new webhook's signing secret, a new
private link's address. The form's answer is a redirect (so a reload posts nothing twice),
and the secret travels to the next page in a cookie encrypted with SECRET_KEY, readable
only by the user who made it, only at that page's path and only for a few minutes; the
page deletes it as it shows it. It never appears in an address, a log or a cache."""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from bookwithme.config import Settings
from bookwithme.secrets_box import SecretUnreadable, seal, unseal


@dataclass(frozen=True)
class ShownOnce:
    cookie: str
    purpose: bytes  # the encryption key's purpose: one per kind of secret
    seconds: int  # how long the page that shows it may be opened

    def remember(
        self,
        response: Response,
        settings: Settings,
        path: str,
        user_id: str,
        values: dict[str, str],
    ) -> None:
        sealed = seal(
            settings.resolved_secret_key, json.dumps({"user": user_id, **values}), self.purpose
        )
        response.set_cookie(
            self.cookie,
            sealed,
            max_age=self.seconds,
            path=path,
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
        )

    def recall(self, request: Request, settings: Settings, user_id: str) -> dict[str, str] | None:
        """What ``remember`` kept, if this user's browser has it and it is recent enough."""
        sealed = request.cookies.get(self.cookie)
        if not sealed:
            return None
        try:
            data = json.loads(
                unseal(settings.resolved_secret_key, sealed, self.purpose, ttl=self.seconds)
            )
        except (SecretUnreadable, ValueError):
            return None
        if not isinstance(data, dict) or data.pop("user", None) != user_id:
            return None
        return {key: str(value) for key, value in data.items()}

    def forget(self, request: Request, response: Response, settings: Settings, path: str) -> None:
        """Shown (or stale): never again."""
        if self.cookie in request.cookies:
            response.delete_cookie(
                self.cookie,
                path=path,
                httponly=True,
                samesite="lax",
                secure=settings.secure_cookies,
            )
