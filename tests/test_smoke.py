"""The app starts, migrates and serves the sign-in page and the dashboard."""

from bs4 import BeautifulSoup


def test_sign_in_page(client):
    page = BeautifulSoup(client.get("/login").text, "html.parser")
    assert page.find("input", {"name": "email"}) is not None


def test_dashboard_lists_my_map(owner_client, journey):
    page = BeautifulSoup(owner_client.get("/").text, "html.parser")
    assert [a.text for a in page.select(".map-card h2 a")] == ["Online shop"]


def test_map_page_shows_six_steps(owner_client, journey):
    page = BeautifulSoup(owner_client.get(f"/maps/{journey.id}").text, "html.parser")
    assert len(page.select("ol.stepper > li")) == 6
