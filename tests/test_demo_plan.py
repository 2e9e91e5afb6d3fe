"""The demo maps carry steps 4–6: barriers backed by the observations where they sit, a strategy
for every barrier still open, a closed experiment whose figures, test and verdict agree with the
map and were written back, a running one, and KPIs followed month by month; both languages tell
the same plan, and the stepper shows steps 5 and 6 done."""

import json
from datetime import date

import pytest

from cjm import experiments as rules
from cjm import store
from cjm.journey import stats
from cjm.journey.steps import step_states
from cjm.progress import progress
from cjm.seed import DEMO_FILES, seed_demo

DOCS = {path.name.split(".")[1]: json.loads(path.read_text("utf-8")) for path in DEMO_FILES}


def by_key(items: list[dict]) -> dict[str, dict]:
    return {item["key"]: item for item in items}


@pytest.mark.parametrize("language", ["en", "ru"])
def test_barriers_are_backed_by_the_evidence_where_they_sit(language):
    doc = DOCS[language]
    barriers, edges = doc["barriers"], by_key(doc["transitions"])
    assert 5 <= len(barriers) <= 7
    assert {b["severity"] for b in barriers} <= {2, 3, 4, 5} and max(
        b["severity"] for b in barriers
    ) == 5
    statuses = [b["status"] for b in barriers]
    assert (statuses.count("mitigated"), statuses.count("resolved")) == (1, 1)
    assert statuses.count("open") == len(barriers) - 2
    assert len({b["type"] for b in barriers}) >= 3
    segments = {s["key"] for s in doc["segments"]}
    for b in barriers:
        assert (b["touchpoint"] is None) != (b["transition"] is None), b["key"]
        assert b["segments"] and set(b["segments"]) <= segments, b["key"]
        assert len(b["evidence"]) >= 2, b["key"]
        edge = edges.get(b["transition"])
        places = {b["touchpoint"]} if edge is None else {edge["from"], edge["to"]}
        for i in b["evidence"]:
            seen = doc["evidence"][i]
            # At the barrier's touchpoint (or either end of its transition), or a stage- or
            # channel-wide observation; a complaint or a poor score.
            assert seen["touchpoint"] in places | {None}, (b["key"], i)
            poor = (seen["csat"] or 5) <= 2 or (seen["ces"] or 1) >= 5
            assert seen["verbatim"] or poor, (b["key"], i)
        assert any(doc["evidence"][i]["verbatim"] for i in b["evidence"]), b["key"]


