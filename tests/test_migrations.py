"""The models match what `flask db upgrade` builds on an empty database (SQLite and PostgreSQL)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from cjm.extensions import db


def test_models_match_migrations(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_backend_is_the_configured_one(app):
    """CI's second run sets DATABASE_URL to PostgreSQL: make sure the suite really ran there."""
    import os

    from tests.conftest import REQUIRED

    if "postgresql" in REQUIRED:
        assert "postgres" in os.environ.get("DATABASE_URL", "")
    with app.app_context():
        expected = "postgresql" if "postgres" in os.environ.get("DATABASE_URL", "") else "sqlite"
        assert db.engine.dialect.name == expected
