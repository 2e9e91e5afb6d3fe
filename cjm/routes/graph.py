"""The graph view: the journey drawn as an SVG of touchpoints and transitions, with its warnings."""

from flask import Blueprint

from .. import store
from ..access import guard
from ..journey import model as dm
from ..journey.graph import DASHES, LINE_H, layout, validate
from ..web import render

bp = Blueprint("graph", __name__)


def graph_context(journey: dm.Journey) -> dict:
    """What graph/_graph.html needs, for this page and for any page that embeds the fragment."""
    return {
        "journey": journey,
        "layout": layout(journey),
        "warnings": validate(journey),
        "dashes": DASHES,
        "line_h": LINE_H,
    }


@bp.route("/maps/<int:map_id>/graph")
@guard("view")
def show(map_id: int):
    """The journey as a graph (the #graph fragment alone for htmx, e.g. after journey-changed)."""
    journey = store.load_journey(map_id)
    return render("graph/show.html", "graph/_graph.html", **graph_context(journey))
