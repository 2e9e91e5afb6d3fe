"""Commit a survey import: validate, create missing elements, write observations — all in one
transaction, in a background thread for long files.

Progress and cancellation: the rows must land atomically, so the import's own transaction never
commits early. Progress (done_rows) is written through a SEPARATE short connection while rows are
validated and prepared, and that same connection reads cancel_requested; the prepared rows are then
inserted and committed at once. SQLite allows one writer, so during the final insert progress is not
written there; on PostgreSQL cancel_requested is also read between insert chunks. Progress lives in
the database, so with several workers any worker can report it, although the thread runs in the
worker that received the commit request (a restart of that worker leaves the import "importing";
nothing is half-written because nothing was committed)."""

import threading
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy import insert, select, update

from .. import store
from ..extensions import db
from ..models import Channel, Observation, Segment, Stage, SurveyImport, Touchpoint
from .mapping import VALUE_KINDS, carry_columns, resolve, suggest_columns, suggest_values
from .reading import ReadError, Table, read_table
from .validate import Validation, distinct_values, validate

CHUNK = 500
SYNC_ROWS = 2000
MAX_REPORTED_ERRORS = 1000
MODELS = {"stage": Stage, "channel": Channel, "segment": Segment, "touchpoint": Touchpoint}
_threads: dict[int, threading.Thread] = {}


class Cancelled(Exception):
    """The user asked to cancel; everything is rolled back."""


@dataclass
class Prepared:
    """A file read with its settings: the table, the column and value mappings in force."""

    table: Table | None
    columns: list[str] = field(default_factory=list)
    distinct: dict[str, list[str]] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    elements: dict[str, list[dict]] = field(default_factory=dict)
    error: str | None = None

    @property
    def headers(self) -> list[str]:
        return self.table.headers if self.table else []


def elements(journey_id: int) -> dict[str, list[dict]]:
    """The map's live stages, channels, segments and touchpoints, as plain dicts for matching."""
    found = {}
    for kind, model in MODELS.items():
        rows = db.session.scalars(store.live(model, journey_id).order_by(*store.order(model)))
        found[kind] = [
            {
                "id": r.id,
                "key": r.key,
                "name": r.name,
                **(
                    {"stage_id": r.stage_id, "channel_id": r.channel_id}
                    if kind == "touchpoint"
                    else {}
                ),
            }
            for r in rows
        ]
    stages = {e["id"] for e in found["stage"]}
    channels = {e["id"] for e in found["channel"]}
    # A touchpoint on a hidden stage or channel is hidden with it.
    found["touchpoint"] = [
        t for t in found["touchpoint"] if t["stage_id"] in stages and t["channel_id"] in channels
    ]
    return found


def prepare(data: bytes, filename: str, settings: dict, journey_id: int) -> Prepared:
    """Read the file with the chosen options and work out the mappings in force: the user's
    where given (carried over by header name to a new file), else the suggestions."""
    try:
        table = read_table(
            data,
            filename,
            encoding=settings.get("encoding") or None,
            delimiter=settings.get("delimiter") or None,
            header_row=settings.get("header_row") or None,
        )
    except ReadError as e:
        return Prepared(None, error=str(e))
    headers = table.headers
    if settings.get("columns") and settings.get("headers") == headers:
        columns = list(settings["columns"])
    elif settings.get("columns"):
        columns = carry_columns(settings.get("headers") or [], settings["columns"], headers)
    else:
        columns = suggest_columns(headers)
    found = elements(journey_id)
    distinct = distinct_values(table, columns)
    values = suggest_values(distinct, found)
    for kind, chosen in (settings.get("values") or {}).items():
        for value, decision in chosen.items():
            if kind in values and value in values[kind]:
                values[kind][value] = resolve(decision, kind, found[kind]) or values[kind][value]
    return Prepared(table, columns, distinct, values, found)


def prepare_import(imp: SurveyImport, overrides: dict | None = None) -> Prepared:
    """prepare() for a stored upload, with optional parsing overrides (preview form)."""
    return prepare(
        imp.data, imp.filename, {**(imp.settings or {}), **(overrides or {})}, imp.journey_id
    )


def report_of(prepared: Prepared, checked: Validation | None) -> dict:
    """The validation report stored in SurveyImport.report and shown to the user."""
    if checked is None:
        return {
            "valid": 0,
            "invalid": 0,
            "errors": [],
            "error_count": 0,
            "read_error": prepared.error,
        }
    return {
        **checked.counts,
        "total": checked.counts["valid"] + checked.counts["invalid"],
        "errors": [e.as_dict() for e in checked.errors[:MAX_REPORTED_ERRORS]],
        "error_count": len(checked.errors),
        "read_error": None,
    }


