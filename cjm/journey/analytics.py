"""Journey analytics: what the graph and its transition volumes say (step 4's questions).

Every search is bounded so a large map answers fast, and every bound says when it was hit:
paths have a cutoff (most transitions per path), a cap (most paths) and a work budget; loops have
a length bound and a cap. A `truncated` flag means "more than this": the figures are a floor.

Volumes are Transition.volume; None means unknown, and a figure that depends on an unknown volume
is None too (never guessed as 0). Formulas (DOMAIN.md, "Scales and formulas"):
- conversion of a transition = its volume ÷ the volume entering its source touchpoint (for an
  entry touchpoint, the volume leaving it: customers arrive there from outside the map);
- drop-off of a touchpoint = volume entering − volume leaving on non-drop-out transitions, so
  explicit drop-outs and customers who vanish unrecorded both count. An exit counts only what
  reaches it on non-drop-out transitions (a drop-out was already counted at its source, where it
  happened); a goal has no drop-off (arriving there is the conversion). So losses add up, once.
- stage funnel = volume reaching each stage: the volume leaving its entries plus the volume
  arriving from earlier stages (loop-backs, drop-outs and transitions into exits do not count:
  those customers did not move on). Conversion = reached ÷ reached by the previous stage.

analyze() answers everything; the cheap parts are public for pages that need only one of them:
volumes() and drop_offs() (no search), find_paths() (no loops or funnel), trace() (the figures
of one path named by its transition keys). Results never depend on the order transitions are
listed in beyond documented tie-breaks, nor on the process (tests/journey/
test_analytics_properties.py checks it on random journeys).
"""

import math
from collections import defaultdict, deque
from dataclasses import asdict, dataclass
from itertools import islice

import networkx as nx

from .graph import ENDINGS, build
from .model import Journey

PATH_CUTOFF = 25  # most transitions on one enumerated path
PATH_CAP = 1000  # most paths enumerated
PATH_BUDGET = 200_000  # most transitions the path search may follow in all (worst cases stay fast)
LOOP_LENGTH = 8  # most touchpoints in one loop
LOOP_CAP = 100  # most loops listed
DIGITS = 4  # rounding of ratios and means


@dataclass(frozen=True)
class Path:
    """One entry→goal path: its touchpoints and transitions (keys) and what they carry.

    `bottleneck` is the smallest volume on it (the most customers who can have walked all of it),
    `flow` the customers expected to walk all of it (first volume × the later conversions),
    `emotion` the mean manual emotion of its touchpoints that have one.
    """

    touchpoints: tuple[str, ...]
    transitions: tuple[str, ...]
    bottleneck: int | None
    flow: float | None
    emotion: float | None

    @property
    def length(self) -> int:
        """Number of transitions."""
        return len(self.transitions)


@dataclass(frozen=True)
class Paths:
    """The enumerated paths, heaviest transitions explored first, and whether there are more.

    `truncated` is True when the search stopped early (`reason`: "cap", "budget" or "cutoff": a
    path was cut at `cutoff` transitions while it could still go on), so `count` is a floor.
    """

    items: list[Path]
    truncated: bool
    reason: str | None
    cutoff: int
    cap: int

    @property
    def count(self) -> int:
        """How many paths were found."""
        return len(self.items)


@dataclass(frozen=True)
class TransitionStats:
    """A transition's volume and conversion (a fraction, None when unknown)."""

    key: str
    source: str
    target: str
    kind: str
    volume: int | None
    conversion: float | None


@dataclass(frozen=True)
class TouchpointStats:
    """A touchpoint's volumes in and out, its drop-off and the enumerated paths through it."""

    key: str
    name: str
    stage: str
    kind: str
    volume_in: int | None
    volume_out: int | None
    drop_off: int | None
    paths: int  # enumerated paths passing through it (not starting or ending there)


@dataclass(frozen=True)
class StageStats:
    """A stage of the funnel: volume reached, conversion from the previous stage, losses."""

    key: str
    name: str
    reached: int | None
    conversion: float | None  # reached ÷ the previous stage's reached
    share: float | None  # reached ÷ the volume leaving all entries
    lost: int  # sum of the known drop-offs of its touchpoints
    lost_unknown: int  # touchpoints whose drop-off is unknown


@dataclass(frozen=True)
class Loop:
    """A simple cycle: its touchpoints from the earliest on the map, and the volume around it."""

    touchpoints: tuple[str, ...]
    volume: int | None  # the smallest step volume around the loop (parallel transitions summed)


