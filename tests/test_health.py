"""/healthz reports the database, and Redis when REDIS_URL is set (real Redis, no mock)."""

import os

from tests.conftest import need


def test_health_reports_database(client):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["database"] in ("sqlite", "postgresql")


def test_health_pings_redis(app, client):
    url = os.environ.get("REDIS_URL")
    need(
        bool(url),
        "Redis not configured: set REDIS_URL=redis://127.0.0.1:6379/0 to run this test",
        "redis",
    )
    app.config["REDIS_URL"] = url
    try:
        body = client.get("/healthz").get_json()
    finally:
        app.config["REDIS_URL"] = None
    assert body["redis"] == "ok"
