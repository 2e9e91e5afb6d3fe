"""Mystery-shopper visits: a draft from the first tap, saved (button or htmx autosave) without
losing answers, submitted only when complete (422 otherwise), reopened with a version check;
photos checked and stripped of metadata; viewers read only; forged ids refused."""

import io
from datetime import date

import pytest
from bs4 import BeautifulSoup
from PIL import ExifTags, ImageDraw
from PIL import Image as PILImage
from sqlalchemy import select

from cjm.extensions import db
from cjm.models import (
    Image,
    Observation,
    Segment,
    Touchpoint,
    Visit,
    VisitAnswer,
    VisitPhoto,
)
from tests.conftest import sign_in
from tests.factories import add_member, make_map, make_user, sample_journey
from tests.test_shopper_checklists import make_checklist

HX = {"HX-Request": "true"}
ITEMS = (
    ("Greeted within a minute?", "yes-no"),
    ("Friendliness", "scale-5"),
    ("Would you come back?", "scale-10"),
    ("Waiting, minutes", "number"),
    ("What stood out?", "text"),
)


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def touchpoint(journey, key: str) -> Touchpoint:
    return db.session.scalar(select(Touchpoint).filter_by(journey_id=journey.id, key=key))


@pytest.fixture
def checklist(journey):
    return make_checklist(journey, items=ITEMS)


@pytest.fixture
def items(checklist):
    return {kind: item.id for item, (_text, kind) in zip(checklist.items, ITEMS, strict=True)}


@pytest.fixture
def visit(owner_client, journey, checklist):
    """A draft started through the UI."""
    r = owner_client.post(f"/maps/{journey.id}/shopper/checklists/{checklist.id}/visits/new")
    assert r.status_code == 303
    row = db.session.scalar(select(Visit).filter_by(journey_id=journey.id))
    assert r.headers["Location"].endswith(f"/maps/{journey.id}/shopper/visits/{row.id}")
    return row


def url(visit) -> str:
    return f"/maps/{visit.journey_id}/shopper/visits/{visit.id}"


def current_version(visit) -> str:
    db.session.expire_all()
    return str(db.session.get(Visit, visit.id).version)


def complete(journey, items, visit, **extra) -> dict:
    """A full answer set for the visit form."""
    return {
        "version": current_version(visit),
        "visited_on": "2025-03-14",
        "place": "Main street 1",
        "touchpoint": str(touchpoint(journey, "call").id),
        "channel": "",
        "segment": "",
        "notes": "Long queue",
        f"item-{items['yes-no']}": "yes",
        f"item-{items['scale-5']}": "4",
        f"item-{items['scale-10']}": "9",
        f"item-{items['number']}": "7,5",
        f"item-{items['text']}": "Clean shop",
        "items": list(items.values()),
        **extra,
    }


def answers(visit) -> dict:
    db.session.expire_all()
    return {
        a.item_id: (a.yes, a.number, a.text)
        for a in db.session.scalars(select(VisitAnswer).filter_by(visit_id=visit.id))
    }


def jpeg_with_gps() -> bytes:
    exif = PILImage.Exif()
    exif[ExifTags.Base.Model] = "Spy Camera 3000"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (55.0, 45.0, 21.0)
    image = PILImage.new("RGB", (60, 40), "red")
    ImageDraw.Draw(image).rectangle((30, 0, 60, 40), fill="blue")
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_start_creates_a_draft_with_today(visit, owner):
    assert visit.status == "draft"
    assert visit.user_id == owner.id
    assert visit.visited_on == date.today()


