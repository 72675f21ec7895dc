"""The app's routes as they are served: with the prefixes and dependencies of the routers
that include them, and the methods each address accepts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from starlette.routing import Mount


def served_routes(app: FastAPI) -> Iterator[Any]:
    """Every route of ``app``, as served. FastAPI 0.160 and later keep included routers as
    one node each and resolve their routes on demand (``iter_route_contexts``); earlier
    versions copied every route into ``app.routes``. Either way each item has ``path``,
    ``path_format``, ``path_regex``, ``methods``, and for API routes ``dependant``."""
    iterate = getattr(fastapi_routing, "iter_route_contexts", None)
    if iterate is None:
        yield from app.routes
        return
    yield from iterate(app.routes)


def allowed_methods(app: FastAPI, path: str) -> list[str] | None:
    """The methods some route accepts at ``path``, for the ``Allow`` header of a 405: the
    union over every route whose path matches (Starlette names only the first one's).
    HEAD is there wherever GET is (``middleware.HeadAsGet``). None when a mounted app
    matches, which knows its methods itself."""
    methods: set[str] = set()
    for route in served_routes(app):
        regex = getattr(route, "path_regex", None)
        if regex is None or not regex.match(path):
            continue
        if isinstance(getattr(route, "original_route", route), Mount):
            return None
        methods |= set(getattr(route, "methods", None) or ())
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods) if methods else None
