"""Step 2, the frame of the map: stages (columns) and channels, each added, edited in place,
reordered (buttons or drag and drop) and soft-deleted with undo. Stages and channels behave
alike, so one set of views serves both; `part` in the URL says which."""

from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    g,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from .. import store
from ..access import get_part_or_404, guard
from ..extensions import db
from ..forms import choices
from ..journey.model import CHANNEL_KINDS
from ..models import Channel, Stage
from ..web import flash_undo, render, wants_fragment

bp = Blueprint("stages", __name__)

# Default names of the channel catalogue; msgids in English, the map's language picks the name.
CATALOGUE = {
    "website": _l("Website"),
    "mobile-app": _l("Mobile app"),
    "call-centre": _l("Call centre"),
    "store": _l("Store"),
    "messenger": _l("Messenger"),
    "social-network": _l("Social network"),
    "email": _l("E-mail"),
    "sales-manager": _l("Sales manager"),
}
assert set(CATALOGUE) == set(CHANNEL_KINDS) - {"custom"}
CHANGED = {"HX-Trigger": "journey-changed"}


class StageForm(FlaskForm):
    version = HiddenField()
    name = StringField(_l("Stage name"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])


class ChannelForm(FlaskForm):
    version = HiddenField()
    name = StringField(_l("Channel name"), validators=[DataRequired(), Length(max=120)])


class CatalogueForm(FlaskForm):
    kind = SelectField(_l("Channel"), choices=choices(CATALOGUE))


@dataclass(frozen=True)
class Part:
    """What differs between stages and channels."""

    model: type
    form: type
    prefix: str
    noun: object  # lazy label for messages


PARTS = {
    "stages": Part(Stage, StageForm, "stage", _l("Stage")),
    "channels": Part(Channel, ChannelForm, "channel", _l("Channel")),
}


def spec(part: str) -> Part:
    """The Part for a URL segment."""
    return PARTS[part]


def part_route(path: str, **options):
    """Register a view twice, for stages and for channels: "/{id}/edit" becomes
    /maps/<id>/stages/<int:stage_id>/edit (endpoint edit_stage) and the channels twin."""

    def register(view):
        for part, p in PARTS.items():
            rule = f"/maps/<int:map_id>/{part}" + path.format(id=f"<int:{p.prefix}_id>")
            bp.add_url_rule(rule, f"{view.__name__}_{p.prefix}", view, **options)
        return view

    return register


def current_part(ids: dict) -> tuple[str, Part, int | None]:
    """Which part the request is about (from its endpoint) and the row id from the URL."""
    part = "stages" if request.endpoint.endswith("_stage") else "channels"
    p = PARTS[part]
    return part, p, ids.get(f"{p.prefix}_id")


def part_url(action: str, part: str, row_id: int | None = None) -> str:
    """The URL of a stage or channel view, e.g. part_url("edit", "stages", 3)."""
    p = PARTS[part]
    ids = {f"{p.prefix}_id": row_id} if row_id is not None else {}
    return url_for(f"stages.{action}_{p.prefix}", map_id=g.journey.id, **ids)


def page_context(map_id: int, **forms) -> dict:
    """Everything the stages page and its two sections need (forms default to empty ones)."""
    stages = store.ordered(Stage, map_id)
    channels = store.ordered(Channel, map_id)
    present = {c.kind for c in channels}
    return {
        "journey": store.load_journey(map_id),
        "stages": stages,
        "channels": channels,
        "catalogue": {k: v for k, v in CATALOGUE.items() if k not in present},
        "stage_form": forms.get("stage_form") or StageForm(formdata=None, prefix="new-stage"),
        "channel_form": forms.get("channel_form")
        or ChannelForm(formdata=None, prefix="new-channel"),
        "catalogue_error": forms.get("catalogue_error"),
        "focus": forms.get("focus"),
    }


def with_notices(body: str) -> str:
    """Append pending notices (e.g. an undo offer) as an out-of-band swap of #notices."""
    if wants_fragment() and get_flashed_messages():
        body += render_template("stages/_oob_notices.html")
    return body


def section(part: str, map_id: int, status: int = 200, headers=None, **forms):
    """The stages page, or for htmx just the stages or channels section (with OOB notices)."""
    body, status = render(
        "stages/index.html", f"stages/_{part}.html", status=status, **page_context(map_id, **forms)
    )
    return with_notices(body), status, headers or {}


@bp.context_processor
def frame_globals():
    """Template names every stages view uses: may the user edit, catalogue labels."""
    return {
        "can_edit": g.get("role") in ("editor", "owner"),
        "channel_kinds": CATALOGUE,
        "part_url": part_url,
    }


def back(part: str, map_id: int, row_id: int | None = None):
    """The no-JS answer after a write: 303 to the stages page, at the row when there is one."""
    anchor = f"{spec(part).prefix}-{row_id}" if row_id else part
    return redirect(url_for("stages.index", map_id=map_id, _anchor=anchor), 303)


@bp.route("/maps/<int:map_id>/stages")
@guard("view")
def index(map_id: int):
    """The stages and channels of the map, in order, with their editors."""
    return render("stages/index.html", **page_context(map_id))


