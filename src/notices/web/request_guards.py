"""Requests refused before any handler: a NUL character (%00) in the URL.

No path or query value of ours holds a NUL, and PostgreSQL refuses text containing one, so such
a request would otherwise end as a 500 deep in a query. It gets a 400 naming the part instead
(JSON in the API's error shape under /api/).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl


def nul_problem(scope) -> tuple[str | None, str] | None:
    """(field, message) when the path or a query parameter holds a NUL, else None."""
    if "\x00" in scope["path"]:
        return None, "the address (URL path) contains a NUL character (%00)"
    query = scope.get("query_string", b"")
    if b"%00" not in query and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            field = name.replace("\x00", "") or None
            return field, f"the query parameter {field or '(unnamed)'} contains a NUL character (%00)"
    return None


class RefuseNul:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        problem = nul_problem(scope) if scope["type"] == "http" else None
        if problem is None:
            await self.app(scope, receive, send)
            return
        field, message = problem
        if scope["path"].startswith("/api/"):
            body = json.dumps({"error": {"field": field, "message": message}}).encode()
            content_type = b"application/json"
        else:
            body = (message[0].upper() + message[1:] + ".\n").encode()
            content_type = b"text/plain; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
