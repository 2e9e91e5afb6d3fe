"""The board: stages as columns; lanes of touchpoints (a row per channel, with the learnings closed
experiments wrote back), customer goals, thoughts, the barriers, the strategies addressing them
with how their experiments ended, the funnel, and the emotion curve. Built from one load_journey()
call and a small view model, so a large map (15 stages × 400 touchpoints × 600 transitions)
renders without per-card work, in a number of queries that does not grow with the map."""

from dataclasses import dataclass

from flask import Blueprint, abort, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from .. import aggregates, store
from .. import barriers as barrier_rules
from .. import strategies as strategy_rules
from ..access import guard
from ..extensions import db
from ..journey import analytics, metrics
from ..journey import model as dm
from ..models import Journey, Note
from ..web import render, wants_fragment
from .research import COVERAGE_LABELS, Curve, emotion_curve

bp = Blueprint("board", __name__)

TOUCHPOINT_KIND_LABELS = {
    "entry": _l("Entry"),
    "step": _l("Step"),
    "decision": _l("Decision"),
    "goal": _l("Goal"),
    "exit": _l("Exit"),
}
TRANSITION_KIND_LABELS = {
    "main": _l("Main path"),
    "alternative": _l("Alternative"),
    "loop": _l("Loop back"),
    "drop-out": _l("Drop-out"),
}
EMOTION_LABELS = {
    "": _l("Not known"),
    "2": _l("+2 very positive"),
    "1": _l("+1 positive"),
    "0": _l("0 neutral"),
    "-1": _l("−1 negative"),
    "-2": _l("−2 very negative"),
}
assert set(TOUCHPOINT_KIND_LABELS) == set(dm.TOUCHPOINT_KINDS)
assert set(TRANSITION_KIND_LABELS) == set(dm.TRANSITION_KINDS)


@dataclass
class Board:
    """Everything the board template reads, precomputed once."""

    journey: dm.Journey
    cells: dict[tuple[str, str], list[dm.Touchpoint]]
    outgoing: dict[str, list[tuple[dm.Transition, dm.Touchpoint]]]
    goals: dict[str, list[dm.Touchpoint]]
    thoughts: dict[str, list[dm.Touchpoint]]
    curve: Curve
    stage_ids: dict[str, int]
    channel_ids: dict[str, int]
    evidence: dict[int, metrics.Summary]  # per touchpoint id, only those with observations
    threshold: int
    barriers: dict[str, list[barrier_rules.Ranked]]  # per stage key, highest priority first
    strategies: dict[str, list[strategy_rules.Scored]]  # per touchpoint key, highest ICE first
    funnel: dict[str, analytics.StageStats]  # per stage key
    learnings: dict[int, list[str]]  # per touchpoint id, oldest first

    def cell(self, stage: dm.Stage, channel: dm.Channel) -> list[dm.Touchpoint]:
        """The touchpoints at one stage in one channel, in order."""
        return self.cells.get((stage.key, channel.key), [])

    def evidence_of(self, tp: dm.Touchpoint) -> tuple[int, str]:
        """(n, coverage) of a touchpoint's evidence, for its card's badge."""
        summary = self.evidence.get(tp.id)
        n = summary.n if summary else 0
        return n, metrics.coverage(n, self.threshold)

    def strategies_at(self, stage: dm.Stage) -> list[tuple[dm.Touchpoint, list]]:
        """(touchpoint, its strategies) for the touchpoints of one stage that have some."""
        return [
            (tp, self.strategies[tp.key])
            for tp in self.journey.touchpoints
            if tp.stage == stage.key and tp.key in self.strategies
        ]


def funnel(journey: dm.Journey) -> dict[str, analytics.StageStats]:
    """The stage funnel straight from the volumes (customers reaching each stage and lost
    there): the cheap part of analyze(), without enumerating paths or loops."""
    return {s.key: s for s in analytics.funnel(journey)}


def learnings(journey_id: int) -> dict[int, list[str]]:
    """The learnings closed experiments wrote back on touchpoints, per touchpoint id (one
    query; a touchpoint not on the board simply has no card to show them)."""
    found: dict[int, list[str]] = {}
    for touchpoint_id, text in db.session.execute(
        db.select(Note.touchpoint_id, Note.text)
        .where(
            Note.journey_id == journey_id,
            Note.kind == "learning",
            Note.deletion_id.is_(None),
            Note.touchpoint_id.is_not(None),
        )
        .order_by(Note.id)
    ):
        found.setdefault(touchpoint_id, []).append(text)
    return found


