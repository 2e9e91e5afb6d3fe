"""The journey as a networkx graph: build it, check it for broken paths, and lay it out for drawing.

Two transitions may join the same pair of touchpoints (say a "main" path and an "alternative" one
with its own condition and volume); the data allows it and the method wants every variant kept, so
build() returns a MultiDiGraph keyed by transition key instead of rejecting or merging them, and
layout() bends parallel edges apart so each stays visible. The layout is pure geometry: curves
are chosen to pass no box, and each volume label goes where it covers nothing (or is left out).
"""

import bisect
import math
import textwrap
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import networkx as nx

from .model import Journey, JourneyError, Touchpoint, Transition

# Kinds that may legitimately end a path.
ENDINGS = ("goal", "exit")


def build(journey: Journey) -> nx.MultiDiGraph:
    """Touchpoints as nodes, transitions as edges keyed by their transition key."""
    graph = nx.MultiDiGraph()
    for tp in journey.touchpoints:
        graph.add_node(
            tp.key,
            stage=tp.stage,
            channel=tp.channel,
            kind=tp.kind,
            name=tp.name,
            emotion=tp.emotion,
        )
    for tr in journey.transitions:
        for end in (tr.source, tr.target):
            if end not in graph:
                raise JourneyError(f"transition {tr.key!r} refers to no touchpoint {end!r}")
        graph.add_edge(
            tr.source, tr.target, key=tr.key, kind=tr.kind, label=tr.label, volume=tr.volume
        )
    return graph


@dataclass(frozen=True)
class Warning:  # shadows the builtin on purpose: it is the domain's word and never raised
    """One problem in the journey's paths, with what a message needs to name it.

    For warnings about a transition, `touchpoint`/`name` are its source (where it is edited) and
    `other` names its target.
    """

    code: str
    touchpoint: str | None = None
    name: str = ""
    transition: str | None = None
    other: str = ""


