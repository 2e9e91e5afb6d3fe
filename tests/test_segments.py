"""Segments per map: list, add, rename (409 when stale), move up/down, delete with undo; viewers
read only."""

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from cjm import evidence, store
from cjm.extensions import db
from cjm.models import Observation, Segment
from tests.conftest import sign_in
from tests.factories import add_member, make_user


@pytest.fixture
def segments(journey):
    rows = [
        Segment(journey_id=journey.id, key=key, name=name, position=i)
        for i, (key, name) in enumerate([("new", "New customers"), ("b2b", "B2B"), ("vip", "VIP")])
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def names(response) -> list[str]:
    page = BeautifulSoup(response.text, "html.parser")
    return [s.text for s in page.select("#segments .frame-name")]


def url(journey, tail: str = "") -> str:
    return f"/maps/{journey.id}/segments{tail}"


HTMX = {"HX-Request": "true"}


def test_list_in_order(owner_client, journey, segments):
    response = owner_client.get(url(journey))
    assert response.status_code == 200
    assert names(response) == ["New customers", "B2B", "VIP"]
    page = BeautifulSoup(response.text, "html.parser")
    add = page.find("form", action=url(journey, "/add"))
    assert add["method"] == "post" and add.find("input", {"name": "new-segment-name"})


def test_add(owner_client, journey, segments):
    response = owner_client.post(url(journey, "/add"), data={"new-segment-name": " Сельские "})
    assert response.status_code == 303
    row = db.session.scalar(select(Segment).order_by(Segment.id.desc()))
    assert (row.name, row.key, row.position) == ("Сельские", "sel-skie", 3)
    assert response.headers["Location"] == url(journey, f"#segment-{row.id}")


def test_add_needs_a_name(owner_client, journey):
    response = owner_client.post(url(journey, "/add"), data={"new-segment-name": "  "})
    assert response.status_code == 422
    page = BeautifulSoup(response.text, "html.parser")
    assert page.select_one("#segments .field.has-error .error")
    assert db.session.scalar(select(Segment)) is None


def test_htmx_add_returns_the_section(owner_client, journey, segments):
    response = owner_client.post(
        url(journey, "/add"), data={"new-segment-name": "Rural"}, headers=HTMX
    )
    assert response.status_code == 200
    page = BeautifulSoup(response.text, "html.parser")
    (section,) = page.find_all("section", recursive=False)
    assert section["id"] == "segments"
    assert names(response)[-1] == "Rural"


def test_rename(owner_client, journey, segments):
    seg = segments[1]
    form = BeautifulSoup(owner_client.get(url(journey, f"/{seg.id}/edit")).text, "html.parser")
    assert form.find("input", {"name": f"segment-{seg.id}-version"})["value"] == "1"
    data = {f"segment-{seg.id}-name": "Business", f"segment-{seg.id}-version": "1"}
    response = owner_client.post(url(journey, f"/{seg.id}/edit"), data=data)
    assert response.status_code == 303
    assert db.session.get(Segment, seg.id).name == "Business"


def test_stale_rename_is_409(owner_client, journey, segments):
    seg = segments[1]
    seg.name = "Companies"
    db.session.commit()
    data = {f"segment-{seg.id}-name": "Business", f"segment-{seg.id}-version": "1"}
    response = owner_client.post(url(journey, f"/{seg.id}/edit"), data=data)
    assert response.status_code == 409
    page = BeautifulSoup(response.text, "html.parser")
    assert page.find("input", {"name": f"segment-{seg.id}-name"})["value"] == "Companies"
    assert page.select_one(".stale")
    assert db.session.get(Segment, seg.id).name == "Companies"


def test_htmx_rename_in_place(owner_client, journey, segments):
    seg = segments[0]
    editor = BeautifulSoup(
        owner_client.get(url(journey, f"/{seg.id}/edit"), headers=HTMX).text, "html.parser"
    )
    (li,) = editor.find_all("li", recursive=False)
    assert li["id"] == f"segment-{seg.id}" and li.find("form")["hx-post"]
    data = {f"segment-{seg.id}-name": "Newcomers", f"segment-{seg.id}-version": "1"}
    response = owner_client.post(url(journey, f"/{seg.id}/edit"), data=data, headers=HTMX)
    (li,) = BeautifulSoup(response.text, "html.parser").find_all("li", recursive=False)
    assert li.select_one(".frame-name").text == "Newcomers"
    cancel = owner_client.get(url(journey, f"/{seg.id}"), headers=HTMX)
    assert BeautifulSoup(cancel.text, "html.parser").find("li")["id"] == f"segment-{seg.id}"


@pytest.mark.parametrize(
    ("index", "direction", "expected"),
    [
        (0, "down", ["B2B", "New customers", "VIP"]),
        (2, "up", ["New customers", "VIP", "B2B"]),
        (0, "up", ["New customers", "B2B", "VIP"]),
    ],
)
def test_move(owner_client, journey, segments, index, direction, expected):
    seg = segments[index]
    response = owner_client.post(url(journey, f"/{seg.id}/move"), data={"direction": direction})
    assert response.status_code == 303
    assert names(owner_client.get(url(journey))) == expected
    assert db.session.get(Segment, seg.id).version == 1  # a move is not an edit


def test_move_needs_a_direction(owner_client, journey, segments):
    response = owner_client.post(
        url(journey, f"/{segments[0].id}/move"), data={"direction": "left"}
    )
    assert response.status_code == 422


def test_delete_and_undo(owner_client, journey, segments):
    seg = segments[1]
    evidence.add_observation(
        journey.id,
        stage_id=None,
        channel_id=None,
        touchpoint_id=first_tp(journey),
        segment_id=seg.id,
        csat=3,
    )
    db.session.commit()
    response = owner_client.post(url(journey, f"/{seg.id}/delete"))
    assert response.status_code == 303
    page = BeautifulSoup(owner_client.get(url(journey)).text, "html.parser")
    assert [s.text for s in page.select("#segments .frame-name")] == ["New customers", "VIP"]
    assert evidence.load_evidence(journey.id) == []  # its observations drop out with it
    undo = page.select_one(".notice.undo form")
    back = owner_client.post(
        undo["action"], data={"next": undo.find("input", {"name": "next"})["value"]}
    )
    assert back.headers["Location"] == url(journey)
    assert names(owner_client.get(url(journey))) == ["New customers", "B2B", "VIP"]
    assert len(evidence.load_evidence(journey.id)) == 1


def first_tp(journey) -> int:
    return store.load_journey(journey.id).touchpoints[0].id


def test_htmx_delete_carries_the_undo_notice(owner_client, journey, segments):
    response = owner_client.post(url(journey, f"/{segments[0].id}/delete"), headers=HTMX)
    page = BeautifulSoup(response.text, "html.parser")
    assert page.find("section", id="segments")
    assert page.find("hx-partial").select_one(".notice.undo")


def test_viewer_reads_but_may_not_write(client, journey, segments):
    viewer = make_user("viewer@example.com", "Viewer")
    add_member(journey, viewer, "viewer")
    sign_in(client, viewer)
    response = client.get(url(journey))
    assert names(response) == ["New customers", "B2B", "VIP"]
    page = BeautifulSoup(response.text, "html.parser")
    assert (
        page.select(".frame-actions") == []
        and page.find("form", action=url(journey, "/add")) is None
    )
    seg = segments[0].id
    for tail, data in [
        ("/add", {"new-segment-name": "X"}),
        (f"/{seg}/edit", {f"segment-{seg}-name": "X"}),
        (f"/{seg}/move", {"direction": "down"}),
        (f"/{seg}/delete", {}),
    ]:
        assert client.post(url(journey, tail), data=data).status_code == 403
    assert client.get(url(journey, f"/{seg}/edit")).status_code == 403
    assert names(client.get(url(journey))) == ["New customers", "B2B", "VIP"]


def test_another_maps_segment_is_404(owner_client, journey, segments):
    from tests.factories import make_map, sample_journey

    theirs = make_map(make_user("s@example.com", "S"), sample_journey("Theirs"))
    other = Segment(journey_id=theirs.id, key="x", name="Theirs")
    db.session.add(other)
    db.session.commit()
    response = owner_client.post(url(journey, f"/{other.id}/delete"))
    assert response.status_code == 404
    assert db.session.get(Segment, other.id).deletion_id is None
    assert db.session.scalar(select(Observation)) is None