def check(prepared: Prepared) -> tuple[Validation | None, dict]:
    """Validate the whole file: (validation or None if unreadable, report)."""
    if prepared.table is None:
        return None, report_of(prepared, None)
    checked = validate(prepared.table, prepared.columns, prepared.values)
    return checked, report_of(prepared, checked)


def write_progress(import_id: int, done: int) -> bool:
    """Store progress in its own short transaction; True if the user asked to cancel."""
    table = SurveyImport.__table__
    with db.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == import_id).values(done_rows=done))
        return bool(conn.scalar(select(table.c.cancel_requested).where(table.c.id == import_id)))


def cancel_asked(import_id: int) -> bool:
    """Read cancel_requested outside the import's transaction."""
    table = SurveyImport.__table__
    with db.engine.connect() as conn:
        return bool(conn.scalar(select(table.c.cancel_requested).where(table.c.id == import_id)))


def create_elements(journey_id: int, rows: list[tuple[int, dict]]) -> None:
    """Create the stages, channels, segments and touchpoints the rows ask for ("new"), then put
    their ids into the rows. Touchpoints are created per (name, stage, channel)."""
    made: dict[tuple, int] = {}

    def make(model, name, prefix, **extra) -> int:
        row = model(
            journey_id=journey_id,
            key=store.new_key(model, journey_id, name, prefix),
            name=name[: model.name.type.length],
            position=store.next_position(model, journey_id),
            **extra,
        )
        db.session.add(row)
        db.session.flush()
        return row.id

    for _, fields in rows:
        for kind in ("stage", "channel", "segment"):
            value = fields[kind]
            if isinstance(value, tuple):
                ident = (kind, store_norm(value[1]))
                if ident not in made:
                    made[ident] = make(MODELS[kind], value[1], kind)
                fields[kind] = made[ident]
        value = fields["touchpoint"]
        if isinstance(value, tuple):
            ident = ("touchpoint", store_norm(value[1]), fields["stage"], fields["channel"])
            if ident not in made:
                made[ident] = make(
                    Touchpoint, value[1], "touchpoint",
                    stage_id=fields["stage"], channel_id=fields["channel"],
                )  # fmt: skip
            fields["touchpoint"] = made[ident]


def store_norm(name: str) -> str:
    """Values that differ only in case or «ё» create one element."""
    from .mapping import norm

    return norm(name)


def observation_row(journey_id: int, import_id: int | None, fields: dict, frame: dict) -> dict:
    """Column values of one Observation; stage and channel come from the touchpoint if any."""
    stage, channel = fields["stage"], fields["channel"]
    if fields["touchpoint"] is not None:
        stage, channel = frame[fields["touchpoint"]]
    return {
        "journey_id": journey_id,
        "touchpoint_id": fields["touchpoint"],
        "stage_id": stage,
        "channel_id": channel,
        "segment_id": fields["segment"],
        "source": "survey",
        "observed_on": fields["observed_on"],
        "respondent": fields["respondent"],
        "csat": fields["csat"],
        "nps": fields["nps"],
        "ces": fields["ces"],
        "verbatim": fields["verbatim"],
        "import_id": import_id,
    }


def write_rows(journey_id: int, import_id: int | None, rows, check_cancel=None) -> int:
    """Insert the observations in chunks (inside the caller's transaction); returns the count."""
    create_elements(journey_id, rows)
    frame = {
        t.id: (t.stage_id, t.channel_id)
        for t in db.session.scalars(select(Touchpoint).where(Touchpoint.journey_id == journey_id))
    }
    for start in range(0, len(rows), CHUNK):
        chunk = [
            observation_row(journey_id, import_id, f, frame) for _, f in rows[start : start + CHUNK]
        ]
        db.session.execute(insert(Observation), chunk)
        if check_cancel and check_cancel():
            raise Cancelled
    return len(rows)


