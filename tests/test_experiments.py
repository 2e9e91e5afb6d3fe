"""Experiments (step 6) on a hand-built map with known volumes and observations: the baseline
from current data, the result inside the period, the significance test and verdict, closing
with its write-back (barrier statuses, a KPI reading, a learning note, the strategy done),
422 next to fields, 409 when stale or closed, viewers read only, outsiders get 404."""

import math
from datetime import date

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from cjm import evidence, store
from cjm.extensions import db
from cjm.journey import stats
from cjm.models import (
    AnalyticsVolume,
    Barrier,
    Experiment,
    Kpi,
    KpiValue,
    Note,
    Segment,
    Stage,
    Strategy,
    StrategyBarrier,
    Touchpoint,
    Transition,
)
from tests.conftest import sign_in
from tests.factories import add_member, make_map, make_user

APRIL = ("2025-04-01", "2025-04-30")


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def url(journey, tail: str = "") -> str:
    return f"/maps/{journey.id}/experiments{tail}"


def part(model, journey, key: str):
    return db.session.scalar(select(model).filter_by(journey_id=journey.id, key=key))


@pytest.fixture
def strategy(journey):
    """A strategy addressing two barriers: one at "cart", one on the drop-out "cart-gone"."""
    row = Strategy(journey_id=journey.id, key="show-fees", title="Show fees early")
    row.status = "planned"
    barriers = [
        Barrier(
            journey_id=journey.id,
            key="hidden-fee",
            title="Hidden fee",
            type="price",
            touchpoint_id=part(Touchpoint, journey, "cart").id,
        ),
        Barrier(
            journey_id=journey.id,
            key="leaves",
            title="Leaves at the cart",
            type="trust",
            status="mitigated",
            transition_id=part(Transition, journey, "cart-gone").id,
        ),
    ]
    db.session.add_all([row, *barriers])
    db.session.flush()
    db.session.add_all(StrategyBarrier(strategy_id=row.id, barrier_id=b.id) for b in barriers)
    db.session.commit()
    return row


def volume(journey, key: str, value: int, period=APRIL, metric="visits"):
    db.session.add(
        AnalyticsVolume(
            journey_id=journey.id,
            period_start=date.fromisoformat(period[0]),
            period_end=date.fromisoformat(period[1]),
            metric=metric,
            transition_id=part(Transition, journey, key).id,
            value=value,
        )
    )


@pytest.fixture
def april_volumes(journey):
    """April: 150 customers reach the cart (120 from the ad, 30 back from the call), 60 pay
    (40 %). March figures and April orders must not count."""
    volume(journey, "ad-cart", 120)
    volume(journey, "call-cart", 30)
    volume(journey, "cart-paid", 60)
    volume(journey, "cart-paid", 10, metric="orders")  # visits come first, as for the map
    volume(journey, "cart-paid", 999, period=("2025-03-01", "2025-03-31"))
    volume(journey, "cart-paid", 5, period=("2025-04-15", "2025-05-15"))  # ends after the period
    db.session.commit()


def observe(journey, key: str, on: str | None, **scores):
    evidence.add_observation(
        journey.id,
        touchpoint_id=part(Touchpoint, journey, key).id,
        source="survey",
        observed_on=date.fromisoformat(on) if on else None,
        **scores,
    )


@pytest.fixture
def paid_csat(journey):
    """CSAT at "paid": before April 2, 3, 2, 3, 2 and one undated 3 (baseline 2.5, n 6); in
    April 4, 5, 4, 5, 4 (4.4, n 5); a 1 in May that must not count."""
    for i, csat in enumerate([2, 3, 2, 3, 2]):
        observe(journey, "paid", f"2025-03-{10 + i}", csat=csat)
    observe(journey, "paid", None, csat=3)
    for i, csat in enumerate([4, 5, 4, 5, 4]):
        observe(journey, "paid", f"2025-04-{10 + i}", csat=csat)
    observe(journey, "paid", "2025-05-02", csat=1)
    db.session.commit()


