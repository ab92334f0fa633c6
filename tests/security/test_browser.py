"""Browser protections: CSRF on every form, no change over GET, headers on every response,
no-store on logged-in pages, trusted hosts, production refuses insecure settings, demo
accounts only in a demo database (ASVS 3.3, 3.4, 13.4.2, 14.3.2, 6.3.2)."""
import hashlib
import re

import pytest
from flask import url_for
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from tests import factories
from tracker import create_app
from tracker.config import TestConfig, engine_options
from tracker.extensions import db
from tracker.models import Notification, Setting, User

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

#: GET routes that change something on purpose, each with its reason: none. (Opening a
#: notification marks it read, so it is a form posted with its CSRF token.)
GET_CHANGES_ALLOWED: set[str] = set()


def page_rules(app, methods):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static" or rule.endpoint.startswith("api."):
            continue
        if rule.methods & methods:
            yield rule


def ids_of(world) -> dict[str, object]:
    notification_id = db.session.scalar(select(Notification.id).limit(1))
    return {"ticket_id": world.t1.id, "inspection_id": world.inspection.id,
            "finding_id": world.finding.id, "unit_id": world.k1.id, "user_id": world.unit_k1.id,
            "category_id": world.category.id, "notification_id": notification_id or 1,
            "evidence_id": 1, "delivery_id": 1, "urging_id": 1, "day": "2026-10-01",
            "action": "acknowledge"}


def url_of(app, rule, ids) -> str:
    values = {}
    for name, converter in rule._converters.items():
        value = ids.get(name)
        values[name] = value if value is not None else (
            1 if isinstance(converter, IntegerConverter) else "x")
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def fingerprint() -> str:
    """A digest of every row of every table."""
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
        digest.update(f"{table.name}:{[tuple(r) for r in rows]!r}".encode())
    return digest.hexdigest()


# --- CSRF ---------------------------------------------------------------------------------

def test_login_form_without_csrf_token_is_refused(world, client, csrf_on):
    response = client.post("/login", data={"username": "admin",
                                           "password": factories.PASSWORD})
    assert response.status_code == 400


def test_every_state_changing_form_refuses_a_post_without_csrf_token(
        world, app, login, config_override):
    client = login("admin")
    config_override(WTF_CSRF_ENABLED=True)
    ids = ids_of(world)
    before = fingerprint()
    checked = []
    for rule in page_rules(app, WRITE_METHODS):
        url = url_of(app, rule, ids)
        for method in sorted(rule.methods & WRITE_METHODS):
            response = client.open(url, method=method, data={"title": "x", "reason": "x"})
            assert response.status_code == 400, (method, url, response.status_code)
            checked.append(rule.endpoint)
    assert fingerprint() == before
    assert len(set(checked)) >= 30  # the walk really covered the forms


def test_a_form_posted_with_its_csrf_token_is_accepted(world, login, config_override):
    client = login("unit_k1")
    config_override(WTF_CSRF_ENABLED=True)
    page = client.get("/account").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, "the account form carries a CSRF token"
    response = client.post("/account", data={"csrf_token": token.group(1),
                                             "current_password": "wrong",
                                             "new_password": "whatever new 2026"})
    assert response.status_code == 200  # the form ran (and refused the wrong password)


# --- no change over GET -------------------------------------------------------------------

#: The walks are about state and headers; a library's deprecation notice in some page is
#: not what they test (filterwarnings=error would turn it into a 500).
walk = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@walk
@pytest.mark.parametrize("username", ["admin", "office", "unit_k1"])
def test_no_page_changes_anything_over_get(world, app, login, username):
    client = login(username)
    ids = ids_of(world)
    visited = 0
    for rule in page_rules(app, {"GET"}):
        if rule.endpoint in GET_CHANGES_ALLOWED or rule.endpoint == "auth.login":
            continue
        before = fingerprint()
        response = client.get(url_of(app, rule, ids))
        response.close()  # streamed downloads hold a temporary file until closed
        assert response.status_code < 500, rule.rule
        db.session.expire_all()
        assert fingerprint() == before, f"GET {rule.rule} changed the database"
        visited += 1
    assert visited >= 35


def test_every_form_route_also_answering_get_is_in_the_walk(app):
    mixed = [r.endpoint for r in page_rules(app, {"GET"}) if r.methods & WRITE_METHODS]
    assert "main.account" in mixed and "tickets.edit" in mixed
    assert not set(mixed) & GET_CHANGES_ALLOWED


# --- headers ------------------------------------------------------------------------------

def assert_security_headers(response):
    csp = response.headers["Content-Security-Policy"]
    for part in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'",
                 "default-src 'self'"):
        assert part in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer",
                                                   "strict-origin-when-cross-origin")


