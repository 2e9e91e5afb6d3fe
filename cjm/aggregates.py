"""Evidence aggregates computed in SQL: one GROUP BY per question over the live observations of a
map (the indexed journey/stage/channel/segment columns), never loading observation rows. Each
group comes back as cjm.journey.metrics sums and is turned into figures there, so the formulas
live in one place."""

from sqlalchemy import func, select

from .extensions import db
from .journey import metrics
from .journey import model as dm
from .journey.steps import Evidence
from .models import Observation

O = Observation  # noqa: E741  (short: it is in every expression below)


def _sums_columns() -> list:
    """The SELECT list of metrics.Sums, in its field order. Integer sums (the scores are small
    integers, so squares cannot overflow) and FILTERed counts keep the per-row work cheap: over a
    million rows, casting every value to float costs more than the grouping."""

    def total(column):
        return func.coalesce(func.sum(column), 0)

    def counted(condition):
        return func.count().filter(condition)

    return [
        func.count(),
        func.count(O.csat),
        total(O.csat),
        total(O.csat * O.csat),
        func.count(O.nps),
        counted(O.nps >= 9),
        counted(O.nps <= 6),
        func.count(O.ces),
        total(O.ces),
        total(O.ces * O.ces),
    ]


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


def _grouped(journey_id: int, groups: list, segment_id: int | None) -> dict:
    """Run one GROUP BY over the map's live observations whose group columns are set (the
    segment may be NULL: "no segment" is a group of its own)."""
    query = select(*groups, *_sums_columns()).where(
        O.journey_id == journey_id, O.deletion_id.is_(None)
    )
    for column in groups:
        if column is not O.segment_id:
            query = query.where(column.is_not(None))
    if segment_id is not None:
        query = query.where(O.segment_id == segment_id)
    result = {}
    for row in db.session.execute(query.group_by(*groups)):
        key = row[0] if len(groups) == 1 else tuple(row[: len(groups)])
        result[key] = _summary(row[len(groups) :])
    return result


def per_touchpoint(journey_id: int, segment_id: int | None = None) -> dict[int, metrics.Summary]:
    """Figures per touchpoint id (only touchpoints with observations), optionally one segment."""
    return _grouped(journey_id, [O.touchpoint_id], segment_id)


def per_stage(journey_id: int, segment_id: int | None = None) -> dict[int, metrics.Summary]:
    """Figures per stage id, touchpoint-less observations at the stage included."""
    return _grouped(journey_id, [O.stage_id], segment_id)


def per_channel(journey_id: int, segment_id: int | None = None) -> dict[int, metrics.Summary]:
    """Figures per channel id."""
    return _grouped(journey_id, [O.channel_id], segment_id)


def per_stage_segment(
    journey_id: int, segment_id: int | None = None
) -> dict[tuple[int, int | None], metrics.Summary]:
    """Figures per (stage id, segment id or None for observations without a segment)."""
    return _grouped(journey_id, [O.stage_id, O.segment_id], segment_id)


def per_channel_segment(
    journey_id: int, segment_id: int | None = None
) -> dict[tuple[int, int | None], metrics.Summary]:
    """Figures per (channel id, segment id or None)."""
    return _grouped(journey_id, [O.channel_id, O.segment_id], segment_id)


def per_segment(
    journey_id: int, touchpoint_id: int | None = None
) -> dict[int | None, metrics.Summary]:
    """Figures per segment id (None: no segment), over the map or one touchpoint."""
    query = select(O.segment_id, *_sums_columns()).where(
        O.journey_id == journey_id, O.deletion_id.is_(None)
    )
    if touchpoint_id is not None:
        query = query.where(O.touchpoint_id == touchpoint_id)
    return {row[0]: _summary(row[1:]) for row in db.session.execute(query.group_by(O.segment_id))}


def overall(
    journey_id: int, segment_id: int | None = None, touchpoint_id: int | None = None
) -> metrics.Summary:
    """Figures over all the map's live observations (or one segment's, or one touchpoint's)."""
    query = select(*_sums_columns()).where(O.journey_id == journey_id, O.deletion_id.is_(None))
    if segment_id is not None:
        query = query.where(O.segment_id == segment_id)
    if touchpoint_id is not None:
        query = query.where(O.touchpoint_id == touchpoint_id)
    return _summary(db.session.execute(query).one())


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
