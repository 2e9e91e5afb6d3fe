"""Placeholder: the demo account and map (filled by its work item)."""

import click


@click.command("seed-demo")
def seed_demo_command():
    """Create the demo account and map when the database has no maps."""
