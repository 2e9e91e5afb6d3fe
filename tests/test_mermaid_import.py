"""A Mermaid `journey` text becomes a new map: on the web (paste or upload; 422 with line
numbers, 413 over the limit, nothing half-written) and with `flask map import --format mermaid`."""

import io

from bs4 import BeautifulSoup

from cjm import store
from cjm.export import mermaid as mermaid_format
from cjm.extensions import db
from cjm.models import Journey, Membership

TEXT = """---
title: ignored, the title line below wins
---
%% a comment line
journey
  title Buying a kettle: online
  accTitle: Kettle journey
  section Awareness
    Sees an ad: 4: Anna, Boris
  section Purchase  # a trailing comment
    Fills the cart#58; kettle: 2: Anna
    Pays: 5
"""
RUSSIAN = """journey
  section Осведомлённость
    Видит рекламу: 1: Марина
  section Покупка
    Платит: 5: Марина
"""
BROKEN = """journey
  section Awareness
    Sees an ad
    Fills the cart: 7
  section Pay: now
    Pays: 5
"""


def maps_count() -> int:
    return db.session.scalar(db.select(db.func.count(Journey.id)))


def test_the_page_is_reachable_from_the_json_import(owner_client):
    soup = BeautifulSoup(owner_client.get("/maps/import").data, "html.parser")
    link = soup.find("a", href="/maps/import/mermaid")
    assert link is not None
    page = BeautifulSoup(owner_client.get(link["href"]).data, "html.parser")
    form = page.select_one("form[action='/maps/import/mermaid'][method=post]")
    assert form is not None and form.select_one("textarea[name=text]") is not None
    assert form.select_one("label[for=text]") is not None


def test_pasted_journey_becomes_a_map(owner_client, owner, ctx):
    response = owner_client.post("/maps/import/mermaid", data={"text": TEXT})
    assert response.status_code == 303
    map_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    journey = store.load_journey(map_id)
    assert journey.title == "Buying a kettle: online" and journey.language == "en"
    assert [s.name for s in journey.stages] == ["Awareness", "Purchase"]
    assert [c.name for c in journey.channels] == ["Main channel"]
    assert [(t.name, t.stage, t.kind, t.emotion) for t in journey.touchpoints] == [
        ("Sees an ad", "awareness", "entry", 1),
        ("Fills the cart: kettle", "purchase", "step", -1),
        ("Pays", "purchase", "goal", 2),
    ]
    keys = [t.key for t in journey.touchpoints]
    assert [(t.source, t.target, t.kind) for t in journey.transitions] == [
        (keys[0], keys[1], "main"),
        (keys[1], keys[2], "main"),
    ]
    assert [(p.name, p.primary) for p in journey.personas] == [("Anna", True), ("Boris", False)]
    role = db.session.scalar(db.select(Membership.role).filter_by(journey_id=map_id))
    assert role == "owner"


def test_uploaded_russian_journey_gets_russian_defaults(owner_client, ctx):
    upload = (io.BytesIO(("\ufeff" + RUSSIAN).encode("utf-8")), "путь.mmd")
    response = owner_client.post(
        "/maps/import/mermaid", data={"file": upload}, content_type="multipart/form-data"
    )
    assert response.status_code == 303
    journey = store.load_journey(int(response.headers["Location"].split("/")[-1]))
    assert journey.language == "ru" and journey.title == "Импортированный путь"
    assert [c.name for c in journey.channels] == ["Основной канал"]
    assert [t.emotion for t in journey.touchpoints] == [-2, 2]
    assert [s.key for s in journey.stages] == ["osvedomlennost", "pokupka"]


def test_broken_text_is_422_with_line_numbers_and_writes_nothing(owner_client, ctx):
    before = maps_count()
    response = owner_client.post("/maps/import/mermaid", data={"text": BROKEN})
    assert response.status_code == 422
    soup = BeautifulSoup(response.data, "html.parser")
    found = [
        (li.select_one(".path").text, li.select_one(".message").text)
        for li in soup.select(".import-errors li")
    ]
    assert [line for line, _ in found] == ["line 3", "line 4", "line 5"]
    assert "score" in found[1][1] and "“7”" in found[1][1]
    assert soup.select_one("textarea[name=text]").text.strip() == BROKEN.strip()  # kept to fix
    assert maps_count() == before


def test_empty_and_not_a_journey(owner_client, ctx):
    response = owner_client.post("/maps/import/mermaid", data={"text": ""})
    assert response.status_code == 422
    soup = BeautifulSoup(response.data, "html.parser")
    assert soup.select_one(".field.has-error .error") is not None
    response = owner_client.post("/maps/import/mermaid", data={"text": "flowchart LR\n a --> b"})
    assert response.status_code == 422
    assert "journey" in BeautifulSoup(response.data, "html.parser").select_one(".message").text


def test_oversize_text_is_413(owner_client, ctx):
    big = "journey\n  section A\n" + "    Step: 3\n" * (mermaid_format.MAX_BYTES // 10)
    before = maps_count()
    upload = (io.BytesIO(big.encode()), "big.mmd")
    response = owner_client.post(
        "/maps/import/mermaid", data={"file": upload}, content_type="multipart/form-data"
    )
    assert response.status_code == 413
    assert BeautifulSoup(response.data, "html.parser").select_one(".error") is not None
    assert owner_client.post("/maps/import/mermaid", data={"text": big}).status_code == 413
    assert maps_count() == before


def test_export_then_import_round_trip(owner_client, journey, ctx):
    text = owner_client.get(f"/maps/{journey.id}/export/mermaid-journey").data
    response = owner_client.post("/maps/import/mermaid", data={"text": text.decode()})
    assert response.status_code == 303
    copy = store.load_journey(int(response.headers["Location"].split("/")[-1]))
    assert copy.title == "Online shop"
    assert [t.name for t in copy.touchpoints] == ["Sees an ad", "Fills the cart", "Pays"]
    assert [t.emotion for t in copy.touchpoints] == [1, 0, 2]
    assert [s.name for s in copy.stages] == ["Awareness", "Purchase", "Use"]
    assert [p.name for p in copy.personas] == ["Anna"]


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/maps/import/mermaid")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_cli_imports_a_mermaid_file(app, owner, tmp_path, ctx):
    good, bad = tmp_path / "good.mmd", tmp_path / "bad.mmd"
    good.write_text(TEXT, encoding="utf-8")
    bad.write_text(BROKEN, encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["map", "import", str(good), "--format", "mermaid", "--owner", owner.email]
    )
    assert result.exit_code == 0, result.output
    assert store.load_journey(int(result.stdout.strip())).title == "Buying a kettle: online"
    before = maps_count()
    result = runner.invoke(
        args=["map", "import", str(bad), "--format", "mermaid", "--owner", owner.email]
    )
    assert result.exit_code == 1
    assert "line 4: the score must be a whole number from 1 to 5" in result.stderr
    assert maps_count() == before
