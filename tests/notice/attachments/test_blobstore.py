"""The stores: a directory (atomic writes, nothing half-written) and an S3 bucket, against a real
S3-compatible server (moto's, started here on 127.0.0.1)."""

from __future__ import annotations

import socket

import pytest

from notices.core.errors import NotFound
from notices.notice.attachments.blobstore import DirectoryStore, S3Store, StoreUnavailable, sha256_of


def test_the_directory_store_writes_once_under_the_hash(tmp_path):
    store = DirectoryStore(tmp_path / "store")
    data = b"%PDF-1.4 hello"
    sha = sha256_of(data)
    store.put(sha, data, "application/pdf")
    path = store.path(sha)
    assert path == tmp_path / "store" / sha[:2] / sha
    assert path.read_bytes() == data
    before = path.stat().st_mtime_ns
    store.put(sha, data, "application/pdf")  # already there: not written again
    assert path.stat().st_mtime_ns == before
    assert store.get(sha) == data
    assert [p.name for p in path.parent.iterdir()] == [sha]  # no temporary file left behind
    with pytest.raises(NotFound):
        store.get("0" * 64)
    with pytest.raises(NotFound):
        store.get("../../etc/passwd")
    assert store.problem() is None


def test_a_store_that_cannot_be_written_leaves_nothing_behind(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    store = DirectoryStore(blocker / "store")
    assert store.problem() is not None
    with pytest.raises(StoreUnavailable, match="cannot be written"):
        store.put(sha256_of(b"x"), b"x", "application/pdf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def s3_endpoint(monkeypatch):
    """moto's S3-compatible server on 127.0.0.1, with throw-away credentials."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_the_s3_store_against_a_real_s3_server(s3_endpoint):
    store = S3Store("s3://notices-files/attachments", endpoint_url=s3_endpoint, region="eu-west-1")
    assert store.problem() is not None  # no bucket yet
    store.client.create_bucket(Bucket="notices-files", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert store.problem() is None
    data = b"\x89PNG\r\n\x1a\n fake"
    sha = sha256_of(data)
    store.put(sha, data, "image/png")
    store.put(sha, data, "image/png")  # there already: skipped
    listed = store.client.list_objects_v2(Bucket="notices-files")["Contents"]
    assert [item["Key"] for item in listed] == [f"attachments/{sha[:2]}/{sha}"]
    head = store.client.head_object(Bucket="notices-files", Key=f"attachments/{sha[:2]}/{sha}")
    assert head["ContentType"] == "image/png"
    assert store.get(sha) == data
    with pytest.raises(NotFound):
        store.get("1" * 64)


def test_an_unreachable_bucket_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    store = S3Store("s3://notices-files", endpoint_url=f"http://127.0.0.1:{_free_port()}", region="eu-west-1")
    store.client.meta.config.retries = {"max_attempts": 0}
    assert store.problem() is not None
    with pytest.raises(StoreUnavailable, match="cannot be written"):
        store.put(sha256_of(b"x"), b"x", "application/pdf")


def test_uploads_through_the_api_land_in_the_bucket(ctx, client, s3_endpoint):
    import dataclasses
    from datetime import timedelta

    from tests.attachment_samples import exif_of, jpeg_with_gps
    from tests.factories import add_notice, add_token, add_user

    ctx.settings = dataclasses.replace(
        ctx.settings, attachments_store="s3://replica-files/notices", attachments_s3_endpoint_url=s3_endpoint
    )
    S3Store("s3://replica-files", endpoint_url=s3_endpoint).client.create_bucket(
        Bucket="replica-files", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    add_user(ctx, "manager@example.org")
    auth = {"Authorization": f"Bearer {add_token(ctx, 'manager@example.org')}"}
    notice = add_notice(ctx, publish_at=ctx.clock.now() - timedelta(hours=1))
    answer = client.post(
        f"/api/v1/notices/{notice.uid}/attachments", headers=auth, files={"file": ("site.jpg", jpeg_with_gps())}
    )
    assert answer.status_code == 201, answer.text
    served = client.get(answer.json()["url"])
    assert served.status_code == 200 and exif_of(served.content) == {}
    keys = S3Store("s3://replica-files", endpoint_url=s3_endpoint).client.list_objects_v2(Bucket="replica-files")
    assert len(keys["Contents"]) == 2  # the image and its thumbnail
    assert client.get("/healthz").json()["attachment_store"] == "ok"
