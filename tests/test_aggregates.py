"""Evidence aggregates in SQL agree with a hand computation: per touchpoint, stage, channel,
stage × segment, channel × segment, filtered by segment; live rows only; one query each."""

import math
from datetime import date

import pytest
from sqlalchemy import event, select

from cjm import aggregates, store
from cjm.extensions import db
from cjm.models import Deletion, Observation, Segment, Touchpoint
from tests.factories import make_map, sample_journey


@pytest.fixture
def ids(journey):
    """Ids of the sample map's elements by key, and two segments: new and loyal."""
    db.session.add_all(
        [
            Segment(journey_id=journey.id, key="new", name="New customers", position=0),
            Segment(journey_id=journey.id, key="loyal", name="Loyal customers", position=1),
        ]
    )
    db.session.commit()
    loaded = store.load_journey(journey.id)
    found = {t.key: t.id for t in loaded.touchpoints}
    found |= {f"stage:{s.key}": s.id for s in loaded.stages}
    found |= {f"channel:{c.key}": c.id for c in loaded.channels}
    for s in db.session.scalars(select(Segment).filter_by(journey_id=journey.id)):
        found[f"segment:{s.key}"] = s.id
    return found


def observe(journey_id, tp_id=None, stage_id=None, channel_id=None, segment_id=None, **fields):
    """An observation; stage and channel come from the touchpoint when there is one."""
    if tp_id is not None:
        tp = db.session.get(Touchpoint, tp_id)
        stage_id, channel_id = tp.stage_id, tp.channel_id
    row = Observation(
        journey_id=journey_id,
        touchpoint_id=tp_id,
        stage_id=stage_id,
        channel_id=channel_id,
        segment_id=segment_id,
        source=fields.pop("source", "survey"),
        **fields,
    )
    db.session.add(row)
    return row


@pytest.fixture
def evidence(journey, ids, owner):
    """Eight live observations, one deleted, one on another map (see each test's arithmetic)."""
    j, new, loyal = journey.id, ids["segment:new"], ids["segment:loyal"]
    observe(j, ids["ad"], segment_id=new, csat=4, nps=10)
    observe(j, ids["ad"], segment_id=new, csat=5, nps=9)
    observe(j, ids["ad"], segment_id=loyal, csat=2, nps=3, ces=5)
    observe(j, ids["cart"], segment_id=loyal, csat=3, nps=7, ces=2)
    observe(j, ids["cart"], csat=1, ces=6, verbatim="Slow", observed_on=date(2024, 5, 2))
    observe(j, ids["call"], segment_id=new, nps=8, verbatim="Kind", observed_on=date(2024, 5, 3))
    observe(j, stage_id=ids["stage:buy"], segment_id=new, csat=4)  # a stage, no touchpoint
    observe(j, channel_id=ids["channel:call"], ces=3)  # a channel, no stage
    hidden = observe(j, ids["ad"], segment_id=new, csat=1, nps=0)
    db.session.flush()
    hidden.deletion_id = store.soft_delete([hidden], j, owner.id, "obs").id
    other = make_map(owner, sample_journey("Other"))
    other_tp = db.session.scalar(select(Touchpoint).filter_by(journey_id=other.id, key="ad"))
    observe(other.id, other_tp.id, csat=1, nps=0, ces=7)
    db.session.commit()


def close(a, b):
    return a is not None and math.isclose(a, b, abs_tol=1e-9)


def test_per_touchpoint(journey, ids, evidence):
    got = aggregates.per_touchpoint(journey.id)
    assert set(got) == {ids["ad"], ids["cart"], ids["call"]}  # "paid", "gone": no evidence
    ad = got[ids["ad"]]
    # ad: CSAT 4, 5, 2 → n 3, mean 11/3; NPS 10, 9, 3 → (2 − 1)/3 = +33.3; CES 5. The deleted
    # observation (CSAT 1, NPS 0) and the other map's are left out.
    assert ad.n == 3 and ad.csat.n == 3 and close(ad.csat.mean, 11 / 3)
    assert close(ad.emotion.mean, 11 / 3 - 3)
    # s² = (16+25+4 − 11²/3) / 2 = 7/3; margin = 4.303 × √(7/9) = 3.794890 → cut to [1, 5].
    assert (ad.csat.low, ad.csat.high) == (1, 5)
    assert close(ad.nps.score, 100 / 3) and (ad.nps.promoters, ad.nps.detractors) == (2, 1)
    assert ad.ces.n == 1 and ad.ces.mean == 5
    cart = got[ids["cart"]]
    # cart: CSAT 3, 1 → 2; NPS 7 → passive only → 0; CES 2, 6 → 4.
    assert (cart.n, cart.csat.mean, cart.nps.score, cart.ces.mean) == (2, 2, 0, 4)
    call = got[ids["call"]]
    assert (call.n, call.csat.n, call.nps.n, call.nps.score) == (1, 0, 1, 0)
    assert call.emotion.mean is None


