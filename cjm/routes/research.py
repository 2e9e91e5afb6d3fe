"""Placeholder views so links resolve; replaced by this area's work."""

from flask import Blueprint

from ..access import guard

bp = Blueprint("research", __name__)


@bp.route("/maps/<int:map_id>/research")
@guard("view")
def show(map_id: int):
    """Placeholder."""
    return "research.show"
