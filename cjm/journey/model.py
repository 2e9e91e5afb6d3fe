"""Domain dataclasses and vocabularies of the customer journey map method."""

from dataclasses import dataclass, field

STATES = ("as-is", "to-be")
LANGUAGES = ("en", "ru")
LIFECYCLE = ("potential", "developing", "developed", "sleeping", "lost")
TOUCHPOINT_KINDS = ("entry", "step", "decision", "goal", "exit")
TRANSITION_KINDS = ("main", "alternative", "loop", "drop-out")
EMOTION_MIN, EMOTION_MAX = -2, 2
# Step 3: where evidence comes from, and the scales it is measured on.
EVIDENCE_SOURCES = ("mystery-shopper", "survey", "interview", "analytics", "market")
CSAT_RANGE, NPS_RANGE, CES_RANGE = (1, 5), (0, 10), (1, 7)
CHECKLIST_ITEM_KINDS = ("yes-no", "scale-5", "scale-10", "number", "text")
# Step 4: barriers.
BARRIER_TYPES = (
    "functional",
    "informational",
    "emotional",
    "price",
    "trust",
    "technical",
    "organisational",
)
BARRIER_STATUSES = ("open", "mitigated", "resolved")
BARRIER_SEVERITY = (1, 5)
# Step 5: strategies, scored by ICE (each 1–10).
STRATEGY_STATUSES = ("idea", "planned", "in-progress", "done", "dropped")
ICE_RANGE = (1, 10)
# Step 6: experiments against a KPI, the map's KPIs, and the notes written back onto the map.
EXPERIMENT_METRICS = (
    "transition-conversion",
    "stage-conversion",
    "csat",
    "nps",
    "ces",
    "custom",
)
EXPERIMENT_STATUSES = ("planned", "running", "closed")
VERDICTS = ("won", "lost", "inconclusive")
KPI_KINDS = ("inbound-requests", "buyers", "repeat-sales", "retention", "ltv", "custom")
NOTE_KINDS = ("thought", "pain", "idea", "question", "learning")
# The channel catalogue; "custom" is any other channel a team names itself.
CHANNEL_KINDS = (
    "website",
    "mobile-app",
    "call-centre",
    "store",
    "messenger",
    "social-network",
    "email",
    "sales-manager",
    "custom",
)


class JourneyError(Exception):
    """A rule of the journey was broken (unknown key, bad reference, …)."""


class ValidationError(JourneyError):
    """Invalid input, field by field: {"name": "Required", …}."""

    def __init__(self, field_errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in field_errors.items()))
        self.field_errors = field_errors


@dataclass
class Persona:
    key: str
    name: str
    age: int | None = None
    occupation: str = ""
    quote: str = ""
    goals: str = ""
    needs: str = ""
    expectations: str = ""
    frustrations: str = ""
    behaviour: str = ""
    segment: str = ""
    lifecycle: str = ""
    primary: bool = False
    avatar_id: int | None = None
    id: int | None = None
    version: int = 1


@dataclass
class Stage:
    key: str
    name: str
    description: str = ""
    id: int | None = None
    version: int = 1


@dataclass
class Channel:
    key: str
    name: str
    kind: str = "custom"
    id: int | None = None
    version: int = 1


@dataclass
class Touchpoint:
    key: str
    stage: str
    channel: str
    name: str
    kind: str = "step"
    description: str = ""
    action: str = ""
    goal: str = ""
    thought: str = ""
    emotion: int | None = None
    id: int | None = None
    version: int = 1


@dataclass
class Transition:
    key: str
    source: str
    target: str
    kind: str = "main"
    label: str = ""
    volume: int | None = None
    id: int | None = None
    version: int = 1


@dataclass
class Segment:
    key: str
    name: str
    id: int | None = None
    version: int = 1


@dataclass
class Observation:
    """One piece of evidence, tied to a touchpoint or at least a stage and/or channel (by key)."""

    source: str
    touchpoint: str | None = None
    stage: str | None = None
    channel: str | None = None
    segment: str | None = None
    date: str | None = None  # ISO 8601 (YYYY-MM-DD)
    respondent: str = ""
    csat: int | None = None
    nps: int | None = None
    ces: int | None = None
    verbatim: str = ""
    id: int | None = None


