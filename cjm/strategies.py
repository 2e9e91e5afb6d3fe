"""Step 5 strategies at the row level: the map's live strategies scored by ICE (the formula and
the matrix live in cjm.journey.ice), the barriers each addresses, and the experiments that tested
them (read only: experiments are step 6's). A fixed number of queries whatever the map's size, so
the list, the board and a barrier's page never query per strategy."""

from dataclasses import dataclass, field

from sqlalchemy import delete, select

from . import barriers as barrier_rules
from .extensions import db
from .journey import ice
from .journey import model as dm
from .models import Experiment, Strategy, StrategyBarrier

VERDICTS = ("won", "lost", "inconclusive")


@dataclass
class Scored:
    """A strategy as the list, its page and the board show it."""

    row: Strategy
    barriers: list[barrier_rules.Ranked] = field(default_factory=list)  # live ones, ranked
    experiments: list[Experiment] = field(default_factory=list)  # live ones, oldest first
    rank: int = 0  # 1 = highest ICE on the map

    @property
    def ice(self) -> int:
        """impact × confidence × (11 − effort)."""
        return ice.ice(self.row.impact, self.row.confidence, self.row.effort)

    @property
    def ease(self) -> int:
        """11 − effort."""
        return ice.ease(self.row.effort)

    @property
    def quadrant(self) -> str:
        """Its place in the impact × effort matrix."""
        return ice.quadrant(self.row.impact, self.row.effort)

    @property
    def verdicts(self) -> list[str]:
        """How its closed experiments ended, oldest first."""
        return [e.verdict for e in self.experiments if e.status == "closed" and e.verdict]

    @property
    def testing(self) -> int:
        """How many of its experiments are planned or running."""
        return sum(1 for e in self.experiments if e.status != "closed")


def order_key(s: Scored) -> tuple:
    """Highest ICE first, then the larger impact, then the oldest."""
    return (-s.ice, -s.row.impact, s.row.id)


def scored(journey: dm.Journey, barriers: list[barrier_rules.Ranked] | None = None) -> list[Scored]:
    """The map's live strategies ranked by ICE, each with its live barriers (those on a hidden
    touchpoint or transition left out) and its live experiments: two queries (one when there
    is no strategy), plus the barrier ranking unless the caller has it already."""
    if barriers is None:
        barriers = barrier_rules.ranked(journey, with_segments=False)
    by_id = {b.row.id: b for b in barriers}
    rows = db.session.execute(
        select(Strategy, StrategyBarrier.barrier_id)
        .outerjoin(StrategyBarrier, StrategyBarrier.strategy_id == Strategy.id)
        .where(Strategy.journey_id == journey.id, Strategy.deletion_id.is_(None))
    ).all()
    found: dict[int, Scored] = {}
    for row, barrier_id in rows:
        s = found.setdefault(row.id, Scored(row))
        if barrier_id in by_id:
            s.barriers.append(by_id[barrier_id])
    if not found:
        return []
    position = {b.row.id: i for i, b in enumerate(barriers)}
    for s in found.values():
        s.barriers.sort(key=lambda b: position[b.row.id])
    for e in db.session.scalars(
        select(Experiment)
        .where(Experiment.journey_id == journey.id, Experiment.deletion_id.is_(None))
        .order_by(Experiment.id)
    ):
        if e.strategy_id in found:  # not one of a hidden strategy
            found[e.strategy_id].experiments.append(e)
    ranked = sorted(found.values(), key=order_key)
    for i, s in enumerate(ranked, start=1):
        s.rank = i
    return ranked


def addressing(found: list[Scored], barrier_id: int) -> list[Scored]:
    """The strategies (of a scored list) that address one barrier, still ranked."""
    return [s for s in found if any(b.row.id == barrier_id for b in s.barriers)]


def by_touchpoint(found: list[Scored]) -> dict[str, list[Scored]]:
    """Strategies per touchpoint key, for the board: a strategy sits at each touchpoint where
    one of its barriers does (a transition's barrier at the transition's source), once each."""
    groups: dict[str, list[Scored]] = {}
    for s in found:
        for b in s.barriers:
            key = (b.touchpoint or b.source).key
            group = groups.setdefault(key, [])
            if s not in group:
                group.append(s)
    return groups


def barrier_ids(strategy_id: int) -> list[int]:
    """The ids of the barriers a strategy addresses (hidden ones included)."""
    return list(
        db.session.scalars(
            select(StrategyBarrier.barrier_id).where(StrategyBarrier.strategy_id == strategy_id)
        )
    )


def set_barriers(strategy: Strategy, chosen: list[int], offered: list[int]) -> None:
    """Make `chosen` the barriers the strategy addresses among those the form `offered` (the
    live ones; caller commits). Links to barriers not offered, e.g. hidden ones, stay, so
    undoing a barrier's deletion brings its strategies back with it."""
    db.session.execute(
        delete(StrategyBarrier).where(
            StrategyBarrier.strategy_id == strategy.id, StrategyBarrier.barrier_id.in_(offered)
        )
    )
    db.session.add_all(
        StrategyBarrier(strategy_id=strategy.id, barrier_id=i) for i in set(chosen) & set(offered)
    )
