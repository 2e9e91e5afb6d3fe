"""Mermaid's own parser accepts what the app exports: the `journey` of the main path and the
`flowchart LR` of the graph, for both demo maps and for names built to break a lexer; and Mermaid
draws those names exactly as they were typed. The parser is the real one: the `mermaid` npm
package's browser bundle, vendored with its version in the file name, run in Chromium."""

import json
from pathlib import Path

import pytest

from cjm import documents
from cjm.export import load_formats
from cjm.journey import mermaid
from cjm.journey import model as dm
from cjm.seed import DEMO_FILES
from tests.factories import make_user

pytestmark = pytest.mark.browser

MERMAID = next((Path(__file__).parent / "vendor").glob("mermaid-*.min.js"))
HOSTILE = [
    'Sec"tion [1] #2 ; : % , <b>&amp;</b> `x` {y} |z|',
    "end",
    "section two",
    "Journey",
    "o",
    "x",
    "%%{init: {'theme': 'dark'}}%% comment",
    "#quot; ok",
    "title: x",
    "Шаг «один» — ёж",
    "-->",
    "=cmd|' /C calc'!A0",
    "()[]{}((()))>",
    "accTitle: hi",
    "click t1 call alert()",
    "<img src=x onerror=alert(1)>",
    "% off",
    "Скидка 10% и ещё 5%",
]


@pytest.fixture
def mermaid_page(page):
    """A blank page with Mermaid loaded (no app page: nothing of ours helps the parser)."""
    page.set_content("<!doctype html><html lang=en><title>mermaid</title><body></body></html>")
    page.add_script_tag(content=MERMAID.read_text(encoding="utf-8"))
    page.evaluate("mermaid.initialize({startOnLoad: false, securityLevel: 'strict'})")
    return page


def parse(page, text: str) -> dict:
    """`await mermaid.parse(text)`: {"diagramType": …} or {"error": message}."""
    return page.evaluate(
        """async text => {
            try { return await mermaid.parse(text); }
            catch (e) { return {error: String(e.message || e)}; }
        }""",
        text,
    )


def drawn_text(page, text: str) -> list[str]:
    """The text content of every label Mermaid draws for `text`."""
    return page.evaluate(
        """async text => {
            const {svg} = await mermaid.render('diagram' + Date.now(), text);
            const box = document.createElement('div');
            box.innerHTML = svg;
            document.body.append(box);
            const found = [...box.querySelectorAll('text, span, p')].map(e => e.textContent.trim());
            box.remove();
            return found.filter(Boolean);
        }""",
        text,
    )


def hostile_journey() -> dm.Journey:
    """Every hostile name as a stage, a touchpoint, a transition label and more."""
    n = len(HOSTILE)
    return dm.Journey(
        title='Map #1; "q" %% hi',
        personas=[dm.Persona("p", 'Ann, "B": C; #d', primary=True)],
        stages=[dm.Stage(f"s{i}", name) for i, name in enumerate(HOSTILE)],
        channels=[dm.Channel("c", HOSTILE[0])],
        touchpoints=[
            dm.Touchpoint(
                f"t{i}", f"s{i}", "c", name, kind=dm.TOUCHPOINT_KINDS[i % 5], emotion=i % 5 - 2
            )
            for i, name in enumerate(HOSTILE)
        ],
        transitions=[
            dm.Transition(
                f"e{i}", f"t{i}", f"t{i + 1}", dm.TRANSITION_KINDS[i % 4], HOSTILE[-1 - i], i
            )
            for i in range(n - 1)
        ],
    )


def test_demo_maps_export_text_mermaid_parses(app, mermaid_page):
    formats = load_formats()
    with app.app_context():
        owner = make_user("mermaid@example.com", "Mermaid")
        for path in DEMO_FILES:
            row = documents.import_document(json.loads(path.read_text("utf-8")), owner.id)
            journey_text = formats["mermaid-journey"].render(row.id, {}).decode()
            flowchart_text = formats["mermaid-flowchart"].render(row.id, {}).decode()
            assert parse(mermaid_page, journey_text) == {"diagramType": "journey", "config": {}}
            assert parse(mermaid_page, flowchart_text) == {
                "diagramType": "flowchart-v2",
                "config": {},
            }
            if row.language == "ru":
                labels = drawn_text(mermaid_page, journey_text)
                assert "Осведомлённость" in labels


def test_hostile_names_parse_and_are_drawn_as_typed(mermaid_page):
    journey = hostile_journey()
    journey_text = mermaid.journey_diagram(journey, journey.touchpoints)
    flowchart_text = mermaid.flowchart(journey)
    assert parse(mermaid_page, journey_text)["diagramType"] == "journey"
    assert parse(mermaid_page, flowchart_text)["diagramType"] == "flowchart-v2"
    for text in (journey_text, flowchart_text):
        labels = drawn_text(mermaid_page, text)
        missing = [name for name in HOSTILE if name not in labels]
        assert missing == []
    # Nothing hostile became markup: the <img> is text, not an element.
    assert mermaid_page.locator("img").count() == 0


def test_the_parser_rejects_broken_text(mermaid_page):
    # The check can fail: what naive text would produce is refused (a task without a score,
    # brackets in an unquoted label, a node named "end").
    assert "error" in parse(mermaid_page, "journey\n  section A\n    No score here\n")
    assert "error" in parse(mermaid_page, "flowchart LR\n  t1[a[b]] --> t2\n")
    assert "error" in parse(mermaid_page, 'flowchart LR\n  t1{"a"} --> end\n')


def test_a_text_the_importer_reads_is_one_mermaid_reads(mermaid_page):
    # Round trip: what the app writes, the app and Mermaid both read, with the same names.
    journey = hostile_journey()
    text = mermaid.journey_diagram(journey, journey.touchpoints)
    parsed = mermaid.parse_journey(text)
    assert [s.name for s in parsed.sections] == HOSTILE
    assert "error" not in parse(mermaid_page, text)