def form(strategy, place: str = "", metric="transition-conversion", **changes) -> dict:
    data = {
        "strategy_id": str(strategy.id),
        "hypothesis": "Showing the delivery fee on the product page lifts payment.",
        "metric": metric,
        "place": place,
        "segment_id": "",
        "starts_on": APRIL[0],
        "ends_on": APRIL[1],
        "baseline": "",
        "baseline_n": "",
        "baseline_hits": "",
        "target": "38",
        "status": "running",
    }
    data.update(changes)
    return {f"experiment-{k}": v for k, v in data.items()}


def create(client, journey, strategy, place, **changes) -> Experiment:
    r = client.post(url(journey, "/new"), data=form(strategy, place, **changes))
    assert r.status_code == 303, r.text
    return db.session.scalars(select(Experiment).order_by(Experiment.id.desc())).first()


def tr(journey, key):
    return f"tr-{part(Transition, journey, key).id}"


# --- baseline from current data ---------------------------------------------------------------


def test_transition_baseline_comes_from_the_current_volumes(owner_client, journey, strategy):
    # cart-paid 40 of the 125 entering the cart (100 from the ad + 25 back from the call)
    row = create(owner_client, journey, strategy, tr(journey, "cart-paid"))
    assert (row.baseline_hits, row.baseline_n) == (40, 125)
    assert row.baseline == pytest.approx(32.0)
    assert row.key.startswith("showing-the-delivery-fee")
    assert row.status == "running"


def test_stage_baseline_is_reached_over_the_previous_stage(owner_client, journey, strategy):
    # Purchase is reached by 100 (ad → cart), Use by 40 (cart → paid): 40 %
    use = part(Stage, journey, "use")
    row = create(owner_client, journey, strategy, f"st-{use.id}", metric="stage-conversion")
    assert (row.baseline_hits, row.baseline_n, row.baseline) == (40, 100, 40.0)


def test_score_baseline_counts_observations_before_the_period(
    owner_client, journey, strategy, paid_csat
):
    paid = part(Touchpoint, journey, "paid")
    row = create(owner_client, journey, strategy, f"tp-{paid.id}", metric="csat", target="4")
    assert row.baseline == pytest.approx(2.5) and row.baseline_n == 6


def test_segment_narrows_the_baseline(owner_client, journey, strategy):
    segment = Segment(journey_id=journey.id, key="new", name="New customers")
    db.session.add(segment)
    db.session.flush()
    paid = part(Touchpoint, journey, "paid")
    evidence.add_observation(
        journey.id, touchpoint_id=paid.id, source="survey", csat=5, segment_id=segment.id
    )
    observe(journey, "paid", None, csat=1)
    db.session.commit()
    row = create(
        owner_client,
        journey,
        strategy,
        f"tp-{paid.id}",
        metric="csat",
        segment_id=str(segment.id),
    )
    assert (row.baseline, row.baseline_n) == (5.0, 1)


def test_typed_baseline_is_kept_and_counts_give_the_value(owner_client, journey, strategy):
    row = create(
        owner_client,
        journey,
        strategy,
        tr(journey, "cart-paid"),
        baseline_n="1250",
        baseline_hits="400",
    )
    assert (row.baseline, row.baseline_n, row.baseline_hits) == (32.0, 1250, 400)
    typed = create(owner_client, journey, strategy, tr(journey, "cart-paid"), baseline="30,5")
    assert typed.baseline == 30.5 and typed.baseline_n is None


def test_fill_baseline_shows_it_without_saving(owner_client, journey, strategy):
    data = form(strategy, tr(journey, "cart-paid"))
    r = owner_client.post(url(journey, "/new"), data={**data, "action": "measure"})
    assert r.status_code == 200
    page = soup(r)
    assert page.select_one("#measured") is not None
    assert page.select_one("#experiment-baseline")["value"] == "32"
    assert page.select_one("#experiment-baseline_n")["value"] == "125"
    assert db.session.scalars(select(Experiment)).all() == []


