"""Step 4 barriers at the row level: the ranked list (frequency and dots counted in SQL, priority
from cjm.journey.priority), evidence links, dot votes, and barriers suggested from the data.

Frequency is the number of a barrier's evidence links whose source is live: a visible
observation, or an answer of a live submitted mystery-shopper visit. Links to hidden evidence
stay (undo brings them back) but do not count meanwhile.
"""

from dataclasses import dataclass, field

from sqlalchemy import and_, case, delete, func, or_, select, update

from . import aggregates
from .evidence import visible
from .extensions import db
from .journey import model as dm
from .journey.analytics import Analytics, analyze
from .journey.priority import Priority, Reach, priority
from .models import (
    Barrier,
    BarrierEvidence,
    BarrierSegment,
    BarrierVote,
    ChecklistItem,
    DismissedSuggestion,
    Membership,
    Observation,
    Segment,
    Visit,
    VisitAnswer,
)

VOTES_PER_MEMBER = 5  # dots each member may place on one map's barriers
# A mystery-shopper answer "failed": a "no", or a scale score in the bottom two fifths.
LOW_SCALE = {"scale-5": 2, "scale-10": 4}
# Suggestions: how many of each kind, and what makes a figure bad enough to propose.
SUGGEST_TOP = 3
MIN_RATINGS = 2  # a mean CSAT/CES of fewer ratings is not proposed
CSAT_BAD, CES_BAD = 3.0, 4.0  # mean CSAT below neutral (3); mean CES above the middle (4 of 1–7)
UNHAPPY_CSAT, HARD_CES = 2, 5  # the observations linked as evidence: CSAT ≤ 2, CES ≥ 5
MIN_VERBATIMS = 2  # a "cluster" of negative verbatims is at least two


def failed_answer():
    """SQL condition: the answer (joined with its ChecklistItem) is a failed one."""
    return or_(
        and_(ChecklistItem.kind == "yes-no", VisitAnswer.yes.is_(False)),
        *(
            and_(ChecklistItem.kind == kind, VisitAnswer.number <= top)
            for kind, top in LOW_SCALE.items()
        ),
    )


def live_answers(journey_id: int):
    """SELECT answers of the map's live submitted visits on live checklist items."""
    return (
        select(VisitAnswer)
        .join(Visit, Visit.id == VisitAnswer.visit_id)
        .join(ChecklistItem, ChecklistItem.id == VisitAnswer.item_id)
        .where(
            Visit.journey_id == journey_id,
            Visit.status == "submitted",
            Visit.deletion_id.is_(None),
            ChecklistItem.deletion_id.is_(None),
        )
    )


def frequency_column():
    """Correlated COUNT of a barrier's live evidence links (see the module docstring)."""
    be = BarrierEvidence
    return (
        select(func.count(be.id))
        .outerjoin(Observation, Observation.id == be.observation_id)
        .outerjoin(VisitAnswer, VisitAnswer.id == be.answer_id)
        .outerjoin(Visit, Visit.id == VisitAnswer.visit_id)
        .where(
            be.barrier_id == Barrier.id,
            or_(
                and_(Observation.id.is_not(None), Observation.deletion_id.is_(None)),
                and_(
                    Visit.id.is_not(None),
                    Visit.deletion_id.is_(None),
                    Visit.status == "submitted",
                ),
            ),
        )
        .correlate(Barrier)
        .scalar_subquery()
    )


def votes_column(user_id: int | None = None):
    """Correlated COUNT of a barrier's dots (one user's when user_id is given)."""
    query = select(func.count(BarrierVote.id)).where(BarrierVote.barrier_id == Barrier.id)
    if user_id is not None:
        query = query.where(BarrierVote.user_id == user_id)
    return query.correlate(Barrier).scalar_subquery()


