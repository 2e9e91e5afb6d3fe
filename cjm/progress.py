"""What the stepper counts in SQL for steps 3–6 (the rules themselves are cjm.journey.steps)."""

from sqlalchemy import func, select

from . import aggregates, barriers
from .extensions import db
from .journey import model as dm
from .journey.steps import BarrierSummary, ExperimentSummary, Progress, StrategySummary
from .models import Experiment, Kpi, KpiValue, Strategy, StrategyBarrier


def live_strategies(journey_id: int):
    """The map's live strategies, as a select of Strategy rows."""
    return select(Strategy).where(Strategy.journey_id == journey_id, Strategy.deletion_id.is_(None))


def strategy_summary(journey_id: int, open_barrier_ids: set[int]) -> StrategySummary:
    """Step 5: live strategies, open barriers no live, undropped strategy addresses, and the
    strategies past "idea"."""
    rows = db.session.execute(
        select(Strategy.id, Strategy.status, StrategyBarrier.barrier_id)
        .outerjoin(StrategyBarrier, StrategyBarrier.strategy_id == Strategy.id)
        .where(Strategy.journey_id == journey_id, Strategy.deletion_id.is_(None))
    ).all()
    covered = {b for _id, status, b in rows if b is not None and status != "dropped"}
    statuses = {ident: status for ident, status, _b in rows}
    return StrategySummary(
        total=len(statuses),
        uncovered_barriers=len(open_barrier_ids - covered),
        planned=sum(1 for s in statuses.values() if s not in ("idea", "dropped")),
    )


def experiment_summary(journey_id: int) -> ExperimentSummary:
    """Step 6: live experiments of live strategies, those closed with a verdict, KPIs followed."""
    counts = db.session.execute(
        select(func.count(), func.count(Experiment.verdict))
        .join(Strategy, Strategy.id == Experiment.strategy_id)
        .where(
            Experiment.journey_id == journey_id,
            Experiment.deletion_id.is_(None),
            Strategy.deletion_id.is_(None),
        )
    ).one()
    followed = db.session.scalar(
        select(func.count(func.distinct(KpiValue.kpi_id)))
        .join(Kpi, Kpi.id == KpiValue.kpi_id)
        .where(Kpi.journey_id == journey_id, Kpi.deletion_id.is_(None))
    )
    return ExperimentSummary(total=counts[0], closed=counts[1], kpis_with_values=followed)


def progress(journey: dm.Journey, threshold: int) -> Progress:
    """Everything the stepper needs beyond the journey itself, in a handful of queries."""
    found = barriers.ranked(journey, analytics=None, with_segments=False)
    return Progress(
        evidence=aggregates.step_evidence(journey, threshold),
        barriers=BarrierSummary(
            total=len(found),
            without_evidence=sum(1 for b in found if b.frequency == 0),
            votes=sum(b.votes for b in found),
        ),
        strategies=strategy_summary(
            journey.id, {b.row.id for b in found if b.row.status != "resolved"}
        ),
        experiments=experiment_summary(journey.id),
    )