# --- result in the period, test and verdict ---------------------------------------------------


def test_result_counts_only_volumes_inside_the_period(
    owner_client, journey, strategy, april_volumes
):
    row = create(owner_client, journey, strategy, tr(journey, "cart-paid"))
    page = soup(owner_client.get(url(journey, f"/{row.id}")))
    result = page.select_one("#figures td.result").get_text(" ", strip=True)
    assert result.startswith("40%") and "60 of 150 customers" in result
    # 40/125 against 60/150: pooled 100/275, z = 0.08 / √(p̂(1 − p̂)(1/125 + 1/150)) = 1.373
    pooled = 100 / 275
    z = 0.08 / math.sqrt(pooled * (1 - pooled) * (1 / 125 + 1 / 150))
    assert page.select_one(".statistic").get_text(strip=True) == f"z = {z:.3f}"
    assert page.select_one("#p-value").get_text() == f"{stats.p_from_z(z):.4f}"
    assert page.select_one("#suggested-verdict").get_text() == "Inconclusive"
    assert page.select_one(".formula code").get_text().startswith("z = (p₂ − p₁)")


def test_enough_customers_make_it_significant(owner_client, journey, strategy, april_volumes):
    for key, value in (("ad-cart", 1080), ("call-cart", 270), ("cart-paid", 540)):
        volume(journey, key, value, period=("2025-04-01", "2025-04-15"))  # a second period
    db.session.commit()
    row = create(
        owner_client,
        journey,
        strategy,
        tr(journey, "cart-paid"),
        baseline_n="1250",
        baseline_hits="400",
    )
    page = soup(owner_client.get(url(journey, f"/{row.id}")))
    # 600 of 1,500 in April (two periods summed) against 400 of 1,250: z = 4.34
    assert "600 of 1,500 customers" in page.select_one("#figures td.result").get_text()
    assert page.select_one(".statistic").get_text(strip=True) == "z = 4.342"
    assert page.select_one("#suggested-verdict").get_text() == "Won"


def test_short_of_the_target_is_lost(owner_client, journey, strategy, april_volumes):
    volume(journey, "ad-cart", 1350, period=("2025-04-01", "2025-04-15"))
    volume(journey, "cart-paid", 540, period=("2025-04-01", "2025-04-15"))
    db.session.commit()
    row = create(
        owner_client,
        journey,
        strategy,
        tr(journey, "cart-paid"),
        baseline_n="1250",
        baseline_hits="400",
        target="45",
    )
    page = soup(owner_client.get(url(journey, f"/{row.id}")))
    assert page.select_one("#suggested-verdict").get_text() == "Lost"
    assert "Short of the target" in page.select_one(".verdict-line").get_text()


def test_few_answers_say_not_enough_data(owner_client, journey, strategy, paid_csat):
    observe(journey, "call", "2025-04-03", csat=2)
    observe(journey, "call", "2025-03-03", csat=4)
    db.session.commit()
    call = part(Touchpoint, journey, "call")
    row = create(owner_client, journey, strategy, f"tp-{call.id}", metric="csat")
    page = soup(owner_client.get(url(journey, f"/{row.id}")))
    assert "Not enough data" in page.select_one("#not-enough").get_text()
    assert page.select_one("#suggested-verdict").get_text() == "Inconclusive"


def test_csat_uses_welch_on_the_evidence(owner_client, journey, strategy, paid_csat):
    paid = part(Touchpoint, journey, "paid")
    row = create(owner_client, journey, strategy, f"tp-{paid.id}", metric="csat", target="4")
    page = soup(owner_client.get(url(journey, f"/{row.id}")))
    assert page.select_one("#figures td.result strong").get_text() == "4.4"
    # baseline 2, 3, 2, 3, 2, 3 against 4, 5, 4, 5, 4 (the May 1 is outside)
    expected = stats.welch(6, 15, 39, 5, 22, 98)
    assert expected.df is not None and expected.p_value < 0.001
    assert page.select_one(".test-name").get_text().startswith("Welch's t-test")
    assert page.select_one(".statistic").get_text(strip=True) == f"t = {expected.statistic:.3f}"
    assert page.select_one("#suggested-verdict").get_text() == "Won"


