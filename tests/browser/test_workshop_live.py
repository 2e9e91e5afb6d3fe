"""A whole live workshop in real Chromium, three screens at once: the facilitator's projector view
(1400 px) and two phones (375 px). Join by code, a note posted on one phone appears on the other
and on the projector, a dot shows up everywhere, the facilitator's step change reaches the phones,
and a timer ends on all three screens. Everything goes through the SSE stream (htmx 4 hx-sse) and
ordinary fragment requests; no request leaves the machine, so the vendored scripts are used."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, axe_violations, keep_local, sign_in_page
from tests.factories import make_map, make_user

pytestmark = pytest.mark.browser
PHONE = {"width": 375, "height": 812}
LIVE = 15_000  # ms to wait for a change to arrive through the stream (generous, not a benchmark)


@pytest.fixture
def world(app):
    """A facilitator and their map."""
    with app.app_context():
        owner = make_user("facilitator@example.com", "Fiona Facilitator")
        journey = make_map(owner)
        return {"email": owner.email, "map_id": journey.id}


@pytest.fixture
def phones(browser, live_server):
    """Two phone-sized browsers with their own cookies; JavaScript errors fail the test."""
    contexts, pages, errors = [], [], []
    for _ in range(2):
        context = browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, base_url=live_server
        )
        context.route("**/*", keep_local)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        contexts.append(context)
        pages.append(page)
    yield pages
    for context in contexts:
        context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def join(phone, code: str, name: str) -> None:
    """Type the code (as people do: lower case, with a dash) and a name; land in the room."""
    phone.goto("/join")
    phone.fill("#code", code[:3].lower() + "-" + code[3:].lower())
    phone.fill("#name", name)
    phone.click(".ws-join-button")
    expect(phone.locator("#note-form")).to_be_visible()
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}'s phone page is {width}px wide"


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=ARTIFACTS / f"workshop-{name}.png", full_page=True)


def test_a_live_workshop_on_three_screens(page, phones, world):
    projector, (anna, boris) = page, phones
    sign_in_page(projector, world["email"])
    projector.goto(f"/maps/{world['map_id']}/workshop")
    projector.click("text=Start a workshop")
    code = projector.locator(".ws-code").inner_text().strip()
    assert len(code) == 6

    join(anna, code, "Anna")
    join(boris, code, "Boris")
    people = projector.locator("#ws-people")
    expect(people).to_contain_text("Anna", timeout=LIVE)
    expect(people).to_contain_text("Boris", timeout=LIVE)
    assert axe_violations(anna) == []
    assert axe_violations(projector) == []

    # Anna posts a pain point on a touchpoint; Boris and the projector see it.
    anna.check("#note-form input[value=pain]")
    anna.select_option("#note-place", label="Fills the cart")
    anna.fill("#note-text", "The delivery price shows up only at the end")
    anna.click(".ws-post")
    expect(anna.locator("#note-form .notice")).to_be_visible()
    text = "The delivery price shows up only at the end"
    expect(boris.locator(".ws-note-text", has_text=text)).to_be_visible(timeout=LIVE)
    expect(projector.locator(".ws-note-text", has_text=text)).to_be_visible(timeout=LIVE)

    # Boris puts a dot on it: the count changes on every screen, his dots left go down.
    note = boris.locator(".ws-note", has_text=text)
    note.locator(".ws-dot-add").click()
    expect(note.locator(".ws-mine")).to_have_text("1 of yours")
    expect(boris.locator("#dots-left")).to_contain_text("4 of 5")
    for screen in (projector, anna):
        dots = screen.locator(".ws-note", has_text=text).locator(".ws-dots-count")
        expect(dots).to_have_attribute("data-dots", "1", timeout=LIVE)

    # The facilitator moves the room to step 4; both phones follow.
    projector.select_option("#ws-step-select", "4")
    projector.click("#ws-controls form:has(#ws-step-select) button")
    for phone in (anna, boris):
        expect(phone.locator(".ws-step-title")).to_have_attribute("data-step", "4", timeout=LIVE)
        expect(phone.locator(".ws-step-title")).to_have_text("Barrier analysis")

    # A six-second timer: every screen counts down to the same end time and ends with it.
    projector.fill("#ws-minutes", "0.1")
    projector.click("#ws-controls button[data-action=timer-start]")
    ends = set()
    for screen in (projector, anna, boris):
        timer = screen.locator(".ws-timer[data-ends-at]")
        expect(timer).to_have_count(1, timeout=LIVE)
        ends.add(timer.get_attribute("data-ends-at"))
    assert len(ends) == 1, "the three screens count down to different end times"
    shoot(projector, "projector")
    shoot(anna, "phone-anna")
    shoot(boris, "phone-boris")
    for screen in (projector, anna, boris):
        expect(screen.locator(".ws-timer")).to_have_class("ws-timer state-done", timeout=LIVE)
        expect(screen.locator(".ws-timer-value")).to_have_text("Time is up")

    # Boris starts typing: the projector says so.
    boris.locator("#note-text").press_sequentially("Hm")
    expect(people.locator("li.typing")).to_contain_text("Boris", timeout=LIVE)

    # The facilitator ends the workshop: phones show the end and the summary.
    projector.click("#ws-controls summary")
    projector.click("text=End the workshop now")
    expect(projector.locator(".ws-summary")).to_be_visible()
    expect(projector.locator(".ws-summary .ws-top li").first).to_contain_text(text)
    for phone in (anna, boris):
        expect(phone.locator(".ws-flag.ended")).to_be_visible(timeout=LIVE)
        expect(phone.locator(".ws-summary")).to_be_visible(timeout=LIVE)
    shoot(anna, "phone-ended")
