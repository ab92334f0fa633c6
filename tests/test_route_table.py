"""Every route × every role: the expected status for an object inside the caller's scope and
for one outside it (tests/route_table_data.py says how each route is called).

A route missing from the table fails the suite; an object outside the scope answers 404,
never 200 or 403; nothing answers 500; a refused write changes neither the ticket's version
nor the audit trail."""
from types import SimpleNamespace

import pytest
import time_machine
from flask import session as flask_session
from sqlalchemy import func, select

from tracker.auth import start_session
from tracker.extensions import db
from tracker.models import AuditEvent, Ticket, User
from tracker.services import accounts

from tests import route_table_data as data
from tests.conftest import empty_tables
from tests.route_table_data import ENDPOINTS, ROLES

IGNORED = {"static", "api.openapi_json"}


class World:
    """One world per module and worker, rebuilt only after a call that may have changed it
    (an accepted write); tokens and sessions are made once per world and role."""

    def __init__(self, app):
        self.app = app
        self.ids = None
        self.tokens = {}
        self.sessions = {}

    def current(self):
        if self.ids is None:
            with self.app.test_request_context():
                self.ids = data.build_world()
                db.session.commit()
            self.tokens.clear()
            self.sessions.clear()
        return self.ids

    def spoil(self):
        db.session.rollback()
        empty_tables()
        db.session.remove()
        self.ids = None


@pytest.fixture(scope="module")
def shared(app, tmp_path_factory):
    from tracker.services.storage import LocalStorage
    with time_machine.travel("2026-11-21T02:00:00+00:00", tick=False), app.app_context():
        saved = app.extensions["evidence_storage"]
        app.extensions["evidence_storage"] = LocalStorage(tmp_path_factory.mktemp("rt-files"))
        world = World(app)
        yield world
        app.extensions["evidence_storage"] = saved
        world.spoil()


@pytest.fixture(autouse=True)
def _clean_db(shared):
    """Replaces the suite's cleaning: the module's world stays until a call changes it."""
    with shared.app.app_context():
        yield
        db.session.remove()


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


@pytest.fixture
def caller(app, client, shared):
    """caller(endpoint, role) → a function (method, url, **kwargs) → response, signed in as
    the role: a session cookie for pages, a bearer token for the API (both made by the
    application's own functions, without the deliberately slow password hash)."""
    def make(endpoint: str, role: str):
        shared.current()
        if endpoint.startswith("api."):
            if role not in shared.tokens:
                token, _row = accounts.issue_token(_user(role))
                db.session.commit()
                shared.tokens[role] = token
            headers = {"Authorization": f"Bearer {shared.tokens[role]}"}
        else:
            if role not in shared.sessions:
                with app.test_request_context():
                    start_session(_user(role))
                    shared.sessions[role] = dict(flask_session)
                db.session.commit()
            with client.session_transaction() as session:
                session.clear()
                session.update(shared.sessions[role])
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
    response = call(spec.method, url, **kwargs)
    response.get_data()  # streamed bodies (zip files) run to their end
    response.close()
    return response


SCOPED_ROLES = tuple(r for r in ROLES if r not in ("admin", "office"))  # see part of P only


def expected(endpoint: str, role: str) -> tuple[int, int | None]:
    cell = data.EXPECTED[endpoint].split()[ROLES.index(role)]
    inside, _, outside = cell.partition("/")
    return int(inside), int(outside) if outside else None


def fingerprint():
    """What a refused write must leave alone: every ticket's version and the audit trail."""
    db.session.expire_all()
    versions = dict(db.session.execute(select(Ticket.id, Ticket.version)).all())
    return versions, db.session.scalar(select(func.count(AuditEvent.id)))


