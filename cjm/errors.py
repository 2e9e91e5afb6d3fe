"""Domain and HTTP errors mapped to 4xx answers in one place."""

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from .extensions import db
from .journey.model import JourneyError, ValidationError


def error_page(status: int, title: str, message: str):
    """An error answer: JSON for API clients, else a small HTML page (a fragment for htmx)."""
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return {"error": title, "message": message}, status
    return render_template("error.html", status=status, title=title, message=message), status


def register(app: Flask) -> None:
    """Install the error handlers."""

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return error_page(400, _("Session expired"), _("Reload the page and try again."))

    @app.errorhandler(StaleDataError)
    def stale(e):
        db.session.rollback()
        return error_page(409, _("Changed meanwhile"), _("Someone saved this first. Reload."))

    @app.errorhandler(ValidationError)
    def invalid(e):
        db.session.rollback()
        return error_page(422, _("Invalid input"), str(e))

    @app.errorhandler(JourneyError)
    def journey_error(e):
        db.session.rollback()
        return error_page(400, _("Not possible"), str(e))

    @app.errorhandler(HTTPException)
    def http_error(e):
        messages = {
            403: _("Your role on this map does not allow that."),
            404: _("There is nothing here, or it is not shared with you."),
            413: _("The upload is too large."),
        }
        return error_page(e.code, e.name, messages.get(e.code, e.description))
