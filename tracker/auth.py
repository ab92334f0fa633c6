"""Session login through Flask-Login. The cookie carries the user's session token, so
rotating the token (logout, password change, deactivation) ends every session.

Before every request: a session idle longer than PERMANENT_SESSION_LIFETIME
(SESSION_IDLE_MINUTES) or older than SESSION_ABSOLUTE_HOURS ends; a user who must
change a one-time password is sent to the account page whatever they ask for.

`prune_login_attempts` drops the throttling rows that no longer count (older than the
window); the scheduler runs it every quarter of an hour, `flask prune-login-attempts`
on demand or from cron."""
import time
from datetime import datetime, timedelta

from flask import Flask, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from sqlalchemy import delete

from tracker.extensions import db, login_manager
from tracker.models import LoginAttempt, User
from tracker.prepared_statements import PREPARED
from tracker.security import security_event

#: What a user with a one-time password may still reach: the page where it is changed,
#: logging out, static files and the language switch.
OPEN_WHILE_CHANGING_PASSWORD = {"main.account", "auth.logout", "auth.login", "static"}


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    ident, _sep, token = user_id.partition(":")
    if not ident.isdigit() or not token:
        return None
    user = db.session.get(User, int(ident), execution_options=PREPARED)
    if user is None or not user.is_active or user.session_token != token:
        return None
    return user


def start_session(user: User) -> None:
    """A new session for a user who just proved who they are: nothing of the session
    before login survives (no fixation), and its clocks start now."""
    from flask_login import login_user

    lang = session.get("lang")  # the language picked on the login page stays chosen
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(user)
    now = time.time()
    session["login_at"] = now
    session["seen_at"] = now


def prune_login_attempts(now: datetime | None = None, keep: timedelta | None = None) -> int:
    """Delete the login attempts older than `keep` (at least the throttling window, so
    that no attempt that still counts is ever removed); returns how many. Each attempt
    stays in the security log. Does not commit."""
    from tracker.services import accounts, clock

    keep = accounts.WINDOW if keep is None else max(keep, accounts.WINDOW)
    cutoff = (now or clock.now_utc()) - keep
    result = db.session.execute(
        delete(LoginAttempt).where(LoginAttempt.created_at < cutoff),
        execution_options={"synchronize_session": False})
    return result.rowcount or 0


def _end_session(reason: str) -> None:
    security_event("session.end", reason=reason,
                   username=getattr(current_user, "username", None))
    logout_user()
    session.clear()


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"

    @app.before_request
    def forget_cached_user():
        # Flask-Login caches the user on `g`; each request reads its own cookie again
        # (several requests share one application context in tests).
        g.pop("_login_user", None)

    @app.before_request
    def enforce_session_lifetime():
        if request.blueprint == "api" or request.endpoint == "static":
            return None  # the API authenticates with bearer tokens, never the cookie
        session.permanent = True  # the cookie expires after the idle time, renewed per request
        if not current_user.is_authenticated:
            return None
        now = time.time()
        started, seen = session.get("login_at"), session.get("seen_at")
        idle = app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
        absolute = app.config["SESSION_ABSOLUTE_HOURS"] * 3600
        if started is None or seen is None or now - started > absolute:
            _end_session("absolute_lifetime")
        elif now - seen > idle:
            _end_session("idle_timeout")
        else:
            session["seen_at"] = now
        return None

    @app.before_request
    def require_password_change():
        if request.blueprint == "api" or not current_user.is_authenticated:
            return None
        if current_user.must_change_password and \
                request.endpoint not in OPEN_WHILE_CHANGING_PASSWORD:
            flash(_("Please choose a new password before you continue."), "warning")
            return redirect(url_for("main.account"))
        return None