def test_a_result_needs_a_period(owner_client, journey, strategy, april_volumes):
    edge = tr(journey, "cart-paid")
    row = create(owner_client, journey, strategy, edge, starts_on="", ends_on="")
    page = soup(owner_client.get(url(journey, f"/{row.id}")))
    assert page.select_one("#figures td.result strong").get_text() == "—"
    assert page.select_one("#suggested-verdict").get_text() == "Inconclusive"


# --- closing writes back onto the map ---------------------------------------------------------


def close_data(row, verdict="won", learning="Fees up front keep people paying.", **more):
    data = {
        "close-version": str(row.version),
        "close-verdict": verdict,
        "close-learning": learning,
    }
    return {**data, **more}


def test_closing_writes_back_barriers_note_and_strategy(
    owner_client, journey, strategy, april_volumes
):
    row = create(owner_client, journey, strategy, tr(journey, "cart-paid"))
    page = soup(owner_client.get(url(journey, f"/{row.id}")))
    fee = part(Barrier, journey, "hidden-fee")
    leaves = part(Barrier, journey, "leaves")
    # the form proposes keeping the statuses unless the experiment won
    assert page.select_one(f"#barrier-{fee.id} option[selected]")["value"] == "open"
    r = owner_client.post(
        url(journey, f"/{row.id}/close"),
        data=close_data(row, **{f"barrier-{fee.id}": "resolved"}),
    )
    assert r.status_code == 303
    db.session.expire_all()
    assert (row.status, row.verdict) == ("closed", "won")
    assert row.result == pytest.approx(40.0) and (row.result_hits, row.result_n) == (60, 150)
    assert row.p_value == pytest.approx(stats.two_proportions(40, 125, 60, 150).p_value)
    assert row.closed_at is not None
    assert (fee.status, leaves.status) == ("resolved", "mitigated")
    assert strategy.status == "done"
    note = db.session.scalars(select(Note)).one()
    assert note.kind == "learning" and note.experiment_id == row.id
    assert note.touchpoint_id == part(Touchpoint, journey, "cart").id  # the transition's source
    assert "won" in note.text and "Fees up front" in note.text
    page = soup(owner_client.get(url(journey, f"/{row.id}")))
    assert page.select_one("#verdict-badge").get_text() == "Won"
    assert "Fills the cart" in page.select_one("#outcome .note").get_text()
    assert page.select_one("#experiment-close") is None


def test_a_won_experiment_proposes_resolving(owner_client, journey, strategy, paid_csat):
    paid = part(Touchpoint, journey, "paid")
    row = create(owner_client, journey, strategy, f"tp-{paid.id}", metric="csat", target="4")
    page = soup(owner_client.get(url(journey, f"/{row.id}")))
    selects = page.select("#experiment-close .close-barriers select")
    assert [s.select_one("option[selected]")["value"] for s in selects] == ["resolved"] * 2
    assert page.select_one("#close-verdict option[selected]")["value"] == "won"
    owner_client.post(url(journey, f"/{row.id}/close"), data=close_data(row))
    db.session.expire_all()
    note = db.session.scalars(select(Note)).one()
    assert note.touchpoint_id == paid.id


