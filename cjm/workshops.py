"""Live workshops: join codes, participants, sticky notes, dot votes, the facilitator's controls,
promoting notes into the map and the end-of-workshop summary. Views live in routes/workshops.py;
the event transport in cjm.live (events say what changed, screens refetch their own fragments)."""

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import current_app, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from . import store
from .access import role_of
from .extensions import db
from .models import (
    Barrier,
    Channel,
    Dot,
    Journey,
    Note,
    Participant,
    Persona,
    Stage,
    Strategy,
    Touchpoint,
    Transition,
    Workshop,
    WorkshopEvent,
)

# No 0/O, 1/I/L: read off a projector and typed on a phone without doubt. 31⁶ ≈ 887 million
# codes, drawn by `secrets`, and join attempts are rate-limited: not guessable in practice.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
NOTE_KINDS = ("thought", "pain", "idea", "question")
NOTE_MAX = 500  # characters; Note.text is String(500)
MAX_DOTS = 20
STEP_COUNT = 6
TIMER_MAX_MINUTES = 180
PERSONA_FIELDS = ("goals", "needs", "expectations", "frustrations", "quote")
PROMOTE_KINDS = ("touchpoint", "barrier", "strategy", "persona")
COOKIE_DAYS = 2


class WorkshopError(Exception):
    """A workshop action that cannot happen now (ended, locked, no dots left, …): a 409."""


def now() -> datetime:
    """Timezone-aware UTC now."""
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    """A stored datetime as aware UTC (SQLite gives naive values back)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


# --- codes and participants ---------------------------------------------------------------------


def new_code() -> str:
    """A fresh join code no running workshop uses."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.session.scalar(select(Workshop.id).filter_by(code=code)) is None:
            return code


def clean_code(raw: str) -> str:
    """What a person typed, as a code: upper case, spaces and dashes dropped."""
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())


def by_code(raw: str) -> Workshop | None:
    """The running workshop with this join code (ended ones have none), on a live map."""
    code = clean_code(raw)
    if len(code) != CODE_LENGTH:
        return None
    found = db.session.scalar(select(Workshop).filter_by(code=code))
    if found is None or found.ended_at is not None:
        return None
    journey = db.session.get(Journey, found.journey_id)
    return found if journey is not None and journey.deletion_id is None else None


def running(journey_id: int) -> Workshop | None:
    """The map's workshop in progress, if any."""
    return db.session.scalar(
        select(Workshop)
        .where(Workshop.journey_id == journey_id, Workshop.ended_at.is_(None))
        .order_by(Workshop.id.desc())
    )


def past(journey_id: int) -> list[Workshop]:
    """The map's ended workshops, newest first (their summaries are kept)."""
    return list(
        db.session.scalars(
            select(Workshop)
            .where(Workshop.journey_id == journey_id, Workshop.ended_at.is_not(None))
            .order_by(Workshop.ended_at.desc())
        )
    )


def start(journey_id: int, user_id: int, dots: int = 5) -> Workshop:
    """Open a workshop on the map with a fresh join code (caller commits)."""
    workshop = Workshop(journey_id=journey_id, facilitator_id=user_id, code=new_code(), dots=dots)
    db.session.add(workshop)
    db.session.flush()
    return workshop


def token_hash(token: str) -> str:
    """Only this is stored: a database leak does not let anyone act as a participant."""
    return hashlib.sha256(token.encode()).hexdigest()


def cookie_name(workshop_id: int) -> str:
    """The participant cookie of one workshop (one browser may sit in two)."""
    return f"cjm_ws{workshop_id}"


def join(workshop: Workshop, name: str, user_id: int | None = None) -> tuple[Participant, str]:
    """Seat someone in the room: the row and the secret for their cookie (caller commits)."""
    token = secrets.token_urlsafe(32)
    person = Participant(
        workshop_id=workshop.id,
        user_id=user_id,
        name=name.strip()[:60],
        token_hash=token_hash(token),
        last_seen_at=now(),
    )
    db.session.add(person)
    db.session.flush()
    return person, token


def set_cookie(response, workshop_id: int, token: str) -> None:
    """The participant cookie: HttpOnly, only sent to this workshop's URLs."""
    response.set_cookie(
        cookie_name(workshop_id),
        token,
        max_age=COOKIE_DAYS * 86400,
        path=f"/w/{workshop_id}",
        httponly=True,
        samesite="Lax",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )


