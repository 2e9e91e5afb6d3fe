"""`flask survey import`: report and counts on stdout (text or JSON), exit status by outcome."""

import json

import pytest
from sqlalchemy import func, select

from cjm.extensions import db
from cjm.models import Observation, SurveyImport
from cjm.survey.cli import survey_cli
from tests.survey.files import HEADERS, csv_bytes, survey_cp1251

GOOD = [["01.03.2024", "r1", "", "Pays", "4", "9", "2", ""]]
MIXED = GOOD + [["02.03.2024", "r2", "", "Pays", "4,5", "9", "2", ""]]


@pytest.fixture
def run(app, journey, tmp_path):
    def invoke(data: bytes, *args, mapping=None):
        path = tmp_path / "survey.csv"
        path.write_bytes(data)
        extra = []
        if mapping is not None:
            (tmp_path / "mapping.json").write_text(json.dumps(mapping), encoding="utf-8")
            extra = ["--mapping", str(tmp_path / "mapping.json")]
        return app.test_cli_runner().invoke(
            survey_cli, ["import", str(journey.id), str(path), *extra, *args]
        )

    return invoke


def count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Observation))


def test_imports_valid_file(run):
    result = run(csv_bytes(GOOD))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == "valid=1 invalid=0 imported=1"
    assert "imported 1 observations" in result.stderr
    assert count() == 1
    imp = db.session.scalars(select(SurveyImport)).one()
    assert imp.status == "done"


def test_invalid_rows_without_valid_only_import_nothing(run):
    result = run(csv_bytes(MIXED))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == f"4: {HEADERS[4]}: not a whole number"
    assert count() == 0


def test_valid_only_imports_the_others(run):
    result = run(csv_bytes(MIXED), "--valid-only", "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["counts"] == {"valid": 1, "invalid": 1, "imported": 1}
    assert report["errors"][0]["row"] == 4
    assert count() == 1


def test_dry_run_writes_nothing(run):
    result = run(csv_bytes(MIXED), "--dry-run")
    assert result.exit_code == 0
    assert count() == 0
    assert db.session.scalar(select(func.count()).select_from(SurveyImport)) == 0


def test_nothing_valid_fails_even_in_a_dry_run(run):
    result = run(survey_cp1251(), "--dry-run", "--json")  # segments unknown without a mapping
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["counts"]["valid"] == 0
    assert {e["code"] for e in report["errors"]} == {"unknown"}


def test_mapping_file_chooses_columns_and_values(run):
    mapping = {
        "columns": {"Дата": "date", "Точка контакта": "touchpoint",
                    "Удовлетворённость (CSAT)": "csat"},
        "values": {"touchpoint": {"Sees an ad": "ad", "fills the cart": "cart", "PAYS": "paid",
                                  "Calls to ask": "Calls to ask"}},
    }  # fmt: skip
    result = run(survey_cp1251(), "--json", mapping=mapping)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"] == {"valid": 4, "invalid": 0, "imported": 4}
    assert set(db.session.scalars(select(Observation.nps))) == {None}


def test_unknown_map(app, tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes(csv_bytes(GOOD))
    result = app.test_cli_runner().invoke(survey_cli, ["import", "999", str(path)])
    assert result.exit_code == 1
    assert "no map 999" in result.stderr
