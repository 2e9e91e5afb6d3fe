"""The open `cjm-studio/1` document: a whole map as JSON, elements referenced by string keys.

Pure (standard library only). The JSON Schema next to this file (cjm-studio-1.schema.json) checks
types and ranges; from_document() checks what a schema cannot: keys are unique and every reference
names an element that exists. Database ids and versions never leave the app. Sections this
version does not know (a later version may add some) are ignored, so older apps still import
newer documents; "segments" and "evidence" came later within version 1, so documents without
them import as before. Steps 4–6 ("barriers", "strategies", "experiments", "kpis", "notes") came
later still: they are optional, and to_document() leaves each out while it is empty, so a map
without them gives exactly the document it gave before they existed.

Observations have no key: a barrier names its evidence by position in the document's
"evidence" list (0 = the first), which export and import both keep in recorded order.
"""

import re
from datetime import date, datetime

from . import model as dm

SCHEMA = "cjm-studio/1"
SCHEMA_FILE = "cjm-studio-1.schema.json"
BASE = ("personas", "stages", "channels", "touchpoints", "transitions", "segments", "evidence")
PLAN = ("barriers", "strategies", "experiments", "kpis", "notes")  # steps 4–6, left out if empty
SECTIONS = BASE + PLAN
# Observations and notes have no key of their own.
KEYED = tuple(s for s in SECTIONS if s not in ("evidence", "notes"))
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

BARRIER_FIELDS = (
    "key",
    "touchpoint",
    "transition",
    "title",
    "description",
    "type",
    "severity",
    "status",
    "segments",
    "evidence",
)
STRATEGY_FIELDS = (
    "key",
    "title",
    "description",
    "owner",
    "impact",
    "effort",
    "confidence",
    "status",
    "barriers",
)
EXPERIMENT_FIELDS = (
    "key",
    "strategy",
    "hypothesis",
    "metric",
    "transition",
    "stage",
    "touchpoint",
    "segment",
    "kpi",
    "baseline",
    "baseline_n",
    "baseline_hits",
    "target",
    "starts_on",
    "ends_on",
    "result",
    "result_n",
    "result_hits",
    "p_value",
    "status",
    "verdict",
    "learning",
    "closed_at",
)
KPI_FIELDS = ("key", "name", "kind", "unit", "higher_is_better")
NOTE_FIELDS = ("kind", "touchpoint", "stage", "experiment", "text")
FLOATS = ("baseline", "target", "result", "p_value")  # JSON numbers read as floats
TIMESTAMP = "%Y-%m-%dT%H:%M:%SZ"  # closed_at: UTC, whole seconds

REQUIRED = {
    "personas": ("key", "name"),
    "stages": ("key", "name"),
    "channels": ("key", "name"),
    "touchpoints": ("key", "stage", "channel", "name"),
    "transitions": ("key", "from", "to"),
    "segments": ("key", "name"),
    "evidence": ("source",),
    "barriers": ("key", "title", "type"),
    "strategies": ("key", "title"),
    "experiments": ("key", "strategy", "metric"),
    "kpis": ("key", "name"),
    "notes": ("kind", "text"),
}
# Fields holding a list of keys (or of evidence positions), checked for shape before reading.
LISTS = {"barriers": ("segments", "evidence"), "strategies": ("barriers",), "kpis": ("values",)}


