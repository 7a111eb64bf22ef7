"""Hook endpoints: validated input, a secret shown once, rotation with an overlap, removal."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from notices.core.errors import InvalidField, NotFound
from notices.core.models import AuditEntry
from notices.hooks import store


def test_added_endpoint_keeps_filters_and_gives_its_secret_once(ctx):
    raw = {
        "url": "https://hooks.example.org/in",
        "kind": "slack",
        "categories": "road-closure,utilities",
        "severity": "major",
        "events": "started,published",
    }
    with ctx.db.session() as session, session.begin():
        endpoint, secret = store.add_endpoint(
            session, store.parse_endpoint(raw, ctx.settings), now=ctx.clock.now(), actor="admin@example.org"
        )
        endpoint_id = endpoint.id
    assert secret.startswith("whsec_")
    with ctx.db.session() as session:
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
        ({"url": "http://hooks.example.org/in"}, "url"),
        ({"url": "ftp://hooks.example.org/in"}, "url"),
        ({"url": "https://user:pw@hooks.example.org/in"}, "url"),
        ({"url": "https://hooks.example.org/\x00in"}, "url"),
        ({"url": "https://hooks.example.org/\u202ein"}, "url"),
        ({"url": "https://" + "a" * 2000 + ".org/"}, "url"),
        ({"url": ""}, "url"),
        ({"url": "https://hooks.example.org/in", "kind": "discord"}, "kind"),
        ({"url": "https://hooks.example.org/in", "events": "published,exploded"}, "events"),
        ({"url": "https://hooks.example.org/in", "language": "fr"}, "language"),
        ({"url": "https://hooks.example.org/in", "categories": "nope"}, "categories"),
        ({"url": "https://hooks.example.org/in", "severity": "huge"}, "severity"),
    ],
)
def test_bad_input_names_the_field(ctx, raw, field):
    with pytest.raises(InvalidField) as refused:
        store.parse_endpoint(raw, ctx.settings)
    assert refused.value.field == field


def test_http_only_when_allowed(ctx):
    allowing = dataclasses.replace(ctx.settings, hooks_allow_http=True, hooks_allow_private_networks=True)
    assert store.parse_endpoint({"url": "http://127.0.0.1:9/in"}, allowing).url == "http://127.0.0.1:9/in"


def test_rotation_signs_with_both_secrets_until_the_overlap_ends(ctx):
    now = ctx.clock.now()
    with ctx.db.session() as session, session.begin():
        endpoint, first = store.add_endpoint(
            session, store.parse_endpoint({"url": "https://h.example.org/"}, ctx.settings), now=now, actor="a"
        )
        _, second = store.rotate_secret(session, endpoint.id, overlap=timedelta(hours=2), now=now, actor="a")
        assert store.signing_secrets(endpoint, now + timedelta(hours=1)) == [second, first]
        assert store.signing_secrets(endpoint, now + timedelta(hours=2)) == [second]


def test_removed_endpoint_is_gone(ctx):
    now = ctx.clock.now()
    with ctx.db.session() as session, session.begin():
        endpoint, _ = store.add_endpoint(
            session, store.parse_endpoint({"url": "https://h.example.org/"}, ctx.settings), now=now, actor="a"
        )
        store.remove_endpoint(session, endpoint.id, now=now, actor="a")
    with ctx.db.session() as session, pytest.raises(NotFound):
        store.get_endpoint(session, endpoint.id)
