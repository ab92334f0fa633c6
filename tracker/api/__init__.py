"""The JSON API under /api/v1: bearer tokens, the same services and scoping as the pages."""
from flask import Blueprint

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Route modules register themselves on the blueprint when imported.
from tracker.api import auth, inspections, openapi, tickets, units  # noqa: E402,F401
from tracker.api import summary  # noqa: E402,F401  (roll-up)
from tracker.api import evidence  # noqa: E402,F401  (evidence uploads)
from tracker.api import notifications  # noqa: E402,F401  (notifications, urging notices)
