"""Maps: the dashboard, new map from a template, the map page with its six-step stepper,
settings, members, delete with undo."""

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import EmailField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length

from .. import store
from ..access import guard, role_of
from ..extensions import db
from ..forms import choices
from ..journey.steps import step_states
from ..journey.templates import from_template
from ..models import Deletion, Journey, Membership, User, utcnow
from ..progress import progress
from ..web import render
from .auth import safe_next

bp = Blueprint("maps", __name__)

TEMPLATE_LABELS = {
    "blank": _l("Blank map"),
    "lifecycle": _l("Customer lifecycle: potential → developing → developed → sleeping → lost"),
    "buttle": _l("Relationship stages (Buttle): awareness → exploration → … → dissolution"),
    "marketing": _l("Marketing journey: awareness → consideration → purchase → use → loyalty"),
}
LANGUAGE_LABELS = {"en": "English", "ru": "Русский"}
ROLE_LABELS = {"viewer": _l("Viewer"), "editor": _l("Editor"), "owner": _l("Owner")}
STATE_LABELS = {"as-is": _l("As-is (current)"), "to-be": _l("To-be (future)")}


class NewMapForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    template = RadioField(_l("Start from"), choices=choices(TEMPLATE_LABELS), default="marketing")
    language = SelectField(_l("Map language"), choices=choices(LANGUAGE_LABELS))


class MapForm(FlaskForm):
    version = HiddenField()
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Scope and description"), validators=[Length(max=5000)])
    state = SelectField(_l("State"), choices=choices(STATE_LABELS))
    language = SelectField(_l("Map language"), choices=choices(LANGUAGE_LABELS))


class MemberForm(FlaskForm):
    email = EmailField(_l("E-mail of a registered user"), validators=[DataRequired(), Email()])
    role = SelectField(
        _l("Role"),
        choices=choices(ROLE_LABELS),
    )


def my_maps():
    """The current user's live maps with their role and size, newest first (one query)."""
    from ..models import Touchpoint

    size = (
        select(func.count(Touchpoint.id))
        .where(Touchpoint.journey_id == Journey.id, Touchpoint.deletion_id.is_(None))
        .scalar_subquery()
    )
    return db.session.execute(
        select(Journey, Membership.role, size.label("touchpoints"))
        .join(Membership, Membership.journey_id == Journey.id)
        .where(Membership.user_id == current_user.id, Journey.deletion_id.is_(None))
        .order_by(Journey.updated_at.desc())
    ).all()


@bp.route("/")
@guard("user")
def dashboard():
    """The maps I am a member of."""
    return render("maps/dashboard.html", maps=my_maps(), form=NewMapForm(formdata=None))


@bp.route("/maps/new", methods=["GET", "POST"])
@guard("user")
def new():
    """Create a map from a template."""
    form = NewMapForm()
    if request.method == "GET":
        form.language.data = str(request.args.get("language") or "en")
    if form.validate_on_submit():
        journey = from_template(form.template.data, form.language.data, form.title.data.strip())
        row = store.add_journey(journey, current_user.id)
        db.session.commit()
        return redirect(url_for("maps.show", map_id=row.id), 303)
    return render("maps/new.html", form=form, status=422 if form.is_submitted() else 200)


@bp.route("/maps/<int:map_id>")
@guard("view")
def show(map_id: int):
    """The map page: header, the six-step stepper, what each step holds."""
    journey = store.load_journey(map_id)
    counted = progress(journey, g.journey.evidence_threshold)
    steps = step_states(journey, counted)
    return render("maps/show.html", journey=journey, steps=steps, progress=counted)


@bp.route("/maps/<int:map_id>/settings", methods=["GET", "POST"])
@guard("edit")
def settings(map_id: int):
    """Title, scope, as-is/to-be state and language of the map."""
    row = g.journey
    form = MapForm(obj=row)
    if form.validate_on_submit():
        if form.version.data != str(row.version):
            return render("maps/settings.html", form=form, row=row, stale=True, status=409)
        for name in ("title", "description", "state", "language"):
            setattr(
                row, name, getattr(form, name).data
            )  # not populate_obj: version is SQLAlchemy's
        db.session.commit()
        flash(_("Map saved."))
        return redirect(url_for("maps.show", map_id=map_id), 303)
    if not form.is_submitted():
        form.version.data = str(row.version)
    return render(
        "maps/settings.html", form=form, row=row, status=422 if form.is_submitted() else 200
    )


