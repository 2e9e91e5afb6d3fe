"""The OpenAPI document is generated, valid OpenAPI 3, documents bearerAuth, and the API keeps
to it: schemathesis drives every operation in-process (WSGI) with a valid token."""

from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cjm.api.tokens import issue
from cjm.extensions import db
from cjm.models import Segment

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def document(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.json


@pytest.fixture
def schema(app):
    """The document as schemathesis loads it from the app, without a network."""
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


def test_document_is_public_and_describes_the_api(document):
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "A map's API token.",
    }  # fmt: skip
    assert document["security"] == [{"bearerAuth": []}]
    base = "/api/v1/maps/{map_id}/"
    assert set(document["paths"]) == {
        base + tail for tail in ("observations", "touchpoints", "stages", "channels", "segments")
    }
    post = document["paths"][base + "observations"]["post"]
    assert {"201", "401", "413", "422"} <= set(post["responses"])
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert [s["$ref"].rsplit("/", 1)[1] for s in body["oneOf"]] == [
        "ObservationIn",
        "ObservationBatch",
    ]
    batch = document["components"]["schemas"]["ObservationBatch"]["properties"]["observations"]
    assert batch["maxItems"] == 1000
    for path in document["paths"].values():
        for method, operation in path.items():
            if method != "parameters":
                assert "401" in operation["responses"], (method, operation["summary"])


def test_document_is_valid_openapi(schema):
    schema.validate()  # against the official OpenAPI 3.0 meta-schema (schemathesis ships it)


def test_document_lists_no_html_route(document):
    assert not any("api-tokens" in path for path in document["paths"])


@pytest.fixture
def map_with_token(ctx, journey):
    """The sample map with a segment, and a valid token for it."""
    db.session.add(Segment(journey_id=journey.id, key="new", name="New customers"))
    _, token = issue(journey.id, "schemathesis", None)
    db.session.commit()
    return journey.id, token


BASE = "/api/v1/maps/{map_id}/"
POSITIVE, NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
# Negative data only where there is input to break: map_id is pinned to the real map, and the
# element lists take nothing else.
RUNS = [
    *[(f"{m} {BASE}observations", mode) for m in ("POST", "GET") for mode in (POSITIVE, NEGATIVE)],
    *[
        (f"GET {BASE}{tail}", POSITIVE)
        for tail in ("touchpoints", "stages", "channels", "segments")
    ],
]


@pytest.mark.parametrize(("label", "mode"), RUNS, ids=[f"{lb} {m.value}" for lb, m in RUNS])
def test_api_conforms_to_its_document(schema, map_with_token, label, mode):
    map_id, token = map_with_token
    operation = next(
        result.ok() for result in schema.get_all_operations() if result.ok().label == label
    )
    strategy = operation.as_strategy(
        mode, path_parameters={"map_id": map_id}, headers={"Authorization": f"Bearer {token}"}
    )

    # In-process and bounded: no example database on disk, no timing flakiness. The fixtures
    # are set up once for all examples on purpose (rows the examples add do not matter).
    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(case=strategy)
    def run(case):
        if mode is POSITIVE and case.method == "POST":
            with_real_keys(case.body)
        response = case.call_and_validate(checks=CHECKS)
        seen.add(response.status_code)

    seen: set[int] = set()
    run()
    # Valid data by the document is accepted (so the success answers' schemas get checked too):
    # the document states every input rule the API enforces.
    if mode is POSITIVE:
        assert seen in ({200}, {201}), seen


def with_real_keys(body) -> None:
    """Point generated keys at the sample map's elements, so positive bodies get stored (random
    strings never name a touchpoint; stage and channel then come from the touchpoint), and keep
    dates out of the future."""
    for item in body["observations"] if "observations" in body else [body]:
        if item.get("touchpoint") is not None:
            item["touchpoint"] = TOUCHPOINTS[len(item["touchpoint"]) % len(TOUCHPOINTS)]
            item.pop("stage", None)
            item.pop("channel", None)
        for name, real in (("stage", "buy"), ("channel", "web"), ("segment", "new")):
            if item.get(name) is not None:
                item[name] = real
        # "Not after tomorrow" is documented in words; JSON Schema cannot say "today".
        if item.get("date") is not None and item["date"] > date.today().isoformat():
            item["date"] = date.today().isoformat()


TOUCHPOINTS = ("ad", "cart", "call", "paid", "gone")
