"""Live workshops: starting one, joining by code from a phone, sticky notes, dots counted exactly
under concurrency, the facilitator's controls, promoting notes, the summary, and who may do what.
The event stream itself is cjm/live's (tests/test_live*.py); here we check what is published."""

import hashlib
import re
import threading
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from cjm import workshops as rules
from cjm.extensions import db, limiter
from cjm.models import (
    Barrier,
    Dot,
    Note,
    Participant,
    Persona,
    Stage,
    Strategy,
    Touchpoint,
    Workshop,
    WorkshopEvent,
)
from tests.conftest import sign_in
from tests.factories import add_member, make_map, make_user


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    """Join attempts are rate-limited per address; every test starts with a clean slate."""
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def workshop(journey, owner):
    row = rules.start(journey.id, owner.id)
    db.session.commit()
    return row


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def join(app, code: str, name: str = "Anna"):
    """A fresh browser that joined the workshop from the join form."""
    phone = app.test_client()
    response = phone.post("/join", data={"code": code, "name": name})
    assert response.status_code == 303, response.text
    return phone


@pytest.fixture
def phone(app, workshop):
    return join(app, workshop.code)


def first(model, journey_id):
    return db.session.scalars(
        select(model).filter_by(journey_id=journey_id).order_by(model.id)
    ).first()


def post_note(client, workshop, place: str, text: str = "Too many fields", kind: str = "pain"):
    return client.post(
        f"/w/{workshop.id}/notes",
        data={"note-kind": kind, "note-place": place, "note-text": text},
    )


def notes_of(workshop):
    return list(db.session.scalars(select(Note).filter_by(workshop_id=workshop.id)))


def events(workshop) -> list[str]:
    return list(
        db.session.scalars(
            select(WorkshopEvent.kind).filter_by(workshop_id=workshop.id).order_by(WorkshopEvent.id)
        )
    )


# --- starting and joining -----------------------------------------------------------------------


def test_starting_a_workshop_shows_code_and_qr_on_the_projector(owner_client, journey):
    response = owner_client.post(f"/maps/{journey.id}/workshop/start")
    assert response.status_code == 303
    workshop = db.session.scalar(select(Workshop).filter_by(journey_id=journey.id))
    assert response.headers["Location"].endswith(f"/maps/{journey.id}/workshop/{workshop.id}")
    page = soup(owner_client.get(response.headers["Location"]))
    assert page.select_one(".ws-code").get_text(strip=True) == workshop.code
    qr = page.select_one("svg.qr")
    assert qr is not None and qr.find("path")["d"].startswith("M")
    assert not qr.find_all(["script", "foreignobject"])
    assert f"/join?code={workshop.code}" in page.select_one(".ws-join-url").get_text()
    assert page.select_one("#ws-controls") is not None  # the owner facilitates
    assert page.select_one("#room")["hx-sse:connect"].startswith(f"/w/{workshop.id}/stream")
    # A second start opens the same workshop: one at a time per map.
    again = owner_client.post(f"/maps/{journey.id}/workshop/start")
    assert again.headers["Location"] == response.headers["Location"]


def test_join_codes_are_random_unambiguous_and_unique(ctx, journey, owner):
    codes = {rules.start(journey.id, owner.id).code for _ in range(200)}
    db.session.rollback()
    assert len(codes) == 200
    assert all(len(c) == rules.CODE_LENGTH and set(c) <= set(rules.CODE_ALPHABET) for c in codes)
    assert not set("".join(codes)) & set("0O1IL")
    assert len(rules.CODE_ALPHABET) ** rules.CODE_LENGTH > 800_000_000