def test_form_is_phone_friendly_and_works_without_js(owner_client, journey, visit, items):
    page = soup(owner_client.get(url(visit)))
    form = page.select_one("form.visit-form")
    assert form["method"] == "post" and form["action"] == url(visit)
    assert form["enctype"] == "multipart/form-data"
    assert form["hx-trigger"] == "change delay:800ms"
    assert page.select_one("input[name=visited_on]")["type"] == "date"
    groups = [g["label"] for g in page.select("select[name=touchpoint] optgroup")]
    assert groups == ["Awareness", "Purchase", "Use"]
    purchase = page.select("select[name=touchpoint] optgroup[label=Purchase] option")
    assert [o.text for o in purchase] == ["Fills the cart", "Calls to ask", "Leaves"]
    yes_no = page.select(f"input[type=radio][name=item-{items['yes-no']}]")
    assert [r["value"] for r in yes_no] == ["yes", "no"]
    assert len(page.select(f"input[type=radio][name=item-{items['scale-5']}]")) == 5
    assert len(page.select(f"input[type=radio][name=item-{items['scale-10']}]")) == 10
    number = page.select_one(f"input[name=item-{items['number']}]")
    assert (number["type"], number["inputmode"]) == ("number", "decimal")
    assert page.select_one(f"textarea[name=item-{items['text']}]") is not None
    photos = page.select_one("input[type=file][name=photos]")
    assert photos.has_attr("multiple")
    assert page.select_one("#autosave-status input[name=version]")["value"] == str(visit.version)
    buttons = [(b.get("name"), b.get("value")) for b in form.select("button")]
    assert buttons[0] == ("action", "save")  # Enter in a field saves, never removes a photo
    assert ("action", "submit") in buttons


def test_save_draft_keeps_answers(owner_client, journey, visit, items):
    data = {
        "version": current_version(visit),
        "visited_on": "2025-03-14",
        f"item-{items['yes-no']}": "no",
        f"item-{items['number']}": "12",
        "action": "save",
        "items": list(items.values()),
    }
    r = owner_client.post(url(visit), data=data)
    assert r.status_code == 303
    assert r.headers["Location"].endswith(url(visit))
    assert answers(visit) == {items["yes-no"]: (False, None, ""), items["number"]: (None, 12, "")}
    page = soup(owner_client.get(url(visit)))
    assert page.select_one(f"input[name=item-{items['yes-no']}][checked]")["value"] == "no"
    assert page.select_one(f"input[name=item-{items['number']}]")["value"] == "12"
    assert db.session.get(Visit, visit.id).status == "draft"


def test_autosave_keeps_answers_and_returns_the_new_version(owner_client, journey, visit, items):
    data = {
        "version": current_version(visit),
        f"item-{items['scale-5']}": "3",
        "notes": "So far",
        "items": list(items.values()),
    }
    r = owner_client.post(url(visit), data=data, headers=HX)
    assert r.status_code == 200
    fragment = soup(r)
    status = fragment.select_one("#autosave-status")
    assert status.select_one(".ok") is not None
    assert status.select_one("input[name=version]")["value"] == current_version(visit)
    assert answers(visit) == {items["scale-5"]: (None, 3, "")}
    assert db.session.get(Visit, visit.id).notes == "So far"
    # Clearing an answer removes it.
    data = {"version": current_version(visit), "items": [items["scale-5"]]}
    assert owner_client.post(url(visit), data=data, headers=HX).status_code == 200
    assert answers(visit) == {}


def test_a_post_listing_no_items_keeps_the_answers(owner_client, journey, visit, items):
    owner_client.post(url(visit), data=complete(journey, items, visit))
    kept = answers(visit)
    assert len(kept) == 5
    r = owner_client.post(url(visit), data={"version": current_version(visit), "place": "Here"})
    assert r.status_code == 303
    assert answers(visit) == kept
    # A shown radio group left unticked is not posted: listed, it clears the answer.
    data = {"version": current_version(visit), "items": [items["yes-no"]]}
    assert owner_client.post(url(visit), data=data).status_code == 303
    assert items["yes-no"] not in answers(visit)


def test_stale_autosave_is_409_and_keeps_its_old_version(owner_client, journey, visit, items):
    old = current_version(visit)
    owner_client.post(url(visit), data={"version": old, "place": "Phone"}, headers=HX)
    r = owner_client.post(
        url(visit),
        data={"version": old, "place": "Laptop", f"item-{items['yes-no']}": "yes", "items": 1},
        headers=HX,
    )  # fmt: skip
    assert r.status_code == 409
    status = soup(r).select_one("#autosave-status")
    assert status.select_one(".error") is not None
    assert status.select_one("input[name=version]")["value"] == old
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).place == "Phone"
    assert answers(visit) == {}