def reachable(graph: nx.MultiDiGraph, sources) -> set[str]:
    """Every node some source reaches, the sources included (one walk for all of them)."""
    seen = set(sources)
    todo = list(seen)
    while todo:
        for nxt in graph.successors(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def validate(journey: Journey) -> list[Warning]:
    """The journey's path problems, grouped by code, each group in map order."""
    graph = build(journey)
    tps = journey.touchpoints
    if not tps:
        return []
    entries = [tp.key for tp in tps if tp.kind == "entry"]
    warnings: list[Warning] = []
    if entries:
        seen = reachable(graph, entries)
        warnings += [
            Warning("goal_unreachable", tp.key, tp.name)
            for tp in tps
            if tp.kind == "goal" and tp.key not in seen
        ]
        warnings += [
            Warning("unreachable", tp.key, tp.name)
            for tp in tps
            if tp.kind != "goal" and tp.key not in seen
        ]
    else:
        # Without an entry every touchpoint is "unreachable"; one warning says it better.
        warnings.append(Warning("no_entry"))
    # A transition back to itself does not take the customer anywhere.
    warnings += [
        Warning("dead_end", tp.key, tp.name)
        for tp in tps
        if tp.kind not in ENDINGS and not any(n != tp.key for n in graph.successors(tp.key))
    ]
    by_key = {tp.key: tp for tp in tps}
    warnings += [
        Warning("into_entry", tr.source, by_key[tr.source].name, tr.key, by_key[tr.target].name)
        for tr in journey.transitions
        if by_key[tr.target].kind == "entry"
    ]
    # An exit is where the customer leaves; a path on from it means it is really a step (or the
    # customer's return should start at a new entry).
    warnings += [
        Warning("exit_has_exits", tr.source, by_key[tr.source].name, tr.key, by_key[tr.target].name)
        for tr in journey.transitions
        if by_key[tr.source].kind == "exit" and tr.target != tr.source
    ]
    return warnings


# --- layout -------------------------------------------------------------------------------------
# All sizes are SVG user units (px at 100 %). Six stages fit a 1400 px window without scrolling.
HEADER = 40  # stage names band
LEFT = 120  # channel names column
COL_W = 190
NODE_W, NODE_H = 150, 56
SLOT_H = 76  # one stacked touchpoint in a cell
ROW_PAD = 20  # above and below the stack in each channel row
MARGIN = 20  # right and bottom
ARROW = 10  # arrowhead length: paths stop this short of the node and the marker fills the gap
MIN_WIDTH, MAX_WIDTH = 1.5, 8.0
GAP = 10  # room left between a curve and a box it passes
BEND = 40  # sideways offset of the control point for a curved edge
TIP = 14  # how far a decision's pointed ends reach beyond its flat top and bottom
DASHES = {"main": None, "alternative": "8 5", "loop": "2 5", "drop-out": "6 4"}
LINE_CHARS, MAX_LINES = 19, 3
LINE_H = 14  # distance between the lines of a name
STAGE_CHARS, CHANNEL_CHARS = 24, 14  # what fits a stage's header and the channel names column
# A volume label: 11 px bold digits inside a white halo.
DIGIT_W, LABEL_PAD, LABEL_H = 7, 3, 14
LABEL_SPOTS = (0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74)  # fractions of the path tried in turn
STEP = 18  # distance between the points a curve is checked at
# Lane offsets tried for a detour: the gap between columns, between rows, between stacked boxes.
# The gap between columns holds three tracks, so lanes sharing it stay apart.
LANES = (COL_W / 2, COL_W / 2 - 8, COL_W / 2 + 8, NODE_H / 2 + ROW_PAD, SLOT_H / 2)
LANE_PAD = 6  # a lane may pass this close to a box (the gaps are narrow)
HIT_COST = 80  # what a curve point touching a box costs, against px of extra length
RISE = 60  # how far above the first row a curve may arch
SEARCH_BUDGET = 150_000  # curve points checked per layout at most, so huge maps stay fast


@dataclass(frozen=True)
class Band:
    """A stage column or a channel row: its key, name and rectangle."""

    key: str
    name: str
    x: float
    y: float
    width: float
    height: float
    lines: tuple[str, ...] = ()  # the name wrapped to fit the band


@dataclass(frozen=True)
class Node:
    """A touchpoint's box: centre, size, kind, emotion and its name wrapped into lines."""

    key: str
    name: str
    kind: str
    stage: str
    channel: str
    emotion: int | None
    x: float
    y: float
    width: float
    height: float
    lines: tuple[str, ...]

    @property
    def left(self) -> float:
        """Left edge."""
        return self.x - self.width / 2

    @property
    def top(self) -> float:
        """Top edge."""
        return self.y - self.height / 2

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom)."""
        return self.left, self.top, self.left + self.width, self.top + self.height

    @property
    def text_y(self) -> float:
        """Baseline of the first line, so the lines sit centred in the box."""
        return self.y + 4 - LINE_H * (len(self.lines) - 1) / 2

    @property
    def outline(self) -> str:
        """SVG polygon points of a decision: a diamond flattened so its name fits inside."""
        hw, hh = self.width / 2, self.height / 2
        return " ".join(
            f"{x:g},{y:g}"
            for x, y in (
                (self.x - hw + TIP, self.y - hh),
                (self.x + hw - TIP, self.y - hh),
                (self.x + hw, self.y),
                (self.x + hw - TIP, self.y + hh),
                (self.x - hw + TIP, self.y + hh),
                (self.x - hw, self.y),
            )
        )

    def boundary(self, dx: float, dy: float) -> tuple[float, float]:
        """Where a ray from the centre in direction (dx, dy) leaves the box (or the decision)."""
        hw, hh = self.width / 2, self.height / 2
        if dx == dy == 0:
            return self.x, self.y
        t = min(hw / abs(dx) if dx else math.inf, hh / abs(dy) if dy else math.inf)
        if self.kind == "decision":
            # The slanted ends: |x| <= hw - TIP·|y|/hh.
            t = min(t, hw / (abs(dx) + TIP * abs(dy) / hh))
        return self.x + dx * t, self.y + dy * t


@dataclass(frozen=True)
class Edge:
    """A transition's drawing: endpoints, SVG path, stroke, the path's midpoint, volume label.

    The label shows the volume only; `show_label` is False when it fits nowhere along the path
    without covering a box or another label (the volume stays in the tooltip and the table).
    """

    key: str
    source: str
    target: str
    kind: str
    label: str
    volume: int | None
    x1: float
    y1: float
    x2: float
    y2: float
    path: str
    curved: bool
    width: float
    dash: str | None
    mid_x: float
    mid_y: float
    label_x: float = 0.0  # centre of the label box
    label_y: float = 0.0
    show_label: bool = False

    @property
    def label_width(self) -> float:
        """Width of the volume label box."""
        return label_width(self.volume)

    @property
    def label_box(self) -> tuple[float, float, float, float] | None:
        """(left, top, right, bottom) of the drawn label, None when none is drawn."""
        if not self.show_label:
            return None
        hw = self.label_width / 2
        return (
            self.label_x - hw,
            self.label_y - LABEL_H / 2,
            self.label_x + hw,
            self.label_y + LABEL_H / 2,
        )


@dataclass
class Layout:
    """Everything the SVG needs, precomputed: canvas size, bands, nodes and edges."""

    width: float
    height: float
    stages: list[Band] = field(default_factory=list)
    channels: list[Band] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    max_volume: int = 0
    index: dict[str, Node] = field(default_factory=dict, repr=False)

    def node(self, key: str) -> Node:
        """The node of a touchpoint key (a dict lookup: templates call it once per edge end)."""
        if key not in self.index:
            raise JourneyError(f"no touchpoint {key!r}")
        return self.index[key]


def stroke_width(volume: int | None, max_volume: int) -> float:
    """Line width by volume, linear between MIN_WIDTH and MAX_WIDTH of the map's busiest edge."""
    if volume is None or max_volume <= 0:
        return MIN_WIDTH
    share = max(0, min(volume, max_volume)) / max_volume
    return round(MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * share, 2)


