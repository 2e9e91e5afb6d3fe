"""cjm/journey is pure: only the standard library and networkx, never Flask, SQLAlchemy & co."""

import ast
import sys
from pathlib import Path

import pytest

import cjm.journey

PACKAGE = Path(cjm.journey.__file__).parent
ALLOWED = set(sys.stdlib_module_names) | {"networkx"}
MODULES = sorted(PACKAGE.rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Top-level names of every absolute import in a module (relative ones stay in the package)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_package_has_modules():
    assert {p.name for p in MODULES} >= {"model.py", "graph.py", "steps.py"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_module_imports_only_stdlib_and_networkx(path):
    foreign = imported(path) - ALLOWED
    assert not foreign, f"{path.name} imports {sorted(foreign)}"


@pytest.mark.parametrize(
    "name", ["flask", "flask_babel", "sqlalchemy", "werkzeug", "jinja2", "jsonschema", "cjm"]
)
def test_the_forbidden_names_are_not_allowed(name):
    # The check itself must catch the frameworks (none of them is in the stdlib), and importing
    # the app package from the domain ("from cjm import store") would be just as wrong.
    assert name not in ALLOWED


def test_imported_sees_every_import_form(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import flask.json\nfrom sqlalchemy import select\nfrom . import model\n")
    assert imported(module) == {"flask", "sqlalchemy"}
