"""The console's templates: "Save as template" on a notice's page, the Templates page with rename
and delete, and the new-notice form filled in from a template (times left to the person)."""

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import func, select

from notices.core.models import AuditEntry, NoticeTemplate
from tests.factories import add_notice, add_user
from tests.web.test_console import csrf_of, form_fields, log_in


@pytest.fixture
def manager(app, ctx):
    add_user(ctx, "manager@example.org")
    with TestClient(app) as client:
        assert log_in(client).status_code == 303
        yield client


def count_templates(ctx) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(NoticeTemplate))


def save_as_template(client, uid: str, name: str, description: str = ""):
    token = csrf_of(client.get(f"/admin/notices/{uid}"))
    return client.post(
        f"/admin/notices/{uid}/template",
        data={"csrf_token": token, "template_name": name, "template_description": description},
        follow_redirects=False,
    )


def test_save_a_notice_as_a_template_then_start_a_notice_from_it(ctx, manager):
    notice = add_notice(
        ctx,
        title={"en": "Plesmanlaan closed", "nl": "Plesmanlaan afgesloten"},
        summary="Follow the yellow signs",
        severity="critical",
        locations=["plesmanlaan", "sylviusweg"],
    )
    saved = save_as_template(manager, notice.uid, "Road closure", "Any road")
    assert saved.status_code == 303 and saved.headers["location"].startswith("/admin/templates?saved=")
    listing = etree.HTML(manager.get(saved.headers["location"]).text)
    assert listing.xpath('//p[@role="status"]/text()')[0] == "Template “Road closure” saved."
    start = listing.xpath('//a[text()="New notice from template"]/@href')[0]
    form_page = manager.get(start)
    assert "Road closure" in etree.HTML(form_page.text).xpath('//p[@id="template-used"]/text()')[0]
    values = form_fields(form_page)
    assert (values["title"], values["summary"], values["title.nl"]) == (
        "Plesmanlaan closed",
        "Follow the yellow signs",
        "Plesmanlaan afgesloten",
    )
    assert (values["category"], values["severity"]) == ("road-closure", "critical")
    assert values["locations"] == ["plesmanlaan", "sylviusweg"]
    assert values["starts_at"] == values["ends_at"] == values["publish_at"] == ""
    created = manager.post(
        "/admin/notices", data={**values, "starts_at": "2026-12-01 07:00", "action": "publish"}, follow_redirects=False
    )
    assert created.status_code == 303, created.text


def test_the_new_notice_page_offers_the_templates(ctx, manager):
    save_as_template(manager, add_notice(ctx).uid, "Road closure")
    page = etree.HTML(manager.get("/admin/notices/new").text)
    assert page.xpath('//form[@id="template-choice"]//option/text()') == ["Road closure"]


def test_a_bad_or_taken_name_is_shown_on_the_notice_page_and_nothing_is_saved(ctx, manager):
    notice = add_notice(ctx)
    bad = save_as_template(manager, notice.uid, "Road\u202eclosure")
    assert bad.status_code == 400
    error = etree.HTML(bad.text).xpath('//p[@id="template-error"]')[0]
    assert "template_name" in "".join(error.itertext()) and "control" in "".join(error.itertext())
    assert count_templates(ctx) == 0
    save_as_template(manager, notice.uid, "Road closure")
    taken = save_as_template(manager, notice.uid, "road closure")
    assert taken.status_code == 400 and "already exists" in taken.text
    assert count_templates(ctx) == 1


def test_rename_and_delete_from_the_templates_page(ctx, manager):
    save_as_template(manager, add_notice(ctx).uid, "Road closure")
    with ctx.db.session() as session:
        template_id = session.scalar(select(NoticeTemplate.id))
    token = csrf_of(manager.get("/admin/templates"))
    bad = manager.post(f"/admin/templates/{template_id}/rename", data={"csrf_token": token, "name": "42"})
    assert bad.status_code == 400 and "only digits" in bad.text
    renamed = manager.post(f"/admin/templates/{template_id}/rename", data={"csrf_token": token, "name": "Closure"})
    assert renamed.status_code == 200 and "Template “Closure” saved." in renamed.text
    deleted = manager.post(f"/admin/templates/{template_id}/delete", data={"csrf_token": token})
    assert "Template “Closure” deleted." in deleted.text
    assert count_templates(ctx) == 0
    with ctx.db.session() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.action.startswith("template."))).all()
    assert sorted(actions) == ["template.delete", "template.rename", "template.save"]


def test_template_forms_need_the_csrf_token(ctx, manager):
    notice = add_notice(ctx)
    refused = manager.post(f"/admin/notices/{notice.uid}/template", data={"template_name": "X"})
    assert refused.status_code == 403
    assert count_templates(ctx) == 0


def test_editors_start_from_templates_but_do_not_keep_them(ctx, manager, app):
    notice = add_notice(ctx)
    save_as_template(manager, notice.uid, "Road closure")
    add_user(ctx, "editor@example.org", role="editor")
    with TestClient(app) as editor:
        log_in(editor, "editor@example.org")
        page = editor.get("/admin/templates")
        assert page.status_code == 200 and "New notice from template" in page.text
        assert "Rename" not in page.text and "Delete" not in page.text
        assert 'id="save-template"' not in editor.get(f"/admin/notices/{notice.uid}").text
        token = csrf_of(page)
        refused = editor.post(f"/admin/notices/{notice.uid}/template", data={"csrf_token": token, "template_name": "Y"})
        assert refused.status_code == 403
    assert count_templates(ctx) == 1


def test_an_unknown_template_is_a_404(manager):
    assert manager.get("/admin/notices/new?template=nothing").status_code == 404
