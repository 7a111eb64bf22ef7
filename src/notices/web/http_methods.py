"""HEAD, OPTIONS and 405 for the whole app, in one small ASGI layer (RFC 9110).

- HEAD works wherever GET does (section 9.3.2: same status and headers, no body):
  uptime monitors and link checkers use it. FastAPI routes answer GET only, so a HEAD
  for them runs as a GET here and the body is dropped on the way out.
- OPTIONS answers 204 with `Allow` listing the path's methods (section 9.3.7).
- Every 405 carries `Allow` with all of the path's methods (section 15.5.6); the router
  names only the methods of the first route it tried, and one path often has several
  routes (GET and POST /api/v1/notices).

The methods come from the app's own routes, so nothing is listed twice. Paths that no
route knows are left alone (404 as before); the feed fast path in front of this layer
answers HEAD for feeds itself.
"""

from __future__ import annotations

from starlette.routing import Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The methods a route can declare; asking the routes about each one goes through Starlette's
# public `matches`, which also works for FastAPI's included routers.
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _routes_answering(scope: Scope, method: str) -> list:
    probe = {**scope, "method": method}
    return [route for route in scope["app"].router.routes if route.matches(probe)[0] is Match.FULL]


def allowed_methods(scope: Scope) -> set[str] | None:
    """The methods the app answers on this path; None for an unknown path or a mounted app of its own."""
    methods: set[str] = set()
    for method in METHODS:
        routes = _routes_answering(scope, method)
        if any(isinstance(route, Mount) for route in routes):
            # A mount takes every method; static files answer GET and HEAD, other apps decide for themselves.
            mount = next(route for route in routes if isinstance(route, Mount))
            return {"GET", "HEAD", "OPTIONS"} if isinstance(mount.app, StaticFiles) else None
        if routes:
            methods.add(method)
    if not methods:
        return None
    if "GET" in methods:
        methods.add("HEAD")
    return methods | {"OPTIONS"}


def _allow_header(methods: set[str]) -> tuple[bytes, bytes]:
    return b"allow", ", ".join(sorted(methods)).encode()


class MethodSupport:
    """HEAD like GET, OPTIONS with Allow, and Allow on every 405."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        # Only what needs the route table pays for looking at it.
        methods = allowed_methods(scope) if method in ("HEAD", "OPTIONS") else None
        if method == "OPTIONS" and methods is not None:
            await send({"type": "http.response.start", "status": 204, "headers": [_allow_header(methods)]})
            await send({"type": "http.response.body", "body": b""})
            return
        if method == "HEAD" and methods is not None and "GET" in methods and not self._answers_head(scope):
            await self.app({**scope, "method": "GET"}, receive, self._without_body(send, scope))
            return
        await self.app(scope, receive, self._with_full_allow(send, scope))

    @staticmethod
    def _answers_head(scope: Scope) -> bool:
        # Starlette's own routes (/docs, /openapi.json) and the static files answer HEAD already.
        return bool(_routes_answering(scope, "HEAD"))

    def _without_body(self, send: Send, scope: Scope) -> Send:
        async def send_head(message: Message) -> None:
            if message["type"] == "http.response.start":
                await self._with_full_allow(send, scope)(message)
            elif message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
            else:
                await send(message)

        return send_head

    @staticmethod
    def _with_full_allow(send: Send, scope: Scope) -> Send:
        async def send_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                methods = allowed_methods(scope)
                if methods is not None:
                    headers = [(name, value) for name, value in message["headers"] if name.lower() != b"allow"]
                    message = {**message, "headers": [*headers, _allow_header(methods)]}
            await send(message)

        return send_allow
