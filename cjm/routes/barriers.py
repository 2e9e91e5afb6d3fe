"""Step 4, barrier analysis: the ranked barrier list with its filters and forms, a barrier's
evidence, dot votes, and barriers suggested from the data. Rules and queries live in
cjm.barriers; the priority formula in cjm.journey.priority."""

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from .. import barriers as rules
from .. import store
from .. import strategies as strategy_rules
from ..access import get_part_or_404, guard
from ..extensions import db
from ..forms import choices
from ..journey import model as dm
from ..journey.analytics import analyze
from ..models import Barrier, Segment
from ..web import flash_undo, render, wants_fragment
from .analytics import percent

bp = Blueprint("barriers", __name__)

TYPE_LABELS = {
    "functional": _l("Functional"),
    "informational": _l("Informational"),
    "emotional": _l("Emotional"),
    "price": _l("Price"),
    "trust": _l("Trust"),
    "technical": _l("Technical"),
    "organisational": _l("Organisational"),
}
STATUS_LABELS = {"open": _l("Open"), "mitigated": _l("Mitigated"), "resolved": _l("Resolved")}
SEVERITY_LABELS = {
    "1": _l("1 · minor"),
    "2": "2",
    "3": _l("3 · serious"),
    "4": "4",
    "5": _l("5 · blocking"),
}
assert set(TYPE_LABELS) == set(dm.BARRIER_TYPES)
assert set(STATUS_LABELS) == set(dm.BARRIER_STATUSES)


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes (works without JS)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class BarrierForm(FlaskForm):
    version = HiddenField()
    place = SelectField(_l("Where"), validators=[DataRequired(_l("Choose where it sits."))])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    type = SelectField(_l("Type"), choices=choices(TYPE_LABELS), default="functional")
    severity = SelectField(_l("Severity"), choices=choices(SEVERITY_LABELS), default="3")
    status = SelectField(_l("Status"), choices=choices(STATUS_LABELS), default="open")
    segments = CheckboxesField(_l("Affected segments"), coerce=int)


def place_of(row: Barrier) -> str:
    """The form value of where a barrier sits: "tp-<id>" or "tr-<id>"."""
    return f"tp-{row.touchpoint_id}" if row.touchpoint_id else f"tr-{row.transition_id}"


def barrier_form(
    journey: dm.Journey, row: Barrier | None = None, fill: bool = False, **kwargs
) -> BarrierForm:
    """A barrier form offering this map's touchpoints, transitions and segments (a forged id is
    not a valid choice: 422 next to the field); `fill` shows the row's saved values."""
    form = BarrierForm(prefix=f"barrier-{row.id}" if row else "barrier-new", **kwargs)
    names = {tp.key: tp.name for tp in journey.touchpoints}
    tp_group, tr_group = str(_("Touchpoints")), str(_("Transitions"))
    form.place.choices = [SelectChoice("", _("Choose…"))]
    form.place.choices += [
        SelectChoice(f"tp-{tp.id}", tp.name, optgroup=tp_group) for tp in journey.touchpoints
    ]
    form.place.choices += [
        SelectChoice(f"tr-{tr.id}", f"{names[tr.source]} → {names[tr.target]}", optgroup=tr_group)
        for tr in journey.transitions
    ]
    form.segments.choices = choices({s.id: s.name for s in store.ordered(Segment, journey.id)})
    if fill:
        form.version.data = str(row.version)
        form.place.data = place_of(row)
        form.severity.data = str(row.severity)
        form.segments.data = rules.segment_ids(row.id)
    return form


def save(row: Barrier, form: BarrierForm) -> None:
    """Copy a valid form into the row and its segments (caller commits)."""
    kind, _sep, ident = form.place.data.partition("-")
    row.touchpoint_id = int(ident) if kind == "tp" else None
    row.transition_id = int(ident) if kind == "tr" else None
    row.title = form.title.data.strip()
    row.description = (form.description.data or "").strip()
    row.type, row.status = form.type.data, form.status.data
    row.severity = int(form.severity.data)
    db.session.flush()
    rules.set_segments(row, form.segments.data or [])


