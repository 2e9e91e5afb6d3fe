"""Steps 4–6 in the cjm-studio/1 document, through the database: barriers with their segments
and evidence links, strategies, experiments, KPIs and learning notes are exported by key,
imported in the same transaction as the map, and give the same document again; bad references
are refused by JSON path with nothing written; hidden elements stay out."""

import copy
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from cjm import documents, evidence, store
from cjm.extensions import db
from cjm.journey.model import ValidationError
from cjm.models import (
    Barrier,
    BarrierEvidence,
    BarrierSegment,
    Experiment,
    Journey,
    Kpi,
    KpiValue,
    Note,
    Observation,
    Segment,
    Stage,
    Strategy,
    StrategyBarrier,
    Touchpoint,
    Transition,
)

TABLES = (Journey, Barrier, BarrierSegment, BarrierEvidence, Strategy, StrategyBarrier)
TABLES += (Experiment, Kpi, KpiValue, Note, Observation)


def key_id(model, journey_id: int, key: str) -> int:
    return db.session.scalar(select(model.id).filter_by(journey_id=journey_id, key=key))


def counts() -> dict:
    db.session.rollback()
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in TABLES}


@pytest.fixture
def planned(journey):
    """The sample map with evidence, two barriers, a strategy, a closed experiment that wrote
    back a KPI reading and a learning, and a second KPI."""
    jid = journey.id
    new = Segment(journey_id=jid, key="new", name="New", position=0)
    db.session.add(new)
    db.session.flush()
    cart, paid = key_id(Touchpoint, jid, "cart"), key_id(Touchpoint, jid, "paid")
    first = evidence.add_observation(jid, touchpoint_id=cart, source="survey", csat=1)
    evidence.add_observation(jid, touchpoint_id=paid, source="survey", csat=5)
    third = evidence.add_observation(jid, touchpoint_id=cart, source="survey", verbatim="Slow")
    db.session.flush()
    fields = Barrier(journey_id=jid, key="fields", touchpoint_id=cart, title="Too many fields",
                     type="functional", severity=4)  # fmt: skip
    gone = Barrier(journey_id=jid, key="gone", transition_id=key_id(Transition, jid, "cart-gone"),
                   title="Leaves at the cart", type="price", status="mitigated")  # fmt: skip
    strategy = Strategy(journey_id=jid, key="short-form", title="Shorter form", owner="Ivan",
                        impact=8, effort=2, confidence=7, status="done")  # fmt: skip
    buyers = Kpi(journey_id=jid, key="buyers", name="Buyers", kind="buyers", position=0)
    ltv = Kpi(journey_id=jid, key="ltv", name="LTV", kind="ltv", unit="€", position=1)
    db.session.add_all([fields, gone, strategy, buyers, ltv])
    db.session.flush()
    db.session.add_all(
        [
            BarrierSegment(barrier_id=fields.id, segment_id=new.id),
            BarrierEvidence(barrier_id=fields.id, observation_id=third.id),
            BarrierEvidence(barrier_id=fields.id, observation_id=first.id),
            StrategyBarrier(strategy_id=strategy.id, barrier_id=gone.id),
            StrategyBarrier(strategy_id=strategy.id, barrier_id=fields.id),
        ]
    )
    test = Experiment(
        journey_id=jid, key="ab-form", strategy_id=strategy.id, metric="transition-conversion",
        transition_id=key_id(Transition, jid, "cart-paid"), segment_id=new.id, kpi_id=buyers.id,
        hypothesis="Fewer fields, more orders", baseline=0.4, baseline_n=100, baseline_hits=40,
        target=0.5, starts_on=date(2025, 3, 1), ends_on=date(2025, 3, 31), result=0.5614,
        result_n=114, result_hits=64, p_value=0.0213, status="closed", verdict="won",
        learning="Short forms sell", closed_at=datetime(2025, 4, 1, 9, 30, 15, 123456, UTC),
    )  # fmt: skip
    db.session.add(test)
    db.session.flush()
    db.session.add_all(
        [
            KpiValue(kpi_id=buyers.id, measured_on=date(2025, 4, 1), value=64,
                     experiment_id=test.id),
            KpiValue(kpi_id=buyers.id, measured_on=date(2025, 3, 1), value=40),
            Note(journey_id=jid, kind="learning", text="Short forms sell", touchpoint_id=cart,
                 stage_id=key_id(Stage, jid, "buy"), experiment_id=test.id),
            Note(journey_id=jid, kind="idea", text="A workshop idea",
                 stage_id=key_id(Stage, jid, "buy")),
        ]
    )  # fmt: skip
    db.session.commit()
    return journey


@pytest.fixture
def document(planned):
    return documents.export_document(planned.id)