def test_closing_a_custom_kpi_adds_its_reading(owner_client, journey, strategy):
    kpi = Kpi(journey_id=journey.id, key="requests", name="Inbound requests", unit="per month")
    db.session.add(kpi)
    db.session.flush()
    db.session.add(KpiValue(kpi_id=kpi.id, measured_on=date(2025, 3, 31), value=100))
    db.session.commit()
    row = create(owner_client, journey, strategy, f"kpi-{kpi.id}", metric="custom", target="120")
    assert row.baseline == 100
    r = owner_client.post(url(journey, f"/{row.id}/close"), data=close_data(row))
    assert r.status_code == 422
    assert soup(r).select_one("#close-result-error") is not None
    r = owner_client.post(
        url(journey, f"/{row.id}/close"),
        data=close_data(row, **{"close-result": "130", "close-measured_on": "2025-04-30"}),
    )
    assert r.status_code == 303
    db.session.expire_all()
    reading = db.session.scalars(select(KpiValue).filter_by(experiment_id=row.id)).one()
    assert (reading.value, reading.measured_on) == (130, date(2025, 4, 30))
    assert row.result == 130 and row.verdict == "won"
    # the note goes where the strategy's worst barrier sits
    note = db.session.scalars(select(Note)).one()
    assert note.touchpoint_id == part(Touchpoint, journey, "cart").id


def test_stage_experiments_note_the_stage(owner_client, journey, strategy):
    use = part(Stage, journey, "use")
    row = create(owner_client, journey, strategy, f"st-{use.id}", metric="stage-conversion")
    owner_client.post(url(journey, f"/{row.id}/close"), data=close_data(row, "inconclusive"))
    note = db.session.scalars(select(Note)).one()
    assert (note.stage_id, note.touchpoint_id) == (use.id, None)
    assert "inconclusive" in note.text


def test_closed_experiment_only_takes_a_new_learning(owner_client, journey, strategy):
    row = create(owner_client, journey, strategy, tr(journey, "cart-paid"))
    owner_client.post(url(journey, f"/{row.id}/close"), data=close_data(row, "lost"))
    db.session.expire_all()
    again = owner_client.post(url(journey, f"/{row.id}/close"), data=close_data(row))
    assert again.status_code == 409
    page = soup(owner_client.get(url(journey, f"/{row.id}/edit")))
    assert page.select_one("#experiment-learning") is not None
    assert page.select_one("#experiment-hypothesis") is None
    r = owner_client.post(
        url(journey, f"/{row.id}/edit"),
        data={
            "learning-version": str(row.version),
            "learning-learning": "Fees were not the reason.",
            "experiment-hypothesis": "changed",
        },
    )
    assert r.status_code == 303
    db.session.expire_all()
    assert row.learning == "Fees were not the reason."
    assert row.hypothesis.startswith("Showing") and row.verdict == "lost"
    assert "Fees were not the reason." in db.session.scalars(select(Note)).one().text
    stale = owner_client.post(
        url(journey, f"/{row.id}/edit"),
        data={"learning-version": "1", "learning-learning": "Overwritten?"},
    )
    assert stale.status_code == 409
    db.session.expire_all()
    assert row.learning == "Fees were not the reason."


# --- forms: 422 and 409 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"hypothesis": ""}, "hypothesis"),
        ({"metric": "csat"}, "place"),  # a transition is no place for CSAT
        ({"place": "tr-999999"}, "place"),  # forged (replaces the place below)
        ({"ends_on": "2025-03-01"}, "ends_on"),
        ({"target": "lots"}, "target"),
        ({"baseline_n": "10", "baseline_hits": "11"}, "baseline_hits"),
        ({"segment_id": "999999"}, "segment_id"),
    ],
)
def test_invalid_forms_answer_422_next_to_the_field(
    owner_client, journey, strategy, changes, field
):
    changes = {"place": tr(journey, "cart-paid"), **changes}
    r = owner_client.post(url(journey, "/new"), data=form(strategy, **changes))
    assert r.status_code == 422
    assert soup(r).select_one(f"#experiment-{field}-error") is not None
    assert db.session.scalars(select(Experiment)).all() == []


def test_the_first_stage_has_no_conversion(owner_client, journey, strategy):
    aware = part(Stage, journey, "aware")
    data = form(strategy, f"st-{aware.id}", metric="stage-conversion")
    r = owner_client.post(url(journey, "/new"), data=data)
    assert r.status_code == 422
    assert "first stage" in soup(r).select_one("#experiment-place-error").get_text()


