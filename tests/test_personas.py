"""Step 1, personas: cards, create / edit / delete with undo, one primary persona, 409 and 422."""

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from cjm.extensions import db
from cjm.journey import model as dm
from cjm.models import Persona
from tests.conftest import sign_in
from tests.factories import add_member, make_map, make_user, sample_journey

HX = {"HX-Request": "true"}


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def personas(journey_id: int, live_only: bool = True) -> list[Persona]:
    """The map's persona rows, fresh from the database, in id order."""
    db.session.expire_all()
    query = select(Persona).filter_by(journey_id=journey_id).order_by(Persona.id)
    if live_only:
        query = query.where(Persona.deletion_id.is_(None))
    return list(db.session.scalars(query))


def form_data(**overrides) -> dict:
    """A valid persona form; overrides replace or add fields."""
    data = {
        "name": "Boris Buyer",
        "age": "41",
        "occupation": "Engineer",
        "quote": "I want it today",
        "goals": "Get a kettle",
        "needs": "Fast delivery",
        "expectations": "Clear price",
        "frustrations": "Calls nobody answers",
        "behaviour": "Compares three shops",
        "segment": "B2C",
        "lifecycle": "developing",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def anna(journey) -> Persona:
    """The sample map's one (primary) persona."""
    return personas(journey.id)[0]


@pytest.fixture
def viewer_client(client, journey):
    viewer = make_user("viewer@example.com", "Vera Viewer")
    add_member(journey, viewer, "viewer")
    sign_in(client, viewer)
    return client


def test_index_shows_cards_with_header(owner_client, journey):
    page = soup(owner_client.get(f"/maps/{journey.id}/personas"))
    assert page.select_one(".map-head h1").text == "Online shop"
    cards = page.select("#persona-list > article.persona-card")
    assert [c.select_one(".persona-name").text for c in cards] == ["Anna"]
    card = cards[0]
    assert card.select_one(".primary-badge") is not None
    assert card.select_one(".avatar.initials").text == "A"
    assert card.select_one(".age").text == "34 years"
    assert page.select_one("form#persona-new")["enctype"] == "multipart/form-data"
    assert card.select_one(".persona-actions a")["href"].endswith("/edit")


def test_create_without_js_redirects_and_shows_the_card(owner_client, journey):
    response = owner_client.post(f"/maps/{journey.id}/personas/new", data=form_data())
    assert response.status_code == 303
    assert response.headers["Location"] == f"/maps/{journey.id}/personas"
    boris = personas(journey.id)[-1]
    assert (boris.key, boris.age, boris.lifecycle, boris.is_primary) == (
        "boris-buyer",
        41,
        "developing",
        False,
    )
    assert boris.position > personas(journey.id)[0].position
    page = soup(owner_client.get(f"/maps/{journey.id}/personas"))
    card = page.select_one(f"#persona-{boris.id}")
    assert card.select_one(".quote").text == "I want it today"
    assert card.select_one(".segment").text == "B2C"
    assert card.select_one(".lifecycle").text == "Developing"
    assert card.select_one(".occupation").text == "Engineer"
    assert card.select_one(".frustrations").text == "Calls nobody answers"
    assert "Boris Buyer" in page.select_one("#notices").text


def test_same_name_gets_a_new_key(owner_client, journey):
    for _ in range(2):
        owner_client.post(f"/maps/{journey.id}/personas/new", data=form_data(name="Anna"))
    assert [p.key for p in personas(journey.id)] == ["anna", "anna-2", "anna-3"]


def test_first_persona_becomes_primary(owner_client, owner):
    empty = make_map(owner, dm.Journey(title="Empty"))
    owner_client.post(f"/maps/{empty.id}/personas/new", data=form_data())
    owner_client.post(f"/maps/{empty.id}/personas/new", data=form_data(name="Second"))
    assert [p.is_primary for p in personas(empty.id)] == [True, False]


def test_making_one_primary_clears_the_others(owner_client, journey, anna):
    owner_client.post(f"/maps/{journey.id}/personas/new", data=form_data(primary="y"))
    rows = personas(journey.id)
    assert [p.is_primary for p in rows] == [False, True]
    # And back: editing Anna into the primary one clears Boris.
    edit = form_data(name="Anna", primary="y", version=str(rows[0].version))
    response = owner_client.post(f"/maps/{journey.id}/personas/{anna.id}/edit", data=edit)
    assert response.status_code == 303
    assert [p.is_primary for p in personas(journey.id)] == [True, False]


def test_hidden_primary_loses_the_flag_too(owner_client, journey, anna):
    owner_client.post(f"/maps/{journey.id}/personas/{anna.id}/delete")
    owner_client.post(f"/maps/{journey.id}/personas/new", data=form_data())
    # Boris is now the first live persona, so primary; the hidden Anna is not, so undo stays sane.
    assert [(p.name, p.is_primary) for p in personas(journey.id, live_only=False)] == [
        ("Anna", False),
        ("Boris Buyer", True),
    ]


def test_htmx_create_answers_the_card_and_updates_the_old_primary(owner_client, journey, anna):
    response = owner_client.post(
        f"/maps/{journey.id}/personas/new", data=form_data(primary="y"), headers=HX
    )
    assert response.status_code == 200
    page = soup(response)
    top = [el for el in page.children if getattr(el, "name", None)]
    boris = personas(journey.id)[-1]
    assert top[0].name == "article" and top[0]["id"] == f"persona-{boris.id}"
    assert top[0].select_one(".primary-badge") is not None
    old = page.select_one(f"#persona-{anna.id}")
    assert old["hx-swap-oob"] == "true" and old.select_one(".primary-badge") is None
    fresh = page.select_one("form#persona-new")
    assert fresh["hx-swap-oob"] == "true" and fresh.select_one("input[name=name]")["value"] == ""
    assert page.select_one("#notices")["hx-swap-oob"] == "true"


def test_edit_without_js(owner_client, journey, anna):
    page = soup(owner_client.get(f"/maps/{journey.id}/personas/{anna.id}/edit"))
    form = page.select_one(f"form#persona-{anna.id}-edit")
    assert form.select_one("input[name=version]")["value"] == str(anna.version)
    assert form.select_one("input[name=name]")["value"] == "Anna"
    assert form.select_one("input[name=primary]").has_attr("checked")
    old = anna.version
    data = form_data(name="Anna K.", age="35", primary="y", version=str(old))
    response = owner_client.post(f"/maps/{journey.id}/personas/{anna.id}/edit", data=data)
    assert response.status_code == 303
    row = personas(journey.id)[0]
    assert (row.name, row.age, row.key, row.version) == ("Anna K.", 35, "anna", old + 1)


def test_edit_with_htmx_answers_the_card(owner_client, journey, anna):
    form = soup(owner_client.get(f"/maps/{journey.id}/personas/{anna.id}/edit", headers=HX))
    assert form.find().name == "form"
    data = form_data(name="Anna", version=str(anna.version))
    response = owner_client.post(
        f"/maps/{journey.id}/personas/{anna.id}/edit", data=data, headers=HX
    )
    card = soup(response).find()
    assert response.status_code == 200
    assert card["id"] == f"persona-{anna.id}" and card.select_one(".primary-badge") is None


def test_unchecking_primary_leaves_no_primary(owner_client, journey, anna):
    data = form_data(name="Anna", version=str(anna.version))
    owner_client.post(f"/maps/{journey.id}/personas/{anna.id}/edit", data=data)
    assert [p.is_primary for p in personas(journey.id)] == [False]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "   "),
        ("age", "200"),
        ("age", "-1"),
        ("age", "old"),
        ("lifecycle", "bogus"),
    ],
)
def test_invalid_create_is_422_with_the_message_next_to_the_field(
    owner_client, journey, field, value
):
    response = owner_client.post(
        f"/maps/{journey.id}/personas/new", data=form_data(**{field: value})
    )
    assert response.status_code == 422
    page = soup(response)
    box = page.select_one(f"form#persona-new .field.has-error:has([name={field}])")
    assert box is not None and box.select_one(".error").text
    assert box.select_one(f"[name={field}]")["aria-invalid"] == "true"
    assert page.select_one("details.persona-add").has_attr("open")
    assert len(personas(journey.id)) == 1


