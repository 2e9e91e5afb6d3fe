"""Live workshops: the facilitator starts one on a map and runs it from the projector view;
participants join from their phones by code (no account) and post sticky notes and dots. Every
screen listens to the workshop's event stream and refetches its own fragments from the views below,
so access rules and rendering stay here. Rules and queries live in cjm.workshops."""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from .. import workshops as rules
from ..access import get_part_or_404, guard
from ..extensions import db, limiter
from ..forms import choices
from ..models import Barrier, Workshop
from ..web import render, wants_fragment

bp = Blueprint("workshops", __name__)

KIND_LABELS = {
    "thought": _l("Thought"),
    "pain": _l("Pain"),
    "idea": _l("Idea"),
    "question": _l("Question"),
}
STEP_TITLES = {
    1: _l("Persona"),
    2: _l("Stages and channels"),
    3: _l("Experience research"),
    4: _l("Barrier analysis"),
    5: _l("Optimization strategies"),
    6: _l("Execution, testing and analysis"),
}
STEP_HINTS = {
    1: _l("Who is our customer? Post what they think, need and fear."),
    2: _l("Which stages and channels does the customer go through? Post on a stage."),
    3: _l("What does the customer do, think and feel at each touchpoint?"),
    4: _l("Where does the customer stall or give up? Post pains and vote on barriers."),
    5: _l("How could we remove the barriers? Post ideas and vote on them."),
    6: _l("What do we try first, and how do we measure it?"),
}
PROMOTE_LABELS = {
    "touchpoint": _l("Touchpoint"),
    "barrier": _l("Barrier"),
    "strategy": _l("Strategy"),
    "persona": _l("Persona detail"),
}
PERSONA_FIELD_LABELS = {
    "goals": _l("Goals"),
    "needs": _l("Needs"),
    "expectations": _l("Expectations"),
    "frustrations": _l("Frustrations"),
    "quote": _l("Quote"),
}
REFUSALS = {
    "ended": _l("The workshop has ended."),
    "locked": _l("The facilitator has locked the board for now."),
    "no-dots": _l("All your dots are used. Take one back to vote elsewhere."),
}
PROMOTE_ERRORS = {
    "no-channel": _l("Add a channel to the map first."),
    "no-touchpoint": _l("This stage has no touchpoint to put a barrier on yet."),
    "no-persona": _l("Add a persona to the map first."),
    "persona-field": _l("Choose which part of the persona it goes to."),
    "target": _l("Choose what to turn the note into."),
}
assert set(KIND_LABELS) == set(rules.NOTE_KINDS)
assert set(PROMOTE_LABELS) == set(rules.PROMOTE_KINDS)
assert set(PERSONA_FIELD_LABELS) == set(rules.PERSONA_FIELDS)


class JoinForm(FlaskForm):
    code = StringField(_l("Workshop code"), validators=[DataRequired(), Length(max=20)])
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=60)])


class NoteForm(FlaskForm):
    version = HiddenField()
    kind = RadioField(_l("Kind"), choices=choices(KIND_LABELS), default="thought")
    place = SelectField(_l("Where"), validators=[DataRequired(_l("Choose where it goes."))])
    # The length is checked in the view: too long answers 413 with its own message.
    text = TextAreaField(_l("Your note"), validators=[DataRequired(_l("Write something first."))])


def note_form(journey_id: int, note=None, fill: bool = False, **kwargs) -> NoteForm:
    """A note form offering the map's stages and their touchpoints as places."""
    form = NoteForm(prefix=f"note-{note.id}" if note else "note", **kwargs)
    form.place.choices = [SelectChoice("", _("Choose…"))]
    for stage, touchpoints in rules.places_of(journey_id):
        group = str(stage.name)
        form.place.choices.append(SelectChoice(f"st-{stage.id}", _("Whole stage"), optgroup=group))
        form.place.choices += [
            SelectChoice(f"tp-{t.id}", t.name, optgroup=group) for t in touchpoints
        ]
    if fill:
        form.version.data = str(note.version)
        form.place.data = rules.place_value(note)
    return form


