"""The stepper's steps 5 and 6 on a real map: strategies cover open barriers (dropped ones do
not), a strategy past "idea" is a plan, experiments need a verdict, KPIs need a value."""

from datetime import date

from bs4 import BeautifulSoup

from cjm import store
from cjm.extensions import db
from cjm.models import Experiment, Kpi, KpiValue, Strategy, StrategyBarrier
from tests.test_barriers import make_barrier


def strategy(journey, *barriers, status="idea"):
    row = Strategy(
        journey_id=journey.id,
        key=store.new_key(Strategy, journey.id, "Fix", "strategy"),
        title="Fix",
        status=status,
    )
    db.session.add(row)
    db.session.flush()
    db.session.add_all(StrategyBarrier(strategy_id=row.id, barrier_id=b.id) for b in barriers)
    db.session.commit()
    return row


def step(client, journey, number: int) -> tuple[str, list[str], str | None]:
    page = BeautifulSoup(client.get(f"/maps/{journey.id}").text, "html.parser")
    li = page.select("ol.stepper > li")[number - 1]
    link = li.select_one("h2 a")
    return li["class"][1], [x.text for x in li.select("ul.todo li")], link and link["href"]


def test_strategies_step_counts_covered_open_barriers(owner_client, journey):
    assert step(owner_client, journey, 5)[0] == "state-empty"
    slow = make_barrier(journey, "Slow page", touchpoint="cart")
    queue = make_barrier(journey, "Queue", touchpoint="call")
    make_barrier(journey, "Old", touchpoint="ad", status="resolved")  # needs no strategy
    strategy(journey, slow)
    dropped = strategy(journey, queue, status="dropped")
    state, todo, _link = step(owner_client, journey, 5)
    assert state == "state-started"
    assert todo == ["give every open barrier a strategy", "move a strategy from idea into the plan"]
    dropped.status = "planned"
    db.session.commit()
    assert step(owner_client, journey, 5)[:2] == ("state-done", [])


def test_experiments_step_needs_a_verdict_and_a_kpi_value(owner_client, journey):
    plan = strategy(journey, status="planned")
    db.session.add(
        Experiment(journey_id=journey.id, key="e1", strategy_id=plan.id, metric="custom")
    )
    kpi = Kpi(journey_id=journey.id, key="buyers", name="Buyers")
    db.session.add(kpi)
    db.session.commit()
    assert step(owner_client, journey, 6)[:2] == (
        "state-started",
        ["close an experiment with a verdict", "follow a KPI over time"],
    )
    experiment = db.session.scalar(db.select(Experiment).filter_by(key="e1"))
    experiment.verdict, experiment.status = "won", "closed"
    db.session.add(KpiValue(kpi_id=kpi.id, measured_on=date(2026, 11, 1), value=12))
    db.session.commit()
    assert step(owner_client, journey, 6)[:2] == ("state-done", [])


def test_hidden_strategies_do_not_count(owner_client, journey, owner):
    row = strategy(journey, status="planned")
    store.soft_delete([row], journey.id, owner.id, "strategy")
    db.session.commit()
    assert step(owner_client, journey, 5)[0] == "state-empty"
