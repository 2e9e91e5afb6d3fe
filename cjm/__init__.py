"""CJM Studio: a self-hosted customer journey map designer."""

import os

from flask import Flask, request
from flask_login import current_user


def create_app(test_config: dict | None = None) -> Flask:
    """Application factory: config, extensions, models, blueprints, error handlers."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)

    from .config import Defaults, database_url, secret_key

    app.config.from_object(Defaults)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(app.instance_path)
    app.config["REDIS_URL"] = os.environ.get("REDIS_URL") or None
    app.config.from_prefixed_env("CJM")
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(app.instance_path)

    from .extensions import babel, csrf, db, limiter, login, migrate

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        render_as_batch=True,
        directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
    )
    csrf.init_app(app)
    login.init_app(app)
    login.login_view = "auth.login"
    login.login_message = None
    babel.init_app(app, locale_selector=select_locale)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    limiter.init_app(app)

    from . import live, models  # noqa: F401  (models: register the tables with the metadata)
    from .routes import register_blueprints

    live.init_app(app)

    register_blueprints(app)

    from . import cli, errors, web

    errors.register(app)
    web.register(app)
    cli.register(app)
    return app


def select_locale() -> str:
    """The UI language: the ?lang/cookie choice, then the user's, then Accept-Language."""
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    chosen = request.cookies.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )
