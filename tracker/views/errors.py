"""Error pages and JSON errors. Domain errors become their status; nothing becomes a 500
except a real fault, which shows a generic page and is logged."""
from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from tracker.extensions import db
from tracker.services.errors import DomainError, VersionConflict


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _page(status: int, message: str):
    return render_template("errors/error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        if error.status_code in (403, 404):
            app.logger.warning("refused %s %s: %s", request.method, request.path, error.code)
        if wants_json():
            return jsonify(error.to_json()), error.status_code
        return _page(error.status_code, error.message)

    @app.errorhandler(StaleDataError)
    def stale(error):
        return domain_error(VersionConflict(
            _("This ticket was changed by someone else. Reload it and try again.")))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code and error.code >= 400 and error.code in (403, 404, 405):
            app.logger.warning("refused %s %s: %s", request.method, request.path, error.code)
        messages = {
            400: _("The request could not be understood."),
            401: _("Please log in."),
            403: _("You are not allowed to do this."),
            404: _("Not found."),
            405: _("This method is not allowed here."),
            413: _("The upload is too large."),
            429: _("Too many requests. Please wait a moment."),
        }
        message = messages.get(error.code, error.name)
        if wants_json():
            code = {401: "unauthorized", 403: "forbidden", 404: "not_found",
                    413: "too_large"}.get(error.code, "error")
            return jsonify({"error": code, "message": message}), error.code
        return _page(error.code, message)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        db.session.rollback()
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        if wants_json():
            return jsonify({"error": "server_error",
                            "message": _("Something went wrong on our side.")}), 500
        return _page(500, _("Something went wrong on our side."))