@dataclass
class Ranked:
    """A barrier as the list, the board and the stepper show it."""

    row: Barrier
    touchpoint: dm.Touchpoint | None  # where it sits: a touchpoint …
    transition: dm.Transition | None  # … or a transition
    source: dm.Touchpoint | None  # the transition's ends
    target: dm.Touchpoint | None
    frequency: int
    votes: int
    mine: int  # the current user's dots on it
    priority: Priority
    segments: list[str] = field(default_factory=list)

    @property
    def stage(self) -> str:
        """The stage key it belongs to (a transition's: its source's)."""
        return (self.touchpoint or self.source).stage


def ranked(
    journey: dm.Journey,
    user_id: int | None = None,
    analytics: Analytics | None = None,
    with_segments: bool = True,
) -> list[Ranked]:
    """The map's live barriers, highest priority first (then most dots, then oldest), in one
    query (two with segments). A barrier on a hidden touchpoint or transition is left out."""
    tps = {tp.id: tp for tp in journey.touchpoints}
    by_key = {tp.key: tp for tp in journey.touchpoints}
    trs = {tr.id: tr for tr in journey.transitions}
    reach = Reach(analytics) if analytics else Reach.of_journey(journey)
    rows = db.session.execute(
        select(Barrier, frequency_column(), votes_column(), votes_column(user_id or 0)).where(
            Barrier.journey_id == journey.id, Barrier.deletion_id.is_(None)
        )
    ).all()
    found = []
    for row, frequency, votes, mine in rows:
        tp, tr = tps.get(row.touchpoint_id), trs.get(row.transition_id)
        if tp is None and tr is None:
            continue
        share = reach.of(touchpoint=tp.key) if tp else reach.of(transition=tr.key)
        found.append(
            Ranked(
                row=row,
                touchpoint=tp,
                transition=tr,
                source=by_key[tr.source] if tr else None,
                target=by_key[tr.target] if tr else None,
                frequency=frequency,
                votes=votes,
                mine=mine,
                priority=priority(row.severity, frequency, share),
            )
        )
    found.sort(key=lambda b: (-b.priority.value, -b.votes, b.row.id))
    if with_segments and found:
        names: dict[int, list[str]] = {}
        for barrier_id, name in db.session.execute(
            select(BarrierSegment.barrier_id, Segment.name)
            .join(Segment, Segment.id == BarrierSegment.segment_id)
            .where(
                BarrierSegment.barrier_id.in_([b.row.id for b in found]),
                Segment.deletion_id.is_(None),
            )
            .order_by(Segment.position, Segment.id)
        ):
            names.setdefault(barrier_id, []).append(name)
        for b in found:
            b.segments = names.get(b.row.id, [])
    return found


def by_stage(barriers: list[Ranked]) -> dict[str, list[Ranked]]:
    """Ranked barriers grouped by stage key, each group still ranked."""
    groups: dict[str, list[Ranked]] = {}
    for b in barriers:
        groups.setdefault(b.stage, []).append(b)
    return groups


def segment_ids(barrier_id: int) -> list[int]:
    """The ids of the segments a barrier affects."""
    return list(
        db.session.scalars(
            select(BarrierSegment.segment_id).where(BarrierSegment.barrier_id == barrier_id)
        )
    )


def set_segments(barrier: Barrier, ids: list[int]) -> None:
    """Make these the barrier's affected segments (caller commits)."""
    db.session.execute(delete(BarrierSegment).where(BarrierSegment.barrier_id == barrier.id))
    db.session.add_all(BarrierSegment(barrier_id=barrier.id, segment_id=i) for i in set(ids))


# --- evidence ---------------------------------------------------------------------------------