def test_stale_save_without_js_shows_the_saved_values(owner_client, journey, visit):
    old = current_version(visit)
    owner_client.post(url(visit), data={"version": old, "place": "Phone"})
    r = owner_client.post(url(visit), data={"version": old, "place": "Laptop"})
    assert r.status_code == 409
    page = soup(r)
    assert page.select_one("[role=alert]") is not None
    assert page.select_one("input[name=place]")["value"] == "Phone"


def test_submit_requires_date_touchpoint_and_every_scored_answer(
    owner_client, journey, visit, items
):
    data = {
        "version": current_version(visit),
        "visited_on": "",
        "touchpoint": "",
        "channel": "",
        f"item-{items['yes-no']}": "yes",
        f"item-{items['number']}": "abc",
        "action": "submit",
        "items": list(items.values()),
    }
    r = owner_client.post(url(visit), data=data)
    assert r.status_code == 422
    page = soup(r)
    # A malformed value is reported first; nothing else was checked yet.
    assert page.select_one(f"#answer-{items['number']} .error").text == "Enter a number."
    data.update({f"item-{items['number']}": "", "version": current_version(visit)})
    r = owner_client.post(url(visit), data=data)
    assert r.status_code == 422
    page = soup(r)
    errors = {li["id"] for li in page.select("li.answer.has-error")}
    assert errors == {f"answer-{items['scale-5']}", f"answer-{items['scale-10']}"}
    assert page.select_one(f"#answer-{items['scale-5']} .error").text == "Answer this question."
    assert page.select_one(".field.has-error input[name=visited_on]") is not None
    assert page.select_one(".field.has-error select[name=touchpoint]") is not None
    # The answer given is kept, ticked in the re-rendered form and stored in the draft.
    assert page.select_one(f"input[name=item-{items['yes-no']}][checked]")["value"] == "yes"
    assert answers(visit) == {items["yes-no"]: (True, None, "")}
    assert db.session.get(Visit, visit.id).status == "draft"
    assert page.select_one("#autosave-status input[name=version]")["value"] == current_version(
        visit
    )


def test_scale_out_of_range_is_refused(owner_client, journey, visit, items):
    r = owner_client.post(
        url(visit),
        data={
            "version": current_version(visit),
            f"item-{items['scale-5']}": "6",
            "items": [items["scale-5"]],
        },
    )
    assert r.status_code == 422
    assert soup(r).select_one(f"#answer-{items['scale-5']} .error") is not None
    assert answers(visit) == {}


def test_submit_complete_visit(owner_client, journey, visit, items):
    r = owner_client.post(url(visit), data=complete(journey, items, visit, action="submit"))
    assert r.status_code == 303
    assert r.headers["Location"].endswith(f"/maps/{journey.id}/shopper")
    db.session.expire_all()
    row = db.session.get(Visit, visit.id)
    call = touchpoint(journey, "call")
    assert row.status == "submitted"
    assert (row.visited_on, row.touchpoint_id, row.channel_id) == (
        date(2025, 3, 14),
        call.id,
        call.channel_id,  # the channel follows the touchpoint
    )
    assert answers(visit)[items["number"]] == (None, 7.5, "")
    evidence = db.session.scalar(select(Observation).filter_by(visit_id=visit.id))
    assert (evidence.source, evidence.touchpoint_id) == ("mystery-shopper", call.id)
    assert (evidence.stage_id, evidence.channel_id) == (call.stage_id, call.channel_id)
    page = soup(owner_client.get(url(visit)))
    assert page.select("form.visit-form") == []
    values = [li.select_one(".value").text for li in page.select(".answer-list li")]
    assert values == ["Yes", "4 / 5", "9 / 10", "7.5", "Clean shop"]
    # Once submitted, saving again is refused: reopen first.
    r = owner_client.post(url(visit), data=complete(journey, items, visit, place="X"))
    assert r.status_code == 409


