"""Step 6, execution and testing: experiments that test a strategy against one KPI over a
period, with the baseline from current data, the result measured in the period, a significance
check and a verdict; closing one writes the outcome back onto the map. Queries, measurement and
the write-back live in cjm.experiments; the statistics in cjm.journey.stats."""

import math
from datetime import date

from flask import Blueprint, flash, g, redirect, request, url_for
from flask_babel import format_date, format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.validators import ValidationError as FieldError

from .. import experiments as rules
from .. import store
from ..access import get_part_or_404, guard
from ..extensions import db
from ..forms import choices
from ..journey import model as dm
from ..journey import stats
from ..models import Experiment, Kpi, Segment, Strategy
from ..web import flash_undo, render
from .barriers import STATUS_LABELS as BARRIER_STATUS_LABELS

bp = Blueprint("experiments", __name__)

METRIC_LABELS = {
    "transition-conversion": _l("Conversion of a transition"),
    "stage-conversion": _l("Conversion into a stage"),
    "csat": _l("CSAT (1–5)"),
    "nps": _l("NPS (−100…100)"),
    "ces": _l("CES (1–7, lower is easier)"),
    "custom": _l("One of the map's KPIs"),
}
STATUS_LABELS = {"planned": _l("Planned"), "running": _l("Running"), "closed": _l("Closed")}
VERDICT_LABELS = {"won": _l("Won"), "lost": _l("Lost"), "inconclusive": _l("Inconclusive")}
# Which kind of place each metric is measured at (the form's "place" prefixes).
PLACES = {
    "transition-conversion": ("tr",),
    "stage-conversion": ("st",),
    "csat": ("tp", "st"),
    "nps": ("tp", "st"),
    "ces": ("tp", "st"),
    "custom": ("kpi",),
}
NUMBER_MAX = 1e12
assert set(METRIC_LABELS) == set(dm.EXPERIMENT_METRICS)
assert set(VERDICT_LABELS) == set(dm.VERDICTS)


def parse_number(text: str | None) -> float | None:
    """A number typed by hand: decimal comma or point, spaces as thousands separators."""
    text = (text or "").strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if not text:
        return None
    value = float(text)  # ValueError for anything else
    if not math.isfinite(value) or abs(value) > NUMBER_MAX:
        raise ValueError(text)
    return value


class NumberField(StringField):
    """A decimal number (comma or point), empty allowed; `.number` holds the parsed value."""

    number: float | None = None

    def pre_validate(self, form):
        try:
            self.number = parse_number(self.data)
        except ValueError:
            self.number = None
            raise FieldError(_("A number, e.g. 12.5.")) from None


class ExperimentForm(FlaskForm):
    version = HiddenField()
    strategy_id = SelectField(_l("Strategy tested"), validators=[DataRequired(_l("Choose one."))])
    hypothesis = TextAreaField(
        _l("Hypothesis"),
        validators=[DataRequired(), Length(max=2000)],
        description=_l("If we …, then the KPI moves from … to …, because …"),
    )
    metric = SelectField(_l("KPI"), choices=choices(METRIC_LABELS), default="transition-conversion")
    place = SelectField(_l("Measured at"), validators=[DataRequired(_l("Choose where."))])
    segment_id = SelectField(_l("Segment"), default="")
    starts_on = DateField(_l("Starts on"), validators=[Optional()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()])
    baseline = NumberField(_l("Baseline"))
    baseline_n = IntegerField(
        _l("Baseline n"), validators=[Optional(), NumberRange(min=0, max=2**31 - 1)]
    )
    baseline_hits = IntegerField(
        _l("Baseline hits"), validators=[Optional(), NumberRange(min=0, max=2**31 - 1)]
    )
    target = NumberField(_l("Target"))
    status = SelectField(
        _l("Status"),
        choices=choices({k: v for k, v in STATUS_LABELS.items() if k != "closed"}),
        default="planned",
    )


class LearningForm(FlaskForm):
    version = HiddenField()
    learning = TextAreaField(_l("Learning"), validators=[Length(max=2000)])


