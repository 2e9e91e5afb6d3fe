"""Survey import in the browser, without JavaScript: upload → preview → columns → values →
report → commit → progress; overrides, 413, htmx polling, cancel, fix and retry."""

import io

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from cjm.extensions import db
from cjm.models import Observation, Segment, SurveyImport
from tests.conftest import sign_in
from tests.factories import add_member, make_user
from tests.survey.files import EXPECTED, HEADERS, csv_bytes, survey_cp1251

HX = {"HX-Request": "true"}


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def send(client, url, data: bytes, filename="survey.csv"):
    return client.post(url, data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")  # fmt: skip


def send_raw(client, url, data: bytes, filename="big.csv"):
    """A multipart body built by hand (the test client would spool a big one to a temp file)."""
    boundary = "----cjm-test-boundary"
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def last_import() -> SurveyImport:
    db.session.expire_all()
    return db.session.scalars(select(SurveyImport).order_by(SurveyImport.id.desc())).first()


def form_data(form) -> dict:
    """What a browser would submit for a form: inputs and selected options."""
    data = {}
    for el in form.find_all(["input", "select"]):
        if el.name == "select":
            chosen = el.find("option", selected=True) or el.find("option")
            data[el["name"]] = chosen["value"]
        elif el.get("type") != "file" and el.get("name"):
            data[el["name"]] = el.get("value", "")
    return data


def test_whole_flow_without_javascript(owner_client, journey):
    base = f"/maps/{journey.id}/imports"
    r = owner_client.get(f"{base}/new")
    assert r.status_code == 200
    r = send(owner_client, f"{base}/new", survey_cp1251())
    assert r.status_code == 303
    imp = last_import()
    r = owner_client.get(r.headers["Location"])
    page = soup(r)
    headers = [th.get_text() for th in page.select("table.preview thead tr:first-child th")][1:]
    assert headers == HEADERS
    assert page.select_one("#column-4 option[selected]")["value"] == "csat"
    rows = [tr.th.get_text() for tr in page.select("table.preview tbody tr")]
    assert rows == ["3", "4", "6", "7"]
    r = owner_client.post(page.select_one("form.column-mapping")["action"],
                          data=form_data(page.select_one("form.column-mapping")))  # fmt: skip
    assert r.status_code == 303
    page = soup(owner_client.get(r.headers["Location"]))
    values = page.select_one("form.value-mapping")
    labels = {lab.get_text() for lab in values.select("td label")}
    assert {"Новые", "Постоянные", "Sees an ad", "fills the cart"} <= labels
    data = form_data(values)
    # Unknown segments are offered for creation; the touchpoints all matched.
    assert sorted(v for k, v in data.items() if k.startswith("segment-")) == ["new", "new"]
    r = owner_client.post(values["action"], data=data)
    assert r.status_code == 303
    page = soup(owner_client.get(r.headers["Location"]))
    assert page.select_one("#valid-count").get_text() == "4"
    assert page.select_one("#import-errors") is None
    r = owner_client.post(page.select_one(".import-report .actions form")["action"])
    assert r.status_code == 303
    page = soup(owner_client.get(r.headers["Location"]))
    bar = page.select_one("#import-progress")
    assert bar.get("hx-trigger") is None  # small files import at once; nothing left to poll
    assert page.select_one("progress")["value"] == "4"
    assert last_import().status == "done"
    assert db.session.scalar(select(func.count()).select_from(Observation)) == len(EXPECTED)
    assert imp.id == last_import().id


def test_preview_overrides_come_from_get_parameters(owner_client, journey):
    send(owner_client, f"/maps/{journey.id}/imports/new", survey_cp1251())
    imp = last_import()
    r = owner_client.get(
        f"/maps/{journey.id}/imports/{imp.id}?encoding=cp1251&delimiter=tab&header_row=1"
    )
    page = soup(r)
    assert page.select_one("#delimiter option[selected]")["value"] == "tab"
    assert page.select_one("#header_row")["value"] == "1"
    assert len(page.select("table.preview thead tr:first-child th")) == 2  # one column + "Row"


@pytest.fixture
def small_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 1000)


def test_too_large_upload_is_413_with_a_clear_message(owner_client, journey, small_limit):
    r = send(owner_client, f"/maps/{journey.id}/imports/new", b"a;b\r\n" * 400)
    assert r.status_code == 413
    assert "limit" in soup(r).select_one("#file-error").get_text()
    assert db.session.scalar(select(func.count()).select_from(SurveyImport)) == 0


def test_default_limit_is_twenty_mebibytes_above_max_content_length(owner_client, journey):
    r = send_raw(owner_client, f"/maps/{journey.id}/imports/new", b"x" * (20 * 1024 * 1024 + 1))
    assert r.status_code == 413
    assert "20 MiB" in soup(r).select_one("#file-error").get_text()
    ok = send_raw(
        owner_client, f"/maps/{journey.id}/imports/new", b"a;b\r\n" + b"1;2\r\n" * 2_000_000
    )
    assert ok.status_code == 303  # 10 MB: more than MAX_CONTENT_LENGTH, less than the import limit


