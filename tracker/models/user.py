"""Users, their API tokens and login attempts."""
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Index, String, func, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.models.base import Base, UTCDateTime, shared_alias, utcnow
from tracker.models.enums import Role, enum_column
from tracker.models.unit import Unit


_ROOT = shared_alias(Unit, name="root_units")


def new_session_token() -> str:
    return secrets.token_hex(16)


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    #: The unit the person works for.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    #: Office and supervisor: the subtree they oversee. Ignored for other roles.
    scope_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    #: Must choose a new password at next login (new or reset accounts).
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Part of the login cookie: changing it ends every session of the user.
    session_token: Mapped[str] = mapped_column(String(32), default=new_session_token)
    is_active_user: Mapped[bool] = mapped_column("is_active", Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id], lazy="joined")
    scope_unit: Mapped[Unit | None] = relationship(foreign_keys=[scope_unit_id], lazy="joined")
    #: How many root units the tree has, read in the same statement as the user:
    #: `scoping.covers_everything` (an office over the only root needs no scope clause).
    root_count: Mapped[int] = column_property(
        select(func.count()).select_from(_ROOT).where(_ROOT.parent_id.is_(None))
        .scalar_subquery(), deferred=False)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.is_active_user

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def end_all_sessions(self) -> None:
        self.session_token = new_session_token()

    @property
    def oversees(self) -> bool:
        return self.role in (Role.OFFICE, Role.SUPERVISOR)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class ApiToken(Base):
    """Bearer tokens for the JSON API; only a hash of the token is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class LoginAttempt(Base):
    """Every login attempt, kept in the database so throttling holds across workers."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    remote_addr: Mapped[str] = mapped_column(String(64))
    is_success: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_login_attempts_username_created", "username", "created_at"),
        Index("ix_login_attempts_addr_created", "remote_addr", "created_at"),
    )
