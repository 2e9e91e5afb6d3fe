"""Step 3, what the map shows from evidence: the emotion curve with its confidence band (the
team's manual scores, dashed, where there is no data), satisfaction heatmaps per stage and
channel × segment, per-touchpoint figures, and a touchpoint's evidence panel for the board.
Every figure comes from cjm.aggregates (SQL) and cjm.journey.metrics (formulas)."""

from dataclasses import dataclass, field

from flask import Blueprint, abort, request
from flask_babel import lazy_gettext as _l

from .. import aggregates, store
from ..access import get_part_or_404, guard
from ..extensions import db
from ..journey import metrics
from ..journey import model as dm
from ..models import Journey, Segment, Touchpoint
from ..web import render

bp = Blueprint("research", __name__)

# Emotion curve geometry (SVG user units): one column per stage, −2 at the bottom, +2 at the top.
COLUMN, TOP, ROW = 160, 24, 30
EMOTION_TICKS = range(dm.EMOTION_MAX, dm.EMOTION_MIN - 1, -1)
# A lone stage's band is drawn as a box this wide (there is no neighbour to join it to).
BAND_HALF_WIDTH = 14
METRIC_LABELS = {"csat": _l("CSAT (1–5)"), "nps": _l("NPS (−100…+100)"), "ces": _l("CES (1–7)")}
COVERAGE_LABELS = {
    "none": _l("no data"),
    "some": _l("some evidence"),
    "enough": _l("enough evidence"),
}
assert set(COVERAGE_LABELS) == set(metrics.COVERAGE)
HEAT_LEVELS = 5
SEGMENT_COLOURS = 6  # overlay curves cycle through this many CSS colours
# The other step 3 pages, in the sub-navigation of every research page.
# The step 3 pages (on every step 3 page), with the role each link needs.
SUBNAV = (
    ("research.show", _l("Overview"), "viewer"),
    ("evidence.index", _l("Evidence"), "viewer"),
    ("evidence.segments", _l("Segments"), "viewer"),
    ("evidence.interviews", _l("Interviews"), "viewer"),
    ("shopper.index", _l("Mystery shopper"), "viewer"),
    ("imports.new", _l("Import survey"), "editor"),
    ("api.tokens", _l("API tokens"), "owner"),
)


@dataclass
class CurvePoint:
    """One stage on the curve: from evidence (with n and maybe a band) or the manual mean."""

    stage: dm.Stage
    x: float
    y: float
    value: float
    n: int  # CSAT answers behind an evidence point; manual scores behind a manual one
    evidence: bool
    band: tuple[float, float] | None = None  # (y of the high end, y of the low end)


@dataclass
class CurveLine:
    """A polyline of neighbouring points; dashed (manual) when it touches a manual point."""

    points: str
    manual: bool


@dataclass
class Overlay:
    """One segment's curve, evidence points only."""

    name: str
    colour: int
    points: list[CurvePoint] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


@dataclass
class Curve:
    """The emotion curve over the stages: points, lines, bands, ticks and segment overlays."""

    width: int
    height: int
    points: list[CurvePoint] = field(default_factory=list)
    lines: list[CurveLine] = field(default_factory=list)
    bands: list[str] = field(default_factory=list)  # SVG polygon `points` strings
    ticks: list[tuple[int, float]] = field(default_factory=list)
    overlays: list[Overlay] = field(default_factory=list)


def y_of(emotion: float) -> float:
    """The curve's y for an emotion score."""
    return TOP + (dm.EMOTION_MAX - emotion) * ROW


def x_of(index: int) -> float:
    """The curve's x for the stage at this index (the middle of its column)."""
    return index * COLUMN + COLUMN / 2


def xy(points) -> str:
    """SVG `points` text."""
    return " ".join(f"{x:g},{y:g}" for x, y in points)


def stage_points(journey: dm.Journey, by_stage: dict[int, metrics.Summary]) -> list:
    """Per stage (None: a gap): the CSAT emotion where there are answers, else the manual mean."""
    manual: dict[str, list[int]] = {}
    for tp in journey.touchpoints:
        manual.setdefault(tp.stage, []).append(tp.emotion)
    points: list[CurvePoint | None] = []
    for i, stage in enumerate(journey.stages):
        summary = by_stage.get(stage.id)
        if summary and summary.emotion.n:
            emotion = summary.emotion
            band = (y_of(emotion.high), y_of(emotion.low)) if emotion.has_band else None
            points.append(
                CurvePoint(stage, x_of(i), y_of(emotion.mean), emotion.mean, emotion.n, True, band)
            )
            continue
        scores = [s for s in manual.get(stage.key, []) if s is not None]
        if not scores:
            points.append(None)
            continue
        mean = metrics.manual_emotion(scores)
        points.append(CurvePoint(stage, x_of(i), y_of(mean), mean, len(scores), False))
    return points


