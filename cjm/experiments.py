"""Step 6 at the row level: what an experiment measures, its baseline from current data, its
result in its period, the verdict, and the write-back onto the map when it closes; KPI readings
and their sparklines. The statistics live in cjm.journey.stats; the formulas of conversion and of
CSAT/NPS/CES are the ones the analytics page and the evidence figures use.

Values are on the KPI's own scale: a conversion in % (0–100), CSAT 1–5, NPS −100…100, CES 1–7
(lower is easier), a custom KPI in its unit. Where the data come from:
- a conversion's baseline: the map's current transition volumes (journey analytics: a
  transition's volume ÷ the volume entering its source; a stage's reached ÷ the previous
  stage's reached); its result: the web-analytics volumes (AnalyticsVolume) whose period lies
  inside the experiment's period, a stage's own figures first, else its transitions' figures
  summed (per period the metric the map uses for Transition.volume: visits, requests, orders);
- a score's baseline: the observations dated before the period starts (undated ones count: they
  are today's evidence), all of them when no period is set; its result: those observed inside
  the period;
- a custom KPI: its latest reading before the period, and the result typed when it closes.
"""

import math
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from sqlalchemy import case, func, or_, select

from . import store
from .evidence import visible
from .extensions import db
from .journey import metrics, stats
from .journey import model as dm
from .journey.analytics import analyze
from .models import (
    AnalyticsVolume,
    Barrier,
    Experiment,
    Kpi,
    KpiValue,
    Note,
    Observation,
    Strategy,
    StrategyBarrier,
    Transition,
)
from .survey.analytics import METRIC_ORDER

CONVERSIONS = ("transition-conversion", "stage-conversion")
SCORES = ("csat", "nps", "ces")
LOWER_IS_BETTER = {"ces"}
NOTE_MAX = 500


@dataclass(frozen=True)
class Measure:
    """A KPI's value with what it was computed from: `n` customers (conversions) or answers
    (scores), `hits` conversions or promoters, `sums` the evidence behind a score."""

    value: float | None
    n: int | None = None
    hits: int | None = None
    sums: metrics.Sums | None = None


NOTHING = Measure(None)


def higher_is_better(row: Experiment, kpi: Kpi | None = None) -> bool:
    """The KPI's direction: CES is better lower; a custom KPI says so itself."""
    if row.metric == "custom":
        return kpi.higher_is_better if kpi is not None else True
    return row.metric not in LOWER_IS_BETTER


# --- conversions ------------------------------------------------------------------------------


def conversion(journey: dm.Journey, metric: str, transition_id, stage_id) -> Measure:
    """A transition's or a stage's conversion in % from the journey's transition volumes."""
    result = analyze(journey)
    if metric == "transition-conversion":
        edge = next((t for t in journey.transitions if t.id == transition_id), None)
        if edge is None:
            return NOTHING
        volume_in = {t.key: t.volume_in for t in result.touchpoints}[edge.source]
        return _share(edge.volume, volume_in)
    keys = [s.key for s in journey.stages]
    stage = next((s for s in journey.stages if s.id == stage_id), None)
    if stage is None or keys.index(stage.key) == 0:
        return NOTHING
    reached = {s.key: s.reached for s in result.stages}
    return _share(reached[stage.key], reached[keys[keys.index(stage.key) - 1]])


def _share(hits: int | None, n: int | None) -> Measure:
    """hits of n as a Measure in % (no value without a known, positive n)."""
    if hits is None or not n:
        return Measure(None, n, hits)
    return Measure(100 * hits / n, n, hits)


def _inside(start: date, end: date):
    """AnalyticsVolume rows whose period lies inside start…end."""
    return (AnalyticsVolume.period_start >= start, AnalyticsVolume.period_end <= end)


def _metric_rank(metric: str) -> int:
    """visits, requests, orders first; any other metric after them."""
    return METRIC_ORDER.index(metric) if metric in METRIC_ORDER else len(METRIC_ORDER)


