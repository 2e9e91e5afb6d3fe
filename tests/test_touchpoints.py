"""Touchpoints on the board: create in a cell, edit in place, delete with undo, 409/422/403/404."""

import pytest
from bs4 import BeautifulSoup, Tag
from sqlalchemy import select

from cjm import store
from cjm.extensions import db
from cjm.models import Channel, Deletion, Stage, Touchpoint
from tests.conftest import sign_in
from tests.factories import add_member, make_map, make_user

HX = {"HX-Request": "true"}


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def roots(response) -> list[Tag]:
    return [el for el in soup(response).contents if isinstance(el, Tag)]


def part(model, journey, key):
    return db.session.scalar(select(model).filter_by(journey_id=journey.id, key=key))


def fields(prefix: str, **values) -> dict:
    """Form data with the form's field prefix."""
    return {f"{prefix}-{name}": value for name, value in values.items()}


def saved(journey, key) -> Touchpoint:
    db.session.expire_all()
    return part(Touchpoint, journey, key)


@pytest.fixture
def cell(journey):
    """The (stage, channel) rows of the empty "Use × Call centre" cell."""
    return part(Stage, journey, "use"), part(Channel, journey, "call")


@pytest.fixture
def viewer_client(app, journey):
    viewer = make_user("viewer@example.com", "Vera Viewer")
    add_member(journey, viewer, "viewer")
    client = app.test_client()
    sign_in(client, viewer)
    return client


def new_url(journey, stage, channel):
    return f"/maps/{journey.id}/touchpoints/new?stage={stage.id}&channel={channel.id}"


def test_new_form_has_the_cell_preset(owner_client, journey, cell):
    stage, channel = cell
    [form] = roots(owner_client.get(new_url(journey, stage, channel), headers=HX))
    assert form.name == "form" and form["hx-target"] == "closest td"
    prefix = f"tp-new-{stage.id}-{channel.id}"
    assert form.find("select", {"name": f"{prefix}-stage_id"}).find("option", selected=True)[
        "value"
    ] == str(stage.id)
    assert form.find("select", {"name": f"{prefix}-channel_id"}).find("option", selected=True)[
        "value"
    ] == str(channel.id)
    page = soup(owner_client.get(new_url(journey, stage, channel)))  # without JS: a whole page
    assert page.select_one("main form")["action"] == new_url(journey, stage, channel)


def test_create_without_js_redirects_to_the_card(owner_client, journey, cell):
    stage, channel = cell
    data = fields(
        f"tp-new-{stage.id}-{channel.id}",
        stage_id=stage.id,
        channel_id=channel.id,
        kind="step",
        name="Asks for help",
        action="Calls support",
        goal="Get it working",
        thought="Why is this so hard?",
        emotion="-1",
    )
    r = owner_client.post(new_url(journey, stage, channel), data=data)
    assert r.status_code == 303
    row = saved(journey, "asks-for-help")
    assert r.headers["Location"].endswith(f"/maps/{journey.id}/board#tp-asks-for-help")
    assert (row.stage_id, row.channel_id, row.emotion, row.goal) == (
        stage.id,
        channel.id,
        -1,
        "Get it working",
    )


def test_create_with_htmx_returns_the_cell(owner_client, journey, cell):
    stage, channel = cell
    data = fields(
        f"tp-new-{stage.id}-{channel.id}",
        stage_id=stage.id,
        channel_id=channel.id,
        kind="goal",
        name="Recommends",
        emotion="",
    )
    r = owner_client.post(new_url(journey, stage, channel), data=data, headers=HX)
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "journey-changed"
    [td] = roots(r)
    assert td["id"] == f"cell-{stage.id}-{channel.id}"
    assert td.select_one("article#tp-recommends .tp-kind").text == "Goal"
    assert td.select_one("a.add-card") is not None  # the form closed
    assert saved(journey, "recommends").emotion is None


def test_create_into_another_cell_swaps_both(owner_client, journey, cell):
    stage, channel = cell
    web = part(Channel, journey, "web")
    data = fields(
        f"tp-new-{stage.id}-{channel.id}",
        stage_id=stage.id,
        channel_id=web.id,
        kind="step",
        name="Reads the manual",
        emotion="1",
    )
    r = owner_client.post(new_url(journey, stage, channel), data=data, headers=HX)
    origin, target = roots(r)
    assert origin["id"] == f"cell-{stage.id}-{channel.id}" and origin.select("article") == []
    assert target["id"] == f"cell-{stage.id}-{web.id}" and target["hx-swap-oob"] == "true"
    assert [a["id"] for a in target.select("article")] == ["tp-paid", "tp-reads-the-manual"]


