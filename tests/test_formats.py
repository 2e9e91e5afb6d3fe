"""Open export formats: GraphML read back by igraph and networkx with typed attributes, CSV as
Excel opens it (BOM, ";" with decimal commas, no formula injection), Mermaid text, standalone
SVG and PNG pictures, the download route's file names, and `flask map export`."""

import csv
import io
import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from urllib.parse import unquote

import igraph
import networkx as nx
import pytest
from bs4 import BeautifulSoup
from PIL import Image

from cjm import documents
from cjm.export import csv_tables, images, load_formats
from cjm.extensions import db
from cjm.journey import model as dm
from cjm.models import Barrier, Strategy, StrategyBarrier, Touchpoint
from cjm.routes.formats import content_disposition
from cjm.seed import DEMO_FILES
from tests.factories import make_map, sample_journey

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
SVG = "{http://www.w3.org/2000/svg}"


def get(client, map_id, fmt, **args):
    """Download map_id as fmt (200 expected) and return the response."""
    response = client.get(f"/maps/{map_id}/export/{fmt}", query_string=args)
    assert response.status_code == 200, response.status_code
    return response


def rows(data: bytes, separator: str = ",") -> list[list[str]]:
    """A CSV file as Excel would read it: BOM first, then rows."""
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=separator))


def as_dicts(data: bytes, separator: str = ",") -> list[dict]:
    header, *body = rows(data, separator)
    return [dict(zip(header, r, strict=True)) for r in body]


@pytest.fixture
def ru_map(ctx, owner):
    """The Russian demo map."""
    doc = json.loads(DEMO_FILES[1].read_text("utf-8"))
    return documents.import_document(doc, owner.id)


# --- GraphML ------------------------------------------------------------------------------------


def test_graphml_reads_in_igraph_with_typed_attributes(owner_client, journey, tmp_path):
    data = get(owner_client, journey.id, "graphml").data
    path = tmp_path / "map.graphml"
    path.write_bytes(data)
    # The declared types, as other tools see them.
    keys = {
        (k.get("for"), k.get("attr.name")): k.get("attr.type")
        for k in ET.fromstring(data).iter("{http://graphml.graphdrawing.org/xmlns}key")
    }
    assert keys[("node", "emotion")] == "int"
    assert keys[("node", "stage_index")] == "int"
    assert keys[("edge", "volume")] == "int"
    assert keys[("edge", "conversion")] == "double"
    assert (
        keys[("node", "stage")] == keys[("node", "channel")] == keys[("node", "kind")] == "string"
    )

    g = igraph.Graph.Read_GraphML(str(path))
    assert g.is_directed() and g.vcount() == 5 and g.ecount() == 5
    by_id = {v["id"]: v for v in g.vs}
    cart = by_id["cart"]
    assert (
        cart["name"] == "Fills the cart" and cart["stage"] == "buy" and cart["kind"] == "decision"
    )
    assert cart["channel"] == "web" and cart["channel_name"] == "Website"
    assert cart["stage_name"] == "Purchase" and cart["stage_index"] == 1
    assert by_id["gone"]["emotion"] == -2 and isinstance(by_id["gone"]["emotion"], float)
    edges = {e["key"]: e for e in g.es}
    assert edges["cart-paid"]["volume"] == 40
    assert edges["cart-paid"]["conversion"] == pytest.approx(40 / 125)  # 100 in + 25 back
    assert edges["cart-call"]["label"] == "Has a question"
    assert g.vs[edges["ad-cart"].source]["id"] == "ad"


def test_graphml_reads_in_networkx_and_leaves_unknowns_out(owner_client, owner, tmp_path):
    journey = sample_journey()
    journey.touchpoints[0].emotion = None
    journey.transitions[0].volume = None
    # A parallel transition: both stay, as separate edges.
    journey.transitions.append(dm.Transition("ad-cart-2", "ad", "cart", "alternative", volume=7))
    row = make_map(owner, journey)
    path = tmp_path / "map.graphml"
    path.write_bytes(get(owner_client, row.id, "graphml").data)
    g = nx.read_graphml(path)
    assert isinstance(g, nx.MultiDiGraph) and g.number_of_edges() == 6
    assert g.nodes["cart"]["emotion"] == 0 and type(g.nodes["cart"]["emotion"]) is int
    assert "emotion" not in g.nodes["ad"]
    volumes = sorted(d.get("volume", -1) for _, _, d in g.edges("ad", data=True))
    assert volumes == [-1, 7]
    assert type(g.graph["title"]) is str and g.graph["title"] == "Online shop"
    # igraph reads a missing number as NaN, not as 0.
    ig = igraph.Graph.Read_GraphML(str(path))
    ad = next(v for v in ig.vs if v["id"] == "ad")
    assert ad["emotion"] != ad["emotion"]


