"""The export dialog, the poster download (directly for small maps, a background job with a
progress fragment and a download for large ones), and the print view."""

import pypdfium2 as pdfium
import pytest
from bs4 import BeautifulSoup

from cjm.export import jobs
from cjm.export.pdf import LANES
from tests.conftest import sign_in
from tests.factories import add_member, make_user

MM_TO_PT = 72 / 25.4


def soup(response):
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def form_data(**changes):
    """The dialog's default choices, as the browser would post them."""
    data = {"paper": "A3", "orientation": "landscape", "layout": "fit", "language": "en"}
    data.update(persona="", segment="", lanes=list(LANES))
    data.update(changes)
    return data


@pytest.fixture(autouse=True)
def export_dir(app, tmp_path):
    """Jobs write to this test's own folder."""
    saved = app.config["EXPORT_DIR"]
    app.config["EXPORT_DIR"] = str(tmp_path / "exports")
    yield
    app.config["EXPORT_DIR"] = saved


@pytest.fixture
def background(app):
    """Every map is "large": exports run as background jobs."""
    saved = app.config["EXPORT_SYNC_TOUCHPOINTS"]
    app.config["EXPORT_SYNC_TOUCHPOINTS"] = 0
    yield
    app.config["EXPORT_SYNC_TOUCHPOINTS"] = saved


def test_dialog_offers_the_poster_options_and_the_other_formats(owner_client, journey):
    page = soup(owner_client.get(f"/maps/{journey.id}/export"))
    form = page.select_one("form.export-form")
    assert form["method"] == "post" and form["action"] == f"/maps/{journey.id}/export"
    papers = [o["value"] for o in form.select("select[name=paper] option")]
    assert papers == ["A4", "A3", "A2", "A1", "A0"]
    assert {i["value"] for i in form.select("input[name=orientation]")} == {"landscape", "portrait"}
    assert {i["value"] for i in form.select("input[name=layout]")} == {"fit", "tiled"}
    lanes = form.select("input[name=lanes]")
    assert [i["value"] for i in lanes] == list(LANES) and all(i.has_attr("checked") for i in lanes)
    personas = [o.get_text() for o in form.select("select[name=persona] option")]
    assert personas == ["The primary persona", "Anna"]
    assert form.select_one("select[name=language] option[selected]")["value"] == "en"
    for label in form.select("label"):  # every control is labelled
        assert label.get("for") and page.find(id=label["for"]) is not None
    links = [a["href"] for a in page.select(".format-links a")]
    if links:  # the open formats (another feature) are there: every one but the poster
        assert all(f"/maps/{journey.id}/export/" in h for h in links)
        assert f"/maps/{journey.id}/export/pdf" not in links
    assert page.select_one(f"a[href='/maps/{journey.id}/print']") is not None


def test_small_map_comes_back_as_the_pdf(owner_client, journey):
    response = owner_client.post(
        f"/maps/{journey.id}/export", data=form_data(paper="A2", orientation="portrait")
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="online-shop')
    page = pdfium.PdfDocument(response.data)[0]
    assert page.get_size() == pytest.approx((420 * MM_TO_PT, 594 * MM_TO_PT), abs=0.5)


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"paper": "A9"}, "paper"), ({"lanes": []}, "lanes"), ({"persona": "12345"}, "persona")],
)
def test_invalid_choices_answer_422_next_to_the_field(owner_client, journey, changes, field):
    response = owner_client.post(f"/maps/{journey.id}/export", data=form_data(**changes))
    assert response.status_code == 422
    page = soup(response)
    error = page.select_one(".has-error .error")
    assert error is not None
    container = error.find_parent(class_="has-error")
    assert container.select_one(f"[name={field}]") is not None


def test_viewer_may_export(client, journey):
    viewer = make_user("viewer@example.com", "Vera Viewer")
    add_member(journey, viewer, "viewer")
    sign_in(client, viewer)
    response = client.post(f"/maps/{journey.id}/export", data=form_data())
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_large_map_renders_in_the_background_with_progress(owner_client, journey, background):
    response = owner_client.post(
        f"/maps/{journey.id}/export", data=form_data(layout="tiled", paper="A4")
    )
    assert response.status_code == 303
    job_url = response.headers["Location"]
    job_id = job_url.rsplit("/", 1)[1]
    jobs.wait(job_id)
    fragment = owner_client.get(job_url, headers={"HX-Request": "true"})
    part = soup(fragment).select_one("#export-job")
    assert part is not None and not part.has_attr("hx-trigger")  # done: polling stops
    link = part.select_one("a.button.primary")["href"]
    assert link == f"{job_url}/download"
    download = owner_client.get(link)
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert len(pdfium.PdfDocument(download.data)) > 1  # tiled on A4


def test_running_job_polls_and_shows_its_step(app, owner_client, owner, journey):
    with app.test_request_context():
        job_id = "a-running-export-job-01"
        jobs._save(job_id, {"map_id": journey.id, "user_id": owner.id, "step": "layout",
                            "filename": "x", "error": None, "notes": []})  # fmt: skip
    url = f"/maps/{journey.id}/export/jobs/{job_id}"
    part = soup(owner_client.get(url, headers={"HX-Request": "true"})).select_one("#export-job")
    assert part["hx-get"] == url and part["hx-trigger"] == "every 1s"
    assert part.select_one("progress")["value"] == "2"
    assert "Laying out the poster" in part.get_text()
    page = soup(owner_client.get(url))  # without JS: the page refreshes itself
    assert page.select_one("noscript meta[http-equiv=refresh]") is not None
    assert owner_client.get(f"{url}/download").status_code == 410  # not ready


def test_jobs_of_others_and_unknown_jobs_are_gone(app, client, owner_client, owner, journey):
    with app.test_request_context():
        jobs._save("someone-elses-job-0001", {"map_id": journey.id, "user_id": owner.id,
                   "step": "done", "filename": "x", "error": None, "notes": []})  # fmt: skip
    editor = make_user("editor@example.com", "Ed Editor")
    add_member(journey, editor, "editor")
    sign_in(client, editor)
    for url in (
        f"/maps/{journey.id}/export/jobs/someone-elses-job-0001",
        f"/maps/{journey.id}/export/jobs/someone-elses-job-0001/download",
        f"/maps/{journey.id}/export/jobs/no-such-job-000000000",
    ):
        assert client.get(url).status_code == 410


def test_print_view_shows_the_same_board(owner_client, journey):
    response = owner_client.get(f"/maps/{journey.id}/print")
    assert response.status_code == 200
    page = soup(response)
    stages = [th.h3.get_text() for th in page.select(".poster th.p-stage")]
    assert stages == ["1. Awareness", "2. Purchase", "3. Use"]
    assert page.select_one("link[href='/export/poster.css']") is not None
    cards = [card.b.get_text() for card in page.select(".poster td div.p-tp")]
    assert sorted(cards) == ["Calls to ask", "Fills the cart", "Leaves", "Pays", "Sees an ad"]
    css = owner_client.get("/export/poster.css")
    assert css.mimetype == "text/css" and b".poster" in css.data


def test_finished_files_expire(app, tmp_path):
    import os
    import time

    with app.app_context():
        folder = jobs.folder()
        old, new = folder / "old-job.pdf", folder / "new-job.pdf"
        old.write_bytes(b"%PDF")
        new.write_bytes(b"%PDF")
        stale = time.time() - app.config["EXPORT_KEEP_SECONDS"] - 5
        os.utime(old, (stale, stale))
        jobs.expire()
        assert not old.exists() and new.exists()
