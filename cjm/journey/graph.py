"""The journey as a networkx graph: build it, check it for broken paths, and lay it out for drawing.

Two transitions may join the same pair of touchpoints (say a "main" path and an "alternative" one
with its own condition and volume); the data allows it and the method wants every variant kept, so
build() returns a MultiDiGraph keyed by transition key instead of rejecting or merging them, and
layout() bends parallel edges apart so each stays visible.
"""

import math
import textwrap
from collections import defaultdict
from dataclasses import dataclass, field

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
# All sizes are SVG user units (px at 100 %).
HEADER = 40  # stage names band
LEFT = 140  # channel names column
COL_W = 220
NODE_W, NODE_H = 160, 48
SLOT_H = 72  # one stacked touchpoint in a cell
ROW_PAD = 20  # above and below the stack in each channel row
MARGIN = 20  # right and bottom
ARROW = 10  # arrowhead length: paths stop this short of the node and the marker fills the gap
MIN_WIDTH, MAX_WIDTH = 1.5, 8.0
GAP = 10  # room left between a detouring edge and the box it avoids
BEND = 40  # sideways offset of the control point for a curved edge
DASHES = {"main": None, "alternative": "8 5", "loop": "2 5", "drop-out": "6 4"}
LINE_CHARS, MAX_LINES = 22, 2


@dataclass(frozen=True)
class Band:
    """A stage column or a channel row: its key, name and rectangle."""

    key: str
    name: str
    x: float
    y: float
    width: float
    height: float


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
    def diamond(self) -> str:
        """SVG polygon points of the diamond a decision is drawn as."""
        hw, hh = self.width / 2, self.height / 2
        return " ".join(
            f"{x:g},{y:g}"
            for x, y in (
                (self.x, self.y - hh),
                (self.x + hw, self.y),
                (self.x, self.y + hh),
                (self.x - hw, self.y),
            )
        )

    def boundary(self, dx: float, dy: float) -> tuple[float, float]:
        """Where a ray from the centre in direction (dx, dy) leaves the box (or the diamond)."""
        hw, hh = self.width / 2, self.height / 2
        if dx == dy == 0:
            return self.x, self.y
        if self.kind == "decision":
            t = 1 / (abs(dx) / hw + abs(dy) / hh)
        else:
            t = min(hw / abs(dx) if dx else math.inf, hh / abs(dy) if dy else math.inf)
        return self.x + dx * t, self.y + dy * t


@dataclass(frozen=True)
class Edge:
    """A transition's drawing: endpoints, SVG path, stroke width and dash, label position."""

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
    label_x: float
    label_y: float


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


def wrap(name: str) -> tuple[str, ...]:
    """A name in at most MAX_LINES short lines, the last one ending in … when cut."""
    lines = textwrap.wrap(name, LINE_CHARS, max_lines=MAX_LINES, placeholder="…") or [""]
    # textwrap keeps an unbreakable word whole; cut it so it stays inside the box.
    return tuple(ln if len(ln) <= LINE_CHARS else ln[: LINE_CHARS - 1] + "…" for ln in lines)


def layout(journey: Journey) -> Layout:
    """Lay the journey out: x by stage, y by channel; back edges, parallels and detours curved."""
    result = _place(journey, HEADER)
    # Curves arching above the first row must not cross the stage names: move everything down.
    top = min([HEADER, *(_highest(e) for e in result.edges)])
    if top < HEADER:
        result = _place(journey, HEADER + math.ceil(HEADER - top) + 4)
    return result


def _highest(edge: Edge) -> float:
    """The smallest y an edge's drawing (or its label) reaches."""
    return min(edge.y1, edge.y2, edge.label_y - 12)


