"""Errors as people and programs see them: JSON under /api/, plain text everywhere else.

Every NoticesError is answered here, once, with its `status`; routes raise them and convert
nothing. Console and subscription forms catch InvalidField and Conflict themselves, to show
the form again with the message next to what the user typed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import TypeVar, cast

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ExceptionHandler

from notices.core.errors import NoticesError
from notices.web.api.errors import error_body, json_error
from notices.web.deps import app_context
from notices.web.feeds.query import BadFilter
from notices.web.languages import api_language, page_language, varies

E = TypeVar("E", bound=Exception)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def http_error(request: Request, error: StarletteHTTPException) -> Response:
    if _is_api(request):
        return JSONResponse(error_body(str(error.detail)), status_code=error.status_code, headers=error.headers)
    return PlainTextResponse(f"{error.detail}\n", status_code=error.status_code, headers=error.headers)


async def notices_error(request: Request, error: NoticesError) -> Response:
    settings = app_context(request).settings
    if _is_api(request):
        return json_error(error, api_language(request, settings), vary=varies(request, settings))
    # InvalidField says "field: problem"; in the page's language, as the page would have been.
    text = error.message_in(page_language(request, settings)) or HTTPStatus(error.status).phrase
    return PlainTextResponse(f"{text}\n", status_code=error.status, headers=getattr(error, "headers", None))


async def bad_filter(_request: Request, error: BadFilter) -> Response:
    return PlainTextResponse(f"{error}\n", status_code=400)


def handler(function: Callable[[Request, E], Awaitable[Response]]) -> ExceptionHandler:
    """`function` as Starlette's type for handlers, which take any Exception: Starlette calls
    each handler only with instances of the class it was added for, so the narrower type holds."""
    return cast(ExceptionHandler, function)


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, handler(http_error))
    app.add_exception_handler(NoticesError, handler(notices_error))
    app.add_exception_handler(BadFilter, handler(bad_filter))
