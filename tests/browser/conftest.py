"""Browser fixtures: the app on a live loopback server, Debian's Chromium driven by Playwright.

Every request that is not for this machine is aborted (the CDN included, which also exercises the
vendored htmx fallback). Screenshots land in test-artifacts/ for people to look at.
"""

import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from tests.conftest import need

CHROMIUM = os.environ.get("CJM_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
AXE = next((Path(__file__).parent / "vendor").glob("axe-*.min.js"))
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture(scope="session")
def live_server(app):
    """The test app served on a free loopback port in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium (skips, or fails under CJM_REQUIRE_SERVICES=1, when absent)."""
    need(
        bool(shutil.which(CHROMIUM)),
        f"Chromium not found at {CHROMIUM}: apt-get install chromium (or make sysdeps) "
        "to run browser tests",
        "chromium",
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def keep_local(route):
    """Abort every request that leaves this machine."""
    host = urlsplit(route.request.url).hostname or ""
    if host in LOCAL_HOSTS or route.request.url.startswith(("data:", "blob:")):
        route.continue_()
    else:
        route.abort()


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser context (desktop size) whose off-machine requests are aborted."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=live_server)
    context.route("**/*", keep_local)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def sign_in_page(page, email: str, password: str = "secret-pass") -> None:
    """Sign in through the real form."""
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form button.primary")
    page.wait_for_url("**/")


def axe_violations(page, impacts=("serious", "critical")) -> list[str]:
    """Run axe-core in the page; the ids and targets of serious or critical violations."""
    # Evaluated by the driver: the page's CSP rightly allows no inline script tag.
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in impacts
    ]
