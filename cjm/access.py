"""The one access guard: every view declares its rule with @guard, and the guard enforces it.

Rules: "public" (anyone), "user" (signed in), "view" / "edit" / "own" (a member of the map in the
URL with at least that role). A map the user is not a member of answers 404, not 403, so map ids
do not leak. tests/test_access.py walks app.url_map and checks every route's rule.
"""

from functools import wraps

from flask import abort, g
from flask_login import current_user

from .extensions import db, login
from .models import Journey, Membership, User

ROLES = ("viewer", "editor", "owner")
NEEDS = {"view": "viewer", "edit": "editor", "own": "owner"}
RULES = ("public", "user", *NEEDS)


@login.user_loader
def load_user(user_id: str) -> User | None:
    """Flask-Login: the signed-in user, by id."""
    return db.session.get(User, int(user_id))


def role_of(journey_id: int, user_id: int) -> str | None:
    """The user's role on the map, or None."""
    return db.session.scalar(
        db.select(Membership.role).filter_by(journey_id=journey_id, user_id=user_id)
    )


def can(role: str | None, need: str) -> bool:
    """Whether a role is enough for a need ("view", "edit", "own")."""
    return role is not None and ROLES.index(role) >= ROLES.index(NEEDS[need])


def get_journey_or_404(journey_id: int, need: str = "view") -> Journey:
    """The live map if the current user may `need` it; 404 for non-members, else 403."""
    journey = db.session.get(Journey, journey_id)
    if journey is None or journey.deletion_id is not None:
        abort(404)
    role = role_of(journey_id, current_user.id)
    if role is None:
        abort(404)
    if not can(role, need):
        abort(403)
    g.journey, g.role = journey, role
    return journey


def guard(rule: str):
    """Declare and enforce a view's access rule; map rules read the `map_id` URL argument."""
    if rule not in RULES:
        raise ValueError(f"unknown access rule {rule!r}")

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if rule != "public" and not current_user.is_authenticated:
                return login.unauthorized()
            if rule in NEEDS:
                get_journey_or_404(kwargs["map_id"], rule)
            return view(*args, **kwargs)

        guarded.access_rule = rule
        return guarded

    return decorate


def get_part_or_404(model, part_id: int):
    """An element (stage, touchpoint, …) of the map guarded in g.journey; 404 if not there."""
    part = db.session.get(model, part_id)
    if part is None or part.journey_id != g.journey.id or part.deletion_id is not None:
        abort(404)
    return part
