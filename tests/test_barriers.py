"""Barriers (step 4): the ranked list with filters, create/edit (422 next to fields, 409 when
stale, forged places refused), delete with undo, evidence links counted as frequency, dot votes
(at most VOTES_PER_MEMBER per member, counted exactly), viewers read only, outsiders get 404."""

import threading

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from cjm import evidence, store
from cjm.barriers import VOTES_PER_MEMBER
from cjm.extensions import db
from cjm.models import (
    Barrier,
    BarrierEvidence,
    BarrierSegment,
    BarrierVote,
    Checklist,
    ChecklistItem,
    Segment,
    Touchpoint,
    Transition,
    Visit,
    VisitAnswer,
)
from tests.conftest import sign_in
from tests.factories import add_member, make_map, make_user

HTMX = {"HX-Request": "true"}


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def url(journey, tail: str = "") -> str:
    return f"/maps/{journey.id}/barriers{tail}"


def touchpoint(journey, key: str) -> Touchpoint:
    return db.session.scalar(select(Touchpoint).filter_by(journey_id=journey.id, key=key))


def transition(journey, key: str) -> Transition:
    return db.session.scalar(select(Transition).filter_by(journey_id=journey.id, key=key))


def form(where: str, **changes) -> dict:
    data = {
        "barrier-new-place": where,
        "barrier-new-title": "Hidden delivery fee",
        "barrier-new-description": "The fee appears only at payment.",
        "barrier-new-type": "price",
        "barrier-new-severity": "4",
        "barrier-new-status": "open",
    }
    return {**data, **{f"barrier-new-{k}": v for k, v in changes.items()}}


def make_barrier(journey, title="Slow page", severity=3, status="open", type="technical", **at):
    """A committed barrier on a touchpoint (touchpoint=key) or transition (transition=key)."""
    row = Barrier(
        journey_id=journey.id,
        key=store.new_key(Barrier, journey.id, title, "barrier"),
        title=title,
        type=type,
        severity=severity,
        status=status,
        touchpoint_id=touchpoint(journey, at["touchpoint"]).id if "touchpoint" in at else None,
        transition_id=transition(journey, at["transition"]).id if "transition" in at else None,
    )
    db.session.add(row)
    db.session.commit()
    return row


def observe(journey, key: str, **fields):
    row = evidence.add_observation(
        journey.id, touchpoint_id=touchpoint(journey, key).id, source="survey", **fields
    )
    db.session.commit()
    return row


def rows(response) -> list[dict]:
    """The list's rows as {title, where, type, severity, frequency, votes, status, priority}."""
    found = []
    for tr in soup(response).select("#barriers tr.barrier-row"):
        found.append(
            {
                name: tr.select_one(f"td.{name}").get_text(" ", strip=True)
                for name in ("where", "type", "severity", "frequency", "status")
            }
            | {
                "title": tr.select_one("td.title a").text,
                "votes": tr.select_one("td.votes .dots").text,
                "priority": tr.select_one("td.priority strong").text,
            }
        )
    return found


@pytest.fixture
def viewer_client(app, journey):
    viewer = make_user("viewer@example.com", "Vera Viewer")
    add_member(journey, viewer, "viewer")
    client = app.test_client()
    sign_in(client, viewer)
    return client


# --- list, create, edit, delete ---------------------------------------------------------------


def test_empty_page_with_the_tab_and_the_formula(owner_client, journey):
    response = owner_client.get(url(journey))
    assert response.status_code == 200
    page = soup(response)
    tab = page.select_one(".tabs a[aria-current=page]")
    assert (tab.text, tab["href"]) == ("Barriers", url(journey))
    assert "log₂" in page.select_one("#priority-formula").text
    assert page.select("#barriers tr.barrier-row") == []
    create = page.select_one("form#barrier-new")
    assert (create["method"], create["action"]) == ("post", url(journey, "/new"))


