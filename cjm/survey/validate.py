"""Check every cell of a survey against the chosen mapping (pure, no Flask, no database).

Each bad cell becomes a CellError with the row number the user sees in the file and a reason
code; a row with any error is left out, so "import only the valid rows" imports exactly the
others."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from ..journey.model import CES_RANGE, CSAT_RANGE, NPS_RANGE
from .mapping import VALUE_KINDS, norm
from .reading import Table, cell_text

RANGES = {"csat": CSAT_RANGE, "nps": NPS_RANGE, "ces": CES_RANGE}
TEXT_LIMITS = {"respondent": 120}
# English reasons (the CLI prints these; the web UI translates by code).
REASONS = {
    "not-a-number": "not a number",
    "not-whole": "not a whole number",
    "out-of-range": "out of range ({low}–{high})",
    "not-a-date": "not a date (DD.MM.YYYY or YYYY-MM-DD)",
    "impossible-date": "impossible date",
    "too-long": "too long (at most {limit} characters)",
    "unknown": "unknown {kind} “{value}”",
    "new-touchpoint-needs-frame": "a new touchpoint needs the row's stage and channel",
    "no-measure": "no CSAT, NPS, CES or comment",
    "no-place": "no touchpoint, stage or channel",
    "required": "empty",
    "missing-column": "no such column in the file",
}
DMY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


class CellProblem(Exception):
    """One cell's value is wrong; `code` is a key of REASONS."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code, self.params = code, params


@dataclass
class CellError:
    row: int
    column: str
    value: str
    code: str
    params: dict = field(default_factory=dict)

    @property
    def reason(self) -> str:
        """The reason in English."""
        return REASONS[self.code].format(**self.params)

    def as_dict(self) -> dict:
        """JSON form (stored in SurveyImport.report, printed by the CLI)."""
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "code": self.code,
            "params": self.params,
            "reason": self.reason,
        }


@dataclass
class Validation:
    """Valid rows (row number, fields) and every bad cell."""

    rows: list[tuple[int, dict]]
    errors: list[CellError]
    invalid_rows: int

    @property
    def counts(self) -> dict:
        return {"valid": len(self.rows), "invalid": self.invalid_rows}


def parse_number(value) -> float:
    """A number from a cell: numbers as they are, text with a decimal comma or point and
    spaces as thousands separators ("1 234,5")."""
    if isinstance(value, bool):
        raise CellProblem("not-a-number")
    if isinstance(value, int | float):
        return float(value)
    text = re.sub(r"[\s\u00a0\u202f]", "", cell_text(value))
    if "," in text and "." in text:
        # The separator written last is the decimal one ("1.234,5" or "1,234.5").
        thousands = "." if text.rfind(",") > text.rfind(".") else ","
        text = text.replace(thousands, "")
    text = text.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", text):
        raise CellProblem("not-a-number")
    return float(text)


def parse_whole(value, low: int, high: int) -> int:
    """A whole number within [low, high] ("4,0" is 4; "4,5" is not a whole number)."""
    number = parse_number(value)
    if not number.is_integer():
        raise CellProblem("not-whole")
    if not low <= number <= high:
        raise CellProblem("out-of-range", low=low, high=high)
    return int(number)


