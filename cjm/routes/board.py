"""The board: stages as columns; lanes of touchpoints (a row per channel), customer goals,
thoughts and the emotion curve. Built from one load_journey() call and a small view model, so a
large map (15 stages × 400 touchpoints × 600 transitions) renders without per-card work."""

from dataclasses import dataclass, field

from flask import Blueprint, abort, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from .. import store
from ..access import guard
from ..journey import model as dm
from ..web import render, wants_fragment

bp = Blueprint("board", __name__)

# Emotion curve geometry (SVG user units): one column per stage, −2 at the bottom, +2 at the top.
COLUMN, TOP, ROW = 160, 20, 30
EMOTION_TICKS = range(dm.EMOTION_MAX, dm.EMOTION_MIN - 1, -1)
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
class CurvePoint:
    stage: dm.Stage
    mean: float
    n: int
    x: float
    y: float


@dataclass
class Curve:
    """The emotion curve: a point per stage that has emotions, runs of neighbours joined."""

    width: int
    height: int
    points: list[CurvePoint] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)  # SVG polyline `points` strings
    ticks: list[tuple[int, float]] = field(default_factory=list)  # (emotion, y)


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

    def cell(self, stage: dm.Stage, channel: dm.Channel) -> list[dm.Touchpoint]:
        """The touchpoints at one stage in one channel, in order."""
        return self.cells.get((stage.key, channel.key), [])


def y_of(emotion: float) -> float:
    """The curve's y for an emotion score."""
    return TOP + (dm.EMOTION_MAX - emotion) * ROW


def emotion_curve(journey: dm.Journey) -> Curve:
    """Per stage, the mean emotion of its touchpoints; stages without any leave a gap."""
    scores: dict[str, list[int]] = {}
    for tp in journey.touchpoints:
        if tp.emotion is not None:
            scores.setdefault(tp.stage, []).append(tp.emotion)
    curve = Curve(
        width=max(len(journey.stages), 1) * COLUMN,
        height=2 * TOP + (dm.EMOTION_MAX - dm.EMOTION_MIN) * ROW,
        ticks=[(e, y_of(e)) for e in EMOTION_TICKS],
    )
    runs: list[list[CurvePoint]] = [[]]
    for i, stage in enumerate(journey.stages):
        values = scores.get(stage.key)
        if not values:
            runs.append([])  # a gap: the line does not bridge a stage without emotions
            continue
        mean = sum(values) / len(values)
        point = CurvePoint(stage, mean, len(values), i * COLUMN + COLUMN / 2, y_of(mean))
        curve.points.append(point)
        runs[-1].append(point)
    curve.runs = [" ".join(f"{p.x:g},{p.y:g}" for p in run) for run in runs if len(run) > 1]
    return curve


def board_model(journey: dm.Journey) -> Board:
    """Group the journey for the board in one pass over touchpoints and one over transitions."""
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
    return Board(
        journey=journey,
        cells=cells,
        outgoing=outgoing,
        goals=goals,
        thoughts=thoughts,
        curve=emotion_curve(journey),
        stage_ids={s.key: s.id for s in journey.stages},
        channel_ids={c.key: c.id for c in journey.channels},
    )


@bp.context_processor
def board_globals():
    """May the current user edit (the guard put the role in g), and the kinds' labels."""
    return {
        "can_edit": g.get("role") in ("editor", "owner"),
        "tp_kinds": TOUCHPOINT_KIND_LABELS,
        "tr_kinds": TRANSITION_KIND_LABELS,
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
    """The summary lanes (goals, thoughts, emotion curve), refetched on journey-changed."""
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
