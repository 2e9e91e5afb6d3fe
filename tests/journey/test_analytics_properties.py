"""Journey analytics on random journeys (hypothesis): the figures add up, nothing crashes on
cycles, self-loops, disconnected parts or zero and unknown volumes, results are deterministic,
and the bounded searches are complete when they say so and say so when they are not.

Each property is checked against a brute-force answer from networkx or plain sums, computed
here independently of cjm.journey.analytics."""

import json
import math
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from cjm.journey.analytics import (
    DIGITS,
    analyze,
    as_dict,
    dead_ends,
    drop_offs,
    find_paths,
    funnel,
    ranked_paths,
    trace,
    volumes,
)
from cjm.journey.graph import build
from cjm.journey.model import (
    TOUCHPOINT_KINDS,
    TRANSITION_KINDS,
    Channel,
    Journey,
    Stage,
    Touchpoint,
    Transition,
)

FAST = settings(max_examples=80, deadline=None)
SLOW = settings(max_examples=60, deadline=None)  # the brute-force comparisons
EPS = 10**-DIGITS  # a rounded ratio is within half of this of the exact one

volume = st.one_of(st.none(), st.just(0), st.integers(0, 1000))


@st.composite
def journeys(draw, max_touchpoints=9, max_transitions=18, known=False, well_formed=False):
    """A random one-channel journey of 1–4 stages.

    Anything the model allows: every kind mixed, self-loops, parallel transitions, cycles,
    disconnected parts, zero and (unless `known`) unknown volumes. `well_formed` keeps the shape
    in which every customer is counted once: nothing leads into an entry, goals and exits end
    their path, and drop-outs lead into exits.
    """
    stages = [Stage(f"s{i}", f"Stage {i}") for i in range(draw(st.integers(1, 4)))]
    n = draw(st.integers(1, max_touchpoints))
    kinds = draw(st.lists(st.sampled_from(TOUCHPOINT_KINDS), min_size=n, max_size=n))
    touchpoints = [
        Touchpoint(
            f"t{i}",
            draw(st.sampled_from(stages)).key,
            "web",
            f"Touchpoint {i}",
            kind,
            emotion=draw(st.one_of(st.none(), st.integers(-2, 2))),
        )
        for i, kind in enumerate(kinds)
    ]
    transitions = []
    for i in range(draw(st.integers(0, max_transitions))):
        source, target = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        kind = draw(st.sampled_from(TRANSITION_KINDS))
        if well_formed:
            if kinds[source] in ("goal", "exit") or kinds[target] == "entry":
                continue
            if kind == "drop-out" and kinds[target] != "exit":
                kind = "main"
        transitions.append(
            Transition(
                f"r{i}",
                f"t{source}",
                f"t{target}",
                kind,
                volume=draw(st.integers(0, 1000) if known else volume),
            )
        )
    return Journey(
        "Random",
        stages=stages,
        channels=[Channel("web", "Website")],
        touchpoints=touchpoints,
        transitions=transitions,
    )


def total(values):
    """Sum, None if any is unknown (what the analytics must do too)."""
    values = list(values)
    return None if None in values else sum(values)


def edge_paths(journey, cutoff=None):
    """Every simple entry→goal path as its transition keys, brute force (networkx)."""
    graph = build(journey)
    kinds = {tp.key: tp.kind for tp in journey.touchpoints}
    found = set()
    for entry in (k for k, kind in kinds.items() if kind == "entry"):
        for goal in (k for k, kind in kinds.items() if kind == "goal"):
            for path in nx.all_simple_edge_paths(graph, entry, goal, cutoff=cutoff):
                found.add(tuple(key for _, _, key in path))
    return found


def canonical(result):
    """The analytics with the order of paths (and so the tie-breaks among equal paths) left
    out: what must not change when the same transitions are listed in another order."""
    data = as_dict(result)
    data["transitions"] = sorted(data["transitions"], key=lambda t: t["key"])
    data["paths"]["items"] = sorted(data["paths"]["items"], key=lambda p: p["transitions"])
    for name in ("main_path", "painful_path"):
        path = data[name]
        if path is not None:  # which of several equally good paths wins may depend on order
            data[name] = {k: path[k] for k in ("bottleneck", "flow", "emotion")}
    data["bottlenecks"] = sorted(data["bottlenecks"])  # ties ranked by map order, kept
    return data


