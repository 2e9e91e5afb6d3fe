"""CSRF on every write, security headers, session cookie flags, Vary on every answer."""

import pytest
from bs4 import BeautifulSoup

from tests.test_access import ROUTES, RULE_OF, url_for_route, world  # noqa: F401  (fixture reuse)

# API routes ("token" rule) are CSRF-exempt: they read a Bearer token and no cookie, so a forged
# cross-site request has nothing to ride on (test_api_observations checks they work with CSRF on).
WRITES = [(e, m) for e, m in ROUTES if m != "GET" and RULE_OF[e] != "token"]


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.mark.parametrize(("endpoint", "method"), WRITES, ids=[f"{m} {e}" for e, m in WRITES])
def test_write_without_csrf_token_is_refused(app, world, csrf_on, endpoint, method):  # noqa: F811
    from tests.conftest import sign_in

    users, values = world
    client = app.test_client()
    sign_in(client, users["owner"])
    response = client.open(url_for_route(app, endpoint, values), method=method, data={})
    assert response.status_code == 400


def test_sign_in_works_with_the_token_from_the_form(app, client, owner, csrf_on):
    page = BeautifulSoup(client.get("/login").text, "html.parser")
    token = page.find("input", {"name": "csrf_token"})["value"]
    response = client.post(
        "/login", data={"csrf_token": token, "email": owner.email, "password": "secret-pass"}
    )
    assert response.status_code == 303


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "HX-Request" in response.headers["Vary"]


def test_no_inline_scripts_in_pages(owner_client, journey):
    for url in (
        "/",
        f"/maps/{journey.id}",
        f"/maps/{journey.id}/board",
        f"/maps/{journey.id}/graph",
    ):
        page = BeautifulSoup(owner_client.get(url).text, "html.parser")
        assert all(s.get("src") for s in page.find_all("script")), url
        assert not any(a.startswith("on") for tag in page.find_all(True) for a in tag.attrs), url


def test_htmx_from_cdn_with_sri_and_local_fallback(client):
    page = BeautifulSoup(client.get("/login").text, "html.parser")
    cdn, fallback = page.find_all("script")[:2]
    assert cdn["src"].startswith("https://cdn.jsdelivr.net/npm/htmx.org@4.0.1/")
    assert cdn["integrity"].startswith("sha384-") and cdn["crossorigin"] == "anonymous"
    assert fallback["data-local"].endswith("/static/vendor/htmx-4.0.1.min.js")
    response = client.get(fallback["data-local"])
    assert response.status_code == 200 and b"htmx" in response.data
    response.close()


def test_local_only_htmx_setting(app, client):
    app.config["HTMX_SOURCE"] = "local"
    try:
        response = client.get("/login")
    finally:
        app.config["HTMX_SOURCE"] = "cdn"
    page = BeautifulSoup(response.text, "html.parser")
    assert [s["src"] for s in page.find_all("script")][0].endswith("htmx-4.0.1.min.js")
    assert "cdn.jsdelivr.net" not in response.headers["Content-Security-Policy"]


def test_session_cookie_is_httponly(app, client, owner):
    response = client.post("/login", data={"email": owner.email, "password": "secret-pass"})
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("HttpOnly" in c for c in cookies)
