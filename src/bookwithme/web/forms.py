"""HTML forms: read the posted fields, validate them with the same pydantic rules as the
API, and give each field a message a person understands."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from bookwithme.web.errors import validation_details

M = TypeVar("M", bound=BaseModel)


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form as plain strings (files and repeated fields are not used here)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def validate_form(model: type[M], fields: dict[str, Any]) -> tuple[M | None, dict[str, str]]:
    """The model and no errors, or None and ``{field: message}``."""
    try:
        return model.model_validate(fields), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for detail in validation_details(exc.errors()):
            errors.setdefault(detail["field"] or "__all__", detail["message"])
        return None, errors