def check_note(form: NoteForm, journey_id: int) -> tuple[int, tuple | None]:
    """Validate a note form: (200, place), (413, None) when too long, (422, None) otherwise."""
    text = form.text.data or ""
    if len(text.strip()) > rules.NOTE_MAX:
        form.text.errors = [
            _(
                "A note holds at most %(max)d characters; this one has %(n)d. Shorten it "
                "or split it into two notes.",
                max=rules.NOTE_MAX,
                n=len(text.strip()),
            )
        ]
        return 413, None
    if not form.validate():
        return 422, None
    place = rules.resolve_place(journey_id, form.place.data)
    if place is None:
        form.place.errors = [_("Choose a stage or a touchpoint of this map.")]
        return 422, None
    return 200, place


@bp.context_processor
def workshop_globals():
    """Names every workshop template uses."""
    return {
        "kind_labels": KIND_LABELS,
        "step_titles": STEP_TITLES,
        "step_hints": STEP_HINTS,
        "promote_labels": PROMOTE_LABELS,
        "persona_field_labels": PERSONA_FIELD_LABELS,
        "is_facilitator": g.get("role") in ("editor", "owner"),
        "epoch_ms": lambda moment: int(rules.aware(moment).timestamp() * 1000),
        "now_ms": lambda: int(rules.now().timestamp() * 1000),
        "timer_state": rules.timer_state,
        "timer_left": rules.timer_seconds_left,
        "clock": clock,
        "format_date": format_date,
    }


def clock(seconds: int | None) -> str:
    """Seconds as m:ss, the way a room reads a timer."""
    seconds = max(0, seconds or 0)
    return f"{seconds // 60}:{seconds % 60:02d}"


# --- presence (kept by cjm.live) ----------------------------------------------------------------


def present(workshop: Workshop) -> list[dict]:
    """Who is in the room now: [{"id", "name", "typing"}] by name, from cjm.live's presence."""
    from .. import live

    seen = live.presence.who(workshop.id)
    names = dict(
        db.session.execute(
            db.select(rules.Participant.id, rules.Participant.name).filter_by(
                workshop_id=workshop.id
            )
        ).all()
    )
    found = [
        {"id": ident, "name": names[ident], "typing": typing}
        for ident, typing in seen
        if ident in names
    ]
    return sorted(found, key=lambda p: p["name"].lower())


# --- the map's workshop page --------------------------------------------------------------------


def map_workshop(map_id: int, workshop_id: int) -> Workshop:
    """A workshop of the map guarded in g.journey; 404 elsewhere."""
    workshop = db.session.get(Workshop, workshop_id)
    if workshop is None or workshop.journey_id != map_id:
        abort(404)
    g.workshop = workshop
    return workshop


@bp.route("/maps/<int:map_id>/workshop")
@guard("view")
def index(map_id: int):
    """The map's workshop: the one running (or a button to start one) and past summaries."""
    return render(
        "workshops/index.html",
        journey=g.journey,
        current=rules.running(map_id),
        past=rules.past(map_id),
    )


@bp.route("/maps/<int:map_id>/workshop/start", methods=["POST"])
@guard("edit")
def start(map_id: int):
    """Start a workshop on the map (one at a time) and open its projector view."""
    workshop = rules.running(map_id)
    if workshop is None:
        workshop = rules.start(map_id, current_user.id)
        db.session.commit()
        flash(_("Workshop started. Show this screen to the room."), "success")
    return redirect(url_for("workshops.projector", map_id=map_id, workshop_id=workshop.id), 303)


def join_url(workshop: Workshop) -> str:
    """The address phones open: CJM_PUBLIC_URL when set (a LAN address), else this host."""
    base = current_app.config.get("PUBLIC_URL")
    path = url_for("workshops.join", code=workshop.code)
    return (
        base.rstrip("/") + path
        if base
        else url_for("workshops.join", code=workshop.code, _external=True)
    )


