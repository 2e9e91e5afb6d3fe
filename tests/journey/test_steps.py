"""The six-step stepper: each step is empty, started or done from the map's content and what SQL
counted for it (evidence, barriers, strategies, experiments and KPIs)."""

from cjm.journey.model import Channel, Journey, Persona, Stage, Touchpoint, Transition
from cjm.journey.steps import (
    BarrierSummary,
    Evidence,
    ExperimentSummary,
    Progress,
    StrategySummary,
    step_states,
)
from tests.factories import sample_journey


def states(journey: Journey) -> dict[str, str]:
    return {s.key: s.state for s in step_states(journey)}


def missing(journey: Journey, key: str) -> list[str]:
    return next(s.missing for s in step_states(journey) if s.key == key)


def test_six_steps_in_order():
    assert [(s.number, s.key) for s in step_states(Journey("Empty"))] == [
        (1, "persona"),
        (2, "stages"),
        (3, "research"),
        (4, "barriers"),
        (5, "strategies"),
        (6, "experiments"),
    ]


def test_empty_map():
    journey = Journey("Empty")
    assert states(journey) == {
        "persona": "empty",
        "stages": "empty",
        "research": "empty",
        "barriers": "empty",
        "strategies": "empty",
        "experiments": "empty",
    }
    assert missing(journey, "persona") == ["persona"]
    assert missing(journey, "stages") == [
        "stages",
        "channels",
        "touchpoints",
        "entry",
        "goal",
        "transitions",
    ]
    assert missing(journey, "research") == ["observations", "stage-evidence", "touchpoint-evidence"]
    assert missing(journey, "barriers") == ["barriers", "barrier-evidence", "barrier-votes"]


def test_sample_map_is_done_for_steps_1_and_2():
    journey = sample_journey()
    assert states(journey)["persona"] == "done"
    assert states(journey)["stages"] == "done"
    assert missing(journey, "persona") == missing(journey, "stages") == []


def test_persona_started_lists_what_it_lacks():
    journey = Journey("Map", personas=[Persona("anna", "Anna", goals="Buy fast")])
    assert states(journey)["persona"] == "started"
    assert missing(journey, "persona") == ["needs", "frustrations"]


def test_blank_text_does_not_count():
    journey = Journey(
        "Map", personas=[Persona("anna", "Anna", goals="  ", needs="Prices", frustrations="Fees")]
    )
    assert missing(journey, "persona") == ["goals"]


def test_primary_persona_is_the_one_judged():
    complete = Persona("bob", "Bob", goals="g", needs="n", frustrations="f")
    journey = Journey("Map", personas=[complete, Persona("anna", "Anna", primary=True)])
    assert missing(journey, "persona") == ["goals", "needs", "frustrations"]


def test_stages_started_with_template_stages_only():
    journey = Journey(
        "Map", stages=[Stage("a", "A"), Stage("b", "B")], channels=[Channel("w", "Web")]
    )
    assert states(journey)["stages"] == "started"
    assert missing(journey, "stages") == ["touchpoints", "entry", "goal", "transitions"]


def test_stages_need_a_touchpoint_in_every_stage():
    journey = sample_journey()
    journey.stages.append(Stage("loyal", "Loyalty"))
    assert missing(journey, "stages") == ["touchpoints"]


def test_stages_need_two_stages_an_entry_a_goal_and_a_transition():
    journey = Journey(
        "Map",
        stages=[Stage("a", "A")],
        channels=[Channel("w", "Web")],
        touchpoints=[Touchpoint("t", "a", "w", "Visit")],
    )
    assert states(journey)["stages"] == "started"
    assert missing(journey, "stages") == ["stages", "entry", "goal", "transitions"]
    journey.touchpoints.append(Touchpoint("g", "a", "w", "Buy", kind="goal"))
    journey.transitions.append(Transition("t-g", "t", "g"))
    assert missing(journey, "stages") == ["stages", "entry"]


def step(key: str, progress: Progress) -> tuple[str, list[str]]:
    """One step's state and what it lacks on the sample map with these counts."""
    found = next(s for s in step_states(sample_journey(), progress) if s.key == key)
    return found.state, found.missing


