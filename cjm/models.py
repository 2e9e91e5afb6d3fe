"""SQLAlchemy 2.0 typed models: persistence only, no behaviour beyond what the rows need.

Every editable part of a map carries `version` (optimistic locking: a stale save becomes 409) and
`deletion_id` (soft delete: rows sharing one Deletion come back together on undo).
"""

from datetime import UTC, date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from .extensions import db


def utcnow() -> datetime:
    """Timezone-aware now, stored as UTC."""
    return datetime.now(UTC)


class User(UserMixin, db.Model):
    """A person who signs in."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Deletion(db.Model):
    """One user action that soft-deleted some rows; undoing it restores them all."""

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(
        ForeignKey("journey.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Journey(db.Model):
    """A customer journey map."""

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(8), default="as-is")
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    # A touchpoint's evidence counts as "enough" from this many observations on.
    evidence_threshold: Mapped[int] = mapped_column(default=5, server_default="5")
    # A to-be map points at the as-is map it was copied from.
    as_is_id: Mapped[int | None] = mapped_column(
        ForeignKey("journey.id", ondelete="SET NULL"), index=True
    )
    # use_alter: journey <-> deletion reference each other.
    deletion_id: Mapped[int | None] = mapped_column(
        ForeignKey("deletion.id", ondelete="SET NULL", use_alter=True)
    )

    members: Mapped[list["Membership"]] = relationship(
        back_populates="journey", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (CheckConstraint("state IN ('as-is', 'to-be')", name="state"),)


class Membership(db.Model):
    """A user's role on a map: owner, editor or viewer."""

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(8))

    journey: Mapped[Journey] = relationship(back_populates="members")
    user: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("journey_id", "user_id"),
        CheckConstraint("role IN ('owner', 'editor', 'viewer')", name="role"),
    )


class Image(db.Model):
    """An uploaded picture, re-encoded; kept in the database so every host can serve it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(
        ForeignKey("journey.id", ondelete="CASCADE"), index=True
    )
    content_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JourneyPart:
    """Columns shared by every element of a map: its map, its document key, version, deletion."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)

    @declared_attr
    def journey_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("journey.id", ondelete="CASCADE"), index=True)

    @declared_attr
    def deletion_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("deletion.id", ondelete="SET NULL"))

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.version}

    @declared_attr.directive
    def __table_args__(cls):
        return (UniqueConstraint("journey_id", "key"),)


class Persona(JourneyPart, db.Model):
    """Step 1: who the customer is."""

    name: Mapped[str] = mapped_column(String(120))
    avatar_id: Mapped[int | None] = mapped_column(ForeignKey("image.id", ondelete="SET NULL"))
    age: Mapped[int | None]
    occupation: Mapped[str] = mapped_column(String(200), default="")
    quote: Mapped[str] = mapped_column(Text, default="")
    goals: Mapped[str] = mapped_column(Text, default="")
    needs: Mapped[str] = mapped_column(Text, default="")
    expectations: Mapped[str] = mapped_column(Text, default="")
    frustrations: Mapped[str] = mapped_column(Text, default="")
    behaviour: Mapped[str] = mapped_column(Text, default="")
    segment: Mapped[str] = mapped_column(String(120), default="")
    lifecycle: Mapped[str] = mapped_column(String(16), default="")
    is_primary: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)


class Stage(JourneyPart, db.Model):
    """Step 2: a column of the journey."""

    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)


class Channel(JourneyPart, db.Model):
    """Step 2: where the customer meets the company (catalogue kind or custom)."""

    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(24), default="custom")
    position: Mapped[int] = mapped_column(default=0)


class Touchpoint(JourneyPart, db.Model):
    """A node of the journey graph: one stage, one channel."""

    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channel.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12), default="step")
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    action: Mapped[str] = mapped_column(Text, default="")
    goal: Mapped[str] = mapped_column(Text, default="")
    thought: Mapped[str] = mapped_column(Text, default="")
    emotion: Mapped[int | None]
    position: Mapped[int] = mapped_column(default=0)


