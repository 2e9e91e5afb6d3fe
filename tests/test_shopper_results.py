"""Mystery-shopper results per touchpoint and per channel: % yes, mean scores and numbers, each
with n, pinned on hand-computed examples; only live submitted visits count; SQL does the sums."""

from datetime import date

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import event, select

from cjm.extensions import db
from cjm.models import Deletion, Image, Segment, Touchpoint, Visit, VisitAnswer, VisitPhoto
from tests.conftest import sign_in
from tests.factories import add_member, make_map, make_user, sample_journey
from tests.test_shopper_checklists import make_checklist

ITEMS = (
    ("Greeted?", "yes-no"),
    ("Friendliness", "scale-5"),
    ("Waiting, minutes", "number"),
    ("Remarks", "text"),
)


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


@pytest.fixture
def checklist(journey):
    return make_checklist(journey, items=ITEMS)


def tp(journey, key: str) -> Touchpoint:
    return db.session.scalar(select(Touchpoint).filter_by(journey_id=journey.id, key=key))


def make_visit(journey, checklist, key, answers, status="submitted", day=14, **fields) -> Visit:
    """A visit at touchpoint `key` (or none) with answers in item order (None = unanswered)."""
    touchpoint = tp(journey, key) if key else None
    visit = Visit(
        journey_id=journey.id,
        checklist_id=checklist.id,
        visited_on=date(2025, 3, day),
        touchpoint_id=touchpoint.id if touchpoint else None,
        channel_id=touchpoint.channel_id if touchpoint else fields.pop("channel_id", None),
        status=status,
        **fields,
    )
    db.session.add(visit)
    db.session.flush()
    for item, value in zip(checklist.items, answers, strict=True):
        if value is None:
            continue
        answer = VisitAnswer(visit_id=visit.id, item_id=item.id)
        if item.kind == "yes-no":
            answer.yes = value
        elif item.kind == "text":
            answer.text = value
        else:
            answer.number = value
        db.session.add(answer)
    db.session.commit()
    return visit


@pytest.fixture
def visits(journey, checklist):
    """Three submitted visits at "Calls to ask", one at "Sees an ad", two that must not count."""
    make_visit(journey, checklist, "call", [True, 4, 10, "Slow line"], day=1, notes="Queue")
    make_visit(journey, checklist, "call", [True, 5, None, ""], day=2)
    make_visit(journey, checklist, "call", [False, 3, 5, "Rude"], day=3, notes="Hung up")
    make_visit(journey, checklist, "ad", [True, 2, 1, None], day=4)
    make_visit(journey, checklist, "call", [False, 1, 99, "draft"], status="draft")
    gone = make_visit(journey, checklist, "call", [False, 1, 99, "deleted"])
    deletion = Deletion(journey_id=journey.id, label="gone")
    db.session.add(deletion)
    db.session.flush()
    gone.deletion_id = deletion.id
    db.session.commit()


def results(client, journey, **args):
    return client.get(f"/maps/{journey.id}/shopper/results", query_string=args)


def table(section) -> dict[str, tuple[str, str]]:
    """{question: (result text, n)} of a results section."""
    rows = {}
    for tr in section.select("tbody tr"):
        cells = tr.select("td")
        value = cells[0].select_one(".value")
        n = cells[1].text.strip() if len(cells) > 1 else ""
        rows[tr.th.text.strip()] = (value.text.strip() if value else cells[0].text.strip(), n)
    return rows


def group(page, journey, key=None, channel=None):
    gid = tp(journey, key).id if key else channel
    return page.select_one(f"#group-{gid}")


def test_per_touchpoint_hand_computed(owner_client, journey, checklist, visits):
    page = soup(results(owner_client, journey, checklist=checklist.id))
    call = group(page, journey, "call")
    assert call.select_one("h3 .count").text == "3 visits"
    rows = table(call)
    assert rows["Greeted?"] == ("67 % yes", "3")  # yes, yes, no
    assert rows["Friendliness"] == ("mean 4.0 of 5", "3")  # (4 + 5 + 3) / 3
    assert rows["Waiting, minutes"] == ("mean 7.5", "2")  # (10 + 5) / 2, one unanswered
    remarks = [q.text for q in call.select("tr:-soup-contains('Remarks') q")]
    assert remarks == ["Rude", "Slow line"]  # newest first, drafts and deleted visits left out
    assert [q.text for q in call.select(".notes q")] == ["Hung up", "Queue"]
    ad = table(group(page, journey, "ad"))
    assert ad["Greeted?"] == ("100 % yes", "1")
    assert ad["Friendliness"] == ("mean 2.0 of 5", "1")
    overall = table(page.select_one("#group-all"))
    assert overall["Greeted?"] == ("75 % yes", "4")  # 3 of 4
    assert overall["Friendliness"] == ("mean 3.5 of 5", "4")  # 14 / 4
    assert overall["Waiting, minutes"] == ("mean 5.3", "3")  # 16 / 3
    # Groups in board order; touchpoints without visits are left out.
    assert [s["id"] for s in page.select("section.result-group")] == [
        "group-all",
        f"group-{tp(journey, 'ad').id}",
        f"group-{tp(journey, 'call').id}",
    ]


