"""The board-style poster PDF (WeasyPrint): header with the map, its state, date, authors and the
primary persona; the board (stages as columns, the chosen lanes as rows); a legend.

Everything comes from the map's own data through the helpers the board and the research and
analytics pages use (board_model, emotion_curve, analyze, cjm.aggregates), so the poster shows
the same figures. Charts are inline SVG (vector); text is DejaVu Sans (full Cyrillic, embedded
as subsets, extractable). The poster is laid out once, at its natural size; cjm.export.sheets
then fits it onto one sheet or tiles it across several (see there). Nothing is fetched from the
network: cjm.export.fetcher serves only static files and the map's own images.

"Fit to one page" never clips and never lets the smallest text drop below POSTER_MIN_TEXT_PT:
when the poster would have to shrink further, it is tiled instead at that smallest readable
scale, and the first sheet says so (as does `options["notes"]` for the CLI and the dialog).
"""

import datetime
import math
import time
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from flask import current_app, has_request_context, render_template
from flask_babel import force_locale, format_date, format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Journey, Kpi, KpiValue, Membership, Strategy, StrategyBarrier, User
from . import register, sheets

LANES = {
    "touchpoints": _l("Touchpoints by channel"),
    "goals": _l("Customer goals"),
    "thoughts": _l("Thoughts"),
    "emotion": _l("Emotion curve"),
    "barriers": _l("Barriers"),
    "strategies": _l("Strategies"),
    "funnel": _l("Funnel"),
    "evidence": _l("Evidence"),
}
LANGUAGES = {"en": "English", "ru": "Русский"}
# Natural size of the poster (CSS px; the stylesheet uses the same numbers).
LANE_HEAD, STAGE_COLUMN, PADDING = 150, 230, 24  # STAGE_COLUMN: tiled and print view
COLUMNS = range(170, 521, 10)  # stage column widths a fitted poster chooses from
SMALLEST_TEXT_PX = 11  # the smallest font-size in poster.css (chips, notes, legend)
# A summary lane shows at most this many items per stage, then "+ n more" (cards: all of them).
MOST = {"goals": 4, "thoughts": 3, "barriers": 6, "strategies": 5}
POSTER_CSS = Path(__file__).resolve().parents[1] / "templates" / "poster" / "poster.css"
TALL = 100_000  # the layout page's height: the poster is measured, then placed on paper
FUNNEL_H = 80  # px of the funnel chart's tallest bar


class PosterError(ValueError):
    """Options the poster cannot be made with (unknown paper, lane, persona…)."""


@dataclass
class PosterOptions:
    """What the dialog and the CLI choose; `from_dict` accepts both spellings."""

    paper: str = "A3"
    orientation: str = "landscape"
    tiled: bool = False
    lanes: list[str] = field(default_factory=lambda: list(LANES))
    language: str | None = None  # None: the map's own language
    persona: int | None = None  # None: the primary persona
    segment: int | None = None  # None: all customers

    @classmethod
    def from_dict(cls, options: dict) -> "PosterOptions":
        """Read paper, orientation, tiled/layout, lanes ("a,b" or a list), language, persona and
        segment ids; PosterError names the first bad value (in the request's language, else the
        chosen one: the CLI and the export thread have no request to take it from)."""
        if has_request_context():
            return cls._parse(options)
        language = options.get("language")
        with force_locale(language if language in LANGUAGES else "en"):
            return cls._parse(options)

    @classmethod
    def _parse(cls, options: dict) -> "PosterOptions":
        paper = str(options.get("paper") or "A3").upper()
        if paper not in sheets.PAPERS:
            raise PosterError(_("Unknown paper size %(paper)s.", paper=paper))
        orientation = options.get("orientation") or "landscape"
        if orientation not in sheets.ORIENTATIONS:
            raise PosterError(_("Orientation is landscape or portrait."))
        lanes = options.get("lanes") or list(LANES)
        if isinstance(lanes, str):
            lanes = [lane.strip() for lane in lanes.split(",") if lane.strip()]
        unknown = [lane for lane in lanes if lane not in LANES]
        if unknown or not lanes:
            raise PosterError(_("Lanes are some of: %(lanes)s.", lanes=", ".join(LANES)))
        language = options.get("language") or None
        if language is not None and language not in LANGUAGES:
            raise PosterError(_("Language is en or ru."))
        tiled = bool(options.get("tiled")) or options.get("layout") == "tiled"
        return cls(
            paper=paper,
            orientation=orientation,
            tiled=tiled,
            lanes=list(dict.fromkeys(lanes)),
            language=language,
            persona=_int_or_none(options.get("persona")),
            segment=_int_or_none(options.get("segment")),
        )


