"""Field types shared by every input schema: text without control characters, emails,
locales. Anything else is answered with a 422 that names the field."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    Strict,
    StringConstraints,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_OR_NEWLINE = re.compile(r"[\x00-\x1f\x7f]")

Locale = Literal["en", "fr"]


# The errors below have a type of their own, which a page turns into a message in its
# language (``web/errors.py``, ``FIELD_MESSAGES``); the API answers with the English text.


def _single_line(value: str) -> str:
    value = value.strip()
    if _CONTROL_OR_NEWLINE.search(value):
        raise PydanticCustomError("single_line", "must be a single line without control characters")
    return value


def _multi_line(value: str) -> str:
    if _CONTROL.search(value):
        raise PydanticCustomError("control_characters", "must not contain control characters")
    return value


# Domains private to an organization that email_validator refuses as special-use (RFC 6762
# ``.local``, often an Active Directory domain such as ``corp.local``; RFC 8375
# ``home.arpa``). Names it accepts already (``.lan``, ``.internal``, ``.intranet``) need no
# entry; ``.localhost``, ``.test``, ``.invalid``, ``.onion`` stay refused, and so does a
# domain without a dot (``ada@localhost``).
PRIVATE_EMAIL_SUFFIXES = (".local", ".home.arpa")
# What such a suffix is checked as: a top-level name email_validator accepts.
_STAND_IN_SUFFIX = ".lan"


class InvalidEmail(ValueError):
    """An address email_validator refuses: the API says why in its words, a page names the
    ``kind`` in the reader's language."""

    kind = "email_invalid"


def _email(value: str) -> str:
    """A valid address, normalized and in lower case. Addresses at an organization's private
    domain are checked like any other, with the private suffix standing in as ``.lan``."""
    local, at, domain = value.rpartition("@")
    suffix = next((s for s in PRIVATE_EMAIL_SUFFIXES if domain.lower().endswith(s)), "")
    checked = f"{local}{at}{domain[: -len(suffix)]}{_STAND_IN_SUFFIX}" if suffix else value
    try:
        result = validate_email(checked, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(f"is not a valid email address: {exc}") from None
    if not suffix:
        return result.normalized.lower()
    return f"{result.local_part}@{result.domain.removesuffix(_STAND_IN_SUFFIX)}{suffix}".lower()


def at_most(limit: int) -> BeforeValidator:
    """A length limit on the text as sent, spaces around it included: what the documented
    ``maxLength`` says (``strip_whitespace`` checks its own limit after trimming)."""

    def check(value: object) -> object:
        if isinstance(value, str) and len(value) > limit:
            # pydantic's own type and words for a text too long
            raise PydanticCustomError(
                "string_too_long",
                "String should have at most {max_length} characters",
                {"max_length": limit},
            )
        return value

    return BeforeValidator(check)


# What the documented schemas say of such text (the validators give the messages): one
# line, and for a name something besides spaces, once the spaces around it are stripped
# (``_SPACE`` is what ``str.strip`` removes).
_SPACE = r"[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_LINE_CHAR = r"[^\x00-\x1f\x7f]"
_SOLID = r"[^\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_CORE = f"{_SOLID}(?:{_LINE_CHAR}*{_SOLID})?"
SINGLE_LINE = Field(json_schema_extra={"pattern": f"^{_SPACE}*(?:{_CORE})?{_SPACE}*$"})
NOT_BLANK_LINE = Field(json_schema_extra={"pattern": f"^{_SPACE}*{_CORE}{_SPACE}*$"})
NO_CONTROL = Field(json_schema_extra={"pattern": r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"})

Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    at_most(200),
    AfterValidator(_single_line),
    NOT_BLANK_LINE,
]
Label = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=100),
    at_most(100),
    AfterValidator(_single_line),
    SINGLE_LINE,
]
LongText = Annotated[
    str, StringConstraints(max_length=5000), AfterValidator(_multi_line), NO_CONTROL
]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=254),
    at_most(254),
    AfterValidator(_email),
    Field(json_schema_extra={"format": "email"}),
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

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The documented schema says what ``_no_null_for_required`` enforces: ``null``
        only for the fields in ``nullable``."""
        schema = handler.resolve_ref_schema(handler(core_schema))
        for name, field in schema.get("properties", {}).items():
            if name in cls.nullable or "anyOf" not in field:
                continue
            variants = [v for v in field["anyOf"] if v != {"type": "null"}]
            del field["anyOf"]
            if len(variants) == 1:
                field.update(variants[0])
            else:
                field["anyOf"] = variants
            if field.get("default", 0) is None:
                del field["default"]
        return schema

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


# JSON true/false only: "yes", "1" or 0 are refused rather than guessed.
Flag = Annotated[bool, Strict()]
