"""The map as CSV tables for spreadsheets: touchpoints, transitions, barriers, strategies and
evidence, one file each or all in a zip.

Written for Excel as people actually open it (a double click):
- UTF-8 with a BOM, or Excel reads Cyrillic as cp1251 mojibake; CRLF line ends; every cell that
  needs it quoted (the csv module), so newlines inside a verbatim stay in their cell.
- Two dialects: "," with a decimal point (English locales), and ";" with a decimal comma, which
  is what Russian-locale Excel expects (its list separator is ";" because "," is its decimal mark).
- Formula injection (CWE-1236): a *text* cell starting with "=", "+", "-", "@", a tab or a CR
  would be run as a formula, so it gets a leading apostrophe ("'=SUM(A1)"), which Excel and
  LibreOffice show as text and hide in the cell. Numeric columns (emotion, volume, scores,
  conversion …) are written by the app from numbers, never from user text, so a negative emotion
  stays the number -2 there; only text columns are neutralised. A team's text that really starts
  with "-" ("- call back") keeps its apostrophe: a visible quirk instead of a hole.
"""

import csv
import io
import math
import zipfile

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import barriers, evidence, store
from ..extensions import db
from ..journey.analytics import analyze
from ..models import Barrier, Strategy, StrategyBarrier
from . import register

SEPARATORS = (",", ";")
TABLES = ("touchpoints", "transitions", "barriers", "strategies", "evidence")
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A text cell that a spreadsheet will not run as a formula."""
    return "'" + text if text.startswith(TRIGGERS) else text


def cell(value, separator: str) -> str:
    """One cell as text: numbers in the dialect's decimal mark, text neutralised, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ""
        text = f"{value:.6g}" if abs(value) < 1e15 else repr(value)
        return text.replace(".", ",") if separator == ";" else text
    return neutralise(str(value))


def write_table(header: list[str], rows: list[list], separator: str = ",") -> bytes:
    """A CSV file: BOM, header, rows (CRLF, minimal quoting)."""
    if separator not in SEPARATORS:
        raise ValueError(f"separator is one of {SEPARATORS}")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([cell(v, separator) for v in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def tables(map_id: int) -> dict[str, tuple[list[str], list[list]]]:
    """Every table of the map: name -> (header, rows), in a fixed number of queries."""
    journey = store.load_journey(map_id)
    stage = {s.key: s.name for s in journey.stages}
    channel = {c.key: c.name for c in journey.channels}
    tp_name = {tp.key: tp.name for tp in journey.touchpoints}
    analytics = analyze(journey)
    conversion = {t.key: t.conversion for t in analytics.transitions}
    found = {}
    found["touchpoints"] = (
        "key stage stage_name channel channel_name kind name emotion action goal thought "
        "description".split(),
        [
            [
                tp.key,
                tp.stage,
                stage.get(tp.stage),
                tp.channel,
                channel.get(tp.channel),
                tp.kind,
                tp.name,
                tp.emotion,
                tp.action,
                tp.goal,
                tp.thought,
                tp.description,
            ]
            for tp in journey.touchpoints
        ],
    )
    found["transitions"] = (
        "key from from_name to to_name kind label volume conversion".split(),
        [
            [
                tr.key,
                tr.source,
                tp_name[tr.source],
                tr.target,
                tp_name[tr.target],
                tr.kind,
                tr.label,
                tr.volume,
                conversion.get(tr.key),
            ]
            for tr in journey.transitions
        ],
    )
    ranked = barriers.ranked(journey, analytics=analytics)
    found["barriers"] = (
        "key title type severity status touchpoint transition stage frequency votes priority "
        "segments description".split(),
        [
            [
                b.row.key,
                b.row.title,
                b.row.type,
                b.row.severity,
                b.row.status,
                b.touchpoint.key if b.touchpoint else None,
                b.transition.key if b.transition else None,
                b.stage,
                b.frequency,
                b.votes,
                round(b.priority.value, 4),
                ", ".join(b.segments),
                b.row.description,
            ]
            for b in ranked
        ],
    )
    found["strategies"] = _strategies(map_id)
    journey.segments = evidence.load_segments(map_id)
    segment = {s.key: s.name for s in journey.segments}
    found["evidence"] = (
        "id touchpoint stage channel segment segment_name source date respondent csat nps ces "
        "verbatim".split(),
        [
            [
                o.id,
                o.touchpoint,
                o.stage,
                o.channel,
                o.segment,
                segment.get(o.segment),
                o.source,
                o.date,
                o.respondent,
                o.csat,
                o.nps,
                o.ces,
                o.verbatim,
            ]
            for o in evidence.load_evidence(map_id)
        ],
    )
    return found


def _strategies(map_id: int) -> tuple[list[str], list[list]]:
    """Strategies with ICE (impact × confidence × ease, ease = 11 − effort) and the keys of the
    live barriers each addresses (two queries)."""
    rows = db.session.scalars(store.live(Strategy, map_id).order_by(Strategy.id)).all()
    addressed: dict[int, list[str]] = {}
    for strategy_id, key in db.session.execute(
        select(StrategyBarrier.strategy_id, Barrier.key)
        .join(Barrier, Barrier.id == StrategyBarrier.barrier_id)
        .where(Barrier.journey_id == map_id, Barrier.deletion_id.is_(None))
        .order_by(Barrier.id)
    ):
        addressed.setdefault(strategy_id, []).append(key)
    return (
        "key title status owner impact confidence effort ice barriers description".split(),
        [
            [
                s.key,
                s.title,
                s.status,
                s.owner,
                s.impact,
                s.confidence,
                s.effort,
                s.impact * s.confidence * (11 - s.effort),
                ", ".join(addressed.get(s.id, [])),
                s.description,
            ]
            for s in rows
        ],
    )


def render_csv(map_id: int, options: dict) -> bytes:
    """One table (options["table"]) as CSV, or every table as CSV files in a zip."""
    separator = options.get("separator") or ","
    if separator not in SEPARATORS:
        raise ValueError(f"separator is one of {SEPARATORS}")
    table = options.get("table")
    if table and table not in TABLES:
        raise ValueError(f"table is one of {TABLES}")
    found = tables(map_id)
    if table:
        return write_table(*found[table], separator)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in TABLES:
            archive.writestr(f"{name}.csv", write_table(*found[name], separator))
    return out.getvalue()


@register("csv", ".zip", "application/zip", _l("CSV tables (zip; comma, decimal point)"))
def render_csv_comma(map_id: int, options: dict) -> bytes:
    """CSV tables with "," (options may pick one table, or ";")."""
    return render_csv(map_id, options)


@register(
    "csv-semicolon",
    ".zip",
    "application/zip",
    _l("CSV tables for Russian-locale Excel (zip; semicolon, decimal comma)"),
)
def render_csv_semicolon(map_id: int, options: dict) -> bytes:
    """CSV tables with ";" and decimal commas (options may pick one table)."""
    return render_csv(map_id, {**options, "separator": ";"})
