"""Step 3 at scale: survey import end to end, and evidence aggregates over many observations.

1. Writes a 100k-row survey CSV as Russian Excel does (cp1251, `;`, decimal commas, DD.MM.YYYY,
   a title row) and runs `flask survey import` on it: read, detect, map, validate, commit.
   Goal: ≤ 10 s end to end.
2. Bulk-loads 1M observations (PostgreSQL COPY) and times the stage × segment and stage × channel
   aggregates (GROUP BY in SQL). Goal: ≤ 200 ms each. Needs PostgreSQL:
   BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test). The database is
   emptied and rebuilt by the migrations: point it at a scratch database.

    .venv/bin/python bench/research.py [--rows 100000] [--observations 1000000] [--repeat 7]
"""

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select, text  # noqa: E402

from cjm import aggregates, create_app, store  # noqa: E402
from cjm.extensions import db  # noqa: E402
from cjm.models import Observation, Segment, Touchpoint, User  # noqa: E402
from tests.factories import sample_journey  # noqa: E402

SEGMENTS = ["Новые клиенты", "Постоянные клиенты", "B2B"]


def survey_csv(rows: int, touchpoints: list, seed: int = 3) -> bytes:
    """A survey export as Russian-locale Excel writes it."""
    rnd = random.Random(seed)
    out = io.StringIO()
    out.write("Опрос покупателей, ноябрь;;;;;;\r\n")
    out.write("Дата;Респондент;Сегмент;Точка контакта;CSAT;NPS;Комментарий\r\n")
    for i in range(rows):
        tp = rnd.choice(touchpoints)
        day = f"{rnd.randint(1, 28):02d}.{rnd.randint(1, 12):02d}.2026"
        comment = '"Долго; ждал\r\nответа"' if i % 97 == 0 else "ок"
        out.write(
            f"{day};r{i};{rnd.choice(SEGMENTS)};{tp};{rnd.randint(1, 5)},0;"
            f"{rnd.randint(0, 10)};{comment}\r\n"
        )
    return out.getvalue().encode("cp1251")


def migrated_app(url: str):
    """An app on a fresh schema at url."""
    os.environ["DATABASE_URL"] = url
    app = create_app({"SECRET_KEY": "bench"})
    with app.app_context():
        from flask_migrate import upgrade

        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
    return app


def new_map(app) -> int:
    """The sample journey with three segments, owned by a bench user."""
    with app.app_context():
        user = User(email="bench@example.com", name="Bench", password_hash="x")
        db.session.add(user)
        db.session.flush()
        map_id = store.add_journey(sample_journey(), user.id).id
        db.session.add_all(
            Segment(journey_id=map_id, key=f"s{i}", name=n, position=i)
            for i, n in enumerate(SEGMENTS)
        )
        db.session.commit()
        return map_id


def bench_import(rows: int) -> tuple[float, int]:
    """Seconds for `survey import` of a rows-long CSV on SQLite, and observations written."""
    tmp = tempfile.mkdtemp(prefix="cjm-bench-")
    app = migrated_app(f"sqlite:///{tmp}/bench.sqlite")
    map_id = new_map(app)
    with app.app_context():
        names = [t.name for t in store.load_journey(map_id).touchpoints]
    path = Path(tmp) / "survey.csv"
    path.write_bytes(survey_csv(rows, names))
    runner = app.test_cli_runner()
    start = time.perf_counter()
    result = runner.invoke(args=["survey", "import", str(map_id), str(path)])
    seconds = time.perf_counter() - start
    if result.exit_code != 0:
        raise SystemExit(f"import failed: {result.stderr or result.output}")
    with app.app_context():
        count = db.session.scalar(select(func.count(Observation.id)))
    return seconds, count


def bench_aggregates(url: str, observations: int, repeat: int) -> list[tuple[str, float, int]]:
    """Median ms of each aggregate over `observations` rows bulk-loaded with COPY."""
    app = migrated_app(url)
    map_id = new_map(app)
    with app.app_context():
        tps = db.session.scalars(select(Touchpoint).filter_by(journey_id=map_id)).all()
        segments = db.session.scalars(select(Segment.id).filter_by(journey_id=map_id)).all()
        rnd = random.Random(5)
        raw = db.session.connection().connection.driver_connection
        columns = "journey_id, touchpoint_id, stage_id, channel_id, segment_id, source, csat, nps, ces, respondent, verbatim, version, created_at"  # noqa: E501
        with raw.cursor() as cur, cur.copy(f"COPY observation ({columns}) FROM STDIN") as copy:
            for i in range(observations):
                tp = tps[i % len(tps)]
                copy.write_row(
                    (map_id, tp.id, tp.stage_id, tp.channel_id, rnd.choice(segments), "survey",
                     rnd.randint(1, 5), rnd.randint(0, 10), rnd.randint(1, 7), "", "", 1,
                     "2026-11-01T00:00:00+00:00")
                )  # fmt: skip
        db.session.commit()
        db.session.execute(text("ANALYZE observation"))
        db.session.commit()
        total = db.session.scalar(select(func.count(Observation.id)))
        rows = []
        for name, fn in (
            ("stage × segment", aggregates.per_stage_segment),
            ("channel × segment", aggregates.per_channel_segment),
            ("per stage", aggregates.per_stage),
            ("per touchpoint", aggregates.per_touchpoint),
        ):
            fn(map_id)
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                fn(map_id)
                times.append((time.perf_counter() - start) * 1000)
            rows.append((name, statistics.median(times), total))
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    seconds, count = bench_import(args.rows)
    print(f"{'survey import (SQLite)':<28} {'rows':>9} {'seconds':>8} {'rows/s':>9} {'goal':>8}")
    print(f"{'cp1251 ; CSV, end to end':<28} {count:>9} {seconds:>8.2f} {count / seconds:>9.0f}"
          f" {'≤ 10 s':>8}  ratio to goal {seconds / 10:.2f}")  # fmt: skip

    url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        rows = bench_aggregates(url, args.observations, args.repeat)
    except Exception as e:  # noqa: BLE001 - a missing server is reported, not a crash
        print(f"\naggregates skipped: PostgreSQL at {url} not usable ({type(e).__name__}: {e})")
        return
    print(f"\n{'aggregate (PostgreSQL)':<28} {'rows':>9} {'median ms':>10} {'goal':>8}")
    for name, ms, total in rows:
        print(f"{name:<28} {total:>9} {ms:>10.1f} {'≤ 200':>8}  ratio to goal {ms / 200:.2f}")


if __name__ == "__main__":
    main()
