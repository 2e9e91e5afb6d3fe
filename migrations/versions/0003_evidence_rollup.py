"""evidence rollup: per-group sums of live observations, kept by triggers

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08 10:00:00.000000

Every write to `observation` (ORM, core bulk insert/update, COPY, the FK actions ON DELETE SET
NULL / CASCADE, hard delete) passes through the triggers, so the rollup never depends on which
application path wrote. A row's contribution is subtracted when its OLD version was live
(deletion_id IS NULL) and added when its NEW version is; key ids use 0 for NULL; a group whose
n reaches 0 is deleted.

SQLite: three row triggers upsert into evidence_rollup directly (it updates rows in place).
PostgreSQL: a row trigger appends signed contributions to evidence_rollup_pending and a deferred
constraint trigger folds them into evidence_rollup once per transaction at commit: one upsert
per observation would rewrite the same rollup row over and over inside a transaction, and under
MVCC each rewrite walks all the earlier versions (quadratic: a 1M-row COPY ran for hours).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

KEYS = ("touchpoint", "stage", "channel", "segment")
KEY_COLUMNS = ["journey_id"] + [f"{k}_key_id" for k in KEYS]
SUM_COLUMNS = [
    "n",
    "csat_n",
    "csat_sum",
    "csat_sq",
    "nps_n",
    "promoters",
    "detractors",
    "ces_n",
    "ces_sum",
    "ces_sq",
]
TRIGGERS = ("evidence_rollup_insert", "evidence_rollup_update", "evidence_rollup_delete")


def _keys(row: str) -> list[str]:
    """The rollup key of an observation row (NEW, OLD or a table alias)."""
    return [f"{row}.journey_id"] + [f"COALESCE({row}.{k}_id, 0)" for k in KEYS]


def _sums(row: str) -> list[str]:
    """One observation's contribution to each sum, in SUM_COLUMNS order (portable SQL)."""

    def flag(condition):
        return f"CASE WHEN {condition} THEN 1 ELSE 0 END"

    return [
        "1",
        flag(f"{row}.csat IS NOT NULL"),
        f"COALESCE({row}.csat, 0)",
        f"COALESCE({row}.csat * {row}.csat, 0)",
        flag(f"{row}.nps IS NOT NULL"),
        flag(f"{row}.nps >= 9"),
        flag(f"{row}.nps <= 6"),
        flag(f"{row}.ces IS NOT NULL"),
        f"COALESCE({row}.ces, 0)",
        f"COALESCE({row}.ces * {row}.ces, 0)",
    ]


def _add(row: str, when: str = "TRUE") -> str:
    """Upsert a row's contribution into its group (if `when` holds). INSERT … SELECT … WHERE
    rather than VALUES, so SQLite triggers can carry the condition (and its upsert parses)."""
    values = ", ".join(_keys(row) + _sums(row))
    added = ", ".join(f"{c} = evidence_rollup.{c} + excluded.{c}" for c in SUM_COLUMNS)
    return (
        f"INSERT INTO evidence_rollup ({', '.join(KEY_COLUMNS + SUM_COLUMNS)}) "
        f"SELECT {values} WHERE {when} "
        f"ON CONFLICT ({', '.join(KEY_COLUMNS)}) DO UPDATE SET {added};"
    )


def _subtract(row: str, when: str = "TRUE") -> str:
    """Take a row's contribution out of its group, and drop the group once it is empty. A plain
    UPDATE, never an insert: when the map itself is being deleted the group may already be gone
    (ON DELETE CASCADE), and re-creating it would point at a deleted journey."""
    where = " AND ".join(
        [when] + [f"{c} = {v}" for c, v in zip(KEY_COLUMNS, _keys(row), strict=True)]
    )
    taken = ", ".join(f"{c} = {c} - {v}" for c, v in zip(SUM_COLUMNS, _sums(row), strict=True))
    return (
        f"UPDATE evidence_rollup SET {taken} WHERE {where}; "
        f"DELETE FROM evidence_rollup WHERE {where} AND n = 0;"
    )


# Only these columns move an observation between groups or change its sums.
WATCHED = ["journey_id"] + [f"{k}_id" for k in KEYS] + ["csat", "nps", "ces", "deletion_id"]
CHANGED = " OR ".join(
    [f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED if c != "deletion_id"]
    + ["(OLD.deletion_id IS NULL) <> (NEW.deletion_id IS NULL)"]
)


def _pending(row: str, sign: str) -> str:
    """PostgreSQL: append a row's signed contribution to this transaction's pending rows."""
    values = ", ".join(_keys(row) + [f"{sign}({v})" for v in _sums(row)])
    return (
        f"INSERT INTO evidence_rollup_pending ({', '.join(KEY_COLUMNS + SUM_COLUMNS)}) "
        f"VALUES ({values});"
    )


# PostgreSQL, per observation row: constant-time appends to evidence_rollup_pending (see the
# model for why not an upsert into the rollup itself), and a transaction-local flag that a fold
# is due.
POSTGRESQL_APPLY = f"""
CREATE FUNCTION evidence_rollup_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NOT ({CHANGED}) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deletion_id IS NULL THEN
        {_pending("OLD", "-")}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.deletion_id IS NULL THEN
        {_pending("NEW", "+")}
    END IF;
    PERFORM set_config('cjm.evidence_rollup_due', 'yes', true);
    RETURN NULL;
END
$$
"""

NET = ", ".join(f"SUM({c}) AS {c}" for c in SUM_COLUMNS)
ADDED = ", ".join(f"{c} = evidence_rollup.{c} + net.{c}" for c in SUM_COLUMNS)
ON_KEY = " AND ".join(f"evidence_rollup.{c} = net.{c}" for c in KEY_COLUMNS)
UPSERTED = ", ".join(f"{c} = evidence_rollup.{c} + excluded.{c}" for c in SUM_COLUMNS)

