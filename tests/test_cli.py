"""`flask map import|export|list`: ids and documents on stdout, errors on stderr with JSON paths,
non-zero exit and nothing written on failure."""

import json

import pytest
from sqlalchemy import func, select

from cjm import documents
from cjm.extensions import db
from cjm.models import Journey, Membership, Touchpoint, User
from tests.factories import make_user


@pytest.fixture
def cli(app):
    """Run a `flask` command; Click 8.2+ keeps result.stdout and result.stderr apart."""
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


@pytest.fixture
def demo_user(app, ctx):
    return make_user(app.config["DEMO_EMAIL"], "Demo")


@pytest.fixture
def document_file(tmp_path, ctx, journey):
    """The sample map exported to a file."""
    path = tmp_path / "shop.json"
    path.write_text(documents.document_text(documents.export_document(journey.id)), "utf-8")
    return path


def map_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Journey))


def test_import_prints_the_new_id_and_defaults_to_the_demo_owner(cli, demo_user, document_file):
    result = cli("map", "import", str(document_file))
    assert result.exit_code == 0, result.stderr
    new_id = int(result.stdout.strip())
    member = db.session.scalar(select(Membership).filter_by(journey_id=new_id))
    assert (member.user_id, member.role) == (demo_user.id, "owner")
    assert db.session.get(Journey, new_id).title == "Online shop"
    assert result.stderr == ""


def test_import_with_owner(cli, owner, document_file):
    result = cli("map", "import", str(document_file), "--owner", "Owner@Example.com")
    assert result.exit_code == 0, result.stderr
    member = db.session.scalar(select(Membership).filter_by(journey_id=int(result.stdout)))
    assert member.user_id == owner.id


def test_import_unknown_owner_fails_and_creates_no_account(cli, document_file):
    before = map_count()
    result = cli("map", "import", str(document_file), "--owner", "nobody@example.com")
    assert result.exit_code == 1
    assert "nobody@example.com" in result.stderr and result.stdout == ""
    assert map_count() == before
    assert db.session.scalar(select(User).filter_by(email="nobody@example.com")) is None


def test_import_bad_document(cli, demo_user, document_file):
    doc = json.loads(document_file.read_text("utf-8"))
    doc["touchpoints"][2]["stage"] = "x"
    doc["touchpoints"][0]["emotion"] = -3
    document_file.write_text(json.dumps(doc), "utf-8")
    before = (map_count(), db.session.scalar(select(func.count()).select_from(Touchpoint)))
    result = cli("map", "import", str(document_file))
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert "nothing was written" in lines[0]
    assert lines[1:] == [
        "  $.touchpoints[0].emotion: -3 is less than the minimum of -2",
        "  $.touchpoints[2].stage: unknown stage 'x'",
    ]
    assert (map_count(), db.session.scalar(select(func.count()).select_from(Touchpoint))) == before


def test_import_not_json(cli, demo_user, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("stages: awareness, purchase", "utf-8")
    result = cli("map", "import", str(path))
    assert result.exit_code == 1
    assert "$: not valid JSON" in result.stderr


def test_import_missing_file(cli, demo_user, tmp_path):
    result = cli("map", "import", str(tmp_path / "nope.json"))
    assert result.exit_code != 0 and "nope.json" in result.stderr


def test_export_file_is_identical_to_the_web_download(cli, owner_client, journey, tmp_path):
    out = tmp_path / "out.json"
    result = cli("map", "export", str(journey.id), "--format", "json", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes() == owner_client.get(f"/maps/{journey.id}/export.json").data


@pytest.mark.parametrize("extra", [(), ("--out", "-")])
def test_export_to_stdout(cli, journey, extra):
    result = cli("map", "export", str(journey.id), *extra)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == documents.export_document(journey.id)


def test_export_unknown_id(cli, ctx):
    result = cli("map", "export", "999")
    assert result.exit_code == 1
    assert "no map with id 999" in result.stderr and result.stdout == ""


def test_export_unknown_format(cli, journey):
    result = cli("map", "export", str(journey.id), "--format", "xml")
    assert result.exit_code == 2


def test_map_list(cli, journey):
    table = cli("map", "list")
    assert table.stdout.splitlines() == [f"{journey.id}\tas-is\ten\tOnline shop"]
    listed = json.loads(cli("map", "list", "--json").stdout)
    assert listed == [
        {"id": journey.id, "title": "Online shop", "state": "as-is", "language": "en"}
    ]
