"""Step 3 evidence records: the map's segments, its observations (a filtered, paginated table with
add, edit and delete) and sales-manager interviews whose quotes are observations too.

Every write goes through cjm.evidence.observation_values(), so a forged reference to another
map's touchpoint, stage, channel or segment is refused (422) and never written."""

from datetime import date

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from .. import evidence, store
from ..access import get_part_or_404, guard
from ..extensions import db
from ..forms import choices
from ..journey import model as dm
from ..models import Channel, Interview, Observation, Segment, Stage, Touchpoint
from ..web import flash_undo, render, wants_fragment

bp = Blueprint("evidence", __name__)

SOURCES = {
    "mystery-shopper": _l("Mystery shopper"),
    "survey": _l("Survey"),
    "interview": _l("Sales-manager interview"),
    "analytics": _l("Web analytics"),
    "market": _l("Market analysis"),
}
assert tuple(SOURCES) == dm.EVIDENCE_SOURCES
PER_PAGE = 50
PLACE_FIELDS = ("touchpoint_id", "stage_id", "channel_id", "segment_id")


def not_in_future(form, field):
    """A date may be at most a day ahead (a researcher may sit in a later timezone)."""
    if field.data is not None and field.data > evidence.latest_date():
        raise ValidationError(_("The date is in the future."))


def bounds(scale: tuple[int, int]) -> dict:
    """min/max attributes for a number input, so the browser offers the scale too."""
    return {"min": scale[0], "max": scale[1], "inputmode": "numeric"}


class LatestDate(DateField):
    """A date input that tells the browser the latest day accepted."""

    def __call__(self, **kwargs):
        kwargs.setdefault("max", evidence.latest_date().isoformat())
        return super().__call__(**kwargs)


class PlaceForm(FlaskForm):
    """Where an observation belongs: a touchpoint, or a stage and/or a channel; and a segment."""

    version = HiddenField()
    touchpoint_id = SelectField(_l("Touchpoint"), default="")
    stage_id = SelectField(_l("Stage"), default="")
    channel_id = SelectField(_l("Channel"), default="")
    segment_id = SelectField(_l("Segment"), default="")


class ObservationForm(PlaceForm):
    source = SelectField(_l("Source"), choices=choices(SOURCES))
    observed_on = LatestDate(
        _l("Date"), default=date.today, validators=[DataRequired(), not_in_future]
    )
    respondent = StringField(_l("Respondent"), validators=[Length(max=evidence.RESPONDENT_MAX)])
    csat = IntegerField(
        _l("CSAT (1–5)"),
        validators=[Optional(), NumberRange(*dm.CSAT_RANGE)],
        render_kw=bounds(dm.CSAT_RANGE),
    )
    nps = IntegerField(
        _l("NPS answer (0–10)"),
        validators=[Optional(), NumberRange(*dm.NPS_RANGE)],
        render_kw=bounds(dm.NPS_RANGE),
    )
    ces = IntegerField(
        _l("CES (1–7)"),
        validators=[Optional(), NumberRange(*dm.CES_RANGE)],
        render_kw=bounds(dm.CES_RANGE),
    )
    verbatim = TextAreaField(_l("Verbatim"), validators=[Length(max=evidence.VERBATIM_MAX)])


class QuoteForm(PlaceForm):
    verbatim = TextAreaField(
        _l("Quote"), validators=[DataRequired(), Length(max=evidence.VERBATIM_MAX)]
    )


class InterviewForm(FlaskForm):
    manager = StringField(_l("Sales manager"), validators=[DataRequired(), Length(max=120)])
    held_on = LatestDate(_l("Date"), default=date.today, validators=[DataRequired(), not_in_future])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=20000)])


class SegmentForm(FlaskForm):
    version = HiddenField()
    name = StringField(_l("Segment name"), validators=[DataRequired(), Length(max=120)])


