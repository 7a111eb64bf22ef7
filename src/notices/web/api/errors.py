"""JSON errors for the API: {"error": {"field": ..., "message": ...}}, never a stack trace."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from notices.core.errors import InvalidField, NoticesError


class ApiError(NoticesError):
    """What only the API answers: a missing token (401), a stale If-Match (412), an unknown query value (400)."""

    def __init__(self, status: int, message: str, *, field: str | None = None, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.field, self.headers = status, field, headers


def error_body(message: str, field: str | None = None) -> dict:
    return {"error": {"field": field, "message": message}}


def field_and_message(error: NoticesError) -> tuple[str | None, str]:
    """The field an error names (None if it names none) and what to tell the user."""
    if isinstance(error, InvalidField):
        return error.field, error.problem
    # Errors raised without a message (Throttled) still say something.
    return getattr(error, "field", None), str(error) or HTTPStatus(error.status).phrase


def json_error(error: NoticesError) -> JSONResponse:
    """Any NoticesError in the API's error shape, with its status (InvalidField 422, NotFound 404, ...)."""
    field, message = field_and_message(error)
    return JSONResponse(error_body(message, field), status_code=error.status, headers=getattr(error, "headers", None))


async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    """Pydantic's errors, reduced to the first one, naming the field the way a client wrote it."""
    errors = error.errors()
    first = errors[0]
    if any(_is_union_tag(part) for part in first.get("loc", ())):
        # A text field is a string or one string per language: pydantic reports both
        # alternatives; the one about the shape the client did not send is noise.
        first = next((e for e in errors if not _wrong_member(e)), first)
    location = [
        str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path") and not _is_union_tag(part)
    ]
    if first.get("type") == "json_invalid":
        return JSONResponse(error_body("the request body is not valid JSON", "body"), status_code=400)
    field = ".".join(location) or None
    message = first.get("msg", "invalid value")
    if first.get("type") == "extra_forbidden":
        message = "unknown field"
    return JSONResponse(error_body(message, field), status_code=422)


def _is_union_tag(part: object) -> bool:
    """A location part naming a member of a union ("constrained-str", "dict[str,constrained-str]")."""
    return isinstance(part, str) and (part in ("str", "constrained-str") or part.startswith("dict["))


def _wrong_member(error: Any) -> bool:
    """A union member's "not my shape" error (a dict is not a string, a string is not a dict)."""
    location = error.get("loc", ())
    return error.get("type") in ("string_type", "dict_type") and bool(location) and _is_union_tag(location[-1])
