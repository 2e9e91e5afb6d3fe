"""Stages and channels: add, edit in place, delete with undo, reorder, 409/422/403."""

import pytest
from bs4 import BeautifulSoup, Tag
from sqlalchemy import select

from cjm import store
from cjm.extensions import db
from cjm.models import Channel, Deletion, Stage
from tests.conftest import sign_in
from tests.factories import add_member, make_user

HX = {"HX-Request": "true"}


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def roots(response) -> list[Tag]:
    """The top-level elements of a fragment."""
    return [el for el in soup(response).contents if isinstance(el, Tag)]


def stage(journey, key: str) -> Stage:
    return db.session.scalar(select(Stage).filter_by(journey_id=journey.id, key=key))


def names(model, journey) -> list[str]:
    db.session.expire_all()
    return [row.name for row in store.ordered(model, journey.id)]


@pytest.fixture
def viewer_client(app, journey):
    viewer = make_user("viewer@example.com", "Vera Viewer")
    add_member(journey, viewer, "viewer")
    client = app.test_client()
    sign_in(client, viewer)
    return client


def test_page_lists_stages_and_channels_in_order(owner_client, journey):
    page = soup(owner_client.get(f"/maps/{journey.id}/stages"))
    assert [s.text for s in page.select("#stages .frame-name")] == ["Awareness", "Purchase", "Use"]
    assert [s.text for s in page.select("#channels .frame-name")] == ["Website", "Call centre"]
    assert page.select_one("#stages ol[data-reorder-url]") is not None


def test_add_stage_without_js_redirects(owner_client, journey):
    r = owner_client.post(
        f"/maps/{journey.id}/stages/add",
        data={"new-stage-name": " Loyalty ", "new-stage-description": "Comes back"},
    )
    assert r.status_code == 303
    assert r.headers["Location"].endswith(
        f"/maps/{journey.id}/stages#stage-{stage(journey, 'loyalty').id}"
    )
    assert names(Stage, journey) == ["Awareness", "Purchase", "Use", "Loyalty"]
    assert stage(journey, "loyalty").description == "Comes back"


def test_add_stage_with_htmx_returns_the_section(owner_client, journey):
    r = owner_client.post(
        f"/maps/{journey.id}/stages/add", data={"new-stage-name": "Loyalty"}, headers=HX
    )
    assert r.status_code == 200
    assert r.headers["HX-Trigger"] == "journey-changed"
    [root] = roots(r)
    assert root.name == "section" and root["id"] == "stages"
    assert root.select(".frame-name")[-1].text == "Loyalty"


def test_add_stage_with_empty_name_is_422_next_to_the_field(owner_client, journey):
    r = owner_client.post(
        f"/maps/{journey.id}/stages/add", data={"new-stage-name": "  "}, headers=HX
    )
    assert r.status_code == 422
    field = soup(r).find("input", {"name": "new-stage-name"}).find_parent(class_="field")
    assert "has-error" in field["class"] and field.select_one(".error") is not None
    assert names(Stage, journey) == ["Awareness", "Purchase", "Use"]


def test_edit_stage_in_place(owner_client, journey):
    row = stage(journey, "buy")
    url = f"/maps/{journey.id}/stages/{row.id}/edit"
    [form_root] = roots(owner_client.get(url, headers=HX))
    assert form_root.name == "li" and form_root.find("form")["hx-post"] == url
    version = form_root.find("input", {"name": f"stage-{row.id}-version"})["value"]
    r = owner_client.post(
        url,
        data={
            f"stage-{row.id}-version": version,
            f"stage-{row.id}-name": "Buying",
            f"stage-{row.id}-description": "Pays",
        },
        headers=HX,
    )
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "journey-changed"
    [li] = roots(r)
    assert li["id"] == f"stage-{row.id}" and li.select_one(".frame-name").text == "Buying"
    assert names(Stage, journey) == ["Awareness", "Buying", "Use"]


def test_edit_stage_without_js_redirects(owner_client, journey):
    row = stage(journey, "buy")
    r = owner_client.post(
        f"/maps/{journey.id}/stages/{row.id}/edit",
        data={f"stage-{row.id}-version": str(row.version), f"stage-{row.id}-name": "Buying"},
    )
    assert r.status_code == 303


def test_edit_stage_invalid_is_422(owner_client, journey):
    row = stage(journey, "buy")
    r = owner_client.post(
        f"/maps/{journey.id}/stages/{row.id}/edit",
        data={f"stage-{row.id}-version": str(row.version), f"stage-{row.id}-name": ""},
        headers=HX,
    )
    assert r.status_code == 422
    assert soup(r).select_one(".field.has-error .error") is not None