class Transition(JourneyPart, db.Model):
    """An edge of the journey graph: the customer moves from one touchpoint to another."""

    source_id: Mapped[int] = mapped_column(
        ForeignKey("touchpoint.id", ondelete="CASCADE"), index=True
    )
    target_id: Mapped[int] = mapped_column(
        ForeignKey("touchpoint.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12), default="main")
    label: Mapped[str] = mapped_column(String(200), default="")
    volume: Mapped[int | None]


# --- Step 3: experience research -------------------------------------------------------------


class Segment(JourneyPart, db.Model):
    """A customer group evidence is tied to (e.g. "new customers", "B2B")."""

    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)


class Interview(db.Model):
    """A sales-manager interview: notes, with quotes recorded as observations."""

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(
        ForeignKey("journey.id", ondelete="CASCADE"), index=True
    )
    manager: Mapped[str] = mapped_column(String(120))
    held_on: Mapped[date]
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyImport(db.Model):
    """One upload of a survey file, from preview through mapping to the committed rows."""

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(
        ForeignKey("journey.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    # Parsing options, column and value mappings chosen by the user (JSON).
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    # uploaded | validated | importing | done | failed | cancelled
    status: Mapped[str] = mapped_column(String(12), default="uploaded")
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    done_rows: Mapped[int] = mapped_column(default=0)
    total_rows: Mapped[int] = mapped_column(default=0)
    report: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Observation(db.Model):
    """One piece of evidence: tied to a touchpoint (or a stage and/or channel) and a segment.

    stage_id and channel_id are filled from the touchpoint when there is one, so aggregates per
    stage and channel are plain GROUP BYs on indexed columns."""

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"))
    touchpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("touchpoint.id", ondelete="SET NULL"), index=True
    )
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("stage.id", ondelete="SET NULL"))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channel.id", ondelete="SET NULL"))
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segment.id", ondelete="SET NULL"))
    # mystery-shopper | survey | interview | analytics | market
    source: Mapped[str] = mapped_column(String(16))
    observed_on: Mapped[date | None]
    respondent: Mapped[str] = mapped_column(String(120), default="")
    csat: Mapped[int | None] = mapped_column(SmallInteger)
    nps: Mapped[int | None] = mapped_column(SmallInteger)
    ces: Mapped[int | None] = mapped_column(SmallInteger)
    verbatim: Mapped[str] = mapped_column(Text, default="")
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_import.id", ondelete="SET NULL"), index=True
    )
    visit_id: Mapped[int | None] = mapped_column(
        ForeignKey("visit.id", ondelete="CASCADE"), index=True
    )
    interview_id: Mapped[int | None] = mapped_column(
        ForeignKey("interview.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    deletion_id: Mapped[int | None] = mapped_column(ForeignKey("deletion.id", ondelete="SET NULL"))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_observation_map_stage_segment", "journey_id", "stage_id", "segment_id"),
        Index("ix_observation_map_channel_segment", "journey_id", "channel_id", "segment_id"),
        CheckConstraint("csat BETWEEN 1 AND 5", name="csat"),
        CheckConstraint("nps BETWEEN 0 AND 10", name="nps"),
        CheckConstraint("ces BETWEEN 1 AND 7", name="ces"),
    )


class Checklist(JourneyPart, db.Model):
    """A mystery-shopper checklist template of a map."""

    name: Mapped[str] = mapped_column(String(200))
    items: Mapped[list["ChecklistItem"]] = relationship(
        back_populates="checklist", order_by="ChecklistItem.position", cascade="all, delete-orphan"
    )


