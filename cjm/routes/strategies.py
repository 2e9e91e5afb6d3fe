"""Step 5, optimization strategies: the list ranked by ICE with its status filter, the impact ×
effort matrix, a strategy's page with its barriers and experiments, and its forms. Queries live in
cjm.strategies; the ICE formula and the matrix placement in cjm.journey.ice."""

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from .. import barriers as barrier_rules
from .. import store
from .. import strategies as rules
from ..access import get_part_or_404, guard
from ..extensions import db
from ..forms import choices
from ..journey import ice
from ..models import Strategy
from ..web import flash_undo, render, wants_fragment
from .barriers import CheckboxesField, where

bp = Blueprint("strategies", __name__)

STATUS_LABELS = {
    "idea": _l("Idea"),
    "planned": _l("Planned"),
    "in-progress": _l("In progress"),
    "done": _l("Done"),
    "dropped": _l("Dropped"),
}
QUADRANT_LABELS = {
    "quick-win": _l("Quick wins"),
    "big-bet": _l("Big bets"),
    "fill-in": _l("Fill-ins"),
    "money-pit": _l("Money pits"),
}
QUADRANT_HINTS = {
    "quick-win": _l("high impact, low effort: do these first"),
    "big-bet": _l("high impact, high effort: plan them"),
    "fill-in": _l("low impact, low effort: when there is time"),
    "money-pit": _l("low impact, high effort: avoid"),
}
VERDICT_LABELS = {"won": _l("Won"), "lost": _l("Lost"), "inconclusive": _l("Inconclusive")}
EXPERIMENT_STATUS_LABELS = {
    "planned": _l("Planned"),
    "running": _l("Running"),
    "closed": _l("Closed"),
}
SCALE_ENDS = {
    "impact": (_l("1 · low"), _l("10 · high")),
    "confidence": (_l("1 · a guess"), _l("10 · sure")),
    "effort": (_l("1 · little"), _l("10 · a lot")),
}
assert tuple(STATUS_LABELS) == ice.STATUSES
assert tuple(QUADRANT_LABELS) == ice.QUADRANTS
assert tuple(VERDICT_LABELS) == rules.VERDICTS


def scale_choices(name: str) -> list[SelectChoice]:
    """1–10 for impact, confidence or effort; the ends say what they mean."""
    low, high = SCALE_ENDS[name]
    labels = {n: str(n) for n in ice.SCALE} | {1: low, 10: high}
    return [SelectChoice(n, label) for n, label in labels.items()]


class StrategyForm(FlaskForm):
    version = HiddenField()
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    owner = StringField(_l("Owner"), validators=[Length(max=120)])
    impact = SelectField(_l("Impact"), coerce=int, default=5)
    confidence = SelectField(_l("Confidence"), coerce=int, default=5)
    effort = SelectField(_l("Effort"), coerce=int, default=5)
    status = SelectField(_l("Status"), choices=choices(STATUS_LABELS), default="idea")
    barriers = CheckboxesField(
        _l("Barriers it addresses"),
        coerce=int,
        validators=[DataRequired(_l("Choose at least one barrier it addresses."))],
    )


def strategy_form(
    barriers: list[barrier_rules.Ranked], row: Strategy | None = None, fill: bool = False, **kw
) -> StrategyForm:
    """A strategy form offering the map's live barriers (a forged id is not a valid choice:
    422 next to the field); `fill` shows the row's saved values."""
    form = StrategyForm(prefix=f"strategy-{row.id}" if row else "strategy-new", **kw)
    for name in ("impact", "confidence", "effort"):
        getattr(form, name).choices = scale_choices(name)
    form.barriers.choices = [
        SelectChoice(b.row.id, f"{b.row.title} · {where(b)}") for b in barriers
    ]
    if fill:
        form.version.data = str(row.version)
        form.barriers.data = rules.barrier_ids(row.id)
    return form


def save(row: Strategy, form: StrategyForm, barriers: list[barrier_rules.Ranked]) -> None:
    """Copy a valid form into the row and its barrier links (caller commits)."""
    row.title = form.title.data.strip()
    row.description = (form.description.data or "").strip()
    row.owner = (form.owner.data or "").strip()
    row.impact, row.confidence, row.effort = (
        form.impact.data,
        form.confidence.data,
        form.effort.data,
    )
    row.status = form.status.data
    db.session.flush()
    rules.set_barriers(row, form.barriers.data or [], [b.row.id for b in barriers])


def ice_text(value: int) -> str:
    """An ICE score in the locale's digits."""
    return format_decimal(value, "#,##0")


@bp.context_processor
def strategy_globals():
    """Names every strategy template uses."""
    from .barriers import STATUS_LABELS as BARRIER_STATUS_LABELS

    return {
        "can_edit": g.get("role") in ("editor", "owner"),
        "status_labels": STATUS_LABELS,
        "quadrant_labels": QUADRANT_LABELS,
        "quadrant_hints": QUADRANT_HINTS,
        "verdict_labels": VERDICT_LABELS,
        "experiment_status_labels": EXPERIMENT_STATUS_LABELS,
        "barrier_status_labels": BARRIER_STATUS_LABELS,
        "ice_text": ice_text,
        "where": where,
    }


# --- the ranked list --------------------------------------------------------------------------


def chosen_status() -> str:
    """The valid status filter of this request ("" for all)."""
    status = request.values.get("status", "")
    return status if status in STATUS_LABELS else ""