@dataclass
class Barrier:
    """Step 4: a barrier on a touchpoint or a transition (exactly one, by key). `evidence` lists
    positions in the journey's `evidence` (observations have no key of their own)."""

    key: str
    title: str
    type: str
    touchpoint: str | None = None
    transition: str | None = None
    description: str = ""
    severity: int = 3
    status: str = "open"
    segments: list[str] = field(default_factory=list)
    evidence: list[int] = field(default_factory=list)
    id: int | None = None


@dataclass
class Strategy:
    """Step 5: a way to remove barriers (by key), scored by impact, effort and confidence."""

    key: str
    title: str
    description: str = ""
    owner: str = ""
    impact: int = 5
    effort: int = 5
    confidence: int = 5
    status: str = "idea"
    barriers: list[str] = field(default_factory=list)
    id: int | None = None


@dataclass
class KpiValue:
    """One reading of a KPI; `experiment` names the experiment that wrote it back, if one did."""

    date: str  # ISO 8601 (YYYY-MM-DD)
    value: float
    experiment: str | None = None


@dataclass
class Kpi:
    """A business figure the team follows over time, with its readings in date order."""

    key: str
    name: str
    kind: str = "custom"
    unit: str = ""
    higher_is_better: bool = True
    values: list[KpiValue] = field(default_factory=list)
    id: int | None = None


@dataclass
class Experiment:
    """Step 6: a test of a strategy against one metric, its place given by keys."""

    key: str
    strategy: str
    metric: str
    hypothesis: str = ""
    transition: str | None = None
    stage: str | None = None
    touchpoint: str | None = None
    segment: str | None = None
    kpi: str | None = None
    baseline: float | None = None
    baseline_n: int | None = None
    baseline_hits: int | None = None
    target: float | None = None
    starts_on: str | None = None  # ISO dates
    ends_on: str | None = None
    result: float | None = None
    result_n: int | None = None
    result_hits: int | None = None
    p_value: float | None = None
    status: str = "planned"
    verdict: str | None = None
    learning: str = ""
    closed_at: str | None = None  # ISO 8601 UTC, e.g. 2025-03-01T10:20:30Z
    id: int | None = None


@dataclass
class Note:
    """A note on a stage or a touchpoint (by key); the document carries the learnings that
    closed experiments wrote back."""

    kind: str
    text: str
    touchpoint: str | None = None
    stage: str | None = None
    experiment: str | None = None
    id: int | None = None


@dataclass
class Journey:
    """A whole map: stages in order, channels in order, the graph's nodes and edges; segments,
    evidence and steps 4–6 when loaded for a document."""

    title: str
    description: str = ""
    state: str = "as-is"
    language: str = "en"
    personas: list[Persona] = field(default_factory=list)
    stages: list[Stage] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    touchpoints: list[Touchpoint] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    # Step 3; store.load_journey() leaves these empty (cjm.evidence loads them for export).
    segments: list[Segment] = field(default_factory=list)
    evidence: list[Observation] = field(default_factory=list)
    # Steps 4–6; likewise left empty by load_journey() (store.load_plan() fills them).
    barriers: list[Barrier] = field(default_factory=list)
    strategies: list[Strategy] = field(default_factory=list)
    kpis: list[Kpi] = field(default_factory=list)
    experiments: list[Experiment] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    id: int | None = None
    version: int = 1

    @property
    def primary_persona(self) -> Persona | None:
        """The primary persona, else the first one, else None."""
        return next((p for p in self.personas if p.primary), None) or next(
            iter(self.personas), None
        )

    def touchpoint(self, key: str) -> Touchpoint:
        """The touchpoint with this key (JourneyError if none)."""
        for tp in self.touchpoints:
            if tp.key == key:
                return tp
        raise JourneyError(f"no touchpoint {key!r}")
