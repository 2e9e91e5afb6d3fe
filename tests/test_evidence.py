"""Observations: the checked store functions, and the evidence table with its filters, pages,
add/edit/delete forms, 422/409 answers, viewer 403, undo and forged references."""

from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from cjm import evidence
from cjm.extensions import db
from cjm.journey import model as dm
from cjm.models import Channel, Deletion, Observation, Segment, Stage, Touchpoint
from tests.conftest import sign_in
from tests.factories import add_member, make_map, make_user, sample_journey


def part(model, journey_id: int, key: str):
    """The element of a map with this key."""
    return db.session.scalar(select(model).filter_by(journey_id=journey_id, key=key))


@pytest.fixture
def ids(journey):
    """Ids of the sample map's elements by key (the call-centre channel is "phone"), and two
    segments."""
    db.session.add_all(
        [
            Segment(journey_id=journey.id, key="new", name="New customers", position=0),
            Segment(journey_id=journey.id, key="b2b", name="B2B", position=1),
        ]
    )
    db.session.commit()
    found = {}
    for model in (Stage, Channel, Touchpoint, Segment):
        for row in db.session.scalars(select(model).filter_by(journey_id=journey.id)):
            # The call-centre channel and the "call" touchpoint share a key.
            found["phone" if model is Channel and row.key == "call" else row.key] = row.id
    return found


@pytest.fixture
def other_map(ctx):
    """Someone else's map with the same shape (its ids are the forged ones)."""
    stranger = make_user("stranger@example.com", "Stranger")
    row = make_map(stranger, sample_journey("Elsewhere"))
    db.session.add(Segment(journey_id=row.id, key="new", name="Theirs"))
    db.session.commit()
    return row


def observe(journey_id, commit=True, **fields):
    """Add one observation through the store function."""
    fields.setdefault("csat", 4)
    row = evidence.add_observation(journey_id, **fields)
    if commit:
        db.session.commit()
    return row


def count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Observation))


def soup(response):
    return BeautifulSoup(response.text, "html.parser")


def field_error(response, name: str) -> str:
    """The message next to a form field (see _macros.field)."""
    box = soup(response).find(attrs={"name": name}).find_parent(class_="field")
    assert "has-error" in box["class"], name
    return box.select_one(".error").text


# --- the store functions


def test_a_touchpoint_fills_stage_and_channel(journey, ids):
    row = observe(journey.id, touchpoint_id=ids["call"], segment_id=ids["new"], nps=9)
    assert (row.stage_id, row.channel_id) == (ids["buy"], ids["phone"])
    assert (row.csat, row.nps, row.source) == (4, 9, "survey")


def test_stage_or_channel_alone_is_enough(journey, ids):
    assert observe(journey.id, stage_id=ids["use"]).channel_id is None
    assert observe(journey.id, channel_id=ids["web"]).stage_id is None


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({}, {"touchpoint_id"}),
        ({"stage_id": "aware", "csat": 6}, {"csat"}),
        ({"stage_id": "aware", "csat": None, "nps": 11}, {"nps"}),
        ({"stage_id": "aware", "csat": None, "ces": 0}, {"ces"}),
        ({"stage_id": "aware", "csat": None}, {"verbatim"}),
        ({"stage_id": "aware", "verbatim": "x" * 5001}, {"verbatim"}),
        ({"stage_id": "aware", "source": "gossip"}, {"source"}),
        ({"stage_id": "aware", "observed_on": date.today() + timedelta(days=2)}, {"observed_on"}),
        ({"touchpoint_id": "cart", "stage_id": "use"}, {"stage_id"}),
        ({"touchpoint_id": "cart", "channel_id": "phone"}, {"channel_id"}),
    ],
)
def test_observation_values_refuses(journey, ids, fields, errors):
    fields = {k: ids[v] if k.endswith("_id") and v else v for k, v in fields.items()}
    fields.setdefault("csat", 3)
    with pytest.raises(dm.ValidationError) as caught:
        evidence.observation_values(journey.id, **fields)
    assert set(caught.value.field_errors) == errors


def test_tomorrow_is_still_fine(journey, ids):
    values = evidence.observation_values(
        journey.id, stage_id=ids["buy"], csat=5, observed_on=date.today() + timedelta(days=1)
    )
    assert values["observed_on"] == date.today() + timedelta(days=1)


