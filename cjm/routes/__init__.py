"""Blueprints, one per resource; views stay thin and push rules into cjm.journey."""

from importlib import import_module

from flask import Flask

BLUEPRINTS = (
    "auth",
    "maps",
    "personas",
    "stages",
    "touchpoints",
    "board",
    "graph",
    "documents",
    "research",
    "evidence",
    "shopper",
    "imports",
    "api",
    "analytics",
    "barriers",
    "strategies",
    "experiments",
    "kpis",
    "compare",
    "exports",
    "formats",
    "workshops",
)


def register_blueprints(app: Flask) -> None:
    """Import each routes module inside the factory and register its `bp`."""
    for name in BLUEPRINTS:
        app.register_blueprint(import_module(f"{__name__}.{name}").bp)
