"""Evidence aggregates read from evidence_rollup: the sums of the live observations per
(touchpoint, stage, channel, segment), kept exact by database triggers on every write to
`observation` (migration 0003). A question is one GROUP BY over a map's few rollup rows, never
over the observations. Each group comes back as cjm.journey.metrics sums and is turned into
figures there, so the formulas live in one place."""

from sqlalchemy import BigInteger, cast, func, select

from .extensions import db
from .journey import metrics
from .journey import model as dm
from .journey.steps import Evidence
from .models import EvidenceRollup, Observation

O = Observation  # noqa: E741  (short: it is in every expression below)
R = EvidenceRollup

# The rollup's key columns (0 stands for NULL) by what they group.
TOUCHPOINT, STAGE, CHANNEL, SEGMENT = (
    R.touchpoint_key_id,
    R.stage_key_id,
    R.channel_key_id,
    R.segment_key_id,
)
SUMS = (
    R.n,
    R.csat_n,
    R.csat_sum,
    R.csat_sq,
    R.nps_n,
    R.promoters,
    R.detractors,
    R.ces_n,
    R.ces_sum,
    R.ces_sq,
)


def _sums_columns() -> list:
    """The SELECT list of metrics.Sums, in its field order: sums of the rollup's sums (0 over
    no rows), cast so both dialects return integers (PostgreSQL's SUM of bigint is numeric)."""
    return [cast(func.coalesce(func.sum(column), 0), BigInteger) for column in SUMS]


def _summary(values) -> metrics.Summary:
    """A result row's sums (after the group columns) as figures."""
    n, csat_n, csat_sum, csat_sq, nps_n, promoters, detractors, ces_n, ces_sum, ces_sq = values
    return metrics.summarize(
        metrics.Sums(
            n=int(n),
            csat_n=int(csat_n),
            csat_sum=float(csat_sum),
            csat_sq=float(csat_sq),
            nps_n=int(nps_n),
            promoters=int(promoters),
            detractors=int(detractors),
            ces_n=int(ces_n),
            ces_sum=float(ces_sum),
            ces_sq=float(ces_sq),
        )
    )


def _id(value: int) -> int | None:
    """A rollup key id back as the observation's id (0 was NULL)."""
    return value or None


def _rollup(journey_id: int, segment_id: int | None = None, touchpoint_id: int | None = None):
    """SELECT the map's rollup sums, optionally one segment's or one touchpoint's."""
    query = select(*_sums_columns()).where(R.journey_id == journey_id)
    if segment_id is not None:
        query = query.where(SEGMENT == segment_id)
    if touchpoint_id is not None:
        query = query.where(TOUCHPOINT == touchpoint_id)
    return query


def _grouped(journey_id: int, groups: list, segment_id: int | None) -> dict:
    """Run one GROUP BY over the map's rollup rows whose group columns are set (the segment may
    be 0: "no segment" is a group of its own, keyed None)."""
    query = _rollup(journey_id, segment_id).add_columns(*groups)
    for column in groups:
        if column is not SEGMENT:
            query = query.where(column != 0)
    result = {}
    for row in db.session.execute(query.group_by(*groups)):
        keys = tuple(_id(value) for value in row[len(SUMS) :])
        result[keys[0] if len(groups) == 1 else keys] = _summary(row[: len(SUMS)])
    return result


def per_touchpoint(journey_id: int, segment_id: int | None = None) -> dict[int, metrics.Summary]:
    """Figures per touchpoint id (only touchpoints with observations), optionally one segment."""
    return _grouped(journey_id, [TOUCHPOINT], segment_id)


def per_stage(journey_id: int, segment_id: int | None = None) -> dict[int, metrics.Summary]:
    """Figures per stage id, touchpoint-less observations at the stage included."""
    return _grouped(journey_id, [STAGE], segment_id)


def per_channel(journey_id: int, segment_id: int | None = None) -> dict[int, metrics.Summary]:
    """Figures per channel id."""
    return _grouped(journey_id, [CHANNEL], segment_id)


def per_stage_segment(
    journey_id: int, segment_id: int | None = None
) -> dict[tuple[int, int | None], metrics.Summary]:
    """Figures per (stage id, segment id or None for observations without a segment)."""
    return _grouped(journey_id, [STAGE, SEGMENT], segment_id)


def per_channel_segment(
    journey_id: int, segment_id: int | None = None
) -> dict[tuple[int, int | None], metrics.Summary]:
    """Figures per (channel id, segment id or None)."""
    return _grouped(journey_id, [CHANNEL, SEGMENT], segment_id)


def per_segment(
    journey_id: int, touchpoint_id: int | None = None
) -> dict[int | None, metrics.Summary]:
    """Figures per segment id (None: no segment), over the map or one touchpoint."""
    query = _rollup(journey_id, touchpoint_id=touchpoint_id).add_columns(SEGMENT)
    return {_id(row[-1]): _summary(row[:-1]) for row in db.session.execute(query.group_by(SEGMENT))}


def overall(
    journey_id: int, segment_id: int | None = None, touchpoint_id: int | None = None
) -> metrics.Summary:
    """Figures over all the map's live observations (or one segment's, or one touchpoint's)."""
    return _summary(db.session.execute(_rollup(journey_id, segment_id, touchpoint_id)).one())


def step_evidence(journey: dm.Journey, threshold: int) -> Evidence:
    """What the stepper needs for step 3: observation counts, in all and per stage/touchpoint."""
    stages = per_stage(journey.id)
    touchpoints = per_touchpoint(journey.id)
    return Evidence(
        total=overall(journey.id).n,
        stages={s.key: stages[s.id].n for s in journey.stages if s.id in stages},
        touchpoints={
            t.key: touchpoints[t.id].n for t in journey.touchpoints if t.id in touchpoints
        },
        threshold=threshold,
    )


def latest_verbatims(journey_id: int, touchpoint_id: int, limit: int = 10) -> list[Observation]:
    """The newest live observations of a touchpoint that carry a verbatim (newest first)."""
    return list(
        db.session.scalars(
            select(O)
            .where(
                O.journey_id == journey_id,
                O.touchpoint_id == touchpoint_id,
                O.deletion_id.is_(None),
                O.verbatim != "",
            )
            .order_by(O.observed_on.desc().nulls_last(), O.created_at.desc(), O.id.desc())
            .limit(limit)
        )
    )