def label_width(volume: int | None) -> float:
    """Width of the box a volume label takes (0 without a volume)."""
    return 0.0 if volume is None else DIGIT_W * len(str(volume)) + 2 * LABEL_PAD


def wrap(name: str, chars: int = LINE_CHARS, max_lines: int = MAX_LINES) -> tuple[str, ...]:
    """A name in at most max_lines lines of `chars`, the last one ending in … when cut."""
    lines = textwrap.wrap(name, chars, max_lines=max_lines, placeholder="…") or [""]
    # textwrap keeps an unbreakable word whole; cut it so it stays inside the box.
    return tuple(ln if len(ln) <= chars else ln[: chars - 1] + "…" for ln in lines)


def overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Whether two (left, top, right, bottom) boxes share any area."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class Route(NamedTuple):
    """How an edge runs: bowed by `bend` (0 = straight), or along a lane `bend` off its chord.

    A lane route leaves its box sideways, runs parallel to the chord through the gap between
    columns (or rows) and turns back in: it clears stacked boxes that no single arc can.
    """

    bend: float
    lane: bool = False


def layout(journey: Journey) -> Layout:
    """Lay the journey out: x by stage, y by channel; curves around boxes; labels where free."""
    grid = _Grid(journey, HEADER)
    bends = _choose_bends(journey, grid)
    # Curves arching above the first row must not cross the stage names: move everything down
    # (the bends stay valid, everything they were checked against moves with them).
    top = min([HEADER + 4, *(min(y for _, y in _samples(c)) for c in grid.curves(bends))])
    if top < HEADER + 4:
        grid = _Grid(journey, HEADER + math.ceil(HEADER + 4 - top))
    max_volume = max((t.volume or 0 for t in journey.transitions), default=0)
    edges = [
        _edge(tr, grid.nodes[tr.source], grid.nodes[tr.target], bends[tr.key], max_volume)
        for tr in journey.transitions
    ]
    return Layout(
        width=grid.width,
        height=grid.height,
        stages=grid.stages,
        channels=grid.channels,
        nodes=[grid.nodes[tp.key] for tp in journey.touchpoints],
        edges=_place_labels(edges, grid, bends),
        max_volume=max_volume,
        index=grid.nodes,
    )