def linked_evidence(barrier: Barrier) -> tuple[list[Observation], list[tuple]]:
    """The barrier's live linked observations, and its live linked answers as
    (VisitAnswer, ChecklistItem, Visit) rows."""
    observations = db.session.scalars(
        visible(barrier.journey_id)
        .join(BarrierEvidence, BarrierEvidence.observation_id == Observation.id)
        .where(BarrierEvidence.barrier_id == barrier.id)
        .order_by(Observation.observed_on.desc().nulls_last(), Observation.id.desc())
    ).all()
    answers = db.session.execute(
        live_answers(barrier.journey_id)
        .add_columns(ChecklistItem, Visit)
        .join(BarrierEvidence, BarrierEvidence.answer_id == VisitAnswer.id)
        .where(BarrierEvidence.barrier_id == barrier.id)
        .order_by(Visit.visited_on.desc().nulls_last(), VisitAnswer.id.desc())
    ).all()
    return list(observations), list(answers)


def candidate_observations(barrier: Barrier, touchpoint_id: int | None, limit: int = 50):
    """Visible observations of the map not linked yet (of one touchpoint when given), newest
    first."""
    linked = select(BarrierEvidence.observation_id).where(
        BarrierEvidence.barrier_id == barrier.id, BarrierEvidence.observation_id.is_not(None)
    )
    query = visible(barrier.journey_id).where(Observation.id.not_in(linked))
    if touchpoint_id is not None:
        query = query.where(Observation.touchpoint_id == touchpoint_id)
    order = (Observation.observed_on.desc().nulls_last(), Observation.id.desc())
    return list(db.session.scalars(query.order_by(*order).limit(limit)))


def candidate_answers(barrier: Barrier, touchpoint_id: int | None, limit: int = 50):
    """Failed answers of live submitted visits not linked yet (at one touchpoint when given), as
    (VisitAnswer, ChecklistItem, Visit) rows, newest visit first."""
    linked = select(BarrierEvidence.answer_id).where(
        BarrierEvidence.barrier_id == barrier.id, BarrierEvidence.answer_id.is_not(None)
    )
    query = (
        live_answers(barrier.journey_id)
        .add_columns(ChecklistItem, Visit)
        .where(failed_answer(), VisitAnswer.id.not_in(linked))
    )
    if touchpoint_id is not None:
        query = query.where(Visit.touchpoint_id == touchpoint_id)
    order = (Visit.visited_on.desc().nulls_last(), VisitAnswer.id.desc())
    return list(db.session.execute(query.order_by(*order).limit(limit)))


def live_observation(journey_id: int, observation_id: int) -> Observation | None:
    """A visible observation of the map, or None."""
    return db.session.scalar(visible(journey_id).where(Observation.id == observation_id))


def live_answer(journey_id: int, answer_id: int) -> VisitAnswer | None:
    """An answer of a live submitted visit of the map, or None."""
    return db.session.scalar(live_answers(journey_id).where(VisitAnswer.id == answer_id))


def link(barrier: Barrier, observation_id: int | None = None, answer_id: int | None = None):
    """Link one piece of evidence (idempotent: an existing link stays as it is; caller commits)."""
    column = BarrierEvidence.observation_id if observation_id else BarrierEvidence.answer_id
    exists = db.session.scalar(
        select(BarrierEvidence.id).where(
            BarrierEvidence.barrier_id == barrier.id, column == (observation_id or answer_id)
        )
    )
    if exists is None:
        db.session.add(
            BarrierEvidence(
                barrier_id=barrier.id, observation_id=observation_id, answer_id=answer_id
            )
        )


def unlink(barrier: Barrier, observation_id: int | None = None, answer_id: int | None = None):
    """Remove one evidence link; True if there was one (caller commits)."""
    column = BarrierEvidence.observation_id if observation_id else BarrierEvidence.answer_id
    result = db.session.execute(
        delete(BarrierEvidence).where(
            BarrierEvidence.barrier_id == barrier.id, column == (observation_id or answer_id)
        )
    )
    return result.rowcount > 0


def frequency(barrier: Barrier) -> int:
    """The barrier's frequency: its live evidence links, counted."""
    return db.session.scalar(
        select(frequency_column()).select_from(Barrier).where(Barrier.id == barrier.id)
    )


# --- dot votes --------------------------------------------------------------------------------