class CloseForm(FlaskForm):
    version = HiddenField()
    verdict = SelectField(_l("Verdict"), choices=choices(VERDICT_LABELS))
    learning = TextAreaField(
        _l("Learning"),
        validators=[DataRequired(_l("Say what the team learned.")), Length(max=2000)],
    )
    result = NumberField(_l("Result"))
    measured_on = DateField(_l("Measured on"), validators=[Optional()])


def place_of(row: Experiment) -> str:
    """The form value of where an experiment measures: tr-/st-/tp-/kpi-<id>."""
    if row.metric == "custom":
        return f"kpi-{row.kpi_id}" if row.kpi_id else ""
    if row.metric == "transition-conversion":
        return f"tr-{row.transition_id}" if row.transition_id else ""
    if row.touchpoint_id:
        return f"tp-{row.touchpoint_id}"
    return f"st-{row.stage_id}" if row.stage_id else ""


def experiment_form(
    journey: dm.Journey, row: Experiment | None = None, fill: bool = False, **kwargs
) -> ExperimentForm:
    """The experiment form offering this map's strategies, places, segments and KPIs (a forged
    id is not a valid choice: 422 next to the field); `fill` shows the row's saved values."""
    form = ExperimentForm(prefix="experiment", **kwargs)
    choose = SelectChoice("", _("Choose…"))
    form.strategy_id.choices = [choose] + [
        SelectChoice(str(s.id), s.title) for s in rules.strategies(journey.id)
    ]
    names = {tp.key: tp.name for tp in journey.touchpoints}
    edges = [(t.id, f"{names[t.source]} → {names[t.target]}") for t in journey.transitions]
    groups = (
        (_("Transitions"), "tr", edges),
        (_("Stages"), "st", [(s.id, s.name) for s in journey.stages]),
        (_("Touchpoints"), "tp", [(t.id, t.name) for t in journey.touchpoints]),
        (_("KPIs"), "kpi", [(k.id, k.name) for k in rules.kpis(journey.id)]),
    )  # fmt: skip
    form.place.choices = [choose] + [
        SelectChoice(f"{prefix}-{ident}", label, optgroup=str(group))
        for group, prefix, items in groups
        for ident, label in items
    ]
    form.segment_id.choices = [SelectChoice("", _("All customers"))] + [
        SelectChoice(str(s.id), s.name) for s in store.ordered(Segment, journey.id)
    ]
    if fill and row is not None:
        form.version.data = str(row.version)
        form.strategy_id.data = str(row.strategy_id)
        form.place.data = place_of(row)
        form.segment_id.data = str(row.segment_id) if row.segment_id else ""
        form.baseline.data = plain(row.baseline)
        form.target.data = plain(row.target)
    return form


def plain(value: float | None) -> str:
    """A stored number as the form shows it (no trailing .0, at most 4 decimals)."""
    if value is None:
        return ""
    return f"{round(value, 4):g}" if abs(value) < 1e6 else str(round(value, 4))


def check(form: ExperimentForm, journey: dm.Journey) -> bool:
    """The rules beyond single fields: the place fits the metric, a stage conversion has a
    previous stage, segments apply to scores, the period ends after it starts."""
    if form.metric.errors or form.place.errors:
        return False  # a forged metric or place: already refused next to its field
    ok = True
    prefix = form.place.data.partition("-")[0]
    if prefix not in PLACES[form.metric.data]:
        wanted = {
            "tr": _("Choose a transition for a transition's conversion."),
            "st": _("Choose a stage for a stage's conversion."),
            "kpi": _("Choose one of the map's KPIs."),
        }
        first = PLACES[form.metric.data][0]
        message = wanted.get(first, _("Choose a touchpoint or a stage for CSAT, NPS or CES."))
        form.place.errors.append(message)
        ok = False
    elif form.metric.data == "stage-conversion" and journey.stages:
        if int(form.place.data.partition("-")[2]) == journey.stages[0].id:
            form.place.errors.append(_("The first stage has no conversion: choose a later one."))
            ok = False
    if form.segment_id.data and form.metric.data not in rules.SCORES:
        form.segment_id.errors.append(_("A segment applies to CSAT, NPS and CES only."))
        ok = False
    if form.starts_on.data and form.ends_on.data and form.ends_on.data < form.starts_on.data:
        form.ends_on.errors.append(_("The period ends before it starts."))
        ok = False
    n, hits = form.baseline_n.data, form.baseline_hits.data
    if n is not None and hits is not None and hits > n:
        form.baseline_hits.errors.append(_("At most the baseline n."))
        ok = False
    return ok