def lan_address() -> str | None:
    """This machine's address on the local network, to suggest when the projector page was
    opened on 127.0.0.1 (phones cannot reach that). connect() on UDP sends no packet."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the outgoing interface
            return probe.getsockname()[0]
        except OSError:
            return None


def qr_svg(text: str) -> Markup:
    """The join URL as an SVG QR code, drawn here from the qrcode module's matrix: the markup
    holds nothing but numbers, so it is safe to inline."""
    import qrcode

    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix)
    path = "".join(
        f"M{x},{y}h1v1h-1z" for y, row in enumerate(matrix) for x, on in enumerate(row) if on
    )
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'class="qr" role="img" aria-labelledby="qr-title" shape-rendering="crispEdges">'
        f'<title id="qr-title">QR</title><rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/></svg>'
    )


def projector_context(workshop: Workshop, **extra) -> dict:
    """What the projector page and its controls fragment need."""
    ctx = {"journey": g.journey, "workshop": workshop, "after": rules.last_event_id(workshop.id)}
    if workshop.code:
        ctx["join_url"] = join_url(workshop)
        ctx["qr"] = qr_svg(ctx["join_url"])
        host = urlsplit(ctx["join_url"]).hostname or ""
        if host in ("127.0.0.1", "localhost", "::1") and g.role in ("editor", "owner"):
            ctx["loopback"] = {"lan": lan_address(), "port": urlsplit(request.host_url).port}
    return {**ctx, **extra}


@bp.route("/maps/<int:map_id>/workshop/<int:workshop_id>")
@guard("view")
def projector(map_id: int, workshop_id: int):
    """The projector view: the board with notes and dots, the step, the timer, who is in the room
    and how to join; the facilitator's controls below (for htmx: just the controls)."""
    workshop = map_workshop(map_id, workshop_id)
    if workshop.ended_at is not None and not wants_fragment():
        return redirect(url_for("workshops.index", map_id=map_id, _anchor=f"w{workshop.id}"), 303)
    ctx = projector_context(workshop)
    if not wants_fragment():
        ctx.update(columns=rules.board(workshop), people=present(workshop), view="projector")
    return render("workshops/projector.html", "workshops/_controls.html", **ctx)


def controls_answer(workshop: Workshop, status: int = 200, **extra):
    """After a facilitator action: the controls for htmx, else 303 back to the projector."""
    if status == 200 and not wants_fragment():
        return redirect(
            url_for("workshops.projector", map_id=workshop.journey_id, workshop_id=workshop.id),
            303,
        )
    ctx = projector_context(workshop, **extra)
    if not wants_fragment():
        ctx.update(columns=rules.board(workshop), people=present(workshop), view="projector")
        return render_template("workshops/projector.html", **ctx), status
    return render_template("workshops/_controls.html", **ctx), status


@bp.route("/maps/<int:map_id>/workshop/<int:workshop_id>/control", methods=["POST"])
@guard("edit")
def control(map_id: int, workshop_id: int):
    """One facilitator action: step, timer, hide/reveal votes, dots per person, lock. A stale
    version answers 409 with the current state, nothing changed."""
    workshop = map_workshop(map_id, workshop_id)
    if request.form.get("version") != str(workshop.version):
        return controls_answer(workshop, 409, control_error=_("Changed meanwhile: this is now."))
    try:
        kind = rules.control(
            workshop, request.form.get("action", ""), request.form.get("value", "").strip()
        )
    except rules.WorkshopError as e:
        return controls_answer(workshop, 409, control_error=REFUSALS[str(e)])
    except ValueError:
        db.session.rollback()
        return controls_answer(workshop, 422, control_error=_("That value does not fit."))
    db.session.commit()
    rules.publish(workshop.id, kind)
    return controls_answer(workshop)


@bp.route("/maps/<int:map_id>/workshop/<int:workshop_id>/end", methods=["POST"])
@guard("edit")
def end(map_id: int, workshop_id: int):
    """End the workshop: the join code stops working, the summary is kept with the map."""
    workshop = map_workshop(map_id, workshop_id)
    if workshop.ended_at is None:
        rules.end(workshop)
        db.session.commit()
        rules.publish(workshop.id, "ended")
        flash(_("Workshop ended. Its summary is below."), "success")
    target = url_for("workshops.index", map_id=map_id, _anchor=f"w{workshop.id}")
    if wants_fragment():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, 303)


# --- the facilitator's note desk ------------------------------------------------------------


def manage_answer(workshop: Workshop, status: int = 200, **extra):
    """The notes desk page (group, promote)."""
    notes = rules.live_notes(workshop.id)
    ctx = {
        "journey": g.journey,
        "workshop": workshop,
        "columns": rules.board(workshop),
        "groups": sorted({n.group_label for n in notes if n.group_label}),
        **extra,
    }
    return render("workshops/manage.html", status=status, **ctx)


