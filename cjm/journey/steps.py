"""The six steps of the method and how complete each is, computed from the map's content."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from .metrics import coverage
from .model import Journey

STEPS = (
    (1, "persona"),
    (2, "stages"),
    (3, "research"),
    (4, "barriers"),
    (5, "strategies"),
    (6, "experiments"),
)


@dataclass
class StepState:
    number: int
    key: str
    state: str  # "empty" | "started" | "done"
    missing: list[str] = field(default_factory=list)  # codes of unmet criteria, in order


def persona_missing(journey: Journey) -> list[str]:
    """What step 1 still lacks: a persona with goals, needs and frustrations."""
    persona = journey.primary_persona
    if persona is None:
        return ["persona"]
    return [f for f in ("goals", "needs", "frustrations") if not getattr(persona, f).strip()]


def stages_missing(journey: Journey) -> list[str]:
    """What step 2 lacks: stages, channels, a touchpoint per stage, an entry, a goal, edges."""
    missing = []
    if len(journey.stages) < 2:
        missing.append("stages")
    if not journey.channels:
        missing.append("channels")
    used = {t.stage for t in journey.touchpoints}
    if not journey.stages or any(s.key not in used for s in journey.stages):
        missing.append("touchpoints")
    kinds = {t.kind for t in journey.touchpoints}
    missing += [k for k in ("entry", "goal") if k not in kinds]
    if not journey.transitions:
        missing.append("transitions")
    return missing


@dataclass(frozen=True)
class Evidence:
    """How many live observations back the map: in all, per stage key and per touchpoint key,
    with the map's threshold for "enough" (SQL counts them; see cjm.aggregates)."""

    total: int = 0
    stages: Mapping[str, int] = field(default_factory=dict)
    touchpoints: Mapping[str, int] = field(default_factory=dict)
    threshold: int = 5


def research_missing(journey: Journey, evidence: Evidence) -> list[str]:
    """What step 3 lacks: observations, evidence at every stage, a touchpoint with enough."""
    missing = []
    if evidence.total == 0:
        missing.append("observations")
    if not journey.stages or any(evidence.stages.get(s.key, 0) == 0 for s in journey.stages):
        missing.append("stage-evidence")
    if not any(
        coverage(evidence.touchpoints.get(t.key, 0), evidence.threshold) == "enough"
        for t in journey.touchpoints
    ):
        missing.append("touchpoint-evidence")
    return missing


@dataclass(frozen=True)
class BarrierSummary:
    """The map's live barriers for step 4: how many, how many have no linked evidence, and the
    dots placed on them (SQL counts them; see cjm.barriers.step_summary)."""

    total: int = 0
    without_evidence: int = 0
    votes: int = 0


def barriers_missing(summary: BarrierSummary) -> list[str]:
    """What step 4 lacks: a barrier, evidence behind every barrier, the team's dot votes."""
    if summary.total == 0:
        return ["barriers", "barrier-evidence", "barrier-votes"]
    missing = []
    if summary.without_evidence:
        missing.append("barrier-evidence")
    if summary.votes == 0:
        missing.append("barrier-votes")
    return missing


@dataclass(frozen=True)
class StrategySummary:
    """The map's live strategies for step 5: how many, how many open barriers no live strategy
    addresses (dropped ones do not count), and how many made it past "idea"."""

    total: int = 0
    uncovered_barriers: int = 0
    planned: int = 0


def strategies_missing(summary: StrategySummary) -> list[str]:
    """What step 5 lacks: a strategy, one for every open barrier, a strategy in the plan."""
    missing = [] if summary.total else ["strategies"]
    if summary.uncovered_barriers or not summary.total:
        missing.append("barrier-strategies")
    if not summary.planned:
        missing.append("strategy-plan")
    return missing


@dataclass(frozen=True)
class ExperimentSummary:
    """Step 6: live experiments, those closed with a verdict, and KPIs with at least one value."""

    total: int = 0
    closed: int = 0
    kpis_with_values: int = 0


def experiments_missing(summary: ExperimentSummary) -> list[str]:
    """What step 6 lacks: an experiment, a verdict, a KPI followed over time."""
    missing = [] if summary.total else ["experiments"]
    if not summary.closed:
        missing.append("experiment-verdict")
    if not summary.kpis_with_values:
        missing.append("kpis")
    return missing


@dataclass(frozen=True)
class Progress:
    """What SQL counted for the steps that are not read off the journey itself."""

    evidence: Evidence = field(default_factory=Evidence)
    barriers: BarrierSummary = field(default_factory=BarrierSummary)
    strategies: StrategySummary = field(default_factory=StrategySummary)
    experiments: ExperimentSummary = field(default_factory=ExperimentSummary)


RULES = {
    "persona": lambda journey, p: persona_missing(journey),
    "stages": lambda journey, p: stages_missing(journey),
    "research": lambda journey, p: research_missing(journey, p.evidence),
    "barriers": lambda journey, p: barriers_missing(p.barriers),
    "strategies": lambda journey, p: strategies_missing(p.strategies),
    "experiments": lambda journey, p: experiments_missing(p.experiments),
}
EMPTY = {
    "persona": ["persona"],
    "stages": ["stages", "channels", "touchpoints", "entry", "goal", "transitions"],
    "research": ["observations", "stage-evidence", "touchpoint-evidence"],
    "barriers": ["barriers", "barrier-evidence", "barrier-votes"],
    "strategies": ["strategies", "barrier-strategies", "strategy-plan"],
    "experiments": ["experiments", "experiment-verdict", "kpis"],
}


def step_states(journey: Journey, progress: Progress | None = None) -> list[StepState]:
    """Each step's state: done when nothing is missing, empty when everything is; `progress`
    (None: nothing recorded beyond the journey) feeds steps 3–6."""
    progress = progress or Progress()
    states = []
    for number, key in STEPS:
        missing = RULES[key](journey, progress)
        if not missing:
            state = "done"
        elif missing == EMPTY[key]:
            state = "empty"
        else:
            state = "started"
        states.append(StepState(number, key, state, missing))
    return states
