"""KPIs (step 6): per-map KPIs with readings over time, an inline SVG sparkline whose title says
the latest value and change, empty states, 422 next to fields, 409 when stale, delete with
undo, readings added and deleted (htmx swaps the KPI's card), viewers read only."""

from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from cjm import experiments
from cjm.extensions import db
from cjm.models import Kpi, KpiValue
from tests.conftest import sign_in
from tests.factories import add_member, make_map, make_user

HTMX = {"HX-Request": "true"}


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def url(journey, tail: str = "") -> str:
    return f"/maps/{journey.id}/kpis{tail}"


def make_kpi(journey, name="Inbound requests", values=(), higher=True, unit="") -> Kpi:
    row = Kpi(
        journey_id=journey.id,
        key=name.lower().replace(" ", "-"),
        name=name,
        kind="inbound-requests",
        unit=unit,
        higher_is_better=higher,
    )
    db.session.add(row)
    db.session.flush()
    for day, value in values:
        db.session.add(KpiValue(kpi_id=row.id, measured_on=date.fromisoformat(day), value=value))
    db.session.commit()
    return row


def test_empty_state_invites_the_first_kpi(owner_client, journey):
    page = soup(owner_client.get(url(journey)))
    assert "No KPIs yet" in page.select_one("#kpis").get_text()
    assert page.select_one("#kpi-new") is not None


def test_add_a_kpi_named_after_its_kind(owner_client, journey):
    r = owner_client.post(
        url(journey, "/new"),
        data={"kpi-new-kind": "buyers", "kpi-new-name": "", "kpi-new-direction": "up"},
    )
    assert r.status_code == 303
    row = db.session.scalars(select(Kpi)).one()
    assert (row.name, row.kind, row.key) == ("Buyers", "buyers", "buyers")
    assert row.higher_is_better
    page = soup(owner_client.get(url(journey)))
    card = page.select_one(f"#kpi-{row.id}")
    assert card.select_one("h3").get_text() == "Buyers"
    assert "No readings yet" in card.select_one(".empty-readings").get_text()
    assert card.select_one("svg") is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kpi-new-kind": "nonsense"}, "kind"),
        ({"kpi-new-kind": "custom", "kpi-new-unit": "x" * 17}, "unit"),
        ({"kpi-new-kind": "custom", "kpi-new-direction": "sideways"}, "direction"),
    ],
)
def test_invalid_kpi_answers_422(owner_client, journey, data, field):
    r = owner_client.post(url(journey, "/new"), data=data)
    assert r.status_code == 422
    assert soup(r).select_one(f"#kpi-new-{field}-error") is not None
    assert db.session.scalars(select(Kpi)).all() == []


def test_sparkline_has_a_point_per_reading_and_says_the_latest_value(owner_client, journey):
    kpi = make_kpi(
        journey,
        values=[("2025-03-31", 120), ("2025-01-31", 100), ("2025-02-28", 90)],
        unit="req",
    )
    page = soup(owner_client.get(url(journey)))
    card = page.select_one(f"#kpi-{kpi.id}")
    svg = card.select_one("svg.sparkline")
    assert svg["role"] == "img"
    assert len(svg.select_one("polyline")["points"].split()) == 3
    title = svg.select_one("title").get_text()
    assert title == "Inbound requests: 120 req on Mar 31, 2025, +30 req since the reading before"
    assert svg["aria-labelledby"] == svg.select_one("title")["id"]
    assert "trend-good" in svg["class"]
    dates = [td.get_text() for td in card.select(".readings td.date")]
    assert dates == ["Jan 31, 2025", "Feb 28, 2025", "Mar 31, 2025"]  # in date order


def test_lower_is_better_turns_a_rise_bad(owner_client, journey):
    kpi = make_kpi(journey, "Churn", [("2025-01-31", 5), ("2025-02-28", 7)], higher=False)
    card = soup(owner_client.get(url(journey))).select_one(f"#kpi-{kpi.id}")
    assert "trend-bad" in card.select_one("svg")["class"]
    assert card.select_one(".change").get_text() == "+2"


def test_spark_geometry():
    s = experiments.spark([0, 10, 5], width=100, height=20, pad=0)
    assert s.points == "0.0,20.0 50.0,0.0 100.0,10.0"
    assert s.last == (100.0, 10.0)
    flat = experiments.spark([3, 3], width=100, height=20, pad=0)
    assert flat.points == "0.0,10.0 100.0,10.0"
    one = experiments.spark([7], width=100, height=20, pad=0)
    assert one.points == "50.0,10.0"
    assert experiments.spark([]) is None