def test_graphml_keeps_cyrillic_and_hostile_text(owner_client, ru_map, tmp_path, ctx):
    tp = db.session.scalars(db.select(Touchpoint).filter_by(journey_id=ru_map.id)).first()
    tp.name = 'Шаг <b>&"\x01'
    db.session.commit()
    path = tmp_path / "ru.graphml"
    path.write_bytes(get(owner_client, ru_map.id, "graphml").data)
    g = igraph.Graph.Read_GraphML(str(path))
    assert 'Шаг <b>&"' in g.vs["name"]
    assert "Осведомлённость" in g.vs["stage_name"]


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_tables_with_bom_and_both_dialects(owner_client, journey):
    comma = as_dicts(get(owner_client, journey.id, "csv", table="transitions").data)
    assert comma[1]["key"] == "cart-paid" and comma[1]["conversion"] == "0.32"
    semi = get(owner_client, journey.id, "csv", table="transitions", separator=";")
    assert semi.mimetype == "text/csv"
    semi_rows = as_dicts(semi.data, ";")
    assert semi_rows[1]["conversion"] == "0,32"  # Russian-locale Excel's decimal comma
    assert semi.data.count(b"\r\n") == len(semi_rows) + 1  # CRLF, as Excel writes
    touchpoints = as_dicts(get(owner_client, journey.id, "csv", table="touchpoints").data)
    gone = next(t for t in touchpoints if t["key"] == "gone")
    assert gone["emotion"] == "-2"  # a number in a numeric column stays a number
    assert gone["stage_name"] == "Purchase" and gone["channel_name"] == "Website"


def test_csv_neutralises_formulas_in_text_cells(owner_client, journey, ctx):
    hostile = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR", "ok -1"]
    tps = db.session.scalars(
        db.select(Touchpoint).filter_by(journey_id=journey.id).order_by(Touchpoint.id)
    ).all()
    for tp, text in zip(tps, hostile, strict=False):
        tp.name = text
    tps[0].thought = "=cmd|' /C calc'!A0"
    db.session.commit()
    for separator in (",", ";"):
        data = get(owner_client, journey.id, "csv", table="touchpoints", separator=separator).data
        found = as_dicts(data, separator)
        names = [t["name"] for t in found]
        assert names == ["'" + t for t in hostile[:5]]
        assert found[0]["thought"] == "'=cmd|' /C calc'!A0"
        assert all(t["emotion"].lstrip("-").isdigit() for t in found)


def test_csv_neutralise_rule():
    assert csv_tables.neutralise("=1+2") == "'=1+2"
    assert csv_tables.neutralise("a=1") == "a=1"
    assert csv_tables.cell(-2, ";") == "-2"
    assert csv_tables.cell(-0.25, ";") == "-0,25"
    assert csv_tables.cell("-0.25", ",") == "'-0.25"  # text that looks like a number is text
    assert csv_tables.cell(None, ",") == ""


def test_csv_zip_holds_every_table_strategies_and_evidence(owner_client, journey, ctx):
    cart = db.session.scalar(db.select(Touchpoint).filter_by(journey_id=journey.id, key="cart"))
    barrier = Barrier(
        journey_id=journey.id, key="fees", title="Hidden fees", type="price", touchpoint_id=cart.id
    )
    strategy = Strategy(
        journey_id=journey.id, key="show", title="Show fees early", impact=8, confidence=5, effort=3
    )
    db.session.add_all([barrier, strategy])
    db.session.flush()
    db.session.add(StrategyBarrier(strategy_id=strategy.id, barrier_id=barrier.id))
    db.session.commit()
    response = get(owner_client, journey.id, "csv-semicolon")
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.namelist() == [f"{t}.csv" for t in csv_tables.TABLES]
    strategies = as_dicts(archive.read("strategies.csv"), ";")
    assert strategies == [
        {
            "key": "show",
            "title": "Show fees early",
            "status": "idea",
            "owner": "",
            "impact": "8",
            "confidence": "5",
            "effort": "3",
            "ice": str(8 * 5 * (11 - 3)),
            "barriers": "fees",
            "description": "",
        }
    ]
    barriers = as_dicts(archive.read("barriers.csv"), ";")
    assert barriers[0]["touchpoint"] == "cart" and barriers[0]["stage"] == "buy"
    assert "," in barriers[0]["priority"] or barriers[0]["priority"].isdigit()
    assert rows(archive.read("evidence.csv"), ";")[0][:3] == ["id", "touchpoint", "stage"]


