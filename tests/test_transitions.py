"""Transitions between touchpoints: create from a touchpoint, edit, delete with undo; self-loops,
duplicates, negative volumes and targets from another map are refused."""

import pytest
from bs4 import BeautifulSoup, Tag
from sqlalchemy import select

from cjm import store
from cjm.extensions import db
from cjm.models import Deletion, Touchpoint, Transition
from tests.conftest import sign_in
from tests.factories import add_member, make_map, make_user

HX = {"HX-Request": "true"}


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def roots(response) -> list[Tag]:
    return [el for el in soup(response).contents if isinstance(el, Tag)]


def tp(journey, key) -> Touchpoint:
    return db.session.scalar(select(Touchpoint).filter_by(journey_id=journey.id, key=key))


def edge(journey, key) -> Transition:
    db.session.expire_all()
    return db.session.scalar(select(Transition).filter_by(journey_id=journey.id, key=key))


def edges(journey) -> set[tuple[str, str]]:
    db.session.expire_all()
    return {(e.source, e.target) for e in store.load_journey(journey.id).transitions}


def add(client, journey, source, headers=None, **values):
    """POST the add-transition form of `source`."""
    data = {f"tr-new-{source.id}-{k}": v for k, v in {"kind": "main", **values}.items()}
    return client.post(
        f"/maps/{journey.id}/touchpoints/{source.id}/transitions", data=data, headers=headers or {}
    )


@pytest.fixture
def viewer_client(app, journey):
    viewer = make_user("viewer@example.com", "Vera Viewer")
    add_member(journey, viewer, "viewer")
    client = app.test_client()
    sign_in(client, viewer)
    return client


def test_edit_form_lists_outgoing_transitions_and_targets(owner_client, journey):
    cart = tp(journey, "cart")
    page = soup(owner_client.get(f"/maps/{journey.id}/touchpoints/{cart.id}/edit", headers=HX))
    section = page.select_one(f"#transitions-{cart.id}")
    assert [a.text for a in section.select(".transition .tr-text a")] == [
        "Pays",
        "Calls to ask",
        "Leaves",
    ]
    groups = [
        g["label"] for g in section.select(f"select[name=tr-new-{cart.id}-target_id] optgroup")
    ]
    assert groups == ["Awareness", "Purchase", "Use"]


def test_create_without_js_redirects(owner_client, journey):
    ad, paid = tp(journey, "ad"), tp(journey, "paid")
    r = add(
        owner_client,
        journey,
        ad,
        target_id=paid.id,
        kind="alternative",
        label="Buys at once",
        volume="5",
    )
    assert r.status_code == 303
    assert r.headers["Location"].endswith(f"/maps/{journey.id}/touchpoints/{ad.id}/edit")
    row = edge(journey, "ad-paid")
    assert (row.kind, row.label, row.volume) == ("alternative", "Buys at once", 5)


def test_create_with_htmx_returns_the_section(owner_client, journey):
    ad, call = tp(journey, "ad"), tp(journey, "call")
    r = add(owner_client, journey, ad, HX, target_id=call.id, volume="")
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "journey-changed"
    [section] = roots(r)
    assert section["id"] == f"transitions-{ad.id}"
    assert [a.text for a in section.select(".transition .tr-text a")] == [
        "Fills the cart",
        "Calls to ask",
    ]
    assert edge(journey, "ad-call").volume is None


@pytest.mark.parametrize(
    "target, values, field",
    [
        ("ad", {}, "target_id"),  # self-loop
        ("cart", {}, "target_id"),  # duplicate of ad → cart
        ("paid", {"volume": "-1"}, "volume"),
        ("paid", {"volume": "many"}, "volume"),
        ("paid", {"kind": "teleport"}, "kind"),
    ],
)
def test_create_invalid_is_422(owner_client, journey, target, values, field):
    ad = tp(journey, "ad")
    before = edges(journey)
    r = add(owner_client, journey, ad, HX, target_id=tp(journey, target).id, **values)
    assert r.status_code == 422
    [section] = roots(r)
    box = section.find(attrs={"name": f"tr-new-{ad.id}-{field}"}).find_parent(class_="field")
    assert "has-error" in box["class"] and box.select_one(".error").text.strip()
    assert edges(journey) == before


def test_self_loop_and_duplicate_messages_are_clear(owner_client, journey):
    ad = tp(journey, "ad")
    r = add(owner_client, journey, ad, target_id=ad.id)
    assert (
        soup(r).select_one(".field.has-error .error").text
        == "A transition must lead to another touchpoint."
    )
    r = add(owner_client, journey, ad, target_id=tp(journey, "cart").id)
    assert (
        soup(r).select_one(".field.has-error .error").text
        == "These two touchpoints are already connected."
    )


def test_target_from_another_map_is_refused(owner_client, journey, owner):
    other = make_map(owner)
    r = add(owner_client, journey, tp(journey, "ad"), target_id=tp(other, "paid").id)
    assert r.status_code == 422
    assert (
        db.session.scalar(select(Transition).filter_by(journey_id=journey.id, key="ad-paid"))
        is None
    )
    assert len(store.load_journey(other.id).transitions) == 5


def test_source_from_another_map_is_404(owner_client, journey, owner):
    other = make_map(owner)
    r = add(owner_client, journey, tp(other, "ad"), target_id=tp(journey, "paid").id)
    assert r.status_code == 404


