"""Register, sign in, sign out; safe redirects; wrong passwords."""

import pytest
from bs4 import BeautifulSoup

from cjm.extensions import db
from cjm.models import User


def errors(response):
    return [p.text for p in BeautifulSoup(response.text, "html.parser").select(".error")]


def test_register_signs_in_and_hashes_the_password(client, ctx):
    response = client.post(
        "/register",
        data={
            "name": "Ivan",
            "email": "Ivan@Example.com",
            "password": "long-enough",
            "confirm": "long-enough",
        },
    )
    assert response.status_code == 303
    user = db.session.scalar(db.select(User).filter_by(email="ivan@example.com"))
    assert user.password_hash != "long-enough" and user.password_hash.startswith(
        ("scrypt", "pbkdf2")
    )
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (
            {"name": "", "email": "a@b.io", "password": "long-enough", "confirm": "long-enough"},
            "name",
        ),
        (
            {
                "name": "A",
                "email": "not-an-email",
                "password": "long-enough",
                "confirm": "long-enough",
            },
            "email",
        ),
        ({"name": "A", "email": "a@b.io", "password": "short", "confirm": "short"}, "password"),
        (
            {"name": "A", "email": "a@b.io", "password": "long-enough", "confirm": "other-one"},
            "confirm",
        ),
    ],
)
def test_register_invalid_is_422_with_the_message_at_the_field(client, ctx, form, field):
    response = client.post("/register", data=form)
    assert response.status_code == 422
    page = BeautifulSoup(response.text, "html.parser")
    assert page.select_one(f"#{field}-error") is not None
    assert page.select_one(f"#{field}")["aria-invalid"] == "true"


def test_register_twice_is_refused(client, owner):
    response = client.post(
        "/register",
        data={
            "name": "X",
            "email": owner.email,
            "password": "long-enough",
            "confirm": "long-enough",
        },
    )
    assert response.status_code == 422 and errors(response)


def test_sign_in_and_out(client, owner):
    assert client.get("/").status_code == 302
    response = client.post("/login", data={"email": owner.email, "password": "secret-pass"})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post("/logout").status_code == 303
    assert client.get("/").status_code == 302


def test_wrong_password_is_422(client, owner):
    response = client.post("/login", data={"email": owner.email, "password": "nope"})
    assert response.status_code == 422 and errors(response)


@pytest.mark.parametrize(
    ("target", "expected"),
    [("/maps/new", "/maps/new"), ("https://evil.example/", "/"), ("//evil.example/x", "/")],
)
def test_next_redirect_stays_on_site(client, owner, target, expected):
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": owner.email, "password": "secret-pass"},
    )
    assert response.headers["Location"] == expected
