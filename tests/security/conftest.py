"""Helpers for the security tests."""
import os

import pytest

from tracker.extensions import db
from tracker.models import User


def pytest_configure(config):
    config.addinivalue_line("markers", "faults: fault-injection tests (slow; make test-faults)")


def pytest_collection_modifyitems(config, items):
    """Fault tests run only under `make test-faults` (RUN_FAULT_TESTS=1)."""
    if os.environ.get("RUN_FAULT_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="fault test: run with `make test-faults`")
    for item in items:
        if "faults" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def csrf_on(app):
    """CSRF protection as in production (the suite's config turns it off)."""
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def config_override(app):
    """Set app.config keys for one test: config_override(KEY=value)."""
    saved = {}

    def set_(**values):
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key))
            app.config[key] = value
    yield set_
    app.config.update(saved)


def fresh(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def copy_session_cookie(source, target) -> None:
    cookie = source.get_cookie("session")
    assert cookie is not None, "no session cookie to copy"
    target.set_cookie("session", cookie.value)
