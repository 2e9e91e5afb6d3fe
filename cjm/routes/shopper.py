"""Mystery shopper: checklist templates per map, visits filled on a phone and results.

A visit is a server-side draft from the moment it is started, every save (or htmx autosave)
stores what was answered so far, and "Submit" checks the visit is complete. Results per
touchpoint and per channel are computed in SQL (GROUP BY over the submitted visits' answers).
"""

import hashlib
import math
from collections import defaultdict
from datetime import date

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import case, delete, func, literal_column, select
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from .. import store
from ..access import can, guard
from ..extensions import db
from ..forms import choices
from ..images import ImageRejected, read_limited, reencode
from ..journey.model import CHECKLIST_ITEM_KINDS
from ..models import (
    Channel,
    Checklist,
    ChecklistItem,
    Image,
    Observation,
    Segment,
    Touchpoint,
    Visit,
    VisitAnswer,
    VisitPhoto,
    utcnow,
)
from ..web import flash_undo, render, wants_fragment

bp = Blueprint("shopper", __name__)

KIND_LABELS = {
    "yes-no": _l("Yes / no"),
    "scale-5": _l("Scale 1–5"),
    "scale-10": _l("Scale 1–10"),
    "number": _l("Number (e.g. waiting minutes)"),
    "text": _l("Text"),
}
assert tuple(KIND_LABELS) == CHECKLIST_ITEM_KINDS
SCALES = {"scale-5": 5, "scale-10": 10}
# Items a visit cannot be submitted without; numbers and text may stay empty.
REQUIRED_KINDS = ("yes-no", "scale-5", "scale-10")
GROUPINGS = {"touchpoint": _l("Per touchpoint"), "channel": _l("Per channel")}
PHOTO_MAX_BYTES = 8 * 1024 * 1024  # phone cameras write 3–6 MB JPEGs
PHOTO_MAX_PIXELS = 8192
MAX_PHOTOS = 20
LATEST = 3  # text answers and notes shown per group
PHOTOS_PER_GROUP = 12
OTHER = -1  # the results group of visits without a (live) touchpoint or channel


class ChecklistForm(FlaskForm):
    version = HiddenField()
    name = StringField(_l("Checklist name"), validators=[DataRequired(), Length(max=200)])


