"""While the database is unreachable: 503 with Retry-After (pages, console, API), never a 500.

A page cannot be answered without the database, but it is a temporary state the client can
wait out; feeds go further and serve the last copy they rendered (see FeedCache.get_or_last).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import exc

from notices.web.html import page

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
MESSAGE = "The database is not reachable at the moment; please try again in a minute."
# Connection refused or lost, database gone, pool exhausted, and SQLite's "unable to open",
# "no such table" and "locked": the same answer for all, since all pass without a code change.
OUTAGE_ERRORS = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)


def is_outage(error: BaseException) -> bool:
    """True for errors that mean "the database is unavailable" rather than "this request is wrong"."""
    if isinstance(error, OUTAGE_ERRORS):
        return True
    return isinstance(error, exc.DBAPIError) and error.connection_invalidated


def retry_headers() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}


async def database_unavailable(request: Request, error: Exception) -> Response:
    # One line, not a traceback per request while the outage lasts.
    log.warning(
        "database unavailable (%s %s): %s",
        request.method,
        request.url.path,
        str(getattr(error, "orig", None) or error).splitlines()[0][:300],
    )
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": {"field": None, "message": MESSAGE}}, status_code=503, headers=retry_headers())
    return page(
        request, "web/message.html", 503, headers=retry_headers(), title="Temporarily unavailable", text=MESSAGE
    )


def install(app: FastAPI) -> None:
    """Answer database outages in every route with 503 and Retry-After."""
    for error_class in OUTAGE_ERRORS:
        app.add_exception_handler(error_class, database_unavailable)
