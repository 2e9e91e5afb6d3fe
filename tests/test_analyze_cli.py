"""`flask map analyze ID`: the map's analytics as JSON on stdout; an unknown id fails on stderr."""

import json

import pytest

from cjm import store
from cjm.extensions import db
from cjm.models import Journey


@pytest.fixture
def cli(app):
    """Run a `flask` command; Click 8.2+ keeps result.stdout and result.stderr apart."""
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_analyze_prints_all_of_it_as_json(cli, journey):
    result = cli("map", "analyze", str(journey.id))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert data["has_volumes"] is True and data["entries"] == ["ad"] and data["goals"] == ["paid"]
    assert data["paths"]["count"] == 1 and data["paths"]["truncated"] is False
    assert data["main_path"]["touchpoints"] == ["ad", "cart", "paid"]
    assert data["main_path"]["bottleneck"] == 40
    assert [(s["key"], s["reached"], s["conversion"]) for s in data["stages"]] == [
        ("aware", 100, None),
        ("buy", 100, 1.0),
        ("use", 40, 0.4),
    ]
    assert data["biggest_loss_stage"] == "buy" and data["losses"] == ["cart", "call"]
    conversions = {t["key"]: t["conversion"] for t in data["transitions"]}
    assert conversions["cart-paid"] == 0.32  # 40 of the 125 entering the cart
    cart = next(t for t in data["touchpoints"] if t["key"] == "cart")
    assert (cart["volume_in"], cart["volume_out"], cart["drop_off"]) == (125, 100, 55)
    assert data["loops"]["items"] == [{"touchpoints": ["cart", "call"], "volume": 25}]
    assert data["dead_ends"] == [] and data["bottlenecks"] == ["cart"]


def test_analyze_names_elements_by_key_not_id(cli, journey):
    data = json.loads(cli("map", "analyze", str(journey.id)).stdout)
    assert "id" not in data["touchpoints"][0] and "id" not in data["transitions"][0]


def test_unknown_map_fails_on_stderr(cli, ctx):
    result = cli("map", "analyze", "424242")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "no map with id 424242" in result.stderr


def test_deleted_map_is_unknown(cli, journey, owner):
    store.soft_delete([db.session.get(Journey, journey.id)], journey.id, owner.id, "map")
    db.session.commit()
    result = cli("map", "analyze", str(journey.id))
    assert result.exit_code == 1 and "no map" in result.stderr
