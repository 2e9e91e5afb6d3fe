"""Accounts: register, sign in, sign out, UI language."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from ..access import guard
from ..extensions import db
from ..forms import LoginForm, RegisterForm
from ..models import User
from ..web import render

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Only same-site relative redirects after sign-in (no open redirect)."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("maps.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@guard("public")
def login():
    """Sign in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(url_for("maps.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(db.select(User).filter_by(email=form.email.data.strip().lower()))
        if user and check_password_hash(user.password_hash, form.password.data):
            login_user(user, remember=True)
            return redirect(safe_next(request.args.get("next")), 303)
        form.password.errors.append(_("Wrong e-mail or password."))
    status = 422 if form.is_submitted() else 200
    return render("auth/login.html", form=form, status=status)


@bp.route("/register", methods=["GET", "POST"])
@guard("public")
def register():
    """Create an account."""
    form = RegisterForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        if db.session.scalar(db.select(User.id).filter_by(email=email)):
            form.email.errors.append(_("An account with this e-mail exists."))
        else:
            user = User(
                email=email,
                name=form.name.data.strip(),
                password_hash=generate_password_hash(form.password.data),
                locale=request.cookies.get("lang"),
            )
            db.session.add(user)
            db.session.commit()
            login_user(user, remember=True)
            flash(_("Welcome, %(name)s!", name=user.name))
            return redirect(url_for("maps.dashboard"), 303)
    status = 422 if form.is_submitted() else 200
    return render("auth/register.html", form=form, status=status)


@bp.route("/logout", methods=["POST"])
@guard("user")
def logout():
    """Sign out."""
    logout_user()
    return redirect(url_for("auth.login"), 303)


@bp.route("/lang/<code>", methods=["POST"])
@guard("public")
def language(code: str):
    """Switch the UI language (cookie, and the account's default when signed in)."""
    if code not in current_app.config["LANGUAGES"]:
        return redirect(url_for("maps.dashboard"), 303)
    if current_user.is_authenticated:
        current_user.locale = code
        db.session.commit()
    response = redirect(safe_next(request.form.get("next")), 303)
    response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
