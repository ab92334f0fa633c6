"""The JSON API under /api/v1: bearer tokens, the same services and scoping as the pages."""
from flask import Blueprint

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Route modules register themselves on the blueprint when imported.
from tracker.api import auth, openapi  # noqa: E402,F401