def where(b: rules.Ranked) -> str:
    """Where a barrier sits, as the list shows it."""
    if b.touchpoint is not None:
        return b.touchpoint.name
    return f"{b.source.name} → {b.target.name}"


def priority_text(value: float) -> str:
    """A priority in the locale's digits, two decimals at most."""
    return format_decimal(value, "#,##0.##")


@bp.context_processor
def barrier_globals():
    """Names every barrier template uses."""
    return {
        "can_edit": g.get("role") in ("editor", "owner"),
        "type_labels": TYPE_LABELS,
        "status_labels": STATUS_LABELS,
        "where": where,
        "priority_text": priority_text,
        "percent": percent,
        "dots_per_member": rules.VOTES_PER_MEMBER,
    }


# --- the ranked list --------------------------------------------------------------------------


def filters() -> dict[str, str]:
    """The valid status/type filters of this request (query string or hidden form fields)."""
    wanted = {"status": request.values.get("status", ""), "type": request.values.get("type", "")}
    valid = {"status": STATUS_LABELS, "type": TYPE_LABELS}
    return {k: v for k, v in wanted.items() if v in valid[k]}


def list_context(map_id: int, form: BarrierForm | None = None, **extra) -> dict:
    """What the barriers page and its #barriers fragment need."""
    journey = store.load_journey(map_id)
    analytics = analyze(journey)
    found = rules.ranked(journey, current_user.id, analytics)
    chosen = filters()
    shown = [
        b
        for b in found
        if b.row.status == chosen.get("status", b.row.status)
        and b.row.type == chosen.get("type", b.row.type)
    ]
    return {
        "journey": journey,
        "barriers": shown,
        "total": len(found),
        "chosen": chosen,
        "form": form or barrier_form(journey, formdata=None),
        "dots_left": rules.VOTES_PER_MEMBER - rules.dots_used(map_id, current_user.id),
        "analytics": analytics,
        **extra,
    }


def list_answer(map_id: int, status: int = 200, form: BarrierForm | None = None, **extra):
    """The barriers page, or for htmx its #barriers section with pending notices."""
    ctx = list_context(map_id, form, **extra)
    if wants_fragment():
        body = render_template("barriers/_barriers.html", **ctx)
        return body + render_template("barriers/_oob_notices.html"), status
    ctx.update(suggestion_panel(ctx["journey"], ctx["analytics"]))
    return render("barriers/index.html", status=status, **ctx)


def to_list(map_id: int, anchor: str | None = None):
    """The no-JS answer after a write on the list: 303 back to it, filters kept."""
    return redirect(url_for("barriers.index", map_id=map_id, **filters(), _anchor=anchor), 303)


@bp.route("/maps/<int:map_id>/barriers")
@guard("view")
def index(map_id: int):
    """The barriers of the map ranked by priority, filterable by status and type; suggestions."""
    return list_answer(map_id)


@bp.route("/maps/<int:map_id>/barriers/new", methods=["GET", "POST"])
@guard("edit")
def new(map_id: int):
    """Record a barrier on a touchpoint or a transition of this map."""
    journey = store.load_journey(map_id)
    form = barrier_form(journey)
    if request.method == "GET":
        form.place.data = request.args.get("place", "")
        return render("barriers/new.html", journey=journey, form=form)
    if not form.validate():
        if wants_fragment():
            return list_answer(map_id, 422, form)
        return render("barriers/new.html", status=422, journey=journey, form=form)
    row = Barrier(
        journey_id=map_id, key=store.new_key(Barrier, map_id, form.title.data.strip(), "barrier")
    )
    db.session.add(row)
    save(row, form)
    db.session.commit()
    flash(_("Barrier “%(title)s” recorded.", title=row.title), "success")
    if wants_fragment():
        return list_answer(map_id)
    return redirect(url_for("barriers.show", map_id=map_id, barrier_id=row.id), 303)


# --- one barrier ------------------------------------------------------------------------------


def ranked_one(map_id: int, barrier_id: int) -> tuple[dm.Journey, rules.Ranked]:
    """The journey and one live barrier with its figures; 404 if hidden or elsewhere."""
    get_part_or_404(Barrier, barrier_id)
    journey = store.load_journey(map_id)
    found = next(
        (b for b in rules.ranked(journey, current_user.id) if b.row.id == barrier_id), None
    )
    if found is None:  # it sits on a hidden touchpoint or transition
        abort(404)
    return journey, found


