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
class Journey:
    """A whole map: stages in order, channels in order, the graph's nodes and edges; segments
    and evidence when loaded for a document."""

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