def list_context(map_id: int, form: StrategyForm | None = None, **extra) -> dict:
    """What the strategies page and its #strategies fragment need."""
    journey = store.load_journey(map_id)
    barriers = barrier_rules.ranked(journey, with_segments=False)
    found = rules.scored(journey, barriers)
    wanted = chosen_status()
    shown = [s for s in found if s.row.status == (wanted or s.row.status)]
    frame = ice.Frame()
    dots = ice.place([(s.row.id, s.row.impact, s.row.effort, s.row.title) for s in shown], frame)
    return {
        "journey": journey,
        "strategies": shown,
        "total": len(found),
        "wanted": wanted,
        "barriers": barriers,
        "form": form or strategy_form(barriers, formdata=None),
        "frame": frame,
        "dots": dict(zip([s.row.id for s in shown], dots, strict=True)),
        **extra,
    }


def list_answer(map_id: int, status: int = 200, form: StrategyForm | None = None):
    """The strategies page, or for htmx its #strategies section with pending notices."""
    ctx = list_context(map_id, form)
    if wants_fragment():
        body = render_template("strategies/_strategies.html", **ctx)
        return body + render_template("barriers/_oob_notices.html"), status
    return render("strategies/index.html", status=status, **ctx)


def to_list(map_id: int, anchor: str | None = None):
    """The no-JS answer after a write on the list: 303 back to it, the filter kept."""
    keep = {"status": chosen_status()} if chosen_status() else {}
    return redirect(url_for("strategies.index", map_id=map_id, **keep, _anchor=anchor), 303)


@bp.route("/maps/<int:map_id>/strategies")
@guard("view")
def index(map_id: int):
    """The map's strategies ranked by ICE, filterable by status, on the impact × effort matrix."""
    return list_answer(map_id)


@bp.route("/maps/<int:map_id>/strategies/new", methods=["GET", "POST"])
@guard("edit")
def new(map_id: int):
    """Propose a strategy against one or more barriers (?barrier=ID pre-checks one)."""
    journey = store.load_journey(map_id)
    barriers = barrier_rules.ranked(journey, with_segments=False)
    form = strategy_form(barriers)
    page = {"journey": journey, "barriers": barriers}
    if request.method == "GET":
        wanted = request.args.get("barrier", type=int)
        form.barriers.data = [b.row.id for b in barriers if b.row.id == wanted]
        return render("strategies/new.html", form=form, **page)
    if not form.validate():
        if wants_fragment():
            return list_answer(map_id, 422, form)
        return render("strategies/new.html", status=422, form=form, **page)
    row = Strategy(
        journey_id=map_id,
        key=store.new_key(Strategy, map_id, form.title.data.strip(), "strategy"),
    )
    db.session.add(row)
    save(row, form, barriers)
    db.session.commit()
    flash(_("Strategy “%(title)s” proposed.", title=row.title), "success")
    if wants_fragment():
        return list_answer(map_id)
    return redirect(url_for("strategies.show", map_id=map_id, strategy_id=row.id), 303)


# --- one strategy -----------------------------------------------------------------------------


@bp.route("/maps/<int:map_id>/strategies/<int:strategy_id>")
@guard("view")
def show(map_id: int, strategy_id: int):
    """One strategy: its ICE with the inputs, its quadrant, its barriers and experiments."""
    row = get_part_or_404(Strategy, strategy_id)
    journey = store.load_journey(map_id)
    found = rules.scored(journey)
    s = next(s for s in found if s.row.id == row.id)
    return render("strategies/show.html", journey=journey, s=s, total=len(found))


@bp.route("/maps/<int:map_id>/strategies/<int:strategy_id>/edit", methods=["GET", "POST"])
@guard("edit")
def edit(map_id: int, strategy_id: int):
    """Edit a strategy; a stale version answers 409 with the saved values, nothing overwritten."""
    row = get_part_or_404(Strategy, strategy_id)
    journey = store.load_journey(map_id)
    barriers = barrier_rules.ranked(journey, with_segments=False)
    page = {"journey": journey, "row": row, "barriers": barriers}
    if request.method == "GET":
        return render(
            "strategies/edit.html", form=strategy_form(barriers, row, True, obj=row), **page
        )
    form = strategy_form(barriers, row)
    if not form.validate():
        return render("strategies/edit.html", status=422, form=form, **page)
    if form.version.data != str(row.version):
        fresh = strategy_form(barriers, row, True, formdata=None, obj=row)
        return render("strategies/edit.html", status=409, form=fresh, stale=True, **page)
    save(row, form, barriers)
    db.session.commit()
    flash(_("Strategy saved."), "success")
    return redirect(url_for("strategies.show", map_id=map_id, strategy_id=row.id), 303)


@bp.route("/maps/<int:map_id>/strategies/<int:strategy_id>/delete", methods=["POST"])
@guard("edit")
def delete(map_id: int, strategy_id: int):
    """Hide a strategy (its barrier links and experiments stay for undo); an undo notice follows."""
    row = get_part_or_404(Strategy, strategy_id)
    label = _("strategy “%(title)s”", title=row.title)
    deletion = store.soft_delete([row], map_id, current_user.id, label)
    db.session.commit()
    flash_undo(
        deletion, _("Deleted: %(label)s", label=label), url_for("strategies.index", map_id=map_id)
    )
    if wants_fragment():
        return list_answer(map_id)
    return to_list(map_id)
