"""Web-analytics volumes: CSV per stage or transition and period, Transition.volume from the
latest period, and the stage funnel with conversion between stages (100 → 2 → 1: 2 %, 50 %)."""

import io

from bs4 import BeautifulSoup
from sqlalchemy import select

from cjm.extensions import db
from cjm.models import AnalyticsVolume, Stage, Transition
from cjm.survey.analytics import conversions
from tests.survey.files import csv_bytes


def upload(client, journey, headers, rows, **options):
    data = csv_bytes(rows, headers=headers, title=None, **options)
    return client.post(
        f"/maps/{journey.id}/imports/analytics",
        data={"file": (io.BytesIO(data), "volumes.csv")},
        content_type="multipart/form-data",
    )


def test_conversion_math():
    assert conversions([100, 2, 1]) == [None, 2.0, 50.0]
    assert conversions([100, None, 5]) == [None, None, None]
    assert conversions([0, 5]) == [None, None]


def test_stage_volumes_give_the_funnel_page(owner_client, journey):
    headers = ["Начало периода", "Конец периода", "Метрика", "Этап", "Значение"]
    rows = [
        ["01.03.2024", "31.03.2024", "визиты", "Awareness", "100"],
        ["01.03.2024", "31.03.2024", "визиты", "purchase", "2"],
        ["01.03.2024", "31.03.2024", "визиты", "use", "1"],
    ]
    r = upload(owner_client, journey, headers, rows)
    assert r.status_code == 303
    assert len(db.session.scalars(select(AnalyticsVolume)).all()) == 3
    page = BeautifulSoup(owner_client.get(r.headers["Location"]).text, "html.parser")
    table = [
        [cell.get_text(strip=True) for cell in tr.find_all(["th", "td"])]
        for tr in page.select("#funnel tbody tr")
    ]
    assert table == [["Awareness", "100", "—"], ["Purchase", "2", "2 %"], ["Use", "1", "50 %"]]


def test_transition_volumes_take_the_latest_period(owner_client, journey):
    headers = ["Month", "Metric", "Transition", "Value"]
    rows = [
        ["2024-02", "visits", "Sees an ad → Fills the cart", "70"],
        ["2024-03", "visits", "ad -> cart", "90"],
        ["03.2024", "orders", "cart-paid", "12"],
    ]
    r = upload(owner_client, journey, headers, rows, decimal_comma=False, encoding="utf-8")
    assert r.status_code == 303
    db.session.expire_all()
    edges = {e.key: e.volume for e in db.session.scalars(select(Transition))}
    assert edges["ad-cart"] == 90
    assert edges["cart-paid"] == 12
    march = db.session.scalars(select(AnalyticsVolume).filter_by(metric="orders")).one()
    assert (march.period_start.isoformat(), march.period_end.isoformat()) == (
        "2024-03-01",
        "2024-03-31",
    )


def test_funnel_from_transitions_entering_each_stage(owner_client, journey):
    headers = ["Period", "Metric", "Stage", "Transition", "Value"]
    rows = [
        ["2024-03", "visits", "Awareness", "", "100"],
        ["2024-03", "visits", "", "ad-cart", "40"],
        ["2024-03", "visits", "", "cart-paid", "10"],
    ]
    upload(owner_client, journey, headers, rows, decimal_comma=False)
    page = BeautifulSoup(
        owner_client.get(f"/maps/{journey.id}/imports/analytics?metric=visits").text, "html.parser"
    )
    volumes = [td.get_text(strip=True) for td in page.select("#funnel td.volume")]
    conversion = [td.get_text(strip=True) for td in page.select("#funnel td.conversion")]
    assert volumes == ["100", "40", "10"]
    assert conversion == ["—", "40 %", "25 %"]


def test_bad_rows_are_listed_and_nothing_is_stored(owner_client, journey):
    headers = ["Period", "Metric", "Stage", "Value"]
    rows = [["2024-03", "visits", "Awareness", "100"], ["2024-13", "visits", "Nowhere", "x"]]
    r = upload(owner_client, journey, headers, rows, decimal_comma=False)
    assert r.status_code == 422
    page = BeautifulSoup(r.text, "html.parser")
    found = [
        [td.get_text() for td in tr.find_all("td")][:2]
        for tr in page.select("#volume-errors tbody tr")
    ]
    assert found == [["3", "Period"], ["3", "Stage"], ["3", "Value"]]
    assert db.session.scalars(select(AnalyticsVolume)).all() == []


def test_reimport_replaces_the_same_figure(owner_client, journey):
    headers = ["Period", "Metric", "Stage", "Value"]
    upload(
        owner_client,
        journey,
        headers,
        [["2024-03", "visits", "Awareness", "100"]],
        decimal_comma=False,
    )
    upload(
        owner_client,
        journey,
        headers,
        [["2024-03", "visits", "Awareness", "120"]],
        decimal_comma=False,
    )
    stage = db.session.scalar(select(Stage).filter_by(key="aware"))
    assert [
        v.value for v in db.session.scalars(select(AnalyticsVolume).filter_by(stage_id=stage.id))
    ] == [120]