def to_document(journey: dm.Journey) -> dict:
    """The map as a `cjm-studio/1` document (a dict ready for json.dumps, in a fixed key order)."""
    document = {
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
    plan = {
        "barriers": [_fields(b, BARRIER_FIELDS) for b in journey.barriers],
        "strategies": [_fields(s, STRATEGY_FIELDS) for s in journey.strategies],
        "experiments": [_fields(e, EXPERIMENT_FIELDS) for e in journey.experiments],
        "kpis": [
            _fields(k, KPI_FIELDS)
            | {"values": [_fields(v, ("date", "value", "experiment")) for v in k.values]}
            for k in journey.kpis
        ],
        "notes": [_fields(n, NOTE_FIELDS) for n in journey.notes],
    }
    return document | {section: items for section, items in plan.items() if items}


def _fields(obj, names: tuple[str, ...]) -> dict:
    """The named attributes of a dataclass as a dict in that order (lists copied)."""
    return {f: list(v) if isinstance(v := getattr(obj, f), list) else v for f in names}


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
    for section, fields in REFERENCES.items():
        for i, element in _elements(doc, section):
            for name, target in fields:
                value = element.get(name)
                if isinstance(value, str) and value not in keys[target]:
                    errors[f"$.{section}[{i}].{name}"] = f"unknown {NOUNS[target]} {value!r}"
    errors |= _list_reference_errors(doc, keys)
    # An unknown key says more than a mismatch or a missing place.
    return _evidence_errors(doc, keys) | _plan_errors(doc) | errors


# Single references: (field, the section it names). Lists of keys are in LIST_REFERENCES.
REFERENCES = {
    "touchpoints": (("stage", "stages"), ("channel", "channels")),
    "transitions": (("from", "touchpoints"), ("to", "touchpoints")),
    "evidence": (
        ("touchpoint", "touchpoints"),
        ("stage", "stages"),
        ("channel", "channels"),
        ("segment", "segments"),
    ),
    "barriers": (("touchpoint", "touchpoints"), ("transition", "transitions")),
    "experiments": (
        ("strategy", "strategies"),
        ("transition", "transitions"),
        ("stage", "stages"),
        ("touchpoint", "touchpoints"),
        ("segment", "segments"),
        ("kpi", "kpis"),
    ),
    "notes": (("touchpoint", "touchpoints"), ("stage", "stages"), ("experiment", "experiments")),
}
LIST_REFERENCES = {
    "barriers": (("segments", "segments"),),
    "strategies": (("barriers", "barriers"),),
}
NOUNS = {
    "stages": "stage",
    "channels": "channel",
    "touchpoints": "touchpoint",
    "transitions": "transition",
    "segments": "segment",
    "barriers": "barrier",
    "strategies": "strategy",
    "experiments": "experiment",
    "kpis": "KPI",
}


def _list_reference_errors(doc: dict, keys: dict[str, set]) -> dict[str, str]:
    """Lists of references: each key known and listed once; evidence positions in range; a
    KPI value's experiment known."""
    errors = {}
    for section, fields in LIST_REFERENCES.items():
        for i, element in _elements(doc, section):
            for name, target in fields:
                seen: set = set()
                for j, value in _items(element, name):
                    path = f"$.{section}[{i}].{name}[{j}]"
                    if not isinstance(value, str):
                        continue
                    if value not in keys[target]:
                        errors[path] = f"unknown {NOUNS[target]} {value!r}"
                    elif value in seen:
                        errors[path] = f"{value!r} is listed twice"
                    seen.add(value)
    observations = len(doc["evidence"]) if isinstance(doc.get("evidence"), list) else 0
    for i, barrier in _elements(doc, "barriers"):
        seen = set()
        for j, value in _items(barrier, "evidence"):
            if not _is_index(value):
                continue
            path = f"$.barriers[{i}].evidence[{j}]"
            if value >= observations:
                errors[path] = f"no observation {value}: $.evidence has {observations}"
            elif value in seen:
                errors[path] = f"{value!r} is listed twice"
            seen.add(value)
    for i, kpi in _elements(doc, "kpis"):
        for j, value in _items(kpi, "values"):
            ref = value.get("experiment") if isinstance(value, dict) else None
            if isinstance(ref, str) and ref not in keys["experiments"]:
                errors[f"$.kpis[{i}].values[{j}].experiment"] = f"unknown experiment {ref!r}"
    return errors


def _plan_errors(doc: dict) -> dict[str, str]:
    """Steps 4–6 rules a schema cannot see: a barrier sits on exactly one place, a note on a
    touchpoint or a stage, and dates are real dates."""
    errors = {}
    for i, b in _elements(doc, "barriers"):
        places = [isinstance(b.get(name), str) for name in ("touchpoint", "transition")]
        if sum(places) != 1:
            errors[f"$.barriers[{i}]"] = "sits on a touchpoint or a transition (exactly one)"
    for i, n in _elements(doc, "notes"):
        if not any(isinstance(n.get(name), str) for name in ("touchpoint", "stage")):
            errors[f"$.notes[{i}]"] = "needs a touchpoint or a stage"
    for i, e in _elements(doc, "experiments"):
        for name in ("starts_on", "ends_on"):
            when = e.get(name)
            if isinstance(when, str) and not _is_date(when):
                errors[f"$.experiments[{i}].{name}"] = f"not a date (YYYY-MM-DD): {when!r}"
        when = e.get("closed_at")
        if isinstance(when, str) and not _is_timestamp(when):
            errors[f"$.experiments[{i}].closed_at"] = (
                f"not a UTC time (YYYY-MM-DDTHH:MM:SSZ): {when!r}"
            )
    for i, k in _elements(doc, "kpis"):
        for j, value in _items(k, "values"):
            when = value.get("date") if isinstance(value, dict) else None
            if isinstance(when, str) and not _is_date(when):
                errors[f"$.kpis[{i}].values[{j}].date"] = f"not a date (YYYY-MM-DD): {when!r}"
    return errors


def _items(element: dict, name: str):
    """(index, item) of a list field of an element; nothing if it is not a list."""
    items = element.get(name)
    return list(enumerate(items)) if isinstance(items, list) else []


def _is_index(value) -> bool:
    """Whether value is a list position (a non-negative int, not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_timestamp(text: str) -> bool:
    """Whether text is a real UTC time written YYYY-MM-DDTHH:MM:SSZ (no 2024-02-30T25:…)."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z", text):
        return False
    try:
        datetime.strptime(text, TIMESTAMP)
    except ValueError:
        return False
    return True


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
        barriers=[_read(dm.Barrier, b, BARRIER_FIELDS) for b in doc.get("barriers", [])],
        strategies=[_read(dm.Strategy, s, STRATEGY_FIELDS) for s in doc.get("strategies", [])],
        experiments=[
            _read(dm.Experiment, e, EXPERIMENT_FIELDS) for e in doc.get("experiments", [])
        ],
        kpis=[
            _read(dm.Kpi, k, KPI_FIELDS, values=[_kpi_value(v) for v in k.get("values", [])])
            for k in doc.get("kpis", [])
        ],
        notes=[_read(dm.Note, n, NOTE_FIELDS) for n in doc.get("notes", [])],
    )


