"""Schemathesis against the running API with every check it has (`--checks all`), on this test's database.

All phases run: the schema's examples, the coverage phase (boundary values, missing and
unexpected parameters, unsupported methods), fuzzing, and stateful sequences that follow
the links from a created notice to reading, changing and cancelling it. Beyond "no 5xx",
the checks hold the API to its schema both ways: what the schema allows is accepted,
what it forbids is refused, and responses match their documented status, type, headers
and body.
"""

import subprocess
import sys

import pytest
import schemathesis

from notices.web import create_app
from tests.factories import add_notice, add_token, add_user
from tests.live_server import serving

# Where "valid per the schema" cannot mean "accepted", the statuses that answer it correctly.
# Each is a rule JSON Schema cannot express, so the check would otherwise demand a wrong answer:
# - 412: If-Match with a tag that is not the notice's current version. A made-up tag is
#   well-formed and must fail the precondition (RFC 9110 13.1.1); a 2xx would lose an update.
# - 422: rules across fields or about meaning: ends_at after starts_at, publish_at before
#   ends_at, times that exist in the site zone and lie in the accepted window, text that is
#   not only invisible characters (a return comment, an emergency reason), a submission's
#   publish_at that is not a time, a series' rule that gives no occurrence on its start, an
#   occurrence moved onto another one. These are field errors, answered with the field's name.
#   A template's `fields` are validated as a notice's (the same rules), its `notice` must name
#   an existing notice, and exactly one of the two is given.
#   On the list: a `cursor` the server did not give out, a `since`/`until` that is no time.
DEFAULT_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]
CONFIG = f"""
[[operations]]
include-name = "GET /api/v1/notices"
checks.positive_data_acceptance.expected-statuses = {DEFAULT_ACCEPTED + ["422"]}

[[operations]]
include-name = "POST /api/v1/notices"
checks.positive_data_acceptance.expected-statuses = {DEFAULT_ACCEPTED + ["422"]}

[[operations]]
include-name = "POST /api/v1/templates"
checks.positive_data_acceptance.expected-statuses = {DEFAULT_ACCEPTED + ["422"]}

[[operations]]
include-name = [
    "PATCH /api/v1/notices/{{uid}}",
    "POST /api/v1/notices/{{uid}}/cancel",
    "PATCH /api/v1/notices/{{uid}}/occurrences/{{occurrence_id}}",
    "POST /api/v1/notices/{{uid}}/occurrences/{{occurrence_id}}/cancel",
]
checks.positive_data_acceptance.expected-statuses = {DEFAULT_ACCEPTED + ["412", "422"]}

[[operations]]
include-name = [
    "POST /api/v1/notices/{{uid}}/submit",
    "POST /api/v1/notices/{{uid}}/return",
    "POST /api/v1/notices/{{uid}}/publish-now",
]
checks.positive_data_acceptance.expected-statuses = {DEFAULT_ACCEPTED + ["422"]}

[[operations]]
# The file's kind is told from its bytes (magic numbers), which a schema cannot describe.
include-name = "POST /api/v1/notices/{{uid}}/attachments"
checks.positive_data_acceptance.expected-statuses = {DEFAULT_ACCEPTED + ["422"]}
"""


@pytest.fixture
def token(ctx):
    add_user(ctx, "fuzz@example.org")
    add_notice(ctx)
    return add_token(ctx, "fuzz@example.org")


def test_the_schema_lists_every_api_operation(ctx):
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(ctx.settings, ctx=ctx))
    operations = {f"{op.method.upper()} {op.path}" for op in (result.ok() for result in schema.get_all_operations())}
    assert operations >= {
        "GET /api/v1/notices",
        "POST /api/v1/notices",
        "GET /api/v1/notices/{uid}",
        "PATCH /api/v1/notices/{uid}",
        "POST /api/v1/notices/{uid}/cancel",
        "GET /api/v1/subscribers/counts",
        "GET /api/v1/templates",
        "POST /api/v1/templates",
        "GET /api/v1/templates/{key}",
        "DELETE /api/v1/templates/{key}",
        "GET /api/v1/notices/{uid}/attachments",
        "POST /api/v1/notices/{uid}/attachments",
        "DELETE /api/v1/notices/{uid}/attachments/{attachment_id}",
    }


def test_the_api_passes_every_schemathesis_check(app, token, tmp_path):
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    with serving(app) as base_url:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "--config-file",
                str(config),
                "run",
                f"{base_url}/openapi.json",
                "--checks",
                "all",
                "--include-path-regex",
                "^/api/",
                "--max-examples",
                "40",
                "--header",
                f"Authorization: Bearer {token}",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=tmp_path,  # its cache folder goes there too
        )
    assert run.returncode == 0, run.stdout[-20_000:] + run.stderr[-5_000:]