def lines_of(points: list) -> list[CurveLine]:
    """Join neighbouring stages' points; a stage without a point leaves a gap; a piece touching
    a manual point is dashed, so the eye can tell evidence from assumption."""
    lines: list[CurveLine] = []
    run: list[CurvePoint] = []
    manual = False

    def flush():
        if run:
            lines.append(CurveLine(xy((p.x, p.y) for p in run), manual))

    for a, b in zip(points, points[1:], strict=False):
        if a is None or b is None:
            continue
        piece_manual = not (a.evidence and b.evidence)
        if run and run[-1] is a and piece_manual == manual:
            run.append(b)
            continue
        flush()
        run, manual = [a, b], piece_manual
    flush()
    return lines


def bands_of(points: list) -> list[str]:
    """The 95 % band as polygons over runs of neighbouring evidence points that have one."""
    bands, run = [], []
    for point in [*points, None]:
        if point is not None and point.band:
            run.append(point)
            continue
        if len(run) == 1:
            p = run[0]
            left, right = p.x - BAND_HALF_WIDTH, p.x + BAND_HALF_WIDTH
            bands.append(
                xy([(left, p.band[0]), (right, p.band[0]), (right, p.band[1]), (left, p.band[1])])
            )
        elif run:
            upper = [(p.x, p.band[0]) for p in run]
            lower = [(p.x, p.band[1]) for p in reversed(run)]
            bands.append(xy(upper + lower))
        run = []
    return bands


def emotion_curve(
    journey: dm.Journey,
    by_stage: dict[int, metrics.Summary],
    overlays: list[tuple[str, int, dict[int, metrics.Summary]]] = (),
) -> Curve:
    """The curve the board and the research page draw: evidence where there is some."""
    points = stage_points(journey, by_stage)
    curve = Curve(
        width=max(len(journey.stages), 1) * COLUMN,
        height=2 * TOP + (dm.EMOTION_MAX - dm.EMOTION_MIN) * ROW,
        points=[p for p in points if p],
        lines=lines_of(points),
        bands=bands_of(points),
        ticks=[(e, y_of(e)) for e in EMOTION_TICKS],
    )
    for name, colour, summaries in overlays:
        # Only evidence counts for a segment: its manual score is the team's, not the group's.
        evidence = [p if p and p.evidence else None for p in stage_points(journey, summaries)]
        curve.overlays.append(
            Overlay(
                name,
                colour % SEGMENT_COLOURS,
                [p for p in evidence if p],
                [line.points for line in lines_of(evidence)],
            )
        )
    return curve


@dataclass
class HeatCell:
    """One heatmap cell: the value as text, its n and a colour level (None: no data)."""

    text: str
    n: int
    level: int | None


@dataclass
class Heatmap:
    """Rows (stages or channels) × columns (segments, then all), for one metric."""

    metric: str
    columns: list[str]
    rows: list[tuple[str, list[HeatCell]]]


def metric_text(metric: str, value: float) -> str:
    """A metric's value as shown: NPS as a signed whole number, means with one decimal."""
    return f"{value:+.0f}" if metric == "nps" else f"{value:.1f}"


def heat_cell(metric: str, summary: metrics.Summary | None) -> HeatCell:
    """A cell for a group's figure: "—" when nothing measured it."""
    value, n = summary.value(metric) if summary else (None, 0)
    if value is None:
        return HeatCell("—", 0, None)
    level = min(HEAT_LEVELS - 1, int(metrics.goodness(metric, value) * HEAT_LEVELS))
    return HeatCell(metric_text(metric, value), n, level)


def heatmap(metric, rows, segments, pairs, totals) -> Heatmap:
    """Stage or channel rows × segment columns (plus "no segment" when some evidence has none,
    and "all segments"); `pairs` is keyed by (row id, segment id)."""
    columns = [(s.id, s.name) for s in segments]
    if any(segment is None for _, segment in pairs):
        columns.append((None, _l("No segment")))
    return Heatmap(
        metric=metric,
        columns=[name for _, name in columns] + [_l("All segments")],
        rows=[
            (
                row.name,
                [heat_cell(metric, pairs.get((row.id, sid))) for sid, _ in columns]
                + [heat_cell(metric, totals.get(row.id))],
            )
            for row in rows
        ],
    )