class FilterForm(FlaskForm):
    """The evidence table's filters, read from the query string (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    source = SelectField(_l("Source"), default="")
    segment = SelectField(_l("Segment"), default="")
    stage = SelectField(_l("Stage"), default="")
    channel = SelectField(_l("Channel"), default="")
    start = DateField(_l("Dated from"), validators=[Optional()])
    end = DateField(_l("Dated until"), validators=[Optional()])

    def validate_end(self, field):
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_("The end comes before the start."))


# --- shared helpers ---------------------------------------------------------------------------


def frame(map_id: int) -> dict:
    """The map's live stages, channels, touchpoints and segments, by id (for names and choices)."""
    stages = {s.id: s for s in store.ordered(Stage, map_id)}
    channels = {c.id: c for c in store.ordered(Channel, map_id)}
    touchpoints = {
        t.id: t
        for t in db.session.scalars(store.live(Touchpoint, map_id).order_by(Touchpoint.position))
        if t.stage_id in stages and t.channel_id in channels
    }
    # Board order: by stage, then by the touchpoint's own position.
    order = {sid: i for i, sid in enumerate(stages)}
    touchpoints = dict(sorted(touchpoints.items(), key=lambda kv: order[kv[1].stage_id]))
    segments = {s.id: s for s in store.ordered(Segment, map_id)}
    return {
        "stages": stages,
        "channels": channels,
        "touchpoints": touchpoints,
        "segments": segments,
    }


def place_choices(form: PlaceForm, parts: dict) -> None:
    """Offer this map's elements (and only them) in the place selects."""
    none = {"": _("—")}
    form.touchpoint_id.choices = choices(
        none
        | {
            str(t.id): f"{parts['stages'][t.stage_id].name} · {t.name}"
            for t in parts["touchpoints"].values()
        }
    )
    form.stage_id.choices = choices(none | {str(i): s.name for i, s in parts["stages"].items()})
    form.channel_id.choices = choices(none | {str(i): c.name for i, c in parts["channels"].items()})
    form.segment_id.choices = choices(none | {str(i): s.name for i, s in parts["segments"].items()})


def ident(value: str | None) -> int | None:
    """A select's value as an id ("" is none)."""
    return int(value) if value and value.isdigit() else None


def place_values(form: PlaceForm) -> dict:
    """The place fields of a submitted form as observation_values() arguments."""
    return {name: ident(getattr(form, name).data) for name in PLACE_FIELDS}


def fill_form(form: PlaceForm, row: Observation) -> None:
    """Show a saved observation in a form (selects hold ids as strings)."""
    for name in PLACE_FIELDS:
        value = getattr(row, name)
        # A touchpoint fixes stage and channel: show only the touchpoint, as it was entered.
        if row.touchpoint_id and name in ("stage_id", "channel_id"):
            value = None
        getattr(form, name).data = str(value) if value else ""
    form.version.data = str(row.version)


def apply(form, errors: dict) -> None:
    """Put observation_values() errors next to their fields."""
    for name, message in errors.items():
        target = getattr(form, name, None)
        (target if target is not None else form.verbatim).errors.append(message)


def undo_notice(label: str, deletion, next_url: str) -> None:
    """Flash the undo offer for a deletion."""
    flash_undo(deletion, _("Deleted: %(label)s", label=label), next_url)


def notices_partial() -> str:
    """Pending notices as an <hx-partial> for an htmx answer ("" when there are none)."""
    if wants_fragment() and get_flashed_messages(with_categories=True):
        return render_template("evidence/_oob_notices.html")
    return ""


@bp.context_processor
def evidence_globals():
    """Names every evidence template uses."""
    return {"can_edit": g.get("role") in ("editor", "owner"), "source_labels": SOURCES}


# --- observations -----------------------------------------------------------------------------


def filtered(map_id: int, form: FilterForm):
    """The evidence SELECT narrowed by the valid filters, newest first."""
    stmt = evidence.visible(map_id)
    if not form.source.errors and form.source.data in SOURCES:
        stmt = stmt.where(Observation.source == form.source.data)
    for name, column in (
        ("segment", Observation.segment_id),
        ("stage", Observation.stage_id),
        ("channel", Observation.channel_id),
    ):
        value = ident(getattr(form, name).data)
        if value is not None and not getattr(form, name).errors:
            stmt = stmt.where(column == value)
    if form.start.data and not form.start.errors:
        stmt = stmt.where(Observation.observed_on >= form.start.data)
    if form.end.data and not form.end.errors:
        stmt = stmt.where(Observation.observed_on <= form.end.data)
    return stmt.order_by(Observation.observed_on.desc().nulls_last(), Observation.id.desc())


def filter_form(parts: dict) -> FilterForm:
    """The filter form bound to the query string, offering this map's elements."""
    form = FilterForm(formdata=request.args)
    every = {"": _("All")}
    form.source.choices = choices(every | SOURCES)
    form.segment.choices = choices(every | {str(i): s.name for i, s in parts["segments"].items()})
    form.stage.choices = choices(every | {str(i): s.name for i, s in parts["stages"].items()})
    form.channel.choices = choices(every | {str(i): c.name for i, c in parts["channels"].items()})
    return form


