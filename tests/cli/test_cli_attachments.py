"""`notices notice attach` and `detach`: the same checks as the API, one-line errors, exit 2."""

import dataclasses
import json

import pytest
from click.testing import CliRunner

from notices.cli import cli
from notices.notice import store
from notices.notice.attachments.blobstore import open_store
from tests.attachment_samples import executable, exif_of, jpeg_with_gps, pdf
from tests.factories import add_notice


def attachments(ctx, uid):
    with ctx.db.session() as session:
        return [(item.title, item.blob_sha256) for item in store.get_notice(session, uid).attachments]


@pytest.fixture
def run(ctx):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, list(args), obj=ctx, catch_exceptions=False)

    return run


def test_attach_and_detach(ctx, run, tmp_path):
    notice = add_notice(ctx)
    photo = tmp_path / "site photo.jpg"
    photo.write_bytes(jpeg_with_gps())
    result = run("notice", "attach", notice.uid, str(photo), "--title", "The works area", "--json")
    assert result.exit_code == 0, result.output
    attached = json.loads(result.output)
    assert attached["filename"] == "site photo.jpg" and attached["new"] is True
    ((title, sha256),) = attachments(ctx, notice.uid)
    assert title == "The works area"
    assert exif_of(open_store(ctx.settings).get(sha256)) == {}
    again = run("notice", "attach", notice.uid, str(photo))
    assert "(already attached)" in again.output
    removed = run("notice", "detach", notice.uid, str(attached["id"]))
    assert removed.exit_code == 0 and "removed site photo.jpg" in removed.output
    assert attachments(ctx, notice.uid) == []


def test_refusals_are_one_line_with_exit_2(ctx, run, tmp_path):
    notice = add_notice(ctx)
    disguised = tmp_path / "photo.jpg"
    disguised.write_bytes(executable())
    result = run("notice", "attach", notice.uid, str(disguised))
    assert result.exit_code == 2
    assert "executable program (ELF)" in result.output and len(result.output.strip().splitlines()) == 1
    ctx.settings = dataclasses.replace(ctx.settings, attachments_max_bytes=1024)
    big = tmp_path / "big.pdf"
    big.write_bytes(pdf() + b" " * 5000)
    too_big = run("notice", "attach", notice.uid, str(big))
    assert too_big.exit_code == 2 and "larger than 1024 bytes" in too_big.output
    missing = run("notice", "attach", notice.uid, str(tmp_path / "nope.pdf"))
    assert missing.exit_code == 2 and "cannot read" in missing.output
    unknown = run("notice", "detach", notice.uid, "99")
    assert unknown.exit_code == 2 and "no attachment 99" in unknown.output
    assert attachments(ctx, notice.uid) == []