def live_segments(map_id: int) -> list[Segment]:
    """The map's live segments in their order."""
    return list(db.session.scalars(store.live(Segment, map_id).order_by(*store.order(Segment))))


def threshold_of(map_id: int) -> int:
    """The map's evidence threshold (the guard already loaded the row: no query)."""
    return db.session.get(Journey, map_id).evidence_threshold


@bp.app_context_processor
def research_globals():
    """The sub-navigation and the coverage labels of the research pages."""
    return {
        "research_nav": SUBNAV,
        "segment_colours": SEGMENT_COLOURS,
        "coverage_labels": COVERAGE_LABELS,
    }


@bp.route("/maps/<int:map_id>/research")
@guard("view")
def show(map_id: int):
    """Step 3 overview: the evidence-based emotion curve, per-touchpoint figures, heatmaps."""
    journey = store.load_journey(map_id)
    total = aggregates.overall(map_id)
    if total.n == 0:
        return render("research/show.html", journey=journey, total=total)
    metric = request.args.get("metric", "csat")
    if metric not in METRIC_LABELS:
        metric = "csat"
    segments = live_segments(map_id)
    chosen = set(request.args.getlist("segment", type=int))
    by_stage = aggregates.per_stage(map_id)
    stage_segment = aggregates.per_stage_segment(map_id)
    overlays = [
        (s.name, i, {stage: v for (stage, sid), v in stage_segment.items() if sid == s.id})
        for i, s in enumerate(segments)
        if s.id in chosen
    ]
    by_channel = aggregates.per_channel(map_id)
    by_touchpoint = aggregates.per_touchpoint(map_id)
    stage_index = {s.key: i for i, s in enumerate(journey.stages)}
    return render(
        "research/show.html",
        journey=journey,
        total=total,
        threshold=threshold_of(map_id),
        curve=emotion_curve(journey, by_stage, overlays),
        segments=segments,
        chosen=chosen,
        metric=metric,
        metric_labels=METRIC_LABELS,
        stage_names={s.key: s.name for s in journey.stages},
        channel_names={c.key: c.name for c in journey.channels},
        touchpoints=sorted(journey.touchpoints, key=lambda t: stage_index[t.stage]),
        by_touchpoint=by_touchpoint,
        stage_heat=heatmap(metric, journey.stages, segments, stage_segment, by_stage),
        channel_heat=heatmap(
            metric, journey.channels, segments, aggregates.per_channel_segment(map_id), by_channel
        ),
    )


@bp.route("/maps/<int:map_id>/touchpoints/<int:touchpoint_id>/evidence")
@guard("view")
def touchpoint_evidence(map_id: int, touchpoint_id: int):
    """A touchpoint's evidence: its figures, per segment, and the latest verbatims (htmx: the
    board's side panel)."""
    get_part_or_404(Touchpoint, touchpoint_id)
    journey = store.load_journey(map_id)
    tp = next((t for t in journey.touchpoints if t.id == touchpoint_id), None)
    if tp is None:  # hidden with its stage or channel
        abort(404)
    segments = {s.id: s.name for s in live_segments(map_id)}
    return render(
        "research/touchpoint.html",
        "research/_touchpoint.html",
        journey=journey,
        tp=tp,
        stage=next(s for s in journey.stages if s.key == tp.stage),
        channel=next(c for c in journey.channels if c.key == tp.channel),
        summary=aggregates.overall(map_id, touchpoint_id=touchpoint_id),
        by_segment=aggregates.per_segment(map_id, touchpoint_id),
        segments=segments,
        verbatims=aggregates.latest_verbatims(map_id, touchpoint_id),
        threshold=threshold_of(map_id),
        sources=SOURCE_LABELS,
    )


SOURCE_LABELS = {
    "mystery-shopper": _l("Mystery shopper"),
    "survey": _l("Survey"),
    "interview": _l("Interview"),
    "analytics": _l("Web analytics"),
    "market": _l("Market analysis"),
}
assert set(SOURCE_LABELS) == set(dm.EVIDENCE_SOURCES)