@part_route("/add", methods=["POST"])
@guard("edit")
def add(map_id: int):
    """Add a stage or a custom channel at the end."""
    part, p, _row_id = current_part({})
    # Prefixes keep field ids unique while several forms share the page.
    form = p.form(prefix=f"new-{p.prefix}")
    if not form.validate():
        return section(part, map_id, 422, **{f"{p.prefix}_form": form})
    name = form.name.data.strip()
    row = p.model(
        journey_id=map_id,
        key=store.new_key(p.model, map_id, name, p.prefix),
        name=name,
        position=store.next_position(p.model, map_id),
    )
    if part == "stages":
        row.description = (form.description.data or "").strip()
    db.session.add(row)
    db.session.commit()
    if wants_fragment():
        return section(part, map_id, headers=CHANGED)
    return back(part, map_id, row.id)


@bp.route("/maps/<int:map_id>/channels/catalogue", methods=["POST"])
@guard("edit")
def add_catalogue(map_id: int):
    """Add a catalogue channel with one click, named in the map's language."""
    form = CatalogueForm()
    if not form.validate():
        return section(
            "channels", map_id, 422, catalogue_error=_("Choose a channel from the list.")
        )
    kind = form.kind.data
    if kind in {c.kind for c in store.ordered(Channel, map_id)}:
        return section(
            "channels", map_id, 422, catalogue_error=_("This channel is already on the map.")
        )
    with force_locale(g.journey.language):
        name = str(CATALOGUE[kind])
    row = Channel(
        journey_id=map_id,
        key=store.new_key(Channel, map_id, kind, "channel"),
        name=name,
        kind=kind,
        position=store.next_position(Channel, map_id),
    )
    db.session.add(row)
    db.session.commit()
    if wants_fragment():
        return section("channels", map_id, headers=CHANGED)
    return back("channels", map_id, row.id)


@part_route("/{id}")
@guard("view")
def row(map_id: int, **ids):
    """One stage or channel row (htmx: cancel an edit); without JS, the stages page at that row."""
    part, p, row_id = current_part(ids)
    item = get_part_or_404(p.model, row_id)
    if not wants_fragment():
        return back(part, map_id, row_id)
    return render("stages/index.html", "stages/_row.html", part=part, item=item)


@part_route("/{id}/edit", methods=["GET", "POST"])
@guard("edit")
def edit(map_id: int, **ids):
    """Edit a stage or channel in place; a stale version answers 409 with the saved values."""
    part, p, row_id = current_part(ids)
    item = get_part_or_404(p.model, row_id)
    form = p.form(obj=item, prefix=f"{p.prefix}-{item.id}")
    ctx = {"part": part, "item": item, "journey": g.journey}
    if request.method == "GET":
        form.version.data = str(item.version)
        return render("stages/edit.html", "stages/_edit.html", form=form, **ctx)
    if not form.validate():
        return render("stages/edit.html", "stages/_edit.html", 422, form=form, **ctx)
    if form.version.data != str(item.version):
        fresh = p.form(formdata=None, obj=item, prefix=f"{p.prefix}-{item.id}")
        fresh.version.data = str(item.version)
        return render("stages/edit.html", "stages/_edit.html", 409, form=fresh, stale=True, **ctx)
    item.name = form.name.data.strip()
    if part == "stages":
        item.description = (form.description.data or "").strip()
    db.session.commit()
    if wants_fragment():
        body, status = render("stages/index.html", "stages/_row.html", part=part, item=item)
        return body, status, CHANGED
    return back(part, map_id, row_id)


@part_route("/{id}/delete", methods=["POST"])
@guard("edit")
def delete(map_id: int, **ids):
    """Soft-delete a stage (its touchpoints go with it) or a channel; an undo notice follows."""
    part, p, row_id = current_part(ids)
    item = get_part_or_404(p.model, row_id)
    label = f"{p.noun} “{item.name}”"
    deletion = store.soft_delete([item], map_id, current_user.id, label)
    db.session.commit()
    flash_undo(
        deletion, _("Deleted: %(label)s", label=label), url_for("stages.index", map_id=map_id)
    )
    if wants_fragment():
        return section(part, map_id, headers=CHANGED)
    return back(part, map_id)


@part_route("/{id}/move", methods=["POST"])
@guard("edit")
def move(map_id: int, **ids):
    """Move a stage or channel one place up or down (the keyboard-friendly reorder)."""
    part, p, row_id = current_part(ids)
    item = get_part_or_404(p.model, row_id)
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(422)
    moved = store.move(p.model, item, direction)
    db.session.commit()
    if wants_fragment():
        focus = f"{p.prefix}-{row_id}-{direction}"
        return section(part, map_id, headers=CHANGED if moved else None, focus=focus)
    return back(part, map_id, row_id)


@part_route("/order", methods=["POST"])
@guard("edit")
def order(map_id: int):
    """Store a whole new order (drag and drop): `order` = the ids, comma-separated, first first."""
    part, p, _row_id = current_part({})
    try:
        ids = [int(x) for x in request.form.get("order", "").split(",") if x.strip()]
    except ValueError:
        abort(422)
    if not store.reorder(p.model, map_id, ids):
        # Someone added or removed a row meanwhile: the client reloads and tries again.
        return {"error": _("The list changed meanwhile; reload.")}, 409
    db.session.commit()
    if wants_fragment():
        return section(part, map_id, headers=CHANGED)
    return "", 204, CHANGED
