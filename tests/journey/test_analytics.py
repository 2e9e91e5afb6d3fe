"""Journey analytics on small hand-checked journeys: paths, main and painful path, losses, funnel,
bottlenecks, dead ends and loops; bounded searches that say when they stopped early."""

import json

import pytest

from cjm.journey.analytics import analyze, as_dict, dead_ends, loops
from cjm.journey.model import Channel, Journey, Stage, Touchpoint, Transition
from tests.factories import sample_journey
from tests.journey.test_graph import big_journey


def make(touchpoints, transitions, stages=("s1", "s2", "s3")) -> Journey:
    """A one-channel journey; touchpoints as (key, stage, kind, emotion), transitions as
    (source, target, volume[, kind]) keyed source-target (a third field makes a parallel key)."""
    journey = Journey(
        "Test",
        stages=[Stage(s, s.upper()) for s in stages],
        channels=[Channel("web", "Website")],
    )
    for key, stage, kind, emotion in touchpoints:
        journey.touchpoints.append(
            Touchpoint(key, stage, "web", key.title(), kind, emotion=emotion)
        )
    seen: dict[str, int] = {}
    for source, target, volume, *kind in transitions:
        key = f"{source}-{target}"
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key += f"-{seen[key]}"
        journey.transitions.append(
            Transition(key, source, target, *(kind or ["main"]), volume=volume)
        )
    return journey


@pytest.fixture
def branches() -> Journey:
    """e splits 60/40 into a and b; a converts 10 and drops 45 (5 vanish), b converts all 40."""
    return make(
        [
            ("e", "s1", "entry", 1),
            ("a", "s2", "step", -2),
            ("b", "s2", "step", 1),
            ("x", "s2", "exit", None),
            ("g", "s3", "goal", 2),
        ],
        [
            ("e", "a", 60),
            ("e", "b", 40),
            ("a", "g", 10),
            ("a", "x", 45, "drop-out"),
            ("b", "g", 40),
        ],
    )


def by_key(items):
    return {i.key: i for i in items}


def test_paths_are_every_entry_to_goal_path_busiest_first(branches):
    paths = analyze(branches).paths
    assert [p.touchpoints for p in paths.items] == [("e", "a", "g"), ("e", "b", "g")]
    assert [p.transitions for p in paths.items] == [("e-a", "a-g"), ("e-b", "b-g")]
    assert (paths.count, paths.truncated, paths.reason) == (2, False, None)
    assert [p.length for p in paths.items] == [2, 2]


def test_each_path_has_its_bottleneck_flow_and_mean_emotion(branches):
    via_a, via_b = analyze(branches).paths.items
    assert (via_a.bottleneck, via_a.flow, via_a.emotion) == (10, 10.0, 0.3333)  # 60 × 10/60
    assert (via_b.bottleneck, via_b.flow, via_b.emotion) == (40, 40.0, 1.3333)


def test_main_path_is_the_widest_not_the_first_busy_branch(branches):
    # The busiest first step (60 to a) leads to only 10 conversions; via b 40 walk it all.
    assert analyze(branches).main_path.touchpoints == ("e", "b", "g")


def test_main_path_ties_on_bottleneck_go_to_the_larger_flow():
    journey = make(
        [
            ("e", "s1", "entry", None),
            ("a", "s2", "step", None),
            ("b", "s2", "step", None),
            ("g", "s3", "goal", None),
        ],
        [("e", "a", 20), ("e", "b", 50), ("b", "a", 30), ("a", "g", 20), ("b", "g", 20)],
    )
    result = analyze(journey)
    # Every path's narrowest step carries 20; a receives 50 and b 50, both send 20 on (40 %).
    figures = {p.touchpoints: (p.bottleneck, p.flow) for p in result.paths.items}
    assert figures == {
        ("e", "b", "a", "g"): (20, 12.0),  # 50 × 30/50 × 20/50
        ("e", "b", "g"): (20, 20.0),  # 50 × 20/50
        ("e", "a", "g"): (20, 8.0),  # 20 × 20/50
    }
    assert result.main_path.touchpoints == ("e", "b", "g")