def running_import(journey, total=100, done=40) -> SurveyImport:
    imp = SurveyImport(journey_id=journey.id, filename="s.csv", data=b"", status="importing",
                       total_rows=total, done_rows=done)  # fmt: skip
    db.session.add(imp)
    db.session.commit()
    return imp


def test_progress_fragment_polls_while_running_and_stops_when_done(owner_client, journey):
    imp = running_import(journey)
    url = f"/maps/{journey.id}/imports/{imp.id}/progress"
    part = soup(owner_client.get(url, headers=HX))
    root = part.find(id="import-progress")
    assert root["hx-trigger"] == "every 1s" and root["hx-get"] == url
    assert part.select_one("progress")["value"] == "40"
    imp.status, imp.done_rows, imp.report = "done", 100, {"imported": 100}
    db.session.commit()
    part = soup(owner_client.get(url, headers=HX))
    assert part.find(id="import-progress").get("hx-trigger") is None
    assert part.select_one("progress")["value"] == "100"


def test_cancel_button_asks_the_worker_to_stop(owner_client, journey):
    imp = running_import(journey)
    page = soup(owner_client.get(f"/maps/{journey.id}/imports/{imp.id}/progress"))
    r = owner_client.post(page.select_one("#import-progress form")["action"])
    assert r.status_code == 303
    assert last_import().cancel_requested is True


def test_fix_and_retry_keeps_the_mapping_and_valid_only(owner_client, journey):
    bad = [["01.03.2024", "r1", "", "Pays", "4,5", "9", "2", ""],
           ["02.03.2024", "r2", "", "Pays", "4", "9", "2", ""]]  # fmt: skip
    send(owner_client, f"/maps/{journey.id}/imports/new", csv_bytes(bad))
    imp = last_import()
    base = f"/maps/{journey.id}/imports/{imp.id}"
    columns = ["date", "respondent", "", "touchpoint", "csat", "", "", ""]  # NPS, CES ignored
    owner_client.post(f"{base}/columns", data={f"column-{i}": t for i, t in enumerate(columns)})
    owner_client.post(f"{base}/values", data={})
    page = soup(owner_client.get(f"{base}/report"))
    assert [td.get_text() for td in page.select("#import-errors tbody td")][:2] == ["3", HEADERS[4]]
    assert page.select_one("form.retry-form")
    good = [bad[0][:4] + ["4", "9", "2", ""], bad[1]]
    r = send(owner_client, f"{base}/retry", csv_bytes(good))
    assert r.status_code == 303
    imp = last_import()
    assert imp.settings["columns"] == columns
    page = soup(owner_client.get(f"{base}/report"))
    assert page.select_one("#invalid-count").get_text() == "0"
    owner_client.post(f"{base}/commit")
    assert db.session.scalar(select(func.count()).select_from(Observation)) == 2
    assert set(db.session.scalars(select(Observation.nps))) == {None}


def test_import_only_the_valid_rows_button(owner_client, journey):
    bad = [["01.03.2024", "r1", "", "Pays", "4,5", "9", "2", ""],
           ["02.03.2024", "r2", "", "Pays", "4", "9", "2", ""]]  # fmt: skip
    send(owner_client, f"/maps/{journey.id}/imports/new", csv_bytes(bad))
    base = f"/maps/{journey.id}/imports/{last_import().id}"
    owner_client.post(f"{base}/values", data={})
    form = soup(owner_client.get(f"{base}/report")).select_one(".import-report .actions form")
    assert form.select_one("input[name=valid_only]")["value"] == "1"
    owner_client.post(form["action"], data=form_data(form))
    assert list(db.session.scalars(select(Observation.respondent))) == ["r2"]
    assert db.session.scalar(select(func.count()).select_from(Segment)) == 0


def test_viewers_cannot_import(app, journey):
    viewer = make_user("viewer@example.com", "Vera")
    add_member(journey, viewer, "viewer")
    client = app.test_client()
    sign_in(client, viewer)
    assert send(client, f"/maps/{journey.id}/imports/new", survey_cp1251()).status_code == 403


def test_imports_of_another_map_are_not_found(owner_client, journey, owner):
    from tests.factories import make_map

    other = make_map(owner)
    imp = running_import(other)
    assert owner_client.get(f"/maps/{journey.id}/imports/{imp.id}/progress").status_code == 404


@pytest.mark.parametrize("step", ["", "/values", "/report", "/progress"])
def test_an_empty_upload_never_breaks_a_page(owner_client, journey, step):
    imp = SurveyImport(journey_id=journey.id, filename="empty.csv", data=b"")
    db.session.add(imp)
    db.session.commit()
    base = f"/maps/{journey.id}/imports/{imp.id}"
    assert owner_client.get(base + step).status_code < 500
    for action in ("/columns", "/values", "/retry", "/commit", "/cancel"):
        assert owner_client.post(base + action).status_code < 500