def window_journey(journey: dm.Journey, start: date, end: date) -> dm.Journey:
    """The journey with each transition's volume summed over the analytics periods inside
    start…end (per period the metric Transition.volume uses); None where there is no figure."""
    rows = db.session.scalars(
        select(AnalyticsVolume).where(
            AnalyticsVolume.journey_id == journey.id,
            AnalyticsVolume.transition_id.is_not(None),
            *_inside(start, end),
        )
    ).all()
    chosen: dict[tuple, AnalyticsVolume] = {}
    for v in rows:
        key = (v.transition_id, v.period_start, v.period_end)
        if key not in chosen or _metric_rank(v.metric) < _metric_rank(chosen[key].metric):
            chosen[key] = v
    volumes: dict[int, int] = {}
    for (edge_id, _start, _end), v in chosen.items():
        volumes[edge_id] = volumes.get(edge_id, 0) + v.value
    return replace(
        journey, transitions=[replace(t, volume=volumes.get(t.id)) for t in journey.transitions]
    )


def _previous_stage(journey: dm.Journey, stage_id: int) -> int | None:
    """The id of the stage before this one on the map, None for the first."""
    ids = [s.id for s in journey.stages]
    return ids[ids.index(stage_id) - 1] if stage_id in ids and ids.index(stage_id) else None


def stage_figures(journey: dm.Journey, stage_id: int, *where) -> Measure:
    """A stage's conversion from stage-level analytics figures (rows matching `where`): the
    stage's figures ÷ the previous stage's, summed over periods, in the first metric both have."""
    previous = _previous_stage(journey, stage_id)
    if previous is None:
        return NOTHING
    rows = db.session.execute(
        select(AnalyticsVolume.stage_id, AnalyticsVolume.metric, func.sum(AnalyticsVolume.value))
        .where(
            AnalyticsVolume.journey_id == journey.id,
            AnalyticsVolume.stage_id.in_([stage_id, previous]),
            *where,
        )
        .group_by(AnalyticsVolume.stage_id, AnalyticsVolume.metric)
    ).all()
    sums = {(s, m): int(v) for s, m, v in rows}
    for metric in sorted({m for _s, m in sums}, key=lambda m: (_metric_rank(m), m)):
        if (stage_id, metric) in sums and (previous, metric) in sums:
            return _share(sums[(stage_id, metric)], sums[(previous, metric)])
    return NOTHING


# --- scores from evidence ---------------------------------------------------------------------


def evidence_sums(
    journey_id: int,
    touchpoint_id: int | None,
    stage_id: int | None,
    segment_id: int | None,
    *where,
) -> metrics.Sums:
    """The sums of the visible observations at a touchpoint (else a stage), optionally of one
    segment, matching `where` (dates): one aggregate query, the same sums the rollup keeps."""
    o = Observation
    query = visible(journey_id).with_only_columns(
        func.count(o.id),
        func.count(o.csat),
        func.coalesce(func.sum(o.csat), 0),
        func.coalesce(func.sum(o.csat * o.csat), 0),
        func.count(o.nps),
        func.coalesce(func.sum(case((o.nps >= 9, 1), else_=0)), 0),
        func.coalesce(func.sum(case((o.nps <= 6, 1), else_=0)), 0),
        func.count(o.ces),
        func.coalesce(func.sum(o.ces), 0),
        func.coalesce(func.sum(o.ces * o.ces), 0),
    )
    if touchpoint_id is not None:
        query = query.where(o.touchpoint_id == touchpoint_id)
    else:
        query = query.where(o.stage_id == stage_id)
    if segment_id is not None:
        query = query.where(o.segment_id == segment_id)
    values = [int(v) for v in db.session.execute(query.where(*where)).one()]
    return metrics.Sums(*values)


def score(metric: str, sums: metrics.Sums) -> Measure:
    """CSAT/CES mean or NPS of the sums, as a Measure (hits: promoters for NPS)."""
    summary = metrics.summarize(sums)
    value, n = summary.value(metric)
    hits = sums.promoters if metric == "nps" else None
    return Measure(value, n, hits, sums)


def before(start: date | None):
    """Observations of the baseline: dated before the period (or undated); all without one."""
    if start is None:
        return ()
    return (or_(Observation.observed_on.is_(None), Observation.observed_on < start),)


def between(start: date, end: date):
    """Observations dated inside the period."""
    return (Observation.observed_on >= start, Observation.observed_on <= end)


# --- baseline and result ----------------------------------------------------------------------