def test_joining_by_code_seats_a_participant_with_only_a_hash_stored(app, workshop):
    phone = app.test_client()
    typed = workshop.code.lower()[:3] + "-" + workshop.code.lower()[3:]
    response = phone.post("/join", data={"code": typed, "name": "  Anna  "})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/w/{workshop.id}")
    cookie = phone.get_cookie(rules.cookie_name(workshop.id), path=f"/w/{workshop.id}")
    assert cookie is not None and cookie.http_only
    person = db.session.scalar(select(Participant).filter_by(workshop_id=workshop.id))
    assert person.name == "Anna"
    assert person.token_hash == hashlib.sha256(cookie.value.encode()).hexdigest()
    assert cookie.value not in person.token_hash
    page = soup(phone.get(f"/w/{workshop.id}"))
    assert page.select_one("#note-form") is not None
    assert "presence" in events(workshop)


def test_join_with_a_wrong_code_says_so(app, workshop):
    phone = app.test_client()
    response = phone.post("/join", data={"code": "ZZZZZZ", "name": "Anna"})
    assert response.status_code == 422
    assert soup(response).select_one("#code-error") is not None
    response = phone.post("/join", data={"code": workshop.code, "name": ""})
    assert response.status_code == 422


def test_join_attempts_are_rate_limited(app, workshop):
    app.config["WORKSHOP_JOIN_LIMIT"] = "3 per minute"
    try:
        phone = app.test_client()
        # Successful joins do not count: a whole room may sit behind one address.
        for n in range(4):
            assert (
                phone.post("/join", data={"code": workshop.code, "name": f"P{n}"}).status_code
                == 303
            )
        codes = [
            phone.post("/join", data={"code": "AAAAAA", "name": "X"}).status_code for _ in range(4)
        ]
    finally:
        app.config.pop("WORKSHOP_JOIN_LIMIT")
    assert codes == [422, 422, 422, 429]


def test_the_code_expires_when_the_workshop_ends(app, owner_client, journey, workshop):
    code = workshop.code
    phone = join(app, code)
    owner_client.post(f"/maps/{journey.id}/workshop/{workshop.id}/end")
    db.session.refresh(workshop)
    assert workshop.code is None and workshop.ended_at is not None
    assert app.test_client().post("/join", data={"code": code, "name": "Late"}).status_code == 422
    # Those already in see the end, and cannot post any more.
    response = post_note(phone, workshop, f"st-{first(Stage, journey.id).id}")
    assert response.status_code == 409


# --- notes ----------------------------------------------------------------------------------------


def test_participant_posts_edits_and_deletes_own_note(app, phone, journey, workshop):
    tp = first(Touchpoint, journey.id)
    response = post_note(phone, workshop, f"tp-{tp.id}", "Shipping cost shows up too late")
    assert response.status_code == 303
    (note,) = notes_of(workshop)
    assert (note.touchpoint_id, note.stage_id, note.kind) == (tp.id, tp.stage_id, "pain")
    assert "notes" in events(workshop)
    board = soup(phone.get(f"/w/{workshop.id}/board"))
    assert board.select_one(f"#note-{note.id} .ws-note-text").get_text() == note.text

    edit_url = f"/w/{workshop.id}/notes/{note.id}/edit"
    form = soup(phone.get(edit_url))
    version = form.find("input", {"name": f"note-{note.id}-version"})["value"]
    fields = {f"note-{note.id}-kind": "idea", f"note-{note.id}-place": f"tp-{tp.id}"}
    response = phone.post(
        edit_url,
        data={
            **fields,
            f"note-{note.id}-version": version,
            f"note-{note.id}-text": "Show it early",
        },
    )
    assert response.status_code == 303
    db.session.refresh(note)
    assert (note.text, note.kind) == ("Show it early", "idea")

    # The old version again: 409 with the saved text, nothing overwritten.
    stale = phone.post(
        edit_url,
        data={**fields, f"note-{note.id}-version": version, f"note-{note.id}-text": "Lost"},
    )
    assert stale.status_code == 409
    assert soup(stale).find("textarea").get_text().strip() == "Show it early"
    db.session.refresh(note)
    assert note.text == "Show it early"

    response = phone.post(f"/w/{workshop.id}/notes/{note.id}/delete")
    assert response.status_code == 303
    db.session.refresh(note)
    assert note.deletion_id is not None
    assert soup(phone.get(f"/w/{workshop.id}/board")).select_one(f"#note-{note.id}") is None


