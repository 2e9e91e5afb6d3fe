"""Sales-manager interviews: list, add, edit; quotes as observations (source "interview",
tagged to a touchpoint or stage/channel and a segment) added, edited (409 when stale), deleted
with undo; forged references refused; viewers read only."""

from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from cjm.extensions import db
from cjm.models import Interview, Observation, Segment, Stage, Touchpoint
from tests.conftest import sign_in
from tests.factories import add_member, make_map, make_user, sample_journey


def soup(response):
    return BeautifulSoup(response.text, "html.parser")


def key_id(model, journey_id: int, key: str) -> int:
    return db.session.scalar(select(model.id).filter_by(journey_id=journey_id, key=key))


@pytest.fixture
def segment(journey):
    row = Segment(journey_id=journey.id, key="new", name="New customers")
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def interview(journey):
    row = Interview(journey_id=journey.id, manager="Irina", held_on=date(2025, 4, 10), notes="Busy")
    db.session.add(row)
    db.session.commit()
    return row


def base(journey, interview=None) -> str:
    tail = f"/{interview.id}" if interview else ""
    return f"/maps/{journey.id}/interviews{tail}"


def quote_data(journey, segment, **overrides) -> dict:
    data = {
        "new-quote-verbatim": "Customers hate the delivery fee",
        "new-quote-touchpoint_id": str(key_id(Touchpoint, journey.id, "cart")),
        "new-quote-stage_id": "",
        "new-quote-channel_id": "",
        "new-quote-segment_id": str(segment.id),
    }
    return data | {f"new-quote-{k}": v for k, v in overrides.items()}


def test_add_an_interview(owner_client, journey):
    page = soup(owner_client.get(base(journey)))
    form = page.find("form", action=f"/maps/{journey.id}/interviews/add")
    assert form["method"] == "post" and form.find("input", {"name": "held_on"})["type"] == "date"
    data = {"manager": "Oleg", "held_on": "2025-04-17", "notes": "Talked about refunds"}
    response = owner_client.post(f"/maps/{journey.id}/interviews/add", data=data)
    assert response.status_code == 303
    row = db.session.scalar(select(Interview))
    assert response.headers["Location"] == base(journey, row)
    assert (row.manager, row.held_on, row.notes) == (
        "Oleg",
        date(2025, 4, 17),
        "Talked about refunds",
    )


@pytest.mark.parametrize(
    ("data", "name"),
    [
        ({"manager": "", "held_on": "2025-04-17"}, "manager"),
        ({"manager": "Oleg", "held_on": "2025-02-30"}, "held_on"),
        ({"manager": "Oleg", "held_on": (date.today() + timedelta(days=5)).isoformat()}, "held_on"),
    ],
)
def test_bad_interview_is_422(owner_client, journey, data, name):
    response = owner_client.post(f"/maps/{journey.id}/interviews/add", data=data)
    assert response.status_code == 422
    box = soup(response).find(attrs={"name": name}).find_parent(class_="field")
    assert "has-error" in box["class"]
    assert db.session.scalar(select(func.count()).select_from(Interview)) == 0


def test_list_newest_first_with_quote_counts(owner_client, journey, interview, segment):
    older = Interview(journey_id=journey.id, manager="Oleg", held_on=date(2025, 1, 5))
    db.session.add(older)
    db.session.commit()
    owner_client.post(base(journey, interview) + "/quotes", data=quote_data(journey, segment))
    page = soup(owner_client.get(base(journey)))
    items = page.select(".ev-interview-list li")
    assert [li.find("strong").text for li in items] == ["Irina", "Oleg"]
    assert items[0].select_one(".hint").text == "1 quote"


def test_add_a_quote(owner_client, journey, interview, segment):
    response = owner_client.post(
        base(journey, interview) + "/quotes", data=quote_data(journey, segment)
    )
    assert response.status_code == 303
    quote = db.session.scalar(select(Observation))
    assert response.headers["Location"] == base(journey, interview) + f"#quote-{quote.id}"
    assert (quote.source, quote.interview_id, quote.segment_id) == (
        "interview",
        interview.id,
        segment.id,
    )
    assert (quote.observed_on, quote.respondent) == (date(2025, 4, 10), "Irina")
    assert (quote.stage_id, quote.channel_id) == (
        key_id(Stage, journey.id, "buy"),
        db.session.get(Touchpoint, quote.touchpoint_id).channel_id,
    )
    page = soup(owner_client.get(base(journey, interview)))
    shown = page.select_one(f"#quote-{quote.id}")
    assert shown.find("blockquote").text == "Customers hate the delivery fee"
    assert "New customers" in shown.select_one(".hint").get_text()
    # Quotes are evidence: they show in the observations table, linked to their interview.
    table = soup(owner_client.get(f"/maps/{journey.id}/evidence"))
    assert table.select_one(f"#observation-{quote.id} .ev-actions a")["href"].startswith(
        base(journey, interview)
    )


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        ({"verbatim": ""}, "new-quote-verbatim"),
        ({"touchpoint_id": ""}, "new-quote-touchpoint_id"),
        ({"verbatim": "x" * 5001}, "new-quote-verbatim"),
    ],
)
def test_bad_quote_is_422(owner_client, journey, interview, segment, overrides, name):
    response = owner_client.post(
        base(journey, interview) + "/quotes", data=quote_data(journey, segment, **overrides)
    )
    assert response.status_code == 422
    box = soup(response).find(attrs={"name": name}).find_parent(class_="field")
    assert "has-error" in box["class"]
    assert db.session.scalar(select(Observation)) is None