@bp.route("/maps/<int:map_id>/evidence")
@guard("view")
def index(map_id: int):
    """The evidence table: filtered by source, segment, stage, channel and dates; 50 a page."""
    parts = frame(map_id)
    form = filter_form(parts)
    status = 200
    if any(name in request.args for name in form._fields) and not form.validate():
        status = 422  # the invalid filters are shown with their message and left out
    page = db.paginate(filtered(map_id, form), per_page=PER_PAGE, max_per_page=PER_PAGE)
    query = {k: v for k, v in request.args.items() if k in form._fields and v}
    return render(
        "evidence/index.html",
        status=status,
        journey=g.journey,
        parts=parts,
        filters=form,
        pagination=page,
        query=query,
    )


def observation_page(map_id: int, row, form, status: int, **extra):
    """The add or edit form: a page without JS, the table row holding the form for htmx."""
    fragment = "evidence/_edit_row.html" if row is not None else None
    return render(
        "evidence/edit.html" if row is not None else "evidence/new.html",
        fragment,
        status,
        journey=g.journey,
        row=row,
        form=form,
        **extra,
    )


def save_observation(map_id: int, form: ObservationForm, row: Observation | None) -> dict:
    """Checked values from a valid form (ValidationError by field otherwise)."""
    return evidence.observation_values(
        map_id,
        **place_values(form),
        source=form.source.data,
        observed_on=form.observed_on.data,
        respondent=form.respondent.data or "",
        csat=form.csat.data,
        nps=form.nps.data,
        ces=form.ces.data,
        verbatim=form.verbatim.data or "",
        interview_id=row.interview_id if row is not None else None,
    )


@bp.route("/maps/<int:map_id>/evidence/new", methods=["GET", "POST"])
@guard("edit")
def new(map_id: int):
    """Record one observation."""
    form = ObservationForm()
    place_choices(form, frame(map_id))
    if not form.is_submitted():
        # Links from the board or the research page may preselect where the evidence belongs.
        for name in PLACE_FIELDS:
            wanted = request.args.get(name, "")
            if wanted in {c.value for c in getattr(form, name).choices}:
                getattr(form, name).data = wanted
        return observation_page(map_id, None, form, 200)
    if not form.validate():
        return observation_page(map_id, None, form, 422)
    try:
        values = save_observation(map_id, form, None)
    except dm.ValidationError as e:
        apply(form, e.field_errors)
        return observation_page(map_id, None, form, 422)
    row = Observation(**values)
    db.session.add(row)
    db.session.commit()
    flash(_("Observation saved."), "success")
    return redirect(url_for("evidence.index", map_id=map_id, _anchor=f"observation-{row.id}"), 303)


def get_observation_or_404(map_id: int, observation_id: int) -> Observation:
    """A visible observation of the guarded map; 404 otherwise."""
    row = evidence.get_observation(map_id, observation_id)
    if row is None:
        abort(404)
    return row


@bp.route("/maps/<int:map_id>/evidence/<int:observation_id>")
@guard("view")
def row(map_id: int, observation_id: int):
    """One table row (htmx: cancel an edit); without JS, the evidence table."""
    item = get_observation_or_404(map_id, observation_id)
    if not wants_fragment():
        return redirect(url_for("evidence.index", map_id=map_id), 303)
    return render_template("evidence/_row.html", row=item, parts=frame(map_id))


@bp.route("/maps/<int:map_id>/evidence/<int:observation_id>/edit", methods=["GET", "POST"])
@guard("edit")
def edit(map_id: int, observation_id: int):
    """Edit an observation; a stale version answers 409 with the saved values."""
    item = get_observation_or_404(map_id, observation_id)
    if item.interview_id is not None:
        return redirect(
            url_for(
                "evidence.edit_quote",
                map_id=map_id,
                interview_id=item.interview_id,
                observation_id=item.id,
            ),
            303,
        )
    parts = frame(map_id)
    form = ObservationForm(obj=item)
    place_choices(form, parts)
    if not form.is_submitted():
        fill_form(form, item)
        return observation_page(map_id, item, form, 200)
    if not form.validate():
        return observation_page(map_id, item, form, 422)
    if form.version.data != str(item.version):
        fresh = ObservationForm(formdata=None, obj=item)
        place_choices(fresh, parts)
        fill_form(fresh, item)
        return observation_page(map_id, item, fresh, 409, stale=True)
    try:
        values = save_observation(map_id, form, item)
    except dm.ValidationError as e:
        apply(form, e.field_errors)
        return observation_page(map_id, item, form, 422)
    for name, value in values.items():
        setattr(item, name, value)
    db.session.commit()
    if wants_fragment():
        return render_template("evidence/_row.html", row=item, parts=parts)
    return redirect(url_for("evidence.index", map_id=map_id, _anchor=f"observation-{item.id}"), 303)