def test_edit_stale_stage_is_409_and_keeps_the_newer_value(owner_client, journey):
    row = stage(journey, "buy")
    old_version = str(row.version)
    row.name = "Checkout"  # someone else saves first
    db.session.commit()
    r = owner_client.post(
        f"/maps/{journey.id}/stages/{row.id}/edit",
        data={f"stage-{row.id}-version": old_version, f"stage-{row.id}-name": "Mine"},
        headers=HX,
    )
    assert r.status_code == 409
    page = soup(r)
    assert page.select_one(".stale") is not None
    assert page.find("input", {"name": f"stage-{row.id}-name"})["value"] == "Checkout"
    db.session.expire_all()
    assert stage(journey, "buy").name == "Checkout"


def test_delete_stage_hides_its_touchpoints_and_undo_restores(owner_client, journey):
    row = stage(journey, "buy")
    r = owner_client.post(f"/maps/{journey.id}/stages/{row.id}/delete")
    assert r.status_code == 303
    loaded = store.load_journey(journey.id)
    assert [s.key for s in loaded.stages] == ["aware", "use"]
    assert {t.stage for t in loaded.touchpoints} == {"aware", "use"}
    page = soup(owner_client.get(r.headers["Location"]))
    undo = page.select_one("#notices .undo form")
    deletion = db.session.scalar(select(Deletion))
    assert undo["action"] == f"/maps/{journey.id}/undo/{deletion.id}"
    assert owner_client.post(undo["action"]).status_code == 303
    assert names(Stage, journey) == ["Awareness", "Purchase", "Use"]
    assert len(store.load_journey(journey.id).touchpoints) == 5


def test_delete_with_htmx_sends_the_undo_notice_out_of_band(owner_client, journey):
    row = stage(journey, "use")
    r = owner_client.post(f"/maps/{journey.id}/stages/{row.id}/delete", headers=HX)
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "journey-changed"
    section, partial = roots(r)
    notices = partial.find(id="notices")
    assert section["id"] == "stages" and [s.text for s in section.select(".frame-name")] == [
        "Awareness",
        "Purchase",
    ]
    assert partial.name == "hx-partial" and partial["hx-target"] == "#notices"
    assert notices.select_one(".undo form")["action"].startswith(f"/maps/{journey.id}/undo/")


def test_move_buttons_reorder_and_leave_versions_alone(owner_client, journey):
    row = stage(journey, "use")
    version = row.version
    r = owner_client.post(f"/maps/{journey.id}/stages/{row.id}/move", data={"direction": "up"})
    assert r.status_code == 303
    assert names(Stage, journey) == ["Awareness", "Use", "Purchase"]
    assert stage(journey, "use").version == version  # an open edit form does not turn stale
    r = owner_client.post(
        f"/maps/{journey.id}/stages/{row.id}/move", data={"direction": "up"}, headers=HX
    )
    assert r.status_code == 200
    [section] = roots(r)
    assert section.find(attrs={"data-focus": True})["id"] == f"stage-{row.id}-up"
    assert names(Stage, journey) == ["Use", "Awareness", "Purchase"]
    owner_client.post(f"/maps/{journey.id}/stages/{row.id}/move", data={"direction": "up"})
    assert names(Stage, journey) == ["Use", "Awareness", "Purchase"]  # already first


def test_move_with_a_bad_direction_is_422(owner_client, journey):
    row = stage(journey, "use")
    r = owner_client.post(f"/maps/{journey.id}/stages/{row.id}/move", data={"direction": "left"})
    assert r.status_code == 422


def test_order_endpoint_stores_a_dragged_order(owner_client, journey):
    ids = [s.id for s in store.ordered(Stage, journey.id)]
    r = owner_client.post(
        f"/maps/{journey.id}/stages/order", data={"order": ",".join(map(str, reversed(ids)))}
    )
    assert r.status_code == 204 and r.headers["HX-Trigger"] == "journey-changed"
    assert names(Stage, journey) == ["Use", "Purchase", "Awareness"]


@pytest.mark.parametrize("order, status", [("1,2", 409), ("a,b,c", 422)])
def test_order_endpoint_refuses_a_wrong_list(owner_client, journey, order, status):
    r = owner_client.post(f"/maps/{journey.id}/stages/order", data={"order": order})
    assert r.status_code == status
    assert names(Stage, journey) == ["Awareness", "Purchase", "Use"]


def test_order_endpoint_refuses_ids_of_another_map(owner_client, journey, owner):
    from tests.factories import make_map

    other = make_map(owner)
    ids = [s.id for s in store.ordered(Stage, other.id)]
    r = owner_client.post(
        f"/maps/{journey.id}/stages/order", data={"order": ",".join(map(str, ids))}
    )
    assert r.status_code == 409
    assert names(Stage, other) == ["Awareness", "Purchase", "Use"]