def save(row: Experiment, form: ExperimentForm) -> None:
    """Copy a valid form into the row (caller commits). Conversion counts given, the baseline
    is computed from them, so the figure and the test agree."""
    row.strategy_id = int(form.strategy_id.data)
    row.hypothesis = form.hypothesis.data.strip()
    row.metric = form.metric.data
    kind, _sep, ident = form.place.data.partition("-")
    ident = int(ident)
    row.transition_id = ident if kind == "tr" else None
    row.stage_id = ident if kind == "st" else None
    row.touchpoint_id = ident if kind == "tp" else None
    row.kpi_id = ident if kind == "kpi" else None
    row.segment_id = int(form.segment_id.data) if form.segment_id.data else None
    row.starts_on, row.ends_on = form.starts_on.data, form.ends_on.data
    row.baseline, row.target = form.baseline.number, form.target.number
    row.baseline_n, row.baseline_hits = form.baseline_n.data, form.baseline_hits.data
    if row.metric in rules.CONVERSIONS and row.baseline_n and row.baseline_hits is not None:
        row.baseline = 100 * row.baseline_hits / row.baseline_n
    row.status = form.status.data


def fill_baseline(row: Experiment, journey: dm.Journey) -> rules.Measure:
    """Set the row's baseline from current data (see cjm.experiments.baseline)."""
    found = rules.baseline(row, journey)
    row.baseline, row.baseline_n, row.baseline_hits = found.value, found.n, found.hits
    return found


def show_baseline(form: ExperimentForm, row: Experiment) -> None:
    """Put a measured baseline into the form being shown (not saved yet)."""
    form.baseline.data = plain(row.baseline)
    form.baseline_n.data, form.baseline_hits.data = row.baseline_n, row.baseline_hits
    form.baseline.raw_data = form.baseline_n.raw_data = form.baseline_hits.raw_data = None


# --- labels -----------------------------------------------------------------------------------


def lookups(journey: dm.Journey) -> dict:
    """Names by id for everything an experiment can point at (one query each)."""
    names = {tp.key: tp.name for tp in journey.touchpoints}
    return {
        "touchpoints": {tp.id: tp.name for tp in journey.touchpoints},
        "stages": {s.id: s.name for s in journey.stages},
        "transitions": {
            t.id: f"{names[t.source]} → {names[t.target]}" for t in journey.transitions
        },
        "segments": {s.id: s.name for s in store.ordered(Segment, journey.id)},
        "kpis": {k.id: k for k in rules.kpis(journey.id)},
        "strategies": {s.id: s for s in rules.strategies(journey.id)},
    }


def subject(row: Experiment, names: dict) -> str:
    """What the experiment measures, in words: "CSAT at “Pays” · New customers"."""
    gone = _("(deleted)")
    if row.metric == "transition-conversion":
        text = _("Conversion of %(t)s", t=names["transitions"].get(row.transition_id, gone))
    elif row.metric == "stage-conversion":
        text = _("Conversion into stage “%(s)s”", s=names["stages"].get(row.stage_id, gone))
    elif row.metric == "custom":
        kpi = names["kpis"].get(row.kpi_id)
        text = _("KPI “%(k)s”", k=kpi.name) if kpi else _("KPI %(k)s", k=gone)
    else:
        label = row.metric.upper()
        if row.touchpoint_id:
            where = names["touchpoints"].get(row.touchpoint_id, gone)
            text = _("%(m)s at “%(w)s”", m=label, w=where)
        else:
            where = names["stages"].get(row.stage_id, gone)
            text = _("%(m)s at stage “%(w)s”", m=label, w=where)
    if row.segment_id:
        text += " · " + names["segments"].get(row.segment_id, gone)
    return text