@bp.route("/maps/<int:map_id>/workshop/<int:workshop_id>/notes")
@guard("edit")
def manage(map_id: int, workshop_id: int):
    """Every note of the workshop with its dots, to group and to promote into the map."""
    return manage_answer(map_workshop(map_id, workshop_id))


def desk_note(map_id: int, workshop_id: int, note_id: int):
    """The workshop and one of its live notes; 404 elsewhere."""
    workshop = map_workshop(map_id, workshop_id)
    note = rules.live_note(workshop, note_id)
    if note is None:
        abort(404)
    return workshop, note


def to_desk(workshop: Workshop, note_id: int):
    """303 back to the note on the desk."""
    return redirect(
        url_for(
            "workshops.manage",
            map_id=workshop.journey_id,
            workshop_id=workshop.id,
            _anchor=f"note-{note_id}",
        ),
        303,
    )


@bp.route(
    "/maps/<int:map_id>/workshop/<int:workshop_id>/notes/<int:note_id>/group", methods=["POST"]
)
@guard("edit")
def group(map_id: int, workshop_id: int, note_id: int):
    """Put a note in a group (a label; empty takes it out)."""
    workshop, note = desk_note(map_id, workshop_id, note_id)
    label = request.form.get("group_label", "").strip()
    if len(label) > 120:
        return manage_answer(workshop, 422, desk_error=(note.id, _("At most 120 characters.")))
    note.group_label = label
    db.session.commit()
    rules.publish(workshop.id, "notes")
    return to_desk(workshop, note.id)


@bp.route(
    "/maps/<int:map_id>/workshop/<int:workshop_id>/notes/<int:note_id>/promote", methods=["POST"]
)
@guard("edit")
def promote(map_id: int, workshop_id: int, note_id: int):
    """Turn a note into a touchpoint, a barrier, a strategy or a persona detail of the map."""
    workshop, note = desk_note(map_id, workshop_id, note_id)
    if note.promoted_to:
        return manage_answer(workshop, 409, desk_error=(note.id, _("Already promoted.")))
    try:
        rules.promote(note, request.form.get("target", ""), request.form.get("persona_field", ""))
    except ValueError as e:
        db.session.rollback()
        return manage_answer(workshop, 422, desk_error=(note.id, PROMOTE_ERRORS[str(e)]))
    db.session.commit()
    rules.publish(workshop.id, "notes")
    flash(_("Note promoted into the map."), "success")
    return to_desk(workshop, note.id)


# --- joining ------------------------------------------------------------------------------------


def join_limit() -> str:
    """Failed join attempts allowed per address (CJM_WORKSHOP_JOIN_LIMIT)."""
    return current_app.config.get("WORKSHOP_JOIN_LIMIT", "20 per minute")


@bp.route("/join", methods=["GET", "POST"])
@guard("public")
@limiter.limit(join_limit, methods=["POST"], deduct_when=lambda r: r.status_code != 303)
def join():
    """Join a workshop from a phone: its code and a display name, no account."""
    form = JoinForm()
    if request.method == "GET":
        form.code.data = rules.clean_code(request.args.get("code", ""))
        if current_user.is_authenticated and not form.name.data:
            form.name.data = current_user.name
        return render("workshops/join.html", form=form)
    if not form.validate():
        return render("workshops/join.html", status=422, form=form)
    workshop = rules.by_code(form.code.data)
    if workshop is None:
        form.code.errors = [_("No workshop is running with this code. Check it on the screen.")]
        return render("workshops/join.html", status=422, form=form)
    person, token = rules.join(workshop, form.name.data)
    db.session.commit()
    rules.publish(workshop.id, "presence")
    response = redirect(url_for("workshops.room", workshop_id=workshop.id), 303)
    rules.set_cookie(response, workshop.id, token)
    return response


# --- the room (phones; members too) -------------------------------------------------------------


def room_context(**extra) -> dict:
    """What the phone page and its fragments need."""
    workshop = g.workshop
    person = g.participant
    return {
        "journey": g.journey,
        "workshop": workshop,
        "me": person,
        "dots_left": max(0, workshop.dots - rules.dots_used(person)),
        "can_post": workshop.ended_at is None and not workshop.locked,
        **extra,
    }


def board_context(view: str, **extra) -> dict:
    """The board fragment's context, for the phone or the projector."""
    person_id = g.participant.id if g.participant else None
    return room_context(columns=rules.board(g.workshop, person_id), view=view, **extra)


