"""Survey import, step by step: upload → preview and column mapping → value mapping → validation
report → commit (in the background for long files, with progress and cancel); and the
web-analytics volumes upload with its stage funnel. The reading, mapping and validation rules live
in cjm.survey; these views only move the user through them."""

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from ..access import guard
from ..extensions import db
from ..models import SurveyImport
from ..survey import analytics, importer
from ..survey.mapping import CREATABLE, TARGETS, VALUE_KINDS, norm
from ..survey.reading import DELIMITERS, ReadError
from ..web import render

bp = Blueprint("imports", __name__)

MAX_BYTES = 20 * 1024 * 1024
# Room for the multipart envelope around a file of exactly the limit.
MULTIPART_SLACK = 64 * 1024
PREVIEW_ROWS = 10
ENCODINGS = {
    "": _l("Detect"),
    "utf_8": "UTF-8",
    "utf_8_sig": _l("UTF-8 with BOM"),
    "cp1251": "Windows-1251",
    "koi8_r": "KOI8-R",
    "cp866": "CP866",
    "utf_16": "UTF-16",
}
DELIMITER_LABELS = {"": _l("Detect"), ";": _l("Semicolon ;"), ",": _l("Comma ,"), "\t": _l("Tab")}
TARGET_LABELS = {
    "": _l("Ignore"),
    "date": _l("Date"),
    "respondent": _l("Respondent"),
    "segment": _l("Segment"),
    "stage": _l("Stage"),
    "channel": _l("Channel"),
    "touchpoint": _l("Touchpoint"),
    "csat": _l("CSAT (1–5)"),
    "nps": _l("NPS answer (0–10)"),
    "ces": _l("CES (1–7)"),
    "comment": _l("Comment"),
}
assert set(TARGET_LABELS) == {"", *TARGETS}
KIND_LABELS = {
    "stage": _l("Stages"),
    "channel": _l("Channels"),
    "touchpoint": _l("Touchpoints"),
    "segment": _l("Segments"),
}
REASONS = {
    "not-a-number": _l("not a number"),
    "not-whole": _l("not a whole number"),
    "out-of-range": _l("out of range (%(low)s–%(high)s)"),
    "not-a-date": _l("not a date (DD.MM.YYYY or YYYY-MM-DD)"),
    "impossible-date": _l("impossible date"),
    "too-long": _l("too long (at most %(limit)s characters)"),
    "unknown": _l("unknown %(kind)s “%(value)s”"),
    "new-touchpoint-needs-frame": _l("a new touchpoint needs the row's stage and channel"),
    "no-measure": _l("no CSAT, NPS, CES or comment"),
    "no-place": _l("no touchpoint, stage or channel"),
    "required": _l("empty"),
    "missing-column": _l("no such column in the file"),
}
STATUS_LABELS = {
    "uploaded": _l("uploaded"),
    "validated": _l("checked"),
    "importing": _l("importing"),
    "done": _l("imported"),
    "failed": _l("failed"),
    "cancelled": _l("cancelled"),
}


def reason(error: dict) -> str:
    """A report entry's reason in the UI language."""
    text = REASONS.get(error.get("code"))
    return str(text) % error.get("params", {}) if text else error.get("reason", "")


@bp.app_context_processor
def import_helpers():
    return {"import_reason": reason, "import_status": STATUS_LABELS}


def get_import_or_404(import_id: int) -> SurveyImport:
    """A survey import of the map guarded in g.journey."""
    imp = db.session.get(SurveyImport, import_id)
    if imp is None or imp.journey_id != g.journey.id:
        abort(404)
    return imp


def max_bytes() -> int:
    """The upload limit (CJM_IMPORT_MAX_BYTES, default 20 MiB)."""
    return int(current_app.config.get("IMPORT_MAX_BYTES", MAX_BYTES))


def read_upload(field: str = "file") -> tuple[str, bytes] | None:
    """(filename, bytes) of the uploaded file, None if none was sent; RequestEntityTooLarge when
    over the limit. The app-wide MAX_CONTENT_LENGTH is raised for this request only."""
    limit = max_bytes()
    request.max_content_length = limit + MULTIPART_SLACK
    if request.content_length and request.content_length > limit + MULTIPART_SLACK:
        raise RequestEntityTooLarge
    upload = request.files.get(field)
    if upload is None or not upload.filename:
        return None
    try:
        data = upload.read(limit + 1)
    finally:
        upload.close()  # a large upload is spooled to a temporary file
    if len(data) > limit:
        raise RequestEntityTooLarge
    return upload.filename[-255:], data


