"""Web-analytics volumes: a CSV of visits/requests/orders per stage or transition for a period,
stored as AnalyticsVolume rows; transitions get the latest period's value as their volume; the
stage funnel shows the volume reaching each stage and the conversion between stages."""

import calendar
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select

from .. import store
from ..extensions import db
from ..models import AnalyticsVolume, Stage, Touchpoint, Transition
from .mapping import alias_length, norm
from .reading import Table, cell_text, read_table
from .validate import CellError, CellProblem, parse_date, parse_whole

METRICS = {
    "visits": ("visits", "visit", "sessions", "визиты", "посещения", "визиты сайта", "сеансы"),
    "requests": ("requests", "request", "leads", "заявки", "заявка", "обращения", "лиды"),
    "orders": ("orders", "order", "purchases", "заказы", "заказ", "покупки", "продажи"),
}
COLUMNS = {
    "period_start": ("period start", "start", "from date", "начало периода", "начало", "с"),
    "period_end": ("period end", "end", "to date", "конец периода", "конец", "по"),
    "period": ("period", "month", "date", "период", "месяц", "дата"),
    "metric": ("metric", "measure", "метрика", "показатель"),
    "stage": ("stage", "этап"),
    "transition": ("transition", "edge", "переход"),
    "value": ("value", "count", "volume", "значение", "количество", "объем"),
}
MONTH = re.compile(r"^(?:(\d{4})-(\d{1,2})|(\d{1,2})[./](\d{4}))$")
ARROW = re.compile(r"\s*(?:→|->|—>|=>)\s*")
MAX_VALUE = 2**31 - 1


def analytics_columns(headers: list[str]) -> dict[str, int]:
    """Which column holds what, from the header names (best alias match, each used once)."""
    found: dict[str, int] = {}
    scored = []
    for i, header in enumerate(headers):
        h = norm(header)
        for target, aliases in COLUMNS.items():
            # Exact names first, then aliases starting the header's words.
            score = max(
                (100 if h == a else alias_length(h, a) if len(a) > 2 else 0) for a in aliases
            )
            if score:
                scored.append((-score, i, target))
    for _, i, target in sorted(scored):
        if target not in found and i not in found.values():
            found[target] = i
    return found


def parse_period(value) -> tuple[date, date]:
    """A month ("2024-03", "03.2024") as its first and last day; a date as that one day."""
    m = MONTH.match(cell_text(value))
    if m:
        year, month = (int(m[1]), int(m[2])) if m[1] else (int(m[4]), int(m[3]))
        if not 1 <= month <= 12:
            raise CellProblem("impossible-date")
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    day = parse_date(value)
    return day, day


def metric_name(value) -> str:
    """visits / requests / orders from English or Russian names; other names kept as given."""
    text = norm(value)
    for metric, aliases in METRICS.items():
        if text in aliases:
            return metric
    return text[:16]


@dataclass
class VolumeImport:
    """Parsed rows ready to store, and every bad cell."""

    rows: list[dict]
    errors: list[CellError]


def parse_volumes(table: Table, journey_id: int) -> VolumeImport:
    """Check every row of a volumes table against the map's stages and transitions."""
    headers = table.headers
    where = analytics_columns(headers)
    stages = store.ordered(Stage, journey_id)
    stage_index = {norm(s.key): s.id for s in stages} | {norm(s.name): s.id for s in stages}
    touchpoints = db.session.scalars(store.live(Touchpoint, journey_id)).all()
    tp_index = {norm(t.key): t.id for t in touchpoints} | {norm(t.name): t.id for t in touchpoints}
    transitions = db.session.scalars(store.live(Transition, journey_id)).all()
    edge_by_key = {norm(e.key): e.id for e in transitions}
    edge_by_ends = {(e.source_id, e.target_id): e.id for e in transitions}
    rows, errors = [], []
    missing = [c for c in ("metric", "value") if c not in where]
    if "period" not in where and "period_start" not in where:
        missing.append("period")
    if "stage" not in where and "transition" not in where:
        missing.append("stage or transition")
    if missing:
        row = table.header_row or 1
        return VolumeImport([], [CellError(row, ", ".join(missing), "", "missing-column")])
    for number, cells in table.data_rows:

        def cell(name, cells=cells):
            i = where.get(name)
            return cells[i] if i is not None and i < len(cells) else None

        row_errors: list[CellError] = []
        record = {"journey_id": journey_id, "stage_id": None, "transition_id": None}

        def fail(name, problem, number=number, row_errors=row_errors, cell=cell):
            row_errors.append(
                CellError(
                    number,
                    headers[where[name]],
                    cell_text(cell(name)),
                    problem.code,
                    problem.params,
                )
            )

        try:
            if "period_start" in where:
                record["period_start"] = parse_period(cell("period_start"))[0]
                end_name = "period_end" if "period_end" in where else "period_start"
                record["period_end"] = parse_period(cell(end_name))[1]
            else:
                record["period_start"], record["period_end"] = parse_period(cell("period"))
        except CellProblem as p:
            fail("period_start" if "period_start" in where else "period", p)
        metric = metric_name(cell("metric"))
        if metric:
            record["metric"] = metric
        else:
            fail("metric", CellProblem("required"))
        try:
            record["value"] = parse_whole(cell("value"), 0, MAX_VALUE)
        except CellProblem as p:
            fail("value", p)
        stage_text, edge_text = cell_text(cell("stage")), cell_text(cell("transition"))
        if edge_text:
            edge = edge_by_key.get(norm(edge_text))
            ends = ARROW.split(edge_text)
            if edge is None and len(ends) == 2:
                source, target = (tp_index.get(norm(x)) for x in ends)
                edge = edge_by_ends.get((source, target))
            if edge is None:
                fail("transition", CellProblem("unknown", kind="transition", value=edge_text))
            record["transition_id"] = edge
        elif stage_text:
            record["stage_id"] = stage_index.get(norm(stage_text))
            if record["stage_id"] is None:
                fail("stage", CellProblem("unknown", kind="stage", value=stage_text))
        else:
            errors_at = "transition" if "transition" in where else "stage"
            fail(errors_at, CellProblem("required"))
        if row_errors:
            position = {headers[i]: i for i in where.values()}
            errors.extend(sorted(row_errors, key=lambda e: position.get(e.column, 0)))
        else:
            rows.append(record)
    return VolumeImport(rows, errors)


