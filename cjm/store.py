"""The one bridge between rows and the domain: load a map as a Journey, write a Journey as rows."""

import re
import unicodedata
from datetime import UTC, date, datetime

from sqlalchemy import func, select, update

from .extensions import db
from .journey import model as dm
from .journey import serialize
from .models import (
    Barrier,
    BarrierEvidence,
    BarrierSegment,
    Channel,
    Checklist,
    ChecklistItem,
    Experiment,
    Journey,
    Kpi,
    KpiValue,
    Membership,
    Note,
    Observation,
    Persona,
    Segment,
    Stage,
    Strategy,
    StrategyBarrier,
    Touchpoint,
    Transition,
    Visit,
)

PARTS = (Persona, Stage, Channel, Touchpoint, Transition)
# Everything a Deletion can hide, and so bring back on undo.
RESTORABLE = (*PARTS, Segment, Checklist, ChecklistItem, Observation, Visit, Barrier, Strategy)
RESTORABLE += (Experiment, Kpi)


def live(model, journey_id: int):
    """SELECT the live (not soft-deleted) elements of one map."""
    return select(model).where(model.journey_id == journey_id, model.deletion_id.is_(None))


# Fields a row and its domain dataclass share by name; the rest (ids, references) are mapped apart.
SHARED = {
    Persona: (
        "key", "name", "age", "occupation", "quote", "goals", "needs", "expectations",
        "frustrations", "behaviour", "segment", "lifecycle",
    ),
    Stage: ("key", "name", "description"),
    Channel: ("key", "name", "kind"),
    Touchpoint: ("key", "kind", "name", "description", "action", "goal", "thought", "emotion"),
    Transition: ("key", "kind", "label", "volume"),
    Barrier: ("key", "title", "description", "type", "severity", "status"),
    Strategy: (
        "key", "title", "description", "owner", "impact", "effort", "confidence", "status",
    ),
    Kpi: ("key", "name", "kind", "unit", "higher_is_better"),
    Experiment: (
        "key", "hypothesis", "metric", "baseline", "baseline_n", "baseline_hits", "target",
        "result", "result_n", "result_hits", "p_value", "status", "verdict", "learning",
    ),
}  # fmt: skip


def shared(obj, model) -> dict:
    """The shared fields of a row or a dataclass, as keyword arguments for the other side."""
    return {name: getattr(obj, name) for name in SHARED[model]}


def load_journey(journey_id: int) -> dm.Journey:
    """The whole map as a domain Journey, in a fixed number of queries (no N+1)."""
    row = db.session.get(Journey, journey_id)

    def rows(model):
        return db.session.scalars(live(model, journey_id).order_by(*order(model))).all()

    stages, channels = rows(Stage), rows(Channel)
    stage_key = {s.id: s.key for s in stages}
    channel_key = {c.id: c.key for c in channels}
    # Elements hanging on a hidden stage, channel or touchpoint are hidden with it.
    touchpoints = [
        t for t in rows(Touchpoint) if t.stage_id in stage_key and t.channel_id in channel_key
    ]
    tp_key = {t.id: t.key for t in touchpoints}
    transitions = [e for e in rows(Transition) if e.source_id in tp_key and e.target_id in tp_key]

    def ids(r) -> dict:
        return {"id": r.id, "version": r.version}

    return dm.Journey(
        **ids(row),
        title=row.title,
        description=row.description,
        state=row.state,
        language=row.language,
        personas=[
            dm.Persona(**ids(p), **shared(p, Persona), primary=p.is_primary, avatar_id=p.avatar_id)
            for p in rows(Persona)
        ],
        stages=[dm.Stage(**ids(s), **shared(s, Stage)) for s in stages],
        channels=[dm.Channel(**ids(c), **shared(c, Channel)) for c in channels],
        touchpoints=[
            dm.Touchpoint(
                **ids(t),
                **shared(t, Touchpoint),
                stage=stage_key[t.stage_id],
                channel=channel_key[t.channel_id],
            )
            for t in touchpoints
        ],
        transitions=[
            dm.Transition(
                **ids(e),
                **shared(e, Transition),
                source=tp_key[e.source_id],
                target=tp_key[e.target_id],
            )
            for e in transitions
        ],
    )


