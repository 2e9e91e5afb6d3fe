"""Placeholder views so links resolve; replaced by this area's work."""

from flask import Blueprint

from ..access import guard

bp = Blueprint("evidence", __name__)


@bp.route("/maps/<int:map_id>/evidence")
@guard("view")
def index(map_id: int):
    """Placeholder."""
    return "evidence.index"
