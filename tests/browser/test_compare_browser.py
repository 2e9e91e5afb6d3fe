"""As-is and to-be in Chromium: from the empty comparison page, "Create to-be map" opens the new
map; its comparison tab draws both curves, passes axe, and does not scroll sideways on a phone."""

import pytest

from tests.browser.conftest import axe_violations, sign_in_page
from tests.factories import make_map, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def world(app):
    with app.app_context():
        owner = make_user("planner@example.com", "Pia Planner")
        return {"email": owner.email, "map_id": make_map(owner).id}


def test_create_a_to_be_map_and_compare(page, world):
    sign_in_page(page, world["email"])
    page.goto(f"/maps/{world['map_id']}/compare")
    assert axe_violations(page) == []
    page.click("#no-partner form.create-to-be button")
    page.wait_for_url("**/maps/*")
    to_be = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert to_be != world["map_id"]
    page.click(".tabs a:has-text('As-is / to-be')")
    page.wait_for_url(f"**/maps/{to_be}/compare")
    assert page.locator("svg.emotion-compare g.series").count() == 2
    assert page.locator("#to-be-link").get_attribute("href") == f"/maps/{to_be}"
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 812})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