@pytest.mark.parametrize("name", ["touchpoint_id", "stage_id", "channel_id", "segment_id"])
def test_references_of_another_map_are_refused(journey, ids, other_map, name):
    model = {"touchpoint_id": Touchpoint, "stage_id": Stage, "channel_id": Channel}
    model["segment_id"] = Segment
    key = {"touchpoint_id": "cart", "stage_id": "buy", "channel_id": "web", "segment_id": "new"}
    theirs = part(model[name], other_map.id, key[name]).id
    fields = {"touchpoint_id": ids["ad"], name: theirs}
    with pytest.raises(dm.ValidationError) as caught:
        evidence.observation_values(journey.id, csat=3, **fields)
    assert name in caught.value.field_errors


def test_deleted_elements_cannot_be_referenced(journey, ids):
    from cjm import store

    store.soft_delete([db.session.get(Stage, ids["use"])], journey.id, None, "stage")
    db.session.commit()
    with pytest.raises(dm.ValidationError) as caught:
        evidence.observation_values(journey.id, touchpoint_id=ids["paid"], csat=3)
    assert set(caught.value.field_errors) == {"touchpoint_id"}


def test_load_journey_does_not_load_evidence(journey, ids):
    from cjm import store

    observe(journey.id, touchpoint_id=ids["ad"])
    loaded = store.load_journey(journey.id)
    assert (loaded.segments, loaded.evidence) == ([], [])
    assert [s.key for s in evidence.load_segments(journey.id)] == ["new", "b2b"]
    (only,) = evidence.load_evidence(journey.id)
    assert (only.touchpoint, only.stage, only.channel, only.csat) == ("ad", "aware", "web", 4)


def test_sync_touchpoint_moves_its_observations(journey, ids):
    row = observe(journey.id, touchpoint_id=ids["cart"])
    tp = db.session.get(Touchpoint, ids["cart"])
    tp.stage_id, tp.channel_id = ids["use"], ids["phone"]
    evidence.sync_touchpoint(tp)
    db.session.commit()
    db.session.refresh(row)
    assert (row.stage_id, row.channel_id) == (ids["use"], ids["phone"])


# --- the table


def rows(response) -> list:
    return soup(response).select("table.ev-table tbody tr")


def test_table_shows_newest_first_with_names(owner_client, journey, ids):
    observe(journey.id, touchpoint_id=ids["cart"], observed_on=date(2025, 3, 1), verbatim="Old")
    observe(
        journey.id,
        stage_id=ids["use"],
        segment_id=ids["b2b"],
        observed_on=date(2025, 4, 1),
        nps=2,
        ces=6,
        source="mystery-shopper",
        respondent="Shopper 1",
        verbatim="x" * 400,
    )
    response = owner_client.get(f"/maps/{journey.id}/evidence")
    assert response.status_code == 200
    first, second = rows(response)
    cells = [td.get_text(" ", strip=True) for td in first.find_all("td")]
    assert cells[0] == "2025-04-01"
    assert cells[1] == "Mystery shopper Shopper 1"
    assert cells[2] == "Use · —"
    assert cells[3] == "B2B"
    assert [dt.text for dt in first.select(".ev-scores dt")] == ["CSAT", "NPS", "CES"]
    assert len(first.select_one(".ev-verbatim q").text) <= 140
    assert second.select_one(".ev-touchpoint").text == "Fills the cart"
    assert second.select_one(".ev-place .hint").text == "Purchase · Website"


