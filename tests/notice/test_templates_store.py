"""Notice templates: saved from a notice or from JSON, listed, found, renamed, deleted, and
turned into a new notice's input (no times: each notice gets its own)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from notices.core.errors import Forbidden, InvalidField
from notices.core.models import AuditEntry, NoticeTemplate
from notices.core.states import Role
from notices.notice import store
from notices.notice import templates_store as templates
from notices.notice.validation import parse_new_notice
from notices.people.roles import Actor
from tests.factories import add_notice

MANAGER = Actor(label="test:manager@example.org", email="manager@example.org", role=Role.MANAGER)
EDITOR = Actor(label="test:editor@example.org", email="editor@example.org", role=Role.EDITOR)

CLOSURE_GEOMETRY = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[4.4745, 52.1692], [4.4650, 52.1707]]},
            "properties": {"role": "closure"},
        }
    ],
}


def bilingual_notice(ctx):
    return add_notice(
        ctx,
        title={"en": "Plesmanlaan closed", "nl": "Plesmanlaan afgesloten"},
        summary={"en": "Follow the signs.", "nl": "Volg de borden."},
        body="Works on the **road**.",
        location_detail="between Sylviusweg and Einsteinweg",
        expected_end={"en": "approximately Q3 2027", "nl": "omstreeks Q3 2027"},
        geometry=CLOSURE_GEOMETRY,
        severity="critical",
        locations=["plesmanlaan", "sylviusweg"],
    )


def save_from(ctx, notice, name="Road closure", actor=MANAGER):
    with ctx.db.writing() as session, session.begin():
        saved = templates.save_template(
            session,
            name=name,
            description="Plesmanlaan works",
            fields=templates.stored_fields(store.get_notice(session, notice.uid)),
            actor=actor,
            now=ctx.clock.now(),
            source=notice.uid,
        )
        return saved.id


def test_a_notice_saved_as_a_template_keeps_its_fields_and_no_times(ctx):
    notice = bilingual_notice(ctx)
    save_from(ctx, notice)
    with ctx.db.session() as session:
        template = templates.get_template(session, "Road closure")
        fields = template.fields
        assert template.description == "Plesmanlaan works"
        assert template.created_by == MANAGER.label
    assert fields["title"] == "Plesmanlaan closed"
    assert fields["translations"]["nl"] == {
        "title": "Plesmanlaan afgesloten",
        "summary": "Volg de borden.",
        "expected_end": "omstreeks Q3 2027",
    }
    assert fields["category"] == "road-closure" and fields["severity"] == "critical"
    assert fields["locations"] == ["plesmanlaan", "sylviusweg"]
    assert fields["location_detail"] == "between Sylviusweg and Einsteinweg"
    assert fields["geometry"]["features"][0]["properties"]["role"] == "closure"
    assert not {"starts_at", "ends_at", "publish_at", "draft"} & set(fields)


def test_a_notice_started_from_a_template_has_its_fields_and_the_times_given(ctx):
    save_from(ctx, bilingual_notice(ctx))
    now = ctx.clock.now()
    with ctx.db.session() as session:
        template = templates.get_template(session, "road closure")  # the name, in any case
        raw = templates.with_defaults(template, {"starts_at": now + timedelta(days=3), "draft": True}, ctx.settings)
    fields = parse_new_notice(raw, settings=ctx.settings, now=now)
    assert fields.title == "Plesmanlaan closed"
    assert fields.translations["nl"]["title"] == "Plesmanlaan afgesloten"
    assert fields.severity == "critical"
    assert fields.locations == ("plesmanlaan", "sylviusweg")
    assert fields.geometry == CLOSURE_GEOMETRY or fields.geometry["features"][0]["properties"]["role"] == "closure"
    assert fields.starts_at == now + timedelta(days=3)
    assert fields.publish_at is None  # a draft until the person publishes it


def test_a_field_given_replaces_the_templates_field_in_every_language(ctx):
    save_from(ctx, bilingual_notice(ctx))
    now = ctx.clock.now()
    with ctx.db.session() as session:
        template = templates.get_template(session, "Road closure")
        raw = templates.with_defaults(template, {"title": "Einsteinweg closed", "starts_at": "now"}, ctx.settings)
    fields = parse_new_notice(raw, settings=ctx.settings, now=now)
    assert fields.title == "Einsteinweg closed"
    assert "title" not in fields.translations.get("nl", {})  # no stale Dutch title for another road
    assert fields.translations["nl"]["summary"] == "Volg de borden."


def test_templates_from_json_are_validated_like_notices(ctx):
    now = ctx.clock.now()
    fields = templates.parse_fields(
        {"title": {"en": "Power outage", "nl": "Stroomstoring"}, "category": "utilities", "severity": "major"},
        settings=ctx.settings,
        now=now,
    )
    assert fields["translations"] == {"nl": {"title": "Stroomstoring"}}
    # The shape a template is shown in (with `translations`) is accepted back.
    assert templates.parse_fields(fields, settings=ctx.settings, now=now) == fields
    with pytest.raises(InvalidField) as error:
        templates.parse_fields({"title": "x", "category": "nonsense"}, settings=ctx.settings, now=now)
    assert error.value.field == "category"
    with pytest.raises(InvalidField) as error:
        templates.parse_fields({"title": "x", "category": "event", "starts_at": "now"}, settings=ctx.settings, now=now)
    assert error.value.field == "starts_at"
    with pytest.raises(InvalidField) as error:
        templates.parse_fields(
            {"title": "x", "category": "event", "translations": {"fr": {"title": "y"}}}, settings=ctx.settings, now=now
        )
    assert error.value.field == "title.fr"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "required"),
        ("   ", "required"),
        ("Road\x00closure", "control"),
        ("Road \u202eclosure", "control"),
        ("Road\ufffeclosure", "control"),
        ("x" * 101, "at most 100"),
        ("2027", "only digits"),
    ],
)
def test_bad_names_are_refused_naming_the_field(ctx, name, problem):
    notice = bilingual_notice(ctx)
    with pytest.raises(InvalidField) as error:
        save_from(ctx, notice, name=name)
    assert error.value.field == "name" and problem in error.value.problem
    with ctx.db.session() as session:
        assert templates.list_templates(session) == []


def test_a_name_is_taken_once_whatever_its_case(ctx):
    notice = bilingual_notice(ctx)
    save_from(ctx, notice)
    with pytest.raises(templates.TemplateNameTaken):
        save_from(ctx, notice, name="ROAD CLOSURE")
    with ctx.db.session() as session:
        assert [template.name for template in templates.list_templates(session)] == ["Road closure"]


def test_editors_may_not_keep_templates(ctx):
    with pytest.raises(Forbidden):
        save_from(ctx, bilingual_notice(ctx), actor=EDITOR)


def test_rename_and_delete_are_audited(ctx):
    template_id = save_from(ctx, bilingual_notice(ctx))
    now = ctx.clock.now()
    with ctx.db.writing() as session, session.begin():
        templates.rename_template(
            session, templates.get_template(session, str(template_id)), name="Closure", actor=MANAGER, now=now
        )
    with ctx.db.writing() as session, session.begin():
        templates.delete_template(session, templates.get_template(session, "Closure"), actor=MANAGER, now=now)
    with ctx.db.session() as session:
        assert session.scalars(select(NoticeTemplate)).all() == []
        actions = [
            (entry.action, entry.target) for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]
    assert ("template.save", "Road closure") in actions
    assert ("template.rename", "Closure") in actions
    assert ("template.delete", "Closure") in actions


@pytest.mark.parametrize("key", ["nothing", "\x00", "9" * 40, "x" * 500, "12"])
def test_unknown_templates_are_not_found(ctx, key):
    with ctx.db.session() as session, pytest.raises(templates.TemplateNotFound):
        templates.get_template(session, key)


def test_a_template_of_a_language_the_site_no_longer_has_still_starts_a_notice(ctx):
    now = ctx.clock.now()
    with ctx.db.writing() as session, session.begin():
        session.add(
            NoticeTemplate(
                name="Old",
                description="",
                fields={"title": "Old", "category": "event", "translations": {"fr": {"title": "Vieux"}}, "gone": 1},
                created_at=now,
                created_by="test",
                updated_at=now,
                updated_by="test",
            )
        )
    with ctx.db.session() as session:
        raw = templates.with_defaults(templates.get_template(session, "Old"), {"starts_at": "now"}, ctx.settings)
    assert parse_new_notice(raw, settings=ctx.settings, now=now).title == "Old"


def test_a_series_rule_flows_through_a_template(ctx):
    # A template carries a series' rule and occurrence length (TEMPLATE_FIELDS names them).
    now = ctx.clock.now()
    series = {"recurrence": "FREQ=WEEKLY;BYDAY=TU;COUNT=10", "occurrence_minutes": 120}
    fields = templates.parse_fields({"title": "Market", "category": "event", **series}, settings=ctx.settings, now=now)
    assert {key: fields.get(key) for key in series} == series
    with ctx.db.writing() as session, session.begin():
        templates.save_template(session, name="Market", fields=fields, actor=MANAGER, now=now)
    with ctx.db.session() as session:
        template = templates.get_template(session, "Market")
        raw = templates.with_defaults(template, {"starts_at": "2026-12-01T07:00"}, ctx.settings)
    notice = parse_new_notice(raw, settings=ctx.settings, now=now)
    assert (notice.recurrence, notice.occurrence_minutes) == (series["recurrence"], 120)
