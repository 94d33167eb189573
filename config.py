"""Configuration, read from the environment.

`CRM_CONFIG` picks the class (development, testing, production); development is the default
so `make run` needs nothing else. Secrets have no production default: ProductionConfig.check()
refuses to start without them.
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("CRM_INSTANCE_DIR", BASE_DIR / "instance"))


def _list(name):
    """A comma-separated environment variable as a list (empty entries dropped)."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'crm.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL") or None
    JOB_QUEUE = os.environ.get("JOB_QUEUE", "crm")
    JOB_TIMEOUT = 3600  # seconds; a reindex of 100k customers takes minutes
    JOB_HEARTBEAT_SECONDS = 20  # how often a running job says it is alive
    JOB_STALE_SECONDS = 120  # no heartbeat for this long: its worker is gone, the run failed
    JOB_SWEEP_SECONDS = 60  # how often an idle `flask worker` looks for such runs
    # An uploaded CSV up to this size is checked in the upload request (about 2,500 rows, well
    # under a second); a larger one is checked by a job while its preview page shows progress.
    IMPORT_CHECK_INLINE_BYTES = 256 * 1024
    # A document's PDF (delivery sheets, invoices, statements) is kept by the process that made
    # it, named by its HTML's SHA-256, so printing it again costs what its HTML does (crm.pdf).
    SHEET_PDF_CACHE_SECONDS = int(os.environ.get("SHEET_PDF_CACHE_SECONDS", "600"))
    SHEET_PDF_CACHE_ENTRIES = 4

    # Newest key first; older keys are kept only to read data until `flask crypto rotate-keys`.
    CRM_ENCRYPTION_KEYS = _list("CRM_ENCRYPTION_KEYS")
    CRM_BLIND_INDEX_KEY = os.environ.get("CRM_BLIND_INDEX_KEY")

    FARM_NAME = os.environ.get("FARM_NAME", "Green Shoots Farm")
    FARM_TIMEZONE = os.environ.get("FARM_TIMEZONE", "America/Chicago")
    DEFAULT_PHONE_REGION = os.environ.get("DEFAULT_PHONE_REGION", "US")
    # Money: integer minor units (cents) of one currency, shown in the farm's locale (Babel).
    FARM_CURRENCY = os.environ.get("FARM_CURRENCY", "USD")
    FARM_LOCALE = os.environ.get("FARM_LOCALE", "en_US")
    # Credit control (crm.credit.services.check_credit): an invoice overdue more than this many
    # days blocks new orders (fewer: a warning); amounts open below the threshold never count.
    CREDIT_OVERDUE_DAYS = int(os.environ.get("CREDIT_OVERDUE_DAYS", "30"))
    CREDIT_OVERDUE_THRESHOLD = int(os.environ.get("CREDIT_OVERDUE_THRESHOLD", "500"))  # minor
    CREDIT_WARN_SHARE = 0.8  # warn from this share of the limit
    # The farm's cut-off (hour 0-23, farm time): tomorrow's confirmed orders are checked against
    # credit again then (`flask orders cutoff`, run by cron), before anyone cuts greens for them.
    ORDER_CUTOFF_HOUR = int(os.environ.get("ORDER_CUTOFF_HOUR", "14"))

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "crm_session"
    REMEMBER_COOKIE_DURATION = 0
    PERMANENT_SESSION_LIFETIME = 8 * 60 * 60
    WTF_CSRF_TIME_LIMIT = 8 * 60 * 60

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or REDIS_URL or "memory://"
    # While that storage is unreachable, Flask-Limiter counts in this process's memory (and logs
    # it once) instead of answering 500 to every sign-in; the per-email lockout lives in the
    # database and keeps working. It goes back to Redis when a ping answers again.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Give up on a dead or unreachable Redis within about a second per request.
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
    # Behind a load balancer: how many proxies set X-Forwarded-For/-Proto (0 = none, trust nothing).
    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))
    RATELIMIT_HEADERS_ENABLED = True
    SIGN_IN_RATE_LIMIT = "10 per minute"
    LOCKOUT_THRESHOLD = 5  # failed sign-ins for one email within LOCKOUT_WINDOW_MINUTES
    LOCKOUT_WINDOW_MINUTES = 15
    LOCKOUT_MINUTES = 15

    # argon2id parameters (argon2-cffi defaults: RFC 9106 low-memory profile).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536

    CUSTOMERS_PER_PAGE = 25
    PEOPLE_PER_PAGE = 25  # the contact directory
    DEMO_DATA_ALLOWED = True
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024

    @classmethod
    def check(cls):
        """Raise when the configuration cannot run safely."""


class DevelopmentConfig(Config):
    DEBUG = False
    SESSION_COOKIE_SECURE = False
    # Keys and the secret key are created once under instance/ (see crm.security.keys).
    CREATE_MISSING_KEYS = True


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    REDIS_URL = None  # tests opt in to a real Redis explicitly
    RATELIMIT_STORAGE_URI = "memory://"
    SESSION_COOKIE_SECURE = False
    CRM_ENCRYPTION_KEYS = ["test-key-newest-0000000000000000", "test-key-older-11111111111111111"]
    CRM_BLIND_INDEX_KEY = "test-blind-index-key-22222222222"
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 64
    # CSRF stays on: WTF_CSRF_ENABLED is deliberately not touched.


class ProductionConfig(Config):
    DEMO_DATA_ALLOWED = False

    @classmethod
    def check(cls):
        missing = [
            name
            for name, value in (
                ("SECRET_KEY", cls.SECRET_KEY),
                ("CRM_ENCRYPTION_KEYS", cls.CRM_ENCRYPTION_KEYS),
                ("CRM_BLIND_INDEX_KEY", cls.CRM_BLIND_INDEX_KEY),
                ("DATABASE_URL", os.environ.get("DATABASE_URL")),
                # Sign-in limits must be shared by every app process.
                ("REDIS_URL or RATELIMIT_STORAGE_URI",
                 cls.RATELIMIT_STORAGE_URI != "memory://"),
            )
            if not value
        ]
        if missing:
            raise RuntimeError(
                "Production configuration refuses to start; set: " + ", ".join(missing)
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env():
    """The config class named by CRM_CONFIG (development when unset)."""
    name = os.environ.get("CRM_CONFIG", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"CRM_CONFIG must be one of {', '.join(CONFIGS)}; got {name!r}")
