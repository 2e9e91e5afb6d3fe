"""The live layer (cjm/live): event log, SSE stream, fan-out in-process and through Redis,
presence, and two real gunicorn workers behind Redis and PostgreSQL."""

import dataclasses
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from cjm import live
from cjm.extensions import db
from cjm.live import LiveState, log
from cjm.live.broker import Broker
from cjm.live.presence import MemoryPresence, RedisPresence
from cjm.live.redis_broker import RedisBroker
from cjm.live.testing import SSEClient, die_with_parent
from cjm.models import Workshop, WorkshopEvent
from tests.conftest import need
from tests.factories import make_map, make_user

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL")
NEED_REDIS = "set REDIS_URL=redis://127.0.0.1:6379/0"
# Its own database (never the shared `test`), one per xdist worker: each builds a fresh schema.
LIVE_PG = os.environ.get(
    "CJM_LIVE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/cjm_live_test"
) + ("_" + os.environ["PYTEST_XDIST_WORKER"] if "PYTEST_XDIST_WORKER" in os.environ else "")


class Reader:
    """Reads an in-process stream (the generator behind live.stream) message by message."""

    def __init__(self, response):
        self.response = response
        self.chunks = iter(response.response)
        self.buffer = ""
        self.first_chunk = None

    def next(self) -> dict:
        """The next message: {"id", "event", "data", "comment", "retry"} (absent fields None)."""
        while "\n\n" not in self.buffer:
            chunk = next(self.chunks)
            if self.first_chunk is None:
                self.first_chunk = chunk
            self.buffer += chunk
        text, self.buffer = self.buffer.split("\n\n", 1)
        message = dict.fromkeys(("id", "event", "data", "comment", "retry"))
        for line in text.split("\n"):
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            message["comment" if field == "" else field] = value
        if message["id"] is not None:
            message["id"] = int(message["id"])
        return message

    def events(self, count: int) -> list[dict]:
        """The next `count` messages that carry an event name."""
        found = []
        while len(found) < count:
            message = self.next()
            if message["event"]:
                found.append(message)
        return found

    def ready(self) -> dict:
        """Read the hello and the position a new client gets; the stream is then subscribed."""
        assert self.next()["event"] == "hello"
        return self.next()

    def until(self, predicate, limit: int = 50) -> dict:
        """Read until a message matches (at most `limit` messages, so a bug fails, not hangs)."""
        for _ in range(limit):
            message = self.next()
            if predicate(message):
                return message
        raise AssertionError("no such message")

    def close(self):
        self.response.close()


@pytest.fixture
def tune(app):
    """A fresh in-process live state for one test (even when REDIS_URL is set: parallel test
    processes share Redis and workshop ids), whose LIVE_* settings the test may change:
    tune(keep_events=3)."""
    saved = app.extensions["cjm.live"]
    state = LiveState(app, Broker(saved.config.queue_size), MemoryPresence(), saved.config)
    app.extensions["cjm.live"] = state

    def apply(**changes):
        state.config = dataclasses.replace(state.config, **changes)

    apply(heartbeat_seconds=0.01)  # a reader that runs out of events sees heartbeats, no waits
    yield apply
    state.close()
    app.extensions["cjm.live"] = saved


def make_workshop(journey, owner, code: str) -> Workshop:
    """A committed workshop, loaded (live.stream closes the session; its id stays readable)."""
    row = Workshop(journey_id=journey.id, facilitator_id=owner.id, code=code)
    db.session.add(row)
    db.session.commit()
    db.session.refresh(row)
    return row


@pytest.fixture
def workshop(journey, owner):
    return make_workshop(journey, owner, "ABCD2345")


@pytest.fixture
def open_stream(app):
    """Open in-process streams: open_stream(workshop_id, last_event_id) -> Reader; closed after."""
    readers = []

    def opener(workshop_id, last_event_id=None, participant_id=None):
        with app.test_request_context():
            reader = Reader(live.stream(workshop_id, last_event_id, participant_id))
        readers.append(reader)
        return reader

    yield opener
    for reader in readers:
        reader.close()


