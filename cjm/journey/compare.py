"""As-is against to-be: what changed between a map and its future state, matched by key.

A to-be map starts as a copy of its as-is map through the `cjm-studio/1` document, so stages,
touchpoints and barriers keep their keys; whatever the team changes afterwards shows up here:
- touchpoints added, removed or changed (which fields: name, stage, channel, kind, emotion, …);
- barriers resolved (resolved in the to-be, or gone from it with their place), new (only in the
  to-be, not resolved) and still open (in both, not resolved; a status change is shown);
- per stage, on one axis of both maps' stages: the emotion, the funnel (from
  cjm.journey.analytics) and the evidence figures (CSAT, NPS, CES with their n) where present.
  Emotions compare like with like: from evidence (mean CSAT − 3) where both maps have CSAT
  answers for the stage, else from the team's manual scores on both sides (a side without
  manual scores falls back to its evidence). A fresh to-be map has no evidence of its own, so
  its planned scores are set against the as-is map's scores, not against research.
Pure: stdlib only, on domain Journeys and the figures the caller read for them.
"""

from dataclasses import dataclass, field

from . import metrics
from .analytics import StageStats
from .model import Barrier, Journey, Touchpoint

# Touchpoint fields compared, in the order a change list shows them.
TOUCHPOINT_FIELDS = (
    "name",
    "stage",
    "channel",
    "kind",
    "emotion",
    "action",
    "goal",
    "thought",
    "description",
)
RESOLVED = "resolved"


@dataclass(frozen=True)
class Change:
    """One field of one element that differs: its value before (as-is) and after (to-be).
    Stages and channels are given by name, so a renamed stage reads as it is shown."""

    field: str
    before: object
    after: object


@dataclass(frozen=True)
class TouchpointDiff:
    """A touchpoint in one map or both; `status` is added, removed or changed."""

    key: str
    status: str
    before: Touchpoint | None
    after: Touchpoint | None
    changes: tuple[Change, ...] = ()

    @property
    def name(self) -> str:
        """The name it has now (the to-be's), or had."""
        return (self.after or self.before).name


@dataclass(frozen=True)
class BarrierDiff:
    """A barrier in one map or both, with its status on each side (None: not there)."""

    key: str
    status: str  # resolved | new | open
    before: Barrier | None
    after: Barrier | None

    @property
    def title(self) -> str:
        """The title it has now (the to-be's), or had."""
        return (self.after or self.before).title

    @property
    def removed(self) -> bool:
        """Resolved by leaving it out of the to-be map (with its place, say)."""
        return self.after is None


@dataclass(frozen=True)
class StageRow:
    """One stage on the shared axis: name, in which maps, emotion and funnel on each side."""

    key: str
    name: str
    in_before: bool
    in_after: bool
    emotion_before: "Emotion | None" = None
    emotion_after: "Emotion | None" = None
    funnel_before: StageStats | None = None
    funnel_after: StageStats | None = None
    evidence_before: metrics.Summary | None = None
    evidence_after: metrics.Summary | None = None

    @property
    def reached_change(self) -> int | None:
        """Customers reaching the stage, to-be − as-is (None when either is unknown)."""
        a = self.funnel_before.reached if self.funnel_before else None
        b = self.funnel_after.reached if self.funnel_after else None
        return None if a is None or b is None else b - a

    @property
    def emotion_change(self) -> float | None:
        """Emotion, to-be − as-is (None when either side has none)."""
        if self.emotion_before is None or self.emotion_after is None:
            return None
        return round(self.emotion_after.value - self.emotion_before.value, 4)


@dataclass(frozen=True)
class Emotion:
    """A stage's emotion: from evidence (mean CSAT − 3, with the answers behind it) or the mean
    of the touchpoints' manual scores (n = how many)."""

    value: float
    n: int
    evidence: bool


@dataclass
class Comparison:
    """Everything the comparison page shows, in display order."""

    stages: list[StageRow] = field(default_factory=list)
    touchpoints: list[TouchpointDiff] = field(default_factory=list)
    barriers: list[BarrierDiff] = field(default_factory=list)
    unchanged: int = 0  # touchpoints in both maps with no difference

    def touchpoints_by(self, status: str) -> list[TouchpointDiff]:
        """The touchpoint differences of one kind: added, removed or changed."""
        return [t for t in self.touchpoints if t.status == status]

    def barriers_by(self, status: str) -> list[BarrierDiff]:
        """The barriers of one kind: resolved, new or open."""
        return [b for b in self.barriers if b.status == status]

    @property
    def has_evidence(self) -> bool:
        """Whether either map has evidence figures for some stage."""
        return any(s.evidence_before or s.evidence_after for s in self.stages)


def merged_keys(before: list[str], after: list[str]) -> list[str]:
    """Both maps' keys on one axis: the to-be's order, with each key only the as-is has put
    right after the key it followed there (at the front if it came first)."""
    axis = list(after)
    placed = set(axis)
    previous = None
    for key in before:
        if key not in placed:
            at = axis.index(previous) + 1 if previous is not None else 0
            axis.insert(at, key)
            placed.add(key)
        previous = key
    return axis


