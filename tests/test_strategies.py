"""Strategies (step 5): the list ranked by ICE with its status filter and the impact × effort
matrix, create/edit (422 next to fields, 409 when stale, forged barriers refused), delete with
undo, a strategy's page with its barriers and experiments, "Propose a strategy" from a barrier's
page, viewers read only, outsiders get 404."""

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from cjm import store
from cjm.extensions import db
from cjm.models import Barrier, Experiment, Strategy, StrategyBarrier, Touchpoint
from tests.conftest import sign_in
from tests.factories import add_member, make_map, make_user

HTMX = {"HX-Request": "true"}


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def url(journey, tail: str = "") -> str:
    return f"/maps/{journey.id}/strategies{tail}"


def touchpoint(journey, key: str) -> Touchpoint:
    return db.session.scalar(select(Touchpoint).filter_by(journey_id=journey.id, key=key))


def add_barrier(journey, title: str, at: str = "cart", **fields) -> Barrier:
    row = Barrier(
        journey_id=journey.id,
        key=title.lower().replace(" ", "-"),
        title=title,
        type="price",
        touchpoint_id=touchpoint(journey, at).id,
        **fields,
    )
    db.session.add(row)
    db.session.commit()
    return row


def add_strategy(journey, title: str, barriers=(), **fields) -> Strategy:
    row = Strategy(
        journey_id=journey.id, key=title.lower().replace(" ", "-"), title=title, **fields
    )
    db.session.add(row)
    db.session.flush()
    db.session.add_all(StrategyBarrier(strategy_id=row.id, barrier_id=b.id) for b in barriers)
    db.session.commit()
    return row


@pytest.fixture
def fee(journey) -> Barrier:
    return add_barrier(journey, "Hidden fee", "paid", severity=4)


@pytest.fixture
def bug(journey) -> Barrier:
    return add_barrier(journey, "Cart bug", "cart")


def form(*barriers, **changes) -> dict:
    data = {
        "strategy-new-title": "Show the fee early",
        "strategy-new-description": "On the product page.",
        "strategy-new-owner": "Olga",
        "strategy-new-impact": "8",
        "strategy-new-confidence": "5",
        "strategy-new-effort": "3",
        "strategy-new-status": "planned",
    }
    data = {**data, **{f"strategy-new-{k}": v for k, v in changes.items()}}
    data["strategy-new-barriers"] = [str(b.id) for b in barriers]
    return data


def listed(client, journey, query: str = "") -> list[dict]:
    page = soup(client.get(url(journey, query)))
    return [
        {
            "rank": li.select_one(".rank").text,
            "title": li.select_one(".strategy-title").text,
            "ice": li.select_one(".ice").text,
            "inputs": li.select_one(".ice-inputs").text,
        }
        for li in page.select("#strategies li.strategy")
    ]


@pytest.fixture
def viewer_client(app, journey):
    viewer = make_user("viewer@example.com", "Vera Viewer")
    add_member(journey, viewer, "viewer")
    client = app.test_client()
    sign_in(client, viewer)
    return client


# --- the list and the matrix ------------------------------------------------------------------


def test_list_is_ranked_by_ice_with_the_formula_shown(owner_client, journey, fee, bug):
    add_strategy(journey, "Callback", [bug], impact=4, confidence=3, effort=9)  # 4 × 3 × 2 = 24
    add_strategy(journey, "Fee upfront", [fee], impact=8, confidence=5, effort=3)  # 320
    add_strategy(journey, "Checker", [bug], impact=9, confidence=5, effort=8)  # 9 × 5 × 3 = 135
    page = soup(owner_client.get(url(journey)))
    assert "ICE = impact × confidence × ease" in page.select_one("#ice-formula").text
    assert listed(owner_client, journey) == [
        {"rank": "1", "title": "Fee upfront", "ice": "320", "inputs": "8 × 5 × 8"},
        {"rank": "2", "title": "Checker", "ice": "135", "inputs": "9 × 5 × 3"},
        {"rank": "3", "title": "Callback", "ice": "24", "inputs": "4 × 3 × 2"},
    ]
    first = page.select_one("#strategies li.strategy")
    assert [a.text for a in first.select(".addressed a")] == ["Hidden fee"]
    assert first.select_one(".addressed a")["href"] == f"/maps/{journey.id}/barriers/{fee.id}"
    assert first.select_one(".quadrant-badge").text == "Quick wins"


