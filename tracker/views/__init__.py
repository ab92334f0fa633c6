"""Server-rendered pages, one blueprint per area."""
from flask import Flask

from tracker.views import auth, main


def register_views(app: Flask) -> None:
    app.register_blueprint(auth.bp)
    app.register_blueprint(main.bp)
