"""The trigger-kept evidence_rollup always equals the sums over the live observations, whatever
wrote them: ORM inserts and edits, moved touchpoints, soft delete and undo, hard delete, core bulk
insert/update/delete, and the migration's backfill of existing rows."""

import random
from collections import Counter, defaultdict

import pytest
from sqlalchemy import delete, insert, select, update

from cjm import aggregates, evidence, store
from cjm.extensions import db
from cjm.models import (
    Deletion,
    EvidenceRollup,
    EvidenceRollupPending,
    Journey,
    Observation,
    Segment,
    Stage,
    Touchpoint,
)
from tests.factories import make_map, sample_journey

SUMS = ("n", "csat_n", "csat_sum", "csat_sq", "nps_n", "promoters", "detractors")
SUMS += ("ces_n", "ces_sum", "ces_sq")


def expected() -> dict:
    """The rollup computed in Python from the live observations, keyed like the table."""
    groups = defaultdict(Counter)
    for o in db.session.scalars(select(Observation).where(Observation.deletion_id.is_(None))):
        key = (o.journey_id, o.touchpoint_id or 0, o.stage_id or 0, o.channel_id or 0)
        sums = groups[(*key, o.segment_id or 0)]
        sums["n"] += 1
        for name, value in (("csat", o.csat), ("ces", o.ces)):
            if value is not None:
                sums[f"{name}_n"] += 1
                sums[f"{name}_sum"] += value
                sums[f"{name}_sq"] += value * value
        if o.nps is not None:
            sums["nps_n"] += 1
            sums["promoters"] += o.nps >= 9
            sums["detractors"] += o.nps <= 6
    return {key: tuple(sums[s] for s in SUMS) for key, sums in groups.items()}


def rollup() -> dict:
    """What the triggers keep, in the same shape."""
    db.session.expire_all()
    return {
        (r.journey_id, r.touchpoint_key_id, r.stage_key_id, r.channel_key_id, r.segment_key_id): (
            tuple(getattr(r, s) for s in SUMS)
        )
        for r in db.session.scalars(select(EvidenceRollup))
    }


@pytest.fixture
def maps(journey, owner):
    """Two maps (so rows are keyed by map), each with two segments."""
    other = make_map(owner, sample_journey("Other"))
    for j in (journey, other):
        db.session.add_all(
            Segment(journey_id=j.id, key=f"s{i}", name=f"Segment {i}", position=i) for i in range(2)
        )
    db.session.commit()
    return [journey.id, other.id]


def ids(model, journey_id: int) -> list[int]:
    return list(db.session.scalars(select(model.id).filter_by(journey_id=journey_id)))


def scores(rnd: random.Random) -> dict:
    """Random CSAT / NPS / CES, each possibly missing."""
    pick = lambda lo, hi: rnd.choice([None, *range(lo, hi + 1)])  # noqa: E731
    return {"csat": pick(1, 5), "nps": pick(0, 10), "ces": pick(1, 7)}


def fields(rnd: random.Random, journey_id: int) -> dict:
    """A random observation of a map: at a touchpoint, a bare stage or a bare channel."""
    tp = db.session.get(Touchpoint, rnd.choice(ids(Touchpoint, journey_id)))
    where = rnd.choice(
        [
            {"touchpoint_id": tp.id, "stage_id": tp.stage_id, "channel_id": tp.channel_id},
            {"touchpoint_id": None, "stage_id": tp.stage_id, "channel_id": None},
            {"touchpoint_id": None, "stage_id": None, "channel_id": tp.channel_id},
        ]
    )
    segment = rnd.choice([None, *ids(Segment, journey_id)])
    return {"journey_id": journey_id, **where, "segment_id": segment, "source": "survey"} | scores(
        rnd
    )


