"""Test- and bench-only HTTP endpoints for the live layer (LIVE_TEST_ROUTES=True, never in
production): publish and stream any workshop without an account, so tests/test_live.py and
bench/live.py can drive real gunicorn workers over HTTP. Every response names its worker."""

import contextlib
import http.client
import os
import socket

from flask import Blueprint, Flask, g, jsonify, request

bp = Blueprint("live_testing", __name__, url_prefix="/_live")


def _label(response):
    """Name the worker, and the events this request published (any route: the bench correlates
    a POST with its deliveries)."""
    response.headers["X-Worker-Pid"] = str(os.getpid())
    if ids := g.get("live_events"):
        response.headers["X-Live-Events"] = ",".join(map(str, ids))
    return response


@bp.post("/<int:workshop_id>/events")
def publish(workshop_id: int):
    """Publish {"kind": ..., "data": {...}} on a workshop; answers the event id and the worker."""
    from . import publish as live_publish

    body = request.get_json(force=True)
    event_id = live_publish(workshop_id, body.get("kind", "note"), body.get("data") or {})
    return jsonify(id=event_id, pid=os.getpid())


@bp.get("/<int:workshop_id>/events")
def events(workshop_id: int):
    """The workshop's SSE stream, resuming from Last-Event-ID (or ?last_event_id=)."""
    from . import stream

    last = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
    return stream(workshop_id, last, request.args.get("participant", type=int))


def register(app: Flask) -> None:
    """Mount the endpoints (CSRF-exempt: there is no form, and no production use)."""
    from cjm.extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.after_request(_label)


class SSEClient:
    """A minimal blocking SSE reader over http.client (stdlib only), for tests and bench/live.py:
    `next()` returns the next message as a dict (id, event, data, comment)."""

    def __init__(
        self, host: str, port: int, path: str, last_event_id=None, timeout: float = 10, headers=None
    ):
        self.connection = http.client.HTTPConnection(host, port, timeout=timeout)
        headers = {"Accept": "text/event-stream", **(headers or {})}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.connection.request("GET", path, headers=headers)
        self._socket = self.connection.sock  # getresponse may let go of it
        self.response = self.connection.getresponse()
        self.worker = int(self.response.headers.get("X-Worker-Pid") or 0)
        self.last_id = last_event_id
        self.retry = None

    def next(self) -> dict:
        """The next message (comments too); raises EOFError when the server closed the stream."""
        message = {"id": None, "event": None, "data": None, "comment": None}
        seen = False
        while True:
            line = self.response.readline()
            if not line:
                raise EOFError("stream closed")
            line = line.decode().rstrip("\r\n")
            if not line:
                if seen:
                    return message
                continue
            seen = True
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "":
                message["comment"] = value
            elif field == "id":
                message["id"] = int(value)
                self.last_id = int(value)
            elif field == "retry":
                self.retry = int(value)
            elif field in ("event", "data"):
                message[field] = value

    def events(self, count: int) -> list[dict]:
        """The next `count` messages that carry an event (skipping comments and bare ids)."""
        found = []
        while len(found) < count:
            message = self.next()
            if message["event"]:
                found.append(message)
        return found

    def close(self) -> None:
        """Drop the connection (the server notices on its next write). The shutdown first wakes
        a thread blocked reading this stream, which would otherwise hold the reader's lock."""
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        self.connection.close()


def die_with_parent() -> None:
    """A Popen preexec_fn: the child gets SIGTERM when the test or bench process dies, even if it
    is killed before its cleanup runs (Linux; elsewhere a no-op)."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
