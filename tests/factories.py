"""Test data factories with sensible defaults (fixtures call these; tests may too)."""

from werkzeug.security import generate_password_hash

from cjm import store
from cjm.extensions import db
from cjm.journey import model as dm
from cjm.models import Membership, User


def make_user(
    email: str = "user@example.com", name: str = "Test User", password: str = "secret-pass"
):
    """A committed user (the hash uses a cheap method: tests need speed, not strength)."""
    user = User(
        email=email, name=name, password_hash=generate_password_hash(password, "pbkdf2:sha256:1000")
    )
    db.session.add(user)
    db.session.commit()
    return user


def sample_journey(title: str = "Online shop") -> dm.Journey:
    """Three stages, two channels; entry → decision → goal with a branch, a loop and a drop-out."""
    return dm.Journey(
        title=title,
        description="Buying a kettle online",
        personas=[
            dm.Persona(
                key="anna",
                name="Anna",
                age=34,
                goals="Buy fast",
                needs="Clear prices",
                frustrations="Hidden fees",
                primary=True,
            )
        ],
        stages=[
            dm.Stage("aware", "Awareness"),
            dm.Stage("buy", "Purchase"),
            dm.Stage("use", "Use"),
        ],
        channels=[
            dm.Channel("web", "Website", "website"),
            dm.Channel("call", "Call centre", "call-centre"),
        ],
        touchpoints=[
            dm.Touchpoint("ad", "aware", "web", "Sees an ad", kind="entry", emotion=1),
            dm.Touchpoint("cart", "buy", "web", "Fills the cart", kind="decision", emotion=0),
            dm.Touchpoint("call", "buy", "call", "Calls to ask", emotion=-1),
            dm.Touchpoint("paid", "use", "web", "Pays", kind="goal", emotion=2),
            dm.Touchpoint("gone", "buy", "web", "Leaves", kind="exit", emotion=-2),
        ],
        transitions=[
            dm.Transition("ad-cart", "ad", "cart", "main", volume=100),
            dm.Transition("cart-paid", "cart", "paid", "main", volume=40),
            dm.Transition("cart-call", "cart", "call", "alternative", "Has a question", 30),
            dm.Transition("call-cart", "call", "cart", "loop", volume=25),
            dm.Transition("cart-gone", "cart", "gone", "drop-out", volume=30),
        ],
    )


def make_map(owner, journey: dm.Journey | None = None):
    """A committed map owned by `owner`; returns the Journey row."""
    row = store.add_journey(journey or sample_journey(), owner.id)
    db.session.commit()
    return row


def add_member(journey_row, user, role: str) -> None:
    """Give user a role on the map."""
    db.session.add(Membership(journey_id=journey_row.id, user_id=user.id, role=role))
    db.session.commit()
