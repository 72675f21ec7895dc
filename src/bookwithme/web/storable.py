"""What the database can store, checked on the raw request before any route reads it.

PostgreSQL keeps text as UTF-8 and refuses a NUL character in it; psycopg cannot even send
a string holding a lone UTF-16 surrogate. Both would surface as a 500 from deep inside a
query, so the edge finds them first (``middleware.UnstorableInput``) and answers a 4xx
that names the problem. The functions here are pure: they take bytes and return a
``Problem`` or None.

A JSON body spells a NUL as the escape ``\\u0000`` and a surrogate as ``\\ud800``; an
escaped backslash followed by ``u0000`` (``\\\\u0000``) is neither, so what counts is the
parity of the run of backslashes in front of the ``u``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

NUL = "contains a NUL character (U+0000), which cannot be stored: remove it"
SURROGATE = (
    "contains an unpaired UTF-16 surrogate (\\ud800-\\udfff), which is not a character: remove it"
)
NOT_UTF8 = "is not valid UTF-8 text"
NOT_UTF8_HINT = ": send it encoded as UTF-8"

# A \uXXXX escape that is not itself escaped: an odd run of backslashes, then u and 4 hex.
# The look-behind anchors the run at its first backslash, so a long run costs one pass.
_U_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u([0-9A-Fa-f]{4})")


@dataclass(frozen=True)
class Problem:
    """``field`` is where it was found ('' when that is not known); ``message`` completes
    a sentence about it."""

    field: str
    message: str


def _text_problem(raw: bytes) -> str | None:
    """Why ``raw`` (already percent-decoded) cannot be stored as text, if it cannot."""
    if b"\x00" in raw:
        return NUL
    try:
        raw.decode("utf-8")  # strict: also refuses encoded surrogates and overlong forms
    except UnicodeDecodeError:
        return NOT_UTF8 + NOT_UTF8_HINT
    return None


def path_problem(path: str, raw_path: bytes | None) -> Problem | None:
    """The decoded path (as the server gave it) and the raw, still percent-encoded one."""
    if "\x00" in path:
        return Problem("", NUL)
    if raw_path is not None:
        message = _text_problem(unquote_to_bytes(raw_path))
        if message is not None:
            return Problem("", message)
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return Problem("", NOT_UTF8 + NOT_UTF8_HINT)
    return None


def urlencoded_problem(data: bytes) -> Problem | None:
    """A query string or an ``application/x-www-form-urlencoded`` body: every name and
    value, decoded, must be storable text. ``field`` names the first one that is not."""
    if not data:
        return None
    for pair in re.split(rb"[&;]", data):
        name, _, value = pair.partition(b"=")
        raw_name = unquote_to_bytes(name.replace(b"+", b" "))
        field = raw_name.replace(b"\x00", b"").decode("utf-8", "replace")
        for part in (raw_name, unquote_to_bytes(value.replace(b"+", b" "))):
            message = _text_problem(part)
            if message is not None:
                return Problem(field, message)
    return None


def _first_unstorable(value: Any, path: tuple[str, ...]) -> tuple[tuple[str, ...], str] | None:
    """Where, in a parsed JSON document, the first NUL or lone surrogate is."""
    if isinstance(value, str):
        if "\x00" in value:
            return path, NUL
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path, SURROGATE
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _first_unstorable(key, (*path, key)) or _first_unstorable(item, (*path, key))
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_unstorable(item, (*path, str(index)))
            if found is not None:
                return found
    return None


def _escape_problem(body: bytes) -> str | None:
    """A NUL or a lone surrogate written as a ``\\u`` escape anywhere in ``body``."""
    if b"\\u" not in body:
        return None
    high_ends = -1  # where the escape of a high surrogate still waiting for its pair ends
    for match in _U_ESCAPE.finditer(body):
        code = int(match.group(1), 16)
        escape_start = match.end() - 6
        if high_ends >= 0:
            if escape_start == high_ends and 0xDC00 <= code <= 0xDFFF:
                high_ends = -1
                continue
            return SURROGATE
        if code == 0:
            return NUL
        if 0xD800 <= code <= 0xDBFF:
            high_ends = match.end()
        elif 0xDC00 <= code <= 0xDFFF:
            return SURROGATE
    return SURROGATE if high_ends >= 0 else None


def json_problem(body: bytes) -> Problem | None:
    """A JSON body: UTF-8, with no NUL and no lone surrogate in any string or key (raw NUL
    bytes are left to the JSON parser, which refuses them anywhere)."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Problem("", f"{NOT_UTF8} (at byte {exc.start}){NOT_UTF8_HINT}")
    message = _escape_problem(body)
    if message is None:
        return None
    try:
        found = _first_unstorable(json.loads(body), ())
    except ValueError:  # not JSON at all: it stays refused, for what it contains
        found = None
    if found is None:
        return Problem("", message)
    path, message = found
    return Problem(".".join(_printable(part) for part in path), message)


def _printable(name: str) -> str:
    """A field name fit for a message: without the NUL or surrogate it may hold."""
    return name.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
