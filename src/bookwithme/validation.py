"""Field types shared by every input schema: text without control characters, emails,
locales. Anything else is answered with a 422 that names the field."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Strict,
    StringConstraints,
    model_validator,
)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_OR_NEWLINE = re.compile(r"[\x00-\x1f\x7f]")

Locale = Literal["en", "fr"]


def _single_line(value: str) -> str:
    value = value.strip()
    if _CONTROL_OR_NEWLINE.search(value):
        raise ValueError("must be a single line without control characters")
    return value


def _multi_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _email(value: str) -> str:
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"is not a valid email address: {exc}") from None
    return result.normalized.lower()


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_single_line),
]
Label = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=100), AfterValidator(_single_line)
]
LongText = Annotated[str, StringConstraints(max_length=5000), AfterValidator(_multi_line)]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=254),
    AfterValidator(_email),
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=1024)]


class PatchModel(BaseModel):
    """A partial update: absent fields stay as they are, and ``null`` is accepted only for
    the fields listed in ``nullable`` (where it means "clear")."""

    model_config = ConfigDict(extra="forbid")
    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> PatchModel:
        for name in self.model_fields_set:
            if getattr(self, name) is None and name not in self.nullable:
                raise ValueError(f"{name} cannot be null; leave it out to keep it unchanged")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


# JSON true/false only: "yes", "1" or 0 are refused rather than guessed.
Flag = Annotated[bool, Strict()]