@bp.route("/w/<int:workshop_id>")
@guard("participant")
def room(workshop_id: int):
    """The phone page: step, timer, the note form and the board to vote on."""
    ctx = room_context(
        form=note_form(g.journey.id, formdata=None),
        after=rules.last_event_id(workshop_id),
        columns=rules.board(g.workshop, g.participant.id if g.participant else None),
        view="phone",
    )
    return render("workshops/room.html", **ctx)


@bp.route("/w/<int:workshop_id>/stream")
@guard("participant")
def stream(workshop_id: int):
    """The workshop's server-sent events (what changed); Last-Event-ID resumes after a drop."""
    from .. import live

    after = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
    person = g.participant.id if g.participant else None  # the stream keeps them present
    return live.stream(workshop_id, after, participant_id=person)


@bp.route("/w/<int:workshop_id>/board")
@guard("participant")
def board(workshop_id: int):
    """The board fragment: ?view=projector (big, for the room) or the phone's list."""
    view = "projector" if request.args.get("view") == "projector" else "phone"
    return render_template("workshops/_board.html", **board_context(view))


@bp.route("/w/<int:workshop_id>/status")
@guard("participant")
def status(workshop_id: int):
    """The status fragment: step, timer, lock, dots left (?view=projector for the big one)."""
    view = "projector" if request.args.get("view") == "projector" else "phone"
    return render_template("workshops/_status.html", **room_context(view=view))


@bp.route("/w/<int:workshop_id>/people")
@guard("participant")
def people(workshop_id: int):
    """Who is in the room, and who is typing."""
    return render_template(
        "workshops/_people.html", workshop=g.workshop, people=present(g.workshop)
    )


def phone_answer(status: int = 200, form: NoteForm | None = None, main: str = "board", **extra):
    """After a phone write: for htmx the `main` fragment ("form": the note form, fresh unless
    given; "board": the board) with the status out of band; without JS a 303 back to the
    room, or the room page with the errors."""
    if status == 200 and not wants_fragment():
        return redirect(url_for("workshops.room", workshop_id=g.workshop.id, _anchor="board"), 303)
    form = form or note_form(g.journey.id, formdata=None)
    if main == "form" and wants_fragment():
        # The board follows through the "notes" event every screen gets (this one too): posting
        # does not pay for a board render, the busiest write of a workshop stays cheap.
        ctx = room_context(form=form, view="phone", **extra)
        body = render_template("workshops/_note_form.html", **ctx)
        return body + render_template("workshops/_status.html", oob=True, **ctx), status
    ctx = board_context("phone", form=form, **extra)
    if not wants_fragment():
        ctx["after"] = rules.last_event_id(g.workshop.id)
        return render_template("workshops/room.html", **ctx), status
    body = render_template("workshops/_board.html", **ctx)
    return body + render_template("workshops/_status.html", oob=True, **ctx), status


def refused(e: rules.WorkshopError, form: NoteForm | None = None, main: str = "board"):
    """A 409 for a write the workshop does not take now (ended, locked, no dots left)."""
    db.session.rollback()
    return phone_answer(409, form, main, refusal=REFUSALS[str(e)])


@bp.route("/w/<int:workshop_id>/notes", methods=["POST"])
@guard("participant")
def post_note(workshop_id: int):
    """Post a sticky note on a stage or a touchpoint."""
    form = note_form(g.journey.id)
    try:
        rules.open_for_posting(g.workshop)
    except rules.WorkshopError as e:
        return refused(e, form, "form")
    code, place = check_note(form, g.journey.id)
    if code != 200:
        return phone_answer(code, form, "form")
    rules.add_note(g.workshop, rules.seat(), form.kind.data, place, form.text.data)
    db.session.commit()
    rules.publish(workshop_id, "notes")
    return phone_answer(main="form", posted=True)


def my_note(note_id: int):
    """A note the current person may change: their own, or any for the map's editors."""
    note = rules.live_note(g.workshop, note_id)
    if note is None:
        abort(404)
    mine = g.participant is not None and note.participant_id == g.participant.id
    if not mine and g.role not in ("editor", "owner"):
        abort(403)
    return note


