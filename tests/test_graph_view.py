"""The graph view: the journey as an accessible SVG with its path checks, page or htmx fragment."""

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import event, select

from cjm import store
from cjm.extensions import db
from cjm.journey import model as dm
from cjm.models import Channel, Stage, Touchpoint, Transition
from tests.conftest import sign_in
from tests.factories import add_member, make_map, make_user, sample_journey
from tests.journey.test_graph import big_journey


def page(client, journey_row, path=None, **headers):
    query = {"path": path} if path is not None else {}
    response = client.get(f"/maps/{journey_row.id}/graph", query_string=query, headers=headers)
    assert response.status_code == 200
    return BeautifulSoup(response.text, "html.parser")


def svg(soup):
    return soup.find("svg", class_="journey-graph")


def add_touchpoint(journey_row, key, name, stage="buy", channel="call", kind="step"):
    """A touchpoint row straight through the models (as another editor's write would leave it)."""
    stage_id = db.session.scalar(select(Stage.id).filter_by(journey_id=journey_row.id, key=stage))
    channel_id = db.session.scalar(
        select(Channel.id).filter_by(journey_id=journey_row.id, key=channel)
    )
    row = Touchpoint(
        journey_id=journey_row.id,
        key=key,
        name=name,
        kind=kind,
        stage_id=stage_id,
        channel_id=channel_id,
    )
    db.session.add(row)
    db.session.commit()
    return row


def connect(journey_row, source_key, target_row, kind="alternative"):
    source_id = db.session.scalar(
        select(Touchpoint.id).filter_by(journey_id=journey_row.id, key=source_key)
    )
    db.session.add(
        Transition(
            journey_id=journey_row.id,
            key=f"{source_key}-{target_row.key}",
            kind=kind,
            source_id=source_id,
            target_id=target_row.id,
        )
    )
    db.session.commit()


def test_page_has_header_and_one_node_per_touchpoint(owner_client, journey):
    soup = page(owner_client, journey)
    assert soup.select_one("header.map-head h1").text == "Online shop"
    assert soup.select_one('nav.tabs a[aria-current="page"]').text == "Graph"
    nodes = svg(soup).select("g.node")
    assert sorted(n["data-key"] for n in nodes) == ["ad", "call", "cart", "gone", "paid"]
    kinds = {n["data-key"]: set(n["class"]) for n in nodes}
    assert "node-decision" in kinds["cart"] and "node-entry" in kinds["ad"]
    assert svg(soup).select_one("#node-cart polygon") is not None  # decisions are diamonds


def test_one_edge_per_transition_with_kind_classes(owner_client, journey):
    drawing = svg(page(owner_client, journey))
    edges = drawing.select("g.edge")
    kinds = {e["id"]: next(c for c in e["class"] if c.startswith("edge-")) for e in edges}
    assert kinds == {
        "edge-ad-cart": "edge-main",
        "edge-cart-paid": "edge-main",
        "edge-cart-call": "edge-alternative",
        "edge-call-cart": "edge-loop",
        "edge-cart-gone": "edge-drop-out",
    }
    main = drawing.select_one("#edge-ad-cart path")
    assert main["marker-end"] == "url(#graph-arrow-main)"
    assert main.get("stroke-dasharray") is None
    loop = drawing.select_one("#edge-call-cart path")
    assert loop["marker-end"] == "url(#graph-arrow-loop)" and loop["stroke-dasharray"]
    assert float(main["stroke-width"]) > float(loop["stroke-width"])  # volume 100 against 25
    # Only the volume is drawn; the condition is in the edge's tooltip and the table.
    assert drawing.select_one('text.edge-label[data-edge="cart-call"]').get_text() == "30"
    assert "Has a question" in drawing.select_one("#edge-cart-call title").text


def test_svg_is_accessible(owner_client, journey):
    drawing = svg(page(owner_client, journey))
    assert drawing["role"] == "img"
    for ref in drawing["aria-labelledby"].split():
        assert drawing.find(id=ref) is not None
    assert "Online shop" in drawing.find(id="graph-title").text
    assert {m["id"] for m in drawing.select("defs marker")} >= {
        "graph-arrow-main",
        "graph-arrow-alternative",
        "graph-arrow-loop",
        "graph-arrow-drop-out",
    }
    assert drawing.select_one("#edge-cart-call title").text.startswith(
        "Fills the cart → Calls to ask"
    )
    assert [t.contents[0] for t in drawing.select("text.stage-name")] == [
        "Awareness",
        "Purchase",
        "Use",
    ]
    assert [
        " ".join(s.text for s in t.select("tspan")) for t in drawing.select("text.channel-name")
    ] == [
        "Website",
        "Call centre",
    ]


