"""The OpenAPI document lists, for every operation, each error status it can answer, with
the SPEC's error schema and the codes it may carry (``x-error-codes``)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from bookwithme.app import create_app
from bookwithme.config import Settings

UNSAFE = {"post", "put", "patch", "delete"}
ERROR = {"$ref": "#/components/schemas/Error"}
VALIDATION_ERROR = {"$ref": "#/components/schemas/ValidationError"}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir = tmp_path_factory.mktemp("openapi")
    settings = Settings(data_dir=data_dir, secret_key="x" * 40, embedded_worker=False)
    return TestClient(create_app(settings)).get("/openapi.json").json()  # type: ignore[no-any-return]


def _operations(document: dict[str, Any]):  # type: ignore[no-untyped-def]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def _codes(operation: dict[str, Any], status: int) -> list[str]:
    return operation["responses"][str(status)]["x-error-codes"]  # type: ignore[no-any-return]


def test_every_error_uses_the_spec_shape(document: dict[str, Any]) -> None:
    for path, method, operation in _operations(document):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            schema = response["content"]["application/json"]["schema"]
            assert schema == (VALIDATION_ERROR if status == "422" else ERROR), (path, method)
            assert response["x-error-codes"], (path, method, status)
            assert all(f"`{code}`" in response["description"] for code in response["x-error-codes"])
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert schemas["ValidationError"]["properties"]["error"]["required"] == [
        "code",
        "message",
        "details",
    ]


def test_what_every_operation_can_answer(document: dict[str, Any]) -> None:
    for path, method, operation in _operations(document):
        statuses = set(operation["responses"])
        assert "400" in statuses, (path, method)
        if path == "/healthz":
            assert _codes(operation, 503) == ["database_unavailable"]
        else:
            assert _codes(operation, 503) == ["busy"]
            assert "Retry-After" in operation["responses"]["503"]["headers"]
        if method in UNSAFE:
            assert {"413", "415", "422"} <= statuses, (path, method)
            assert "csrf_failed" in _codes(operation, 403)
        if "{" in path:
            assert _codes(operation, 404) == ["not_found"], (path, method)
        else:
            assert "404" not in statuses, (path, method)


def test_who_may_call_is_documented(document: dict[str, Any]) -> None:
    for path, method, operation in _operations(document):
        if path.startswith(("/api/v1/public/", "/healthz")):
            assert "401" not in operation["responses"], (path, method)
            assert "security" not in operation
        else:
            assert _codes(operation, 401) == ["unauthorized"], (path, method)
            assert {"personalAccessToken": []} in operation["security"]
        if path.startswith("/api/v1/admin/"):
            assert "forbidden" in _codes(operation, 403), (path, method)
    assert document["components"]["securitySchemes"]["personalAccessToken"]["scheme"] == "bearer"


def test_domain_errors_are_on_the_operations_that_raise_them(document: dict[str, Any]) -> None:
    paths = document["paths"]
    page_booking = paths["/api/v1/public/pages/{page_key}/meeting-types/{type_id}/bookings"]
    assert set(page_booking["post"]["responses"]) >= {"201", "404", "409", "422", "503"}
    assert _codes(page_booking["post"], 409) == ["slot_unavailable"]
    link_booking = paths["/api/v1/public/links/{token}/bookings"]["post"]
    assert _codes(link_booking, 410) == ["link_expired", "link_used", "link_revoked"]
    assert _codes(link_booking, 409) == ["slot_unavailable"]
    assert "410" in paths["/api/v1/public/links/{token}"]["get"]["responses"]
    reschedule = paths["/api/v1/public/bookings/{manage_token}/reschedule"]["post"]
    assert _codes(reschedule, 409) == ["slot_unavailable", "booking_cancelled"]
    publish = paths["/api/v1/page/publish"]["post"]
    assert _codes(publish, 403) == ["csrf_failed", "personal_bookings_disabled"]
    assert _codes(paths["/api/v1/me"]["patch"], 409) == ["email_taken"]
    assert _codes(paths["/api/v1/admin/users/{email}"]["patch"], 409) == ["last_admin"]
    assert _codes(paths["/api/v1/calendars/{calendar_id}/sync"]["post"], 401) == ["unauthorized"]
    # A page key is any text: nothing there to refuse as invalid.
    assert "422" not in paths["/api/v1/public/pages/{page_key}"]["get"]["responses"]


def test_time_zones_are_one_shared_list(document: dict[str, Any]) -> None:
    zone = document["components"]["schemas"]["TimeZone"]
    assert "Europe/Paris" in zone["enum"] and "localtime" not in zone["enum"]
    me = document["components"]["schemas"]["MeUpdate"]["properties"]
    assert me["time_zone"] == {"$ref": "#/components/schemas/TimeZone"}
    slots = document["paths"]["/api/v1/public/links/{token}/slots"]["get"]
    tz = next(p for p in slots["parameters"] if p["name"] == "tz")
    assert tz["schema"] == {"$ref": "#/components/schemas/TimeZone"}
