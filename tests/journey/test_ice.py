"""ICE = impact × confidence × (11 − effort), the impact × effort quadrants, and the matrix
placement (ties spread on a ring, labels that never cover a dot or another label)."""

import pytest

from cjm.journey.ice import (
    QUADRANTS,
    Frame,
    _box,
    _overlap,
    ease,
    ice,
    place,
    quadrant,
    short,
)


@pytest.mark.parametrize(
    ("impact", "confidence", "effort", "score"),
    [
        (8, 5, 3, 320),  # the page's example: 8 × 5 × 8
        (10, 10, 1, 1000),  # the best possible
        (1, 1, 10, 1),  # the worst possible
        (5, 5, 5, 150),  # the defaults: 5 × 5 × 6
        (9, 5, 8, 135),  # 9 × 5 × 3
        (4, 3, 9, 24),  # 4 × 3 × 2
    ],
)
def test_ice_on_hand_computed_examples(impact, confidence, effort, score):
    assert ice(impact, confidence, effort) == score


def test_ease_turns_effort_round():
    assert [ease(e) for e in range(1, 11)] == list(range(10, 0, -1))


@pytest.mark.parametrize("bad", [0, 11, -1])
def test_values_off_the_scale_are_refused(bad):
    for args in ((bad, 5, 5), (5, bad, 5), (5, 5, bad)):
        with pytest.raises(ValueError):
            ice(*args)
    with pytest.raises(ValueError):
        quadrant(bad, 5)


@pytest.mark.parametrize(
    ("impact", "effort", "where"),
    [
        (10, 1, "quick-win"),
        (6, 5, "quick-win"),  # 6 is high, 5 is low
        (6, 6, "big-bet"),
        (10, 10, "big-bet"),
        (5, 5, "fill-in"),
        (1, 1, "fill-in"),
        (5, 6, "money-pit"),
        (1, 10, "money-pit"),
    ],
)
def test_quadrants_split_the_scale_in_the_middle(impact, effort, where):
    assert quadrant(impact, effort) == where
    assert where in QUADRANTS


def test_frame_puts_effort_across_and_impact_up():
    f = Frame()
    assert f.x(1) < f.x(10) and f.y(10) < f.y(1)  # high impact is at the top
    mx, my = f.middle
    assert f.x(5) < mx < f.x(6) and f.y(6) < my < f.y(5)
    assert f.left < f.x(1) and f.x(10) < f.width - f.right


def test_a_dot_sits_at_its_effort_and_impact():
    f = Frame()
    [dot] = place([(7, 8, 3, "Show the fee")], f)
    assert (dot.id, dot.x, dot.y) == (7, round(f.x(3), 1), round(f.y(8), 1))
    assert dot.quadrant == "quick-win" and dot.label == "Show the fee" and dot.side == "right"


def test_ties_are_spread_and_the_picture_is_stable():
    items = [(1, 8, 3, "A"), (2, 8, 3, "B"), (3, 8, 3, "C")]
    dots = place(items)
    assert len({(d.x, d.y) for d in dots}) == 3
    assert place(items) == dots


def test_labels_never_cover_a_dot_or_each_other():
    # Ten strategies crowded into one corner: some labels have to go left or be left out.
    items = [
        (i, 9 - i % 2, 1 + i // 2, f"Strategy number {i} with a long title") for i in range(10)
    ]
    dots = place(items)
    boxes = [_box(d.x, d.y, d.label, d.side) for d in dots if d.side]
    circles = [(d.x - 9, d.y - 9, d.x + 9, d.y + 9) for d in dots]
    for i, box in enumerate(boxes):
        assert not any(_overlap(box, other) for other in boxes[i + 1 :])
    for d in dots:
        if d.side:
            box = _box(d.x, d.y, d.label, d.side)
            assert not any(_overlap(box, c) for j, c in enumerate(circles) if dots[j] is not d)
    assert any(d.side is None for d in dots)


def test_the_better_ranked_strategy_gets_the_room_first():
    a, b = (1, 5, 2, "A title of twenty-two c"), (2, 5, 8, "B title of twenty-two c")
    assert [d.side for d in place([a, b])] == ["right", None]
    assert [d.side for d in place([b, a])] == ["left", None]


def test_a_label_at_the_right_edge_goes_left():
    [dot] = place([(1, 5, 10, "Call-back instead of waiting")])
    assert dot.side == "left"


def test_long_titles_are_cut():
    assert short("Show the delivery price on the product page") == "Show the delivery pri…"
    assert len(short("x" * 100)) == 22
    assert short("  Two   spaces ") == "Two spaces"
