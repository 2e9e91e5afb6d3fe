"""Request plumbing shared by every view: page-or-fragment rendering, headers, template globals."""

import base64
import hashlib
from functools import cache
from pathlib import Path

from flask import Flask, current_app, render_template, request

HTMX_VERSION = "4.0.1"
HTMX_FILE = f"vendor/htmx-{HTMX_VERSION}.min.js"
HTMX_CDN = f"https://cdn.jsdelivr.net/npm/htmx.org@{HTMX_VERSION}/dist/htmx.min.js"
# The SSE extension ships in the same npm package, so the same pin, SRI and fallback apply.
SSE_FILE = f"vendor/hx-sse-{HTMX_VERSION}.min.js"
SSE_CDN = f"https://cdn.jsdelivr.net/npm/htmx.org@{HTMX_VERSION}/dist/ext/hx-sse.min.js"
CDN_ORIGIN = "https://cdn.jsdelivr.net"


@cache
def sri(static_file: str) -> str:
    """Subresource Integrity of a vendored file; the CDN serves the same bytes as npm."""
    data = (Path(current_app.static_folder) / static_file).read_bytes()
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def wants_fragment() -> bool:
    """True for an htmx request that swaps part of a page (not boosted, not a history restore)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(page: str, fragment: str | None = None, status: int = 200, **context):
    """One URL, two answers: the whole page, or just its fragment for htmx."""
    template = fragment if fragment and wants_fragment() else page
    return render_template(template, **context), status


def content_security_policy() -> str:
    """CSP: no inline script anywhere; scripts from here and, when enabled, the pinned CDN."""
    scripts = "'self'" + (f" {CDN_ORIGIN}" if current_app.config["HTMX_SOURCE"] == "cdn" else "")
    return (
        "default-src 'self'; "
        f"script-src {scripts}; "
        "style-src 'self'; style-src-attr 'unsafe-inline'; "
        "img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def register(app: Flask) -> None:
    """Install headers and template globals."""

    @app.after_request
    def security_headers(response):
        response.headers.add("Vary", "HX-Request")
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response

    from flask_babel import get_locale

    from .access import guard

    app.add_url_rule("/healthz", "health", guard("public")(health))

    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["has_endpoint"] = lambda endpoint: endpoint in app.view_functions

    # Every stylesheet in static/css, app.css first: one cached file each, no inline <style>.
    sheets = sorted(p.stem for p in (Path(app.static_folder) / "css").glob("*.css"))
    app.jinja_env.globals["stylesheets"] = ["app", *(s for s in sheets if s != "app")]

    @app.context_processor
    def htmx_globals():
        use_cdn = current_app.config["HTMX_SOURCE"] == "cdn"
        return {
            "htmx_cdn": HTMX_CDN if use_cdn else None,
            "htmx_sri": sri(HTMX_FILE) if use_cdn else None,
            "htmx_local": HTMX_FILE,
            "sse_cdn": SSE_CDN if use_cdn else None,
            "sse_sri": sri(SSE_FILE) if use_cdn else None,
            "sse_local": SSE_FILE,
        }


def health():
    """Liveness for load balancers: the database answers, and Redis too when configured."""
    from sqlalchemy import text

    from .extensions import db

    db.session.execute(text("SELECT 1"))
    checks = {"database": db.engine.dialect.name}
    if url := current_app.config.get("REDIS_URL"):
        import redis

        client = redis.Redis.from_url(url, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
        checks["redis"] = "ok"
    return {"status": "ok", **checks}


def flash_undo(deletion, text: str, next_url: str | None = None) -> None:
    """The "deleted — Undo" notice for a soft delete; `next_url` is where undo returns to."""
    from flask import flash, url_for

    url = url_for("maps.undo", map_id=deletion.journey_id, deletion_id=deletion.id)
    flash({"text": text, "url": url, "next": next_url}, "undo")