def participant_by_cookie(workshop_id: int) -> Participant | None:
    """The participant whose cookie this request carries, for this workshop only."""
    token = request.cookies.get(cookie_name(workshop_id))
    if not token:
        return None
    return db.session.scalar(
        select(Participant).filter_by(workshop_id=workshop_id, token_hash=token_hash(token))
    )


def member_participant(workshop: Workshop, create: bool = False) -> Participant | None:
    """A signed-in member's seat in the room (made on their first note, dot or ping)."""
    person = db.session.scalar(
        select(Participant).filter_by(workshop_id=workshop.id, user_id=current_user.id)
    )
    if person is None and create:
        person, _token = join(workshop, current_user.name, current_user.id)
    return person


def admit(workshop_id: int):
    """The "participant" access rule: the workshop's participant (by cookie) or a member of its
    map with at least view rights passes; sets g.workshop, g.journey, g.role, g.participant.
    Anyone else: 404 when signed in (ids do not leak), else to the join page."""
    from flask import abort

    workshop = db.session.get(Workshop, workshop_id)
    journey = db.session.get(Journey, workshop.journey_id) if workshop else None
    if journey is None or journey.deletion_id is not None:
        abort(404)
    g.workshop, g.journey, g.role = workshop, journey, None
    g.participant = participant_by_cookie(workshop_id)
    if g.participant is not None:
        return None
    if current_user.is_authenticated:
        g.role = role_of(journey.id, current_user.id)
        if g.role is None:
            abort(404)
        g.participant = member_participant(workshop)
        return None
    return redirect(url_for("workshops.join"), 303)


def seat() -> Participant:
    """The current participant for a write; a member gets a seat on first use (caller commits)."""
    if g.participant is None:
        g.participant = member_participant(g.workshop, create=True)
    return g.participant


def open_for_posting(workshop: Workshop, facilitator: bool = False) -> None:
    """Refuse participant writes once the workshop ended or while the board is locked."""
    if workshop.ended_at is not None:
        raise WorkshopError("ended")
    if workshop.locked and not facilitator:
        raise WorkshopError("locked")


# --- live events --------------------------------------------------------------------------------


def publish(workshop_id: int, kind: str, data: dict | None = None) -> None:
    """Tell every screen of the workshop what changed (call after the commit)."""
    from . import live

    live.publish(workshop_id, kind, data)


def last_event_id(workshop_id: int) -> int:
    """The newest event id, so a page's stream starts right after what it rendered."""
    return (
        db.session.scalar(select(func.max(WorkshopEvent.id)).filter_by(workshop_id=workshop_id))
        or 0
    )


# --- the board ----------------------------------------------------------------------------------


@dataclass
class Card:
    """A note as the boards show it."""

    note: Note
    author: str
    dots: int = 0
    mine: int = 0


@dataclass
class BarrierCard:
    """A barrier of the map as the workshop votes on it."""

    barrier: Barrier
    where: str
    dots: int = 0
    mine: int = 0


@dataclass
class Place:
    """A touchpoint column cell with its notes."""

    touchpoint: Touchpoint
    cards: list[Card] = field(default_factory=list)


@dataclass
class Column:
    """A stage of the board: notes on the stage, on its touchpoints, and its barriers."""

    stage: Stage
    cards: list[Card] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    barriers: list[BarrierCard] = field(default_factory=list)

    @property
    def note_count(self) -> int:
        return len(self.cards) + sum(len(p.cards) for p in self.places)

    def all_cards(self) -> list[Card]:
        return self.cards + [c for p in self.places for c in p.cards]


def live_touchpoints(journey_id: int, stage_ids: list[int]) -> list[Touchpoint]:
    """The map's live touchpoints on live stages, in order."""
    return list(
        db.session.scalars(
            store.live(Touchpoint, journey_id)
            .where(Touchpoint.stage_id.in_(stage_ids))
            .order_by(Touchpoint.position, Touchpoint.id)
        )
    )


def dot_counts(workshop_id: int, column, participant_id: int | None) -> tuple[dict, dict]:
    """Dots per note (or barrier) in this workshop: all of them, and the participant's."""
    rows = db.session.execute(
        select(column, Dot.participant_id, func.count(Dot.id))
        .where(Dot.workshop_id == workshop_id, column.is_not(None))
        .group_by(column, Dot.participant_id)
    )
    total: dict[int, int] = {}
    mine: dict[int, int] = {}
    for target, person, n in rows:
        total[target] = total.get(target, 0) + n
        if person == participant_id:
            mine[target] = n
    return total, mine


