"""The journey graph: build, the path checks and the drawing layout, on hand-built maps."""

import math

import networkx as nx
import pytest

from cjm.journey import graph
from cjm.journey.graph import build, layout, overlaps, stroke_width, validate
from cjm.journey.model import Channel, Journey, JourneyError, Stage, Touchpoint, Transition
from tests.factories import sample_journey


def journey_of(touchpoints, transitions=(), stages=("a", "b", "c"), channels=("web", "call")):
    """A map with the given (key, stage, channel, kind) touchpoints and (source, target, kind)."""
    return Journey(
        "Test",
        stages=[Stage(k, k.upper()) for k in stages],
        channels=[Channel(k, k.title()) for k in channels],
        touchpoints=[Touchpoint(k, s, c, k.title(), kind=kind) for k, s, c, kind in touchpoints],
        transitions=[
            Transition(f"{src}-{dst}-{i}", src, dst, kind, volume=volume)
            for i, (src, dst, kind, *rest) in enumerate(transitions)
            for volume in [rest[0] if rest else None]
        ],
    )


def codes(journey):
    return [(w.code, w.touchpoint) for w in validate(journey)]


# --- build ---------------------------------------------------------------------------------------


def test_build_nodes_and_edges_carry_the_attributes():
    g = build(sample_journey())
    assert isinstance(g, nx.DiGraph)
    assert set(g.nodes) == {"ad", "cart", "call", "paid", "gone"}
    assert g.nodes["cart"] == {
        "stage": "buy",
        "channel": "web",
        "kind": "decision",
        "name": "Fills the cart",
        "emotion": 0,
    }
    assert g.edges["cart", "call", "cart-call"] == {
        "kind": "alternative",
        "label": "Has a question",
        "volume": 30,
    }


def test_build_keeps_two_transitions_between_the_same_pair():
    journey = journey_of(
        [("e", "a", "web", "entry"), ("g", "b", "web", "goal")],
        [("e", "g", "main", 10), ("e", "g", "alternative", 3)],
    )
    g = build(journey)
    assert g.number_of_edges("e", "g") == 2
    assert {d["volume"] for _, _, d in g.edges(data=True)} == {10, 3}


def test_build_rejects_a_transition_to_nowhere():
    journey = journey_of([("e", "a", "web", "entry")])
    journey.transitions.append(Transition("bad", "e", "ghost"))
    with pytest.raises(JourneyError):
        build(journey)


# --- validate ------------------------------------------------------------------------------------


def test_valid_map_with_branch_loop_and_drop_out_has_no_warnings():
    assert validate(sample_journey()) == []


def test_empty_map_has_no_warnings():
    assert validate(Journey("Empty")) == []


def test_no_entry_is_one_warning_not_one_per_touchpoint():
    journey = journey_of(
        [("s", "a", "web", "step"), ("g", "b", "web", "goal")], [("s", "g", "main")]
    )
    assert codes(journey) == [("no_entry", None)]


def test_unreachable_touchpoint():
    journey = sample_journey()
    journey.touchpoints.append(Touchpoint("lost", "use", "call", "Reads a review"))
    journey.transitions.append(Transition("lost-paid", "lost", "paid"))
    assert codes(journey) == [("unreachable", "lost")]
    assert validate(journey)[0].name == "Reads a review"


def test_goal_unreachable_is_reported_once_as_such():
    journey = journey_of(
        [("e", "a", "web", "entry"), ("x", "b", "web", "exit"), ("g", "c", "web", "goal")],
        [("e", "x", "drop-out")],
    )
    assert codes(journey) == [("goal_unreachable", "g")]


def test_dead_end():
    journey = sample_journey()
    journey.touchpoints.append(Touchpoint("faq", "buy", "call", "Reads the FAQ"))
    journey.transitions.append(Transition("cart-faq", "cart", "faq", "alternative"))
    assert codes(journey) == [("dead_end", "faq")]


def test_a_self_loop_does_not_save_a_dead_end():
    journey = journey_of(
        [("e", "a", "web", "entry"), ("s", "b", "web", "step")],
        [("e", "s", "main"), ("s", "s", "loop")],
    )
    assert codes(journey) == [("dead_end", "s")]


