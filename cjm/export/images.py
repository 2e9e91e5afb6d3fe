"""The graph and the board as pictures for slides: standalone SVG files and PNGs of them.

The SVG is self-contained: its own CSS inside a <style> element, fonts named (DejaVu Sans, which
has Cyrillic, then common fallbacks), no links, scripts or external references, so it opens
the same in a browser, Inkscape or a slide deck. The graph is drawn from the graph view's own
layout (cjm.journey.graph.layout); the board is a plain vector grid of stages × channels with
the emotion curve and the barriers per stage.

PNG: WeasyPrint (already the poster's renderer) lays the SVG on a page of exactly its size and
pypdfium2 (Google's PDFium, wheels on PyPI for every platform, no system libraries) rasterises
that page. Nothing else in the stack rasterises SVG (WeasyPrint dropped cairo), and this keeps
the slide PNG identical to what the PDF poster draws. The renderer loads nothing: its URL
fetcher refuses every URL.
"""

import io
import re
from dataclasses import dataclass, field

import pypdfium2
from flask import render_template
from flask_babel import force_locale, format_decimal
from flask_babel import lazy_gettext as _l
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .. import barriers, store
from ..journey import graph as jg
from ..journey import model as dm
from ..journey.analytics import analyze
from ..journey.metrics import manual_emotion
from . import register

PNG_SCALE = 2  # device pixels per SVG px: sharp on a projector and in a slide deck
MAX_PIXELS = 16_000_000  # a huge map gets a smaller scale rather than a gigantic PNG
FONTS = '"DejaVu Sans", "Noto Sans", "Liberation Sans", Arial, sans-serif'


PICTURE_URL = "https://slide.cjm.invalid/picture.svg"  # .invalid never resolves


class PictureFetcher(URLFetcher):
    """A URL fetcher that answers one URL, the picture being rasterised, from memory, and refuses
    every other (the SVG has no references of its own; anything else would be hostile)."""

    def __init__(self, svg: bytes, **kwargs):
        super().__init__(allowed_protocols=("https",), allow_redirects=False, **kwargs)
        self.svg = svg
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        if url == PICTURE_URL:
            return URLFetcherResponse(url, self.svg, {"Content-Type": "image/svg+xml"})
        self.refused.append(url)
        raise ValueError(f"refused {url[:200]!r}: slide rendering loads nothing else")

    def open(self, url, data=None, timeout=None):
        """urllib-style entry point: the same rule (no handler of the parent ever runs)."""
        return self.fetch(getattr(url, "full_url", url))


def graph_svg(map_id: int) -> str:
    """The journey graph as a standalone SVG document."""
    journey = store.load_journey(map_id)
    with force_locale(journey.language):  # the picture speaks the map's language
        return render_template(
            "formats/graph.svg",
            journey=journey,
            layout=jg.layout(journey),
            dashes=jg.DASHES,
            line_h=jg.LINE_H,
            fonts=FONTS,
        )


# --- the board as a grid -------------------------------------------------------------------------
HEAD_W, COL_W, HEAD_H = 130, 200, 44
CARD_W, CARD_H, CARD_GAP, PAD = 180, 50, 8, 10
EMOTION_H, BARRIER_LINE, BARRIERS_SHOWN = 110, 16, 4
CARD_CHARS = 20  # 11 px DejaVu Sans beside the emotion badge


@dataclass
class Card:
    touchpoint: dm.Touchpoint
    x: float
    y: float
    lines: tuple[str, ...]


@dataclass
class BoardPicture:
    """Coordinates of every part of the board drawing."""

    width: float
    height: float
    columns: list[tuple[dm.Stage, float, tuple[str, ...]]] = field(default_factory=list)
    rows: list[tuple[dm.Channel, float, float, tuple[str, ...]]] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    emotion_top: float = 0
    emotion_points: list[tuple[float, float, float]] = field(default_factory=list)  # x, y, value
    barriers_top: float = 0
    barriers_height: float = 0
    barriers: dict[str, list] = field(default_factory=dict)
    more: dict[str, int] = field(default_factory=dict)


