"""Step 1, personas: who the customer is. Cards, create / edit / delete with undo, avatar images."""

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import func, select
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from .. import store
from ..access import can, get_part_or_404, guard
from ..extensions import db
from ..forms import choices
from ..images import ImageRejected, save_avatar
from ..journey.model import LIFECYCLE
from ..models import Image, Persona
from ..web import flash_undo, render, wants_fragment

bp = Blueprint("personas", __name__)

LIFECYCLE_LABELS = dict(
    zip(
        LIFECYCLE,
        (_l("Potential"), _l("Developing"), _l("Developed"), _l("Sleeping"), _l("Lost")),
        strict=True,
    )
)
# The fields a person types; the form and the row share these names.
TEXT_FIELDS = (
    "name",
    "occupation",
    "quote",
    "goals",
    "needs",
    "expectations",
    "frustrations",
    "behaviour",
    "segment",
    "lifecycle",
)
LONG = [Length(max=5000)]


class PersonaForm(FlaskForm):
    version = HiddenField()
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    age = IntegerField(
        _l("Age"),
        validators=[Optional(), NumberRange(0, 120, _l("Age must be between 0 and 120."))],
    )
    occupation = StringField(_l("Occupation"), validators=[Length(max=200)])
    quote = TextAreaField(_l("Quote"), validators=[Length(max=1000)])
    goals = TextAreaField(_l("Goals"), validators=LONG)
    needs = TextAreaField(_l("Needs"), validators=LONG)
    expectations = TextAreaField(_l("Expectations"), validators=LONG)
    frustrations = TextAreaField(_l("Frustrations"), validators=LONG)
    behaviour = TextAreaField(_l("Behaviour"), validators=LONG)
    segment = StringField(_l("Segment"), validators=[Length(max=120)])
    lifecycle = SelectField(
        _l("Lifecycle stage"),
        choices=choices({"": _l("— not set —"), **LIFECYCLE_LABELS}),
        default="",
    )
    primary = BooleanField(_l("Primary persona of this map"))
    avatar = FileField(_l("Photo or avatar (PNG, JPEG, WebP or GIF)"))
    remove_avatar = BooleanField(_l("Remove the avatar"))


def scoped(form: PersonaForm, persona_id: int | None) -> PersonaForm:
    """Give the form's inputs ids of their own, so an edit form and the new-persona form can sit
    on one page (labels keep pointing at the right input); field names stay the same."""
    for f in form:
        f.id = f.label.field_id = f"persona-{persona_id or 'new'}-{f.name}"
    return form


@bp.context_processor
def persona_globals():
    """What every persona template needs: lifecycle labels, and whether to show edit controls."""
    return {"lifecycle_labels": LIFECYCLE_LABELS, "can_edit": can(g.get("role"), "edit")}


def persona_card(map_id: int, persona_id: int):
    """The domain Persona as the cards show it (hidden rows left out by load_journey)."""
    journey = store.load_journey(map_id)
    return journey, next(p for p in journey.personas if p.id == persona_id)


def fill(row: Persona, form: PersonaForm) -> None:
    """Copy the typed fields of a valid form onto the row."""
    for name in TEXT_FIELDS:
        setattr(row, name, (getattr(form, name).data or "").strip())
    row.age = form.age.data


def apply_avatar(row: Persona, form: PersonaForm) -> int | None:
    """Store, replace or remove the avatar; if refused, the status (413 or 422) and the message on
    the field."""
    upload = form.avatar.data
    old_id = row.avatar_id
    if upload and upload.filename:
        try:
            row.avatar_id = save_avatar(upload, row.journey_id).id
        except ImageRejected as e:
            form.avatar.errors = [e.message]
            return e.status
    elif form.remove_avatar.data:
        row.avatar_id = None
    if old_id is not None and old_id != row.avatar_id:
        drop_unused_image(old_id, row.id)
    return None


def drop_unused_image(image_id: int, persona_id: int | None) -> None:
    """Delete a replaced avatar unless another persona (a hidden one, say) still shows it."""
    users = db.session.scalar(
        select(func.count())
        .select_from(Persona)
        .where(Persona.avatar_id == image_id, Persona.id != (persona_id or 0))
    )
    if not users:
        image = db.session.get(Image, image_id)
        if image is not None:
            db.session.delete(image)


def saved(map_id: int, row: Persona, cleared: list[Persona], message: str, new_form=False):
    """After a successful write: the card (+ out-of-band updates) for htmx, else 303 to the list."""
    flash(message)
    if not wants_fragment():
        return redirect(url_for("personas.index", map_id=map_id), 303)
    journey, persona = persona_card(map_id, row.id)
    others = [p for p in journey.personas if p.id in {c.id for c in cleared}]
    fresh = scoped(PersonaForm(formdata=None), None) if new_form else None
    return render_template("personas/_saved.html", persona=persona, others=others, fresh=fresh)