def test_most_painful_path_has_the_lowest_mean_emotion(branches):
    assert analyze(branches).painful_path.touchpoints == ("e", "a", "g")


def test_painful_path_skips_touchpoints_without_emotion_and_is_none_without_any(branches):
    for tp in branches.touchpoints:
        tp.emotion = None
    assert analyze(branches).painful_path is None
    branches.touchpoints[1].emotion = 1  # a
    result = analyze(branches)
    assert result.painful_path.touchpoints == ("e", "a", "g")
    assert result.painful_path.emotion == 1.0  # the only touchpoint with an emotion


def test_transition_conversion_is_volume_over_what_enters_its_source(branches):
    conv = {t.key: t.conversion for t in analyze(branches).transitions}
    # From the entry: over what leaves it (100); from a: over what enters a (60).
    assert conv == {"e-a": 0.6, "e-b": 0.4, "a-g": 0.1667, "a-x": 0.75, "b-g": 1.0}


def test_touchpoint_volumes_and_drop_off(branches):
    stats = by_key(analyze(branches).touchpoints)
    row = {k: (s.volume_in, s.volume_out, s.drop_off) for k, s in stats.items()}
    assert row == {
        "e": (100, 100, 0),
        "a": (60, 55, 50),  # 60 in − 10 on to the goal: 45 dropped out, 5 vanished
        "b": (40, 40, 0),
        "x": (45, 0, 0),  # the drop-out was counted at a, where it happened
        "g": (50, 0, None),  # arriving at a goal is the conversion
    }


def test_losses_add_up_to_what_entered_and_did_not_convert(branches):
    result = analyze(branches)
    stats = by_key(result.touchpoints)
    lost = sum(s.drop_off for s in result.touchpoints if s.drop_off is not None)
    assert result.entry_volume == stats["g"].volume_in + lost == 100
    assert result.losses == ["a"]


def test_an_exit_reached_on_a_main_transition_counts_its_loss_there():
    journey = make(
        [("e", "s1", "entry", None), ("x", "s2", "exit", None), ("g", "s2", "goal", None)],
        [("e", "x", 30), ("e", "g", 70)],
    )
    stats = by_key(analyze(journey).touchpoints)
    assert (stats["e"].drop_off, stats["x"].drop_off) == (0, 30)


def test_funnel_100_2_1_gives_2_and_50_percent():
    journey = make(
        [
            ("visit", "s1", "entry", None),
            ("left", "s1", "exit", None),
            ("request", "s2", "step", None),
            ("gave-up", "s2", "exit", None),
            ("order", "s3", "goal", None),
        ],
        [
            ("visit", "request", 2),
            ("visit", "left", 98, "drop-out"),
            ("request", "order", 1),
            ("request", "gave-up", 1, "drop-out"),
        ],
    )
    result = analyze(journey)
    funnel = [(s.key, s.reached, s.conversion, s.share) for s in result.stages]
    assert funnel == [("s1", 100, None, 1.0), ("s2", 2, 0.02, 0.02), ("s3", 1, 0.5, 0.01)]
    assert {s.key: s.lost for s in result.stages} == {"s1": 98, "s2": 1, "s3": 0}
    assert result.biggest_loss_stage == "s1"


def test_funnel_counts_forward_moves_only(branches):
    # A loop back from b to the first stage does not make more customers reach it.
    next(t for t in branches.transitions if t.key == "b-g").volume = 33
    branches.transitions.append(Transition("b-e", "b", "e", "loop", volume=7))
    stages = by_key(analyze(branches).stages)
    assert [stages[k].reached for k in ("s1", "s2", "s3")] == [100, 100, 43]
    assert [stages[k].lost for k in ("s1", "s2", "s3")] == [0, 50, 0]


