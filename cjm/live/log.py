"""The durable event log (`workshop_event`): appends in id order per workshop, and what a
reconnecting client is owed.

Order matters more than speed here. A client resumes "after id N", so within one workshop a larger
id must never become visible (or be broadcast) before a smaller one. Appends of one workshop are
therefore serialised from the insert to the commit — by a PostgreSQL advisory lock, by SQLite's
single writer — and the frame is broadcast *inside* that window. A stream reads its replay under
the same lock, so an append is either in its replay or arrives on its subscription (or both:
duplicates are dropped by id), never neither.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select, text

from cjm.models import WorkshopEvent

EVENTS = WorkshopEvent.__table__
INSERT = insert(EVENTS)
LOCK_SPACE = 0x636A6D  # "cjm": the advisory-lock namespace of workshop logs


def _now() -> datetime:
    """UTC now without tzinfo: how `created_at` comes back from both databases."""
    return datetime.now(UTC).replace(tzinfo=None)


def append(conn: Connection, workshop_id: int, kind: str, data: dict) -> int:
    """Insert one event in an open transaction; the workshop stays locked until its commit."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), CAST(:ws AS integer))"),
            {"space": LOCK_SPACE, "ws": workshop_id},
        )
    result = conn.execute(INSERT, {"workshop_id": workshop_id, "kind": kind, "data": data})
    return int(result.inserted_primary_key[0])


def lock_for_reading(conn: Connection, workshop_id: int, other_processes: bool) -> None:
    """Wait for an append in flight to commit (other processes only; this one has a thread lock)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                "SELECT pg_advisory_xact_lock_shared(CAST(:space AS integer), CAST(:ws AS integer))"
            ),
            {"space": LOCK_SPACE, "ws": workshop_id},
        )
    elif conn.dialect.name == "sqlite" and other_processes:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def head(conn: Connection, workshop_id: int) -> int:
    """The workshop's newest event id (0 when it has none)."""
    latest = conn.scalar(select(func.max(EVENTS.c.id)).where(EVENTS.c.workshop_id == workshop_id))
    return int(latest or 0)


def owed(
    conn: Connection, workshop_id: int, after: int, keep: int, keep_seconds: float
) -> list | None:
    """The events after id `after` (oldest first), or None if the log no longer has them all.

    The log keeps the newest `keep` events of a workshop that are younger than `keep_seconds`.
    `after` = 0 means "from the start". An id that is not (or no longer) this workshop's is
    refused: events between it and the oldest one kept may be gone.
    """
    if after > 0:
        owner = conn.scalar(select(EVENTS.c.workshop_id).where(EVENTS.c.id == after))
        if owner != workshop_id:
            return None
    rows = conn.execute(
        select(EVENTS.c.id, EVENTS.c.kind, EVENTS.c.data, EVENTS.c.created_at)
        .where(EVENTS.c.workshop_id == workshop_id, EVENTS.c.id > after)
        .order_by(EVENTS.c.id)
        .limit(keep + 1)
    ).all()
    if len(rows) > keep:
        return None
    if rows and rows[0].created_at < _now() - timedelta(seconds=keep_seconds):
        return None
    return rows


def prune(conn: Connection, workshop_id: int, keep: int, keep_seconds: float) -> int:
    """Delete what the log no longer promises to keep (a prefix: clients past it are told to
    reload); returns how many rows went."""
    cutoff_id = conn.scalar(
        select(EVENTS.c.id)
        .where(EVENTS.c.workshop_id == workshop_id)
        .order_by(EVENTS.c.id.desc())
        .offset(keep)
        .limit(1)
    )
    cutoff_time = _now() - timedelta(seconds=keep_seconds)
    condition = EVENTS.c.created_at < cutoff_time
    if cutoff_id is not None:
        condition = condition | (EVENTS.c.id <= cutoff_id)
    result = conn.execute(delete(EVENTS).where(EVENTS.c.workshop_id == workshop_id, condition))
    return result.rowcount
