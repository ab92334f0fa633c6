"""Login and logout."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from tracker.auth import start_session
from tracker.extensions import db
from tracker.forms.auth import LoginForm
from tracker.models import User
from tracker.security import security_event
from tracker.services import accounts
from tracker.services.demo import demo_accounts_present

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never another host, never a scheme."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//") and "\\" not in target:
            return target
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.username.data, form.password.data,
                                         request.remote_addr or "")
        except accounts.Throttled as error:
            db.session.commit()
            form.username.errors.append(error.message)
            return render_template("auth/login.html", form=form,
                                   demo=demo_accounts_present()), 429
        except accounts.BadCredentials as error:
            db.session.commit()
            form.password.errors.append(error.message)
        else:
            db.session.commit()
            start_session(user)  # a new session at login
            if user.must_change_password:
                flash(_("Please choose a new password before you continue."), "warning")
                return redirect(url_for("main.account"))
            return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form, demo=demo_accounts_present())


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    user = db.session.get(User, current_user.id)
    user.end_all_sessions()  # every session of the user, on every device
    db.session.commit()
    security_event("logout", username=user.username)
    lang = session.get("lang")  # the language chosen stays chosen (also in its cookie)
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))
