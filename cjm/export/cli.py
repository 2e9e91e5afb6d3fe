"""`flask --app wsgi map export ID --format F [--out FILE]`: any registered format, bytes to a
file or stdout, messages on stderr, exit 1 on failure."""

import sys
from pathlib import Path

import click

from ..documents import live_map
from . import load_formats


def register_cli(group) -> None:
    """Add `export` to the `map` CLI group."""
    formats = load_formats()

    @group.command("export")
    @click.argument("map_id", metavar="ID", type=int)
    @click.option(
        "--format", "fmt", type=click.Choice(sorted(formats)), default="json", show_default=True
    )
    @click.option("--out", "out", default="-", help="Output file; '-' (default) is stdout.")
    @click.option(
        "--table",
        type=click.Choice(["touchpoints", "transitions", "barriers", "strategies", "evidence"]),
        help="csv: one table as a .csv (default: every table in a zip).",
    )
    @click.option(
        "--separator",
        type=click.Choice([",", ";"]),
        help="csv: ';' with decimal commas, for Russian-locale Excel (default ',').",
    )
    @click.option(
        "--paper",
        type=click.Choice(["A4", "A3", "A2", "A1", "A0"], case_sensitive=False),
        default="A3",
        help="pdf: paper size (default A3).",
    )
    @click.option(
        "--orientation",
        type=click.Choice(["landscape", "portrait"]),
        default="landscape",
        help="pdf: default landscape.",
    )
    @click.option(
        "--tiled", is_flag=True, help="pdf: tile across several sheets (default: fit one page)."
    )
    @click.option("--lanes", help="pdf: comma-separated lanes in order (default: all).")
    @click.option("--language", type=click.Choice(["en", "ru"]), help="pdf: default the map's.")
    def export_command(map_id, fmt, out, **options):
        """Export map ID in one of the open formats (default: the cjm-studio/1 JSON document)."""
        if live_map(map_id) is None:
            raise click.ClickException(f"no map with id {map_id}")
        try:
            data = formats[fmt].render(map_id, options)
        except ValueError as error:  # bad options (e.g. an unknown --lanes name)
            raise click.ClickException(str(error)) from None
        for note in options.get("notes", ()):
            click.echo(note, err=True)
        if out == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            Path(out).write_bytes(data)
            click.echo(f"wrote {out} ({len(data)} bytes)", err=True)