class _Grid:
    """The bands and node boxes of one layout pass, with a cell index to find boxes fast."""

    def __init__(self, journey: Journey, top: float):
        self.stage_index = {s.key: i for i, s in enumerate(journey.stages)}
        channel_index = {c.key: i for i, c in enumerate(journey.channels)}
        cells: dict[tuple[int, int], list[Touchpoint]] = defaultdict(list)
        for tp in journey.touchpoints:
            if tp.stage not in self.stage_index or tp.channel not in channel_index:
                raise JourneyError(f"touchpoint {tp.key!r} has an unknown stage or channel")
            cells[self.stage_index[tp.stage], channel_index[tp.channel]].append(tp)
        # A channel row is as tall as its fullest cell, so stacked touchpoints never overlap.
        depth = [1] * len(journey.channels)
        for (_, row), tps in cells.items():
            depth[row] = max(depth[row], len(tps))
        self.row_y, heights, y = [], [], top
        for d in depth:
            self.row_y.append(y)
            heights.append(2 * ROW_PAD + NODE_H + (d - 1) * SLOT_H)
            y += heights[-1]
        self.top, self.bottom = top, y
        self.right = LEFT + COL_W * len(journey.stages)
        self.width, self.height = self.right + MARGIN, y + MARGIN
        self.stages = [
            Band(s.key, s.name, LEFT + i * COL_W, 0, COL_W, y, wrap(s.name, STAGE_CHARS, 1))
            for i, s in enumerate(journey.stages)
        ]
        self.channels = [
            Band(
                c.key,
                c.name,
                0,
                self.row_y[i],
                self.right,
                heights[i],
                wrap(c.name, CHANNEL_CHARS, 2),
            )
            for i, c in enumerate(journey.channels)
        ]
        self.nodes: dict[str, Node] = {}
        self.cells: dict[tuple[int, int], list[Node]] = defaultdict(list)
        for (col, row), tps in cells.items():
            for k, tp in enumerate(tps):
                node = Node(
                    key=tp.key,
                    name=tp.name,
                    kind=tp.kind,
                    stage=tp.stage,
                    channel=tp.channel,
                    emotion=tp.emotion,
                    x=LEFT + col * COL_W + COL_W / 2,
                    y=self.row_y[row] + ROW_PAD + k * SLOT_H + NODE_H / 2,
                    width=NODE_W,
                    height=NODE_H,
                    lines=wrap(tp.name),
                )
                self.nodes[tp.key] = node
                self.cells[col, row].append(node)
        self.transitions = {tr.key: tr for tr in journey.transitions}
        for tr in journey.transitions:
            if tr.source not in self.nodes or tr.target not in self.nodes:
                raise JourneyError(f"transition {tr.key!r} refers to an unknown touchpoint")

    def boxes_at(self, x: float, y: float) -> list[Node]:
        """The boxes of the cell a point lies in (a padded box never leaves its cell)."""
        col = math.floor((x - LEFT) / COL_W)
        row = bisect.bisect_right(self.row_y, y) - 1
        return self.cells.get((col, row), [])

    def blocked(self, x: float, y: float, skip: tuple[Node, ...]) -> bool:
        """Whether a point of a curve lies off the bands, near a box, or inside an end box."""
        if not LEFT + LANE_PAD <= x <= self.right - LANE_PAD:
            return True
        if not self.top - RISE <= y <= self.bottom - LANE_PAD:
            return True
        for n in self.boxes_at(x, y):
            # A curve's own end boxes may be touched (it starts on them), never crossed.
            pad = -2 if any(n is m for m in skip) else LANE_PAD  # identity: cheap
            if abs(x - n.x) < n.width / 2 + pad and abs(y - n.y) < n.height / 2 + pad:
                return True
        return False

    def curves(self, bends: dict[str, Route]) -> list:
        """The control points of every edge with the given bends."""
        return [
            _curve(self.nodes[tr.source], self.nodes[tr.target], bends[tr.key])
            for tr in self.transitions.values()
        ]