def test_ties_keep_the_larger_impact_first_and_ice_uses_locale_digits(owner_client, journey):
    add_strategy(journey, "Low impact", impact=5, confidence=10, effort=1)  # 500
    add_strategy(journey, "High impact", impact=10, confidence=5, effort=1)  # 500
    add_strategy(journey, "Best", impact=10, confidence=10, effort=1)  # 1,000
    assert [(r["title"], r["ice"]) for r in listed(owner_client, journey)] == [
        ("Best", "1,000"),
        ("High impact", "500"),
        ("Low impact", "500"),
    ]


def test_status_filter(owner_client, journey):
    add_strategy(journey, "Planned one", status="planned", impact=9)
    add_strategy(journey, "Idea one", status="idea")
    assert [r["title"] for r in listed(owner_client, journey, "?status=planned")] == ["Planned one"]
    assert [r["rank"] for r in listed(owner_client, journey, "?status=idea")] == ["2"]
    assert len(listed(owner_client, journey, "?status=bogus")) == 2  # an unknown filter is ignored
    page = soup(owner_client.get(url(journey, "?status=done")))
    assert page.select_one("#strategies .empty").text == "No strategy has this status."


def test_matrix_has_a_linked_labelled_dot_per_strategy_in_its_quadrant(owner_client, journey):
    quick = add_strategy(journey, "Quick", impact=9, effort=2)
    pit = add_strategy(journey, "Pit <b>bold</b>", impact=2, effort=9)
    page = soup(owner_client.get(url(journey)))
    svg = page.select_one("figure.ice-matrix svg")
    assert svg.find("title").text.startswith("Impact × effort matrix: 2 strategies")
    labels = [t.text for t in svg.select(".quadrant-label")]
    assert labels == ["Quick wins", "Big bets", "Fill-ins", "Money pits"]
    dots = {a["data-id"]: a for a in svg.select("a.dot")}
    assert dots[str(quick.id)]["data-quadrant"] == "quick-win"
    assert dots[str(pit.id)]["data-quadrant"] == "money-pit"
    assert dots[str(quick.id)]["href"] == url(journey, f"/{quick.id}")
    assert dots[str(quick.id)].find("title").text == (
        "#1 Quick: ICE 405 (impact 9, confidence 5, effort 2)"
    )
    # Escaped, not markup: the label is text.
    assert dots[str(pit.id)].select_one(".dot-label").text == "Pit <b>bold</b>"
    assert svg.find("b") is None
    quick_dot = dots[str(quick.id)].circle
    pit_dot = dots[str(pit.id)].circle
    assert float(quick_dot["cx"]) < float(pit_dot["cx"])  # less effort: further left
    assert float(quick_dot["cy"]) < float(pit_dot["cy"])  # more impact: higher up


def test_empty_states_say_what_to_do(owner_client, journey):
    page = soup(owner_client.get(url(journey)))
    empty = page.select_one("#strategies .empty")
    assert "no barriers to address" in empty.text
    assert empty.a["href"] == f"/maps/{journey.id}/barriers"
    assert page.select("#strategy-new") == []  # nothing to address yet
    add_barrier(journey, "Slow page")
    page = soup(owner_client.get(url(journey)))
    assert "No strategies yet" in page.select_one("#strategies .empty").text
    assert page.select_one("form#strategy-new")["action"] == url(journey, "/new")


# --- create -----------------------------------------------------------------------------------


