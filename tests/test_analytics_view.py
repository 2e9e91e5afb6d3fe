"""The journey analytics page: figures in accessible tables, an SVG funnel, empty states, access."""

from functools import partial

import pytest
from bs4 import BeautifulSoup

from cjm.journey import analytics
from cjm.journey import model as dm
from tests.conftest import sign_in
from tests.factories import add_member, make_map, make_user, sample_journey
from tests.journey.test_analytics import ladder


def page(client, journey_row):
    response = client.get(f"/maps/{journey_row.id}/analytics")
    assert response.status_code == 200
    return BeautifulSoup(response.text, "html.parser")


def rows(soup, table_id):
    """Each body row of a table as its cell texts, stripped."""
    return [
        [c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])]
        for tr in soup.select(f"#{table_id} tbody tr")
    ]


def test_page_has_the_map_header_and_every_section(owner_client, journey):
    soup = page(owner_client, journey)
    assert soup.select_one("header.map-head h1").text == "Online shop"
    assert soup.select_one("main h2").text == "Journey analytics"
    for section in (
        "summary",
        "funnel",
        "losses",
        "main-path",
        "painful-path",
        "bottlenecks",
        "dead-ends",
        "loops",
        "figures",
    ):
        assert soup.select_one(f"section#{section} h3"), section
    assert soup.select_one("#no-volumes") is None


def test_funnel_table_and_chart_agree_with_the_volumes(owner_client, journey):
    soup = page(owner_client, journey)
    assert rows(soup, "funnel-table") == [
        ["Awareness", "100", "—", "100%", "0"],
        ["Purchase", "100", "100%", "100%", "60"],
        ["Use", "40", "40%", "40%", "0"],
    ]
    assert soup.select_one("#funnel-table caption").text
    assert [th["scope"] for th in soup.select("#funnel-table thead th")] == ["col"] * 5
    assert soup.select_one("#funnel-table tr.worst")["data-stage"] == "buy"
    assert "Purchase" in soup.select_one("#worst-stage").text
    chart = soup.select_one("svg.funnel-chart")
    assert chart["role"] == "img" and chart.find("title").text
    bars = chart.select("g.funnel-bar")
    assert [b["data-stage"] for b in bars] == ["aware", "buy", "use"]
    widths = [float(b.rect["width"]) for b in bars]
    assert widths[0] == widths[1] and widths[2] == pytest.approx(widths[0] * 0.4)


def test_losses_main_path_painful_path_bottlenecks_and_loops(owner_client, journey):
    soup = page(owner_client, journey)
    assert rows(soup, "losses-table") == [
        ["Fills the cart", "Purchase", "125", "100", "55", "44%"],
        ["Calls to ask", "Purchase", "30", "25", "5", "16.7%"],
    ]
    steps = soup.select("#main-path-steps li")
    assert [li["data-key"] for li in steps] == ["ad", "cart", "paid"]
    assert steps[2].select_one(".step-volume").text == "40 · 32%"
    assert [li["data-key"] for li in soup.select("#painful-path-steps li")] == [
        "ad",
        "cart",
        "paid",
    ]
    assert rows(soup, "bottlenecks-table") == [["Fills the cart", "Purchase", "1 (100%)", "125"]]
    assert rows(soup, "loops-table") == [
        ["Fills the cart → Calls to ask → Fills the cart", "2", "25"]
    ]
    assert soup.select_one("#dead-ends .empty")
    assert soup.select_one("#paths-count").text == "1"
    assert len(soup.select("#transitions-table tbody tr")) == 5
    assert len(soup.select("#touchpoints-table tbody tr")) == 5


def test_dead_ends_are_listed_with_a_link(owner_client, owner):
    journey = sample_journey()
    journey.touchpoints.append(dm.Touchpoint("lost", "buy", "call", "Waits on hold"))
    journey.transitions.append(dm.Transition("call-lost", "call", "lost", "alternative", volume=3))
    row = make_map(owner, journey)
    soup = page(owner_client, row)
    assert rows(soup, "dead-ends-table") == [["Waits on hold", "Purchase", "Step", "3"]]
    assert soup.select_one("#dead-ends-table a")["href"] == f"/maps/{row.id}/board#tp-lost"


