"""Steps 4–6 in the cjm-studio/1 document, in the pure domain: barriers (evidence by position),
strategies, experiments, KPIs with their readings and learning notes round-trip; the sections are
optional and left out while empty; bad references and places give errors by JSON path."""

import copy
import json
from pathlib import Path

import pytest

from cjm.journey import model as dm
from cjm.journey.serialize import BASE, PLAN, from_document, to_document

SCHEMA_JSON = json.loads(
    (Path(__file__).parents[2] / "cjm" / "journey" / "cjm-studio-1.schema.json").read_text("utf-8")
)


@pytest.fixture
def journey():
    """Two touchpoints and a transition, two observations, and a plan on top of them."""
    return dm.Journey(
        title="Kettle",
        stages=[dm.Stage("aware", "Awareness"), dm.Stage("buy", "Purchase")],
        channels=[dm.Channel("web", "Website", "website")],
        touchpoints=[
            dm.Touchpoint("ad", "aware", "web", "Sees an ad", kind="entry"),
            dm.Touchpoint("paid", "buy", "web", "Pays", kind="goal"),
        ],
        transitions=[dm.Transition("ad-paid", "ad", "paid", volume=100)],
        segments=[dm.Segment("new", "New"), dm.Segment("b2b", "B2B")],
        evidence=[
            dm.Observation("survey", "ad", "aware", "web", csat=2, verbatim="Confusing"),
            dm.Observation("survey", "paid", "buy", "web", csat=1, verbatim="Slow"),
        ],
        barriers=[
            dm.Barrier(
                "slow-pay",
                "Slow payment",
                "technical",
                touchpoint="paid",
                severity=4,
                segments=["new", "b2b"],
                evidence=[0, 1],
                id=11,
            ),
            dm.Barrier("lost", "Lost on the way", "functional", transition="ad-paid"),
        ],  # fmt: skip
        strategies=[
            dm.Strategy(
                "one-click",
                "One-click pay",
                owner="Ivan",
                impact=8,
                effort=3,
                confidence=6,
                status="planned",
                barriers=["slow-pay", "lost"],
            ),
        ],  # fmt: skip
        experiments=[
            dm.Experiment(
                "ab-pay",
                "one-click",
                "transition-conversion",
                hypothesis="Faster",
                transition="ad-paid",
                segment="new",
                kpi="buyers",
                baseline=0.4,
                baseline_n=100,
                baseline_hits=40,
                target=0.5,
                starts_on="2025-03-01",
                ends_on="2025-03-31",
                result=0.55,
                result_n=120,
                result_hits=66,
                p_value=0.0123,
                status="closed",
                verdict="won",
                learning="People pay if it is quick",
                closed_at="2025-04-01T09:30:00Z",
            ),
        ],  # fmt: skip
        kpis=[
            dm.Kpi(
                "buyers",
                "Buyers",
                "buyers",
                "people",
                values=[
                    dm.KpiValue("2025-03-01", 40.0),
                    dm.KpiValue("2025-04-01", 66.0, "ab-pay"),
                ],
            ),
        ],  # fmt: skip
        notes=[
            dm.Note("learning", "Quick wins", touchpoint="paid", stage="buy", experiment="ab-pay")
        ],  # fmt: skip
    )


def dumps(doc) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2)


def test_plan_sections_follow_the_base_sections(journey):
    doc = to_document(journey)
    assert list(doc) == ["schema", "map", *BASE, *PLAN]
    assert doc["barriers"][0] == {
        "key": "slow-pay", "touchpoint": "paid", "transition": None, "title": "Slow payment",
        "description": "", "type": "technical", "severity": 4, "status": "open",
        "segments": ["new", "b2b"], "evidence": [0, 1],
    }  # fmt: skip
    assert doc["strategies"][0]["barriers"] == ["slow-pay", "lost"]
    assert doc["kpis"][0]["values"][1] == {
        "date": "2025-04-01",
        "value": 66.0,
        "experiment": "ab-pay",
    }
    assert doc["notes"] == [
        {"kind": "learning", "touchpoint": "paid", "stage": "buy", "experiment": "ab-pay",
         "text": "Quick wins"}
    ]  # fmt: skip
    assert '"id"' not in dumps(doc)