def live_notes(workshop_id: int) -> list[Note]:
    """The workshop's notes that are not deleted, grouped then oldest first."""
    return list(
        db.session.scalars(
            select(Note)
            .where(Note.workshop_id == workshop_id, Note.deletion_id.is_(None))
            .order_by(Note.group_label, Note.created_at, Note.id)
        )
    )


def board(workshop: Workshop, participant_id: int | None = None) -> list[Column]:
    """Every stage with its notes and barriers, dot counts included; a fixed number of queries."""
    jid = workshop.journey_id
    columns = {s.id: Column(s) for s in store.ordered(Stage, jid)}
    touchpoints = live_touchpoints(jid, list(columns))
    places = {tp.id: Place(tp) for tp in touchpoints}
    for tp in touchpoints:
        columns[tp.stage_id].places.append(places[tp.id])
    names = dict(
        db.session.execute(
            select(Participant.id, Participant.name).filter_by(workshop_id=workshop.id)
        ).all()
    )
    total, mine = dot_counts(workshop.id, Dot.note_id, participant_id)
    for note in live_notes(workshop.id):
        card = Card(note, names.get(note.participant_id, ""), total.get(note.id, 0))
        card.mine = mine.get(note.id, 0)
        if note.touchpoint_id in places:
            places[note.touchpoint_id].cards.append(card)
        elif note.touchpoint_id is None and note.stage_id in columns:
            columns[note.stage_id].cards.append(card)
    total, mine = dot_counts(workshop.id, Dot.barrier_id, participant_id)
    for barrier, tp_id in live_barriers(jid, places):
        tp = places[tp_id].touchpoint
        card = BarrierCard(barrier, tp.name, total.get(barrier.id, 0), mine.get(barrier.id, 0))
        columns[tp.stage_id].barriers.append(card)
    return list(columns.values())


def live_barriers(journey_id: int, places: dict) -> list[tuple[Barrier, int]]:
    """The map's live barriers with the touchpoint they sit on (a transition's: its source)."""
    sources = dict(
        db.session.execute(
            select(Transition.id, Transition.source_id).where(
                Transition.journey_id == journey_id,
                Transition.deletion_id.is_(None),
                Transition.source_id.in_(list(places)),
            )
        ).all()
    )
    found = []
    for barrier in db.session.scalars(store.live(Barrier, journey_id).order_by(Barrier.id)):
        tp_id = barrier.touchpoint_id or sources.get(barrier.transition_id)
        if tp_id in places:
            found.append((barrier, tp_id))
    return found


def places_of(journey_id: int) -> list[tuple[Stage, list[Touchpoint]]]:
    """Where a note can go: each stage and its touchpoints (the note form's choices)."""
    stages = store.ordered(Stage, journey_id)
    touchpoints = live_touchpoints(journey_id, [s.id for s in stages])
    return [(s, [tp for tp in touchpoints if tp.stage_id == s.id]) for s in stages]


def resolve_place(journey_id: int, value: str) -> tuple[int | None, int | None] | None:
    """A note form's "st-<id>" / "tp-<id>" as (stage_id, touchpoint_id) of this map, else None."""
    kind, _sep, ident = (value or "").partition("-")
    if not ident.isdigit():
        return None
    for stage, touchpoints in places_of(journey_id):
        if kind == "st" and stage.id == int(ident):
            return stage.id, None
        for tp in touchpoints:
            if kind == "tp" and tp.id == int(ident):
                return tp.stage_id, tp.id
    return None


def place_value(note: Note) -> str:
    """The form value of where a note sits."""
    return f"tp-{note.touchpoint_id}" if note.touchpoint_id else f"st-{note.stage_id}"


def live_note(workshop: Workshop, note_id: int) -> Note | None:
    """A live note of this workshop, or None (another workshop's does not exist here)."""
    note = db.session.get(Note, note_id)
    if note is None or note.workshop_id != workshop.id or note.deletion_id is not None:
        return None
    return note


def add_note(workshop: Workshop, person: Participant, kind: str, place, text: str) -> Note:
    """Post a sticky note (caller commits)."""
    stage_id, touchpoint_id = place
    note = Note(
        journey_id=workshop.journey_id,
        workshop_id=workshop.id,
        participant_id=person.id,
        user_id=person.user_id,
        stage_id=stage_id,
        touchpoint_id=touchpoint_id,
        kind=kind,
        text=text.strip(),
    )
    db.session.add(note)
    db.session.flush()
    return note


