"""Suggest how a survey's columns and values map onto a journey map (pure, no Flask).

Names are compared after `norm()`: case, punctuation, spacing and «ё»/«е» do not matter."""

import re

# What a column can be imported as; "" means the column is ignored.
TARGETS = (
    "date",
    "respondent",
    "segment",
    "stage",
    "channel",
    "touchpoint",
    "csat",
    "nps",
    "ces",
    "comment",
)
# Columns whose values name elements of the map.
VALUE_KINDS = ("stage", "channel", "touchpoint", "segment")
# Kinds a missing value may be created for; a touchpoint also needs the row's stage and channel.
CREATABLE = ("stage", "channel", "segment", "touchpoint")

# Header words per target, Russian and English, already normalised. A header matches an alias
# when the alias's words start consecutive words of the header ("дата опроса" ~ "дата").
ALIASES = {
    "date": ("date", "дата", "day", "день", "when", "когда"),
    "respondent": (
        "respondent", "респондент", "id", "respondent id", "user id", "client id", "клиент id",
        "id клиента", "анкета", "номер анкеты", "response id",
    ),
    "segment": (
        "segment", "сегмент", "group", "группа", "customer group", "группа клиентов",
        "клиентская группа",
    ),
    "stage": ("stage", "этап", "стадия", "journey stage", "этап пути"),
    "channel": ("channel", "канал", "канал связи", "канал взаимодействия"),
    "touchpoint": ("touchpoint", "touch point", "точка контакта", "точка взаимодействия"),
    "csat": (
        "csat", "satisfaction", "удовлетворенность", "удовлетворение", "оценка удовлетворенности",
    ),
    "nps": (
        "nps", "recommend", "likelihood to recommend", "готовность рекомендовать",
        "рекомендовать", "вероятность рекомендации", "порекомендуете",
    ),
    "ces": ("ces", "effort", "customer effort", "усилия", "усилие", "легкость"),
    "comment": (
        "comment", "comments", "комментарий", "отзыв", "verbatim", "feedback", "текст отзыва",
        "пожелания",
    ),
}  # fmt: skip


def norm(text) -> str:
    """Compare form of a name: lower case, «ё» as «е», punctuation as spaces, spaces collapsed."""
    text = str(text or "").lower().replace("ё", "е")
    return " ".join(re.sub(r"[^\w]+|_", " ", text).split())


def alias_length(header: str, alias: str) -> int:
    """Words of `alias` matched in `header` (0 if it does not match)."""
    words, wanted = header.split(), alias.split()
    for i in range(len(words) - len(wanted) + 1):
        if all(words[i + j].startswith(w) for j, w in enumerate(wanted)):
            # A short alias ("id") must match a whole word, not the start of one ("idea").
            if len(wanted) == 1 and len(wanted[0]) <= 3 and words[i] != wanted[0]:
                continue
            return len(wanted)
    return 0


def guess_target(header: str) -> tuple[str, int]:
    """The best target for one header and how many alias words matched ("" if none)."""
    header = norm(header)
    best, score = "", 0
    for target, aliases in ALIASES.items():
        for alias in aliases:
            n = alias_length(header, alias)
            # Abbreviations (CSAT, NPS) are the strongest signal, whatever else the header says.
            if n and alias in ("csat", "nps", "ces"):
                n += 10
            if n > score:
                best, score = target, n
    return best, score


def suggest_columns(headers: list[str]) -> list[str]:
    """A target per column ("" = ignore), each target used once, best matches first."""
    guesses = [guess_target(h) for h in headers]
    result = [""] * len(headers)
    used: set[str] = set()
    for i in sorted(range(len(headers)), key=lambda i: -guesses[i][1]):
        target = guesses[i][0]
        if target and target not in used:
            result[i] = target
            used.add(target)
    return result


def carry_columns(old_headers: list[str], old_columns: list[str], headers: list[str]) -> list[str]:
    """Keep a chosen column mapping for a new file: by header name, suggestions for new ones."""
    chosen = {}
    for h, t in zip(old_headers, old_columns, strict=False):
        chosen.setdefault(norm(h), t)
    suggested = suggest_columns(headers)
    result = [chosen.get(norm(h), s) for h, s in zip(headers, suggested, strict=True)]
    # A target kept from the old mapping wins over the same target suggested for another column.
    kept = [t for h, t in zip(headers, result, strict=True) if norm(h) in chosen and t]
    return [
        t if norm(h) in chosen or t not in kept else ""
        for h, t in zip(headers, result, strict=True)
    ]


def columns_from_names(headers: list[str], by_name: dict[str, str]) -> list[str]:
    """A column mapping from {header name: target} (the CLI's --mapping file)."""
    wanted = {norm(h): t for h, t in by_name.items()}
    return [wanted.get(norm(h), "") for h in headers]


def element_index(elements: list[dict]) -> dict[str, dict]:
    """Elements by normalised name and key (names win over keys of other elements)."""
    index: dict[str, dict] = {}
    for e in elements:
        index.setdefault(norm(e["key"]), e)
    for e in elements:
        index[norm(e["name"])] = e
    return index


def suggest_values(distinct: dict[str, list[str]], elements: dict[str, list[dict]]) -> dict:
    """{kind: {norm(value): decision}}: "id:N" for values naming an element, "" for the rest
    (unresolved: the user picks an element, "new" or "ignore")."""
    result = {}
    for kind, values in distinct.items():
        index = element_index(elements.get(kind, []))
        result[kind] = {
            norm(v): (f"id:{index[norm(v)]['id']}" if norm(v) in index else "") for v in values
        }
    return result


def resolve(decision: str, kind: str, elements: list[dict]) -> str:
    """A decision as given by a user or a mapping file: "new", "ignore", "id:N", or an element's
    key or name (turned into "id:N"); "" when it names nothing."""
    decision = (decision or "").strip()
    if decision in ("new", "ignore", ""):
        return decision
    if decision.startswith("id:"):
        ids = {str(e["id"]) for e in elements}
        return decision if decision[3:] in ids else ""
    found = element_index(elements).get(norm(decision))
    return f"id:{found['id']}" if found else ""
