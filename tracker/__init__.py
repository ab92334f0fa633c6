"""Rectification tracker (整改跟踪): the application factory, read as a table of contents."""
from pathlib import Path

from flask import Flask

from tracker import auth, cli, compression, i18n, prepared_statements, scheduler, security
from tracker.api import api_bp
from tracker.config import Config
from tracker.extensions import babel, csrf, db, login_manager, migrate
from tracker.views import errors, register_views

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: type[Config] | dict | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", static_folder="static")
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    security.require_real_secret(app)
    register_extensions(app)
    register_blueprints(app)
    errors.init_app(app)
    cli.init_app(app)
    security.init_app(app)
    scheduler.init_app(app)  # SCHEDULER=embedded only; never under gunicorn
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    prepared_statements.init_app(app)  # PostgreSQL: lookups by key planned once
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale,
                   timezone_selector=lambda: app.config["TIMEZONE"])
    login_manager.init_app(app)
    i18n.init_app(app)  # first: every later hook may translate
    auth.init_app(app)
    compression.init_app(app)  # gzip for pages, CSS, JS and JSON


def register_blueprints(app: Flask) -> None:
    register_views(app)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, never cookies
