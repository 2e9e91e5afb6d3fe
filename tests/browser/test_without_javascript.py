"""The core forms work with JavaScript switched off: full pages, real form posts, 303 redirects."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import keep_local, sign_in_page
from tests.factories import make_map, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, live_server):
    """A browser page with JavaScript disabled (so htmx never runs)."""
    context = browser.new_context(java_script_enabled=False, base_url=live_server)
    context.route("**/*", keep_local)
    yield context.new_page()
    context.close()


def test_add_edit_delete_and_undo_a_touchpoint_without_js(page, app):
    with app.app_context():
        owner = make_user("nojs@example.com", "No Script")
        map_id = make_map(owner).id
    sign_in_page(page, "nojs@example.com")
    page.goto(f"/maps/{map_id}/board")

    page.locator("td[data-stage=use][data-channel=call] a.add-card").click()
    page.fill("form.tp-form input[name$='-name']", "")
    page.click("form.tp-form button.primary")
    expect(page.locator(".field.has-error")).not_to_have_count(0)  # 422 page, message at the field
    page.fill("form.tp-form input[name$='-name']", "Asks for a refund")
    page.click("form.tp-form button.primary")
    cell = page.locator("td[data-stage=use][data-channel=call]")
    expect(cell.locator("article .tp-name")).to_have_text(["Asks for a refund"])

    cell.locator("a.tp-open").click()
    page.fill("form.tp-form input[name$='-name']", "Asks for a refund by phone")
    page.click("form.tp-form button.primary")
    expect(cell.locator("article .tp-name")).to_have_text(["Asks for a refund by phone"])

    cell.locator("a.tp-open").click()
    page.click("button.danger:has-text('Delete')")
    expect(cell.locator("article")).to_have_count(0)
    page.click("#notices .undo button")
    page.goto(f"/maps/{map_id}/board")
    expect(cell.locator("article .tp-name")).to_have_text(["Asks for a refund by phone"])