@bp.route("/maps/<int:map_id>/evidence/<int:observation_id>/delete", methods=["POST"])
@guard("edit")
def delete(map_id: int, observation_id: int):
    """Hide an observation with an undo notice."""
    item = get_observation_or_404(map_id, observation_id)
    label = _("observation of %(date)s", date=item.observed_on or "—")
    deletion = store.soft_delete([item], map_id, current_user.id, label)
    db.session.commit()
    undo_notice(label, deletion, url_for("evidence.index", map_id=map_id))
    if wants_fragment():
        return notices_partial()
    return redirect(url_for("evidence.index", map_id=map_id), 303)


# --- segments ---------------------------------------------------------------------------------


def segments_section(map_id: int, status: int = 200, form: SegmentForm | None = None, focus=None):
    """The segments page, or for htmx just its section (with pending notices)."""
    body, status = render(
        "evidence/segments.html",
        "evidence/_segments.html",
        status,
        journey=g.journey,
        segments=store.ordered(Segment, map_id),
        form=form or SegmentForm(formdata=None, prefix="new-segment"),
        focus=focus,
    )
    return body + notices_partial(), status


def back_to_segments(map_id: int, segment_id: int | None = None):
    """The no-JS answer after a segment write."""
    anchor = f"segment-{segment_id}" if segment_id else "segments"
    return redirect(url_for("evidence.segments", map_id=map_id, _anchor=anchor), 303)


@bp.route("/maps/<int:map_id>/segments")
@guard("view")
def segments(map_id: int):
    """The map's customer segments, in order, with their editors."""
    return segments_section(map_id)


@bp.route("/maps/<int:map_id>/segments/add", methods=["POST"])
@guard("edit")
def add_segment(map_id: int):
    """Add a segment at the end."""
    form = SegmentForm(prefix="new-segment")
    if not form.validate():
        return segments_section(map_id, 422, form)
    name = form.name.data.strip()
    item = Segment(
        journey_id=map_id,
        key=store.new_key(Segment, map_id, name, "segment"),
        name=name,
        position=store.next_position(Segment, map_id),
    )
    db.session.add(item)
    db.session.commit()
    if wants_fragment():
        return segments_section(map_id)
    return back_to_segments(map_id, item.id)


@bp.route("/maps/<int:map_id>/segments/<int:segment_id>")
@guard("view")
def segment(map_id: int, segment_id: int):
    """One segment row (htmx: cancel a rename); without JS, the segments page."""
    item = get_part_or_404(Segment, segment_id)
    if not wants_fragment():
        return back_to_segments(map_id, item.id)
    return render_template("evidence/_segment_row.html", item=item)


@bp.route("/maps/<int:map_id>/segments/<int:segment_id>/edit", methods=["GET", "POST"])
@guard("edit")
def edit_segment(map_id: int, segment_id: int):
    """Rename a segment in place; a stale version answers 409 with the saved name."""
    item = get_part_or_404(Segment, segment_id)
    prefix = f"segment-{item.id}"
    form = SegmentForm(obj=item, prefix=prefix)
    ctx = {"journey": g.journey, "item": item}
    pages = ("evidence/segment_edit.html", "evidence/_segment_edit.html")
    if not form.is_submitted():
        form.version.data = str(item.version)
        return render(*pages, form=form, **ctx)
    if not form.validate():
        return render(*pages, 422, form=form, **ctx)
    if form.version.data != str(item.version):
        fresh = SegmentForm(formdata=None, obj=item, prefix=prefix)
        fresh.version.data = str(item.version)
        return render(*pages, 409, form=fresh, stale=True, **ctx)
    item.name = form.name.data.strip()
    db.session.commit()
    if wants_fragment():
        return render_template("evidence/_segment_row.html", item=item)
    return back_to_segments(map_id, item.id)


