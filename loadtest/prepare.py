"""Prepare the load-test database: schema (migrations), demo data. Run with DATABASE_URL set.

LOADTEST_SCHEMA=create_all builds the schema from the models instead of the migrations
(useful only while a migration is being written)."""
import os

from flask_migrate import upgrade

from tracker import create_app
from tracker.extensions import db
from tracker.services import demo

app = create_app()
with app.app_context():
    if os.environ.get("LOADTEST_SCHEMA") == "create_all":
        db.create_all()
    else:
        upgrade()
    report = demo.load_demo()
    db.session.commit()
    print(f"demo loaded: {report.tickets} tickets, {len(report.accounts)} accounts")
