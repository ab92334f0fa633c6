"""Fixtures for the evidence tests: a fresh storage folder per test, upload helpers."""
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tracker.extensions import db
from tracker.models import Evidence, User
from tracker.services import accounts
from tracker.services.storage import LocalStorage

from tests.evidence import samples


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


@pytest.fixture
def api(client):
    """The suite's `api` fixture without the deliberately slow password hash: tokens are
    issued by the service directly (the token endpoint has its own tests)."""
    class Caller:
        def __init__(self, token):
            self.headers = {"Authorization": f"Bearer {token}"}

        def __getattr__(self, method):
            def call(url, **kwargs):
                headers = {**self.headers, **kwargs.pop("headers", {})}
                return getattr(client, method)(url, headers=headers, **kwargs)
            return call

    def for_user(username):
        token, _row = accounts.issue_token(_user(username))
        db.session.commit()
        return Caller(token)
    return for_user


@pytest.fixture
def login(app, client):
    """A logged-in page session for the user, made by the application's own
    `start_session`, without the deliberately slow password hash (see `api`)."""
    from flask import session as flask_session

    from tracker.auth import start_session

    def do(username):
        with app.test_request_context():
            start_session(_user(username))
            data = dict(flask_session)
        with client.session_transaction() as session:
            session.clear()
            session.update(data)
        return client
    return do


@pytest.fixture
def store(app, tmp_path, monkeypatch) -> LocalStorage:
    """Each test stores into its own empty folder, so "nothing stored" can be checked."""
    backend = LocalStorage(tmp_path / "uploads")
    monkeypatch.setitem(app.extensions, "evidence_storage", backend)
    return backend


def stored_files(backend: LocalStorage) -> list[Path]:
    """Every file in the storage folder, temporary ones included."""
    if not backend.root.exists():
        return []
    return sorted(p for p in backend.root.rglob("*") if p.is_file())


def evidence_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Evidence.id)))


def multipart(fields: dict) -> dict:
    """Keyword arguments for a test-client post of a multipart body built in memory (the
    client's own encoder spools large bodies to temporary files it never closes).

    Values: text, (bytes, filename), or a list of those for repeated fields."""
    values = MultiDict()
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            if isinstance(one, tuple):
                data, filename = one
                one = FileStorage(io.BytesIO(data), filename=filename, name=name,
                                  content_type="application/octet-stream")
            values.add(name, one)
    boundary, body = encode_multipart(values)
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


@pytest.fixture
def post_file(api):
    """post_file(username, ticket_id, data, name, **fields) through the API."""
    callers = {}

    def do(username, ticket_id, data=None, name="整改报告.pdf", **fields):
        if username not in callers:
            callers[username] = api(username)
        body = {"file": (samples.pdf() if data is None else data, name), **fields}
        return callers[username].post(f"/api/v1/tickets/{ticket_id}/evidence",
                                      **multipart(body))
    return do
