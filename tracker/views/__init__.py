"""Server-rendered pages, one blueprint per area."""
from flask import Flask

from tracker.views import auth, main, queue, tickets, ui
from tracker.views import admin, inspections  # inspections, findings, units, users
from tracker.views import dashboard, exports  # roll-up: dashboard, exports, imports
from tracker.views import evidence  # evidence uploads (佐证材料)
from tracker.views import notifications  # notification centre, urging notices, settings


def register_views(app: Flask) -> None:
    ui.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(main.bp)
    app.register_blueprint(tickets.bp)
    app.register_blueprint(queue.bp)
    app.register_blueprint(inspections.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(evidence.bp)
    app.register_blueprint(notifications.bp)
