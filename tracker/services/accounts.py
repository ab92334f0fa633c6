"""Accounts: authentication with throttling, passwords, users and API tokens."""
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.extensions import db
from tracker.models import ApiToken, LoginAttempt, Role, Unit, User
from tracker.security import security_event
from tracker.services import audit, clock
from tracker.services.errors import DomainError, Forbidden, NotFound, ValidationFailed

#: Failed attempts allowed per account, and per address, within the window.
MAX_FAILURES = 10
WINDOW = timedelta(minutes=15)
#: No composition rules; long passphrases welcome; never truncated (scrypt hashes it all).
MIN_PASSWORD = 8
MAX_PASSWORD = 128


def _load_common_passwords() -> frozenset[str]:
    """The ~10,000 most common passwords (see the file's header for its sources)."""
    text = (Path(__file__).resolve().parent / "common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


COMMON_PASSWORDS = _load_common_passwords()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Checked when the user name is unknown, so that the answer takes as long as for a
    known user (no user-name discovery by timing)."""
    return generate_password_hash(secrets.token_hex(16), method="scrypt")


class Throttled(DomainError):
    status_code = 429
    code = "throttled"


class BadCredentials(DomainError):
    status_code = 401
    code = "unauthorized"


def _failures_since(since: datetime, *conditions) -> int:
    return db.session.scalar(select(func.count(LoginAttempt.id)).where(
        LoginAttempt.is_success.is_(False), LoginAttempt.created_at >= since, or_(*conditions)))


def authenticate(username: str, password: str, remote_addr: str) -> User:
    """The user, if the password is right and neither the account nor the address is throttled.

    Every attempt is recorded in the database, so the limit holds across workers: after
    MAX_FAILURES failures for one user name, or from one address, within WINDOW, attempts
    are refused (without checking the password, and without being counted) until the
    oldest failure leaves the window. An attacker can slow a user down, never lock them out."""
    username = (username or "").strip()[:80]
    remote_addr = (remote_addr or "")[:64]
    now = clock.now_utc()
    since = now - WINDOW
    if (_failures_since(since, LoginAttempt.username == username) >= MAX_FAILURES
            or _failures_since(since, LoginAttempt.remote_addr == remote_addr) >= MAX_FAILURES):
        security_event("login.throttled", logging.WARNING, username=username, addr=remote_addr)
        raise Throttled(_("Too many failed attempts. Please try again in 15 minutes."))
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_dummy_hash(), password or "")
        ok = False
    else:
        ok = user.check_password(password or "") and user.is_active
    db.session.add(LoginAttempt(username=username, remote_addr=remote_addr, is_success=ok,
                                created_at=now))
    security_event("login.success" if ok else "login.failure",
                   logging.INFO if ok else logging.WARNING, username=username,
                   addr=remote_addr, known_user=user is not None,
                   active=bool(user and user.is_active))
    if not ok:
        raise BadCredentials(_("Wrong user name or password."))
    return user


def check_password_rules(password: str, field: str = "password", username: str = "") -> None:
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(_("At least %(n)s characters.", n=MIN_PASSWORD))
    if len(password) > MAX_PASSWORD:
        problems.append(_("At most %(n)s characters.", n=MAX_PASSWORD))
    if password.strip().lower() in COMMON_PASSWORDS:
        problems.append(_("This password is too common; choose another."))
    elif username and password.strip().lower() == username.strip().lower():
        problems.append(_("The password must not be the user name."))
    if problems:
        raise ValidationFailed(_("Please choose a different password."), {field: problems})


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current or ""):
        raise ValidationFailed(_("Please correct the highlighted fields."),
                               {"current_password": [_("The current password is wrong.")]})
    check_password_rules(new or "", "new_password", user.username)
    if user.check_password(new):
        raise ValidationFailed(_("Please correct the highlighted fields."),
                               {"new_password": [_("Choose a password different from the "
                                                   "current one.")]})
    user.set_password(new)
    user.must_change_password = False
    end_every_session(user)
    audit.record(user, "user.change_password", "user", user.id)
    security_event("password.change", username=user.username)


def end_every_session(user: User) -> None:
    """Log the user out everywhere: every browser session (the cookie's token no longer
    matches) and every API token."""
    user.end_all_sessions()
    db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id,
                                              ApiToken.revoked_at.is_(None))
                       .values(revoked_at=clock.now_utc()))


@dataclass(frozen=True)
class UserDraft:
    username: str
    full_name: str
    role: Role
    unit_id: int
    scope_unit_id: int | None = None
    email: str | None = None
    phone: str | None = None


def create_user(actor: User | None, draft: UserDraft) -> tuple[User, str]:
    """A new account with a one-time password, which must be changed at first login.
    `actor` None is the command line (the first administrator of an installation)."""
    if actor is not None and actor.role != Role.ADMIN:
        raise Forbidden(_("Only an administrator manages users."))
    errors = {}
    username = draft.username.strip()
    if not username or len(username) > 80:
        errors["username"] = [_("Between 1 and 80 characters.")]
    elif db.session.scalar(select(User.id).where(User.username == username)):
        errors["username"] = [_("This user name is taken.")]
    if not draft.full_name.strip():
        errors["full_name"] = [_("This field is required.")]
    if db.session.get(Unit, draft.unit_id) is None:
        errors["unit_id"] = [_("Unknown unit.")]
    if draft.role in (Role.OFFICE, Role.SUPERVISOR):
        if draft.scope_unit_id is None or db.session.get(Unit, draft.scope_unit_id) is None:
            errors["scope_unit_id"] = [_("Office and supervisor accounts need a scope.")]
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), errors)
    one_time = secrets.token_urlsafe(12)
    user = User(username=username, full_name=draft.full_name.strip(), role=draft.role,
                unit_id=draft.unit_id,
                scope_unit_id=draft.scope_unit_id if draft.role in (
                    Role.OFFICE, Role.SUPERVISOR) else None,
                email=draft.email, phone=draft.phone, must_change_password=True)
    user.set_password(one_time)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", "user", user.id,
                 after={"username": user.username, "role": user.role.value,
                        "unit_id": user.unit_id, "scope_unit_id": user.scope_unit_id})
    return user, one_time


def reset_password(actor: User | None, user_id: int) -> str:
    """A new one-time password; `actor` None is the command line."""
    if actor is not None and actor.role != Role.ADMIN:
        raise Forbidden(_("Only an administrator manages users."))
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("User not found."))
    one_time = secrets.token_urlsafe(12)
    user.set_password(one_time)
    user.must_change_password = True
    end_every_session(user)
    audit.record(actor, "user.reset_password", "user", user.id)
    security_event("password.reset", username=user.username,
                   by=actor.username if actor else "command line")
    return one_time


def set_active(actor: User | None, user_id: int, active: bool) -> User:
    """`actor` None is the command line."""
    if actor is not None and actor.role != Role.ADMIN:
        raise Forbidden(_("Only an administrator manages users."))
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("User not found."))
    if actor is not None and user.id == actor.id and not active:
        raise ValidationFailed(_("You cannot deactivate yourself."), {})
    before = user.is_active_user
    user.is_active_user = active
    if not active:
        end_every_session(user)
    security_event("user.activate" if active else "user.deactivate", username=user.username,
                   by=actor.username if actor else "command line")
    audit.record(actor, "user.activate" if active else "user.deactivate", "user", user.id,
                 before={"is_active": before}, after={"is_active": active})
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, ApiToken]:
    if user.must_change_password:
        raise Forbidden(_("Change your one-time password on the account page before "
                          "using the API."))
    token = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=_token_hash(token),
                   expires_at=clock.now_utc() + timedelta(
                       hours=current_app.config["API_TOKEN_HOURS"]))
    db.session.add(row)
    return token, row


def user_for_token(token: str) -> tuple[User, ApiToken] | None:
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if (row is None or row.revoked_at is not None or row.expires_at <= clock.now_utc()
            or not row.user.is_active or row.user.must_change_password):
        return None
    return row.user, row


def revoke_token(row: ApiToken) -> None:
    row.revoked_at = clock.now_utc()


# --- editing users (admin pages) --------------------------------------------------------

@dataclass(frozen=True)
class UserChanges:
    """What an administrator may change about an account; never its password."""

    full_name: str
    role: Role
    unit_id: int
    scope_unit_id: int | None = None
    email: str | None = None
    phone: str | None = None


def update_user(actor: User, user_id: int, changes: UserChanges) -> User:
    """Change a user's name, contacts, role, unit or scope. A change of role, unit or scope
    ends the user's sessions, so that the new rights apply from the next login."""
    if actor.role != Role.ADMIN:
        raise Forbidden(_("Only an administrator manages users."))
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("User not found."))
    errors: dict[str, list[str]] = {}
    full_name = (changes.full_name or "").strip()
    if not full_name or len(full_name) > 100:
        errors["full_name"] = [_("Between 1 and 100 characters.")]
    try:
        role = Role(changes.role)
    except ValueError:
        errors["role"] = [_("Not one of the allowed values.")]
        role = user.role
    if user.id == actor.id and role != Role.ADMIN:
        errors["role"] = [_("You cannot take away your own administrator role.")]
    unit = db.session.get(Unit, changes.unit_id) if changes.unit_id is not None else None
    if unit is None or (not unit.is_active and unit.id != user.unit_id):
        errors["unit_id"] = [_("Choose an active unit.")]
    scope_id = changes.scope_unit_id if role in (Role.OFFICE, Role.SUPERVISOR) else None
    if role in (Role.OFFICE, Role.SUPERVISOR) and (
            scope_id is None or db.session.get(Unit, scope_id) is None):
        errors["scope_unit_id"] = [_("Office and supervisor accounts need a scope.")]
    email = (changes.email or "").strip() or None
    if email is not None and (len(email) > 200 or "@" not in email.strip("@")
                              or any(ch.isspace() for ch in email)):
        errors["email"] = [_("Enter a valid e-mail address.")]
    phone = (changes.phone or "").strip() or None
    if phone is not None and len(phone) > 40:
        errors["phone"] = [_("At most %(n)s characters.", n=40)]
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), errors)
    fields = ("full_name", "role", "unit_id", "scope_unit_id", "email", "phone")
    before = {name: getattr(user, name) for name in fields}
    user.full_name, user.role, user.unit_id = full_name, role, unit.id
    user.scope_unit_id, user.email, user.phone = scope_id, email, phone
    after = {name: getattr(user, name) for name in fields}
    if after != before:
        if any(before[k] != after[k] for k in ("role", "unit_id", "scope_unit_id")):
            end_every_session(user)
        db.session.flush()
        audit.record(actor, "user.update", "user", user.id, before=before, after=after)
    return user
