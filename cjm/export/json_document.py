"""The cjm-studio/1 JSON document as an export format."""

from ..documents import document_text, export_document
from . import register


@register("json", ".json", "application/json", "JSON (cjm-studio/1)")
def render_json(map_id: int, options: dict) -> bytes:
    return document_text(export_document(map_id)).encode()