def test_viewer_sees_the_table_without_edit_buttons(client, journey, ids):
    viewer = make_user("viewer@example.com", "Viewer")
    add_member(journey, viewer, "viewer")
    observe(journey.id, stage_id=ids["buy"])
    sign_in(client, viewer)
    page = soup(client.get(f"/maps/{journey.id}/evidence"))
    assert len(page.select("table.ev-table tbody tr")) == 1
    assert page.select(".ev-actions") == [] and page.find("a", string="Add an observation") is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/evidence/new"),
        ("post", "/evidence/new"),
        ("get", "/evidence/{id}/edit"),
        ("post", "/evidence/{id}/edit"),
        ("post", "/evidence/{id}/delete"),
    ],
)
def test_viewer_may_not_write(client, journey, ids, method, path):
    viewer = make_user("viewer@example.com", "Viewer")
    add_member(journey, viewer, "viewer")
    row = observe(journey.id, stage_id=ids["buy"])
    sign_in(client, viewer)
    url = f"/maps/{journey.id}" + path.format(id=row.id)
    response = getattr(client, method)(url, data={"csat": "1", "stage_id": str(ids["buy"])})
    assert response.status_code == 403
    assert count() == 1 and db.session.get(Observation, row.id).csat == 4


def test_non_member_gets_404(client, journey):
    sign_in(client, make_user("x@example.com", "X"))
    assert client.get(f"/maps/{journey.id}/evidence").status_code == 404


@pytest.fixture
def mixed(journey, ids):
    """Observations varied by source, segment, place and date."""
    spec = [
        ("survey", "new", {"touchpoint_id": ids["cart"]}, date(2025, 1, 10)),
        ("survey", "b2b", {"touchpoint_id": ids["call"]}, date(2025, 2, 10)),
        ("interview", "new", {"stage_id": ids["use"]}, date(2025, 3, 10)),
        ("market", None, {"channel_id": ids["phone"]}, date(2025, 4, 10)),
        ("mystery-shopper", "b2b", {"touchpoint_id": ids["ad"]}, date(2025, 5, 10)),
    ]
    made = []
    for source, segment, place, when in spec:
        made.append(
            observe(
                journey.id,
                commit=False,
                source=source,
                segment_id=ids[segment] if segment else None,
                observed_on=when,
                verbatim=f"{source} {when}",
                **place,
            )
        )
    db.session.commit()
    return made


def dates(response) -> list[str]:
    return [r.select_one(".ev-date").text for r in rows(response)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["2025-05-10", "2025-04-10", "2025-03-10", "2025-02-10", "2025-01-10"]),
        ("source=survey", ["2025-02-10", "2025-01-10"]),
        ("segment={new}", ["2025-03-10", "2025-01-10"]),
        ("stage={buy}", ["2025-02-10", "2025-01-10"]),
        ("channel={phone}", ["2025-04-10", "2025-02-10"]),
        ("start=2025-02-01&end=2025-04-10", ["2025-04-10", "2025-03-10", "2025-02-10"]),
        ("source=survey&segment={b2b}&channel={phone}", ["2025-02-10"]),
        ("source=market&segment={b2b}", []),
    ],
)
def test_filters(owner_client, journey, ids, mixed, query, expected):
    response = owner_client.get(f"/maps/{journey.id}/evidence?" + query.format(**ids))
    assert response.status_code == 200
    assert dates(response) == expected


def test_filter_form_is_a_real_get_form(owner_client, journey, ids, mixed):
    page = soup(owner_client.get(f"/maps/{journey.id}/evidence?segment={ids['new']}"))
    form = page.select_one("form.ev-filters")
    assert form["method"] == "get" and form["action"] == f"/maps/{journey.id}/evidence"
    assert {e["name"] for e in form.select("select, input")} == {
        "source", "segment", "stage", "channel", "start", "end",
    }  # fmt: skip
    assert form.find("select", {"name": "segment"}).find("option", selected=True).text == (
        "New customers"
    )
    assert [o.text for o in form.find("select", {"name": "stage"}).find_all("option")] == [
        "All", "Awareness", "Purchase", "Use",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("start=2025-02-30", "start"),
        ("stage=999999", "stage"),
        ("source=gossip", "source"),
        ("start=2025-05-01&end=2025-01-01", "end"),  # the valid start still applies
    ],
)
def test_bad_filters_are_shown_and_ignored(owner_client, journey, mixed, query, name):
    response = owner_client.get(f"/maps/{journey.id}/evidence?{query}")
    assert response.status_code == 422
    assert field_error(response, name)
    assert len(rows(response)) == (1 if "start=2025-05-01" in query else 5)


def test_another_maps_stage_is_not_a_filter(owner_client, journey, mixed, other_map):
    theirs = part(Stage, other_map.id, "buy").id
    response = owner_client.get(f"/maps/{journey.id}/evidence?stage={theirs}")
    assert response.status_code == 422 and len(rows(response)) == 5


