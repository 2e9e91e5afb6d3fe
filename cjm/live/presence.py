"""Who is in a workshop's room and who is typing: expiry-based, so a closed tab or a killed worker
drops out by itself. In memory for one process; a Redis hash per workshop when REDIS_URL is set.

`touch` and `leave` say whether the room changed, so a caller publishes a `presence` event only
then. An open stream of a participant touches them on every heartbeat (see cjm.live.stream).
"""

import threading
import time

from flask import current_app


class MemoryPresence:
    """Presence inside one process: {workshop: {participant: [seen_until, typing_until]}}."""

    def __init__(self):
        self._rooms: dict[int, dict[int, list[float]]] = {}
        self._lock = threading.Lock()

    def touch(
        self, workshop_id: int, participant_id: int, typing: bool | None, ttl: float, typing_ttl
    ) -> bool:
        """Mark someone present (and typing or not; None keeps it); True if the room changed."""
        now = time.time()
        with self._lock:
            room = self._rooms.setdefault(workshop_id, {})
            before = _state(room.get(participant_id), now)
            seen, typed = room.get(participant_id, [0.0, 0.0])
            if typing is not None:
                typed = now + typing_ttl if typing else 0.0
            room[participant_id] = [now + ttl, typed]
            return before != _state(room[participant_id], now)

    def leave(self, workshop_id: int, participant_id: int) -> bool:
        """Take someone out of the room; True if they were in it."""
        now = time.time()
        with self._lock:
            entry = self._rooms.get(workshop_id, {}).pop(participant_id, None)
            return _state(entry, now) is not None

    def who(self, workshop_id: int) -> list[tuple[int, bool]]:
        """(participant id, typing) of everyone present, by id; forgets the expired."""
        now = time.time()
        with self._lock:
            room = self._rooms.get(workshop_id, {})
            for pid in [p for p, entry in room.items() if entry[0] <= now]:
                del room[pid]
            return sorted((pid, entry[1] > now) for pid, entry in room.items())


class RedisPresence:
    """Presence shared by every process: hash `<prefix>presence:<workshop>`, field = participant,
    value = "seen_until typing_until" (wall-clock seconds)."""

    def __init__(self, client, prefix: str):
        self.client = client
        self.prefix = prefix

    def _key(self, workshop_id: int) -> str:
        return f"{self.prefix}presence:{workshop_id}"

    def _entry(self, raw) -> list[float] | None:
        return [float(x) for x in raw.split()] if raw else None

    def touch(
        self, workshop_id: int, participant_id: int, typing: bool | None, ttl: float, typing_ttl
    ) -> bool:
        """Mark someone present (and typing or not; None keeps it); True if the room changed."""
        now = time.time()
        key = self._key(workshop_id)
        old = self._entry(self.client.hget(key, participant_id))
        typed = old[1] if old else 0.0
        if typing is not None:
            typed = now + typing_ttl if typing else 0.0
        new = [now + ttl, typed]
        with self.client.pipeline() as pipe:
            pipe.hset(key, participant_id, f"{new[0]!r} {new[1]!r}")  # exact: no rounding up
            pipe.expire(key, int(ttl * 4) + 60)  # an abandoned room cleans itself up
            pipe.execute()
        return _state(old, now) != _state(new, now)

    def leave(self, workshop_id: int, participant_id: int) -> bool:
        """Take someone out of the room; True if they were in it."""
        key = self._key(workshop_id)
        with self.client.pipeline() as pipe:
            pipe.hget(key, participant_id)
            pipe.hdel(key, participant_id)
            old, _ = pipe.execute()
        return _state(self._entry(old), time.time()) is not None

    def who(self, workshop_id: int) -> list[tuple[int, bool]]:
        """(participant id, typing) of everyone present, by id; forgets the expired."""
        now = time.time()
        key = self._key(workshop_id)
        present, expired = [], []
        for field, raw in self.client.hgetall(key).items():
            entry = self._entry(raw)
            if entry[0] <= now:
                expired.append(field)
            else:
                present.append((int(field), entry[1] > now))
        if expired:
            self.client.hdel(key, *expired)
        return sorted(present)


def _state(entry: list[float] | None, now: float) -> bool | None:
    """None if absent or expired, else whether typing: what the room list shows."""
    if entry is None or entry[0] <= now:
        return None
    return entry[1] > now


def _store():
    state = current_app.extensions["cjm.live"]
    return state.presence, state.config


def touch(workshop_id: int, participant_id: int, typing: bool = False) -> bool:
    """Someone is in the room (typing or not) for the next LIVE_PRESENCE_SECONDS; True if the
    room list changed (publish a `presence` event then)."""
    store, config = _store()
    return store.touch(
        workshop_id, participant_id, typing, config.presence_seconds, config.typing_seconds
    )


def leave(workshop_id: int, participant_id: int) -> bool:
    """Someone left (closed the tab, was removed); True if they were in the room."""
    store, _ = _store()
    return store.leave(workshop_id, participant_id)


def who(workshop_id: int) -> list[tuple[int, bool]]:
    """Everyone present: (participant id, typing), by participant id."""
    store, _ = _store()
    return store.who(workshop_id)