def test_create_on_a_touchpoint_with_segments(owner_client, journey):
    segments = [
        Segment(journey_id=journey.id, key=k, name=n, position=i)
        for i, (k, n) in enumerate([("new", "New customers"), ("b2b", "B2B")])
    ]
    db.session.add_all(segments)
    db.session.commit()
    paid = touchpoint(journey, "paid")
    response = owner_client.post(
        url(journey, "/new"), data=form(f"tp-{paid.id}", segments=[str(segments[1].id)])
    )
    assert response.status_code == 303
    row = db.session.scalar(select(Barrier))
    assert response.headers["Location"] == url(journey, f"/{row.id}")
    assert (row.touchpoint_id, row.transition_id, row.type, row.severity) == (
        paid.id,
        None,
        "price",
        4,
    )
    assert db.session.scalars(select(BarrierSegment.segment_id)).all() == [segments[1].id]
    # 4 × (1 + log2 1) × 40 of 100 entering = 1.6
    assert rows(owner_client.get(url(journey))) == [
        {
            "title": "Hidden delivery fee",
            "where": "Pays",
            "type": "Price",
            "severity": "4",
            "frequency": "0",
            "votes": "0",
            "status": "Open",
            "priority": "1.6",
        }
    ]


def test_create_on_a_transition_shows_both_ends(owner_client, journey):
    tr = transition(journey, "cart-call")
    assert owner_client.post(url(journey, "/new"), data=form(f"tr-{tr.id}")).status_code == 303
    row = db.session.scalar(select(Barrier))
    assert (row.touchpoint_id, row.transition_id) == (None, tr.id)
    assert rows(owner_client.get(url(journey)))[0]["where"] == "Fills the cart → Calls to ask"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"place": ""}, "place"),
        ({"type": "gossip"}, "type"),
        ({"severity": "9"}, "severity"),
        ({"status": "forgotten"}, "status"),
    ],
)
def test_invalid_create_is_422_next_to_the_field(owner_client, journey, changes, field):
    paid = touchpoint(journey, "paid")
    response = owner_client.post(url(journey, "/new"), data=form(f"tp-{paid.id}", **changes))
    assert response.status_code == 422
    assert soup(response).select_one(f"#barrier-new-{field}-error")
    assert db.session.scalar(select(func.count(Barrier.id))) == 0


def test_forged_places_and_segments_are_422(owner_client, journey, owner):
    other = make_map(owner)
    foreign_tp = touchpoint(other, "paid")
    foreign_tr = transition(other, "ad-cart")
    foreign_segment = Segment(journey_id=other.id, key="x", name="X")
    db.session.add(foreign_segment)
    db.session.commit()
    paid = touchpoint(journey, "paid")
    for data, field in (
        (form(f"tp-{foreign_tp.id}"), "place"),
        (form(f"tr-{foreign_tr.id}"), "place"),
        (form("tp-abc"), "place"),
        (form(f"tp-{paid.id}", segments=[str(foreign_segment.id)]), "segments"),
    ):
        response = owner_client.post(url(journey, "/new"), data=data)
        assert response.status_code == 422
        assert soup(response).select_one(f"#barrier-new-{field}-error")
    assert db.session.scalar(select(func.count(Barrier.id))) == 0


def test_htmx_create_answers_the_section(owner_client, journey):
    paid = touchpoint(journey, "paid")
    response = owner_client.post(url(journey, "/new"), data=form(f"tp-{paid.id}"), headers=HTMX)
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("section#barriers") and not page.select_one(".map-head")
    assert [r.select_one("td.title a").text for r in page.select("tr.barrier-row")] == [
        "Hidden delivery fee"
    ]
    invalid = owner_client.post(
        url(journey, "/new"), data=form(f"tp-{paid.id}", title=""), headers=HTMX
    )
    assert invalid.status_code == 422
    assert soup(invalid).select_one("section#barriers #barrier-new-title-error")