def figure(row: Experiment, value: float | None, kpis: dict | None = None) -> str:
    """A KPI value on its scale, in the locale's digits: "12.5 %", "4.2", "+20", "1,200 ₽"."""
    if value is None:
        return "—"
    if row.metric in rules.CONVERSIONS:
        return format_percent(value / 100, "#,##0.#%")
    if row.metric == "nps":
        return ("+" if value > 0 else "") + format_decimal(value, "#,##0.#")
    if row.metric == "custom":
        return kpi_figure(value, (kpis or {}).get(row.kpi_id))
    return format_decimal(value, "#,##0.##")


def kpi_figure(value: float, kpi=None) -> str:
    """A reading of a KPI with its unit, in the locale's digits: "1,200 ₽"."""
    unit = f" {kpi.unit}" if kpi is not None and kpi.unit else ""
    return format_decimal(value, "#,##0.##") + unit


def counts(row: Experiment, n: int | None, hits: int | None) -> str:
    """What a figure stands on: "400 of 1,000 customers", "n = 12 answers"."""
    if n is None:
        return ""
    if row.metric in rules.CONVERSIONS and hits is not None:
        return _("%(hits)s of %(n)s customers", hits=format_decimal(hits), n=format_decimal(n))
    if row.metric == "nps" and hits is not None:
        return _("n = %(n)s answers, %(p)s promoters", n=format_decimal(n), p=format_decimal(hits))
    return _("n = %(n)s", n=format_decimal(n))


def p_text(p: float | None) -> str:
    """A p-value as shown: four decimals, "< 0.0001" below."""
    if p is None:
        return "—"
    return "< " + format_decimal(0.0001, "0.0###") if p < 0.0001 else format_decimal(p, "0.0###")


FORMULAS = {
    "two-proportion z-test": "z = (p₂ − p₁) / √(p̂ (1 − p̂) (1/n₁ + 1/n₂)),  p̂ = (x₁ + x₂) / (n₁ + n₂)",  # noqa: E501
    "one-proportion z-test": "z = (p̂ − p₀) / √(p₀ (1 − p₀) / n)",
    "Welch's t-test": "t = (x̄₂ − x̄₁) / √(s₁²/n₁ + s₂²/n₂),  df = (s₁²/n₁ + s₂²/n₂)² / ((s₁²/n₁)²/(n₁ − 1) + (s₂²/n₂)²/(n₂ − 1))",  # noqa: E501
    "one-sample t-test": "t = (x̄ − μ₀) / (s / √n),  df = n − 1",
    "NPS z-test": "z = (NPS₂ − NPS₁) / 100 / √(v₁/n₁ + v₂/n₂),  v = (P + D)/n − ((P − D)/n)²",
}  # fmt: skip
TEST_LABELS = {
    "two-proportion z-test": _l("Two-proportion z-test"),
    "one-proportion z-test": _l("One-proportion z-test against the typed baseline"),
    "Welch's t-test": _l("Welch's t-test"),
    "one-sample t-test": _l("One-sample t-test against the typed baseline"),
    "NPS z-test": _l("NPS z-test (answers scored +1 / 0 / −1)"),
}
REASONS = {
    "no-result": _l("No result yet: no data inside the period."),
    "no-test": _l("Not enough data for a significance test, so the verdict is inconclusive."),
    "not-significant": _l("The change is not significant (p ≥ 0.05): inconclusive."),
    "target-met": _l("Significantly better, and the target is met."),
    "target-missed": _l("Short of the target."),
    "worse": _l("Worse than the baseline."),
    "better": _l("Better than the baseline (no target set)."),
    "no-change": _l("No change from the baseline."),
    "closed": _l("The verdict given when the experiment was closed."),
}
NOT_ENOUGH = {
    "no-trials": _l("Not enough data: no customers counted."),
    "not-a-share": _l("These counts are not a share (more conversions than customers)."),
    "no-spread": _l("All scores are equal: a test has nothing to compare."),
}
FEW_COUNTS = {
    "two-proportion z-test": _l(
        "Not enough data: each group needs n·p ≥ %(n)d and n·(1 − p) ≥ %(n)d (pooled p)."
    ),
    "one-proportion z-test": _l(
        "Not enough data: the result needs n·p₀ ≥ %(n)d and n·(1 − p₀) ≥ %(n)d."
    ),
    "Welch's t-test": _l("Not enough data: each group needs at least %(n)d scores."),
    "one-sample t-test": _l("Not enough data: the result needs at least %(n)d scores."),
    "NPS z-test": _l("Not enough data: each group needs at least %(n)d NPS answers."),
}
MINIMUM = {
    "two-proportion z-test": stats.MIN_EXPECTED,
    "one-proportion z-test": stats.MIN_EXPECTED,
    "Welch's t-test": stats.MIN_MEAN_N,
    "one-sample t-test": stats.MIN_MEAN_N,
    "NPS z-test": stats.MIN_NPS_N,
}


