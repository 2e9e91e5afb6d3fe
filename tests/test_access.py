"""Every route declares an access rule, and each rule holds for anonymous, outsider, viewer, editor
and owner. Routes are read from app.url_map, so a new route without @guard fails here."""

from datetime import date

import pytest
from werkzeug.routing import BuildError

from cjm import create_app, evidence
from cjm.access import RULES
from cjm.api.tokens import issue
from cjm.extensions import db
from cjm.models import (
    Barrier,
    Channel,
    Checklist,
    ChecklistItem,
    Deletion,
    Experiment,
    Image,
    Interview,
    Kpi,
    KpiValue,
    Note,
    Participant,
    Persona,
    Segment,
    Stage,
    Strategy,
    SurveyImport,
    Touchpoint,
    Transition,
    Visit,
    Workshop,
)
from tests.conftest import sign_in
from tests.factories import add_member, make_map, make_user

PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
ROLES = ("anonymous", "outsider", "viewer", "editor", "owner")
ALLOWED = {
    "public": set(ROLES),
    "user": {"outsider", "viewer", "editor", "owner"},
    "view": {"viewer", "editor", "owner"},
    "edit": {"editor", "owner"},
    "own": {"owner"},
    "token": set(),  # the API takes a Bearer token, never a session: every role gets 401
    # A workshop's participant (by cookie; tests/test_workshops.py) or any member of its map.
    "participant": {"viewer", "editor", "owner"},
}


def routes():
    """(endpoint, method) for every rule of the app, static files aside; and each one's rule."""
    app = create_app({"TESTING": True, "SECRET_KEY": "list-routes"})
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method))
    rule_of = {e: getattr(app.view_functions[e], "access_rule", None) for e, _ in found}
    return sorted(set(found)), rule_of


ROUTES, RULE_OF = routes()


def test_every_view_declares_a_rule(app):
    missing = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and getattr(view, "access_rule", None) not in RULES
    ]
    assert missing == []


