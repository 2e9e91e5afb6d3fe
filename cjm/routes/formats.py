"""The open formats on the web: download a map in any registered format (GraphML, CSV, Mermaid,
SVG, PNG, JSON …), a page listing them with the CSV tables one by one, and the import of a
Mermaid `journey` text as a new map. Formats themselves live in cjm/export."""

from urllib.parse import quote

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import TextAreaField

from .. import store
from ..access import guard
from ..export import csv_tables, load_formats
from ..export import mermaid as mermaid_format
from ..journey.mermaid import MermaidError
from ..journey.model import ValidationError
from ..web import render

bp = Blueprint("formats", __name__)

TABLE_LABELS = {
    "touchpoints": _l("Touchpoints"),
    "transitions": _l("Transitions"),
    "barriers": _l("Barriers"),
    "strategies": _l("Strategies"),
    "evidence": _l("Evidence (observations)"),
}
assert tuple(TABLE_LABELS) == csv_tables.TABLES
CSV_FORMATS = ("csv", "csv-semicolon")
# Characters no file name may carry on some system (and quotes, which break the header).
UNSAFE_NAME = str.maketrans({c: "_" for c in '\\/:*?"<>|\r\n\t'})


def content_disposition(title: str, suffix: str, part: str = "") -> str:
    """`attachment` with an ASCII file name and, for any other characters, RFC 5987's
    filename* (UTF-8, percent-encoded): "Путь клиента.csv" stays Cyrillic where supported.
    `part` (an ASCII word such as a table name) follows the title in both."""
    ascii_name = store.slug(title, "map") + (f"-{part}" if part else "") + suffix
    name = " ".join(title.translate(UNSAFE_NAME).split())[:120] or "map"
    name += (f" - {part}" if part else "") + suffix
    header = f'attachment; filename="{ascii_name}"'
    if not name.isascii():
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


@bp.route("/maps/<int:map_id>/export/<fmt>")
@guard("view")
def download(map_id: int, fmt: str):
    """The map as a file in format `fmt`; CSV takes ?table= (one table, else a zip of all)
    and ?separator=; (for Russian-locale Excel, with decimal commas)."""
    formats = load_formats()
    if fmt not in formats:
        abort(404)
    found = formats[fmt]
    options = {}
    suffix, mimetype, part = found.suffix, found.mimetype, ""
    if fmt in CSV_FORMATS:
        table = request.args.get("table") or None
        separator = request.args.get("separator") or None
        if table is not None and table not in csv_tables.TABLES:
            abort(404)
        if separator is not None and separator not in csv_tables.SEPARATORS:
            abort(400)
        options = {"table": table, "separator": separator}
        if table:
            suffix, mimetype, part = ".csv", "text/csv; charset=utf-8", table
    response = current_app.response_class(found.render(map_id, options), mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(g.journey.title, suffix, part)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/maps/<int:map_id>/formats")
@guard("view")
def index(map_id: int):
    """Every open format of the map, the CSV tables one by one, and the Mermaid text to copy."""
    journey = store.load_journey(map_id)
    formats = load_formats()
    return render(
        "formats/index.html",
        journey=journey,
        formats=formats,
        tables=TABLE_LABELS,
        journey_text=mermaid_format.main_path_text(map_id),
        flowchart_text=formats["mermaid-flowchart"].render(map_id, {}).decode("utf-8"),
    )


class MermaidForm(FlaskForm):
    file = FileField(_l("A Mermaid file"), render_kw={"accept": ".mmd,.mermaid,.txt,text/plain"})
    text = TextAreaField(
        _l("… or paste the Mermaid journey here"), render_kw={"rows": 14, "spellcheck": "false"}
    )


EXAMPLE = """journey
  title Buying a kettle online
  section Awareness
    Sees an ad: 4: Anna
  section Purchase
    Fills the cart: 3: Anna
    Pays: 5: Anna
"""


@bp.route("/maps/import/mermaid", methods=["GET", "POST"])
@guard("user")
def import_mermaid():
    """A new map from an uploaded or pasted Mermaid `journey` (sections → stages, tasks →
    touchpoints on one channel, score → emotion); line-numbered errors, nothing half-written."""
    form = MermaidForm()
    errors: list[tuple[int | str, str]] = []
    status = 200
    if form.is_submitted():
        status = 422
    if form.validate_on_submit():
        upload = form.file.data
        raw = upload.read(mermaid_format.MAX_BYTES + 1) if upload and upload.filename else None
        if raw is None:
            raw = (form.text.data or "").strip().encode("utf-8")
        if len(raw) > mermaid_format.MAX_BYTES:
            status = 413
            form.file.errors.append(
                _("The text is larger than %(kib)s KiB.", kib=mermaid_format.MAX_BYTES // 1024)
            )
        elif not raw:
            form.file.errors.append(_("Choose a file or paste the Mermaid text."))
        else:
            try:
                row = mermaid_format.import_journey(raw, current_user.id)
            except MermaidError as e:
                errors = mermaid_format.messages(e)
            except ValidationError as e:
                errors = list(e.field_errors.items())
            else:
                flash(_("Map “%(title)s” imported.", title=row.title))
                return redirect(url_for("maps.show", map_id=row.id), 303)
    return render("formats/import.html", form=form, errors=errors, example=EXAMPLE, status=status)
