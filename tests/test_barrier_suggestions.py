"""Suggested barriers: worst mean CSAT and CES per touchpoint, the largest drop-out, checklist
items mystery shoppers fail, clusters of negative verbatims — each with its figure; Accept creates
the barrier with the evidence behind the figure linked, Dismiss keeps it away for good."""

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from cjm import evidence, store
from cjm.extensions import db
from cjm.models import (
    Barrier,
    BarrierEvidence,
    Checklist,
    ChecklistItem,
    DismissedSuggestion,
    Touchpoint,
    Transition,
    Visit,
    VisitAnswer,
)
from tests.conftest import sign_in
from tests.factories import add_member, make_user


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def url(journey, tail: str = "") -> str:
    return f"/maps/{journey.id}/barriers{tail}"


@pytest.fixture
def tps(journey) -> dict[str, Touchpoint]:
    rows = db.session.scalars(select(Touchpoint).filter_by(journey_id=journey.id))
    return {t.key: t for t in rows}


def observe(journey, tp, **fields):
    return evidence.add_observation(journey.id, touchpoint_id=tp.id, source="survey", **fields)


@pytest.fixture
def research(journey, tps, owner):
    """Evidence with known figures (see each test), committed; returns the interesting ids."""
    paid = [
        observe(journey, tps["paid"], csat=1, verbatim="The fee came out of nowhere"),
        observe(journey, tps["paid"], csat=2, verbatim="Hidden costs"),
        observe(journey, tps["paid"], csat=4),
    ]
    observe(journey, tps["cart"], csat=4)
    observe(journey, tps["cart"], csat=5, verbatim="Fine")
    call = [
        observe(journey, tps["call"], ces=6),
        observe(journey, tps["call"], ces=5),
        observe(journey, tps["call"], ces=2),
    ]
    checklist = Checklist(journey_id=journey.id, key="shop", name="Shop")
    checklist.items = [ChecklistItem(text="Delivery price shown?", kind="yes-no", position=0)]
    db.session.add(checklist)
    db.session.flush()
    answers = []
    for status, yes in (
        ("submitted", False),
        ("submitted", False),
        ("submitted", True),
        ("draft", False),
    ):
        visit = Visit(
            journey_id=journey.id,
            checklist_id=checklist.id,
            user_id=owner.id,
            touchpoint_id=tps["cart"].id,
            status=status,
        )
        db.session.add(visit)
        db.session.flush()
        answer = VisitAnswer(visit_id=visit.id, item_id=checklist.items[0].id, yes=yes)
        db.session.add(answer)
        answers.append(answer)
    db.session.commit()
    return {
        "paid": [o.id for o in paid],
        "call": [o.id for o in call],
        "item": checklist.items[0].id,
        "failed": [answers[0].id, answers[1].id],
    }


def suggested(client, journey) -> dict[str, dict]:
    """The suggestions on the page by code: title and figure."""
    page = soup(client.get(url(journey)))
    return {
        li["data-code"]: {
            "title": li.select_one(".suggestion-title").text,
            "figure": li.select_one(".figure").text,
        }
        for li in page.select("#suggestions li.suggestion")
    }


def test_each_kind_is_proposed_with_its_figure(owner_client, journey, tps, research):
    gone = db.session.scalar(select(Transition).filter_by(journey_id=journey.id, key="cart-gone"))
    found = suggested(owner_client, journey)
    assert found == {
        f"worst-csat:touchpoint:{tps['paid'].id}": {
            "title": "Low satisfaction at “Pays”",
            "figure": "Mean CSAT 2.3 of 5 (n = 3); 2 dissatisfied answers (CSAT ≤ 2).",
        },
        f"worst-ces:touchpoint:{tps['call'].id}": {
            "title": "Hard to get through “Calls to ask”",
            "figure": "Mean CES 4.3 of 7, lower is easier (n = 3); 2 hard (CES ≥ 5).",
        },
        # 30 of the 125 arriving at the cart (100 + 25 looping back) drop out: 24 %.
        f"drop-off:transition:{gone.id}": {
            "title": "Customers drop out: Fills the cart → Leaves",
            "figure": "30 customers drop out here (24% of those at “Fills the cart”); "
            "from volumes, no evidence to link.",
        },
        # The draft visit's "no" does not count: 2 failed of 3 submitted answers.
        f"failed-item:item:{research['item']}:touchpoint:{tps['cart'].id}": {
            "title": "“Delivery price shown?” fails at “Fills the cart”",
            "figure": "Failed in 2 of 3 mystery-shopper answers (66.7%).",
        },
        f"negative-verbatims:touchpoint:{tps['paid'].id}": {
            "title": "Negative verbatims about “Pays”",
            "figure": "2 negative verbatims (a verbatim with CSAT ≤ 2) at this touchpoint.",
        },
    }


