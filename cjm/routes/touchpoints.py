"""Touchpoints (the graph's nodes) and transitions (its edges): create, edit in place on the
board, soft-delete with undo. Every answer is a board fragment for htmx (with
`HX-Trigger: journey-changed`) or a 303 back without JS."""

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from .. import evidence, store
from ..access import get_part_or_404, guard
from ..extensions import db
from ..forms import choices
from ..journey import model as dm
from ..models import Touchpoint, Transition
from ..web import flash_undo, render, wants_fragment
from .board import EMOTION_LABELS, TOUCHPOINT_KIND_LABELS, TRANSITION_KIND_LABELS, board_globals
from .board import board_model as build_board
from .stages import with_notices

bp = Blueprint("touchpoints", __name__)
bp.context_processor(board_globals)
CHANGED = {"HX-Trigger": "journey-changed"}
TEXT = [Length(max=5000)]


def emotion_value(value) -> str:
    """Coerce an emotion (None, int or form text) to the select's string value."""
    return "" if value is None else str(value)


class TouchpointForm(FlaskForm):
    version = HiddenField()
    stage_id = SelectField(_l("Stage"), coerce=int)
    channel_id = SelectField(_l("Channel"), coerce=int)
    kind = SelectField(_l("Kind"), choices=choices(TOUCHPOINT_KIND_LABELS), default="step")
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=TEXT)
    action = TextAreaField(_l("Customer action"), validators=TEXT)
    goal = TextAreaField(_l("Customer goal"), validators=TEXT)
    thought = TextAreaField(_l("Thought (a quote)"), validators=TEXT)
    emotion = SelectField(_l("Emotion"), choices=choices(EMOTION_LABELS), coerce=emotion_value)


class TransitionForm(FlaskForm):
    version = HiddenField()
    target_id = SelectField(_l("Goes to"), coerce=int)
    kind = SelectField(_l("Kind"), choices=choices(TRANSITION_KIND_LABELS), default="main")
    label = StringField(_l("Label (condition)"), validators=[Length(max=200)])
    volume = IntegerField(
        _l("Volume (customers)"),
        validators=[Optional(), NumberRange(min=0, message=_l("Volume cannot be negative."))],
    )


def touchpoint_form(journey: dm.Journey, prefix: str, **kwargs) -> TouchpointForm:
    """A touchpoint form whose stage and channel choices are this map's (a forged id is invalid)."""
    form = TouchpointForm(prefix=prefix, **kwargs)
    form.stage_id.choices = choices({s.id: s.name for s in journey.stages})
    form.channel_id.choices = choices({c.id: c.name for c in journey.channels})
    return form


def transition_form(journey: dm.Journey, prefix: str, **kwargs) -> TransitionForm:
    """A transition form whose targets are this map's touchpoints, grouped by stage."""
    form = TransitionForm(prefix=prefix, **kwargs)
    stage_names = {s.key: s.name for s in journey.stages}
    order = {s.key: i for i, s in enumerate(journey.stages)}
    by_stage = sorted(
        journey.touchpoints, key=lambda tp: order[tp.stage]
    )  # stable: keeps positions
    form.target_id.choices = [
        SelectChoice(tp.id, tp.name, optgroup=stage_names[tp.stage]) for tp in by_stage
    ]
    return form


def check_transition(
    form: TransitionForm, source_id: int, transition_id: int | None = None
) -> bool:
    """Refuse self-loops and a second transition between the same two touchpoints."""
    if form.target_id.data == source_id:
        form.target_id.errors.append(_("A transition must lead to another touchpoint."))
        return False
    duplicate = db.session.scalar(
        select(Transition.id).where(
            Transition.source_id == source_id,
            Transition.target_id == form.target_id.data,
            Transition.deletion_id.is_(None),
            Transition.id != (transition_id or 0),
        )
    )
    if duplicate:
        form.target_id.errors.append(_("These two touchpoints are already connected."))
        return False
    return True