def too_large(template: str, **context):
    """413 with the form again and a message that says the limit."""
    mib = max_bytes() / (1024 * 1024)
    message = _(
        "The file is larger than the %(limit)s MiB limit. "
        "Split it or remove the columns you do not need.",
        limit=f"{mib:g}",
    )
    return render(template, status=413, upload_error=message, **context)


def recent_imports(map_id: int) -> list[SurveyImport]:
    """The map's latest uploads, newest first."""
    return db.session.scalars(
        db.select(SurveyImport)
        .where(SurveyImport.journey_id == map_id)
        .order_by(SurveyImport.id.desc())
        .limit(20)
    ).all()


@bp.route("/maps/<int:map_id>/imports/new", methods=["GET", "POST"])
@guard("edit")
def new(map_id: int):
    """Upload a survey export (CSV or XLSX)."""
    context = {"journey": g.journey, "imports": recent_imports(map_id)}
    if request.method == "GET":
        return render("imports/new.html", **context)
    try:
        upload = read_upload()
    except RequestEntityTooLarge:
        return too_large("imports/new.html", **context)
    if upload is None:
        return render("imports/new.html", status=422, upload_error=_("Choose a file."), **context)
    filename, data = upload
    imp = SurveyImport(
        journey_id=map_id,
        user_id=current_user.id,
        filename=filename,
        data=data,
        settings={"source": "survey"},
    )
    db.session.add(imp)
    db.session.commit()
    return redirect(url_for("imports.show", map_id=map_id, import_id=imp.id), 303)


def parse_options(source) -> dict:
    """Encoding, separator and header row chosen by the user (empty = detect)."""
    encoding = source.get("encoding", "")
    delimiter = source.get("delimiter", "")
    delimiter = "\t" if delimiter in ("tab", "\\t") else delimiter
    header = source.get("header_row", "").strip()
    return {
        "encoding": encoding if encoding in ENCODINGS else "",
        "delimiter": delimiter if delimiter in DELIMITERS else "",
        "header_row": int(header) if header.isdigit() and int(header) > 0 else None,
    }


def step_context(imp: SurveyImport, **extra) -> dict:
    """What every step page shows: the map, the import, the steps."""
    return {"journey": g.journey, "imp": imp, **extra}


@bp.route("/maps/<int:map_id>/imports/<int:import_id>")
@guard("edit")
def show(map_id: int, import_id: int):
    """Preview the file as read, override encoding/separator/header row, map the columns."""
    imp = get_import_or_404(import_id)
    options = parse_options(request.args) if request.args else {}
    prepared = importer.prepare_import(imp, options)
    table = prepared.table
    shown = {
        "encoding": options.get("encoding", imp.settings.get("encoding", "")),
        "delimiter": options.get("delimiter", imp.settings.get("delimiter", "")),
        "header_row": table.header_row if table else None,
    }
    return render(
        "imports/show.html",
        **step_context(
            imp,
            prepared=prepared,
            preview=table.data_rows[:PREVIEW_ROWS] if table else [],
            row_count=len(table.data_rows) if table else 0,
            options=shown,
            encodings=ENCODINGS,
            delimiters=DELIMITER_LABELS,
            targets=TARGET_LABELS,
        ),
        status=200 if table else 422,
    )


@bp.route("/maps/<int:map_id>/imports/<int:import_id>/columns", methods=["POST"])
@guard("edit")
def columns(map_id: int, import_id: int):
    """Save the reading options and the column mapping, then go on to the values."""
    imp = get_import_or_404(import_id)
    options = parse_options(request.form)
    prepared = importer.prepare_import(imp, options)
    if prepared.table is None:
        return redirect(url_for("imports.show", map_id=map_id, import_id=import_id), 303)
    headers = prepared.headers
    chosen = [request.form.get(f"column-{i}", "") for i in range(len(headers))]
    chosen = (
        [t if t in TARGETS else "" for t in chosen]
        if "column-0" in request.form
        else prepared.columns
    )
    doubled = {t for t in chosen if t and chosen.count(t) > 1}
    if doubled:
        flash(
            _(
                "Each target can be chosen for one column only: %(targets)s.",
                targets=", ".join(str(TARGET_LABELS[t]) for t in sorted(doubled)),
            ),
            "error",
        )
        return redirect(
            url_for("imports.show", map_id=map_id, import_id=import_id, **request_options(options)),
            303,
        )
    imp.settings = {
        **imp.settings,
        **options,
        "header_row": prepared.table.header_row,
        "headers": headers,
        "columns": chosen,
    }
    db.session.commit()
    return redirect(url_for("imports.values", map_id=map_id, import_id=import_id), 303)


