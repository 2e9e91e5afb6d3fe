"""Import and export of cjm-studio/1 documents: schema validation with JSON paths, all-or-nothing
import, the download, the import page and the served schema."""

import copy
import io
import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from cjm import documents, store
from cjm.extensions import db
from cjm.journey.model import ValidationError
from cjm.models import Channel, Journey, Membership, Persona, Stage, Touchpoint, Transition

DEMO_FILES = sorted((Path(documents.__file__).parent / "seed").glob("demo.*.json"))
TABLES = (Journey, Membership, Persona, Stage, Channel, Touchpoint, Transition)


def counts() -> dict:
    """Rows per table, to prove a failed import wrote nothing."""
    db.session.rollback()
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in TABLES}


@pytest.fixture
def document(ctx, journey):
    """The sample map (stages aware/buy/use, touchpoints ad/cart/call/paid/gone) as a document."""
    return documents.export_document(journey.id)


def paths(errors) -> list[str]:
    return [path for path, _ in errors]


def test_sample_document_is_valid(document):
    assert documents.validate_document(document) == []


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["touchpoints"][1].update(emotion="high"), "$.touchpoints[1].emotion"),
        (lambda d: d["touchpoints"][2].update(emotion=3), "$.touchpoints[2].emotion"),
        (lambda d: d["touchpoints"][0].update(emotion=1.5), "$.touchpoints[0].emotion"),
        (lambda d: d["map"].pop("title"), "$.map.title"),
        (lambda d: d["map"].update(title="   "), "$.map.title"),
        (lambda d: d["map"].update(state="maybe"), "$.map.state"),
        (lambda d: d.update(personas={"anna": {}}), "$.personas"),
        (lambda d: d["personas"][0].update(lifecycle="asleep"), "$.personas[0].lifecycle"),
        (lambda d: d["touchpoints"][3].update(stage="x"), "$.touchpoints[3].stage"),
        (lambda d: d["touchpoints"][3].update(kind="end"), "$.touchpoints[3].kind"),
        (lambda d: d["channels"][1].update(key="web"), "$.channels[1].key"),
        (lambda d: d["stages"][0].update(key="Not a key!"), "$.stages[0].key"),
        (lambda d: d["transitions"][0].update(volume=-1), "$.transitions[0].volume"),
        (lambda d: d["transitions"][4].update(to="nowhere"), "$.transitions[4].to"),
        (lambda d: d["touchpoints"][0].update(emotoin=1), "$.touchpoints[0]"),
        (lambda d: d["stages"][2].update(name="x" * 121), "$.stages[2].name"),
        (lambda d: d.pop("schema"), "$.schema"),
    ],
)
def test_schema_errors_carry_json_paths(document, change, path):
    doc = copy.deepcopy(document)
    change(doc)
    assert path in paths(documents.validate_document(doc))


def test_errors_come_in_document_order(document):
    doc = copy.deepcopy(document)
    doc["transitions"][0]["volume"] = -1
    doc["touchpoints"][0]["emotion"] = 9
    doc["touchpoints"][2]["stage"] = "x"
    doc["map"]["state"] = "maybe"
    assert paths(documents.validate_document(doc)) == [
        "$.map.state",
        "$.touchpoints[0].emotion",
        "$.touchpoints[2].stage",
        "$.transitions[0].volume",
    ]


@pytest.mark.parametrize("raw", [b"", b"{not json", b"\xff\xfe\x00", "<html></html>"])
def test_not_json_at_all(raw):
    with pytest.raises(ValidationError) as caught:
        documents.parse_json(raw)
    assert list(caught.value.field_errors) == ["$"]


def test_bom_is_accepted(document):
    raw = b"\xef\xbb\xbf" + documents.document_text(document).encode()
    assert documents.parse_json(raw) == document


@pytest.mark.parametrize("path", DEMO_FILES, ids=lambda p: p.name)
def test_round_trip_through_the_database(ctx, owner, path):
    original = json.loads(path.read_text("utf-8"))
    row = documents.import_document(original, owner.id)
    assert documents.document_text(documents.export_document(row.id)) == path.read_text("utf-8")


def test_import_makes_the_importer_owner(ctx, owner, document):
    row = documents.import_document(document, owner.id)
    assert [(m.user_id, m.role) for m in row.members] == [(owner.id, "owner")]
    assert store.load_journey(row.id).title == "Online shop"


def test_bad_import_writes_nothing(ctx, owner, document):
    doc = copy.deepcopy(document)
    doc["touchpoints"][4]["stage"] = "x"
    before = counts()
    with pytest.raises(ValidationError) as caught:
        documents.import_document(doc, owner.id)
    assert caught.value.field_errors == {"$.touchpoints[4].stage": "unknown stage 'x'"}
    assert counts() == before


