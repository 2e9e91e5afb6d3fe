"""As-is and to-be on the web: "Create to-be map" copies a map through the document (same keys,
state to-be, linked, editors copied) and opens it; the comparison page shows both maps from
either side — curves, touchpoints added/removed/changed, barriers, funnel — or an empty state
with the button for editors; a partner map the user may not see is said to be hidden."""

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from cjm import documents, evidence, store
from cjm.extensions import db
from cjm.models import Barrier, BarrierEvidence, Journey, Membership, Touchpoint, Transition
from tests.conftest import sign_in
from tests.factories import add_member, make_user


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def row(model, journey_id: int, key: str):
    return db.session.scalar(select(model).filter_by(journey_id=journey_id, key=key))


@pytest.fixture
def as_is(journey):
    """The sample map with a barrier on the cart and one CSAT rating at the purchase stage."""
    cart = row(Touchpoint, journey.id, "cart")
    barrier = Barrier(journey_id=journey.id, key="fields", title="Too many fields",
                      type="functional", touchpoint_id=cart.id)  # fmt: skip
    db.session.add(barrier)
    rating = evidence.add_observation(journey.id, touchpoint_id=cart.id, source="survey", csat=2)
    db.session.flush()
    db.session.add(BarrierEvidence(barrier_id=barrier.id, observation_id=rating.id))
    db.session.commit()
    return journey


def create(client, journey):
    return client.post(f"/maps/{journey.id}/to-be")


def newest_map() -> Journey:
    return db.session.scalar(select(Journey).order_by(Journey.id.desc()))


def test_create_to_be_copies_the_map_and_opens_it(owner_client, owner, as_is):
    response = create(owner_client, as_is)
    to_be = newest_map()
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/maps/{to_be.id}")
    assert (to_be.state, to_be.as_is_id, to_be.id != as_is.id) == ("to-be", as_is.id, True)
    assert to_be.title == "Online shop — to-be"
    copy, original = documents.export_document(to_be.id), documents.export_document(as_is.id)
    # The same document apart from the head and the evidence, which stays with the as-is map
    # (it describes the present): keys match, barriers came along.
    assert original["evidence"] and original["barriers"][0]["evidence"] == [0]
    assert copy["evidence"] == [] and copy["barriers"][0]["evidence"] == []
    for doc in (copy, original):
        del doc["map"], doc["evidence"], doc["barriers"][0]["evidence"]
    assert copy == original
    # The original is untouched.
    assert db.session.get(Journey, as_is.id).state == "as-is"


def test_owners_and_editors_come_along_viewers_do_not(client, owner, as_is):
    editor, viewer = make_user("ed@example.com", "Ed"), make_user("vi@example.com", "Vi")
    add_member(as_is, editor, "editor")
    add_member(as_is, viewer, "viewer")
    sign_in(client, editor)
    assert create(client, as_is).status_code == 303
    to_be = newest_map()
    members = select(Membership.user_id, Membership.role).filter_by(journey_id=to_be.id)
    roles = {user_id: role for user_id, role in db.session.execute(members)}
    assert roles == {editor.id: "owner", owner.id: "owner"}


def test_viewers_cannot_create_a_to_be_map(client, as_is):
    viewer = make_user("vi@example.com", "Vi")
    add_member(as_is, viewer, "viewer")
    sign_in(client, viewer)
    assert create(client, as_is).status_code == 403
    page = soup(client.get(f"/maps/{as_is.id}/compare"))
    assert page.select_one("form.create-to-be") is None
    assert page.select_one("#no-partner") is not None


def test_a_to_be_map_gets_no_to_be_map_of_its_own(owner_client, as_is):
    create(owner_client, as_is)
    to_be = newest_map()
    response = create(owner_client, to_be)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/maps/{to_be.id}/compare")
    assert newest_map().id == to_be.id


def test_empty_state_offers_the_button_to_editors(owner_client, as_is):
    page = soup(owner_client.get(f"/maps/{as_is.id}/compare"))
    form = page.select_one("#no-partner form.create-to-be")
    assert form["method"] == "post" and form["action"] == f"/maps/{as_is.id}/to-be"
    assert form.find("input", {"name": "csrf_token"}) is not None
    # The map's overview has the button too.
    show = soup(owner_client.get(f"/maps/{as_is.id}"))
    assert show.select_one("#create-to-be")["action"] == f"/maps/{as_is.id}/to-be"


@pytest.fixture
def changed(owner_client, as_is):
    """A to-be map of the sample with: the cart's emotion −→ +2, "call" deleted, the barrier
    resolved, a new touchpoint, and 70 instead of 40 customers paying."""
    create(owner_client, as_is)
    to_be = newest_map()
    cart = row(Touchpoint, to_be.id, "cart")
    cart.emotion = 2
    store.soft_delete([row(Touchpoint, to_be.id, "call")], to_be.id, None, "call")
    row(Barrier, to_be.id, "fields").status = "resolved"
    row(Transition, to_be.id, "cart-paid").volume = 70
    db.session.add(
        Touchpoint(journey_id=to_be.id, key="chat", name="Chats with support", kind="step",
                   stage_id=cart.stage_id, channel_id=cart.channel_id, emotion=1, position=9)
    )  # fmt: skip
    db.session.commit()
    return to_be


