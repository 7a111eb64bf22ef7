"""Attachments in email: thumbnails loaded from the site inside links to the site, PDFs as links;
nothing embedded in the message; the plain part lists the links."""

from datetime import timedelta

import lxml.html

from notices.notice import store
from notices.notice.attachments import service
from notices.notice.attachments.blobstore import open_store
from notices.runtime import jobs
from tests.attachment_samples import jpeg_with_gps, pdf
from tests.factories import add_notice, add_subscriber
from tests.mail_samples import part


def attach(ctx, uid, name, data, title=""):
    with ctx.db.writing() as session, session.begin():
        notice = store.get_notice(session, uid, for_update=True)
        attachment, _ = service.attach(
            session,
            open_store(ctx.settings),
            notice,
            data=data,
            filename=name,
            title=title,
            actor="test",
            now=ctx.clock.now(),
        )
        return attachment.blob_sha256, attachment.blob.thumbnail_sha256, attachment.blob.size


def test_an_alert_links_thumbnails_and_pdfs_to_the_site(sink_ctx, clock, sink):
    ctx = sink_ctx
    add_subscriber(ctx, "tenant@example.org")
    notice = add_notice(ctx, starts_at=clock.now() + timedelta(hours=3), draft=True)
    image, thumbnail, _ = attach(ctx, notice.uid, "site.jpg", jpeg_with_gps(), title="The works area")
    document, _, size = attach(ctx, notice.uid, "map.pdf", pdf(), title="Diversion map")
    with ctx.db.writing() as session, session.begin():
        current = store.get_notice(session, notice.uid)
        current.publish_at = clock.now()
        store.record_due_events(session, current, clock.now())
    jobs.enqueue_alerts(ctx, now=clock.now())
    jobs.send_pending(ctx, now=clock.now())
    (arrived,) = sink.handler.arrived
    message = arrived.message
    # Nothing but text and HTML: no image or PDF travels with the mail.
    assert {item.get_content_type() for item in message.walk() if not item.is_multipart()} == {
        "text/plain",
        "text/html",
    }
    base = ctx.settings.base_url
    html = lxml.html.fromstring(part(message, "html"))
    (img,) = html.xpath("//img")
    assert img.get("src").startswith(f"{base}/attachments/{thumbnail}/")
    assert img.get("alt") == "The works area"
    assert img.getparent().tag == "a"
    assert img.getparent().get("href") == f"{base}/attachments/{image}/site.jpg"
    assert f"{base}/attachments/{document}/map.pdf" in html.xpath("//a/@href")
    text = part(message, "plain")
    assert f"Diversion map ({size} B): {base}/attachments/{document}/map.pdf" in text
    assert f"{base}/attachments/{image}/site.jpg" in text


def test_a_digest_shows_the_files_too(sink_ctx, clock, sink):
    ctx = sink_ctx
    add_subscriber(ctx, "daily@example.org", frequency="daily")
    notice = add_notice(ctx, starts_at=clock.now() + timedelta(days=2), publish_at=clock.now())
    _, thumbnail, _ = attach(ctx, notice.uid, "site.jpg", jpeg_with_gps(), title="The works area")
    document, _, _ = attach(ctx, notice.uid, "map.pdf", pdf())
    jobs.record_transitions(ctx, now=clock.now())
    clock.set((clock.now() + timedelta(days=1)).replace(hour=6, minute=30))
    jobs.enqueue_digests(ctx, now=clock.now(), frequency="daily")
    jobs.send_pending(ctx, now=clock.now())
    (arrived,) = sink.handler.arrived
    html = lxml.html.fromstring(part(arrived.message, "html"))
    assert [img.get("alt") for img in html.xpath("//img")] == ["The works area"]
    assert f"{ctx.settings.base_url}/attachments/{document}/map.pdf" in html.xpath("//a/@href")
