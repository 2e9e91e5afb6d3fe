"""Strategy scoring (step 5): the ICE score and the impact × effort matrix, one definition each.

    ICE = impact × confidence × ease,   ease = 11 − effort

- impact: 1–10, how much removing the barriers would help the customers who meet them;
- confidence: 1–10, how sure the team is of that impact (evidence, a test elsewhere, a hunch);
- effort: 1–10, how much work it takes; ease turns it round so that more is better, keeping the
  product on one direction: effort 1 gives ease 10, effort 10 gives ease 1.

So ICE runs from 1 (impact 1, confidence 1, effort 10) to 1,000 (10, 10, effort 1). Example:
impact 8, confidence 5, effort 3 → 8 × 5 × 8 = 320.

The matrix puts effort across (low left) and impact up (high at the top), split in the middle of
the scale (a value of 6 or more is "high"):
quick win (high impact, low effort), big bet (high impact, high effort), fill-in (low impact, low
effort), money pit (low impact, high effort).
"""

from collections import defaultdict
from dataclasses import dataclass
from math import cos, pi, sin

SCALE = range(1, 11)  # impact, effort and confidence are each 1–10
HIGH = 6  # from here a value counts as high in the matrix
STATUSES = ("idea", "planned", "in-progress", "done", "dropped")
QUADRANTS = ("quick-win", "big-bet", "fill-in", "money-pit")


def _check(name: str, value: int) -> None:
    """Refuse a value off the 1–10 scale (the form and the database refuse it too)."""
    if value not in SCALE:
        raise ValueError(f"{name} is 1–10, not {value!r}")


def ease(effort: int) -> int:
    """11 − effort: the less work, the easier (1–10)."""
    _check("effort", effort)
    return 11 - effort


def ice(impact: int, confidence: int, effort: int) -> int:
    """impact × confidence × ease (1–1,000)."""
    _check("impact", impact)
    _check("confidence", confidence)
    return impact * confidence * ease(effort)


def quadrant(impact: int, effort: int) -> str:
    """Where a strategy falls in the impact × effort matrix (one of QUADRANTS)."""
    _check("impact", impact)
    _check("effort", effort)
    high_impact, high_effort = impact >= HIGH, effort >= HIGH
    if high_impact:
        return "big-bet" if high_effort else "quick-win"
    return "money-pit" if high_effort else "fill-in"


@dataclass(frozen=True)
class Frame:
    """The matrix drawing area: its size and the padding that holds the axis labels."""

    width: float = 520
    height: float = 380
    left: float = 44
    right: float = 16
    top: float = 16
    bottom: float = 40

    def x(self, effort: float) -> float:
        """Horizontal position of an effort (1 at the left edge, 10 at the right)."""
        inner = self.width - self.left - self.right
        return self.left + (effort - 0.5) / 10 * inner

    def y(self, impact: float) -> float:
        """Vertical position of an impact (10 at the top, 1 at the bottom)."""
        inner = self.height - self.top - self.bottom
        return self.top + (10.5 - impact) / 10 * inner

    @property
    def middle(self) -> tuple[float, float]:
        """Where the quadrants meet: between 5 and 6 on both scales."""
        return self.x(HIGH - 0.5), self.y(HIGH - 0.5)


@dataclass(frozen=True)
class Dot:
    """A strategy placed on the matrix: its id, position, quadrant and label. `side` is where
    the label goes ("right" or "left" of the dot), None when there is no room for it (the dot's
    rank and its tooltip still name it)."""

    id: int
    x: float
    y: float
    quadrant: str
    label: str
    side: str | None


SPREAD = 11  # radius of the ring that strategies with the same impact and effort share
RADIUS = 9  # a dot's radius
LABEL_CHARS = 22  # longer titles are cut with "…"
CHAR_WIDTH = 6.2  # average width of a label character (11 px sans-serif)
LABEL_HEIGHT = 13
GAP = 4  # between a dot and its label


def short(title: str) -> str:
    """A title cut to LABEL_CHARS for a matrix label."""
    title = " ".join(title.split())
    return title if len(title) <= LABEL_CHARS else title[: LABEL_CHARS - 1].rstrip() + "…"


def _box(x: float, y: float, label: str, side: str) -> tuple[float, float, float, float]:
    """The (left, top, right, bottom) a label would take beside a dot at (x, y)."""
    width = len(label) * CHAR_WIDTH
    left = x + RADIUS + GAP if side == "right" else x - RADIUS - GAP - width
    return left, y - LABEL_HEIGHT / 2, left + width, y + LABEL_HEIGHT / 2


def _overlap(a, b) -> bool:
    """Whether two boxes overlap."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place(strategies: list[tuple[int, int, int, str]], frame: Frame | None = None) -> list[Dot]:
    """Dots for (id, impact, effort, title) in rank order. Strategies with the same impact and
    effort share a point, so they are spread on a small ring around it. Labels go right of
    their dot, else left, else nowhere, so that no label covers another label or a dot; the
    better ranked strategy gets the room first. Stable: the same input, the same picture."""
    frame = frame or Frame()
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for ident, impact, effort, _title in strategies:
        groups[(impact, effort)].append(ident)
    points = []
    for ident, impact, effort, title in strategies:
        group = groups[(impact, effort)]
        x, y = frame.x(effort), frame.y(impact)
        if len(group) > 1:
            angle = 2 * pi * group.index(ident) / len(group) - pi / 2
            x, y = x + SPREAD * cos(angle), y + SPREAD * sin(angle)
        points.append((ident, round(x, 1), round(y, 1), quadrant(impact, effort), short(title)))
    circles = [(x - RADIUS, y - RADIUS, x + RADIUS, y + RADIUS) for _, x, y, _, _ in points]
    taken: list[tuple[float, float, float, float]] = []
    dots = []
    for i, (ident, x, y, where, label) in enumerate(points):
        side = None
        for candidate in ("right", "left"):
            box = _box(x, y, label, candidate)
            inside = frame.left <= box[0] and box[2] <= frame.width - frame.right
            others = [c for j, c in enumerate(circles) if j != i]
            if inside and not any(_overlap(box, o) for o in taken + others):
                side = candidate
                taken.append(box)
                break
        dots.append(Dot(ident, x, y, where, label, side))
    return dots
