"""JSON errors for the API: {"error": {"field": ..., "message": ...}}, never a stack trace."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, field: str | None = None, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field, self.headers = status, message, field, headers


def error_body(message: str, field: str | None = None) -> dict:
    return {"error": {"field": field, "message": message}}


async def api_error(_request: Request, error: ApiError) -> JSONResponse:
    return JSONResponse(error_body(error.message, error.field), status_code=error.status, headers=error.headers)


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
