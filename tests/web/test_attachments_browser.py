"""The console's upload flow in a real browser (Debian's chromium, Playwright): attach a photo and
a PDF to a notice, see them on the public page, refuse a disguised program, remove a file."""

from datetime import timedelta

from playwright.sync_api import expect

from tests.attachment_samples import executable, jpeg_with_gps, pdf
from tests.factories import add_notice, add_user


def test_a_manager_attaches_and_removes_files(ctx, clock, page, tmp_path):
    add_user(ctx, "manager@example.org", password="correct horse battery")
    notice = add_notice(ctx, title="Gate 2 closed", publish_at=clock.now() - timedelta(hours=1))
    photo = tmp_path / "IMG_2041.jpg"
    photo.write_bytes(jpeg_with_gps())
    document = tmp_path / "Omleiding.pdf"
    document.write_bytes(pdf())
    disguised = tmp_path / "photo.jpg"
    disguised.write_bytes(executable())

    page.goto(f"/admin/notices/{notice.uid}")
    page.get_by_label("Email").fill("manager@example.org")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    attachments = page.locator("#attachments")
    expect(attachments.get_by_text("No attachments yet.")).to_be_visible()

    attachments.get_by_label("Title or description").fill("The closed gate")
    attachments.get_by_label("File", exact=False).set_input_files(str(photo))
    attachments.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(attachments.get_by_role("img", name="The closed gate")).to_be_visible()

    attachments.get_by_label("File", exact=False).set_input_files(str(document))
    attachments.get_by_role("button", name="Upload").click()
    expect(attachments.get_by_role("link", name="Omleiding.pdf")).to_be_visible()

    # A program named photo.jpg is refused, and the form says why.
    attachments.get_by_label("File", exact=False).set_input_files(str(disguised))
    attachments.get_by_role("button", name="Upload").click()
    expect(page.locator("#form-error")).to_contain_text("executable program")
    expect(page.locator("#attachments li")).to_have_count(2)

    # The public page shows the thumbnail, linking to the photo, and the PDF with its size.
    page.goto(f"/notices/{notice.uid}")
    thumbnail = page.get_by_role("img", name="The closed gate")
    expect(thumbnail).to_be_visible()
    assert page.evaluate("document.querySelector('#attachments img').naturalWidth") == 320
    expect(page.get_by_role("link", name="Omleiding.pdf")).to_be_visible()
    href = page.locator("#attachments a:has(img)").get_attribute("href")
    assert href is not None and href.endswith("/IMG_2041.jpg")
    assert page.request.get(href).headers["content-type"] == "image/jpeg"

    # Remove the PDF.
    page.goto(f"/admin/notices/{notice.uid}")
    page.get_by_role("button", name="Remove Omleiding.pdf").click()
    expect(page.locator("#attachments li")).to_have_count(1)
    expect(page.locator("#attachments").get_by_role("link", name="Omleiding.pdf")).to_have_count(0)