def test_valid_map_shows_no_warnings(owner_client, journey):
    soup = page(owner_client, journey)
    assert soup.select(".graph-warnings li.warning") == []
    assert soup.select_one(".graph-warnings .ok") is not None
    assert soup.select_one(".graph-legend") is not None


def test_dead_end_is_warned_with_a_link_to_the_board(owner_client, journey):
    faq = add_touchpoint(journey, "faq", "Reads the FAQ")
    connect(journey, "cart", faq)
    soup = page(owner_client, journey)
    [warning] = soup.select(".graph-warnings li.warning")
    assert warning["data-code"] == "dead_end"
    assert "Reads the FAQ" in warning.p.text and "dead end" in warning.p.text
    assert warning.a["href"] == f"/maps/{journey.id}/board#tp-faq"
    assert len(svg(soup).select("g.node")) == 6


def test_viewer_can_see_it(client, journey):
    viewer = make_user("viewer@example.com", "Vera Viewer")
    add_member(journey, viewer, "viewer")
    sign_in(client, viewer)
    assert len(svg(page(client, journey)).select("g.node")) == 5


def test_non_member_gets_404(client, journey):
    sign_in(client, make_user("stranger@example.com", "Stan"))
    assert client.get(f"/maps/{journey.id}/graph").status_code == 404


def test_signed_out_is_sent_to_sign_in(client, journey):
    response = client.get(f"/maps/{journey.id}/graph")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_htmx_request_gets_the_self_refreshing_fragment(owner_client, journey):
    response = owner_client.get(f"/maps/{journey.id}/graph", headers={"HX-Request": "true"})
    soup = BeautifulSoup(response.text, "html.parser")
    roots = [el for el in soup.contents if el.name]
    assert [r.get("id") for r in roots] == ["graph"]
    root = roots[0]
    assert root["hx-get"] == f"/maps/{journey.id}/graph"
    assert root["hx-trigger"] == "journey-changed from:body"
    assert (root["hx-target"], root["hx-swap"]) == ("this", "outerHTML")
    assert soup.find("header", class_="map-head") is None
    assert len(root.select("svg g.node")) == 5
    assert "HX-Request" in response.headers["Vary"]


def test_full_page_carries_the_same_refreshing_element(owner_client, journey):
    root = page(owner_client, journey).find(id="graph")
    assert root["hx-trigger"] == "journey-changed from:body"


def test_user_text_is_escaped(owner_client, owner):
    journey = sample_journey()
    journey.touchpoints[2].name = "<script>alert(1)</script>"
    journey.transitions[2].label = "<b>why</b>"
    row = make_map(owner, journey)
    soup = page(owner_client, row)
    assert soup.find("script", string="alert(1)") is None
    assert soup.find("b", string="why") is None
    node = svg(soup).select_one("#node-call")
    assert node.select_one("text.name").get_text() == "<script>alert(1)</script>"
    assert node.title.text.startswith("<script>alert(1)</script>")
    assert "<b>why</b>" in svg(soup).select_one("#edge-cart-call title").text
    rows = [[td.text for td in tr.select("td")] for tr in soup.select(".graph-list tbody tr")]
    assert [
        "Fills the cart",
        "<script>alert(1)</script>",
        "Alternative",
        "<b>why</b>",
        "30",
    ] in rows


def test_empty_map_tells_to_add_touchpoints_on_the_board(owner_client, owner):
    row = make_map(owner, store.dm.Journey("Blank", stages=[store.dm.Stage("a", "A")]))
    soup = page(owner_client, row)
    assert svg(soup) is None
    empty = soup.select_one("#graph .empty")
    assert empty.a["href"] == f"/maps/{row.id}/board"


