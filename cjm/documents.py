"""The `cjm-studio/1` document at the edges of the app: JSON Schema validation, all-or-nothing
import into rows, export from rows, and the `flask map import|export` commands."""

import json
import re
from functools import cache
from pathlib import Path

import click
from flask import current_app
from jsonschema import Draft202012Validator
from sqlalchemy import select

from . import evidence, store
from .extensions import db
from .journey import serialize
from .journey.model import ValidationError
from .models import Journey, Membership, User

SCHEMA_PATH = Path(__file__).parent / "journey" / serialize.SCHEMA_FILE
TITLE_MAX = 200  # the schema's (and the column's) longest map title
TOP = ("schema", "map", *serialize.SECTIONS)  # error lists follow the document's own order
# Readable messages for the schema's patterns (jsonschema would just quote the regex).
PATTERNS = {
    r"\S": "must not be blank",
    "^[a-z0-9][a-z0-9_-]*$": "a key uses lowercase letters a-z, digits, '-' and '_'",
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}$": "a date is written YYYY-MM-DD",
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$": (
        "a time is written in UTC as YYYY-MM-DDTHH:MM:SSZ"
    ),
}


@cache
def schema() -> dict:
    """The JSON Schema of the `cjm-studio/1` document (read once)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def validator() -> Draft202012Validator:
    """A reusable Draft 2020-12 validator for the document schema."""
    return Draft202012Validator(schema())


def parse_json(raw: bytes | str):
    """Decode an uploaded or pasted document (UTF-8, a BOM is fine); ValidationError at "$"."""
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw.lstrip("\ufeff")
    except UnicodeDecodeError:
        raise ValidationError({"$": "the file is not UTF-8 text"}) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValidationError(
            {"$": f"not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})"}
        ) from None


def _schema_errors(data) -> list[tuple[str, str]]:
    """Schema violations as (JSON path, message)."""
    found = []
    for error in validator().iter_errors(data):
        if error.validator == "required" and isinstance(error.instance, dict):
            # Point at the missing field itself, not at the object that lacks it.
            missing = [p for p in error.validator_value if p not in error.instance]
            found += [(f"{error.json_path}.{p}", "required") for p in missing]
        elif error.validator == "pattern":
            found.append((error.json_path, PATTERNS.get(error.validator_value, error.message)))
        else:
            found.append((error.json_path, error.message))
    return list(dict.fromkeys(found))


def _path_order(path: str) -> list:
    """Sort key in document order: sections as written, "$.touchpoints[2]" before "[10]"."""
    parts = [p for p in re.split(r"[.\[\]]+", path) if p and p != "$"]
    if not parts:
        return [-1]
    head = TOP.index(parts[0]) if parts[0] in TOP else len(TOP)
    return [head, *((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts[1:])]


def validate_document(data) -> list[tuple[str, str]]:
    """Every problem of a parsed document as (JSON path, message), in document order: the JSON
    Schema's findings and the duplicate-key / unknown-reference checks of from_document()."""
    errors = _schema_errors(data)
    paths = {path for path, _ in errors}
    errors += [(p, m) for p, m in serialize.reference_errors(data).items() if p not in paths]
    return sorted(errors, key=lambda e: _path_order(e[0]))


def import_document(data, owner_id: int) -> Journey:
    """Create a map from a parsed document, owned by owner_id, in one transaction.

    Raises ValidationError({path: message}) and writes nothing if the document is invalid or the
    write fails."""
    try:
        row = _add_document(data, owner_id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return row


def _add_document(data, owner_id: int) -> Journey:
    """Validate a parsed document and add it as a new map's rows (caller commits)."""
    errors = validate_document(data)
    if errors:
        merged: dict[str, str] = {}
        for path, message in errors:
            merged[path] = f"{merged[path]}; {message}" if path in merged else message
        raise ValidationError(merged)
    journey = serialize.from_document(data)
    row = store.add_journey(journey, owner_id)
    evidence.add_document_evidence(row.id, journey)
    store.add_plan(row.id, journey)
    return row


def create_to_be(map_id: int, user_id: int, title: str) -> Journey:
    """Copy an as-is map as its to-be map, through the document: the same keys (so stages,
    touchpoints and barriers match), state "to-be", owned by `user_id`, linked by as_is_id; the
    as-is map's owners and editors get the same role on it. One transaction.

    The evidence stays with the as-is map: it describes the present, and a to-be map is a plan,
    so evidence recorded on it later (after a launch, say) is its own and compares with the
    as-is evidence; barriers keep their evidence links on the as-is map only."""
    data = export_document(map_id)
    data["map"]["state"] = "to-be"
    data["map"]["title"] = title[:TITLE_MAX]
    data["evidence"] = []
    for barrier in data.get("barriers", []):
        barrier["evidence"] = []
    try:
        row = _add_document(data, user_id)
        row.as_is_id = map_id
        row.evidence_threshold = db.session.get(Journey, map_id).evidence_threshold
        editors = db.session.execute(
            select(Membership.user_id, Membership.role).where(
                Membership.journey_id == map_id,
                Membership.role.in_(("owner", "editor")),
                Membership.user_id != user_id,
            )
        )
        row.members.extend(Membership(user_id=u, role=role) for u, role in editors)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return row


def export_document(map_id: int) -> dict:
    """The live map as a `cjm-studio/1` document, with its segments, evidence and steps 4–6."""
    return serialize.to_document(load_document_journey(map_id))


def load_document_journey(map_id: int):
    """The live map as a domain Journey with everything the document carries (segments,
    evidence, barriers, strategies, experiments, KPIs, learnings)."""
    journey = store.load_journey(map_id)
    journey.segments = evidence.load_segments(map_id)
    journey.evidence = evidence.load_evidence(map_id)
    return store.load_plan(journey)


def document_text(doc: dict) -> str:
    """The one JSON rendering of a document, shared by the web download and the CLI."""
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def live_map(map_id: int) -> Journey | None:
    """The map row with this id unless it is missing or deleted."""
    row = db.session.get(Journey, map_id)
    return row if row is not None and row.deletion_id is None else None


def register_cli(group) -> None:
    """Add the document verbs to the `map` CLI group."""

    @group.command("import")
    @click.argument("file", type=click.File("rb"))
    @click.option("--owner", "email", help="E-mail of the owning account (default: DEMO_EMAIL).")
    @click.option(
        "--format",
        "fmt",
        type=click.Choice(["json", "mermaid"]),
        default="json",
        show_default=True,
        help="json: a cjm-studio/1 document; mermaid: a Mermaid `journey` text.",
    )
    def import_command(file, email, fmt):
        """Import a cjm-studio/1 JSON FILE (or a Mermaid journey) as a new map; print its id."""
        email = (email or current_app.config["DEMO_EMAIL"]).strip().lower()
        owner = db.session.scalar(select(User).filter_by(email=email))
        if owner is None:
            raise click.ClickException(f"no account with e-mail {email}")
        try:
            if fmt == "mermaid":
                from .export.mermaid import import_mermaid_cli

                row = import_mermaid_cli(file, owner.id)
            else:
                row = import_document(parse_json(file.read()), owner.id)
        except ValidationError as e:
            click.echo(f"{file.name}: not imported, nothing was written:", err=True)
            for path, message in e.field_errors.items():
                click.echo(f"  {path}: {message}", err=True)
            raise SystemExit(1) from None
        click.echo(row.id)
