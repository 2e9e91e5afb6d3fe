"""Placeholder: the cjm-studio/1 document import/export (filled by its work item)."""


def register_cli(group) -> None:
    """Add the document verbs to the `map` CLI group."""
