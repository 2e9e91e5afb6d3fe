"""As-is against to-be on hand-built journeys with known answers: the merged stage axis,
touchpoints added/removed/changed, barriers resolved/new/open, emotions from evidence or manual
scores, and the funnel before and after from the analytics."""

import copy

import pytest

from cjm.journey import metrics
from cjm.journey.analytics import analyze
from cjm.journey.compare import compare, merged_keys, stage_emotions
from cjm.journey.model import Barrier, Channel, Journey, Stage, Touchpoint, Transition


@pytest.fixture
def as_is():
    """ad (aware) → cart (buy) → paid (use); 100 → 40 → 20; two barriers."""
    return Journey(
        title="Shop",
        stages=[Stage("aware", "Awareness"), Stage("buy", "Purchase"), Stage("use", "Use")],
        channels=[Channel("web", "Website"), Channel("call", "Call centre")],
        touchpoints=[
            Touchpoint("ad", "aware", "web", "Sees an ad", kind="entry", emotion=1),
            Touchpoint("cart", "buy", "web", "Fills the cart", kind="decision", emotion=-1),
            Touchpoint("call", "buy", "call", "Calls", emotion=-2),
            Touchpoint("paid", "use", "web", "Pays", kind="goal", emotion=2),
        ],
        transitions=[
            Transition("ad-cart", "ad", "cart", volume=100),
            Transition("cart-call", "cart", "call", "alternative", volume=10),
            Transition("cart-paid", "cart", "paid", volume=40),
        ],
        barriers=[
            Barrier("fields", "Too many fields", "functional", touchpoint="cart"),
            Barrier("hold", "On hold too long", "organisational", touchpoint="call"),
            Barrier("fees", "Hidden fees", "price", touchpoint="cart", status="mitigated"),
            Barrier("old", "Old pain", "trust", touchpoint="ad", status="resolved"),
        ],
    )


@pytest.fixture
def to_be(as_is):
    """The copy, then: cart's emotion up and renamed, call removed, a chat added, fields
    resolved, hold gone with the call, fees still mitigated, a new barrier; 100 → 70."""
    journey = copy.deepcopy(as_is)
    journey.state = "to-be"
    cart = journey.touchpoint("cart")
    cart.emotion, cart.name = 1, "One-page checkout"
    journey.touchpoints = [t for t in journey.touchpoints if t.key != "call"]
    journey.touchpoints.insert(2, Touchpoint("chat", "buy", "web", "Chats", emotion=1))
    journey.transitions = [
        Transition("ad-cart", "ad", "cart", volume=100),
        Transition("cart-paid", "cart", "paid", volume=70),
        Transition("cart-chat", "cart", "chat", "alternative", volume=5),
    ]
    journey.barriers = [
        Barrier("fields", "Too many fields", "functional", touchpoint="cart", status="resolved"),
        Barrier("fees", "Hidden fees", "price", touchpoint="cart", status="mitigated"),
        Barrier("old", "Old pain", "trust", touchpoint="ad", status="resolved"),
        Barrier("chat-wait", "Chat answers slowly", "technical", touchpoint="chat"),
    ]
    return journey


def test_merged_keys_keep_the_to_be_order_and_place_removed_keys_after_their_neighbour():
    assert merged_keys(["a", "b", "c", "d"], ["a", "x", "c", "d"]) == ["a", "b", "x", "c", "d"]
    assert merged_keys(["z", "a"], ["a"]) == ["z", "a"]
    assert merged_keys(["a", "b"], []) == ["a", "b"]
    assert merged_keys([], ["b", "a"]) == ["b", "a"]


def test_touchpoints_added_removed_and_changed(as_is, to_be):
    result = compare(as_is, to_be)
    assert [t.key for t in result.touchpoints_by("added")] == ["chat"]
    assert [t.key for t in result.touchpoints_by("removed")] == ["call"]
    (cart,) = result.touchpoints_by("changed")
    assert cart.key == "cart" and cart.name == "One-page checkout"
    assert [(c.field, c.before, c.after) for c in cart.changes] == [
        ("name", "Fills the cart", "One-page checkout"),
        ("emotion", -1, 1),
    ]
    assert result.unchanged == 2  # ad and paid


def test_a_moved_touchpoint_names_the_stages_and_channels(as_is, to_be):
    to_be.touchpoint("ad").stage = "buy"
    to_be.touchpoint("ad").channel = "call"
    to_be.stages[1].name = "Checkout"
    ad = next(t for t in compare(as_is, to_be).touchpoints if t.key == "ad")
    assert [(c.field, c.before, c.after) for c in ad.changes] == [
        ("stage", "Awareness", "Checkout"),
        ("channel", "Website", "Call centre"),
    ]