@bp.route("/maps/<int:map_id>/segments/<int:segment_id>/move", methods=["POST"])
@guard("edit")
def move_segment(map_id: int, segment_id: int):
    """Move a segment one place up or down."""
    item = get_part_or_404(Segment, segment_id)
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(422)
    store.move(Segment, item, direction)
    db.session.commit()
    if wants_fragment():
        return segments_section(map_id, focus=f"segment-{segment_id}-{direction}")
    return back_to_segments(map_id, segment_id)


@bp.route("/maps/<int:map_id>/segments/<int:segment_id>/delete", methods=["POST"])
@guard("edit")
def delete_segment(map_id: int, segment_id: int):
    """Hide a segment (its observations drop out with it) with an undo notice."""
    item = get_part_or_404(Segment, segment_id)
    label = _("segment “%(name)s”", name=item.name)
    deletion = store.soft_delete([item], map_id, current_user.id, label)
    db.session.commit()
    undo_notice(label, deletion, url_for("evidence.segments", map_id=map_id))
    if wants_fragment():
        return segments_section(map_id)
    return back_to_segments(map_id)


# --- sales-manager interviews -----------------------------------------------------------------


def get_interview_or_404(map_id: int, interview_id: int) -> Interview:
    """An interview of the guarded map; 404 otherwise."""
    item = db.session.get(Interview, interview_id)
    if item is None or item.journey_id != map_id:
        abort(404)
    return item


def interviews_page(map_id: int, form: InterviewForm, status: int = 200):
    """The interviews list with the add form."""
    rows = db.session.scalars(
        select(Interview)
        .where(Interview.journey_id == map_id)
        .order_by(Interview.held_on.desc(), Interview.id.desc())
    ).all()
    quotes = dict(
        db.session.execute(
            evidence.visible(map_id)
            .with_only_columns(Observation.interview_id, func.count())
            .where(Observation.interview_id.is_not(None))
            .group_by(Observation.interview_id)
        ).all()
    )
    return render(
        "evidence/interviews.html",
        status=status,
        journey=g.journey,
        interviews=rows,
        quotes=quotes,
        form=form,
    )


@bp.route("/maps/<int:map_id>/interviews")
@guard("view")
def interviews(map_id: int):
    """The map's sales-manager interviews, newest first."""
    return interviews_page(map_id, InterviewForm(formdata=None))


@bp.route("/maps/<int:map_id>/interviews/add", methods=["POST"])
@guard("edit")
def add_interview(map_id: int):
    """Record an interview; its quotes are added on its page."""
    form = InterviewForm()
    if not form.validate():
        return interviews_page(map_id, form, 422)
    item = Interview(
        journey_id=map_id,
        manager=form.manager.data.strip(),
        held_on=form.held_on.data,
        notes=(form.notes.data or "").strip(),
    )
    db.session.add(item)
    db.session.commit()
    return redirect(url_for("evidence.interview", map_id=map_id, interview_id=item.id), 303)


def interview_page(map_id: int, item: Interview, form: QuoteForm, status: int = 200, **extra):
    """An interview: its notes, its quotes, and the form to add one."""
    parts = frame(map_id)
    place_choices(form, parts)
    quotes = db.session.scalars(
        evidence.visible(map_id).where(Observation.interview_id == item.id).order_by(Observation.id)
    ).all()
    return render(
        "evidence/interview.html",
        status=status,
        journey=g.journey,
        interview=item,
        quotes=quotes,
        parts=parts,
        form=form,
        **extra,
    )


@bp.route("/maps/<int:map_id>/interviews/<int:interview_id>")
@guard("view")
def interview(map_id: int, interview_id: int):
    """One interview with its quotes."""
    item = get_interview_or_404(map_id, interview_id)
    return interview_page(map_id, item, QuoteForm(formdata=None, prefix="new-quote"))


@bp.route("/maps/<int:map_id>/interviews/<int:interview_id>/edit", methods=["GET", "POST"])
@guard("edit")
def edit_interview(map_id: int, interview_id: int):
    """Edit an interview's manager, date and notes; its quotes take the new date and name."""
    item = get_interview_or_404(map_id, interview_id)
    form = InterviewForm(obj=item)
    ctx = {"journey": g.journey, "interview": item, "form": form}
    if not form.is_submitted():
        return render("evidence/interview_edit.html", **ctx)
    if not form.validate():
        return render("evidence/interview_edit.html", status=422, **ctx)
    item.manager = form.manager.data.strip()
    item.held_on = form.held_on.data
    item.notes = (form.notes.data or "").strip()
    for quote in db.session.scalars(select(Observation).filter_by(interview_id=item.id)):
        quote.observed_on, quote.respondent = item.held_on, item.manager
    db.session.commit()
    flash(_("Interview saved."), "success")
    return redirect(url_for("evidence.interview", map_id=map_id, interview_id=item.id), 303)