def test_round_trip_keeps_every_plan_field(journey):
    doc = to_document(journey)
    again = from_document(json.loads(dumps(doc)))
    assert dumps(to_document(again)) == dumps(doc)
    assert again.experiments[0].p_value == 0.0123
    assert again.barriers[0].evidence == [0, 1]


def test_empty_plan_sections_are_left_out(journey):
    journey.barriers = journey.strategies = journey.experiments = []
    journey.kpis = journey.notes = []
    assert list(to_document(journey)) == ["schema", "map", *BASE]


def test_documents_without_plan_sections_still_read(journey):
    doc = to_document(journey)
    for section in PLAN:
        del doc[section]
    again = from_document(doc)
    assert (again.barriers, again.strategies, again.experiments, again.kpis, again.notes) == (
        [], [], [], [], []
    )  # fmt: skip


def test_minimal_plan_elements_take_defaults(journey):
    doc = to_document(journey)
    doc["barriers"] = [{"key": "b", "title": "B", "type": "price", "touchpoint": "ad"}]
    doc["strategies"] = [{"key": "s", "title": "S"}]
    doc["experiments"] = [{"key": "e", "strategy": "s", "metric": "custom"}]
    doc["kpis"] = [{"key": "k", "name": "K", "values": [{"date": "2025-01-02", "value": 3}]}]
    doc["notes"] = [{"kind": "learning", "text": "T", "stage": "buy"}]
    again = from_document(doc)
    assert (again.barriers[0].severity, again.barriers[0].status, again.barriers[0].evidence) == (
        3, "open", []
    )  # fmt: skip
    assert (again.strategies[0].impact, again.strategies[0].status) == (5, "idea")
    assert (again.experiments[0].status, again.experiments[0].verdict) == ("planned", None)
    assert again.kpis[0].values == [dm.KpiValue("2025-01-02", 3.0)]
    assert isinstance(again.kpis[0].values[0].value, float)
    assert again.notes[0].touchpoint is None


def broken(journey, change):
    doc = copy.deepcopy(to_document(journey))
    change(doc)
    return doc