def _int_or_none(value) -> int | None:
    """An id from a form or the CLI ("" and None: not chosen)."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PosterError(_("Not an id: %(value)s.", value=value)) from None


@dataclass
class Poster:
    """A rendered poster and how it came out."""

    pdf: bytes
    sheets: int
    rows: int
    cols: int
    scale: float  # poster scale on paper (1 = natural size)
    size: tuple[float, float]  # the poster's natural width and height (CSS px)
    tiled: bool
    notes: list[str]
    timings: dict[str, float]


@cache
def poster_css() -> str:
    """The poster stylesheet (read once per process)."""
    return POSTER_CSS.read_text(encoding="utf-8")


def authors(map_id: int) -> list[str]:
    """Names of the map's members, owners first."""
    rows = db.session.execute(
        select(User.name, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.journey_id == map_id)
        .order_by(Membership.role != "owner", User.name)
    )
    return [name for name, _role in rows]


def latest_kpis(map_id: int) -> list[tuple[Kpi, KpiValue | None]]:
    """The map's live KPIs with their latest reading (two queries)."""
    kpis = list(
        db.session.scalars(
            select(Kpi)
            .where(Kpi.journey_id == map_id, Kpi.deletion_id.is_(None))
            .order_by(Kpi.position, Kpi.id)
        )
    )
    latest: dict[int, KpiValue] = {}
    if kpis:
        values = db.session.scalars(
            select(KpiValue)
            .where(KpiValue.kpi_id.in_([k.id for k in kpis]))
            .order_by(KpiValue.measured_on, KpiValue.id)
        )
        for value in values:
            latest[value.kpi_id] = value
    return [(k, latest.get(k.id)) for k in kpis]


def strategies_by_stage(map_id: int, barriers_by_stage: dict) -> tuple[dict, list]:
    """Live strategies per stage key (the stages of the barriers each addresses), and those
    addressing no barrier on the board."""
    from ..journey import ice

    rows = list(
        db.session.scalars(
            select(Strategy).where(Strategy.journey_id == map_id, Strategy.deletion_id.is_(None))
        )
    )
    stage_of = {b.row.id: stage for stage, found in barriers_by_stage.items() for b in found}
    links: dict[int, set[str]] = {}
    if rows:
        pairs = db.session.execute(
            select(StrategyBarrier.strategy_id, StrategyBarrier.barrier_id).where(
                StrategyBarrier.strategy_id.in_([s.id for s in rows])
            )
        )
        for strategy_id, barrier_id in pairs:
            if barrier_id in stage_of:
                links.setdefault(strategy_id, set()).add(stage_of[barrier_id])
    scored = sorted(
        ((ice.ice(s.impact, s.confidence, s.effort), s) for s in rows), key=lambda p: -p[0]
    )
    per_stage: dict[str, list] = {}
    unlinked = []
    for score, s in scored:
        for stage in links.get(s.id, ()):
            per_stage.setdefault(stage, []).append((score, s))
        if s.id not in links:
            unlinked.append((score, s))
    return per_stage, unlinked


def funnel_chart(stats, column: int) -> dict:
    """Bar geometry of the stage funnel (px; one `column` per stage, so bars sit under their
    stages)."""
    top = max((s.reached or 0 for s in stats), default=0)
    bars = []
    for i, s in enumerate(stats):
        height = FUNNEL_H * (s.reached or 0) / top if top else 0
        bars.append(
            {
                "x": i * column + column * 0.2,
                "w": column * 0.6,
                "y": 14 + FUNNEL_H - height,
                "h": height,
                "cx": i * column + column / 2,
                "stat": s,
            }
        )
    return {"width": max(len(stats), 1) * column, "height": FUNNEL_H + 44, "bars": bars}


