"""The cjm-studio/1 document in the pure domain: to_document/from_document round trip, key and
reference checks with JSON paths, forward compatibility, the schema's enums matching the model."""

import copy
import json
from pathlib import Path

import pytest

from cjm.journey import model as dm
from cjm.journey.serialize import SCHEMA, from_document, to_document

ROOT = Path(__file__).parents[2] / "cjm"
DEMO_FILES = sorted((ROOT / "seed").glob("demo.*.json"))
SCHEMA_JSON = json.loads((ROOT / "journey" / "cjm-studio-1.schema.json").read_text("utf-8"))


@pytest.fixture
def journey():
    """A small map with db ids and versions set, as store.load_journey returns it."""
    return dm.Journey(
        id=7,
        version=3,
        title="Kettle",
        description="Buying a kettle",
        state="to-be",
        language="ru",
        personas=[dm.Persona("anna", "Анна", age=34, lifecycle="developing", primary=True, id=1)],
        stages=[dm.Stage("aware", "Awareness", id=2), dm.Stage("buy", "Purchase", version=5)],
        channels=[dm.Channel("web", "Website", "website", id=3)],
        touchpoints=[
            dm.Touchpoint("ad", "aware", "web", "Sees an ad", kind="entry", emotion=1, id=4),
            dm.Touchpoint("paid", "buy", "web", "Pays", kind="goal", emotion=None),
        ],
        transitions=[dm.Transition("ad-paid", "ad", "paid", "main", "Clicks", 100, id=9)],
        segments=[dm.Segment("new", "New customers", id=5), dm.Segment("b2b", "B2B", version=2)],
        evidence=[
            dm.Observation(
                "survey", "ad", "aware", "web", "new", "2025-03-01", "R-1", 4, 9, 2, "Nice ad", id=3
            ),
            dm.Observation("market", stage="buy", verbatim="Rivals deliver faster"),
            dm.Observation("interview", channel="web", segment="b2b", verbatim="Too slow"),
        ],
    )


def dumps(doc) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2)


def test_document_shape(journey):
    doc = to_document(journey)
    assert list(doc) == [
        "schema",
        "map",
        "personas",
        "stages",
        "channels",
        "touchpoints",
        "transitions",
        "segments",
        "evidence",
    ]
    assert doc["schema"] == SCHEMA
    assert doc["map"] == {
        "title": "Kettle",
        "description": "Buying a kettle",
        "state": "to-be",
        "language": "ru",
    }
    assert list(doc["personas"][0]) == [
        "key", "name", "age", "occupation", "quote", "goals", "needs", "expectations",
        "frustrations", "behaviour", "segment", "lifecycle", "primary",
    ]  # fmt: skip
    assert doc["touchpoints"][0] == {
        "key": "ad", "stage": "aware", "channel": "web", "kind": "entry", "name": "Sees an ad",
        "description": "", "action": "", "goal": "", "thought": "", "emotion": 1,
    }  # fmt: skip
    assert doc["transitions"] == [
        {
            "key": "ad-paid",
            "from": "ad",
            "to": "paid",
            "kind": "main",
            "label": "Clicks",
            "volume": 100,
        }
    ]
    assert doc["segments"] == [
        {"key": "new", "name": "New customers"},
        {"key": "b2b", "name": "B2B"},
    ]
    assert doc["evidence"][0] == {
        "touchpoint": "ad", "stage": "aware", "channel": "web", "segment": "new",
        "source": "survey", "date": "2025-03-01", "respondent": "R-1", "csat": 4, "nps": 9,
        "ces": 2, "verbatim": "Nice ad",
    }  # fmt: skip
    # Nulls are written out, as for a touchpoint's emotion: one fixed shape per entry.
    assert doc["evidence"][1] == {
        "touchpoint": None, "stage": "buy", "channel": None, "segment": None,
        "source": "market", "date": None, "respondent": "", "csat": None, "nps": None,
        "ces": None, "verbatim": "Rivals deliver faster",
    }  # fmt: skip


def test_ids_and_versions_stay_inside_the_app(journey):
    text = dumps(to_document(journey))
    assert '"id"' not in text and '"version"' not in text and "avatar" not in text


def test_round_trip_keeps_order_and_content(journey):
    doc = to_document(journey)
    again = to_document(from_document(json.loads(dumps(doc))))
    assert dumps(again) == dumps(doc)


@pytest.mark.parametrize("path", DEMO_FILES, ids=lambda p: p.name)
def test_demo_files_are_canonical_documents(path):
    text = path.read_text("utf-8")
    doc = json.loads(text)
    assert dumps(to_document(from_document(doc))) + "\n" == text


def test_minimal_document_takes_defaults():
    journey = from_document({"schema": SCHEMA, "map": {"title": "Blank"}})
    assert (journey.title, journey.state, journey.language, journey.stages) == (
        "Blank",
        "as-is",
        "en",
        [],
    )


def test_unknown_sections_are_ignored(journey):
    doc = to_document(journey)
    doc["x-personas-v2"] = [{"key": "e1", "kpi": "conversion"}]
    doc["x-tool"] = {"exported-by": "another app"}
    assert to_document(from_document(doc)) == to_document(journey)


def test_documents_without_segments_and_evidence_still_read(journey):
    doc = to_document(journey)
    del doc["segments"], doc["evidence"]
    again = from_document(doc)
    assert (again.segments, again.evidence) == ([], [])
    assert [t.key for t in again.touchpoints] == ["ad", "paid"]


def test_a_touchpoint_fills_the_stage_and_channel(journey):
    doc = to_document(journey)
    doc["evidence"] = [{"source": "survey", "touchpoint": "paid", "csat": 5}]
    (observation,) = from_document(doc).evidence
    assert (observation.stage, observation.channel, observation.csat) == ("buy", "web", 5)
    assert (observation.segment, observation.date, observation.verbatim) == (None, None, "")