def _read(cls, element: dict, names: tuple[str, ...], **extra):
    """A dataclass from the named fields an element has (lists copied, numbers as floats)."""
    values = {f: element[f] for f in names if f in element}
    for name, value in values.items():
        if isinstance(value, list):
            values[name] = list(value)
        elif name in FLOATS and value is not None:
            values[name] = float(value)
    return cls(**values, **extra)


def _kpi_value(v: dict) -> dm.KpiValue:
    """One KPI reading (its value as a float)."""
    return dm.KpiValue(date=v["date"], value=float(v["value"]), experiment=v.get("experiment"))


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
            for name in LISTS.get(section, ()):
                items = element.get(name, [])
                if not isinstance(items, list):
                    errors[f"$.{section}[{i}].{name}"] = "must be a list"
                    continue
                if name == "values":
                    continue  # KPI readings are checked below
                wanted = _is_index if name == "evidence" else (lambda v: isinstance(v, str))
                need = "must be a position (0, 1, …)" if name == "evidence" else "must be a key"
                for j, item in enumerate(items):
                    if not wanted(item):
                        errors[f"$.{section}[{i}].{name}[{j}]"] = need
            if section == "experiments":
                for name in FLOATS:
                    if element.get(name) is not None and not _is_number(element[name]):
                        errors[f"$.{section}[{i}].{name}"] = "must be a number"
    for i, kpi in _elements(doc, "kpis"):
        for j, value in _items(kpi, "values"):
            path = f"$.kpis[{i}].values[{j}]"
            if not isinstance(value, dict):
                errors[path] = "must be an object"
            elif not isinstance(value.get("date"), str):
                errors[f"{path}.date"] = "required"
            elif not _is_number(value.get("value")):
                errors[f"{path}.value"] = "required number"
    return errors


def _is_number(value) -> bool:
    """Whether value is a JSON number (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool)
