"""Committing survey imports: identical results from three formats, row numbers of bad cells,
"valid rows only", one transaction (cancel and failure roll back), progress, new elements."""

import pytest
from sqlalchemy import func, select

from cjm.extensions import db
from cjm.models import Observation, Segment, Stage, SurveyImport, Touchpoint
from cjm.survey import importer
from tests.survey.files import (
    EXPECTED,
    HEADERS,
    csv_bytes,
    survey_cp1251,
    survey_utf8_bom,
    survey_xlsx,
)

SEGMENTS = {"values": {"segment": {"новые": "new", "постоянные": "new"}}}


def upload(journey, data: bytes, filename="survey.csv", settings=None) -> SurveyImport:
    imp = SurveyImport(journey_id=journey.id, filename=filename, data=data, settings=settings or {})
    db.session.add(imp)
    db.session.commit()
    return imp


def observations(journey) -> set[tuple]:
    """(touchpoint key, segment name, csat, nps, ces, date) of the map's observations."""
    db.session.expire_all()
    rows = db.session.execute(
        select(Touchpoint.key, Segment.name, Observation.csat, Observation.nps, Observation.ces,
               Observation.observed_on)
        .join(Touchpoint, Observation.touchpoint_id == Touchpoint.id)
        .outerjoin(Segment, Observation.segment_id == Segment.id)
        .where(Observation.journey_id == journey.id)
    ).all()  # fmt: skip
    return {(*r[:5], r[5].isoformat()) for r in rows}


def count(journey) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Observation).where(Observation.journey_id == journey.id)
    )


def commit(imp, valid_only=False):
    assert importer.claim(imp.id)
    return importer.run(imp.id, valid_only)


@pytest.mark.parametrize(
    ("maker", "filename"),
    [(survey_cp1251, "a.csv"), (survey_utf8_bom, "b.csv"), (survey_xlsx, "c.xlsx")],
    ids=["cp1251", "utf8-bom", "xlsx"],
)
def test_same_data_in_three_formats_gives_the_same_observations(journey, maker, filename):
    imp = commit(upload(journey, maker(), filename, SEGMENTS))
    assert imp.status == "done", imp.report
    assert imp.report["imported"] == 4
    assert observations(journey) == EXPECTED
    verbatims = set(db.session.scalars(select(Observation.verbatim)))
    assert "Удобно; быстро\nспасибо, всё ок" in verbatims


def test_observations_take_stage_and_channel_from_the_touchpoint(journey):
    imp = commit(upload(journey, survey_cp1251(), settings=SEGMENTS))
    for obs in db.session.scalars(select(Observation)):
        tp = db.session.get(Touchpoint, obs.touchpoint_id)
        assert (obs.stage_id, obs.channel_id) == (tp.stage_id, tp.channel_id)
        assert obs.source == "survey"
        assert obs.import_id == imp.id


BAD = [
    ["01.03.2024", "r1", "", "Sees an ad", "4,5", "9", "2", "not whole"],  # row 3
    ["31.02.2024", "r2", "", "Pays", "5", "9", "2", ""],  # row 4
    ["02.03.2024", "r3", "", "Pays", "5", "9", "2", '"quoted"\nfine'],  # row 5 (two lines)
    None,  # row 6
    ["03.03.2024", "r4", "", "Nowhere", "5", "11", "2", ""],  # row 7
    ["04.03.2024", "r5", "", "Pays", "4", "8", "3", "fine"],  # row 8
]


def test_bad_cells_are_listed_with_the_row_numbers_of_the_sheet(journey):
    _, report = importer.check(importer.prepare_import(upload(journey, csv_bytes(BAD))))
    found = [(e["row"], e["column"], e["code"]) for e in report["errors"]]
    assert found == [
        (3, HEADERS[4], "not-whole"),
        (4, HEADERS[0], "impossible-date"),
        (7, HEADERS[3], "unknown"),
        (7, HEADERS[5], "out-of-range"),
    ]
    assert (report["valid"], report["invalid"]) == (2, 3)


def test_without_valid_only_nothing_is_written(journey):
    imp = commit(upload(journey, csv_bytes(BAD)))
    assert imp.status == "failed"
    assert count(journey) == 0