def quote_values(map_id: int, item: Interview, form: QuoteForm) -> dict:
    """Checked observation values for a quote of this interview."""
    return evidence.observation_values(
        map_id,
        **place_values(form),
        source="interview",
        observed_on=item.held_on,
        respondent=item.manager,
        verbatim=form.verbatim.data or "",
        interview_id=item.id,
    )


@bp.route("/maps/<int:map_id>/interviews/<int:interview_id>/quotes", methods=["POST"])
@guard("edit")
def add_quote(map_id: int, interview_id: int):
    """Add a quote, tagged to a touchpoint (or a stage and/or channel) and a segment."""
    item = get_interview_or_404(map_id, interview_id)
    form = QuoteForm(prefix="new-quote")
    place_choices(form, frame(map_id))
    if not form.validate():
        return interview_page(map_id, item, form, 422)
    try:
        values = quote_values(map_id, item, form)
    except dm.ValidationError as e:
        apply(form, e.field_errors)
        return interview_page(map_id, item, form, 422)
    quote = Observation(**values)
    db.session.add(quote)
    db.session.commit()
    return redirect(
        url_for(
            "evidence.interview",
            map_id=map_id,
            interview_id=item.id,
            _anchor=f"quote-{quote.id}",
        ),
        303,
    )


def get_quote_or_404(map_id: int, item: Interview, observation_id: int) -> Observation:
    """A visible quote of this interview; 404 otherwise."""
    quote = evidence.get_observation(map_id, observation_id)
    if quote is None or quote.interview_id != item.id:
        abort(404)
    return quote


@bp.route(
    "/maps/<int:map_id>/interviews/<int:interview_id>/quotes/<int:observation_id>/edit",
    methods=["GET", "POST"],
)
@guard("edit")
def edit_quote(map_id: int, interview_id: int, observation_id: int):
    """Edit a quote; a stale version answers 409 with the saved text."""
    item = get_interview_or_404(map_id, interview_id)
    quote = get_quote_or_404(map_id, item, observation_id)
    parts = frame(map_id)
    form = QuoteForm(obj=quote)
    place_choices(form, parts)
    ctx = {"journey": g.journey, "interview": item, "quote": quote}
    if not form.is_submitted():
        fill_form(form, quote)
        return render("evidence/quote_edit.html", form=form, **ctx)
    if not form.validate():
        return render("evidence/quote_edit.html", status=422, form=form, **ctx)
    if form.version.data != str(quote.version):
        fresh = QuoteForm(formdata=None, obj=quote)
        place_choices(fresh, parts)
        fill_form(fresh, quote)
        return render("evidence/quote_edit.html", status=409, form=fresh, stale=True, **ctx)
    try:
        values = quote_values(map_id, item, form)
    except dm.ValidationError as e:
        apply(form, e.field_errors)
        return render("evidence/quote_edit.html", status=422, form=form, **ctx)
    for name, value in values.items():
        setattr(quote, name, value)
    db.session.commit()
    return redirect(
        url_for(
            "evidence.interview", map_id=map_id, interview_id=item.id, _anchor=f"quote-{quote.id}"
        ),
        303,
    )


@bp.route(
    "/maps/<int:map_id>/interviews/<int:interview_id>/quotes/<int:observation_id>/delete",
    methods=["POST"],
)
@guard("edit")
def delete_quote(map_id: int, interview_id: int, observation_id: int):
    """Hide a quote with an undo notice."""
    item = get_interview_or_404(map_id, interview_id)
    quote = get_quote_or_404(map_id, item, observation_id)
    label = _("quote from %(manager)s", manager=item.manager)
    deletion = store.soft_delete([quote], map_id, current_user.id, label)
    db.session.commit()
    back = url_for("evidence.interview", map_id=map_id, interview_id=item.id)
    undo_notice(label, deletion, back)
    if wants_fragment():
        return notices_partial()
    return redirect(back, 303)