def baseline(row: Experiment, journey: dm.Journey) -> Measure:
    """The KPI's value from current data, for a new experiment's baseline (see the module)."""
    if row.metric in CONVERSIONS:
        found = conversion(journey, row.metric, row.transition_id, row.stage_id)
        if found.value is None and row.metric == "stage-conversion" and row.stage_id:
            found = _latest_stage_figures(journey, row.stage_id, row.starts_on)
        return found
    if row.metric in SCORES:
        sums = evidence_sums(
            journey.id, row.touchpoint_id, row.stage_id, row.segment_id, *before(row.starts_on)
        )
        return score(row.metric, sums)
    reading = latest_reading(row.kpi_id, before=row.starts_on)
    return Measure(reading.value if reading else None)


def _latest_stage_figures(journey: dm.Journey, stage_id: int, start: date | None) -> Measure:
    """Stage figures of the latest analytics period ending before `start` (any, without one)."""
    query = select(AnalyticsVolume.period_start, AnalyticsVolume.period_end).where(
        AnalyticsVolume.journey_id == journey.id, AnalyticsVolume.stage_id.is_not(None)
    )
    if start is not None:
        query = query.where(AnalyticsVolume.period_end < start)
    latest = db.session.execute(
        query.order_by(AnalyticsVolume.period_end.desc(), AnalyticsVolume.period_start.desc())
    ).first()
    if latest is None:
        return NOTHING
    return stage_figures(
        journey,
        stage_id,
        AnalyticsVolume.period_start == latest[0],
        AnalyticsVolume.period_end == latest[1],
    )


def measured(row: Experiment, journey: dm.Journey) -> Measure:
    """The KPI's value inside the experiment's period (NOTHING without a period). A custom KPI's
    result is typed; until then its latest reading inside the period is offered."""
    if row.metric == "custom":
        if row.result is not None:
            return Measure(row.result)
        if row.starts_on is None or row.ends_on is None:
            return NOTHING
        reading = latest_reading(row.kpi_id, start=row.starts_on, end=row.ends_on)
        return Measure(reading.value if reading else None)
    if row.starts_on is None or row.ends_on is None:
        return NOTHING
    if row.metric in SCORES:
        sums = evidence_sums(
            journey.id,
            row.touchpoint_id,
            row.stage_id,
            row.segment_id,
            *between(row.starts_on, row.ends_on),
        )
        return score(row.metric, sums)
    if row.metric == "stage-conversion":
        found = stage_figures(journey, row.stage_id, *_inside(row.starts_on, row.ends_on))
        if found.value is not None:
            return found
    window = window_journey(journey, row.starts_on, row.ends_on)
    return conversion(window, row.metric, row.transition_id, row.stage_id)


def significance(row: Experiment, journey: dm.Journey, result: Measure) -> stats.Test | None:
    """The significance test of the result against the baseline, None when it cannot apply
    (a custom KPI, no result, no baseline). With the baseline's counts it is a two-sample test;
    a baseline typed by hand (its figures differ from the evidence) is tested as a fixed value."""
    if row.metric == "custom" or result.value is None or row.baseline is None:
        return None
    if row.metric in CONVERSIONS:
        if row.baseline_n and row.baseline_hits is not None:
            return stats.two_proportions(row.baseline_hits, row.baseline_n, result.hits, result.n)
        return stats.one_proportion(result.hits, result.n, row.baseline / 100)
    sums = result.sums
    base = score(
        row.metric,
        evidence_sums(
            journey.id, row.touchpoint_id, row.stage_id, row.segment_id, *before(row.starts_on)
        ),
    )
    same = (
        base.value is not None
        and base.n == row.baseline_n
        and math.isclose(base.value, row.baseline, abs_tol=1e-6)
    )
    b = base.sums
    if row.metric == "nps":
        if same:
            return stats.two_nps(b.nps_n, b.promoters, b.detractors, *_nps(sums))
        return stats.one_nps(*_nps(sums), row.baseline)
    n, total, sq = (
        (sums.csat_n, sums.csat_sum, sums.csat_sq)
        if row.metric == "csat"
        else (sums.ces_n, sums.ces_sum, sums.ces_sq)
    )
    if same:
        bn, bt, bsq = (
            (b.csat_n, b.csat_sum, b.csat_sq)
            if row.metric == "csat"
            else (b.ces_n, b.ces_sum, b.ces_sq)
        )
        return stats.welch(bn, bt, bsq, n, total, sq)
    return stats.one_sample_t(n, total, sq, row.baseline)


