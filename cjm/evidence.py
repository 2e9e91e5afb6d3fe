"""Step 3 evidence at the row level: checked observation values, segments and evidence for export.

Every writer of observations (the forms, the survey import, mystery-shopper visits, the API) goes
through observation_values(), so the rules hold everywhere: references belong to the map and are
live, a touchpoint fixes the stage and channel, scores stay in range.
"""

from datetime import date, timedelta

from flask import has_request_context
from flask_babel import gettext
from sqlalchemy import or_, select

from .extensions import db
from .journey import model as dm
from .models import (
    Channel,
    Interview,
    Observation,
    Segment,
    Stage,
    SurveyImport,
    Touchpoint,
    Visit,
)
from .store import live, ordered

SCORES = {"csat": dm.CSAT_RANGE, "nps": dm.NPS_RANGE, "ces": dm.CES_RANGE}
VERBATIM_MAX, RESPONDENT_MAX = 5000, 120
# Links to the record an observation came from; each must belong to the same map.
LINKS = {"interview_id": Interview, "visit_id": Visit, "import_id": SurveyImport}


def _(message: str, **values) -> str:
    """Translate a message in a request; imports and the CLI run outside one (plain English)."""
    if has_request_context():
        return gettext(message, **values)
    return message % values if values else message


def latest_date() -> date:
    """The latest observation date accepted: tomorrow (a researcher may be a timezone ahead)."""
    return date.today() + timedelta(days=1)


def _live_part(model, journey_id: int, part_id: int | None):
    """The live element of this map with this id, or None."""
    part = db.session.get(model, part_id) if part_id is not None else None
    if part is None or part.journey_id != journey_id or part.deletion_id is not None:
        return None
    return part


def observation_values(
    journey_id: int,
    touchpoint_id: int | None = None,
    stage_id: int | None = None,
    channel_id: int | None = None,
    segment_id: int | None = None,
    source: str = "survey",
    observed_on: date | None = None,
    respondent: str = "",
    csat: int | None = None,
    nps: int | None = None,
    ces: int | None = None,
    verbatim: str = "",
    require_measure: bool = True,
    **links: int | None,
) -> dict:
    """Checked column values for an Observation of this map (ValidationError by field name).

    A touchpoint fills stage_id and channel_id; a stage or channel given beside it must agree.
    Without a touchpoint, a stage and/or a channel is needed. Unless require_measure is False,
    at least one score or a verbatim is needed too."""
    errors: dict[str, str] = {}
    unknown = set(links) - set(LINKS)
    if unknown:
        raise TypeError(f"unknown observation links: {sorted(unknown)}")
    touchpoint = _live_part(Touchpoint, journey_id, touchpoint_id)
    stage = _live_part(Stage, journey_id, stage_id)
    channel = _live_part(Channel, journey_id, channel_id)
    if touchpoint is not None and (
        _live_part(Stage, journey_id, touchpoint.stage_id) is None
        or _live_part(Channel, journey_id, touchpoint.channel_id) is None
    ):
        touchpoint = None  # it hangs on a deleted stage or channel, so it is gone too
    if touchpoint_id is not None and touchpoint is None:
        errors["touchpoint_id"] = _("Choose a touchpoint of this map.")
    if stage_id is not None and stage is None:
        errors["stage_id"] = _("Choose a stage of this map.")
    if channel_id is not None and channel is None:
        errors["channel_id"] = _("Choose a channel of this map.")
    if touchpoint is not None:
        if stage is not None and stage.id != touchpoint.stage_id:
            errors["stage_id"] = _("The touchpoint is at another stage; leave the stage empty.")
        if channel is not None and channel.id != touchpoint.channel_id:
            errors["channel_id"] = _("The touchpoint is in another channel; leave it empty.")
        stage_id, channel_id = touchpoint.stage_id, touchpoint.channel_id
    elif not errors and stage is None and channel is None:
        errors["touchpoint_id"] = _("Choose a touchpoint, or at least a stage or a channel.")
    if segment_id is not None and _live_part(Segment, journey_id, segment_id) is None:
        errors["segment_id"] = _("Choose a segment of this map.")
    if source not in dm.EVIDENCE_SOURCES:
        errors["source"] = _("Choose a source from the list.")
    if observed_on is not None and observed_on > latest_date():
        errors["observed_on"] = _("The date is in the future.")
    respondent = (respondent or "").strip()
    verbatim = (verbatim or "").strip()
    if len(respondent) > RESPONDENT_MAX:
        errors["respondent"] = _("At most %(n)d characters.", n=RESPONDENT_MAX)
    if len(verbatim) > VERBATIM_MAX:
        errors["verbatim"] = _("At most %(n)d characters.", n=VERBATIM_MAX)
    scores = {"csat": csat, "nps": nps, "ces": ces}
    for name, (low, high) in SCORES.items():
        value = scores[name]
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high
        ):
            errors[name] = _("A whole number from %(low)d to %(high)d.", low=low, high=high)
    if require_measure and not verbatim and all(v is None for v in scores.values()):
        errors.setdefault("verbatim", _("Give at least one score (CSAT, NPS, CES) or a verbatim."))
    for name, model in LINKS.items():
        link = links.get(name)
        if link is not None:
            row = db.session.get(model, link)
            if row is None or row.journey_id != journey_id:
                errors[name] = _("Not a record of this map.")
    if errors:
        raise dm.ValidationError(errors)
    return {
        "journey_id": journey_id,
        "touchpoint_id": touchpoint.id if touchpoint is not None else None,
        "stage_id": stage_id if touchpoint is not None or stage is not None else None,
        "channel_id": channel_id if touchpoint is not None or channel is not None else None,
        "segment_id": segment_id,
        "source": source,
        "observed_on": observed_on,
        "respondent": respondent,
        "verbatim": verbatim,
        **scores,
        **{name: links[name] for name in LINKS if name in links},
    }