@bp.route("/w/<int:workshop_id>/notes/<int:note_id>/edit", methods=["GET", "POST"])
@guard("participant")
def edit_note(workshop_id: int, note_id: int):
    """Edit one's own note; a stale version answers 409 with the saved text, nothing lost."""
    note = my_note(note_id)
    page = {"workshop": g.workshop, "journey": g.journey, "note": note}
    if request.method == "GET":
        form = note_form(g.journey.id, note, fill=True, obj=note)
        return render("workshops/note_edit.html", form=form, **page)
    form = note_form(g.journey.id, note)
    try:
        rules.open_for_posting(g.workshop, g.role in ("editor", "owner"))
    except rules.WorkshopError as e:
        return render(
            "workshops/note_edit.html", status=409, form=form, refusal=REFUSALS[str(e)], **page
        )
    code, place = check_note(form, g.journey.id)
    if code != 200:
        return render("workshops/note_edit.html", status=code, form=form, **page)
    if form.version.data != str(note.version):
        fresh = note_form(g.journey.id, note, fill=True, formdata=None, obj=note)
        return render("workshops/note_edit.html", status=409, form=fresh, stale=True, **page)
    note.stage_id, note.touchpoint_id = place
    note.kind, note.text = form.kind.data, form.text.data.strip()
    db.session.commit()
    rules.publish(workshop_id, "notes")
    return redirect(
        url_for("workshops.room", workshop_id=workshop_id, _anchor=f"note-{note.id}"), 303
    )


@bp.route("/w/<int:workshop_id>/notes/<int:note_id>/delete", methods=["POST"])
@guard("participant")
def delete_note(workshop_id: int, note_id: int):
    """Delete one's own note (its dots go back to their owners)."""
    note = my_note(note_id)
    try:
        rules.open_for_posting(g.workshop, g.role in ("editor", "owner"))
    except rules.WorkshopError as e:
        return refused(e)
    rules.delete_note(note, current_user.id if current_user.is_authenticated else None)
    db.session.commit()
    rules.publish(workshop_id, "notes")
    rules.publish(workshop_id, "votes")
    return phone_answer()


def dot(note_id=None, barrier_id=None):
    """Place or take back a dot (form field `action`: add or remove)."""
    try:
        rules.open_for_posting(g.workshop)
    except rules.WorkshopError as e:
        return refused(e)
    person = rules.seat()
    if request.form.get("action") == "remove":
        rules.unvote(person, note_id=note_id, barrier_id=barrier_id)
        db.session.commit()
    else:
        db.session.commit()  # the member's new seat, if any, before the slot race
        try:
            rules.vote(g.workshop, person, note_id=note_id, barrier_id=barrier_id)
        except rules.WorkshopError as e:
            return refused(e)
    rules.publish(g.workshop.id, "votes")
    return phone_answer()


@bp.route("/w/<int:workshop_id>/notes/<int:note_id>/dot", methods=["POST"])
@guard("participant")
def dot_note(workshop_id: int, note_id: int):
    """Put one of my dots on a note, or take one back."""
    if rules.live_note(g.workshop, note_id) is None:
        abort(404)
    return dot(note_id=note_id)


@bp.route("/w/<int:workshop_id>/barriers/<int:barrier_id>/dot", methods=["POST"])
@guard("participant")
def dot_barrier(workshop_id: int, barrier_id: int):
    """Put one of my dots on a barrier of the map, or take one back."""
    get_part_or_404(Barrier, barrier_id)
    return dot(barrier_id=barrier_id)


@bp.route("/w/<int:workshop_id>/presence", methods=["POST"])
@guard("participant")
def ping(workshop_id: int):
    """The phone's heartbeat and typing signal (debounced by the page); 204."""
    from .. import live

    person = rules.seat()
    typing = request.form.get("typing") == "1"
    person.last_seen_at, person.left_at = rules.now(), None
    db.session.commit()
    if live.presence.touch(workshop_id, person.id, typing=typing):
        rules.publish(workshop_id, "presence")
    return "", 204


@bp.route("/w/<int:workshop_id>/leave", methods=["POST"])
@guard("participant")
def leave(workshop_id: int):
    """The tab is closing (a pagehide beacon): off the presence list; 204. Rights stay, so
    coming back to the page seats them again."""
    from .. import live

    if g.participant is not None:
        g.participant.left_at = rules.now()
        db.session.commit()
        if live.presence.leave(workshop_id, g.participant.id):
            rules.publish(workshop_id, "presence")
    return "", 204