def test_hidden_touchpoints_are_not_drawn(owner_client, journey, owner):
    call = db.session.scalar(select(Touchpoint).filter_by(journey_id=journey.id, key="call"))
    store.soft_delete([call], journey.id, owner.id, "Calls to ask")
    db.session.commit()
    drawing = svg(page(owner_client, journey))
    assert len(drawing.select("g.node")) == 4
    assert drawing.select_one("#edge-cart-call") is None


@pytest.fixture
def count_queries(app):
    counted = []

    def before(conn, cursor, statement, parameters, context, executemany):
        counted.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", before)
        yield counted
        event.remove(db.engine, "before_cursor_execute", before)


def test_big_map_renders_with_as_few_queries_as_a_small_one(
    owner_client, journey, owner, count_queries
):
    ids = [journey.id, make_map(owner, big_journey()).id]  # read now: commits expire the rows
    counts = []
    for map_id in ids:
        owner_client.get(f"/maps/{map_id}/graph")  # warm up: the signed-in user, the session
        count_queries.clear()
        response = owner_client.get(f"/maps/{map_id}/graph")
        counts.append(len(count_queries))
    assert counts[0] == counts[1]  # no query per touchpoint or transition
    drawing = svg(BeautifulSoup(response.text, "html.parser"))
    assert len(drawing.select("g.node")) == 400
    assert len(drawing.select("g.edge")) == 600


def test_graph_gets_the_full_width_in_a_keyboard_scrollable_box(owner_client, journey):
    soup = page(owner_client, journey)
    root = soup.find(id="graph")
    canvas = root.select_one(".graph-canvas")
    assert canvas["tabindex"] == "0" and canvas["role"] == "region" and canvas["aria-label"]
    assert canvas.find("svg", class_="journey-graph") is not None
    # Checks above the drawing and the legend below it, not in a column beside it.
    order = [el.get("class", [None])[0] for el in root.find_all(recursive=False)]
    assert order.index("graph-warnings") < order.index("graph-canvas") < order.index("graph-legend")


def test_long_names_are_cut_with_the_full_name_in_the_tooltip(owner_client, owner):
    journey = sample_journey()
    journey.touchpoints[
        2
    ].name = "Calls the shop to ask whether the headphones fit an old phone model"
    soup = page(owner_client, make_map(owner, journey))
    node = svg(soup).select_one("#node-call")
    lines = [t.text for t in node.select("text.name tspan")]
    assert 2 <= len(lines) <= 3 and lines[-1].endswith("…")
    assert node.title.text.startswith(journey.touchpoints[2].name)


# --- drop-offs and a chosen path ----------------------------------------------------------------


def test_touchpoints_that_lose_customers_carry_their_drop_off(owner_client, journey):
    drawing = svg(page(owner_client, journey))
    badges = {
        g.find_parent("g", class_="node")["data-key"]: g for g in drawing.select(".drop-badge")
    }
    # cart: 100 in + 25 back from the call = 125, 40 + 30 go on: 55 lost; call: 30 − 25 = 5.
    assert {k: b["data-drop"] for k, b in badges.items()} == {"cart": "55", "call": "5"}
    assert badges["cart"].text.strip() == "−55"
    assert "worst-drop" in drawing.select_one("#node-cart")["class"]
    assert "worst-drop" not in drawing.select_one("#node-call")["class"]
    assert "drop-off 55" in drawing.select_one("#node-cart title").text
    legend = page(owner_client, journey).select_one(".graph-legend")
    assert legend.select_one(".drop-badge") and legend.select_one(".path-halo")


def test_without_a_chosen_path_nothing_is_highlighted(owner_client, journey):
    soup = page(owner_client, journey)
    assert "has-path" not in svg(soup)["class"]
    assert not svg(soup).select(".on-path") and soup.select_one("#path-problem") is None
    picker = soup.select_one("form.path-picker")
    assert picker["method"] == "get" and picker["action"].startswith(f"/maps/{journey.id}/graph")
    assert picker.select_one("option[selected]")["value"] == ""
    assert picker.select_one("label")["for"] == picker.select_one("select")["id"]
    assert soup.select_one("#clear-path") is None


def highlighted(soup):
    drawing = svg(soup)
    edges = [g["id"].removeprefix("edge-") for g in drawing.select("g.edge.on-path")]
    halo = [p["data-edge"] for p in drawing.select(".path-halo path[data-edge]")]
    nodes = {
        g["data-key"]: g.select_one(".path-step text").text
        for g in drawing.select("g.node.on-path")
    }
    return edges, halo, nodes