# --- nothing crashes, everything is JSON --------------------------------------------------------


@FAST
@given(journeys())
def test_analytics_never_crash_and_are_json(journey):
    result = analyze(journey)
    json.dumps(as_dict(result))
    assert len(result.touchpoints) == len(journey.touchpoints)
    assert len(result.transitions) == len(journey.transitions)
    assert len(result.stages) == len(journey.stages)


# --- volumes, conversion and drop-off add up ----------------------------------------------------


@FAST
@given(journeys())
def test_each_touchpoint_in_is_what_goes_on_plus_what_drops_off(journey):
    result = analyze(journey)
    kinds = {tp.key: tp.kind for tp in journey.touchpoints}
    for t in result.touchpoints:
        out = [tr for tr in journey.transitions if tr.source == t.key]
        into = [tr for tr in journey.transitions if tr.target == t.key]
        kept = [tr.volume for tr in out if tr.kind != "drop-out"]
        assert t.volume_out == total(tr.volume for tr in out)
        assert t.volume_in == (t.volume_out if t.kind == "entry" else total(r.volume for r in into))
        if t.kind == "goal":
            assert t.drop_off is None  # arriving at a goal is the conversion
        elif t.kind == "exit":
            arrived = [r.volume for r in into if r.kind != "drop-out" and r.source != t.key]
            assert t.drop_off == total(arrived)
        elif t.volume_in is None or None in kept:
            assert t.drop_off is None  # never guessed
        else:
            assert t.volume_in == sum(kept) + t.drop_off
    assert set(result.losses) == {
        t.key for t in result.touchpoints if t.drop_off is not None and t.drop_off > 0
    }
    drops = [
        t.drop_off or 0 for t in map({t.key: t for t in result.touchpoints}.get, result.losses)
    ]
    assert drops == sorted(drops, reverse=True)
    assert kinds.keys() == {t.key for t in result.touchpoints}


@FAST
@given(journeys())
def test_conversions_of_what_leaves_a_touchpoint_and_its_drop_off_make_one_whole(journey):
    result = analyze(journey)
    stats = {t.key: t for t in result.touchpoints}
    conversion = {t.key: t.conversion for t in result.transitions}
    for tr in journey.transitions:
        source = stats[tr.source]
        base = source.volume_out if source.kind == "entry" else source.volume_in
        if tr.volume is None or not base:
            assert conversion[tr.key] is None
        else:
            assert math.isclose(conversion[tr.key], tr.volume / base, abs_tol=EPS / 2)
    for t in result.touchpoints:
        out = [tr for tr in journey.transitions if tr.source == t.key]
        kept = [conversion[tr.key] for tr in out if tr.kind != "drop-out"]
        if t.kind in ("goal", "exit") or not t.volume_in or t.drop_off is None or None in kept:
            continue
        # Of the customers entering, a share goes on and the rest drops off: 100 % in all.
        whole = sum(kept) + t.drop_off / t.volume_in
        assert math.isclose(whole, 1, abs_tol=EPS / 2 * (len(kept) + 1))


@FAST
@given(journeys(known=True, well_formed=True))
def test_every_customer_entering_converts_or_is_lost_once(journey):
    result = analyze(journey)
    converted = sum(t.volume_in for t in result.touchpoints if t.kind == "goal")
    lost = sum(t.drop_off for t in result.touchpoints if t.drop_off is not None)
    assert result.entry_volume == converted + lost
    assert sum(s.lost for s in result.stages) == lost