@pytest.mark.parametrize("kind", ["goal", "exit"])
def test_goals_and_exits_may_end_a_path(kind):
    journey = journey_of(
        [("e", "a", "web", "entry"), ("end", "b", "web", kind)], [("e", "end", "main")]
    )
    assert codes(journey) == []


def test_an_entry_with_nowhere_to_go_is_a_dead_end():
    journey = journey_of([("e", "a", "web", "entry")])
    assert codes(journey) == [("dead_end", "e")]


def test_into_entry_names_both_ends():
    journey = sample_journey()
    journey.transitions.append(Transition("call-ad", "call", "ad", "loop"))
    [warning] = validate(journey)
    assert (warning.code, warning.touchpoint, warning.transition) == (
        "into_entry",
        "call",
        "call-ad",
    )
    assert (warning.name, warning.other) == ("Calls to ask", "Sees an ad")


def test_exit_has_exits():
    journey = sample_journey()
    journey.transitions.append(Transition("gone-paid", "gone", "paid", "alternative"))
    [warning] = validate(journey)
    assert (warning.code, warning.touchpoint, warning.transition) == (
        "exit_has_exits",
        "gone",
        "gone-paid",
    )
    assert warning.other == "Pays"


def test_warnings_come_grouped_by_code_in_map_order():
    journey = journey_of(
        [
            ("e", "a", "web", "entry"),
            ("s1", "b", "web", "step"),
            ("s2", "b", "call", "step"),
            ("g", "c", "web", "goal"),
        ],
        [("e", "s1", "main"), ("e", "s2", "main")],
    )
    assert codes(journey) == [("goal_unreachable", "g"), ("dead_end", "s1"), ("dead_end", "s2")]


# --- layout --------------------------------------------------------------------------------------


def test_x_follows_stage_order_and_y_channel_order():
    journey = journey_of(
        [
            ("c1", "c", "web", "goal"),
            ("a2", "a", "call", "step"),
            ("a1", "a", "web", "entry"),
            ("b1", "b", "web", "step"),
        ]
    )
    lay = layout(journey)
    x = {n.key: n.x for n in lay.nodes}
    y = {n.key: n.y for n in lay.nodes}
    assert x["a1"] == x["a2"] < x["b1"] < x["c1"]
    assert y["a1"] == y["b1"] == y["c1"] < y["a2"]
    assert [b.key for b in lay.stages] == ["a", "b", "c"]
    assert [b.x for b in lay.stages] == sorted(b.x for b in lay.stages)
    assert lay.channels[0].y < lay.channels[1].y


def test_touchpoints_sharing_a_cell_are_stacked_without_overlap():
    journey = journey_of(
        [
            ("one", "a", "web", "entry"),
            ("two", "a", "web", "step"),
            ("three", "a", "web", "step"),
            ("low", "a", "call", "step"),
        ]
    )
    lay = layout(journey)
    one, two, three, low = (lay.node(k) for k in ("one", "two", "three", "low"))
    assert one.x == two.x == three.x
    assert one.top + one.height < two.top and two.top + two.height < three.top
    # The row grew with its stack, so the next row starts below it.
    assert three.top + three.height < lay.channels[1].y <= low.top
    assert lay.height >= low.top + low.height


def test_canvas_holds_every_column_and_row():
    lay = layout(sample_journey())
    assert lay.width >= lay.stages[-1].x + lay.stages[-1].width
    assert all(0 <= n.left and n.left + n.width <= lay.width for n in lay.nodes)
    assert all(n.top + n.height <= lay.height for n in lay.nodes)


def test_width_by_volume_relative_to_the_busiest_edge():
    edges = {e.key: e for e in layout(sample_journey()).edges}
    assert edges["ad-cart"].width == graph.MAX_WIDTH  # volume 100, the map's max
    assert graph.MIN_WIDTH < edges["call-cart"].width < edges["cart-call"].width
    assert edges["cart-call"].width < edges["cart-paid"].width < edges["ad-cart"].width


def test_stroke_width_scale():
    assert stroke_width(None, 100) == graph.MIN_WIDTH
    assert stroke_width(0, 100) == graph.MIN_WIDTH
    assert stroke_width(50, 100) == pytest.approx((graph.MIN_WIDTH + graph.MAX_WIDTH) / 2, abs=0.01)
    assert stroke_width(100, 100) == graph.MAX_WIDTH
    assert stroke_width(5, 0) == graph.MIN_WIDTH


