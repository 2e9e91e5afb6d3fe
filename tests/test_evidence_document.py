"""Segments and evidence in the cjm-studio/1 document: export from rows, import in one
transaction (a touchpoint fills stage and channel), the same document after a round trip,
old documents without the sections, and bad references reported by JSON path."""

import copy
import json
from datetime import date

import pytest
from sqlalchemy import func, select

from cjm import documents, evidence, store
from cjm.extensions import db
from cjm.journey.model import ValidationError
from cjm.models import Journey, Observation, Segment, Stage, Touchpoint


def key_id(model, journey_id: int, key: str) -> int:
    return db.session.scalar(select(model.id).filter_by(journey_id=journey_id, key=key))


@pytest.fixture
def researched(journey):
    """The sample map with two segments and three observations."""
    new = Segment(journey_id=journey.id, key="new", name="New customers", position=0)
    b2b = Segment(journey_id=journey.id, key="b2b", name="B2B", position=1)
    db.session.add_all([new, b2b])
    db.session.flush()
    evidence.add_observation(
        journey.id,
        touchpoint_id=key_id(Touchpoint, journey.id, "cart"),
        segment_id=new.id,
        source="survey",
        observed_on=date(2025, 3, 1),
        respondent="R-1",
        csat=2,
        nps=6,
        ces=5,
        verbatim="Too many fields",
    )
    evidence.add_observation(
        journey.id, stage_id=key_id(Stage, journey.id, "use"), source="market", verbatim="Rivals"
    )
    evidence.add_observation(
        journey.id, touchpoint_id=key_id(Touchpoint, journey.id, "ad"), segment_id=b2b.id, csat=5
    )
    db.session.commit()
    return journey


@pytest.fixture
def document(researched):
    return documents.export_document(researched.id)


def test_export_has_segments_and_evidence_by_key(document):
    assert list(document)[-2:] == ["segments", "evidence"]
    assert document["segments"] == [
        {"key": "new", "name": "New customers"},
        {"key": "b2b", "name": "B2B"},
    ]
    assert document["evidence"][0] == {
        "touchpoint": "cart", "stage": "buy", "channel": "web", "segment": "new",
        "source": "survey", "date": "2025-03-01", "respondent": "R-1", "csat": 2, "nps": 6,
        "ces": 5, "verbatim": "Too many fields",
    }  # fmt: skip
    assert document["evidence"][1]["touchpoint"] is None
    assert (document["evidence"][1]["stage"], document["evidence"][1]["channel"]) == ("use", None)
    assert documents.validate_document(document) == []


def test_round_trip_gives_the_same_document(ctx, owner, document):
    row = documents.import_document(copy.deepcopy(document), owner.id)
    again = documents.export_document(row.id)
    assert documents.document_text(again) == documents.document_text(document)
    quote = db.session.scalar(select(Observation).filter_by(journey_id=row.id, respondent="R-1"))
    # Imported rows get the touchpoint's stage and channel, so SQL can group by them.
    assert (quote.stage_id, quote.channel_id) == (
        key_id(Stage, row.id, "buy"),
        db.session.get(Touchpoint, quote.touchpoint_id).channel_id,
    )


def test_stage_and_channel_may_be_left_out_beside_a_touchpoint(ctx, owner, document):
    doc = copy.deepcopy(document)
    doc["evidence"][0] = {"touchpoint": "cart", "source": "survey", "csat": 2}
    row = documents.import_document(doc, owner.id)
    first = documents.export_document(row.id)["evidence"][0]
    assert (first["stage"], first["channel"], first["segment"], first["date"]) == (
        "buy",
        "web",
        None,
        None,
    )


def test_old_documents_without_the_sections_still_import(ctx, owner, document):
    doc = copy.deepcopy(document)
    del doc["segments"], doc["evidence"]
    assert documents.validate_document(doc) == []
    row = documents.import_document(doc, owner.id)
    again = documents.export_document(row.id)
    assert (again["segments"], again["evidence"]) == ([], [])