def test_per_stage_counts_touchpoint_less_observations(journey, ids, evidence):
    got = aggregates.per_stage(journey.id)
    assert set(got) == {ids["stage:aware"], ids["stage:buy"]}  # Use: none; NULL stage left out
    buy = got[ids["stage:buy"]]
    # buy: cart ×2, call ×1, the stage-only one → n 4; CSAT 3, 1, 4 → 8/3; NPS 7, 8 → 0;
    # CES 2, 6 → 4. s² = (9+1+16 − 64/3) / 2 = 7/3, margin 4.303 × √(7/9) = 3.794890.
    assert buy.n == 4 and buy.csat.n == 3 and close(buy.csat.mean, 8 / 3)
    assert close(buy.emotion.mean, 8 / 3 - 3) and buy.emotion.has_band
    assert close(buy.csat.margin, 4.303 * math.sqrt(7 / 9))
    assert (buy.csat.low, buy.csat.high) == (1, 5)  # 8/3 ± 3.79, cut to the 1…5 scale
    assert (buy.nps.n, buy.nps.score, buy.ces.mean) == (2, 0, 4)
    assert got[ids["stage:aware"]].n == 3


def test_per_channel(journey, ids, evidence):
    got = aggregates.per_channel(journey.id)
    web, call = got[ids["channel:web"]], got[ids["channel:call"]]
    # web: ad ×3 + cart ×2 → CSAT 4, 5, 2, 3, 1 → 3; NPS 10, 9, 3, 7 → (2 − 1)/4 = +25;
    # CES 5, 2, 6 → 13/3.
    assert (web.n, web.csat.mean, web.nps.score) == (5, 3, 25) and close(web.ces.mean, 13 / 3)
    # s² = (16+25+4+9+1 − 15²/5) / 4 = (55 − 45)/4 = 2.5; margin = 2.776 × √(2.5/5) = 1.962928.
    assert close(web.csat.low, 3 - 2.776 * math.sqrt(0.5))
    assert close(web.csat.high, 3 + 2.776 * math.sqrt(0.5))
    # call: the call touchpoint (NPS 8) and the channel-only one (CES 3).
    assert (call.n, call.csat.n, call.nps.score, call.ces.mean) == (2, 0, 0, 3)


def test_per_stage_segment(journey, ids, evidence):
    got = aggregates.per_stage_segment(journey.id)
    aware, buy = ids["stage:aware"], ids["stage:buy"]
    new, loyal = ids["segment:new"], ids["segment:loyal"]
    assert set(got) == {(aware, new), (aware, loyal), (buy, new), (buy, loyal), (buy, None)}
    # aware × new: CSAT 4, 5 → 4.5, NPS 10, 9 → +100. aware × loyal: CSAT 2, NPS 3 → −100.
    assert (got[aware, new].csat.mean, got[aware, new].nps.score) == (4.5, 100)
    assert (got[aware, loyal].csat.mean, got[aware, loyal].nps.score) == (2, -100)
    # buy × new: the call (NPS 8) and the stage-only (CSAT 4). buy × no segment: cart CSAT 1.
    assert (got[buy, new].n, got[buy, new].csat.mean, got[buy, new].nps.score) == (2, 4, 0)
    assert (got[buy, None].n, got[buy, None].csat.mean) == (1, 1)
    assert (got[buy, loyal].csat.mean, got[buy, loyal].ces.mean) == (3, 2)


def test_per_channel_segment(journey, ids, evidence):
    got = aggregates.per_channel_segment(journey.id)
    web, call = ids["channel:web"], ids["channel:call"]
    new, loyal = ids["segment:new"], ids["segment:loyal"]
    # web × loyal: ad CSAT 2 NPS 3, cart CSAT 3 NPS 7 → CSAT 2.5, NPS (0 − 1)/2 = −50.
    assert (got[web, loyal].csat.mean, got[web, loyal].nps.score) == (2.5, -50)
    assert got[web, new].csat.mean == 4.5 and got[web, None].csat.mean == 1
    assert got[call, new].nps.score == 0 and got[call, None].ces.mean == 3
    assert len(got) == 5