def delete_note(note: Note, user_id: int | None) -> None:
    """Hide a note; its dots go back to their owners (caller commits)."""
    store.soft_delete([note], note.journey_id, user_id, f"note “{note.text[:60]}”")
    db.session.execute(db.delete(Dot).where(Dot.note_id == note.id))


# --- dots ---------------------------------------------------------------------------------------


def dots_used(person: Participant | None) -> int:
    """How many of their dots the participant has placed."""
    if person is None:
        return 0
    return db.session.scalar(select(func.count(Dot.id)).filter_by(participant_id=person.id))


def vote(workshop: Workshop, person: Participant, note_id=None, barrier_id=None) -> None:
    """Place one dot on a note or a barrier, in the first free slot 1..N and committed here.
    Exact under concurrency: (participant, slot) is unique, so of two requests racing for the
    last slot the database refuses one; that one retries the next free slot or gives up."""
    for _attempt in range(workshop.dots + 1):
        taken = set(db.session.scalars(select(Dot.slot).filter_by(participant_id=person.id)))
        free = next((s for s in range(1, workshop.dots + 1) if s not in taken), None)
        if free is None:
            db.session.rollback()
            raise WorkshopError("no-dots")
        db.session.add(
            Dot(
                workshop_id=workshop.id,
                participant_id=person.id,
                slot=free,
                note_id=note_id,
                barrier_id=barrier_id,
            )
        )
        try:
            db.session.commit()
            return
        except IntegrityError:
            db.session.rollback()
    raise WorkshopError("no-dots")


def unvote(person: Participant, note_id=None, barrier_id=None) -> bool:
    """Take back one of the participant's dots from a note or a barrier (caller commits)."""
    dot = db.session.scalar(
        select(Dot)
        .filter_by(participant_id=person.id, note_id=note_id, barrier_id=barrier_id)
        .order_by(Dot.slot.desc())
    )
    if dot is None:
        return False
    db.session.delete(dot)
    return True


# --- the facilitator ----------------------------------------------------------------------------


def timer_seconds_left(workshop: Workshop) -> int | None:
    """Seconds left on the timer (0 when it ran out), or None when there is no timer."""
    ends = aware(workshop.timer_ends_at)
    if ends is not None:
        return max(0, round((ends - now()).total_seconds()))
    return workshop.timer_left


def timer_state(workshop: Workshop) -> str:
    """ "off", "running", "paused" or "done"."""
    if workshop.timer_ends_at is not None:
        return "running" if timer_seconds_left(workshop) > 0 else "done"
    return "paused" if workshop.timer_left is not None else "off"


def control(workshop: Workshop, action: str, value: str = "") -> str:
    """Apply one facilitator action to the workshop; returns the event kind to publish.
    Raises ValueError for an action or value that makes no sense (a 422)."""
    if workshop.ended_at is not None:
        raise WorkshopError("ended")
    if action in ("step", "next", "previous"):
        step = {"next": workshop.step + 1, "previous": workshop.step - 1}.get(action)
        step = step if step is not None else (int(value) if value.isdigit() else 0)
        if not 1 <= step <= STEP_COUNT:
            raise ValueError("step")
        workshop.step = step
        return "step"
    if action.startswith("timer-"):
        timer(workshop, action[6:], value)
        return "timer"
    if action in ("hide-votes", "reveal-votes"):
        workshop.votes_hidden = action == "hide-votes"
        return "votes"
    if action in ("lock", "unlock"):
        workshop.locked = action == "lock"
        return "lock"
    if action == "dots":
        if not value.isdigit() or not 1 <= int(value) <= MAX_DOTS:
            raise ValueError("dots")
        workshop.dots = int(value)
        return "votes"
    raise ValueError("action")


def minutes(value: str) -> float:
    """A timer length in minutes (decimals allowed, "1,5" too); ValueError when out of range."""
    amount = float((value or "").replace(",", "."))
    if not 0.05 <= amount <= TIMER_MAX_MINUTES:
        raise ValueError("minutes")
    return amount