def test_first_message_is_sent_at_once_with_retry(ctx, workshop, open_stream, tune):
    tune(heartbeat_seconds=60)  # if the first event waited for anything, this test would stall
    reader = open_stream(workshop.id)
    first = reader.next()
    assert first["retry"] == "1000"
    assert first["event"] == "hello"
    assert reader.first_chunk.startswith("retry: 1000\nevent: hello\n")


def test_stream_response_headers(ctx, workshop, app):
    with app.test_request_context():
        response = live.stream(workshop.id, None)
    try:
        assert response.mimetype == "text/event-stream"
        assert "no-cache" in response.headers["Cache-Control"]
        assert response.headers["X-Accel-Buffering"] == "no"
    finally:
        response.close()


def test_publish_appends_to_the_log_and_returns_the_id(ctx, workshop):
    first = live.publish(workshop.id, "note", {"note": 1})
    second = live.publish(workshop.id, "vote")
    rows = db.session.scalars(select(WorkshopEvent).order_by(WorkshopEvent.id)).all()
    assert [(r.id, r.kind, r.data) for r in rows] == [
        (first, "note", {"note": 1}),
        (second, "vote", {}),
    ]
    assert live.last_id(workshop.id) == second


def test_publish_refuses_a_kind_that_would_break_the_stream(ctx, workshop):
    with pytest.raises(ValueError):
        live.publish(workshop.id, "note\ndata: x")


def test_replay_after_last_event_id(ctx, workshop, open_stream, tune):
    ids = [live.publish(workshop.id, "note", {"n": n}) for n in range(4)]
    reader = open_stream(workshop.id, str(ids[1]))
    got = reader.events(3)  # hello, then the two events after ids[1]
    assert [m["event"] for m in got] == ["hello", "note", "note"]
    assert [m["id"] for m in got[1:]] == ids[2:]
    assert got[1]["data"] == '{"n":2}'


def test_live_events_follow_the_replay_without_duplicates(ctx, workshop, open_stream, tune):
    before = live.publish(workshop.id, "note", {"n": 0})
    reader = open_stream(workshop.id, 0)
    assert reader.events(2)[1]["id"] == before
    after = live.publish(workshop.id, "vote", {"n": 1})
    message = reader.until(lambda m: m["event"] not in (None, "hello"))
    assert (message["id"], message["event"]) == (after, "vote")
    assert reader.until(lambda m: m["comment"] == "heartbeat")  # nothing else came


def test_new_client_gets_a_position_not_a_replay(ctx, workshop, open_stream, tune):
    old = live.publish(workshop.id, "note")
    reader = open_stream(workshop.id, None)
    reader.events(1)
    position = reader.next()
    assert (position["id"], position["event"]) == (old, None)
    new = live.publish(workshop.id, "note")
    assert reader.until(lambda m: m["event"] == "note")["id"] == new


@pytest.mark.parametrize("position", ["first", "bogus", "garbage", "other-workshop"])
def test_reload_when_the_client_is_too_far_behind(
    ctx, workshop, journey, owner, open_stream, tune, position
):
    tune(keep_events=3)
    other = make_workshop(journey, owner, "OTHER234")
    ids = [live.publish(workshop.id, "note") for _ in range(6)]
    last = {
        "first": ids[0],  # 5 events after it, the log promises 3
        "bogus": ids[-1] + 1000,
        "garbage": "abc",
        "other-workshop": live.publish(other.id, "note"),
    }[position]
    reader = open_stream(workshop.id, last)
    reader.events(1)
    message = reader.next()
    assert message["event"] == "reload"
    assert message["id"] is None
    assert reader.next()["id"] == live.last_id(workshop.id)  # then it is positioned at the head


def test_no_reload_when_the_log_still_has_everything(ctx, workshop, open_stream, tune):
    tune(keep_events=3)
    ids = [live.publish(workshop.id, "note") for _ in range(6)]
    reader = open_stream(workshop.id, ids[2])
    assert [m["id"] for m in reader.events(4)[1:]] == ids[3:]


