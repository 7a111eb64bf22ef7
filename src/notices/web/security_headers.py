"""Security headers on every page and API response (feeds set their own in the fast path)."""

from __future__ import annotations

# Pages use our own scripts and inline styles (emails in the preview carry inline CSS, Swagger UI
# and Leaflet set style attributes); nothing is loaded from elsewhere, /docs included, and no other
# site may frame us. Images: ours, data: URIs, https (pictures in notice text, map tiles).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; "
    "frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


def content_security_policy(*, extra_image_origin: str | None = None) -> str:
    """The policy, allowing images from one more origin: a tile server that is not https (an
    intranet's http://tiles.example:8080), which the https: source does not cover."""
    if not extra_image_origin or extra_image_origin.startswith("https://"):
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace(
        "img-src 'self' data: https:;", f"img-src 'self' data: https: {extra_image_origin};"
    )


class SecurityHeaders:
    def __init__(self, app, policy: str = CONTENT_SECURITY_POLICY) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", policy.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"SAMEORIGIN"),
        ]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                present = {name for name, _ in message["headers"]}
                extra = [(name, value) for name, value in self.headers if name not in present]
                message = {**message, "headers": [*message["headers"], *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