def test_add_and_delete_readings(owner_client, journey):
    kpi = make_kpi(journey)
    r = owner_client.post(
        url(journey, f"/{kpi.id}/values"),
        data={f"reading-{kpi.id}-measured_on": "2025-04-30", f"reading-{kpi.id}-value": "1 234,5"},
    )
    assert r.status_code == 303
    reading = db.session.scalars(select(KpiValue)).one()
    assert (reading.value, reading.measured_on) == (1234.5, date(2025, 4, 30))
    # htmx gets the KPI's card back
    r = owner_client.post(
        url(journey, f"/{kpi.id}/values"),
        data={f"reading-{kpi.id}-measured_on": "2025-05-31", f"reading-{kpi.id}-value": "1300"},
        headers=HTMX,
    )
    assert r.status_code == 200
    card = soup(r).select_one(f"#kpi-{kpi.id}")
    assert card.select_one(".latest strong").get_text() == "1,300"
    r = owner_client.post(url(journey, f"/{kpi.id}/values/{reading.id}/delete"), headers=HTMX)
    assert r.status_code == 200
    assert [v.value for v in db.session.scalars(select(KpiValue))] == [1300]


@pytest.mark.parametrize(
    ("day", "value", "field"),
    [
        ("2025-04-30", "", "value"),
        ("2025-04-30", "many", "value"),
        ("", "10", "measured_on"),
        ((date.today() + timedelta(days=5)).isoformat(), "10", "measured_on"),
    ],
)
def test_invalid_reading_answers_422(owner_client, journey, day, value, field):
    kpi = make_kpi(journey)
    data = {f"reading-{kpi.id}-measured_on": day, f"reading-{kpi.id}-value": value}
    r = owner_client.post(url(journey, f"/{kpi.id}/values"), data=data)
    assert r.status_code == 422
    assert soup(r).select_one(f"#reading-{kpi.id}-{field}-error") is not None
    r = owner_client.post(url(journey, f"/{kpi.id}/values"), data=data, headers=HTMX)
    assert r.status_code == 422
    assert soup(r).select_one(f"#kpi-{kpi.id} #reading-{kpi.id}-{field}-error") is not None
    assert db.session.scalars(select(KpiValue)).all() == []


def test_edit_and_stale_edit(owner_client, journey):
    kpi = make_kpi(journey)
    prefix = f"kpi-{kpi.id}"
    page = soup(owner_client.get(url(journey, f"/{kpi.id}/edit")))
    assert page.select_one(f"#{prefix}-direction option[selected]")["value"] == "up"
    data = {
        f"{prefix}-version": str(kpi.version),
        f"{prefix}-kind": "retention",
        f"{prefix}-name": "Retention, 90 days",
        f"{prefix}-unit": "%",
        f"{prefix}-direction": "up",
    }
    assert owner_client.post(url(journey, f"/{kpi.id}/edit"), data=data).status_code == 303
    r = owner_client.post(
        url(journey, f"/{kpi.id}/edit"), data={**data, f"{prefix}-name": "Old tab"}
    )
    assert r.status_code == 409
    assert soup(r).select_one(f"#{prefix}-name")["value"] == "Retention, 90 days"
    db.session.expire_all()
    assert (kpi.name, kpi.unit, kpi.kind) == ("Retention, 90 days", "%", "retention")


def test_delete_with_undo(owner_client, journey):
    kpi = make_kpi(journey, values=[("2025-01-31", 1)])
    assert owner_client.post(url(journey, f"/{kpi.id}/delete")).status_code == 303
    assert soup(owner_client.get(url(journey))).select_one(f"#kpi-{kpi.id}") is None
    db.session.expire_all()
    owner_client.post(f"/maps/{journey.id}/undo/{kpi.deletion_id}")
    assert soup(owner_client.get(url(journey))).select_one(f"#kpi-{kpi.id}") is not None


def test_readings_of_other_kpis_are_404(owner_client, journey):
    kpi = make_kpi(journey, values=[("2025-01-31", 1)])
    other = make_kpi(journey, "Buyers")
    reading = db.session.scalars(select(KpiValue)).one()
    r = owner_client.post(url(journey, f"/{other.id}/values/{reading.id}/delete"))
    assert r.status_code == 404
    assert db.session.get(KpiValue, reading.id) is not None and kpi.id != other.id


def test_viewers_read_and_outsiders_get_404(app, owner, journey):
    kpi = make_kpi(journey, values=[("2025-01-31", 1)])
    viewer = make_user("viewer@example.com", "Vera")
    add_member(journey, viewer, "viewer")
    client = app.test_client()
    sign_in(client, viewer)
    page = soup(client.get(url(journey)))
    assert page.select_one(f"#kpi-{kpi.id} svg") is not None
    assert page.select_one(".reading-form") is None and page.select_one("#kpi-new") is None
    r = client.post(url(journey, f"/{kpi.id}/values"), data={})
    assert r.status_code == 403
    outsider = make_user("out@example.com", "Otto")
    other = app.test_client()
    sign_in(other, outsider)
    assert other.get(url(journey)).status_code == 404
    second = make_map(outsider)
    assert other.post(f"/maps/{second.id}/kpis/{kpi.id}/delete").status_code == 404
