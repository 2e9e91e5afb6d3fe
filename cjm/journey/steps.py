"""The six steps of the method and how complete each is, computed from the map's content."""

from dataclasses import dataclass, field

from .model import Journey

STEPS = (
    (1, "persona"),
    (2, "stages"),
    (3, "research"),
    (4, "barriers"),
    (5, "strategies"),
    (6, "experiments"),
)
# Steps whose content later work builds; the stepper says what each will hold.
PLANNED = {"research", "barriers", "strategies", "experiments"}


@dataclass
class StepState:
    number: int
    key: str
    state: str  # "empty" | "started" | "done" | "planned"
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


RULES = {"persona": persona_missing, "stages": stages_missing}
EMPTY = {
    "persona": ["persona"],
    "stages": ["stages", "channels", "touchpoints", "entry", "goal", "transitions"],
}


def step_states(journey: Journey) -> list[StepState]:
    """Each step's state: done when nothing is missing, empty when everything is."""
    states = []
    for number, key in STEPS:
        if key in PLANNED:
            states.append(StepState(number, key, "planned"))
            continue
        missing = RULES[key](journey)
        if not missing:
            state = "done"
        elif missing == EMPTY[key]:
            state = "empty"
        else:
            state = "started"
        states.append(StepState(number, key, state, missing))
    return states
