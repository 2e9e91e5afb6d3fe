"""A field researcher imports a Russian-Excel survey through the UI: upload, map columns and
values, check, import with the progress bar, then see the result on the research heatmap."""

import pytest
from playwright.sync_api import expect

from cjm.extensions import db
from cjm.models import Segment
from tests.browser.conftest import ARTIFACTS, sign_in_page
from tests.factories import make_map, make_user

pytestmark = pytest.mark.browser

ROWS = 2500  # over IMPORT_SYNC_ROWS: the import runs in the background with a progress bar


def survey_bytes() -> bytes:
    """cp1251, `;`, decimal commas, DD.MM.YYYY, a title row, a quoted newline, like Excel."""
    lines = ["Опрос покупателей;;;;", "Дата;Сегмент;Точка контакта;CSAT;Комментарий"]
    for i in range(ROWS):
        segment = "Новые" if i % 2 else "Постоянные"
        touchpoint, csat = ("Fills the cart", "2,0") if i % 3 else ("Pays", "5,0")
        comment = '"Долго;\r\nждал"' if i == 0 else "ок"
        lines.append(f"{i % 28 + 1:02d}.11.2026;{segment};{touchpoint};{csat};{comment}")
    return "\r\n".join(lines).encode("cp1251")


def test_import_a_survey_and_see_the_heatmap(page, app, tmp_path):
    with app.app_context():
        owner = make_user("field@example.com", "Field Researcher")
        map_id = make_map(owner).id
        db.session.add_all(
            [
                Segment(journey_id=map_id, key="new", name="Новые"),
                Segment(journey_id=map_id, key="loyal", name="Постоянные", position=1),
            ]
        )
        db.session.commit()
    path = tmp_path / "опрос.csv"
    path.write_bytes(survey_bytes())

    sign_in_page(page, "field@example.com")
    page.goto(f"/maps/{map_id}/imports/new")
    page.set_input_files("input[type=file]", str(path))
    page.click("form.upload-form button.primary")
    # Encoding, separator and header row were detected: the suggested mapping is shown.
    expect(page.locator("form.read-options")).to_contain_text("cp1251")
    expect(page.locator("form.read-options")).to_contain_text("Semicolon")
    page.screenshot(path=ARTIFACTS / "survey-import-preview.png", full_page=True)
    page.click("form.column-mapping button.primary")
    page.click("form.value-mapping button.primary")
    page.click("button:has-text('Import')")
    bar = page.locator("#import-progress progress")
    expect(bar).to_be_visible()
    expect(page.locator("#import-progress.status-done")).to_be_visible(timeout=30_000)
    assert bar.get_attribute("value") == bar.get_attribute("max") == str(ROWS)
    page.screenshot(path=ARTIFACTS / "survey-import-done.png", full_page=True)

    page.goto(f"/maps/{map_id}/research")
    heatmap = page.locator("table.heatmap").first
    expect(heatmap).to_contain_text("Новые")
    expect(heatmap).to_contain_text("Постоянные")
    expect(heatmap).to_contain_text("n = 833")  # every third row is "Pays": 2500 → 834 + 1666
    page.screenshot(path=ARTIFACTS / "survey-import-heatmap.png", full_page=True)
