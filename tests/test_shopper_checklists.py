"""Mystery-shopper checklists: create, rename, delete with undo; items of every kind added,
edited, reordered and deleted; viewers read only; ids from another map are 404."""

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from cjm.extensions import db
from cjm.models import Checklist, ChecklistItem, Deletion, Visit, VisitAnswer
from tests.conftest import sign_in
from tests.factories import add_member, make_map, make_user, sample_journey


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def make_checklist(journey, name="Store visit", items=(("Greeted?", "yes-no"),)) -> Checklist:
    """A committed checklist with items given as (text, kind)."""
    row = Checklist(journey_id=journey.id, key=name.lower().replace(" ", "-"), name=name)
    row.items = [ChecklistItem(text=t, kind=k, position=i) for i, (t, k) in enumerate(items)]
    db.session.add(row)
    db.session.commit()
    return row


def item_texts(checklist) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(ChecklistItem.text)
            .where(ChecklistItem.checklist_id == checklist.id, ChecklistItem.deletion_id.is_(None))
            .order_by(ChecklistItem.position, ChecklistItem.id)
        )
    )


@pytest.fixture
def viewer_client(app, journey):
    viewer = make_user("viewer@example.com", "Vera Viewer")
    add_member(journey, viewer, "viewer")
    client = app.test_client()
    sign_in(client, viewer)
    return client


def base(journey) -> str:
    return f"/maps/{journey.id}/shopper"


def test_empty_page_offers_a_new_checklist(owner_client, journey):
    page = soup(owner_client.get(base(journey)))
    assert page.select_one("#checklists .empty") is not None
    form = page.select_one(f"form[action='{base(journey)}/checklists/new']")
    assert form["method"] == "post"
    assert form.select_one("input[name='new-checklist-name']") is not None


def test_create_checklist_redirects_to_it(owner_client, journey):
    r = owner_client.post(f"{base(journey)}/checklists/new", data={"new-checklist-name": " Store "})
    assert r.status_code == 303
    row = db.session.scalar(select(Checklist).filter_by(journey_id=journey.id))
    assert row.name == "Store" and row.key == "store"
    assert r.headers["Location"].endswith(f"{base(journey)}/checklists/{row.id}")
    page = soup(owner_client.get(base(journey)))
    assert [a.text for a in page.select(".checklist-name")] == ["Store"]
    start = page.select_one(f"form[action='{base(journey)}/checklists/{row.id}/visits/new']")
    assert start.select_one("button").text == "Start a visit"


def test_create_checklist_without_name_is_422(owner_client, journey):
    r = owner_client.post(f"{base(journey)}/checklists/new", data={"new-checklist-name": ""})
    assert r.status_code == 422
    assert soup(r).select_one(".field.has-error .error") is not None


def test_rename_checklist_and_stale_version(owner_client, journey):
    row = make_checklist(journey)
    url = f"{base(journey)}/checklists/{row.id}/edit"
    version = row.version
    r = owner_client.post(
        url, data={"checklist-name": "Branch visit", "checklist-version": version}
    )
    assert r.status_code == 303
    db.session.expire_all()
    assert row.name == "Branch visit"
    r = owner_client.post(url, data={"checklist-name": "Other", "checklist-version": version})
    assert r.status_code == 409
    assert soup(r).select_one("#checklist-settings [role=alert]") is not None
    db.session.expire_all()
    assert row.name == "Branch visit"
    page = soup(r)
    assert page.select_one("input[name='checklist-name']")["value"] == "Branch visit"


def test_delete_checklist_and_undo(owner_client, journey):
    row = make_checklist(journey)
    r = owner_client.post(f"{base(journey)}/checklists/{row.id}/delete")
    assert r.status_code == 303
    page = soup(owner_client.get(base(journey)))
    assert page.select(".checklist-name") == []
    undo = page.select_one("#notices .undo form")
    assert undo is not None
    deletion = db.session.scalar(select(Deletion).filter_by(journey_id=journey.id))
    assert undo["action"] == f"/maps/{journey.id}/undo/{deletion.id}"
    assert owner_client.get(f"{base(journey)}/checklists/{row.id}").status_code == 404
    owner_client.post(undo["action"])
    page = soup(owner_client.get(base(journey)))
    assert [a.text for a in page.select(".checklist-name")] == ["Store visit"]


@pytest.mark.parametrize("kind", ["yes-no", "scale-5", "scale-10", "number", "text"])
def test_add_item_of_each_kind(owner_client, journey, kind):
    row = make_checklist(journey, items=())
    r = owner_client.post(
        f"{base(journey)}/checklists/{row.id}/items/new",
        data={"new-item-text": "A question", "new-item-kind": kind},
    )
    assert r.status_code == 303
    item = db.session.scalar(select(ChecklistItem).filter_by(checklist_id=row.id))
    assert (item.text, item.kind) == ("A question", kind)
    page = soup(owner_client.get(f"{base(journey)}/checklists/{row.id}"))
    li = page.select_one(f"#item-{item.id}")
    assert li["data-kind"] == kind
    assert li.select_one("select[name$='-kind'] option[selected]")["value"] == kind


def test_add_item_errors_are_422(owner_client, journey):
    row = make_checklist(journey, items=())
    url = f"{base(journey)}/checklists/{row.id}/items/new"
    r = owner_client.post(url, data={"new-item-text": "", "new-item-kind": "yes-no"})
    assert r.status_code == 422
    assert soup(r).select_one("#new-item .has-error input[name='new-item-text']") is not None
    r = owner_client.post(url, data={"new-item-text": "Q", "new-item-kind": "colour"})
    assert r.status_code == 422
    assert item_texts(row) == []