def request_options(options: dict) -> dict:
    """Reading options as GET parameters for the preview."""
    return {
        "encoding": options.get("encoding") or "",
        "delimiter": "tab" if options.get("delimiter") == "\t" else options.get("delimiter") or "",
        "header_row": options.get("header_row") or "",
    }


def value_choices(prepared, kind: str) -> dict:
    """The choices for one value of a kind: the map's elements, create (where allowed), ignore."""
    labels = {"": _("— choose —")}
    labels |= {f"id:{e['id']}": e["name"] for e in prepared.elements.get(kind, [])}
    can_create = kind != "touchpoint" or {"stage", "channel"} <= set(prepared.columns)
    if kind in CREATABLE and can_create:
        labels["new"] = _("Create it")
    labels["ignore"] = _("Leave empty")
    return labels


@bp.route("/maps/<int:map_id>/imports/<int:import_id>/values", methods=["GET", "POST"])
@guard("edit")
def values(map_id: int, import_id: int):
    """Match the file's stage/channel/touchpoint/segment names to the map's elements."""
    imp = get_import_or_404(import_id)
    prepared = importer.prepare_import(imp)
    if prepared.table is None:
        return redirect(url_for("imports.show", map_id=map_id, import_id=import_id), 303)
    groups = []
    for kind in VALUE_KINDS:
        if kind not in prepared.distinct:
            continue
        choices = value_choices(prepared, kind)
        entries = []
        for i, value in enumerate(prepared.distinct[kind]):
            decision = prepared.values[kind].get(norm(value), "")
            if not decision:
                decision = "new" if "new" in choices else ""
            entries.append(
                {
                    "name": f"{kind}-{i}",
                    "value": value,
                    "decision": decision,
                    "matched": prepared.values[kind].get(norm(value), "").startswith("id:"),
                }
            )
        groups.append(
            {"kind": kind, "label": KIND_LABELS[kind], "choices": choices, "entries": entries}
        )
    if request.method == "POST":
        chosen = {}
        for group in groups:
            picked = chosen.setdefault(group["kind"], {})
            for entry in group["entries"]:
                decision = request.form.get(entry["name"], entry["decision"])
                picked[norm(entry["value"])] = decision if decision in group["choices"] else ""
        imp.settings = {**imp.settings, "values": chosen}
        db.session.flush()
        report = importer.check(importer.prepare_import(imp))[1]
        imp.report, imp.status = report, "validated"
        db.session.commit()
        return redirect(url_for("imports.report", map_id=map_id, import_id=import_id), 303)
    return render("imports/values.html", **step_context(imp, groups=groups))


@bp.route("/maps/<int:map_id>/imports/<int:import_id>/report")
@guard("edit")
def report(map_id: int, import_id: int):
    """The validation report: every bad cell by row number, and what to do about them."""
    imp = get_import_or_404(import_id)
    result = (
        imp.report
        if imp.report and "valid" in imp.report
        else importer.check(importer.prepare_import(imp))[1]
    )
    return render("imports/report.html", **step_context(imp, result=result))


@bp.route("/maps/<int:map_id>/imports/<int:import_id>/retry", methods=["POST"])
@guard("edit")
def retry(map_id: int, import_id: int):
    """Fix and retry: a corrected file replaces the upload, the mapping is kept."""
    imp = get_import_or_404(import_id)
    if imp.status in ("importing", "done"):
        return redirect(url_for("imports.progress", map_id=map_id, import_id=import_id), 303)
    result = (
        imp.report
        if imp.report and "valid" in imp.report
        else {"valid": 0, "invalid": 0, "errors": []}
    )
    try:
        upload = read_upload()
    except RequestEntityTooLarge:
        return too_large("imports/report.html", **step_context(imp, result=result))
    if upload is None:
        return render(
            "imports/report.html",
            status=422,
            upload_error=_("Choose a file."),
            **step_context(imp, result=result),
        )
    imp.filename, imp.data = upload
    # The reading options are detected afresh (a corrected file may be saved differently).
    imp.settings = {
        k: v for k, v in imp.settings.items() if k not in ("encoding", "delimiter", "header_row")
    }
    db.session.flush()
    imp.report = importer.check(importer.prepare_import(imp))[1]
    imp.status = "validated"
    db.session.commit()
    return redirect(url_for("imports.report", map_id=map_id, import_id=import_id), 303)


