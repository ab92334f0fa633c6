"""Session login through Flask-Login. The cookie carries the user's session token, so
rotating the token (logout, password change, deactivation) ends every session."""
import time

from flask import Flask, session
from flask_login import current_user, logout_user

from tracker.extensions import db, login_manager
from tracker.models import User


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    ident, _, token = user_id.partition(":")
    if not ident.isdigit():
        return None
    user = db.session.get(User, int(ident))
    if user is None or not user.is_active or user.session_token != token:
        return None
    return user


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"

    @app.before_request
    def enforce_session_lifetime():
        session.permanent = True  # idle timeout: PERMANENT_SESSION_LIFETIME, renewed per request
        started = session.get("login_at")
        limit = app.config["SESSION_ABSOLUTE_HOURS"] * 3600
        if current_user.is_authenticated and (started is None or time.time() - started > limit):
            logout_user()
            session.clear()
