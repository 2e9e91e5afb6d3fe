"""Reading real exports: encodings, separators, title rows, quoted newlines, XLSX, cell parsing."""

from datetime import date, datetime

import pytest

from cjm.survey.reading import detect_encoding, read_table, sniff_delimiter
from cjm.survey.validate import CellProblem, parse_date, parse_number, parse_whole
from tests.survey.files import HEADERS, csv_bytes, survey_cp1251, survey_utf8_bom, survey_xlsx

ROW = ["01.03.2024", "r1", "Новые", "Sees an ad", "4,5", "9", "2", "Удобно"]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (survey_cp1251(), "cp1251"),
        (survey_utf8_bom(), "utf_8_sig"),
        (csv_bytes([ROW], encoding="utf-8"), "utf_8"),
    ],
)
def test_encoding_is_detected(data, encoding):
    assert detect_encoding(data) == encoding
    assert read_table(data).headers == HEADERS


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_separator_is_sniffed_despite_a_title_row_and_quoted_newlines(delimiter):
    rows = [ROW, [*ROW[:7], "a;b,c\nd"]]
    table = read_table(csv_bytes(rows, delimiter=delimiter, decimal_comma=False))
    assert table.delimiter == delimiter
    assert table.headers == HEADERS
    assert table.data_rows[1][1][7] == "a;b,c\nd"


def test_sniffer_fallback_picks_the_consistent_separator():
    assert sniff_delimiter("Title only\r\na;b;c\r\n1;2,5;3\r\n") == ";"


def test_row_numbers_are_excel_rows_with_title_blank_lines_and_quoted_newlines():
    table = read_table(survey_cp1251())
    assert table.header_row == 2
    # Record 3 spans two physical lines but is one Excel row; row 5 is the blank one.
    assert [n for n, _ in table.data_rows] == [3, 4, 6, 7]


def test_user_overrides_encoding_separator_and_header_row():
    data = survey_cp1251()
    table = read_table(data, encoding="cp1251", delimiter=",", header_row=1)
    assert table.delimiter == ","
    assert table.header_row == 1
    wrong = read_table(data, encoding="koi8_r")
    assert wrong.headers != HEADERS


def test_xlsx_merged_title_typed_cells():
    table = read_table(survey_xlsx(), "survey.xlsx")
    assert table.kind == "xlsx"
    assert table.header_row == 2
    number, cells = table.data_rows[0]
    assert number == 3
    assert cells[0] == datetime(2024, 3, 1)
    assert cells[4] == 4
    assert [n for n, _ in table.data_rows] == [3, 4, 6, 7]


@pytest.mark.parametrize(
    ("text", "number"),
    [("4,5", 4.5), ("4.5", 4.5), (" 7 ", 7.0), ("1 234,5", 1234.5), ("1.234,5", 1234.5), (3, 3.0)],
)
def test_numbers_with_decimal_commas(text, number):
    assert parse_number(text) == number


@pytest.mark.parametrize(
    ("text", "code"), [("4,5", "not-whole"), ("6", "out-of-range"), ("abc", "not-a-number")]
)
def test_csat_must_be_a_whole_number_in_range(text, code):
    with pytest.raises(CellProblem) as e:
        parse_whole(text, 1, 5)
    assert e.value.code == code


def test_csat_four_comma_zero_is_four():
    assert parse_whole("4,0", 1, 5) == 4


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("01.03.2024", date(2024, 3, 1)),
        ("1.3.24", date(2024, 3, 1)),
        ("2024-03-01", date(2024, 3, 1)),
        ("01.03.2024 10:15", date(2024, 3, 1)),
        (datetime(2024, 3, 1, 9, 30), date(2024, 3, 1)),
    ],
)
def test_dates(text, day):
    assert parse_date(text) == day


@pytest.mark.parametrize(
    ("text", "code"), [("31.02.2024", "impossible-date"), ("вчера", "not-a-date")]
)
def test_bad_dates(text, code):
    with pytest.raises(CellProblem) as e:
        parse_date(text)
    assert e.value.code == code


def test_decimal_comma_in_every_row_is_not_the_separator():
    """Russian Excel: `;` separates, and every row has a decimal comma ("4,0")."""
    from cjm.survey.reading import read_csv

    lines = ["Опрос, ноябрь;;;", "Дата;Точка контакта;CSAT;Комментарий"]
    lines += [f"0{d}.11.2026;Сайт;{d % 5 + 1},0;ок" for d in range(1, 10)] * 30
    table = read_csv("\r\n".join(lines).encode("cp1251"))
    assert table.delimiter == ";"