def test_more_paths_than_the_cap_say_more_than(owner_client, owner, monkeypatch):
    monkeypatch.setattr("cjm.routes.analytics.analyze", partial(analytics.analyze, cap=3))
    soup = page(owner_client, make_map(owner, ladder(3)))
    assert soup.select_one("#paths-count").text == "more than 3"
    assert "more than 3 paths" in soup.select_one("#paths-truncated").text


def test_no_volumes_says_so_and_how_to_add_them(owner_client, owner):
    journey = sample_journey()
    for tr in journey.transitions:
        tr.volume = None
    soup = page(owner_client, make_map(owner, journey))
    notice = soup.select_one("#no-volumes")
    assert "No volumes yet" in notice.h3.text
    assert notice.a["href"].endswith("/imports/analytics")
    assert soup.select_one("svg.funnel-chart") is None
    assert soup.select_one("#main-path .empty") and soup.select_one("#losses .empty")
    assert [r[1] for r in rows(soup, "funnel-table")] == ["—", "—", "—"]


def test_a_map_without_touchpoints_has_an_empty_state(owner_client, owner):
    row = make_map(owner, dm.Journey("Blank", stages=[dm.Stage("s", "Stage")]))
    soup = page(owner_client, row)
    assert soup.select_one("#no-touchpoints")
    assert soup.select_one("#funnel") is None


def test_user_text_is_escaped(owner_client, owner):
    journey = sample_journey()
    journey.touchpoints[2].name = "<script>alert(1)</script>"
    journey.stages[1].name = "<b>Buy</b>"
    soup = page(owner_client, make_map(owner, journey))
    main = soup.select_one("main")
    assert main.find("script") is None and main.find("b") is None
    assert "<script>alert(1)</script>" in soup.select_one("#losses-table").get_text()
    assert soup.select_one('svg.funnel-chart g[data-stage="buy"] text').text == "<b>Buy</b>"


def test_a_viewer_can_see_it(client, journey):
    viewer = make_user("viewer@example.com", "Vera Viewer")
    add_member(journey, viewer, "viewer")
    sign_in(client, viewer)
    assert page(client, journey).select_one("#funnel-table")


def test_a_non_member_gets_404_and_a_visitor_is_sent_to_sign_in(client, journey):
    assert client.get(f"/maps/{journey.id}/analytics").status_code in (302, 401)
    sign_in(client, make_user("stranger@example.com", "Stranger"))
    assert client.get(f"/maps/{journey.id}/analytics").status_code == 404
    assert client.get("/maps/999999/analytics").status_code == 404


# --- acceptance 1: the demo map, against the hand computation in tests/journey -----------------


@pytest.fixture
def demo_page(owner_client, owner):
    from cjm.documents import import_document
    from tests.journey import test_analytics_demo as hand

    row = import_document(hand.DOC, owner.id)
    return page(owner_client, row), hand


def test_demo_page_names_the_main_path_with_its_hand_computed_width(demo_page):
    soup, hand = demo_page
    finding = soup.select_one("#finding-main-path")
    names = finding.select_one(".finding-names")
    assert names["data-keys"].split() == hand.MAIN_TOUCHPOINTS
    assert names.get_text() == " → ".join(hand.NAME[k] for k in hand.MAIN_TOUCHPOINTS)
    assert "270 customers walked all of it" in finding.get_text(" ", strip=True)
    assert hand.MAIN_WIDTH == 270
    steps = soup.select("#main-path-steps li")
    assert [li["data-key"] for li in steps] == hand.MAIN_TOUCHPOINTS
    # Each step shows the volume that took it: the narrowest is the last, 270.
    shown = [li.select_one(".step-volume").get_text().split(" · ")[0] for li in steps[1:]]
    assert shown == [f"{hand.V[k]:,}" for k in hand.MAIN]
    assert soup.select("#paths-table tbody tr")[0]["data-transitions"] == ".".join(hand.MAIN)


