"""Step 6, KPIs: the business figures a map follows over time (inbound requests, buyers, repeat
sales, retention, LTV, custom), their readings, and a sparkline per KPI. Closed experiments add
readings here (cjm.experiments.close); the team adds and deletes its own."""

from datetime import date, timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.validators import ValidationError as FieldError

from .. import experiments as rules
from .. import store
from ..access import get_part_or_404, guard
from ..extensions import db
from ..forms import choices
from ..journey import model as dm
from ..models import Kpi, KpiValue
from ..web import flash_undo, render, wants_fragment
from .experiments import NumberField

bp = Blueprint("kpis", __name__)

KIND_LABELS = {
    "inbound-requests": _l("Inbound requests"),
    "buyers": _l("Buyers"),
    "repeat-sales": _l("Repeat sales"),
    "retention": _l("Retention"),
    "ltv": _l("Customer lifetime value (LTV)"),
    "custom": _l("Custom"),
}
DIRECTION_LABELS = {"up": _l("Higher is better"), "down": _l("Lower is better")}
assert set(KIND_LABELS) == set(dm.KPI_KINDS)


class KpiForm(FlaskForm):
    version = HiddenField()
    kind = SelectField(_l("Kind"), choices=choices(KIND_LABELS), default="inbound-requests")
    name = StringField(
        _l("Name"),
        validators=[Length(max=120)],
        description=_l("Left empty, the kind's name is used."),
    )
    unit = StringField(
        _l("Unit"), validators=[Length(max=16)], description=_l("e.g. %, ₽, customers")
    )
    direction = SelectField(_l("Direction"), choices=choices(DIRECTION_LABELS), default="up")


def not_in_future(form, field):
    """A reading is of a day that has come (tomorrow allowed: time zones)."""
    if field.data and field.data > date.today() + timedelta(days=1):
        raise FieldError(_("The date is in the future."))


class ReadingForm(FlaskForm):
    measured_on = DateField(_l("Date"), validators=[DataRequired(), not_in_future])
    value = NumberField(_l("Value"), validators=[DataRequired(_l("Type the value."))])


def kpi_form(row: Kpi | None = None, fill: bool = False, **kwargs) -> KpiForm:
    """The KPI form, for a new KPI or (`fill`) showing a row's saved values."""
    form = KpiForm(prefix=f"kpi-{row.id}" if row else "kpi-new", **kwargs)
    if fill:
        form.version.data = str(row.version)
        form.direction.data = "up" if row.higher_is_better else "down"
    return form


def reading_form(kpi: Kpi, **kwargs) -> ReadingForm:
    """The add-a-reading form of one KPI (prefixed, so several sit on one page)."""
    form = ReadingForm(prefix=f"reading-{kpi.id}", **kwargs)
    if form.measured_on.data is None and not form.measured_on.raw_data:
        form.measured_on.data = date.today()
    return form


def value_text(kpi: Kpi, value: float | None) -> str:
    """A reading in the locale's digits with the KPI's unit."""
    if value is None:
        return "—"
    return format_decimal(value, "#,##0.##") + (f" {kpi.unit}" if kpi.unit else "")


def change_text(kpi: Kpi, values: list[KpiValue]) -> str:
    """The change of the latest reading from the one before, signed ("+20 %" style in the unit)."""
    if len(values) < 2:
        return ""
    delta = values[-1].value - values[-2].value
    sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
    return sign + format_decimal(abs(delta), "#,##0.##") + (f" {kpi.unit}" if kpi.unit else "")


def trend(kpi: Kpi, values: list[KpiValue]) -> str:
    """good / bad / flat: the last change judged by the KPI's direction."""
    if len(values) < 2 or values[-1].value == values[-2].value:
        return "flat"
    up = values[-1].value > values[-2].value
    return "good" if up == kpi.higher_is_better else "bad"


def spark_title(kpi: Kpi, values: list[KpiValue]) -> str:
    """The sparkline's accessible title: the latest value, its date and the last change."""
    if not values:
        return _("%(name)s: no readings yet", name=kpi.name)
    latest = values[-1]
    text = _(
        "%(name)s: %(value)s on %(date)s",
        name=kpi.name,
        value=value_text(kpi, latest.value),
        date=format_date(latest.measured_on),
    )
    if len(values) > 1:
        text += ", " + _("%(change)s since the reading before", change=change_text(kpi, values))
    return text


@bp.context_processor
def kpi_globals():
    """Names every KPI template uses."""
    return {
        "can_edit": g.get("role") in ("editor", "owner"),
        "kind_labels": KIND_LABELS,
        "value_text": value_text,
        "change_text": change_text,
        "trend": trend,
        "spark_title": spark_title,
        "spark": lambda values: rules.spark([v.value for v in values]),
        "format_date": format_date,
    }


def cards(map_id: int, forms: dict | None = None, errors: dict | None = None) -> list[dict]:
    """Each live KPI with its readings (one query), the experiments that wrote some, and its
    add-a-reading form."""
    rows = rules.kpis(map_id)
    found = rules.readings([k.id for k in rows])
    names = rules.experiment_names({v.experiment_id for vs in found.values() for v in vs} - {None})
    forms = forms or {}
    return [
        {
            "kpi": k,
            "readings": found[k.id],
            "form": forms.get(k.id) or reading_form(k, formdata=None),
            "experiments": names,
        }
        for k in rows
    ]


