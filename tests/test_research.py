"""The research page (step 3 overview) and a touchpoint's evidence panel: the emotion curve from
evidence with its band, n and dashed "no data" stages, segment overlays, per-touchpoint figures,
the stage/channel × segment heatmaps with a metric switch; all follow the evidence as it changes."""

from datetime import date

import pytest
from bs4 import BeautifulSoup, Tag
from sqlalchemy import select

from cjm import store
from cjm.extensions import db
from cjm.models import Journey, Observation, Segment, Stage, Touchpoint
from cjm.routes.research import y_of
from tests.conftest import sign_in
from tests.factories import add_member, make_map, make_user, sample_journey

HX = {"HX-Request": "true"}


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def page(client, journey, query: str = "") -> BeautifulSoup:
    response = client.get(f"/maps/{journey.id}/research{query}")
    assert response.status_code == 200
    return soup(response)


def touchpoint(journey, key: str) -> Touchpoint:
    return db.session.scalar(select(Touchpoint).filter_by(journey_id=journey.id, key=key))


def observe(journey, key=None, segment=None, **fields) -> Observation:
    """An observation at a touchpoint (stage and channel taken from it), committed."""
    tp = touchpoint(journey, key) if key else None
    row = Observation(
        journey_id=journey.id,
        touchpoint_id=tp.id if tp else None,
        stage_id=fields.pop("stage_id", tp.stage_id if tp else None),
        channel_id=tp.channel_id if tp else None,
        segment_id=segment.id if segment else None,
        source=fields.pop("source", "survey"),
        **fields,
    )
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def segments(journey):
    """Two customer groups: new (first) and loyal."""
    rows = [
        Segment(journey_id=journey.id, key="new", name="New customers", position=0),
        Segment(journey_id=journey.id, key="loyal", name="Loyal customers", position=1),
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows


@pytest.fixture
def evidence(journey, segments):
    """Awareness: "ad" CSAT 4, 5 (new; NPS 10, 6). Purchase: "cart" CSAT 2, 3 (loyal), 2 (new;
    CES 5). Use: nothing, so the curve shows the manual score of "paid" (+2)."""
    new, loyal = segments
    observe(journey, "ad", new, csat=4, nps=10, verbatim="Nice ad")
    observe(journey, "ad", new, csat=5, nps=6)
    observe(journey, "cart", loyal, csat=2)
    observe(journey, "cart", loyal, csat=3)
    observe(journey, "cart", new, csat=2, ces=5)


def curve_of(html: BeautifulSoup) -> Tag:
    return html.select_one("#curve svg.emotion-curve")


def test_empty_state_explains_step_3_and_links_to_evidence_and_import(owner_client, journey):
    html = page(owner_client, journey)
    empty = html.select_one(".research-empty")
    assert empty.h2.text == "No evidence yet"
    links = {a["href"] for a in empty.select("a")}
    assert links == {f"/maps/{journey.id}/evidence", f"/maps/{journey.id}/imports/new"}
    assert html.select("svg.emotion-curve") == [] and html.select("table.heatmap") == []


def test_header_and_sub_navigation(owner_client, journey):
    html = page(owner_client, journey)
    assert html.select_one(".map-head h1").text == "Online shop"
    nav = html.select_one("nav.research-nav")
    assert [a.text for a in nav.select("a")] == [
        "Overview",
        "Evidence",
        "Segments",
        "Interviews",
        "Mystery shopper",
        "Import survey",
        "API tokens",
    ]
    assert nav.select_one("a[aria-current=page]")["href"] == f"/maps/{journey.id}/research"
    hrefs = [a["href"] for a in nav.select("a")]
    assert f"/maps/{journey.id}/shopper" in hrefs and f"/maps/{journey.id}/api-tokens" in hrefs


def test_curve_points_with_n_band_and_dashed_no_data_stage(owner_client, journey, evidence):
    svg = curve_of(page(owner_client, journey))
    points = svg.select("g.point")
    assert [p["data-stage"] for p in points] == ["aware", "buy", "use"]
    assert [p["class"][1] for p in points] == ["evidence", "evidence", "manual"]
    # Awareness: CSAT 4, 5 → 4.5 − 3 = +1.5 (n 2). Purchase: CSAT 2, 3, 2 → 7/3 − 3 = −0.67 (n 3).
    # Use: no evidence → the manual score of "paid", +2, marked "no data".
    assert [p.select_one(".point-label").text for p in points] == ["+1.5", "-0.7", "+2.0"]
    assert [p.select_one(".point-n").text for p in points] == ["n = 2", "n = 3", "no data"]
    # Awareness → Purchase is evidence on both ends: solid; Purchase → Use touches a manual point.
    lines = svg.select("polyline.curve")
    assert [("manual" in line["class"]) for line in lines] == [False, True]
    # One band over the two evidence stages. Awareness: s² = (16 + 25 − 9²/2)/1 = 0.5, margin
    # 12.706 × √(0.5/2) = 6.353 → cut to the scale: emotion [−2, +2]. Purchase: s² = (4 + 9 + 4
    # − 7²/3)/2 = 1/3, margin 4.303 × √(1/9) = 1.434333 → CSAT [0.899, 3.767667] → cut to 1
    # below → emotion [−2, +0.767667].
    [band] = svg.select("polygon.band")
    corners = [tuple(map(float, p.split(","))) for p in band["points"].split()]
    assert corners[0] == (80, y_of(2)) and corners[-1] == (80, y_of(-2))
    assert corners[1][0] == 240 and corners[1][1] == pytest.approx(y_of(7 / 3 + 1.434333 - 3))
    assert corners[2] == (240, y_of(-2))


def test_a_single_answer_has_no_band(owner_client, journey, segments):
    observe(journey, "paid", csat=5)
    svg = curve_of(page(owner_client, journey))
    use = svg.select_one("g.point[data-stage=use]")
    assert "evidence" in use["class"] and use.select_one(".point-n").text == "n = 1"
    assert svg.select("polygon.band") == []


def test_segment_overlay_draws_one_curve_per_chosen_segment(owner_client, journey, evidence):
    new, loyal = db.session.scalars(select(Segment).order_by(Segment.position)).all()
    assert curve_of(page(owner_client, journey)).select("g.overlay") == []
    html = page(owner_client, journey, f"?segment={new.id}&segment={loyal.id}")
    overlays = curve_of(html).select("g.overlay")
    assert [g["data-segment"] for g in overlays] == ["New customers", "Loyal customers"]
    # New: Awareness CSAT 4, 5 → +1.5; Purchase CSAT 2 → −1. Loyal: Purchase CSAT 2, 3 → −0.5.
    dots = {g["data-segment"]: [c["data-stage"] for c in g.select("circle")] for g in overlays}
    assert dots == {"New customers": ["aware", "buy"], "Loyal customers": ["buy"]}
    assert float(overlays[0].select_one("circle[data-stage=buy]")["cy"]) == y_of(-1)
    assert len(overlays[0].select("polyline")) == 1 and overlays[1].select("polyline") == []
    checked = [i["value"] for i in html.select(".overlay-form input[name=segment][checked]")]
    assert checked == [str(new.id), str(loyal.id)]
    legend = [li.text for li in html.select(".curve-legend .legend-overlay")]
    assert legend == ["New customers", "Loyal customers"]


def test_per_touchpoint_table(owner_client, journey, evidence):
    html = page(owner_client, journey)
    rows = {tr["data-touchpoint"]: tr for tr in html.select("table.touchpoint-evidence tbody tr")}
    assert list(rows) == ["ad", "cart", "call", "gone", "paid"]  # in stage order
    ad, cart, paid = rows["ad"], rows["cart"], rows["paid"]
    assert ad.select_one(".tp-n").text == "2"
    # ad: CSAT 4.5 ± 12.706 × 0.5 = 6.353 (the margin before the cut to the scale).
    assert ad.select_one(".tp-csat").contents[0].strip() == "4.50 ± 6.35"
    assert ad.select_one(".tp-emotion-value").text == "+1.5"
    assert cart.select_one(".tp-emotion-value").text == "-0.7"
    assert paid.select_one(".tp-csat").text == "—"
    assert paid.select_one(".tp-emotion-value .manual").text.split()[0] == "+2"
    coverage = {key: tr.select_one("[data-coverage]")["data-coverage"] for key, tr in rows.items()}
    # The default threshold is 5 observations: 2 and 3 are "some".
    assert coverage == {
        "ad": "some",
        "cart": "some",
        "call": "none",
        "gone": "none",
        "paid": "none",
    }
    db.session.get(Journey, journey.id).evidence_threshold = 3
    db.session.commit()
    html = page(owner_client, journey)
    assert html.select_one("tr[data-touchpoint=cart] [data-coverage]").text == "enough evidence"


def heat_rows(table: Tag) -> dict[str, list[str]]:
    """Row name → the cells' text: "value n = k" or "—"."""
    return {
        tr.th.text: [" ".join(td.text.split()) for td in tr.select("td")]
        for tr in table.select("tbody tr")
    }


def test_heatmap_stage_by_segment_with_n(owner_client, journey, evidence):
    html = page(owner_client, journey)
    stages, channels = html.select("table.heatmap")
    assert [th.text for th in stages.select("thead th")][1:] == [
        "New customers",
        "Loyal customers",
        "All segments",
    ]
    # CSAT. Awareness: new 4, 5 → 4.5. Purchase: new 2; loyal 2, 3 → 2.5; all 7/3 → 2.3.
    assert heat_rows(stages) == {
        "Awareness": ["4.5 n = 2", "—", "4.5 n = 2"],
        "Purchase": ["2.0 n = 1", "2.5 n = 2", "2.3 n = 3"],
        "Use": ["—", "—", "—"],
    }
    # Website holds both "ad" and "cart": new 4, 5, 2 → 3.7; all 16/5 = 3.2.
    assert heat_rows(channels) == {
        "Website": ["3.7 n = 3", "2.5 n = 2", "3.2 n = 5"],
        "Call centre": ["—", "—", "—"],
    }
    cells = stages.select("tbody td")
    assert "heat-none" in cells[1]["class"]
    # 4.5 sits at (4.5 − 1)/4 = 0.875 of the scale → level 4 of 0–4; 2.0 at 0.25 → level 1.
    assert "heat-4" in cells[0]["class"] and "heat-1" in cells[3]["class"]


def test_heatmap_metric_switch(owner_client, journey, evidence):
    html = page(owner_client, journey, "?metric=nps")
    stages, _ = html.select("table.heatmap")
    assert stages["data-metric"] == "nps"
    # NPS at Awareness (new): 10 promoter, 6 detractor → (1 − 1)/2 = 0.
    assert heat_rows(stages)["Awareness"] == ["+0 n = 2", "—", "+0 n = 2"]
    assert html.select_one("select[name=metric] option[selected]")["value"] == "nps"
    ces = html.select("table.heatmap")
    ces = page(owner_client, journey, "?metric=ces").select("table.heatmap")[0]
    assert heat_rows(ces)["Purchase"] == ["5.0 n = 1", "—", "5.0 n = 1"]
    # CES 5 on 1–7, lower is better: 1 − (5 − 1)/6 = 0.33 → level 1.
    assert "heat-1" in ces.select("tbody tr")[1].select("td")[0]["class"]
    unknown = page(owner_client, journey, "?metric=bogus").select_one("table.heatmap")
    assert unknown["data-metric"] == "csat"


def test_evidence_without_segment_gets_its_own_column(owner_client, journey, evidence):
    observe(journey, "paid", csat=1)
    stages = page(owner_client, journey).select_one("table.heatmap")
    assert [th.text for th in stages.select("thead th")][-2:] == ["No segment", "All segments"]
    assert heat_rows(stages)["Use"] == ["—", "—", "1.0 n = 1", "1.0 n = 1"]


def test_curve_and_heatmap_change_when_evidence_changes(owner_client, owner, journey, evidence):
    use = curve_of(page(owner_client, journey)).select_one("g.point[data-stage=use]")
    assert "manual" in use["class"]
    added = observe(journey, "paid", db.session.scalars(select(Segment)).first(), csat=2)
    html = page(owner_client, journey)
    use = curve_of(html).select_one("g.point[data-stage=use]")
    # Use now has evidence: CSAT 2 → −1, n 1, instead of the manual +2.
    assert "evidence" in use["class"] and use.select_one(".point-label").text == "-1.0"
    assert use.select_one(".point-n").text == "n = 1"
    assert heat_rows(html.select_one("table.heatmap"))["Use"] == ["2.0 n = 1", "—", "2.0 n = 1"]
    store.soft_delete([added], journey.id, owner.id, "observation")
    db.session.commit()
    html = page(owner_client, journey)
    use = curve_of(html).select_one("g.point[data-stage=use]")
    assert "manual" in use["class"] and use.select_one(".point-n").text == "no data"
    assert heat_rows(html.select_one("table.heatmap"))["Use"] == ["—", "—", "—"]


def test_stage_level_evidence_counts_on_the_curve(owner_client, journey, segments):
    use = db.session.scalar(select(Stage).filter_by(journey_id=journey.id, key="use"))
    observe(journey, csat=4, stage_id=use.id)
    observe(journey, csat=4, stage_id=use.id)
    point = curve_of(page(owner_client, journey)).select_one("g.point[data-stage=use]")
    assert point.select_one(".point-n").text == "n = 2"
    assert point.select_one(".point-label").text == "+1.0"


def test_user_text_is_escaped(owner_client, journey, evidence):
    segment = db.session.scalars(select(Segment)).first()
    segment.name = "<script>x()</script>"
    db.session.commit()
    html = page(owner_client, journey)
    assert html.select("main script") == []
    assert html.select_one("table.heatmap thead th:nth-of-type(2)").text == "<script>x()</script>"


# --- a touchpoint's evidence panel ------------------------------------------------------------


def panel_url(journey, key: str) -> str:
    return f"/maps/{journey.id}/touchpoints/{touchpoint(journey, key).id}/evidence"


def test_touchpoint_panel_page_and_fragment(owner_client, journey, evidence):
    full = soup(owner_client.get(panel_url(journey, "ad")))
    assert full.select_one(".map-head h1").text == "Online shop"
    panel = full.select_one("aside#evidence-panel")
    assert panel.h2.text == "Sees an ad"
    # ad: 2 observations; CSAT 4.5 ± 6.35; NPS (1 − 1)/2 = 0.
    assert panel.select_one(".fig-n").text == "n = 2"
    assert " ".join(panel.select_one(".fig-csat").text.split()) == "4.50 ± 6.35 n = 2"
    assert " ".join(panel.select_one(".fig-nps").text.split()) == "+0 n = 2"
    assert panel.select_one(".fig-ces").text == "—"
    assert [q.text for q in panel.select(".verbatims blockquote")] == ["“Nice ad”"]
    segments = [tr.th.text for tr in panel.select("table.panel-segments tbody tr")]
    assert segments == ["New customers"]
    fragment = owner_client.get(panel_url(journey, "ad"), headers=HX)
    [root] = [el for el in soup(fragment).contents if isinstance(el, Tag)]
    assert root.name == "aside" and root["id"] == "evidence-panel"
    close = root.select_one(".panel-close")
    assert close["hx-target"] == "#evidence-panel" and close["hx-select"] == "#evidence-panel"


def test_panel_shows_the_latest_ten_verbatims(owner_client, journey, segments):
    for day in range(1, 13):
        observe(journey, "cart", verbatim=f"Day {day}", observed_on=date(2024, 3, day))
    observe(journey, "cart", csat=3)  # no verbatim: not listed
    panel = soup(owner_client.get(panel_url(journey, "cart"), headers=HX))
    quotes = [q.text for q in panel.select(".verbatims blockquote")]
    assert quotes == [f"“Day {day}”" for day in range(12, 2, -1)]
    assert panel.select_one(".fig-n").text == "n = 13"


def test_panel_without_evidence(owner_client, journey):
    panel = soup(owner_client.get(panel_url(journey, "gone"), headers=HX))
    assert panel.select_one("[data-coverage]")["data-coverage"] == "none"
    assert panel.select_one(".fig-emotion").text.startswith("-2")  # the manual score
    assert panel.select(".verbatims") == []


def test_panel_of_another_maps_touchpoint_is_404(owner_client, owner, journey):
    other = make_map(owner, sample_journey("Other"))
    foreign = touchpoint(other, "ad")
    assert (
        owner_client.get(f"/maps/{journey.id}/touchpoints/{foreign.id}/evidence").status_code == 404
    )


def test_viewers_see_research_strangers_do_not(app, journey, evidence):
    viewer, stranger = make_user("v@example.com", "Vera"), make_user("s@example.com", "Stan")
    add_member(journey, viewer, "viewer")
    for user, status in ((viewer, 200), (stranger, 404)):
        client = app.test_client()
        sign_in(client, user)
        assert client.get(f"/maps/{journey.id}/research").status_code == status
        assert client.get(panel_url(journey, "ad")).status_code == status


# --- on the board -----------------------------------------------------------------------------


def test_board_cards_carry_an_evidence_badge(owner_client, journey, evidence):
    html = soup(owner_client.get(f"/maps/{journey.id}/board"))
    badge = html.select_one("article#tp-cart a.evidence-badge")
    assert badge.contents[0] == "n = 3" and "coverage-some" in badge["class"]
    assert badge["href"] == badge["hx-get"] == panel_url(journey, "cart")
    assert badge["hx-target"] == "#evidence-panel"
    assert "coverage-none" in html.select_one("article#tp-paid a.evidence-badge")["class"]
    assert html.select_one("aside#evidence-panel").contents == []


def test_board_curve_is_the_evidence_curve(owner_client, journey, evidence):
    html = soup(owner_client.get(f"/maps/{journey.id}/board"))
    svg = html.select_one("tr.lane-emotion svg.emotion-curve")
    points = svg.select("g.point")
    assert [p.select_one(".point-n").text for p in points] == ["n = 2", "n = 3", "no data"]
    assert len(svg.select("polygon.band")) == 1 and svg.select("polyline.curve.manual")


def test_deleting_a_touchpoint_hides_its_evidence_until_undo(owner_client, journey):
    """Aggregates read observations in SQL: a hidden touchpoint's evidence must not count."""
    from cjm import aggregates, store
    from cjm.extensions import db
    from cjm.models import Observation, Touchpoint

    tp = db.session.scalar(db.select(Touchpoint).filter_by(journey_id=journey.id, key="cart"))
    db.session.add(
        Observation(
            journey_id=journey.id,
            touchpoint_id=tp.id,
            stage_id=tp.stage_id,
            channel_id=tp.channel_id,
            source="survey",
            csat=2,
        )
    )
    db.session.commit()
    deletion = store.soft_delete([tp], journey.id, None, "cart")
    db.session.commit()
    assert aggregates.per_stage(journey.id) == {}
    store.restore(deletion)
    db.session.commit()
    assert aggregates.per_stage(journey.id)[tp.stage_id].n == 1