def test_forged_touchpoint_for_a_quote_is_refused(owner_client, journey, interview, segment):
    theirs = make_map(make_user("s@example.com", "S"), sample_journey("Theirs"))
    forged = key_id(Touchpoint, theirs.id, "cart")
    data = quote_data(journey, segment, touchpoint_id=str(forged))
    response = owner_client.post(base(journey, interview) + "/quotes", data=data)
    assert response.status_code == 422
    assert db.session.scalar(select(Observation)) is None


@pytest.fixture
def quote(owner_client, journey, interview, segment):
    owner_client.post(base(journey, interview) + "/quotes", data=quote_data(journey, segment))
    return db.session.scalar(select(Observation))


def test_edit_a_quote_to_a_stage_only(owner_client, journey, interview, quote):
    url = base(journey, interview) + f"/quotes/{quote.id}/edit"
    form = soup(owner_client.get(url)).find("form", action=url)
    assert (
        form.find("textarea", {"name": "verbatim"}).text.strip()
        == "Customers hate the delivery fee"
    )
    use = key_id(Stage, journey.id, "use")
    data = {
        "verbatim": "Refunds are slow",
        "touchpoint_id": "",
        "stage_id": str(use),
        "channel_id": "",
        "segment_id": "",
        "version": "1",
    }
    assert owner_client.post(url, data=data).status_code == 303
    db.session.refresh(quote)
    assert (quote.verbatim, quote.touchpoint_id, quote.stage_id, quote.segment_id) == (
        "Refunds are slow",
        None,
        use,
        None,
    )
    assert quote.source == "interview" and quote.interview_id == interview.id


def test_stale_quote_edit_is_409(owner_client, journey, interview, quote):
    quote.verbatim = "Newer"
    db.session.commit()
    url = base(journey, interview) + f"/quotes/{quote.id}/edit"
    data = {"verbatim": "Mine", "touchpoint_id": str(quote.touchpoint_id), "version": "1"}
    response = owner_client.post(url, data=data)
    assert response.status_code == 409
    assert soup(response).find("textarea", {"name": "verbatim"}).text.strip() == "Newer"
    assert db.session.get(Observation, quote.id).verbatim == "Newer"


def test_the_general_editor_sends_quotes_to_their_interview(
    owner_client, journey, interview, quote
):
    response = owner_client.get(f"/maps/{journey.id}/evidence/{quote.id}/edit")
    assert response.status_code == 303
    assert response.headers["Location"] == base(journey, interview) + f"/quotes/{quote.id}/edit"


def test_delete_a_quote_and_undo(owner_client, journey, interview, quote):
    response = owner_client.post(base(journey, interview) + f"/quotes/{quote.id}/delete")
    assert response.status_code == 303
    page = soup(owner_client.get(base(journey, interview)))
    assert page.select(".ev-quote") == []
    undo = page.select_one(".notice.undo form")
    owner_client.post(undo["action"], data={"next": base(journey, interview)})
    assert len(soup(owner_client.get(base(journey, interview))).select(".ev-quote")) == 1


def test_editing_the_interview_moves_its_quotes_date(owner_client, journey, interview, quote):
    url = base(journey, interview) + "/edit"
    assert soup(owner_client.get(url)).find("input", {"name": "manager"})["value"] == "Irina"
    data = {"manager": "Irina K.", "held_on": "2025-04-11", "notes": ""}
    assert owner_client.post(url, data=data).status_code == 303
    db.session.refresh(quote)
    assert (quote.observed_on, quote.respondent) == (date(2025, 4, 11), "Irina K.")


def test_quote_of_another_interview_is_404(owner_client, journey, interview, quote):
    other = Interview(journey_id=journey.id, manager="Oleg", held_on=date(2025, 1, 5))
    db.session.add(other)
    db.session.commit()
    assert owner_client.get(base(journey, other) + f"/quotes/{quote.id}/edit").status_code == 404


def test_another_maps_interview_is_404(owner_client, journey):
    theirs = make_map(make_user("s@example.com", "S"), sample_journey("Theirs"))
    row = Interview(journey_id=theirs.id, manager="Them", held_on=date(2025, 1, 1))
    db.session.add(row)
    db.session.commit()
    assert owner_client.get(base(journey, row)).status_code == 404


def test_viewer_reads_but_may_not_write(client, journey, interview, quote):
    viewer = make_user("viewer@example.com", "Viewer")
    add_member(journey, viewer, "viewer")
    sign_in(client, viewer)
    page = soup(client.get(base(journey, interview)))
    assert len(page.select(".ev-quote")) == 1 and page.find(id="new-quote") is None
    assert page.select(".ev-quote-actions") == []
    assert (
        soup(client.get(base(journey))).find("form", action=f"/maps/{journey.id}/interviews/add")
        is None
    )
    posts = [
        (f"/maps/{journey.id}/interviews/add", {"manager": "X", "held_on": "2025-01-01"}),
        (base(journey, interview) + "/edit", {"manager": "X", "held_on": "2025-01-01"}),
        (base(journey, interview) + "/quotes", {"new-quote-verbatim": "X"}),
        (base(journey, interview) + f"/quotes/{quote.id}/edit", {"verbatim": "X"}),
        (base(journey, interview) + f"/quotes/{quote.id}/delete", {}),
    ]
    for url, data in posts:
        assert client.post(url, data=data).status_code == 403, url
    assert db.session.get(Observation, quote.id).deletion_id is None