class _Lanes:
    """The straight middle runs of the lane routes taken so far, by axis and position."""

    def __init__(self):
        self.runs: list[tuple[bool, float, float, float]] = []

    @staticmethod
    def _run(curve) -> tuple[bool, float, float, float] | None:
        """(vertical, position, from, to) of a lane route's middle run, None for other curves."""
        if len(curve) != 3:
            return None
        (x1, y1), (x2, y2) = curve[1]
        if abs(x1 - x2) < 1:
            return True, x1, min(y1, y2), max(y1, y2)
        if abs(y1 - y2) < 1:
            return False, y1, min(x1, x2), max(x1, x2)
        return None

    def add(self, curve) -> None:
        run = self._run(curve)
        if run:
            self.runs.append(run)

    def crossing(self, curve) -> int:
        """1 when the curve's run would lie on top of a run already taken, else 0."""
        run = self._run(curve)
        if run is None:
            return 0
        axis, at, lo, hi = run
        return int(
            any(a == axis and abs(p - at) < 4 and lo < h and l_ < hi for a, p, l_, h in self.runs)
        )


def _choose_bends(journey: Journey, grid: _Grid) -> dict[str, Route]:
    """Each edge's route: the first candidate that passes no box, else the least bad one.

    Candidates start with the edge's own bow (straight, fanned out, or arched for a back edge),
    then bow further on the same side, then on the other side, then lanes through the gaps; a
    route that would coincide with another edge between the same two touchpoints is never taken.
    """
    preferred = _bends(
        journey.transitions, {k: grid.stage_index[n.stage] for k, n in grid.nodes.items()}
    )
    by_column: dict[int, list[Node]] = defaultdict(list)
    for (col, _), nodes in grid.cells.items():
        by_column[col].extend(nodes)
    taken: dict[frozenset, list[Route]] = defaultdict(list)  # in the pair's own direction
    lanes = _Lanes()
    routes = {}
    budget = [SEARCH_BUDGET]  # curve points left to check, shared by all edges
    # Busiest first: when a huge map spends the budget, the main paths have been routed.
    for tr in sorted(journey.transitions, key=lambda t: -(t.volume or 0)):
        a, b = grid.nodes[tr.source], grid.nodes[tr.target]
        bend = preferred[tr.key]
        if a is b:
            on_top = _hits(grid, _curve(a, b, Route(bend)), (a,), 1) == 0
            routes[tr.key] = Route(bend if on_top else -bend)
            continue
        pair = frozenset((a.key, b.key))
        flip = 1 if a.key <= b.key else -1  # so a→b and b→a routes compare on one scale
        if bend and b.x < a.x:
            # Long back edges arch higher so they stand apart from the forward path below them.
            bend = math.copysign(max(abs(bend), 0.2 * math.hypot(b.x - a.x, b.y - a.y)), bend)
        lo, hi = sorted((grid.stage_index[a.stage], grid.stage_index[b.stage]))
        nearby = [n for col in range(lo, hi + 1) for n in by_column[col]]
        side = 1 if bend >= 0 else -1
        arcs = [_detour(a, b, bend, nearby)]
        arcs += [side * BEND * k for k in range(1, 7) if BEND * k > abs(bend)]
        arcs += [-side * BEND * k for k in range(1, 7)]
        others = [(Route(x), _curve(a, b, Route(x))) for x in arcs]
        others += [
            (Route(s * k, True), _curve(a, b, Route(s * k, True)))
            for k in LANES
            for s in (side, -side)
        ]
        # The edge's own bow first, then detours from the shortest: each costs its length plus
        # HIT_COST per point that touches a box, so a clipped corner beats a huge loop.
        own = (Route(bend), _curve(a, b, Route(bend)))
        others.sort(key=lambda c: _length(c[1]))
        best, cost = None, math.inf
        for cand, curve in [own, *others]:
            mine = Route(cand.bend * flip, cand.lane)
            if any(o.lane == mine.lane and abs(o.bend - mine.bend) < BEND / 2 for o in taken[pair]):
                continue
            length = _length(curve)
            if length >= cost:
                break  # sorted by length: no later candidate can be cheaper
            hits = lanes.crossing(curve)
            hits += _hits(grid, curve, (a, b), (cost - length) / HIT_COST - hits, budget)
            if length + HIT_COST * hits < cost:
                best, cost = cand, length + HIT_COST * hits
            if budget[0] <= 0:
                # Out of time: the chord heuristic alone (it ignores the curve's other boxes).
                best = best if best and cost < HIT_COST else Route(_detour(a, b, bend, nearby))
                break
        best = best or Route(bend)
        taken[pair].append(Route(best.bend * flip, best.lane))
        routes[tr.key] = best
        if best.lane:
            lanes.add(_curve(a, b, best))
    return routes