@dataclass(frozen=True)
class Loops:
    """The loops found, and whether there are more than `cap` (longer than `length_bound` are
    never looked for)."""

    items: list[Loop]
    truncated: bool
    length_bound: int
    cap: int


@dataclass(frozen=True)
class Analytics:
    """Everything the analytics page and `flask map analyze` show, keyed by element keys."""

    has_volumes: bool
    entries: list[str]
    goals: list[str]
    entry_volume: int | None
    paths: Paths
    main_path: Path | None
    painful_path: Path | None
    transitions: list[TransitionStats]
    touchpoints: list[TouchpointStats]
    stages: list[StageStats]
    biggest_loss_stage: str | None
    losses: list[str]  # touchpoint keys with a positive drop-off, largest first
    bottlenecks: list[str]  # touchpoint keys on enumerated paths, most paths then most volume
    dead_ends: list[str]
    loops: Loops


def analyze(
    journey: Journey,
    cutoff: int = PATH_CUTOFF,
    cap: int = PATH_CAP,
    loop_length: int = LOOP_LENGTH,
    loop_cap: int = LOOP_CAP,
    budget: int = PATH_BUDGET,
) -> Analytics:
    """All analytics of a journey, bounded by the given cutoff, caps and budget."""
    graph = build(journey)
    tps = journey.touchpoints
    kinds = {tp.key: tp.kind for tp in tps}
    entries = [tp.key for tp in tps if tp.kind == "entry"]
    goals = [tp.key for tp in tps if tp.kind == "goal"]
    vin, vout, drop = _flows(journey, kinds)
    conversions = _conversions(journey, kinds, vin, vout)
    paths = _paths(journey, graph, entries, goals, conversions, cutoff, cap, budget)
    through = defaultdict(int)
    for p in paths.items:
        for key in p.touchpoints[1:-1]:
            through[key] += 1
    touchpoints = [
        TouchpointStats(
            tp.key,
            tp.name,
            tp.stage,
            tp.kind,
            vin[tp.key],
            vout[tp.key],
            drop[tp.key],
            through[tp.key],
        )
        for tp in tps
    ]
    stages = _funnel(journey, kinds, vout, drop)
    lossy = [s for s in stages if s.lost > 0]
    entry_volume = _sum(vout[k] for k in entries)
    index = {tp.key: i for i, tp in enumerate(tps)}
    return Analytics(
        has_volumes=any(tr.volume is not None for tr in journey.transitions),
        entries=entries,
        goals=goals,
        entry_volume=entry_volume,
        paths=paths,
        main_path=main_path(paths.items),
        painful_path=painful_path(paths.items),
        transitions=[
            TransitionStats(
                tr.key, tr.source, tr.target, tr.kind, tr.volume, _round(conversions[tr.key])
            )
            for tr in journey.transitions
        ],
        touchpoints=touchpoints,
        stages=stages,
        biggest_loss_stage=max(lossy, key=lambda s: s.lost).key if lossy else None,
        losses=[
            t.key
            for t in sorted(touchpoints, key=lambda t: (-(t.drop_off or 0), index[t.key]))
            if t.drop_off is not None and t.drop_off > 0
        ],
        bottlenecks=[
            t.key
            for t in sorted(
                touchpoints,
                key=lambda t: (
                    -t.paths,
                    -(t.volume_in if t.volume_in is not None else -1),
                    index[t.key],
                ),
            )
            if t.paths > 0
        ],
        dead_ends=dead_ends(journey, graph),
        loops=loops(journey, graph, loop_length, loop_cap),
    )


def find_paths(
    journey: Journey, cutoff: int = PATH_CUTOFF, cap: int = PATH_CAP, budget: int = PATH_BUDGET
) -> Paths:
    """The entry→goal paths exactly as analyze() finds them, without the rest of the analysis
    (the graph view needs only the main or the most painful path, not loops and funnel)."""
    kinds = {tp.key: tp.kind for tp in journey.touchpoints}
    vin, vout, _ = _flows(journey, kinds)
    return _paths(
        journey,
        build(journey),
        [k for k, kind in kinds.items() if kind == "entry"],
        [k for k, kind in kinds.items() if kind == "goal"],
        _conversions(journey, kinds, vin, vout),
        cutoff,
        cap,
        budget,
    )


def as_dict(analytics: Analytics) -> dict:
    """The analytics as plain JSON-ready data (what `flask map analyze` prints)."""
    data = asdict(analytics)
    # Derived counts are properties, so asdict leaves them out: the JSON states them.
    data["paths"]["count"] = analytics.paths.count
    for p, path in zip(data["paths"]["items"], analytics.paths.items, strict=True):
        p["length"] = path.length
    for name in ("main_path", "painful_path"):
        if data[name] is not None:
            data[name]["length"] = getattr(analytics, name).length
    return data


