"""Browser protections on every response, and the refusal to run production insecurely."""
import secrets

from flask import Flask, g, request
from flask_login import current_user

PLACEHOLDER_SECRETS = {"", "dev", "change-me", "secret"}


def require_real_secret(app: Flask) -> None:
    secret = app.config.get("SECRET_KEY") or ""
    if app.config.get("ENV_NAME") == "production":
        if secret in PLACEHOLDER_SECRETS or len(secret) < 32:
            raise RuntimeError("SECRET_KEY must be set to a random value of at least 32 "
                               "characters in production.")
        if app.debug:
            raise RuntimeError("Debug mode is never allowed in production.")
    elif not secret:
        # Development and demo: a key per process start; sessions end on restart.
        app.config["SECRET_KEY"] = secrets.token_hex(32)


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    if app.config.get("TRUSTED_HOSTS"):
        app.config["TRUSTED_HOSTS"] = list(app.config["TRUSTED_HOSTS"])

    @app.after_request
    def set_security_headers(response):
        headers = response.headers
        if "Content-Security-Policy" not in headers:
            headers["Content-Security-Policy"] = (
                "default-src 'self'; "
                f"script-src 'self' 'nonce-{csp_nonce()}'; "
                "style-src 'self'; img-src 'self' data: blob:; "
                "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
            )
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if not request.path.startswith("/static/") and (
                current_user.is_authenticated or request.path.startswith("/api/")):
            headers["Cache-Control"] = "no-store"
        return response