@pytest.mark.parametrize(
    "bad, field",
    [({"name": ""}, "name"), ({"emotion": "3"}, "emotion"), ({"kind": "teleport"}, "kind")],
)
def test_create_invalid_is_422_with_the_message_at_the_field(
    owner_client, journey, cell, bad, field
):
    stage, channel = cell
    prefix = f"tp-new-{stage.id}-{channel.id}"
    values = {
        "stage_id": stage.id,
        "channel_id": channel.id,
        "kind": "step",
        "name": "Ok",
        "emotion": "0",
    }
    r = owner_client.post(
        new_url(journey, stage, channel), data=fields(prefix, **{**values, **bad}), headers=HX
    )
    assert r.status_code == 422
    [td] = roots(r)  # the cell, with the form still open
    assert td.name == "td"
    box = td.find(attrs={"name": f"{prefix}-{field}"}).find_parent(class_="field")
    assert "has-error" in box["class"] and box.select_one(".error").text
    assert len(store.load_journey(journey.id).touchpoints) == 5


def test_create_with_a_stage_of_another_map_is_refused(owner_client, journey, owner, cell):
    other = make_map(owner)
    foreign = part(Stage, other, "use")
    stage, channel = cell
    prefix = f"tp-new-{stage.id}-{channel.id}"
    data = fields(
        prefix, stage_id=foreign.id, channel_id=channel.id, kind="step", name="Sneaky", emotion=""
    )
    r = owner_client.post(new_url(journey, stage, channel), data=data)
    assert r.status_code == 422
    assert db.session.scalar(select(Touchpoint).filter_by(name="Sneaky")) is None


def test_edit_in_place_returns_the_card(owner_client, journey):
    row = part(Touchpoint, journey, "cart")
    url = f"/maps/{journey.id}/touchpoints/{row.id}/edit"
    [article] = roots(owner_client.get(url, headers=HX))
    assert article["id"] == "tp-cart" and article.find("form")["hx-post"] == url
    prefix = f"tp-{row.id}"
    data = fields(
        prefix,
        version=str(row.version),
        stage_id=row.stage_id,
        channel_id=row.channel_id,
        kind="decision",
        name="Fills the basket",
        emotion="-2",
        thought="Too many steps",
    )
    r = owner_client.post(url, data=data, headers=HX)
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "journey-changed"
    [card] = roots(r)
    assert (
        card["id"] == "tp-cart" and card.select_one(".tp-name").text.strip() == "Fills the basket"
    )
    assert card.select_one(".tp-emotion").text == "-2"
    row = saved(journey, "cart")
    assert (row.name, row.emotion, row.thought) == ("Fills the basket", -2, "Too many steps")


def test_edit_moving_to_another_cell_retargets_the_old_cell(owner_client, journey):
    row = part(Touchpoint, journey, "call")
    web = part(Channel, journey, "web")
    data = fields(
        f"tp-{row.id}",
        version=str(row.version),
        stage_id=row.stage_id,
        channel_id=web.id,
        kind="step",
        name="Chats",
        emotion="",
    )
    r = owner_client.post(f"/maps/{journey.id}/touchpoints/{row.id}/edit", data=data, headers=HX)
    old, new = roots(r)
    assert r.headers["HX-Retarget"] == f"#{old['id']}" and old.select("article") == []
    assert new["hx-swap-oob"] == "true" and new.select_one("#tp-call") is not None


def test_edit_without_js_redirects_and_the_page_works(owner_client, journey):
    row = part(Touchpoint, journey, "cart")
    url = f"/maps/{journey.id}/touchpoints/{row.id}/edit"
    page = soup(owner_client.get(url))
    assert page.select_one("main form.tp-form")["action"] == url
    assert not page.select_one("main form.tp-form").has_attr("hx-post")
    data = fields(
        f"tp-{row.id}",
        version=str(row.version),
        stage_id=row.stage_id,
        channel_id=row.channel_id,
        kind="decision",
        name="Cart",
        emotion="0",
    )
    r = owner_client.post(url, data=data)
    assert r.status_code == 303 and r.headers["Location"].endswith("/board#tp-cart")


