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
    def export_command(map_id, fmt, out, **options):
        """Export map ID in one of the open formats (default: the cjm-studio/1 JSON document)."""
        if live_map(map_id) is None:
            raise click.ClickException(f"no map with id {map_id}")
        data = formats[fmt].render(map_id, options)
        if out == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            Path(out).write_bytes(data)
            click.echo(f"wrote {out} ({len(data)} bytes)", err=True)