def run(app, shared, caller, endpoint, role, side):
    """One call; the shared world is rebuilt afterwards if the call changed it."""
    call = caller(endpoint, role)
    before = fingerprint()
    response = request(app, shared.current(), call, endpoint, role, side)
    after = fingerprint()
    if ENDPOINTS[endpoint].writes and (after != before or endpoint.startswith("admin.")
                                       and response.status_code < 400):
        shared.spoil()
    if endpoint in ("auth.logout", "api.revoke_token"):  # the credentials are spent
        shared.sessions.pop(role, None)
        shared.tokens.pop(role, None)
    return response, before, after


def missing(o):
    return SimpleNamespace(**{k: (v if k == "user" else data.MISSING) for k, v in vars(o).items()})


def test_every_route_of_the_application_is_in_the_table(app):
    routes = {rule.endpoint for rule in app.url_map.iter_rules()} - IGNORED
    assert routes - set(ENDPOINTS) == set(), "routes missing from tests/route_table_data.py"
    assert set(ENDPOINTS) - routes == set(), "table rows for routes that no longer exist"
    assert set(data.EXPECTED) == set(ENDPOINTS)
    for endpoint, row in data.EXPECTED.items():
        assert len(row.split()) == len(ROLES), endpoint
        assert all(("/" in cell) == ENDPOINTS[endpoint].scoped for cell in row.split()), endpoint


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("role", ROLES)
def test_route_answers_the_expected_status_to_each_role(app, shared, caller, endpoint, role):
    inside, outside = expected(endpoint, role)
    response, _, _ = run(app, shared, caller, endpoint, role, "in")
    assert response.status_code == inside, response.get_data(as_text=True)[:300]
    if outside is None:
        return
    response, _, _ = run(app, shared, caller, endpoint, role, "out")
    assert response.status_code == outside, response.get_data(as_text=True)[:300]
    assert response.status_code < 500


@pytest.mark.parametrize("endpoint", sorted(e for e, c in ENDPOINTS.items() if c.scoped))
@pytest.mark.parametrize("role", SCOPED_ROLES)
def test_object_outside_the_scope_answers_like_a_missing_one(app, shared, caller, endpoint,
                                                              role):
    """Never 200, and never a 403 that a missing object would not also get: the caller
    cannot tell another unit's ticket, evidence, finding or inspection from no object."""
    _inside, outside = expected(endpoint, role)
    assert outside == 404 or outside == 403 and _inside == 403, (endpoint, role)
    w = shared.current()
    call = caller(endpoint, role)
    spec = ENDPOINTS[endpoint]
    with app.test_request_context():
        url, kwargs = spec.build(w, missing(w.sides[role]["in"]))
    db.session.remove()
    response = call(spec.method, url, **kwargs)
    response.get_data()
    response.close()
    assert response.status_code == outside


#: The evidence form posts answer 302 both ways (to the ticket, with a flashed message);
#: these are the members' own posts, which are accepted.
ACCEPTED_EVIDENCE_POSTS = {
    *((e, r, "in") for e in ("evidence.upload", "evidence.supersede")
      for r in ("unit_k1", "unit_d1", "unit_k2")),
    ("evidence.withdraw", "unit_k1", "in"), ("evidence.withdraw", "unit_k2", "in"),
}

REFUSED_WRITES = sorted(
    (endpoint, role, side)
    for endpoint, spec in ENDPOINTS.items() if spec.writes
    for role in ROLES
    for side, status in zip(("in", "out"), expected(endpoint, role)) if status is not None
    and (status >= 400 or status == 302 and endpoint.startswith("evidence.")
         and (endpoint, role, side) not in ACCEPTED_EVIDENCE_POSTS))


@pytest.mark.parametrize(("endpoint", "role", "side"), REFUSED_WRITES)
def test_refused_write_leaves_versions_and_audit_trail_unchanged(app, shared, caller, endpoint,
                                                                  role, side):
    status = expected(endpoint, role)[side == "out"]
    response, before, after = run(app, shared, caller, endpoint, role, side)
    assert response.status_code == status
    assert after == before
