"""Live workshop updates: a durable event log plus server-sent events.

    event_id = live.publish(workshop_id, "note", {"note": 12})   # after the caller's commit
    return live.stream(workshop_id, last_event_id)               # in an SSE view

Events say *what changed*; clients refetch their own fragments with ordinary requests, so access
rules and rendering stay in one place. Every event is a `workshop_event` row first (its id is the
SSE id), then a frame fanned out to the open streams: in this process by default, through Redis
pub/sub to every worker and host when REDIS_URL is set. A client that reconnects with
Last-Event-ID is replayed what it missed from the table; one that was away longer than the log
keeps (LIVE_LOG_KEEP_EVENTS / LIVE_LOG_KEEP_SECONDS) gets a `reload` event.

The browser side is htmx 4's hx-sse extension: it reconnects by itself (backoff from `retry:`) and
sends Last-Event-ID on reconnects, but not on the first connection — the page puts
`?last_event_id={{ live.last_id(workshop.id) }}` in the stream URL for that.
"""

import json
import logging
import os
import queue
import re
import threading
import weakref
from dataclasses import dataclass, field

import redis
import sqlalchemy.event
from flask import Flask, Response, current_app, g, has_request_context
from sqlalchemy import Engine, create_engine

from cjm.extensions import db

from . import log, presence
from .broker import Broker, Frame
from .presence import MemoryPresence, RedisPresence
from .redis_broker import RedisBroker

__all__ = ["init_app", "last_id", "presence", "publish", "stream"]

logger = logging.getLogger(__name__)
KIND = re.compile(r"[a-z][a-z0-9_.:-]{0,31}")


@dataclass(frozen=True)
class LiveConfig:
    """The LIVE_* settings, read once per app (streams run outside the app context)."""

    heartbeat_seconds: float
    retry_ms: int
    keep_events: int
    keep_seconds: float
    queue_size: int
    presence_seconds: float
    typing_seconds: float
    prune_every: int
    db_pool: int

    @classmethod
    def from_app(cls, app: Flask) -> "LiveConfig":
        c = app.config
        return cls(
            heartbeat_seconds=float(c["LIVE_HEARTBEAT_SECONDS"]),
            retry_ms=int(c["LIVE_RETRY_MS"]),
            keep_events=int(c["LIVE_LOG_KEEP_EVENTS"]),
            keep_seconds=float(c["LIVE_LOG_KEEP_SECONDS"]),
            queue_size=int(c["LIVE_QUEUE_SIZE"]),
            presence_seconds=float(c["LIVE_PRESENCE_SECONDS"]),
            typing_seconds=float(c["LIVE_TYPING_SECONDS"]),
            prune_every=int(c["LIVE_PRUNE_EVERY"]),
            db_pool=int(c["LIVE_DB_POOL"]),
        )


@dataclass
class LiveState:
    """What one app's live layer holds: its broker, presence store and settings."""

    app: Flask
    broker: Broker
    presence: MemoryPresence | RedisPresence
    config: LiveConfig

    _engine: Engine | None = None
    _engine_pid: int = 0
    _engine_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def other_processes(self) -> bool:
        """Whether other processes may append to the same log (Redis fan-out configured)."""
        return isinstance(self.broker, RedisBroker)

    def close(self) -> None:
        """Close the broker and this state's own connection pool (tests, shutdown)."""
        self.broker.close()
        with self._engine_lock:
            if self._engine is not None and self._engine is not db.engine:
                self._engine.dispose()
            self._engine = None

    def engine(self) -> Engine:
        """The live layer's own connection pool, on the app's database.

        A view that publishes still holds its session's connection (reading an attribute after
        its commit checks one out again); if publishing took a second one from the same pool,
        a burst of such requests would each hold one and wait for another until the pool timed
        out. A separate small pool, whose connections are only ever held for a few statements,
        cannot deadlock that way. (In-memory SQLite has one connection: it shares the app's.)
        """
        with self._engine_lock:
            if self._engine is None or self._engine_pid != os.getpid():
                main = db.engine
                url = main.url
                if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
                    self._engine = main
                else:
                    self._engine = create_engine(
                        url, pool_pre_ping=True, pool_size=self.config.db_pool, max_overflow=10
                    )
                    # An app (and its state) dropped without close() still closes its pool.
                    weakref.finalize(self, self._engine.dispose)
                    if self.app.config.get("SQLITE_WAL"):
                        tune_sqlite(self._engine)
                self._engine_pid = os.getpid()
            return self._engine


def init_app(app: Flask) -> None:
    """Set up the broker for this app: Redis when REDIS_URL is set. Starts no thread (the Redis
    listener starts with the first stream, in the worker process that serves it)."""
    config = LiveConfig.from_app(app)
    url = app.config.get("REDIS_URL")
    if url:
        broker = RedisBroker(url, app.config["LIVE_REDIS_PREFIX"], config.queue_size)
        store = RedisPresence(broker.client, app.config["LIVE_REDIS_PREFIX"])
    else:
        broker = Broker(config.queue_size)
        store = MemoryPresence()
    app.extensions["cjm.live"] = LiveState(app, broker, store, config)
    if app.config.get("SQLITE_WAL"):
        with app.app_context():
            tune_sqlite(db.engine)
    if app.config.get("LIVE_TEST_ROUTES"):
        from .testing import register

        register(app)


def tune_sqlite(engine: Engine) -> None:
    """SQLite files in WAL mode with synchronous=NORMAL: a commit costs microseconds instead of
    an fsync (38 ms on the bench machine), and readers — a hundred open streams catching up —
    never wait for a writer. A crash of the process loses nothing; only a power cut may lose
    the last commits. (SQLITE_WAL=False keeps SQLite's defaults.)"""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return

    @sqlalchemy.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _state() -> LiveState:
    return current_app.extensions["cjm.live"]