@bp.route("/maps/<int:map_id>/members", methods=["GET", "POST"])
@guard("own")
def members(map_id: int):
    """Owners share the map: add a member by e-mail with a role, change or remove roles."""
    form = MemberForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).filter_by(email=form.email.data.strip().lower()))
        if user is None:
            form.email.errors.append(_("No account with this e-mail."))
        else:
            member = db.session.scalar(
                select(Membership).filter_by(journey_id=map_id, user_id=user.id)
            )
            if member is None:
                db.session.add(Membership(journey_id=map_id, user_id=user.id, role=form.role.data))
            else:
                member.role = form.role.data
            db.session.commit()
            flash(_("%(name)s is now %(role)s.", name=user.name, role=ROLE_LABELS[form.role.data]))
            return redirect(url_for("maps.members", map_id=map_id), 303)
    rows = db.session.scalars(
        select(Membership).filter_by(journey_id=map_id).join(User).order_by(User.name)
    ).all()
    return render("maps/members.html", form=form, rows=rows, status=422 if form.errors else 200)


@bp.route("/maps/<int:map_id>/members/<int:user_id>/remove", methods=["POST"])
@guard("own")
def remove_member(map_id: int, user_id: int):
    """Remove a member; the last owner stays."""
    member = db.session.scalar(select(Membership).filter_by(journey_id=map_id, user_id=user_id))
    if member is None:
        abort(404)
    owners = db.session.scalar(
        select(func.count()).select_from(Membership).filter_by(journey_id=map_id, role="owner")
    )
    if member.role == "owner" and owners == 1:
        flash(_("A map keeps at least one owner."), "error")
    else:
        db.session.delete(member)
        db.session.commit()
    return redirect(url_for("maps.members", map_id=map_id), 303)


@bp.route("/maps/<int:map_id>/delete", methods=["POST"])
@guard("own")
def delete(map_id: int):
    """Soft-delete the map; the owner can undo for a while."""
    deletion = Deletion(journey_id=map_id, user_id=current_user.id, label=g.journey.title)
    db.session.add(deletion)
    db.session.flush()
    g.journey.deletion_id = deletion.id
    db.session.commit()
    flash(
        {
            "text": _("Map “%(title)s” deleted.", title=g.journey.title),
            "url": url_for("maps.restore", map_id=map_id),
        },
        "undo",
    )
    return redirect(url_for("maps.dashboard"), 303)


def undo_window_open(deletion: Deletion) -> bool:
    """Whether a deletion is recent enough to undo."""
    created = deletion.created_at
    if created.tzinfo is None:  # SQLite returns naive datetimes
        from datetime import UTC

        created = created.replace(tzinfo=UTC)
    return utcnow() - created <= timedelta(seconds=current_app.config["UNDO_SECONDS"])


@bp.route("/maps/<int:map_id>/restore", methods=["POST"])
@guard("user")
def restore(map_id: int):
    """Undo a map deletion (owners only; the map itself is hidden from the usual guard)."""
    row = db.session.get(Journey, map_id)
    if row is None or row.deletion_id is None or role_of(map_id, current_user.id) != "owner":
        abort(404)
    deletion = db.session.get(Deletion, row.deletion_id)
    if not undo_window_open(deletion):
        flash(_("Too late to undo."), "error")
        return redirect(url_for("maps.dashboard"), 303)
    row.deletion_id = None
    db.session.delete(deletion)
    db.session.commit()
    flash(_("Map restored."))
    return redirect(url_for("maps.show", map_id=map_id), 303)


@bp.route("/maps/<int:map_id>/undo/<int:deletion_id>", methods=["POST"])
@guard("edit")
def undo(map_id: int, deletion_id: int):
    """Undo the deletion of a card, a stage, a channel or a persona."""
    deletion = db.session.get(Deletion, deletion_id)
    if deletion is None or deletion.journey_id != map_id:
        abort(404)
    if not undo_window_open(deletion):
        flash(_("Too late to undo."), "error")
    else:
        store.restore(deletion)
        db.session.commit()
        flash(_("Restored: %(label)s", label=deletion.label))
    return redirect(
        safe_next(request.form.get("next"))
        if request.form.get("next")
        else url_for("maps.show", map_id=map_id),
        303,
    )
