"""Mermaid text of a journey, and a Mermaid `journey` text read back (pure: stdlib only).

Two diagrams leave the app: a `journey` of the main path (sections = stages, one task per
touchpoint, score 1–5 = emotion −2…+2 plus 3) and a `flowchart LR` of the whole graph (stages as
subgraphs, shapes by touchpoint kind, arrows by transition kind). Names are user text, so every
character Mermaid's lexers treat specially is written as a Mermaid entity code (`#35;` for "#"):
Mermaid turns entity codes into placeholders before lexing and back into characters in the
rendered SVG, so any name parses and still reads the same. Node ids are generated (t1, t2 …),
never derived from names or keys, so keywords such as `end` or ids starting with "o"/"x" (which
Mermaid reads as arrow heads) cannot occur.

parse_journey() reads the `journey` grammar as Mermaid 11 does (journey.jison), strictly enough to
say on which line a text goes wrong, and returns plain data for the caller to turn into a map.
"""

import html
import re
from dataclasses import dataclass, field

from .model import EMOTION_MAX, EMOTION_MIN, Journey, Touchpoint

SCORE_MIN, SCORE_MAX = 1, 5
OFFSET = 3  # score = emotion + OFFSET: −2 … +2 becomes 1 … 5
NEUTRAL_SCORE = OFFSET  # a touchpoint without an emotion is drawn neutral

# Characters that end or change a token somewhere in Mermaid's journey and flowchart lexers:
# "#" starts a comment or an entity, ":" and ";" end names, "," splits actors, quotes, pipes
# and backticks end labels, "<", ">" and "&" would be read as HTML. "%" starts a comment only
# as "%%" or first on a line, so "10% off" stays readable (see _percent).
JOURNEY_SPECIAL = set("#:;<>&")
ACTOR_SPECIAL = JOURNEY_SPECIAL | {","}
LABEL_SPECIAL = set('#"<>&`|;')
# Words the journey lexer takes as statements when a line starts with them (case-insensitive).
KEYWORDS = re.compile(r"(journey|title|section|acc)", re.I)

EDGE_ARROWS = {"main": "==>", "alternative": "-->", "loop": "-.->", "drop-out": "--x"}
SHAPES = {  # kind -> (open, close) around a quoted label
    "entry": ("([", "])"),
    "step": ("[", "]"),
    "decision": ("{", "}"),
    "goal": ("[[", "]]"),
    "exit": (">", "]"),
}
CLASSES = {
    "entry": "fill:#e0f2fe,stroke:#0369a1,stroke-width:2px",
    "step": "fill:#ffffff,stroke:#475569",
    "decision": "fill:#fef9c3,stroke:#a16207",
    "goal": "fill:#dcfce7,stroke:#15803d,stroke-width:2px",
    "exit": "fill:#fee2e2,stroke:#b91c1c,stroke-dasharray:5 3",
}


def entity(ch: str) -> str:
    """A character as a Mermaid entity code."""
    return f"#{ord(ch)};"


def _escape(text: str, special: set[str]) -> str:
    """One line of text with the special characters as entity codes (newlines become spaces)."""
    text = " ".join(text.split())
    if text.startswith("%") or "%%" in text:
        special = special | {"%"}
    return "".join(entity(c) if c in special else c for c in text)


def journey_text(text: str, special: set[str] = JOURNEY_SPECIAL) -> str:
    """A section, task or actor name the journey lexer reads back unchanged."""
    out = _escape(text, special) or entity(" ")
    # A name starting with a statement word ("Section two") would be lexed as that statement.
    if KEYWORDS.match(out):
        out = entity(out[0]) + out[1:]
    return out


def label(text: str) -> str:
    """A double-quoted flowchart label (quotes, brackets, "#", Cyrillic all safe inside)."""
    return '"' + (_escape(text, LABEL_SPECIAL) or entity(" ")) + '"'


def score_of(emotion: int | None) -> int:
    """Mermaid's 1–5 task score of an emotion −2…+2 (None: neutral)."""
    if emotion is None:
        return NEUTRAL_SCORE
    return max(SCORE_MIN, min(SCORE_MAX, emotion + OFFSET))


def emotion_of(score: int) -> int:
    """The emotion −2…+2 of a 1–5 score."""
    return max(EMOTION_MIN, min(EMOTION_MAX, score - OFFSET))


