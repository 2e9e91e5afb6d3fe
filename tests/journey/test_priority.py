"""Barrier priority = severity × (1 + log2(1 + frequency)) × reach, pinned on hand-computed
examples; reach from the sample journey's volumes (100 customers enter at "ad")."""

import pytest

from cjm.journey.analytics import analyze
from cjm.journey.model import Journey, Stage, Touchpoint, Transition
from cjm.journey.priority import Reach, priority
from tests.factories import sample_journey


@pytest.mark.parametrize(
    ("severity", "frequency", "reach", "value"),
    [
        (4, 3, 0.4, 4.8),  # 4 × (1 + 2) × 0.4
        (5, 0, None, 5.0),  # unknown reach counts as everyone; no evidence: factor 1
        (2, 1, 0.3, 1.2),  # 2 × 2 × 0.3
        (3, 7, 0.5, 6.0),  # 3 × 4 × 0.5
        (1, 0, 0.0, 0.0),  # nobody passes there
        (5, 15, 1.0, 25.0),  # 5 × (1 + 4)
    ],
)
def test_formula_on_hand_computed_examples(severity, frequency, reach, value):
    result = priority(severity, frequency, reach)
    assert result.value == pytest.approx(value)
    assert (result.severity, result.frequency) == (severity, frequency)


def test_reach_is_capped_at_one_and_none_stays_unknown():
    assert priority(2, 0, 1.25).reach == 1.0
    assert priority(2, 0, 1.25).value == 2.0
    assert priority(2, 0, None).reach is None


def test_shown_value_is_rounded_to_two_digits():
    # 3 × (1 + log2 3) × 1 = 7.7549…
    assert priority(3, 2, 1.0).shown == 7.75


def test_more_evidence_raises_priority_with_diminishing_steps():
    values = [priority(3, f, 1.0).value for f in range(8)]
    assert values == sorted(values)
    steps = [b - a for a, b in zip(values, values[1:], strict=False)]
    assert steps == sorted(steps, reverse=True)


@pytest.mark.parametrize(("severity", "frequency"), [(0, 1), (6, 1), (3, -1)])
def test_out_of_range_inputs_are_refused(severity, frequency):
    with pytest.raises(ValueError):
        priority(severity, frequency, 1.0)


def test_reach_from_the_journey_volumes():
    reach = Reach(analyze(sample_journey()))
    assert reach.of(touchpoint="paid") == 0.4  # 40 of 100 entering
    assert reach.of(touchpoint="call") == 0.3
    assert reach.of(touchpoint="ad") == 1.0  # the entry itself
    assert reach.of(touchpoint="cart") == 1.0  # 125 arrive (25 loop back): capped
    assert reach.of(transition="cart-gone") == 0.3
    assert reach.of(transition="cart-paid") == 0.4


def test_reach_unknown_without_volumes():
    journey = Journey(
        "No volumes",
        stages=[Stage("s", "S")],
        touchpoints=[Touchpoint("a", "s", "w", "A", kind="entry"), Touchpoint("b", "s", "w", "B")],
        transitions=[Transition("a-b", "a", "b")],
    )
    reach = Reach(analyze(journey))
    assert reach.of(touchpoint="b") is None
    assert reach.of(transition="a-b") is None


def test_reach_needs_exactly_one_place():
    reach = Reach(analyze(sample_journey()))
    with pytest.raises(ValueError):
        reach.of()
    with pytest.raises(ValueError):
        reach.of(touchpoint="paid", transition="cart-paid")


def test_reach_from_volumes_alone_equals_reach_from_the_full_analysis():
    """The board computes reach without enumerating paths: it must give the same figures."""
    from cjm.journey.analytics import analyze
    from cjm.journey.priority import Reach
    from tests.factories import sample_journey

    journey = sample_journey()
    full, cheap = Reach(analyze(journey)), Reach.of_journey(journey)
    for tp in journey.touchpoints:
        assert cheap.of(touchpoint=tp.key) == full.of(touchpoint=tp.key)
    for tr in journey.transitions:
        assert cheap.of(transition=tr.key) == full.of(transition=tr.key)