@bp.route("/maps/<int:map_id>/personas")
@guard("view")
def index(map_id: int):
    """The map's personas as cards; editors also get the form for a new one."""
    journey = store.load_journey(map_id)
    return render(
        "personas/index.html", journey=journey, form=scoped(PersonaForm(formdata=None), None)
    )


@bp.route("/maps/<int:map_id>/personas/new", methods=["POST"])
@guard("edit")
def create(map_id: int):
    """Add a persona; the map's first persona becomes its primary one."""
    form = scoped(PersonaForm(), None)
    refused = None
    if form.validate():
        first = not db.session.scalar(
            select(func.count()).select_from(store.live(Persona, map_id).subquery())
        )
        row = Persona(
            journey_id=map_id,
            key=store.new_key(Persona, map_id, form.name.data.strip(), "persona"),
            position=store.next_position(Persona, map_id),
        )
        fill(row, form)
        db.session.add(row)
        refused = apply_avatar(row, form)
        if refused is None:
            cleared = store.make_primary_persona(row) if (form.primary.data or first) else []
            db.session.commit()
            return saved(map_id, row, cleared, _("Persona “%(name)s” added.", name=row.name), True)
        db.session.rollback()
    journey = store.load_journey(map_id)
    return render(
        "personas/index.html", "personas/_form.html", refused or 422, journey=journey, form=form
    )


@bp.route("/maps/<int:map_id>/personas/<int:persona_id>")
@guard("view")
def show(map_id: int, persona_id: int):
    """One persona's card (htmx uses it to cancel an edit)."""
    get_part_or_404(Persona, persona_id)
    journey, persona = persona_card(map_id, persona_id)
    return render("personas/show.html", "personas/_card.html", journey=journey, persona=persona)


@bp.route("/maps/<int:map_id>/personas/<int:persona_id>/edit", methods=["GET", "POST"])
@guard("edit")
def edit(map_id: int, persona_id: int):
    """Edit a persona; a stale version answers 409 with the newer values and saves nothing."""
    row = get_part_or_404(Persona, persona_id)
    form = scoped(PersonaForm(obj=row), row.id)
    if not form.is_submitted():
        form.primary.data = row.is_primary
        form.version.data = str(row.version)
        return edit_page(map_id, row, form, 200)
    if not form.validate():
        return edit_page(map_id, row, form, 422)
    if form.version.data != str(row.version):
        return stale(map_id, row, form)
    was_primary = row.is_primary
    fill(row, form)
    refused = apply_avatar(row, form)
    if refused is not None:
        db.session.rollback()  # the typed fields were not saved either; the row reloads
        return edit_page(map_id, row, form, refused)
    cleared = []
    if form.primary.data:
        cleared = store.make_primary_persona(row)
    elif was_primary:
        row.is_primary = False
    db.session.commit()
    return saved(map_id, row, cleared, _("Persona “%(name)s” saved.", name=row.name))


def edit_page(map_id: int, row: Persona, form: PersonaForm, status: int, **extra):
    """The edit form: a page without JS, the form fragment for htmx."""
    journey = store.load_journey(map_id)
    return render(
        "personas/edit.html",
        "personas/_form.html",
        status,
        journey=journey,
        row=row,
        form=form,
        **extra,
    )


def stale(map_id: int, row: Persona, submitted: PersonaForm):
    """409: the form now shows the saved (newer) values; what the user typed is listed beside."""
    mine = [
        (getattr(submitted, name).label.text, getattr(submitted, name).data)
        for name in (*TEXT_FIELDS, "age")
        if (getattr(submitted, name).data or "") != (getattr(row, name) or "")
    ]
    form = scoped(PersonaForm(formdata=None, obj=row), row.id)
    form.primary.data = row.is_primary
    form.version.data = str(row.version)
    return edit_page(map_id, row, form, 409, stale=True, mine=mine)


@bp.route("/maps/<int:map_id>/personas/<int:persona_id>/delete", methods=["POST"])
@guard("edit")
def delete(map_id: int, persona_id: int):
    """Hide a persona with an undo notice."""
    row = get_part_or_404(Persona, persona_id)
    deletion = store.soft_delete([row], map_id, current_user.id, row.name)
    db.session.commit()
    flash_undo(deletion, _("Persona “%(name)s” deleted.", name=row.name))
    if wants_fragment():
        return render_template("personas/_deleted.html")
    return redirect(url_for("personas.index", map_id=map_id), 303)


@bp.route("/maps/<int:map_id>/images/<int:image_id>")
@guard("view")
def image(map_id: int, image_id: int):
    """An uploaded (re-encoded) image of this map."""
    picture = db.session.get(Image, image_id)
    if picture is None or picture.journey_id != map_id:
        abort(404)
    response = Response(picture.data, mimetype=picture.content_type)
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
