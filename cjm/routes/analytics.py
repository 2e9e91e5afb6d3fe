"""Journey analytics page and `flask map analyze`: paths, funnel, losses, bottlenecks, loops."""

import json

import click
from flask import Blueprint
from flask_babel import format_decimal, format_percent

from .. import store
from ..access import guard
from ..journey import model as dm
from ..journey.analytics import analyze, as_dict, ranked_paths
from ..web import render
from .board import TOUCHPOINT_KIND_LABELS, TRANSITION_KIND_LABELS

bp = Blueprint("analytics", __name__)

TOP = 10  # rows in the ranked tables (losses, bottlenecks, paths); the CLI prints them all
FUNNEL_W, FUNNEL_LABEL_W, FUNNEL_BAR_H, FUNNEL_GAP = 640, 180, 22, 8


def percent(value: float | None) -> str:
    """A fraction as a locale percentage with at most one decimal ("2 %", "33.3 %"); — if None."""
    return "—" if value is None else format_percent(value, "#,##0.#%")


def number(value: float | None) -> str:
    """A volume in the locale's digits; — when unknown."""
    return "—" if value is None else format_decimal(value, "#,##0.#")


def analytics_context(journey: dm.Journey) -> dict:
    """What analytics/show.html needs: the analytics and lookups by key."""
    result = analyze(journey)
    stats = {t.key: t for t in result.touchpoints}
    top = max((s.reached or 0 for s in result.stages), default=0)
    known = [lp for lp in result.loops.items if lp.volume is not None]
    return {
        "journey": journey,
        "a": result,
        "ranked": ranked_paths(result.paths.items)[:TOP],
        "worst": stats[result.losses[0]] if result.losses else None,
        "busiest_loop": max(known, key=lambda lp: lp.volume) if known else None,
        "tp": {tp.key: tp for tp in journey.touchpoints},
        "stats": stats,
        "transitions": {t.key: t for t in result.transitions},
        "stage_names": {s.key: s.name for s in journey.stages},
        "tp_kinds": TOUCHPOINT_KIND_LABELS,
        "tr_kinds": TRANSITION_KIND_LABELS,
        "top": TOP,
        "funnel": {
            "width": FUNNEL_W,
            "label_w": FUNNEL_LABEL_W,
            "bar_h": FUNNEL_BAR_H,
            "gap": FUNNEL_GAP,
            "max": top,
            "height": len(result.stages) * (FUNNEL_BAR_H + FUNNEL_GAP) + FUNNEL_GAP,
        },
        "percent": percent,
        "number": number,
    }


@bp.route("/maps/<int:map_id>/analytics")
@guard("view")
def show(map_id: int):
    """The journey analytics page: funnel, losses, main and painful paths, bottlenecks, loops."""
    return render("analytics/show.html", **analytics_context(store.load_journey(map_id)))


def register_cli(group) -> None:
    """Add `analyze` to the `map` CLI group."""

    @group.command("analyze")
    @click.argument("map_id", metavar="ID", type=int)
    def analyze_command(map_id):
        """Print the analytics of map ID as JSON (touchpoints, stages, transitions by key).

        Top-level fields (cjm.journey.analytics.Analytics): has_volumes, entries, goals,
        entry_volume; paths {items, count, truncated, reason ("cap", "budget", "cutoff" or null),
        cutoff, cap}, each path {touchpoints, transitions, bottleneck, flow, emotion, length};
        main_path and painful_path (a path or null); transitions [{key, source, target, kind,
        volume, conversion}]; touchpoints [{key, name, stage, kind, volume_in, volume_out,
        drop_off, paths}]; stages [{key, name, reached, conversion, share, lost, lost_unknown}];
        biggest_loss_stage; losses and bottlenecks (touchpoint keys, ranked); dead_ends;
        loops {items [{touchpoints, volume}], truncated, length_bound, cap}. Conversions and
        shares are fractions (0.02 = 2 %); an unknown figure is null.
        """
        from ..documents import live_map

        if live_map(map_id) is None:
            click.echo(f"Error: no map with id {map_id}", err=True)
            raise SystemExit(1)
        data = as_dict(analyze(store.load_journey(map_id)))
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