def test_per_channel(owner_client, journey, checklist, visits):
    call_channel = tp(journey, "call").channel_id
    web = tp(journey, "ad").channel_id
    # A visit with a channel only counts for the channel, and as "no touchpoint" per touchpoint.
    make_visit(journey, checklist, None, [False, 5, None, None], channel_id=web)
    page = soup(results(owner_client, journey, checklist=checklist.id, by="channel"))
    assert table(group(page, journey, channel=call_channel))["Greeted?"] == ("67 % yes", "3")
    assert table(group(page, journey, channel=web))["Greeted?"] == ("50 % yes", "2")
    assert table(group(page, journey, channel=web))["Friendliness"] == ("mean 3.5 of 5", "2")
    page = soup(results(owner_client, journey, checklist=checklist.id))
    other = page.select_one("#group--1")
    assert other.h3.contents[0].strip() == "No touchpoint"
    assert table(other)["Greeted?"] == ("0 % yes", "1")


def test_segment_filter(owner_client, journey, checklist):
    segment = Segment(journey_id=journey.id, key="new", name="New customers")
    db.session.add(segment)
    db.session.commit()
    make_visit(journey, checklist, "call", [True, 5, None, None], segment_id=segment.id)
    make_visit(journey, checklist, "call", [False, 1, None, None])
    page = soup(results(owner_client, journey, checklist=checklist.id, segment=segment.id))
    assert table(group(page, journey, "call"))["Greeted?"] == ("100 % yes", "1")
    page = soup(results(owner_client, journey, checklist=checklist.id))
    assert table(group(page, journey, "call"))["Greeted?"] == ("50 % yes", "2")


def test_photos_gallery_per_touchpoint(owner_client, journey, checklist):
    visit = make_visit(journey, checklist, "call", [True, 5, None, None])
    image = Image(journey_id=journey.id, content_type="image/png", data=b"x", width=1, height=1)
    db.session.add(image)
    db.session.flush()
    db.session.add(VisitPhoto(visit_id=visit.id, image_id=image.id))
    db.session.commit()
    page = soup(results(owner_client, journey))
    imgs = group(page, journey, "call").select(".gallery img")
    assert [i["src"] for i in imgs] == [f"/maps/{journey.id}/images/{image.id}"]
    assert imgs[0]["alt"]


def test_tables_are_accessible(owner_client, journey, checklist, visits):
    page = soup(results(owner_client, journey))
    for t in page.select("table.results-table"):
        assert t.caption is not None
        assert [th["scope"] for th in t.thead.select("th")] == ["col", "col", "col"]
        assert all(tr.th["scope"] == "row" for tr in t.tbody.select("tr"))


def test_no_visits_yet(owner_client, journey, checklist):
    page = soup(results(owner_client, journey))
    assert page.select("section.result-group") == []
    assert page.select_one(".results-page .empty") is not None


def test_viewer_sees_results(app, journey, checklist, visits):
    viewer = make_user("viewer@example.com", "Vera")
    add_member(journey, viewer, "viewer")
    client = app.test_client()
    sign_in(client, viewer)
    page = soup(results(client, journey))
    assert table(group(page, journey, "call"))["Greeted?"] == ("67 % yes", "3")


def test_checklist_of_another_map_is_404(owner_client, owner, journey, checklist):
    other = make_checklist(make_map(owner, sample_journey("Other")), name="Foreign")
    assert results(owner_client, journey, checklist=other.id).status_code == 404


def test_figures_come_from_sql_not_from_loading_answers(app, owner_client, journey, checklist):
    """The number of queries does not grow with the number of visits."""
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    def queries() -> int:
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert results(owner_client, journey).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    make_visit(journey, checklist, "call", [True, 4, 3, "a"])
    few = queries()
    assert any("GROUP BY" in s and "avg(" in s.lower() for s in statements)
    for day in range(1, 21):
        make_visit(journey, checklist, "call", [day % 2 == 0, 3, day, "b"], day=day)
    assert queries() == few
