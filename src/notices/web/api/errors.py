"""JSON errors for the API: {"error": {"field": ..., "message": ...}}, never a stack trace.

`field` is for programs and never translated; `message` is for people, in the language the
request asks for (web.languages.api_language: `?lang=`, then Accept-Language, then the site's).
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from notices.core.errors import InvalidField, NoticesError
from notices.core.i18n import SOURCE_LANGUAGE, lazy_gettext, translate
from notices.web.languages import api_language, requested


class ApiError(NoticesError):
    """What only the API answers: a missing token (401), a stale If-Match (412), an unknown query value (400)."""

    def __init__(self, status: int, message: str, *, field: str | None = None, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.field, self.headers = status, field, headers


def error_body(message: str, field: str | None = None) -> dict:
    return {"error": {"field": _writable(field), "message": _writable(message)}}


def _writable(text: str | None) -> str | None:
    """`text` as UTF-8 can carry it: a lone surrogate the client sent (a language key "\ud800"), which
    an error names, is written as its escape, where it made the answer itself fail (a 500)."""
    if text is None or text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def field_and_message(error: NoticesError, language: str = SOURCE_LANGUAGE) -> tuple[str | None, str]:
    """The field an error names (None if it names none) and what to tell the user, in `language`."""
    if isinstance(error, InvalidField):
        return error.field, error.problem_in(language)
    # Errors raised without a message (Throttled) still say something.
    return getattr(error, "field", None), error.message_in(language) or HTTPStatus(error.status).phrase


def json_error(error: NoticesError, language: str = SOURCE_LANGUAGE, *, vary: bool = False) -> JSONResponse:
    """Any NoticesError in the API's error shape, with its status (InvalidField 422, NotFound 404, ...).

    `vary`: the language came from Accept-Language (not `?lang=`), so caches must keep the answers apart.
    """
    field, message = field_and_message(error, language)
    headers = dict(getattr(error, "headers", None) or {})
    if vary:
        headers["Vary"] = "Accept-Language"
    return JSONResponse(error_body(message, field), status_code=error.status, headers=headers or None)


async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    """Pydantic's errors, reduced to the first one, naming the field the way a client wrote it."""
    errors = error.errors()
    first = errors[0]
    if any(_is_union_tag(part) for part in first.get("loc", ())):
        # A text field is a string or one string per language: pydantic reports both
        # alternatives; the one about the shape the client did not send is noise.
        first = next((e for e in errors if not _wrong_member(e)), first)
    # The location starts with where the value was (body, query, path); a notice's field may be
    # called "body" too.
    where, *location_parts = first.get("loc", ()) or ("",)
    if where not in ("body", "query", "path"):
        location_parts = [where, *location_parts]
    location = [str(part) for part in location_parts if not _is_union_tag(part)]
    if first.get("type") == "json_invalid":
        return JSONResponse(error_body(_in(request, _NOT_JSON), "body"), status_code=400)
    field = ".".join(location) or None
    # The problems clients meet most in our words (translated); pydantic's others are its English.
    ours = _PYDANTIC_PROBLEMS.get(first.get("type", ""))
    message = _in(request, ours(first.get("ctx") or {})) if ours else first.get("msg", "invalid value")
    headers = {"Vary": "Accept-Language"} if requested(request, request.app.state.ctx.settings) is None else None
    return JSONResponse(error_body(message, field), status_code=422, headers=headers)


_NOT_JSON = lazy_gettext("the request body is not valid JSON")
_PYDANTIC_PROBLEMS: dict[str, Callable[[dict[str, Any]], str]] = {
    "extra_forbidden": lambda _context: lazy_gettext("unknown field"),
    "missing": lambda _context: lazy_gettext("is required"),
    "string_type": lambda _context: lazy_gettext("must be text"),
    # A JSON escape of half a surrogate pair ("\ud800"), which no text can hold.
    "string_unicode": lambda _context: lazy_gettext("must be text, without lone surrogates such as \\ud800"),
    "bool_type": lambda _context: lazy_gettext("must be true or false"),
    "bool_parsing": lambda _context: lazy_gettext("must be true or false"),
    "string_too_long": lambda context: lazy_gettext(
        "is too long; at most %(limit)d characters are allowed", limit=context.get("max_length", 0)
    ),
}


def _in(request: Request, text: str) -> str:
    # The app's settings as web.deps.app_context reads them (web.deps imports this module).
    return translate(text, api_language(request, request.app.state.ctx.settings))


def _is_union_tag(part: object) -> bool:
    """A location part naming a member of a union ("constrained-str", "dict[str,constrained-str]")."""
    return isinstance(part, str) and (part in ("str", "constrained-str") or part.startswith("dict["))


def _wrong_member(error: Any) -> bool:
    """A union member's "not my shape" error (a dict is not a string, a string is not a dict)."""
    location = error.get("loc", ())
    return error.get("type") in ("string_type", "dict_type") and bool(location) and _is_union_tag(location[-1])
