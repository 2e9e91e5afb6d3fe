"""Evidence aggregates read from evidence_rollup: the sums of the live observations per
(touchpoint, stage, channel, segment), kept exact by database triggers on every write to
`observation` (migration 0003). A question is one GROUP BY over a map's few rollup rows, never
over the observations. Each group comes back as cjm.journey.metrics sums and is turned into
figures there, so the formulas live in one place."""

from sqlalchemy import BigInteger, cast, func, select, text, union_all

from .extensions import db
from .journey import metrics
from .journey import model as dm
from .journey.steps import Evidence
from .models import EvidenceRollup, EvidenceRollupPending, Observation

O = Observation  # noqa: E741  (short: it is in every expression below)

# The rollup's key columns (0 stands for NULL) by what they group, and its sums in the field
# order of metrics.Sums.
TOUCHPOINT, STAGE, CHANNEL, SEGMENT = (
    "touchpoint_key_id",
    "stage_key_id",
    "channel_key_id",
    "segment_key_id",
)
SUMS = ("n", "csat_n", "csat_sum", "csat_sq", "nps_n", "promoters", "detractors")
SUMS += ("ces_n", "ces_sum", "ces_sq")


# Set (transaction-locally) by the PostgreSQL trigger while this transaction has pending rows.
PENDING = text("current_setting('cjm.evidence_rollup_due', true) = 'yes'")


def _evidence(journey_id: int, segment_id: int | None, touchpoint_id: int | None):
    """The map's rollup rows, plus on PostgreSQL this transaction's pending ones (folded in at
    commit; visible to their own transaction only, so a transaction reads its own writes). The
    flag gates that part as a one-time filter: the pending table, full of dead rows after a big
    load until vacuum, is not even scanned by a transaction that wrote no evidence."""
    tables = [EvidenceRollup]
    if db.session.get_bind().dialect.name == "postgresql":
        tables.append(EvidenceRollupPending)
    parts = []
    for table in tables:
        part = select(*(getattr(table, c) for c in (TOUCHPOINT, STAGE, CHANNEL, SEGMENT) + SUMS))
        part = part.where(table.journey_id == journey_id)
        if table is EvidenceRollupPending:
            part = part.where(PENDING)
        if segment_id is not None:
            part = part.where(table.segment_key_id == segment_id)
        if touchpoint_id is not None:
            part = part.where(table.touchpoint_key_id == touchpoint_id)
        parts.append(part)
    return union_all(*parts).subquery("evidence")


def _sums_columns(evidence) -> list:
    """The SELECT list of metrics.Sums: sums of the rollup's sums (0 over no rows), cast so both
    dialects return integers (PostgreSQL's SUM of bigint is numeric)."""
    return [cast(func.coalesce(func.sum(evidence.c[c]), 0), BigInteger) for c in SUMS]


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


def _grouped(
    journey_id: int, groups: list[str], segment_id: int | None, touchpoint_id: int | None = None
) -> dict:
    """One GROUP BY over the map's rollup rows whose group columns are set (the segment may be
    0: "no segment" is a group of its own, keyed None); groups whose evidence all went away in
    this transaction's pending rows (n back to 0) are left out."""
    evidence = _evidence(journey_id, segment_id, touchpoint_id)
    columns = [evidence.c[g] for g in groups]
    query = select(*_sums_columns(evidence), *columns)
    query = query.where(*(c != 0 for g, c in zip(groups, columns, strict=True) if g != SEGMENT))
    query = query.group_by(*columns).having(func.sum(evidence.c.n) > 0)
    result = {}
    for row in db.session.execute(query):
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
    return _grouped(journey_id, [SEGMENT], None, touchpoint_id)


def overall(
    journey_id: int, segment_id: int | None = None, touchpoint_id: int | None = None
) -> metrics.Summary:
    """Figures over all the map's live observations (or one segment's, or one touchpoint's)."""
    evidence = _evidence(journey_id, segment_id, touchpoint_id)
    return _summary(db.session.execute(select(*_sums_columns(evidence))).one())


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
