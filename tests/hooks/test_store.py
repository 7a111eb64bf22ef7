"""Hook endpoints: validated input, a secret shown once, rotation with an overlap, removal."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from notices.core.errors import InvalidField, NotFound
from notices.core.models import AuditEntry
from notices.hooks import store


def test_added_endpoint_keeps_filters_and_gives_its_secret_once(hook_ctx):
    raw = {
        "url": "https://127.0.0.1/in",
        "kind": "slack",
        "categories": "road-closure,utilities",
        "severity": "major",
        "events": "started,published",
    }
    with hook_ctx.db.session() as session, session.begin():
        endpoint, secret = store.add_endpoint(
            session, store.parse_endpoint(raw, hook_ctx.settings), now=hook_ctx.clock.now(), actor="admin@example.org"
        )
        endpoint_id = endpoint.id
    assert secret.startswith("whsec_")
    with hook_ctx.db.session() as session:
        data = store.endpoint_data(store.get_endpoint(session, endpoint_id))
        audit_details = " ".join(entry.detail for entry in session.query(AuditEntry))
    assert data["categories"] == ["road-closure", "utilities"]
    assert data["min_severity"] == "major"
    assert data["events"] == ["published", "started"]  # in the canonical order
    assert data["language"] == "en"
    assert secret not in repr(data) and secret not in audit_details


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"url": "ftp://hooks.example.org/in"}, "url"),
        ({"url": "https://user:pw@hooks.example.org/in"}, "url"),
        ({"url": "https://hooks.example.org/\x00in"}, "url"),
        ({"url": "https://hooks.example.org/\u202ein"}, "url"),
        ({"url": "https://" + "a" * 2000 + ".org/"}, "url"),
        ({"url": ""}, "url"),
        ({"url": "https://127.0.0.1/in", "kind": "discord"}, "kind"),
        ({"url": "https://127.0.0.1/in", "events": "published,exploded"}, "events"),
        ({"url": "https://127.0.0.1/in", "language": "fr"}, "language"),
        ({"url": "https://127.0.0.1/in", "categories": "nope"}, "categories"),
        ({"url": "https://127.0.0.1/in", "severity": "huge"}, "severity"),
    ],
)
def test_bad_input_names_the_field(hook_ctx, raw, field):
    with pytest.raises(InvalidField) as refused:
        store.parse_endpoint(raw, hook_ctx.settings)
    assert refused.value.field == field


def test_http_and_private_addresses_only_when_allowed(hook_ctx):
    strict = dataclasses.replace(hook_ctx.settings, hooks_allow_http=False, hooks_allow_private_networks=False)
    with pytest.raises(InvalidField, match="must start with https://"):
        store.parse_endpoint({"url": "http://127.0.0.1:9/in"}, strict)
    for address in ("https://127.0.0.1/in", "https://169.254.169.254/latest/meta-data/"):
        with pytest.raises(InvalidField, match="not a public address"):
            store.parse_endpoint({"url": address}, strict)
    assert store.parse_endpoint({"url": "http://127.0.0.1:9/in"}, hook_ctx.settings).url == "http://127.0.0.1:9/in"


def test_rotation_signs_with_both_secrets_until_the_overlap_ends(hook_ctx):
    now = hook_ctx.clock.now()
    with hook_ctx.db.session() as session, session.begin():
        endpoint, first = store.add_endpoint(
            session, store.parse_endpoint({"url": "https://127.0.0.1/"}, hook_ctx.settings), now=now, actor="a"
        )
        _, second = store.rotate_secret(session, endpoint.id, overlap=timedelta(hours=2), now=now, actor="a")
        assert store.signing_secrets(endpoint, now + timedelta(hours=1)) == [second, first]
        assert store.signing_secrets(endpoint, now + timedelta(hours=2)) == [second]


def test_removed_endpoint_is_gone(hook_ctx):
    now = hook_ctx.clock.now()
    with hook_ctx.db.session() as session, session.begin():
        endpoint, _ = store.add_endpoint(
            session, store.parse_endpoint({"url": "https://127.0.0.1/"}, hook_ctx.settings), now=now, actor="a"
        )
        store.remove_endpoint(session, endpoint.id, now=now, actor="a")
    with hook_ctx.db.session() as session, pytest.raises(NotFound):
        store.get_endpoint(session, endpoint.id)
