"""Mermaid as an export format (a `journey` of the main path, a `flowchart LR` of the graph) and
a Mermaid `journey` text imported as a new map. Text in and out: cjm.journey.mermaid."""

import re

from flask_babel import lazy_gettext as _l

from .. import documents, store
from ..journey import mermaid
from ..journey.analytics import analyze
from ..journey.model import ValidationError
from . import register

MAX_BYTES = 256 * 1024  # a journey text is small; anything larger is refused with 413
# The translated wording of cjm.journey.mermaid.MESSAGES (same codes, same placeholders).
MESSAGES = {
    "front_matter": _l("the front matter (---) is not closed"),
    "no_header": _l("a Mermaid journey starts with the word “journey”"),
    "empty": _l("the text is empty: a Mermaid journey starts with the word “journey”"),
    "semicolon": _l("“;” is not allowed here (write #59; for a semicolon)"),
    "section_colon": _l("a section name cannot contain “:” (write #58; for a colon)"),
    "no_tasks": _l("no tasks: write at least one “Task name: 3” under a section"),
    "too_many": _l("more than %(max)s tasks"),
    "task_syntax": _l("a task is written “Task name: score” (score 1 to 5)"),
    "task_no_name": _l("the task has no name before “:”"),
    "bad_score": _l("the score must be a whole number from 1 to 5, not “%(score)s”"),
    "title_long": _l("the title is longer than %(max)s characters"),
    "section_long": _l("the section name is longer than %(max)s characters"),
    "task_long": _l("the task name is longer than %(max)s characters"),
    "actor_long": _l("an actor name is longer than %(max)s characters"),
}
assert set(MESSAGES) == set(mermaid.MESSAGES)
# Names the import gives what a journey text does not say, by the map's language.
DEFAULTS = {
    "en": {"title": "Imported journey", "stage": "Journey", "channel": "Main channel"},
    "ru": {"title": "Импортированный путь", "stage": "Путь", "channel": "Основной канал"},
}
CYRILLIC = re.compile("[А-Яа-яЁё]")


def main_path_text(map_id: int) -> str:
    """The `journey` diagram of the map's main path."""
    journey = store.load_journey(map_id)
    path = analyze(journey).main_path
    return mermaid.journey_diagram(journey, mermaid.main_walk(journey, path and path.touchpoints))


@register("mermaid-journey", ".mmd", "text/vnd.mermaid; charset=utf-8", _l("Mermaid journey"))
def render_journey(map_id: int, options: dict) -> bytes:
    """Mermaid `journey` of the main path: sections = stages, scores 1–5 from emotion."""
    return main_path_text(map_id).encode("utf-8")


@register("mermaid-flowchart", ".mmd", "text/vnd.mermaid; charset=utf-8", _l("Mermaid flowchart"))
def render_flowchart(map_id: int, options: dict) -> bytes:
    """Mermaid `flowchart LR` of every touchpoint and transition."""
    return mermaid.flowchart(store.load_journey(map_id)).encode("utf-8")


def decode(raw: bytes | str) -> str:
    """Uploaded or pasted text (UTF-8, a BOM is fine); MermaidError on line 1 if not UTF-8."""
    if isinstance(raw, str):
        return raw.lstrip("\ufeff")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise mermaid.MermaidError([(1, "no_header", {})]) from None


def to_document(parsed: mermaid.JourneyText, language: str) -> dict:
    """A cjm-studio/1 document of a parsed journey: sections → stages, tasks → touchpoints on one
    channel joined in order by main transitions (first an entry, last a goal), score → emotion,
    actors → personas (the first one primary)."""
    names = DEFAULTS[language]

    def keyed(items: list[str], prefix: str) -> list[str]:
        taken, keys = set(), []
        for name in items:
            base = store.slug(name, prefix)[:56]
            key, n = base, 2
            while key in taken:
                key, n = f"{base}-{n}", n + 1
            taken.add(key)
            keys.append(key)
        return keys

    stage_keys = keyed([s.name for s in parsed.sections], "stage")
    tasks = [(key, t) for key, s in zip(stage_keys, parsed.sections, strict=True) for t in s.tasks]
    tp_keys = keyed([t.name for _, t in tasks], "touchpoint")
    actors = parsed.actors
    last = len(tasks) - 1
    return {
        "schema": "cjm-studio/1",
        "map": {"title": parsed.title.strip() or names["title"], "language": language},
        "personas": [
            {"key": k, "name": name, "primary": i == 0}
            for i, (k, name) in enumerate(zip(keyed(actors, "persona"), actors, strict=True))
        ],
        "stages": [
            {"key": k, "name": s.name} for k, s in zip(stage_keys, parsed.sections, strict=True)
        ],
        "channels": [{"key": "main", "name": names["channel"], "kind": "custom"}],
        "touchpoints": [
            {
                "key": tp_key,
                "stage": stage_key,
                "channel": "main",
                "name": task.name,
                "kind": "entry" if i == 0 else "goal" if i == last and last else "step",
                "emotion": mermaid.emotion_of(task.score),
            }
            for i, (tp_key, (stage_key, task)) in enumerate(zip(tp_keys, tasks, strict=True))
        ],
        "transitions": [
            {"key": f"main-{i}", "from": a, "to": b, "kind": "main"}
            for i, (a, b) in enumerate(zip(tp_keys, tp_keys[1:], strict=False), 1)
        ],
    }


def import_journey(raw: bytes | str, owner_id: int, language: str | None = None):
    """A new map from a Mermaid `journey` text, owned by owner_id (all or nothing).

    The language is the given one, else Russian when the text has Cyrillic. Raises MermaidError
    (line-numbered) for text that is not a journey, ValidationError for a document the map
    cannot hold."""
    text = decode(raw)
    language = language or ("ru" if CYRILLIC.search(text) else "en")
    parsed = mermaid.parse_journey(text, DEFAULTS[language]["stage"])
    return documents.import_document(to_document(parsed, language), owner_id)


def messages(error: mermaid.MermaidError) -> list[tuple[int, str]]:
    """(line, translated message) pairs of a MermaidError."""
    return [(n, str(MESSAGES[code]) % values) for n, code, values in error.errors]


def import_mermaid_cli(file, owner_id: int):
    """`flask map import FILE --format mermaid`: the import with its errors as ValidationError
    keyed "line N", which the command prints like a JSON document's paths."""
    raw = file.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise ValidationError({"$": f"larger than {MAX_BYTES // 1024} KiB"})
    try:
        return import_journey(raw, owner_id)
    except mermaid.MermaidError as e:
        found: dict[str, str] = {}
        for n, message in e.messages():
            key = f"line {n}"
            found[key] = f"{found[key]}; {message}" if key in found else message
        raise ValidationError(found) from None
