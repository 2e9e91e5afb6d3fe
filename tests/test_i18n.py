"""The UI speaks English and Russian: Accept-Language default, a switch, a complete catalogue."""

from pathlib import Path

from babel.messages.pofile import read_po
from bs4 import BeautifulSoup

PO = Path(__file__).resolve().parents[1] / "cjm/translations/ru/LC_MESSAGES/messages.po"


def heading(response):
    return BeautifulSoup(response.text, "html.parser").h1.text.strip()


def test_accept_language_picks_russian(client):
    assert heading(client.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9"})) == "Вход"
    assert heading(client.get("/login", headers={"Accept-Language": "en-GB"})) == "Sign in"


def test_switch_sets_a_cookie_that_wins(client):
    response = client.post("/lang/ru", data={"next": "/login"})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert heading(client.get("/login", headers={"Accept-Language": "en"})) == "Вход"


def test_signed_in_choice_is_remembered_on_the_account(owner_client, owner):
    owner_client.post("/lang/ru", data={"next": "/"})
    from cjm.extensions import db

    assert db.session.get(type(owner), owner.id).locale == "ru"


def test_russian_catalogue_is_complete():
    with PO.open("rb") as f:
        catalog = read_po(f)
    untranslated = [
        m.id
        for m in catalog
        if m.id and (not m.string or m.fuzzy or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    assert untranslated == []