def _nps(sums: metrics.Sums) -> tuple[int, int, int]:
    """(answers, promoters, detractors)."""
    return sums.nps_n, sums.promoters, sums.detractors


@dataclass(frozen=True)
class Evaluation:
    """What an experiment's page shows: the result, the test behind it and the verdict."""

    result: Measure
    test: stats.Test | None
    verdict: stats.Verdict
    higher_is_better: bool


def evaluate(row: Experiment, journey: dm.Journey, kpi: Kpi | None = None) -> Evaluation:
    """Measure an open experiment now, or read a closed one's stored result and verdict."""
    better = higher_is_better(row, kpi)
    if row.status == "closed":
        result = Measure(row.result, row.result_n, row.result_hits)
        test = None
        if row.p_value is not None:
            test = stats.Test(kind_of_test(row), p_value=row.p_value)
        return Evaluation(result, test, stats.Verdict(row.verdict, "closed"), better)
    result = measured(row, journey)
    test = significance(row, journey, result)
    return Evaluation(
        result, test, stats.verdict(row.baseline, result.value, row.target, test, better), better
    )


def kind_of_test(row: Experiment) -> str | None:
    """The test an experiment's metric gets when counts allow (for closed experiments)."""
    if row.metric in CONVERSIONS:
        return "two-proportion z-test" if row.baseline_n else "one-proportion z-test"
    return {"nps": "NPS z-test", "csat": "Welch's t-test", "ces": "Welch's t-test"}.get(row.metric)


# --- the experiments of a map -----------------------------------------------------------------

STATUS_ORDER = {"running": 0, "planned": 1, "closed": 2}


def experiments(journey_id: int) -> list[Experiment]:
    """The map's live experiments: running, then planned, then closed; newest first in each."""
    rows = db.session.scalars(
        store.live(Experiment, journey_id).order_by(Experiment.id.desc())
    ).all()
    return sorted(rows, key=lambda r: STATUS_ORDER.get(r.status, 3))


def strategies(journey_id: int) -> list[Strategy]:
    """The map's live strategies, in the order they were added."""
    return list(db.session.scalars(store.live(Strategy, journey_id).order_by(Strategy.id)))


def kpis(journey_id: int) -> list[Kpi]:
    """The map's live KPIs in display order."""
    return list(db.session.scalars(store.live(Kpi, journey_id).order_by(Kpi.position, Kpi.id)))


def strategy_barriers(strategy_id: int) -> list[Barrier]:
    """The live barriers a strategy addresses (worst first)."""
    return list(
        db.session.scalars(
            select(Barrier)
            .join(StrategyBarrier, StrategyBarrier.barrier_id == Barrier.id)
            .where(StrategyBarrier.strategy_id == strategy_id, Barrier.deletion_id.is_(None))
            .order_by(Barrier.severity.desc(), Barrier.id)
        )
    )


def note_place(row: Experiment, barriers: list[Barrier]) -> dict | None:
    """Where the learning note goes: the KPI's touchpoint (a transition's source), its stage,
    or for a custom KPI where the strategy's first barrier sits; None when nowhere fits."""
    if row.metric == "transition-conversion" and row.transition_id:
        edge = db.session.get(Transition, row.transition_id)
        return {"touchpoint_id": edge.source_id} if edge else None
    if row.touchpoint_id:
        return {"touchpoint_id": row.touchpoint_id}
    if row.stage_id:
        return {"stage_id": row.stage_id}
    for b in barriers:
        if b.touchpoint_id:
            return {"touchpoint_id": b.touchpoint_id}
        edge = db.session.get(Transition, b.transition_id)
        if edge is not None:
            return {"touchpoint_id": edge.source_id}
    return None


def learning_note(row: Experiment) -> Note | None:
    """The learning note a closed experiment wrote, if it is still there."""
    return db.session.scalar(
        select(Note).where(
            Note.experiment_id == row.id, Note.kind == "learning", Note.deletion_id.is_(None)
        )
    )


def written_values(row: Experiment) -> list[KpiValue]:
    """The KPI readings a closed experiment wrote back."""
    return list(db.session.scalars(select(KpiValue).where(KpiValue.experiment_id == row.id)))


