"""Placeholder views so links resolve; replaced by this area's work."""

from flask import Blueprint

from ..access import guard

bp = Blueprint("api", __name__)


@bp.route("/maps/<int:map_id>/api-tokens")
@guard("own")
def tokens(map_id: int):
    """Placeholder."""
    return "api.tokens"
