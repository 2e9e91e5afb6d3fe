"""Live workshop under load: 100 SSE subscribers on one workshop while 60 participants post notes,
vote and edit through the real workshop routes, on loopback, for two configurations:

- single: one gunicorn gthread worker, SQLite, the in-process broker (a laptop in a room);
- redis:  four gunicorn workers, PostgreSQL, fan-out through Redis (scaled out).

Every subscriber is a joined participant holding /w/<id>/stream. Each POST is correlated with the
events it published (the server runs with LIVE_TEST_ROUTES, which adds an X-Live-Events header),
so "POST → delivered" is measured per event and subscriber, from the moment the POST was sent.
Clients here do not refetch fragments on events (browsers do): this measures the transport and
the write path, not a room of page renders. Prints p50/p99 latency (goal p99 ≤ 150 ms), events
lost (goal 0) and the note edit round trip p99 (goal ≤ 30 ms). Stops by itself.

    .venv/bin/python bench/live.py [--seconds 10] [--subscribers 100] [--participants 60]
                                   [--config single,redis] [--via workshop|live]
--via live replaces each action by a bare publish (POST /_live/<id>/events): the transport alone,
without the routes' own work (rendering the board fragment a phone gets back).
The redis configuration needs REDIS_URL and PostgreSQL (CJM_LIVE_BENCH_PG, default
postgresql://postgres@127.0.0.1:5432/cjm_live_bench, created if missing); else it is skipped.
"""

import argparse
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from cjm.live.testing import SSEClient, die_with_parent  # noqa: E402

