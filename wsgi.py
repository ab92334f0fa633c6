"""Entry point for `flask --app wsgi` and for gunicorn (`gunicorn wsgi:app`)."""
import gc

from tracker import create_app

app = create_app()
# What start-up built (modules, the app, SQLAlchemy's metadata) lives as long as the
# process: frozen out of the garbage collector's reach, so that its full collections stop
# walking it. Unfrozen, one of those collections held a dashboard view for 100 ms every
# few dozen views (docs/performance.md).
gc.freeze()