def test_edit_item_text_and_kind(owner_client, journey):
    row = make_checklist(journey)
    item = row.items[0]
    page = soup(owner_client.get(f"{base(journey)}/checklists/{row.id}"))
    version = page.select_one(f"input[name='item-{item.id}-version']")["value"]
    url = f"{base(journey)}/checklists/{row.id}/items/{item.id}/edit"
    data = {f"item-{item.id}-text": "Waiting, minutes", f"item-{item.id}-kind": "number"}
    r = owner_client.post(url, data={**data, f"item-{item.id}-version": version})
    assert r.status_code == 303
    db.session.expire_all()
    assert (item.text, item.kind) == ("Waiting, minutes", "number")
    # The old token no longer matches: someone else's form is stale.
    data[f"item-{item.id}-text"] = "Other"
    r = owner_client.post(url, data={**data, f"item-{item.id}-version": version})
    assert r.status_code == 409
    assert soup(r).select_one(f"#item-{item.id} [role=alert]") is not None
    db.session.expire_all()
    assert item.text == "Waiting, minutes"


def test_kind_of_an_answered_item_stays(owner_client, journey, owner):
    row = make_checklist(journey)
    item = row.items[0]
    visit = Visit(journey_id=journey.id, checklist_id=row.id, user_id=owner.id)
    db.session.add(visit)
    db.session.flush()
    db.session.add(VisitAnswer(visit_id=visit.id, item_id=item.id, yes=True))
    db.session.commit()
    page = soup(owner_client.get(f"{base(journey)}/checklists/{row.id}"))
    version = page.select_one(f"input[name='item-{item.id}-version']")["value"]
    r = owner_client.post(
        f"{base(journey)}/checklists/{row.id}/items/{item.id}/edit",
        data={
            f"item-{item.id}-text": "Greeted?",
            f"item-{item.id}-kind": "text",
            f"item-{item.id}-version": version,
        },
    )
    assert r.status_code == 422
    assert soup(r).select_one(f"#item-{item.id} .has-error select") is not None
    db.session.expire_all()
    assert item.kind == "yes-no"


def test_reorder_items(owner_client, journey):
    row = make_checklist(journey, items=[("A", "yes-no"), ("B", "text"), ("C", "number")])
    a, b, c = (i.id for i in row.items)
    url = f"{base(journey)}/checklists/{row.id}/items/{c}/move"
    assert owner_client.post(url, data={"direction": "up"}).status_code == 303
    assert item_texts(row) == ["A", "C", "B"]
    owner_client.post(url, data={"direction": "up"})
    owner_client.post(url, data={"direction": "up"})  # already first: nothing changes
    assert item_texts(row) == ["C", "A", "B"]
    assert owner_client.post(url, data={"direction": "sideways"}).status_code == 422
    page = soup(owner_client.get(f"{base(journey)}/checklists/{row.id}"))
    assert [li["id"] for li in page.select(".item-list > li")] == [f"item-{i}" for i in (c, a, b)]


def test_delete_item_and_undo(owner_client, journey):
    row = make_checklist(journey, items=[("A", "yes-no"), ("B", "text")])
    a = row.items[0]
    r = owner_client.post(f"{base(journey)}/checklists/{row.id}/items/{a.id}/delete")
    assert r.status_code == 303
    assert item_texts(row) == ["B"]
    page = soup(owner_client.get(f"{base(journey)}/checklists/{row.id}"))
    owner_client.post(page.select_one("#notices .undo form")["action"])
    assert item_texts(row) == ["A", "B"]


def test_viewer_sees_but_cannot_change(viewer_client, journey):
    row = make_checklist(journey)
    item = row.items[0]
    page = soup(viewer_client.get(base(journey)))
    assert [a.text for a in page.select(".checklist-name")] == ["Store visit"]
    assert page.select("form[method=post] .start-visit") == []
    page = soup(viewer_client.get(f"{base(journey)}/checklists/{row.id}"))
    assert page.select_one(f"#item-{item.id} .item-text").text == "Greeted?"
    assert page.select("main form[method=post]") == []
    urls = [
        f"{base(journey)}/checklists/new",
        f"{base(journey)}/checklists/{row.id}/edit",
        f"{base(journey)}/checklists/{row.id}/delete",
        f"{base(journey)}/checklists/{row.id}/items/new",
        f"{base(journey)}/checklists/{row.id}/items/{item.id}/edit",
        f"{base(journey)}/checklists/{row.id}/items/{item.id}/move",
        f"{base(journey)}/checklists/{row.id}/items/{item.id}/delete",
        f"{base(journey)}/checklists/{row.id}/visits/new",
    ]
    for url in urls:
        assert viewer_client.post(url, data={"direction": "up"}).status_code == 403, url
    assert item_texts(row) == ["Greeted?"]


def test_ids_from_another_map_are_404(owner_client, journey, owner):
    other_map = make_map(owner, sample_journey("Other"))
    foreign = make_checklist(other_map, name="Foreign")
    mine = make_checklist(journey)
    foreign_item = foreign.items[0]
    assert owner_client.get(f"{base(journey)}/checklists/{foreign.id}").status_code == 404
    assert owner_client.post(f"{base(journey)}/checklists/{foreign.id}/delete").status_code == 404
    r = owner_client.post(f"{base(journey)}/checklists/{mine.id}/items/{foreign_item.id}/delete")
    assert r.status_code == 404
    r = owner_client.post(f"{base(journey)}/checklists/{foreign.id}/visits/new")
    assert r.status_code == 404
    db.session.expire_all()
    assert foreign.deletion_id is None and foreign_item.deletion_id is None
