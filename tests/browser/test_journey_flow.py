"""A new user's first minutes in a real browser: sign in, create a map from a template, add
touchpoints and a transition on the board, see the graph; axe-core finds no serious violations."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, sign_in_page
from tests.factories import make_map, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def user(app):
    with app.app_context():
        return make_user("new@example.com", "Nina").email


def add_card(page, stage: str, channel: str, name: str, kind: str) -> None:
    """Open the '+' of a board cell, fill the touchpoint form, save."""
    cell = page.locator(f"td[data-stage={stage}][data-channel={channel}]")
    cell.locator("a.add-card").click()
    form = cell.locator("form.tp-form")
    form.locator("input[name$='-name']").fill(name)
    form.locator("select[name$='-kind']").select_option(kind)
    form.locator("button.primary").click()
    expect(cell.locator("article .tp-name")).to_have_text([name])


def test_create_map_and_build_a_journey(page, user):
    sign_in_page(page, user)
    page.click("text=Create your first map")
    page.fill("input[name=title]", "Kettle purchase")
    page.check("input[name=template][value=marketing]")
    page.click("form button.primary")
    expect(page.locator("h1")).to_have_text("Kettle purchase")
    expect(page.locator("ol.stepper > li")).to_have_count(6)

    page.click("nav.tabs >> text=Board")
    add_card(page, "awareness", "website", "Sees an ad", "entry")
    add_card(page, "purchase", "website", "Pays online", "goal")

    source = page.locator("article", has=page.locator(".tp-name", has_text="Sees an ad"))
    source.locator("a.tp-open").click()
    editor = page.locator("article.editing")
    editor.locator(".transition-add select[name$='-target_id']").select_option(label="Pays online")
    editor.locator(".transition-add input[name$='-volume']").fill("120")
    editor.locator(".transition-add button").click()
    expect(editor.locator(".transition-list li")).to_have_count(1)

    page.click("nav.tabs >> text=Graph")
    graph = page.locator("#graph svg")
    expect(graph.locator(".node")).to_have_count(2)
    expect(graph.locator(".edge")).to_have_count(1)
    # Both cards are connected, entry to goal: the checks list has nothing to report.
    expect(page.locator(".warnings li")).to_have_count(0)


def test_switch_to_russian(page, user):
    sign_in_page(page, user)
    page.click("button[lang=ru]")
    expect(page.locator("h1")).to_have_text("Ваши карты")


@pytest.mark.parametrize("view", ["", "/maps/{id}", "/maps/{id}/board", "/maps/{id}/graph"])
def test_no_serious_accessibility_violations(page, app, view):
    with app.app_context():
        owner = make_user("a11y@example.com", "Ally")
        map_id = make_map(owner).id
    sign_in_page(page, "a11y@example.com")
    page.goto(view.format(id=map_id) or "/")
    assert axe_violations(page) == []
