"""The one access guard: every view declares its rule with @guard, and the guard enforces it.

Rules: "public" (anyone), "user" (signed in), "view" / "edit" / "own" (a member of the map in the
URL with at least that role), "token" (the JSON API: an `Authorization: Bearer` token of the map in
the URL; cookies play no part), "participant" (a workshop URL with `workshop_id`: its participant by
cookie, or a member of its map with view rights; see cjm.workshops.admit). A map the user is not
a member of answers 404, not 403, so map ids do not leak; a token that does not open the map
answers 401 whatever the reason, for the same reason. tests/test_access.py walks app.url_map and
checks every route's rule.
"""

from functools import wraps

from flask import abort, g, jsonify, request
from flask_login import current_user

from .api.tokens import bearer, token_for_map
from .extensions import db, login
from .models import Journey, Membership, User

ROLES = ("viewer", "editor", "owner")
NEEDS = {"view": "viewer", "edit": "editor", "own": "owner"}
RULES = ("public", "user", *NEEDS, "token", "participant")


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


def unauthorized_api(message: str, error: str | None = None):
    """A 401 JSON answer asking for a Bearer token (RFC 6750), shaped like every API error."""
    response = jsonify(code=401, status="Unauthorized", message=message)
    response.status_code = 401
    challenge = 'Bearer realm="CJM Studio"'
    response.headers["WWW-Authenticate"] = challenge + (f', error="{error}"' if error else "")
    return response


def get_journey_by_token(journey_id: int):
    """Open the map with the request's Bearer token into g.journey; a 401 answer if it does not."""
    header = request.headers.get("Authorization")
    if header is None:
        return unauthorized_api("Send the map's API token: Authorization: Bearer <token>.")
    token = bearer(header)
    if token is None:
        return unauthorized_api("Malformed Authorization header.", "invalid_request")
    row = token_for_map(journey_id, token)
    if row is None:  # unknown, revoked or another map's: never say which, nor if the map exists
        return unauthorized_api("The token does not open this map.", "invalid_token")
    g.journey, g.role, g.api_token = db.session.get(Journey, journey_id), None, row
    return None


def guard(rule: str):
    """Declare and enforce a view's access rule; map rules read the `map_id` URL argument."""
    if rule not in RULES:
        raise ValueError(f"unknown access rule {rule!r}")

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if rule == "token":
                denied = get_journey_by_token(kwargs["map_id"])
                return denied if denied is not None else view(*args, **kwargs)
            if rule == "participant":
                from .workshops import admit

                denied = admit(kwargs["workshop_id"])
                return denied if denied is not None else view(*args, **kwargs)
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
