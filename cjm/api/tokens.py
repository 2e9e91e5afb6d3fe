"""Per-map API tokens: made from the OS's randomness, shown once, stored as a SHA-256 hash.

The token itself has 256 random bits, so a plain (unsalted) SHA-256 is enough to make a stolen
database useless while still allowing a lookup by the indexed hash.
"""

import hashlib
import secrets

from sqlalchemy import select

from ..extensions import db
from ..models import ApiToken, Journey, utcnow

PREFIX = "cjm_"
SHOWN = 12  # characters kept in clear ("cjm_" + 8), so people can tell their tokens apart


def token_hash(token: str) -> str:
    """The hex SHA-256 of a token, as stored in ApiToken.token_hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue(journey_id: int, name: str, user_id: int | None) -> tuple[ApiToken, str]:
    """A new token for the map: the row (only the hash and a prefix) and the token to show once."""
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        journey_id=journey_id,
        name=name,
        token_hash=token_hash(token),
        prefix=token[:SHOWN],
        created_by=user_id,
    )
    db.session.add(row)
    return row, token


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None if missing or malformed."""
    scheme, _, token = (header or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


def token_for_map(journey_id: int, token: str) -> ApiToken | None:
    """The live, unrevoked token row for this map, marked as used now; None otherwise."""
    row = db.session.scalar(
        select(ApiToken)
        .join(Journey, Journey.id == ApiToken.journey_id)
        .where(
            ApiToken.token_hash == token_hash(token),
            ApiToken.journey_id == journey_id,
            ApiToken.revoked_at.is_(None),
            Journey.deletion_id.is_(None),
        )
    )
    if row is not None:
        row.last_used_at = utcnow()
        db.session.commit()
    return row