def sse(event_id: int | None, kind: str, data: dict) -> str:
    """One SSE message: `id:`, `event:`, one `data:` line of JSON (json.dumps escapes newlines)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def publish(workshop_id: int, kind: str, data: dict | None = None) -> int:
    """Append an event to the workshop's log and send it to every open stream; returns its id.

    Call it after your own commit: it uses its own short transaction on its own connection."""
    if not KIND.fullmatch(kind):
        raise ValueError(f"bad event kind {kind!r}")
    state = _state()
    event_id = _publish(state, state.engine(), workshop_id, kind, data or {})
    if has_request_context():
        g.setdefault("live_events", []).append(event_id)  # LIVE_TEST_ROUTES: X-Live-Events
    return event_id


def _publish(state: LiveState, engine, workshop_id: int, kind: str, data: dict) -> int:
    # The thread lock orders this process's appends; the database orders other processes'.
    # Broadcasting before the commit (still under the lock) keeps the broadcast in id order.
    with state.broker.workshop_lock(workshop_id), engine.connect() as conn:
        event_id = log.append(conn, workshop_id, kind, data)
        try:
            state.broker.publish(workshop_id, Frame(event_id, sse(event_id, kind, data)))
        except redis.RedisError as error:
            # Logged, not raised: the event is in the log, and every stream re-reads the log
            # once its worker's Redis listener is back.
            logger.warning("live: could not publish event %s to Redis: %s", event_id, error)
        conn.commit()
    if state.config.prune_every and event_id % state.config.prune_every == 0:
        with engine.begin() as conn:
            log.prune(conn, workshop_id, state.config.keep_events, state.config.keep_seconds)
    return event_id


def last_id(workshop_id: int) -> int:
    """The newest event id of a workshop: render it into the stream URL (?last_event_id=)."""
    with _state().engine().connect() as conn:
        return log.head(conn, workshop_id)


def _parse_last_id(value) -> int | None:
    """None when the client has no position; -1 (reload) for garbage; else the id."""
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return -1
    return number if number >= 0 else -1


def stream(
    workshop_id: int, last_event_id: int | str | None, participant_id: int | None = None
) -> Response:
    """The workshop's text/event-stream: a first event at once, the replay after
    `last_event_id`, then live events and a heartbeat comment. The request's DB session is
    closed before streaming. With `participant_id`, the stream also keeps that participant
    present (touch on connect and every heartbeat, leave on close, `presence` events)."""
    state = _state()
    engine = state.engine()
    db.session.remove()
    body = _events(state, engine, workshop_id, _parse_last_id(last_event_id), participant_id)
    response = Response(body, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache, no-transform"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


def _catch_up(state: LiveState, engine, workshop_id: int, after: int | None):
    """(rows owed or None for "reload", head id), read under the workshop's append lock."""
    c = state.config
    with state.broker.workshop_lock(workshop_id), engine.connect() as conn:
        log.lock_for_reading(conn, workshop_id, state.other_processes)
        top = log.head(conn, workshop_id)
        if after is None:
            rows = []
        elif after < 0:
            rows = None
        else:
            rows = log.owed(conn, workshop_id, after, c.keep_events, c.keep_seconds)
        conn.commit()
    return rows, top


def _events(state: LiveState, engine, workshop_id: int, last: int | None, participant_id):
    """The generator behind `stream`; unsubscribes (and leaves the room) when the client goes."""
    c = state.config
    yield f"retry: {c.retry_ms}\n" + sse(None, "hello", {"workshop": workshop_id})
    sub = state.broker.subscribe(workshop_id)
    try:
        if participant_id is not None:
            _touch(state, engine, workshop_id, participant_id)
        rows, top = _catch_up(state, engine, workshop_id, last)
        sent = top
        if rows is None:
            yield sse(None, "reload", {}) + f"id: {top}\n\n"
        elif last is None:
            # A silent `id:` gives the client a position to reconnect from.
            yield f"id: {top}\n\n"
        else:
            yield "".join(sse(r.id, r.kind, r.data) for r in rows) or ": ready\n\n"
            sent = rows[-1].id if rows else last
        while True:
            try:
                frame = sub.get(timeout=c.heartbeat_seconds)
            except queue.Empty:
                if participant_id is not None:
                    _touch(state, engine, workshop_id, participant_id)
                yield ": heartbeat\n\n"
                continue
            if sub.lost:
                sub.lost = False
                sub.drain()
                rows, top = _catch_up(state, engine, workshop_id, sent)
                if rows is None:
                    yield sse(None, "reload", {}) + f"id: {top}\n\n"
                    sent = top
                elif rows:
                    yield "".join(sse(r.id, r.kind, r.data) for r in rows)
                    sent = rows[-1].id
                continue
            if frame is None or frame.id <= sent:
                continue
            sent = frame.id
            yield frame.text
    finally:
        state.broker.unsubscribe(sub)
        if participant_id is not None:
            try:
                if state.presence.leave(workshop_id, participant_id):
                    data = {"participant": participant_id}
                    _publish(state, engine, workshop_id, "presence", data)
            except Exception:  # the client is gone anyway; presence expires by itself
                logger.exception("live: could not record that participant %s left", participant_id)


def _touch(state: LiveState, engine, workshop_id: int, participant_id: int) -> None:
    """Keep a streaming participant present; tell the room when that changes the list."""
    c = state.config
    if state.presence.touch(
        workshop_id, participant_id, None, c.presence_seconds, c.typing_seconds
    ):
        _publish(state, engine, workshop_id, "presence", {"participant": participant_id})