def test_stale_edit_answers_409_and_keeps_the_saved_values(owner_client, journey, strategy):
    row = create(owner_client, journey, strategy, tr(journey, "cart-paid"))
    data = form(strategy, tr(journey, "cart-paid"), version=str(row.version), target="50")
    assert owner_client.post(url(journey, f"/{row.id}/edit"), data=data).status_code == 303
    stale = form(strategy, tr(journey, "cart-paid"), version="1", target="60")
    r = owner_client.post(url(journey, f"/{row.id}/edit"), data=stale)
    assert r.status_code == 409
    assert soup(r).select_one("#experiment-target")["value"] == "50"
    db.session.expire_all()
    assert row.target == 50


def test_stale_close_answers_409_and_closes_nothing(owner_client, journey, strategy):
    row = create(owner_client, journey, strategy, tr(journey, "cart-paid"))
    data = close_data(row)
    data["close-version"] = str(row.version + 1)
    r = owner_client.post(url(journey, f"/{row.id}/close"), data=data)
    assert r.status_code == 409
    assert soup(r).select_one("#stale") is not None
    db.session.expire_all()
    assert row.status == "running" and db.session.scalars(select(Note)).all() == []


def test_unknown_barrier_status_is_refused(owner_client, journey, strategy):
    row = create(owner_client, journey, strategy, tr(journey, "cart-paid"))
    fee = part(Barrier, journey, "hidden-fee")
    r = owner_client.post(
        url(journey, f"/{row.id}/close"), data=close_data(row, **{f"barrier-{fee.id}": "gone"})
    )
    assert r.status_code == 422
    db.session.expire_all()
    assert row.status == "running" and fee.status == "open"


# --- list, delete, access ---------------------------------------------------------------------


def test_list_and_delete_with_undo(owner_client, journey, strategy):
    empty = soup(owner_client.get(url(journey)))
    assert empty.select_one("#experiments .empty") is not None
    row = create(owner_client, journey, strategy, tr(journey, "cart-paid"))
    page = soup(owner_client.get(url(journey)))
    cells = page.select_one(f"#experiment-{row.id}")
    assert cells.select_one(".ex-kpi").get_text() == "Conversion of Fills the cart → Pays"
    assert cells.select_one(".ex-strategy").get_text(strip=True) == "Show fees early"
    r = owner_client.post(url(journey, f"/{row.id}/delete"))
    assert r.status_code == 303
    assert soup(owner_client.get(url(journey))).select_one(f"#experiment-{row.id}") is None
    assert owner_client.get(url(journey, f"/{row.id}")).status_code == 404
    deletion_id = db.session.get(Experiment, row.id).deletion_id
    owner_client.post(f"/maps/{journey.id}/undo/{deletion_id}")
    db.session.expire_all()
    assert db.session.get(Experiment, row.id).deletion_id is None


def test_no_strategy_says_what_to_do_first(owner_client, journey):
    page = soup(owner_client.get(url(journey)))
    assert "strategies" in page.select_one("#experiments .empty").get_text()


def test_viewers_read_and_outsiders_get_404(app, owner_client, journey, strategy):
    row = create(owner_client, journey, strategy, tr(journey, "cart-paid"))
    viewer = make_user("viewer@example.com", "Vera")
    add_member(journey, viewer, "viewer")
    client = app.test_client()
    sign_in(client, viewer)
    page = soup(client.get(url(journey, f"/{row.id}")))
    assert page.select_one("#experiment-close") is None
    assert client.post(url(journey, f"/{row.id}/close"), data=close_data(row)).status_code == 403
    outsider = make_user("out@example.com", "Otto")
    other = app.test_client()
    sign_in(other, outsider)
    assert other.get(url(journey, f"/{row.id}")).status_code == 404
    # another map's experiment is not found through this map
    second = make_map(outsider)
    assert owner_client.get(f"/maps/{second.id}/experiments/{row.id}").status_code == 404
    assert store.RESTORABLE.count(Experiment) == 1