def test_csv_of_the_russian_map_reads_back_in_cyrillic(owner_client, ru_map):
    data = get(owner_client, ru_map.id, "csv", table="evidence", separator=";").data
    found = as_dicts(data, ";")
    assert found and any("наушник" in o["verbatim"].lower() for o in found)
    stages = {
        t["stage_name"]
        for t in as_dicts(get(owner_client, ru_map.id, "csv", table="touchpoints").data)
    }
    assert "Осведомлённость" in stages


@pytest.mark.parametrize(
    ("args", "status"),
    [({"table": "personas"}, 404), ({"separator": "|"}, 400), ({"table": "barriers"}, 200)],
)
def test_csv_arguments_are_checked(owner_client, journey, args, status):
    assert owner_client.get(f"/maps/{journey.id}/export/csv", query_string=args).status_code == (
        status
    )


def test_unknown_format_is_404(owner_client, journey):
    assert owner_client.get(f"/maps/{journey.id}/export/docx").status_code == 404


# --- Mermaid ------------------------------------------------------------------------------------


def test_mermaid_journey_is_the_main_path_scored_from_emotion(owner_client, journey):
    response = get(owner_client, journey.id, "mermaid-journey")
    assert response.mimetype == "text/vnd.mermaid"
    assert response.data.decode().splitlines() == [
        "journey",
        "  title Online shop",
        "  section Awareness",
        "    Sees an ad: 4: Anna",
        "  section Purchase",
        "    Fills the cart: 3: Anna",
        "  section Use",
        "    Pays: 5: Anna",
    ]


def test_mermaid_flowchart_has_every_touchpoint_and_transition(owner_client, journey):
    text = get(owner_client, journey.id, "mermaid-flowchart").data.decode()
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    assert '    t2{"Fills the cart"}' in lines and '    t4[["Pays"]]' in lines
    assert '  t2 -->|"Has a question · 30"| t3' in lines
    assert '  t2 --x|"30"| t5' in lines
    assert sum(1 for ln in lines if ln.strip() == "end") == 3


# --- pictures -----------------------------------------------------------------------------------


def standalone(data: bytes) -> ET.Element:
    """Parse an SVG file and check it stands alone: no script, no link, no external reference."""
    root = ET.fromstring(data)
    assert root.tag == f"{SVG}svg"
    for el in root.iter():
        assert el.tag not in (f"{SVG}script", f"{SVG}image", f"{SVG}foreignObject")
        for name, value in el.attrib.items():
            assert "href" not in name
            assert "url(" not in value or value.startswith("url(#")
    style = root.find(f"{SVG}style").text
    assert "DejaVu Sans" in style and "@import" not in style and "url(" not in style
    return root


@pytest.mark.parametrize("fmt", ["graph-svg", "board-svg"])
def test_svg_is_standalone_and_escapes_names(owner_client, journey, ctx, fmt):
    cart = db.session.scalar(db.select(Touchpoint).filter_by(journey_id=journey.id, key="cart"))
    cart.name = "<script>alert(1)</script> & Ко"
    db.session.commit()
    response = get(owner_client, journey.id, fmt)
    assert response.mimetype == "image/svg+xml"
    root = standalone(response.data)
    text = "".join(root.itertext())
    assert "<script>alert(1)" in text  # as text, the parser found no element


