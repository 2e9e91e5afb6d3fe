"""Column and value mapping suggestions: Russian and English, case/punctuation/«ё» blind."""

from cjm.survey.mapping import carry_columns, norm, resolve, suggest_columns, suggest_values
from tests.survey.files import HEADERS


def test_russian_headers():
    assert suggest_columns(HEADERS) == [
        "date", "respondent", "segment", "touchpoint", "csat", "nps", "ces", "comment",
    ]  # fmt: skip


def test_english_headers_and_extra_columns():
    headers = ["Date", "Respondent ID", "Customer group", "Stage", "Channel", "Touch-point",
               "CSAT score", "How likely to recommend (NPS)", "Customer effort", "Feedback",
               "Age"]  # fmt: skip
    assert suggest_columns(headers) == [
        "date", "respondent", "segment", "stage", "channel", "touchpoint",
        "csat", "nps", "ces", "comment", "",
    ]  # fmt: skip


def test_each_target_once():
    assert suggest_columns(["Комментарий", "Отзыв"]) == ["comment", ""]


def test_yo_and_case_do_not_matter():
    assert norm("  Удовлетворённость,  CSAT ") == norm("удовлетворенность csat")
    assert suggest_columns(["УДОВЛЕТВОРЕННОСТЬ"]) == ["csat"]


def test_values_match_names_and_keys():
    elements = {"stage": [{"id": 1, "key": "buy", "name": "Покупка"}]}
    found = suggest_values({"stage": ["покупка", "BUY", "Оплата"]}, elements)
    assert found == {"stage": {"покупка": "id:1", "buy": "id:1", "оплата": ""}}
    assert resolve("Покупка", "stage", elements["stage"]) == "id:1"
    assert resolve("nothing", "stage", elements["stage"]) == ""


def test_mapping_is_carried_to_a_reordered_file():
    old = ["Дата", "Оценка", "Отзыв"]
    kept = carry_columns(old, ["date", "csat", ""], ["Отзыв", "Дата", "Оценка"])
    assert kept == ["", "date", "csat"]