def main_walk(journey: Journey, path: tuple[str, ...] | None = None) -> list[Touchpoint]:
    """The touchpoints of the main path, in order.

    `path` is the analytics' main path (the widest entry→goal path by volume) when there is one.
    Without volumes the walk follows the team's own "main" transitions from the first entry
    (busiest first, never revisiting); a map without transitions lists its touchpoints by stage.
    """
    by_key = {tp.key: tp for tp in journey.touchpoints}
    if path:
        return [by_key[k] for k in path]
    if not journey.transitions:
        order = {s.key: i for i, s in enumerate(journey.stages)}
        return sorted(journey.touchpoints, key=lambda tp: order.get(tp.stage, len(order)))
    start = next((tp for tp in journey.touchpoints if tp.kind == "entry"), None)
    if start is None:
        return []
    walk, seen = [start], {start.key}
    while True:
        out = [
            tr
            for tr in journey.transitions
            if tr.source == walk[-1].key and tr.kind == "main" and tr.target not in seen
        ]
        if not out:
            return walk
        nxt = max(out, key=lambda tr: tr.volume or 0)  # max keeps the first of equals
        walk.append(by_key[nxt.target])
        seen.add(nxt.target)


def journey_diagram(journey: Journey, walk: list[Touchpoint]) -> str:
    """A Mermaid `journey` of the given walk: a section per run of touchpoints in one stage."""
    stage_name = {s.key: s.name for s in journey.stages}
    persona = journey.primary_persona
    actor = f": {journey_text(persona.name, ACTOR_SPECIAL)}" if persona else ""
    lines = ["journey", f"  title {journey_text(journey.title)}"]
    section = None
    for tp in walk:
        if tp.stage != section:
            section = tp.stage
            lines.append(f"  section {journey_text(stage_name.get(tp.stage, tp.stage))}")
        lines.append(f"    {journey_text(tp.name)}: {score_of(tp.emotion)}{actor}")
    return "\n".join(lines) + "\n"


def flowchart(journey: Journey) -> str:
    """A Mermaid `flowchart LR` of the whole graph: stages as subgraphs, every transition."""
    ids = {tp.key: f"t{i}" for i, tp in enumerate(journey.touchpoints, 1)}
    lines = ["flowchart LR", f"  accTitle: {_escape(journey.title, {'#'}) or '-'}"]
    for i, stage in enumerate(journey.stages, 1):
        lines.append(f"  subgraph s{i} [{label(stage.name)}]")
        for tp in journey.touchpoints:
            if tp.stage == stage.key:
                left, right = SHAPES.get(tp.kind, SHAPES["step"])
                lines.append(f"    {ids[tp.key]}{left}{label(tp.name)}{right}")
        lines.append("  end")
    for tr in journey.transitions:
        text = " · ".join(
            t for t in (tr.label, "" if tr.volume is None else str(tr.volume)) if t.strip()
        )
        arrow = EDGE_ARROWS.get(tr.kind, "-->")
        if text:
            arrow += f"|{label(text)}|"
        lines.append(f"  {ids[tr.source]} {arrow} {ids[tr.target]}")
    for kind, style in CLASSES.items():
        members = [ids[tp.key] for tp in journey.touchpoints if tp.kind == kind]
        if members:
            lines.append(f"  classDef {kind} {style}")
            lines.append(f"  class {','.join(members)} {kind}")
    return "\n".join(lines) + "\n"


# --- reading a journey text ---------------------------------------------------------------------


# What can be wrong, by code; the app shows its own translated wording of the same messages.
MESSAGES = {
    "front_matter": "the front matter (---) is not closed",
    "no_header": "a Mermaid journey starts with the word “journey”",
    "empty": "the text is empty: a Mermaid journey starts with the word “journey”",
    "semicolon": "“;” is not allowed here (write #59; for a semicolon)",
    "section_colon": "a section name cannot contain “:” (write #58; for a colon)",
    "no_tasks": "no tasks: write at least one “Task name: 3” under a section",
    "too_many": "more than %(max)s tasks",
    "task_syntax": "a task is written “Task name: score” (score 1 to 5)",
    "task_no_name": "the task has no name before “:”",
    "bad_score": "the score must be a whole number from 1 to 5, not “%(score)s”",
    "title_long": "the title is longer than %(max)s characters",
    "section_long": "the section name is longer than %(max)s characters",
    "task_long": "the task name is longer than %(max)s characters",
    "actor_long": "an actor name is longer than %(max)s characters",
}


class MermaidError(ValueError):
    """A journey text that cannot be read; `errors` holds (line number, code, values) triples
    (MESSAGES[code] % values is the English message)."""

    def __init__(self, errors: list[tuple[int, str, dict]]):
        self.errors = errors
        super().__init__("; ".join(f"line {n}: {m}" for n, m in self.messages()))

    def messages(self) -> list[tuple[int, str]]:
        """(line, English message) pairs."""
        return [(n, MESSAGES[code] % values) for n, code, values in self.errors]


@dataclass
class Task:
    name: str
    score: int
    actors: list[str]
    line: int


@dataclass
class Section:
    name: str
    line: int
    tasks: list[Task] = field(default_factory=list)


@dataclass
class JourneyText:
    """What a Mermaid `journey` says: a title, sections of scored tasks, and the actors."""

    title: str = ""
    sections: list[Section] = field(default_factory=list)

    @property
    def actors(self) -> list[str]:
        """Every actor named, in order of first appearance."""
        return list(dict.fromkeys(a for s in self.sections for t in s.tasks for a in t.actors))