def picker_touchpoint(journey: dm.Journey, b: rules.Ranked) -> int | None:
    """The touchpoint whose evidence the pickers offer: ?touchpoint= (empty: the whole map),
    else the barrier's touchpoint or its transition's source."""
    if "touchpoint" in request.values:
        wanted = request.values.get("touchpoint", type=int)
        return wanted if wanted in {tp.id for tp in journey.touchpoints} else None
    return (b.touchpoint or b.source).id


def detail_context(map_id: int, barrier_id: int, **extra) -> dict:
    """What the barrier page and its #barrier-evidence fragment need."""
    from .strategies import ice_text  # that module imports this one

    journey, b = ranked_one(map_id, barrier_id)
    picked = picker_touchpoint(journey, b)
    observations, answers = rules.linked_evidence(b.row)
    return {
        "journey": journey,
        "b": b,
        "picked": picked,
        "observations": observations,
        "answers": answers,
        "candidate_observations": rules.candidate_observations(b.row, picked),
        "candidate_answers": rules.candidate_answers(b.row, picked),
        "tp_names": {tp.id: tp.name for tp in journey.touchpoints},
        "dots_left": rules.VOTES_PER_MEMBER - rules.dots_used(map_id, current_user.id),
        "strategies": strategy_rules.addressing(strategy_rules.scored(journey), barrier_id),
        "ice_text": ice_text,
        **extra,
    }


def detail_answer(map_id: int, barrier_id: int, status: int = 200, **extra):
    """The barrier page, or for htmx its evidence section."""
    ctx = detail_context(map_id, barrier_id, **extra)
    return render("barriers/show.html", "barriers/_evidence.html", status, **ctx)


@bp.route("/maps/<int:map_id>/barriers/<int:barrier_id>")
@guard("view")
def show(map_id: int, barrier_id: int):
    """One barrier: where, type, severity, priority with its inputs, and its evidence."""
    return detail_answer(map_id, barrier_id)


@bp.route("/maps/<int:map_id>/barriers/<int:barrier_id>/edit", methods=["GET", "POST"])
@guard("edit")
def edit(map_id: int, barrier_id: int):
    """Edit a barrier; a stale version answers 409 with the saved values, nothing overwritten."""
    row = get_part_or_404(Barrier, barrier_id)
    journey = store.load_journey(map_id)
    page = {"journey": journey, "row": row}
    if request.method == "GET":
        form = barrier_form(journey, row, fill=True, obj=row)
        return render("barriers/edit.html", form=form, **page)
    form = barrier_form(journey, row)
    if not form.validate():
        return render("barriers/edit.html", status=422, form=form, **page)
    if form.version.data != str(row.version):
        fresh = barrier_form(journey, row, fill=True, formdata=None, obj=row)
        return render("barriers/edit.html", status=409, form=fresh, stale=True, **page)
    save(row, form)
    db.session.commit()
    flash(_("Barrier saved."), "success")
    return redirect(url_for("barriers.show", map_id=map_id, barrier_id=row.id), 303)


@bp.route("/maps/<int:map_id>/barriers/<int:barrier_id>/delete", methods=["POST"])
@guard("edit")
def delete(map_id: int, barrier_id: int):
    """Hide a barrier (its evidence links and dots stay for undo); an undo notice follows."""
    row = get_part_or_404(Barrier, barrier_id)
    label = _("barrier “%(title)s”", title=row.title)
    deletion = store.soft_delete([row], map_id, current_user.id, label)
    db.session.commit()
    flash_undo(
        deletion, _("Deleted: %(label)s", label=label), url_for("barriers.index", map_id=map_id)
    )
    if wants_fragment():
        return list_answer(map_id)
    return to_list(map_id)


# --- evidence links ---------------------------------------------------------------------------


def evidence_choice(map_id: int) -> tuple[dict, str | None]:
    """The observation_id or answer_id of the form, checked to be live evidence of this map:
    ({"observation_id": id} or {"answer_id": id}, None) or ({}, an error message)."""
    for name, finder in (
        ("observation_id", rules.live_observation),
        ("answer_id", rules.live_answer),
    ):
        raw = request.form.get(name, "")
        if raw:
            ident = int(raw) if raw.isdigit() else None
            if ident is None or finder(map_id, ident) is None:
                return {}, _("Choose evidence of this map.")
            return {name: ident}, None
    return {}, _("Choose an observation or an answer.")