def test_oversized_and_invalid_notes_are_refused_with_a_message(phone, journey, workshop):
    stage = first(Stage, journey.id)
    response = post_note(phone, workshop, f"st-{stage.id}", "x" * 501)
    assert response.status_code == 413
    assert "at most 500 characters" in soup(response).select_one("#note-text-error").get_text()
    assert post_note(phone, workshop, f"st-{stage.id}", "   ").status_code == 422
    assert post_note(phone, workshop, "st-999999").status_code == 422
    other = make_map(make_user("x@example.com"))
    assert post_note(phone, workshop, f"st-{first(Stage, other.id).id}").status_code == 422
    assert notes_of(workshop) == []
    # Exactly 500 is fine.
    assert post_note(phone, workshop, f"st-{stage.id}", "y" * 500).status_code == 303


def test_htmx_post_answers_the_form_and_status_and_the_event_brings_the_board(
    phone, journey, workshop
):
    stage = first(Stage, journey.id)
    response = phone.post(
        f"/w/{workshop.id}/notes",
        data={"note-kind": "idea", "note-place": f"st-{stage.id}", "note-text": "Free returns"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("form#note-form textarea").get_text().strip() == ""
    assert page.select_one("#ws-status")["hx-swap-oob"] == "true"
    assert page.select_one("#ws-board") is None  # no board render on the busiest write…
    board = soup(phone.get(f"/w/{workshop.id}/board", headers={"HX-Request": "true"}))
    assert "Free returns" in board.select_one("#ws-board").get_text()  # …its refetch has it
    assert "notes" in board.select_one("#ws-board")["hx-trigger"]


def test_a_participant_cannot_change_someone_elses_note(app, phone, journey, workshop):
    post_note(phone, workshop, f"st-{first(Stage, journey.id).id}")
    (note,) = notes_of(workshop)
    other = join(app, workshop.code, "Boris")
    assert other.get(f"/w/{workshop.id}/notes/{note.id}/edit").status_code == 403
    assert other.post(f"/w/{workshop.id}/notes/{note.id}/delete").status_code == 403
    board = soup(other.get(f"/w/{workshop.id}/board"))
    assert board.select_one(f"#note-{note.id} a[href$='/edit']") is None


# --- dots -------------------------------------------------------------------------------------


def test_dots_on_notes_and_barriers_up_to_n(app, phone, journey, workshop):
    post_note(phone, workshop, f"st-{first(Stage, journey.id).id}")
    (note,) = notes_of(workshop)
    barrier = Barrier(
        journey_id=journey.id,
        key="fees",
        title="Hidden fees",
        type="price",
        touchpoint_id=first(Touchpoint, journey.id).id,
    )
    db.session.add(barrier)
    workshop.dots = 3
    db.session.commit()
    note_url = f"/w/{workshop.id}/notes/{note.id}/dot"
    barrier_url = f"/w/{workshop.id}/barriers/{barrier.id}/dot"
    assert phone.post(note_url).status_code == 303
    assert phone.post(barrier_url).status_code == 303
    assert phone.post(note_url).status_code == 303
    refused = phone.post(note_url, headers={"HX-Request": "true"})
    assert refused.status_code == 409
    assert "All your dots are used" in soup(refused).select_one(".ws-refusal").get_text()
    assert phone.post(note_url, data={"action": "remove"}).status_code == 303
    counts = dict(
        db.session.execute(
            select(Dot.note_id.is_(None), func.count(Dot.id)).group_by(Dot.note_id.is_(None))
        ).all()
    )
    assert counts == {False: 1, True: 1}
    board = soup(phone.get(f"/w/{workshop.id}/board"))
    assert board.select_one(f"#barrier-{barrier.id} .ws-dots-count")["data-dots"] == "1"
    assert "votes" in events(workshop)


def test_dots_are_counted_exactly_under_concurrency(app, phone, journey, workshop):
    """Twelve simultaneous votes by one person with 3 dots: exactly 3 land. Run on SQLite here
    (the write lock serialises the inserts); on PostgreSQL the unique (participant, slot) does."""
    post_note(phone, workshop, f"st-{first(Stage, journey.id).id}")
    (note,) = notes_of(workshop)
    workshop.dots = 3
    db.session.commit()
    cookie = phone.get_cookie(rules.cookie_name(workshop.id), path=f"/w/{workshop.id}")
    start = threading.Barrier(12)
    codes = []
    path, url = f"/w/{workshop.id}", f"/w/{workshop.id}/notes/{note.id}/dot"

    def vote():  # the ORM rows above belong to the test's thread: plain values only in here
        client = app.test_client()
        client.set_cookie(cookie.key, cookie.value, path=path)
        start.wait()
        codes.append(client.post(url).status_code)

    threads = [threading.Thread(target=vote) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [303] * 3 + [409] * 9
    slots = db.session.scalars(select(Dot.slot).filter_by(note_id=note.id)).all()
    assert sorted(slots) == [1, 2, 3]


def test_the_database_refuses_a_second_dot_in_one_slot(ctx, journey, workshop):
    from sqlalchemy.exc import IntegrityError

    person, _token = rules.join(workshop, "Anna")
    note = rules.add_note(workshop, person, "idea", (first(Stage, journey.id).id, None), "Hi")
    dot = {"workshop_id": workshop.id, "participant_id": person.id, "note_id": note.id}
    db.session.add_all([Dot(slot=1, **dot), Dot(slot=1, **dot)])
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


# --- the facilitator ----------------------------------------------------------------------------


def control(client, journey, workshop, action, value=None):
    db.session.refresh(workshop)
    data = {"version": workshop.version, "action": action}
    if value is not None:
        data["value"] = value
    return client.post(f"/maps/{journey.id}/workshop/{workshop.id}/control", data=data)


def test_facilitator_steps_the_room_and_runs_the_timer(owner_client, phone, journey, workshop):
    assert control(owner_client, journey, workshop, "next").status_code == 303
    assert control(owner_client, journey, workshop, "step", "5").status_code == 303
    assert control(owner_client, journey, workshop, "step", "7").status_code == 422
    db.session.refresh(workshop)
    assert workshop.step == 5
    status = soup(phone.get(f"/w/{workshop.id}/status"))
    assert status.select_one(".ws-step-title")["data-step"] == "5"

    before = rules.now()
    control(owner_client, journey, workshop, "timer-start", "2")
    db.session.refresh(workshop)
    ends = rules.aware(workshop.timer_ends_at)
    assert before + timedelta(minutes=2) <= ends <= rules.now() + timedelta(minutes=2)
    timer = soup(phone.get(f"/w/{workshop.id}/status")).select_one(".ws-timer")
    assert int(timer["data-ends-at"]) == int(ends.timestamp() * 1000)
    control(owner_client, journey, workshop, "timer-pause")
    db.session.refresh(workshop)
    assert workshop.timer_ends_at is None and 110 <= workshop.timer_left <= 120
    control(owner_client, journey, workshop, "timer-add", "1")
    db.session.refresh(workshop)
    assert 170 <= workshop.timer_left <= 180
    control(owner_client, journey, workshop, "timer-resume")
    db.session.refresh(workshop)
    assert workshop.timer_ends_at is not None and workshop.timer_left is None
    assert control(owner_client, journey, workshop, "timer-start", "abc").status_code == 422
    control(owner_client, journey, workshop, "timer-stop")
    db.session.refresh(workshop)
    assert workshop.timer_ends_at is None and workshop.timer_left is None
    kinds = events(workshop)
    assert kinds.count("step") == 2 and kinds.count("timer") == 5  # not the refused one


def test_stale_facilitator_action_is_refused(owner_client, journey, workshop):
    old = workshop.version
    control(owner_client, journey, workshop, "next")
    response = owner_client.post(
        f"/maps/{journey.id}/workshop/{workshop.id}/control",
        data={"version": old, "action": "next"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 409
    assert soup(response).select_one("#ws-controls .error") is not None
    db.session.refresh(workshop)
    assert workshop.step == 2


def test_lock_hide_votes_and_dots_per_person(owner_client, phone, journey, workshop):
    stage = f"st-{first(Stage, journey.id).id}"
    post_note(phone, workshop, stage)
    control(owner_client, journey, workshop, "hide-votes")
    board = soup(phone.get(f"/w/{workshop.id}/board"))
    assert board.select_one(".ws-dots-count") is None
    control(owner_client, journey, workshop, "reveal-votes")
    assert soup(phone.get(f"/w/{workshop.id}/board")).select_one(".ws-dots-count") is not None
    control(owner_client, journey, workshop, "dots", "8")
    db.session.refresh(workshop)
    assert workshop.dots == 8
    assert control(owner_client, journey, workshop, "dots", "0").status_code == 422
    control(owner_client, journey, workshop, "lock")
    assert post_note(phone, workshop, stage).status_code == 409
    (note,) = notes_of(workshop)
    assert phone.post(f"/w/{workshop.id}/notes/{note.id}/dot").status_code == 409
    control(owner_client, journey, workshop, "unlock")
    assert post_note(phone, workshop, stage).status_code == 303


def test_viewer_cannot_facilitate(app, journey, workshop):
    viewer = make_user("viewer@example.com", "Vera")
    add_member(journey, viewer, "viewer")
    client = app.test_client()
    sign_in(client, viewer)
    assert control(client, journey, workshop, "next").status_code == 403
    assert client.post(f"/maps/{journey.id}/workshop/{workshop.id}/end").status_code == 403


def test_group_and_promote_notes_into_the_map(owner_client, phone, journey, workshop):
    tp = first(Touchpoint, journey.id)
    stage = db.session.get(Stage, tp.stage_id)
    post_note(phone, workshop, f"tp-{tp.id}", "Delivery price hidden", "pain")
    post_note(phone, workshop, f"st-{stage.id}", "Compare shops side by side", "thought")
    post_note(phone, workshop, f"st-{stage.id}", "Free returns for a month", "idea")
    post_note(phone, workshop, f"st-{stage.id}", "Hates long forms", "pain")
    pain, thought, idea, persona_note = sorted(notes_of(workshop), key=lambda n: n.id)
    base = f"/maps/{journey.id}/workshop/{workshop.id}/notes"

    assert (
        owner_client.post(f"{base}/{pain.id}/group", data={"group_label": "Price"}).status_code
        == 303
    )
    assert (
        owner_client.post(f"{base}/{pain.id}/promote", data={"target": "barrier"}).status_code
        == 303
    )
    db.session.refresh(pain)
    assert pain.group_label == "Price"
    kind, ident = pain.promoted_to.split(":")
    barrier = db.session.get(Barrier, int(ident))
    assert kind == "barrier" and barrier.touchpoint_id == tp.id and barrier.title == pain.text

    owner_client.post(f"{base}/{thought.id}/promote", data={"target": "touchpoint"})
    db.session.refresh(thought)
    made = db.session.get(Touchpoint, int(thought.promoted_to.split(":")[1]))
    assert made.stage_id == stage.id and made.name == thought.text and made.journey_id == journey.id

    owner_client.post(f"{base}/{idea.id}/promote", data={"target": "strategy"})
    db.session.refresh(idea)
    assert db.session.get(Strategy, int(idea.promoted_to.split(":")[1])).title == idea.text

    owner_client.post(
        f"{base}/{persona_note.id}/promote",
        data={"target": "persona", "persona_field": "frustrations"},
    )
    persona = first(Persona, journey.id)
    db.session.refresh(persona)
    assert persona.frustrations.endswith("Hates long forms")

    again = owner_client.post(f"{base}/{pain.id}/promote", data={"target": "strategy"})
    assert again.status_code == 409
    desk = soup(owner_client.get(base))
    assert desk.select_one(f"#note-{pain.id} .ws-promoted") is not None
    assert "notes" in events(workshop)


def test_ending_keeps_a_summary_of_top_voted_notes_and_barriers(
    app, owner_client, phone, journey, workshop
):
    stage = first(Stage, journey.id)
    for text in ("One", "Two", "Three", "Four"):
        post_note(phone, workshop, f"st-{stage.id}", text)
    notes = {n.text: n for n in notes_of(workshop)}
    barrier = Barrier(
        journey_id=journey.id,
        key="slow",
        title="Slow checkout",
        type="technical",
        touchpoint_id=first(Touchpoint, journey.id).id,
    )
    db.session.add(barrier)
    db.session.commit()
    boris = join(app, workshop.code, "Boris")
    for client, text in ((phone, "Three"), (boris, "Three"), (phone, "Two")):
        client.post(f"/w/{workshop.id}/notes/{notes[text].id}/dot")
    boris.post(f"/w/{workshop.id}/barriers/{barrier.id}/dot")

    response = owner_client.post(f"/maps/{journey.id}/workshop/{workshop.id}/end")
    assert response.status_code == 303
    db.session.refresh(workshop)
    summary = workshop.summary
    assert (summary["participants"], summary["notes"], summary["dots"]) == (2, 4, 4)
    column = next(s for s in summary["stages"] if s["stage"] == stage.name)
    assert [n["text"] for n in column["top_notes"]] == ["Three", "Two", "One"]
    assert [n["dots"] for n in column["top_notes"]] == [2, 1, 0]
    assert sum(b["dots"] for s in summary["stages"] for b in s["top_barriers"]) == 1
    assert "ended" in events(workshop)

    page = soup(owner_client.get(f"/maps/{journey.id}/workshop"))
    article = page.select_one(f"#w{workshop.id}")
    assert article.select_one(".ws-top li").get_text(" ", strip=True).startswith("Pain Three")
    assert "Slow checkout" in article.get_text()
    # Ending twice does nothing; the projector of an ended workshop shows the summary page.
    assert owner_client.post(f"/maps/{journey.id}/workshop/{workshop.id}/end").status_code == 303
    projector = owner_client.get(f"/maps/{journey.id}/workshop/{workshop.id}")
    assert projector.status_code == 303


# --- who may do what ----------------------------------------------------------------------------


def test_participants_reach_only_their_own_workshop(app, phone, journey, workshop, owner):
    other_map = make_map(owner)
    other = rules.start(other_map.id, owner.id)
    db.session.commit()
    # Another workshop: no seat there, so off to the join page (the cookie is not even sent).
    assert phone.get(f"/w/{other.id}").status_code == 303
    cookie = phone.get_cookie(rules.cookie_name(workshop.id), path=f"/w/{workshop.id}")
    forged = app.test_client()
    forged.set_cookie(rules.cookie_name(other.id), cookie.value, path=f"/w/{other.id}")
    assert forged.get(f"/w/{other.id}").headers["Location"].endswith("/join")
    # Another map's barrier or another workshop's note, through one's own workshop: 404.
    foreign = Barrier(
        journey_id=other_map.id,
        key="x",
        title="Elsewhere",
        type="price",
        touchpoint_id=first(Touchpoint, other_map.id).id,
    )
    db.session.add(foreign)
    db.session.flush()
    note = Note(
        journey_id=other_map.id,
        workshop_id=other.id,
        stage_id=first(Stage, other_map.id).id,
        kind="idea",
        text="Theirs",
    )
    db.session.add(note)
    db.session.commit()
    assert phone.post(f"/w/{workshop.id}/barriers/{foreign.id}/dot").status_code == 404
    assert phone.post(f"/w/{workshop.id}/notes/{note.id}/dot").status_code == 404
    assert phone.get(f"/w/{workshop.id}/notes/{note.id}/edit").status_code == 404
    # Member-only pages of the map (and its facilitator actions) want a signed-in member.
    for url in (
        f"/maps/{journey.id}",
        f"/maps/{journey.id}/workshop",
        f"/maps/{journey.id}/workshop/{workshop.id}",
        f"/maps/{journey.id}/workshop/{workshop.id}/notes",
    ):
        assert "/login" in phone.get(url).headers["Location"], url
    assert phone.post(f"/maps/{journey.id}/workshop/{workshop.id}/end").status_code in (302, 303)
    db.session.refresh(workshop)
    assert workshop.ended_at is None


def test_members_take_part_without_joining(owner_client, journey, workshop):
    stage = first(Stage, journey.id)
    assert post_note(owner_client, workshop, f"st-{stage.id}").status_code == 303
    (note,) = notes_of(workshop)
    seat = db.session.get(Participant, note.participant_id)
    assert seat.user_id is not None and seat.name == "Olga Owner"


def test_presence_ping_and_leave(app, phone, workshop):
    from cjm import live

    assert phone.post(f"/w/{workshop.id}/presence", data={"typing": "1"}).status_code == 204
    person = db.session.scalar(select(Participant).filter_by(workshop_id=workshop.id))
    with app.test_request_context():
        assert (person.id, True) in live.presence.who(workshop.id)
    people = soup(phone.get(f"/w/{workshop.id}/people"))
    assert people.select_one("li.typing").get_text().startswith("Anna")
    assert phone.post(f"/w/{workshop.id}/leave").status_code == 204
    assert soup(phone.get(f"/w/{workshop.id}/people")).select_one("li") is None
    assert events(workshop).count("presence") >= 2


def test_phone_forms_carry_csrf_and_work_with_it(app, workshop, journey):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        phone = app.test_client()
        form = soup(phone.get(f"/join?code={workshop.code}")).find("form", action="/join")
        token = form.find("input", {"name": "csrf_token"})["value"]
        assert form.find("input", {"name": "code"})["value"] == workshop.code
        assert phone.post("/join", data={"code": workshop.code, "name": "Anna"}).status_code == 400
        data = {"csrf_token": token, "code": workshop.code, "name": "Anna"}
        assert phone.post("/join", data=data).status_code == 303
        room = soup(phone.get(f"/w/{workshop.id}"))
        for form in room.find_all("form", method="post"):
            token = form.find("input", {"name": re.compile("csrf_token$")})
            assert token is not None, form.get("action")
        assert room.find("meta", {"name": "csrf-token"})["content"]
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_workshop_pages_have_no_inline_script(owner_client, phone, journey, workshop):
    pages = [
        owner_client.get(f"/maps/{journey.id}/workshop/{workshop.id}"),
        owner_client.get(f"/maps/{journey.id}/workshop"),
        phone.get(f"/w/{workshop.id}"),
        phone.get("/join"),
    ]
    for response in pages:
        page = soup(response)
        assert all(s.get("src") for s in page.find_all("script"))
        assert not any(a.startswith("on") for tag in page.find_all(True) for a in tag.attrs)
        assert page.find("script", src=re.compile(r"hx-sse-4\.0\.1|/ext/hx-sse")) is not None
    controls = owner_client.get(
        f"/maps/{journey.id}/workshop/{workshop.id}", headers={"HX-Request": "true"}
    )
    assert soup(controls).find().get("id") == "ws-controls"


def test_the_join_address_phones_can_reach(app, owner_client, journey, workshop):
    url = f"/maps/{journey.id}/workshop/{workshop.id}"
    page = soup(owner_client.get(url))
    assert page.select_one(".ws-loopback") is not None  # "localhost" is no use to a phone
    app.config["PUBLIC_URL"] = "http://192.168.1.20:5000/"
    try:
        page = soup(owner_client.get(url))
    finally:
        app.config.pop("PUBLIC_URL")
    joining = page.select_one(".ws-join-url").get_text(strip=True)
    assert joining == f"http://192.168.1.20:5000/join?code={workshop.code}"
    assert page.select_one(".ws-loopback") is None
