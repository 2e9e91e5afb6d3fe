"""`flask --app wsgi survey import MAP_ID FILE [--mapping M.json] [--dry-run] [--valid-only]
[--json]`: the validation report ("row: column: reason") and the counts on stdout, messages on
stderr.

Exit status: 0 when rows were imported (or, with --dry-run, when some row is valid); 1 when no
row is valid, when invalid rows exist without --valid-only (nothing is imported then), or when
the map or file cannot be used; 2 for usage errors."""

import json
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from ..extensions import db
from ..models import Journey, SurveyImport
from . import importer
from .mapping import columns_from_names, norm
from .reading import read_table

survey_cli = AppGroup("survey", help="Import survey exports (CSV/XLSX) into a map.")


def mapping_settings(path: str | None, data: bytes, filename: str) -> dict:
    """Import settings from a --mapping file {"columns": {header: target}, "values": {kind:
    {value: element key or name | "new" | "ignore"}}} (optional "encoding", "delimiter",
    "header_row"); without one, the suggested mapping."""
    settings: dict = {"source": "survey"}
    if not path:
        return settings
    spec = json.loads(Path(path).read_text(encoding="utf-8"))
    for option in ("encoding", "delimiter", "header_row"):
        if spec.get(option):
            settings[option] = spec[option]
    if "columns" in spec:
        table = read_table(
            data,
            filename,
            settings.get("encoding"),
            settings.get("delimiter"),
            settings.get("header_row"),
        )
        columns = spec["columns"]
        settings["headers"] = table.headers
        settings["columns"] = (
            list(columns)
            if isinstance(columns, list)
            else columns_from_names(table.headers, columns)
        )
    settings["values"] = {
        kind: {norm(value): decision for value, decision in chosen.items()}
        for kind, chosen in (spec.get("values") or {}).items()
    }
    return settings


@survey_cli.command("import")
@click.argument("map_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--mapping", "mapping_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check only; write nothing.")
@click.option("--valid-only", is_flag=True, help="Import the valid rows even if some are not.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_survey(map_id, file, mapping_path, dry_run, valid_only, as_json):
    """Check a survey file against a map and import its observations in one transaction."""
    journey = db.session.get(Journey, map_id)
    if journey is None or journey.deletion_id is not None:
        click.echo(f"error: no map {map_id}", err=True)
        sys.exit(1)
    data = Path(file).read_bytes()
    try:
        settings = mapping_settings(mapping_path, data, Path(file).name)
    except (ValueError, OSError) as e:
        click.echo(f"error: bad mapping file: {e}", err=True)
        sys.exit(1)
    prepared = importer.prepare(data, Path(file).name, settings, map_id)
    if prepared.table is None:
        click.echo(f"error: cannot read {file}: {prepared.error}", err=True)
        sys.exit(1)
    settings |= {"headers": prepared.headers, "columns": prepared.columns}
    checked, report = importer.check(prepared)
    imported, status = 0, 0
    if report["valid"] == 0:
        click.echo("error: no valid rows", err=True)
        status = 1
    elif report["invalid"] and not valid_only and not dry_run:
        click.echo(
            "error: invalid rows; fix them or pass --valid-only (nothing imported)", err=True
        )
        status = 1
    elif not dry_run:
        imp = SurveyImport(
            journey_id=map_id, filename=Path(file).name[-255:], data=data, settings=settings
        )
        db.session.add(imp)
        db.session.commit()
        importer.claim(imp.id)
        imp = importer.run(imp.id, valid_only, prepared=prepared, checked=checked)
        imported = imp.report.get("imported", 0)
        if imp.status != "done":
            click.echo(f"error: {imp.report.get('message', imp.status)}", err=True)
            status = 1
        else:
            click.echo(f"imported {imported} observations (import {imp.id})", err=True)
    counts = {"valid": report["valid"], "invalid": report["invalid"], "imported": imported}
    if as_json:
        click.echo(json.dumps({"counts": counts, "errors": report["errors"]}, ensure_ascii=False))
    else:
        for e in report["errors"]:
            click.echo(f"{e['row']}: {e['column'] or '-'}: {e['reason']}")
        click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))
    sys.exit(status)


def register(app: Flask) -> None:
    """Attach the `survey` group (called from cjm.cli.register)."""
    app.cli.add_command(survey_cli)
