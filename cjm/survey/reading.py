"""Reading survey exports as real tools write them: decode, sniff the dialect, find the header.

Row numbers are the ones the user sees in a spreadsheet: for XLSX the sheet's row number; for CSV
the record's row as Excel shows it when it opens the file, i.e. one row per record (a quoted field
with line breaks stays one row) and a blank line counts as an (empty) row."""

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

import charset_normalizer

DELIMITERS = (";", ",", "\t")
DELIMITER_NAMES = {";": "semicolon", ",": "comma", "\t": "tab"}
# The encodings Russian-locale Excel and survey tools write; detection is limited to these so a
# short Cyrillic file is not taken for some exotic code page.
ENCODINGS = ("utf_8", "cp1251", "koi8_r", "cp866", "utf_16")
BOMS = (
    (codecs.BOM_UTF8, "utf_8_sig"),
    (codecs.BOM_UTF16_LE, "utf_16"),
    (codecs.BOM_UTF16_BE, "utf_16"),
)
SAMPLE_BYTES = 64 * 1024
HEADER_SCAN_ROWS = 30


class ReadError(Exception):
    """The file cannot be read as a table (wrong encoding chosen, not an XLSX, …)."""


@dataclass
class Table:
    """A sheet as rows of cells, each row with its spreadsheet row number."""

    kind: str  # csv | xlsx
    rows: list[tuple[int, list]]  # (row number as the user sees it, cells)
    encoding: str | None = None
    delimiter: str | None = None
    header_index: int = 0  # index into rows of the header row
    notes: list[str] = field(default_factory=list)

    @property
    def header_row(self) -> int | None:
        """The header's row number as the user sees it."""
        return self.rows[self.header_index][0] if self.rows else None

    @cached_property
    def headers(self) -> list[str]:
        """Header names (empty ones become "Column N")."""
        if not self.rows:
            return []
        cells = self.rows[self.header_index][1]
        width = max((len(c) for _, c in self.data_rows), default=0)
        names = [cell_text(c) for c in cells] + [""] * max(0, width - len(cells))
        return [n or f"Column {i + 1}" for i, n in enumerate(names)]

    @cached_property
    def data_rows(self) -> list[tuple[int, list]]:
        """Rows below the header that are not blank."""
        return [(n, c) for n, c in self.rows[self.header_index + 1 :] if not blank(c)]


def cell_text(value) -> str:
    """A cell as trimmed text (numbers without a trailing .0, dates as DD.MM.YYYY)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y") if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(value).strip()


def blank(cells: list) -> bool:
    """True for a row with no content."""
    return all(cell_text(c) == "" for c in cells)


def is_xlsx(data: bytes, filename: str = "") -> bool:
    """XLSX files are ZIP archives."""
    return data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm"))


def detect_encoding(data: bytes) -> str:
    """The file's encoding: a BOM wins; else charset-normalizer's best guess among ENCODINGS."""
    for bom, name in BOMS:
        if data.startswith(bom):
            return name
    if not data:
        return "utf_8"
    sample = data[:SAMPLE_BYTES]
    if len(data) > SAMPLE_BYTES and b"\n" in sample:
        # End the sample on a line break, never inside a multi-byte UTF-8 character.
        sample = sample[: sample.rfind(b"\n") + 1]
    best = charset_normalizer.from_bytes(sample, cp_isolation=list(ENCODINGS)).best()
    return best.encoding if best is not None else "utf_8"


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding): the given encoding, or the detected one."""
    encoding = encoding or detect_encoding(data)
    try:
        codecs.lookup(encoding)
    except LookupError as e:
        raise ReadError(f"unknown encoding {encoding!r}") from e
    if encoding.replace("-", "_").lower() in ("utf_8", "utf8") and data.startswith(codecs.BOM_UTF8):
        encoding = "utf_8_sig"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as e:
        raise ReadError(f"the file is not valid {encoding} (byte {e.start})") from e


