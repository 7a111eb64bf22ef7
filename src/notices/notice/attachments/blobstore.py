"""Bytes kept under the SHA-256 of their content: a directory (the default) or an S3 bucket.

Content addressing makes a write idempotent (the same bytes always land under the same name, so a
second upload of a file is skipped) and lets replicas share a bucket without coordination.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from notices.core.config import Settings
from notices.core.errors import NotFound, NoticesError

SHA256_SHAPE = re.compile(r"[0-9a-f]{64}")


class StoreUnavailable(NoticesError):
    """The store cannot be written or read (a full disk, no permission, the bucket unreachable)."""

    status = 503


class BlobStore(Protocol):
    def put(self, sha256: str, data: bytes, content_type: str) -> None:
        """Keep `data` under `sha256`; a no-op when it is there already."""

    def get(self, sha256: str) -> bytes:
        """The bytes; NotFound if they are not there, StoreUnavailable if the store fails."""

    def problem(self) -> str | None:
        """Why the store cannot be used now (for /healthz), or None."""

    def describe(self) -> str: ...


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _key(sha256: str) -> str:
    # Two levels of fan-out keep directories (and S3 listings) small.
    if not SHA256_SHAPE.fullmatch(sha256):
        raise NotFound("no such file")
    return f"{sha256[:2]}/{sha256}"


class DirectoryStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self) -> str:
        return f"directory {self.root}"

    def path(self, sha256: str) -> Path:
        return self.root / _key(sha256)

    def put(self, sha256: str, data: bytes, content_type: str) -> None:
        target = self.path(sha256)
        if target.exists():
            return
        temporary = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            # Written under a temporary name in the same directory, then renamed: a reader (or a
            # crash) never sees half a file under the final name, and rename is atomic there.
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
            temporary = None
        except OSError as error:
            raise StoreUnavailable(
                f"the attachment store ({self.describe()}) cannot be written: {error.strerror or error}"
            ) from None
        finally:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)

    def get(self, sha256: str) -> bytes:
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise NotFound("the file is missing from the attachment store") from None
        except OSError as error:
            raise StoreUnavailable(f"the attachment store cannot be read: {error.strerror or error}") from None

    def problem(self) -> str | None:
        if not self.root.exists():
            # Made at the first upload, if its parent allows.
            parent = next((p for p in self.root.parents if p.exists()), Path("."))
            return None if os.access(parent, os.W_OK | os.X_OK) else f"{self.root} does not exist and cannot be made"
        if not self.root.is_dir():
            return f"{self.root} is not a directory"
        if not os.access(self.root, os.W_OK | os.X_OK):
            return f"{self.root} is not writable"
        return None


class S3Store:
    """An S3-compatible bucket through boto3; endpoint and credentials as boto3 finds them
    (AWS_* variables, ~/.aws, an instance role), the endpoint and region also from [attachments]."""

    def __init__(self, url: str, *, endpoint_url: str = "", region: str = "") -> None:
        parts = urlsplit(url)
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.url = url
        import boto3  # only a deployment with an S3 store pays for importing it
        from botocore.config import Config

        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3}),
        )

    def describe(self) -> str:
        return f"bucket {self.url}"

    def _object(self, sha256: str) -> str:
        return f"{self.prefix}/{_key(sha256)}" if self.prefix else _key(sha256)

    def put(self, sha256: str, data: bytes, content_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        key = self._object(sha256)
        try:
            if self._exists(key):
                return
            # One PUT is atomic in S3: the object appears whole or not at all.
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable(f"the attachment store ({self.describe()}) cannot be written: {error}") from None

    def _exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def get(self, sha256: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._object(sha256))
            body: bytes = answer["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise NotFound("the file is missing from the attachment store") from None
            raise StoreUnavailable(f"the attachment store cannot be read: {error}") from None
        except BotoCoreError as error:
            raise StoreUnavailable(f"the attachment store cannot be read: {error}") from None
        return body

    def problem(self) -> str | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as error:
            return f"{self.describe()}: {error}"
        return None


def open_store(settings: Settings) -> BlobStore:
    """The store [attachments] store names (one per configuration and process)."""
    return _open(settings.attachments_store, settings.attachments_s3_endpoint_url, settings.attachments_s3_region)


@functools.lru_cache(maxsize=8)
def _open(location: str, endpoint_url: str, region: str) -> BlobStore:
    if location.startswith("s3://"):
        return S3Store(location, endpoint_url=endpoint_url, region=region)
    return DirectoryStore(Path(location))
