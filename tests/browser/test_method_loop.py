"""Steps 4 → 5 → 6 → the map, in a real browser: accept a barrier the data suggests, propose a
strategy for it, test the strategy with an experiment to a verdict, and see on the board that
the barrier is resolved and how the strategy's test ended."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in_page
from tests.factories import make_map, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def world(app):
    """The sample map: 30 of the customers at "Fills the cart" drop out (a suggested barrier)."""
    with app.app_context():
        user = make_user("loop@example.com", "Lou")
        return user.email, make_map(user).id


def test_suggested_barrier_to_strategy_to_verdict_to_the_board(page, world):
    email, map_id = world
    sign_in_page(page, email)
    page.goto(f"/maps/{map_id}/barriers")
    suggestion = page.locator("#suggestions li.suggestion.kind-drop-off").first
    title = suggestion.locator(".suggestion-title").inner_text()
    suggestion.locator("button", has_text="Accept").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()  # the new barrier's page

    page.click("#propose-strategy")
    expect(page.locator("#strategy-new input[type=checkbox]:checked")).to_have_count(1)
    page.fill("#strategy-new input[name$='-title']", "Answer questions in the cart")
    page.select_option("#strategy-new select[name$='-status']", "planned")
    page.click("#strategy-new button.primary")
    expect(page.get_by_role("heading", name="Answer questions in the cart")).to_be_visible()

    page.click("#plan-experiment")
    page.fill("#experiment-hypothesis", "A chat in the cart keeps customers from leaving.")
    page.select_option("#experiment-place", label="Fills the cart → Pays")
    page.fill("#experiment-target", "40")
    page.click("#experiment-new button.primary")
    page.select_option("#close-verdict", "won")
    page.fill("#close-learning", "Customers stay when their question is answered at once.")
    page.select_option("#experiment-close .close-barriers select", "resolved")
    page.click("#experiment-close button.primary")
    expect(page.locator("#verdict-badge")).to_have_text("Won")

    page.click("nav.tabs >> text=Board")
    chip = page.locator(".lane-barriers .barrier-chip", has_text=title)
    expect(chip).to_have_class("barrier-chip status-resolved")
    strategy = page.locator(".strategy-chip", has_text="Answer questions in the cart")
    expect(strategy.locator(".verdict-won")).to_be_visible()
    expect(page.locator(".tp-learning")).to_contain_text(
        "Customers stay when their question is answered at once."
    )
    page.screenshot(path="test-artifacts/method-loop-board.png", full_page=True)