def test_ranked_by_priority_then_filtered(owner_client, journey):
    make_barrier(journey, "On the ad", severity=2, touchpoint="ad", type="trust")  # 2 × 1 × 1
    make_barrier(journey, "On paying", severity=5, touchpoint="paid")  # 5 × 1 × 0.4 = 2
    make_barrier(journey, "On calling", severity=5, touchpoint="call", status="resolved")  # 1.5
    make_barrier(journey, "On the drop-out", severity=1, transition="cart-gone")  # 0.3
    listed = rows(owner_client.get(url(journey)))
    # Ties (2 and 2) keep the older barrier first.
    assert [(r["title"], r["priority"]) for r in listed] == [
        ("On the ad", "2"),
        ("On paying", "2"),
        ("On calling", "1.5"),
        ("On the drop-out", "0.3"),
    ]
    resolved = rows(owner_client.get(url(journey, "?status=resolved")))
    assert [r["title"] for r in resolved] == ["On calling"]
    trust = rows(owner_client.get(url(journey, "?type=trust")))
    assert [r["title"] for r in trust] == ["On the ad"]
    # An unknown filter value is ignored, not an error.
    assert len(rows(owner_client.get(url(journey, "?status=bogus")))) == 4


def test_edit_saves_and_a_stale_version_is_409(owner_client, journey):
    row = make_barrier(journey, touchpoint="paid")
    page = soup(owner_client.get(url(journey, f"/{row.id}/edit")))
    prefix = f"barrier-{row.id}-"
    assert page.select_one(f"#{prefix}place option[selected]")["value"] == f"tp-{row.touchpoint_id}"
    version = page.select_one(f"input[name={prefix}version]")["value"]
    cart = touchpoint(journey, "cart")
    data = {
        f"{prefix}version": version,
        f"{prefix}place": f"tp-{cart.id}",
        f"{prefix}title": "Slow cart",
        f"{prefix}type": "technical",
        f"{prefix}severity": "2",
        f"{prefix}status": "mitigated",
    }
    response = owner_client.post(url(journey, f"/{row.id}/edit"), data=data)
    assert response.status_code == 303
    db.session.refresh(row)
    assert (row.title, row.touchpoint_id, row.severity, row.status) == (
        "Slow cart",
        cart.id,
        2,
        "mitigated",
    )
    stale = owner_client.post(
        url(journey, f"/{row.id}/edit"), data={**data, f"{prefix}title": "Overwrite"}
    )
    assert stale.status_code == 409
    page = soup(stale)
    assert page.select_one(".stale")
    assert page.select_one(f"#{prefix}title")["value"] == "Slow cart"
    db.session.refresh(row)
    assert row.title == "Slow cart"


def test_edit_refuses_a_forged_place(owner_client, journey, owner):
    row = make_barrier(journey, touchpoint="paid")
    foreign = touchpoint(make_map(owner), "paid")
    prefix = f"barrier-{row.id}-"
    data = {
        f"{prefix}version": str(row.version),
        f"{prefix}place": f"tp-{foreign.id}",
        f"{prefix}title": "Moved away",
        f"{prefix}type": "technical",
        f"{prefix}severity": "2",
        f"{prefix}status": "open",
    }
    response = owner_client.post(url(journey, f"/{row.id}/edit"), data=data)
    assert response.status_code == 422
    assert soup(response).select_one(f"#{prefix}place-error")


def test_delete_then_undo(owner_client, journey):
    row = make_barrier(journey, touchpoint="paid")
    response = owner_client.post(url(journey, f"/{row.id}/delete"))
    assert response.status_code == 303
    page = soup(owner_client.get(response.headers["Location"]))
    assert page.select("tr.barrier-row") == []
    undo = page.select_one(".notice.undo form")
    back = owner_client.post(
        undo["action"], data={"next": undo.find("input", {"name": "next"})["value"]}
    )
    assert back.headers["Location"] == url(journey)
    assert [r["title"] for r in rows(owner_client.get(url(journey)))] == ["Slow page"]