def order(model) -> tuple:
    """Display order: by position where the element has one, then by id."""
    return (model.position, model.id) if hasattr(model, "position") else (model.id,)


def slug(text: str, fallback: str) -> str:
    """A document key from a name: ASCII letters, digits and dashes (Cyrillic is transliterated)."""
    text = unicodedata.normalize("NFKD", text.translate(CYRILLIC)).encode("ascii", "ignore")
    key = re.sub(r"[^a-z0-9]+", "-", text.decode().lower()).strip("-")[:40]
    return key or fallback


CYRILLIC = str.maketrans(
    {
        c: t
        for c, t in zip(
            "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ",
            "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch - y - e iu ia "
            "A B V G D E E Zh Z I I K L M N O P R S T U F Kh Ts Ch Sh Shch - Y - E Iu Ia".split(),
            strict=True,
        )
    }
)


def new_key(model, journey_id: int, name: str, prefix: str) -> str:
    """A key unique among all of the map's elements of this kind, deleted ones included."""
    base = slug(name, prefix)
    taken = set(
        db.session.scalars(
            select(model.key).where(model.journey_id == journey_id, model.key.like(base + "%"))
        )
    )
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key


def next_position(model, journey_id: int) -> int:
    """One past the highest position in the map (new elements go last)."""
    top = db.session.scalar(select(func.max(model.position)).where(model.journey_id == journey_id))
    return (top or 0) + 1


def add_journey(journey: dm.Journey, owner_id: int) -> Journey:
    """Write a whole domain Journey as new rows owned by owner_id (caller commits)."""
    row = Journey(
        title=journey.title,
        description=journey.description,
        state=journey.state,
        language=journey.language,
    )
    row.members.append(Membership(user_id=owner_id, role="owner"))
    db.session.add(row)
    db.session.flush()
    jid = row.id
    db.session.add_all(
        Persona(journey_id=jid, **shared(p, Persona), is_primary=p.primary, position=i)
        for i, p in enumerate(journey.personas)
    )
    stages = {
        s.key: Stage(journey_id=jid, **shared(s, Stage), position=i)
        for i, s in enumerate(journey.stages)
    }
    channels = {
        c.key: Channel(journey_id=jid, **shared(c, Channel), position=i)
        for i, c in enumerate(journey.channels)
    }
    db.session.add_all([*stages.values(), *channels.values()])
    db.session.flush()
    touchpoints = {
        t.key: Touchpoint(
            journey_id=jid,
            **shared(t, Touchpoint),
            stage_id=stages[t.stage].id,
            channel_id=channels[t.channel].id,
            position=i,
        )
        for i, t in enumerate(journey.touchpoints)
    }
    db.session.add_all(touchpoints.values())
    db.session.flush()
    db.session.add_all(
        Transition(
            journey_id=jid,
            **shared(e, Transition),
            source_id=touchpoints[e.source].id,
            target_id=touchpoints[e.target].id,
        )
        for e in journey.transitions
    )
    db.session.flush()
    return row


HANGING = (
    (Stage, Observation, Observation.stage_id),
    (Channel, Observation, Observation.channel_id),
    (Touchpoint, Observation, Observation.touchpoint_id),
    (Segment, Observation, Observation.segment_id),
    (Strategy, Experiment, Experiment.strategy_id),
)


def soft_delete(rows, journey_id: int, user_id: int | None, label: str):
    """Hide rows under one Deletion, so one undo brings them all back. Elements that hang on a
    hidden row (touchpoints of a stage, transitions of a touchpoint) drop out of load_journey()
    by themselves and come back with it."""
    from .models import Deletion

    deletion = Deletion(journey_id=journey_id, user_id=user_id, label=label[:200])
    db.session.add(deletion)
    db.session.flush()
    for row in rows:
        row.deletion_id = deletion.id
    # Rows read in SQL rather than through load_journey() (evidence figures, experiment lists)
    # are hidden explicitly with the row they hang on, so nothing counts them meanwhile.
    for parent, model, fk in HANGING:
        ids = [row.id for row in rows if isinstance(row, parent)]
        if ids:
            db.session.execute(
                update(model)
                .where(fk.in_(ids), model.deletion_id.is_(None))
                .values(deletion_id=deletion.id)
                .execution_options(synchronize_session=False)
            )
    return deletion


