"""Configuration: defaults, then the environment (DATABASE_URL, REDIS_URL, SECRET_KEY, CJM_*)."""

import os
import secrets
from pathlib import Path


def database_url(instance_path: str) -> str:
    """The SQLAlchemy URL: DATABASE_URL (postgresql:// uses psycopg 3) or SQLite in instance/."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "cjm.sqlite")
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else one generated once into instance/ (never committed)."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write-then-rename so two workers starting at once agree on one key.
        tmp = path.with_suffix(f".{os.getpid()}")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        if not path.exists():
            tmp.replace(path)
        else:
            tmp.unlink()
    return path.read_text().strip()


class Defaults:
    """Settings every deployment starts from; CJM_<NAME> in the environment overrides each."""

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # CJM_SESSION_COOKIE_SECURE=true behind HTTPS
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # a workshop tab stays open all day
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    AVATAR_MAX_BYTES = 2 * 1024 * 1024
    AVATAR_MAX_PIXELS = 4096
    LANGUAGES = ("en", "ru")
    BABEL_DEFAULT_LOCALE = "en"
    # "cdn" loads htmx from the pinned CDN with SRI and falls back to the vendored copy;
    # "local" serves only the vendored copy (CJM_HTMX_SOURCE=local for air-gapped rooms).
    HTMX_SOURCE = "cdn"
    UNDO_SECONDS = 15 * 60
    SHOPPER_PHOTO_MAX_BYTES = 8 * 1024 * 1024
    SHOPPER_PHOTO_MAX_PIXELS = 8192
    IMPORT_MAX_BYTES = 20 * 1024 * 1024
    IMPORT_SYNC_ROWS = 2000  # smaller survey files import during the request
    DEMO_EMAIL = "demo@cjm.studio"
    DEMO_PASSWORD = "demo-journey"
    REDIS_URL = None
    # PDF poster (cjm.export.pdf): the smallest text a fitted poster may shrink to (else it is
    # tiled); maps with more touchpoints than EXPORT_SYNC_TOUCHPOINTS render in a background
    # thread; finished files wait EXPORT_KEEP_SECONDS in EXPORT_DIR (default: a temp folder).
    POSTER_MIN_TEXT_PT = 5
    EXPORT_SYNC_TOUCHPOINTS = 150
    EXPORT_KEEP_SECONDS = 60 * 60
    EXPORT_DIR = None
    # Live workshops (cjm/live): SSE heartbeat (proxies close idle streams), the client's reconnect
    # delay, how much of each workshop's event log a reconnecting client can be replayed (older:
    # it is told to reload), a stream's queue bound, presence expiry, Redis key prefix.
    LIVE_HEARTBEAT_SECONDS = 15
    LIVE_RETRY_MS = 1000
    LIVE_LOG_KEEP_EVENTS = 2000
    LIVE_LOG_KEEP_SECONDS = 24 * 3600
    LIVE_PRUNE_EVERY = 200  # prune a workshop's log when an event id is a multiple of this
    LIVE_QUEUE_SIZE = 512
    LIVE_PRESENCE_SECONDS = 40
    LIVE_TYPING_SECONDS = 6
    LIVE_REDIS_PREFIX = "cjm:live:"
    LIVE_DB_POOL = 5  # the live layer's own connections per process (appends, replays)
    # SQLite files run in WAL mode with synchronous=NORMAL (cjm.live.tune_sqlite): commits without
    # an fsync each, readers that never wait for the writer. False keeps SQLite's defaults.
    SQLITE_WAL = True
    LIVE_TEST_ROUTES = False  # tests and bench only: /_live/<id>/events publish + stream