@pytest.mark.parametrize("fmt", ["graph-png", "board-png"])
def test_png_is_a_real_picture_of_the_map(owner_client, ru_map, fmt):
    svg = get(owner_client, ru_map.id, fmt.replace("png", "svg")).data
    width = float(ET.fromstring(svg).get("width"))
    data = get(owner_client, ru_map.id, fmt).data
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"export-{fmt}.png").write_bytes(data)
    image = Image.open(io.BytesIO(data)).convert("RGB")
    assert abs(image.width - 2 * width) <= 2  # 2 px per SVG px
    # Not blank: plenty of distinct colours (bands, node fills, emotion badges, text).
    assert len(image.getcolors(maxcolors=1 << 20)) > 50
    # The layout has one column per stage: along the top edge the two band colours alternate.
    bands = {(247, 248, 250), (238, 241, 245)}
    runs = []
    for x in range(image.width):
        colour = image.getpixel((x, 6))
        if colour in bands and (not runs or runs[-1] != colour):
            runs.append(colour)
    assert len(runs) == 6  # the Russian demo map's six stages


# --- download names, the formats page, the CLI ---------------------------------------------------


def test_file_name_has_an_ascii_fallback_and_rfc_5987_utf8(owner_client, ru_map):
    header = get(owner_client, ru_map.id, "csv", table="touchpoints").headers["Content-Disposition"]
    parts = dict(p.strip().split("=", 1) for p in header.split(";")[1:])
    assert parts["filename"] == '"pokupka-besprovodnykh-naushnikov-onlain-touchpoints.csv"'
    assert parts["filename*"].startswith("UTF-8''")
    assert (
        unquote(parts["filename*"][7:]) == "Покупка беспроводных наушников онлайн - touchpoints.csv"
    )
    assert content_disposition("Plain", ".svg") == 'attachment; filename="plain.svg"'
    assert content_disposition('Путь a/b"c', ".mmd").endswith(
        "UTF-8''%D0%9F%D1%83%D1%82%D1%8C%20a_b_c.mmd"
    )


def test_formats_page_links_every_format_and_table(owner_client, journey):
    response = owner_client.get(f"/maps/{journey.id}/formats")
    assert response.status_code == 200
    soup = BeautifulSoup(response.data, "html.parser")
    hrefs = {a["href"] for a in soup.select("a[download]")}
    for name in load_formats():
        if name != "csv-semicolon":
            assert f"/maps/{journey.id}/export/{name}" in {h.split("?")[0] for h in hrefs}
    assert f"/maps/{journey.id}/export/csv?table=evidence&separator=;" in hrefs
    assert soup.select_one("#mermaid-journey").text.startswith("journey\n")
    for href in sorted(hrefs):
        if "/export/pdf" not in href:  # the poster has its own tests
            assert owner_client.get(href).status_code == 200, href


def test_cli_exports_a_csv_table_and_graphml(app, journey, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "tp.csv"
    result = runner.invoke(
        args=["map", "export", str(journey.id), "--format", "csv", "--table", "touchpoints",
              "--separator", ";", "--out", str(out)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert as_dicts(out.read_bytes(), ";")[0]["key"] == "ad"
    result = runner.invoke(args=["map", "export", str(journey.id), "--format", "csv", "--out",
                                 str(tmp_path / "all.zip")])  # fmt: skip
    assert result.exit_code == 0 and zipfile.is_zipfile(tmp_path / "all.zip")
    result = runner.invoke(args=["map", "export", str(journey.id), "--format", "graphml"])
    assert result.exit_code == 0 and "<graphml" in result.stdout


def test_the_rasteriser_loads_nothing_but_the_picture():
    fetcher = images.PictureFetcher(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert fetcher.fetch(images.PICTURE_URL).read() == b"<svg xmlns='http://www.w3.org/2000/svg'/>"
    for url in ("file:///etc/passwd", "http://127.0.0.1:1/x.png", "http://169.254.169.254/latest"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
        with pytest.raises(ValueError):
            fetcher.open(url)
    rect = '<rect width="40" height="20" fill="#123456"/>'
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">{rect}</svg>'
    image = Image.open(io.BytesIO(images.png_of(svg))).convert("RGB")
    assert image.size == (80, 40) and image.getpixel((40, 20)) == (0x12, 0x34, 0x56)
    # A picture with a reference (ours never has one) loads nothing: the reference is refused
    # and the rest is drawn.
    hostile = svg.replace(rect, '<image href="file:///etc/passwd" width="9" height="9"/>' + rect)
    fetcher = images.PictureFetcher(hostile.encode())
    image = Image.open(io.BytesIO(images.png_of(hostile, fetcher))).convert("RGB")
    assert fetcher.refused == ["file:///etc/passwd"]
    assert image.getcolors() == [(80 * 40, (0x12, 0x34, 0x56))]