def board_model(journey: dm.Journey) -> Board:
    """Group the journey for the board in one pass over touchpoints and one over transitions;
    evidence for every card and stage comes from two GROUP BY queries, never one per card, and
    every barrier with its counted frequency and dots from one more; strategies with their
    barriers and experiments from three, learnings from one."""
    by_key = {tp.key: tp for tp in journey.touchpoints}
    cells: dict[tuple[str, str], list[dm.Touchpoint]] = {}
    goals: dict[str, list[dm.Touchpoint]] = {}
    thoughts: dict[str, list[dm.Touchpoint]] = {}
    for tp in journey.touchpoints:
        cells.setdefault((tp.stage, tp.channel), []).append(tp)
        if tp.goal.strip():
            goals.setdefault(tp.stage, []).append(tp)
        if tp.thought.strip():
            thoughts.setdefault(tp.stage, []).append(tp)
    outgoing: dict[str, list[tuple[dm.Transition, dm.Touchpoint]]] = {}
    for tr in journey.transitions:
        outgoing.setdefault(tr.source, []).append((tr, by_key[tr.target]))
    barriers = barrier_rules.ranked(journey, with_segments=False)
    return Board(
        journey=journey,
        cells=cells,
        outgoing=outgoing,
        goals=goals,
        thoughts=thoughts,
        curve=emotion_curve(journey, aggregates.per_stage(journey.id)),
        stage_ids={s.key: s.id for s in journey.stages},
        channel_ids={c.key: c.id for c in journey.channels},
        evidence=aggregates.per_touchpoint(journey.id),
        # The guard loaded the map row already: this is an identity-map hit, not a query.
        threshold=db.session.get(Journey, journey.id).evidence_threshold,
        barriers=barrier_rules.by_stage(barriers),
        strategies=strategy_rules.by_touchpoint(strategy_rules.scored(journey, barriers)),
        funnel=funnel(journey),
        learnings=learnings(journey.id),
    )


@bp.context_processor
def board_globals():
    """May the current user edit (the guard put the role in g), and the kinds' labels."""
    from .analytics import number, percent
    from .barriers import STATUS_LABELS, priority_text
    from .strategies import STATUS_LABELS as STRATEGY_STATUS_LABELS
    from .strategies import VERDICT_LABELS, ice_text

    return {
        "barrier_status_labels": STATUS_LABELS,
        "priority_text": priority_text,
        "strategy_status_labels": STRATEGY_STATUS_LABELS,
        "verdict_labels": VERDICT_LABELS,
        "ice_text": ice_text,
        "percent": percent,
        "number": number,
        "can_edit": g.get("role") in ("editor", "owner"),
        "tp_kinds": TOUCHPOINT_KIND_LABELS,
        "tr_kinds": TRANSITION_KIND_LABELS,
        "coverage_labels": COVERAGE_LABELS,
    }


@bp.route("/maps/<int:map_id>/board")
@guard("view")
def show(map_id: int):
    """The board of the map."""
    journey = store.load_journey(map_id)
    return render("board/show.html", journey=journey, board=board_model(journey))


@bp.route("/maps/<int:map_id>/board/lanes")
@guard("view")
def lanes(map_id: int):
    """The summary lanes (goals, thoughts, barriers, strategies, funnel, emotion curve),
    refetched on journey-changed."""
    journey = store.load_journey(map_id)
    return render(
        "board/show.html", "board/_lanes.html", journey=journey, board=board_model(journey)
    )


@bp.route("/maps/<int:map_id>/board/cell")
@guard("view")
def cell(map_id: int):
    """One cell (stage × channel) of the board, e.g. to close a new-touchpoint form."""
    if not wants_fragment():
        return redirect(url_for("board.show", map_id=map_id), 303)
    journey = store.load_journey(map_id)
    board = board_model(journey)
    stage = next((s for s in journey.stages if s.id == request.args.get("stage", type=int)), None)
    channel = next(
        (c for c in journey.channels if c.id == request.args.get("channel", type=int)), None
    )
    if stage is None or channel is None:
        abort(404)
    return render(
        "board/show.html",
        "board/_cell.html",
        journey=journey,
        board=board,
        stage=stage,
        channel=channel,
    )