def test_pagination_keeps_the_filters(owner_client, journey, ids):
    for i in range(120):
        observe(
            journey.id,
            commit=False,
            source="survey" if i % 2 else "market",
            stage_id=ids["buy"],
            observed_on=date(2025, 1, 1) + timedelta(days=i),
        )
    observe(journey.id, stage_id=ids["use"], source="survey")
    first = owner_client.get(f"/maps/{journey.id}/evidence?source=survey")
    assert len(rows(first)) == 50
    page = soup(first)
    assert page.select_one("h2 .count").text == "(61)"
    assert page.select_one(".pager span").text == "Page 1 of 2"
    link = page.select_one(".pager a[rel=next]")["href"]
    assert link == f"/maps/{journey.id}/evidence?page=2&source=survey"
    second = owner_client.get(link)
    assert len(rows(second)) == 11
    assert dates(second)[-2:] == ["2025-01-02", "—"]  # undated last
    assert owner_client.get(f"/maps/{journey.id}/evidence?page=9").status_code == 404


# --- add


def form_data(ids, **overrides) -> dict:
    data = {
        "touchpoint_id": str(ids["cart"]),
        "stage_id": "",
        "channel_id": "",
        "segment_id": str(ids["new"]),
        "source": "survey",
        "observed_on": "2025-03-01",
        "respondent": "R-17",
        "csat": "2",
        "nps": "",
        "ces": "5",
        "verbatim": "  Too many fields  ",
    }
    return data | overrides


def test_add_form_page(owner_client, journey, ids):
    page = soup(owner_client.get(f"/maps/{journey.id}/evidence/new?touchpoint_id={ids['call']}"))
    form = page.find("form", action=f"/maps/{journey.id}/evidence/new")
    assert form["method"] == "post"
    touchpoint = form.find("select", {"name": "touchpoint_id"})
    assert touchpoint.find("option", selected=True).text == "Purchase · Calls to ask"
    assert [o.text for o in form.find("select", {"name": "source"}).find_all("option")] == [
        "Mystery shopper", "Survey", "Sales-manager interview", "Web analytics", "Market analysis",
    ]  # fmt: skip
    when = form.find("input", {"name": "observed_on"})
    assert when["type"] == "date" and when["value"] == date.today().isoformat()
    assert when["max"] == (date.today() + timedelta(days=1)).isoformat()
    csat = form.find("input", {"name": "csat"})
    assert (csat["type"], csat["min"], csat["max"]) == ("number", "1", "5")


def test_add_an_observation(owner_client, journey, ids):
    response = owner_client.post(f"/maps/{journey.id}/evidence/new", data=form_data(ids))
    assert response.status_code == 303
    row = db.session.scalar(select(Observation))
    assert response.headers["Location"] == f"/maps/{journey.id}/evidence#observation-{row.id}"
    assert (row.touchpoint_id, row.stage_id, row.channel_id) == (
        ids["cart"],
        ids["buy"],
        ids["web"],
    )
    assert (row.segment_id, row.source, row.observed_on) == (ids["new"], "survey", date(2025, 3, 1))
    assert (row.csat, row.nps, row.ces, row.verbatim, row.respondent) == (
        2,
        None,
        5,
        "Too many fields",
        "R-17",
    )


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        ({"touchpoint_id": ""}, "touchpoint_id"),
        ({"csat": "", "ces": "", "verbatim": ""}, "verbatim"),
        ({"csat": "6"}, "csat"),
        ({"nps": "11"}, "nps"),
        ({"ces": "0"}, "ces"),
        ({"csat": "four"}, "csat"),
        ({"observed_on": "2025-02-30"}, "observed_on"),
        ({"observed_on": ""}, "observed_on"),
        ({"observed_on": (date.today() + timedelta(days=3)).isoformat()}, "observed_on"),
        ({"verbatim": "x" * 5001}, "verbatim"),
        ({"source": "gossip"}, "source"),
        ({"stage_id": "{use}"}, "stage_id"),
    ],
)
def test_add_refuses_with_422_next_to_the_field(owner_client, journey, ids, overrides, name):
    data = form_data(ids, **{k: v.format(**ids) for k, v in overrides.items()})
    response = owner_client.post(f"/maps/{journey.id}/evidence/new", data=data)
    assert response.status_code == 422
    assert field_error(response, name)
    assert count() == 0