def test_barriers_sit_where_the_demo_shows_trouble():
    doc = DOCS["en"]
    on = {b["touchpoint"] or b["transition"] for b in doc["barriers"]}
    # The worst CSAT touchpoint and the biggest drop-out transition.
    worst = min(
        {o["touchpoint"] for o in doc["evidence"] if o["touchpoint"] and o["csat"]},
        key=lambda tp: (
            sum(o["csat"] for o in doc["evidence"] if o["touchpoint"] == tp and o["csat"])
            / sum(1 for o in doc["evidence"] if o["touchpoint"] == tp and o["csat"])
        ),
    )
    biggest = max(
        (e for e in doc["transitions"] if e["kind"] == "drop-out"), key=lambda e: e["volume"]
    )
    assert {worst, biggest["key"]} <= on


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_barrier_still_open_has_a_strategy(language):
    doc = DOCS[language]
    strategies = doc["strategies"]
    assert 4 <= len(strategies) <= 5
    covered = {k for s in strategies if s["status"] != "dropped" for k in s["barriers"]}
    unresolved = {b["key"] for b in doc["barriers"] if b["status"] != "resolved"}
    assert unresolved <= covered
    assert all(s["owner"] and s["description"] for s in strategies)
    quadrants = {(s["impact"] >= 6, s["effort"] >= 6) for s in strategies}
    assert len(quadrants) == 4  # quick win, big bet, fill-in, money pit
    assert {"idea", "planned", "in-progress", "done"} <= {s["status"] for s in strategies}


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_closed_experiment_was_written_back(language):
    doc = DOCS[language]
    (closed,) = [e for e in doc["experiments"] if e["status"] == "closed"]
    others = [e for e in doc["experiments"] if e["status"] != "closed"]
    assert len(others) == 1 and others[0]["status"] in ("running", "planned")
    assert others[0]["verdict"] is None and others[0]["result"] is None
    assert closed["verdict"] == "won" and closed["learning"] and closed["closed_at"]
    assert closed["starts_on"].startswith("2026-") and closed["ends_on"].startswith("2026-")
    # Its figures are the counts behind them, and its p-value and verdict follow from them.
    assert closed["baseline"] == 100 * closed["baseline_hits"] / closed["baseline_n"]
    assert closed["result"] == 100 * closed["result_hits"] / closed["result_n"]
    test = stats.two_proportions(
        closed["baseline_hits"], closed["baseline_n"], closed["result_hits"], closed["result_n"]
    )
    assert closed["p_value"] == pytest.approx(test.p_value) and test.significant
    verdict = stats.verdict(closed["baseline"], closed["result"], closed["target"], test)
    assert verdict.verdict == "won"
    # The write-back: its strategy done, the strategy's barriers resolved, a learning note,
    # and a KPI reading it recorded.
    strategy = by_key(doc["strategies"])[closed["strategy"]]
    assert strategy["status"] == "done"
    barriers = by_key(doc["barriers"])
    assert {barriers[k]["status"] for k in strategy["barriers"]} == {"resolved"}
    (note,) = [n for n in doc["notes"] if n["experiment"] == closed["key"]]
    assert note["kind"] == "learning" and closed["learning"] in note["text"]
    assert note["touchpoint"] == by_key(doc["transitions"])[closed["transition"]]["from"]
    written = [v for k in doc["kpis"] for v in k["values"] if v.get("experiment") == closed["key"]]
    assert len(written) == 1 and written[0]["date"] >= closed["ends_on"]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_kpis_are_followed_monthly_through_2026(language):
    kpis = DOCS[language]["kpis"]
    assert 3 <= len(kpis) <= 4
    assert {"inbound-requests", "buyers", "ltv"} <= {k["kind"] for k in kpis}
    for k in kpis:
        days = [date.fromisoformat(v["date"]) for v in k["values"]]
        assert len(days) >= 6 and days == sorted(days), k["key"]
        assert {d.year for d in days} == {2026}, k["key"]
        assert len({(d.year, d.month) for d in days}) == len(days), k["key"]
        values = [v["value"] for v in k["values"]]
        assert values[-1] > values[0] > 0, k["key"]  # the work shows


def test_both_languages_plan_the_same():
    def shape(doc):
        return (
            [
                {f: b[f] for f in ("key", "touchpoint", "transition", "type", "severity",
                                   "status", "segments", "evidence")}
                for b in doc["barriers"]
            ],
            [
                {f: s[f] for f in ("key", "impact", "effort", "confidence", "status", "barriers")}
                for s in doc["strategies"]
            ],
            [{f: v for f, v in e.items() if f not in ("hypothesis", "learning")}
             for e in doc["experiments"]],
            [{f: v for f, v in k.items() if f != "name"} for k in doc["kpis"]],
            [{f: v for f, v in n.items() if f != "text"} for n in doc["notes"]],
        )  # fmt: skip

    assert shape(DOCS["en"]) == shape(DOCS["ru"])
    en, ru = DOCS["en"], DOCS["ru"]
    for section, field in (("barriers", "title"), ("strategies", "title"), ("kpis", "name")):
        assert all(a[field] != b[field] for a, b in zip(en[section], ru[section], strict=True))
    assert "Эксперимент" in ru["notes"][0]["text"]


@pytest.fixture
def seeded(ctx):
    """The demo maps in the database, as (row, domain journey) by language."""
    _, maps = seed_demo()
    return {m.language: (m, store.load_journey(m.id)) for m in maps}


@pytest.mark.parametrize("language", ["en", "ru"])
def test_baselines_are_what_the_map_measures(seeded, language):
    row, journey = seeded[language]
    edges = {t.key: t.id for t in journey.transitions}
    for e in DOCS[language]["experiments"]:
        measured = rules.conversion(journey, e["metric"], edges[e["transition"]], None)
        assert (measured.value, measured.n, measured.hits) == (
            e["baseline"],
            e["baseline_n"],
            e["baseline_hits"],
        ), e["key"]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_stepper_shows_steps_4_to_6_under_way(seeded, language):
    row, journey = seeded[language]
    states = step_states(journey, progress(journey, row.evidence_threshold))
    barriers, strategies, tests = states[3:]
    # Dot votes come from a workshop, not from the document.
    assert (barriers.state, barriers.missing) == ("started", ["barrier-votes"])
    assert (strategies.state, strategies.missing) == ("done", [])
    assert (tests.state, tests.missing) == ("done", [])
