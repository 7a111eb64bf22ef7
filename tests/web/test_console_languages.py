"""The console's notice form: a fieldset per language (plain HTML, no script needed), saved
together, shown again, and a preview in each language."""

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from tests.factories import add_notice, add_user, reload
from tests.web.test_console import count_notices, csrf_of, log_in


@pytest.fixture
def manager(app, ctx):
    add_user(ctx, "manager@example.org")
    with TestClient(app) as client:
        assert log_in(client).status_code == 303
        yield client


BASE = {
    "category": "road-closure",
    "severity": "major",
    "locations": ["plesmanlaan"],
    "starts_at": "2026-12-01 07:00",
}


def _value(html: str, name: str) -> list[str]:
    return etree.HTML(html).xpath(f'//input[@name="{name}"]/@value')


def test_the_form_has_a_dutch_fieldset_marked_as_dutch(manager):
    form = etree.HTML(manager.get("/admin/notices/new").text)
    (fieldset,) = form.xpath('//fieldset[@lang="nl"]')
    names = fieldset.xpath(".//input/@name | .//textarea/@name")
    assert names == ["title.nl", "summary.nl", "body.nl", "location_detail.nl", "expected_end.nl"]


def test_a_new_notice_saves_both_languages_without_script(ctx, manager):
    form = manager.get("/admin/notices/new")
    created = manager.post(
        "/admin/notices",
        data={
            **BASE,
            "csrf_token": csrf_of(form),
            "action": "publish",
            "title": "Plesmanlaan closed",
            "title.nl": "Plesmanlaan afgesloten",
            "body.nl": "Volg de **gele** borden.",
            "expected_end": "approximately Q3 2027",
            "expected_end.nl": "ongeveer Q3 2027",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    uid = created.headers["location"].split("/")[-1].split("?")[0]
    notice = reload(ctx, uid)
    assert notice.title == "Plesmanlaan closed"
    assert notice.translations == {
        "nl": {
            "title": "Plesmanlaan afgesloten",
            "body": "Volg de **gele** borden.",
            "expected_end": "ongeveer Q3 2027",
        }
    }
    page = manager.get(f"/admin/notices/{uid}").text
    assert _value(page, "title.nl") == ["Plesmanlaan afgesloten"]
    assert etree.HTML(page).xpath('//textarea[@name="body.nl"]/text()') == ["Volg de **gele** borden."]


def test_an_edit_changes_and_clears_dutch_text_and_the_revision_has_both(ctx, manager):
    notice = add_notice(ctx, title={"en": "Plesmanlaan closed", "nl": "Plesmanlaan afgesloten"}, summary={"nl": "Kort"})
    page = manager.get(f"/admin/notices/{notice.uid}")
    saved = manager.post(
        f"/admin/notices/{notice.uid}",
        data={
            **BASE,
            "csrf_token": csrf_of(page),
            "version": "1",
            "title": "Plesmanlaan closed",
            "title.nl": "Plesmanlaan dicht",
            "summary.nl": "",
            "note": "shorter Dutch title",
            "starts_at": "2026-12-01 07:00",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    changed = reload(ctx, notice.uid)
    assert changed.translations == {"nl": {"title": "Plesmanlaan dicht"}}
    assert changed.revisions[-1].snapshot["translations"] == {"nl": {"title": "Plesmanlaan dicht"}}


def test_a_too_long_dutch_title_is_shown_naming_it_and_nothing_is_written(ctx, manager):
    form = manager.get("/admin/notices/new")
    answer = manager.post(
        "/admin/notices",
        data={**BASE, "csrf_token": csrf_of(form), "action": "publish", "title": "Closed", "title.nl": "x" * 201},
    )
    assert answer.status_code == 400
    alert = "".join(etree.HTML(answer.text).xpath('//*[@role="alert"]//text()'))
    assert "title.nl" in alert
    assert _value(answer.text, "title.nl") == ["x" * 201]  # the user's text is kept
    assert count_notices(ctx) == 0


def test_the_preview_shows_the_notice_as_dutch_readers_will_see_it(manager):
    token = csrf_of(manager.get("/admin/notices/new"))
    data = {**BASE, "csrf_token": token, "title": "Plesmanlaan closed", "title.nl": "Plesmanlaan afgesloten"}
    dutch = manager.post("/admin/preview", data={**data, "preview_language": "nl"}).json()
    assert "Plesmanlaan afgesloten" in dutch["page"] and "Plesmanlaan afgesloten" in dutch["feed"]
    assert dutch["email_subject"].startswith("Nieuw: Wegafsluiting: Plesmanlaan afgesloten")
    english = manager.post("/admin/preview", data=data).json()
    assert english["email_subject"].startswith("New: Road closure: Plesmanlaan closed")


def test_the_dutch_preview_marks_english_fallback_text(manager):
    token = csrf_of(manager.get("/admin/notices/new"))
    preview = manager.post(
        "/admin/preview",
        data={**BASE, "csrf_token": token, "title": "Plesmanlaan closed", "preview_language": "nl"},
    ).json()
    assert "Plesmanlaan closed (in English)" in preview["email_subject"]