def test_htmx_delete_answers_the_list_with_the_undo_notice(owner_client, journey):
    row = make_barrier(journey, touchpoint="paid")
    response = owner_client.post(url(journey, f"/{row.id}/delete"), headers=HTMX)
    page = soup(response)
    assert page.select_one("section#barriers") and page.select("tr.barrier-row") == []
    assert page.find("hx-partial").select_one(".notice.undo")


def test_a_barrier_on_a_hidden_touchpoint_drops_out(owner_client, journey, owner):
    row = make_barrier(journey, touchpoint="paid")
    store.soft_delete([touchpoint(journey, "paid")], journey.id, owner.id, "paid")
    db.session.commit()
    assert rows(owner_client.get(url(journey))) == []
    assert owner_client.get(url(journey, f"/{row.id}")).status_code == 404


def test_viewer_reads_but_cannot_write(viewer_client, journey):
    row = make_barrier(journey, touchpoint="paid")
    page = soup(viewer_client.get(url(journey)))
    assert [r["title"] for r in rows(viewer_client.get(url(journey)))] == ["Slow page"]
    assert page.select("form#barrier-new") == [] and page.select("td.actions") == []
    assert viewer_client.get(url(journey, f"/{row.id}")).status_code == 200
    paid = touchpoint(journey, "paid")
    for path, data in (
        ("/new", form(f"tp-{paid.id}")),
        (f"/{row.id}/delete", {}),
        (f"/{row.id}/vote", {}),
        (f"/{row.id}/evidence", {}),
    ):
        assert viewer_client.post(url(journey, path), data=data).status_code == 403


def test_outsiders_get_404(app, journey):
    row = make_barrier(journey, touchpoint="paid")
    stranger = make_user("stranger@example.com", "Stan")
    client = app.test_client()
    sign_in(client, stranger)
    assert client.get(url(journey)).status_code == 404
    assert client.get(url(journey, f"/{row.id}")).status_code == 404


def test_another_maps_barrier_is_404(owner_client, journey, owner):
    other = make_map(owner)
    row = make_barrier(other, touchpoint="paid")
    assert owner_client.get(url(journey, f"/{row.id}")).status_code == 404
    assert owner_client.post(url(journey, f"/{row.id}/vote")).status_code == 404


def test_user_text_is_escaped(owner_client, journey):
    make_barrier(journey, title="<script>alert(1)</script>", touchpoint="paid")
    page = soup(owner_client.get(url(journey)))
    assert page.select("#barriers script") == []
    assert page.select_one("td.title a").text == "<script>alert(1)</script>"


# --- evidence ---------------------------------------------------------------------------------


@pytest.fixture
def failed_answer(journey, owner):
    """A submitted visit at "paid" whose yes/no item was answered "no", and a passed one."""
    checklist = Checklist(journey_id=journey.id, key="shop", name="Shop")
    checklist.items = [
        ChecklistItem(text="Was the fee shown?", kind="yes-no", position=0),
        ChecklistItem(text="Rate the page", kind="scale-5", position=1),
    ]
    db.session.add(checklist)
    db.session.flush()
    visit = Visit(
        journey_id=journey.id,
        checklist_id=checklist.id,
        user_id=owner.id,
        touchpoint_id=touchpoint(journey, "paid").id,
        status="submitted",
    )
    db.session.add(visit)
    db.session.flush()
    failed = VisitAnswer(visit_id=visit.id, item_id=checklist.items[0].id, yes=False)
    passed = VisitAnswer(visit_id=visit.id, item_id=checklist.items[1].id, number=5)
    db.session.add_all([failed, passed])
    db.session.commit()
    return failed, passed, visit