def test_create_with_its_barriers(owner_client, journey, fee, bug):
    response = owner_client.post(url(journey, "/new"), data=form(fee, bug))
    assert response.status_code == 303
    row = db.session.scalar(select(Strategy))
    assert response.headers["Location"] == url(journey, f"/{row.id}")
    assert (row.title, row.owner, row.impact, row.confidence, row.effort, row.status) == (
        "Show the fee early",
        "Olga",
        8,
        5,
        3,
        "planned",
    )
    assert row.key == "show-the-fee-early"
    links = db.session.scalars(select(StrategyBarrier.barrier_id)).all()
    assert sorted(links) == sorted([fee.id, bug.id])


def test_new_form_offers_the_live_barriers_as_checkboxes(owner_client, journey, fee, bug):
    gone = add_barrier(journey, "Gone one")
    store.soft_delete([gone], journey.id, None, "gone")
    db.session.commit()
    page = soup(owner_client.get(url(journey)))
    boxes = page.select("form#strategy-new input[type=checkbox][name=strategy-new-barriers]")
    labels = [page.find("label", {"for": b["id"]}).text for b in boxes]
    assert sorted(labels) == ["Cart bug · Fills the cart", "Hidden fee · Pays"]
    assert not any(b.has_attr("checked") for b in boxes)
    for name in ("impact", "confidence", "effort"):
        select_ = page.select_one(f"select[name=strategy-new-{name}]")
        assert [o["value"] for o in select_.find_all("option")] == [str(n) for n in range(1, 11)]
        assert select_.find("option", selected=True)["value"] == "5"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"impact": "11"}, "impact"),
        ({"effort": "0"}, "effort"),
        ({"confidence": "high"}, "confidence"),
        ({"status": "someday"}, "status"),
    ],
)
def test_invalid_form_is_422_next_to_the_field(owner_client, journey, fee, changes, field):
    response = owner_client.post(url(journey, "/new"), data=form(fee, **changes))
    assert response.status_code == 422
    page = soup(response)
    assert page.select_one(f"#strategy-new-{field}-error")
    assert page.select_one(f"#strategy-new-{field}")["aria-invalid"] == "true"
    assert db.session.scalar(select(func.count(Strategy.id))) == 0


def test_a_strategy_needs_a_barrier_and_forged_ones_are_refused(owner_client, journey, fee):
    other = make_map(make_user("else@example.com", "Else"))
    foreign = add_barrier(other, "Not yours")
    for data in (form(), form(foreign)):
        response = owner_client.post(url(journey, "/new"), data=data)
        assert response.status_code == 422
        assert soup(response).select_one("#strategy-new-barriers-error")
    assert db.session.scalar(select(func.count(Strategy.id))) == 0


def test_htmx_create_answers_the_section(owner_client, journey, fee):
    response = owner_client.post(url(journey, "/new"), data=form(fee), headers=HTMX)
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("section#strategies") and not page.select_one(".map-head")
    assert [li.select_one(".strategy-title").text for li in page.select("li.strategy")] == [
        "Show the fee early"
    ]
    assert "proposed" in page.select_one("#notices").text
    bad = owner_client.post(url(journey, "/new"), data=form(fee, title=""), headers=HTMX)
    assert bad.status_code == 422
    assert soup(bad).select_one("section#strategies #strategy-new-title-error")


# --- one strategy -----------------------------------------------------------------------------