@FAST
@given(journeys())
def test_stage_funnel_is_consistent(journey):
    result = analyze(journey)
    order = {s.key: i for i, s in enumerate(journey.stages)}
    tp = {t.key: t for t in journey.touchpoints}
    stats = {t.key: t for t in result.touchpoints}
    entry_volume = total(stats[k].volume_out for k in result.entries)
    assert result.entry_volume == entry_volume
    previous = None
    for i, s in enumerate(result.stages):
        arriving = [stats[k].volume_out for k in result.entries if tp[k].stage == s.key]
        arriving += [
            tr.volume
            for tr in journey.transitions
            if tp[tr.target].stage == s.key
            and order[tp[tr.source].stage] < i
            and tr.kind != "drop-out"
            and tp[tr.target].kind != "exit"
        ]
        assert s.reached == total(arriving)
        if i == 0 or s.reached is None or not previous:
            assert s.conversion is None
        else:
            assert math.isclose(s.conversion, s.reached / previous, abs_tol=EPS / 2)
        if s.reached is None or not entry_volume:
            assert s.share is None
        else:
            assert math.isclose(s.share, s.reached / entry_volume, abs_tol=EPS / 2)
        mine = [stats[t.key] for t in journey.touchpoints if t.stage == s.key]
        assert s.lost == sum(t.drop_off for t in mine if t.drop_off is not None)
        assert s.lost_unknown == sum(1 for t in mine if t.drop_off is None and t.kind != "goal")
        previous = s.reached
    lossy = [s for s in result.stages if s.lost > 0]
    if lossy:
        worst = max(s.lost for s in lossy)
        assert result.biggest_loss_stage == next(s.key for s in lossy if s.lost == worst)
    else:
        assert result.biggest_loss_stage is None


@FAST
@given(journeys())
def test_volumes_is_the_cheap_part_of_analyze_with_the_same_figures(journey):
    result = analyze(journey)
    entering, vin = volumes(journey)
    assert entering == result.entry_volume
    assert vin == {t.key: t.volume_in for t in result.touchpoints}


# --- paths: complete when they say so, bounded, honest ------------------------------------------


@SLOW
@given(journeys(max_touchpoints=8, max_transitions=14))
def test_untruncated_paths_are_exactly_every_simple_entry_to_goal_path(journey):
    paths = analyze(journey).paths
    found = [p.transitions for p in paths.items]
    assert len(found) == len(set(found))  # each path once
    if not paths.truncated:
        assert set(found) == edge_paths(journey)


@SLOW
@given(journeys(max_touchpoints=8, max_transitions=14), st.integers(1, 4), st.integers(1, 6))
def test_paths_respect_cutoff_and_cap_and_say_more_than_n_only_when_there_are(journey, cutoff, cap):
    paths = analyze(journey, cutoff=cutoff, cap=cap).paths
    within = edge_paths(journey, cutoff=cutoff)
    assert (paths.cutoff, paths.cap) == (cutoff, cap)
    assert paths.count <= cap
    assert {p.transitions for p in paths.items} <= within
    for p in paths.items:
        assert 1 <= p.length <= cutoff and len(p.touchpoints) == p.length + 1
        assert len(set(p.touchpoints)) == len(p.touchpoints)  # simple
    if paths.reason == "cap":
        assert len(within) > cap  # "more than N" is true
    if len(within) > cap:
        assert paths.reason == "cap" and paths.count == cap
    else:
        assert {p.transitions for p in paths.items} == within  # all of them, however cut
    if paths.reason is None:
        assert within == edge_paths(journey)  # not truncated: nothing longer was missed
    assert paths.truncated == (paths.reason is not None)


@SLOW
@given(journeys(max_touchpoints=8, max_transitions=14), st.integers(0, 30))
def test_a_work_budget_only_ever_makes_fewer_paths_and_says_so(journey, budget):
    full = analyze(journey).paths
    paths = analyze(journey, budget=budget).paths
    assert {p.transitions for p in paths.items} <= {p.transitions for p in full.items}
    if paths.count < full.count:
        assert paths.truncated and paths.reason == "budget"


