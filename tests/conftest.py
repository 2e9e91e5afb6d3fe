"""Shared fixtures: one app per session on a migrated database (SQLite by default, PostgreSQL when
DATABASE_URL says so), emptied between tests; users, maps and signed-in clients from factories."""

import os
import tempfile

import flask.globals
import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from cjm import create_app
from cjm.extensions import db
from tests.factories import make_map, make_user

# CI names the services that must be there (e.g. "chromium,redis"): their tests fail, not skip.
REQUIRED = {s.strip() for s in os.environ.get("CJM_REQUIRE_SERVICES", "").split(",") if s.strip()}


def need(available: bool, reason: str, service: str) -> None:
    """Skip (say how to enable) if a service is missing; fail if CJM_REQUIRE_SERVICES names it."""
    if available:
        return
    if service in REQUIRED:
        pytest.fail(f"{service} is required here (CJM_REQUIRE_SERVICES): {reason}")
    pytest.skip(reason)


class IsolatedClient(FlaskClient):
    """A test client whose requests get their own app context, `g` and DB session, as in
    production, even while a test holds an app context open (the `ctx` fixture)."""

    def open(self, *args, **kwargs):
        token = flask.globals._cv_app.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            flask.globals._cv_app.reset(token)
            if flask.globals._cv_app.get(None) is not None:
                db.session.expire_all()  # the test's own session sees what the request wrote


@pytest.fixture(scope="session")
def app():
    """The app on a fresh database built by `flask db upgrade` (so migrations are exercised)."""
    from flask_migrate import downgrade, upgrade

    instance = tempfile.mkdtemp(prefix="cjm-test-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance}/test.sqlite"
    os.environ.setdefault("SECRET_KEY", "test-secret")
    saved = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    try:
        app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test"})
    finally:
        if saved is None:
            del os.environ["DATABASE_URL"]
    app.test_client_class = IsolatedClient
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean(request):
    """Empty every table after each test that used the app."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def ctx(app):
    """An application context for direct model and store calls."""
    with app.app_context():
        yield


@pytest.fixture
def client(app):
    return app.test_client()


def sign_in(client, user) -> None:
    """Sign a test client in as user (Flask-Login session keys)."""
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True


@pytest.fixture
def owner(ctx):
    return make_user("owner@example.com", "Olga Owner")


@pytest.fixture
def journey(ctx, owner):
    """A small map owned by `owner`: 3 stages, 2 channels, a branch, a loop and a drop-out."""
    return make_map(owner)


@pytest.fixture
def owner_client(client, owner):
    sign_in(client, owner)
    return client