@pytest.mark.parametrize("side", ["as-is", "to-be"])
def test_comparison_from_either_side(owner_client, as_is, changed, side):
    map_id = as_is.id if side == "as-is" else changed.id
    response = owner_client.get(f"/maps/{map_id}/compare")
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("#as-is-link")["href"] == f"/maps/{as_is.id}"
    assert page.select_one("#to-be-link")["href"] == f"/maps/{changed.id}"
    added = [li["data-key"] for li in page.select("#touchpoints-added li[data-key]")]
    removed = [li["data-key"] for li in page.select("#touchpoints-removed li[data-key]")]
    assert (added, removed) == (["chat"], ["call"])
    (cart,) = page.select("#touchpoints-changed li.changed")
    assert cart["data-key"] == "cart"
    assert [li["data-field"] for li in cart.select("li[data-field]")] == ["emotion"]
    assert cart.find("del").get_text(strip=True) == "0"
    assert cart.find("ins").get_text(strip=True) == "+2"
    assert [li["data-key"] for li in page.select("#barriers-resolved li[data-key]")] == ["fields"]
    assert page.select("#barriers-open li[data-key]") == []
    # Funnel before/after: 40 → 70 customers reach "use".
    use = page.select_one('#stage-table tr[data-stage="use"]')
    assert use.select_one(".reached-before").get_text(strip=True) == "40"
    assert use.select_one(".reached-after").get_text(strip=True) == "70"
    assert use.select_one(".reached-change").get_text(strip=True) == "+30"
    # Two series with a legend.
    assert [g["data-series"] for g in page.select("svg.emotion-compare g.series")] == [
        "before",
        "after",
    ]
    assert len(page.select(".legend li")) == 2
    # Evidence means where present: the one CSAT 2 at the purchase stage, on the as-is map.
    buy = page.select_one('#evidence-table tr[data-stage="buy"]')
    assert buy.select_one(".csat-before").get_text(" ", strip=True) == "2 n = 1"
    assert buy.select_one(".csat-after").get_text(strip=True) == "—"
    # The emotion compares manual scores on both sides (the to-be has no evidence yet):
    # purchase was cart, call, gone = (0 − 1 − 2) / 3 = −1; is cart, gone, chat = (2 − 2 + 1) / 3.
    buy = page.select_one('#stage-table tr[data-stage="buy"]')
    assert buy.select_one(".emotion-before").get_text(" ", strip=True) == "−1 manual"
    assert buy.select_one(".emotion-after").get_text(" ", strip=True) == "+0.3 manual"
    assert page.select_one("#count-resolved").get_text(strip=True) == "1"


def test_a_partner_not_shared_with_the_user_is_said_to_be_hidden(client, owner, as_is, changed):
    viewer = make_user("vi@example.com", "Vi")
    add_member(as_is, viewer, "viewer")  # the to-be map has no viewers copied
    sign_in(client, viewer)
    page = soup(client.get(f"/maps/{as_is.id}/compare"))
    assert page.select_one("#partner-hidden") is not None
    assert changed.title not in page.select_one(".compare").get_text()
    assert page.select_one("form.create-to-be") is None


def test_several_to_be_maps_can_be_chosen(owner_client, as_is, changed):
    create(owner_client, as_is)
    second = newest_map()
    page = soup(owner_client.get(f"/maps/{as_is.id}/compare"))
    options = [o["value"] for o in page.select("#compare-with option")]
    assert options == [str(second.id), str(changed.id)]
    page = soup(owner_client.get(f"/maps/{as_is.id}/compare?with={changed.id}"))
    assert page.select_one("#to-be-link")["href"] == f"/maps/{changed.id}"
    # A map id that is not one of the partners is ignored (the newest is shown).
    page = soup(owner_client.get(f"/maps/{as_is.id}/compare?with=999999"))
    assert page.select_one("#to-be-link")["href"] == f"/maps/{second.id}"


def test_a_deleted_as_is_map_leaves_an_empty_state(owner_client, as_is, changed):
    db.session.get(Journey, as_is.id).deletion_id = store.soft_delete([], as_is.id, None, "map").id
    db.session.commit()
    page = soup(owner_client.get(f"/maps/{changed.id}/compare"))
    assert page.select_one("#no-partner") is not None
    assert page.select_one("form.create-to-be") is None


def test_outsiders_get_404(client, as_is):
    sign_in(client, make_user("out@example.com", "Out"))
    assert client.get(f"/maps/{as_is.id}/compare").status_code == 404
    assert create(client, as_is).status_code == 404