def broken(journey, change):
    doc = copy.deepcopy(to_document(journey))
    change(doc)
    return doc


def at(section: str, index: int, **fields):
    """A change to one element of a document."""
    return lambda d: d[section][index].update(fields)


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (at("touchpoints", 1, stage="x"), "$.touchpoints[1].stage", "unknown stage 'x'"),
        (at("touchpoints", 0, channel="tv"), "$.touchpoints[0].channel", "unknown channel 'tv'"),
        (at("transitions", 0, to="no"), "$.transitions[0].to", "unknown touchpoint 'no'"),
        (at("transitions", 0, **{"from": "x"}), "$.transitions[0].from", "unknown touchpoint 'x'"),
        (at("stages", 1, key="aware"), "$.stages[1].key", "duplicate key 'aware'"),
        (
            lambda d: d["touchpoints"].append(dict(d["touchpoints"][0])),
            "$.touchpoints[2].key",
            "duplicate key 'ad'",
        ),
        (lambda d: d["map"].pop("title"), "$.map.title", "required"),
        (lambda d: d.update(schema="cjm-studio/0"), "$.schema", "expected 'cjm-studio/1'"),
        (lambda d: d.update(stages="Awareness"), "$.stages", "must be a list"),
        (lambda d: d["touchpoints"].append(5), "$.touchpoints[2]", "must be an object"),
        (lambda d: d["transitions"][0].pop("to"), "$.transitions[0].to", "required"),
        (at("segments", 1, key="new"), "$.segments[1].key", "duplicate key 'new'"),
        (at("evidence", 2, touchpoint="x"), "$.evidence[2].touchpoint", "unknown touchpoint 'x'"),
        (at("evidence", 1, stage="nope"), "$.evidence[1].stage", "unknown stage 'nope'"),
        (at("evidence", 2, channel="tv"), "$.evidence[2].channel", "unknown channel 'tv'"),
        (at("evidence", 0, segment="vip"), "$.evidence[0].segment", "unknown segment 'vip'"),
        (
            at("evidence", 0, stage="buy"),
            "$.evidence[0].stage",
            "touchpoint 'ad' is at stage 'aware'",
        ),
        (
            at("evidence", 1, stage=None),
            "$.evidence[1]",
            "needs a touchpoint, a stage or a channel",
        ),
        (
            at("evidence", 0, date="2025-02-30"),
            "$.evidence[0].date",
            "not a date (YYYY-MM-DD): '2025-02-30'",
        ),
        (
            at("evidence", 0, date="1.3.2025"),
            "$.evidence[0].date",
            "not a date (YYYY-MM-DD): '1.3.2025'",
        ),
        (lambda d: d["evidence"][1].pop("source"), "$.evidence[1].source", "required"),
        (lambda d: d.update(segments={}), "$.segments", "must be a list"),
    ],
)
def test_bad_references_raise_validation_error_with_json_paths(journey, change, path, message):
    with pytest.raises(dm.ValidationError) as caught:
        from_document(broken(journey, change))
    assert caught.value.field_errors[path] == message


def test_not_an_object():
    with pytest.raises(dm.ValidationError) as caught:
        from_document(["schema", "map"])
    assert list(caught.value.field_errors) == ["$"]


def test_every_error_is_reported_at_once(journey):
    def change(d):
        d["touchpoints"][0]["stage"] = "a"
        d["touchpoints"][1]["channel"] = "b"
        d["channels"].append({"key": "web", "name": "Again"})

    errors = pytest.raises(dm.ValidationError, from_document, broken(journey, change))
    assert set(errors.value.field_errors) == {
        "$.touchpoints[0].stage",
        "$.touchpoints[1].channel",
        "$.channels[1].key",
    }


@pytest.mark.parametrize(
    ("definition", "vocabulary"),
    [
        ("state", dm.STATES),
        ("language", dm.LANGUAGES),
        ("lifecycle", dm.LIFECYCLE),
        ("touchpointKind", dm.TOUCHPOINT_KINDS),
        ("transitionKind", dm.TRANSITION_KINDS),
        ("channelKind", dm.CHANNEL_KINDS),
        ("evidenceSource", dm.EVIDENCE_SOURCES),
    ],
)
def test_schema_enums_equal_the_model(definition, vocabulary):
    assert tuple(SCHEMA_JSON["$defs"][definition]["enum"]) == vocabulary


def test_schema_emotion_range_equals_the_model():
    emotion = SCHEMA_JSON["$defs"]["emotion"]
    assert (emotion["minimum"], emotion["maximum"]) == (dm.EMOTION_MIN, dm.EMOTION_MAX)
    assert SCHEMA_JSON["properties"]["schema"]["const"] == SCHEMA


@pytest.mark.parametrize(
    ("name", "scale"), [("csat", dm.CSAT_RANGE), ("nps", dm.NPS_RANGE), ("ces", dm.CES_RANGE)]
)
def test_schema_score_ranges_equal_the_model(name, scale):
    score = SCHEMA_JSON["$defs"]["observation"]["properties"][name]
    assert (score["minimum"], score["maximum"]) == scale


def test_schema_covers_every_exported_field(journey):
    doc = to_document(journey)
    definitions = {"personas": "persona", "stages": "stage", "channels": "channel"}
    definitions |= {"touchpoints": "touchpoint", "transitions": "transition"}
    definitions |= {"segments": "segment", "evidence": "observation"}
    for section, definition in definitions.items():
        assert list(doc[section][0]) == list(SCHEMA_JSON["$defs"][definition]["properties"])
    assert list(doc["map"]) == list(SCHEMA_JSON["properties"]["map"]["properties"])