def poster_context(map_id: int, opts: PosterOptions) -> dict:
    """Everything the poster templates read, gathered with the board's own helpers."""
    from .. import aggregates, store
    from ..journey.analytics import analyze
    from ..routes import research
    from ..routes.analytics import number, percent
    from ..routes.barriers import STATUS_LABELS, priority_text
    from ..routes.board import TOUCHPOINT_KIND_LABELS, board_model
    from .fetcher import image_url

    journey = store.load_journey(map_id)
    row = db.session.get(Journey, map_id)
    board = board_model(journey)
    by_stage = aggregates.per_stage(map_id, opts.segment)
    segment = None
    if opts.segment is not None:
        segment = next((s for s in research.live_segments(map_id) if s.id == opts.segment), None)
        if segment is None:
            raise PosterError(_("This map has no segment %(id)s.", id=opts.segment))
        board.curve = research.emotion_curve(journey, by_stage)
        board.evidence = aggregates.per_touchpoint(map_id, opts.segment)
    persona = journey.primary_persona
    if opts.persona is not None:
        persona = next((p for p in journey.personas if p.id == opts.persona), None)
        if persona is None:
            raise PosterError(_("This map has no persona %(id)s.", id=opts.persona))
    funnel = None
    if "funnel" in opts.lanes:
        # Paths and loops are not drawn: bound them tightly so a large map stays fast.
        stats = analyze(journey, cap=1, budget=1, loop_cap=0).stages
        if any(s.reached is not None for s in stats):
            funnel = stats
    per_stage_strategies, unlinked = ({}, [])
    if "strategies" in opts.lanes:
        per_stage_strategies, unlinked = strategies_by_stage(map_id, board.barriers)
    return {
        "journey": journey,
        "row": row,
        "board": board,
        "lanes": opts.lanes,
        "lane_labels": LANES,
        "persona": persona,
        "avatar_url": image_url(map_id, persona.avatar_id)
        if persona and persona.avatar_id
        else None,
        "segment": segment,
        "authors": authors(map_id),
        "kpis": latest_kpis(map_id),
        "funnel": funnel,
        "strategies": per_stage_strategies,
        "unlinked_strategies": unlinked,
        "stage_evidence": by_stage,
        "threshold": row.evidence_threshold,
        "most": MOST,
        "tp_kinds": TOUCHPOINT_KIND_LABELS,
        "coverage_labels": research.COVERAGE_LABELS,
        "barrier_status_labels": STATUS_LABELS,
        "priority_text": priority_text,
        "metric_text": research.metric_text,
        "number": number,
        "percent": percent,
        "today": datetime.date.today(),
        "format_date": format_date,
        "format_decimal": format_decimal,
        "format_percent": format_percent,
    }


def natural_width(stages: int, column: int = STAGE_COLUMN) -> int:
    """The poster's width at natural size: lane heads, one column per stage, padding."""
    return LANE_HEAD + max(stages, 1) * column + 2 * PADDING


def scaled_curve(curve, column: int):
    """The board's emotion curve stretched across so each stage sits over a `column` px wide
    column (the curve's geometry has research.COLUMN units per stage; heights stay)."""
    from ..routes import research

    k = column / research.COLUMN

    def across(points: str) -> str:
        pairs = (pair.split(",") for pair in points.split())
        return " ".join(f"{float(x) * k:g},{y}" for x, y in pairs)

    return replace(
        curve,
        width=curve.width * k,
        points=[replace(p, x=p.x * k) for p in curve.points],
        lines=[replace(line, points=across(line.points)) for line in curve.lines],
        bands=[across(band) for band in curve.bands],
    )


def lines(text: str, width: float, font: float = 11) -> int:
    """About how many lines `text` wraps to in `width` px (DejaVu Sans: ~0.58 em a letter,
    plus a little for word breaks)."""
    return max(1, math.ceil(len(text) * 0.6 * font / max(width, 1)))


