"""As-is and to-be: "Create to-be map" (a linked copy through the cjm-studio/1 document) and the
comparison page that sets a map beside its partner — emotion curves overlaid, touchpoints and
barriers that changed, the funnel and the evidence per stage. The diff is cjm.journey.compare."""

from dataclasses import dataclass, field

from flask import Blueprint, flash, g, redirect, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from .. import aggregates, documents, store
from ..access import guard
from ..extensions import db
from ..journey import model as dm
from ..journey.analytics import analyze
from ..journey.compare import Comparison, compare
from ..journey.model import ValidationError
from ..models import Journey, Membership
from ..web import render
from .analytics import number, percent
from .board import TOUCHPOINT_KIND_LABELS

bp = Blueprint("compare", __name__)

# Emotion chart geometry (SVG user units): a column per stage, +2 at the top, −2 at the bottom.
COLUMN, TOP, ROW, LEFT = 150, 20, 34, 34
EMOTION_TICKS = range(dm.EMOTION_MAX, dm.EMOTION_MIN - 1, -1)
FIELD_LABELS = {
    "name": _l("name"),
    "stage": _l("stage"),
    "channel": _l("channel"),
    "kind": _l("kind"),
    "emotion": _l("emotion"),
    "action": _l("customer action"),
    "goal": _l("customer goal"),
    "thought": _l("thought"),
    "description": _l("description"),
}
LONG_FIELDS = ("action", "goal", "thought", "description")  # shown as "changed", not quoted
BARRIER_STATUS_LABELS = {
    "open": _l("open"),
    "mitigated": _l("mitigated"),
    "resolved": _l("resolved"),
}


@dataclass
class Series:
    """One map's emotion curve: its points (x, y, value, stage name, from evidence) and the
    polylines joining neighbouring stages that both have a point."""

    name: str
    css: str
    points: list[tuple[float, float, float, str, bool]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


@dataclass
class Chart:
    """The overlaid emotion curves on the shared stage axis."""

    width: int
    height: int
    left: int  # room for the tick labels
    ticks: list[tuple[int, float]]
    labels: list[tuple[float, str]]
    series: list[Series]


def y_of(emotion: float) -> float:
    """The chart's y for an emotion score."""
    return TOP + (dm.EMOTION_MAX - emotion) * ROW


def series_of(result: Comparison, side: str, name: str) -> Series:
    """One side's curve ("before" or "after") over the comparison's stage axis."""
    series = Series(name, side)
    run: list[str] = []
    for i, stage in enumerate([*result.stages, None]):
        emotion = getattr(stage, f"emotion_{side}") if stage else None
        if emotion is None:
            if len(run) > 1:
                series.lines.append(" ".join(run))
            run = []
            continue
        x, y = LEFT + i * COLUMN + COLUMN / 2, y_of(emotion.value)
        series.points.append((x, y, emotion.value, stage.name, emotion.evidence))
        run.append(f"{x:g},{y:g}")
    return series


def chart_of(result: Comparison) -> Chart:
    """Both maps' emotion curves on one chart."""
    return Chart(
        width=LEFT + max(len(result.stages), 1) * COLUMN,
        height=2 * TOP + (dm.EMOTION_MAX - dm.EMOTION_MIN) * ROW + 22,
        left=LEFT,
        ticks=[(e, y_of(e)) for e in EMOTION_TICKS],
        labels=[(LEFT + i * COLUMN + COLUMN / 2, s.name) for i, s in enumerate(result.stages)],
        series=[
            series_of(result, "before", _("As-is")),
            series_of(result, "after", _("To-be")),
        ],
    )


def signed(value: float | None) -> str:
    """A score or a change with its sign, in the locale's digits; — when unknown."""
    if value is None:
        return "—"
    return format_decimal(value, "+#,##0.#;−#,##0.#") if value else format_decimal(0, "0")


def live_partners(row: Journey) -> list[Journey]:
    """The maps to compare with: a to-be map's as-is map, or an as-is map's to-be maps (newest
    first); deleted ones are left out."""
    if row.as_is_id is not None:
        other = db.session.get(Journey, row.as_is_id)
        return [other] if other is not None and other.deletion_id is None else []
    return list(
        db.session.scalars(
            select(Journey)
            .where(Journey.as_is_id == row.id, Journey.deletion_id.is_(None))
            .order_by(Journey.id.desc())
        )
    )


def stage_evidence(journey: dm.Journey) -> dict:
    """The map's evidence figures per stage key."""
    keys = {s.id: s.key for s in journey.stages}
    return {keys[i]: s for i, s in aggregates.per_stage(journey.id).items() if i in keys}


def loaded(map_id: int) -> dm.Journey:
    """A map with its barriers (what the comparison reads)."""
    return store.load_plan(store.load_journey(map_id))


@bp.route("/maps/<int:map_id>/compare")
@guard("view")
def show(map_id: int):
    """The map beside its partner (as-is ↔ to-be), or an empty state to create a to-be map."""
    row = g.journey
    partners = live_partners(row)
    mine = set(
        db.session.scalars(
            select(Membership.journey_id).where(
                Membership.user_id == current_user.id,
                Membership.journey_id.in_([p.id for p in partners]),
            )
        )
    )
    visible = [p for p in partners if p.id in mine]
    chosen = next((p for p in visible if str(p.id) == request.args.get("with")), None)
    partner = chosen or next(iter(visible), None)
    context = {
        "journey": store.load_journey(map_id),
        "is_to_be": row.as_is_id is not None,
        "partner": partner,
        "choices": visible,
        "hidden": bool(partners) and partner is None,
        "can_edit": g.role in ("editor", "owner"),
        "can_create": g.role in ("editor", "owner") and row.state == "as-is",
    }
    if partner is None:
        return render("compare/show.html", **context)
    before_id, after_id = (partner.id, map_id) if context["is_to_be"] else (map_id, partner.id)
    before, after = loaded(before_id), loaded(after_id)
    result = compare(
        before,
        after,
        analyze(before).stages,
        analyze(after).stages,
        stage_evidence(before),
        stage_evidence(after),
    )
    return render(
        "compare/show.html",
        **context,
        before=before,
        after=after,
        result=result,
        chart=chart_of(result),
        field_labels=FIELD_LABELS,
        long_fields=LONG_FIELDS,
        kind_labels=TOUCHPOINT_KIND_LABELS,
        status_labels=BARRIER_STATUS_LABELS,
        signed=signed,
        number=number,
        percent=percent,
    )


@bp.route("/maps/<int:map_id>/to-be", methods=["POST"])
@guard("edit")
def create_to_be(map_id: int):
    """Copy this as-is map as a linked to-be map owned by the user, and open it."""
    if g.journey.state != "as-is":
        flash(_("Only an as-is map can get a to-be map: this one is a to-be map already."))
        return redirect(url_for("compare.show", map_id=map_id), 303)
    title = _("%(title)s — to-be", title=g.journey.title)
    try:
        row = documents.create_to_be(map_id, current_user.id, title)
    except ValidationError:
        flash(_("The map could not be copied: export it as JSON to see what is wrong."))
        return redirect(url_for("compare.show", map_id=map_id), 303)
    flash(_("To-be map “%(title)s” created: change it into the future state.", title=row.title))
    return redirect(url_for("maps.show", map_id=row.id), 303)