def timer(workshop: Workshop, what: str, value: str) -> None:
    """Start, pause, resume, add time to or stop the timer. It is stored as an end time, so it
    ends on every screen at the same moment; a paused timer keeps its seconds left."""
    left = timer_seconds_left(workshop)
    if what == "start":
        workshop.timer_ends_at, workshop.timer_left = (
            now() + timedelta(minutes=minutes(value)),
            None,
        )
    elif what == "pause" and timer_state(workshop) == "running":
        workshop.timer_ends_at, workshop.timer_left = None, left
    elif what == "resume" and timer_state(workshop) == "paused":
        workshop.timer_ends_at, workshop.timer_left = now() + timedelta(seconds=left), None
    elif what == "add":
        extra = timedelta(minutes=minutes(value or "1"))
        if timer_state(workshop) == "running":
            workshop.timer_ends_at = aware(workshop.timer_ends_at) + extra
        elif timer_state(workshop) == "paused":
            workshop.timer_left = left + round(extra.total_seconds())
        else:
            workshop.timer_ends_at, workshop.timer_left = now() + extra, None
    elif what == "stop":
        workshop.timer_ends_at = workshop.timer_left = None
    elif what not in ("pause", "resume"):
        raise ValueError("timer")


def promote(note: Note, target: str, persona_field: str = "") -> str:
    """Turn a note into a touchpoint, a barrier, a strategy or a line of the primary persona;
    returns Note.promoted_to ("barrier:12"). ValueError(code) when the map lacks what it needs."""
    jid, text = note.journey_id, note.text.strip()
    title = text.splitlines()[0][:200] if text else "Note"
    if target == "touchpoint":
        stage_id, channel_id = note.stage_id, None
        if note.touchpoint_id:
            source = db.session.get(Touchpoint, note.touchpoint_id)
            stage_id, channel_id = source.stage_id, source.channel_id
        channels = store.ordered(Channel, jid)
        channel_id = channel_id or (channels[0].id if channels else None)
        if channel_id is None:
            raise ValueError("no-channel")
        row = Touchpoint(
            journey_id=jid,
            key=store.new_key(Touchpoint, jid, title, "touchpoint"),
            stage_id=stage_id,
            channel_id=channel_id,
            name=title,
            description=text,
            position=store.next_position(Touchpoint, jid),
        )
    elif target == "barrier":
        tp_id = note.touchpoint_id
        if tp_id is None:
            first = live_touchpoints(jid, [note.stage_id])
            if not first:
                raise ValueError("no-touchpoint")
            tp_id = first[0].id
        row = Barrier(
            journey_id=jid,
            key=store.new_key(Barrier, jid, title, "barrier"),
            touchpoint_id=tp_id,
            title=title,
            description=text,
            type="emotional" if note.kind == "thought" else "functional",
        )
    elif target == "strategy":
        row = Strategy(
            journey_id=jid,
            key=store.new_key(Strategy, jid, title, "strategy"),
            title=title,
            description=text,
        )
    elif target == "persona":
        if persona_field not in PERSONA_FIELDS:
            raise ValueError("persona-field")
        persona = db.session.scalar(
            store.live(Persona, jid).order_by(Persona.is_primary.desc(), Persona.position)
        )
        if persona is None:
            raise ValueError("no-persona")
        before = getattr(persona, persona_field).strip()
        setattr(persona, persona_field, f"{before}\n{text}" if before else text)
        note.promoted_to = f"persona:{persona.id}:{persona_field}"
        return note.promoted_to
    else:
        raise ValueError("target")
    db.session.add(row)
    db.session.flush()
    note.promoted_to = f"{target}:{row.id}"
    return note.promoted_to


def summarize(workshop: Workshop, top: int = 3) -> dict:
    """What the workshop produced: counts, and per stage the top-voted notes and barriers."""
    columns = board(workshop)
    stages = []
    for column in columns:
        cards = sorted(column.all_cards(), key=lambda c: (-c.dots, c.note.id))[:top]
        barriers = sorted(
            (b for b in column.barriers if b.dots), key=lambda b: (-b.dots, b.barrier.id)
        )[:top]
        stages.append(
            {
                "stage": column.stage.name,
                "notes": column.note_count,
                "top_notes": [
                    {"text": c.note.text, "kind": c.note.kind, "dots": c.dots} for c in cards
                ],
                "top_barriers": [{"title": b.barrier.title, "dots": b.dots} for b in barriers],
            }
        )
    count = lambda model: db.session.scalar(  # noqa: E731
        select(func.count(model.id)).filter_by(workshop_id=workshop.id)
    )
    return {
        "participants": count(Participant),
        "notes": sum(c.note_count for c in columns),
        "dots": count(Dot),
        "stages": stages,
    }


def end(workshop: Workshop) -> None:
    """Close the workshop: the code is cleared for good and the summary kept (caller commits)."""
    if workshop.ended_at is not None:
        raise WorkshopError("ended")
    workshop.summary = summarize(workshop)
    workshop.code = None
    workshop.timer_ends_at = workshop.timer_left = None
    workshop.ended_at = now()