def test_the_main_path_is_highlighted_with_numbered_steps(owner_client, journey):
    soup = page(owner_client, journey, path="main")
    assert "has-path" in svg(soup)["class"]
    edges, halo, nodes = highlighted(soup)
    assert edges == halo == ["ad-cart", "cart-paid"]
    assert nodes == {"ad": "1", "cart": "2", "paid": "3"}
    panel = soup.select_one("#chosen-path")
    assert panel.h2.text == "Highlighted: Main path"
    assert [li["data-key"] for li in panel.select("#chosen-path-steps li")] == [
        "ad",
        "cart",
        "paid",
    ]
    assert "40 customers walked all of it" in panel.select_one(".path-figures").text
    assert panel.select_one("option[selected]")["value"] == "main"
    assert panel.select_one("#clear-path")["href"] == f"/maps/{journey.id}/graph"


def test_the_most_painful_path_can_be_chosen(owner_client, journey):
    soup = page(owner_client, journey, path="painful")
    assert soup.select_one("#chosen-path h2").text == "Highlighted: Most painful path"
    assert highlighted(soup)[0] == ["ad-cart", "cart-paid"]  # the only entry→goal path
    assert "mean emotion +1" in soup.select_one(".path-figures").text  # (1 + 0 + 2) / 3


def test_a_path_from_the_analytics_list_opens_highlighted_without_javascript(owner_client, owner):
    journey = sample_journey()
    journey.transitions.append(dm.Transition("call-paid", "call", "paid", "alternative", volume=5))
    row = make_map(owner, journey)
    analytics = BeautifulSoup(owner_client.get(f"/maps/{row.id}/analytics").text, "html.parser")
    link = next(
        a["href"]
        for tr in analytics.select("#paths-table tbody tr")
        if tr["data-transitions"] == "ad-cart.cart-call.call-paid"
        for a in tr.select("a.graph-link")
    )
    response = owner_client.get(link)
    assert response.status_code == 200
    soup = BeautifulSoup(response.text, "html.parser")
    edges, _, nodes = highlighted(soup)
    assert edges == ["ad-cart", "cart-call", "call-paid"]
    assert nodes == {"ad": "1", "cart": "2", "call": "3", "paid": "4"}
    assert soup.select_one("#chosen-path h2").text == "Highlighted: Chosen path"
    assert (
        soup.select_one("#chosen-path option[selected]")["value"] == "ad-cart.cart-call.call-paid"
    )
    # The self-refreshing fragment keeps the chosen path.
    root = soup.select_one("section#graph")
    assert root["hx-get"] == f"/maps/{row.id}/graph?path=ad-cart.cart-call.call-paid"


@pytest.mark.parametrize(
    "param",
    ["ad-cart.nope", "ad-cart.call-cart", "." * 10, "x" * 5000],
    ids=["unknown key", "not joined up", "empty keys", "too long"],
)
def test_a_path_that_is_not_on_the_map_says_so_and_highlights_nothing(owner_client, journey, param):
    soup = page(owner_client, journey, path=param)
    assert "not on the map any more" in soup.select_one("#path-problem").text
    assert "has-path" not in svg(soup)["class"] and not svg(soup).select(".on-path")


def test_named_paths_the_map_does_not_have_yet_say_what_is_missing(owner_client, owner):
    journey = sample_journey()
    for tp in journey.touchpoints:
        tp.emotion = None
    for tr in journey.transitions:
        tr.volume = None
    row = make_map(owner, journey)
    assert (
        "No main path yet" in page(owner_client, row, path="main").select_one("#path-problem").text
    )
    painful = page(owner_client, row, path="painful").select_one("#path-problem").text
    assert "No most painful path yet" in painful


def test_chosen_path_names_are_escaped(owner_client, owner):
    journey = sample_journey()
    journey.touchpoints[1].name = "<img src=x onerror=alert(1)>"
    soup = page(owner_client, make_map(owner, journey), path="main")
    steps = soup.select_one("#chosen-path-steps")
    assert steps.find("img") is None and "<img" in steps.get_text()
