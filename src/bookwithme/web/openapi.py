"""The OpenAPI document lists every answer each operation can give, errors included.

FastAPI documents the success answer and its own validation error. The errors come from
elsewhere: the edge (``middleware.py``: 400, 413, 415, 403 ``csrf_failed``), admission
(503 ``busy``), the authentication dependencies (401, 403) and the services (404, 409,
410, …). ``document_errors`` derives them for every operation from what the route
depends on, its method, its parameters and its body; a route adds the domain errors only
its service raises with ``responses=raises(SlotUnavailable, …)``. Each error answer names
its possible codes in ``x-error-codes`` and refers to one shared schema, the SPEC's
``{"error": {"code", "message", "details"?}}`` (422 always with ``details``).

The document is read at ``/docs`` with Swagger UI, whose files are served from our own
``static/vendor/swagger-ui`` (see its README): the page works on a server cut off from the
internet, and its Content-Security-Policy lets it load nothing from anywhere else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from html import escape
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import HTMLResponse

from bookwithme.errors import Busy, DomainError, Forbidden, NotFound, Unauthorized
from bookwithme.timezones import ZONE_MARKER, zones_json_schema
from bookwithme.web.deps import UNSAFE_METHODS, current_admin, current_user, get_session
from bookwithme.web.routes import served_routes

REF = "#/components/schemas/"
CODES_KEY = "x-error-codes"

# Errors raised outside any DomainError: (status, code, what it means).
EDGE_ERRORS: dict[str, tuple[int, str]] = {
    "bad_request": (
        400,
        "The request cannot be read: the address or query holds a NUL character or text "
        "that is not UTF-8, or a header is malformed.",
    ),
    "csrf_failed": (
        403,
        "A request sent with the session cookie lacks its CSRF token (send X-CSRFToken, or "
        "use a personal access token).",
    ),
    "payload_too_large": (413, "The request body is larger than 1 MiB."),
    "unsupported_media_type": (
        415,
        "The body is multipart; send JSON (or a urlencoded form).",
    ),
    "validation_error": (
        422,
        "Some fields are not valid: `details` names each field and what is wrong with it.",
    ),
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "FieldError": {
        "title": "FieldError",
        "type": "object",
        "required": ["field", "message"],
        "properties": {
            "field": {
                "type": "string",
                "description": "The field, dotted for nested ones ('' for the whole body)",
            },
            "message": {"type": "string"},
        },
    },
    "Error": {
        "title": "Error",
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "description": "Stable, for programs"},
                    "message": {"type": "string", "description": "For people"},
                    "details": {
                        "anyOf": [
                            {"type": "array", "items": {"$ref": REF + "FieldError"}},
                            {"type": "object"},
                        ]
                    },
                },
            }
        },
    },
    "ValidationError": {
        "title": "ValidationError",
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "details"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "details": {"type": "array", "items": {"$ref": REF + "FieldError"}},
                },
            }
        },
    },
}

RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 0},
    }
}

SECURITY_SCHEMES = {
    "personalAccessToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal access token (`bookwithme tokens create EMAIL`).",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "bookwithme_session",
        "description": "The browser session; unsafe methods also need the CSRF token.",
    },
}


def raises(*errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the domain errors its service raises."""
    responses: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        codes = responses.setdefault(error.status_code, {CODES_KEY: []})[CODES_KEY]
        if error.code not in codes:
            codes.append(error.code)
    return responses


def _domain_errors() -> Iterator[type[DomainError]]:
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        error = pending.pop()
        yield error
        pending.extend(error.__subclasses__())


def _meanings() -> dict[str, str]:
    meanings = {code: text for code, (_, text) in EDGE_ERRORS.items()}
    for error in _domain_errors():
        meanings.setdefault(error.code, error.default_message)
    return meanings


def _calls(dependant: Any) -> set[Callable[..., Any]]:
    found: set[Callable[..., Any]] = set()
    for sub in dependant.dependencies:
        if sub.call is not None:
            found.add(sub.call)
        found |= _calls(sub)
    return found


def _has_params(dependant: Any, kinds: tuple[str, ...]) -> bool:
    if any(getattr(dependant, kind) for kind in kinds):
        return True
    return any(_has_params(sub, kinds) for sub in dependant.dependencies)


def derived_errors(route: Any, method: str) -> dict[int, list[str]]:
    """The error codes an operation can answer, by status, from its route alone."""
    calls = _calls(route.dependant)
    unsafe = method in UNSAFE_METHODS
    errors: dict[int, list[str]] = {400: ["bad_request"]}
    if current_user in calls:
        errors[401] = [Unauthorized.code]
    if current_admin in calls:
        errors.setdefault(403, []).append(Forbidden.code)
    if unsafe:
        errors.setdefault(403, []).append("csrf_failed")
        errors[413] = ["payload_too_large"]
        errors[415] = ["unsupported_media_type"]
    if _has_params(route.dependant, ("path_params",)):
        errors[404] = [NotFound.code]
    # Unsafe requests: the body is checked at the edge even where the route reads none.
    if unsafe or route.body_field is not None or _has_params(route.dependant, ("query_params",)):
        errors[422] = ["validation_error"]
    if unsafe or get_session in calls:
        errors[503] = [Busy.code]
    return errors