def main_path(paths: list[Path]) -> Path | None:
    """The main (most taken) path: the widest one, i.e. the largest bottleneck volume.

    Why the bottleneck and not the product of conversions: the smallest volume on a path is
    the most customers who can have walked it end to end, read straight off the team's own
    numbers; it needs only the path's volumes (a conversion also needs every volume entering its
    source, so one unknown loop-back would hide the path), and loops or inconsistent counts
    (a conversion above 100 %) cannot skew it. Ties go to the larger flow (the product of
    conversions, when known), then to the shorter path, then to the first found. Paths with an
    unknown or zero bottleneck are never the main path.
    """
    known = [p for p in paths if p.bottleneck]
    if not known:
        return None
    return min(
        known,
        key=lambda p: (-p.bottleneck, -(p.flow if p.flow is not None else -1), p.length),
    )


def ranked_paths(paths: list[Path]) -> list[Path]:
    """The paths busiest first, in main_path()'s order (so the main path comes first): largest
    bottleneck, then larger flow, then shorter; paths without a known, positive bottleneck go
    last, shortest first. Ties keep the order the search found them in."""
    return sorted(
        paths,
        key=lambda p: (
            not p.bottleneck,
            -(p.bottleneck or 0),
            -(p.flow if p.flow is not None else -1),
            p.length,
        ),
    )


def painful_path(paths: list[Path]) -> Path | None:
    """The path with the lowest mean emotion (ties: the longer one, then the first found)."""
    felt = [p for p in paths if p.emotion is not None]
    return min(felt, key=lambda p: (p.emotion, -p.length)) if felt else None


def dead_ends(journey: Journey, graph: nx.MultiDiGraph | None = None) -> list[str]:
    """Touchpoints that are neither goal nor exit and lead nowhere else (map order)."""
    graph = graph if graph is not None else build(journey)
    return [
        tp.key
        for tp in journey.touchpoints
        if tp.kind not in ENDINGS and not any(n != tp.key for n in graph.successors(tp.key))
    ]


def loops(
    journey: Journey,
    graph: nx.MultiDiGraph | None = None,
    length_bound: int = LOOP_LENGTH,
    cap: int = LOOP_CAP,
) -> Loops:
    """Simple cycles of at most length_bound touchpoints, at most cap of them, shortest first."""
    graph = graph if graph is not None else build(journey)
    keys = [tp.key for tp in journey.touchpoints]
    index = {key: i for i, key in enumerate(keys)}
    # Touchpoints as their map positions: networkx walks sets of nodes, and integers (unlike
    # strings) hash the same in every process, so a capped search finds the same loops each run.
    simple = nx.DiGraph()
    simple.add_nodes_from(range(len(keys)))
    simple.add_edges_from((index[tr.source], index[tr.target]) for tr in journey.transitions)
    found = list(islice(nx.simple_cycles(simple, length_bound=length_bound), cap + 1))
    items = []
    for cycle in found[:cap]:
        cycle = [keys[i] for i in cycle]
        start = min(range(len(cycle)), key=lambda i: index[cycle[i]])
        cycle = cycle[start:] + cycle[:start]
        steps = zip(cycle, cycle[1:] + cycle[:1], strict=True)
        volume = _min(_sum(d["volume"] for d in graph[a][b].values()) for a, b in steps)
        items.append(Loop(tuple(cycle), volume))
    items.sort(key=lambda lp: (len(lp.touchpoints), [index[k] for k in lp.touchpoints]))
    return Loops(items, len(found) > cap, length_bound, cap)


def volumes(journey: Journey) -> tuple[int | None, dict[str, int | None]]:
    """The cheap part of analyze(): customers entering the journey and the volume entering each
    touchpoint, without enumerating paths or loops (for priorities on every board render)."""
    kinds = {tp.key: tp.kind for tp in journey.touchpoints}
    vin, vout, _ = _flows(journey, kinds)
    return _sum(vout[k] for k, kind in kinds.items() if kind == "entry"), vin


def drop_offs(journey: Journey) -> dict[str, int | None]:
    """The drop-off of every touchpoint (None where unknown or a goal), as analyze() counts it,
    without enumerating paths or loops (for the graph view on every render)."""
    return _flows(journey, {tp.key: tp.kind for tp in journey.touchpoints})[2]