def _place(journey: Journey, top: float) -> Layout:
    """One layout pass with the first channel row starting below `top`."""
    stage_index = {s.key: i for i, s in enumerate(journey.stages)}
    channel_index = {c.key: i for i, c in enumerate(journey.channels)}
    cells: dict[tuple[int, int], list[Touchpoint]] = defaultdict(list)
    for tp in journey.touchpoints:
        if tp.stage not in stage_index or tp.channel not in channel_index:
            raise JourneyError(f"touchpoint {tp.key!r} has an unknown stage or channel")
        cells[stage_index[tp.stage], channel_index[tp.channel]].append(tp)
    # A channel row is as tall as its fullest cell, so stacked touchpoints never overlap.
    depth = [1] * len(journey.channels)
    for (_, row), tps in cells.items():
        depth[row] = max(depth[row], len(tps))
    row_y, heights, y = [], [], top
    for d in depth:
        row_y.append(y)
        heights.append(2 * ROW_PAD + NODE_H + (d - 1) * SLOT_H)
        y += heights[-1]
    width = LEFT + COL_W * len(journey.stages) + MARGIN
    height = y + MARGIN
    stages = [
        Band(s.key, s.name, LEFT + i * COL_W, 0, COL_W, y) for i, s in enumerate(journey.stages)
    ]
    channels = [
        Band(c.key, c.name, 0, row_y[i], width - MARGIN, heights[i])
        for i, c in enumerate(journey.channels)
    ]
    nodes = {}
    for (col, row), tps in cells.items():
        for k, tp in enumerate(tps):
            nodes[tp.key] = Node(
                key=tp.key,
                name=tp.name,
                kind=tp.kind,
                stage=tp.stage,
                channel=tp.channel,
                emotion=tp.emotion,
                x=LEFT + col * COL_W + COL_W / 2,
                y=row_y[row] + ROW_PAD + k * SLOT_H + NODE_H / 2,
                width=NODE_W,
                height=NODE_H,
                lines=wrap(tp.name),
            )
    max_volume = max((t.volume or 0 for t in journey.transitions), default=0)
    bends = _bends(journey.transitions, {k: stage_index[n.stage] for k, n in nodes.items()})
    by_column: dict[int, list[Node]] = defaultdict(list)
    for n in nodes.values():
        by_column[stage_index[n.stage]].append(n)
    edges = []
    for tr in journey.transitions:
        if tr.source not in nodes or tr.target not in nodes:
            raise JourneyError(f"transition {tr.key!r} refers to an unknown touchpoint")
        a, b = nodes[tr.source], nodes[tr.target]
        bend = bends[tr.key]
        if a is not b:
            lo, hi = sorted((stage_index[a.stage], stage_index[b.stage]))
            nearby = [n for col in range(lo, hi + 1) for n in by_column[col]]
            bend = _detour(a, b, bend, nearby)
        edges.append(_edge(tr, a, b, bend, max_volume))
    return Layout(
        width=width,
        height=height,
        stages=stages,
        channels=channels,
        nodes=[nodes[tp.key] for tp in journey.touchpoints],
        edges=edges,
        max_volume=max_volume,
        index=nodes,
    )


def _bends(transitions: list[Transition], stage_of: dict[str, int]) -> dict[str, float]:
    """How far each edge bows sideways (0 = straight), so no two edges of a pair coincide.

    A positive bend bows to the right of the direction of travel, so a→b and b→a with the same
    bend fall on opposite sides; right-to-left back edges therefore arch above the forward ones.
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
                bends[tr.key] = float(i)  # self-loops: the rank makes nested loops
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
    if bend and b.x < a.x:
        # Long back edges arch higher so they stand apart from the forward path below them.
        bend = max(bend, 0.2 * length)
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


def _edge(tr: Transition, a: Node, b: Node, bend: float, max_volume: int) -> Edge:
    """The drawing of one transition from node a to node b."""
    common = dict(
        key=tr.key,
        source=tr.source,
        target=tr.target,
        kind=tr.kind,
        label=tr.label,
        volume=tr.volume,
        width=stroke_width(tr.volume, max_volume),
        dash=DASHES.get(tr.kind),
    )
    if a.key == b.key:
        # A loop on the node's top edge; nested loops (rank in `bend`) grow taller.
        rise = 36 + 16 * bend
        x1, x2, y = a.x - 14, a.x + 14, a.top
        path = (
            f"M {x1:g} {y:g} C {x1 - 20:g} {y - rise:g}, {x2 + 20:g} {y - rise:g}, "
            f"{x2:g} {y - ARROW:g}"
        )
        return Edge(
            **common,
            x1=x1,
            y1=y,
            x2=x2,
            y2=y,
            path=path,
            curved=True,
            label_x=a.x,
            label_y=y - rise * 0.75 - 4,
        )
    dx, dy = b.x - a.x, b.y - a.y
    length = math.hypot(dx, dy)
    ux, uy = dx / length, dy / length
    mx, my = (a.x + b.x) / 2, (a.y + b.y) / 2
    cx, cy = mx - uy * bend, my + ux * bend  # the right-hand normal of (ux, uy) is (-uy, ux)
    # Leave each box towards the control point (the centre of the other box when straight).
    x1, y1 = a.boundary(cx - a.x, cy - a.y)
    tx, ty = b.boundary(cx - b.x, cy - b.y)
    # Stop ARROW short along the final direction; the arrowhead marker fills that gap.
    ex, ey = tx - cx, ty - cy
    el = math.hypot(ex, ey) or 1
    x2, y2 = tx - ex / el * ARROW, ty - ey / el * ARROW
    if bend:
        path = f"M {x1:.1f} {y1:.1f} Q {cx:.1f} {cy:.1f} {x2:.1f} {y2:.1f}"
        lx, ly = 0.25 * x1 + 0.5 * cx + 0.25 * tx, 0.25 * y1 + 0.5 * cy + 0.25 * ty
    else:
        path = f"M {x1:.1f} {y1:.1f} L {x2:.1f} {y2:.1f}"
        lx, ly = (x1 + tx) / 2, (y1 + ty) / 2
    return Edge(
        **common,
        x1=round(x1, 1),
        y1=round(y1, 1),
        x2=round(tx, 1),
        y2=round(ty, 1),
        path=path,
        curved=bool(bend),
        label_x=round(lx, 1),
        label_y=round(ly - 6, 1),
    )