def test_bottlenecks_rank_by_paths_then_volume():
    # e → a → {b, c} → g: a sits on both paths, b on one with 30, c on one with 50.
    journey = make(
        [
            ("e", "s1", "entry", None),
            ("a", "s2", "step", None),
            ("b", "s2", "step", None),
            ("c", "s2", "step", None),
            ("g", "s3", "goal", None),
        ],
        [("e", "a", 80), ("a", "b", 30), ("a", "c", 50), ("b", "g", 30), ("c", "g", 50)],
    )
    result = analyze(journey)
    assert result.bottlenecks == ["a", "c", "b"]
    assert {t.key: t.paths for t in result.touchpoints} == {"e": 0, "a": 2, "b": 1, "c": 1, "g": 0}


def test_dead_ends_are_neither_goal_nor_exit_and_lead_nowhere_else():
    journey = make(
        [
            ("e", "s1", "entry", None),
            ("stuck", "s2", "step", None),
            ("spin", "s2", "decision", None),
            ("x", "s2", "exit", None),
            ("g", "s3", "goal", None),
        ],
        [("e", "stuck", 5), ("e", "spin", 5), ("spin", "spin", 2), ("e", "x", 1), ("e", "g", 1)],
    )
    assert dead_ends(journey) == ["stuck", "spin"]  # a loop back to itself leads nowhere
    assert analyze(journey).dead_ends == ["stuck", "spin"]


def test_loops_are_simple_cycles_from_their_earliest_touchpoint_shortest_first():
    journey = make(
        [
            ("e", "s1", "entry", None),
            ("a", "s2", "step", None),
            ("b", "s2", "step", None),
            ("c", "s2", "step", None),
            ("g", "s3", "goal", None),
        ],
        [
            ("e", "a", 10),
            ("a", "b", 10),
            ("b", "a", 4, "loop"),
            ("b", "c", 6),
            ("c", "a", None, "loop"),
            ("c", "c", 3, "loop"),
            ("b", "g", 9),
        ],
    )
    found = loops(journey)
    assert [(lp.touchpoints, lp.volume) for lp in found.items] == [
        (("c",), 3),
        (("a", "b"), 4),
        (("a", "b", "c"), None),  # c → a has no volume yet
    ]
    assert not found.truncated
    assert loops(journey, length_bound=2).items[-1].touchpoints == ("a", "b")
    capped = loops(journey, cap=2)
    assert (len(capped.items), capped.truncated) == (2, True)


def test_sample_journey_loop_volume_is_its_narrowest_step():
    (loop,) = analyze(sample_journey()).loops.items
    assert (loop.touchpoints, loop.volume) == (("cart", "call"), 25)  # 30 out, 25 back


def test_parallel_transitions_make_distinct_paths():
    journey = make(
        [("e", "s1", "entry", None), ("g", "s2", "goal", None)],
        [("e", "g", 7), ("e", "g", 3, "alternative")],
    )
    paths = analyze(journey).paths.items
    assert [(p.transitions, p.bottleneck) for p in paths] == [(("e-g",), 7), (("e-g-2",), 3)]


def ladder(rungs: int) -> Journey:
    """Each rung has two touchpoints, both joined to both of the next rung: 2**rungs paths."""
    tps = [("e", "s1", "entry", None), ("g", "s3", "goal", None)]
    trs, previous = [], ["e"]
    for i in range(rungs):
        rung = [f"u{i}", f"d{i}"]
        tps += [(k, "s2", "step", None) for k in rung]
        trs += [(p, k, 1) for p in previous for k in rung]
        previous = rung
    trs += [(p, "g", 1) for p in previous]
    return make(tps, trs)


def test_more_paths_than_the_cap_are_said_honestly():
    journey = ladder(4)  # 16 paths
    assert analyze(journey).paths.count == 16
    paths = analyze(journey, cap=5).paths
    assert (paths.count, paths.truncated, paths.reason, paths.cap) == (5, True, "cap", 5)


def test_exactly_cap_paths_is_not_truncated():
    paths = analyze(ladder(2), cap=4).paths
    assert (paths.count, paths.truncated) == (4, False)


