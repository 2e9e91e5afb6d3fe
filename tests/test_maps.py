"""Maps: new from each template and language, settings (422/409), members, delete and undo."""

import pytest
from bs4 import BeautifulSoup

from cjm import store
from cjm.extensions import db
from cjm.journey.templates import TEMPLATES
from cjm.models import Journey, Membership
from tests.conftest import sign_in
from tests.factories import add_member, make_user


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_new_map_from_template(owner_client, ctx, template, language):
    response = owner_client.post(
        "/maps/new", data={"title": "Trip", "template": template, "language": language}
    )
    assert response.status_code == 303
    map_id = int(response.headers["Location"].rsplit("/", 1)[1])
    journey = store.load_journey(map_id)
    assert [s.name for s in journey.stages] == TEMPLATES[template][language]
    assert journey.language == language
    page = BeautifulSoup(owner_client.get(f"/maps/{map_id}").text, "html.parser")
    assert page.h1.text == "Trip"


def test_new_map_without_title_is_422(owner_client):
    response = owner_client.post(
        "/maps/new", data={"title": "", "template": "blank", "language": "en"}
    )
    assert response.status_code == 422
    assert BeautifulSoup(response.text, "html.parser").select_one("#title-error")


def test_stepper_states_follow_the_content(owner_client, journey):
    page = BeautifulSoup(owner_client.get(f"/maps/{journey.id}").text, "html.parser")
    states = [li["class"][1] for li in page.select("ol.stepper > li")]
    assert states == ["state-done", "state-done"] + ["state-empty"] * 4
    barriers = page.select("ol.stepper > li")[3]
    assert barriers.select_one("h2 a")["href"] == f"/maps/{journey.id}/barriers"
    assert [li.text for li in barriers.select("ul.todo li")] == [
        "record a barrier (or accept a suggested one)",
        "link evidence to every barrier",
        "let the team vote on the barriers with dots",
    ]


def test_step_4_follows_the_barriers(owner_client, journey):
    from cjm.models import Barrier, BarrierVote, Touchpoint

    paid = db.session.scalar(db.select(Touchpoint).filter_by(journey_id=journey.id, key="paid"))
    barrier = Barrier(
        journey_id=journey.id, key="fee", title="Fee", type="price", touchpoint_id=paid.id
    )
    db.session.add(barrier)
    db.session.commit()

    def step_4():
        page = BeautifulSoup(owner_client.get(f"/maps/{journey.id}").text, "html.parser")
        step = page.select("ol.stepper > li")[3]
        return step["class"][1], [li.text for li in step.select("ul.todo li")]

    assert step_4() == (
        "state-started",
        ["link evidence to every barrier", "let the team vote on the barriers with dots"],
    )
    db.session.add(BarrierVote(barrier_id=barrier.id, user_id=journey.members[0].user_id))
    db.session.commit()
    assert step_4() == ("state-started", ["link evidence to every barrier"])


def settings_form(journey, **changes):
    data = {
        "version": journey.version,
        "title": journey.title,
        "description": "",
        "state": "as-is",
        "language": "en",
    }
    return {**data, **changes}


def test_settings_save_and_stale_409(owner_client, journey):
    old_version = journey.version
    response = owner_client.post(
        f"/maps/{journey.id}/settings", data=settings_form(journey, title="New")
    )
    assert response.status_code == 303
    stale = owner_client.post(
        f"/maps/{journey.id}/settings",
        data={**settings_form(journey, title="Lost"), "version": old_version},
    )
    assert stale.status_code == 409
    db.session.expire_all()
    assert db.session.get(Journey, journey.id).title == "New"


def test_settings_invalid_state_is_422(owner_client, journey):
    response = owner_client.post(
        f"/maps/{journey.id}/settings", data=settings_form(journey, state="later")
    )
    assert response.status_code == 422


def test_owner_adds_and_removes_members(owner_client, journey):
    friend = make_user("friend@example.com", "Friend")
    response = owner_client.post(
        f"/maps/{journey.id}/members", data={"email": "friend@example.com", "role": "editor"}
    )
    assert response.status_code == 303
    assert db.session.scalar(db.select(Membership.role).filter_by(user_id=friend.id)) == "editor"
    unknown = owner_client.post(
        f"/maps/{journey.id}/members", data={"email": "ghost@example.com", "role": "viewer"}
    )
    assert unknown.status_code == 422
    owner_client.post(f"/maps/{journey.id}/members/{friend.id}/remove")
    assert db.session.scalar(db.select(Membership).filter_by(user_id=friend.id)) is None


def test_last_owner_cannot_be_removed(owner_client, journey, owner):
    owner_client.post(f"/maps/{journey.id}/members/{owner.id}/remove")
    assert db.session.scalar(db.select(Membership.role).filter_by(user_id=owner.id)) == "owner"


def test_delete_map_then_undo(owner_client, journey):
    response = owner_client.post(f"/maps/{journey.id}/delete", follow_redirects=True)
    page = BeautifulSoup(response.text, "html.parser")
    assert page.select(".map-card") == []
    undo = page.select_one(".notice.undo form")
    assert undo["action"] == f"/maps/{journey.id}/restore"
    assert owner_client.get(f"/maps/{journey.id}").status_code == 404
    assert owner_client.post(undo["action"]).status_code == 303
    assert owner_client.get(f"/maps/{journey.id}").status_code == 200


def test_undo_window_closes(app, owner_client, journey):
    owner_client.post(f"/maps/{journey.id}/delete")
    app.config["UNDO_SECONDS"] = -1
    try:
        owner_client.post(f"/maps/{journey.id}/restore")
    finally:
        app.config["UNDO_SECONDS"] = 900
    assert owner_client.get(f"/maps/{journey.id}").status_code == 404


def test_editor_cannot_restore_a_deleted_map(app, owner_client, journey):
    editor = make_user("ed@example.com", "Ed")
    add_member(journey, editor, "editor")
    owner_client.post(f"/maps/{journey.id}/delete")
    other = app.test_client()
    sign_in(other, editor)
    assert other.post(f"/maps/{journey.id}/restore").status_code == 404
