"""Observations through the API: keys resolved against the map, batches written whole, pages read
back with the elements' keys (one query per page, joins instead of lookups per row)."""

from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import func, select

from .. import evidence
from ..extensions import db
from ..journey.model import ValidationError
from ..models import Channel, Observation, Segment, Stage, Touchpoint
from ..store import live


@dataclass
class Keys:
    """The ids of the map's live elements by key: what an observation may reference."""

    touchpoints: dict[str, int]
    stages: dict[str, int]
    channels: dict[str, int]
    segments: dict[str, int]


def keys_of(journey_id: int) -> Keys:
    """The live elements of a map by key (a touchpoint on a hidden stage or channel is hidden)."""
    stages = {s.key: s.id for s in db.session.scalars(live(Stage, journey_id))}
    channels = {c.key: c.id for c in db.session.scalars(live(Channel, journey_id))}
    live_stages, live_channels = set(stages.values()), set(channels.values())
    touchpoints = {
        t.key: t.id
        for t in db.session.scalars(live(Touchpoint, journey_id))
        if t.stage_id in live_stages and t.channel_id in live_channels
    }
    segments = {s.key: s.id for s in db.session.scalars(live(Segment, journey_id))}
    return Keys(touchpoints, stages, channels, segments)


# evidence.observation_values names fields by column; the API by the document's names.
API_FIELD = {f"{name}_id": name for name in ("touchpoint", "stage", "channel", "segment")}
API_FIELD["observed_on"] = "date"


def resolve(journey_id: int, item: dict, keys: Keys) -> tuple[Observation | None, dict]:
    """An Observation row from validated input, or per-field messages (bad keys, broken rules).

    The rules are evidence.observation_values', as for every writer: stage and channel come from
    the touchpoint (given as well, they must agree), a score or a verbatim is needed."""
    errors: dict[str, list[str]] = {}
    ids = {}
    for name in ("touchpoint", "stage", "channel", "segment"):
        known, value = getattr(keys, name + "s"), item.get(name)
        if value is not None and value not in known:
            errors[name] = [f"Unknown {name} key."]
        ids[name + "_id"] = known.get(value)
    if errors:
        return None, errors
    try:
        values = evidence.observation_values(
            journey_id,
            **ids,
            source=item["source"],
            observed_on=item.get("date"),
            respondent=item.get("respondent", ""),
            csat=item.get("csat"),
            nps=item.get("nps"),
            ces=item.get("ces"),
            verbatim=item.get("verbatim", ""),
        )
    except ValidationError as e:
        return None, {API_FIELD.get(k, k): [v] for k, v in e.field_errors.items()}
    return Observation(**values), {}


def add_all(journey_id: int, items: list[dict]) -> tuple[list[Observation], dict]:
    """Rows for every item, added to the session, or (nothing added) the errors by item index."""
    keys = keys_of(journey_id)
    rows, errors = [], {}
    for i, item in enumerate(items):
        row, problems = resolve(journey_id, item, keys)
        if problems:
            errors[i] = problems
        rows.append(row)
    if errors:
        return [], errors
    db.session.add_all(rows)
    db.session.flush()
    return rows, {}


def listing(journey_id: int):
    """SELECT the map's live observations with the keys of what they reference, oldest first."""
    return (
        select(Observation, Touchpoint.key, Stage.key, Channel.key, Segment.key)
        .outerjoin(Touchpoint, Touchpoint.id == Observation.touchpoint_id)
        .outerjoin(Stage, Stage.id == Observation.stage_id)
        .outerjoin(Channel, Channel.id == Observation.channel_id)
        .outerjoin(Segment, Segment.id == Observation.segment_id)
        .where(Observation.journey_id == journey_id, Observation.deletion_id.is_(None))
        .order_by(Observation.id)
    )


def filtered(query, source=None, touchpoint=None, stage=None, channel=None, segment=None,
             date_from=None, date_to=None):  # fmt: skip
    """The listing narrowed by source, element keys and an observation date range."""
    for column, value in (
        (Observation.source, source),
        (Touchpoint.key, touchpoint),
        (Stage.key, stage),
        (Channel.key, channel),
        (Segment.key, segment),
    ):
        if value is not None:
            query = query.where(column == value)
    if date_from is not None:
        query = query.where(Observation.observed_on >= date_from)
    if date_to is not None:
        query = query.where(Observation.observed_on <= date_to)
    return query


def page_of(journey_id: int, page: int, per_page: int, **filters) -> dict:
    """One page of the map's observations (filters as in `filtered`), with the total count."""
    query = filtered(listing(journey_id), **filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {
        "observations": [as_dict(*row) for row in rows],
        "page": page,
        "per_page": per_page,
        "total": total,
    }


def as_dict(row: Observation, touchpoint=None, stage=None, channel=None, segment=None) -> dict:
    """An observation as the API shows it, elements by key."""
    created = row.created_at
    return {
        "id": row.id,
        "source": row.source,
        "touchpoint": touchpoint,
        "stage": stage,
        "channel": channel,
        "segment": segment,
        "date": row.observed_on,
        "respondent": row.respondent,
        "csat": row.csat,
        "nps": row.nps,
        "ces": row.ces,
        "verbatim": row.verbatim,
        # SQLite hands back naive datetimes; they were stored as UTC.
        "created_at": created if created.tzinfo else created.replace(tzinfo=UTC),
    }


def stored(journey_id: int, rows: list[Observation]) -> list[dict]:
    """Freshly written rows as the API shows them."""
    ids = [r.id for r in rows]
    found = db.session.execute(listing(journey_id).where(Observation.id.in_(ids))).all()
    return [as_dict(*row) for row in found]