@FAST
@given(journeys())
def test_every_path_is_a_walk_from_an_entry_to_a_goal_with_its_own_figures(journey):
    result = analyze(journey)
    tr = {t.key: t for t in journey.transitions}
    tp = {t.key: t for t in journey.touchpoints}
    through = defaultdict(int)
    for p in result.paths.items:
        assert tp[p.touchpoints[0]].kind == "entry" and tp[p.touchpoints[-1]].kind == "goal"
        for i, key in enumerate(p.transitions):
            assert (tr[key].source, tr[key].target) == p.touchpoints[i : i + 2]
        vols = [tr[k].volume for k in p.transitions]
        assert p.bottleneck == (None if None in vols else min(vols))
        felt = [tp[k].emotion for k in p.touchpoints if tp[k].emotion is not None]
        expected = round(sum(felt) / len(felt), DIGITS) if felt else None
        assert p.emotion == expected
        assert trace(journey, p.transitions) == p  # the same figures for a path named by keys
        for key in p.touchpoints[1:-1]:
            through[key] += 1
    assert {t.key: t.paths for t in result.touchpoints} == {k: through[k] for k in tp}
    assert set(result.bottlenecks) == {k for k in tp if through[k]}
    wide = [p.bottleneck for p in result.paths.items if p.bottleneck]
    if wide:
        assert result.main_path.bottleneck == max(wide)
    else:
        assert result.main_path is None
    felt = [p.emotion for p in result.paths.items if p.emotion is not None]
    if felt:
        assert result.painful_path.emotion == min(felt)
    else:
        assert result.painful_path is None


@FAST
@given(journeys(), st.integers(1, 6), st.integers(1, 20))
def test_the_cheap_parts_give_what_analyze_gives(journey, cutoff, cap):
    result = analyze(journey, cutoff=cutoff, cap=cap)
    assert find_paths(journey, cutoff=cutoff, cap=cap) == result.paths
    assert drop_offs(journey) == {t.key: t.drop_off for t in result.touchpoints}
    assert funnel(journey) == result.stages
    ranked = ranked_paths(result.paths.items)
    assert sorted(ranked, key=repr) == sorted(result.paths.items, key=repr)
    if result.main_path is not None:
        assert ranked[0] == result.main_path
    widths = [p.bottleneck or 0 for p in ranked]
    known = [w for w in widths if w]
    assert widths == sorted(known, reverse=True) + [0] * (len(widths) - len(known))


@FAST
@given(journeys(), st.lists(st.integers(0, 17), max_size=5))
def test_trace_accepts_exactly_the_chains_of_known_transitions(journey, picks):
    keys = [f"r{i}" for i in picks]
    by_key = {t.key: t for t in journey.transitions}
    joined = all(k in by_key for k in keys) and all(
        by_key[a].target == by_key[b].source for a, b in zip(keys, keys[1:], strict=False)
    )
    path = trace(journey, keys)
    if keys and joined:
        assert path.transitions == tuple(keys) and path.length == len(keys)
        assert path.touchpoints[0] == by_key[keys[0]].source
    else:
        assert path is None


# --- loops and dead ends ------------------------------------------------------------------------


@SLOW
@given(journeys(max_touchpoints=8, max_transitions=14), st.integers(1, 5), st.integers(1, 8))
def test_loops_are_the_simple_cycles_within_the_bounds(journey, length_bound, cap):
    found = analyze(journey, loop_length=length_bound, loop_cap=cap).loops
    graph = nx.DiGraph(build(journey))
    every = {
        frozenset(zip(c, c[1:] + c[:1], strict=True))
        for c in nx.simple_cycles(graph)
        if len(c) <= length_bound
    }
    mine = [
        frozenset(zip(lp.touchpoints, lp.touchpoints[1:] + lp.touchpoints[:1], strict=True))
        for lp in found.items
    ]
    assert len(mine) == len(set(mine)) and set(mine) <= every
    assert len(mine) <= cap
    assert found.truncated == (len(every) > cap)
    if not found.truncated:
        assert set(mine) == every
    index = {t.key: i for i, t in enumerate(journey.touchpoints)}
    for lp in found.items:
        assert index[lp.touchpoints[0]] == min(index[k] for k in lp.touchpoints)
        steps = zip(lp.touchpoints, lp.touchpoints[1:] + lp.touchpoints[:1], strict=True)
        sums = [
            total(t.volume for t in journey.transitions if (t.source, t.target) == step)
            for step in steps
        ]
        assert lp.volume == (None if None in sums else min(sums))