def step(rnd: random.Random, maps: list[int], owner_id: int) -> None:
    """One random write, through the same paths the app uses."""
    j = rnd.choice(maps)
    rows = list(db.session.scalars(select(Observation).filter_by(journey_id=j)))
    action = rnd.choice(
        ["insert", "insert", "bulk", "scores", "place", "segment", "move", "hide", "hide-part"]
        + ["undo", "delete", "bulk-delete", "bulk-update"]
    )
    if action == "insert" or not rows:
        db.session.add(Observation(**fields(rnd, j)))
    elif action == "bulk":
        db.session.execute(insert(Observation), [fields(rnd, j) for _ in range(rnd.randint(2, 6))])
    elif action == "scores":
        row = rnd.choice(rows)
        for name, value in scores(rnd).items():
            setattr(row, name, value)
    elif action == "place":
        row = rnd.choice(rows)
        for name, value in fields(rnd, j).items():
            setattr(row, name, value)
    elif action == "segment":
        rnd.choice(rows).segment_id = rnd.choice([None, *ids(Segment, j)])
    elif action == "move":  # a touchpoint moves to another stage: its evidence follows
        tp = db.session.get(Touchpoint, rnd.choice(ids(Touchpoint, j)))
        tp.stage_id = rnd.choice(ids(Stage, j))
        db.session.flush()
        evidence.sync_touchpoint(tp)
    elif action == "hide":
        store.soft_delete(rnd.sample(rows, min(len(rows), 2)), j, owner_id, "observations")
    elif action == "hide-part":  # a hidden segment or touchpoint hides its evidence (bulk UPDATE)
        model = rnd.choice([Segment, Touchpoint])
        store.soft_delete([db.session.get(model, rnd.choice(ids(model, j)))], j, owner_id, "part")
    elif action == "undo":
        deletion = db.session.scalars(select(Deletion).filter_by(journey_id=j)).first()
        if deletion is not None:
            store.restore(deletion)
    elif action == "delete":
        db.session.delete(rnd.choice(rows))
    elif action == "bulk-delete":
        doomed = [r.id for r in rnd.sample(rows, min(len(rows), 3))]
        db.session.execute(delete(Observation).where(Observation.id.in_(doomed)))
    else:  # bulk-update: scores of a whole segment at once, bypassing the ORM
        db.session.execute(
            update(Observation)
            .where(Observation.journey_id == j, Observation.csat.is_not(None))
            .values(csat=rnd.randint(1, 5))
            .execution_options(synchronize_session=False)
        )
    db.session.commit()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollup_follows_every_write(maps, owner, seed):
    rnd = random.Random(seed)
    for number in range(120):
        step(rnd, maps, owner.id)
        assert rollup() == expected(), f"after step {number}"
    assert rollup(), "the mix left some evidence"
    assert all(sums[0] > 0 for sums in rollup().values())  # empty groups are dropped


def test_core_bulk_insert_is_rolled_up(maps):
    j = maps[0]
    tp = db.session.get(Touchpoint, ids(Touchpoint, j)[0])
    segment = ids(Segment, j)[0]
    place = {"touchpoint_id": tp.id, "stage_id": tp.stage_id, "channel_id": tp.channel_id}
    db.session.execute(
        insert(Observation),
        [
            {"journey_id": j, **place, "segment_id": segment, "source": "survey", "csat": c}
            for c in (1, 2, 3, 4, 5)
        ]
        + [{"journey_id": j, **place, "source": "survey", "nps": 10}],
    )
    db.session.commit()
    assert rollup() == expected()
    assert aggregates.per_touchpoint(j)[tp.id].n == 6
    by_segment = aggregates.per_segment(j)
    assert (by_segment[segment].csat.mean, by_segment[None].nps.score) == (3, 100)


def test_a_transaction_reads_its_own_evidence_before_commit(maps):
    """PostgreSQL folds at commit: until then aggregates add the transaction's pending rows."""
    j = maps[0]
    tp = db.session.get(Touchpoint, ids(Touchpoint, j)[0])
    place = {"touchpoint_id": tp.id, "stage_id": tp.stage_id, "channel_id": tp.channel_id}
    db.session.add_all(Observation(journey_id=j, **place, source="survey", csat=c) for c in (2, 4))
    db.session.commit()
    db.session.add(Observation(journey_id=j, **place, source="survey", csat=5))
    db.session.execute(delete(Observation).where(Observation.csat == 2))
    db.session.flush()
    assert (aggregates.overall(j).n, aggregates.per_touchpoint(j)[tp.id].csat.mean) == (2, 4.5)
    db.session.execute(delete(Observation).where(Observation.journey_id == j))
    assert aggregates.per_touchpoint(j) == {}  # the group emptied in this transaction is gone
    db.session.commit()
    assert (aggregates.overall(j).n, rollup()) == (0, {})
    assert db.session.scalars(select(EvidenceRollupPending)).all() == []  # never committed


def test_hard_deleting_a_touchpoint_keeps_the_rollup_right(maps):
    """PostgreSQL's ON DELETE SET NULL is an UPDATE the trigger sees (SQLite leaves the id)."""
    rnd = random.Random(7)
    for _ in range(30):
        db.session.add(Observation(**fields(rnd, maps[0])))
    db.session.commit()
    db.session.execute(delete(Touchpoint).where(Touchpoint.id == ids(Touchpoint, maps[0])[0]))
    db.session.commit()
    assert rollup() == expected()


def test_deleting_a_map_drops_its_rollup(maps):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs without foreign key enforcement: no cascade to follow")
    rnd = random.Random(8)
    for j in maps:
        db.session.add_all(Observation(**fields(rnd, j)) for _ in range(10))
    db.session.commit()
    db.session.execute(delete(Journey).where(Journey.id == maps[0]))
    db.session.commit()
    assert {key[0] for key in rollup()} == {maps[1]}
    assert rollup() == expected()


def test_the_migration_backfills_existing_evidence(app, maps):
    from flask_migrate import downgrade, upgrade

    rnd = random.Random(9)
    for j in maps:
        db.session.add_all(Observation(**fields(rnd, j)) for _ in range(20))
    db.session.commit()
    db.session.delete(db.session.scalars(select(Observation)).first())
    store.soft_delete([db.session.scalars(select(Observation)).first()], maps[0], None, "obs")
    db.session.commit()
    db.session.remove()
    downgrade(revision="0002")
    upgrade()
    assert rollup() == expected()
    assert len(rollup()) > 1