def test_security_headers_on_pages_errors_api_and_static(world, client, login):
    anonymous = [client.get("/login"), client.get("/no-such-page"),
                 client.get("/api/v1/openapi.json"), client.get("/api/v1/tickets"),
                 client.get("/static/css/app.css"), client.post("/logout")]
    logged_in = login("unit_k1")
    pages = [logged_in.get("/tickets"), logged_in.get(f"/tickets/{world.t2.id}"),
             logged_in.get("/admin/users")]
    for response in anonymous + pages:
        response.close()
        assert_security_headers(response)


def test_inline_scripts_carry_the_nonce_of_the_policy(world, login):
    response = login("office").get("/dashboard")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    page = response.get_data(as_text=True)
    scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page)
    assert all(f'nonce="{nonce}"' in attrs for attrs in scripts)
    assert login("office").get("/dashboard").headers["Content-Security-Policy"] != \
        response.headers["Content-Security-Policy"]  # a new nonce per response


def test_hsts_only_under_https(world, client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://localhost")
    assert "max-age=" in secure.headers["Strict-Transport-Security"]


@walk
@pytest.mark.parametrize("username", ["admin", "office", "unit_k1"])
def test_every_logged_in_page_is_no_store(world, app, login, username):
    client = login(username)
    ids = ids_of(world)
    for rule in page_rules(app, {"GET"}):
        if rule.endpoint in GET_CHANGES_ALLOWED:
            continue
        response = client.get(url_of(app, rule, ids))
        response.close()
        assert "no-store" in response.headers.get("Cache-Control", ""), rule.rule


def test_api_answers_are_no_store(world, api):
    response = api("unit_k1").get("/api/v1/tickets")
    assert response.headers["Cache-Control"] == "no-store"


# --- hosts, production, demo --------------------------------------------------------------

def test_untrusted_host_header_is_refused(world, client, config_override):
    config_override(TRUSTED_HOSTS=["tracker.example.gov.cn"])
    assert client.get("/login", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/login", base_url="http://tracker.example.gov.cn").status_code == 200


def production_config(**values):
    base = {"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options("sqlite://"),
            "SECRET_KEY": "k3Q9-real-secret-with-enough-entropy-0123456789",
            "TESTING": False, "DEBUG": False}
    base.update(values)
    return base


@pytest.mark.parametrize("secret", ["", "dev", "change-me", "short-but-random-7f3a"])
def test_production_refuses_to_start_without_a_real_secret_key(secret):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(production_config(SECRET_KEY=secret))


def test_production_refuses_to_start_in_debug_mode():
    with pytest.raises(RuntimeError, match="Debug"):
        create_app(production_config(DEBUG=True))


def test_production_sends_cookies_only_over_https(monkeypatch):
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    app = create_app(production_config())
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert not app.debug


def test_production_never_loads_the_demo():
    class Production(TestConfig):
        ENV_NAME = "production"
        SECRET_KEY = "k3Q9-real-secret-with-enough-entropy-0123456789"
        SQLALCHEMY_DATABASE_URI = "sqlite://"
        SQLALCHEMY_ENGINE_OPTIONS = engine_options("sqlite://")

    app = create_app(Production)
    with app.app_context():
        db.create_all()
        result = app.test_cli_runner().invoke(args=["load-demo"])
        assert result.exit_code != 0
        assert db.session.scalar(select(User.id).limit(1)) is None
        db.session.remove()
        db.engine.dispose()


def test_demo_accounts_are_shown_only_in_a_demo_database(world, client):
    page = client.get("/login").get_data(as_text=True)
    assert "<code>admin</code>" not in page
    db.session.add(Setting(key="demo", value="1"))
    db.session.commit()
    assert "<code>admin</code>" in client.get("/login").get_data(as_text=True)


def test_a_production_installation_starts_with_no_account_until_one_is_made_on_the_command_line(
        tmp_path):
    class Production(TestConfig):
        ENV_NAME = "production"
        SECRET_KEY = "k3Q9-real-secret-with-enough-entropy-0123456789"
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'production.sqlite3'}"
        SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    app = create_app(Production)
    runner = app.test_cli_runner()
    with app.app_context():
        try:
            assert runner.invoke(args=["init-db"]).exit_code == 0  # the migrations
            assert db.session.scalar(select(User.id).limit(1)) is None  # no default account
            client = app.test_client()
            for name, password in (("admin", "demo-2026"), ("admin", "admin")):
                response = client.post("/login", data={"username": name, "password": password})
                assert response.status_code != 302
            assert runner.invoke(args=["create-unit", "--code", "62", "--name", "甘肃省",
                                       "--kind", "province"]).exit_code == 0
            result = runner.invoke(args=["create-user", "--username", "chief", "--name",
                                         "王主任", "--unit", "62"])
            assert result.exit_code == 0, result.output
            [admin] = db.session.scalars(select(User)).all()
            assert admin.role.value == "admin" and admin.must_change_password
        finally:
            db.session.remove()
            db.engine.dispose()