def test_channel_alone_is_enough(owner_client, journey, visit, items):
    web = touchpoint(journey, "ad").channel_id
    data = complete(journey, items, visit, touchpoint="", channel=str(web), action="submit")
    assert owner_client.post(url(visit), data=data).status_code == 303
    db.session.expire_all()
    row = db.session.get(Visit, visit.id)
    assert (row.touchpoint_id, row.channel_id, row.status) == (None, web, "submitted")


def test_drafts_are_listed_for_their_author(app, owner_client, journey, visit):
    page = soup(owner_client.get(f"/maps/{journey.id}/shopper"))
    links = [a["href"] for a in page.select("#drafts a.visit-link")]
    assert links == [url(visit)]
    editor = make_user("editor@example.com", "Ed")
    add_member(journey, editor, "editor")
    other = app.test_client()
    sign_in(other, editor)
    assert soup(other.get(f"/maps/{journey.id}/shopper")).select_one("#drafts") is None


def test_reopen_checks_the_version(owner_client, journey, visit, items):
    owner_client.post(url(visit), data=complete(journey, items, visit, action="submit"))
    version = current_version(visit)
    r = owner_client.post(f"{url(visit)}/reopen", data={"version": str(int(version) - 1)})
    assert r.status_code == 409
    assert db.session.get(Visit, visit.id).status == "submitted"
    r = owner_client.post(f"{url(visit)}/reopen", data={"version": version})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).status == "draft"
    assert db.session.scalar(select(Observation).filter_by(visit_id=visit.id)) is None
    page = soup(owner_client.get(url(visit)))
    assert page.select_one(f"input[name=item-{items['yes-no']}][checked]")["value"] == "yes"


def test_delete_visit_and_undo(owner_client, journey, visit, items):
    owner_client.post(url(visit), data=complete(journey, items, visit, action="submit"))
    r = owner_client.post(f"{url(visit)}/delete")
    assert r.status_code == 303
    page = soup(owner_client.get(f"/maps/{journey.id}/shopper"))
    assert page.select("#submitted a.visit-link") == []
    assert owner_client.get(url(visit)).status_code == 404
    evidence = db.session.scalar(select(Observation).filter_by(visit_id=visit.id))
    assert evidence.deletion_id is not None
    owner_client.post(page.select_one("#notices .undo form")["action"])
    assert owner_client.get(url(visit)).status_code == 200


def test_deleting_the_checklist_hides_its_evidence(owner_client, journey, visit, items):
    owner_client.post(url(visit), data=complete(journey, items, visit, action="submit"))
    owner_client.post(f"/maps/{journey.id}/shopper/checklists/{visit.checklist_id}/delete")
    evidence = db.session.scalar(select(Observation).filter_by(visit_id=visit.id))
    assert evidence.deletion_id is not None
    assert owner_client.get(url(visit)).status_code == 404
    page = soup(owner_client.get(f"/maps/{journey.id}/shopper"))
    assert page.select("#submitted a.visit-link") == []


def test_photo_is_stored_without_exif_and_can_be_removed(owner_client, journey, visit):
    data = {
        "version": current_version(visit),
        "photos": [(io.BytesIO(jpeg_with_gps()), "shop.jpg", "image/jpeg")],
    }
    r = owner_client.post(url(visit), data=data, content_type="multipart/form-data")
    assert r.status_code == 303
    photo = db.session.scalar(select(VisitPhoto).filter_by(visit_id=visit.id))
    image_id = photo.image_id
    image = db.session.get(Image, image_id)
    stored = PILImage.open(io.BytesIO(image.data))
    assert stored.format == "JPEG" and stored.size == (60, 40)
    assert dict(stored.getexif()) == {}
    assert b"Spy Camera" not in image.data
    page = soup(owner_client.get(url(visit)))
    thumb = page.select_one("#photos .thumbs img")
    assert thumb["src"] == f"/maps/{journey.id}/images/{image.id}"
    assert owner_client.get(thumb["src"]).data == image.data
    remove = page.select_one("#photos button[name=remove_photo]")
    r = owner_client.post(
        url(visit), data={"version": current_version(visit), "remove_photo": remove["value"]}
    )
    assert r.status_code == 303
    assert db.session.scalar(select(VisitPhoto).filter_by(visit_id=visit.id)) is None
    assert db.session.get(Image, image_id) is None