def test_edit_stale_is_409_and_nothing_is_overwritten(owner_client, journey):
    row = part(Touchpoint, journey, "cart")
    old_version = str(row.version)
    row.name = "Their name"
    db.session.commit()
    data = fields(
        f"tp-{row.id}",
        version=old_version,
        stage_id=row.stage_id,
        channel_id=row.channel_id,
        kind="decision",
        name="My name",
        emotion="1",
    )
    r = owner_client.post(f"/maps/{journey.id}/touchpoints/{row.id}/edit", data=data, headers=HX)
    assert r.status_code == 409
    [article] = roots(r)
    assert article.select_one(".stale") is not None
    assert article.find("input", {"name": f"tp-{row.id}-name"})["value"] == "Their name"
    row = saved(journey, "cart")
    assert (row.name, row.emotion) == ("Their name", 0)


def test_edit_invalid_emotion_is_422(owner_client, journey):
    row = part(Touchpoint, journey, "cart")
    data = fields(
        f"tp-{row.id}",
        version=str(row.version),
        stage_id=row.stage_id,
        channel_id=row.channel_id,
        kind="decision",
        name="Cart",
        emotion="3",
    )
    r = owner_client.post(f"/maps/{journey.id}/touchpoints/{row.id}/edit", data=data, headers=HX)
    assert r.status_code == 422
    box = soup(r).find("select", {"name": f"tp-{row.id}-emotion"}).find_parent(class_="field")
    assert "has-error" in box["class"]
    assert saved(journey, "cart").emotion == 0


def test_cancel_returns_the_card(owner_client, journey):
    row = part(Touchpoint, journey, "cart")
    [card] = roots(owner_client.get(f"/maps/{journey.id}/touchpoints/{row.id}", headers=HX))
    assert card["id"] == "tp-cart" and "editing" not in card["class"]
    assert owner_client.get(f"/maps/{journey.id}/touchpoints/{row.id}").status_code == 303


def test_delete_hides_the_touchpoint_and_its_transitions_then_undo(owner_client, journey):
    row = part(Touchpoint, journey, "call")
    r = owner_client.post(f"/maps/{journey.id}/touchpoints/{row.id}/delete", headers=HX)
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "journey-changed"
    td, partial = roots(r)
    notices = partial.find(id="notices")
    assert td.name == "td" and td.select("article") == []
    assert partial.name == "hx-partial" and partial["hx-target"] == "#notices"
    assert notices.select_one(".undo form") is not None
    loaded = store.load_journey(journey.id)
    assert "call" not in {t.key for t in loaded.touchpoints}
    assert {e.key for e in loaded.transitions} == {"ad-cart", "cart-paid", "cart-gone"}
    deletion = db.session.scalar(select(Deletion))
    assert owner_client.post(f"/maps/{journey.id}/undo/{deletion.id}").status_code == 303
    assert len(store.load_journey(journey.id).transitions) == 5


def test_delete_without_js_redirects_to_the_board(owner_client, journey):
    row = part(Touchpoint, journey, "call")
    r = owner_client.post(f"/maps/{journey.id}/touchpoints/{row.id}/delete")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/maps/{journey.id}/board")


def test_touchpoint_of_another_map_is_404(owner_client, journey, owner):
    other = make_map(owner)
    foreign = part(Touchpoint, other, "cart")
    assert owner_client.get(f"/maps/{journey.id}/touchpoints/{foreign.id}/edit").status_code == 404
    assert (
        owner_client.post(f"/maps/{journey.id}/touchpoints/{foreign.id}/delete").status_code == 404
    )
    assert saved(other, "cart").deletion_id is None


@pytest.mark.parametrize("action", ["new", "{id}/edit", "{id}/delete"])
def test_viewer_writes_are_403(viewer_client, journey, action):
    row = part(Touchpoint, journey, "cart")
    url = f"/maps/{journey.id}/touchpoints/{action.format(id=row.id)}"
    data = fields(f"tp-{row.id}", version=str(row.version), name="Viewer was here")
    assert viewer_client.post(url, data=data).status_code == 403
    assert saved(journey, "cart").name == "Fills the cart"
