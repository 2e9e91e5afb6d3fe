"""Paper, scale and sheets of the poster (geometry only; cjm.export.pages draws them).

The poster is laid out once by WeasyPrint as one tall page at its natural size; then every
sheet of paper draws that page as a shared PDF form XObject, scaled and moved, clipped to the
sheet's printable window. "Fit" is one sheet with the poster scaled into it; "tiled" is rows ×
columns of sheets at full size that overlap, so they can be trimmed and taped together. The
poster's vector content is stored once however many sheets.

Units: CSS pixels (1/96 inch) unless a name says mm or pt.
"""

import math
from dataclasses import dataclass

PX_PER_MM = 96 / 25.4
PT_PER_PX = 0.75
# ISO 216 sizes, portrait, in millimetres.
PAPERS = {
    "A4": (210, 297),
    "A3": (297, 420),
    "A2": (420, 594),
    "A1": (594, 841),
    "A0": (841, 1189),
}
ORIENTATIONS = ("landscape", "portrait")
FIT_MARGIN_MM = 10  # white border round a fitted poster (most printers cannot print to the edge)
TILE_MARGIN_MM = 12  # room on each tiled sheet for the crop marks and the sheet label
OVERLAP_MM = 10  # what neighbouring sheets show twice, to glue one over the other


def paper_px(paper: str, orientation: str) -> tuple[float, float]:
    """(width, height) of a sheet in CSS px."""
    short, long = PAPERS[paper]
    w, h = (long, short) if orientation == "landscape" else (short, long)
    return w * PX_PER_MM, h * PX_PER_MM


@dataclass(frozen=True)
class Fit:
    """How the poster sits on one sheet: its scale and the top-left corner of the poster."""

    scale: float
    x: float
    y: float
    window: tuple[float, float, float, float]  # x, y, width, height of the printable area


def fit(poster: tuple[float, float], sheet: tuple[float, float]) -> Fit:
    """Scale the poster to the largest size that fits the sheet inside its margin, centred
    across and at the top (never clipped: the scale is the smaller of the two ratios)."""
    margin = FIT_MARGIN_MM * PX_PER_MM
    width, height = sheet[0] - 2 * margin, sheet[1] - 2 * margin
    scale = min(width / poster[0], height / poster[1])
    x = margin + (width - poster[0] * scale) / 2
    return Fit(scale, x, margin, (margin, margin, width, height))


@dataclass(frozen=True)
class Tile:
    """One sheet of a tiled poster: its place in the grid and the poster area it shows."""

    row: int  # 0-based
    col: int
    rows: int
    cols: int
    x: float  # the poster point (scaled) at the window's top-left corner
    y: float
    window: tuple[float, float, float, float]


def steps(length: float, window: float, overlap: float) -> int:
    """How many windows of `window` overlapping by `overlap` cover `length`."""
    if length <= window:
        return 1
    return math.ceil((length - overlap) / (window - overlap))


def tiles(poster: tuple[float, float], sheet: tuple[float, float], scale: float) -> list[Tile]:
    """The sheets of a tiled poster at `scale`, row by row; neighbours overlap by OVERLAP_MM."""
    margin, overlap = TILE_MARGIN_MM * PX_PER_MM, OVERLAP_MM * PX_PER_MM
    width, height = sheet[0] - 2 * margin, sheet[1] - 2 * margin
    cols = steps(poster[0] * scale, width, overlap)
    rows = steps(poster[1] * scale, height, overlap)
    return [
        Tile(
            r,
            c,
            rows,
            cols,
            c * (width - overlap),
            r * (height - overlap),
            (margin, margin, width, height),
        )  # fmt: skip
        for r in range(rows)
        for c in range(cols)
    ]


def place_bookmarks(bookmarks, sheets_geometry) -> list[list]:
    """Give each poster bookmark (level, label, (x, y), state) to the first sheet whose window
    shows its point, in that sheet's coordinates. `sheets_geometry` is (scale, x, y, window)
    per sheet, x/y being where the poster's origin lands on the sheet."""
    placed: list[list] = [[] for _ in sheets_geometry]
    for level, label, (px, py), state in bookmarks:
        for i, (scale, x, y, (wx, wy, ww, wh)) in enumerate(sheets_geometry):
            sx, sy = px * scale + x, py * scale + y
            if wx - 1 <= sx <= wx + ww and wy - 1 <= sy <= wy + wh:
                placed[i].append((level, label, (sx, sy), state))
                break
    return placed
