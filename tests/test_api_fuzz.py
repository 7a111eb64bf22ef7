"""Schemathesis generates requests from the OpenAPI schema: no input may cause a 5xx.

Driven through Hypothesis directly (one strategy per operation) rather than
schemathesis' pytest plugin, which does not support this pytest version.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from notices.web import create_app
from tests.factories import add_notice, add_token, add_user


@pytest.fixture
def api(ctx):
    add_user(ctx, "fuzz@example.org")
    add_notice(ctx)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(ctx.settings, ctx=ctx))
    operations = [result.ok() for result in schema.get_all_operations()]
    return operations, {"Authorization": f"Bearer {add_token(ctx, 'fuzz@example.org')}"}


def test_the_schema_lists_every_api_operation(api):
    operations, _ = api
    assert {f"{op.method.upper()} {op.path}" for op in operations} >= {
        "GET /api/v1/notices", "POST /api/v1/notices", "GET /api/v1/notices/{uid}", "PATCH /api/v1/notices/{uid}",
        "POST /api/v1/notices/{uid}/cancel", "GET /api/v1/subscribers/counts",
    }


def test_no_input_causes_a_server_error(api):
    operations, bearer = api
    seen: set[int] = set()
    for operation in operations:
        if not operation.path.startswith("/api/"):
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
        def check(case):
            response = case.call(headers=bearer)
            seen.add(response.status_code)
            assert response.status_code < 500, (operation.method, operation.path, response.text)
            if response.status_code >= 400:
                body = response.json()
                assert set(body) == {"error"} and "message" in body["error"], body

        check()
    # The generated requests got past authentication: both successes and field errors came back.
    assert 200 in seen and 422 in seen, seen
