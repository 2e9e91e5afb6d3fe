"""The JSON API: Bearer tokens per map, observations by key (one or a batch, all or nothing),
per-field 422s, pages with filters, and the keys of the map's elements."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from cjm.api.tokens import issue
from cjm.extensions import db
from cjm.models import Observation, Segment, Stage, Touchpoint, utcnow
from tests.conftest import sign_in
from tests.factories import make_map, make_user


@pytest.fixture
def token(ctx, journey):
    """A working token of `journey`."""
    _, token = issue(journey.id, "Survey tool", None)
    db.session.commit()
    return token


@pytest.fixture
def api(app, token):
    """A client that sends the token; no cookies involved."""

    class Api:
        def __init__(self):
            self.client = app.test_client(use_cookies=False)

        def headers(self, extra=None):
            return {"Authorization": f"Bearer {token}", **(extra or {})}

        def get(self, url, **kw):
            return self.client.get(url, headers=self.headers(), **kw)

        def post(self, url, json):
            return self.client.post(url, headers=self.headers(), json=json)

    return Api()


@pytest.fixture
def segment(ctx, journey):
    row = Segment(journey_id=journey.id, key="new", name="New customers")
    db.session.add(row)
    db.session.commit()
    return row


def url(journey, tail="observations"):
    return f"/api/v1/maps/{journey.id}/{tail}"


def count() -> int:
    return db.session.scalar(select(func.count(Observation.id)))


def test_one_observation_by_touchpoint_key_fills_stage_and_channel(api, journey, segment):
    body = {"source": "survey", "touchpoint": "call", "segment": "new", "date": "2025-03-01",
            "respondent": "R-17", "csat": 2, "nps": 6, "ces": 5,
            "verbatim": "Long wait"}  # fmt: skip
    response = api.post(url(journey), body)
    assert response.status_code == 201, response.json
    assert response.json["created"] == 1
    shown = response.json["observations"][0]
    assert shown | {"id": 0, "created_at": ""} == {
        **body, "stage": "buy", "channel": "call", "id": 0, "created_at": "",
    }  # fmt: skip
    row = db.session.scalar(select(Observation))
    tp = db.session.scalar(select(Touchpoint).filter_by(journey_id=journey.id, key="call"))
    assert (row.touchpoint_id, row.stage_id, row.channel_id) == (tp.id, tp.stage_id, tp.channel_id)
    assert row.segment_id == segment.id and str(row.observed_on) == "2025-03-01"


def test_batch_with_a_stage_only_observation(api, journey):
    batch = {"observations": [
        {"source": "survey", "touchpoint": "ad", "csat": 5},
        {"source": "analytics", "stage": "use", "verbatim": "no channel"},
    ]}  # fmt: skip
    response = api.post(url(journey), batch)
    assert response.status_code == 201
    assert [o["stage"] for o in response.json["observations"]] == ["aware", "use"]
    assert response.json["observations"][1]["touchpoint"] is None
    assert count() == 2


def test_batch_is_all_or_nothing(api, journey):
    batch = {"observations": [
        {"source": "survey", "touchpoint": "ad", "csat": 5},
        {"source": "survey", "touchpoint": "ad", "csat": 4},
        {"source": "survey", "touchpoint": "nope", "csat": 4},
    ]}  # fmt: skip
    response = api.post(url(journey), batch)
    assert response.status_code == 422
    assert response.json["errors"] == {
        "json": {"observations": {"2": {"touchpoint": ["Unknown touchpoint key."]}}}
    }
    assert count() == 0


def test_invalid_fields_answer_422_with_messages_per_field(api, journey):
    batch = {"observations": [
        {"source": "survey", "touchpoint": "ad", "csat": 5},
        {"source": "rumour", "touchpoint": "ad", "csat": 6, "nps": -1, "date": "31.02.2025"},
        {"source": "survey"},
    ]}  # fmt: skip
    response = api.post(url(journey), batch)
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/json"
    errors = response.json["errors"]["json"]["observations"]
    assert set(errors) == {"1", "2"}
    assert set(errors["1"]) == {"source", "csat", "nps", "date"}
    assert errors["2"] == {
        "touchpoint": ["Give a touchpoint, or a stage and/or a channel."],
        "verbatim": ["Give at least one score (CSAT, NPS, CES) or a verbatim."],
    }
    assert count() == 0


def test_single_observation_errors_are_not_nested(api, journey):
    response = api.post(url(journey), {"source": "survey", "stage": "aware", "ces": 9})
    assert response.status_code == 422
    assert list(response.json["errors"]["json"]) == ["ces"]
    response = api.post(url(journey), {"source": "survey", "stage": "nowhere", "csat": 3})
    assert response.json["errors"]["json"] == {"stage": ["Unknown stage key."]}


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "text",
        {"observations": "many"},
        {"observations": []},
        {"source": "survey", "x": 1},
    ],
    ids=["no body", "list", "string", "not a list", "empty batch", "unknown field"],
)
def test_malformed_bodies_are_422(api, journey, body):
    if body is None:
        response = api.client.post(url(journey), headers=api.headers(), data="{not json")
    else:
        response = api.post(url(journey), body)
    assert response.status_code == 422 and response.json["errors"]["json"]


def test_the_rules_of_every_evidence_writer_hold(api, journey):
    body = {"source": "survey", "touchpoint": "ad", "stage": "use", "csat": 3}
    response = api.post(url(journey), body)
    assert response.json["errors"]["json"] == {
        "stage": ["The touchpoint is at another stage; leave the stage empty."]
    }
    future = (date.today() + timedelta(days=3)).isoformat()
    response = api.post(
        url(journey), {"source": "survey", "stage": "use", "csat": 3, "date": future}
    )
    assert response.json["errors"]["json"] == {"date": ["The date is in the future."]}
    response = api.post(url(journey), {"source": "survey", "stage": "use", "verbatim": "  "})
    assert list(response.json["errors"]["json"]) == ["verbatim"]
    assert count() == 0


def test_keys_of_another_map_are_refused(app, api, journey):
    other = make_map(make_user("other@example.com", "Other"))
    db.session.add(Segment(journey_id=other.id, key="b2b", name="B2B"))
    db.session.commit()
    body = {"source": "survey", "touchpoint": "ad", "segment": "b2b", "csat": 4}
    response = api.post(url(journey), body)
    assert response.status_code == 422
    assert response.json["errors"]["json"] == {"segment": ["Unknown segment key."]}
    # The other map has the same touchpoint keys; ours are used, never its rows.
    assert api.post(url(journey), {**body, "segment": None}).status_code == 201
    row = db.session.scalar(select(Observation))
    assert db.session.get(Touchpoint, row.touchpoint_id).journey_id == journey.id


def test_hidden_elements_cannot_be_referenced(api, journey):
    stage = db.session.scalar(select(Stage).filter_by(journey_id=journey.id, key="aware"))
    from cjm import store

    store.soft_delete([stage], journey.id, None, "stage")
    db.session.commit()
    response = api.post(url(journey), {"source": "survey", "touchpoint": "ad", "csat": 3})
    assert response.json["errors"]["json"] == {"touchpoint": ["Unknown touchpoint key."]}
    keys = [t["key"] for t in api.get(url(journey, "touchpoints")).json]
    assert "ad" not in keys and "cart" in keys


def test_more_than_1000_observations_is_413(api, journey):
    batch = {"observations": [{"source": "survey", "touchpoint": "ad", "nps": 9}] * 1001}
    response = api.post(url(journey), batch)
    assert response.status_code == 413 and response.json["code"] == 413
    assert count() == 0
    assert api.post(url(journey), {"observations": batch["observations"][:1000]}).status_code == 201
    assert count() == 1000


def test_list_is_paginated_and_filtered(api, journey, segment):
    batch = {"observations": [
        {"source": "survey", "touchpoint": "ad", "csat": 5, "date": "2025-01-10", "segment": "new"},
        {"source": "survey", "touchpoint": "call", "csat": 1, "date": "2025-02-10"},
        {"source": "interview", "channel": "call", "verbatim": "Rude", "date": "2025-03-10"},
    ]}  # fmt: skip
    assert api.post(url(journey), batch).status_code == 201
    everything = api.get(url(journey)).json
    assert everything["total"] == 3 and everything["page"] == 1
    page2 = api.get(url(journey), query_string={"per_page": 2, "page": 2}).json
    assert [o["verbatim"] for o in page2["observations"]] == ["Rude"] and page2["total"] == 3

    def matches(**query):
        return [o["id"] for o in api.get(url(journey), query_string=query).json["observations"]]

    ids = [o["id"] for o in everything["observations"]]
    assert matches(source="interview") == [ids[2]]
    assert matches(channel="call") == ids[1:]
    assert matches(stage="buy") == [ids[1]]
    assert matches(segment="new") == [ids[0]]
    assert matches(touchpoint="call") == [ids[1]]
    assert matches(date_from="2025-02-01", date_to="2025-02-28") == [ids[1]]
    assert matches(stage="nowhere") == []
    bad = api.get(url(journey), query_string={"per_page": 0, "date_from": "yesterday"})
    assert bad.status_code == 422 and set(bad.json["errors"]["query"]) == {"per_page", "date_from"}


def test_element_lists_give_the_keys(api, journey, segment):
    assert [s["key"] for s in api.get(url(journey, "stages")).json] == ["aware", "buy", "use"]
    assert api.get(url(journey, "channels")).json[0] == {
        "key": "web", "name": "Website", "kind": "website",
    }  # fmt: skip
    assert api.get(url(journey, "segments")).json == [{"key": "new", "name": "New customers"}]
    cart = next(t for t in api.get(url(journey, "touchpoints")).json if t["key"] == "cart")
    assert cart == {"key": "cart", "name": "Fills the cart", "kind": "decision",
                    "stage": "buy", "channel": "web"}  # fmt: skip


ENDPOINTS = [("GET", "observations"), ("POST", "observations"), ("GET", "touchpoints"),
             ("GET", "stages"), ("GET", "channels"), ("GET", "segments")]  # fmt: skip


@pytest.mark.parametrize(("method", "tail"), ENDPOINTS)
@pytest.mark.parametrize(
    ("authorization", "error"),
    [
        (None, None),
        ("Basic dXNlcjpwYXNz", "invalid_request"),
        ("Bearer", "invalid_request"),
        ("Bearer cjm_wrong", "invalid_token"),
    ],  # fmt: skip
    ids=["missing", "basic", "empty", "unknown"],
)
def test_without_a_valid_token_401(app, journey, method, tail, authorization, error):
    headers = {"Authorization": authorization} if authorization else {}
    response = app.test_client().open(
        url(journey, tail), method=method, headers=headers, json={"source": "survey"}
    )
    assert response.status_code == 401 and response.json["code"] == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert (f'error="{error}"' in challenge) if error else ("error=" not in challenge)
    assert count() == 0


def test_a_signed_in_owner_without_a_token_is_401(app, owner, journey):
    client = app.test_client()
    sign_in(client, owner)
    assert client.get(url(journey, "stages")).status_code == 401


def test_token_of_another_map_or_of_no_map_is_401_alike(app, token, journey):
    other = make_map(make_user("other@example.com", "Other"))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    wrong_map = client.get(f"/api/v1/maps/{other.id}/stages", headers=headers)
    no_map = client.get("/api/v1/maps/999999/stages", headers=headers)
    assert wrong_map.status_code == no_map.status_code == 401
    assert wrong_map.json == no_map.json


def test_token_of_a_deleted_map_is_401(api, journey):
    journey.deletion_id = None
    from cjm import store

    deletion = store.soft_delete([], journey.id, None, "map")
    journey.deletion_id = deletion.id
    db.session.commit()
    assert api.get(url(journey, "stages")).status_code == 401


def test_last_used_is_recorded(api, journey, token):
    from cjm.models import ApiToken

    before = utcnow()
    api.get(url(journey, "stages"))
    used = db.session.scalar(select(ApiToken)).last_used_at
    assert used is not None and used.replace(tzinfo=None) >= before.replace(tzinfo=None)


def test_no_csrf_and_no_cookies_needed(app, api, journey):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = api.post(url(journey), {"source": "survey", "touchpoint": "ad", "ces": 2})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers


def test_html_pages_keep_their_error_pages(owner_client):
    response = owner_client.get("/maps/999999")
    assert response.status_code == 404 and response.mimetype == "text/html"