def save_touchpoint(row: Touchpoint, form: TouchpointForm) -> None:
    """Copy the form into the row."""
    row.stage_id, row.channel_id = form.stage_id.data, form.channel_id.data
    row.kind = form.kind.data
    row.name = form.name.data.strip()
    for name in ("description", "action", "goal", "thought"):
        setattr(row, name, (getattr(form, name).data or "").strip())
    row.emotion = int(form.emotion.data) if form.emotion.data else None
    if row.id is not None:
        evidence.sync_touchpoint(row)  # its observations are aggregated by stage and channel


def save_transition(row: Transition, form: TransitionForm) -> None:
    """Copy the form into the row."""
    row.target_id = form.target_id.data
    row.kind = form.kind.data
    row.label = (form.label.data or "").strip()
    row.volume = form.volume.data


def context(map_id: int, touchpoint_id: int | None = None) -> dict:
    """Journey, board model and (when asked) the touchpoint in it: 404 if it is not on the board."""
    journey = store.load_journey(map_id)
    ctx = {"journey": journey, "board": build_board(journey)}
    if touchpoint_id is not None:
        tp = next((t for t in journey.touchpoints if t.id == touchpoint_id), None)
        if tp is None:  # hidden with its stage or channel
            abort(404)
        ctx["tp"] = tp
    return ctx


def cell_of(ctx: dict, stage_id: int, channel_id: int) -> dict | None:
    """The stage and channel of a board cell by ids, or None."""
    journey = ctx["journey"]
    stage = next((s for s in journey.stages if s.id == stage_id), None)
    channel = next((c for c in journey.channels if c.id == channel_id), None)
    return {"stage": stage, "channel": channel} if stage and channel else None


def to_board(map_id: int, anchor: str | None = None):
    """The no-JS answer after a write: 303 to the board, at the card when there is one."""
    return redirect(url_for("board.show", map_id=map_id, _anchor=anchor), 303)


def undo_notice(label: str, deletion) -> None:
    """Offer to undo a deletion."""
    flash_undo(
        deletion, _("Deleted: %(label)s", label=label), url_for("board.show", map_id=g.journey.id)
    )


def edit_context(ctx: dict, tp: dm.Touchpoint, form=None, tr_form=None, **extra) -> dict:
    """What the touchpoint editor (its fields plus its transitions) needs."""
    journey = ctx["journey"]
    if form is None:
        row = db.session.get(Touchpoint, tp.id)
        form = touchpoint_form(journey, f"tp-{tp.id}", formdata=None, obj=row)
        form.version.data = str(row.version)
    if tr_form is None:
        tr_form = transition_form(journey, f"tr-new-{tp.id}", formdata=None)
    return {**ctx, "tp": tp, "form": form, "tr_form": tr_form, **extra}


@bp.route("/maps/<int:map_id>/touchpoints/new", methods=["GET", "POST"])
@guard("edit")
def new(map_id: int):
    """Create a touchpoint; `stage` and `channel` in the query preset its cell on the board."""
    ctx = context(map_id)
    origin = cell_of(
        ctx, request.args.get("stage", type=int), request.args.get("channel", type=int)
    )
    prefix = f"tp-new-{origin['stage'].id}-{origin['channel'].id}" if origin else "tp-new"
    form = touchpoint_form(ctx["journey"], prefix)
    if request.method == "GET" and origin:
        form.stage_id.data, form.channel_id.data = origin["stage"].id, origin["channel"].id
    ctx.update(form=form, origin=origin)
    if request.method == "GET":
        return render("touchpoints/new.html", "touchpoints/_new.html", **ctx)
    if not form.validate():
        if origin and wants_fragment():
            # The form lives in its cell: answer the cell, with the form and its messages.
            return render(
                "board/show.html", "board/_cell.html", 422, new_form=form, **origin, **ctx
            )
        return render("touchpoints/new.html", "touchpoints/_new.html", 422, **ctx)
    row = Touchpoint(
        journey_id=map_id,
        key=store.new_key(Touchpoint, map_id, form.name.data.strip(), "tp"),
        position=store.next_position(Touchpoint, map_id),
    )
    save_touchpoint(row, form)
    db.session.add(row)
    db.session.commit()
    if not wants_fragment():
        return to_board(map_id, f"tp-{row.key}")
    return cells_response(map_id, origin, row)