def test_stage_and_channel_without_touchpoint(owner_client, journey, ids):
    data = form_data(ids, touchpoint_id="", stage_id=str(ids["use"]), channel_id=str(ids["phone"]))
    assert owner_client.post(f"/maps/{journey.id}/evidence/new", data=data).status_code == 303
    row = db.session.scalar(select(Observation))
    assert (row.touchpoint_id, row.stage_id, row.channel_id) == (None, ids["use"], ids["phone"])


@pytest.mark.parametrize(
    ("name", "model", "key"),
    [
        ("touchpoint_id", Touchpoint, "cart"),
        ("stage_id", Stage, "buy"),
        ("channel_id", Channel, "web"),
        ("segment_id", Segment, "new"),
    ],
)
def test_forged_ids_from_another_map_are_never_written(
    owner_client, journey, ids, other_map, name, model, key
):
    theirs = part(model, other_map.id, key).id
    data = form_data(ids, touchpoint_id="", stage_id=str(ids["buy"])) | {name: str(theirs)}
    response = owner_client.post(f"/maps/{journey.id}/evidence/new", data=data)
    assert response.status_code == 422
    assert field_error(response, name)
    assert count() == 0


# --- edit


@pytest.fixture
def saved(journey, ids):
    return observe(journey.id, touchpoint_id=ids["cart"], segment_id=ids["new"], verbatim="Hm")


def test_edit_page_shows_the_saved_values(owner_client, journey, ids, saved):
    page = soup(owner_client.get(f"/maps/{journey.id}/evidence/{saved.id}/edit"))
    form = page.find("form", action=f"/maps/{journey.id}/evidence/{saved.id}/edit")
    assert form.find("input", {"name": "version"})["value"] == "1"
    assert form.find("select", {"name": "touchpoint_id"}).find("option", selected=True)[
        "value"
    ] == (str(ids["cart"]))
    # The touchpoint fixes stage and channel; the form shows only what was entered.
    assert form.find("select", {"name": "stage_id"}).find("option", selected=True)["value"] == ""
    assert form.find("textarea", {"name": "verbatim"}).text.strip() == "Hm"


def test_edit_saves_and_bumps_the_version(owner_client, journey, ids, saved):
    data = form_data(ids, touchpoint_id="", channel_id=str(ids["phone"]), version="1")
    response = owner_client.post(f"/maps/{journey.id}/evidence/{saved.id}/edit", data=data)
    assert response.status_code == 303
    row = db.session.get(Observation, saved.id)
    assert (row.touchpoint_id, row.stage_id, row.channel_id, row.version) == (
        None,
        None,
        ids["phone"],
        2,
    )


def test_stale_edit_answers_409_and_keeps_the_newer_row(owner_client, journey, ids, saved):
    saved.verbatim = "Newer text"
    db.session.commit()  # version 2 now
    data = form_data(ids, verbatim="Mine", version="1")
    response = owner_client.post(f"/maps/{journey.id}/evidence/{saved.id}/edit", data=data)
    assert response.status_code == 409
    page = soup(response)
    assert page.select_one(".stale")
    assert page.find("textarea", {"name": "verbatim"}).text.strip() == "Newer text"
    assert page.find("input", {"name": "version"})["value"] == "2"
    assert db.session.get(Observation, saved.id).verbatim == "Newer text"


def test_edit_with_a_forged_touchpoint_is_refused(owner_client, journey, ids, saved, other_map):
    theirs = part(Touchpoint, other_map.id, "paid").id
    data = form_data(ids, touchpoint_id=str(theirs), version="1")
    response = owner_client.post(f"/maps/{journey.id}/evidence/{saved.id}/edit", data=data)
    assert response.status_code == 422
    assert db.session.get(Observation, saved.id).touchpoint_id == ids["cart"]