# PostgreSQL, deferred to commit: the first firing folds every pending row of the transaction,
# one UPDATE per group in key order (so concurrent folds lock groups in the same order); the
# others see the flag down and return at once. A group with no rollup row yet is inserted
# (ON CONFLICT: a concurrent fold may just have created it), one whose n reaches 0 deleted. A
# group that lost evidence always has a row, unless its map is being deleted (the rollup rows
# went by ON DELETE CASCADE): nothing is re-created for it.
POSTGRESQL_FOLD = f"""
CREATE FUNCTION evidence_rollup_fold() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    net record;
    remaining integer;
BEGIN
    IF current_setting('cjm.evidence_rollup_due', true) IS DISTINCT FROM 'yes' THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('cjm.evidence_rollup_due', 'no', true);
    FOR net IN
        WITH folded AS (DELETE FROM evidence_rollup_pending RETURNING *)
        SELECT {", ".join(KEY_COLUMNS)}, {NET} FROM folded
        GROUP BY {", ".join(KEY_COLUMNS)} ORDER BY {", ".join(KEY_COLUMNS)}
    LOOP
        UPDATE evidence_rollup SET {ADDED} WHERE {ON_KEY} RETURNING n INTO remaining;
        IF NOT FOUND THEN
            IF net.n > 0 THEN
                INSERT INTO evidence_rollup ({", ".join(KEY_COLUMNS + SUM_COLUMNS)})
                VALUES ({", ".join(f"net.{c}" for c in KEY_COLUMNS + SUM_COLUMNS)})
                ON CONFLICT ({", ".join(KEY_COLUMNS)}) DO UPDATE SET {UPSERTED}
                RETURNING n INTO remaining;
            END IF;
        END IF;
        IF remaining = 0 THEN
            DELETE FROM evidence_rollup WHERE {ON_KEY} AND n = 0;
        END IF;
        remaining := NULL;
    END LOOP;
    RETURN NULL;
END
$$
"""

POSTGRESQL_TRIGGERS = [
    "CREATE TRIGGER evidence_rollup AFTER INSERT OR UPDATE OR DELETE ON observation "
    "FOR EACH ROW EXECUTE FUNCTION evidence_rollup_apply()",
    "CREATE CONSTRAINT TRIGGER evidence_rollup_fold AFTER INSERT ON evidence_rollup_pending "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION evidence_rollup_fold()",
]

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER evidence_rollup_insert AFTER INSERT ON observation
    WHEN NEW.deletion_id IS NULL
    BEGIN {_add("NEW")} END""",
    # SQLite has no IS DISTINCT FROM: IS NOT is its NULL-safe inequality.
    f"""CREATE TRIGGER evidence_rollup_update AFTER UPDATE OF {", ".join(WATCHED)} ON observation
    WHEN {CHANGED.replace("IS DISTINCT FROM", "IS NOT")}
    BEGIN
        {_subtract("OLD", when="OLD.deletion_id IS NULL")}
        {_add("NEW", when="NEW.deletion_id IS NULL")}
    END""",
    f"""CREATE TRIGGER evidence_rollup_delete AFTER DELETE ON observation
    WHEN OLD.deletion_id IS NULL
    BEGIN {_subtract("OLD")} END""",
]

BACKFILL = (
    f"INSERT INTO evidence_rollup ({', '.join(KEY_COLUMNS + SUM_COLUMNS)}) "
    f"SELECT {', '.join(_keys('o'))}, "
    + ", ".join(f"SUM({v})" for v in _sums("o"))
    + " FROM observation o WHERE o.deletion_id IS NULL GROUP BY "
    + ", ".join(_keys("o"))
)


def upgrade():
    op.create_table(
        "evidence_rollup",
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("touchpoint_key_id", sa.Integer(), nullable=False),
        sa.Column("stage_key_id", sa.Integer(), nullable=False),
        sa.Column("channel_key_id", sa.Integer(), nullable=False),
        sa.Column("segment_key_id", sa.Integer(), nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in SUM_COLUMNS),
        sa.ForeignKeyConstraint(
            ["journey_id"],
            ["journey.id"],
            name=op.f("fk_evidence_rollup_journey_id_journey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(*KEY_COLUMNS, name=op.f("pk_evidence_rollup")),
    )
    op.create_table(
        "evidence_rollup_pending",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in KEY_COLUMNS + SUM_COLUMNS),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_rollup_pending")),
    )
    with op.batch_alter_table("evidence_rollup_pending", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_rollup_pending_journey_id"), ["journey_id"], unique=False
        )
    # Triggers first, backfill second: on PostgreSQL CREATE TRIGGER locks out writers to
    # observation until this transaction commits, so no row slips between the two.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_APPLY)
        op.execute(POSTGRESQL_FOLD)
        for trigger in POSTGRESQL_TRIGGERS:
            op.execute(trigger)
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
    op.execute(BACKFILL)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS evidence_rollup ON observation")
        op.execute("DROP TRIGGER IF EXISTS evidence_rollup_fold ON evidence_rollup_pending")
        op.execute("DROP FUNCTION IF EXISTS evidence_rollup_apply()")
        op.execute("DROP FUNCTION IF EXISTS evidence_rollup_fold()")
    else:
        for trigger in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    with op.batch_alter_table("evidence_rollup_pending", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_rollup_pending_journey_id"))
    op.drop_table("evidence_rollup_pending")
    op.drop_table("evidence_rollup")