def add_observation(journey_id: int, **fields) -> Observation:
    """Check and add one observation to the session (caller commits); see observation_values."""
    row = Observation(**observation_values(journey_id, **fields))
    db.session.add(row)
    return row


def update_observation(row: Observation, **fields) -> Observation:
    """Check new values and write them onto an existing observation (caller commits)."""
    values = observation_values(row.journey_id, **fields)
    for name, value in values.items():
        setattr(row, name, value)
    return row


def sync_touchpoint(touchpoint: Touchpoint) -> None:
    """After a touchpoint moved to another stage or channel: move its observations along."""
    from sqlalchemy import update

    db.session.execute(
        update(Observation)
        .where(Observation.touchpoint_id == touchpoint.id)
        .values(stage_id=touchpoint.stage_id, channel_id=touchpoint.channel_id)
        .execution_options(synchronize_session=False)
    )


def visible(journey_id: int):
    """SELECT the map's live observations: not deleted, and not hanging on a deleted touchpoint,
    stage, channel or segment (those come back with it on undo)."""

    def alive(column, model):
        ids = select(model.id).where(model.journey_id == journey_id, model.deletion_id.is_(None))
        return or_(column.is_(None), column.in_(ids))

    return select(Observation).where(
        Observation.journey_id == journey_id,
        Observation.deletion_id.is_(None),
        alive(Observation.touchpoint_id, Touchpoint),
        alive(Observation.stage_id, Stage),
        alive(Observation.channel_id, Channel),
        alive(Observation.segment_id, Segment),
    )


def get_observation(journey_id: int, observation_id: int) -> Observation | None:
    """One visible observation of the map, or None."""
    return db.session.scalar(visible(journey_id).where(Observation.id == observation_id))


def load_segments(journey_id: int) -> list[dm.Segment]:
    """The map's live segments in display order, as domain Segments."""
    return [
        dm.Segment(key=s.key, name=s.name, id=s.id, version=s.version)
        for s in ordered(Segment, journey_id)
    ]


def load_evidence(journey_id: int) -> list[dm.Observation]:
    """The map's visible observations in the order they were recorded, referencing by key.

    A touchpoint's observations carry the touchpoint's stage and channel."""
    stages = {s.id: s.key for s in db.session.scalars(live(Stage, journey_id))}
    channels = {c.id: c.key for c in db.session.scalars(live(Channel, journey_id))}
    segments = {s.id: s.key for s in db.session.scalars(live(Segment, journey_id))}
    touchpoints = {
        t.id: t
        for t in db.session.scalars(live(Touchpoint, journey_id))
        if t.stage_id in stages and t.channel_id in channels
    }
    found = []
    for row in db.session.scalars(visible(journey_id).order_by(Observation.id)):
        touchpoint = touchpoints.get(row.touchpoint_id)
        if row.touchpoint_id is not None and touchpoint is None:
            continue
        stage_id = touchpoint.stage_id if touchpoint else row.stage_id
        channel_id = touchpoint.channel_id if touchpoint else row.channel_id
        found.append(
            dm.Observation(
                source=row.source,
                touchpoint=touchpoint.key if touchpoint else None,
                stage=stages.get(stage_id),
                channel=channels.get(channel_id),
                segment=segments.get(row.segment_id),
                date=row.observed_on.isoformat() if row.observed_on else None,
                respondent=row.respondent,
                csat=row.csat,
                nps=row.nps,
                ces=row.ces,
                verbatim=row.verbatim,
                id=row.id,
            )
        )
    return found


def add_document_evidence(journey_id: int, journey: dm.Journey) -> None:
    """Write the segments and evidence of an imported document as rows of the new map, whose
    stages, channels and touchpoints are already flushed (caller commits; one transaction).

    The document passed the schema and reference checks, so the rows are built directly; a
    touchpoint fills the stage and channel as in observation_values()."""
    segments = {
        s.key: Segment(journey_id=journey_id, key=s.key, name=s.name, position=i)
        for i, s in enumerate(journey.segments)
    }
    db.session.add_all(segments.values())
    db.session.flush()
    stages = {r.key: r.id for r in db.session.scalars(live(Stage, journey_id))}
    channels = {r.key: r.id for r in db.session.scalars(live(Channel, journey_id))}
    touchpoints = {r.key: r for r in db.session.scalars(live(Touchpoint, journey_id))}
    rows = []
    for o in journey.evidence:
        tp = touchpoints[o.touchpoint] if o.touchpoint else None
        rows.append(
            Observation(
                journey_id=journey_id,
                touchpoint_id=tp.id if tp else None,
                stage_id=tp.stage_id if tp else stages.get(o.stage),
                channel_id=tp.channel_id if tp else channels.get(o.channel),
                segment_id=segments[o.segment].id if o.segment else None,
                source=o.source,
                observed_on=date.fromisoformat(o.date) if o.date else None,
                respondent=o.respondent,
                csat=o.csat,
                nps=o.nps,
                ces=o.ces,
                verbatim=o.verbatim,
            )
        )
    db.session.add_all(rows)
    db.session.flush()
