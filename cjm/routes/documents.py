"""The open `cjm-studio/1` document on the web: download a map, import one, serve the schema."""

from flask import Blueprint, current_app, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import TextAreaField

from .. import documents, store
from ..access import guard
from ..journey.model import ValidationError
from ..web import render

bp = Blueprint("documents", __name__)


class ImportForm(FlaskForm):
    file = FileField(_l("A cjm-studio/1 JSON file"), render_kw={"accept": ".json,application/json"})
    text = TextAreaField(
        _l("… or paste the JSON here"), render_kw={"rows": 10, "spellcheck": "false"}
    )


@bp.route("/maps/<int:map_id>/export.json")
@guard("view")
def export_json(map_id: int):
    """Download the map as a cjm-studio/1 JSON document."""
    body = documents.document_text(documents.export_document(map_id))
    response = current_app.response_class(
        body.encode("utf-8"), content_type="application/json; charset=utf-8"
    )
    response.headers.set(
        "Content-Disposition", "attachment", filename=store.slug(g.journey.title, "map") + ".json"
    )
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/maps/import", methods=["GET", "POST"])
@guard("user")
def import_json():
    """Create a new map from an uploaded or pasted cjm-studio/1 document (all or nothing)."""
    form = ImportForm()
    errors = []
    if form.validate_on_submit():
        upload = form.file.data
        raw = upload.read() if upload and upload.filename else (form.text.data or "").strip()
        if not raw:
            form.file.errors.append(_("Choose a file or paste the JSON."))
        else:
            try:
                row = documents.import_document(documents.parse_json(raw), current_user.id)
            except ValidationError as e:
                errors = list(e.field_errors.items())
            else:
                flash(_("Map “%(title)s” imported.", title=row.title))
                return redirect(url_for("maps.show", map_id=row.id), 303)
    status = 422 if form.is_submitted() else 200
    return render("documents/import.html", form=form, errors=errors, status=status)


@bp.route("/schema/cjm-studio-1.json")
@guard("public")
def schema():
    """The JSON Schema (draft 2020-12) of the cjm-studio/1 document."""
    response = current_app.response_class(
        documents.SCHEMA_PATH.read_bytes(), mimetype="application/schema+json"
    )
    response.headers["Cache-Control"] = "public, max-age=3600"
    # A public, static description: editors and validators on other origins may fetch it.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