class ChecklistItem(db.Model):
    """One question of a checklist: yes/no, a 1–5 or 1–10 scale, a number, or text."""

    id: Mapped[int] = mapped_column(primary_key=True)
    checklist_id: Mapped[int] = mapped_column(
        ForeignKey("checklist.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(10))  # yes-no | scale-5 | scale-10 | number | text
    position: Mapped[int] = mapped_column(default=0)
    deletion_id: Mapped[int | None] = mapped_column(ForeignKey("deletion.id", ondelete="SET NULL"))

    checklist: Mapped[Checklist] = relationship(back_populates="items")


class Visit(db.Model):
    """A mystery-shopper visit: a draft until submitted, so a dropped connection loses nothing."""

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(
        ForeignKey("journey.id", ondelete="CASCADE"), index=True
    )
    checklist_id: Mapped[int] = mapped_column(ForeignKey("checklist.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    visited_on: Mapped[date | None]
    place: Mapped[str] = mapped_column(String(200), default="")
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channel.id", ondelete="SET NULL"))
    touchpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("touchpoint.id", ondelete="SET NULL")
    )
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segment.id", ondelete="SET NULL"))
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft | submitted
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    deletion_id: Mapped[int | None] = mapped_column(ForeignKey("deletion.id", ondelete="SET NULL"))

    __mapper_args__ = {"version_id_col": version}


class VisitAnswer(db.Model):
    """The answer to one checklist item in one visit."""

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(
        ForeignKey("checklist_item.id", ondelete="CASCADE"), index=True
    )
    yes: Mapped[bool | None]
    number: Mapped[float | None]
    text: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (UniqueConstraint("visit_id", "item_id"),)


class VisitPhoto(db.Model):
    """A photo taken during a visit (re-encoded, metadata stripped, stored as an Image)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="CASCADE"))


class AnalyticsVolume(db.Model):
    """A web-analytics figure for a period: visits, requests or orders at a stage or transition."""

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(
        ForeignKey("journey.id", ondelete="CASCADE"), index=True
    )
    period_start: Mapped[date]
    period_end: Mapped[date]
    metric: Mapped[str] = mapped_column(String(16))  # visits | requests | orders | custom name
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("stage.id", ondelete="CASCADE"))
    transition_id: Mapped[int | None] = mapped_column(
        ForeignKey("transition.id", ondelete="CASCADE")
    )
    value: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(db.Model):
    """A per-map token for survey tools pushing observations; only its hash is stored."""

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(
        ForeignKey("journey.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # shown in lists so users can tell tokens apart
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class EvidenceRollup(db.Model):
    """The metrics.Sums of a map's live observations per (touchpoint, stage, channel, segment),
    kept exact by database triggers on `observation` (migration 0003), so aggregates read a few
    rows instead of scanning the evidence. A key id of 0 stands for NULL (NULLs are distinct in a
    primary key); a group whose last observation goes away is deleted, so n is never 0."""

    journey_id: Mapped[int] = mapped_column(
        ForeignKey("journey.id", ondelete="CASCADE"), primary_key=True
    )
    touchpoint_key_id: Mapped[int] = mapped_column(primary_key=True, default=0)
    stage_key_id: Mapped[int] = mapped_column(primary_key=True, default=0)
    channel_key_id: Mapped[int] = mapped_column(primary_key=True, default=0)
    segment_key_id: Mapped[int] = mapped_column(primary_key=True, default=0)
    n: Mapped[int] = mapped_column(default=0)
    csat_n: Mapped[int] = mapped_column(default=0)
    csat_sum: Mapped[int] = mapped_column(default=0)
    csat_sq: Mapped[int] = mapped_column(default=0)
    nps_n: Mapped[int] = mapped_column(default=0)
    promoters: Mapped[int] = mapped_column(default=0)
    detractors: Mapped[int] = mapped_column(default=0)
    ces_n: Mapped[int] = mapped_column(default=0)
    ces_sum: Mapped[int] = mapped_column(default=0)
    ces_sq: Mapped[int] = mapped_column(default=0)


class EvidenceRollupPending(db.Model):
    """PostgreSQL only: observation writes of the current transaction, as signed contributions
    to evidence_rollup groups, folded into the rollup once at commit (a deferred trigger) and
    deleted there, so committed rows never stay. Updating the same rollup row once per
    observation inside one transaction would be quadratic under MVCC (a 1M-row COPY ran for
    hours); appending here is constant-time. Aggregates add these rows to read their own writes."""

    __tablename__ = "evidence_rollup_pending"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    journey_id: Mapped[int] = mapped_column(index=True)
    touchpoint_key_id: Mapped[int]
    stage_key_id: Mapped[int]
    channel_key_id: Mapped[int]
    segment_key_id: Mapped[int]
    n: Mapped[int]
    csat_n: Mapped[int]
    csat_sum: Mapped[int]
    csat_sq: Mapped[int]
    nps_n: Mapped[int]
    promoters: Mapped[int]
    detractors: Mapped[int]
    ces_n: Mapped[int]
    ces_sum: Mapped[int]
    ces_sq: Mapped[int]


# --- Step 4: barrier analysis ------------------------------------------------------------------


class Barrier(JourneyPart, db.Model):
    """A barrier or pain point on a touchpoint or a transition (exactly one of the two)."""

    touchpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("touchpoint.id", ondelete="CASCADE"), index=True
    )
    transition_id: Mapped[int | None] = mapped_column(
        ForeignKey("transition.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # functional | informational | emotional | price | trust | technical | organisational
    type: Mapped[str] = mapped_column(String(16))
    severity: Mapped[int] = mapped_column(SmallInteger, default=3)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | mitigated | resolved
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("journey_id", "key"),
        CheckConstraint("severity BETWEEN 1 AND 5", name="severity"),
        CheckConstraint(
            "(touchpoint_id IS NULL) <> (transition_id IS NULL)", name="on_touchpoint_or_transition"
        ),
    )


class BarrierSegment(db.Model):
    """A segment a barrier affects."""

    barrier_id: Mapped[int] = mapped_column(
        ForeignKey("barrier.id", ondelete="CASCADE"), primary_key=True
    )
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segment.id", ondelete="CASCADE"), primary_key=True
    )


class BarrierEvidence(db.Model):
    """Evidence behind a barrier: an observation (verbatims included) or a mystery-shopper answer;
    the barrier's frequency is the number of these links, counted, never typed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    barrier_id: Mapped[int] = mapped_column(
        ForeignKey("barrier.id", ondelete="CASCADE"), index=True
    )
    observation_id: Mapped[int | None] = mapped_column(
        ForeignKey("observation.id", ondelete="CASCADE"), index=True
    )
    answer_id: Mapped[int | None] = mapped_column(
        ForeignKey("visit_answer.id", ondelete="CASCADE"), index=True
    )

    __table_args__ = (
        UniqueConstraint("barrier_id", "observation_id"),
        UniqueConstraint("barrier_id", "answer_id"),
        CheckConstraint("(observation_id IS NULL) <> (answer_id IS NULL)", name="one_source"),
    )


class BarrierVote(db.Model):
    """One dot a team member put on a barrier (several dots per person are allowed)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    barrier_id: Mapped[int] = mapped_column(
        ForeignKey("barrier.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DismissedSuggestion(db.Model):
    """A suggested barrier the team dismissed, so it is not proposed again."""

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(120))  # e.g. "worst-csat:touchpoint:12"
    # dismissed | accepted: accepted ones stay out of the list too; only dismissed can be restored.
    resolution: Mapped[str] = mapped_column(
        String(10), default="dismissed", server_default="dismissed"
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("journey_id", "code"),)


# --- Step 5: optimization strategies ----------------------------------------------------------


class Strategy(JourneyPart, db.Model):
    """A way to remove barriers, scored by ICE (impact × confidence × ease, ease = 11 − effort)."""

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(120), default="")
    impact: Mapped[int] = mapped_column(SmallInteger, default=5)
    effort: Mapped[int] = mapped_column(SmallInteger, default=5)
    confidence: Mapped[int] = mapped_column(SmallInteger, default=5)
    # idea | planned | in-progress | done | dropped
    status: Mapped[str] = mapped_column(String(12), default="idea")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("journey_id", "key"),
        CheckConstraint("impact BETWEEN 1 AND 10", name="impact"),
        CheckConstraint("effort BETWEEN 1 AND 10", name="effort"),
        CheckConstraint("confidence BETWEEN 1 AND 10", name="confidence"),
    )


class StrategyBarrier(db.Model):
    """A barrier a strategy addresses."""

    strategy_id: Mapped[int] = mapped_column(
        ForeignKey("strategy.id", ondelete="CASCADE"), primary_key=True
    )
    barrier_id: Mapped[int] = mapped_column(
        ForeignKey("barrier.id", ondelete="CASCADE"), primary_key=True, index=True
    )


# --- Step 6: execution, testing and analysis -------------------------------------------------


class Kpi(JourneyPart, db.Model):
    """A business figure the team follows over time (inbound requests, buyers, LTV, custom…)."""

    name: Mapped[str] = mapped_column(String(120))
    # inbound-requests | buyers | repeat-sales | retention | ltv | custom
    kind: Mapped[str] = mapped_column(String(16), default="custom")
    unit: Mapped[str] = mapped_column(String(16), default="")
    higher_is_better: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)


class KpiValue(db.Model):
    """One reading of a KPI; readings written back by a closed experiment name it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpi.id", ondelete="CASCADE"), index=True)
    measured_on: Mapped[date]
    value: Mapped[float]
    experiment_id: Mapped[int | None] = mapped_column(
        ForeignKey("experiment.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Experiment(JourneyPart, db.Model):
    """A test of a strategy against one KPI over a period, closed with a verdict and a learning.

    The KPI is a transition's or a stage's conversion, CSAT/NPS/CES at a touchpoint or a stage
    (optionally for one segment), or one of the map's custom KPIs (typed result)."""

    strategy_id: Mapped[int] = mapped_column(
        ForeignKey("strategy.id", ondelete="CASCADE"), index=True
    )
    hypothesis: Mapped[str] = mapped_column(Text, default="")
    # transition-conversion | stage-conversion | csat | nps | ces | custom
    metric: Mapped[str] = mapped_column(String(24))
    transition_id: Mapped[int | None] = mapped_column(
        ForeignKey("transition.id", ondelete="SET NULL")
    )
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("stage.id", ondelete="SET NULL"))
    touchpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("touchpoint.id", ondelete="SET NULL")
    )
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segment.id", ondelete="SET NULL"))
    kpi_id: Mapped[int | None] = mapped_column(ForeignKey("kpi.id", ondelete="SET NULL"))
    # Baseline: the value before the period, with its count (successes of trials, or n).
    baseline: Mapped[float | None]
    baseline_n: Mapped[int | None]
    baseline_hits: Mapped[int | None]
    target: Mapped[float | None]
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    result: Mapped[float | None]
    result_n: Mapped[int | None]
    result_hits: Mapped[int | None]
    p_value: Mapped[float | None]
    status: Mapped[str] = mapped_column(String(10), default="planned")  # planned | running | closed
    verdict: Mapped[str | None] = mapped_column(String(14))  # won | lost | inconclusive
    learning: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- Notes: sticky notes of workshops, and notes written back onto the map ---------------------


class Note(db.Model):
    """A sticky note on a stage or a touchpoint: thought, pain, idea, question, or a learning that
    a closed experiment wrote back. Posted by a workshop participant or a member."""

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(
        ForeignKey("journey.id", ondelete="CASCADE"), index=True
    )
    workshop_id: Mapped[int | None] = mapped_column(
        ForeignKey("workshop.id", ondelete="SET NULL"), index=True
    )
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL")
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    experiment_id: Mapped[int | None] = mapped_column(
        ForeignKey("experiment.id", ondelete="SET NULL")
    )
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("stage.id", ondelete="CASCADE"))
    touchpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("touchpoint.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))  # thought | pain | idea | question | learning
    text: Mapped[str] = mapped_column(String(500))
    group_label: Mapped[str] = mapped_column(String(120), default="")
    # What the facilitator promoted it into, e.g. "barrier:12"
    promoted_to: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    deletion_id: Mapped[int | None] = mapped_column(ForeignKey("deletion.id", ondelete="SET NULL"))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(
            "stage_id IS NOT NULL OR touchpoint_id IS NOT NULL", name="on_stage_or_touchpoint"
        ),
    )


# --- Live workshops ---------------------------------------------------------------------------


class Workshop(db.Model):
    """A live session on a map: participants join by code; the facilitator steps the room."""

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(
        ForeignKey("journey.id", ondelete="CASCADE"), index=True
    )
    facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # The join code; set to NULL when the workshop ends, so it can never be used again.
    code: Mapped[str | None] = mapped_column(String(12), unique=True)
    step: Mapped[int] = mapped_column(SmallInteger, default=1)
    dots: Mapped[int] = mapped_column(SmallInteger, default=5)
    votes_hidden: Mapped[bool] = mapped_column(default=False)
    locked: Mapped[bool] = mapped_column(default=False)
    # Timer: running when timer_ends_at is set; paused keeps the seconds left.
    timer_ends_at: Mapped[datetime | None]
    timer_left: Mapped[int | None]
    summary: Mapped[dict | None] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (CheckConstraint("step BETWEEN 1 AND 6", name="step"),)


class Participant(db.Model):
    """Someone in a workshop's room: a display name and a secret kept in their browser."""

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(60))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]


class Dot(db.Model):
    """One of a participant's N dots, on a note or a barrier. `slot` (1..N) is unique per person,
    so concurrent votes can never exceed N: the database refuses the second use of a slot."""

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    slot: Mapped[int] = mapped_column(SmallInteger)
    note_id: Mapped[int | None] = mapped_column(
        ForeignKey("note.id", ondelete="CASCADE"), index=True
    )
    barrier_id: Mapped[int | None] = mapped_column(
        ForeignKey("barrier.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("participant_id", "slot"),
        CheckConstraint("slot >= 1", name="slot"),
        CheckConstraint("(note_id IS NULL) <> (barrier_id IS NULL)", name="on_note_or_barrier"),
    )


class WorkshopEvent(db.Model):
    """The durable event log of a workshop: ids are the SSE event ids, so a client reconnecting
    with Last-Event-ID is sent every event after it."""

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
