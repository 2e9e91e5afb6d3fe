"""Placeholder views so links resolve; replaced by this area's work."""

from flask import Blueprint

from ..access import guard

bp = Blueprint("imports", __name__)


@bp.route("/maps/<int:map_id>/imports/new")
@guard("edit")
def new(map_id: int):
    """Placeholder."""
    return "imports.new"