def restore(deletion) -> None:
    """Undo a Deletion: un-hide its rows and forget it (caller commits)."""
    for model in RESTORABLE:
        for row in db.session.scalars(select(model).where(model.deletion_id == deletion.id)):
            row.deletion_id = None
    db.session.delete(deletion)


def ordered(model, journey_id: int) -> list:
    """The map's live stages or channels in their display order."""
    return list(db.session.scalars(live(model, journey_id).order_by(model.position, model.id)))


def set_order(model, ids: list[int]) -> None:
    """Store positions 0..n-1 in the given order. A plain table UPDATE on purpose: moving a row
    is not an edit of its content, so it must not bump `version` and turn open edit forms stale."""
    from sqlalchemy import bindparam, update

    table = model.__table__
    db.session.execute(
        update(table).where(table.c.id == bindparam("row_id")).values(position=bindparam("pos")),
        [{"row_id": row_id, "pos": i} for i, row_id in enumerate(ids)],
    )
    db.session.expire_all()


def swapped(items: list, item, direction: str) -> list | None:
    """`items` with `item` swapped with its neighbour ("up" or "down"); None at the end."""
    i = items.index(item)
    j = i - 1 if direction == "up" else i + 1
    if not 0 <= j < len(items):
        return None
    items = list(items)
    items[i], items[j] = items[j], items[i]
    return items


def move(model, row, direction: str) -> bool:
    """Swap a stage or channel with its neighbour ("up" or "down"); False if already at the end."""
    ids = swapped([r.id for r in ordered(model, row.journey_id)], row.id, direction)
    if ids is None:
        return False
    set_order(model, ids)
    return True


def reorder(model, journey_id: int, ids: list[int]) -> bool:
    """Put the map's live rows in this order; False (nothing written) unless `ids` is exactly
    the live set, e.g. when someone added or deleted one meanwhile."""
    current = [r.id for r in ordered(model, journey_id)]
    if sorted(current) != sorted(ids) or len(set(ids)) != len(ids):
        return False
    set_order(model, ids)
    return True


def make_primary_persona(persona: Persona) -> list[Persona]:
    """Make persona the map's only primary one; returns the live personas that lost the flag.

    Hidden (soft-deleted) personas lose it too, so undoing a deletion never brings back a second
    primary. Same transaction as the caller's save (caller commits)."""
    others = [
        p
        for p in db.session.scalars(
            select(Persona).where(
                Persona.journey_id == persona.journey_id, Persona.is_primary.is_(True)
            )
        )
        if p is not persona  # a new persona may be autoflushed into this very query
    ]
    persona.is_primary = True
    for other in others:
        other.is_primary = False
    return [p for p in others if p.deletion_id is None]


# --- Step 3 evidence: the rules live in cjm/evidence.py; these names are kept here too because
# the survey import, visits and the API look for them in the store. Imported lazily: evidence.py
# imports this module.


def observation_values(journey_id: int, **fields) -> dict:
    """Checked Observation column values (see cjm.evidence.observation_values)."""
    from .evidence import observation_values as values

    return values(journey_id, **fields)


def add_observation(journey_id: int, **fields):
    """Check and add one Observation to the session (see cjm.evidence.add_observation)."""
    from .evidence import add_observation as add

    return add(journey_id, **fields)


# --- Steps 4–6 in the cjm-studio/1 document: barriers, strategies, experiments, KPIs, learnings.


