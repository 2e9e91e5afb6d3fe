"""Fan-out through Redis pub/sub, so every gunicorn worker and host serves the same workshop.

Why pub/sub and not a Redis stream as the log: the log is already the `workshop_event` table, in
the same database (and the same transaction rules) as the notes and votes it describes; it works
without Redis, survives a Redis restart and keeps one id space for both configurations. Redis only
has to carry frames to the other processes, fast; whatever it drops in transit (a worker's
listener reconnecting) is caught up from the table, because every stream then re-reads the log.

One listener thread per process, started by the first subscriber (never at import time, and again
in a forked child), pattern-subscribed to every workshop channel.
"""

import contextlib
import json
import logging
import os
import threading
import time

import redis

from .broker import Broker, Frame

log = logging.getLogger(__name__)


class RedisBroker(Broker):
    """The in-process broker, fed by one Redis subscription instead of by local publishers."""

    def __init__(self, url: str, prefix: str = "cjm:live:", queue_size: int = 256):
        super().__init__(queue_size)
        self.url = url
        self.prefix = prefix
        self._redis = redis.Redis.from_url(url, socket_timeout=5, health_check_interval=30)
        self._start = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._ready = threading.Event()
        self._stop = threading.Event()

    @property
    def client(self) -> redis.Redis:
        """The shared Redis client (its pool is fork-safe); presence uses it too."""
        return self._redis

    def channel(self, workshop_id: int) -> str:
        """The pub/sub channel of one workshop."""
        return f"{self.prefix}ws:{workshop_id}"

    def publish(self, workshop_id: int, frame: Frame) -> None:
        """Send the frame to every process's listener (ours included)."""
        payload = json.dumps({"id": frame.id, "text": frame.text})
        self._redis.publish(self.channel(workshop_id), payload)

    def subscribe(self, workshop_id: int):
        """A local mailbox, once the listener is surely subscribed (so no frame slips past)."""
        sub = super().subscribe(workshop_id)
        self._ensure_listener()
        if not self._ready.wait(timeout=5):
            # Redis is down: the stream still serves the log and catches up once it is back.
            sub.lost = True
        return sub

    def _ensure_listener(self) -> None:
        """Start the listener thread on first use (in this process: a forked worker starts anew)."""
        with self._start:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = None
                self._ready = threading.Event()
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._listen, name="cjm-live-redis", daemon=True
                )
                self._thread.start()

    def _listen(self) -> None:
        """Receive every workshop's frames, fan them out locally; reconnect and resync on loss."""
        pattern = f"{self.prefix}ws:*"
        offset = len(self.prefix) + 3
        delay = 0.2
        reconnected = False
        while not self._stop.is_set():
            pubsub = self._redis.pubsub(ignore_subscribe_messages=False)
            try:
                pubsub.psubscribe(pattern)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is None:
                        continue
                    if message["type"] == "psubscribe":
                        if reconnected:
                            # Frames published while we were away are in the log: re-read it.
                            self.resync_all()
                        self._ready.set()
                        reconnected = True
                        delay = 0.2
                    elif message["type"] == "pmessage":
                        workshop_id = int(message["channel"][offset:])
                        body = json.loads(message["data"])
                        self.fan_out(workshop_id, Frame(body["id"], body["text"]))
            except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
                self._ready.clear()
                log.warning("live: Redis listener lost its connection (%s); retrying", error)
                self.resync_all()
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):  # closing a broken connection may fail too
                    pubsub.close()

    def close(self) -> None:
        """Stop the listener (tests and benchmarks; a worker just exits)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout=3)
        self._redis.close()