def board_picture(journey: dm.Journey, ranked: list) -> BoardPicture:
    """Lay the board out: channel rows as tall as their fullest cell, then the two lanes."""
    col = {s.key: i for i, s in enumerate(journey.stages)}
    cells: dict[tuple[str, str], list[dm.Touchpoint]] = {}
    for tp in journey.touchpoints:
        cells.setdefault((tp.stage, tp.channel), []).append(tp)
    pic = BoardPicture(width=HEAD_W + COL_W * len(journey.stages), height=0)
    pic.columns = [
        (s, HEAD_W + i * COL_W, jg.wrap(s.name, 24, 2)) for i, s in enumerate(journey.stages)
    ]
    y = HEAD_H
    for c in journey.channels:
        depth = max([len(cells.get((s.key, c.key), [])) for s in journey.stages] + [1])
        height = 2 * PAD + depth * CARD_H + (depth - 1) * CARD_GAP
        pic.rows.append((c, y, height, jg.wrap(c.name, 16, 3)))
        for s in journey.stages:
            for k, tp in enumerate(cells.get((s.key, c.key), [])):
                x = HEAD_W + col[s.key] * COL_W + (COL_W - CARD_W) / 2
                top = y + PAD + k * (CARD_H + CARD_GAP)
                pic.cards.append(Card(tp, x, top, jg.wrap(tp.name, CARD_CHARS, 2)))
        y += height
    pic.emotion_top = y
    for s, x, _ in pic.columns:
        value = manual_emotion(tp.emotion for tp in journey.touchpoints if tp.stage == s.key)
        if value is not None:
            mid = y + EMOTION_H / 2
            pic.emotion_points.append(
                (x + COL_W / 2, mid - value * (EMOTION_H / 2 - 14) / 2, value)
            )
    y += EMOTION_H
    pic.barriers_top = y
    grouped = barriers.by_stage(ranked)
    pic.barriers = {k: v[:BARRIERS_SHOWN] for k, v in grouped.items()}
    pic.more = {k: len(v) - BARRIERS_SHOWN for k, v in grouped.items() if len(v) > BARRIERS_SHOWN}
    shown = max([len(v) for v in pic.barriers.values()] + [1])
    pic.barriers_height = 2 * PAD + 10 + (shown + (1 if pic.more else 0)) * BARRIER_LINE
    pic.height = y + pic.barriers_height + 1
    return pic


def board_svg(map_id: int) -> str:
    """The board as a standalone SVG document."""
    journey = store.load_journey(map_id)
    ranked = barriers.ranked(journey, analytics=analyze(journey), with_segments=False)
    with force_locale(journey.language):
        return render_template(
            "formats/board.svg",
            journey=journey,
            pic=board_picture(journey, ranked),
            col_w=COL_W,
            head_w=HEAD_W,
            head_h=HEAD_H,
            card_w=CARD_W,
            card_h=CARD_H,
            emotion_h=EMOTION_H,
            line=BARRIER_LINE,
            pad=PAD,
            fonts=FONTS,
            wrap=jg.wrap,
            format_decimal=format_decimal,
        )


def png_of(svg: str, fetcher: PictureFetcher | None = None) -> bytes:
    """An SVG document as a PNG, PNG_SCALE device pixels per SVG px (less for huge drawings);
    `fetcher` (for tests) must be a PictureFetcher of the same SVG."""
    width, height = _size(svg)
    # The SVG as an image, not inline: WeasyPrint then parses it as XML and skips the HTML
    # cascade over thousands of SVG elements (3× faster on a 400-touchpoint map).
    html = (
        "<!doctype html><meta charset=utf-8><style>"
        f"@page {{ size: {width}px {height}px; margin: 0 }} html, body {{ margin: 0 }}"
        f"img {{ display: block; width: {width}px; height: {height}px }}</style>"
        f'<img src="{PICTURE_URL}" alt="">'
    )
    fetcher = fetcher or PictureFetcher(svg.encode("utf-8"))
    pdf = HTML(string=html, base_url=PICTURE_URL, url_fetcher=fetcher).write_pdf()
    scale = min(PNG_SCALE, (MAX_PIXELS / max(width * height, 1)) ** 0.5)
    document = pypdfium2.PdfDocument(pdf)
    try:
        # PDF units are points (1 px = 0.75 pt); pdfium's scale 1 is 72 dpi.
        bitmap = document[0].render(scale=scale / 0.75)
        image = bitmap.to_pil()
    finally:
        document.close()
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6)  # optimize=True costs 4× the time for ~2 %
    return out.getvalue()


def _size(svg: str) -> tuple[float, float]:
    """The width and height attributes of the outer <svg> element."""
    head = svg[svg.index("<svg") : svg.index(">", svg.index("<svg"))]
    width = float(re.search(r'\swidth="([\d.]+)"', head)[1])
    height = float(re.search(r'\sheight="([\d.]+)"', head)[1])
    return width, height


@register("graph-svg", ".svg", "image/svg+xml", _l("SVG: journey graph"))
def render_graph_svg(map_id: int, options: dict) -> bytes:
    """The graph view's drawing as a standalone SVG file."""
    return graph_svg(map_id).encode("utf-8")


@register("graph-png", ".png", "image/png", _l("PNG: journey graph"))
def render_graph_png(map_id: int, options: dict) -> bytes:
    """The graph drawing as a PNG for slides."""
    return png_of(graph_svg(map_id))


@register("board-svg", ".svg", "image/svg+xml", _l("SVG: board"))
def render_board_svg(map_id: int, options: dict) -> bytes:
    """The board grid as a standalone SVG file."""
    return board_svg(map_id).encode("utf-8")


@register("board-png", ".png", "image/png", _l("PNG: board"))
def render_board_png(map_id: int, options: dict) -> bytes:
    """The board grid as a PNG for slides."""
    return png_of(board_svg(map_id))
