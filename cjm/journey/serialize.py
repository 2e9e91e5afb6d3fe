"""The open `cjm-studio/1` document: a whole map as JSON, elements referenced by string keys.

Pure (standard library only). The JSON Schema next to this file (cjm-studio-1.schema.json) checks
types and ranges; from_document() checks what a schema cannot: keys are unique and every reference
names an element that exists. Database ids and versions never leave the app. Sections this
version does not know (a later version may add some) are ignored, so older apps still import
newer documents; "segments" and "evidence" came later within version 1, so documents without
them import as before.
"""

import re
from datetime import date

from . import model as dm

SCHEMA = "cjm-studio/1"
SCHEMA_FILE = "cjm-studio-1.schema.json"
SECTIONS = ("personas", "stages", "channels", "touchpoints", "transitions", "segments", "evidence")
KEYED = tuple(s for s in SECTIONS if s != "evidence")  # observations have no key of their own
PERSONA_FIELDS = (
    "key",
    "name",
    "age",
    "occupation",
    "quote",
    "goals",
    "needs",
    "expectations",
    "frustrations",
    "behaviour",
    "segment",
    "lifecycle",
    "primary",
)
TOUCHPOINT_FIELDS = (
    "key",
    "stage",
    "channel",
    "kind",
    "name",
    "description",
    "action",
    "goal",
    "thought",
    "emotion",
)

EVIDENCE_FIELDS = (
    "touchpoint",
    "stage",
    "channel",
    "segment",
    "source",
    "date",
    "respondent",
    "csat",
    "nps",
    "ces",
    "verbatim",
)

REQUIRED = {
    "personas": ("key", "name"),
    "stages": ("key", "name"),
    "channels": ("key", "name"),
    "touchpoints": ("key", "stage", "channel", "name"),
    "transitions": ("key", "from", "to"),
    "segments": ("key", "name"),
    "evidence": ("source",),
}


def to_document(journey: dm.Journey) -> dict:
    """The map as a `cjm-studio/1` document (a dict ready for json.dumps, in a fixed key order)."""
    return {
        "schema": SCHEMA,
        "map": {
            "title": journey.title,
            "description": journey.description,
            "state": journey.state,
            "language": journey.language,
        },
        "personas": [{f: getattr(p, f) for f in PERSONA_FIELDS} for p in journey.personas],
        "stages": [
            {"key": s.key, "name": s.name, "description": s.description} for s in journey.stages
        ],
        "channels": [{"key": c.key, "name": c.name, "kind": c.kind} for c in journey.channels],
        "touchpoints": [{f: getattr(t, f) for f in TOUCHPOINT_FIELDS} for t in journey.touchpoints],
        "transitions": [
            {
                "key": e.key,
                "from": e.source,
                "to": e.target,
                "kind": e.kind,
                "label": e.label,
                "volume": e.volume,
            }
            for e in journey.transitions
        ],
        "segments": [{"key": s.key, "name": s.name} for s in journey.segments],
        "evidence": [{f: getattr(o, f) for f in EVIDENCE_FIELDS} for o in journey.evidence],
    }


def reference_errors(doc) -> dict[str, str]:
    """Errors a schema cannot see, by JSON path: duplicate keys and references to unknown keys.

    Tolerates malformed input (it skips what is not an object), so it can run beside a schema
    check and add its findings to the schema's.
    """
    errors: dict[str, str] = {}
    if not isinstance(doc, dict):
        return {"$": "a cjm-studio/1 document is a JSON object"}
    keys: dict[str, set] = {}
    for section in KEYED:
        seen: set = set()
        for i, element in _elements(doc, section):
            key = element.get("key")
            if not isinstance(key, str):
                continue
            if key in seen:
                errors[f"$.{section}[{i}].key"] = f"duplicate key {key!r}"
            seen.add(key)
        keys[section] = seen
    references = {
        "touchpoints": (("stage", "stages", "stage"), ("channel", "channels", "channel")),
        "transitions": (("from", "touchpoints", "touchpoint"), ("to", "touchpoints", "touchpoint")),
        "evidence": (
            ("touchpoint", "touchpoints", "touchpoint"),
            ("stage", "stages", "stage"),
            ("channel", "channels", "channel"),
            ("segment", "segments", "segment"),
        ),
    }
    for section, fields in references.items():
        for i, element in _elements(doc, section):
            for name, target, noun in fields:
                value = element.get(name)
                if isinstance(value, str) and value not in keys[target]:
                    errors[f"$.{section}[{i}].{name}"] = f"unknown {noun} {value!r}"
    return _evidence_errors(doc, keys) | errors  # an unknown key says more than a mismatch


