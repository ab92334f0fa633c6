"""Where evidence bytes live, behind one small interface.

`LocalStorage` keeps files in a folder on the server's disk (the default: UPLOAD_FOLDER,
outside `static/`, never served directly). `S3Storage` keeps them in an S3-compatible
bucket (AWS S3, MinIO, Aliyun OSS, Tencent COS, …) so that several application servers
share them. Both are given a finished local file and a key chosen by the caller from
internal ids; neither ever sees a user's file name.

`put` is all-or-nothing: a local file is fsynced under a temporary name and renamed into
place; an object is uploaded in one request (or a multipart upload that is completed or
aborted as a whole). Configure with STORAGE_URL (see tracker/config.py).
"""
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Iterator, Protocol
from urllib.parse import urlsplit

from flask import Flask, current_app

CHUNK = 256 * 1024
#: Keys are made of ids: "<ticket id>/<evidence id>-<random hex>"; nothing else is accepted.
KEY_PATTERN = re.compile(r"^[0-9]{1,12}/[0-9]{1,12}-[0-9a-f]{8,32}$")


class StorageError(Exception):
    """The backend could not store, read or remove a file (disk full, bucket unreachable)."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    modified_at: datetime


class Storage(Protocol):
    def temp_dir(self) -> Path:
        """A local folder for files being received, before they are put."""

    def put(self, source: Path, key: str) -> None:
        """Store the finished local file under key; the source is consumed (moved or deleted)."""

    def open(self, key: str) -> BinaryIO:
        """A readable binary stream of the stored file."""

    def chunks(self, key: str) -> Iterator[bytes]:
        """The stored file in chunks of bounded size, for streaming responses."""

    def delete(self, key: str) -> None:
        """Remove the stored file; a missing file is not an error."""

    def exists(self, key: str) -> bool: ...

    def list(self) -> Iterator[StoredObject]:
        """Every stored file, for the integrity check (orphans)."""

    def local_path(self, key: str) -> Path | None:
        """The file on local disk when there is one (lets the server send it efficiently)."""


def check_key(key: str) -> str:
    if not KEY_PATTERN.match(key):
        raise StorageError(f"refused storage key {key!r}")
    return key


def fsync_dir(path: Path) -> None:
    """Make a rename inside the folder durable (no-op where folders cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class LocalStorage:
    TEMP = ".tmp"

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()

    def __repr__(self) -> str:
        return f"<LocalStorage {self.root}>"

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if self.root not in path.parents:  # belt and braces: the pattern already forbids it
            raise StorageError(f"refused storage key {key!r}")
        return path

    def temp_dir(self) -> Path:
        folder = self.root / self.TEMP
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def put(self, source: Path, key: str) -> None:
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(source, "rb") as handle:
                os.fsync(handle.fileno())
            # The temporary file is on the same file system, so the rename is atomic: the
            # file appears whole under its final name or not at all.
            os.replace(source, target)
            fsync_dir(target.parent)
        except OSError as error:
            raise StorageError(f"could not store {key}: {error}") from error

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self._path(key), "rb")
        except OSError as error:
            raise StorageError(f"could not read {key}: {error}") from error

    def chunks(self, key: str) -> Iterator[bytes]:
        with self.open(key) as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as error:
            raise StorageError(f"could not remove {key}: {error}") from error

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self) -> Iterator[StoredObject]:
        if not self.root.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(self.root):
            for name in filenames:
                path = Path(dirpath) / name
                stat = path.stat()
                yield StoredObject(
                    key=path.relative_to(self.root).as_posix(), size=stat.st_size,
                    modified_at=datetime.fromtimestamp(stat.st_mtime, timezone.utc))

    def local_path(self, key: str) -> Path | None:
        return self._path(key)


class S3Storage:
    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 region: str | None = None, access_key_id: str | None = None,
                 secret_access_key: str | None = None, addressing_style: str = "path",
                 temp_root: str | Path | None = None):
        import boto3
        from botocore.config import Config as BotoConfig

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._temp_root = Path(temp_root) if temp_root else Path(tempfile.gettempdir())
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=BotoConfig(
                s3={"addressing_style": addressing_style},
                retries={"max_attempts": 3, "mode": "standard"},
                # Many S3-compatible servers reject the newer default checksums.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    def __repr__(self) -> str:
        return f"<S3Storage s3://{self.bucket}/{self.prefix}>"

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def temp_dir(self) -> Path:
        folder = self._temp_root / "tracker-evidence-tmp"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def put(self, source: Path, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.upload_file(str(source), self.bucket, self._key(key),
                                    ExtraArgs={"ContentType": "application/octet-stream"})
        except (BotoCoreError, ClientError, OSError) as error:
            raise StorageError(f"could not store {key}: {error}") from error
        finally:
            Path(source).unlink(missing_ok=True)

    def open(self, key: str) -> BinaryIO:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except (BotoCoreError, ClientError) as error:
            raise StorageError(f"could not read {key}: {error}") from error

    def chunks(self, key: str) -> Iterator[bytes]:
        body = self.open(key)
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (BotoCoreError, ClientError) as error:
            raise StorageError(f"could not remove {key}: {error}") from error

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StorageError(f"could not check {key}: {error}") from error
        return True

    def list(self) -> Iterator[StoredObject]:
        paginator = self.client.get_paginator("list_objects_v2")
        prefix = f"{self.prefix}/" if self.prefix else ""
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                yield StoredObject(key=obj["Key"][len(prefix):], size=obj["Size"],
                                   modified_at=obj["LastModified"])

    def local_path(self, key: str) -> Path | None:
        return None


def from_config(config, static_folder: str | None = None) -> Storage:
    """Build the backend named by STORAGE_URL (empty: the local UPLOAD_FOLDER)."""
    url = config.get("STORAGE_URL") or ""
    parts = urlsplit(url)
    if not url or parts.scheme == "file":
        root = Path(parts.path if url else config["UPLOAD_FOLDER"]).resolve()
        static = Path(static_folder or Path(__file__).resolve().parent.parent / "static")
        static = static.resolve()
        if root == static or static in root.parents:
            raise RuntimeError(f"Evidence must not be stored under the static folder: {root}")
        return LocalStorage(root)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise RuntimeError("STORAGE_URL must name a bucket: s3://bucket/prefix")
        return S3Storage(
            parts.netloc, parts.path,
            endpoint_url=config.get("STORAGE_S3_ENDPOINT_URL"),
            region=config.get("STORAGE_S3_REGION"),
            access_key_id=config.get("STORAGE_S3_ACCESS_KEY_ID"),
            secret_access_key=config.get("STORAGE_S3_SECRET_ACCESS_KEY"),
            addressing_style=config.get("STORAGE_S3_ADDRESSING_STYLE") or "path",
            temp_root=config.get("UPLOAD_FOLDER"),
        )
    raise RuntimeError(f"Unknown STORAGE_URL scheme {parts.scheme!r} (use file:// or s3://)")


def init_app(app: Flask) -> None:
    app.extensions["evidence_storage"] = from_config(app.config, app.static_folder)


def get_storage() -> Storage:
    app = current_app
    if "evidence_storage" not in app.extensions:
        init_app(app)
    return app.extensions["evidence_storage"]
