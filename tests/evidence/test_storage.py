"""Storage configuration: a local folder outside static/, or S3; keys made of ids only."""
from pathlib import Path

import pytest

from tracker import create_app
from tracker.config import Config, TestConfig
from tracker.services import storage


def test_default_folder_is_outside_the_static_folder():
    static = (Path(storage.__file__).resolve().parent.parent / "static").resolve()
    root = Path(Config.UPLOAD_FOLDER).resolve()
    assert static not in root.parents and root != static


def test_application_refuses_to_start_with_evidence_under_static(tmp_path):
    class UnderStatic(TestConfig):
        UPLOAD_FOLDER = str(Path(storage.__file__).resolve().parent.parent / "static" / "uploads")

    with pytest.raises(RuntimeError, match="static"):
        create_app(UnderStatic)


def test_unknown_storage_scheme_is_refused():
    with pytest.raises(RuntimeError, match="STORAGE_URL"):
        storage.from_config({"STORAGE_URL": "ftp://example.org/x", "UPLOAD_FOLDER": "/tmp"})


def test_file_url_names_the_local_folder(tmp_path):
    backend = storage.from_config({"STORAGE_URL": f"file://{tmp_path}/files", "UPLOAD_FOLDER": "/x"})
    assert isinstance(backend, storage.LocalStorage) and backend.root == tmp_path / "files"


@pytest.mark.parametrize("key", ["../etc/passwd", "/etc/passwd", "1/2-abc/../../x", "1/整改.pdf",
                                 "1/2-0123456789abcdef\x00", ""])
def test_local_storage_refuses_keys_not_made_of_ids(tmp_path, key):
    backend = storage.LocalStorage(tmp_path)
    source = tmp_path / "upload"
    source.write_bytes(b"x")
    with pytest.raises(storage.StorageError):
        backend.put(source, key)
    assert source.exists()


def test_local_put_moves_the_file_into_place(tmp_path):
    backend = storage.LocalStorage(tmp_path / "store")
    source = backend.temp_dir() / "upload"
    source.write_bytes(b"content")
    backend.put(source, "7/8-0123456789abcdef")
    assert not source.exists()
    assert (tmp_path / "store" / "7" / "8-0123456789abcdef").read_bytes() == b"content"
    assert [o.key for o in backend.list()] == ["7/8-0123456789abcdef"]