def _evidence_errors(doc: dict, keys: dict[str, set]) -> dict[str, str]:
    """Observation rules a schema cannot see: tied to something, a real date, and a stage or
    channel beside a touchpoint that agrees with the touchpoint's (when that one is known)."""
    errors = {}
    at = {t["key"]: t for _, t in _elements(doc, "touchpoints") if isinstance(t.get("key"), str)}
    for i, o in _elements(doc, "evidence"):
        path = f"$.evidence[{i}]"
        if not any(isinstance(o.get(name), str) for name in ("touchpoint", "stage", "channel")):
            errors[path] = "needs a touchpoint, a stage or a channel"
        when = o.get("date")
        if isinstance(when, str) and not _is_date(when):
            errors[f"{path}.date"] = f"not a date (YYYY-MM-DD): {when!r}"
        touchpoint = at.get(o["touchpoint"]) if isinstance(o.get("touchpoint"), str) else None
        for name in ("stage", "channel"):
            value = o.get(name)
            place = touchpoint.get(name) if touchpoint is not None else None
            if isinstance(value, str) and isinstance(place, str) and value != place:
                if place not in keys[name + "s"]:
                    continue  # the touchpoint itself is wrong; reported there
                errors[f"{path}.{name}"] = (
                    f"touchpoint {touchpoint['key']!r} is at {name} {place!r}"
                )
    return errors


def _is_date(text: str) -> bool:
    """Whether text is a real calendar date written YYYY-MM-DD (no 2024-02-30)."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _elements(doc: dict, section: str):
    """(index, element) for the objects in one section of a document; anything else is skipped."""
    items = doc.get(section)
    if not isinstance(items, list):
        return []
    return [(i, e) for i, e in enumerate(items) if isinstance(e, dict)]


def from_document(doc: dict) -> dm.Journey:
    """A domain Journey from a `cjm-studio/1` document (ValidationError with JSON paths if wrong).

    Expects a document that passed the JSON Schema; it re-checks the structure it relies on so a
    malformed document gives a ValidationError, never a KeyError.
    """
    errors = _shape_errors(doc)
    if not errors:
        errors = reference_errors(doc)
    if errors:
        raise dm.ValidationError(errors)
    head = doc["map"]
    places = {t["key"]: (t["stage"], t["channel"]) for t in doc.get("touchpoints", [])}
    return dm.Journey(
        title=head["title"],
        description=head.get("description", ""),
        state=head.get("state", "as-is"),
        language=head.get("language", "en"),
        personas=[
            dm.Persona(**{f: p[f] for f in PERSONA_FIELDS if f in p})
            for p in doc.get("personas", [])
        ],
        stages=[
            dm.Stage(key=s["key"], name=s["name"], description=s.get("description", ""))
            for s in doc.get("stages", [])
        ],
        channels=[
            dm.Channel(key=c["key"], name=c["name"], kind=c.get("kind", "custom"))
            for c in doc.get("channels", [])
        ],
        touchpoints=[
            dm.Touchpoint(**{f: t[f] for f in TOUCHPOINT_FIELDS if f in t})
            for t in doc.get("touchpoints", [])
        ],
        transitions=[
            dm.Transition(
                key=e["key"],
                source=e["from"],
                target=e["to"],
                kind=e.get("kind", "main"),
                label=e.get("label", ""),
                volume=e.get("volume"),
            )
            for e in doc.get("transitions", [])
        ],
        segments=[dm.Segment(key=s["key"], name=s["name"]) for s in doc.get("segments", [])],
        evidence=[_observation(o, places) for o in doc.get("evidence", [])],
    )


def _observation(o: dict, places: dict[str, tuple[str, str]]) -> dm.Observation:
    """One evidence entry; a touchpoint fills its stage and channel."""
    observation = dm.Observation(**{f: o[f] for f in EVIDENCE_FIELDS if f in o})
    if observation.touchpoint is not None:
        observation.stage, observation.channel = places[observation.touchpoint]
    return observation


def _shape_errors(doc) -> dict[str, str]:
    """The structural minimum from_document() needs: the schema tag, a titled map, lists of
    objects with their required fields (the JSON Schema checks the rest)."""
    if not isinstance(doc, dict):
        return {"$": "a cjm-studio/1 document is a JSON object"}
    errors = {}
    if doc.get("schema") != SCHEMA:
        errors["$.schema"] = f"expected {SCHEMA!r}"
    head = doc.get("map")
    if not isinstance(head, dict):
        errors["$.map"] = "required object"
    elif not isinstance(head.get("title"), str) or not head["title"].strip():
        errors["$.map.title"] = "required"
    for section, required in REQUIRED.items():
        items = doc.get(section, [])
        if not isinstance(items, list):
            errors[f"$.{section}"] = "must be a list"
            continue
        for i, element in enumerate(items):
            if not isinstance(element, dict):
                errors[f"$.{section}[{i}]"] = "must be an object"
                continue
            for name in required:
                if not isinstance(element.get(name), str):
                    errors[f"$.{section}[{i}].{name}"] = "required"
    return errors