def funnel(journey: Journey) -> list[StageStats]:
    """The stage funnel as analyze() gives it (customers reaching each stage and lost there),
    without enumerating paths or loops (for the board lane on every render)."""
    kinds = {tp.key: tp.kind for tp in journey.touchpoints}
    _vin, vout, drop = _flows(journey, kinds)
    return _funnel(journey, kinds, vout, drop)


def trace(journey: Journey, transitions) -> Path | None:
    """The path walking these transitions (keys, in order) with its figures as analyze() gives
    them, or None when a key is unknown or one transition does not start where the last ended.

    Any chain is accepted, not only an entry→goal path, so a link can name any walk on the map.
    """
    keys = list(transitions)
    by_key = {tr.key: tr for tr in journey.transitions}
    if not keys or any(k not in by_key for k in keys):
        return None
    chain = [by_key[k] for k in keys]
    if any(a.target != b.source for a, b in zip(chain, chain[1:], strict=False)):
        return None
    kinds = {tp.key: tp.kind for tp in journey.touchpoints}
    vin, vout, _ = _flows(journey, kinds)
    nodes = [chain[0].source] + [tr.target for tr in chain]
    emotion = {tp.key: tp.emotion for tp in journey.touchpoints}
    conversions = _conversions(journey, kinds, vin, vout)
    return _path(nodes, [(tr.key, tr.volume) for tr in chain], conversions, emotion)


def _conversions(journey: Journey, kinds, vin, vout) -> dict[str, float | None]:
    """Each transition's conversion, unrounded for the path flows (a product of rounded ratios
    drifts); rounded when shown."""
    return {
        tr.key: _ratio(
            tr.volume,
            vout[tr.source] if kinds[tr.source] == "entry" else vin[tr.source],
            digits=None,
        )
        for tr in journey.transitions
    }


def _flows(journey: Journey, kinds: dict[str, str]):
    """Volume in, volume out and drop-off of every touchpoint (None where a volume is unknown)."""
    ins, outs, kept = defaultdict(list), defaultdict(list), defaultdict(list)
    arrived = defaultdict(list)  # into each touchpoint on non-drop-outs from elsewhere
    for tr in journey.transitions:
        outs[tr.source].append(tr.volume)
        ins[tr.target].append(tr.volume)
        if tr.kind != "drop-out":
            kept[tr.source].append(tr.volume)
            if tr.source != tr.target:
                arrived[tr.target].append(tr.volume)
    vin, vout, drop = {}, {}, {}
    for key, kind in kinds.items():
        vout[key] = _sum(outs[key])
        # Customers arrive at an entry from outside the map: what enters is what leaves.
        vin[key] = vout[key] if kind == "entry" else _sum(ins[key])
        if kind == "goal":
            drop[key] = None
        elif kind == "exit":
            drop[key] = _sum(arrived[key])
        else:
            drop[key] = _minus(vin[key], _sum(kept[key]))
    return vin, vout, drop


def _funnel(journey: Journey, kinds, vout, drop) -> list[StageStats]:
    """The stage funnel: volume reaching each stage, conversion, share of entries, losses."""
    order = {s.key: i for i, s in enumerate(journey.stages)}
    stage_of = {tp.key: tp.stage for tp in journey.touchpoints}
    arriving = defaultdict(list)
    for tp in journey.touchpoints:
        if tp.kind == "entry":
            arriving[tp.stage].append(vout[tp.key])
    for tr in journey.transitions:
        forward = order[stage_of[tr.source]] < order[stage_of[tr.target]]
        if forward and tr.kind != "drop-out" and kinds[tr.target] != "exit":
            arriving[stage_of[tr.target]].append(tr.volume)
    entry_volume = _sum(vout[k] for k, kind in kinds.items() if kind == "entry")
    in_stage = defaultdict(list)
    for tp in journey.touchpoints:
        in_stage[tp.stage].append((tp.kind, drop[tp.key]))
    stages, previous = [], None
    for i, s in enumerate(journey.stages):
        reached = _sum(arriving[s.key])
        drops = in_stage[s.key]
        stages.append(
            StageStats(
                s.key,
                s.name,
                reached,
                _ratio(reached, previous) if i else None,
                _ratio(reached, entry_volume),
                sum(d for _, d in drops if d is not None),
                sum(1 for kind, d in drops if d is None and kind != "goal"),
            )
        )
        previous = reached
    return stages