def _error_response(status: int, codes: list[str], meanings: dict[str, str]) -> dict[str, Any]:
    schema = "ValidationError" if status == 422 else "Error"
    response: dict[str, Any] = {
        "description": " ".join(f"`{code}`: {meanings.get(code, '')}".strip() for code in codes),
        "content": {"application/json": {"schema": {"$ref": REF + schema}}},
        CODES_KEY: codes,
    }
    if status in (429, 503):
        response["headers"] = RETRY_AFTER
    return response


def _is_fastapi_422(response: Any) -> bool:
    if not isinstance(response, dict):
        return False
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref") == REF + "HTTPValidationError")


def document_errors(app: FastAPI, document: dict[str, Any]) -> None:
    """Add every error answer to every operation of ``document`` (in place)."""
    meanings = _meanings()
    paths = document.get("paths", {})
    authenticated = False
    for route in served_routes(app):
        if not getattr(route, "include_in_schema", False) or not hasattr(route, "dependant"):
            continue
        for method in route.methods:
            operation = paths.get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            errors = derived_errors(route, method)
            if 422 not in errors and _is_fastapi_422(responses.get("422")):
                del responses["422"]  # its parameters are plain strings: nothing to refuse
            for status, declared in list(responses.items()):
                if isinstance(declared, dict) and CODES_KEY in declared:
                    codes = errors.setdefault(int(status), [])
                    codes.extend(c for c in declared[CODES_KEY] if c not in codes)
            for status, codes in sorted(errors.items()):
                responses[str(status)] = _error_response(status, codes, meanings)
            operation["responses"] = dict(sorted(responses.items()))
            if 401 in errors:
                authenticated = True
                operation["security"] = [{"personalAccessToken": []}, {"session": []}]
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    # FastAPI's own 422 shape is never sent: the handler in web/errors.py answers SCHEMAS'.
    schemas.pop("HTTPValidationError", None)
    schemas.update(SCHEMAS)
    schemas["TimeZone"] = zones_json_schema()
    _refer_to_zones(document)
    components["schemas"] = dict(sorted(schemas.items()))
    if authenticated:
        components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)


def _refer_to_zones(node: Any) -> None:
    """Every schema marked as a time zone becomes a reference to ``TimeZone``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict) and value.get(ZONE_MARKER):
                node[key] = {"$ref": REF + "TimeZone"}
            else:
                _refer_to_zones(value)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, dict) and value.get(ZONE_MARKER):
                node[index] = {"$ref": REF + "TimeZone"}
            else:
                _refer_to_zones(value)


def install_openapi(app: FastAPI) -> None:
    """Serve the document with every error answer (built once, on first request)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            document_errors(app, document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    serve_docs(app)


# --- /docs, offline ------------------------------------------------------------------------

SWAGGER_UI_VERSION = "5.35.0"  # static/vendor/swagger-ui/README.md says where it comes from
SWAGGER_UI = "/static/vendor/swagger-ui"
DOCS_URL = "/docs"
# The page runs our scripts and styles only; what it fetches is the document, from here.
# (Swagger UI writes inline styles, and its stylesheet draws icons as data: images.)
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


def docs_page(openapi_url: str, title: str) -> HTMLResponse:
    """Swagger UI over the document, from our own static files: no CDN, no inline script."""
    config = {
        "url": openapi_url,
        "dom_id": "#swagger-ui",
        "layout": "BaseLayout",
        "deepLinking": True,
        "showExtensions": True,
        "showCommonExtensions": True,
        "validatorUrl": None,  # never send the document to swagger.io to be checked
    }
    # JSON in a data block: "<" escaped so no text in it can close the element.
    data = json.dumps(config).replace("<", "\\u003c")
    version = f"?v={SWAGGER_UI_VERSION}"
    html = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css{version}">
</head>
<body>
<noscript><p>This page needs JavaScript. The API is described in
<a href="{escape(openapi_url)}">{escape(openapi_url)}</a>.</p></noscript>
<div id="swagger-ui"></div>
<script type="application/json" id="swagger-ui-config">{data}</script>
<script src="{SWAGGER_UI}/swagger-ui-bundle.js{version}"></script>
<script src="/static/js/api-docs.js{version}"></script>
</body>
</html>
"""
    response = HTMLResponse(html)
    response.headers["content-security-policy"] = DOCS_POLICY
    return response


def serve_docs(app: FastAPI) -> None:
    """``/docs`` from our own files (the app is made without FastAPI's pages, which load
    Swagger UI from a CDN). ReDoc is not offered: it too would load from a CDN, and Swagger
    UI already shows every operation."""
    if app.openapi_url is None:
        return
    openapi_url = app.openapi_url
    title = f"{app.title} API"

    async def docs(request: Request) -> HTMLResponse:
        root_path = request.scope.get("root_path", "").rstrip("/")
        return docs_page(root_path + openapi_url, title)

    app.add_route(DOCS_URL, docs, include_in_schema=False)