def parse_date(value) -> date:
    """A date from a date cell or DD.MM.YYYY, DD.MM.YY, YYYY-MM-DD text (a time part is dropped)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    if m := DMY.match(text):
        day, month, year = (int(g) for g in m.groups())
        if len(m.group(3)) == 2:
            year = datetime.strptime(m.group(3), "%y").year
    elif m := YMD.match(text):
        year, month, day = (int(g) for g in m.groups())
    else:
        raise CellProblem("not-a-date")
    try:
        return date(year, month, day)
    except ValueError as e:
        raise CellProblem("impossible-date") from e


def distinct_values(table: Table, columns: list[str]) -> dict[str, list[str]]:
    """The distinct values (first spelling seen) of the stage/channel/touchpoint/segment columns."""
    found: dict[str, dict[str, str]] = {}
    for kind in VALUE_KINDS:
        if kind not in columns:
            continue
        i = columns.index(kind)
        seen = found.setdefault(kind, {})
        for _, cells in table.data_rows:
            text = cell_text(cells[i]) if i < len(cells) else ""
            if text:
                seen.setdefault(norm(text), text)
    return {kind: list(seen.values()) for kind, seen in found.items()}


def validate(
    table: Table,
    columns: list[str],
    values: dict[str, dict[str, str]],
    rows: list[tuple[int, list]] | None = None,
) -> Validation:
    """Parse every data row (or just `rows`, a slice of them): fields ready for an Observation,
    or the errors of its bad cells.

    `values` holds the value decisions per kind ({norm(value): "id:N" | "new" | "ignore"});
    element fields come out as an id, ("new", name) or None."""
    headers = table.headers
    where = {t: i for i, t in enumerate(columns) if t}
    valid, errors, invalid = [], [], 0
    for number, cells in table.data_rows if rows is None else rows:
        fields, row_errors = check_row(number, cells, headers, where, values)
        if row_errors:
            errors.extend(row_errors)
            invalid += 1
        else:
            valid.append((number, fields))
    return Validation(valid, errors, invalid)


def check_row(
    number: int, cells: list, headers: list[str], where: dict[str, int], values: dict
) -> tuple[dict, list[CellError]]:
    """One row's fields and the errors of its bad cells."""

    def cell(target):
        i = where.get(target)
        return cells[i] if i is not None and i < len(cells) else None

    row_errors, failed = [], set()

    def fail(target, problem, raw):
        failed.add(target)
        column = headers[where[target]] if target in where else ""
        row_errors.append(CellError(number, column, cell_text(raw), problem.code, problem.params))

    fields = {
        "observed_on": None,
        "respondent": "",
        "verbatim": "",
        "csat": None,
        "nps": None,
        "ces": None,
    }
    raw = cell("date")
    if cell_text(raw):
        try:
            fields["observed_on"] = parse_date(raw)
        except CellProblem as p:
            fail("date", p, raw)
    for target in ("respondent", "comment"):
        text = cell_text(cell(target))
        limit = TEXT_LIMITS.get(target)
        if limit and len(text) > limit:
            fail(target, CellProblem("too-long", limit=limit), text)
        fields["verbatim" if target == "comment" else target] = text
    for target, (low, high) in RANGES.items():
        raw = cell(target)
        if cell_text(raw):
            try:
                fields[target] = parse_whole(raw, low, high)
            except CellProblem as p:
                fail(target, p, raw)
    for kind in VALUE_KINDS:
        raw = cell(kind)
        text = cell_text(raw)
        fields[kind] = None
        if not text:
            continue
        decision = values.get(kind, {}).get(norm(text), "")
        if decision.startswith("id:"):
            fields[kind] = int(decision[3:])
        elif decision == "new":
            fields[kind] = ("new", text)
        elif decision != "ignore":
            fail(kind, CellProblem("unknown", kind=kind, value=text), raw)
    if isinstance(fields["touchpoint"], tuple) and not (fields["stage"] and fields["channel"]):
        fail("touchpoint", CellProblem("new-touchpoint-needs-frame"), cell("touchpoint"))
    # Row-level rules, unless a bad cell already explains the gap.
    measured = any(fields[k] is not None for k in RANGES) or fields["verbatim"]
    if not measured and not failed & {"csat", "nps", "ces", "comment"}:
        row_errors.append(CellError(number, "", "", "no-measure"))
    places = {"touchpoint", "stage", "channel"}
    if not any(fields[k] for k in places) and not failed & places:
        row_errors.append(CellError(number, "", "", "no-place"))
    # Left to right, as the user reads the row; row-level problems last.
    position = {headers[i]: i for i in sorted(where.values(), reverse=True)}
    row_errors.sort(key=lambda e: position.get(e.column, len(headers)))
    return fields, row_errors
