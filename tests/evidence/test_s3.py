"""The S3-compatible backend against a local S3 server (moto's standalone server)."""
import io
import socket
from datetime import timedelta

import boto3
import pytest

from tests.evidence import samples
from tests.evidence.conftest import evidence_count, multipart
from tracker.extensions import db
from tracker.models import Evidence
from tracker.services import evidence, storage


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(app, s3_server, tmp_path, monkeypatch, request):
    """The application stores into a fresh bucket of the local S3 server."""
    bucket = f"evidence-{request.node.name[:20].replace('_', '-').lower()}-{free_port()}"
    config = {"STORAGE_URL": f"s3://{bucket}/tracker", "STORAGE_S3_ENDPOINT_URL": s3_server,
              "STORAGE_S3_REGION": "us-east-1", "STORAGE_S3_ACCESS_KEY_ID": "test",
              "STORAGE_S3_SECRET_ACCESS_KEY": "test", "UPLOAD_FOLDER": str(tmp_path)}
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test").create_bucket(Bucket=bucket)
    backend = storage.from_config(config)
    assert isinstance(backend, storage.S3Storage)
    monkeypatch.setitem(app.extensions, "evidence_storage", backend)
    return backend


def keys(backend) -> list[str]:
    return sorted(o.key for o in backend.list())


def test_s3_backend_puts_reads_lists_and_deletes(s3, tmp_path):
    source = tmp_path / "upload"
    source.write_bytes(b"hello")
    s3.put(source, "1/2-0123456789abcdef")
    assert not source.exists()
    assert s3.exists("1/2-0123456789abcdef")
    assert b"".join(s3.chunks("1/2-0123456789abcdef")) == b"hello"
    assert keys(s3) == ["1/2-0123456789abcdef"]
    s3.delete("1/2-0123456789abcdef")
    assert not s3.exists("1/2-0123456789abcdef") and keys(s3) == []


def test_s3_backend_refuses_keys_not_made_of_ids(s3, tmp_path):
    source = tmp_path / "upload"
    source.write_bytes(b"x")
    with pytest.raises(storage.StorageError):
        s3.put(source, "../../etc/passwd")


def test_upload_and_download_through_s3_are_byte_for_byte(world, s3, api):
    data = samples.pdf()
    caller = api("unit_k1")
    body = caller.post(f"/api/v1/tickets/{world.t1.id}/evidence",
                       **multipart({"file": (data, "整改报告（第二版）.pdf")})).get_json()
    row = db.session.get(Evidence, body["id"])
    assert keys(s3) == [row.storage_key]
    response = caller.get(f"/api/v1/evidence/{body['id']}/download")
    assert response.status_code == 200 and response.get_data() == data
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_failed_commit_removes_the_object_from_s3(world, s3):
    evidence.upload(world.unit_k1, world.t1.id,
                    evidence.Upload(stream=io.BytesIO(samples.pdf()), filename="a.pdf"))
    assert len(keys(s3)) == 1
    db.session.rollback()
    assert keys(s3) == [] and evidence_count() == 0


def test_unreachable_s3_stores_nothing_and_says_so(world, app, api, tmp_path, monkeypatch):
    backend = storage.from_config({
        "STORAGE_URL": "s3://nowhere/tracker", "STORAGE_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "STORAGE_S3_REGION": "us-east-1", "STORAGE_S3_ACCESS_KEY_ID": "test",
        "STORAGE_S3_SECRET_ACCESS_KEY": "test", "UPLOAD_FOLDER": str(tmp_path)})
    backend.client.meta.config.retries = {"max_attempts": 1}
    monkeypatch.setitem(app.extensions, "evidence_storage", backend)
    response = api("unit_k1").post(f"/api/v1/tickets/{world.t1.id}/evidence",
                                   **multipart({"file": (samples.pdf(), "a.pdf")}))
    assert response.status_code == 503
    assert evidence_count() == 0
    assert list((tmp_path / "tracker-evidence-tmp").iterdir()) == []


def test_check_evidence_on_s3_finds_missing_and_orphan_objects(world, s3, tmp_path):
    kept = evidence.upload(world.unit_k1, world.t1.id,
                           evidence.Upload(stream=io.BytesIO(samples.pdf()), filename="a.pdf"))
    lost = evidence.upload(world.unit_k1, world.t1.id,
                           evidence.Upload(stream=io.BytesIO(samples.png()), filename="b.png"))
    db.session.commit()
    s3.delete(lost.storage_key)
    stray = tmp_path / "stray"
    stray.write_bytes(b"stray")
    s3.put(stray, "9/99-00000000000000ff")
    report = evidence.check_integrity(timedelta(0), s3)
    assert [e.id for e in report.missing] == [lost.id]
    assert [o.key for o in report.orphans] == ["9/99-00000000000000ff"]
    assert report.corrupt == [] and report.checked == 2
    assert kept.storage_key in keys(s3)
