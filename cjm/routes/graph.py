"""The graph view: the journey drawn as an SVG of touchpoints and transitions, with its warnings,
its drop-offs and, on request, one path highlighted (`?path=main`, `?path=painful`, or the path's
transition keys joined by dots, as the analytics page links them)."""

from flask import Blueprint, request
from flask_babel import format_decimal

from .. import store
from ..access import guard
from ..journey import model as dm
from ..journey.analytics import Path, drop_offs, find_paths, main_path, painful_path, trace
from ..journey.graph import DASHES, LINE_H, layout, validate
from ..web import render
from .analytics import number

bp = Blueprint("graph", __name__)

NAMED_PATHS = ("main", "painful")  # checked before keys: a transition keyed "main" loses
MAX_PATH_PARAM = 4000  # characters; longer is no path of any map (and not worth splitting)


def chosen_path(journey: dm.Journey, param: str | None) -> tuple[Path | None, str | None]:
    """The path `param` names and, when it names none, why: (path, None) or (None, problem).

    Problems: "no_main" / "no_painful" (the map has no such path yet), "unknown" (a transition
    was removed, or the keys do not join up). No param: (None, None). Only a named path needs
    the path search; keys are traced directly, so a link from the path list stays cheap.
    """
    if not param:
        return None, None
    if param in NAMED_PATHS:
        paths = find_paths(journey).items
        path = main_path(paths) if param == "main" else painful_path(paths)
        return (path, None) if path else (None, f"no_{param}")
    path = trace(journey, param.split(".")) if len(param) <= MAX_PATH_PARAM else None
    return (path, None) if path else (None, "unknown")


def graph_context(journey: dm.Journey, path: str | None = None) -> dict:
    """What graph/_graph.html needs, for this page and for any page that embeds the fragment."""
    chosen, problem = chosen_path(journey, path)
    drops = {k: d for k, d in drop_offs(journey).items() if d is not None and d > 0}
    return {
        "journey": journey,
        "layout": layout(journey),
        "warnings": validate(journey),
        "dashes": DASHES,
        "line_h": LINE_H,
        "drops": drops,
        "worst_drop": max(drops, key=drops.get) if drops else None,
        "path_param": path or None,
        "chosen": chosen,
        "path_problem": problem,
        "path_kind": path if path in NAMED_PATHS else "keys",
        "path_edges": set(chosen.transitions) if chosen else set(),
        "path_steps": steps(chosen),
        "number": number,
        "signed": signed,
    }


def signed(value: float) -> str:
    """A mean emotion with its sign, in the locale's digits ("+0.1", "-0.2", "0")."""
    return format_decimal(value, "+#,##0.#;-#,##0.#") if value else "0"


def steps(path: Path | None) -> dict[str, int]:
    """Each touchpoint of the path with its step number (its first, should a walk come back)."""
    numbers: dict[str, int] = {}
    for i, key in enumerate(path.touchpoints if path else ()):
        numbers.setdefault(key, i + 1)
    return numbers


@bp.route("/maps/<int:map_id>/graph")
@guard("view")
def show(map_id: int):
    """The journey as a graph (the #graph fragment alone for htmx, e.g. after journey-changed)."""
    journey = store.load_journey(map_id)
    path = request.args.get("path", "").strip()
    return render("graph/show.html", "graph/_graph.html", **graph_context(journey, path))
