"""Schemathesis over the app's own OpenAPI document, in process, on both databases.

Every operation gets the examples of the document, the coverage phase (boundary values,
missing and wrong-typed fields, methods the path does not declare) and a fixed number of
generated requests, positive and negative, from a fixed seed: the same requests on every
run. All of Schemathesis's checks apply, so a 5xx, a status the document does not list,
an answer that does not match its schema, a wrong ``Allow`` header, an operation that
ignores its credentials or accepts what its schema forbids fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.config import SchemathesisConfig
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import positive_data_acceptance
from schemathesis.transport import requests as st_requests
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import create_account

EXAMPLES_PER_OPERATION = 8

# Rules no JSON Schema states, so a request the schema allows may still break one and its
# 422 is the right answer. Each is matched on the message the API gives for that field,
# and only a 422 whose every detail is one of them passes.
BEYOND_THE_SCHEMA = [
    # Between fields of one object.
    r"^interval \S+ must start before it ends$",
    r"^start must be before end$",  # a busy block
    r"^options are only for select questions",
    r"^an ICS feed is read-only$",  # and so takes no username, password or write-back
    r"^the select question '.*' needs options$",
    r"^must be after start$",  # a list filter's end
    r"^a busy block can last at most three years$",
    # Between items of one list.
    r"^more than one override for \d{4}-\d{2}-\d{2}$",
    r"^two reminders are the same; remove one$",
    r"^intervals on \w+ overlap: ",
    # The years bookwithme plans for; a JSON Schema date or date-time runs from year 0001.
    r"^(must be )?between 1970-01-01 and 2200-12-31$",
    # Email domains reserved by RFC 6761 and friends (.test, .invalid, …): format "email"
    # allows them, email-validator refuses them.
    r"special-use or reserved name",
    # JSON Schema counts 336.0 as an integer; the API takes JSON integers only (strict
    # types: no 336.0, "336" or true for a number of minutes). Schemathesis sends only
    # schema-valid values here, so this message can only come from such a float.
    r"^Input should be a valid integer$",
    # Text the database cannot store (a NUL character): JSON Schema strings allow it.
    r"contains a NUL character \(U\+0000\), which cannot be stored",
    # An address JSON Schema's pattern lets through but no request can go to ("http://[").
    r"^is not a valid web address$",
    # Cursors are opaque: only the ones the API handed out are valid.
    r"^not a cursor this API gave out$",
]
_BEYOND = re.compile("|".join(f"(?:{rule})" for rule in BEYOND_THE_SCHEMA))


def accepts_schema_valid_data(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis's ``positive_data_acceptance``, less the rules above."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if response.status_code == 422:
            error = response.json()["error"]
            if error["code"] in ("calendar_unreadable", "target_not_allowed"):
                return None  # what an address answers, or where it leads, is beyond any schema
            details = error.get("details") or []
            if details and all(_BEYOND.search(d["message"]) for d in details):
                return None
        raise


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    # Schemathesis renames the test node to the operation under test through the private
    # ``_nodeid``, which pytest 9.1 no longer has.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@pytest.fixture
def api_schema(
    app: Any,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[Any]:
    # Hypothesis keeps caches (constants, Unicode tables) under .hypothesis/ in the working
    # directory even with no example database: keep them out of the checkout.
    set_hypothesis_home_dir(tmp_path / "hypothesis")
    # caldav brings niquests, whose urllib3-future takes the place of urllib3; Schemathesis
    # counts the open connections of requests' HTTP adapters (to resend a request a server
    # dropped) in a way only the real urllib3 supports. In process there are no connections.
    monkeypatch.setattr(st_requests, "_count_opened_connections", lambda session: 0)
    admin = create_account(session_factory, "admin@example.com", is_admin=True)
    config = SchemathesisConfig.from_dict(
        {
            "seed": 20261201,
            "headers": admin.headers,
            "generation": {
                "max-examples": EXAMPLES_PER_OPERATION,
                "deterministic": True,
                "database": "none",  # no example files in the checkout
            },
        }
    )
    yield schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    asgi.shutdown_lifespans()  # the app's engine is disposed before the tables are emptied
    set_hypothesis_home_dir(None)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_the_api_keeps_its_document(case: Any) -> None:
    case.call_and_validate(
        excluded_checks=[positive_data_acceptance], additional_checks=[accepts_schema_valid_data]
    )