def dots_used(journey_id: int, user_id: int) -> int:
    """How many dots the user has on the map's live barriers."""
    return db.session.scalar(
        select(func.count(BarrierVote.id))
        .join(Barrier, Barrier.id == BarrierVote.barrier_id)
        .where(
            Barrier.journey_id == journey_id,
            Barrier.deletion_id.is_(None),
            BarrierVote.user_id == user_id,
        )
    )


def vote(barrier: Barrier, user_id: int) -> bool:
    """Put one of the user's dots on the barrier; False (nothing written) when all
    VOTES_PER_MEMBER are used. Exact under concurrency on every database: a no-op UPDATE of
    the user's membership row first takes a row lock (PostgreSQL) or the write lock (SQLite),
    so two votes of one member serialise; then insert, re-count in the same transaction, and
    roll the insert back if it went over."""
    db.session.execute(
        update(Membership)
        .where(Membership.journey_id == barrier.journey_id, Membership.user_id == user_id)
        .values(role=Membership.role)
        .execution_options(synchronize_session=False)
    )
    dot = BarrierVote(barrier_id=barrier.id, user_id=user_id)
    db.session.add(dot)
    db.session.flush()
    if dots_used(barrier.journey_id, user_id) > VOTES_PER_MEMBER:
        db.session.delete(dot)
        db.session.flush()
        return False
    return True


def unvote(barrier: Barrier, user_id: int) -> bool:
    """Take one of the user's dots back off the barrier; False if there was none."""
    dot = db.session.scalar(
        select(BarrierVote)
        .where(BarrierVote.barrier_id == barrier.id, BarrierVote.user_id == user_id)
        .order_by(BarrierVote.id.desc())
        .limit(1)
    )
    if dot is None:
        return False
    db.session.delete(dot)
    return True


# --- the stepper ------------------------------------------------------------------------------


# --- suggestions ------------------------------------------------------------------------------


@dataclass
class Suggestion:
    """A barrier the data proposes, with its figure and the evidence behind it.

    kind: "worst-csat" | "worst-ces" | "drop-off" | "failed-item" | "negative-verbatims".
    value and n are the figure (a mean and its ratings; a volume and the share of the source's
    customers it takes; failures and answers; negative verbatims)."""

    code: str  # stable: dismissing it keeps it away for good
    kind: str
    touchpoint: dm.Touchpoint | None
    transition: dm.Transition | None
    value: float
    n: int
    type: str  # the barrier type an accepted suggestion starts with
    item: str = ""  # the checklist item's text (failed-item)
    share: float | None = None
    observation_ids: list[int] = field(default_factory=list)
    answer_ids: list[int] = field(default_factory=list)

    @property
    def frequency(self) -> int:
        """How many evidence links accepting it creates."""
        return len(self.observation_ids) + len(self.answer_ids)


def handled_codes(journey_id: int) -> set[str]:
    """Codes of the suggestions the team dismissed or accepted (neither is proposed again)."""
    return set(
        db.session.scalars(
            select(DismissedSuggestion.code).where(DismissedSuggestion.journey_id == journey_id)
        )
    )


def _observation_ids(journey_id: int, touchpoint_id: int, *where) -> list[int]:
    """Visible observations of one touchpoint matching `where`, oldest first."""
    return list(
        db.session.scalars(
            visible(journey_id)
            .with_only_columns(Observation.id)
            .where(Observation.touchpoint_id == touchpoint_id, *where)
            .order_by(Observation.id)
        )
    )