def counts() -> tuple:
    db.session.rollback()
    return tuple(
        db.session.scalar(select(func.count()).select_from(m))
        for m in (Journey, Segment, Observation)
    )


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (
            lambda d: d["evidence"][2].update(touchpoint="nope"),
            "$.evidence[2].touchpoint",
            "unknown touchpoint 'nope'",
        ),
        (lambda d: d["evidence"][1].update(stage="x"), "$.evidence[1].stage", "unknown stage 'x'"),
        (
            lambda d: d["evidence"][1].update(channel="tv"),
            "$.evidence[1].channel",
            "unknown channel 'tv'",
        ),
        (
            lambda d: d["evidence"][0].update(segment="vip"),
            "$.evidence[0].segment",
            "unknown segment 'vip'",
        ),
        (
            lambda d: d["evidence"][0].update(stage="use"),
            "$.evidence[0].stage",
            "touchpoint 'cart' is at stage 'buy'",
        ),
        (
            lambda d: d["evidence"][1].update(stage=None),
            "$.evidence[1]",
            "needs a touchpoint, a stage or a channel",
        ),
        (
            lambda d: d["evidence"][0].update(date="2025-02-29"),
            "$.evidence[0].date",
            "not a date (YYYY-MM-DD): '2025-02-29'",
        ),
        (
            lambda d: d["evidence"][0].update(date="01.03.2025"),
            "$.evidence[0].date",
            "a date is written YYYY-MM-DD",
        ),
        (
            lambda d: d["evidence"][0].update(csat=6),
            "$.evidence[0].csat",
            "6 is greater than the maximum of 5",
        ),
        (
            lambda d: d["evidence"][0].update(nps=-1),
            "$.evidence[0].nps",
            "-1 is less than the minimum of 0",
        ),
        (
            lambda d: d["evidence"][0].update(ces=2.5),
            "$.evidence[0].ces",
            "2.5 is not of type 'integer', 'null'",
        ),
        (lambda d: d["evidence"][0].update(source="rumour"), "$.evidence[0].source", None),
        (lambda d: d["evidence"][0].pop("source"), "$.evidence[0].source", "required"),
        (lambda d: d["evidence"][0].update(weight=2), "$.evidence[0]", None),
        (lambda d: d["segments"][1].update(key="new"), "$.segments[1].key", "duplicate key 'new'"),
        (lambda d: d["segments"][0].update(name=" "), "$.segments[0].name", "must not be blank"),
    ],
)
def test_bad_evidence_is_refused_by_path_and_writes_nothing(
    ctx, owner, document, change, path, message
):
    doc = copy.deepcopy(document)
    change(doc)
    errors = dict(documents.validate_document(doc))
    assert path in errors
    if message:
        assert errors[path] == message
    before = counts()
    with pytest.raises(ValidationError):
        documents.import_document(doc, owner.id)
    assert counts() == before


def test_failed_evidence_write_rolls_back_the_whole_map(ctx, owner, document, monkeypatch):
    def broken(journey_id, journey):
        raise RuntimeError("disk full")

    monkeypatch.setattr(evidence, "add_document_evidence", broken)
    before = counts()
    with pytest.raises(RuntimeError):
        documents.import_document(document, owner.id)
    assert counts() == before


def test_hidden_evidence_is_not_exported(researched):
    row = db.session.scalar(select(Observation).filter_by(source="market"))
    store.soft_delete([row], researched.id, None, "observation")
    seg = db.session.scalar(select(Segment).filter_by(journey_id=researched.id, key="b2b"))
    store.soft_delete([seg], researched.id, None, "segment")
    db.session.commit()
    doc = documents.export_document(researched.id)
    assert [s["key"] for s in doc["segments"]] == ["new"]
    assert [o["touchpoint"] for o in doc["evidence"]] == ["cart"]
    assert documents.validate_document(doc) == []


def test_export_download_includes_evidence(owner_client, researched):
    response = owner_client.get(f"/maps/{researched.id}/export.json")
    assert len(response.json["evidence"]) == 3


@pytest.mark.parametrize("language", ["en", "ru"])
def test_demo_files_carry_evidence_in_three_segments(ctx, owner, language):
    path = documents.SCHEMA_PATH.parent.parent / "seed" / f"demo.{language}.json"
    doc = json.loads(path.read_text("utf-8"))
    assert len(doc["segments"]) == 3 and len(doc["evidence"]) >= 40
    assert {o["source"] for o in doc["evidence"]} == {
        "survey",
        "mystery-shopper",
        "interview",
        "market",
    }
    row = documents.import_document(doc, owner.id)
    assert len(evidence.load_evidence(row.id)) == len(doc["evidence"])
