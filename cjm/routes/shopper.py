"""Placeholder views so links resolve; replaced by this area's work."""

from flask import Blueprint

from ..access import guard

bp = Blueprint("shopper", __name__)


@bp.route("/maps/<int:map_id>/shopper")
@guard("view")
def index(map_id: int):
    """Placeholder."""
    return "shopper.index"
