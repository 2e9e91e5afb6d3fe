"""The board: cards in their stage column and channel row, summary lanes, the emotion curve,
edit controls for editors only, the empty state, and one-shot loading on a large map."""

import pytest
from bs4 import BeautifulSoup, Tag
from sqlalchemy import event, select

from cjm.extensions import db
from cjm.journey import model as dm
from cjm.models import Touchpoint
from tests.conftest import sign_in
from tests.factories import add_member, make_map, make_user, sample_journey

HX = {"HX-Request": "true"}


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def board(client, journey) -> BeautifulSoup:
    r = client.get(f"/maps/{journey.id}/board")
    assert r.status_code == 200
    return soup(r)


@pytest.fixture
def viewer_client(app, journey):
    viewer = make_user("viewer@example.com", "Vera Viewer")
    add_member(journey, viewer, "viewer")
    client = app.test_client()
    sign_in(client, viewer)
    return client


def test_header_and_stage_columns(owner_client, journey):
    page = board(owner_client, journey)
    assert page.select_one(".map-head h1").text == "Online shop"
    assert [th.contents[0].strip() for th in page.select("thead th.stage-head")] == [
        "Awareness",
        "Purchase",
        "Use",
    ]
    assert [th.text for th in page.select("tr.channel-row th.channel-head")] == [
        "Website",
        "Call centre",
    ]


@pytest.mark.parametrize(
    "key, stage, channel",
    [
        ("ad", "aware", "web"),
        ("cart", "buy", "web"),
        ("gone", "buy", "web"),
        ("call", "buy", "call"),
        ("paid", "use", "web"),
    ],
)
def test_cards_sit_in_their_column_and_row(owner_client, journey, key, stage, channel):
    page = board(owner_client, journey)
    card = page.select_one(f"article#tp-{key}")
    cell = card.find_parent("td")
    assert (cell["data-stage"], cell["data-channel"]) == (stage, channel)
    row = cell.find_parent("tr")
    assert row["data-channel"] == channel
    column = row.find_all("td").index(cell)
    assert [th["id"] for th in page.select("thead th.stage-head")][column] == f"stage-{stage}"


def test_card_shows_kind_name_emotion_and_outgoing_transitions(owner_client, journey):
    card = board(owner_client, journey).select_one("article#tp-cart")
    assert card.select_one(".tp-kind").text == "Decision"
    assert card.select_one(".tp-name").text.strip() == "Fills the cart"
    assert card.select_one(".tp-emotion").text == "0"
    summary = [
        (li.a.text, li.select_one(".tr-kind").text, li.select_one(".tr-volume").text)
        for li in card.select(".tp-transitions li")
    ]
    assert summary == [
        ("→ Pays", "Main path", "40"),
        ("→ Calls to ask", "Alternative", "30"),
        ("→ Leaves", "Drop-out", "30"),
    ]
    assert card.select_one(".tp-transitions a")["href"] == "#tp-paid"


def test_cards_within_a_cell_keep_their_order(owner_client, journey):
    cell = board(owner_client, journey).select_one("td[data-stage=buy][data-channel=web]")
    assert [a["id"] for a in cell.select("article")] == ["tp-cart", "tp-gone"]


def test_editor_gets_edit_in_place_and_add_controls(owner_client, journey):
    page = board(owner_client, journey)
    link = page.select_one("article#tp-cart a.tp-open")
    cart = db.session.scalar(select(Touchpoint).filter_by(journey_id=journey.id, key="cart"))
    assert link["href"] == link["hx-get"] == f"/maps/{journey.id}/touchpoints/{cart.id}/edit"
    assert link["hx-target"] == "closest article" and link["hx-swap"] == "outerHTML"
    assert len(page.select("td.cell a.add-card")) == 6  # 3 stages × 2 channels
    add = page.select_one("td[data-stage=use][data-channel=call] a.add-card")
    assert add["hx-target"] == "this" and "stage=" in add["href"] and "channel=" in add["href"]


def test_viewer_sees_no_edit_controls(viewer_client, journey):
    page = board(viewer_client, journey)
    assert len(page.select("article.tp-card")) == 5
    assert page.select("a.add-card") == [] and page.select("a.tp-open") == []
    assert page.select("main form") == [] and page.select("main [hx-post]") == []