def test_another_maps_observation_is_404(owner_client, journey, other_map):
    theirs = observe(other_map.id, stage_id=part(Stage, other_map.id, "buy").id)
    assert owner_client.get(f"/maps/{journey.id}/evidence/{theirs.id}/edit").status_code == 404
    response = owner_client.post(f"/maps/{journey.id}/evidence/{theirs.id}/delete")
    assert response.status_code == 404
    assert db.session.get(Observation, theirs.id).deletion_id is None


HTMX = {"HX-Request": "true"}


def test_htmx_edit_in_the_table_row(owner_client, journey, ids, saved):
    url = f"/maps/{journey.id}/evidence/{saved.id}/edit"
    editor = soup(owner_client.get(url, headers=HTMX))
    (row,) = editor.find_all("tr", recursive=False)
    assert row["id"] == f"observation-{saved.id}" and "editing" in row["class"]
    assert row.find("form")["hx-post"] == url
    data = form_data(ids, csat="9", version="1")
    refused = owner_client.post(url, data=data, headers=HTMX)
    assert refused.status_code == 422
    assert soup(refused).find("tr")["id"] == f"observation-{saved.id}"
    done = owner_client.post(url, data=form_data(ids, csat="5", version="1"), headers=HTMX)
    assert done.status_code == 200
    (row,) = soup(done).find_all("tr", recursive=False)
    assert "editing" not in row["class"] and row.select_one(".ev-scores dd").text == "5"
    cancel = owner_client.get(f"/maps/{journey.id}/evidence/{saved.id}", headers=HTMX)
    assert soup(cancel).find("tr")["id"] == f"observation-{saved.id}"
    assert owner_client.get(f"/maps/{journey.id}/evidence/{saved.id}").status_code == 303


# --- delete and undo


def test_delete_and_undo(owner_client, journey, ids, saved):
    response = owner_client.post(f"/maps/{journey.id}/evidence/{saved.id}/delete")
    assert response.status_code == 303
    page = soup(owner_client.get(response.headers["Location"]))
    assert rows_of(page) == []
    undo = page.select_one(".notice.undo form")
    deletion = db.session.scalar(select(Deletion))
    assert undo["action"] == f"/maps/{journey.id}/undo/{deletion.id}"
    assert undo.find("input", {"name": "next"})["value"] == f"/maps/{journey.id}/evidence"
    back = owner_client.post(undo["action"], data={"next": f"/maps/{journey.id}/evidence"})
    assert back.headers["Location"] == f"/maps/{journey.id}/evidence"
    assert len(rows_of(soup(owner_client.get(back.headers["Location"])))) == 1


def rows_of(page) -> list:
    return page.select("table.ev-table tbody tr")


def test_htmx_delete_sends_the_undo_notice(owner_client, journey, saved):
    response = owner_client.post(f"/maps/{journey.id}/evidence/{saved.id}/delete", headers=HTMX)
    assert response.status_code == 200
    partial = soup(response).find("hx-partial")
    assert partial["hx-target"] == "#notices"
    assert partial.select_one(".notice.undo form")["action"].startswith(f"/maps/{journey.id}/undo/")


def test_observations_on_deleted_parts_drop_out_and_come_back(owner_client, journey, ids):
    from cjm import store

    observe(journey.id, touchpoint_id=ids["paid"])
    observe(journey.id, stage_id=ids["buy"], segment_id=ids["b2b"])
    observe(journey.id, channel_id=ids["phone"])
    url = f"/maps/{journey.id}/evidence"
    deletion = store.soft_delete([db.session.get(Stage, ids["use"])], journey.id, None, "stage")
    store.soft_delete([db.session.get(Segment, ids["b2b"])], journey.id, None, "segment")
    db.session.commit()
    assert len(rows(owner_client.get(url))) == 1
    store.restore(deletion)
    db.session.commit()
    assert len(rows(owner_client.get(url))) == 2


def test_the_store_offers_the_same_functions(journey, ids):
    from cjm import store

    values = store.observation_values(journey.id, touchpoint_id=ids["ad"], csat=5)
    assert values == evidence.observation_values(journey.id, touchpoint_id=ids["ad"], csat=5)
    row = store.add_observation(journey.id, stage_id=ids["use"], verbatim="Fine")
    db.session.commit()
    assert db.session.get(Observation, row.id).stage_id == ids["use"]