class ItemForm(FlaskForm):
    version = HiddenField()
    text = StringField(_l("Question"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(_l("Answer"), choices=choices(KIND_LABELS))


class VisitForm(FlaskForm):
    version = HiddenField()
    visited_on = DateField(_l("Date of the visit"), validators=[Optional()])
    place = StringField(_l("Place (address, branch, web page)"), validators=[Length(max=200)])
    touchpoint = SelectField(_l("Touchpoint"))
    channel = SelectField(_l("Channel"))
    segment = SelectField(_l("Customer group (optional)"))
    notes = TextAreaField(_l("Notes"), validators=[Length(max=10000)])


# --- Lookups: everything in the URL must belong to the map in g.journey -------------------------


def checklist_or_404(checklist_id: int) -> Checklist:
    """A live checklist of the current map."""
    row = db.session.get(Checklist, checklist_id)
    if row is None or row.journey_id != g.journey.id or row.deletion_id is not None:
        abort(404)
    return row


def item_or_404(checklist: Checklist, item_id: int) -> ChecklistItem:
    """A live item of that checklist."""
    row = db.session.get(ChecklistItem, item_id)
    if row is None or row.checklist_id != checklist.id or row.deletion_id is not None:
        abort(404)
    return row


def visit_or_404(visit_id: int) -> Visit:
    """A live visit of the current map (its checklist live too)."""
    row = db.session.get(Visit, visit_id)
    if row is None or row.journey_id != g.journey.id or row.deletion_id is not None:
        abort(404)
    checklist_or_404(row.checklist_id)
    return row


def live_items(checklist_id: int) -> list[ChecklistItem]:
    """The checklist's live items in their order."""
    return list(
        db.session.scalars(
            select(ChecklistItem)
            .where(ChecklistItem.checklist_id == checklist_id, ChecklistItem.deletion_id.is_(None))
            .order_by(ChecklistItem.position, ChecklistItem.id)
        )
    )


def checklists(map_id: int) -> list[Checklist]:
    """The map's live checklists, oldest first."""
    return list(db.session.scalars(store.live(Checklist, map_id).order_by(Checklist.id)))


def item_version(item: ChecklistItem) -> str:
    """An edit token for an item (it has no version column): changes whenever its content does."""
    return hashlib.sha256(f"{item.kind}\n{item.text}".encode()).hexdigest()[:16]


@bp.context_processor
def shopper_globals():
    """Names every shopper template uses."""
    return {
        "can_edit": can(g.get("role"), "edit"),
        "kind_labels": KIND_LABELS,
        "scales": SCALES,
        "percent": percent,
    }


def percent(share: float) -> int:
    """A share 0..1 as a whole percentage, halves rounded up (2 of 3 → 67)."""
    return math.floor(share * 100 + 0.5)


# --- Checklists and their items -----------------------------------------------------------------


@bp.route("/maps/<int:map_id>/shopper")
@guard("view")
def index(map_id: int):
    """The map's checklists, my drafts to continue, the latest submitted visits."""
    return index_page(map_id, ChecklistForm(formdata=None, prefix="new-checklist"))


def index_page(map_id: int, form: ChecklistForm, status: int = 200):
    """The shopper page with the given new-checklist form."""
    rows = checklists(map_id)
    counts = dict(
        db.session.execute(
            select(ChecklistItem.checklist_id, func.count())
            .where(ChecklistItem.deletion_id.is_(None))
            .where(ChecklistItem.checklist_id.in_([c.id for c in rows]))
            .group_by(ChecklistItem.checklist_id)
        ).all()
    )
    visits = select(Visit).join(Checklist, Checklist.id == Visit.checklist_id)
    visits = visits.where(
        Visit.journey_id == map_id, Visit.deletion_id.is_(None), Checklist.deletion_id.is_(None)
    )
    drafts = db.session.scalars(
        visits.where(Visit.status == "draft", Visit.user_id == current_user.id).order_by(
            Visit.updated_at.desc()
        )
    ).all()
    submitted = db.session.scalars(
        visits.where(Visit.status == "submitted")
        .order_by(Visit.visited_on.desc(), Visit.id.desc())
        .limit(20)
    ).all()
    return render(
        "shopper/index.html",
        status=status,
        journey=g.journey,
        checklists=rows,
        item_counts=counts,
        names=checklist_names(rows),
        drafts=drafts,
        submitted=submitted,
        touchpoints=touchpoint_labels(map_id),
        form=form,
    )


def checklist_names(rows) -> dict[int, str]:
    """Checklist id → name."""
    return {c.id: c.name for c in rows}


@bp.route("/maps/<int:map_id>/shopper/checklists/new", methods=["POST"])
@guard("edit")
def create_checklist(map_id: int):
    """Create an empty checklist and open it to add items."""
    form = ChecklistForm(prefix="new-checklist")
    if not form.validate():
        return index_page(map_id, form, 422)
    name = form.name.data.strip()
    row = Checklist(
        journey_id=map_id, key=store.new_key(Checklist, map_id, name, "checklist"), name=name
    )
    db.session.add(row)
    db.session.commit()
    flash(_("Checklist created. Add its questions."))
    return redirect(url_for("shopper.checklist", map_id=map_id, checklist_id=row.id), 303)


@bp.route("/maps/<int:map_id>/shopper/checklists/<int:checklist_id>")
@guard("view")
def checklist(map_id: int, checklist_id: int):
    """A checklist and its items; editors rename it and add, edit, reorder, delete items."""
    return checklist_page(checklist_or_404(checklist_id))


def checklist_page(row: Checklist, status: int = 200, **forms):
    """The checklist page; `forms` replaces the default rename / new-item / item forms."""
    items = live_items(row.id)
    rename = forms.get("rename") or ChecklistForm(formdata=None, obj=row, prefix="checklist")
    if rename.version.data is None:
        rename.version.data = str(row.version)
    item_forms = {}
    for item in items:
        form = forms.get(f"item-{item.id}")
        if form is None:
            form = ItemForm(formdata=None, obj=item, prefix=f"item-{item.id}")
            form.version.data = item_version(item)
        item_forms[item.id] = form
    return render(
        "shopper/checklist.html",
        status=status,
        journey=g.journey,
        checklist=row,
        items=items,
        rename=rename,
        item_forms=item_forms,
        new_item=forms.get("new_item") or ItemForm(formdata=None, prefix="new-item"),
        stale=forms.get("stale"),
    )


def back_to(row: Checklist, anchor: str | None = None):
    """The no-JS answer after a checklist write: 303 to its page."""
    return redirect(
        url_for("shopper.checklist", map_id=row.journey_id, checklist_id=row.id, _anchor=anchor),
        303,
    )


@bp.route("/maps/<int:map_id>/shopper/checklists/<int:checklist_id>/edit", methods=["POST"])
@guard("edit")
def rename_checklist(map_id: int, checklist_id: int):
    """Rename a checklist; a stale version answers 409 with the saved name."""
    row = checklist_or_404(checklist_id)
    form = ChecklistForm(prefix="checklist")
    if not form.validate():
        return checklist_page(row, 422, rename=form)
    if form.version.data != str(row.version):
        return checklist_page(row, 409, stale="checklist")
    row.name = form.name.data.strip()
    db.session.commit()
    flash(_("Checklist renamed."))
    return back_to(row)


@bp.route("/maps/<int:map_id>/shopper/checklists/<int:checklist_id>/delete", methods=["POST"])
@guard("edit")
def delete_checklist(map_id: int, checklist_id: int):
    """Soft-delete a checklist (its visits are hidden with it); an undo notice follows."""
    row = checklist_or_404(checklist_id)
    label = _("Checklist “%(name)s”", name=row.name)
    # The observations its visits recorded go (and come back) with it.
    evidence = db.session.scalars(
        select(Observation)
        .join(Visit, Visit.id == Observation.visit_id)
        .where(Visit.checklist_id == row.id, Observation.deletion_id.is_(None))
    ).all()
    deletion = store.soft_delete([row, *evidence], map_id, current_user.id, label)
    db.session.commit()
    flash_undo(
        deletion, _("Deleted: %(label)s", label=label), url_for("shopper.index", map_id=map_id)
    )
    return redirect(url_for("shopper.index", map_id=map_id), 303)


@bp.route("/maps/<int:map_id>/shopper/checklists/<int:checklist_id>/items/new", methods=["POST"])
@guard("edit")
def add_item(map_id: int, checklist_id: int):
    """Add a question at the end of the checklist."""
    row = checklist_or_404(checklist_id)
    form = ItemForm(prefix="new-item")
    if not form.validate():
        return checklist_page(row, 422, new_item=form)
    top = db.session.scalar(
        select(func.max(ChecklistItem.position)).where(ChecklistItem.checklist_id == row.id)
    )
    item = ChecklistItem(
        checklist_id=row.id,
        text=form.text.data.strip(),
        kind=form.kind.data,
        position=(top or 0) + 1,
    )
    db.session.add(item)
    db.session.commit()
    return back_to(row, "new-item")


def has_answers(item: ChecklistItem) -> bool:
    """Whether any visit answered this item (then its kind stays as it is)."""
    return (
        db.session.scalar(select(VisitAnswer.id).where(VisitAnswer.item_id == item.id).limit(1))
        is not None
    )


@bp.route(
    "/maps/<int:map_id>/shopper/checklists/<int:checklist_id>/items/<int:item_id>/edit",
    methods=["POST"],
)
@guard("edit")
def edit_item(map_id: int, checklist_id: int, item_id: int):
    """Change a question's text, or its kind while nobody has answered it; stale → 409."""
    row = checklist_or_404(checklist_id)
    item = item_or_404(row, item_id)
    form = ItemForm(prefix=f"item-{item.id}")
    if not form.validate():
        return checklist_page(row, 422, **{f"item-{item.id}": form})
    if form.version.data != item_version(item):
        return checklist_page(row, 409, stale=item.id)
    if form.kind.data != item.kind and has_answers(item):
        form.kind.errors.append(
            _("Visits already answered this question: add a new question for another kind.")
        )
        return checklist_page(row, 422, **{f"item-{item.id}": form})
    item.text, item.kind = form.text.data.strip(), form.kind.data
    db.session.commit()
    return back_to(row, f"item-{item.id}")


@bp.route(
    "/maps/<int:map_id>/shopper/checklists/<int:checklist_id>/items/<int:item_id>/move",
    methods=["POST"],
)
@guard("edit")
def move_item(map_id: int, checklist_id: int, item_id: int):
    """Move a question one place up or down."""
    row = checklist_or_404(checklist_id)
    item = item_or_404(row, item_id)
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(422)
    items = store.swapped(live_items(row.id), item, direction)
    if items is not None:
        for position, each in enumerate(items):
            each.position = position
        db.session.commit()
    return back_to(row, f"item-{item.id}")


@bp.route(
    "/maps/<int:map_id>/shopper/checklists/<int:checklist_id>/items/<int:item_id>/delete",
    methods=["POST"],
)
@guard("edit")
def delete_item(map_id: int, checklist_id: int, item_id: int):
    """Soft-delete a question (its answers stay, hidden with it); an undo notice follows."""
    row = checklist_or_404(checklist_id)
    item = item_or_404(row, item_id)
    label = _("Question “%(text)s”", text=item.text)
    deletion = store.soft_delete([item], map_id, current_user.id, label)
    db.session.commit()
    flash_undo(
        deletion,
        _("Deleted: %(label)s", label=label),
        url_for("shopper.checklist", map_id=map_id, checklist_id=row.id),
    )
    return back_to(row)


# --- Visits -------------------------------------------------------------------------------------


def touchpoint_labels(map_id: int) -> dict[int, str]:
    """Live touchpoint id → its name (for lists of visits)."""
    return {t.id: t.name for t in store.load_journey(map_id).touchpoints}


def visit_form(visit: Visit, formdata=True) -> VisitForm:
    """The visit form with the map's touchpoints (grouped by stage), channels and segments."""
    journey = store.load_journey(visit.journey_id)
    stages = {s.key: s.name for s in journey.stages}
    form = VisitForm(formdata=None) if formdata is None else VisitForm()
    # Touchpoints in board order: by stage, then as placed.
    order = {s.key: i for i, s in enumerate(journey.stages)}
    form.touchpoint.choices = [SelectChoice("", _("— choose a touchpoint —"))] + [
        SelectChoice(str(t.id), t.name, optgroup=stages[t.stage])
        for t in sorted(journey.touchpoints, key=lambda t: order[t.stage])
    ]
    form.channel.choices = [SelectChoice("", _("— the touchpoint's channel —"))] + [
        SelectChoice(str(c.id), c.name) for c in journey.channels
    ]
    form.segment.choices = [SelectChoice("", _("— none —"))] + [
        SelectChoice(str(s.id), s.name) for s in store.ordered(Segment, visit.journey_id)
    ]
    if formdata is None:
        form.version.data = str(visit.version)
        form.visited_on.data = visit.visited_on
        form.place.data = visit.place
        form.touchpoint.data = str(visit.touchpoint_id or "")
        form.channel.data = str(visit.channel_id or "")
        form.segment.data = str(visit.segment_id or "")
        form.notes.data = visit.notes
    return form


def answer_text(item: ChecklistItem, answer: VisitAnswer | None) -> str:
    """A stored answer as the form shows it."""
    if answer is None:
        return ""
    if item.kind == "yes-no":
        return "" if answer.yes is None else ("yes" if answer.yes else "no")
    if item.kind == "text":
        return answer.text
    return "" if answer.number is None else f"{answer.number:g}"


def parse_answer(item: ChecklistItem, raw: str) -> tuple[dict | None, str | None]:
    """A posted answer → (the VisitAnswer fields, or None when empty; an error message)."""
    raw = raw.strip()
    if not raw:
        return None, None
    if item.kind == "yes-no":
        if raw not in ("yes", "no"):
            return None, _("Choose yes or no.")
        return {"yes": raw == "yes"}, None
    if item.kind == "text":
        if len(raw) > 5000:
            return None, _("At most 5000 characters.")
        return {"text": raw}, None
    try:
        number = float(raw.replace(",", "."))
    except ValueError:
        return None, _("Enter a number.")
    if number != number or abs(number) == float("inf"):  # NaN or infinity
        return None, _("Enter a number.")
    if item.kind in SCALES:
        top = SCALES[item.kind]
        if number != int(number) or not 1 <= number <= top:
            return None, _("Choose a score from 1 to %(top)s.", top=top)
    return {"number": number}, None


def save_photo(upload, visit: Visit) -> VisitPhoto:
    """Check an uploaded photo, re-encode it without metadata and attach it (caller commits)."""
    config = current_app.config
    data = read_limited(upload.stream, config.get("SHOPPER_PHOTO_MAX_BYTES", PHOTO_MAX_BYTES))
    if not data:
        raise ImageRejected(_("The uploaded file is empty."))
    encoded, content_type, width, height = reencode(
        data, config.get("SHOPPER_PHOTO_MAX_PIXELS", PHOTO_MAX_PIXELS)
    )
    image = Image(
        journey_id=visit.journey_id,
        content_type=content_type,
        data=encoded,
        width=width,
        height=height,
    )
    db.session.add(image)
    db.session.flush()
    photo = VisitPhoto(visit_id=visit.id, image_id=image.id)
    db.session.add(photo)
    return photo


def photos_of(visit: Visit) -> list[VisitPhoto]:
    """The visit's photos, first taken first."""
    return list(
        db.session.scalars(
            select(VisitPhoto).where(VisitPhoto.visit_id == visit.id).order_by(VisitPhoto.id)
        )
    )


def remove_photo(visit: Visit, photo_id: str) -> None:
    """Delete one photo of this visit and its image; 404 for a photo of another visit."""
    photo = db.session.get(VisitPhoto, int(photo_id)) if photo_id.isdigit() else None
    if photo is None or photo.visit_id != visit.id:
        abort(404)
    image = db.session.get(Image, photo.image_id)
    db.session.delete(photo)
    # Photo first: the models declare no relationship, so the unit of work could otherwise
    # delete the image first and PostgreSQL's ON DELETE CASCADE would take the photo row away.
    db.session.flush()
    if image is not None:
        db.session.delete(image)


def visit_page(visit: Visit, form: VisitForm, status: int = 200, **extra):
    """The visit page: the phone form for a draft, the answers for a submitted visit."""
    items = live_items(visit.checklist_id)
    answers = {
        a.item_id: a
        for a in db.session.scalars(select(VisitAnswer).where(VisitAnswer.visit_id == visit.id))
    }
    values = extra.pop("values", None) or {i.id: answer_text(i, answers.get(i.id)) for i in items}
    return render(
        "shopper/visit.html",
        "shopper/_autosave.html",
        status=status,
        journey=g.journey,
        visit=visit,
        checklist=db.session.get(Checklist, visit.checklist_id),
        items=items,
        values=values,
        errors=extra.pop("errors", {}),
        photo_errors=extra.pop("photo_errors", []),
        photos=photos_of(visit),
        form=form,
        labels=visit_labels(visit),
        **extra,
    )


def visit_labels(visit: Visit) -> dict:
    """Names of the visit's touchpoint, channel and segment for the read-only view."""
    names = {}
    for key, model, row_id in (
        ("touchpoint", Touchpoint, visit.touchpoint_id),
        ("channel", Channel, visit.channel_id),
        ("segment", Segment, visit.segment_id),
    ):
        row = db.session.get(model, row_id) if row_id else None
        names[key] = row.name if row is not None else ""
    return names


@bp.route("/maps/<int:map_id>/shopper/checklists/<int:checklist_id>/visits/new", methods=["POST"])
@guard("edit")
def start_visit(map_id: int, checklist_id: int):
    """Start a visit: the draft exists on the server at once, so nothing typed later is lost."""
    row = checklist_or_404(checklist_id)
    visit = Visit(
        journey_id=map_id, checklist_id=row.id, user_id=current_user.id, visited_on=date.today()
    )
    db.session.add(visit)
    db.session.commit()
    return redirect(url_for("shopper.visit", map_id=map_id, visit_id=visit.id), 303)


@bp.route("/maps/<int:map_id>/shopper/visits/<int:visit_id>")
@guard("view")
def visit(map_id: int, visit_id: int):
    """A visit: the form while it is a draft (for editors), its answers once submitted."""
    row = visit_or_404(visit_id)
    return visit_page(row, visit_form(row, formdata=None))


@bp.route("/maps/<int:map_id>/shopper/visits/<int:visit_id>", methods=["POST"])
@guard("edit")
def save_visit(map_id: int, visit_id: int):
    """Save a draft (button or htmx autosave), remove a photo, or submit the visit.

    Every well-formed value is stored even when something else is wrong, so a half-filled visit
    survives; "Submit" only marks it submitted once date, touchpoint or channel, and every
    yes/no and scale answer are there (else 422 with the messages at the items)."""
    row = visit_or_404(visit_id)
    form = visit_form(row)
    if row.status != "draft" or form.version.data != str(row.version):
        fresh = visit_form(row, formdata=None)
        if wants_fragment():
            # An autosave keeps its old version, so it cannot overwrite the newer copy later.
            fresh.version.data = form.version.data
        stale = "submitted" if row.status != "draft" else "version"
        return visit_page(row, fresh, 409, stale=stale)
    fields = save_header(row, form)

    items = live_items(row.checklist_id)
    errors, values = save_answers(row, items)

    photo_errors, statuses = [], set()
    uploads = [f for f in request.files.getlist("photos") if f.filename]
    room = MAX_PHOTOS - len(photos_of(row))
    if len(uploads) > room:
        photo_errors.append(_("At most %(n)s photos per visit.", n=MAX_PHOTOS))
        statuses.add(422)
        uploads = uploads[: max(room, 0)]
    for upload in uploads:
        try:
            save_photo(upload, row)
        except ImageRejected as e:
            photo_errors.append(f"{upload.filename}: {e.message}")
            statuses.add(e.status)
    removed = request.form.get("remove_photo")
    if removed:
        remove_photo(row, removed)

    submitting = request.form.get("action") == "submit"
    if submitting and not any(fields.values()) and not errors and not photo_errors:
        missing_fields(row, items, values, fields, errors)
    row.updated_at = utcnow()  # bumps the version even when only answers changed
    problems = any(fields.values()) or errors or photo_errors
    if submitting and not problems:
        row.status = "submitted"
        record_evidence(row)
    db.session.commit()

    for name, messages in fields.items():
        getattr(form, name).errors = messages
    form.version.data = str(row.version)
    if problems:
        status = 413 if statuses == {413} and not errors and not any(fields.values()) else 422
        return visit_page(
            row, form, status, values=values, errors=errors, photo_errors=photo_errors
        )
    if wants_fragment():
        return visit_page(row, form, saved=True)
    if row.status == "submitted":
        flash(_("Visit submitted. Thank you!"))
        return redirect(url_for("shopper.index", map_id=map_id), 303)
    flash(_("Photo removed.") if removed else _("Draft saved."))
    anchor = "photos" if removed or uploads else None
    return redirect(url_for("shopper.visit", map_id=map_id, visit_id=row.id, _anchor=anchor), 303)


def save_header(visit: Visit, form: VisitForm) -> dict[str, list]:
    """Store the posted date, place, touchpoint, channel, segment and notes that are valid;
    returns the error messages per field. Fields not posted at all stay as they are."""
    form.validate()
    posted = request.form
    fields = {name: list(f.errors) if name in posted else [] for name, f in form._fields.items()}

    def ok(name: str) -> bool:
        return name in posted and not fields[name]

    if ok("visited_on"):
        visit.visited_on = form.visited_on.data
    if ok("place"):
        visit.place = form.place.data.strip()
    if ok("notes"):
        visit.notes = form.notes.data.strip()
    if ok("segment"):
        visit.segment_id = int(form.segment.data) if form.segment.data else None
    if ok("touchpoint") and not fields["channel"]:
        touchpoint = db.session.get(Touchpoint, int(form.touchpoint.data or 0) or -1)
        visit.touchpoint_id = touchpoint.id if touchpoint else None
        # The channel of the touchpoint wins, so results per channel agree with the board.
        channel = int(form.channel.data) if form.channel.data else None
        visit.channel_id = touchpoint.channel_id if touchpoint else channel
    elif ok("channel") and visit.touchpoint_id is None:
        visit.channel_id = int(form.channel.data) if form.channel.data else None
    return fields


def save_answers(visit: Visit, items: list[ChecklistItem]) -> tuple[dict, dict]:
    """Store the posted answers of every item; returns (errors by item id, values as posted)."""
    answers = {
        a.item_id: a
        for a in db.session.scalars(select(VisitAnswer).where(VisitAnswer.visit_id == visit.id))
    }
    errors, values = {}, {}
    # The form lists the items it shows: an unticked radio group is not posted at all, and a
    # request that lists no items (say, removing a photo from an old page) changes no answers.
    shown = set(request.form.getlist("items"))
    for item in items:
        values[item.id] = raw = request.form.get(f"item-{item.id}", "")
        if str(item.id) not in shown:
            values[item.id] = answer_text(item, answers.get(item.id))
            continue
        parsed, error = parse_answer(item, raw)
        if error:
            errors[item.id] = error
            continue
        answer = answers.get(item.id)
        if parsed is None:
            if answer is not None:
                db.session.delete(answer)
            continue
        if answer is None:
            answer = VisitAnswer(visit_id=visit.id, item_id=item.id)
            db.session.add(answer)
        answer.yes = parsed.get("yes")
        answer.number = parsed.get("number")
        answer.text = parsed.get("text", "")
    return errors, values


def missing_fields(visit, items, values, fields, errors) -> None:
    """What a submitted visit must have: a date, a touchpoint or channel, the required answers."""
    if visit.visited_on is None:
        fields["visited_on"].append(_("Enter the date of the visit."))
    if visit.touchpoint_id is None and visit.channel_id is None:
        fields["touchpoint"].append(_("Choose a touchpoint or at least a channel."))
    for item in items:
        if item.kind in REQUIRED_KINDS and not values[item.id].strip():
            errors[item.id] = _("Answer this question.")


def record_evidence(visit: Visit) -> None:
    """A submitted visit is one mystery-shopper observation of its touchpoint (for coverage)."""
    touchpoint = db.session.get(Touchpoint, visit.touchpoint_id) if visit.touchpoint_id else None
    db.session.add(
        Observation(
            journey_id=visit.journey_id,
            touchpoint_id=visit.touchpoint_id,
            stage_id=touchpoint.stage_id if touchpoint else None,
            channel_id=touchpoint.channel_id if touchpoint else visit.channel_id,
            segment_id=visit.segment_id,
            source="mystery-shopper",
            observed_on=visit.visited_on,
            verbatim=visit.notes,
            visit_id=visit.id,
        )
    )


@bp.route("/maps/<int:map_id>/shopper/visits/<int:visit_id>/reopen", methods=["POST"])
@guard("edit")
def reopen_visit(map_id: int, visit_id: int):
    """Turn a submitted visit back into a draft to correct it; stale version → 409."""
    row = visit_or_404(visit_id)
    if request.form.get("version") != str(row.version) or row.status != "submitted":
        return visit_page(row, visit_form(row, formdata=None), 409, stale="version")
    row.status = "draft"
    # Its observation is derived data: it comes back, current, when the visit is submitted again.
    db.session.execute(delete(Observation).where(Observation.visit_id == row.id))
    db.session.commit()
    flash(_("The visit is a draft again; submit it when corrected."))
    return redirect(url_for("shopper.visit", map_id=map_id, visit_id=row.id), 303)


@bp.route("/maps/<int:map_id>/shopper/visits/<int:visit_id>/delete", methods=["POST"])
@guard("edit")
def delete_visit(map_id: int, visit_id: int):
    """Soft-delete a visit (a discarded draft, a wrong visit) and its observation; undo follows."""
    row = visit_or_404(visit_id)
    evidence = db.session.scalars(
        select(Observation).where(Observation.visit_id == row.id, Observation.deletion_id.is_(None))
    ).all()
    label = _("Visit of %(day)s", day=row.visited_on.isoformat() if row.visited_on else "—")
    deletion = store.soft_delete([row, *evidence], map_id, current_user.id, label)
    db.session.commit()
    flash_undo(
        deletion, _("Deleted: %(label)s", label=label), url_for("shopper.index", map_id=map_id)
    )
    return redirect(url_for("shopper.index", map_id=map_id), 303)


# --- Results ------------------------------------------------------------------------------------


def submitted_visits(map_id: int, checklist_id: int, segment_id: int | None):
    """WHERE clauses selecting the live submitted visits of one checklist (and segment)."""
    clauses = [
        Visit.journey_id == map_id,
        Visit.checklist_id == checklist_id,
        Visit.status == "submitted",
        Visit.deletion_id.is_(None),
    ]
    if segment_id is not None:
        clauses.append(Visit.segment_id == segment_id)
    return clauses


def grouped(key, *columns):
    """SELECT key AS group_id, *columns; grouping by the alias keeps PostgreSQL from comparing
    two renderings of a CASE with bound parameters."""
    if key is None:
        return select(*columns)
    return select(key.label("group_id"), *columns)


def item_figures(where, key) -> dict:
    """Per (group, item): n and share of "yes", n and mean of numbers — one GROUP BY in SQL.
    With key None, the figures over all the visits, under the group "all"."""
    yes_share = func.avg(case((VisitAnswer.yes.is_(True), 1.0), (VisitAnswer.yes.is_(False), 0.0)))
    stmt = (
        grouped(
            key,
            VisitAnswer.item_id,
            func.count(VisitAnswer.yes),
            yes_share,
            func.count(VisitAnswer.number),
            func.avg(VisitAnswer.number),
        )
        .join(Visit, Visit.id == VisitAnswer.visit_id)
        .where(*where)
    )
    if key is None:
        rows = [("all", *r) for r in db.session.execute(stmt.group_by(VisitAnswer.item_id))]
    else:
        rows = db.session.execute(stmt.group_by(literal_column("group_id"), VisitAnswer.item_id))
    return {
        (g_id, item_id): {"yes_n": yn, "yes_share": ys, "number_n": nn, "mean": mean}
        for g_id, item_id, yn, ys, nn, mean in rows
    }


def visit_counts(where, key) -> dict:
    """Per group: how many submitted visits."""
    return dict(
        db.session.execute(
            grouped(key, func.count(Visit.id)).where(*where).group_by(literal_column("group_id"))
        ).all()
    )


def latest_texts(where, key) -> dict:
    """Per (group, item): the latest few text answers, newest first."""
    rows = db.session.execute(
        grouped(key, VisitAnswer.item_id, VisitAnswer.text, Visit.visited_on)
        .join(Visit, Visit.id == VisitAnswer.visit_id)
        .where(*where, VisitAnswer.text != "")
        .order_by(Visit.visited_on.desc(), Visit.id.desc())
        .limit(500)
    ).all()
    texts = defaultdict(list)
    for g_id, item_id, text, day in rows:
        if len(texts[g_id, item_id]) < LATEST:
            texts[g_id, item_id].append((day, text))
    return texts


def latest_notes(where, key) -> dict:
    """Per group: the latest few visit notes."""
    rows = db.session.execute(
        grouped(key, Visit.notes, Visit.visited_on)
        .where(*where, Visit.notes != "")
        .order_by(Visit.visited_on.desc(), Visit.id.desc())
        .limit(300)
    ).all()
    notes = defaultdict(list)
    for g_id, text, day in rows:
        if len(notes[g_id]) < LATEST:
            notes[g_id].append((day, text))
    return notes


def gallery(where, key) -> dict:
    """Per group: image ids of the submitted visits' photos, newest visits first."""
    rows = db.session.execute(
        grouped(key, VisitPhoto.image_id)
        .join(Visit, Visit.id == VisitPhoto.visit_id)
        .where(*where)
        .order_by(Visit.visited_on.desc(), VisitPhoto.id)
        .limit(400)
    ).all()
    photos = defaultdict(list)
    for g_id, image_id in rows:
        if len(photos[g_id]) < PHOTOS_PER_GROUP:
            photos[g_id].append(image_id)
    return photos


def result_groups(map_id: int, by: str) -> list[tuple[int | None, str, str]]:
    """The groups of a results page in board order: (id, name, context line)."""
    journey = store.load_journey(map_id)
    if by == "channel":
        return [(c.id, c.name, "") for c in journey.channels]
    stages = {s.key: s.name for s in journey.stages}
    channels = {c.key: c.name for c in journey.channels}
    order = {s.key: i for i, s in enumerate(journey.stages)}
    return [
        (t.id, t.name, f"{stages[t.stage]} · {channels[t.channel]}")
        for t in sorted(journey.touchpoints, key=lambda t: order[t.stage])
    ]


@bp.route("/maps/<int:map_id>/shopper/results")
@guard("view")
def results(map_id: int):
    """Results of a checklist per touchpoint or per channel: % yes, mean scores, each with n."""
    rows = checklists(map_id)
    chosen = request.args.get("checklist", type=int)
    current = next((c for c in rows if c.id == chosen), rows[0] if rows else None)
    if chosen is not None and (current is None or current.id != chosen):
        abort(404)
    by = request.args.get("by", "touchpoint")
    if by not in GROUPINGS:
        by = "touchpoint"
    segments = store.ordered(Segment, map_id)
    segment_id = request.args.get("segment", type=int)
    if segment_id is not None and segment_id not in {s.id for s in segments}:
        segment_id = None
    ctx = {
        "journey": g.journey,
        "checklists": rows,
        "current": current,
        "by": by,
        "groupings": GROUPINGS,
        "segments": segments,
        "segment_id": segment_id,
    }
    if current is None:
        return render("shopper/results.html", groups=[], **ctx)
    where = submitted_visits(map_id, current.id, segment_id)
    known = result_groups(map_id, by)
    column = Visit.touchpoint_id if by == "touchpoint" else Visit.channel_id
    # Visits without a touchpoint (or whose touchpoint was deleted since) count as "other".
    key = case((column.in_([g_id for g_id, _n, _l in known]), column), else_=OTHER)
    counts = visit_counts(where, key)
    groups = [(g_id, name, line) for g_id, name, line in known if counts.get(g_id)]
    if counts.get(OTHER):
        groups.append((OTHER, _("No touchpoint") if by == "touchpoint" else _("No channel"), ""))
    return render(
        "shopper/results.html",
        groups=groups,
        counts=counts,
        total=sum(counts.values()),
        items=live_items(current.id),
        figures=item_figures(where, key),
        overall=item_figures(where, None),
        texts=latest_texts(where, key),
        notes=latest_notes(where, key),
        photos=gallery(where, key),
        **ctx,
    )