@bp.route("/maps/<int:map_id>/imports/<int:import_id>/commit", methods=["POST"])
@guard("edit")
def commit(map_id: int, import_id: int):
    """Import: all rows (refused if any is invalid) or only the valid ones."""
    imp = get_import_or_404(import_id)
    valid_only = request.form.get("valid_only") == "1"
    rows = (imp.report or {}).get("total") or 0
    if importer.claim(import_id):
        importer.start(import_id, valid_only, rows)
    return redirect(url_for("imports.progress", map_id=map_id, import_id=import_id), 303)


@bp.route("/maps/<int:map_id>/imports/<int:import_id>/progress")
@guard("edit")
def progress(map_id: int, import_id: int):
    """The import's progress bar (htmx polls the fragment every second until it ends)."""
    imp = get_import_or_404(import_id)
    db.session.refresh(imp)
    return render("imports/progress.html", "imports/_progress.html", **step_context(imp))


@bp.route("/maps/<int:map_id>/imports/<int:import_id>/cancel", methods=["POST"])
@guard("edit")
def cancel(map_id: int, import_id: int):
    """Ask a running import to stop; it rolls back everything."""
    imp = get_import_or_404(import_id)
    importer.request_cancel(imp)
    return redirect(url_for("imports.progress", map_id=map_id, import_id=import_id), 303)


def funnel_context(map_id: int) -> dict:
    """The analytics page: periods, metrics and the stage funnel for the chosen pair."""
    periods = analytics.periods(map_id)
    metrics = analytics.metrics(map_id)
    metric = request.args.get("metric")
    metric = metric if metric in metrics else (metrics[0] if metrics else None)
    labels = [f"{p[0].isoformat()}..{p[1].isoformat()}" for p in periods]
    chosen = request.args.get("period")
    period = (
        periods[labels.index(chosen)] if chosen in labels else (periods[0] if periods else None)
    )
    funnel = analytics.stage_funnel(map_id, metric, period) if metric and period else []
    return {
        "journey": g.journey,
        "periods": list(zip(labels, periods, strict=True)),
        "metrics": metrics,
        "metric": metric,
        "period": period,
        "funnel": funnel,
    }


@bp.route("/maps/<int:map_id>/imports/analytics")
@guard("view")
def analytics_page(map_id: int):
    """Web-analytics volumes: the stage funnel for a metric and period, and the upload form."""
    return render("imports/analytics.html", **funnel_context(map_id))


@bp.route("/maps/<int:map_id>/imports/analytics", methods=["POST"])
@guard("edit")
def analytics_upload(map_id: int):
    """Import a CSV of volumes per stage or transition; every row must be valid."""
    try:
        upload = read_upload()
    except RequestEntityTooLarge:
        return too_large("imports/analytics.html", **funnel_context(map_id))
    if upload is None:
        return render(
            "imports/analytics.html",
            status=422,
            upload_error=_("Choose a file."),
            **funnel_context(map_id),
        )
    try:
        result = analytics.import_volumes(upload[1], upload[0], map_id)
    except ReadError as e:
        db.session.rollback()
        return render(
            "imports/analytics.html", status=422, upload_error=str(e), **funnel_context(map_id)
        )
    if result.errors or not result.rows:
        db.session.rollback()
        errors = [e.as_dict() for e in result.errors]
        message = (
            _("Nothing was imported: fix these rows and upload again.")
            if errors
            else _("The file has no rows.")
        )
        return render(
            "imports/analytics.html",
            status=422,
            upload_error=message,
            volume_errors=errors,
            **funnel_context(map_id),
        )
    db.session.commit()
    flash(_("%(n)s figures imported.", n=len(result.rows)), "success")
    return redirect(url_for("imports.analytics_page", map_id=map_id), 303)