def run(
    import_id: int,
    valid_only: bool,
    chunk: int = CHUNK,
    prepared: Prepared | None = None,
    checked: Validation | None = None,
) -> SurveyImport:
    """The import itself (in the caller's app context): validate in chunks with progress and
    cancel checks, then write every row in one transaction. Any failure rolls back everything.
    A caller that has just prepared and validated this very upload (the CLI) passes both, so
    the file is not read and checked twice."""
    imp = db.session.get(SurveyImport, import_id)
    try:
        prepared = prepared or prepare_import(imp)
        if prepared.table is None:
            raise ReadError(prepared.error)
        data = prepared.table.data_rows
        imp.total_rows = len(data)
        write_total(import_id, len(data))
        if checked is None:
            checked = validate_in_chunks(import_id, prepared, chunk)
        valid, invalid = checked.rows, checked.invalid_rows
        report = report_of(prepared, checked)
        if invalid and not valid_only:
            raise ImportRefused(report, "invalid rows: fix them or import only the valid rows")
        if not valid:
            raise ImportRefused(report, "no valid rows")
        if cancel_asked(import_id):
            raise Cancelled
        concurrent = db.engine.dialect.name != "sqlite"
        imported = write_rows(
            imp.journey_id,
            import_id,
            valid,
            (lambda: cancel_asked(import_id)) if concurrent else None,
        )
        imp.status, imp.done_rows = "done", len(data)
        imp.report = {**report, "imported": imported}
        db.session.commit()
    except Cancelled:
        db.session.rollback()
        finish(import_id, "cancelled", {"imported": 0})
    except ImportRefused as e:
        db.session.rollback()
        finish(import_id, "failed", {**e.report, "imported": 0, "message": e.message})
    except Exception as e:
        db.session.rollback()
        finish(import_id, "failed", {"imported": 0, "message": f"{type(e).__name__}: {e}"})
        if not isinstance(e, ReadError | ValueError):
            current_app.logger.exception("survey import %s failed", import_id)
    return db.session.get(SurveyImport, import_id)


def validate_in_chunks(import_id: int, prepared: Prepared, chunk: int) -> Validation:
    """Validate every data row, writing progress (and reading Cancel) after each chunk."""
    data = prepared.table.data_rows
    valid, errors, invalid = [], [], 0
    for start in range(0, len(data), chunk):
        part = validate(
            prepared.table, prepared.columns, prepared.values, data[start : start + chunk]
        )
        valid.extend(part.rows)
        errors.extend(part.errors)
        invalid += part.invalid_rows
        if write_progress(import_id, min(start + chunk, len(data))):
            raise Cancelled
    return Validation(valid, errors, invalid)


class ImportRefused(Exception):
    """Nothing to import, or invalid rows without "valid rows only"."""

    def __init__(self, report: dict, message: str):
        super().__init__(message)
        self.report, self.message = report, message


def write_total(import_id: int, total: int) -> None:
    """Store the row count at once, so the progress bar has its maximum."""
    table = SurveyImport.__table__
    with db.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == import_id).values(total_rows=total))


def finish(import_id: int, status: str, report: dict) -> None:
    """Record how a rolled-back import ended (after the rollback, in a fresh transaction)."""
    imp = db.session.get(SurveyImport, import_id)
    imp.status = status
    imp.report = {**(imp.report or {}), **report}
    db.session.commit()


def claim(import_id: int) -> bool:
    """Mark an import as running unless it already runs or is done (a double click starts one)."""
    table = SurveyImport.__table__
    result = db.session.execute(
        update(table)
        .where(table.c.id == import_id, table.c.status.not_in(("importing", "done")))
        .values(status="importing", cancel_requested=False, done_rows=0)
    )
    db.session.commit()
    return result.rowcount == 1


def start(import_id: int, valid_only: bool, rows: int) -> threading.Thread | None:
    """Run a claimed import: inline when small, else in a thread with its own app context."""
    limit = current_app.config.get("IMPORT_SYNC_ROWS", SYNC_ROWS)
    if rows < limit:
        run(import_id, valid_only)
        return None
    app = current_app._get_current_object()
    thread = threading.Thread(target=worker, args=(app, import_id, valid_only), daemon=True)
    _threads[import_id] = thread
    thread.start()
    return thread


def worker(app: Flask, import_id: int, valid_only: bool) -> None:
    """Thread body: a fresh app context (and so its own DB session) for the import."""
    with app.app_context():
        try:
            run(import_id, valid_only)
        finally:
            db.session.remove()
            _threads.pop(import_id, None)


def wait(import_id: int, timeout: float = 30) -> None:
    """Join an import's thread if this process runs one (tests and the CLI use it)."""
    thread = _threads.get(import_id)
    if thread is not None:
        thread.join(timeout)


def request_cancel(imp: SurveyImport) -> None:
    """Ask a running import to stop (the worker rolls back at its next check)."""
    if imp.status == "importing":
        imp.cancel_requested = True
    db.session.commit()


__all__ = ["VALUE_KINDS", "prepare", "prepare_import", "check", "run", "start", "claim"]