def _score_suggestions(journey: dm.Journey) -> list[Suggestion]:
    """Touchpoints with the worst mean CSAT and the worst mean CES (aggregates.per_touchpoint)."""
    figures = aggregates.per_touchpoint(journey.id)
    tps = [tp for tp in journey.touchpoints if tp.id in figures]
    found = []
    csat = [
        (figures[tp.id].csat, tp)
        for tp in tps
        if figures[tp.id].csat.n >= MIN_RATINGS and figures[tp.id].csat.mean < CSAT_BAD
    ]
    for mean, tp in sorted(csat, key=lambda p: p[0].mean)[:SUGGEST_TOP]:
        found.append(
            Suggestion(
                code=f"worst-csat:touchpoint:{tp.id}",
                kind="worst-csat",
                touchpoint=tp,
                transition=None,
                value=mean.mean,
                n=mean.n,
                type="emotional",
                observation_ids=_observation_ids(
                    journey.id, tp.id, Observation.csat <= UNHAPPY_CSAT
                ),
            )
        )
    ces = [
        (figures[tp.id].ces, tp)
        for tp in tps
        if figures[tp.id].ces.n >= MIN_RATINGS and figures[tp.id].ces.mean > CES_BAD
    ]
    for mean, tp in sorted(ces, key=lambda p: -p[0].mean)[:SUGGEST_TOP]:
        found.append(
            Suggestion(
                code=f"worst-ces:touchpoint:{tp.id}",
                kind="worst-ces",
                touchpoint=tp,
                transition=None,
                value=mean.mean,
                n=mean.n,
                type="functional",
                observation_ids=_observation_ids(journey.id, tp.id, Observation.ces >= HARD_CES),
            )
        )
    return found


def _drop_off_suggestions(journey: dm.Journey, analytics: Analytics) -> list[Suggestion]:
    """Drop-out transitions that take the most customers (journey analytics); the figure is
    from volumes, so no evidence is linked."""
    stats = {t.key: t for t in analytics.transitions}
    drops = [
        (stats[tr.key], tr)
        for tr in journey.transitions
        if tr.kind == "drop-out" and stats[tr.key].volume
    ]
    return [
        Suggestion(
            code=f"drop-off:transition:{tr.id}",
            kind="drop-off",
            touchpoint=None,
            transition=tr,
            value=s.volume,
            n=s.volume,
            share=s.conversion,
            type="functional",
        )
        for s, tr in sorted(drops, key=lambda p: -p[0].volume)[:SUGGEST_TOP]
    ]


def _failed_item_suggestions(journey: dm.Journey) -> list[Suggestion]:
    """Checklist items most often failed by mystery shoppers, per touchpoint (submitted visits)."""
    tps = {tp.id: tp for tp in journey.touchpoints}
    failed = func.sum(case((failed_answer(), 1), else_=0))
    rows = db.session.execute(
        live_answers(journey.id)
        .with_only_columns(
            ChecklistItem.id, ChecklistItem.text, Visit.touchpoint_id, failed, func.count()
        )
        .where(
            Visit.touchpoint_id.is_not(None),
            ChecklistItem.kind.in_(("yes-no", *LOW_SCALE)),
            or_(VisitAnswer.yes.is_not(None), VisitAnswer.number.is_not(None)),
        )
        .group_by(ChecklistItem.id, ChecklistItem.text, Visit.touchpoint_id)
        .having(failed > 0)
    ).all()
    rows = [r for r in rows if r[2] in tps]
    rows.sort(key=lambda r: (-r[3], -r[3] / r[4], r[0]))
    found = []
    for item_id, text, tp_id, failures, answered in rows[: SUGGEST_TOP + 2]:
        answer_ids = list(
            db.session.scalars(
                live_answers(journey.id)
                .with_only_columns(VisitAnswer.id)
                .where(VisitAnswer.item_id == item_id, Visit.touchpoint_id == tp_id)
                .where(failed_answer())
                .order_by(VisitAnswer.id)
            )
        )
        found.append(
            Suggestion(
                code=f"failed-item:item:{item_id}:touchpoint:{tp_id}",
                kind="failed-item",
                touchpoint=tps[tp_id],
                transition=None,
                value=failures,
                n=answered,
                share=failures / answered,
                type="organisational",
                item=text,
                answer_ids=answer_ids,
            )
        )
    return found