def close(
    row: Experiment,
    evaluation: Evaluation,
    verdict: str,
    learning: str,
    note_text: str,
    barrier_statuses: dict[int, str],
    kpi_reading: tuple[date, float] | None,
    user_id: int | None,
) -> Note | None:
    """Close an experiment and write its outcome back onto the map, in the caller's transaction:
    its result, p-value and verdict; the strategy's barriers' statuses; the custom KPI's new
    reading; a learning note where the KPI sits; the strategy done. Returns the note."""
    result = evaluation.result
    row.result = kpi_reading[1] if kpi_reading else result.value
    row.result_n, row.result_hits = result.n, result.hits
    row.p_value = evaluation.test.p_value if evaluation.test else None
    row.verdict, row.learning = verdict, learning
    row.status, row.closed_at = "closed", datetime.now(UTC)
    strategy = db.session.get(Strategy, row.strategy_id)
    barriers = strategy_barriers(row.strategy_id)
    for b in barriers:
        status = barrier_statuses.get(b.id, b.status)
        if status != b.status:
            b.status = status
    if kpi_reading is not None and row.kpi_id is not None:
        db.session.add(
            KpiValue(
                kpi_id=row.kpi_id,
                measured_on=kpi_reading[0],
                value=kpi_reading[1],
                experiment_id=row.id,
            )
        )
    place = note_place(row, barriers)
    note = None
    if place is not None:
        note = Note(
            journey_id=row.journey_id,
            user_id=user_id,
            experiment_id=row.id,
            kind="learning",
            text=note_text[:NOTE_MAX],
            **place,
        )
        db.session.add(note)
    if strategy is not None and strategy.status != "done":
        strategy.status = "done"
    return note


# --- KPI readings -----------------------------------------------------------------------------


def latest_reading(
    kpi_id: int | None,
    before: date | None = None,
    start: date | None = None,
    end: date | None = None,
) -> KpiValue | None:
    """A KPI's latest reading (before a date, or inside start…end)."""
    if kpi_id is None:
        return None
    query = select(KpiValue).where(KpiValue.kpi_id == kpi_id)
    if before is not None:
        query = query.where(KpiValue.measured_on < before)
    if start is not None:
        query = query.where(KpiValue.measured_on >= start, KpiValue.measured_on <= end)
    return db.session.scalar(
        query.order_by(KpiValue.measured_on.desc(), KpiValue.id.desc()).limit(1)
    )


def readings(kpi_ids: list[int]) -> dict[int, list[KpiValue]]:
    """The readings of these KPIs in date order, in one query."""
    found: dict[int, list[KpiValue]] = {i: [] for i in kpi_ids}
    if kpi_ids:
        for v in db.session.scalars(
            select(KpiValue)
            .where(KpiValue.kpi_id.in_(kpi_ids))
            .order_by(KpiValue.measured_on, KpiValue.id)
        ):
            found[v.kpi_id].append(v)
    return found


@dataclass(frozen=True)
class Spark:
    """A sparkline's geometry: the polyline's points and the last point, in a w×h box."""

    width: int
    height: int
    points: str
    last: tuple[float, float]


def spark(values: list[float], width: int = 120, height: int = 32, pad: int = 3) -> Spark | None:
    """Sparkline points for values in time order, scaled to their own min…max (a flat line in
    the middle when they are all equal); None without values."""
    if not values:
        return None
    low, high = min(values), max(values)
    inner_w, inner_h = width - 2 * pad, height - 2 * pad
    step = inner_w / (len(values) - 1) if len(values) > 1 else 0
    coords = []
    for i, v in enumerate(values):
        x = pad + (i * step if len(values) > 1 else inner_w / 2)
        y = pad + inner_h / 2 if high == low else pad + inner_h * (high - v) / (high - low)
        coords.append((round(x, 1), round(y, 1)))
    return Spark(width, height, " ".join(f"{x},{y}" for x, y in coords), coords[-1])


def experiment_names(ids: set[int]) -> dict[int, Experiment]:
    """Experiments by id (for the readings they wrote), in one query."""
    if not ids:
        return {}
    return {e.id: e for e in db.session.scalars(select(Experiment).where(Experiment.id.in_(ids)))}
