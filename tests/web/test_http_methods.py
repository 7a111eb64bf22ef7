"""HEAD, OPTIONS and 405 everywhere, as RFC 9110 asks and uptime monitors and link checkers expect.

HEAD answers what GET answers, without the body; OPTIONS lists the path's methods in
`Allow`; a 405 always says in `Allow` which methods would work.
"""

import pytest

from tests.factories import add_notice, add_token, add_user

# Headers that legitimately differ between two requests (a fresh CSRF cookie per form).
PER_REQUEST = {"set-cookie"}
# Bodies that may change between two requests (counters), so their lengths may differ too.
LIVE = {"/metrics"}


@pytest.fixture
def notice(ctx):
    return add_notice(ctx)


def comparable(response, path: str) -> dict:
    ignored = PER_REQUEST | ({"content-length"} if path in LIVE else set())
    return {name: value for name, value in response.headers.items() if name not in ignored}


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/notices/{uid}",
        "/subscribe",
        "/admin/login",
        "/api/v1/notices",
        "/api/v1/notices/{uid}",
        "/healthz",
        "/metrics",
        "/static/admin.js",
        "/openapi.json",
        "/docs",
    ],
)
def test_head_answers_like_get_without_a_body(client, notice, path):
    path = path.format(uid=notice.uid)
    get, head = client.get(path), client.head(path)
    assert head.status_code == get.status_code
    # /healthz may say 503 when no scheduler runs in the test; HEAD must then say the same.
    assert get.status_code == 200 or path == "/healthz"
    assert head.content == b""
    assert comparable(head, path) == comparable(get, path)
    assert int(head.headers["content-length"]) == len(get.content) or path in LIVE


def test_head_of_a_missing_page_is_a_404_like_get(client):
    assert client.head("/notices/00000000-0000-0000-0000-000000000000").status_code == 404


def test_head_of_the_console_redirects_to_the_login_like_get(client):
    head = client.head("/admin", follow_redirects=False)
    assert head.status_code == 303 and head.headers["location"] == "/admin/login?next=/admin"


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/", "GET, HEAD, OPTIONS"),
        ("/subscribe", "GET, HEAD, OPTIONS, POST"),
        ("/api/v1/notices", "GET, HEAD, OPTIONS, POST"),
        ("/api/v1/notices/{uid}", "GET, HEAD, OPTIONS, PATCH"),
        ("/api/v1/notices/{uid}/cancel", "OPTIONS, POST"),
        ("/healthz", "GET, HEAD, OPTIONS"),
        ("/metrics", "GET, HEAD, OPTIONS"),
        ("/static/admin.js", "GET, HEAD, OPTIONS"),
        ("/admin/logout", "OPTIONS, POST"),
    ],
)
def test_options_lists_the_allowed_methods(client, notice, path, allow):
    response = client.options(path.format(uid=notice.uid))
    assert response.status_code == 204
    assert response.headers["allow"] == allow
    assert response.content == b""


def test_options_of_an_unknown_path_is_a_404(client):
    assert client.options("/no/such/page").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/v1/notices", "GET, HEAD, OPTIONS, POST"),
        ("DELETE", "/api/v1/notices/{uid}", "GET, HEAD, OPTIONS, PATCH"),
        ("POST", "/healthz", "GET, HEAD, OPTIONS"),
        ("POST", "/metrics", "GET, HEAD, OPTIONS"),
        ("DELETE", "/subscribe", "GET, HEAD, OPTIONS, POST"),
        ("GET", "/admin/logout", "OPTIONS, POST"),
        ("HEAD", "/admin/logout", "OPTIONS, POST"),
    ],
)
def test_a_405_lists_every_allowed_method(client, notice, method, path, allow):
    response = client.request(method, path.format(uid=notice.uid))
    assert response.status_code == 405
    assert response.headers["allow"] == allow


def test_a_405_from_the_api_is_still_a_json_error(client):
    response = client.put("/api/v1/notices")
    assert response.status_code == 405
    assert response.json() == {"error": {"field": None, "message": "Method Not Allowed"}}


def test_head_and_options_carry_the_security_headers(client):
    head, options = client.head("/"), client.options("/")
    assert (head.status_code, options.status_code) == (200, 204)
    for response in (head, options):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'self'" in response.headers["content-security-policy"]


def test_head_of_an_api_read_with_a_token_answers_like_get(ctx, client):
    add_user(ctx, "manager@example.org")
    draft = add_notice(ctx, draft=True)
    bearer = {"Authorization": f"Bearer {add_token(ctx, 'manager@example.org')}"}
    head = client.head(f"/api/v1/notices/{draft.uid}", headers=bearer)
    assert head.status_code == 200 and head.headers["etag"] == '"1"' and head.content == b""