def test_demo_page_names_where_most_customers_drop_off_with_hand_computed_figures(demo_page):
    soup, hand = demo_page
    finding = soup.select_one("#finding-drop-off")
    text = finding.get_text(" ", strip=True)
    assert finding.select_one(".finding-names")["data-keys"] == "product-page"
    assert f"“{hand.NAME['product-page']}”" in text
    # 510 of the 1,350 arriving, 510 / 1350 = 37.8 %; the stage loses 510 + 10 = 520.
    assert f"{hand.PRODUCT_DROP} of the {hand.PRODUCT_IN:,} customers arriving (37.8%)" in text
    assert soup.select_one("#finding-stage")["data-stage"] == "consideration"
    assert f"“Consideration”, {hand.CONSIDERATION_LOST} customers" in text
    first = rows(soup, "losses-table")[0]
    assert first == [hand.NAME["product-page"], "Consideration", "1,350", "1,350", "510", "37.8%"]
    assert soup.select_one("#funnel-table tr.worst")["data-stage"] == "consideration"


def test_demo_page_says_there_are_no_dead_ends_and_names_the_loops(demo_page):
    soup, hand = demo_page
    assert hand.DEAD_ENDS == []
    assert "none" in soup.select_one("#finding-dead-ends").get_text()
    assert soup.select_one("#dead-ends .empty") and soup.select_one("#dead-ends-table") is None
    listed = {
        tuple(tr["data-keys"].split()): tr.select("td")[-1].get_text()
        for tr in soup.select("#loops-table tbody tr")
    }
    assert listed == {keys: str(volume) for keys, volume in hand.LOOPS.items()}
    loops = soup.select_one("#finding-loops")
    assert " ".join(loops.get_text().split()).startswith("Loops: 4; the busiest:")
    assert loops.select_one(".finding-names")["data-keys"].split() == list(hand.BUSIEST_LOOP)
    assert f"{hand.LOOPS[hand.BUSIEST_LOOP]} customers go round" in loops.get_text()


def test_paths_are_listed_busiest_first_each_linking_to_the_graph(owner_client, journey):
    soup = page(owner_client, journey)
    row = soup.select_one("#paths-table tbody tr")
    assert row["data-transitions"] == "ad-cart.cart-paid"
    assert [c.get_text(" ", strip=True) for c in row.find_all(["th", "td"])] == [
        "Main path Most painful Sees an ad → Fills the cart → Pays",  # the only path is both
        "2",
        "40",
        "1",
        "Show on the graph",
    ]
    assert row.a["href"] == f"/maps/{journey.id}/graph?path=ad-cart.cart-paid#chosen-path"
    main_link = soup.select_one("#finding-main-path a.graph-link")["href"]
    assert main_link == f"/maps/{journey.id}/graph?path=main#chosen-path"
    assert soup.select_one("#painful-path a.graph-link")["href"].endswith(
        "?path=painful#chosen-path"
    )


def test_a_map_without_entry_to_goal_paths_says_what_to_do(owner_client, owner):
    journey = sample_journey()
    journey.touchpoints[0].kind = "step"  # no entry any more
    soup = page(owner_client, make_map(owner, journey))
    assert soup.select_one("#paths .empty") and soup.select_one("#paths-table") is None
    assert "not known yet" in soup.select_one("#finding-main-path").get_text()


def test_a_work_budget_says_at_least_never_more_than(owner_client, owner, monkeypatch):
    monkeypatch.setattr("cjm.routes.analytics.analyze", partial(analytics.analyze, budget=5))
    soup = page(owner_client, make_map(owner, ladder(3)))
    count = soup.select_one("#paths-count").text
    assert count.startswith("at least ") and "more than" not in count