def evidence_answer(map_id: int, barrier_id: int, status: int = 200, **extra):
    """After a link change: the evidence section for htmx, else 303 back to the barrier page."""
    if status == 200 and not wants_fragment():
        keep = {"touchpoint": request.form["touchpoint"]} if "touchpoint" in request.form else {}
        return redirect(
            url_for(
                "barriers.show", map_id=map_id, barrier_id=barrier_id, _anchor="evidence", **keep
            ),
            303,
        )
    return detail_answer(map_id, barrier_id, status, **extra)


@bp.route("/maps/<int:map_id>/barriers/<int:barrier_id>/evidence", methods=["POST"])
@guard("edit")
def link(map_id: int, barrier_id: int):
    """Link an observation or a mystery-shopper answer to the barrier (frequency + 1)."""
    row = get_part_or_404(Barrier, barrier_id)
    chosen, error = evidence_choice(map_id)
    if error:
        return evidence_answer(map_id, barrier_id, 422, link_error=error)
    rules.link(row, **chosen)
    db.session.commit()
    return evidence_answer(map_id, barrier_id)


@bp.route("/maps/<int:map_id>/barriers/<int:barrier_id>/evidence/remove", methods=["POST"])
@guard("edit")
def unlink(map_id: int, barrier_id: int):
    """Unlink an observation or an answer from the barrier (the evidence itself stays)."""
    row = get_part_or_404(Barrier, barrier_id)
    chosen, error = evidence_choice(map_id)
    if error:
        return evidence_answer(map_id, barrier_id, 422, link_error=error)
    rules.unlink(row, **chosen)
    db.session.commit()
    return evidence_answer(map_id, barrier_id)


# --- dot votes --------------------------------------------------------------------------------


def vote_answer(map_id: int, barrier_id: int, error: str | None):
    """After a dot: back where the vote came from (the list or the barrier page); 409 with the
    message when it was refused."""
    from_detail = request.form.get("from") == "detail"
    if error is None and not wants_fragment():
        if from_detail:
            return redirect(url_for("barriers.show", map_id=map_id, barrier_id=barrier_id), 303)
        return to_list(map_id, f"barrier-{barrier_id}")
    status = 409 if error else 200
    if from_detail:
        ctx = detail_context(map_id, barrier_id, vote_error=error)
        return render("barriers/show.html", "barriers/_votes.html", status, **ctx)
    return list_answer(map_id, status, vote_error=error, vote_barrier=barrier_id)


@bp.route("/maps/<int:map_id>/barriers/<int:barrier_id>/vote", methods=["POST"])
@guard("edit")
def vote(map_id: int, barrier_id: int):
    """Put one of my dots on the barrier; 409 when all my dots on this map are used."""
    row = get_part_or_404(Barrier, barrier_id)
    placed = rules.vote(row, current_user.id)
    db.session.commit()
    error = None
    if not placed:
        error = _(
            "All your %(n)d dots are placed. Take one back from another barrier first.",
            n=rules.VOTES_PER_MEMBER,
        )
    return vote_answer(map_id, barrier_id, error)


@bp.route("/maps/<int:map_id>/barriers/<int:barrier_id>/unvote", methods=["POST"])
@guard("edit")
def unvote(map_id: int, barrier_id: int):
    """Take one of my dots back off the barrier; 409 when I have none on it."""
    row = get_part_or_404(Barrier, barrier_id)
    removed = rules.unvote(row, current_user.id)
    db.session.commit()
    error = None if removed else _("You have no dot on this barrier.")
    return vote_answer(map_id, barrier_id, error)


# --- suggestions ------------------------------------------------------------------------------