def estimate_height(context: dict, column: int) -> float:
    """A rough natural height of the poster with stage columns `column` px wide, from text
    lengths alone (no layout). Only chooses the column width of a fitted poster: the real
    layout is measured afterwards, so an error here costs fit quality, never clipping."""
    journey, board, most, lanes_ = context["journey"], context["board"], MOST, context["lanes"]
    stages, line = journey.stages, 14.3
    inner, card = column - 8, column - 16
    width = natural_width(len(stages), column) - 2 * PADDING
    persona = context["persona"]
    left = 50 + lines(journey.description, min(900, width * 0.5), 13) * 17 + 20
    left += 20 + 16 * len(context["kpis"]) if context["kpis"] else 0
    traits = " ".join(
        [persona.quote, persona.goals, persona.needs, persona.expectations, persona.frustrations]
        if persona
        else []
    )
    right = 40 + lines(traits, width * 0.45) * line + 5 * line if persona else 0
    total = max(left, right) + 14 + 2 * PADDING
    total += 8 + max((lines(s.name, inner, 14) * 18 + lines(s.description, inner, 10) * 13
                      for s in stages), default=0)  # fmt: skip
    head = 24  # a lane head's title

    def lane(cells) -> float:
        return max(head, max(cells, default=0) + 8)

    for name in lanes_:
        if name == "touchpoints":
            total += 22
            for c in journey.channels:
                total += lane(
                    sum(
                        (
                            lines(tp.name + " +1 n = 10", card)
                            + (lines(tp.action, card) if tp.action else 0)
                        )
                        * line
                        + 7
                        for tp in board.cell(s, c)
                    )
                    for s in stages
                )
        elif name in ("goals", "thoughts"):
            items = board.goals if name == "goals" else board.thoughts
            extra = 1 if name == "thoughts" else 0
            total += lane(
                sum(
                    (lines(tp.goal if name == "goals" else tp.thought, inner) + extra) * line + 3
                    for tp in items.get(s.key, [])[: most[name]]
                )
                + line
                for s in stages
            )
        elif name == "emotion":
            total += context["board"].curve.height + 2
        elif name == "barriers":
            total += lane(
                sum(
                    lines(b.row.title + " (open)", inner) * line + 3
                    for b in board.barriers.get(s.key, [])[: most[name]]
                )  # fmt: skip
                for s in stages
            )
        elif name == "strategies":
            total += lane(
                sum(lines(st.title + " 000", inner) * line + 3
                    for _score, st in context["strategies"].get(s.key, [])[: most[name]])
                for s in stages
            )  # fmt: skip
        elif name == "funnel":
            total += FUNNEL_H + 46
        elif name == "evidence":
            total += 4 * line + 12
    return total + 12 + 4 * line + lines("legend" * 60, width) * line


def fit_column(context: dict, paper: tuple[float, float]) -> int:
    """The stage column width whose estimated poster fills the paper best (largest scale)."""
    n = len(context["journey"].stages)
    return max(
        COLUMNS,
        key=lambda c: sheets.fit((natural_width(n, c), estimate_height(context, c)), paper).scale,
    )


def poster_html(map_id: int, opts: PosterOptions) -> tuple[str, int]:
    """The poster's HTML document (in the chosen language) and its natural width; a fitted
    poster's columns are as wide as fills the paper best, a tiled one's STAGE_COLUMN."""
    context = poster_context(map_id, opts)
    paper = sheets.paper_px(opts.paper, opts.orientation)
    column = STAGE_COLUMN if opts.tiled else fit_column(context, paper)
    return poster_document(context, column), natural_width(len(context["journey"].stages), column)


def poster_document(context: dict, column: int, template: str = "poster/poster.html") -> str:
    """Render a poster template with stage columns `column` px wide."""
    board = context["board"]
    curve = scaled_curve(board.curve, column)
    funnel = funnel_chart(context["funnel"], column) if context["funnel"] else None
    return render_template(
        template,
        **{**context, "curve": curve, "funnel": funnel},
        column=column,
        width=natural_width(len(context["journey"].stages), column),
    )


def min_scale() -> float:
    """The smallest scale at which the poster's smallest text stays readable."""
    return current_app.config["POSTER_MIN_TEXT_PT"] / (SMALLEST_TEXT_PX * sheets.PT_PER_PX)