def test_strategy_page_shows_ice_barriers_and_experiments(owner_client, journey, fee, bug):
    row = add_strategy(
        journey, "Fee upfront", [fee], impact=8, confidence=5, effort=3, owner="Ivan"
    )
    db.session.add_all(
        [
            Experiment(
                journey_id=journey.id,
                key="e1",
                strategy_id=row.id,
                metric="csat",
                hypothesis="Showing the fee early lifts CSAT",
                status="closed",
                verdict="won",
                learning="People accept a fee they see early.",
            ),
            Experiment(
                journey_id=journey.id, key="e2", strategy_id=row.id, metric="csat", status="running"
            ),
        ]
    )
    db.session.commit()
    page = soup(owner_client.get(url(journey, f"/{row.id}")))
    assert page.select_one(".strategy-facts .ice").text.split()[0] == "320"
    assert "8 × 5 × 8" in page.select_one(".strategy-facts .ice").text
    assert page.select_one(".strategy-facts .owner").text == "Ivan"
    assert page.select_one(".strategy-facts .quadrant .badge").text == "Quick wins"
    [barrier] = page.select("#addressed li")
    assert barrier.a["href"] == f"/maps/{journey.id}/barriers/{fee.id}"
    experiments = page.select("#experiments li.experiment")
    assert [e.select_one(".hypothesis").text for e in experiments][0] == (
        "Showing the fee early lifts CSAT"
    )
    assert experiments[0].select_one(".verdict-won").text == "Won"
    assert "People accept a fee" in experiments[0].select_one(".learning").text
    assert page.select_one("#experiments h2 .verdict-testing").text == "1 being tested"


def test_a_strategy_of_another_map_or_deleted_is_404(owner_client, journey, fee):
    other = make_map(make_user("else@example.com", "Else"))
    foreign = add_strategy(other, "Theirs")
    assert owner_client.get(url(journey, f"/{foreign.id}")).status_code == 404
    gone = add_strategy(journey, "Gone")
    owner_client.post(url(journey, f"/{gone.id}/delete"))
    assert owner_client.get(url(journey, f"/{gone.id}")).status_code == 404


def test_edit_saves_and_changes_its_barriers(owner_client, journey, fee, bug):
    row = add_strategy(journey, "Fee upfront", [fee])
    page = soup(owner_client.get(url(journey, f"/{row.id}/edit")))
    prefix = f"strategy-{row.id}"
    checked = page.select(f"input[name={prefix}-barriers][checked]")
    assert [c["value"] for c in checked] == [str(fee.id)]
    data = {
        f"{prefix}-version": page.select_one(f"input[name={prefix}-version]")["value"],
        f"{prefix}-title": "Fee upfront, everywhere",
        f"{prefix}-impact": "9",
        f"{prefix}-confidence": "6",
        f"{prefix}-effort": "4",
        f"{prefix}-status": "in-progress",
        f"{prefix}-barriers": [str(bug.id)],
    }
    response = owner_client.post(url(journey, f"/{row.id}/edit"), data=data)
    assert response.status_code == 303
    db.session.refresh(row)
    assert (row.title, row.impact, row.status, row.version) == (
        "Fee upfront, everywhere",
        9,
        "in-progress",
        2,
    )
    assert db.session.scalars(select(StrategyBarrier.barrier_id)).all() == [bug.id]


def test_stale_edit_is_409_with_the_saved_values(owner_client, journey, fee):
    row = add_strategy(journey, "Original", [fee])
    prefix = f"strategy-{row.id}"
    data = {
        f"{prefix}-version": str(row.version),
        f"{prefix}-title": "Mine",
        f"{prefix}-impact": "5",
        f"{prefix}-confidence": "5",
        f"{prefix}-effort": "5",
        f"{prefix}-status": "idea",
        f"{prefix}-barriers": [str(fee.id)],
    }
    row.title = "Theirs"
    db.session.commit()  # someone else saved meanwhile: version 2
    response = owner_client.post(url(journey, f"/{row.id}/edit"), data=data)
    assert response.status_code == 409
    page = soup(response)
    assert page.select_one(".stale")
    assert page.select_one(f"input[name={prefix}-title]")["value"] == "Theirs"
    assert page.select_one(f"input[name={prefix}-version]")["value"] == "2"
    db.session.refresh(row)
    assert row.title == "Theirs"