ENTITY = re.compile(r"#(\w+);")
MAX_NAME = 200  # the longest touchpoint or map name
MAX_SECTION = 120  # the longest stage or persona name
MAX_TASKS = 1000


def _decode(text: str) -> str:
    """Entity codes (`#35;`, `#quot;`) back to characters."""
    return html.unescape(ENTITY.sub(lambda m: f"&{'#' if m[1].isdigit() else ''}{m[1]};", text))


def _strip_comment(text: str) -> str:
    """The line without a `#` comment (entity codes are not comments)."""
    out, i = [], 0
    while i < len(text):
        m = ENTITY.match(text, i)
        if m:
            out.append(m[0])
            i = m.end()
        elif text[i] == "#":
            break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def parse_journey(text: str, default_section: str = "Journey") -> JourneyText:
    """Read a Mermaid `journey` text; MermaidError with every problem and its line number.

    Tasks before the first section go into a section named `default_section`. Scores must be
    whole numbers 1–5 (Mermaid draws those as its five faces).
    """
    result, errors = JourneyText(), []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    n, header = 0, False
    # YAML front matter (--- … ---) may carry the title.
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is None:
            raise MermaidError([(1, "front_matter", {})])
        for i in range(1, end):
            m = re.match(r"\s*title\s*:\s*(.*)$", lines[i])
            if m:
                result.title = m[1].strip().strip("\"'")
        n = end + 1
    in_descr, number = False, max(n, 1)
    for number, raw in enumerate(lines[n:], n + 1):
        stripped = raw.strip()
        if in_descr:
            in_descr = "}" not in stripped
            continue
        if not stripped or stripped.startswith("%%"):
            continue
        if not header:
            if re.fullmatch(r"journey\b.*", stripped, re.I) and not _strip_comment(
                stripped[7:]
            ).strip(" ;"):
                header = True
                continue
            errors.append((number, "no_header", {}))
            break
        line = _strip_comment(stripped).strip()
        if not line:
            continue
        if ";" in ENTITY.sub("", line):
            errors.append((number, "semicolon", {}))
            continue
        word = line.split(None, 1)[0].lower()
        rest = line[len(word) :].strip()
        if word == "title" and rest:
            result.title = _decode(rest)
        elif re.match(r"acc(title|descr)\s*:", line, re.I):
            continue
        elif re.match(r"accdescr\s*\{", line, re.I):
            in_descr = "}" not in line
        elif word == "section" and rest:
            if ":" in rest:
                errors.append((number, "section_colon", {}))
                continue
            result.sections.append(Section(_decode(rest), number))
        else:
            task = _task(line, number, errors)
            if task is None:
                continue
            if not result.sections:
                result.sections.append(Section(default_section, number))
            result.sections[-1].tasks.append(task)
    if not header and not errors:
        errors.append((1, "empty", {}))
    tasks = sum(len(s.tasks) for s in result.sections)
    if header and not errors and not tasks:
        errors.append((number, "no_tasks", {}))
    if tasks > MAX_TASKS:
        errors.append((number, "too_many", {"max": MAX_TASKS}))
    errors += _length_errors(result)
    if errors:
        raise MermaidError(errors)
    return result


def _task(line: str, number: int, errors: list) -> Task | None:
    """One `Task name: score[: actor, actor]` line (None, and an error noted, if it is not)."""
    if ":" not in line:
        errors.append((number, "task_syntax", {}))
        return None
    name, data = line.split(":", 1)
    parts = data.split(":", 1)
    name = _decode(name.strip())
    if not name:
        errors.append((number, "task_no_name", {}))
        return None
    raw_score = parts[0].strip()
    if not re.fullmatch(r"[+-]?\d+", raw_score) or not (SCORE_MIN <= int(raw_score) <= SCORE_MAX):
        errors.append((number, "bad_score", {"score": raw_score}))
        return None
    actors = [_decode(a.strip()) for a in parts[1].split(",")] if len(parts) > 1 else []
    return Task(name, int(raw_score), [a for a in actors if a], number)


def _length_errors(result: JourneyText) -> list[tuple[int, str, dict]]:
    """Names longer than the map can store, by line."""
    errors = []
    if len(result.title) > MAX_NAME:
        errors.append((1, "title_long", {"max": MAX_NAME}))
    for s in result.sections:
        if len(s.name) > MAX_SECTION:
            errors.append((s.line, "section_long", {"max": MAX_SECTION}))
        for t in s.tasks:
            if len(t.name) > MAX_NAME:
                errors.append((t.line, "task_long", {"max": MAX_NAME}))
            if any(len(a) > MAX_SECTION for a in t.actors):
                errors.append((t.line, "actor_long", {"max": MAX_SECTION}))
    return errors
