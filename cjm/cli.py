"""Command line: `flask --app wsgi map …` for scripts (JSON on stdout, messages on stderr,
non-zero exit on failure) and `flask --app wsgi seed-demo`."""

import json

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from .extensions import db
from .models import Journey

map_cli = AppGroup("map", help="Import, export and list journey maps.")


@map_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_maps(as_json: bool):
    """List live maps: id, title, state, language."""
    rows = db.session.scalars(
        select(Journey).where(Journey.deletion_id.is_(None)).order_by(Journey.id)
    ).all()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {"id": r.id, "title": r.title, "state": r.state, "language": r.language}
                    for r in rows
                ],
                ensure_ascii=False,
            )
        )
        return
    for r in rows:
        click.echo(f"{r.id}\t{r.state}\t{r.language}\t{r.title}")


def register(app: Flask) -> None:
    """Attach the CLI groups to the app."""
    from . import documents, seed
    from .export import cli as export_cli
    from .routes import analytics
    from .survey import cli as survey_cli

    documents.register_cli(map_cli)
    export_cli.register_cli(map_cli)
    analytics.register_cli(map_cli)
    app.cli.add_command(map_cli)
    survey_cli.register(app)
    app.cli.add_command(seed.seed_demo_command)