def cells_response(map_id: int, origin: dict | None, row: Touchpoint):
    """After a create or a move: the cell the form was in (retargeted there, since an edit form
    sits in a card), plus the touchpoint's new cell out of band when that is another one."""
    ctx = context(map_id)
    target = cell_of(ctx, row.stage_id, row.channel_id)
    main = origin or target
    body = render_template("board/_cell.html", **ctx, **main)
    if target and target != main:
        body += render_template("board/_cell.html", oob=True, **ctx, **target)
    return body, 200, {**CHANGED, "HX-Retarget": cell_selector(main)}


def cell_selector(cell: dict) -> str:
    """The CSS selector of a board cell."""
    return f"#cell-{cell['stage'].id}-{cell['channel'].id}"


@bp.route("/maps/<int:map_id>/touchpoints/<int:touchpoint_id>")
@guard("view")
def card(map_id: int, touchpoint_id: int):
    """One card (htmx: cancel an edit); without JS, the board at that card."""
    get_part_or_404(Touchpoint, touchpoint_id)
    ctx = context(map_id, touchpoint_id)
    if not wants_fragment():
        return to_board(map_id, f"tp-{ctx['tp'].key}")
    return render("board/show.html", "board/_card.html", **ctx)


@bp.route("/maps/<int:map_id>/touchpoints/<int:touchpoint_id>/edit", methods=["GET", "POST"])
@guard("edit")
def edit(map_id: int, touchpoint_id: int):
    """Edit a touchpoint in place (a card becomes its form); stale versions answer 409."""
    row = get_part_or_404(Touchpoint, touchpoint_id)
    ctx = context(map_id, touchpoint_id)
    pages = ("touchpoints/edit.html", "touchpoints/_edit.html")
    if request.method == "GET":
        return render(*pages, **edit_context(ctx, ctx["tp"]))
    form = touchpoint_form(ctx["journey"], f"tp-{row.id}")
    if not form.validate():
        return render(*pages, 422, **edit_context(ctx, ctx["tp"], form))
    if form.version.data != str(row.version):
        return render(*pages, 409, stale=True, **edit_context(ctx, ctx["tp"]))
    moved = (row.stage_id, row.channel_id) != (form.stage_id.data, form.channel_id.data)
    origin = cell_of(ctx, row.stage_id, row.channel_id)
    save_touchpoint(row, form)
    db.session.commit()
    if not wants_fragment():
        return to_board(map_id, f"tp-{row.key}")
    if moved:
        return cells_response(map_id, origin, row)
    body, status = render(*pages[:1], "board/_card.html", **context(map_id, touchpoint_id))
    return body, status, CHANGED


@bp.route("/maps/<int:map_id>/touchpoints/<int:touchpoint_id>/delete", methods=["POST"])
@guard("edit")
def delete(map_id: int, touchpoint_id: int):
    """Soft-delete a touchpoint (its transitions drop out with it); an undo notice follows."""
    row = get_part_or_404(Touchpoint, touchpoint_id)
    origin = cell_of(context(map_id), row.stage_id, row.channel_id)
    label = _("touchpoint “%(name)s”", name=row.name)
    undo_notice(label, store.soft_delete([row], map_id, current_user.id, label))
    db.session.commit()
    if not wants_fragment() or origin is None:
        return to_board(map_id)
    body = render_template("board/_cell.html", **context(map_id), **origin)
    return with_notices(body), 200, {**CHANGED, "HX-Retarget": cell_selector(origin)}


def transitions_section(map_id: int, tp_id: int, status: int = 200, headers=None, **forms):
    """The transitions editor of one touchpoint, or its whole edit page without JS."""
    ctx = context(map_id, tp_id)
    body, status = render(
        "touchpoints/edit.html",
        "touchpoints/_transitions.html",
        status,
        **edit_context(ctx, ctx["tp"], tr_form=forms.get("tr_form")),
    )
    return with_notices(body), status, headers or {}


