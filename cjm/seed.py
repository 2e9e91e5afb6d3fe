"""The demo: an account (DEMO_EMAIL / DEMO_PASSWORD) and, on an empty database, the demo map in
English and Russian, imported from cjm/seed/demo.*.json like any other cjm-studio/1 document."""

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from .documents import import_document
from .extensions import db
from .models import Journey, User

DEMO_FILES = tuple(Path(__file__).parent / "seed" / f"demo.{code}.json" for code in ("en", "ru"))


def seed_demo() -> tuple[User, list[Journey]]:
    """Ensure the demo account exists; import the demo maps if the database has no maps at all.

    Idempotent: returns the account and the maps created by this call (none on a second run)."""
    email = current_app.config["DEMO_EMAIL"].strip().lower()
    user = db.session.scalar(select(User).filter_by(email=email))
    if user is None:
        user = User(
            email=email,
            name="Demo",
            password_hash=generate_password_hash(current_app.config["DEMO_PASSWORD"]),
        )
        db.session.add(user)
        db.session.commit()
    # Any map at all (deleted ones too) means someone uses this database: leave it alone.
    if db.session.scalar(select(func.count(Journey.id))):
        return user, []
    maps = [
        import_document(json.loads(path.read_text(encoding="utf-8")), user.id)
        for path in DEMO_FILES
    ]
    return user, maps


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Create the demo account and map when the database has no maps."""
    user, maps = seed_demo()
    if maps:
        titles = ", ".join(f"#{m.id} {m.title}" for m in maps)
        click.echo(f"Seeded the demo maps: {titles}")
    else:
        click.echo("The database already has maps: nothing seeded.")
    click.echo(
        f"Demo account: {user.email} / {current_app.config['DEMO_PASSWORD']}"
        "  (open http://127.0.0.1:5000)"
    )
