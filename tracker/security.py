"""Browser protections on every response, the refusal to run production insecurely, and
the security log.

- Headers: a Content-Security-Policy with a per-request nonce (no inline script without
  it, no plugins, no <base>, no framing), nosniff, Referrer-Policy, HSTS under HTTPS, and
  `Cache-Control: no-store` on every page of a logged-in user and every API answer.
- Production refuses to start without a real SECRET_KEY or with debug on, and sends its
  cookies only over HTTPS.
- Trusted hosts: TRUSTED_HOSTS (Werkzeug answers any other Host header with 400).
- The security log (`tracker.security`): every authentication event and every refused
  request, one line each, with who, from where and when (UTC). Every log record of the
  process has CR, LF and other control characters escaped, so no one can forge a line.
"""
import logging
import os
import secrets
import time

from flask import Flask, Response, g, has_request_context, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import SecurityError

PLACEHOLDER_SECRETS = {"", "dev", "change-me", "changeme", "secret", "test",
                       "test-secret-key-not-for-production"}

#: The security log: authentication events and refusals (ASVS 16.3).
log = logging.getLogger("tracker.security")

#: Statuses that mean "refused": logged with who and where.
REFUSED = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "bad_method",
           429: "throttled"}


def require_real_secret(app: Flask) -> None:
    secret = app.config.get("SECRET_KEY") or ""
    if app.config.get("ENV_NAME") == "production":
        if secret in PLACEHOLDER_SECRETS or len(secret) < 32 or len(set(secret)) < 8:
            raise RuntimeError("SECRET_KEY must be set to a random value of at least 32 "
                               "characters in production.")
        if app.debug or os.environ.get("FLASK_DEBUG", "0") not in ("", "0", "false"):
            raise RuntimeError("Debug mode is never allowed in production.")
        # Cookies only over HTTPS, unless explicitly turned off (a TLS proxy that does not
        # say so is a configuration error, not a reason to send cookies in clear).
        if os.environ.get("SESSION_COOKIE_SECURE", "1") != "0":
            app.config["SESSION_COOKIE_SECURE"] = True
            app.config["REMEMBER_COOKIE_SECURE"] = True
    elif not secret:
        # Development and demo: a key per process start; sessions end on restart.
        app.config["SECRET_KEY"] = secrets.token_hex(32)


def csp_nonce() -> str:
    """A new nonce for every response (kept on the request, never shared between two)."""
    holder = request if has_request_context() else g
    nonce = getattr(holder, "_csp_nonce", None)
    if nonce is None:
        nonce = secrets.token_urlsafe(16)
        holder._csp_nonce = nonce
    return nonce


# --- logging ----------------------------------------------------------------------------

#: Control characters (CR, LF, ESC, …) as visible escapes: "\n" becomes the two
#: characters backslash and n. Tab stays. U+2028/2029 break lines in some viewers.
_ESCAPES = {code: f"\\x{code:02x}" for code in range(32) if code != 9}
_ESCAPES.update({10: "\\n", 13: "\\r", 127: "\\x7f", 0x2028: "\\u2028", 0x2029: "\\u2029"})


def escape_controls(text: str) -> str:
    return text.translate(_ESCAPES)


class EscapeNewlines(logging.Filter):
    """Renders the record's message with its arguments and escapes control characters in
    it, so that a value such as a user name "x\\r\\n2026-01-01 INFO login ok" stays on one
    line. Also records who and from where (in a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        escape_record(record)
        return True


def _request_identity() -> tuple[str, str]:
    if not has_request_context():
        return "-", "-"
    # Never load the user for a log line: only what this request has already loaded.
    user = getattr(g, "api_user", None) or getattr(g, "_login_user", None)
    username = getattr(user, "username", None) or "-"
    return username, request.remote_addr or "-"


def escape_record(record: logging.LogRecord) -> logging.LogRecord:
    if getattr(record, "_escaped", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a wrong format string: keep the raw parts, still escaped
        message = f"{record.msg!r} {record.args!r}"
    record.msg, record.args = escape_controls(message), ()
    if not hasattr(record, "sec_user"):
        try:
            record.sec_user, record.sec_addr = (escape_controls(v) for v in _request_identity())
        except Exception:  # logging must never break the request
            record.sec_user, record.sec_addr = "-", "-"
    record._escaped = True
    return record


def _install_record_factory() -> None:
    """Every record of the process, from any logger, is escaped when it is created."""
    current = logging.getLogRecordFactory()
    if getattr(current, "_tracker_escapes", False):
        return

    def factory(*args, **kwargs):
        return escape_record(current(*args, **kwargs))

    factory._tracker_escapes = True
    logging.setLogRecordFactory(factory)


class SecurityFormatter(logging.Formatter):
    """UTC timestamps, who and from where; a traceback's lines are indented with "| " so
    that nothing in an exception message can pass for a log line of its own."""

    converter = time.gmtime

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s user=%(sec_user)s "
                         "addr=%(sec_addr)s %(message)s", datefmt="%Y-%m-%dT%H:%M:%SZ")

    def format(self, record: logging.LogRecord) -> str:
        escape_record(record)
        return super().format(record)

    def formatException(self, ei) -> str:
        return "\n".join("  | " + escape_controls(line)
                         for line in super().formatException(ei).splitlines())

    def formatStack(self, stack_info: str) -> str:
        return "\n".join("  | " + escape_controls(line) for line in stack_info.splitlines())


def configure_logging(app: Flask) -> None:
    _install_record_factory()
    # Under gunicorn or `flask run`, Flask's handler writes to the server's error stream.
    from flask.logging import default_handler

    default_handler.setFormatter(SecurityFormatter())
    if not any(isinstance(f, EscapeNewlines) for f in default_handler.filters):
        default_handler.addFilter(EscapeNewlines())
    app.logger  # noqa: B018  (attaches the default handler to the "tracker" logger)
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)


def security_event(what: str, level: int = logging.INFO, **details) -> None:
    """One line in the security log: `what` and key=value details (values quoted with
    repr, so spaces and quotes cannot blur the fields)."""
    fields = " ".join(f"{key}={value!r}" for key, value in details.items())
    log.log(level, "%s %s", what, fields)


# --- the application --------------------------------------------------------------------

def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    if app.config.get("TRUSTED_HOSTS"):
        app.config["TRUSTED_HOSTS"] = list(app.config["TRUSTED_HOSTS"])
    configure_logging(app)

    @app.errorhandler(SecurityError)
    def untrusted_host(error):
        # A Host header outside TRUSTED_HOSTS: no URL can be built for it, so the answer
        # is a plain 400 rather than the error page (whose links would need one).
        security_event("refused", logging.WARNING, reason="untrusted_host", status=400,
                       host=request.environ.get("HTTP_HOST", ""))
        return Response(_("The request could not be understood."), 400,
                        mimetype="text/plain")

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
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if not request.path.startswith("/static/") and (
                current_user.is_authenticated or request.path.startswith("/api/")
                or response.status_code >= 400):
            headers["Cache-Control"] = "no-store"
        if response.status_code in REFUSED:
            security_event("refused", logging.WARNING, reason=REFUSED[response.status_code],
                           status=response.status_code, method=request.method,
                           path=request.path)
        return response