def test_failed_write_is_rolled_back(ctx, owner, document, monkeypatch):
    original = store.add_journey

    def half_written(journey, owner_id):
        original(journey, owner_id)  # every row flushed, then the write fails
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "add_journey", half_written)
    before = counts()
    with pytest.raises(RuntimeError):
        documents.import_document(document, owner.id)
    assert counts() == before


# The web: download, import page, schema


def test_export_download(owner_client, journey):
    response = owner_client.get(f"/maps/{journey.id}/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.mimetype_params["charset"] == "utf-8"
    assert response.headers["Content-Disposition"] == "attachment; filename=online-shop.json"
    assert response.get_data(as_text=True).startswith('{\n  "schema": "cjm-studio/1",')
    assert response.json == documents.export_document(journey.id)


def test_export_keeps_unicode_and_names_file_from_a_cyrillic_title(owner_client, journey):
    journey.title = "Покупка чайника"
    db.session.commit()
    response = owner_client.get(f"/maps/{journey.id}/export.json")
    assert "Покупка чайника".encode() in response.data
    assert response.headers["Content-Disposition"] == "attachment; filename=pokupka-chainika.json"


def test_import_page(owner_client, owner):
    page = BeautifulSoup(owner_client.get("/maps/import").text, "html.parser")
    form = page.find("form", action="/maps/import")
    assert form["method"] == "post" and form["enctype"] == "multipart/form-data"
    assert form.find("input", {"type": "file", "name": "file"}) is not None
    assert form.find("textarea", {"name": "text"}) is not None


def upload(client, text: str, name: str = "map.json"):
    data = {"file": (io.BytesIO(text.encode()), name)}
    return client.post("/maps/import", data=data, content_type="multipart/form-data")


def test_import_upload_redirects_to_the_new_map(owner_client, owner, document):
    response = upload(owner_client, documents.document_text(document))
    assert response.status_code == 303
    new = db.session.scalar(select(Journey).order_by(Journey.id.desc()))
    assert response.headers["Location"] == f"/maps/{new.id}"
    assert documents.export_document(new.id) == document


def test_import_pasted_json(owner_client, owner, document):
    response = owner_client.post("/maps/import", data={"text": json.dumps(document)})
    assert response.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Journey)) == 2


def error_list(response) -> list[tuple[str, str]]:
    page = BeautifulSoup(response.text, "html.parser")
    return [
        (li.find("code", class_="path").text, li.find(class_="message").text)
        for li in page.select(".import-errors li")
    ]


def test_import_invalid_document_lists_errors_and_writes_nothing(owner_client, owner, document):
    doc = copy.deepcopy(document)
    doc["touchpoints"][3]["stage"] = "x"
    doc["touchpoints"][1]["emotion"] = 5
    doc["map"].pop("title")
    before = counts()
    response = upload(owner_client, json.dumps(doc))
    assert response.status_code == 422
    errors = error_list(response)
    assert [path for path, _ in errors] == [
        "$.map.title",
        "$.touchpoints[1].emotion",
        "$.touchpoints[3].stage",
    ]
    assert errors[2][1] == "unknown stage 'x'"
    assert counts() == before


def test_import_not_json(owner_client, owner):
    before = counts()
    response = upload(owner_client, "this is not json")
    assert response.status_code == 422
    assert [path for path, _ in error_list(response)] == ["$"]
    assert counts() == before


def test_import_nothing_chosen(owner_client, owner):
    response = owner_client.post("/maps/import", data={"text": "  "})
    assert response.status_code == 422
    page = BeautifulSoup(response.text, "html.parser")
    assert page.select_one(".field.has-error .error").text == "Choose a file or paste the JSON."


def test_import_too_large(app, owner_client, owner, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    response = upload(owner_client, json.dumps({"pad": "x" * 4096}))
    assert response.status_code == 413


def test_import_needs_sign_in(client):
    response = client.get("/maps/import")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_schema_is_served_publicly(client):
    response = client.get("/schema/cjm-studio-1.json")
    assert response.status_code == 200
    assert response.mimetype == "application/schema+json"
    served = response.get_json(force=True)
    assert served == documents.schema()
    Draft202012Validator.check_schema(served)


def test_long_error_lists_are_cut_on_the_page(owner_client, owner, document):
    doc = copy.deepcopy(document)
    base = doc["touchpoints"][0]
    doc["touchpoints"] += [dict(base, key=f"t{i}", stage="x") for i in range(150)]
    response = upload(owner_client, json.dumps(doc))
    assert response.status_code == 422
    page = BeautifulSoup(response.text, "html.parser")
    assert len(page.select(".import-errors li")) == 100
    assert page.select_one(".import-errors p.hint").text == "… and 50 more."


def test_pattern_errors_read_well(document):
    doc = copy.deepcopy(document)
    doc["map"]["title"] = " "
    doc["stages"][0]["key"] = "Not a key!"
    errors = dict(documents.validate_document(doc))
    assert errors["$.map.title"] == "must not be blank"
    assert errors["$.stages[0].key"] == "a key uses lowercase letters a-z, digits, '-' and '_'"