def test_unknown_volume_is_thin():
    journey = sample_journey()
    journey.transitions[0].volume = None
    edges = {e.key: e for e in layout(journey).edges}
    assert edges["ad-cart"].width == graph.MIN_WIDTH
    assert edges["cart-paid"].width == graph.MAX_WIDTH  # 40 is now the busiest


def test_dash_by_kind():
    edges = {e.kind: e for e in layout(sample_journey()).edges}
    assert edges["main"].dash is None
    assert edges["alternative"].dash and edges["loop"].dash and edges["drop-out"].dash
    assert len({edges[k].dash for k in ("alternative", "loop", "drop-out")}) >= 2


def test_forward_edge_is_straight_and_back_edge_curves_above():
    journey = journey_of(
        [("e", "a", "web", "entry"), ("s", "b", "web", "step"), ("g", "c", "web", "goal")],
        [("e", "s", "main"), ("s", "g", "main"), ("g", "e", "loop")],
    )
    lay = layout(journey)
    edges = {(e.source, e.target): e for e in lay.edges}
    forward = edges["e", "s"]
    assert not forward.curved and " L " in forward.path
    assert forward.x1 < forward.x2
    back = edges["g", "e"]
    assert back.curved and " Q " in back.path
    assert back.mid_y < lay.node("s").top  # arches over the node between its ends
    assert back.mid_y > 24  # … and stays below the stage names


def test_opposite_edges_bend_to_opposite_sides():
    lay = layout(sample_journey())
    edges = {e.key: e for e in lay.edges}
    down, up = edges["cart-call"], edges["call-cart"]
    assert down.curved and up.curved
    column = lay.node("cart").x
    assert down.mid_x < column < up.mid_x


def test_an_edge_skipping_a_stacked_touchpoint_goes_around_it():
    lay = layout(sample_journey())
    gone = lay.node("gone")  # sits between "cart" and "call" in the Purchase column
    for key in ("cart-call", "call-cart"):
        edge = next(e for e in lay.edges if e.key == key)
        assert not gone.left <= edge.mid_x <= gone.left + gone.width


def test_parallel_edges_fan_out():
    journey = journey_of(
        [("e", "a", "web", "entry"), ("g", "b", "web", "goal")],
        [("e", "g", "main", 10), ("e", "g", "alternative", 3)],
    )
    first, second = layout(journey).edges
    assert first.path != second.path
    assert not first.curved and second.curved


def test_self_loop_sits_on_top_of_its_node():
    journey = journey_of(
        [("e", "a", "web", "entry"), ("s", "b", "web", "step"), ("g", "c", "web", "goal")],
        [("e", "s", "main"), ("s", "s", "loop"), ("s", "g", "main")],
    )
    lay = layout(journey)
    loop = next(e for e in lay.edges if e.source == e.target)
    assert loop.curved and " C " in loop.path
    assert loop.mid_y < lay.node("s").top


def test_endpoints_sit_on_the_boxes():
    lay = layout(sample_journey())
    edge = next(e for e in lay.edges if e.key == "ad-cart")
    ad, cart = lay.node("ad"), lay.node("cart")
    assert edge.x1 == ad.left + ad.width and edge.y1 == ad.y
    assert edge.x2 == cart.left and edge.y2 == cart.y  # the diamond's left tip


def test_long_names_are_wrapped_and_cut():
    journey = journey_of([("e", "a", "web", "entry")])
    journey.touchpoints[0].name = "Compares the delivery terms of three competing shops at night"
    lines = layout(journey).node("e").lines
    assert len(lines) == graph.MAX_LINES
    assert lines[-1].endswith("…")
    assert all(len(line) <= graph.LINE_CHARS for line in lines)


def test_unknown_stage_is_an_error():
    journey = journey_of([("e", "nowhere", "web", "entry")])
    with pytest.raises(JourneyError):
        layout(journey)


