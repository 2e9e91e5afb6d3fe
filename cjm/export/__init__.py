"""Every way a map leaves the app. One registry of formats serves the CLI (`map export --format`)
and the download routes, so a format is written once.

A format's `render(map_id, options)` returns bytes; `options` holds the CLI flags / dialog fields
that format reads (paper, orientation, tiled, separator, …) and it ignores the rest.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    name: str
    suffix: str  # file name suffix, e.g. ".json"
    mimetype: str
    render: Callable[[int, dict], bytes]
    label: str = ""


FORMATS: dict[str, Format] = {}


def register(name: str, suffix: str, mimetype: str, label: str = ""):
    """Decorator: add `render(map_id, options) -> bytes` to the registry under `name`."""

    def add(render):
        FORMATS[name] = Format(name, suffix, mimetype, render, label or name)
        return render

    return add


def load_formats() -> dict[str, Format]:
    """Import the modules that register formats (inside the app factory, not at import time)."""
    from PIL import ImageFile

    from . import csv_tables, graphml, images, json_document, mermaid, pdf  # noqa: F401

    # Importing WeasyPrint turns on Pillow's LOAD_TRUNCATED_IMAGES for the whole process; uploads
    # must still refuse truncated files (cjm.images), and WeasyPrint only ever draws images we
    # re-encoded ourselves, so turn it back off.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return FORMATS