def stage_emotions(
    journey: Journey, evidence: dict[str, metrics.Summary]
) -> tuple[dict[str, Emotion], dict[str, Emotion]]:
    """Per stage key, the emotion from evidence (where CSAT answers exist) and the mean of its
    touchpoints' manual scores (where some are set)."""
    scores: dict[str, list[int]] = {}
    for tp in journey.touchpoints:
        if tp.emotion is not None:
            scores.setdefault(tp.stage, []).append(tp.emotion)
    measured, manual = {}, {}
    for stage in journey.stages:
        summary = evidence.get(stage.key)
        if summary is not None and summary.emotion.n and summary.emotion.mean is not None:
            measured[stage.key] = Emotion(summary.emotion.mean, summary.emotion.n, True)
        if scores.get(stage.key):
            given = scores[stage.key]
            manual[stage.key] = Emotion(metrics.manual_emotion(given), len(given), False)
    return measured, manual


def paired_emotions(
    before: tuple[dict[str, Emotion], dict[str, Emotion]],
    after: tuple[dict[str, Emotion], dict[str, Emotion]],
    key: str,
) -> tuple[Emotion | None, Emotion | None]:
    """A stage's emotion on both sides, like with like: evidence if both sides have it, else
    manual scores (each side falling back to its evidence when it has no manual score)."""
    (measured_a, manual_a), (measured_b, manual_b) = before, after
    if key in measured_a and key in measured_b:
        return measured_a[key], measured_b[key]
    return manual_a.get(key, measured_a.get(key)), manual_b.get(key, measured_b.get(key))


def touchpoint_changes(before: Journey, after: Journey, a: Touchpoint, b: Touchpoint):
    """The fields in which one touchpoint differs between the maps (stage/channel by name)."""
    names = {
        "stage": ({s.key: s.name for s in before.stages}, {s.key: s.name for s in after.stages}),
        "channel": (
            {c.key: c.name for c in before.channels},
            {c.key: c.name for c in after.channels},
        ),
    }
    changes = []
    for name in TOUCHPOINT_FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        if name in names:
            x, y = names[name][0].get(x, x), names[name][1].get(y, y)
        if x != y:
            changes.append(Change(name, x, y))
    return tuple(changes)


def compare_touchpoints(before: Journey, after: Journey) -> tuple[list[TouchpointDiff], int]:
    """Touchpoints added, removed and changed (in the merged order), and how many are unchanged."""
    old = {t.key: t for t in before.touchpoints}
    new = {t.key: t for t in after.touchpoints}
    keys = merged_keys([t.key for t in before.touchpoints], [t.key for t in after.touchpoints])
    found, unchanged = [], 0
    for key in keys:
        a, b = old.get(key), new.get(key)
        if a is None:
            found.append(TouchpointDiff(key, "added", None, b))
        elif b is None:
            found.append(TouchpointDiff(key, "removed", a, None))
        elif changes := touchpoint_changes(before, after, a, b):
            found.append(TouchpointDiff(key, "changed", a, b, changes))
        else:
            unchanged += 1
    return found, unchanged


def compare_barriers(before: Journey, after: Journey) -> list[BarrierDiff]:
    """Each barrier of either map as resolved, new or still open (as-is order, then new ones)."""
    old = {b.key: b for b in before.barriers}
    new = {b.key: b for b in after.barriers}
    keys = merged_keys([b.key for b in before.barriers], [b.key for b in after.barriers])
    found = []
    for key in keys:
        a, b = old.get(key), new.get(key)
        if b is None or b.status == RESOLVED:
            status = RESOLVED
        elif a is None:
            status = "new"
        else:
            status = "open"
        found.append(BarrierDiff(key, status, a, b))
    return found


def compare(
    before: Journey,
    after: Journey,
    funnel_before: list[StageStats] = (),
    funnel_after: list[StageStats] = (),
    evidence_before: dict[str, metrics.Summary] | None = None,
    evidence_after: dict[str, metrics.Summary] | None = None,
) -> Comparison:
    """The comparison of an as-is map (`before`) with a to-be map (`after`).

    Funnels are cjm.journey.analytics stage stats; evidence is per stage key (metrics.Summary)."""
    evidence_before, evidence_after = evidence_before or {}, evidence_after or {}
    names = {s.key: s.name for s in before.stages} | {s.key: s.name for s in after.stages}
    in_before = {s.key for s in before.stages}
    in_after = {s.key for s in after.stages}
    emotions_before = stage_emotions(before, evidence_before)
    emotions_after = stage_emotions(after, evidence_after)
    funnel_a = {s.key: s for s in funnel_before}
    funnel_b = {s.key: s for s in funnel_after}

    def figures(summaries, key):
        summary = summaries.get(key)
        return summary if summary is not None and summary.n else None

    stages = []
    for key in merged_keys([s.key for s in before.stages], [s.key for s in after.stages]):
        emotion_before, emotion_after = paired_emotions(emotions_before, emotions_after, key)
        stages.append(
            StageRow(
                key=key,
                name=names[key],
                in_before=key in in_before,
                in_after=key in in_after,
                emotion_before=emotion_before,
                emotion_after=emotion_after,
                funnel_before=funnel_a.get(key),
                funnel_after=funnel_b.get(key),
                evidence_before=figures(evidence_before, key),
                evidence_after=figures(evidence_after, key),
            )
        )
    touchpoints, unchanged = compare_touchpoints(before, after)
    return Comparison(
        stages=stages,
        touchpoints=touchpoints,
        barriers=compare_barriers(before, after),
        unchanged=unchanged,
    )