def test_segment_filter(journey, ids, evidence):
    new = ids["segment:new"]
    by_stage = aggregates.per_stage(journey.id, segment_id=new)
    # new: ad ×2 at Awareness (CSAT 4, 5); call + stage-only at Purchase (CSAT 4).
    assert {k: v.n for k, v in by_stage.items()} == {ids["stage:aware"]: 2, ids["stage:buy"]: 2}
    assert by_stage[ids["stage:aware"]].csat.mean == 4.5
    assert set(aggregates.per_touchpoint(journey.id, segment_id=new)) == {ids["ad"], ids["call"]}
    assert set(aggregates.per_channel(journey.id, segment_id=new)) == {
        ids["channel:web"],
        ids["channel:call"],
    }
    assert set(aggregates.per_stage_segment(journey.id, segment_id=new)) == {
        (ids["stage:aware"], new),
        (ids["stage:buy"], new),
    }
    assert aggregates.overall(journey.id, segment_id=new).n == 4


def test_overall_per_segment_and_step_evidence(journey, ids, evidence):
    total = aggregates.overall(journey.id)
    # 8 live observations; CSAT 4, 5, 2, 3, 1, 4 → 19/6; NPS 10, 9, 3, 7, 8 → (2 − 1)/5 = +20.
    assert total.n == 8 and close(total.csat.mean, 19 / 6) and total.nps.score == 20
    by_segment = aggregates.per_segment(journey.id)
    assert {k: v.n for k, v in by_segment.items()} == {
        ids["segment:new"]: 4,
        ids["segment:loyal"]: 2,
        None: 2,
    }
    assert {k: v.n for k, v in aggregates.per_segment(journey.id, ids["cart"]).items()} == {
        ids["segment:loyal"]: 1,
        None: 1,
    }
    assert aggregates.overall(journey.id, touchpoint_id=ids["ad"]).n == 3
    steps = aggregates.step_evidence(store.load_journey(journey.id), 3)
    assert steps.total == 8 and steps.threshold == 3
    assert dict(steps.stages) == {"aware": 3, "buy": 4}
    assert dict(steps.touchpoints) == {"ad": 3, "cart": 2, "call": 1}


def test_latest_verbatims_newest_first(journey, ids, evidence):
    assert aggregates.latest_verbatims(journey.id, ids["cart"]) == list(
        db.session.scalars(select(Observation).filter_by(touchpoint_id=ids["cart"], csat=1))
    )
    observe(journey.id, ids["cart"], verbatim="Later", observed_on=date(2024, 6, 1))
    observe(journey.id, ids["cart"], verbatim="Undated")
    db.session.commit()
    texts = [o.verbatim for o in aggregates.latest_verbatims(journey.id, ids["cart"])]
    assert texts == ["Later", "Slow", "Undated"]
    assert len(aggregates.latest_verbatims(journey.id, ids["cart"], limit=1)) == 1


def test_an_empty_map_has_no_groups(journey):
    assert aggregates.per_stage(journey.id) == {} == aggregates.per_touchpoint(journey.id)
    total = aggregates.overall(journey.id)
    assert total.n == 0 and total.csat.mean is None and total.nps.score is None


def test_each_aggregate_is_one_grouped_query(journey, ids, evidence):
    journey_id = journey.id  # loaded before counting
    queries = []
    listener = lambda *args: queries.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        for aggregate in (
            aggregates.per_touchpoint,
            aggregates.per_stage,
            aggregates.per_channel,
            aggregates.per_stage_segment,
            aggregates.per_channel_segment,
        ):
            aggregate(journey_id)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(queries) == 5
    # Read from the trigger-kept rollup, never by scanning the observations.
    assert all("GROUP BY" in q and "FROM evidence_rollup" in q for q in queries)
    assert not any("observation" in q.replace("evidence_rollup", "") for q in queries)


def test_undoing_a_deletion_brings_the_observation_back(journey, ids, evidence):
    before = aggregates.per_touchpoint(journey.id)[ids["ad"]].n
    deletion = db.session.scalars(select(Deletion).filter_by(journey_id=journey.id)).one()
    store.restore(deletion)
    db.session.commit()
    ad = aggregates.per_touchpoint(journey.id)[ids["ad"]]
    # ad with the restored CSAT 1, NPS 0: CSAT 4, 5, 2, 1 → 3; NPS 10, 9, 3, 0 → (2 − 2)/4 = 0.
    assert (before, ad.n, ad.csat.mean, ad.nps.score) == (3, 4, 3, 0)
