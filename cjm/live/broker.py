"""The in-process broker: per-workshop subscriber queues, fan-out that never blocks a publisher.

The broker only carries ready-made SSE frames to the streams of *this* process; the durable log is
the `workshop_event` table (cjm/live/log.py). A subscriber whose bounded queue overflows is not
dropped and does not slow anyone down: it is marked `lost` and catches up from the log.
"""

import queue
import threading
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Frame:
    """One event as it goes on the wire: its id (for de-duplication) and the SSE text."""

    id: int
    text: str


class Subscription:
    """One open stream's mailbox: a bounded queue plus a flag saying "you missed some"."""

    def __init__(self, workshop_id: int, size: int):
        self.workshop_id = workshop_id
        self.queue: queue.Queue[Frame | None] = queue.Queue(maxsize=size)
        self.lost = False

    def deliver(self, frame: Frame | None) -> None:
        """Queue a frame without ever waiting; on overflow, flag the subscriber for a catch-up."""
        try:
            self.queue.put_nowait(frame)
        except queue.Full:
            self.lost = True

    def resync(self) -> None:
        """Ask the stream to re-read the log (after an overflow or a lost Redis connection)."""
        self.lost = True
        self.deliver(None)  # wake it up; None carries no event

    def get(self, timeout: float) -> Frame | None:
        """The next frame, None for a wake-up; raises queue.Empty after `timeout` seconds."""
        return self.queue.get(timeout=timeout)

    def drain(self) -> None:
        """Throw away what is queued: a catch-up from the log replaces it."""
        try:
            while True:
                self.queue.get_nowait()
        except queue.Empty:
            pass


class Broker:
    """Fan-out inside one process. Thread-safe; starts no threads."""

    def __init__(self, queue_size: int = 256):
        self.queue_size = queue_size
        self._subscribers: dict[int, set[Subscription]] = {}
        self._guard = threading.Lock()
        self._workshop_locks: dict[int, threading.Lock] = {}

    def subscribe(self, workshop_id: int) -> Subscription:
        """A new mailbox that receives every frame published on this workshop from now on."""
        sub = Subscription(workshop_id, self.queue_size)
        with self._guard:
            self._subscribers.setdefault(workshop_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget a mailbox (the stream closed)."""
        with self._guard:
            subs = self._subscribers.get(sub.workshop_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subscribers[sub.workshop_id]

    def subscriber_count(self, workshop_id: int) -> int:
        """How many streams of this process follow the workshop."""
        with self._guard:
            return len(self._subscribers.get(workshop_id, ()))

    def fan_out(self, workshop_id: int, frame: Frame) -> None:
        """Hand a frame to every local subscriber of the workshop (never blocks)."""
        with self._guard:
            subs = list(self._subscribers.get(workshop_id, ()))
        for sub in subs:
            sub.deliver(frame)

    def resync_all(self) -> None:
        """Every local stream re-reads the log: frames may have been missed in transit."""
        with self._guard:
            subs = [s for group in self._subscribers.values() for s in group]
        for sub in subs:
            sub.resync()

    def publish(self, workshop_id: int, frame: Frame) -> None:
        """Send a frame to the workshop's subscribers (here: this process only)."""
        self.fan_out(workshop_id, frame)

    def workshop_lock(self, workshop_id: int) -> threading.Lock:
        """The lock that orders appends and replays of one workshop inside this process."""
        with self._guard:
            return self._workshop_locks.setdefault(workshop_id, threading.Lock())

    def close(self) -> None:
        """Nothing to stop in-process (the Redis broker overrides this)."""