def test_export_has_the_plan_by_key(document):
    assert list(document)[-5:] == ["barriers", "strategies", "experiments", "kpis", "notes"]
    fields, gone = document["barriers"]
    assert (fields["touchpoint"], fields["transition"]) == ("cart", None)
    assert (gone["touchpoint"], gone["transition"], gone["status"]) == (
        None,
        "cart-gone",
        "mitigated",
    )
    assert fields["segments"] == ["new"]
    # Evidence by position in $.evidence, in recorded order: observations 0 and 2.
    assert fields["evidence"] == [0, 2]
    assert document["evidence"][2]["verbatim"] == "Slow"
    assert document["strategies"][0]["barriers"] == ["fields", "gone"]
    (test,) = document["experiments"]
    assert (test["strategy"], test["transition"], test["segment"], test["kpi"]) == (
        "short-form", "cart-paid", "new", "buyers"
    )  # fmt: skip
    assert (test["starts_on"], test["closed_at"], test["p_value"]) == (
        "2025-03-01", "2025-04-01T09:30:15Z", 0.0213
    )  # fmt: skip
    assert [k["key"] for k in document["kpis"]] == ["buyers", "ltv"]
    assert document["kpis"][0]["values"] == [
        {"date": "2025-03-01", "value": 40.0, "experiment": None},
        {"date": "2025-04-01", "value": 64.0, "experiment": "ab-form"},
    ]
    assert document["kpis"][1]["values"] == []
    # Only the learnings: workshop sticky notes are not part of the document.
    assert document["notes"] == [
        {"kind": "learning", "touchpoint": "cart", "stage": "buy", "experiment": "ab-form",
         "text": "Short forms sell"}
    ]  # fmt: skip
    assert documents.validate_document(document) == []


def test_round_trip_gives_the_same_document(ctx, owner, document):
    row = documents.import_document(copy.deepcopy(document), owner.id)
    again = documents.export_document(row.id)
    assert documents.document_text(again) == documents.document_text(document)
    # The links point at the new map's own rows.
    links = db.session.scalars(
        select(BarrierEvidence.observation_id)
        .join(Barrier, Barrier.id == BarrierEvidence.barrier_id)
        .where(Barrier.journey_id == row.id)
    ).all()
    mine = set(db.session.scalars(select(Observation.id).filter_by(journey_id=row.id)))
    assert len(links) == 2 and set(links) <= mine


def test_maps_without_a_plan_export_as_before(ctx, journey):
    assert list(documents.export_document(journey.id))[-2:] == ["segments", "evidence"]


def test_hidden_elements_stay_out(planned):
    gone = db.session.scalar(select(Barrier).filter_by(journey_id=planned.id, key="gone"))
    ltv = db.session.scalar(select(Kpi).filter_by(journey_id=planned.id, key="ltv"))
    store.soft_delete([gone, ltv], planned.id, None, "gone")
    db.session.commit()
    doc = documents.export_document(planned.id)
    assert [b["key"] for b in doc["barriers"]] == ["fields"]
    assert doc["strategies"][0]["barriers"] == ["fields"]
    assert [k["key"] for k in doc["kpis"]] == ["buyers"]
    assert documents.validate_document(doc) == []


def test_a_hidden_strategy_takes_its_experiments_along(planned):
    strategy = db.session.scalar(select(Strategy).filter_by(journey_id=planned.id))
    store.soft_delete([strategy], planned.id, None, "strategy")
    db.session.commit()
    doc = documents.export_document(planned.id)
    assert ("strategies" in doc, "experiments" in doc) == (False, False)
    assert doc["kpis"][0]["values"][1]["experiment"] is None
    assert doc["notes"][0]["experiment"] is None
    assert documents.validate_document(doc) == []


def test_a_barrier_on_a_hidden_touchpoint_is_left_out(planned):
    cart = db.session.get(Touchpoint, key_id(Touchpoint, planned.id, "cart"))
    store.soft_delete([cart], planned.id, None, "cart")
    db.session.commit()
    doc = documents.export_document(planned.id)
    # Both barriers go: one sat on the cart, the other on a transition leaving it.
    assert ("barriers" in doc, "notes" in doc) == (False, False)
    assert doc["strategies"][0]["barriers"] == []
    assert documents.validate_document(doc) == []


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (lambda d: d["strategies"][0]["barriers"].append("x"), "$.strategies[0].barriers[2]",
         "unknown barrier 'x'"),
        (lambda d: d["barriers"][0].update(severity=9), "$.barriers[0].severity",
         "9 is greater than the maximum of 5"),
        (lambda d: d["barriers"][0].update(evidence=[0, 7]), "$.barriers[0].evidence[1]",
         "no observation 7: $.evidence has 3"),
        (lambda d: d["experiments"][0].update(verdict="maybe"), "$.experiments[0].verdict",
         "'maybe' is not one of ['won', 'lost', 'inconclusive', None]"),
        (lambda d: d["kpis"][0]["values"][0].update(experiment="nope"),
         "$.kpis[0].values[0].experiment", "unknown experiment 'nope'"),
        (lambda d: d["notes"][0].update(kind="idea"), "$.notes[0].kind",
         "'idea' is not one of ['learning']"),
        (lambda d: d["experiments"][0].update(closed_at="yesterday"), "$.experiments[0].closed_at",
         "a time is written in UTC as YYYY-MM-DDTHH:MM:SSZ"),
    ],
)  # fmt: skip
def test_bad_plan_is_refused_by_path_and_writes_nothing(
    ctx, owner, document, change, path, message
):
    doc = copy.deepcopy(document)
    change(doc)
    before = counts()
    with pytest.raises(ValidationError) as caught:
        documents.import_document(doc, owner.id)
    assert message in caught.value.field_errors[path].split("; ")
    assert counts() == before


def test_failed_plan_write_rolls_back_the_whole_map(ctx, owner, document, monkeypatch):
    def fail(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "add_plan", fail)
    before = counts()
    with pytest.raises(RuntimeError):
        documents.import_document(copy.deepcopy(document), owner.id)
    assert counts() == before


def test_export_download_includes_the_plan(owner_client, planned):
    body = owner_client.get(f"/maps/{planned.id}/export.json").get_json()
    assert body["barriers"][0]["key"] == "fields"
    assert body["experiments"][0]["verdict"] == "won"