HOST = "127.0.0.1"
PG = os.environ.get("CJM_LIVE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/cjm_live_bench")
CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
VALUE = re.compile(r'value="([^"]*)"')
PLACE = re.compile(r'value="((?:st|tp)-\d+)"')
DOT = re.compile(r"/w/\d+/notes/(\d+)/dot")
EDIT = re.compile(r"/w/\d+/notes/(\d+)/edit")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def prepare(uri: str) -> tuple[int, str]:
    """A fresh schema with one map and a running workshop; (workshop id, join code)."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from cjm import create_app, store, workshops
    from cjm.extensions import db
    from cjm.journey import model as dm
    from cjm.models import User

    app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "bench", "REDIS_URL": None})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        owner = User(email="bench@example.com", name="Bench", password_hash="x")
        db.session.add(owner)
        db.session.commit()
        journey = dm.Journey(
            title="Bench workshop",
            stages=[dm.Stage(f"s{i}", f"Stage {i}") for i in range(4)],
            channels=[dm.Channel("web", "Website", "website")],
            touchpoints=[
                dm.Touchpoint(f"t{i}", f"s{i}", "web", f"Touchpoint {i}") for i in range(4)
            ],
        )
        row = store.add_journey(journey, owner.id)
        db.session.commit()
        workshop = workshops.start(row.id, owner.id)
        db.session.commit()
        ident, code = workshop.id, workshop.code
        db.session.remove()
        db.engine.dispose()
    return ident, code


def pg_uri(url: str) -> str | None:
    """The SQLAlchemy URI for the bench database (created if missing), None without PostgreSQL."""
    import psycopg

    base, _, name = url.rpartition("/")
    try:
        with psycopg.connect(base + "/postgres", autocommit=True, connect_timeout=3) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        print(f"redis configuration skipped: no PostgreSQL at {url} ({error})".strip())
        return None
    return "postgresql+psycopg://" + url.split("://", 1)[1]


SERVERS: list["Server"] = []  # what the watchdog stops if the bench overruns


def watchdog(seconds: float) -> None:
    """Stop everything and exit if the bench has not finished in `seconds`."""

    def expire():
        print(f"bench/live.py: out of time after {seconds:.0f} s, stopping", file=sys.stderr)
        for server in SERVERS:
            server.stop()
        os._exit(3)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()


class Server:
    """gunicorn (gunicorn.conf.py) on a loopback port; stopped, whatever happens, by `stop`."""

    def __init__(self, database_url: str, redis_url: str | None, workers: int, threads: int):
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        env.update(
            DATABASE_URL=database_url,
            SECRET_KEY="bench-secret",
            CJM_LIVE_TEST_ROUTES="true",
            CJM_WORKSHOP_JOIN_LIMIT="100000 per minute",
            CJM_LIVE_REDIS_PREFIX=f"cjm:bench:{uuid.uuid4().hex[:8]}:",
        )
        if redis_url:
            env["REDIS_URL"] = redis_url
        self.log = tempfile.NamedTemporaryFile(
            prefix="cjm-bench-gunicorn-", suffix=".log", delete=False
        )
        command = [
            str(ROOT / ".venv/bin/gunicorn"),
            *("-c", "gunicorn.conf.py", "--workers", str(workers), "--threads", str(threads)),
            *("--bind", f"{HOST}:{self.port}", "--graceful-timeout", "2"),
            *("--keep-alive", "120"),  # the phones' sessions idle between the phases
        ]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        SERVERS.append(self)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                requests.get(f"{self.base}/join", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise SystemExit("gunicorn did not start: " + Path(self.log.name).read_text()[-2000:])

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        if self.log.closed:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.log.close()
        if os.environ.get("CJM_BENCH_KEEP_LOG"):
            print(f"gunicorn log: {self.log.name}")
        else:
            Path(self.log.name).unlink(missing_ok=True)


def csrf_of(html: str) -> str:
    return VALUE.search(CSRF.search(html).group(0)).group(1)


class Participant:
    """A phone: a joined HTTP session, its CSRF token, the places of the map, its notes."""

    def __init__(self, base: str, workshop_id: int, code: str, name: str):
        self.base, self.workshop_id = base, workshop_id
        self.name = name
        self.http = requests.Session()
        page = self.http.get(f"{base}/join", params={"code": code}, timeout=10).text
        answer = self.http.post(
            f"{base}/join",
            data={"code": code, "name": name, "csrf_token": csrf_of(page)},
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 303, answer.status_code
        room = self.http.get(f"{base}/w/{workshop_id}", timeout=10).text
        self.token = csrf_of(room)
        self.places = sorted(set(PLACE.findall(room)))
        self.mine: list[int] = []
        self.dots: list[int] = []

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)

    def post(self, path: str, data: dict, htmx: bool = True) -> requests.Response:
        headers = {"HX-Request": "true"} if htmx else {}
        return self.http.post(
            f"{self.base}/w/{self.workshop_id}{path}",
            data={**data, "csrf_token": self.token},
            headers=headers,
            allow_redirects=False,
            timeout=30,
        )


class Subscriber(threading.Thread):
    """One open stream; records when each event id arrived."""

    def __init__(self, port: int, workshop_id: int, cookie: str):
        super().__init__(daemon=True)
        self.client = SSEClient(
            HOST, port, f"/w/{workshop_id}/stream", timeout=60, headers={"Cookie": cookie}
        )
        assert self.client.response.status == 200, self.client.response.status
        self.arrived: dict[int, float] = {}
        self.ready = threading.Event()
        self.stopping = False

    def run(self):
        try:
            while True:
                message = self.client.next()
                if message["id"] is not None and not self.ready.is_set():
                    self.ready.set()  # its position: subscribed from here on
                if message["event"] and message["id"] is not None:
                    self.arrived[message["id"]] = time.perf_counter()
        except Exception:  # noqa: BLE001 (closed by stop(), or the server went)
            if not self.stopping:
                raise

    def stop(self):
        self.stopping = True
        self.client.close()


def run(
    config: str,
    via: str,
    seconds: float,
    subscribers: int,
    participants: int,
    think: tuple[float, float] = (0.3, 1.7),
) -> dict | None:
    """One configuration's figures (None if it cannot run here)."""
    redis_url = os.environ.get("REDIS_URL")
    tmp = tempfile.mkdtemp(prefix="cjm-bench-live-")
    if config == "single":
        uri = f"sqlite:///{tmp}/bench.sqlite"
        database_url, workers, threads, redis_url = uri, 1, 256, None
    else:
        if not redis_url:
            print("redis configuration skipped: set REDIS_URL=redis://127.0.0.1:6379/0")
            return None
        uri = pg_uri(PG)
        if uri is None:
            return None
        database_url, workers, threads = PG, 4, 96
    workshop_id, code = prepare(uri)
    server = Server(database_url, redis_url, workers, threads)
    streams: list[Subscriber] = []
    try:
        with ThreadPoolExecutor(16) as pool:
            people = list(
                pool.map(
                    lambda n: Participant(server.base, workshop_id, code, f"Person {n}"),
                    range(subscribers),
                )
            )
        for person in people:
            streams.append(Subscriber(server.port, workshop_id, person.cookie_header()))
        for stream in streams:
            stream.start()
        for stream in streams:
            if not stream.ready.wait(30):
                raise SystemExit("a stream did not start")
        time.sleep(0.5)  # let the join-time presence events settle

        sent: dict[int, float] = {}
        edits: list[float] = []
        notes: list[int] = []
        actions = [0]
        failures: list[str] = []
        lock = threading.Lock()
        deadline = time.monotonic() + seconds

        def act(person: Participant, rng: random.Random):
            while time.monotonic() < deadline:
                try:
                    act_once(person, rng)
                except requests.RequestException as error:
                    with lock:
                        failures.append(repr(error))

        def act_once(person: Participant, rng: random.Random):
            """One phone action after a think time; records its events' send time."""
            time.sleep(rng.uniform(*think))
            roll = rng.random()
            t0 = time.perf_counter()
            if via == "live":
                kind = "notes" if roll < 0.55 else "votes"
                answer = person.http.post(
                    f"{server.base}/_live/{workshop_id}/events",
                    json={"kind": kind, "data": {"by": person.name}},
                    timeout=30,
                )
                with lock:
                    edits.append(time.perf_counter() - t0)
            elif roll < 0.1 and person.mine:
                note = rng.choice(person.mine)
                page = person.http.get(
                    f"{server.base}/w/{workshop_id}/notes/{note}/edit", timeout=30
                ).text
                version = re.search(
                    rf'name="note-{note}-version"[^>]*value="(\d+)"|'
                    rf'value="(\d+)"[^>]*name="note-{note}-version"',
                    page,
                )
                prefix = f"note-{note}-"
                t0 = time.perf_counter()
                answer = person.post(
                    f"/notes/{note}/edit",
                    {
                        prefix + "kind": "idea",
                        prefix + "place": rng.choice(person.places),
                        prefix + "text": f"Edited {rng.random():.6f}",
                        prefix + "version": next(v for v in version.groups() if v),
                    },
                    htmx=False,
                )
                with lock:
                    edits.append(time.perf_counter() - t0)
            elif roll < 0.55 or not notes:
                answer = person.post(
                    "/notes",
                    {
                        "note-kind": rng.choice(["thought", "pain", "idea", "question"]),
                        "note-place": rng.choice(person.places),
                        "note-text": f"Note {rng.random():.6f}",
                    },
                )
                # The answer is the form only; the board comes with the "notes" event. Fetch
                # it now and then, as the phone does on every event, to learn note ids.
                if not notes or rng.random() < 0.2:
                    board = person.http.get(
                        f"{server.base}/w/{workshop_id}/board",
                        headers={"HX-Request": "true"},
                        timeout=30,
                    ).text
                    found = [int(n) for n in DOT.findall(board)]
                    person.mine = sorted({int(n) for n in EDIT.findall(board)})
                    with lock:
                        notes[:] = sorted(set(notes) | set(found))
            else:
                if len(person.dots) >= 5 or (person.dots and rng.random() < 0.3):
                    note = person.dots.pop(rng.randrange(len(person.dots)))
                    answer = person.post(f"/notes/{note}/dot", {"action": "remove"})
                else:
                    with lock:
                        note = rng.choice(notes)
                    answer = person.post(f"/notes/{note}/dot", {"action": "add"})
                    if answer.status_code == 200:
                        person.dots.append(note)
            ids = answer.headers.get("X-Live-Events", "")
            with lock:
                actions[0] += 1
                if answer.status_code not in (200, 303, 409):
                    failures.append(f"{answer.request.url} → {answer.status_code}")
                for ident in filter(None, ids.split(",")):
                    sent[int(ident)] = t0

        with ThreadPoolExecutor(participants) as pool:
            running = [pool.submit(act, people[n], random.Random(n)) for n in range(participants)]
        for future in running:
            future.result()  # a participant's crash is the bench's
        time.sleep(2)  # deliveries in flight arrive
    finally:
        for stream in streams:
            stream.stop()
        server.stop()

    latencies, lost = [], 0
    for stream in streams:
        for ident, t0 in sent.items():
            arrived = stream.arrived.get(ident)
            if arrived is None:
                lost += 1
            else:
                latencies.append((arrived - t0) * 1000)
    if failures:
        print(f"{config}: {len(failures)} failed requests, e.g. {failures[:3]}")
    return {
        "config": f"{config} ({via})",
        "workers": workers,
        "subscribers": len(streams),
        "participants": participants,
        "actions": actions[0],
        "events": len(sent),
        "deliveries": len(latencies),
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "lost": lost,
        "edits": len(edits),
        "edit_p99": percentile([e * 1000 for e in edits], 99),
    }


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--participants", type=int, default=60)
    parser.add_argument("--config", default="single,redis")
    parser.add_argument(
        "--via",
        choices=["workshop", "live"],
        default="workshop",
        help="workshop: the real note/vote/edit routes; live: a bare publish per action "
        "(POST /_live/<id>/events), the transport alone",
    )
    parser.add_argument(
        "--think",
        default="0.3-1.7",
        help="seconds between one participant's actions, MIN-MAX (default 0.3-1.7: 60 phones "
        "then make ~60 actions a second, far busier than a real room)",
    )
    args = parser.parse_args()
    think = tuple(float(x) for x in args.think.split("-"))
    # SIGTERM (e.g. `timeout`) unwinds like Ctrl-C, so the servers are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.participants > args.subscribers:
        parser.error("every participant also subscribes: --participants ≤ --subscribers")
    configs = [c.strip() for c in args.config.split(",")]
    watchdog(len(configs) * (args.seconds + 150))
    rows = []
    for config in configs:
        row = run(config, args.via, args.seconds, args.subscribers, args.participants, think)
        if row:
            rows.append(row)
    print()
    print(
        "| configuration | workers | subscribers | participants | actions | events | "
        "deliveries | POST→delivered p50 | p99 (≤ 150 ms) | lost (0) | edit p99 (≤ 30 ms)* |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['config']} | {r['workers']} | {r['subscribers']} | {r['participants']} | "
            f"{r['actions']} | {r['events']} | {r['deliveries']} | {r['p50']:.1f} ms | "
            f"{r['p99']:.1f} ms | {r['lost']} | {r['edit_p99']:.1f} ms ({r['edits']}) |"
        )
    print("* workshop: POST of a note edit → its 303; live: the publish POST's round trip.")
    print(f"think time {args.think} s per participant, {args.seconds:g} s per configuration.")


if __name__ == "__main__":
    main()