@pytest.fixture
def world(ctx, owner):
    """A map with one element of each kind, and one user per role."""
    journey = make_map(owner)
    users = {"owner": owner}
    for role in ("viewer", "editor"):
        users[role] = make_user(f"{role}@example.com", role.title())
        add_member(journey, users[role], role)
    users["outsider"] = make_user("outsider@example.com", "Outsider")
    first = {
        model: db.session.scalars(db.select(model).filter_by(journey_id=journey.id)).first()
        for model in (Persona, Stage, Channel, Touchpoint, Transition)
    }
    image = Image(journey_id=journey.id, content_type="image/png", data=PNG_1PX, width=1, height=1)
    deletion = Deletion(journey_id=journey.id, label="nothing")
    survey = SurveyImport(journey_id=journey.id, filename="survey.csv", data=b"")
    segment = Segment(journey_id=journey.id, key="new", name="New customers")
    interview = Interview(journey_id=journey.id, manager="Irina", held_on=date(2025, 4, 10))
    checklist = Checklist(journey_id=journey.id, key="store", name="Store")
    checklist.items = [ChecklistItem(text="Greeted?", kind="yes-no")]
    token, _ = issue(journey.id, "Survey tool", owner.id)
    db.session.add_all([image, deletion, survey, segment, interview, checklist])
    db.session.flush()
    visit = Visit(journey_id=journey.id, checklist_id=checklist.id, user_id=owner.id)
    barrier = Barrier(
        journey_id=journey.id,
        key="slow",
        title="Slow page",
        type="technical",
        touchpoint_id=first[Touchpoint].id,
    )
    db.session.add_all([visit, barrier])
    strategy = Strategy(journey_id=journey.id, key="faster", title="Faster page")
    db.session.add(strategy)
    kpi = Kpi(journey_id=journey.id, key="buyers", name="Buyers")
    db.session.add(kpi)
    db.session.flush()
    reading = KpiValue(kpi_id=kpi.id, measured_on=date(2025, 4, 30), value=12)
    experiment = Experiment(
        journey_id=journey.id,
        key="faster-sells",
        strategy_id=strategy.id,
        metric="custom",
        kpi_id=kpi.id,
        hypothesis="A faster page sells more",
    )
    db.session.add_all([reading, experiment])
    quote = evidence.add_observation(
        journey.id,
        touchpoint_id=first[Touchpoint].id,
        segment_id=segment.id,
        source="interview",
        interview_id=interview.id,
        verbatim="A quote",
    )
    # A running workshop; the viewer has a seat in it and a note, so "participant" routes pass
    # for every member (editors and owners act as facilitators on any note).
    workshop = Workshop(journey_id=journey.id, facilitator_id=owner.id, code="TESTW2")
    db.session.add(workshop)
    db.session.flush()
    seat = Participant(
        workshop_id=workshop.id, user_id=users["viewer"].id, name="Viewer", token_hash="0" * 64
    )
    db.session.add(seat)
    db.session.flush()
    note = Note(
        journey_id=journey.id,
        workshop_id=workshop.id,
        participant_id=seat.id,
        stage_id=first[Stage].id,
        kind="idea",
        text="An idea",
    )
    db.session.add(note)
    db.session.commit()
    values = {
        "map_id": journey.id,
        "persona_id": first[Persona].id,
        "stage_id": first[Stage].id,
        "channel_id": first[Channel].id,
        "touchpoint_id": first[Touchpoint].id,
        "transition_id": first[Transition].id,
        "image_id": image.id,
        "deletion_id": deletion.id,
        "token_id": token.id,
        "import_id": survey.id,
        "segment_id": segment.id,
        "interview_id": interview.id,
        "observation_id": quote.id,
        "checklist_id": checklist.id,
        "item_id": checklist.items[0].id,
        "visit_id": visit.id,
        "barrier_id": barrier.id,
        "experiment_id": experiment.id,
        "kpi_id": kpi.id,
        "value_id": reading.id,
        "strategy_id": strategy.id,
        "user_id": users["viewer"].id,
        "code": "en",
        "direction": "up",
        "fmt": "json",  # any registered export format (cjm/export)
        "workshop_id": workshop.id,
        "note_id": note.id,
        "job_id": "no-such-export-job-0000",
    }
    return users, values


def url_for_route(app, endpoint, values):
    """Build the endpoint's URL from the world's ids (only the arguments it takes)."""
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    args = {name: values[name] for name in rule.arguments}
    with app.test_request_context():
        from flask import url_for

        try:
            return url_for(endpoint, **args)
        except BuildError as e:  # pragma: no cover - a new URL argument needs a value above
            pytest.fail(f"no test value for {endpoint}: {e}")


@pytest.mark.parametrize(("endpoint", "method"), ROUTES, ids=[f"{m} {e}" for e, m in ROUTES])
@pytest.mark.parametrize("role", ROLES)
def test_route_access(app, world, endpoint, method, role):
    users, values = world
    rule = app.view_functions[endpoint].access_rule
    client = app.test_client()
    if role != "anonymous":
        sign_in(client, users[role])
    url = url_for_route(app, endpoint, values)
    response = client.open(url, method=method)
    to_login = response.status_code in (302, 303) and "/login?next=" in response.headers.get(
        "Location", ""
    )
    if rule == "token":
        assert response.status_code == 401 and response.is_json
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    elif role in ALLOWED[rule]:
        assert not to_login and response.status_code != 403
        if rule in ("view", "edit", "own", "participant"):
            assert response.status_code != 404
        assert response.status_code < 500
    elif role == "anonymous" and rule == "participant":  # no seat yet: join by code first
        assert response.status_code == 303 and response.headers["Location"].endswith("/join")
    elif role == "anonymous":
        assert to_login
    elif role == "outsider":
        assert response.status_code == 404  # maps of others do not even exist for you
    else:
        assert response.status_code == 403