def test_paths_longer_than_the_cutoff_are_not_followed_and_that_is_said():
    chain = make(
        [
            ("e", "s1", "entry", None),
            ("a", "s2", "step", None),
            ("b", "s2", "step", None),
            ("g", "s3", "goal", None),
        ],
        [("e", "a", 1), ("a", "b", 1), ("b", "g", 1)],
    )
    assert analyze(chain, cutoff=3).paths.truncated is False
    paths = analyze(chain, cutoff=2).paths
    assert (paths.count, paths.truncated, paths.reason) == (0, True, "cutoff")


def test_the_work_budget_stops_the_search_and_says_so():
    paths = analyze(ladder(6), budget=20).paths
    assert paths.truncated and paths.reason == "budget"
    assert 0 < paths.count < 64


def test_unknown_volumes_stay_unknown():
    journey = sample_journey()
    cart_call = next(t for t in journey.transitions if t.key == "cart-call")
    cart_call.volume = None
    result = analyze(journey)
    assert by_key(result.transitions)["cart-call"].conversion is None
    stats = by_key(result.touchpoints)
    assert stats["cart"].volume_out is None and stats["cart"].drop_off is None
    assert stats["call"].volume_in is None and stats["call"].drop_off is None
    # cart-paid's conversion still needs only what enters cart (ad-cart 100 + call-cart 25).
    assert by_key(result.transitions)["cart-paid"].conversion == 0.32
    assert result.main_path.touchpoints == ("ad", "cart", "paid")
    buy = by_key(result.stages)["buy"]
    assert (buy.lost, buy.lost_unknown) == (0, 2)


def test_a_path_with_an_unknown_volume_is_never_the_main_path(branches):
    next(t for t in branches.transitions if t.key == "b-g").volume = None
    result = analyze(branches)
    assert result.paths.items[1].bottleneck is None and result.paths.items[1].flow is None
    assert result.main_path.touchpoints == ("e", "a", "g")


def test_without_volumes_everything_is_still_shown_but_no_figure_invented(branches):
    for tr in branches.transitions:
        tr.volume = None
    result = analyze(branches)
    assert result.has_volumes is False
    assert result.paths.count == 2 and result.main_path is None
    assert result.entry_volume is None and result.losses == [] and result.biggest_loss_stage is None
    assert [s.reached for s in result.stages] == [None, None, None]
    assert result.painful_path.touchpoints == ("e", "a", "g")


def test_empty_and_entryless_journeys_do_not_crash():
    empty = analyze(Journey("Empty"))
    assert (empty.paths.count, empty.main_path, empty.stages, empty.loops.items) == (
        0,
        None,
        [],
        [],
    )
    no_entry = make([("a", "s1", "step", None), ("g", "s2", "goal", None)], [("a", "g", 3)])
    result = analyze(no_entry)
    assert result.paths.count == 0 and result.entries == [] and result.entry_volume == 0


def test_as_dict_is_json_with_stable_fields(branches):
    data = json.loads(json.dumps(as_dict(analyze(branches))))
    assert set(data) == {
        "has_volumes",
        "entries",
        "goals",
        "entry_volume",
        "paths",
        "main_path",
        "painful_path",
        "transitions",
        "touchpoints",
        "stages",
        "biggest_loss_stage",
        "losses",
        "bottlenecks",
        "dead_ends",
        "loops",
    }
    assert data["paths"]["count"] == 2 and data["paths"]["items"][0]["length"] == 2
    assert data["main_path"]["touchpoints"] == ["e", "b", "g"] and data["main_path"]["length"] == 2


def test_results_are_deterministic():
    journey = big_journey()
    assert as_dict(analyze(journey)) == as_dict(analyze(journey))


def test_large_map_finishes_and_reports_truncation():
    journey = big_journey()  # 400 touchpoints, 600 transitions, loops everywhere
    result = analyze(journey)
    assert len(result.touchpoints) == 400 and len(result.transitions) == 600
    assert result.paths.truncated and result.loops.truncated
    assert len(result.loops.items) == result.loops.cap
