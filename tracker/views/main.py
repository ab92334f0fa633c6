"""The landing page and the user's own account."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from tracker.extensions import db
from tracker.forms.auth import ChangePasswordForm
from tracker.models import User
from tracker.services import accounts
from tracker.services.errors import ValidationFailed
from tracker.views.forms import apply_errors
from tracker.views.ui import start_page

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def index():
    target = start_page(current_user)
    if target is not None:
        return redirect(target)
    return render_template("main/index.html")


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = db.session.get(User, current_user.id)
        try:
            accounts.change_password(user, form.current_password.data, form.new_password.data)
        except ValidationFailed as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            logout_user()
            flash(_("Your password was changed. Please log in again."), "success")
            return redirect(url_for("auth.login"))
    return render_template("main/account.html", form=form)