def not_enough_text(test: stats.Test) -> str:
    """Why a test could not run, with the minimum counts of that test."""
    if test.reason == "few-counts":
        return str(FEW_COUNTS[test.name]) % {"n": MINIMUM[test.name]}
    return str(NOT_ENOUGH[test.reason])


@bp.context_processor
def experiment_globals():
    """Names every experiment template uses."""
    return {
        "can_edit": g.get("role") in ("editor", "owner"),
        "metric_labels": METRIC_LABELS,
        "status_labels": STATUS_LABELS,
        "verdict_labels": VERDICT_LABELS,
        "barrier_status_labels": BARRIER_STATUS_LABELS,
        "figure": figure,
        "kpi_figure": kpi_figure,
        "counts": counts,
        "p_text": p_text,
        "formulas": FORMULAS,
        "test_labels": TEST_LABELS,
        "reasons": REASONS,
        "not_enough_text": not_enough_text,
        "alpha": stats.ALPHA,
        "format_date": format_date,
        "number": lambda v, pattern="#,##0.##": format_decimal(v, pattern),
    }


# --- the list ---------------------------------------------------------------------------------


@bp.route("/maps/<int:map_id>/experiments")
@guard("view")
def index(map_id: int):
    """The map's experiments: running, planned, closed, each with its KPI, period and verdict."""
    journey = store.load_journey(map_id)
    names = lookups(journey)
    rows = rules.experiments(map_id)
    return render(
        "experiments/index.html",
        journey=journey,
        rows=rows,
        names=names,
        subjects={r.id: subject(r, names) for r in rows},
    )


@bp.route("/maps/<int:map_id>/experiments/new", methods=["GET", "POST"])
@guard("edit")
def new(map_id: int):
    """Plan an experiment; an empty baseline is filled from current data when it is created
    ("Fill baseline from data" shows it first without saving)."""
    journey = store.load_journey(map_id)
    form = experiment_form(journey)
    page = {"journey": journey, "form": form}
    if request.method == "GET":
        form.strategy_id.data = request.args.get("strategy_id", "")
        return render("experiments/new.html", **page)
    if not (form.validate() & check(form, journey)):
        return render("experiments/new.html", status=422, **page)
    row = Experiment(journey_id=map_id, key="")
    save(row, form)
    if request.form.get("action") == "measure":
        found = fill_baseline(row, journey)
        show_baseline(form, row)
        return render("experiments/new.html", measured=found, **page)
    if row.baseline is None and row.baseline_n is None and row.baseline_hits is None:
        fill_baseline(row, journey)
    row.key = store.new_key(Experiment, map_id, row.hypothesis[:60], "experiment")
    db.session.add(row)
    db.session.commit()
    flash(_("Experiment planned."), "success")
    return redirect(url_for("experiments.show", map_id=map_id, experiment_id=row.id), 303)


