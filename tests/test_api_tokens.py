"""Per-map API tokens: created by owners, shown once, stored hashed, listed by prefix, revocable."""

import hashlib

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from cjm.api.tokens import issue
from cjm.extensions import db
from cjm.models import ApiToken
from tests.conftest import sign_in
from tests.factories import add_member, make_map, make_user


def create(client, journey, name="Survey tool"):
    """POST the create form; returns (response, the token shown on the page or None)."""
    response = client.post(f"/maps/{journey.id}/api-tokens", data={"name": name})
    page = BeautifulSoup(response.text, "html.parser")
    field = page.find("input", id="new-token")
    return response, field["value"] if field else None


def test_token_is_shown_once_and_only_its_hash_is_stored(owner_client, journey):
    response, token = create(owner_client, journey)
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    assert token.startswith("cjm_") and len(token) > 40
    row = db.session.scalar(select(ApiToken))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.prefix == token[:12] and row.name == "Survey tool"
    assert token not in {row.token_hash, row.prefix, row.name}

    listing = owner_client.get(f"/maps/{journey.id}/api-tokens")
    page = BeautifulSoup(listing.text, "html.parser")
    assert page.find("input", id="new-token") is None
    assert token not in page.get_text() and all(token not in str(v) for v in page.find_all(True))
    cells = [td.get_text(strip=True) for td in page.select(f"#token-{row.id} td")]
    assert cells[0] == "Survey tool" and cells[1] == row.prefix + "…"
    assert cells[3] == "never" and cells[4] == "active"


def test_last_used_is_shown_after_a_request(owner_client, client, journey):
    _, token = create(owner_client, journey)
    api = client.application.test_client()
    assert api.get(f"/api/v1/maps/{journey.id}/stages", headers=bearer(token)).status_code == 200
    row = db.session.scalar(select(ApiToken))
    assert row.last_used_at is not None
    page = BeautifulSoup(owner_client.get(f"/maps/{journey.id}/api-tokens").text, "html.parser")
    assert page.select(f"#token-{row.id} td")[3].get_text(strip=True) != "never"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_revoked_token_stops_working_at_once(app, owner_client, journey):
    _, token = create(owner_client, journey)
    api = app.test_client()
    url = f"/api/v1/maps/{journey.id}/touchpoints"
    assert api.get(url, headers=bearer(token)).status_code == 200
    row = db.session.scalar(select(ApiToken))
    response = owner_client.post(f"/maps/{journey.id}/api-tokens/{row.id}/revoke")
    assert response.status_code == 303
    assert api.get(url, headers=bearer(token)).status_code == 401
    db.session.refresh(row)
    assert row.revoked_at is not None
    page = BeautifulSoup(owner_client.get(f"/maps/{journey.id}/api-tokens").text, "html.parser")
    assert page.select_one(f"#token-{row.id}")["class"] == ["revoked"]
    assert page.select_one(f"#token-{row.id} form") is None  # nothing left to revoke


def test_name_is_required(owner_client, journey):
    response, token = create(owner_client, journey, name="  ")
    assert response.status_code == 422 and token is None
    page = BeautifulSoup(response.text, "html.parser")
    assert page.select_one(".field.has-error .error")
    assert db.session.scalar(select(ApiToken)) is None


def test_a_token_of_another_map_cannot_be_revoked_here(app, owner, journey):
    other_owner = make_user("other@example.com", "Other")
    other_map = make_map(other_owner)
    row, _ = issue(other_map.id, "x", None)
    db.session.commit()
    client = app.test_client()
    sign_in(client, owner)
    response = client.post(f"/maps/{journey.id}/api-tokens/{row.id}/revoke")
    assert response.status_code == 404
    db.session.refresh(row)
    assert row.revoked_at is None


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_owners_manage_tokens(app, journey, role):
    user = make_user(f"{role}@example.com", role)
    add_member(journey, user, role)
    client = app.test_client()
    sign_in(client, user)
    assert client.get(f"/maps/{journey.id}/api-tokens").status_code == 403
    assert client.post(f"/maps/{journey.id}/api-tokens", data={"name": "x"}).status_code == 403


def test_forms_carry_csrf_tokens(app, owner_client, journey):
    create(owner_client, journey)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = BeautifulSoup(owner_client.get(f"/maps/{journey.id}/api-tokens").text, "html.parser")
        forms = page.select("main form")
        assert len(forms) == 2  # create, revoke
        assert all(f.find("input", {"name": "csrf_token"})["value"] for f in forms)
        refused = owner_client.post(f"/maps/{journey.id}/api-tokens", data={"name": "no csrf"})
        assert refused.status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
