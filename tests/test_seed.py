"""`flask seed-demo`: the demo account, and the demo map in English and Russian on an empty
database; idempotent; the demo journey is rich and its graph is valid."""

from collections import Counter

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from cjm import store
from cjm.extensions import db
from cjm.journey import graph
from cjm.journey import model as dm
from cjm.models import Journey, User
from cjm.seed import seed_demo


def test_seed_creates_the_demo_account_and_both_maps(app, ctx):
    user, maps = seed_demo()
    assert (user.email, user.name) == (app.config["DEMO_EMAIL"], "Demo")
    assert check_password_hash(user.password_hash, app.config["DEMO_PASSWORD"])
    assert sorted(m.language for m in maps) == ["en", "ru"]
    assert all(m.members[0].user_id == user.id and m.members[0].role == "owner" for m in maps)


def test_seed_is_idempotent(ctx):
    seed_demo()
    again_user, again_maps = seed_demo()
    assert again_maps == []
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert db.session.scalar(select(func.count()).select_from(Journey)) == 2


def test_seed_leaves_a_used_database_alone(ctx, owner, journey):
    user, maps = seed_demo()
    assert maps == [] and user.name == "Demo"
    assert db.session.scalar(select(func.count()).select_from(Journey)) == 1


def test_command_always_prints_the_credentials(app, ctx):
    runner = app.test_cli_runner()
    credentials = "Demo account: demo@cjm.studio / demo-journey  (open http://127.0.0.1:5000)"
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.stderr
    assert first.stdout.splitlines()[0].startswith("Seeded the demo maps: #")
    assert first.stdout.splitlines()[-1] == credentials
    second = runner.invoke(args=["seed-demo"])
    assert second.stdout.splitlines() == [
        "The database already has maps: nothing seeded.",
        credentials,
    ]


def test_demo_account_signs_in(app, client, ctx):
    seed_demo()
    response = client.post(
        "/login", data={"email": app.config["DEMO_EMAIL"], "password": app.config["DEMO_PASSWORD"]}
    )
    assert response.status_code == 303


@pytest.fixture
def demo(ctx):
    """The two demo maps as domain Journeys, keyed by language."""
    _, maps = seed_demo()
    return {m.language: store.load_journey(m.id) for m in maps}


@pytest.mark.parametrize("language", ["en", "ru"])
def test_demo_map_is_rich(demo, language):
    journey = demo[language]
    assert len(journey.stages) == 6 and 5 <= len(journey.channels) <= 6
    assert len(journey.touchpoints) >= 22 and len(journey.transitions) >= 28
    assert {t.kind for t in journey.touchpoints} == set(dm.TOUCHPOINT_KINDS)
    assert {e.kind for e in journey.transitions} == set(dm.TRANSITION_KINDS)
    assert {t.stage for t in journey.touchpoints} == {s.key for s in journey.stages}
    assert {t.channel for t in journey.touchpoints} == {c.key for c in journey.channels}
    outgoing = Counter(e.source for e in journey.transitions)
    assert any(n >= 2 for n in outgoing.values())  # a branch
    assert all(
        t.emotion is not None and t.action and t.goal and t.thought for t in journey.touchpoints
    )
    assert all(e.volume is not None and e.volume > 0 for e in journey.transitions)
    persona = journey.primary_persona
    assert len(journey.personas) == 2 and persona.primary
    for name in (
        "occupation",
        "quote",
        "goals",
        "needs",
        "expectations",
        "frustrations",
        "behaviour",
        "segment",
        "lifecycle",
    ):
        assert getattr(persona, name), name
    assert persona.age


@pytest.mark.parametrize("language", ["en", "ru"])
def test_demo_graph_is_valid(demo, language):
    journey = demo[language]
    kinds = {t.key: t.kind for t in journey.touchpoints}
    successors = {key: [] for key in kinds}
    for e in journey.transitions:
        successors[e.source].append(e.target)
    reached = {k for k, kind in kinds.items() if kind == "entry"}
    frontier = list(reached)
    while frontier:
        for target in successors[frontier.pop()]:
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(kinds)  # no unreachable touchpoints
    assert [
        k for k, out in successors.items() if not out and kinds[k] not in ("goal", "exit")
    ] == []
    assert [k for k, out in successors.items() if out and kinds[k] == "exit"] == []
    assert all(kinds[e.target] == "exit" for e in journey.transitions if e.kind == "drop-out")
    assert any(e.kind == "loop" for e in journey.transitions)
    assert graph.validate(journey) == []


def test_both_languages_tell_the_same_journey(demo):
    def shape(j):
        return (
            [p.key for p in j.personas],
            [s.key for s in j.stages],
            [(c.key, c.kind) for c in j.channels],
            [(t.key, t.stage, t.channel, t.kind, t.emotion) for t in j.touchpoints],
            [(e.key, e.source, e.target, e.kind, e.volume) for e in j.transitions],
        )

    assert shape(demo["en"]) == shape(demo["ru"])
    assert demo["en"].title != demo["ru"].title
    assert demo["ru"].stages[0].name == "Осведомлённость"