# --- one experiment ---------------------------------------------------------------------------


def detail(map_id: int, row: Experiment, status: int = 200, **extra):
    """The experiment page: its KPI, baseline, target, result in the period, test, verdict,
    and the close form (or what closing wrote back)."""
    journey = store.load_journey(map_id)
    names = lookups(journey)
    kpi = names["kpis"].get(row.kpi_id)
    evaluation = rules.evaluate(row, journey, kpi)
    barriers = rules.strategy_barriers(row.strategy_id)
    close_form = extra.pop("close_form", None)
    if close_form is None and row.status != "closed":
        close_form = CloseForm(prefix="close", formdata=None)
        close_form.version.data = str(row.version)
        close_form.verdict.data = evaluation.verdict.verdict
        if row.metric == "custom":
            close_form.result.data = plain(evaluation.result.value)
            close_form.measured_on.data = row.ends_on
    statuses = extra.pop("statuses", None) or {
        b.id: default_status(b.status, evaluation.verdict.verdict) for b in barriers
    }
    return render(
        "experiments/show.html",
        status=status,
        journey=journey,
        row=row,
        names=names,
        kpi=kpi,
        strategy=names["strategies"].get(row.strategy_id)
        or db.session.get(Strategy, row.strategy_id),
        subject=subject(row, names),
        ev=evaluation,
        barriers=barriers,
        statuses=statuses,
        close_form=close_form,
        note=rules.learning_note(row) if row.status == "closed" else None,
        values=rules.written_values(row) if row.status == "closed" else [],
        **extra,
    )


def default_status(current: str, verdict: str) -> str:
    """A barrier's status proposed on closing: resolved when the experiment won, else as is."""
    return "resolved" if verdict == "won" else current


@bp.route("/maps/<int:map_id>/experiments/<int:experiment_id>")
@guard("view")
def show(map_id: int, experiment_id: int):
    """One experiment, measured now (or as it was closed)."""
    return detail(map_id, get_part_or_404(Experiment, experiment_id))


@bp.route("/maps/<int:map_id>/experiments/<int:experiment_id>/edit", methods=["GET", "POST"])
@guard("edit")
def edit(map_id: int, experiment_id: int):
    """Edit an experiment (a closed one: its learning only); a stale version answers 409 with
    the saved values, nothing overwritten."""
    row = get_part_or_404(Experiment, experiment_id)
    journey = store.load_journey(map_id)
    if row.status == "closed":
        return edit_learning(map_id, row, journey)
    page = {"journey": journey, "row": row}
    if request.method == "GET":
        form = experiment_form(journey, row, fill=True, obj=row)
        return render("experiments/edit.html", form=form, **page)
    form = experiment_form(journey, row)
    if not (form.validate() & check(form, journey)):
        return render("experiments/edit.html", status=422, form=form, **page)
    if form.version.data != str(row.version):
        fresh = experiment_form(journey, row, fill=True, formdata=None, obj=row)
        return render("experiments/edit.html", status=409, form=fresh, stale=True, **page)
    if request.form.get("action") == "measure":
        with db.session.no_autoflush:
            probe = Experiment(journey_id=map_id, key="")
            save(probe, form)
            found = fill_baseline(probe, journey)
            show_baseline(form, probe)
        return render("experiments/edit.html", form=form, measured=found, **page)
    save(row, form)
    db.session.commit()
    flash(_("Experiment saved."), "success")
    return redirect(url_for("experiments.show", map_id=map_id, experiment_id=row.id), 303)