@pytest.mark.parametrize(("field", "value"), [("name", ""), ("age", "200"), ("lifecycle", "bogus")])
def test_invalid_edit_is_422_and_saves_nothing(owner_client, journey, anna, field, value):
    data = form_data(version=str(anna.version), **{field: value})
    response = owner_client.post(
        f"/maps/{journey.id}/personas/{anna.id}/edit", data=data, headers=HX
    )
    assert response.status_code == 422
    form = soup(response).find()
    assert form.name == "form" and form.select_one(f".has-error [name={field}]") is not None
    assert personas(journey.id)[0].name == "Anna"


def test_age_message_says_the_range(owner_client, journey):
    response = owner_client.post(f"/maps/{journey.id}/personas/new", data=form_data(age="200"))
    error = soup(response).select_one(".has-error:has([name=age]) .error")
    assert error.text == "Age must be between 0 and 120."


def test_stale_edit_is_409_shows_the_newer_values_and_saves_nothing(owner_client, journey, anna):
    old = str(anna.version)
    owner_client.post(
        f"/maps/{journey.id}/personas/{anna.id}/edit",
        data=form_data(name="Anna (colleague)", version=old, primary="y"),
    )
    response = owner_client.post(
        f"/maps/{journey.id}/personas/{anna.id}/edit",
        data=form_data(name="Anna (mine)", version=old, primary="y"),
    )
    assert response.status_code == 409
    page = soup(response)
    form = page.select_one(f"form#persona-{anna.id}-edit")
    assert form.select_one("input[name=name]")["value"] == "Anna (colleague)"
    assert form.select_one("input[name=version]")["value"] == str(int(old) + 1)
    assert form.select_one(".stale[role=alert]") is not None
    assert "Anna (mine)" in [dd.text for dd in form.select(".stale .mine dd")]
    row = personas(journey.id)[0]
    assert (row.name, row.version) == ("Anna (colleague)", int(old) + 1)