@bp.route("/maps/<int:map_id>/touchpoints/<int:touchpoint_id>/transitions", methods=["POST"])
@guard("edit")
def add_transition(map_id: int, touchpoint_id: int):
    """Connect this touchpoint to another: target, kind, label, volume."""
    source = get_part_or_404(Touchpoint, touchpoint_id)
    ctx = context(map_id, touchpoint_id)
    form = transition_form(ctx["journey"], f"tr-new-{source.id}")
    if not (form.validate() and check_transition(form, source.id)):
        return transitions_section(map_id, source.id, 422, tr_form=form)
    target = db.session.get(Touchpoint, form.target_id.data)
    row = Transition(
        journey_id=map_id,
        key=store.new_key(Transition, map_id, f"{source.key}-{target.key}", "tr"),
        source_id=source.id,
    )
    save_transition(row, form)
    db.session.add(row)
    db.session.commit()
    if not wants_fragment():
        return redirect(url_for("touchpoints.edit", map_id=map_id, touchpoint_id=source.id), 303)
    return transitions_section(map_id, source.id, headers=CHANGED)


def transition_context(map_id: int, row: Transition) -> dict:
    """A transition as the board sees it: the domain edge, its source and target."""
    ctx = context(map_id, row.source_id)
    pair = next(
        ((t, tgt) for t, tgt in ctx["board"].outgoing.get(ctx["tp"].key, []) if t.id == row.id),
        None,
    )
    if pair is None:
        abort(404)
    return {**ctx, "tr": pair[0], "target": pair[1]}


@bp.route("/maps/<int:map_id>/transitions/<int:transition_id>")
@guard("view")
def transition(map_id: int, transition_id: int):
    """One transition row (htmx: cancel an edit); without JS, its touchpoint's page."""
    row = get_part_or_404(Transition, transition_id)
    if not wants_fragment():
        return redirect(
            url_for("touchpoints.edit", map_id=map_id, touchpoint_id=row.source_id), 303
        )
    return render(
        "board/show.html", "touchpoints/_transition.html", **transition_context(map_id, row)
    )


@bp.route("/maps/<int:map_id>/transitions/<int:transition_id>/edit", methods=["GET", "POST"])
@guard("edit")
def edit_transition(map_id: int, transition_id: int):
    """Edit a transition in place; self-loops and duplicates are refused, stale versions 409."""
    row = get_part_or_404(Transition, transition_id)
    ctx = transition_context(map_id, row)
    pages = ("touchpoints/transition_edit.html", "touchpoints/_transition_edit.html")
    prefix = f"tr-{row.id}"
    if request.method == "GET":
        form = transition_form(ctx["journey"], prefix, obj=row)
        form.version.data = str(row.version)
        return render(*pages, form=form, **ctx)
    form = transition_form(ctx["journey"], prefix)
    if not (form.validate() and check_transition(form, row.source_id, row.id)):
        return render(*pages, 422, form=form, **ctx)
    if form.version.data != str(row.version):
        fresh = transition_form(ctx["journey"], prefix, formdata=None, obj=row)
        fresh.version.data = str(row.version)
        return render(*pages, 409, form=fresh, stale=True, **ctx)
    save_transition(row, form)
    db.session.commit()
    if not wants_fragment():
        return redirect(
            url_for("touchpoints.edit", map_id=map_id, touchpoint_id=row.source_id), 303
        )
    body, status = render(
        pages[0], "touchpoints/_transition.html", **transition_context(map_id, row)
    )
    return body, status, CHANGED


@bp.route("/maps/<int:map_id>/transitions/<int:transition_id>/delete", methods=["POST"])
@guard("edit")
def delete_transition(map_id: int, transition_id: int):
    """Soft-delete a transition; an undo notice follows."""
    row = get_part_or_404(Transition, transition_id)
    ctx = transition_context(map_id, row)
    label = _(
        "transition “%(source)s → %(target)s”", source=ctx["tp"].name, target=ctx["target"].name
    )
    undo_notice(label, store.soft_delete([row], map_id, current_user.id, label))
    db.session.commit()
    if not wants_fragment():
        return redirect(
            url_for("touchpoints.edit", map_id=map_id, touchpoint_id=row.source_id), 303
        )
    return transitions_section(map_id, row.source_id, headers=CHANGED)