def edit_learning(map_id: int, row: Experiment, journey: dm.Journey):
    """A closed experiment keeps its figures; only the learning (and its note) can change."""
    page = {"journey": journey, "row": row}
    if request.method == "GET":
        form = LearningForm(prefix="learning", obj=row)
        form.version.data = str(row.version)
        return render("experiments/learning.html", form=form, **page)
    form = LearningForm(prefix="learning")
    if not form.validate():
        return render("experiments/learning.html", status=422, form=form, **page)
    if form.version.data != str(row.version):
        fresh = LearningForm(prefix="learning", formdata=None, obj=row)
        fresh.version.data = str(row.version)
        return render("experiments/learning.html", status=409, form=fresh, stale=True, **page)
    row.learning = (form.learning.data or "").strip()
    note = rules.learning_note(row)
    if note is not None:
        note.text = note_text(row, row.verdict)
    db.session.commit()
    flash(_("Learning saved."), "success")
    return redirect(url_for("experiments.show", map_id=map_id, experiment_id=row.id), 303)


def note_text(row: Experiment, verdict: str) -> str:
    """The learning note written onto the map: the verdict, the hypothesis, the learning."""
    text = _(
        "Experiment %(verdict)s: %(hypothesis)s",
        verdict=str(VERDICT_LABELS[verdict]).lower(),
        hypothesis=row.hypothesis,
    )
    if row.learning:
        text += " — " + _("Learning: %(learning)s", learning=row.learning)
    return text[: rules.NOTE_MAX]


@bp.route("/maps/<int:map_id>/experiments/<int:experiment_id>/close", methods=["POST"])
@guard("edit")
def close(map_id: int, experiment_id: int):
    """Close the experiment with its verdict and learning, and write the outcome back onto the
    map in one transaction: barrier statuses, the KPI's new reading, a learning note, the
    strategy done. 409 when stale or already closed, 422 with messages next to the fields."""
    row = get_part_or_404(Experiment, experiment_id)
    form = CloseForm(prefix="close")
    if row.status == "closed" or form.version.data != str(row.version):
        return detail(map_id, row, 409, stale=True)
    valid = form.validate()
    barriers = rules.strategy_barriers(row.strategy_id)
    statuses, bad = {}, {}
    for b in barriers:
        value = request.form.get(f"barrier-{b.id}", b.status)
        if value not in dm.BARRIER_STATUSES:
            bad[b.id] = _("Choose a status from the list.")
        statuses[b.id] = value
    reading = None
    if row.metric == "custom":
        if form.result.number is None and not form.result.errors:
            form.result.errors.append(_("Type the KPI's value at the end of the period."))
            valid = False
        elif form.result.number is not None:
            measured_on = form.measured_on.data or row.ends_on or date.today()
            reading = (measured_on, form.result.number)
    if not valid or bad:
        return detail(map_id, row, 422, close_form=form, statuses=statuses, barrier_errors=bad)
    row.learning = (form.learning.data or "").strip()
    journey = store.load_journey(map_id)
    kpi = db.session.get(Kpi, row.kpi_id) if row.kpi_id else None
    evaluation = rules.evaluate(row, journey, kpi)
    rules.close(
        row,
        evaluation,
        form.verdict.data,
        row.learning,
        note_text(row, form.verdict.data),
        statuses,
        reading,
        current_user.id,
    )
    db.session.commit()
    flash(_("Experiment closed: %(v)s.", v=VERDICT_LABELS[row.verdict]), "success")
    return redirect(url_for("experiments.show", map_id=map_id, experiment_id=row.id), 303)


@bp.route("/maps/<int:map_id>/experiments/<int:experiment_id>/delete", methods=["POST"])
@guard("edit")
def delete(map_id: int, experiment_id: int):
    """Hide an experiment (what it wrote back stays); an undo notice follows."""
    row = get_part_or_404(Experiment, experiment_id)
    label = _("experiment “%(h)s”", h=row.hypothesis[:60])
    deletion = store.soft_delete([row], map_id, current_user.id, label)
    db.session.commit()
    flash_undo(
        deletion,
        _("Deleted: %(label)s", label=label),
        url_for("experiments.index", map_id=map_id),
    )
    return redirect(url_for("experiments.index", map_id=map_id), 303)
