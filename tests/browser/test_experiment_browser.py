"""Step 6 in a real browser: plan an experiment on a strategy, close it with a verdict, see the
barrier resolved on the board; add a KPI reading and see its sparkline; axe-core finds no serious
violations on the experiment and KPI pages."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from cjm.extensions import db
from cjm.models import Barrier, Strategy, StrategyBarrier, Touchpoint
from tests.browser.conftest import axe_violations, sign_in_page
from tests.factories import make_map, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def world(app):
    """A map whose strategy addresses one open barrier at "Fills the cart"."""
    with app.app_context():
        user = make_user("tester@example.com", "Tess")
        journey = make_map(user)
        cart = db.session.scalar(select(Touchpoint).filter_by(journey_id=journey.id, key="cart"))
        strategy = Strategy(journey_id=journey.id, key="fees", title="Show fees early")
        barrier = Barrier(
            journey_id=journey.id,
            key="fee",
            title="Hidden delivery fee",
            type="price",
            touchpoint_id=cart.id,
        )
        db.session.add_all([strategy, barrier])
        db.session.flush()
        db.session.add(StrategyBarrier(strategy_id=strategy.id, barrier_id=barrier.id))
        db.session.commit()
        return user.email, journey.id


def test_experiment_to_verdict_resolves_the_barrier(page, world):
    email, map_id = world
    sign_in_page(page, email)
    page.goto(f"/maps/{map_id}/experiments")
    assert axe_violations(page) == []
    page.click("text=Plan the first experiment")
    page.select_option("#experiment-strategy_id", label="Show fees early")
    page.fill("#experiment-hypothesis", "Showing the fee early lifts payment to 40 %.")
    page.select_option("#experiment-place", label="Fills the cart → Pays")
    page.fill("#experiment-target", "40")
    page.click("button[value=measure]")
    expect(page.locator("#experiment-baseline")).to_have_value("32")
    page.click("#experiment-new button.primary")
    expect(page.locator("#figures td.baseline strong")).to_have_text("32%")
    assert axe_violations(page) == []

    page.select_option("#close-verdict", "won")
    page.fill("#close-learning", "Customers pay when the fee is no surprise.")
    page.select_option("#experiment-close .close-barriers select", "resolved")
    page.click("#experiment-close button.primary")
    expect(page.locator("#verdict-badge")).to_have_text("Won")
    expect(page.locator("#outcome .barrier .badge")).to_have_text("Resolved")

    page.click("nav.tabs >> text=Board")
    chip = page.locator(".lane-barriers .barrier-chip", has_text="Hidden delivery fee")
    expect(chip).to_have_class("barrier-chip status-resolved")


def test_kpi_reading_draws_the_sparkline(page, world):
    email, map_id = world
    sign_in_page(page, email)
    page.goto(f"/maps/{map_id}/kpis")
    page.select_option("#kpi-new-kind", "buyers")
    page.click("#kpi-new button.primary")
    card = page.locator(".kpi-card", has_text="Buyers")
    for day, value in (("2025-03-31", "10"), ("2025-04-30", "14")):
        card.locator("input[type=date]").fill(day)
        card.locator("input[name$='-value']").fill(value)
        card.locator(".reading-form button").click()
        expect(card.locator(".readings td.value").last).to_have_text(value)
    expect(card.locator("svg.sparkline title")).to_contain_text("+4 since the reading before")
    assert axe_violations(page) == []