def _timestamp(value) -> str | None:
    """A stored time as the document writes it (UTC, whole seconds); naive times are UTC."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime(serialize.TIMESTAMP)


def load_plan(journey: dm.Journey) -> dm.Journey:
    """Fill a loaded Journey's barriers, strategies, experiments, KPIs and learning notes, by key.

    Expects `journey` from load_journey() with its segments and evidence loaded (cjm.evidence),
    since barriers name their evidence by position there. What hangs on a hidden element is left
    out with it (a barrier on a hidden touchpoint, an experiment of a hidden strategy); a link or
    reference to a hidden element is dropped. A fixed number of queries."""
    jid = journey.id
    tp_key = {t.id: t.key for t in journey.touchpoints}
    tr_key = {e.id: e.key for e in journey.transitions}
    stage_key = {s.id: s.key for s in journey.stages}
    segment_key = {s.id: s.key for s in journey.segments}
    position = {o.id: i for i, o in enumerate(journey.evidence)}

    barriers = [
        b
        for b in db.session.scalars(live(Barrier, jid).order_by(Barrier.id))
        if b.touchpoint_id in tp_key or b.transition_id in tr_key
    ]
    barrier_key = {b.id: b.key for b in barriers}
    segments_of: dict[int, list[str]] = {}
    segment_order = {s.id: i for i, s in enumerate(journey.segments)}
    for barrier_id, segment_id in db.session.execute(
        select(BarrierSegment.barrier_id, BarrierSegment.segment_id).where(
            BarrierSegment.barrier_id.in_(barrier_key)
        )
    ):
        if segment_id in segment_key:
            segments_of.setdefault(barrier_id, []).append(segment_id)
    evidence_of: dict[int, list[int]] = {}
    for barrier_id, observation_id in db.session.execute(
        select(BarrierEvidence.barrier_id, BarrierEvidence.observation_id).where(
            BarrierEvidence.barrier_id.in_(barrier_key),
            BarrierEvidence.observation_id.is_not(None),
        )
    ):
        if observation_id in position:
            evidence_of.setdefault(barrier_id, []).append(position[observation_id])
    journey.barriers = [
        dm.Barrier(
            id=b.id,
            **shared(b, Barrier),
            touchpoint=tp_key.get(b.touchpoint_id),
            transition=None if b.touchpoint_id in tp_key else tr_key.get(b.transition_id),
            segments=[
                segment_key[s] for s in sorted(segments_of.get(b.id, []), key=segment_order.get)
            ],
            evidence=sorted(evidence_of.get(b.id, [])),
        )
        for b in barriers
    ]

    strategies = list(db.session.scalars(live(Strategy, jid).order_by(Strategy.id)))
    strategy_key = {s.id: s.key for s in strategies}
    barrier_order = {b.id: i for i, b in enumerate(barriers)}
    addresses: dict[int, list[int]] = {}
    for strategy_id, barrier_id in db.session.execute(
        select(StrategyBarrier.strategy_id, StrategyBarrier.barrier_id).where(
            StrategyBarrier.strategy_id.in_(strategy_key)
        )
    ):
        if barrier_id in barrier_key:
            addresses.setdefault(strategy_id, []).append(barrier_id)
    journey.strategies = [
        dm.Strategy(
            id=s.id,
            **shared(s, Strategy),
            barriers=[
                barrier_key[b] for b in sorted(addresses.get(s.id, []), key=barrier_order.get)
            ],
        )
        for s in strategies
    ]

    kpis = list(db.session.scalars(live(Kpi, jid).order_by(Kpi.position, Kpi.id)))
    kpi_key = {k.id: k.key for k in kpis}
    experiments = [
        e
        for e in db.session.scalars(live(Experiment, jid).order_by(Experiment.id))
        if e.strategy_id in strategy_key
    ]
    experiment_key = {e.id: e.key for e in experiments}
    journey.experiments = [
        dm.Experiment(
            id=e.id,
            **shared(e, Experiment),
            strategy=strategy_key[e.strategy_id],
            transition=tr_key.get(e.transition_id),
            stage=stage_key.get(e.stage_id),
            touchpoint=tp_key.get(e.touchpoint_id),
            segment=segment_key.get(e.segment_id),
            kpi=kpi_key.get(e.kpi_id),
            starts_on=e.starts_on.isoformat() if e.starts_on else None,
            ends_on=e.ends_on.isoformat() if e.ends_on else None,
            closed_at=_timestamp(e.closed_at),
        )
        for e in experiments
    ]
    readings: dict[int, list[dm.KpiValue]] = {}
    for v in db.session.scalars(
        select(KpiValue)
        .where(KpiValue.kpi_id.in_(kpi_key))
        .order_by(KpiValue.measured_on, KpiValue.id)
    ):
        readings.setdefault(v.kpi_id, []).append(
            dm.KpiValue(v.measured_on.isoformat(), v.value, experiment_key.get(v.experiment_id))
        )
    journey.kpis = [
        dm.Kpi(
            id=k.id,
            **shared(k, Kpi),
            values=readings.get(k.id, []),
        )
        for k in kpis
    ]

    journey.notes = [
        dm.Note(
            id=n.id,
            kind=n.kind,
            text=n.text,
            touchpoint=tp_key.get(n.touchpoint_id),
            stage=stage_key.get(n.stage_id),
            experiment=experiment_key.get(n.experiment_id),
        )
        for n in db.session.scalars(
            select(Note)
            .where(Note.journey_id == jid, Note.kind == "learning", Note.deletion_id.is_(None))
            .order_by(Note.id)
        )
        # A note hangs on its touchpoint and its stage: hidden with either.
        if (n.touchpoint_id is None or n.touchpoint_id in tp_key)
        and (n.stage_id is None or n.stage_id in stage_key)
    ]
    return journey


def add_plan(journey_id: int, journey: dm.Journey) -> None:
    """Write an imported document's barriers, strategies, experiments, KPIs and notes as rows of
    the new map, whose elements, segments and evidence are already flushed (caller commits).

    The document passed the schema and reference checks, so keys resolve; barrier evidence
    positions are the map's observations in recorded order, which are exactly the document's."""

    def ids(model) -> dict[str, int]:
        return {
            key: i
            for i, key in db.session.execute(
                live(model, journey_id).with_only_columns(model.id, model.key)
            )
        }

    tp, tr, stage, segment = ids(Touchpoint), ids(Transition), ids(Stage), ids(Segment)
    observations = list(
        db.session.scalars(
            select(Observation.id)
            .where(Observation.journey_id == journey_id)
            .order_by(Observation.id)
        )
    )

    def get(keys: dict[str, int], key: str | None) -> int | None:
        return keys[key] if key is not None else None

    def day(text: str | None) -> date | None:
        return date.fromisoformat(text) if text else None

    barriers = {
        b.key: Barrier(
            journey_id=journey_id,
            **shared(b, Barrier),
            touchpoint_id=get(tp, b.touchpoint),
            transition_id=get(tr, b.transition),
        )
        for b in journey.barriers
    }
    strategies = {
        s.key: Strategy(journey_id=journey_id, **shared(s, Strategy)) for s in journey.strategies
    }
    kpis = {
        k.key: Kpi(journey_id=journey_id, **shared(k, Kpi), position=i)
        for i, k in enumerate(journey.kpis)
    }
    db.session.add_all([*barriers.values(), *strategies.values(), *kpis.values()])
    db.session.flush()
    db.session.add_all(
        BarrierSegment(barrier_id=barriers[b.key].id, segment_id=segment[s])
        for b in journey.barriers
        for s in b.segments
    )
    db.session.add_all(
        BarrierEvidence(barrier_id=barriers[b.key].id, observation_id=observations[i])
        for b in journey.barriers
        for i in b.evidence
    )
    db.session.add_all(
        StrategyBarrier(strategy_id=strategies[s.key].id, barrier_id=barriers[b].id)
        for s in journey.strategies
        for b in s.barriers
    )
    kpi_ids = {key: row.id for key, row in kpis.items()}
    experiments = {
        e.key: Experiment(
            journey_id=journey_id,
            **shared(e, Experiment),
            strategy_id=strategies[e.strategy].id,
            transition_id=get(tr, e.transition),
            stage_id=get(stage, e.stage),
            touchpoint_id=get(tp, e.touchpoint),
            segment_id=get(segment, e.segment),
            kpi_id=get(kpi_ids, e.kpi),
            starts_on=day(e.starts_on),
            ends_on=day(e.ends_on),
            closed_at=(
                datetime.strptime(e.closed_at, serialize.TIMESTAMP).replace(tzinfo=UTC)
                if e.closed_at
                else None
            ),
        )
        for e in journey.experiments
    }
    db.session.add_all(experiments.values())
    db.session.flush()
    experiment_ids = {key: row.id for key, row in experiments.items()}
    db.session.add_all(
        KpiValue(
            kpi_id=kpi_ids[k.key],
            measured_on=date.fromisoformat(v.date),
            value=v.value,
            experiment_id=get(experiment_ids, v.experiment),
        )
        for k in journey.kpis
        for v in k.values
    )
    db.session.add_all(
        Note(
            journey_id=journey_id,
            kind=n.kind,
            text=n.text,
            touchpoint_id=get(tp, n.touchpoint),
            stage_id=get(stage, n.stage),
            experiment_id=get(experiment_ids, n.experiment),
        )
        for n in journey.notes
    )
    db.session.flush()
