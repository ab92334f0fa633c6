"""Declarative base shared by every model: constraint names, aware UTC datetimes."""
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from weakref import WeakSet

from sqlalchemy import DateTime, MetaData, TypeDecorator, inspect
from sqlalchemy.orm import DeclarativeBase, aliased
from sqlalchemy.orm.util import AliasedClass

#: Stable constraint names, so that migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, hands back aware UTC; refuses naive datetimes going in."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


#: Set while history is replayed (the demo loader): "now" is that moment instead.
_replayed_now: ContextVar[datetime | None] = ContextVar("replayed_now", default=None)


def utcnow() -> datetime:
    return _replayed_now.get() or datetime.now(timezone.utc)


@contextmanager
def replaying_at(moment: datetime) -> Iterator[None]:
    """Run a block as if it were `moment` (aware): every timestamp the services and the
    column defaults write, and "today", follow it. Used to replay a believable history
    through the real services instead of rewriting rows afterwards."""
    if moment.tzinfo is None:
        raise ValueError("replaying_at needs an aware datetime")
    token = _replayed_now.set(moment.astimezone(timezone.utc))
    try:
        yield
    finally:
        _replayed_now.reset(token)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


#: The aliases made by `shared_alias` (a test checks that every alias kept in a module is).
SHARED_ALIASES: WeakSet = WeakSet()


def shared_alias(entity, name: str | None = None) -> AliasedClass:
    """An alias of a mapped class made once, at import, and shared by every thread that
    builds a statement with it.

    It is made ready before it is shared. SQLAlchemy fills an alias's index of the columns
    it stands for (`corresponding_column`) the first time one is asked for, without a
    lock: a thread that asks while another is still filling it finds no column, and the
    ORM keeps the table's own column in place of the alias's for the rest of the process.
    Every later statement with the alias then also reads the whole table: one such
    gunicorn worker (two threads) fetched every unit for each row of the ticket list and
    grew to 21 GB. Asking once here, in the importing thread, fills the index."""
    alias = aliased(entity, name=name)
    selectable = inspect(alias).selectable
    for column in inspect(entity).local_table.c:
        selectable.corresponding_column(column)
    SHARED_ALIASES.add(alias)
    return alias