def test_valid_only_imports_exactly_the_other_rows(journey):
    imp = commit(upload(journey, csv_bytes(BAD)), valid_only=True)
    assert imp.status == "done"
    respondents = set(db.session.scalars(select(Observation.respondent)))
    assert respondents == {"r3", "r5"}


def test_cancel_rolls_everything_back(journey, monkeypatch):
    rows = [["01.03.2024", f"r{i}", "Новые", "Pays", "4", "9", "2", ""] for i in range(50)]
    imp = upload(journey, csv_bytes(rows), settings=SEGMENTS)
    assert importer.claim(imp.id)
    real = importer.write_progress
    calls = []

    def cancel_after_first_chunk(import_id, done):
        calls.append(done)
        if len(calls) == 2:
            db.session.execute(SurveyImport.__table__.update().values(cancel_requested=True))
            db.session.commit()
        return real(import_id, done)

    monkeypatch.setattr(importer, "write_progress", cancel_after_first_chunk)
    result = importer.run(imp.id, False, chunk=10)
    assert result.status == "cancelled"
    assert calls == [10, 20]
    assert count(journey) == 0
    assert db.session.scalar(select(func.count()).select_from(Segment)) == 0


def test_failure_mid_write_rolls_back_created_elements(journey, monkeypatch):
    rows = [["01.03.2024", "r1", "Новые", "Pays", "4", "9", "2", ""]]
    imp = upload(journey, csv_bytes(rows), settings=SEGMENTS)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "observation_row", boom)
    result = commit(imp)
    assert result.status == "failed"
    assert "disk full" in result.report["message"]
    assert db.session.scalar(select(func.count()).select_from(Segment)) == 0


def test_background_import_reports_progress_up_to_the_total(app, journey, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_SYNC_ROWS", 0)
    rows = [["01.03.2024", f"r{i}", "Новые", "Pays", "4", "9", "2", ""] for i in range(1200)]
    imp = upload(journey, csv_bytes(rows), settings=SEGMENTS)
    seen = []
    real = importer.write_progress
    monkeypatch.setattr(
        importer, "write_progress", lambda i, done: seen.append(done) or real(i, done)
    )
    assert importer.claim(imp.id)
    thread = importer.start(imp.id, False, 1200)
    assert thread is not None
    thread.join(30)
    db.session.expire_all()
    imp = db.session.get(SurveyImport, imp.id)
    assert imp.status == "done"
    assert seen == [500, 1000, 1200]
    assert (imp.done_rows, imp.total_rows) == (1200, 1200)
    assert count(journey) == 1200


def test_new_stage_channel_and_touchpoint_are_created_in_the_same_transaction(journey):
    headers = ["Этап", "Канал", "Точка контакта", "CSAT"]
    rows = [
        ["Оплата", "Мессенджер", "Пишет в чат", "5"],
        ["ОПЛАТА", "мессенджер", "пишет в чат", "4"],
    ]
    values = {
        "stage": {"оплата": "new"},
        "channel": {"мессенджер": "new"},
        "touchpoint": {"пишет в чат": "new"},
    }
    imp = commit(upload(journey, csv_bytes(rows, headers=headers), settings={"values": values}))
    assert imp.status == "done", imp.report
    tp = db.session.scalar(select(Touchpoint).filter_by(journey_id=journey.id, name="Пишет в чат"))
    assert db.session.get(Stage, tp.stage_id).name == "Оплата"
    assert count(journey) == 2
    assert {o.touchpoint_id for o in db.session.scalars(select(Observation))} == {tp.id}


def test_a_new_touchpoint_needs_the_rows_stage_and_channel(journey):
    headers = ["Точка контакта", "CSAT"]
    imp = upload(
        journey,
        csv_bytes([["Пишет в чат", "5"]], headers=headers),
        settings={"values": {"touchpoint": {"пишет в чат": "new"}}},
    )
    _, report = importer.check(importer.prepare_import(imp))
    assert [e["code"] for e in report["errors"]] == ["new-touchpoint-needs-frame"]


def test_rows_without_a_measure_or_a_place_are_invalid(journey):
    headers = ["Точка контакта", "CSAT", "Комментарий"]
    rows = [["Pays", "", ""], ["", "4", ""]]
    _, report = importer.check(
        importer.prepare_import(upload(journey, csv_bytes(rows, headers=headers)))
    )
    assert [(e["row"], e["code"]) for e in report["errors"]] == [(3, "no-measure"), (4, "no-place")]
