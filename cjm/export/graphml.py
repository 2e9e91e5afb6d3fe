"""GraphML of the journey graph as an export format (conversion in cjm.journey.graphml)."""

from flask_babel import lazy_gettext as _l

from .. import store
from ..journey.analytics import analyze
from ..journey.graphml import to_graphml
from . import register


@register("graphml", ".graphml", "application/graphml+xml", _l("GraphML (journey graph)"))
def render_graphml(map_id: int, options: dict) -> bytes:
    """Touchpoints and transitions with typed attributes, conversions from the analytics."""
    journey = store.load_journey(map_id)
    conversions = {t.key: t.conversion for t in analyze(journey).transitions}
    return to_graphml(journey, conversions)