def test_delete_then_undo(owner_client, journey, fee):
    row = add_strategy(journey, "Fee upfront", [fee])
    response = owner_client.post(url(journey, f"/{row.id}/delete"))
    assert response.status_code == 303
    assert listed(owner_client, journey) == []
    db.session.refresh(row)
    assert row.deletion_id is not None
    undo = owner_client.post(
        f"/maps/{journey.id}/undo/{row.deletion_id}", data={"next": url(journey)}
    )
    assert undo.status_code == 303
    assert [r["title"] for r in listed(owner_client, journey)] == ["Fee upfront"]
    assert db.session.scalar(select(func.count()).select_from(StrategyBarrier)) == 1


def test_deleting_a_strategy_hides_its_experiments_until_undo(owner_client, journey, fee):
    row = add_strategy(journey, "Fee upfront", [fee])
    test = Experiment(journey_id=journey.id, key="e", strategy_id=row.id, metric="custom")
    db.session.add(test)
    db.session.commit()
    owner_client.post(url(journey, f"/{row.id}/delete"))
    db.session.refresh(test)
    db.session.refresh(row)
    assert test.deletion_id == row.deletion_id is not None
    owner_client.post(f"/maps/{journey.id}/undo/{row.deletion_id}")
    db.session.refresh(test)
    assert test.deletion_id is None


def test_htmx_delete_answers_the_section_with_an_undo(owner_client, journey, fee):
    row = add_strategy(journey, "Fee upfront", [fee])
    response = owner_client.post(url(journey, f"/{row.id}/delete"), headers=HTMX)
    assert response.status_code == 200
    page = soup(response)
    assert page.select("section#strategies li.strategy") == []
    assert page.select_one("#notices form")["action"].startswith(f"/maps/{journey.id}/undo/")


# --- from a barrier's page ---------------------------------------------------------------------


def test_propose_from_a_barrier_prechecks_it(owner_client, journey, fee, bug):
    page = soup(owner_client.get(f"/maps/{journey.id}/barriers/{fee.id}"))
    link = page.select_one("#propose-strategy")
    assert link["href"] == url(journey, f"/new?barrier={fee.id}")
    form_page = soup(owner_client.get(link["href"]))
    checked = form_page.select("input[name=strategy-new-barriers][checked]")
    assert [c["value"] for c in checked] == [str(fee.id)]


def test_barrier_page_lists_the_strategies_addressing_it(owner_client, journey, fee, bug):
    add_strategy(journey, "Small", [fee], impact=2)
    add_strategy(journey, "Big", [fee, bug], impact=9)
    add_strategy(journey, "Elsewhere", [bug])
    page = soup(owner_client.get(f"/maps/{journey.id}/barriers/{fee.id}"))
    assert [a.text for a in page.select("#barrier-strategies li a")] == ["Big", "Small"]


# --- access -----------------------------------------------------------------------------------


def test_viewers_read_but_cannot_write(viewer_client, journey, fee):
    row = add_strategy(journey, "Fee upfront", [fee])
    page = soup(viewer_client.get(url(journey)))
    assert [li.select_one(".strategy-title").text for li in page.select("li.strategy")] == [
        "Fee upfront"
    ]
    assert page.select("#strategies form[method=post]") == []
    assert viewer_client.get(url(journey, f"/{row.id}")).status_code == 200
    detail = soup(viewer_client.get(url(journey, f"/{row.id}")))
    assert detail.select("main form[method=post]") == [] and "Edit" not in detail.main.text
    barrier_page = soup(viewer_client.get(f"/maps/{journey.id}/barriers/{fee.id}"))
    assert barrier_page.select("#propose-strategy") == []
    assert viewer_client.post(url(journey, "/new"), data=form(fee)).status_code == 403
    assert viewer_client.post(url(journey, f"/{row.id}/delete")).status_code == 403


def test_outsiders_get_404(app, journey, fee):
    row = add_strategy(journey, "Fee upfront", [fee])
    client = app.test_client()
    sign_in(client, make_user("stranger@example.com", "Stan"))
    assert client.get(url(journey)).status_code == 404
    assert client.get(url(journey, f"/{row.id}")).status_code == 404