def big_journey(stages=10, channels=8, touchpoints=400, transitions=600) -> Journey:
    """A large map: touchpoints spread over the cells, forward, back and parallel edges."""
    journey = Journey(
        "Big",
        stages=[Stage(f"s{i}", f"Stage {i}") for i in range(stages)],
        channels=[Channel(f"c{i}", f"Channel {i}") for i in range(channels)],
    )
    for i in range(touchpoints):
        kind = "entry" if i == 0 else "goal" if i == touchpoints - 1 else "step"
        journey.touchpoints.append(
            Touchpoint(
                f"t{i}", f"s{i * stages // touchpoints}", f"c{i % channels}", f"Touch {i}", kind
            )
        )
    for i in range(transitions):
        src, dst = i % (touchpoints - 1), (i * 7 + 1) % touchpoints
        journey.transitions.append(Transition(f"e{i}", f"t{src}", f"t{dst}", volume=i))
    return journey


def test_big_map_lays_out_completely():
    """Speed is measured by bench/board.py; here the big map must lay out every element."""
    journey = big_journey()
    lay = layout(journey)
    validate(journey)
    assert len(lay.nodes) == 400 and len(lay.edges) == 600


def test_only_edges_with_a_volume_get_a_label_and_it_fits_the_number():
    journey = sample_journey()
    journey.transitions[0].volume = None
    edges = {e.key: e for e in layout(journey).edges}
    assert not edges["ad-cart"].show_label and edges["ad-cart"].label_box is None
    box = edges["cart-paid"].label_box  # volume 40: two digits
    assert edges["cart-paid"].show_label
    assert box[2] - box[0] == graph.label_width(40) < graph.label_width(1000)


def test_a_label_sits_on_its_own_path():
    lay = layout(sample_journey())
    for e in lay.edges:
        if e.show_label and not e.curved:
            # On the straight segment between the ends: the cross product is ~0.
            cross = (e.x2 - e.x1) * (e.label_y - e.y1) - (e.y2 - e.y1) * (e.label_x - e.x1)
            assert abs(cross) / math.hypot(e.x2 - e.x1, e.y2 - e.y1) < 1.5


def assert_labels_collide_with_nothing(lay):
    boxes = [e.label_box for e in lay.edges if e.show_label]
    for i, box in enumerate(boxes):
        assert not any(overlaps(box, other) for other in boxes[i + 1 :]), box
        assert not any(overlaps(box, n.box) for n in lay.nodes), box
        assert box[1] >= graph.HEADER  # never over the stage names


def test_labels_of_the_sample_map_collide_with_nothing():
    lay = layout(sample_journey())
    assert_labels_collide_with_nothing(lay)
    shown = {e.key for e in lay.edges if e.show_label}
    # "cart-gone" joins two stacked boxes 20 px apart: no room, its volume stays in the tooltip.
    assert shown == {"ad-cart", "cart-paid", "cart-call", "call-cart"}


def test_labels_of_a_crowded_map_collide_with_nothing_and_some_are_left_out():
    lay = layout(big_journey(stages=6, channels=6, touchpoints=60, transitions=120))
    assert_labels_collide_with_nothing(lay)
    shown = sum(e.show_label for e in lay.edges)
    assert 0 < shown < len(lay.edges)


def test_labels_collide_with_nothing_when_they_all_start_in_one_place():
    # Five parallel edges: their midpoints crowd together, so the labels must move along.
    journey = journey_of(
        [("e", "a", "web", "entry"), ("g", "c", "web", "goal")],
        [("e", "g", "main", 100 + i) for i in range(5)],
    )
    lay = layout(journey)
    assert_labels_collide_with_nothing(lay)
    assert sum(e.show_label for e in lay.edges) >= 3


def test_a_back_edge_in_a_column_of_stacked_boxes_goes_around_them():
    journey = journey_of(
        [
            ("top", "b", "web", "step"),
            ("mid1", "b", "web", "step"),
            ("mid2", "b", "web", "step"),
            ("low", "b", "call", "step"),
        ],
        [("low", "top", "loop")],
    )
    lay = layout(journey)
    [edge] = lay.edges
    assert edge.curved
    # It runs beside the stack (in the gap between the columns), not through it.
    for key in ("mid1", "mid2"):
        n = lay.node(key)
        assert not n.left - graph.GAP / 2 <= edge.mid_x <= n.left + n.width + graph.GAP / 2
    assert graph.LEFT < edge.mid_x < lay.width - graph.MARGIN