def render_poster(map_id: int, opts: PosterOptions, progress=None) -> Poster:
    """Lay the poster out once, then fit or tile it; `progress(step)` is told each step
    ("data", "layout", "pdf") for the background job's progress bar."""
    from weasyprint import CSS, HTML

    from .fetcher import ORIGIN, PosterFetcher
    from .pages import Artwork

    step = progress or (lambda name: None)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    language = opts.language or db.session.get(Journey, map_id).language
    with force_locale(language):
        step("data")
        html, width = poster_html(map_id, opts)
        timings["html"] = time.perf_counter() - start
        step("layout")
        fetcher = PosterFetcher(map_id, current_app.static_folder)
        page_css = CSS(string=f"@page {{ size: {width}px {TALL}px; margin: 0 }}")
        document = HTML(string=html, base_url=ORIGIN, url_fetcher=fetcher).render(
            stylesheets=[CSS(string=poster_css()), page_css]
        )
        timings["layout"] = time.perf_counter() - start - timings["html"]
        if len(document.pages) != 1:
            raise PosterError(_("The poster is too tall to lay out."))
        page = document.pages[0]
        artwork = Artwork(page, page._page_box.children[0].margin_height())
        size = (artwork.width, artwork.height)
        paper = sheets.paper_px(opts.paper, opts.orientation)
        notes: list[str] = []
        pages = None if opts.tiled else fitted_pages(artwork, paper)
        tiled = pages is None
        if not tiled:
            scale, rows, cols = pages[0].scale, 1, 1
        else:
            scale = 1.0 if opts.tiled else min_scale()
            if not opts.tiled:
                notes.append(
                    _(
                        "The map does not fit on one %(paper)s sheet with text of at least "
                        "%(pt)s pt, so it is tiled across several sheets instead.",
                        paper=opts.paper,
                        pt=format_decimal(current_app.config["POSTER_MIN_TEXT_PT"]),
                    )
                )
            grid = sheets.tiles(size, paper, scale)
            rows, cols = grid[0].rows, grid[0].cols
            overlay = HTML(
                string=sheets_html(map_id, grid, opts.paper, paper, notes, language),
                base_url=ORIGIN,
                url_fetcher=fetcher,
            ).render(stylesheets=[CSS(string=poster_css())])
            pages = tiled_pages(artwork, paper, scale, grid, overlay.pages)
        step("pdf")
        mark = time.perf_counter()
        pdf = document.copy(pages).write_pdf()
        timings["pdf"] = time.perf_counter() - mark
    return Poster(pdf, len(pages), rows, cols, scale, size, tiled, notes, timings)


def fitted_pages(artwork, paper: tuple[float, float]) -> list | None:
    """The one sheet of a fitted poster, or None if fitting would shrink text below the
    minimum (the caller tiles it instead)."""
    from .pages import Sheet

    placed = sheets.fit((artwork.width, artwork.height), paper)
    if placed.scale < min_scale():
        return None
    geometry = (placed.scale, placed.x, placed.y, placed.window)
    bookmarks = sheets.place_bookmarks(artwork.page.bookmarks, [geometry])[0]
    return [Sheet(paper, artwork, *geometry, bookmarks=bookmarks)]


def tiled_pages(artwork, paper, scale: float, grid, overlays) -> list:
    """The sheets of a tiled poster, each with its overlay page (marks and label)."""
    from .pages import Sheet

    geometry = [(scale, t.window[0] - t.x, t.window[1] - t.y, t.window) for t in grid]
    bookmarks = sheets.place_bookmarks(artwork.page.bookmarks, geometry)
    return [
        Sheet(paper, artwork, *g, overlay=o, bookmarks=b)
        for g, o, b in zip(geometry, overlays, bookmarks, strict=True)
    ]


def sheets_html(map_id, grid, paper_name, paper, notes, language) -> str:
    """The overlay document of a tiled poster: one page per sheet."""
    return render_template(
        "poster/sheets.html",
        tiles=grid,
        title=context_title(map_id),
        paper=paper_name,
        notes=notes,
        mm=sheets.PX_PER_MM,
        margin=sheets.TILE_MARGIN_MM,
        overlap=sheets.OVERLAP_MM,
        size=paper,
        lang=language,
    )


def context_title(map_id: int) -> str:
    """The map's title for the sheet labels (the guard or the job loaded the row already)."""
    return db.session.get(Journey, map_id).title


@register("pdf", ".pdf", "application/pdf", _l("PDF poster"))
def render_pdf(map_id: int, options: dict) -> bytes:
    """The poster as PDF bytes; notes (e.g. "tiled instead of fitted") go to options["notes"]."""
    poster = render_poster(map_id, PosterOptions.from_dict(options))
    options["notes"] = poster.notes
    return poster.pdf
