"""Mermaid text of a journey and a journey text read back, and GraphML, without the app."""

import xml.etree.ElementTree as ET

import pytest

from cjm.journey import graphml, mermaid
from cjm.journey import model as dm
from tests.factories import sample_journey

NS = "{http://graphml.graphdrawing.org/xmlns}"


@pytest.mark.parametrize(
    ("emotion", "score"), [(-2, 1), (-1, 2), (0, 3), (1, 4), (2, 5), (None, 3)]
)
def test_score_and_emotion_scales(emotion, score):
    assert mermaid.score_of(emotion) == score
    if emotion is not None:
        assert mermaid.emotion_of(score) == emotion


def test_journey_escapes_what_the_lexer_would_misread():
    assert mermaid.journey_text("Pay: now; #1") == "Pay#58; now#59; #35;1"
    assert mermaid.journey_text("Section two") == "#83;ection two"  # not a section statement
    assert mermaid.journey_text("10% off, today") == "10% off, today"  # kept readable
    assert mermaid.journey_text("%% not a comment") == "#37;#37; not a comment"
    assert mermaid.journey_text("a, b", mermaid.ACTOR_SPECIAL) == "a#44; b"
    assert mermaid.journey_text("two\nlines") == "two lines"
    assert mermaid.label('say "hi" [#1]') == '"say #34;hi#34; [#35;1]"'


def test_main_walk_prefers_the_analytics_path_then_main_transitions():
    journey = sample_journey()
    assert [t.key for t in mermaid.main_walk(journey, ("ad", "cart", "call"))] == [
        "ad",
        "cart",
        "call",
    ]
    # Without volumes: along the "main" transitions from the entry.
    assert [t.key for t in mermaid.main_walk(journey)] == ["ad", "cart", "paid"]
    journey.transitions = []
    assert [t.stage for t in mermaid.main_walk(journey)] == ["aware", "buy", "buy", "buy", "use"]


def test_flowchart_uses_generated_ids_and_shapes():
    text = mermaid.flowchart(sample_journey())
    assert '  subgraph s1 ["Awareness"]' in text
    assert '    t1(["Sees an ad"])' in text and '    t5>"Leaves"]' in text
    assert '  t1 ==>|"100"| t2' in text and '  t4 -.->|"25"| t2' not in text
    assert '  t3 -.->|"25"| t2' in text
    assert "  class t1 entry" in text


def test_parse_reads_comments_front_matter_and_entities():
    parsed = mermaid.parse_journey(
        "---\ntitle: From front matter\n---\njourney\n  %% note\n"
        "  accDescr {\n   several lines\n  }\n"
        "  Before any section: 2\n  section A #58; B  # comment\n    Task#35;1: 5: X, Y\n"
    )
    assert parsed.title == "From front matter"
    assert [(s.name, s.line) for s in parsed.sections] == [("Journey", 9), ("A : B", 10)]
    task = parsed.sections[1].tasks[0]
    assert (task.name, task.score, task.actors, task.line) == ("Task#1", 5, ["X", "Y"], 11)


def test_parse_errors_carry_line_numbers():
    with pytest.raises(mermaid.MermaidError) as e:
        mermaid.parse_journey("journey\n section A\n  no score\n  x: 0\n  y: 2.5\n z; 3\n")
    assert [(n, code) for n, code, _ in e.value.errors] == [
        (3, "task_syntax"),
        (4, "bad_score"),
        (5, "bad_score"),
        (6, "semicolon"),
    ]
    assert e.value.messages()[1] == (4, "the score must be a whole number from 1 to 5, not “0”")
    with pytest.raises(mermaid.MermaidError) as e:
        mermaid.parse_journey("\n\nflowchart LR\n")
    assert e.value.errors == [(3, "no_header", {})]
    with pytest.raises(mermaid.MermaidError) as e:
        mermaid.parse_journey("journey\n  title Only a title\n")
    assert e.value.errors[0][1] == "no_tasks"


def test_graphml_declares_types_and_omits_unknowns():
    journey = sample_journey()
    journey.touchpoints[0].emotion = None
    root = ET.fromstring(graphml.to_graphml(journey, {"ad-cart": 1.0, "cart-paid": None}))
    keys = {k.get("id"): (k.get("for"), k.get("attr.name"), k.get("attr.type")) for k in root}
    assert ("node", "emotion", "int") in keys.values()
    assert ("edge", "conversion", "double") in keys.values()
    graph = root.find(f"{NS}graph")
    assert graph.get("edgedefault") == "directed"
    ad = graph.find(f"{NS}node[@id='ad']")
    names = {keys[d.get("key")][1]: d.text for d in ad}
    assert "emotion" not in names and names["stage_index"] == "0" and names["name"] == "Sees an ad"
    edge = graph.find(f"{NS}edge[@id='ad-cart']")
    assert {keys[d.get("key")][1]: d.text for d in edge}["conversion"] == "1.0"


def test_graphml_survives_control_characters():
    journey = dm.Journey(
        title="x\x00y",
        stages=[dm.Stage("s", "S")],
        channels=[dm.Channel("c", "C")],
        touchpoints=[dm.Touchpoint("t", "s", "c", "bad\x07name")],
    )
    root = ET.fromstring(graphml.to_graphml(journey))
    assert "badname" in "".join(root.itertext())