def test_barriers_resolved_new_and_still_open(as_is, to_be):
    result = compare(as_is, to_be)
    resolved = result.barriers_by("resolved")
    assert [b.key for b in resolved] == ["fields", "hold", "old"]
    assert [b.removed for b in resolved] == [False, True, False]
    assert [b.key for b in result.barriers_by("new")] == ["chat-wait"]
    (fees,) = result.barriers_by("open")
    assert (fees.before.status, fees.after.status) == ("mitigated", "mitigated")


def test_the_same_map_twice_has_no_differences(as_is):
    result = compare(as_is, copy.deepcopy(as_is))
    assert result.touchpoints == [] and result.unchanged == 4
    assert [b.status for b in result.barriers] == ["open", "open", "open", "resolved"]


def csat(*ratings):
    """Evidence figures of some CSAT ratings."""
    n, total = len(ratings), sum(ratings)
    return metrics.summarize(
        metrics.Sums(n=n, csat_n=n, csat_sum=total, csat_sq=sum(r * r for r in ratings))
    )


def test_stage_emotions_from_evidence_and_from_manual_scores(as_is):
    # CSAT 2 and 4 at the purchase stage: mean 3 → emotion 0, from 2 answers.
    measured, manual = stage_emotions(as_is, {"buy": csat(2, 4)})
    assert (measured["buy"].value, measured["buy"].n, measured["buy"].evidence) == (0, 2, True)
    assert (manual["buy"].value, manual["buy"].n, manual["buy"].evidence) == (-1.5, 2, False)
    assert "aware" not in measured and manual["aware"].value == 1


def test_emotions_compare_like_with_like(as_is, to_be):
    """Evidence on both sides: evidence. Evidence on one side only (a fresh to-be map has
    none): the manual scores of both. No manual score on a side: its evidence."""
    evidence_before = {"buy": csat(1, 1), "aware": csat(5, 5), "use": csat(4)}
    evidence_after = {"buy": csat(4, 4)}
    for tp in as_is.touchpoints:
        if tp.stage == "use":
            tp.emotion = None
    rows = {s.key: s for s in compare(as_is, to_be, [], [], evidence_before, evidence_after).stages}
    buy, aware, use = rows["buy"], rows["aware"], rows["use"]
    assert (buy.emotion_before.value, buy.emotion_after.value) == (-2, 1)
    assert buy.emotion_before.evidence and buy.emotion_after.evidence
    assert (aware.emotion_before.value, aware.emotion_after.value) == (1, 1)
    assert not aware.emotion_before.evidence and aware.emotion_change == 0
    assert (use.emotion_before.value, use.emotion_before.evidence) == (1, True)
    assert (use.emotion_after.value, use.emotion_after.evidence) == (2, False)


def test_stages_carry_emotion_and_funnel_on_both_sides(as_is, to_be):
    result = compare(as_is, to_be, analyze(as_is).stages, analyze(to_be).stages)
    rows = {s.key: s for s in result.stages}
    assert [s.key for s in result.stages] == ["aware", "buy", "use"]
    # Manual means: buy was (−1 − 2) / 2 = −1.5, is (1 + 1) / 2 = 1.
    assert (rows["buy"].emotion_before.value, rows["buy"].emotion_after.value) == (-1.5, 1)
    assert rows["buy"].emotion_change == 2.5
    # The funnel: 40 of 100 reached "use" before, 70 after.
    assert (rows["use"].funnel_before.reached, rows["use"].funnel_after.reached) == (40, 70)
    assert rows["use"].reached_change == 30
    assert (rows["use"].funnel_before.conversion, rows["use"].funnel_after.conversion) == (0.4, 0.7)
    assert not result.has_evidence


def test_a_stage_only_one_map_has(as_is, to_be):
    to_be.stages.insert(1, Stage("compare", "Comparison"))
    to_be.touchpoints.append(Touchpoint("review", "compare", "web", "Reads reviews", emotion=0))
    to_be.stages = [s for s in to_be.stages if s.key != "use"]
    to_be.touchpoints = [t for t in to_be.touchpoints if t.stage != "use"]
    to_be.transitions = [t for t in to_be.transitions if t.target != "paid"]
    rows = compare(as_is, to_be).stages
    assert [(s.key, s.in_before, s.in_after) for s in rows] == [
        ("aware", True, True),
        ("compare", False, True),
        ("buy", True, True),
        ("use", True, False),
    ]
    assert rows[1].emotion_before is None and rows[1].emotion_after.value == 0
    assert rows[3].emotion_after is None and rows[3].emotion_change is None


def test_evidence_figures_where_present(as_is, to_be):
    before = {"buy": csat(1, 2, 3)}
    after = {"buy": metrics.summarize(metrics.Sums(n=0))}
    result = compare(as_is, to_be, evidence_before=before, evidence_after=after)
    buy = next(s for s in result.stages if s.key == "buy")
    assert buy.evidence_before.csat.mean == 2 and buy.evidence_after is None
    assert result.has_evidence