def test_link_and_unlink_an_observation_counts_frequency(owner_client, journey):
    row = make_barrier(journey, touchpoint="paid")
    here = observe(journey, "paid", csat=1, verbatim="Fee appeared late")
    elsewhere = observe(journey, "cart", csat=2)
    page = soup(owner_client.get(url(journey, f"/{row.id}")))
    # The picker defaults to the barrier's touchpoint.
    assert page.select_one("#picker-touchpoint option[selected]")["value"] == str(
        touchpoint(journey, "paid").id
    )
    assert [int(li["data-id"]) for li in page.select("li.candidate-observation")] == [here.id]
    everything = soup(owner_client.get(url(journey, f"/{row.id}?touchpoint=")))
    assert {int(li["data-id"]) for li in everything.select("li.candidate-observation")} == {
        here.id,
        elsewhere.id,
    }
    response = owner_client.post(
        url(journey, f"/{row.id}/evidence"), data={"observation_id": here.id}
    )
    assert response.status_code == 303
    page = soup(owner_client.get(url(journey, f"/{row.id}")))
    assert page.select_one("#frequency").text == "frequency 1"
    assert [int(li["data-id"]) for li in page.select("li.linked-observation")] == [here.id]
    assert page.select("li.candidate-observation") == []
    assert rows(owner_client.get(url(journey)))[0]["frequency"] == "1"
    # Linking twice changes nothing.
    owner_client.post(url(journey, f"/{row.id}/evidence"), data={"observation_id": here.id})
    assert db.session.scalar(select(func.count(BarrierEvidence.id))) == 1
    owner_client.post(url(journey, f"/{row.id}/evidence/remove"), data={"observation_id": here.id})
    assert rows(owner_client.get(url(journey)))[0]["frequency"] == "0"


def test_link_a_failed_answer(owner_client, journey, failed_answer):
    failed, passed, _visit = failed_answer
    row = make_barrier(journey, touchpoint="paid")
    page = soup(owner_client.get(url(journey, f"/{row.id}")))
    assert [int(li["data-id"]) for li in page.select("li.candidate-answer")] == [failed.id]
    response = owner_client.post(
        url(journey, f"/{row.id}/evidence"), data={"answer_id": failed.id}, headers=HTMX
    )
    assert response.status_code == 200
    section = soup(response)
    assert section.select_one("section#evidence #frequency").text == "frequency 1"
    assert [int(li["data-id"]) for li in section.select("li.linked-answer")] == [failed.id]


def test_a_transition_barrier_picks_evidence_at_its_source(owner_client, journey):
    row = make_barrier(journey, transition="cart-call")
    page = soup(owner_client.get(url(journey, f"/{row.id}")))
    assert page.select_one("#picker-touchpoint option[selected]")["value"] == str(
        touchpoint(journey, "cart").id
    )


def test_forged_or_missing_evidence_is_422(owner_client, journey, owner):
    row = make_barrier(journey, touchpoint="paid")
    foreign = observe(make_map(owner), "paid", csat=1)
    for data in ({"observation_id": foreign.id}, {"observation_id": "x"}, {"answer_id": 99999}, {}):
        response = owner_client.post(url(journey, f"/{row.id}/evidence"), data=data)
        assert response.status_code == 422
        assert soup(response).select_one("#link-error")
    assert db.session.scalar(select(func.count(BarrierEvidence.id))) == 0


def test_hidden_evidence_does_not_count_until_undone(owner_client, journey, owner):
    row = make_barrier(journey, touchpoint="paid")
    obs = observe(journey, "paid", csat=1)
    owner_client.post(url(journey, f"/{row.id}/evidence"), data={"observation_id": obs.id})
    deletion = store.soft_delete([obs], journey.id, owner.id, "obs")
    db.session.commit()
    assert rows(owner_client.get(url(journey)))[0]["frequency"] == "0"
    store.restore(deletion)
    db.session.commit()
    assert rows(owner_client.get(url(journey)))[0]["frequency"] == "1"