def width_score(text: str, delimiter: str) -> int:
    """Cells in the sample's records of the most common width (≥ 2 fields) under this delimiter:
    the real separator yields many records of one wide shape."""
    counts: dict[int, int] = {}
    try:
        for cells in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            if len(cells) >= 2:
                counts[len(cells)] = counts.get(len(cells), 0) + 1
    except csv.Error:
        return 0
    return max((n * width for width, n in counts.items()), default=0)


def sniff_delimiter(text: str) -> str:
    """The separator: csv.Sniffer on a sample (limited to ; , tab), kept unless another candidate
    gives a clearly wider consistent table. Sniffer alone takes the decimal comma of Russian
    Excel ("4,5") for the separator when every row has one."""
    sample = text[:SAMPLE_BYTES]
    # Drop a possibly cut last line so the sample ends on a record boundary.
    if len(text) > SAMPLE_BYTES and "\n" in sample:
        sample = sample[: sample.rfind("\n")]
    scores = {d: width_score(sample, d) for d in DELIMITERS}
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    best = max(DELIMITERS, key=lambda d: scores[d])
    if sniffed in scores and scores[sniffed] > 0 and scores[sniffed] >= scores[best]:
        return sniffed
    return best if scores[best] > 0 else ";"


def read_csv(data: bytes, encoding: str | None = None, delimiter: str | None = None) -> Table:
    """A CSV file as a Table (rows numbered as Excel shows them: one row per record)."""
    text, encoding = decode(data, encoding)
    text = text.lstrip("\ufeff")
    delimiter = delimiter or sniff_delimiter(text)
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, cells in enumerate(reader, start=1):
            # Line breaks inside quoted fields read as "\n", as Excel shows them.
            rows.append((number, [c.replace("\r\n", "\n").strip() for c in cells]))
    except csv.Error as e:
        raise ReadError(f"row {len(rows) + 1}: {e}") from e
    return Table("csv", rows, encoding=encoding, delimiter=delimiter)


def read_xlsx(data: bytes) -> Table:
    """The first sheet of an XLSX workbook (openpyxl read-only: fast, low memory)."""
    import zipfile

    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise ReadError(f"not a readable XLSX workbook ({e})") from e
    try:
        sheet = book.worksheets[0]
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = list(values)
            while cells and cells[-1] is None:
                cells.pop()
            rows.append((number, [c.strip() if isinstance(c, str) else c for c in cells]))
    finally:
        book.close()
    return Table("xlsx", rows)


def read_table(
    data: bytes,
    filename: str = "",
    encoding: str | None = None,
    delimiter: str | None = None,
    header_row: int | None = None,
) -> Table:
    """Read a survey file; encoding, delimiter and header row (as the user sees it) override
    what is detected."""
    table = read_xlsx(data) if is_xlsx(data, filename) else read_csv(data, encoding, delimiter)
    # Set before headers/data_rows are first read (they are cached).
    table.header_index = find_header(table.rows, header_row)
    return table


NUMBERISH = re.compile(r"^[\s\d.,:%+\-/]+$")


def looks_like_header(cells: list) -> bool:
    """At least two filled cells, all text, none a number or a date."""
    filled = [c for c in cells if cell_text(c)]
    if len(filled) < 2:
        return False
    return all(isinstance(c, str) and not NUMBERISH.match(c) for c in filled)


def find_header(rows: list[tuple[int, list]], header_row: int | None = None) -> int:
    """Index of the header row: the user's choice, else the first row that looks like headers
    (a title row above it has one filled cell, so it is passed over)."""
    if header_row is not None:
        for i, (number, _) in enumerate(rows):
            if number == header_row:
                return i
    for i, (_, cells) in enumerate(rows[:HEADER_SCAN_ROWS]):
        if looks_like_header(cells):
            return i
    return next((i for i, (_, cells) in enumerate(rows) if not blank(cells)), 0)