def _hits(grid: _Grid, curve, ends: tuple[Node, ...], limit: float, budget=None) -> int:
    """How many checked points of a curve are blocked (counting stops at limit).

    `budget` is a one-item list of points still allowed to be checked; each check spends one.
    """
    count = 0
    points = _samples(curve)
    if budget is not None:
        budget[0] -= len(points)
    for x, y in points:
        if grid.blocked(x, y, ends):
            count += 1
            if count >= limit:
                break
    return count


def _bends(transitions: list[Transition], stage_of: dict[str, int]) -> dict[str, float]:
    """How far each edge bows sideways (0 = straight), so no two edges of a pair coincide.

    A positive bend bows to the right of the direction of travel, so a→b and b→a with the same
    bend fall on opposite sides; right-to-left back edges therefore arch above the forward ones.
    Self-loops get their rank plus one (nested loops grow taller; negative hangs them below).
    """
    pairs: dict[frozenset, list[Transition]] = defaultdict(list)
    for tr in transitions:
        pairs[frozenset((tr.source, tr.target))].append(tr)
    bends = {}
    for group in pairs.values():
        directions = {(t.source, t.target) for t in group}
        rank: dict[tuple[str, str], int] = defaultdict(int)
        for tr in group:
            i = rank[tr.source, tr.target]
            rank[tr.source, tr.target] += 1
            back = stage_of.get(tr.target, 0) < stage_of.get(tr.source, 0)
            if tr.source == tr.target:
                bends[tr.key] = float(i + 1)
            elif back or len(directions) > 1:
                bends[tr.key] = BEND * (i + 1)
            else:
                # Parallel forward edges fan out: straight, then right, left, further right …
                bends[tr.key] = BEND * ((i + 1) // 2) * (1 if i % 2 else -1)
    return bends


def _detour(a: Node, b: Node, bend: float, nearby: list[Node]) -> float:
    """Bend an edge far enough to pass the boxes its straight line would cross (a heuristic:
    it clears the boxes on the chord, and keeps a curved edge's side)."""
    dx, dy = b.x - a.x, b.y - a.y
    length = math.hypot(dx, dy)
    ux, uy = dx / length, dy / length
    need = {1: 0.0, -1: 0.0}
    for n in nodes_on_chord(a, b, nearby):
        s = ((n.x - a.x) * ux + (n.y - a.y) * uy) / length
        d = -(n.x - a.x) * uy + (n.y - a.y) * ux  # signed distance, right of travel positive
        reach = abs(uy) * n.width / 2 + abs(ux) * n.height / 2 + GAP
        # A quadratic curve is 2·s·(1-s)·bend off its chord at fraction s of the way.
        spread = 2 * min(max(s, 0.1), 0.9) * (1 - min(max(s, 0.1), 0.9))
        for side in need:
            need[side] = max(need[side], (side * d + reach) / spread)
    if not need[1] and not need[-1]:
        return bend
    side = (1 if bend > 0 else -1) if bend else min(need, key=lambda k: (need[k], -k))
    return side * max(abs(bend), need[side])


def nodes_on_chord(a: Node, b: Node, nearby: list[Node]) -> list[Node]:
    """The boxes (other than a and b) that the straight line from a to b passes through."""
    dx, dy = b.x - a.x, b.y - a.y
    length = math.hypot(dx, dy)
    ux, uy = dx / length, dy / length
    hits = []
    for n in nearby:
        if n is a or n is b:
            continue
        s = (n.x - a.x) * ux + (n.y - a.y) * uy
        if not 0 < s < length:
            continue
        d = abs(-(n.x - a.x) * uy + (n.y - a.y) * ux)
        if d < abs(uy) * n.width / 2 + abs(ux) * n.height / 2 + GAP:
            hits.append(n)
    return hits


def _curve(a: Node, b: Node, route: Route) -> list[tuple[tuple[float, float], ...]]:
    """An edge as Bézier segments, from a's outline to the tip of the arrow at b.

    A segment is its control points: two for a line, three for a quadratic, four for a cubic.
    """
    bend = route.bend
    if a is b:
        # A loop on the node's top edge (negative bend: bottom); nested loops grow taller.
        sign = 1 if bend > 0 else -1
        rise = sign * (20 + 16 * abs(bend))
        y = a.top if sign > 0 else a.top + a.height
        x1, x2 = a.x - 14, a.x + 14
        return [((x1, y), (x1 - 20, y - rise), (x2 + 20, y - rise), (x2, y - sign * ARROW))]
    dx, dy = b.x - a.x, b.y - a.y
    length = math.hypot(dx, dy)
    ux, uy = dx / length, dy / length
    nx_, ny_ = -uy, ux  # the right-hand normal of the direction of travel
    if route.lane:
        # Out sideways, along the lane, back in sideways; the corners are rounded by quadratics.
        start = a.boundary(nx_ * bend, ny_ * bend)
        tip = b.boundary(nx_ * bend, ny_ * bend)
        c1 = (a.x + nx_ * bend, a.y + ny_ * bend)
        c2 = (b.x + nx_ * bend, b.y + ny_ * bend)
        r = min(abs(bend) - math.dist(start, (a.x, a.y)), length / 2)
        r = max(r, 0.0)
        end = (tip[0] + nx_ * math.copysign(ARROW, bend), tip[1] + ny_ * math.copysign(ARROW, bend))
        p1, p2 = (c1[0] + ux * r, c1[1] + uy * r), (c2[0] - ux * r, c2[1] - uy * r)
        return [(start, c1, p1), (p1, p2), (p2, c2, end)]
    cx, cy = (a.x + b.x) / 2 + nx_ * bend, (a.y + b.y) / 2 + ny_ * bend
    # Leave each box towards the control point (the centre of the other box when straight).
    x1, y1 = a.boundary(cx - a.x, cy - a.y)
    tx, ty = b.boundary(cx - b.x, cy - b.y)
    # Stop ARROW short along the final direction; the arrowhead marker fills that gap.
    ex, ey = tx - cx, ty - cy
    el = math.hypot(ex, ey) or 1
    end = (tx - ex / el * ARROW, ty - ey / el * ARROW)
    return [((x1, y1), end)] if not bend else [((x1, y1), (cx, cy), end)]


def _bezier(points, t: float) -> tuple[float, float]:
    """The point at parameter t of one Bézier segment (closed forms: this runs a lot)."""
    u = 1 - t
    if len(points) == 2:
        (ax, ay), (bx, by) = points
        return u * ax + t * bx, u * ay + t * by
    if len(points) == 3:
        (ax, ay), (bx, by), (cx, cy) = points
        return u * u * ax + 2 * u * t * bx + t * t * cx, u * u * ay + 2 * u * t * by + t * t * cy
    (ax, ay), (bx, by), (cx, cy), (dx, dy) = points
    w0, w1, w2, w3 = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
    return w0 * ax + w1 * bx + w2 * cx + w3 * dx, w0 * ay + w1 * by + w2 * cy + w3 * dy


def _length(curve) -> float:
    """About how long a curve is."""
    return sum(_reach(seg) for seg in curve)


def _reach(points) -> float:
    """Length of a segment's control polygon (an upper bound of its length, close enough)."""
    return sum(math.dist(p, q) for p, q in zip(points, points[1:], strict=False))


def _point(curve, t: float) -> tuple[float, float]:
    """The point about t of the way along a curve (segments weighted by their length)."""
    lengths = [_reach(seg) for seg in curve]
    goal = t * sum(lengths)
    for seg, length in zip(curve, lengths, strict=True):
        if goal <= length or seg is curve[-1]:
            return _bezier(seg, min(goal / length, 1.0) if length else 0.0)
        goal -= length
    raise AssertionError("unreachable")


def _samples(curve) -> list[tuple[float, float]]:
    """Points along a curve about STEP apart, the ends left out (they sit on their boxes)."""
    points = []
    for seg in curve:
        n = max(2, math.ceil(_reach(seg) / STEP))
        points += [_bezier(seg, i / n) for i in range(1, n)] + [seg[-1]]
    return points[:-1]


def _edge(tr: Transition, a: Node, b: Node, route: Route, max_volume: int) -> Edge:
    """The drawing of one transition from node a to node b (its label is placed later)."""
    curve = _curve(a, b, route)
    x1, y1 = curve[0][0]
    path = [f"M {x1:.1f} {y1:.1f}"]
    for seg in curve:
        letter = {2: "L", 3: "Q", 4: "C"}[len(seg)]
        path.append(letter + " " + ", ".join(f"{x:.1f} {y:.1f}" for x, y in seg[1:]))
    if a is b:
        tip = curve[-1][-1][0], y1
    else:
        # The arrow's tip on b's outline, in the direction the path arrives from.
        (px, py), (qx, qy) = curve[-1][-2], curve[-1][-1]
        d = math.hypot(qx - px, qy - py) or 1
        tip = qx + (qx - px) / d * ARROW, qy + (qy - py) / d * ARROW
    mx, my = _point(curve, 0.5)
    return Edge(
        key=tr.key,
        source=tr.source,
        target=tr.target,
        kind=tr.kind,
        label=tr.label,
        volume=tr.volume,
        width=stroke_width(tr.volume, max_volume),
        dash=DASHES.get(tr.kind),
        x1=round(x1, 1),
        y1=round(y1, 1),
        x2=round(tip[0], 1),
        y2=round(tip[1], 1),
        path=" ".join(path),
        curved=len(curve) > 1 or len(curve[0]) > 2,
        mid_x=round(mx, 1),
        mid_y=round(my, 1),
        label_x=round(mx, 1),
        label_y=round(my, 1),
    )


class _Boxes:
    """Boxes hashed into square buckets, to ask cheaply whether a new box overlaps any."""

    SIZE = 64

    def __init__(self):
        self.buckets: dict[tuple[int, int], list[tuple[float, ...]]] = defaultdict(list)

    def _keys(self, box):
        s = self.SIZE
        for i in range(math.floor(box[0] / s), math.floor(box[2] / s) + 1):
            for j in range(math.floor(box[1] / s), math.floor(box[3] / s) + 1):
                yield i, j

    def add(self, box: tuple[float, ...]) -> None:
        for key in self._keys(box):
            self.buckets[key].append(box)

    def free(self, box: tuple[float, ...]) -> bool:
        return not any(overlaps(box, other) for k in self._keys(box) for other in self.buckets[k])


def _place_labels(edges: list[Edge], grid: _Grid, bends: dict[str, Route]) -> list[Edge]:
    """Put each volume label on its path where it covers no box and no other label (greedy).

    Busier transitions choose first; a label that fits nowhere is left out (show_label False).
    """
    taken = _Boxes()
    for n in grid.nodes.values():
        left, top, right, bottom = n.box
        taken.add((left - 2, top - 2, right + 2, bottom + 2))
    placed = {}
    for e in sorted(edges, key=lambda e: -(e.volume or 0)):
        if e.volume is None:
            continue
        curve = _curve(grid.nodes[e.source], grid.nodes[e.target], bends[e.key])
        hw, hh = label_width(e.volume) / 2, LABEL_H / 2
        for t in LABEL_SPOTS:
            x, y = _point(curve, t)
            box = (x - hw, y - hh, x + hw, y + hh)
            inside = LEFT <= box[0] and box[2] <= grid.right and HEADER <= box[1]
            if inside and box[3] <= grid.bottom and taken.free(box):
                taken.add(box)
                placed[e.key] = (round(x, 1), round(y, 1))
                break
    return [
        replace(e, label_x=placed[e.key][0], label_y=placed[e.key][1], show_label=True)
        if e.key in placed
        else e
        for e in edges
    ]
