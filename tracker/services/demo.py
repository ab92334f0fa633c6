"""Demo data (filled in by the demo loader)."""
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import User

DEMO_PASSWORD = "demo-2026"
DEMO_USERNAMES = ("admin", "office", "supervisor", "unit_a", "unit_b")


def demo_accounts_present() -> list[str]:
    return list(db.session.scalars(select(User.username).where(
        User.username.in_(DEMO_USERNAMES))))