def page(map_id: int, status: int = 200, form: KpiForm | None = None, forms=None):
    """The KPIs page."""
    journey = store.load_journey(map_id)
    return render(
        "kpis/index.html",
        status=status,
        journey=journey,
        cards=cards(map_id, forms),
        form=form or kpi_form(formdata=None),
    )


@bp.route("/maps/<int:map_id>/kpis")
@guard("view")
def index(map_id: int):
    """The map's KPIs, each with its readings over time and a sparkline."""
    return page(map_id)


def save(row: Kpi, form: KpiForm) -> None:
    """Copy a valid form into the row (caller commits)."""
    row.kind = form.kind.data
    row.name = (form.name.data or "").strip() or str(KIND_LABELS[row.kind])
    row.unit = (form.unit.data or "").strip()
    row.higher_is_better = form.direction.data == "up"


@bp.route("/maps/<int:map_id>/kpis/new", methods=["POST"])
@guard("edit")
def new(map_id: int):
    """Add a KPI to the map (422 with the form's messages on the page)."""
    form = kpi_form()
    if not form.validate():
        return page(map_id, 422, form=form)
    row = Kpi(journey_id=map_id, position=store.next_position(Kpi, map_id))
    save(row, form)
    row.key = store.new_key(Kpi, map_id, row.name, "kpi")
    db.session.add(row)
    db.session.commit()
    flash(_("KPI “%(name)s” added.", name=row.name), "success")
    return redirect(url_for("kpis.index", map_id=map_id, _anchor=f"kpi-{row.id}"), 303)


@bp.route("/maps/<int:map_id>/kpis/<int:kpi_id>/edit", methods=["GET", "POST"])
@guard("edit")
def edit(map_id: int, kpi_id: int):
    """Rename a KPI or change its kind, unit or direction; stale version → 409."""
    row = get_part_or_404(Kpi, kpi_id)
    journey = store.load_journey(map_id)
    ctx = {"journey": journey, "row": row}
    if request.method == "GET":
        return render("kpis/edit.html", form=kpi_form(row, fill=True, obj=row), **ctx)
    form = kpi_form(row)
    if not form.validate():
        return render("kpis/edit.html", status=422, form=form, **ctx)
    if form.version.data != str(row.version):
        fresh = kpi_form(row, fill=True, formdata=None, obj=row)
        return render("kpis/edit.html", status=409, form=fresh, stale=True, **ctx)
    save(row, form)
    db.session.commit()
    flash(_("KPI saved."), "success")
    return redirect(url_for("kpis.index", map_id=map_id, _anchor=f"kpi-{row.id}"), 303)


@bp.route("/maps/<int:map_id>/kpis/<int:kpi_id>/delete", methods=["POST"])
@guard("edit")
def delete(map_id: int, kpi_id: int):
    """Hide a KPI with its readings; an undo notice follows."""
    row = get_part_or_404(Kpi, kpi_id)
    label = _("KPI “%(name)s”", name=row.name)
    deletion = store.soft_delete([row], map_id, current_user.id, label)
    db.session.commit()
    flash_undo(deletion, _("Deleted: %(label)s", label=label), url_for("kpis.index", map_id=map_id))
    return redirect(url_for("kpis.index", map_id=map_id), 303)


def card_answer(map_id: int, kpi: Kpi, status: int = 200, form: ReadingForm | None = None):
    """After a reading changed: the KPI's card for htmx, else 303 back to it (the page with
    the form's messages on 422)."""
    if wants_fragment():
        card = next(c for c in cards(map_id, {kpi.id: form} if form else None) if c["kpi"] == kpi)
        journey = store.load_journey(map_id)
        body = render_template("kpis/_card.html", journey=journey, c=card)
        return body + render_template("kpis/_oob_notices.html"), status
    if status != 200:
        return page(map_id, status, forms={kpi.id: form})
    return redirect(url_for("kpis.index", map_id=map_id, _anchor=f"kpi-{kpi.id}"), 303)


@bp.route("/maps/<int:map_id>/kpis/<int:kpi_id>/values", methods=["POST"])
@guard("edit")
def add_value(map_id: int, kpi_id: int):
    """Add a reading to a KPI."""
    kpi = get_part_or_404(Kpi, kpi_id)
    form = reading_form(kpi)
    if not form.validate():
        return card_answer(map_id, kpi, 422, form)
    db.session.add(
        KpiValue(kpi_id=kpi.id, measured_on=form.measured_on.data, value=form.value.number)
    )
    db.session.commit()
    return card_answer(map_id, kpi)


@bp.route("/maps/<int:map_id>/kpis/<int:kpi_id>/values/<int:value_id>/delete", methods=["POST"])
@guard("edit")
def delete_value(map_id: int, kpi_id: int, value_id: int):
    """Delete a reading for good (a mistyped figure; an experiment's reading too)."""
    kpi = get_part_or_404(Kpi, kpi_id)
    value = db.session.get(KpiValue, value_id)
    if value is None or value.kpi_id != kpi.id:
        abort(404)
    text = value_text(kpi, value.value)
    db.session.delete(value)
    db.session.commit()
    flash(_("Reading %(value)s deleted.", value=text))
    return card_answer(map_id, kpi)