def _paths(journey, graph, entries, goals, conversions, cutoff, cap, budget) -> Paths:
    """Simple entry→goal paths by depth-first search, busiest transitions first, bounded."""
    goal_set = set(goals)
    # Only touchpoints that can still reach a goal are worth walking into.
    to_goal = _distances(graph, goal_set)
    useful = to_goal.keys()
    index = {tp.key: i for i, tp in enumerate(journey.touchpoints)}
    # Busiest first (unknown last, then map order): a capped search keeps the heavy paths.
    out = {
        node: sorted(
            (
                (tr_key, target, data["volume"])
                for _, target, tr_key, data in graph.out_edges(node, keys=True, data=True)
                if target in useful and target != node
            ),
            key=lambda e: (-(e[2] if e[2] is not None else -1), index[e[1]]),
        )
        for node in useful
    }
    # Fewest transitions from each touchpoint on to a goal other than itself (a lower bound,
    # whatever is already on the path): once the cutoff has been hit anyway, a branch that cannot
    # reach a goal within the transitions left is not walked. That changes no result: it holds
    # no path to find, and "cutoff" is already said. It only saves work (and work budget).
    onward = {
        node: min((to_goal[t] + 1 for _, t, _ in edges), default=math.inf)
        for node, edges in out.items()
    }
    emotion = {tp.key: tp.emotion for tp in journey.touchpoints}
    items: list[Path] = []
    reason, cut, steps = None, False, 0
    for entry in entries:
        if entry not in useful:
            continue
        nodes, edges, on_path = [entry], [], {entry}
        stack = [iter(out[entry])]
        while stack and reason is None:
            step = next(stack[-1], None)
            if step is None:
                stack.pop()
                on_path.discard(nodes.pop())
                if edges:
                    edges.pop()
                continue
            tr_key, target, volume = step
            if target in on_path:
                continue
            steps += 1
            if steps > budget:
                reason = "budget"
                break
            nodes.append(target)
            edges.append((tr_key, volume))
            if target in goal_set:
                if len(items) == cap:
                    reason = "cap"
                    break
                items.append(_path(nodes, edges, conversions, emotion))
            if len(edges) < cutoff and not (cut and onward[target] > cutoff - len(edges)):
                on_path.add(target)
                stack.append(iter(out[target]))
            else:
                if len(edges) >= cutoff:
                    # Cut while it could go on: longer paths may exist that were not followed.
                    cut = cut or any(t not in on_path for _, t, _ in out[target])
                nodes.pop()
                edges.pop()
        if reason is not None:
            break
    reason = reason or ("cutoff" if cut else None)
    return Paths(items, reason is not None, reason, cutoff, cap)


def _distances(graph: nx.MultiDiGraph, targets: set[str]) -> dict[str, int]:
    """Fewest transitions from each node to some target (0 for a target), for every node that
    reaches one: one backward breadth-first walk for all targets, not one search per target."""
    dist = dict.fromkeys(targets, 0)
    todo = deque(targets)
    pred = graph.pred
    while todo:
        node = todo.popleft()
        for prev in pred[node]:
            if prev not in dist:
                dist[prev] = dist[node] + 1
                todo.append(prev)
    return dist


def _path(nodes, edges, conversions, emotion) -> Path:
    """A found path with its bottleneck, flow and mean emotion."""
    volumes = [v for _, v in edges]
    keys = tuple(k for k, _ in edges)
    flow = None
    if all(v is not None for v in volumes) and all(conversions[k] is not None for k in keys[1:]):
        flow = round(volumes[0] * math.prod(conversions[k] for k in keys[1:]), DIGITS)
    felt = [emotion[n] for n in nodes if emotion[n] is not None]
    return Path(
        touchpoints=tuple(nodes),
        transitions=keys,
        bottleneck=_min(volumes),
        flow=flow,
        emotion=round(sum(felt) / len(felt), DIGITS) if felt else None,
    )


def _sum(values) -> int | None:
    """Sum of volumes, None if any is unknown (an empty sum is 0: nothing flows)."""
    values = list(values)
    return None if any(v is None for v in values) else sum(values)


def _min(values) -> int | None:
    """Smallest volume, None if any is unknown or there is none."""
    values = list(values)
    return None if not values or any(v is None for v in values) else min(values)


def _minus(a: int | None, b: int | None) -> int | None:
    """a − b, None if either is unknown."""
    return None if a is None or b is None else a - b


def _ratio(a: int | None, b: int | None, digits: int | None = DIGITS) -> float | None:
    """a ÷ b (rounded to `digits` unless None), None if either is unknown or b is 0."""
    return None if a is None or not b else _round(a / b, digits)


def _round(value: float | None, digits: int | None = DIGITS) -> float | None:
    """A ratio rounded for display and JSON (None stays None; digits None keeps it exact)."""
    return value if value is None or digits is None else round(value, digits)