@FAST
@given(journeys())
def test_dead_ends_are_the_non_endings_with_nowhere_else_to_go(journey):
    leads = defaultdict(set)
    for tr in journey.transitions:
        if tr.target != tr.source:
            leads[tr.source].add(tr.target)
    expected = [
        tp.key
        for tp in journey.touchpoints
        if tp.kind not in ("goal", "exit") and not leads[tp.key]
    ]
    assert dead_ends(journey) == expected == analyze(journey).dead_ends


# --- deterministic ------------------------------------------------------------------------------


@FAST
@given(journeys(), st.randoms(use_true_random=False))
def test_same_journey_same_answer_whatever_the_order_of_its_transitions(journey, rnd):
    first = as_dict(analyze(journey))
    assert as_dict(analyze(journey)) == first  # the same input: the very same output
    shuffled = Journey(
        journey.title,
        stages=journey.stages,
        channels=journey.channels,
        touchpoints=journey.touchpoints,
        transitions=rnd.sample(journey.transitions, len(journey.transitions)),
    )
    a, b = analyze(journey), analyze(shuffled)
    if a.paths.reason in (None, "cutoff") and b.paths.reason in (None, "cutoff"):
        assert canonical(a) == canonical(b)


@FAST
@given(journeys(), st.randoms(use_true_random=False))
def test_per_touchpoint_figures_do_not_depend_on_the_order_of_touchpoints(journey, rnd):
    shuffled = Journey(
        journey.title,
        stages=journey.stages,
        channels=journey.channels,
        touchpoints=rnd.sample(journey.touchpoints, len(journey.touchpoints)),
        transitions=journey.transitions,
    )
    a, b = analyze(journey), analyze(shuffled)
    assert {t.key: t for t in a.touchpoints} == {t.key: t for t in b.touchpoints}
    assert {t.key: t for t in a.transitions} == {t.key: t for t in b.transitions}
    assert a.stages == b.stages and a.entry_volume == b.entry_volume
    assert set(a.dead_ends) == set(b.dead_ends)
    if not a.loops.truncated:
        assert {frozenset(lp.touchpoints) for lp in a.loops.items} == {
            frozenset(lp.touchpoints) for lp in b.loops.items
        }
    if a.paths.reason in (None, "cutoff") and b.paths.reason in (None, "cutoff"):
        assert {p.transitions for p in a.paths.items} == {p.transitions for p in b.paths.items}


SCRIPT = """
import json, random
from cjm.journey.analytics import analyze, as_dict
from cjm.journey.model import Channel, Journey, Stage, Touchpoint, Transition, TOUCHPOINT_KINDS
rnd = random.Random(5)
kinds = [rnd.choice(TOUCHPOINT_KINDS) for _ in range(30)]
tps = [Touchpoint(f"k{i}", f"s{i % 3}", "web", f"T{i}", k, emotion=rnd.randint(-2, 2))
       for i, k in enumerate(kinds)]
trs = [Transition(f"x{i}", f"k{rnd.randrange(30)}", f"k{rnd.randrange(30)}",
                  rnd.choice(["main", "loop", "drop-out"]), volume=rnd.randint(0, 9))
       for i in range(80)]
stages = [Stage(f"s{i}", "S") for i in range(3)]
journey = Journey("R", stages=stages, channels=[Channel("web", "W")], touchpoints=tps,
                  transitions=trs)
print(json.dumps(as_dict(analyze(journey, cap=50, loop_cap=20))))
"""


def test_results_do_not_depend_on_hash_order_across_processes():
    """Sets and dicts must not leak string-hash order (random per process) into the results."""
    root = Path(__file__).resolve().parents[2]
    outputs = {
        subprocess.run(
            [sys.executable, "-c", SCRIPT],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1 and json.loads(outputs.pop())["paths"]["count"] > 0
