"""Exporting a map: the dialog (poster PDF options and links to the open formats), the poster
PDF (directly for small maps, in a background job with a progress bar for large ones), and the
print view (the same board with print CSS, for Ctrl+P). The poster itself is cjm.export.pdf;
jobs are cjm.export.jobs."""

from flask import Blueprint, abort, current_app, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import RadioField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired

from .. import store
from ..access import guard
from ..export import jobs, load_formats
from ..export import pdf as poster
from ..export.sheets import PAPERS
from ..extensions import db
from ..forms import choices
from ..models import Persona, Segment, Touchpoint
from ..web import render
from .barriers import CheckboxesField

bp = Blueprint("exports", __name__)

ORIENTATION_LABELS = {"landscape": _l("Landscape"), "portrait": _l("Portrait")}
LAYOUT_LABELS = {
    "fit": _l(
        "Fit to one page (scaled down, never cut; tiled instead if text would get too small)"
    ),
    "tiled": _l("Tiled across several sheets at full size, with overlap and crop marks"),
}
STEP_LABELS = {
    "queued": _l("Waiting to start"),
    "data": _l("Gathering the map's data"),
    "layout": _l("Laying out the poster"),
    "pdf": _l("Writing the PDF"),
    "done": _l("Ready"),
}
assert tuple(STEP_LABELS) == jobs.STEPS


class PosterForm(FlaskForm):
    paper = SelectField(_l("Paper"), choices=[SelectChoice(p, p) for p in PAPERS], default="A3")
    orientation = RadioField(
        _l("Orientation"), choices=choices(ORIENTATION_LABELS), default="landscape"
    )
    layout = RadioField(_l("Layout"), choices=choices(LAYOUT_LABELS), default="fit")
    lanes = CheckboxesField(
        _l("Lanes (rows of the board)"),
        choices=choices(poster.LANES),
        default=list(poster.LANES),
        validators=[InputRequired(_l("Choose at least one lane."))],
    )
    persona = SelectField(_l("Persona card"), validate_choice=True)
    segment = SelectField(_l("Evidence of"), validate_choice=True)
    language = SelectField(
        _l("Language"), choices=choices(poster.LANGUAGES), validators=[DataRequired()]
    )


def poster_form(map_id: int, formdata=None) -> PosterForm:
    """The dialog's form with this map's personas and segments and its language by default."""
    form = PosterForm(formdata=formdata, language=g.journey.language)
    personas = db.session.scalars(store.live(Persona, map_id).order_by(*store.order(Persona)))
    form.persona.choices = [SelectChoice("", _("The primary persona"))] + [
        SelectChoice(str(p.id), p.name) for p in personas
    ]
    segments = db.session.scalars(store.live(Segment, map_id).order_by(*store.order(Segment)))
    form.segment.choices = [SelectChoice("", _("All customers"))] + [
        SelectChoice(str(s.id), s.name) for s in segments
    ]
    return form


def other_formats(map_id: int) -> list[tuple[str, str]]:
    """(label, URL) of every registered format but the poster, for the dialog's links."""
    if "formats.download" not in current_app.view_functions:
        return []
    return [
        (f.label, url_for("formats.download", map_id=map_id, fmt=f.name))
        for f in sorted(load_formats().values(), key=lambda f: f.name)
        if f.name != "pdf"
    ]


def dialog_page(map_id: int, form: PosterForm, status: int = 200, job: dict | None = None):
    """The export dialog (422 with the messages when the form was invalid)."""
    return render(
        "exports/dialog.html",
        status=status,
        journey=g.journey,
        form=form,
        formats=other_formats(map_id),
        min_text=current_app.config["POSTER_MIN_TEXT_PT"],
        sync_limit=current_app.config["EXPORT_SYNC_TOUCHPOINTS"],
    )


@bp.route("/maps/<int:map_id>/export")
@guard("view")
def dialog(map_id: int):
    """The export dialog: poster options, and links to the other formats."""
    return dialog_page(map_id, poster_form(map_id, formdata=None))


def touchpoint_count(map_id: int) -> int:
    """How many live touchpoints the map has (decides direct or background export)."""
    return db.session.scalar(
        select(func.count()).select_from(store.live(Touchpoint, map_id).subquery())
    )


def pdf_response(data: bytes, title: str):
    """A PDF download with a file name from the map's title (Cyrillic kept via filename*)."""
    from .formats import content_disposition

    response = current_app.response_class(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(title, ".pdf")
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/maps/<int:map_id>/export", methods=["POST"])
@guard("view")
def create(map_id: int):
    """Make the poster: small maps come back at once as the PDF; larger ones start a job and go
    to its progress page (the dialog polls it)."""
    form = poster_form(map_id, formdata=request.form)
    if not form.validate():
        return dialog_page(map_id, form, 422)
    options = {
        "paper": form.paper.data,
        "orientation": form.orientation.data,
        "tiled": form.layout.data == "tiled",
        "lanes": [lane for lane in poster.LANES if lane in form.lanes.data],
        "language": form.language.data,
        "persona": form.persona.data,
        "segment": form.segment.data,
    }
    if touchpoint_count(map_id) <= current_app.config["EXPORT_SYNC_TOUCHPOINTS"]:
        result = poster.render_poster(map_id, poster.PosterOptions.from_dict(options))
        return pdf_response(result.pdf, g.journey.title)
    job_id = jobs.start(map_id, current_user.id, options, g.journey.title)
    return redirect(url_for("exports.job", map_id=map_id, job_id=job_id), 303)


def own_job(map_id: int, job_id: str) -> dict:
    """The job if it is this user's export of this map; 410 if unknown, expired or another's
    (an id says nothing about whether it ever existed)."""
    found = jobs.status(job_id)
    if found is None or found["map_id"] != map_id or found["user_id"] != current_user.id:
        abort(410)
    return found


@bp.route("/maps/<int:map_id>/export/jobs/<job_id>")
@guard("view")
def job(map_id: int, job_id: str):
    """A background export's progress (htmx polls the fragment until it is ready)."""
    found = own_job(map_id, job_id)
    step = found["step"]
    return render(
        "exports/job.html",
        "exports/_job.html",
        journey=g.journey,
        job=found,
        job_id=job_id,
        step_labels=STEP_LABELS,
        step_index=jobs.STEPS.index(step) if step in jobs.STEPS else 0,
        steps=len(jobs.STEPS) - 1,
        running=step not in ("done", "failed"),
    )


@bp.route("/maps/<int:map_id>/export/jobs/<job_id>/download")
@guard("view")
def job_download(map_id: int, job_id: str):
    """The finished PDF of a background export."""
    found = own_job(map_id, job_id)
    data = jobs.result(job_id) if found["step"] == "done" else None
    if data is None:
        abort(410)
    return pdf_response(data, found["filename"])


@bp.route("/maps/<int:map_id>/print")
@guard("view")
def print_view(map_id: int):
    """The poster's board in the browser, with print CSS: for people who prefer Ctrl+P."""
    opts = poster.PosterOptions()
    context = poster.poster_context(map_id, opts)
    persona = context["persona"]
    if persona and persona.avatar_id:
        context["avatar_url"] = url_for("personas.image", map_id=map_id, image_id=persona.avatar_id)
    return poster.poster_document(context, poster.STAGE_COLUMN, "exports/print.html")


@bp.route("/export/poster.css")
@guard("public")
def poster_css():
    """The poster stylesheet for the print view (it lives with the templates, not in
    static/css, which every page links)."""
    response = current_app.response_class(poster.poster_css(), mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