def at(section: str, index: int, **fields):
    return lambda d: d[section][index].update(fields)


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (at("barriers", 0, touchpoint="x"), "$.barriers[0].touchpoint", "unknown touchpoint 'x'"),
        (at("barriers", 1, transition="x"), "$.barriers[1].transition", "unknown transition 'x'"),
        (
            at("barriers", 0, transition="ad-paid"),
            "$.barriers[0]",
            "sits on a touchpoint or a transition (exactly one)",
        ),
        (
            at("barriers", 1, transition=None),
            "$.barriers[1]",
            "sits on a touchpoint or a transition (exactly one)",
        ),
        (at("barriers", 1, key="slow-pay"), "$.barriers[1].key", "duplicate key 'slow-pay'"),
        (at("barriers", 0, segments=["new", "vip"]), "$.barriers[0].segments[1]",
         "unknown segment 'vip'"),
        (at("barriers", 0, segments=["new", "new"]), "$.barriers[0].segments[1]",
         "'new' is listed twice"),
        (at("barriers", 0, evidence=[1, 2]), "$.barriers[0].evidence[1]",
         "no observation 2: $.evidence has 2"),
        (at("barriers", 0, evidence=[1, 1]), "$.barriers[0].evidence[1]", "1 is listed twice"),
        (at("barriers", 0, evidence=["a"]), "$.barriers[0].evidence[0]",
         "must be a position (0, 1, …)"),
        (at("barriers", 0, segments="new"), "$.barriers[0].segments", "must be a list"),
        (lambda d: d["barriers"][0].pop("type"), "$.barriers[0].type", "required"),
        (at("strategies", 0, barriers=["slow-pay", "x"]), "$.strategies[0].barriers[1]",
         "unknown barrier 'x'"),
        (at("strategies", 0, barriers=[5]), "$.strategies[0].barriers[0]", "must be a key"),
        (at("experiments", 0, strategy="x"), "$.experiments[0].strategy", "unknown strategy 'x'"),
        (at("experiments", 0, kpi="x"), "$.experiments[0].kpi", "unknown KPI 'x'"),
        (at("experiments", 0, stage="x"), "$.experiments[0].stage", "unknown stage 'x'"),
        (at("experiments", 0, touchpoint="x"), "$.experiments[0].touchpoint",
         "unknown touchpoint 'x'"),
        (at("experiments", 0, segment="x"), "$.experiments[0].segment", "unknown segment 'x'"),
        (at("experiments", 0, transition="x"), "$.experiments[0].transition",
         "unknown transition 'x'"),
        (at("experiments", 0, starts_on="2025-02-30"), "$.experiments[0].starts_on",
         "not a date (YYYY-MM-DD): '2025-02-30'"),
        (at("experiments", 0, closed_at="2025-04-01 09:30"), "$.experiments[0].closed_at",
         "not a UTC time (YYYY-MM-DDTHH:MM:SSZ): '2025-04-01 09:30'"),
        (at("experiments", 0, baseline="high"), "$.experiments[0].baseline", "must be a number"),
        (lambda d: d["kpis"][0]["values"][1].update(experiment="x"),
         "$.kpis[0].values[1].experiment", "unknown experiment 'x'"),
        (lambda d: d["kpis"][0]["values"][0].update(date="1.3.2025"),
         "$.kpis[0].values[0].date", "not a date (YYYY-MM-DD): '1.3.2025'"),
        (lambda d: d["kpis"][0]["values"][0].pop("value"), "$.kpis[0].values[0].value",
         "required number"),
        (lambda d: d["kpis"][0]["values"].append(3), "$.kpis[0].values[2]", "must be an object"),
        (at("notes", 0, touchpoint=None, stage=None), "$.notes[0]",
         "needs a touchpoint or a stage"),
        (at("notes", 0, experiment="x"), "$.notes[0].experiment", "unknown experiment 'x'"),
        (at("notes", 0, stage="x"), "$.notes[0].stage", "unknown stage 'x'"),
        (lambda d: d.update(strategies={}), "$.strategies", "must be a list"),
    ],
)  # fmt: skip
def test_bad_plan_references_raise_with_json_paths(journey, change, path, message):
    with pytest.raises(dm.ValidationError) as caught:
        from_document(broken(journey, change))
    assert caught.value.field_errors[path] == message


@pytest.mark.parametrize(
    ("definition", "vocabulary"),
    [
        ("barrierType", dm.BARRIER_TYPES),
        ("barrierStatus", dm.BARRIER_STATUSES),
        ("strategyStatus", dm.STRATEGY_STATUSES),
        ("experimentMetric", dm.EXPERIMENT_METRICS),
        ("experimentStatus", dm.EXPERIMENT_STATUSES),
        ("verdict", (*dm.VERDICTS, None)),
        ("kpiKind", dm.KPI_KINDS),
        ("noteKind", ("learning",)),
    ],
)
def test_schema_enums_equal_the_model(definition, vocabulary):
    assert tuple(SCHEMA_JSON["$defs"][definition]["enum"]) == vocabulary


def test_schema_ranges_equal_the_model():
    severity = SCHEMA_JSON["$defs"]["barrier"]["properties"]["severity"]
    assert (severity["minimum"], severity["maximum"]) == dm.BARRIER_SEVERITY
    ice = SCHEMA_JSON["$defs"]["ice"]
    assert (ice["minimum"], ice["maximum"]) == dm.ICE_RANGE


def test_schema_covers_every_exported_plan_field(journey):
    doc = to_document(journey)
    definitions = {"barriers": "barrier", "strategies": "strategy", "experiments": "experiment"}
    definitions |= {"kpis": "kpi", "notes": "note"}
    for section, definition in definitions.items():
        assert list(doc[section][0]) == list(SCHEMA_JSON["$defs"][definition]["properties"])
        assert section in SCHEMA_JSON["properties"]
    assert list(doc["kpis"][0]["values"][0]) == list(SCHEMA_JSON["$defs"]["kpiValue"]["properties"])