def test_catalogue_channel_is_added_with_one_click(owner_client, journey):
    page = soup(owner_client.get(f"/maps/{journey.id}/stages"))
    kinds = [b["value"] for b in page.select("#channels .catalogue button[name=kind]")]
    assert "website" not in kinds and "store" in kinds  # already-used kinds are not offered
    r = owner_client.post(
        f"/maps/{journey.id}/channels/catalogue", data={"kind": "store"}, headers=HX
    )
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "journey-changed"
    row = db.session.scalar(select(Channel).filter_by(journey_id=journey.id, kind="store"))
    assert row.name == "Store"
    assert names(Channel, journey) == ["Website", "Call centre", "Store"]


@pytest.mark.parametrize("kind", ["website", "fax"])
def test_catalogue_refuses_a_used_or_unknown_kind(owner_client, journey, kind):
    r = owner_client.post(f"/maps/{journey.id}/channels/catalogue", data={"kind": kind})
    assert r.status_code == 422
    assert soup(r).select_one("#channels .error") is not None
    assert names(Channel, journey) == ["Website", "Call centre"]


def test_custom_channel_add_edit_delete_undo(owner_client, journey):
    r = owner_client.post(f"/maps/{journey.id}/channels/add", data={"new-channel-name": "Kiosk"})
    assert r.status_code == 303
    row = db.session.scalar(select(Channel).filter_by(journey_id=journey.id, name="Kiosk"))
    assert row.kind == "custom" and row.key == "kiosk"
    r = owner_client.post(
        f"/maps/{journey.id}/channels/{row.id}/edit",
        data={
            f"channel-{row.id}-version": str(row.version),
            f"channel-{row.id}-name": "Street kiosk",
        },
        headers=HX,
    )
    assert r.status_code == 200 and roots(r)[0].select_one(".frame-name").text == "Street kiosk"
    r = owner_client.post(f"/maps/{journey.id}/channels/{row.id}/delete")
    assert names(Channel, journey) == ["Website", "Call centre"]
    deletion = db.session.scalar(select(Deletion))
    owner_client.post(f"/maps/{journey.id}/undo/{deletion.id}")
    assert names(Channel, journey) == ["Website", "Call centre", "Street kiosk"]


def test_channels_reorder_by_buttons_and_order_endpoint(owner_client, journey):
    call = db.session.scalar(select(Channel).filter_by(journey_id=journey.id, key="call"))
    owner_client.post(f"/maps/{journey.id}/channels/{call.id}/move", data={"direction": "up"})
    assert names(Channel, journey) == ["Call centre", "Website"]
    ids = [c.id for c in store.ordered(Channel, journey.id)]
    owner_client.post(f"/maps/{journey.id}/channels/order", data={"order": f"{ids[1]},{ids[0]}"})
    assert names(Channel, journey) == ["Website", "Call centre"]


def test_parts_of_another_map_are_404(owner_client, journey, owner):
    from tests.factories import make_map

    other = make_map(owner)
    foreign = stage(other, "buy")
    r = owner_client.post(
        f"/maps/{journey.id}/stages/{foreign.id}/edit",
        data={f"stage-{foreign.id}-version": "1", f"stage-{foreign.id}-name": "Hacked"},
    )
    assert r.status_code == 404
    assert owner_client.post(f"/maps/{journey.id}/stages/{foreign.id}/delete").status_code == 404
    assert stage(other, "buy").name == "Purchase"


def test_viewer_sees_no_edit_controls(viewer_client, journey):
    page = soup(viewer_client.get(f"/maps/{journey.id}/stages"))
    assert [s.text for s in page.select("#stages .frame-name")] == ["Awareness", "Purchase", "Use"]
    assert page.select("main form") == []
    assert page.select("[data-reorder-url]") == []


@pytest.mark.parametrize(
    "path, data",
    [
        ("stages/add", {"new-stage-name": "X"}),
        ("channels/add", {"new-channel-name": "X"}),
        ("channels/catalogue", {"kind": "store"}),
        ("stages/{id}/edit", {"stage-{id}-name": "X"}),
        ("stages/{id}/delete", {}),
        ("stages/{id}/move", {"direction": "up"}),
        ("stages/order", {"order": ""}),
    ],
)
def test_viewer_writes_are_403(viewer_client, journey, path, data):
    row = stage(journey, "buy")
    path = path.format(id=row.id)
    data = {k.format(id=row.id): v for k, v in data.items()}
    assert viewer_client.post(f"/maps/{journey.id}/{path}", data=data).status_code == 403
    assert names(Stage, journey) == ["Awareness", "Purchase", "Use"]
    assert names(Channel, journey) == ["Website", "Call centre"]