def test_nothing_but_the_drop_out_without_evidence(owner_client, journey):
    assert [code.split(":")[0] for code in suggested(owner_client, journey)] == ["drop-off"]


def test_accept_creates_the_barrier_with_its_evidence_linked(owner_client, journey, tps, research):
    code = f"worst-csat:touchpoint:{tps['paid'].id}"
    response = owner_client.post(url(journey, "/suggestions/accept"), data={"code": code})
    assert response.status_code == 303
    row = db.session.scalar(select(Barrier))
    assert response.headers["Location"] == url(journey, f"/{row.id}")
    assert (row.title, row.touchpoint_id, row.type, row.severity, row.status) == (
        "Low satisfaction at “Pays”",
        tps["paid"].id,
        "emotional",
        3,
        "open",
    )
    assert row.description.startswith("Mean CSAT 2.3 of 5")
    linked = db.session.scalars(select(BarrierEvidence.observation_id)).all()
    assert sorted(linked) == research["paid"][:2]  # the two with CSAT ≤ 2
    page = soup(owner_client.get(response.headers["Location"]))
    assert page.select_one("#frequency").text == "frequency 2"
    assert code not in suggested(owner_client, journey)


def test_accept_a_failed_item_links_the_failed_answers(owner_client, journey, tps, research):
    code = f"failed-item:item:{research['item']}:touchpoint:{tps['cart'].id}"
    assert (
        owner_client.post(url(journey, "/suggestions/accept"), data={"code": code}).status_code
        == 303
    )
    assert sorted(db.session.scalars(select(BarrierEvidence.answer_id))) == research["failed"]
    assert db.session.scalar(select(Barrier.type)) == "organisational"


def test_a_place_with_a_recorded_barrier_is_not_suggested_again(owner_client, journey):
    gone = db.session.scalar(select(Transition).filter_by(journey_id=journey.id, key="cart-gone"))
    row = Barrier(
        journey_id=journey.id, key="b", title="Leaves", type="price", transition_id=gone.id
    )
    db.session.add(row)
    db.session.commit()
    assert suggested(owner_client, journey) == {}
    store.soft_delete([row], journey.id, None, "b")
    db.session.commit()
    assert list(suggested(owner_client, journey)) == [f"drop-off:transition:{gone.id}"]


def test_accept_a_drop_off_sits_on_the_transition(owner_client, journey):
    gone = db.session.scalar(select(Transition).filter_by(journey_id=journey.id, key="cart-gone"))
    code = f"drop-off:transition:{gone.id}"
    assert (
        owner_client.post(url(journey, "/suggestions/accept"), data={"code": code}).status_code
        == 303
    )
    row = db.session.scalar(select(Barrier))
    assert (row.transition_id, row.touchpoint_id) == (gone.id, None)
    assert db.session.scalar(select(func.count(BarrierEvidence.id))) == 0


def test_dismiss_keeps_it_away(owner_client, journey, tps, research):
    code = f"worst-ces:touchpoint:{tps['call'].id}"
    response = owner_client.post(url(journey, "/suggestions/dismiss"), data={"code": code})
    assert response.status_code == 303
    assert db.session.scalars(select(DismissedSuggestion.code)).all() == [code]
    assert code not in suggested(owner_client, journey)
    assert len(suggested(owner_client, journey)) == 4
    # More data does not bring it back: the code is stable.
    observe(journey, tps["call"], ces=7)
    db.session.commit()
    assert code not in suggested(owner_client, journey)


