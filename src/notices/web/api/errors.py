"""JSON errors for the API: {"error": {"field": ..., "message": ...}}, never a stack trace."""

from __future__ import annotations

from http import HTTPStatus

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
    first = error.errors()[0]
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    if first.get("type") == "json_invalid":
        return JSONResponse(error_body("the request body is not valid JSON", "body"), status_code=400)
    field = ".".join(location) or None
    message = first.get("msg", "invalid value")
    if first.get("type") == "extra_forbidden":
        message = "unknown field"
    return JSONResponse(error_body(message, field), status_code=422)