def strategies(**summary) -> tuple[str, list[str]]:
    return step("strategies", Progress(strategies=StrategySummary(**summary)))


def experiments(**summary) -> tuple[str, list[str]]:
    return step("experiments", Progress(experiments=ExperimentSummary(**summary)))


def test_strategies_step():
    assert strategies() == ("empty", ["strategies", "barrier-strategies", "strategy-plan"])
    assert strategies(total=2, uncovered_barriers=1) == (
        "started",
        ["barrier-strategies", "strategy-plan"],
    )
    assert strategies(total=2, planned=1, uncovered_barriers=3) == (
        "started",
        ["barrier-strategies"],
    )
    assert strategies(total=2, planned=1) == ("done", [])


def test_experiments_step():
    assert experiments() == ("empty", ["experiments", "experiment-verdict", "kpis"])
    assert experiments(total=1) == ("started", ["experiment-verdict", "kpis"])
    assert experiments(kpis_with_values=1) == ("started", ["experiments", "experiment-verdict"])
    assert experiments(total=3, closed=1, kpis_with_values=2) == ("done", [])


def barriers(**summary) -> tuple[str, list[str]]:
    """Step 4's state and what it lacks for this barrier summary."""
    step = next(
        s
        for s in step_states(sample_journey(), Progress(barriers=BarrierSummary(**summary)))
        if s.key == "barriers"
    )
    return step.state, step.missing


def test_barriers_without_any_is_empty():
    assert barriers() == ("empty", ["barriers", "barrier-evidence", "barrier-votes"])


def test_barriers_started_until_every_one_has_evidence_and_the_team_voted():
    assert barriers(total=2, without_evidence=1, votes=0) == (
        "started",
        ["barrier-evidence", "barrier-votes"],
    )
    assert barriers(total=2, without_evidence=0, votes=0) == ("started", ["barrier-votes"])
    assert barriers(total=2, without_evidence=1, votes=4) == ("started", ["barrier-evidence"])


def test_barriers_done_with_evidence_behind_each_and_dots_placed():
    assert barriers(total=3, without_evidence=0, votes=1) == ("done", [])


def research(journey, **evidence) -> tuple[str, list[str]]:
    """Step 3's state and what it lacks for this evidence."""
    step = next(
        s
        for s in step_states(journey, Progress(evidence=Evidence(**evidence)))
        if s.key == "research"
    )
    return step.state, step.missing


def test_research_without_evidence_is_empty():
    assert research(sample_journey()) == (
        "empty",
        ["observations", "stage-evidence", "touchpoint-evidence"],
    )


def test_research_started_until_every_stage_has_evidence():
    # 3 observations at Awareness on "ad": below the default threshold of 5.
    state = research(sample_journey(), total=3, stages={"aware": 3}, touchpoints={"ad": 3})
    assert state == ("started", ["stage-evidence", "touchpoint-evidence"])


def test_research_needs_a_touchpoint_with_enough_evidence():
    stages = {"aware": 2, "buy": 5, "use": 1}
    assert research(
        sample_journey(), total=8, stages=stages, touchpoints={"ad": 2, "cart": 4, "paid": 1}
    ) == ("started", ["touchpoint-evidence"])
    # The map's own threshold decides what "enough" is: 4 is enough when the threshold is 4.
    assert research(
        sample_journey(),
        total=8,
        stages=stages,
        touchpoints={"ad": 2, "cart": 4, "paid": 1},
        threshold=4,
    ) == ("done", [])


def test_research_done_with_evidence_everywhere_and_one_touchpoint_at_the_threshold():
    stages = {"aware": 1, "buy": 5, "use": 1}
    assert research(
        sample_journey(), total=7, stages=stages, touchpoints={"cart": 5, "ad": 1, "paid": 1}
    ) == ("done", [])


def test_research_on_a_map_without_stages_lacks_stage_evidence():
    assert research(Journey("Empty"), total=2) == (
        "started",
        ["stage-evidence", "touchpoint-evidence"],
    )