def test_reload_when_the_missed_events_are_older_than_the_log_keeps(
    ctx, workshop, open_stream, tune
):
    tune(keep_seconds=0)
    ids = [live.publish(workshop.id, "note") for _ in range(2)]
    reader = open_stream(workshop.id, ids[0])
    assert reader.events(2)[1]["event"] == "reload"


def test_log_is_pruned_to_what_it_keeps(ctx, workshop, tune):
    tune(keep_events=3, prune_every=1)
    ids = [live.publish(workshop.id, "note") for _ in range(6)]
    kept = db.session.scalars(select(WorkshopEvent.id).order_by(WorkshopEvent.id)).all()
    assert kept == ids[-3:]


def test_heartbeat_comment_while_idle(ctx, workshop, open_stream, tune):
    reader = open_stream(workshop.id)
    assert reader.until(lambda m: m["comment"] is not None)["comment"] == "heartbeat"


def test_db_session_is_closed_before_streaming(ctx, app, workshop, open_stream, tune):
    pool = db.engine.pool
    workshop_id = workshop.id
    db.session.remove()
    with app.test_request_context():
        db.session.get(Workshop, workshop_id)  # the view's own queries hold a connection…
        assert pool.checkedout() == 1
        response = live.stream(workshop_id, 0)
        assert pool.checkedout() == 0  # …released before the stream is returned
    reader = Reader(response)
    try:
        reader.until(lambda m: m["comment"] == "heartbeat")
        assert pool.checkedout() == 0  # and an idle stream holds none, of either pool
        assert app.extensions["cjm.live"].engine().pool.checkedout() == 0
    finally:
        reader.close()


def test_fan_out_to_several_subscribers(ctx, workshop, open_stream, tune):
    readers = [open_stream(workshop.id, None) for _ in range(3)]
    for reader in readers:
        reader.ready()
    ids = [live.publish(workshop.id, kind) for kind in ("note", "vote")]
    for reader in readers:
        got = [reader.until(lambda m: m["event"] is not None) for _ in ids]
        assert [(m["id"], m["event"]) for m in got] == list(zip(ids, ["note", "vote"], strict=True))


def test_other_workshops_events_do_not_reach_a_stream(
    ctx, workshop, journey, owner, open_stream, tune
):
    other = make_workshop(journey, owner, "OTHER234")
    reader = open_stream(workshop.id, None)
    reader.ready()
    live.publish(other.id, "note")
    mine = live.publish(workshop.id, "vote")
    assert reader.until(lambda m: m["event"] is not None)["id"] == mine


def test_a_slow_subscriber_never_blocks_publishers_and_catches_up(
    app, ctx, workshop, open_stream, tune
):
    state = app.extensions["cjm.live"]
    saved = state.broker.queue_size
    state.broker.queue_size = 2
    try:
        reader = open_stream(workshop.id, None)
        reader.ready()
        ids = [live.publish(workshop.id, "note", {"n": n}) for n in range(10)]  # 8 overflow
    finally:
        state.broker.queue_size = saved
    got = [reader.until(lambda m: m["event"] is not None)["id"] for _ in ids]
    assert got == ids


