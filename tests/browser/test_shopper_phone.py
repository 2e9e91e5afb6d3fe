"""A mystery-shopper visit on a 375 px phone: sign in, start a visit, answer by tapping (htmx
autosaves the draft), add a photo, submit, and find it in the results. No horizontal scroll,
tap targets of at least 44 px; screenshots in test-artifacts/ for people to look at."""

import io

import pytest
from PIL import Image as PILImage
from playwright.sync_api import expect
from sqlalchemy import select

from cjm.extensions import db
from cjm.models import Visit, VisitAnswer, VisitPhoto
from tests.browser.conftest import ARTIFACTS, axe_violations, keep_local, sign_in_page
from tests.factories import make_map, make_user
from tests.test_shopper_checklists import make_checklist

pytestmark = pytest.mark.browser
PHONE = {"width": 375, "height": 812}


@pytest.fixture
def phone(browser, live_server):
    """A touch phone-sized browser context whose off-machine requests are aborted."""
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, base_url=live_server
    )
    context.route("**/*", keep_local)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


@pytest.fixture
def world(app):
    """A researcher's map with a store-visit checklist of every kind of question."""
    with app.app_context():
        owner = make_user("shopper@example.com", "Sam Shopper")
        journey = make_map(owner)
        checklist = make_checklist(
            journey,
            items=(
                ("Greeted within a minute?", "yes-no"),
                ("Friendliness", "scale-5"),
                ("Would you recommend the shop?", "scale-10"),
                ("Waiting, minutes", "number"),
                ("What stood out?", "text"),
            ),
        )
        return {"email": owner.email, "map_id": journey.id, "checklist_id": checklist.id}


def no_horizontal_scroll(page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide"


def small_targets(page, selector: str) -> list[str]:
    """Visible elements matching selector that are less than 44 px high."""
    return page.evaluate(
        """(selector) => Array.from(document.querySelectorAll(selector))
            .filter((el) => el.offsetParent !== null)
            .map((el) => [el.textContent.trim() || el.name, el.getBoundingClientRect()])
            .filter(([, box]) => box.height < 44)
            .map(([name, box]) => `${name}: ${Math.round(box.height)}px`)""",
        selector,
    )


def photo() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (640, 480), (40, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def test_fill_a_visit_on_a_phone(phone, app, world):
    page = phone
    map_id = world["map_id"]
    sign_in_page(page, world["email"])
    page.goto(f"/maps/{map_id}/shopper")
    no_horizontal_scroll(page)
    page.locator(".start-visit").first.tap()
    expect(page.locator("form.visit-form")).to_be_visible()
    no_horizontal_scroll(page)
    assert small_targets(page, ".visit-form .segment span, .visit-form button.button") == []
    assert small_targets(page, ".visit-form input:not([type=radio]), .visit-form select") == []

    page.select_option("select[name=touchpoint]", label="Calls to ask")
    answers = page.locator("li.answer")
    answers.nth(0).locator(".segment", has_text="Yes").tap()
    answers.nth(1).locator(".segment", has_text="4").tap()
    answers.nth(2).locator(".segment", has_text="9").tap()
    answers.nth(3).locator("input[type=number]").fill("12")
    answers.nth(4).locator("textarea").fill("Clean, but a long queue")
    page.locator("textarea[name=notes]").fill("Visited at lunch time")
    page.locator("input[name=place]").fill("Main street 1")
    page.locator("input[name=place]").blur()
    # htmx autosaved the draft: the answers are on the server before anything was submitted.
    expect(page.locator("#autosave-status .ok")).to_be_visible()
    with app.app_context():
        visit = db.session.scalar(select(Visit))
        assert visit.status == "draft" and visit.place == "Main street 1"
        assert db.session.scalar(select(db.func.count()).select_from(VisitAnswer)) == 5

    page.set_input_files(
        "input[name=photos]", {"name": "shop.jpg", "mimeType": "image/jpeg", "buffer": photo()}
    )
    expect(answers.nth(0).locator("input[value=yes]")).to_be_checked()
    no_horizontal_scroll(page)
    assert axe_violations(page) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "shopper-phone-visit.png", full_page=True)

    page.locator("button.submit-visit").tap()
    expect(page.locator("#notices")).to_contain_text("Visit submitted")
    no_horizontal_scroll(page)
    page.screenshot(path=ARTIFACTS / "shopper-phone-index.png", full_page=True)
    with app.app_context():
        visit = db.session.scalar(select(Visit))
        assert visit.status == "submitted"
        assert db.session.scalar(select(VisitPhoto).filter_by(visit_id=visit.id)) is not None

    page.goto(f"/maps/{map_id}/shopper/results?checklist={world['checklist_id']}")
    section = page.locator("section.result-group", has_text="Calls to ask")
    greeted = section.locator("tr", has_text="Greeted within a minute?")
    expect(greeted.locator(".value")).to_have_text("100 % yes")
    expect(greeted.locator("td.n")).to_have_text("1")
    expect(section.locator("tr", has_text="Friendliness").locator(".value")).to_have_text(
        "mean 4.0 of 5"
    )
    expect(section.locator(".gallery img")).to_have_count(1)
    no_horizontal_scroll(page)
    assert axe_violations(page) == []
    page.screenshot(path=ARTIFACTS / "shopper-phone-results.png", full_page=True)


@pytest.fixture
def phone_without_js(browser, live_server):
    """The same phone with JavaScript off: the visit form is a plain POST form."""
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, java_script_enabled=False,
        base_url=live_server,
    )  # fmt: skip
    context.route("**/*", keep_local)
    yield context.new_page()
    context.close()


def test_visit_without_javascript(phone_without_js, app, world):
    page = phone_without_js
    sign_in_page(page, world["email"])
    page.goto(f"/maps/{world['map_id']}/shopper/checklists/{world['checklist_id']}")
    no_horizontal_scroll(page)
    page.screenshot(path=ARTIFACTS / "shopper-phone-checklist.png", full_page=True)
    page.locator(".start-visit").tap()
    answers = page.locator("li.answer")
    answers.nth(0).locator(".segment", has_text="No").tap()
    page.locator("button.submit-visit").tap()
    # 422: the missing answers are marked, the one given is kept (and saved in the draft).
    expect(page.locator("li.answer.has-error")).to_have_count(2)
    expect(page.locator(".field.has-error select[name=touchpoint]")).to_be_visible()
    expect(answers.nth(0).locator("input[value=no]")).to_be_checked()
    page.select_option("select[name=touchpoint]", label="Sees an ad")
    answers.nth(1).locator(".segment", has_text="2").tap()
    answers.nth(2).locator(".segment", has_text="10").tap()
    page.locator("button.submit-visit").tap()
    expect(page.locator("#notices")).to_contain_text("Visit submitted")
    page.goto(f"/maps/{world['map_id']}/shopper/results?by=channel")
    section = page.locator("section.result-group", has_text="Website")
    expect(section.locator("tr", has_text="Greeted").locator(".value")).to_have_text("0 % yes")
    no_horizontal_scroll(page)
