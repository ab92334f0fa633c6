"""Settings, read from the environment. `TestConfig` is what the test suite uses."""
import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def engine_options(url: str) -> dict:
    """Engine options for a database URL. PostgreSQL: no JIT. Its JIT compiles plans it
    estimates as expensive (the roll-up's aggregates) for a second or more before running
    them in milliseconds; an interactive application only loses by it. And a parallel
    worker's rows priced at a tenth of the default (`parallel_tuple_cost`): at the default
    the planner ran the roll-up's per-finding aggregate in one process, 0.1 s slower than
    in three at a million tickets; statements too small to be worth a worker stay out of
    parallel plans by `parallel_setup_cost`, which is left as it is (docs/performance.md,
    items 1 and 51)."""
    options: dict = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        options["connect_args"] = {"options": "-c jit=off -c parallel_tuple_cost=0.01"}
    return options


class Config:
    #: "development" runs with demo data allowed; "production" refuses an unset secret.
    ENV_NAME = os.environ.get("TRACKER_ENV", "development")
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'tracker.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = engine_options(SQLALCHEMY_DATABASE_URI)
    #: PostgreSQL: prepare the lookups by key and keep them from request to request
    #: (tracker/prepared_statements.py). "off" behind PgBouncer older than 1.21 in
    #: transaction mode, which cannot hand a session's prepared statements on.
    PREPARED_STATEMENTS = os.environ.get("PREPARED_STATEMENTS", "on") != "off"
    #: The office's time zone: "today" and every deadline are dates in this zone.
    TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    #: A ticket is near-due when its deadline is at most this many days away.
    NEAR_DUE_DAYS = _int("NEAR_DUE_DAYS", 7)
    #: The dashboard keeps the figures of a scope that took at least this many seconds to
    #: count (tracker/services/dashboard_figures); quicker scopes are counted on every
    #: view. Kept figures that something has moved are counted again during the view when
    #: that took less than DASHBOARD_WAIT_SECONDS, else shown (with the time they were
    #: counted) until the scheduler has counted them again.
    DASHBOARD_KEEP_SECONDS = float(os.environ.get("DASHBOARD_KEEP_SECONDS", "0.1"))
    DASHBOARD_WAIT_SECONDS = float(os.environ.get("DASHBOARD_WAIT_SECONDS", "1.0"))
    #: Kept figures are counted again at least this often while someone reads them.
    DASHBOARD_RECOUNT_MINUTES = _int("DASHBOARD_RECOUNT_MINUTES", 15)
    #: How often the scheduler looks for kept figures that something has moved.
    DASHBOARD_REFRESH_SECONDS = _int("DASHBOARD_REFRESH_SECONDS", 60)
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", str(INSTANCE_DIR / "uploads"))
    MAX_CONTENT_LENGTH = _int("MAX_UPLOAD_MB", 50) * 1024 * 1024 + 64 * 1024

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = TIMEZONE
    LANGUAGES = ("zh_CN", "en")

    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=_int("SESSION_IDLE_MINUTES", 30))
    #: A session older than this must log in again, however active it is.
    SESSION_ABSOLUTE_HOURS = _int("SESSION_ABSOLUTE_HOURS", 12)
    API_TOKEN_HOURS = _int("API_TOKEN_HOURS", 12)

    #: Only these hosts are answered (comma-separated); empty accepts any (development).
    TRUSTED_HOSTS = [h for h in os.environ.get("TRUSTED_HOSTS", "").split(",") if h] or None
    #: Scheduler: "embedded" runs inside the web process (make run), "off" never.
    SCHEDULER = os.environ.get("TRACKER_SCHEDULER", "off")

    # --- evidence (佐证材料) ---------------------------------------------------------
    #: Largest single evidence file, and all files of one ticket together, in MB.
    EVIDENCE_MAX_FILE_MB = _int("EVIDENCE_MAX_FILE_MB", _int("MAX_UPLOAD_MB", 50))
    EVIDENCE_MAX_TICKET_MB = _int("EVIDENCE_MAX_TICKET_MB", 500)
    #: Accepted extensions (comma-separated); each one is checked against the content.
    EVIDENCE_EXTENSIONS = [e.strip().lower() for e in os.environ.get(
        "EVIDENCE_EXTENSIONS", "pdf,ofd,doc,docx,xls,xlsx,ppt,pptx,jpg,jpeg,png,txt,zip"
    ).split(",") if e.strip()]
    #: Evidence types offered, "code:Label" (comma-separated). The default labels are
    #: translated (文件通知, 现场照片, 台账报表, 会议纪要, 其他); others are shown as written.
    EVIDENCE_TYPES = [t.strip() for t in os.environ.get(
        "EVIDENCE_TYPES", "notice:Notice or document,photo:On-site photo,"
        "ledger:Ledger or table,minutes:Meeting minutes,other:Other"
    ).split(",") if t.strip()]
    #: ZIP-based files (DOCX, XLSX, PPTX, OFD, ZIP): limits against decompression bombs.
    EVIDENCE_ZIP_MAX_MEMBERS = _int("EVIDENCE_ZIP_MAX_MEMBERS", 10000)
    EVIDENCE_ZIP_MAX_UNCOMPRESSED_MB = _int("EVIDENCE_ZIP_MAX_UNCOMPRESSED_MB", 1024)
    EVIDENCE_ZIP_MAX_RATIO = _int("EVIDENCE_ZIP_MAX_RATIO", 200)
    #: Where evidence files live: empty (or file:///path) for a local folder, by default
    #: UPLOAD_FOLDER; s3://bucket/prefix for S3-compatible object storage.
    STORAGE_URL = os.environ.get("STORAGE_URL", "")
    #: Object storage endpoint (MinIO, Aliyun OSS, Tencent COS, …); empty for AWS itself.
    STORAGE_S3_ENDPOINT_URL = os.environ.get("STORAGE_S3_ENDPOINT_URL", "")
    STORAGE_S3_REGION = os.environ.get("STORAGE_S3_REGION", "")
    #: Empty: boto3's own chain (environment, instance role, ~/.aws).
    STORAGE_S3_ACCESS_KEY_ID = os.environ.get("STORAGE_S3_ACCESS_KEY_ID", "")
    STORAGE_S3_SECRET_ACCESS_KEY = os.environ.get("STORAGE_S3_SECRET_ACCESS_KEY", "")
    #: "path" (MinIO and most private deployments) or "virtual" (AWS, OSS, COS).
    STORAGE_S3_ADDRESSING_STYLE = os.environ.get("STORAGE_S3_ADDRESSING_STYLE", "path")

    # --- notifications (reminders, delivery, scheduler) -------------------------------
    #: Absolute address of the site, for links in e-mails and work-chat messages.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")
    #: smtp://user:password@host:25, smtp+starttls://…:587 or smtps://…:465. Empty: mails
    #: are written as .eml files to MAIL_OUTBOX_DIR and logged (the embedded default).
    SMTP_URL = os.environ.get("SMTP_URL", "")
    MAIL_FROM = os.environ.get("MAIL_FROM", "整改跟踪系统 <noreply@localhost>")
    MAIL_OUTBOX_DIR = os.environ.get("MAIL_OUTBOX_DIR", str(INSTANCE_DIR / "outbox"))
    #: Seconds before an SMTP server or a webhook that does not answer counts as failed.
    SMTP_TIMEOUT = float(os.environ.get("SMTP_TIMEOUT", 15))
    WEBHOOK_TIMEOUT = float(os.environ.get("WEBHOOK_TIMEOUT", 5))
    #: Retries: the n-th failure waits BACKOFF * 2**(n-1) seconds, at most BACKOFF_MAX;
    #: after MAX_ATTEMPTS the delivery is given up and listed for the administrator.
    DELIVERY_MAX_ATTEMPTS = _int("DELIVERY_MAX_ATTEMPTS", 8)
    DELIVERY_BACKOFF_SECONDS = _int("DELIVERY_BACKOFF_SECONDS", 60)
    DELIVERY_BACKOFF_MAX_SECONDS = _int("DELIVERY_BACKOFF_MAX_SECONDS", 6 * 3600)
    DELIVERY_BATCH = _int("DELIVERY_BATCH", 100)
    #: Deliveries sent side by side, so one slow server never holds up the others.
    DELIVERY_WORKERS = _int("DELIVERY_WORKERS", 8)
    #: A claimed delivery not marked sent within this time is tried again (the process
    #: died): the one window in which a message can go out twice.
    DELIVERY_CLAIM_SECONDS = _int("DELIVERY_CLAIM_SECONDS", 300)
    DELIVERY_INTERVAL_SECONDS = _int("DELIVERY_INTERVAL_SECONDS", 30)
    #: Defaults of the reminder rules; the office may override them on the settings page.
    REMINDER_OFFSETS = [int(d) for d in os.environ.get("REMINDER_OFFSETS", "7,3,1,0").split(",")
                        if d.strip()]
    OVERDUE_REPEAT_DAYS = _int("OVERDUE_REPEAT_DAYS", 7)
    ESCALATE_SUPERVISOR_DAYS = _int("ESCALATE_SUPERVISOR_DAYS", 7)
    ESCALATE_OFFICE_DAYS = _int("ESCALATE_OFFICE_DAYS", 30)
    UNACKNOWLEDGED_DAYS = _int("UNACKNOWLEDGED_DAYS", 2)
    DECISION_WAIT_DAYS = _int("DECISION_WAIT_DAYS", 5)
    URGING_ACK_DAYS = _int("URGING_ACK_DAYS", 2)
    #: Monthly progress report (月报) owed by this day of the month; 0: none owed.
    REPORT_DAY_OF_MONTH = _int("REPORT_DAY_OF_MONTH", 5)
    #: Weekly digest on this weekday (0 = Monday); daily digest from this hour.
    WEEKLY_DIGEST_WEEKDAY = _int("WEEKLY_DIGEST_WEEKDAY", 0)
    DAILY_DIGEST_HOUR = _int("DAILY_DIGEST_HOUR", 8)
    #: Count reminder offsets and waiting days in working days (China's holiday calendar).
    REMINDER_WORKDAYS = os.environ.get("REMINDER_WORKDAYS", "0") == "1"
    #: When the reminder pass runs (cron fields, office time zone); deliveries run always.
    REMINDER_CRON_HOUR = os.environ.get("REMINDER_CRON_HOUR", "7-21")
    REMINDER_CRON_MINUTE = os.environ.get("REMINDER_CRON_MINUTE", "0,30")
    REMINDER_BATCH = _int("REMINDER_BATCH", 1000)
    #: The scheduler's lease: held this long, renewed every third of it.
    SCHEDULER_LEASE_SECONDS = _int("SCHEDULER_LEASE_SECONDS", 60)


class TestConfig(Config):
    TESTING = True
    ENV_NAME = "test"
    SECRET_KEY = "test-secret-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    if SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
        # Tests commit after every case; waiting for each fsync would dominate the run.
        SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True,
                                     "connect_args": {"options": "-c synchronous_commit=off"}}
    WTF_CSRF_ENABLED = False
    SCHEDULER = "off"
    #: Dashboards are counted on every view, however long a loaded machine takes; the
    #: tests of kept figures lower this themselves.
    DASHBOARD_KEEP_SECONDS = float("inf")