def suggestion_title(s: rules.Suggestion) -> str:
    """The title an accepted suggestion's barrier starts with."""
    if s.kind == "drop-off":
        source, target = suggestion_ends(s)
        return _("Customers drop out: %(source)s → %(target)s", source=source, target=target)
    name = s.touchpoint.name
    titles = {
        "worst-csat": _("Low satisfaction at “%(name)s”", name=name),
        "worst-ces": _("Hard to get through “%(name)s”", name=name),
        "failed-item": _("“%(item)s” fails at “%(name)s”", item=s.item, name=name),
        "negative-verbatims": _("Negative verbatims about “%(name)s”", name=name),
    }
    return titles[s.kind][:200]


def suggestion_ends(s: rules.Suggestion) -> tuple[str, str]:
    """A drop-off suggestion's source and target names."""
    names = g.tp_names
    return names[s.transition.source], names[s.transition.target]


def suggestion_figure(s: rules.Suggestion) -> str:
    """The figure behind a suggestion, with its n."""
    mean = format_decimal(s.value, "#,##0.#")
    if s.kind == "worst-csat":
        return _(
            "Mean CSAT %(mean)s of 5 (n = %(n)d); %(linked)d dissatisfied answers (CSAT ≤ 2).",
            mean=mean,
            n=s.n,
            linked=s.frequency,
        )
    if s.kind == "worst-ces":
        return _(
            "Mean CES %(mean)s of 7, lower is easier (n = %(n)d); %(linked)d hard (CES ≥ 5).",
            mean=mean,
            n=s.n,
            linked=s.frequency,
        )
    if s.kind == "drop-off":
        source, _target = suggestion_ends(s)
        return _(
            "%(n)d customers drop out here (%(share)s of those at “%(source)s”); from volumes, "
            "no evidence to link.",
            n=s.n,
            share=percent(s.share),
            source=source,
        )
    if s.kind == "failed-item":
        return _(
            "Failed in %(failed)d of %(n)d mystery-shopper answers (%(share)s).",
            failed=int(s.value),
            n=s.n,
            share=percent(s.share),
        )
    return _("%(n)d negative verbatims (a verbatim with CSAT ≤ 2) at this touchpoint.", n=s.n)


def suggestion_rows(journey: dm.Journey, analytics=None) -> list[dict]:
    """The current suggestions with their title and figure, for the page."""
    return suggestion_panel(journey, analytics)["suggestions"]


def suggestion_panel(journey: dm.Journey, analytics=None) -> dict[str, list[dict]]:
    """The suggestions panel: the current suggestions with their title and figure, and the
    dismissed ones (figure None when the data no longer proposes them), from one look at the
    data."""
    g.tp_names = {tp.key: tp.name for tp in journey.touchpoints}
    handled, covered = rules.handled_codes(journey.id), rules.covered_places(journey.id)
    now = {
        s.code: {
            "s": s,
            "code": s.code,
            "title": suggestion_title(s),
            "figure": suggestion_figure(s),
        }
        for s in rules.candidates(journey, analytics)
    }
    dismissed = [
        now.get(row.code)
        or {"code": row.code, "title": handled_title(journey, row.code), "figure": None}
        for row in rules.dismissed(journey.id)
    ]
    return {
        "suggestions": [
            r
            for code, r in now.items()
            if code not in handled and rules.place_ids(r["s"]) not in covered
        ],
        "dismissed": dismissed,
    }


def handled_title(journey: dm.Journey, code: str) -> str:
    """A title for a dismissed suggestion the data no longer proposes, from its code alone
    (e.g. "worst-csat:touchpoint:12")."""
    kind, *parts = code.split(":")
    ids = dict(zip(parts[::2], parts[1::2], strict=False))
    tps = {str(tp.id): tp.name for tp in journey.touchpoints}
    unknown = _("A suggestion about a hidden or deleted place")
    if kind == "drop-off":
        keys = {tp.key: tp.name for tp in journey.touchpoints}
        tr = next((t for t in journey.transitions if str(t.id) == ids.get("transition")), None)
        if tr is None:
            return unknown
        return _(
            "Customers drop out: %(source)s → %(target)s",
            source=keys[tr.source],
            target=keys[tr.target],
        )
    name = tps.get(ids.get("touchpoint", ""))
    if name is None:
        return unknown
    titles = {
        "worst-csat": _("Low satisfaction at “%(name)s”", name=name),
        "worst-ces": _("Hard to get through “%(name)s”", name=name),
        "failed-item": _("A checklist item fails at “%(name)s”", name=name),
        "negative-verbatims": _("Negative verbatims about “%(name)s”", name=name),
    }
    return titles.get(kind, code)


