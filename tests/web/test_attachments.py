"""Attachments through the API and on the site: checked by content, cleaned, stored once, served
with the right headers, listed on the page and in the feeds."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from lxml import etree
from PIL import Image
from sqlalchemy import func, select

from notices.core.models import AuditEntry, Blob, NoticeAttachment
from notices.runtime import jobs
from tests.attachment_samples import executable, exif_of, gps_of, jpeg_with_gps, pdf, png, webp
from tests.factories import add_notice, add_token, add_user


@pytest.fixture
def auth(ctx):
    add_user(ctx, "manager@example.org")
    return {"Authorization": f"Bearer {add_token(ctx, 'manager@example.org')}"}


@pytest.fixture
def notice(ctx):
    return add_notice(ctx, publish_at=ctx.clock.now() - timedelta(hours=1))


def upload(client, auth, uid, name, data, content_type="application/octet-stream", **fields):
    return client.post(
        f"/api/v1/notices/{uid}/attachments", headers=auth, files={"file": (name, data, content_type)}, data=fields
    )


def stored_files(ctx) -> list[Path]:
    return sorted(path for path in Path(ctx.settings.attachments_store).rglob("*") if path.is_file())


def test_a_pdf_is_accepted_and_served_as_uploaded(ctx, client, auth, notice):
    data = pdf()
    answer = upload(client, auth, notice.uid, "Omleidingskaart december.pdf", data, title="Diversion map")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["content_type"] == "application/pdf"
    assert body["size"] == len(data)
    assert body["filename"] == "Omleidingskaart december.pdf"
    assert body["thumbnail_url"] is None
    served = client.get(body["url"])
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"] == 'inline; filename="Omleidingskaart december.pdf"'
    listed = client.get(f"/api/v1/notices/{notice.uid}/attachments").json()
    assert [item["title"] for item in listed["attachments"]] == ["Diversion map"]


def test_a_jpeg_loses_its_gps_and_camera_data_but_stays_upright(ctx, client, auth, notice):
    original = jpeg_with_gps(orientation=6)  # taken with the phone turned: 640 × 480 stored, shown 480 × 640
    assert gps_of(original)
    answer = upload(client, auth, notice.uid, "IMG_2041.JPG", original, "image/jpeg")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    downloaded = client.get(body["url"])
    assert downloaded.headers["content-type"] == "image/jpeg"
    assert exif_of(downloaded.content) == {}  # no GPS, no make or model, no orientation left to apply
    assert b"PhoneMaker" not in downloaded.content
    assert Image.open(io.BytesIO(downloaded.content)).size == (480, 640)
    assert (body["width"], body["height"]) == (480, 640)
    # What is stored is what is served: the original, with its location, is nowhere on disk.
    for path in stored_files(ctx):
        assert b"PhoneMaker" not in path.read_bytes()
    thumbnail = client.get(body["thumbnail_url"])
    assert thumbnail.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumbnail.content)).size) <= 320
    assert exif_of(thumbnail.content) == {}


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("plan.png", png(), "image/png"),
        ("photo.webp", webp(), "image/webp"),
        ("text.png", png(transparent=False), "image/png"),
    ],
)
def test_png_and_webp_are_accepted(ctx, client, auth, notice, name, data, content_type):
    answer = upload(client, auth, notice.uid, name, data)
    assert answer.status_code == 201, answer.text
    served = client.get(answer.json()["url"])
    assert served.headers["content-type"] == content_type
    assert b"Rijnsburgerweg" not in served.content  # a PNG's text chunks go too
    Image.open(io.BytesIO(served.content)).verify()


def test_a_renamed_executable_is_refused_by_its_content(ctx, client, auth, notice):
    answer = upload(client, auth, notice.uid, "photo.jpg", executable(), "image/jpeg")
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["field"] == "file"
    assert "executable program (ELF)" in error["message"]
    assert "PNG, JPEG or WebP images and PDF documents" in error["message"]
    assert stored_files(ctx) == []
    with ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(NoticeAttachment)) == 0


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "the file is empty"),
        (b"GIF89a" + b"\x00" * 50, "a GIF image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "SVG"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "JPEG image is damaged"),
    ],
)
def test_other_and_damaged_files_are_refused_with_a_clear_error(ctx, client, auth, notice, data, problem):
    answer = upload(client, auth, notice.uid, "file.jpg", data)
    assert answer.status_code == 422
    assert problem in answer.json()["error"]["message"]
    assert answer.json()["error"]["field"] == "file"


def test_a_decompression_bomb_is_refused_before_its_pixels_are_decoded(ctx, client, auth, notice):
    image = Image.new("1", (12_000, 12_000))  # 144 megapixels, a few kB as PNG
    out = io.BytesIO()
    image.save(out, format="PNG")
    answer = upload(client, auth, notice.uid, "bomb.png", out.getvalue())
    assert answer.status_code == 422
    assert "too large" in answer.json()["error"]["message"]


def test_a_duplicate_upload_is_stored_once(ctx, client, auth, notice):
    data = jpeg_with_gps()
    first = upload(client, auth, notice.uid, "a.jpg", data)
    again = upload(client, auth, notice.uid, "b.jpg", data)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other = add_notice(ctx, title="Second notice", publish_at=ctx.clock.now())
    elsewhere = upload(client, auth, other.uid, "c.jpg", data)
    assert elsewhere.status_code == 201
    assert elsewhere.json()["sha256"] == first.json()["sha256"]
    with ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Blob)) == 2  # the image and its thumbnail
        assert session.scalar(select(func.count()).select_from(NoticeAttachment)) == 2
    assert len(stored_files(ctx)) == 2


def test_hostile_file_names_are_made_safe(ctx, client, auth, notice):
    # (httpx writes the NUL and BEL as %00 %07, as browsers do; names.safe_filename's own test has them raw.)
    name = "../../etc/\u202egpj.exe\u2069 plan\ufffe.pdf"
    answer = upload(client, auth, notice.uid, name, pdf())
    assert answer.status_code == 201
    assert answer.json()["filename"] == "gpj.exe plan.pdf"
    long = upload(client, auth, notice.uid, "x" * 900 + ".png", png())
    assert long.status_code == 201, long.text
    assert len(long.json()["filename"]) <= 120 and long.json()["filename"].endswith(".png")
    huge = upload(client, auth, notice.uid, "x" * 50_000 + ".png", png())
    assert huge.status_code == 422 and huge.json()["error"]["field"] == "file"
    # A PDF named like an image keeps the type it really has.
    other = add_notice(ctx, title="Other", publish_at=ctx.clock.now())
    assert upload(client, auth, other.uid, "photo.jpg", pdf()).json()["filename"] == "photo.jpg.pdf"


def test_serving_headers_etag_and_304(ctx, client, auth, notice):
    body = upload(client, auth, notice.uid, "Plattegrond – één.png", png()).json()
    served = client.get(body["url"])
    etag = served.headers["etag"]
    assert etag == f'"{body["sha256"]}"'
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-disposition"] == (
        "inline; filename=\"Plattegrond _ __n.png\"; filename*=UTF-8''Plattegrond%20%E2%80%93%20%C3%A9%C3%A9n.png"
    )
    again = client.get(body["url"], headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert client.get(body["url"], headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get(f"/attachments/{'0' * 64}/x.png").status_code == 404
    assert client.get("/attachments/not-a-hash/x.png").status_code == 404


def test_a_drafts_files_are_not_public(ctx, client, auth):
    draft = add_notice(ctx, draft=True)
    body = upload(client, auth, draft.uid, "plan.pdf", pdf()).json()
    assert client.get(body["url"]).status_code == 404
    assert client.get(f"/api/v1/notices/{draft.uid}/attachments").status_code == 404
    with_token = client.get(body["url"], headers=auth)
    assert with_token.status_code == 200
    assert with_token.headers["cache-control"] == "private, no-store"


def test_remove_an_attachment(ctx, client, auth, notice):
    body = upload(client, auth, notice.uid, "plan.pdf", pdf()).json()
    assert client.delete(f"/api/v1/notices/{notice.uid}/attachments/{body['id']}", headers=auth).status_code == 204
    assert client.get(body["url"]).status_code == 404
    assert client.delete(f"/api/v1/notices/{notice.uid}/attachments/{body['id']}", headers=auth).status_code == 404
    with ctx.db.session() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["notice.attach", "notice.detach"]


def test_uploading_needs_a_token_and_a_writer(ctx, client, notice):
    assert upload(client, {}, notice.uid, "plan.pdf", pdf()).status_code == 401
    add_user(ctx, "approver@example.org", role="approver")
    token = {"Authorization": f"Bearer {add_token(ctx, 'approver@example.org')}"}
    assert upload(client, token, notice.uid, "plan.pdf", pdf()).status_code == 403


def test_an_unwritable_store_is_a_clear_503_and_nothing_is_written(ctx, client, auth, notice, tmp_path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the store should be")
    ctx.settings = dataclasses.replace(ctx.settings, attachments_store=str(blocked / "store"))
    answer = upload(client, auth, notice.uid, "plan.pdf", pdf())
    assert answer.status_code == 503
    assert "cannot be written" in answer.json()["error"]["message"]
    with ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Blob)) == 0
    jobs.heartbeat(ctx, now=ctx.clock.now())
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["scheduler"] == "ok"
    assert (
        "is not writable" in health.json()["attachment_store"] or "cannot be made" in health.json()["attachment_store"]
    )


# The streamed limit ------------------------------------------------------------------------------


def _multipart(boundary: str, size: int, chunk: int):
    """A multipart body with one file of `size` bytes, produced in chunks as a client sends them."""
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode() + b"%PDF-1.4\n"
    sent = 0
    while sent < size:
        yield b"x" * chunk
        sent += chunk
    yield f"\r\n--{boundary}--\r\n".encode()


def _call(app, path: str, headers: dict[str, str], body_chunks) -> tuple[int, bytes, int]:
    """Call the ASGI app directly, handing the body over chunk by chunk; returns the status, the
    answer and how many body bytes the app asked for."""
    consumed = 0
    chunks = iter(body_chunks)
    answer: dict = {"body": b""}

    async def receive():
        nonlocal consumed
        try:
            chunk = next(chunks)
        except StopIteration:
            return {"type": "http.request", "body": b"", "more_body": False}
        consumed += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(key.lower().encode(), value.encode()) for key, value in headers.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    return answer["status"], answer["body"], consumed


def test_an_oversized_file_is_refused_before_it_is_read_whole(ctx, app, auth, notice):
    ctx.settings = dataclasses.replace(ctx.settings, attachments_max_bytes=100_000)
    headers = auth | {"content-type": "multipart/form-data; boundary=XyZ", "host": "127.0.0.1"}
    total = 20_000_000  # 20 MB offered, without a Content-Length (chunked)
    status, body, consumed = _call(
        app, f"/api/v1/notices/{notice.uid}/attachments", headers, _multipart("XyZ", total, 16_384)
    )
    assert status == 413
    error = json.loads(body)["error"]
    assert error["field"] == "file"
    assert "larger than" in error["message"]
    assert consumed < 100_000 + 2 * 16_384  # stopped at the limit, not at 20 MB
    assert stored_files(ctx) == []


def test_a_declared_oversized_body_is_refused_from_its_header(ctx, app, auth, notice):
    headers = auth | {
        "content-type": "multipart/form-data; boundary=XyZ",
        "content-length": str(50_000_000),
        "host": "127.0.0.1",
    }
    status, body, consumed = _call(
        app, f"/api/v1/notices/{notice.uid}/attachments", headers, _multipart("XyZ", 50_000_000, 65_536)
    )
    assert status == 413
    assert consumed == 0


def test_a_request_that_is_not_multipart_is_refused(ctx, client, auth, notice):
    answer = client.post(f"/api/v1/notices/{notice.uid}/attachments", headers=auth, content=pdf())
    assert answer.status_code == 422
    assert answer.json()["error"] == {"field": "file", "message": "send the file as multipart/form-data"}


# What readers see ---------------------------------------------------------------------------------


def test_the_page_shows_thumbnails_linking_to_the_image_and_pdf_links_with_their_size(ctx, client, auth, notice):
    image = upload(client, auth, notice.uid, "site.jpg", jpeg_with_gps(), title="The works area").json()
    document = upload(client, auth, notice.uid, "map.pdf", pdf(), title="Diversion map").json()
    html = etree.HTML(client.get(f"/notices/{notice.uid}").text)
    thumbnails = html.xpath('//section[@id="attachments"]//a/img')
    assert [img.get("alt") for img in thumbnails] == ["The works area"]
    assert thumbnails[0].getparent().get("href") == f"/attachments/{image['sha256']}/site.jpg"
    assert thumbnails[0].get("src").startswith(f"/attachments/{image['thumbnail_url'].split('/')[-2]}/")
    pdf_link = html.xpath('//section[@id="attachments"]//a[@type="application/pdf"]')[0]
    assert pdf_link.get("href") == f"/attachments/{document['sha256']}/map.pdf"
    assert "Diversion map" in pdf_link.xpath("string()")
    assert f"{document['size']} B" in etree.tostring(pdf_link.getparent(), encoding="unicode")


@pytest.mark.parametrize(
    "path", ["/feeds/notices.atom", "/feeds/notices.rss", "/feeds/events.atom", "/feeds/events.rss"]
)
def test_feeds_carry_enclosures_with_length_and_type(ctx, client, auth, notice, path):
    image = upload(client, auth, notice.uid, "site.jpg", jpeg_with_gps()).json()
    document = upload(client, auth, notice.uid, "map.pdf", pdf()).json()
    jobs.record_transitions(ctx, now=ctx.clock.now())  # the "published" event, for the events feeds
    feed = feedparser.parse(client.get(path).content)
    assert not feed.bozo, feed.bozo_exception
    entry = feed.entries[0]
    enclosures = [(item["href"], int(item["length"]), item["type"]) for item in entry.enclosures]
    expected = [
        (image["url"], image["size"], "image/jpeg"),
        (document["url"], document["size"], "application/pdf"),
    ]
    if path.endswith(".rss"):
        # RSS allows one enclosure per item: the first attachment.
        assert enclosures == expected[:1]
        item = etree.fromstring(client.get(path).content).xpath("//item")[0]
        assert len(item.findall("enclosure")) == 1
    else:
        assert sorted(enclosures) == sorted(expected)


# The console's upload form -----------------------------------------------------------------------


def test_the_console_upload_needs_the_forms_token_and_our_origin(ctx, client, notice):
    from tests.web.test_console import csrf_of, log_in

    add_user(ctx, "manager@example.org")
    log_in(client)
    form = client.get(f"/admin/notices/{notice.uid}")
    token = csrf_of(form)
    url = f"/admin/notices/{notice.uid}/attachments"
    files = {"file": ("plan.pdf", pdf(), "application/pdf")}
    assert client.post(url, files=files, data={"title": "x"}).status_code == 403
    foreign = client.post(url, files=files, data={"csrf_token": token}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    assert stored_files(ctx) == []
    saved = client.post(url, files=files, data={"csrf_token": token, "title": "Plan"}, follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/admin/notices/{notice.uid}?saved=1#attachments"
    refused = client.post(url, files={"file": ("photo.jpg", executable())}, data={"csrf_token": token})
    assert refused.status_code == 400
    error = etree.HTML(refused.text).xpath('//*[@id="form-error"]')[0].xpath("string()")
    assert "file" in error and "executable program" in error
