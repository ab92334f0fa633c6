"""Every route × every role: the expected status for an object inside the caller's scope and
for one outside it (tests/route_table_data.py says how each route is called).

A route missing from the table fails the suite; an object outside the scope answers 404,
never 200 or 403; nothing answers 500; a refused write changes neither the ticket's version
nor the audit trail."""
import pytest
from flask import session as flask_session
from sqlalchemy import func, select

from tracker.auth import start_session
from tracker.extensions import db
from tracker.models import AuditEvent, Ticket, User
from tracker.services import accounts

from tests import route_table_data as data
from tests.route_table_data import ENDPOINTS, ROLES

IGNORED = {"static", "api.openapi_json"}


@pytest.fixture
def rt_world(app, frozen_today, tmp_path, monkeypatch):
    from tracker.services.storage import LocalStorage
    monkeypatch.setitem(app.extensions, "evidence_storage", LocalStorage(tmp_path / "uploads"))
    with app.test_request_context():
        w = data.build_world()
        db.session.commit()
    return w


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


@pytest.fixture
def caller(app, client):
    """caller(endpoint, role) → a function (method, url, **kwargs) → response, signed in as
    the role: a session cookie for pages, a bearer token for the API (both made by the
    application's own functions, without the deliberately slow password hash)."""
    def make(endpoint: str, role: str):
        if endpoint.startswith("api."):
            token, _row = accounts.issue_token(_user(role))
            db.session.commit()
            headers = {"Authorization": f"Bearer {token}"}
        else:
            with app.test_request_context():
                start_session(_user(role))
                values = dict(flask_session)
            with client.session_transaction() as session:
                session.clear()
                session.update(values)
            headers = {}

        def call(method, url, **kwargs):
            return client.open(url, method=method, headers=headers, **kwargs)
        return call
    return make


def request(app, w, call, endpoint, role, side):
    spec = ENDPOINTS[endpoint]
    with app.test_request_context():
        url, kwargs = spec.build(w, w.sides[role][side])
    db.session.remove()
    return call(spec.method, url, **kwargs)


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("role", ROLES)
def test_discover(app, rt_world, caller, endpoint, role):
    import json
    call = caller(endpoint, role)
    out = {}
    for side in (("in", "out") if ENDPOINTS[endpoint].scoped else ("in",)):
        r = request(app, rt_world, call, endpoint, role, side)
        out[side] = r.status_code
        if r.status_code >= 500:
            out[side + "_body"] = r.get_data(as_text=True)[:300]
    with open(f"/tmp/rt/obs/{endpoint}__{role}.json", "w") as f:
        json.dump(out, f)