def chosen_suggestion(map_id: int) -> tuple[dm.Journey, dict | None, int]:
    """The journey and the suggestion named by the form's code, or None with 422 (no code) /
    409 (no longer suggested: accepted, dismissed or the data changed)."""
    journey = store.load_journey(map_id)
    code = request.form.get("code", "")
    if not code:
        return journey, None, 422
    found = next((r for r in suggestion_rows(journey) if r["s"].code == code), None)
    return journey, found, 409 if found is None else 200


def suggestions_answer(
    map_id: int, status: int = 200, error: str | None = None, restore_open: bool = False
):
    """The suggestions section for htmx, else the barriers page (303 on success);
    `restore_open` keeps the dismissed list open after a restore."""
    if status == 200 and not wants_fragment():
        return to_list(map_id, "suggestions")
    if wants_fragment():
        journey = store.load_journey(map_id)
        body = render_template(
            "barriers/_suggestions.html",
            journey=journey,
            **suggestion_panel(journey),
            suggestion_error=error,
            restore_open=restore_open,
        )
        return body + render_template("barriers/_oob_notices.html"), status
    return list_answer(map_id, status, suggestion_error=error)


def suggestion_error(status: int) -> str:
    """The message for a refused accept or dismiss."""
    if status == 422:
        return _("Choose a suggestion.")
    return _("This suggestion is no longer proposed (handled meanwhile, or the data changed).")


@bp.route("/maps/<int:map_id>/barriers/suggestions/accept", methods=["POST"])
@guard("edit")
def accept(map_id: int):
    """Accept a suggested barrier: create it prefilled, with the evidence behind it linked."""
    journey, found, status = chosen_suggestion(map_id)
    if found is None:
        return suggestions_answer(map_id, status, suggestion_error(status))
    s = found["s"]
    row = Barrier(
        journey_id=map_id,
        key=store.new_key(Barrier, map_id, found["title"], "barrier"),
        touchpoint_id=s.touchpoint.id if s.touchpoint else None,
        transition_id=s.transition.id if s.transition else None,
        title=found["title"],
        description=found["figure"],
        type=s.type,
        severity=3,
        status="open",
    )
    db.session.add(row)
    db.session.flush()
    for observation_id in s.observation_ids:
        rules.link(row, observation_id=observation_id)
    for answer_id in s.answer_ids:
        rules.link(row, answer_id=answer_id)
    rules.mark_handled(map_id, s.code, current_user.id, "accepted")
    db.session.commit()
    flash(_("Barrier “%(title)s” recorded from the suggestion.", title=row.title), "success")
    return redirect(url_for("barriers.show", map_id=map_id, barrier_id=row.id), 303)


@bp.route("/maps/<int:map_id>/barriers/suggestions/dismiss", methods=["POST"])
@guard("edit")
def dismiss(map_id: int):
    """Dismiss a suggested barrier for good."""
    _journey, found, status = chosen_suggestion(map_id)
    if found is None:
        return suggestions_answer(map_id, status, suggestion_error(status))
    rules.mark_handled(map_id, found["s"].code, current_user.id, "dismissed")
    db.session.commit()
    flash(_("Suggestion dismissed: %(title)s", title=found["title"]))
    return suggestions_answer(map_id)


@bp.route("/maps/<int:map_id>/barriers/suggestions/restore", methods=["POST"])
@guard("edit")
def restore(map_id: int):
    """Bring a dismissed suggestion back; 422 without a code, 409 when it is not dismissed
    (restored meanwhile, or accepted: an accepted one is a barrier now)."""
    code = request.form.get("code", "")
    if not code:
        return suggestions_answer(map_id, 422, _("Choose a suggestion."), True)
    if not rules.restore(map_id, code):
        message = _("This suggestion is not dismissed (restored meanwhile?).")
        return suggestions_answer(map_id, 409, message, True)
    db.session.commit()
    flash(_("Suggestion restored. It is proposed again while the data still points to it."))
    return suggestions_answer(map_id, restore_open=True)
