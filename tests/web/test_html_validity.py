"""Every page and every email's HTML part is valid HTML for the Nu HTML checker (vnu.jar, the W3C's
validator), with ordinary and with hostile notice text."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from notices.people.link_tokens import LinkSigner
from tests.factories import add_notice, add_subscriber, add_user
from tests.mail_samples import LANGUAGES, every_kind, part
from tests.map_samples import CLOSURE_WITH_DIVERSION, store_geometry

VNU = Path(__file__).resolve().parents[2] / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
HOSTILE = {
    "title": "Closure \u202eevil <b>bold</b> & {{ marker }} " + "x" * 150,
    "summary": "Two <i>tags</i>, a [link](details.html) and a very long " + "word" * 300,
    "body": "## Heading\n\n- a\n- [b](javascript:alert(1))\n\n<script>x</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
    "location_detail": "between <em>here</em> & there",
}


def validate(files: list[Path]) -> list[str]:
    """The checker's errors, as 'file:line: message' lines."""
    java = shutil.which("java")
    assert java, "the HTML validity tests need Java (Debian: default-jre-headless)"
    assert VNU.exists(), "vnu.jar comes from the npm package vnu-jar: run `make install`"
    result = subprocess.run(
        [java, "-jar", str(VNU), "--format", "json", "--errors-only", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    return [f"{Path(m.get('url', '')).name}:{m.get('lastLine', '?')}: {m['message']}" for m in messages]


def csrf_of(response) -> str:
    return etree.HTML(response.text).xpath('//input[@name="csrf_token"]/@value')[0]


@pytest.mark.parametrize("text", [{}, HOSTILE], ids=["plain", "hostile"])
def test_every_page_is_valid_html(ctx, app, tmp_path, text):
    add_user(ctx, "admin@example.org", role="admin")
    notice = add_notice(ctx, **text)
    store_geometry(ctx, notice.uid, CLOSURE_WITH_DIVERSION)  # the pages with a map
    draft = add_notice(ctx, draft=True, **text)
    template_id = save_template(ctx, notice.uid)
    subscriber = add_subscriber(ctx, "tenant@example.org")
    pending = add_subscriber(ctx, "pending@example.org", state="pending")
    signer = LinkSigner(ctx.settings.secret_key)
    public = [
        "/",
        f"/notices/{notice.uid}",
        "/subscribe",
        "/admin/login",
        f"/preferences/{signer.sign('manage', subscriber, 1)}",
        f"/unsubscribe/{signer.sign('unsubscribe', subscriber, 1)}",
        f"/subscribe/confirm/{signer.sign('confirm', pending, 1)}",
        "/unsubscribe/not-a-token",
    ]
    console = [
        "/admin",
        "/admin/notices/new",
        f"/admin/notices/{notice.uid}",
        f"/admin/notices/{draft.uid}",
        "/admin/subscribers",
        "/admin/audit",
        "/admin/users",
        "/admin/templates",
        f"/admin/notices/new?template={template_id}",
    ]
    files = []
    with TestClient(app) as client:
        for path in public:
            files.append(save(tmp_path, path, client.get(path)))
        form = client.get("/subscribe")
        answer = client.post("/subscribe", data={"csrf_token": csrf_of(form), "email": "new@example.org"})
        files.append(save(tmp_path, "/subscribe-answer", answer))
        login = client.get("/admin/login")
        client.post(
            "/admin/login",
            data={
                "csrf_token": csrf_of(login),
                "email": "admin@example.org",
                "password": "correct horse battery",
                "next": "/admin",
            },
        )
        for path in console:
            files.append(save(tmp_path, path, client.get(path)))
        files.extend(integration_pages(ctx, client, tmp_path))
    errors = validate(files)
    assert not errors, "\n".join(errors)


def save_template(ctx, uid: str) -> int:
    """A template of the notice (its text, hostile or not), for the templates pages."""
    from notices.notice import store, templates_store
    from notices.people.roles import Actor

    with ctx.db.writing() as session, session.begin():
        fields = templates_store.stored_fields(store.get_notice(session, uid))
        return templates_store.save_template(
            session, name="Road closure <b>", fields=fields, actor=Actor(label="test"), now=ctx.clock.now()
        ).id


def integration_pages(ctx, client, folder: Path) -> list[Path]:
    """The integrations pages: the list with an error, an endpoint with its secret shown and a failed delivery."""
    form = client.get("/admin/integrations")
    data = {"csrf_token": csrf_of(form), "url": "https://169.254.169.254/<b>", "kind": "slack", "events": "started"}
    refused = client.post("/admin/integrations", data=data)
    # .invalid never resolves: accepted now, and the test send fails (a row in the log).
    added = client.post("/admin/integrations", data={**data, "url": "https://hooks.invalid/in?x=<b>"})
    endpoint_id = etree.HTML(added.text).xpath('//form[contains(@action, "/test")]/@action')[0].split("/")[3]
    client.post(f"/admin/integrations/{endpoint_id}/test", data={"csrf_token": csrf_of(added)})
    return [
        save(folder, "/admin/integrations-refused", refused),
        save(folder, "/admin/integrations-added", added),
        save(folder, "/admin/integrations", client.get("/admin/integrations")),
        save(folder, f"/admin/integrations/{endpoint_id}", client.get(f"/admin/integrations/{endpoint_id}")),
    ]


def save(folder: Path, path: str, response) -> Path:
    assert response.status_code in (200, 400), (path, response.status_code)
    assert response.headers["content-type"].startswith("text/html")
    target = folder / (path.strip("/").replace("/", "_")[:80] or "index")
    target = target.with_suffix(".html")
    target.write_text(response.text, encoding="utf-8")
    return target


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("text", [{}, HOSTILE], ids=["plain", "hostile"])
def test_every_email_html_part_is_valid_html(sink_ctx, clock, sink, tmp_path, language, text):
    files = []
    for kind, arrived in every_kind(sink_ctx, clock, sink, language=language, **text).items():
        target = tmp_path / f"{kind.replace(':', '-')}.html"
        target.write_text(part(arrived.message, "html"), encoding="utf-8")
        files.append(target)
    errors = validate(files)
    assert not errors, "\n".join(errors)