def test_goals_and_thoughts_lanes(owner_client, journey):
    cart = db.session.scalar(select(Touchpoint).filter_by(journey_id=journey.id, key="cart"))
    cart.goal, cart.thought = "Pay quickly", "Where is the delivery price?"
    db.session.commit()
    page = board(owner_client, journey)
    goals = page.select_one("tr.lane-goals td[data-stage=buy]")
    assert [a.text for a in goals.select("li a")] == ["Pay quickly"]
    thought = page.select_one("tr.lane-thoughts td[data-stage=buy] figure.thought")
    assert thought.blockquote.text == "“Where is the delivery price?”"
    assert page.select("tr.lane-goals td[data-stage=aware] li") == []


def add_barrier(journey_id: int, title: str, severity: int = 3, status: str = "open", **at):
    from cjm.models import Barrier

    row = Barrier(
        journey_id=journey_id, key=title.lower(), title=title, type="price", severity=severity,
        status=status, **at,
    )  # fmt: skip
    db.session.add(row)
    db.session.commit()
    return row


def test_barriers_lane_lists_each_stages_barriers_by_priority(owner_client, journey):
    from cjm.models import Transition

    tps = {
        t.key: t for t in db.session.scalars(select(Touchpoint).filter_by(journey_id=journey.id))
    }
    gone = db.session.scalar(select(Transition).filter_by(journey_id=journey.id, key="cart-gone"))
    add_barrier(journey.id, "Fee", severity=2, touchpoint_id=tps["paid"].id)  # 2 × 0.4 = 0.8
    add_barrier(
        journey.id, "Cart bug", severity=2, status="mitigated", touchpoint_id=tps["cart"].id
    )
    add_barrier(journey.id, "Leaving", severity=5, transition_id=gone.id)  # 5 × 0.3 = 1.5
    page = board(owner_client, journey)
    lane = page.select_one("tr.lane-barriers")
    assert lane.th.a["href"] == f"/maps/{journey.id}/barriers"

    def chips(stage):
        return [
            (li.a.text, li.select_one(".priority").text, li.select_one(".badge").text)
            for li in lane.select(f"td[data-stage={stage}] li.barrier-chip")
        ]

    # A transition's barrier sits at its source's stage ("cart" is at Purchase).
    assert chips("buy") == [("Cart bug", "2", "Mitigated"), ("Leaving", "1.5", "Open")]
    assert chips("use") == [("Fee", "0.8", "Open")]
    assert chips("aware") == []


def test_emotion_curve_has_a_point_per_stage_with_emotions(owner_client, journey):
    page = board(owner_client, journey)
    points = page.select("svg.emotion-curve g.point")
    assert [p["data-stage"] for p in points] == ["aware", "buy", "use"]
    # Purchase: cart 0, call −1, gone −2 → mean −1.
    assert [p.select_one(".point-label").text for p in points] == ["+1.0", "-1.0", "+2.0"]
    assert len(page.select("svg.emotion-curve polyline.curve")) == 1


def test_a_stage_without_emotions_leaves_a_gap(owner_client, owner):
    journey = sample_journey()
    for tp in journey.touchpoints:
        if tp.stage == "buy":
            tp.emotion = None
    row = make_map(owner, journey)
    page = board(owner_client, row)
    assert [p["data-stage"] for p in page.select("svg.emotion-curve g.point")] == ["aware", "use"]
    assert page.select("svg.emotion-curve polyline.curve") == []  # no line across the gap


def test_lanes_fragment_for_journey_changed(owner_client, journey):
    r = owner_client.get(f"/maps/{journey.id}/board/lanes", headers=HX)
    [root] = [el for el in soup(r).contents if isinstance(el, Tag)]
    assert root.name == "tbody" and root["id"] == "board-lanes"
    assert root["hx-trigger"] == "journey-changed from:body"


def test_user_text_is_escaped(owner_client, journey):
    cart = db.session.scalar(select(Touchpoint).filter_by(journey_id=journey.id, key="cart"))
    cart.name = "<script>alert(1)</script>"
    db.session.commit()
    page = board(owner_client, journey)
    assert page.select("main script") == []
    assert page.select_one("article#tp-cart .tp-name").text.strip() == "<script>alert(1)</script>"


def test_empty_map_points_to_the_stages_page(owner_client, owner):
    row = make_map(owner, dm.Journey(title="Blank"))
    page = board(owner_client, row)
    assert page.select("table.board") == []
    assert page.select_one(".board-empty a")["href"] == f"/maps/{row.id}/stages"


def test_non_members_get_404(app, journey):
    stranger = make_user("stranger@example.com", "Stan")
    client = app.test_client()
    sign_in(client, stranger)
    assert client.get(f"/maps/{journey.id}/board").status_code == 404