def test_htmx_dismiss_answers_the_section(owner_client, journey, tps, research):
    code = f"worst-ces:touchpoint:{tps['call'].id}"
    response = owner_client.post(
        url(journey, "/suggestions/dismiss"), data={"code": code}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("section#suggestions") and not page.select_one(".map-head")
    assert code not in {li["data-code"] for li in page.select("li.suggestion")}


def test_no_code_is_422_and_a_stale_code_409(owner_client, journey, tps, research):
    missing = owner_client.post(url(journey, "/suggestions/accept"), data={})
    assert missing.status_code == 422
    assert soup(missing).select_one("#suggestion-error")
    code = f"worst-csat:touchpoint:{tps['paid'].id}"
    owner_client.post(url(journey, "/suggestions/dismiss"), data={"code": code})
    for action in ("accept", "dismiss"):
        again = owner_client.post(url(journey, f"/suggestions/{action}"), data={"code": code})
        assert again.status_code == 409
        assert soup(again).select_one("#suggestion-error")
    forged = owner_client.post(
        url(journey, "/suggestions/accept"), data={"code": "worst-csat:touchpoint:99999"}
    )
    assert forged.status_code == 409
    assert db.session.scalar(select(func.count(Barrier.id))) == 0


def test_viewers_see_suggestions_but_cannot_act(app, journey, tps, research):
    viewer = make_user("viewer@example.com", "Vera")
    add_member(journey, viewer, "viewer")
    client = app.test_client()
    sign_in(client, viewer)
    assert len(suggested(client, journey)) == 5
    assert soup(client.get(url(journey))).select("#suggestions form") == []
    code = f"worst-csat:touchpoint:{tps['paid'].id}"
    assert client.post(url(journey, "/suggestions/accept"), data={"code": code}).status_code == 403
    assert client.post(url(journey, "/suggestions/dismiss"), data={"code": code}).status_code == 403


# --- dismissed and accepted are told apart; dismissed ones can be restored -------------------


def dismissed_panel(client, journey):
    """The "Dismissed (N)" disclosure: its summary and its rows (code, title, figure)."""
    page = soup(client.get(url(journey)))
    box = page.select_one("#suggestions details#dismissed-suggestions")
    if box is None:
        return None, []
    rows = [
        (li["data-code"], li.select_one(".suggestion-title").text, li.select_one(".figure").text)
        for li in box.select("li.dismissed-suggestion")
    ]
    return box.summary.text, rows


def test_dismiss_and_accept_store_their_resolution(owner_client, journey, tps, research):
    dismissed = f"worst-ces:touchpoint:{tps['call'].id}"
    accepted = f"worst-csat:touchpoint:{tps['paid'].id}"
    owner_client.post(url(journey, "/suggestions/dismiss"), data={"code": dismissed})
    owner_client.post(url(journey, "/suggestions/accept"), data={"code": accepted})
    rows = db.session.execute(select(DismissedSuggestion.code, DismissedSuggestion.resolution))
    assert sorted(rows) == sorted([(dismissed, "dismissed"), (accepted, "accepted")])
    # Only the dismissed one is listed to restore; the accepted one is a barrier now.
    summary, listed = dismissed_panel(owner_client, journey)
    assert summary == "Dismissed (1)"
    assert listed == [
        (
            dismissed,
            "Hard to get through “Calls to ask”",
            "Mean CES 4.3 of 7, lower is easier (n = 3); 2 hard (CES ≥ 5).",
        )
    ]


def test_no_disclosure_while_nothing_is_dismissed(owner_client, journey, tps, research):
    assert dismissed_panel(owner_client, journey) == (None, [])


def test_restore_brings_the_suggestion_back(owner_client, journey, tps, research):
    code = f"worst-ces:touchpoint:{tps['call'].id}"
    owner_client.post(url(journey, "/suggestions/dismiss"), data={"code": code})
    assert code not in suggested(owner_client, journey)
    page = soup(owner_client.get(url(journey)))
    button = page.select_one(f"li.dismissed-suggestion[data-code='{code}'] form")
    assert button["action"] == url(journey, "/suggestions/restore")
    assert button["method"] == "post" and button.select_one("input[name=csrf_token]")
    response = owner_client.post(url(journey, "/suggestions/restore"), data={"code": code})
    assert response.status_code == 303
    assert response.headers["Location"] == url(journey) + "#suggestions"
    assert code in suggested(owner_client, journey)
    assert db.session.scalar(select(func.count(DismissedSuggestion.id))) == 0
    assert dismissed_panel(owner_client, journey) == (None, [])


def test_htmx_restore_answers_the_section(owner_client, journey, tps, research):
    code = f"worst-ces:touchpoint:{tps['call'].id}"
    owner_client.post(url(journey, "/suggestions/dismiss"), data={"code": code})
    response = owner_client.post(
        url(journey, "/suggestions/restore"), data={"code": code}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("section#suggestions") and not page.select_one(".map-head")
    assert code in {li["data-code"] for li in page.select("li.suggestion")}
    assert page.select("li.dismissed-suggestion") == []
    assert "restored" in page.select_one("#notices").text


def test_restore_refuses_accepted_unknown_and_missing_codes(owner_client, journey, tps, research):
    accepted = f"worst-csat:touchpoint:{tps['paid'].id}"
    owner_client.post(url(journey, "/suggestions/accept"), data={"code": accepted})
    for code in (accepted, "worst-ces:touchpoint:99999"):
        response = owner_client.post(url(journey, "/suggestions/restore"), data={"code": code})
        assert response.status_code == 409
        assert soup(response).select_one("#suggestion-error")
    assert owner_client.post(url(journey, "/suggestions/restore"), data={}).status_code == 422
    assert db.session.scalar(select(DismissedSuggestion.resolution)) == "accepted"


def test_a_dismissed_suggestion_the_data_no_longer_proposes_is_still_listed(
    owner_client, journey, tps, research
):
    code = f"worst-ces:touchpoint:{tps['call'].id}"
    owner_client.post(url(journey, "/suggestions/dismiss"), data={"code": code})
    for _ in range(6):  # the mean CES drops to 19 ÷ 9 ≈ 2.1: no longer bad enough to propose
        observe(journey, tps["call"], ces=1)
    db.session.commit()
    _summary, listed = dismissed_panel(owner_client, journey)
    assert listed == [
        (
            code,
            "Hard to get through “Calls to ask”",
            "The data does not propose it at the moment.",
        )
    ]
    response = owner_client.post(url(journey, "/suggestions/restore"), data={"code": code})
    assert response.status_code == 303
    assert code not in suggested(owner_client, journey)  # restored, but not proposed now


def test_viewers_see_dismissed_ones_but_cannot_restore(app, journey, tps, research, owner):
    code = f"worst-ces:touchpoint:{tps['call'].id}"
    db.session.add(DismissedSuggestion(journey_id=journey.id, code=code, user_id=owner.id))
    db.session.commit()
    viewer = make_user("viewer@example.com", "Vera")
    add_member(journey, viewer, "viewer")
    client = app.test_client()
    sign_in(client, viewer)
    summary, listed = dismissed_panel(client, journey)
    assert summary == "Dismissed (1)" and listed[0][0] == code
    assert soup(client.get(url(journey))).select("#dismissed-suggestions form") == []
    assert client.post(url(journey, "/suggestions/restore"), data={"code": code}).status_code == 403


def test_htmx_restore_keeps_the_rest_of_the_list_open(owner_client, journey, tps, research):
    for code in (f"worst-ces:touchpoint:{tps['call'].id}", "worst-csat:touchpoint:99999"):
        db.session.add(DismissedSuggestion(journey_id=journey.id, code=code))
    db.session.commit()
    _summary, listed = dismissed_panel(owner_client, journey)
    # A code whose place is gone still gets a readable title.
    assert ("worst-csat:touchpoint:99999", "A suggestion about a hidden or deleted place") in [
        row[:2] for row in listed
    ]
    response = owner_client.post(
        url(journey, "/suggestions/restore"),
        data={"code": f"worst-ces:touchpoint:{tps['call'].id}"},
        headers={"HX-Request": "true"},
    )
    box = soup(response).select_one("details#dismissed-suggestions")
    assert box.has_attr("open") and box.summary.text == "Dismissed (1)"