def import_volumes(data: bytes, filename: str, journey_id: int) -> VolumeImport:
    """Read, check and (if every row is valid) store a volumes file in the caller's transaction.
    A figure for the same period, metric and stage/transition replaces the earlier one."""
    parsed = parse_volumes(read_table(data, filename), journey_id)
    if parsed.errors or not parsed.rows:
        return parsed
    for r in parsed.rows:
        db.session.execute(
            delete(AnalyticsVolume).where(
                AnalyticsVolume.journey_id == journey_id,
                AnalyticsVolume.period_start == r["period_start"],
                AnalyticsVolume.period_end == r["period_end"],
                AnalyticsVolume.metric == r["metric"],
                AnalyticsVolume.stage_id.is_(r["stage_id"])
                if r["stage_id"] is None
                else AnalyticsVolume.stage_id == r["stage_id"],
                AnalyticsVolume.transition_id.is_(r["transition_id"])
                if r["transition_id"] is None
                else AnalyticsVolume.transition_id == r["transition_id"],
            )
        )
    db.session.add_all(AnalyticsVolume(**r) for r in parsed.rows)
    db.session.flush()
    fill_transition_volumes(journey_id)
    return parsed


METRIC_ORDER = ("visits", "requests", "orders")


def fill_transition_volumes(journey_id: int) -> None:
    """Transition.volume := the value of its latest period (by end, then start); when several
    metrics share that period, visits before requests before orders before the rest."""
    rows = db.session.scalars(
        select(AnalyticsVolume).where(
            AnalyticsVolume.journey_id == journey_id, AnalyticsVolume.transition_id.is_not(None)
        )
    ).all()
    latest: dict[int, AnalyticsVolume] = {}

    def rank(v):
        order = METRIC_ORDER.index(v.metric) if v.metric in METRIC_ORDER else len(METRIC_ORDER)
        return (v.period_end, v.period_start, -order)

    for v in rows:
        if v.transition_id not in latest or rank(v) > rank(latest[v.transition_id]):
            latest[v.transition_id] = v
    for edge_id, v in latest.items():
        edge = db.session.get(Transition, edge_id)
        if edge.volume != v.value:
            edge.volume = v.value


def conversions(volumes: list[int | None]) -> list[float | None]:
    """Conversion from each stage to the next in %: None for the first and after a gap or zero
    (100 → 2 → 1 gives None, 2.0, 50.0)."""
    result: list[float | None] = [None]
    for before, after in zip(volumes, volumes[1:], strict=False):
        ok = before not in (None, 0) and after is not None
        result.append(round(after * 100 / before, 1) if ok else None)
    return result


def periods(journey_id: int) -> list[tuple[date, date]]:
    """The periods with figures, latest first."""
    rows = db.session.execute(
        select(AnalyticsVolume.period_start, AnalyticsVolume.period_end)
        .where(AnalyticsVolume.journey_id == journey_id)
        .distinct()
    ).all()
    return sorted({(r[0], r[1]) for r in rows}, key=lambda p: (p[1], p[0]), reverse=True)


def metrics(journey_id: int) -> list[str]:
    """The metrics with figures: visits, requests, orders first."""
    found = set(
        db.session.scalars(
            select(AnalyticsVolume.metric)
            .where(AnalyticsVolume.journey_id == journey_id)
            .distinct()
        )
    )
    return [m for m in METRIC_ORDER if m in found] + sorted(found - set(METRIC_ORDER))


def stage_funnel(journey_id: int, metric: str, period: tuple[date, date]) -> list[dict]:
    """Per stage in order: the volume reaching it (its stage figure, else the sum of transition
    figures entering it from another stage) and the conversion from the previous stage."""
    stages = store.ordered(Stage, journey_id)
    figures = db.session.scalars(
        select(AnalyticsVolume).where(
            AnalyticsVolume.journey_id == journey_id,
            AnalyticsVolume.metric == metric,
            AnalyticsVolume.period_start == period[0],
            AnalyticsVolume.period_end == period[1],
        )
    ).all()
    by_stage = {v.stage_id: v.value for v in figures if v.stage_id is not None}
    stage_of = {t.id: t.stage_id for t in db.session.scalars(store.live(Touchpoint, journey_id))}
    ends = {
        e.id: (e.source_id, e.target_id)
        for e in db.session.scalars(store.live(Transition, journey_id))
    }
    entering: dict[int, int] = {}
    for v in figures:
        if v.transition_id in ends:
            source, target = ends[v.transition_id]
            if stage_of.get(source) != stage_of.get(target) and target in stage_of:
                entering[stage_of[target]] = entering.get(stage_of[target], 0) + v.value
    volumes = [by_stage.get(s.id, entering.get(s.id)) for s in stages]
    return [
        {"stage": s, "volume": volume, "conversion": conversion}
        for s, volume, conversion in zip(stages, volumes, conversions(volumes), strict=True)
    ]