def _verbatim_suggestions(journey: dm.Journey) -> list[Suggestion]:
    """Touchpoints with the most negative verbatims (a verbatim with CSAT ≤ 2): a cluster by
    place, not by meaning — the team reads them and names the barrier."""
    tps = {tp.id: tp for tp in journey.touchpoints}
    negative = (Observation.verbatim != "", Observation.csat <= UNHAPPY_CSAT)
    counts = db.session.execute(
        visible(journey.id)
        .with_only_columns(Observation.touchpoint_id, func.count())
        .where(Observation.touchpoint_id.is_not(None), *negative)
        .group_by(Observation.touchpoint_id)
        .having(func.count() >= MIN_VERBATIMS)
    ).all()
    counts = sorted((r for r in counts if r[0] in tps), key=lambda r: (-r[1], r[0]))
    return [
        Suggestion(
            code=f"negative-verbatims:touchpoint:{tp_id}",
            kind="negative-verbatims",
            touchpoint=tps[tp_id],
            transition=None,
            value=n,
            n=n,
            type="emotional",
            observation_ids=_observation_ids(journey.id, tp_id, *negative),
        )
        for tp_id, n in counts[:SUGGEST_TOP]
    ]


def candidates(journey: dm.Journey, analytics: Analytics | None = None) -> list[Suggestion]:
    """Every candidate barrier the data proposes now, handled ones included."""
    analytics = analytics or analyze(journey)
    return [
        *_score_suggestions(journey),
        *_drop_off_suggestions(journey, analytics),
        *_failed_item_suggestions(journey),
        *_verbatim_suggestions(journey),
    ]


def suggestions(journey: dm.Journey, analytics: Analytics | None = None) -> list[Suggestion]:
    """Candidate barriers from the data, minus those already dismissed or accepted and those
    where the team already recorded a barrier (the touchpoint or transition is covered)."""
    handled, covered = handled_codes(journey.id), covered_places(journey.id)
    return [
        s
        for s in candidates(journey, analytics)
        if s.code not in handled and place_ids(s) not in covered
    ]


def covered_places(journey_id: int) -> set[tuple[int | None, int | None]]:
    """(touchpoint id, transition id) of every live barrier: no suggestion is made there."""
    return set(
        db.session.execute(
            select(Barrier.touchpoint_id, Barrier.transition_id).where(
                Barrier.journey_id == journey_id, Barrier.deletion_id.is_(None)
            )
        ).all()
    )


def place_ids(s: Suggestion) -> tuple[int | None, int | None]:
    """(touchpoint id, transition id) where a suggested barrier would sit."""
    if s.transition is not None:
        return None, s.transition.id
    return (s.touchpoint.id if s.touchpoint is not None else None), None


def dismissed(journey_id: int) -> list[DismissedSuggestion]:
    """The suggestions the team dismissed (not the accepted ones), latest first: these can be
    restored."""
    return list(
        db.session.scalars(
            select(DismissedSuggestion)
            .where(
                DismissedSuggestion.journey_id == journey_id,
                DismissedSuggestion.resolution == "dismissed",
            )
            .order_by(DismissedSuggestion.created_at.desc(), DismissedSuggestion.id.desc())
        )
    )


def mark_handled(
    journey_id: int, code: str, user_id: int | None, resolution: str = "dismissed"
) -> None:
    """Record a suggestion as "dismissed" or "accepted", so it is not proposed again (caller
    commits; a second click is harmless)."""
    if code not in handled_codes(journey_id):
        db.session.add(
            DismissedSuggestion(
                journey_id=journey_id, code=code, user_id=user_id, resolution=resolution
            )
        )


def restore(journey_id: int, code: str) -> bool:
    """Bring a dismissed suggestion back (it is proposed again if the data still says so);
    False when it is not dismissed, e.g. restored meanwhile or accepted (caller commits)."""
    result = db.session.execute(
        delete(DismissedSuggestion).where(
            DismissedSuggestion.journey_id == journey_id,
            DismissedSuggestion.code == code,
            DismissedSuggestion.resolution == "dismissed",
        )
    )
    return result.rowcount > 0