def big_journey(stages=15, per_stage=400 // 15 + 1, transitions=600) -> dm.Journey:
    """15 stages × 2 channels, ~400 touchpoints, 600 transitions."""
    journey = dm.Journey(
        title="Big",
        stages=[dm.Stage(f"s{i}", f"Stage {i}") for i in range(stages)],
        channels=[dm.Channel("web", "Website", "website"), dm.Channel("app", "App", "mobile-app")],
    )
    for i in range(stages):
        for j in range(per_stage):
            journey.touchpoints.append(
                dm.Touchpoint(
                    f"t{i}-{j}",
                    f"s{i}",
                    "web" if j % 2 else "app",
                    f"Touchpoint {i}.{j}",
                    emotion=(i + j) % 5 - 2,
                )
            )
    keys = [t.key for t in journey.touchpoints][:400]
    journey.touchpoints = journey.touchpoints[:400]
    pairs = [(a, b) for n, a in enumerate(keys) for b in keys[n + 1 : n + 3]][:transitions]
    journey.transitions = [dm.Transition(f"e{n}", a, b, volume=n) for n, (a, b) in enumerate(pairs)]
    return journey


def test_large_board_loads_in_a_fixed_number_of_queries(owner_client, owner):
    big = big_journey()
    assert (len(big.touchpoints), len(big.transitions)) == (400, 600)
    row = make_map(owner, big)
    tps = db.session.scalars(select(Touchpoint).filter_by(journey_id=row.id)).all()
    for i, tp in enumerate(tps[:100]):  # barriers on every stage cost one query in all
        add_barrier(row.id, f"Barrier {i}", severity=1 + i % 5, touchpoint_id=tp.id)
    queries = []
    listener = lambda *args: queries.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        page = board(owner_client, row)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(page.select("article.tp-card")) == 400
    assert len(page.select(".tp-transitions li")) == 600
    assert len(page.select("svg.emotion-curve g.point")) == 15
    assert len(page.select("tr.lane-barriers li.barrier-chip")) == 100
    assert len(queries) < 15, queries  # no per-card queries (speed itself: bench/board.py)


def test_evidence_on_every_card_costs_no_extra_queries(owner_client, owner):
    from cjm.models import Observation

    row = make_map(owner, big_journey())
    url = f"/maps/{row.id}/board"  # read before counting: the row expires on commit
    tps = db.session.scalars(select(Touchpoint).filter_by(journey_id=row.id)).all()

    def count_queries() -> tuple[int, BeautifulSoup]:
        queries = []
        listener = lambda *args: queries.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            page = soup(owner_client.get(url))
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(queries), page

    without, _ = count_queries()
    db.session.add_all(
        Observation(
            journey_id=tp.journey_id,
            touchpoint_id=tp.id,
            stage_id=tp.stage_id,
            channel_id=tp.channel_id,
            source="survey",
            csat=1 + i % 5,
        )
        for i, tp in enumerate(tps)
        for _ in range(2)
    )
    db.session.commit()
    with_evidence, page = count_queries()
    assert with_evidence == without <= 15
    badges = page.select("article.tp-card a.evidence-badge")
    assert len(badges) == 400 and {b.contents[0] for b in badges} == {"n = 2"}
    assert len(page.select("svg.emotion-curve g.point.evidence")) == 15


def add_strategy(journey_id: int, title: str, barriers, **fields):
    from cjm.models import Strategy, StrategyBarrier

    row = Strategy(
        journey_id=journey_id, key=title.lower().replace(" ", "-"), title=title, **fields
    )
    db.session.add(row)
    db.session.flush()
    db.session.add_all(StrategyBarrier(strategy_id=row.id, barrier_id=b.id) for b in barriers)
    db.session.commit()
    return row


def add_experiment(strategy, status: str, verdict: str | None = None, key: str = "e"):
    from cjm.models import Experiment

    row = Experiment(
        journey_id=strategy.journey_id,
        key=f"{key}-{strategy.id}-{status}-{verdict}",
        strategy_id=strategy.id,
        metric="csat",
        status=status,
        verdict=verdict,
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_strategies_lane_shows_each_touchpoints_strategies_with_ice_and_verdicts(
    owner_client, journey
):
    from cjm.models import Transition

    tps = {
        t.key: t for t in db.session.scalars(select(Touchpoint).filter_by(journey_id=journey.id))
    }
    gone = db.session.scalar(select(Transition).filter_by(journey_id=journey.id, key="cart-gone"))
    fee = add_barrier(journey.id, "Fee", touchpoint_id=tps["paid"].id)
    leaving = add_barrier(journey.id, "Leaving", transition_id=gone.id)
    both = add_strategy(journey.id, "Both", [fee, leaving], impact=8, confidence=5, effort=3)
    tested = add_strategy(journey.id, "Tested", [fee], impact=5, confidence=5, effort=5)
    add_experiment(tested, "closed", "won")
    add_experiment(tested, "closed", "inconclusive")
    add_experiment(tested, "running")
    add_strategy(journey.id, "Nothing live", [])
    page = board(owner_client, journey)
    lane = page.select_one("tr.lane-strategies")
    assert lane.th.a["href"] == f"/maps/{journey.id}/strategies"

    def groups(stage):
        return [
            (
                g["data-touchpoint"],
                [
                    (
                        li.a.text,
                        li.select_one(".ice").text,
                        [b.text for b in li.select(".verdict")],
                    )
                    for li in g.select("li.strategy-chip")
                ],
            )
            for g in lane.select(f"td[data-stage={stage}] .strategy-group")
        ]

    # A transition's barrier sits at its source ("cart", Purchase); highest ICE first.
    assert groups("buy") == [("cart", [("Both", "320", [])])]
    assert groups("use") == [
        ("paid", [("Both", "320", []), ("Tested", "150", ["Won", "Inconclusive", "being tested"])])
    ]
    assert groups("aware") == []
    chip = lane.select_one("td[data-stage=use] li.strategy-chip")
    assert chip.a["href"] == f"/maps/{journey.id}/strategies/{both.id}"


def test_funnel_lane_shows_customers_entering_and_lost_per_stage(owner_client, journey):
    page = board(owner_client, journey)
    lane = page.select_one("tr.lane-funnel")

    def figures(stage):
        cell = lane.select_one(f"td[data-stage={stage}]")
        return cell.select_one(".reached dd").text, cell.select_one(".lost dd").text

    # 100 enter at the ad; all 100 reach Purchase, 40 pay. Lost at Purchase: the cart takes in
    # 125 (100 + 25 back from the call) and passes on 70 (40 + 30 to the call): 55; the call
    # takes 30 and sends 25 back: 5. Total 60.
    assert figures("aware") == ("100", "0")
    assert figures("buy") == ("100 (100%)", "60")
    assert figures("use") == ("40 (40%)", "0")


def test_unknown_volumes_show_a_dash(owner_client, owner):
    journey = sample_journey()
    journey.transitions[0].volume = None
    row = make_map(owner, journey)
    cell = board(owner_client, row).select_one("tr.lane-funnel td[data-stage=buy]")
    assert cell.select_one(".reached dd").text == "—"


def test_learning_notes_show_on_their_touchpoint_cards(owner_client, journey):
    from cjm.models import Note

    tps = {
        t.key: t for t in db.session.scalars(select(Touchpoint).filter_by(journey_id=journey.id))
    }
    db.session.add_all(
        [
            Note(
                journey_id=journey.id,
                touchpoint_id=tps["cart"].id,
                kind="learning",
                text="A visible fee <b>keeps</b> customers",
            ),
            Note(journey_id=journey.id, touchpoint_id=tps["cart"].id, kind="idea", text="Idea"),
            Note(journey_id=journey.id, stage_id=tps["paid"].stage_id, kind="learning", text="S"),
        ]
    )
    db.session.commit()
    page = board(owner_client, journey)
    notes = page.select("article#tp-cart .tp-learning")
    assert [n.contents[-1].strip() for n in notes] == ["A visible fee <b>keeps</b> customers"]
    assert page.select("article#tp-cart .tp-learning b") == []
    assert len(page.select(".tp-learning")) == 1


def count_board_queries(client, journey_id: int) -> int:
    queries = []
    listener = lambda *args: queries.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(f"/maps/{journey_id}/board").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(queries)


def test_strategies_experiments_and_learnings_cost_the_same_queries_on_any_map(
    owner_client, owner, journey
):
    from cjm.models import Note

    def fill(row_id: int, n: int):
        tps = db.session.scalars(select(Touchpoint).filter_by(journey_id=row_id)).all()[:n]
        barriers = [add_barrier(row_id, f"B{i}", touchpoint_id=tp.id) for i, tp in enumerate(tps)]
        for i, b in enumerate(barriers):
            s = add_strategy(row_id, f"S{i}", [b], impact=1 + i % 10)
            add_experiment(s, "closed", "won")
        db.session.add_all(
            Note(journey_id=row_id, touchpoint_id=tp.id, kind="learning", text="L") for tp in tps
        )
        db.session.commit()

    fill(journey.id, 1)
    big = make_map(owner, big_journey())
    big_id = big.id
    fill(big_id, 60)
    small = count_board_queries(owner_client, journey.id)
    large = count_board_queries(owner_client, big_id)
    assert small == large <= 15, (small, large)