def test_text_file_renamed_jpg_is_refused(owner_client, journey, visit, items):
    data = {
        "version": current_version(visit),
        f"item-{items['yes-no']}": "yes",
        "items": [items["yes-no"]],
        "photos": [(io.BytesIO(b"just some text, honestly"), "evil.jpg", "image/jpeg")],
    }
    r = owner_client.post(url(visit), data=data, content_type="multipart/form-data")
    assert r.status_code == 422
    assert "evil.jpg" in soup(r).select_one("#photos-error").text
    assert db.session.scalar(select(VisitPhoto).filter_by(visit_id=visit.id)) is None
    assert answers(visit) == {items["yes-no"]: (True, None, "")}  # the answer survived


def test_viewer_reads_but_cannot_write(app, journey, owner_client, visit, items):
    owner_client.post(url(visit), data=complete(journey, items, visit))
    viewer = make_user("viewer@example.com", "Vera")
    add_member(journey, viewer, "viewer")
    client = app.test_client()
    sign_in(client, viewer)
    page = soup(client.get(url(visit)))
    assert page.select("form.visit-form") == []
    assert page.select_one(".answer-list") is not None
    data = complete(journey, items, visit, action="submit")
    assert client.post(url(visit), data=data).status_code == 403
    assert client.post(f"{url(visit)}/reopen", data=data).status_code == 403
    assert client.post(f"{url(visit)}/delete").status_code == 403
    checklist_id = visit.checklist_id
    start = f"/maps/{journey.id}/shopper/checklists/{checklist_id}/visits/new"
    assert client.post(start).status_code == 403
    assert db.session.get(Visit, visit.id).status == "draft"


def test_forged_ids_are_refused(owner_client, owner, journey, visit, items):
    other = make_map(owner, sample_journey("Other shop"))
    foreign_tp = db.session.scalar(select(Touchpoint).filter_by(journey_id=other.id))
    foreign_segment = Segment(journey_id=other.id, key="b2b", name="B2B")
    db.session.add(foreign_segment)
    db.session.commit()
    for field, value in (("touchpoint", foreign_tp.id), ("segment", foreign_segment.id)):
        data = complete(journey, items, visit, **{field: str(value)})
        r = owner_client.post(url(visit), data=data)
        assert r.status_code == 422
        assert soup(r).select_one(f".field.has-error select[name={field}]") is not None
        db.session.expire_all()
        assert getattr(db.session.get(Visit, visit.id), f"{field}_id") is None
    # A visit of another map does not exist here.
    foreign_list = make_checklist(other, name="Foreign")
    foreign_visit = Visit(journey_id=other.id, checklist_id=foreign_list.id, user_id=owner.id)
    db.session.add(foreign_visit)
    db.session.commit()
    forged = f"/maps/{journey.id}/shopper/visits/{foreign_visit.id}"
    assert owner_client.get(forged).status_code == 404
    r = owner_client.post(forged, data={"version": "1"})
    assert r.status_code == 404
    # Neither does another visit's photo.
    db.session.add(
        Image(journey_id=other.id, content_type="image/png", data=b"x", width=1, height=1)
    )
    db.session.flush()
    image = db.session.scalar(select(Image).filter_by(journey_id=other.id))
    photo = VisitPhoto(visit_id=foreign_visit.id, image_id=image.id)
    db.session.add(photo)
    db.session.commit()
    data = {"version": current_version(visit), "remove_photo": str(photo.id)}
    assert owner_client.post(url(visit), data=data).status_code == 404
    assert db.session.get(VisitPhoto, photo.id) is not None
