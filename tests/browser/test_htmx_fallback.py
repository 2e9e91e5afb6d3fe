"""With the CDN unreachable (as in a workshop room offline), the vendored htmx loads instead."""

import pytest

pytestmark = pytest.mark.browser


def test_htmx_falls_back_to_the_vendored_copy(page):
    seen = []
    page.on("request", lambda r: seen.append(r.url))
    page.goto("/login")
    assert page.evaluate("() => window.htmx && window.htmx.version") == "4.0.1"
    assert any("cdn.jsdelivr.net" in url for url in seen)  # tried, aborted by the test
    assert any(url.endswith("/static/vendor/htmx-4.0.1.min.js") for url in seen)