def test_frequency_raises_priority(owner_client, journey):
    row = make_barrier(journey, severity=4, touchpoint="paid")
    for _ in range(3):
        obs = observe(journey, "paid", csat=1)
        owner_client.post(url(journey, f"/{row.id}/evidence"), data={"observation_id": obs.id})
    # 4 × (1 + log2 4) × 0.4 = 4.8
    assert rows(owner_client.get(url(journey)))[0]["priority"] == "4.8"
    detail = soup(owner_client.get(url(journey, f"/{row.id}")))
    assert (
        detail.select_one(".priority-inputs").text == "severity 4 × (1 + log₂(1 + 3)) × reach 40%"
    )


# --- dot votes --------------------------------------------------------------------------------


def test_votes_up_to_the_limit_then_409(owner_client, journey):
    first = make_barrier(journey, "First", touchpoint="paid")
    second = make_barrier(journey, "Second", touchpoint="cart")
    for _ in range(VOTES_PER_MEMBER - 1):
        assert owner_client.post(url(journey, f"/{first.id}/vote")).status_code == 303
    assert owner_client.post(url(journey, f"/{second.id}/vote")).status_code == 303
    refused = owner_client.post(url(journey, f"/{second.id}/vote"))
    assert refused.status_code == 409
    assert soup(refused).select_one("#vote-error")
    assert db.session.scalar(select(func.count(BarrierVote.id))) == VOTES_PER_MEMBER
    listed = {r["title"]: r["votes"] for r in rows(owner_client.get(url(journey)))}
    assert listed == {"First": str(VOTES_PER_MEMBER - 1), "Second": "1"}
    page = soup(owner_client.get(url(journey)))
    assert page.select_one("#dots-left").text == f"Your dots left: 0 of {VOTES_PER_MEMBER}"
    # Taking one back frees a dot.
    assert owner_client.post(url(journey, f"/{first.id}/unvote")).status_code == 303
    assert owner_client.post(url(journey, f"/{second.id}/vote")).status_code == 303


def test_unvote_without_a_dot_is_409(owner_client, journey):
    row = make_barrier(journey, touchpoint="paid")
    response = owner_client.post(url(journey, f"/{row.id}/unvote"))
    assert response.status_code == 409
    assert soup(response).select_one("#vote-error")


def test_each_member_has_their_own_dots(app, owner_client, journey):
    row = make_barrier(journey, touchpoint="paid")
    editor = make_user("editor@example.com", "Ed")
    add_member(journey, editor, "editor")
    other = app.test_client()
    sign_in(other, editor)
    for _ in range(VOTES_PER_MEMBER):
        assert owner_client.post(url(journey, f"/{row.id}/vote")).status_code == 303
        assert other.post(url(journey, f"/{row.id}/vote")).status_code == 303
    assert rows(owner_client.get(url(journey)))[0]["votes"] == str(2 * VOTES_PER_MEMBER)


def test_htmx_vote_answers_the_list_and_the_detail_votes(owner_client, journey):
    row = make_barrier(journey, touchpoint="paid")
    response = owner_client.post(url(journey, f"/{row.id}/vote"), headers=HTMX)
    assert response.status_code == 200
    assert soup(response).select_one("section#barriers tr.barrier-row .dots").text == "1"
    detail = owner_client.post(
        url(journey, f"/{row.id}/vote"), data={"from": "detail"}, headers=HTMX
    )
    assert detail.status_code == 200
    assert soup(detail).select_one("div#barrier-votes .dots").text == "2"


def test_votes_are_counted_exactly_under_concurrency(app, owner, journey):
    row = make_barrier(journey, touchpoint="paid")
    barrier_url, attempts = url(journey, f"/{row.id}/vote"), VOTES_PER_MEMBER + 5
    statuses, start = [], threading.Barrier(attempts)
    clients = [app.test_client() for _ in range(attempts)]
    for client in clients:
        sign_in(client, owner)

    def vote(client):
        start.wait()
        statuses.append(client.post(barrier_url).status_code)

    threads = [threading.Thread(target=vote, args=(client,)) for client in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    assert db.session.scalar(select(func.count(BarrierVote.id))) == VOTES_PER_MEMBER
    assert sorted(statuses) == [303] * VOTES_PER_MEMBER + [409] * 5