def test_edit_in_place(owner_client, journey):
    row = edge(journey, "cart-paid")
    url = f"/maps/{journey.id}/transitions/{row.id}/edit"
    [li] = roots(owner_client.get(url, headers=HX))
    assert li["id"] == f"tr-{row.id}" and li.find("form")["hx-post"] == url
    data = {
        f"tr-{row.id}-version": str(row.version),
        f"tr-{row.id}-target_id": row.target_id,
        f"tr-{row.id}-kind": "main",
        f"tr-{row.id}-label": "Pays by card",
        f"tr-{row.id}-volume": "42",
    }
    r = owner_client.post(url, data=data, headers=HX)
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "journey-changed"
    [li] = roots(r)
    assert (
        li.select_one(".tr-label").text == "Pays by card"
        and li.select_one(".tr-volume").text == "42"
    )
    assert (edge(journey, "cart-paid").volume, edge(journey, "cart-paid").label) == (
        42,
        "Pays by card",
    )


def test_edit_into_a_duplicate_or_self_loop_is_422(owner_client, journey):
    row = edge(journey, "cart-paid")
    for target in ("call", "cart"):
        data = {
            f"tr-{row.id}-version": str(row.version),
            f"tr-{row.id}-kind": "main",
            f"tr-{row.id}-target_id": tp(journey, target).id,
        }
        r = owner_client.post(f"/maps/{journey.id}/transitions/{row.id}/edit", data=data)
        assert r.status_code == 422
    assert edge(journey, "cart-paid").target_id == tp(journey, "paid").id


def test_edit_negative_volume_is_422(owner_client, journey):
    row = edge(journey, "cart-paid")
    data = {
        f"tr-{row.id}-version": str(row.version),
        f"tr-{row.id}-kind": "main",
        f"tr-{row.id}-target_id": row.target_id,
        f"tr-{row.id}-volume": "-1",
    }
    r = owner_client.post(f"/maps/{journey.id}/transitions/{row.id}/edit", data=data, headers=HX)
    assert r.status_code == 422
    assert soup(r).select_one(".field.has-error .error").text == "Volume cannot be negative."
    assert edge(journey, "cart-paid").volume == 40


def test_edit_stale_is_409_and_nothing_is_overwritten(owner_client, journey):
    row = edge(journey, "cart-paid")
    old_version = str(row.version)
    row.volume = 41
    db.session.commit()
    data = {
        f"tr-{row.id}-version": old_version,
        f"tr-{row.id}-kind": "main",
        f"tr-{row.id}-target_id": row.target_id,
        f"tr-{row.id}-volume": "99",
    }
    r = owner_client.post(f"/maps/{journey.id}/transitions/{row.id}/edit", data=data, headers=HX)
    assert r.status_code == 409
    [li] = roots(r)
    assert li.select_one(".stale") is not None
    assert li.find("input", {"name": f"tr-{row.id}-volume"})["value"] == "41"
    assert edge(journey, "cart-paid").volume == 41


def test_edit_without_js_redirects_to_the_touchpoint(owner_client, journey):
    row = edge(journey, "cart-paid")
    page = soup(owner_client.get(f"/maps/{journey.id}/transitions/{row.id}/edit"))
    assert page.select_one("main form")["action"] == f"/maps/{journey.id}/transitions/{row.id}/edit"
    data = {
        f"tr-{row.id}-version": str(row.version),
        f"tr-{row.id}-kind": "loop",
        f"tr-{row.id}-target_id": row.target_id,
    }
    r = owner_client.post(f"/maps/{journey.id}/transitions/{row.id}/edit", data=data)
    assert r.status_code == 303
    assert r.headers["Location"].endswith(f"/touchpoints/{row.source_id}/edit")


def test_delete_and_undo(owner_client, journey):
    row = edge(journey, "cart-gone")
    r = owner_client.post(f"/maps/{journey.id}/transitions/{row.id}/delete", headers=HX)
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "journey-changed"
    section, partial = roots(r)
    notices = partial.find(id="notices")
    assert section["id"] == f"transitions-{row.source_id}"
    assert "Leaves" not in [a.text for a in section.select(".transition .tr-text a")]
    assert notices["id"] == "notices" and notices.select_one(".undo form") is not None
    assert ("cart", "gone") not in edges(journey)
    deletion = db.session.scalar(select(Deletion))
    owner_client.post(f"/maps/{journey.id}/undo/{deletion.id}")
    assert ("cart", "gone") in edges(journey)


def test_deleted_transition_no_longer_blocks_a_new_one(owner_client, journey):
    row = edge(journey, "cart-gone")
    owner_client.post(f"/maps/{journey.id}/transitions/{row.id}/delete")
    r = add(
        owner_client,
        journey,
        tp(journey, "cart"),
        target_id=tp(journey, "gone").id,
        kind="drop-out",
    )
    assert r.status_code == 303


@pytest.mark.parametrize("action", ["edit", "delete"])
def test_viewer_writes_are_403(viewer_client, journey, action):
    row = edge(journey, "cart-paid")
    data = {f"tr-{row.id}-version": str(row.version), f"tr-{row.id}-volume": "1"}
    assert (
        viewer_client.post(
            f"/maps/{journey.id}/transitions/{row.id}/{action}", data=data
        ).status_code
        == 403
    )
    assert (
        add(viewer_client, journey, tp(journey, "ad"), target_id=tp(journey, "paid").id).status_code
        == 403
    )
    assert edge(journey, "cart-paid").volume == 40 and len(edges(journey)) == 5