def test_delete_is_soft_with_undo(owner_client, journey, anna):
    response = owner_client.post(f"/maps/{journey.id}/personas/{anna.id}/delete")
    assert response.status_code == 303
    assert personas(journey.id) == []
    page = soup(owner_client.get(f"/maps/{journey.id}/personas"))
    assert page.select("article.persona-card") == []
    undo = page.select_one("#notices .notice.undo form")
    assert undo["action"].startswith(f"/maps/{journey.id}/undo/")
    owner_client.post(undo["action"])
    assert [p.name for p in personas(journey.id)] == ["Anna"]


def test_htmx_delete_answers_the_undo_notice(owner_client, journey, anna):
    page = soup(owner_client.get(f"/maps/{journey.id}/personas"))
    delete = page.select_one(f"#persona-{anna.id} form[hx-post]")
    assert delete["hx-swap"] == "delete" and delete["hx-target"] == f"#persona-{anna.id}"
    response = owner_client.post(delete["action"], headers=HX)
    notices = soup(response).select_one("#notices[hx-swap-oob=true]")
    assert notices.select_one(".notice.undo form")["action"].startswith(f"/maps/{journey.id}/undo/")


def test_deleted_persona_is_404(owner_client, journey, anna):
    owner_client.post(f"/maps/{journey.id}/personas/{anna.id}/delete")
    assert owner_client.get(f"/maps/{journey.id}/personas/{anna.id}/edit").status_code == 404
    assert owner_client.get(f"/maps/{journey.id}/personas/{anna.id}").status_code == 404


def test_show_gives_the_card_fragment_for_cancel(owner_client, journey, anna):
    response = owner_client.get(f"/maps/{journey.id}/personas/{anna.id}", headers=HX)
    assert soup(response).find()["id"] == f"persona-{anna.id}"
    page = soup(owner_client.get(f"/maps/{journey.id}/personas/{anna.id}"))
    assert page.select_one(".map-head") is not None


def test_persona_of_another_map_is_404(owner_client, journey, owner):
    other = make_map(owner, sample_journey("Other"))
    theirs = personas(other.id)[0]
    assert owner_client.get(f"/maps/{journey.id}/personas/{theirs.id}/edit").status_code == 404
    response = owner_client.post(f"/maps/{journey.id}/personas/{theirs.id}/delete")
    assert response.status_code == 404
    assert personas(other.id) != []


def test_viewer_sees_no_edit_controls(viewer_client, journey):
    page = soup(viewer_client.get(f"/maps/{journey.id}/personas"))
    assert len(page.select("article.persona-card")) == 1
    assert page.select("form") == page.select("header.topbar form")  # only sign-out / language
    assert page.select(".persona-actions") == []


@pytest.mark.parametrize("action", ["new", "{id}/edit", "{id}/delete"])
def test_viewer_gets_403_on_writes(viewer_client, journey, anna, action):
    url = f"/maps/{journey.id}/personas/" + action.format(id=anna.id)
    assert viewer_client.post(url, data=form_data(version="1")).status_code == 403
    assert personas(journey.id)[0].name == "Anna"


@pytest.mark.parametrize("path", ["", "/{id}", "/{id}/edit"])
def test_non_member_gets_404(client, journey, anna, path):
    sign_in(client, make_user("stranger@example.com", "Stranger"))
    url = f"/maps/{journey.id}/personas" + path.format(id=anna.id)
    assert client.get(url).status_code == 404
    assert client.post(f"/maps/{journey.id}/personas/new", data=form_data()).status_code == 404


def test_input_ids_are_unique_per_form(owner_client, journey, anna):
    page = soup(owner_client.get(f"/maps/{journey.id}/personas/{anna.id}/edit"))
    name = page.select_one("input[name=name]")
    assert name["id"] == f"persona-{anna.id}-name"
    assert page.select_one(f"label[for={name['id']}]").text == "Name"