def test_concurrent_publishers_reach_a_stream_in_id_order(ctx, app, workshop, open_stream, tune):
    reader = open_stream(workshop.id, None)
    reader.ready()
    published = []

    def post(n):
        with app.app_context():
            for _ in range(n):
                published.append(live.publish(workshop.id, "note"))

    threads = [threading.Thread(target=post, args=(10,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    got = [reader.until(lambda m: m["event"] is not None)["id"] for _ in published]
    assert got == sorted(published)


def test_presence_in_memory(ctx, workshop, tune):
    assert live.presence.touch(workshop.id, 7) is True
    assert live.presence.touch(workshop.id, 7) is False  # nothing changed
    assert live.presence.touch(workshop.id, 8, typing=True) is True
    assert live.presence.who(workshop.id) == [(7, False), (8, True)]
    assert live.presence.touch(workshop.id, 8, typing=False) is True
    assert live.presence.leave(workshop.id, 7) is True
    assert live.presence.leave(workshop.id, 7) is False
    assert live.presence.who(workshop.id) == [(8, False)]
    live.presence.leave(workshop.id, 8)


def test_presence_expires(ctx, workshop, tune):
    tune(presence_seconds=0)
    live.presence.touch(workshop.id, 7)
    assert live.presence.who(workshop.id) == []


def test_a_participants_stream_keeps_them_present_and_says_when_they_leave(
    ctx, workshop, open_stream, tune
):
    room = open_stream(workshop.id, None)
    room.ready()
    phone = open_stream(workshop.id, None, participant_id=42)
    phone.ready()
    joined = room.until(lambda m: m["event"] is not None)
    assert (joined["event"], joined["data"]) == ("presence", '{"participant":42}')
    assert live.presence.who(workshop.id) == [(42, False)]
    phone.close()
    left = room.until(lambda m: m["event"] is not None)
    assert left["event"] == "presence"
    assert live.presence.who(workshop.id) == []


# --- Redis ------------------------------------------------------------------------------------


@pytest.fixture
def redis_state(app):
    """Two Redis-backed live states on the app's database, as two processes would have them."""
    need(bool(REDIS_URL), NEED_REDIS, "redis")
    prefix = f"cjm:test:{uuid.uuid4().hex[:8]}:"
    base = app.extensions["cjm.live"]
    states = []
    for _ in range(2):
        broker = RedisBroker(REDIS_URL, prefix, 64)
        try:
            broker.client.ping()
        except Exception as error:  # noqa: BLE001
            broker.close()
            need(False, f"{NEED_REDIS} ({error})", "redis")
        presence = RedisPresence(broker.client, prefix)
        states.append(
            LiveState(
                app, broker, presence, dataclasses.replace(base.config, heartbeat_seconds=0.01)
            )
        )
    yield states
    for state in states:
        state.close()
    app.extensions["cjm.live"] = base


def test_redis_fan_out_reaches_the_other_process(ctx, app, workshop, redis_state):
    publisher, subscriber = redis_state
    app.extensions["cjm.live"] = subscriber
    with app.test_request_context():
        reader = Reader(live.stream(workshop.id, None))
    try:
        reader.ready()
        app.extensions["cjm.live"] = publisher
        ids = [live.publish(workshop.id, "note", {"n": n}) for n in range(3)]
        got = [reader.until(lambda m: m["event"] is not None) for _ in ids]
        assert [m["id"] for m in got] == ids
        assert got[2]["data"] == '{"n":2}'
    finally:
        reader.close()


def test_redis_listener_loss_is_caught_up_from_the_log(ctx, app, workshop, redis_state):
    publisher, subscriber = redis_state
    app.extensions["cjm.live"] = subscriber
    with app.test_request_context():
        reader = Reader(live.stream(workshop.id, None))
    try:
        reader.ready()
        app.extensions["cjm.live"] = publisher
        # An event the subscriber's process never hears about (as if Redis dropped it)…
        with db.engine.begin() as conn:
            missed = log.append(conn, workshop.id, "note", {})
        subscriber.broker.resync_all()  # …until its listener reconnects and resyncs
        assert reader.until(lambda m: m["event"] is not None)["id"] == missed
    finally:
        reader.close()


def test_presence_in_redis_is_shared(ctx, workshop, redis_state):
    one, two = (s.presence for s in redis_state)
    assert one.touch(workshop.id, 5, True, 30, 5) is True
    assert two.touch(workshop.id, 5, None, 30, 5) is False  # the other process sees them
    assert two.who(workshop.id) == [(5, True)]
    assert one.touch(workshop.id, 6, False, 0, 5) is False  # expired at once
    assert one.who(workshop.id) == [(5, True)]
    assert two.leave(workshop.id, 5) is True
    assert one.who(workshop.id) == []


# --- Two gunicorn workers behind Redis and PostgreSQL ------------------------------------------
# Two gunicorn masters with one gthread worker each, on two loopback ports, so the test knows which
# worker serves what (one master's workers share a socket: the kernel picks). Both use the same
# PostgreSQL database (the log) and Redis (the fan-out); LIVE_TEST_ROUTES gives them an HTTP
# publish endpoint, since the workshop routes are not needed to prove the transport.


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(port: int, workshop_id: int, kind: str, data: dict | None = None) -> tuple[int, int]:
    """Publish over HTTP through the server on `port`; (event id, worker pid)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        body = json.dumps({"kind": kind, "data": data or {}})
        connection.request(
            "POST", f"/_live/{workshop_id}/events", body, {"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        assert response.status == 200, response.read()
        answer = json.loads(response.read())
        return answer["id"], answer["pid"]
    finally:
        connection.close()


def _wait_until_up(port: int, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited: {log_path.read_text()[-2000:]}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/_live/0/nothing")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
        finally:
            connection.close()
    raise AssertionError(f"gunicorn on {port} did not start: {log_path.read_text()[-2000:]}")


def _pg_ready(url: str) -> tuple[bool, str]:
    """Create the test database if PostgreSQL is there; (ok, why not)."""
    import psycopg

    base, _, name = url.rpartition("/")
    try:
        with psycopg.connect(base + "/postgres", autocommit=True, connect_timeout=3) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        return False, str(error).strip()
    return True, ""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Two gunicorn servers (one worker each) on a fresh PostgreSQL schema and Redis."""
    need(bool(REDIS_URL), NEED_REDIS, "redis")
    ok, why = _pg_ready(LIVE_PG)
    need(ok, f"needs PostgreSQL at {LIVE_PG} (CJM_LIVE_TEST_PG=...): {why}", "postgresql")
    from cjm.config import database_url

    os.environ["DATABASE_URL"], saved = LIVE_PG, os.environ.get("DATABASE_URL")
    try:
        uri = database_url("")
    finally:
        if saved is None:
            del os.environ["DATABASE_URL"]
        else:
            os.environ["DATABASE_URL"] = saved
    workshops = _prepare(uri, count=3)
    env = {
        "DATABASE_URL": LIVE_PG,
        "REDIS_URL": REDIS_URL,
        "CJM_LIVE_REDIS_PREFIX": f"cjm:test:{uuid.uuid4().hex[:8]}:",
    }
    logs = tmp_path_factory.mktemp("gunicorn")
    servers = []
    try:
        for n in range(2):
            servers.append(_gunicorn(env, logs / f"gunicorn-{n}.log"))
        for port, process, log_path in servers:
            _wait_until_up(port, process, log_path)
        yield {"ports": [s[0] for s in servers], "workshops": workshops}
    finally:
        _stop([process for _, process, _ in servers])


def _prepare(uri: str, count: int) -> list[int]:
    """A fresh schema on `uri` with a map and `count` workshops; their ids."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from cjm import create_app

    setup = create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "test", "REDIS_URL": None})
    with setup.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        owner = make_user("facilitator@example.com", "Fay")
        journey = make_map(owner)
        workshops = [make_workshop(journey, owner, f"LIVE{n}2345").id for n in range(count)]
        db.session.remove()
        db.engine.dispose()
        setup.extensions["cjm.live"].engine().dispose()
    return workshops


def _gunicorn(env: dict, log_path: Path) -> tuple[int, subprocess.Popen, Path]:
    """Start gunicorn (gunicorn.conf.py, one gthread worker) on a free loopback port."""
    port = _free_port()
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env = {
        **base,
        "SECRET_KEY": "live-test",
        "CJM_LIVE_TEST_ROUTES": "true",
        "CJM_LIVE_HEARTBEAT_SECONDS": "1",
        **env,
    }
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        *("-c", "gunicorn.conf.py", "--workers", "1", "--threads", "32"),
        *("--bind", f"127.0.0.1:{port}", "--graceful-timeout", "2"),
    ]
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
    return port, process, log_path


def _stop(processes: list[subprocess.Popen]) -> None:
    """Stop the gunicorn masters started here (each stops its worker); SIGKILL their group if
    they hang."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def _open(port: int, workshop_id: int, last_event_id=None) -> SSEClient:
    """An SSE client on `port`, retrying while the server's worker is being respawned."""
    deadline = time.monotonic() + 30
    while True:
        try:
            client = SSEClient("127.0.0.1", port, f"/_live/{workshop_id}/events", last_event_id)
            assert client.response.status == 200
            return client
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_an_event_posted_through_one_worker_reaches_a_stream_on_the_other(cluster):
    one, two = cluster["ports"]
    workshop_id = cluster["workshops"][0]
    client = _open(one, workshop_id)
    try:
        assert client.next()["event"] == "hello"
        assert client.retry == 1000
        client.next()  # its position: subscribed from here on
        event_id, publisher = _post(two, workshop_id, "note", {"note": 1})
        assert publisher != client.worker
        message = client.events(1)[0]
        assert (message["id"], message["event"], message["data"]) == (
            event_id,
            "note",
            '{"note":1}',
        )
    finally:
        client.close()


def test_a_killed_worker_s_clients_reconnect_and_miss_no_event(cluster):
    one, two = cluster["ports"]
    workshop_id = cluster["workshops"][1]
    client = _open(one, workshop_id)
    try:
        client.next()
        client.next()
        first, _ = _post(two, workshop_id, "note", {"n": 0})
        assert client.events(1)[0]["id"] == first
        os.kill(client.worker, signal.SIGKILL)  # mid-workshop; its master starts a new one
        with pytest.raises((EOFError, OSError, http.client.HTTPException)):
            for _ in range(100):
                client.next()
        missed = [_post(two, workshop_id, "vote", {"n": n})[0] for n in range(1, 6)]
    finally:
        client.close()
    # What hx-sse does: reconnect to the same URL with Last-Event-ID.
    again = _open(one, workshop_id, last_event_id=client.last_id)
    try:
        assert again.worker != client.worker
        got = again.events(1 + len(missed))
        assert got[0]["event"] == "hello"
        assert [m["id"] for m in got[1:]] == missed
        later, _ = _post(two, workshop_id, "note", {"n": 6})
        assert again.events(1)[0]["id"] == later
    finally:
        again.close()


def test_a_stream_survives_the_publishing_worker_being_killed(cluster):
    one, two = cluster["ports"]
    workshop_id = cluster["workshops"][2]
    client = _open(one, workshop_id)
    try:
        client.next()
        client.next()
        first, publisher = _post(two, workshop_id, "note")
        assert client.events(1)[0]["id"] == first
        os.kill(publisher, signal.SIGKILL)
        second, respawned = _post_retrying(two, workshop_id)
        assert respawned != publisher
        assert client.events(1)[0]["id"] == second
    finally:
        client.close()


def _post_retrying(port: int, workshop_id: int) -> tuple[int, int]:
    deadline = time.monotonic() + 30
    while True:
        try:
            return _post(port, workshop_id, "note")
        except (OSError, http.client.HTTPException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_one_process_restarted_mid_workshop_misses_nothing(tmp_path):
    """`make run`'s setup (one process, SQLite, the in-process broker): the server's worker is
    killed and comes back; the client reconnects with Last-Event-ID and is replayed the log."""
    uri = f"sqlite:///{tmp_path}/live.sqlite"
    (workshop_id,) = _prepare(uri, count=1)
    port, process, log_path = _gunicorn({"DATABASE_URL": uri}, tmp_path / "gunicorn.log")
    try:
        _wait_until_up(port, process, log_path)
        client = _open(port, workshop_id)
        try:
            client.next()
            client.next()
            first, _ = _post(port, workshop_id, "note")
            assert client.events(1)[0]["id"] == first
            os.kill(client.worker, signal.SIGKILL)
            with pytest.raises((EOFError, OSError, http.client.HTTPException)):
                for _ in range(100):
                    client.next()
        finally:
            client.close()
        missed = [_post_retrying(port, workshop_id)[0] for _ in range(3)]  # while it is away
        again = _open(port, workshop_id, last_event_id=client.last_id)
        try:
            assert [m["id"] for m in again.events(4)[1:]] == missed
        finally:
            again.close()
    finally:
        _stop([process])
