"""SQLAlchemy 2.0 typed models: persistence only, no behaviour beyond what the rows need.

Every editable part of a map carries `version` (optimistic locking: a stale save becomes 409) and
`deletion_id` (soft delete: rows sharing one Deletion come back together on undo).
"""

from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, Text, UniqueConstraint
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
