"""Board and graph page speed on a large map, and SQL queries per page (no N+1).

Generates a map of 15 stages, 400 touchpoints and 600 transitions in a throw-away SQLite database,
then prints, per page, the median time of a full request and of a bare Jinja render of the same
prepared data, their ratio, and the number of SQL queries for a small and the large map.
Goals: board request ≤ 1.5 × bare render; queries the same for small and large, ≤ 15.

    .venv/bin/python bench/board.py [--repeat 15]
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import render_template  # noqa: E402
from sqlalchemy import event  # noqa: E402

from cjm import create_app, store  # noqa: E402
from cjm.extensions import db  # noqa: E402
from cjm.journey import model as dm  # noqa: E402
from cjm.models import Journey, User  # noqa: E402


def large_journey(stages=15, channels=6, touchpoints=400, transitions=600, seed=7) -> dm.Journey:
    """A big, plausible journey: touchpoints spread over stages, edges mostly forward."""
    rnd = random.Random(seed)
    j = dm.Journey(title="Large bench map")
    j.stages = [dm.Stage(f"s{i}", f"Stage {i}") for i in range(stages)]
    j.channels = [dm.Channel(f"c{i}", f"Channel {i}") for i in range(channels)]
    kinds = ["step"] * 8 + ["decision"]
    for i in range(touchpoints):
        stage = i * stages // touchpoints
        kind = "entry" if i < 3 else "goal" if i >= touchpoints - 3 else rnd.choice(kinds)
        j.touchpoints.append(
            dm.Touchpoint(
                f"t{i}",
                f"s{stage}",
                f"c{rnd.randrange(channels)}",
                f"Touchpoint {i}",
                kind=kind,
                goal=f"Goal {i}",
                thought=f"Thought {i}",
                emotion=rnd.randint(-2, 2),
            )
        )
    pairs = set()
    for i in range(touchpoints - 1):
        pairs.add((i, i + 1))
    while len(pairs) < transitions:
        a = rnd.randrange(touchpoints - 1)
        b = min(touchpoints - 1, a + rnd.randint(1, 30))
        pairs.add((a, b))
    for n, (a, b) in enumerate(sorted(pairs)):
        j.transitions.append(
            dm.Transition(
                f"e{n}",
                f"t{a}",
                f"t{b}",
                rnd.choice(["main", "alternative"]),
                volume=rnd.randint(1, 1000),
            )
        )
    return j


@contextmanager
def counting_queries():
    """Count SQL statements sent while the block runs."""
    count = [0]

    def before(*args):
        count[0] += 1

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield count
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def median_ms(fn, repeat: int) -> float:
    fn()  # warm caches and template compilation
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="cjm-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite"
    app = create_app({"SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        from flask_migrate import upgrade

        from tests.factories import sample_journey

        upgrade()
        user = User(email="bench@example.com", name="Bench", password_hash="x")
        db.session.add(user)
        db.session.commit()
        small = store.add_journey(sample_journey(), user.id).id
        large = store.add_journey(large_journey(), user.id).id
        db.session.commit()
        user_id = user.id

    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)

    from cjm.routes.board import board_model
    from cjm.routes.graph import graph_context

    def board_context(journey):
        return {"journey": journey, "board": board_model(journey)}

    rows = []
    for page, context_fn, template in (
        ("board", board_context, "board/show.html"),
        ("graph", graph_context, "graph/show.html"),
    ):
        queries = {}
        for name, map_id in (("small", small), ("large", large)):
            with app.app_context(), counting_queries() as count:
                response = client.get(f"/maps/{map_id}/{page}")
                assert response.status_code == 200, response.status_code
            queries[name] = count[0]
        request_ms = median_ms(lambda p=page: client.get(f"/maps/{large}/{p}"), args.repeat)
        with app.test_request_context(f"/maps/{large}/{page}"):
            from flask import g
            from flask_login import login_user

            login_user(db.session.get(User, user_id))
            g.journey, g.role = db.session.get(Journey, large), "owner"
            context = context_fn(store.load_journey(large))
            bare_ms = median_ms(lambda c=context, t=template: render_template(t, **c), args.repeat)
        rows.append((page, request_ms, bare_ms, queries["small"], queries["large"]))

    print(
        f"{'page':<6} {'request ms':>11} {'bare render ms':>15} {'ratio':>6} "
        f"{'queries small':>14} {'queries large':>14}"
    )
    for page, request_ms, bare_ms, q_small, q_large in rows:
        print(
            f"{page:<6} {request_ms:>11.1f} {bare_ms:>15.1f} {request_ms / bare_ms:>6.2f} "
            f"{q_small:>14} {q_large:>14}"
        )
    print(
        "\nlarge map: 15 stages, 400 touchpoints, 600 transitions; median of", args.repeat, "runs"
    )
    print("goals: board ratio <= 1.5; queries equal for small and large, <= 15")


if __name__ == "__main__":
    main()
