"""Journey analytics speed (cjm.journey.analytics.analyze) on journeys of growing size.

Generates journeys of 100, 500 and 2,000 touchpoints shaped like real maps: a few entries, goals
and exits per stage, mostly forward branching (each touchpoint leads to 1–3 later ones nearby),
loop-backs to a touchpoint a few steps earlier, drop-outs into exits, volumes that split the
customers arriving at each touchpoint. Prints the median analysis time per size, how it grows
from one size to the next (time ratio against size ratio), and what the bounded searches found.
Goal: ≤ 300 ms at 2,000 touchpoints.

    .venv/bin/python bench/analytics.py [--repeat 7] [--sizes 100 500 2000] [--profile 2000]
"""

import argparse
import cProfile
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cjm.journey import model as dm  # noqa: E402
from cjm.journey.analytics import analyze  # noqa: E402

GOAL_MS = 300


def realistic_journey(touchpoints: int, seed: int = 7) -> dm.Journey:
    """A map of `touchpoints` touchpoints (about 1.9 transitions each) with branches and loops.

    About 27 touchpoints per stage (at least 6 stages), 3 entries in the first stage, a goal and
    an exit every ~25 touchpoints; every non-ending touchpoint leads to the next one and, one in
    two, to 1–2 more within the next 12; one in 12 also loops back 1–6 touchpoints, one in 6
    drops out into the next exit.
    Volumes follow the customers: what arrives at a touchpoint is split over its transitions.
    """
    rnd = random.Random(seed)
    stages = max(6, touchpoints // 27)
    channels = 6
    j = dm.Journey(title=f"Bench {touchpoints}")
    j.stages = [dm.Stage(f"s{i}", f"Stage {i}") for i in range(stages)]
    j.channels = [dm.Channel(f"c{i}", f"Channel {i}") for i in range(channels)]
    kinds = []
    for i in range(touchpoints):
        if i < 3:
            kind = "entry"
        elif i >= touchpoints - 2 or i % 25 == 24:
            kind = "goal"
        elif i % 25 == 12:
            kind = "exit"
        else:
            kind = rnd.choice(["step"] * 5 + ["decision"])
        kinds.append(kind)
        j.touchpoints.append(
            dm.Touchpoint(
                f"t{i}",
                f"s{i * stages // touchpoints}",
                f"c{rnd.randrange(channels)}",
                f"Touchpoint {i}",
                kind=kind,
                emotion=rnd.randint(-2, 2),
            )
        )
    exits = [i for i, k in enumerate(kinds) if k == "exit"]
    arriving = [1000 if k == "entry" else 0 for k in kinds]
    edges = []
    for i, kind in enumerate(kinds):
        if kind == "exit" or (kind == "goal" and i >= touchpoints - 2):
            continue
        extra = 2 if rnd.random() < 0.1 else 1 if rnd.random() < 0.45 else 0
        targets = {i + 1} | {min(touchpoints - 1, i + rnd.randint(2, 12)) for _ in range(extra)}
        moves = [(t, "main" if t == i + 1 else "alternative") for t in sorted(targets)]
        if i > 6 and rnd.random() < 1 / 12:
            moves.append((i - rnd.randint(1, 6), "loop"))
        if rnd.random() < 1 / 6:
            later = [e for e in exits if e > i] or exits
            if later:
                moves.append((later[0], "drop-out"))
        # Split what arrived (at least 1 customer per transition), keeping ~10 % unrecorded.
        budget = max(len(moves), int(arriving[i] * 0.9))
        weights = [rnd.random() + (1 if k == "main" else 0) for _, k in moves]
        for (t, k), w in zip(moves, weights, strict=True):
            volume = max(1, round(budget * w / sum(weights)))
            edges.append((i, t, k, volume))
            if t > i:
                arriving[t] += volume
    for n, (a, b, kind, volume) in enumerate(edges):
        j.transitions.append(dm.Transition(f"e{n}", f"t{a}", f"t{b}", kind, volume=volume))
    return j


def timings_ms(fn, repeat: int) -> tuple[float, float]:
    """Median wall time and median CPU time of fn() in ms over `repeat` runs after a warm-up run.

    CPU time (this process only) barely moves when other work shares the machine, so it is the
    figure to compare when the wall time is noisy."""
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 2000])
    parser.add_argument("--profile", type=int, metavar="SIZE", help="profile one run of SIZE")
    args = parser.parse_args()
    if args.profile:
        journey = realistic_journey(args.profile)
        profile = cProfile.Profile()
        profile.runcall(analyze, journey)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        return
    print(
        f"{'touchpoints':>11} {'transitions':>11} {'median ms':>10} {'cpu ms':>8}"
        f" {'× time':>7} {'× size':>7} {'paths':>7} {'loops':>6}"
    )
    previous = None
    for size in args.sizes:
        journey = realistic_journey(size)
        ms, cpu = timings_ms(lambda j=journey: analyze(j), args.repeat)
        result = analyze(journey)
        paths = f"{result.paths.count}{'+' if result.paths.truncated else ''}"
        loops = f"{len(result.loops.items)}{'+' if result.loops.truncated else ''}"
        grow = f"{cpu / previous[1]:>7.2f} {size / previous[0]:>7.1f}" if previous else f"{'':>15}"
        print(
            f"{size:>11} {len(journey.transitions):>11} {ms:>10.1f} {cpu:>8.1f} {grow}"
            f" {paths:>7} {loops:>6}"
        )
        previous = (size, cpu)
    print(
        f"\nmedian wall and CPU time of {args.repeat} runs; × time and × size: growth of the CPU"
        " time and of the size from the row above;"
        " '+' = more than that (a bound was hit)"
    )
    print(f"goal: <= {GOAL_MS} ms at 2,000 touchpoints")
    graph_extras(args.repeat)


def graph_extras(repeat: int) -> None:
    """What the graph view adds to its layout on bench/board.py's 400-touchpoint map: drop-off
    badges on every render, a named path (one path search) or a traced one (keys, no search)."""
    from bench.board import large_journey
    from cjm.journey.analytics import drop_offs, find_paths, main_path, trace
    from cjm.journey.graph import layout

    journey = large_journey()
    # A 12-step chain t0 → t1 → … → t12 (the generator always joins neighbours).
    step = {(t.source, t.target): t.key for t in journey.transitions}
    keys = [step[f"t{i}", f"t{i + 1}"] for i in range(12)]
    assert trace(journey, keys) is not None
    rows = [
        ("layout (the page's own cost)", lambda: layout(journey)),
        ("+ drop-offs (every render)", lambda: drop_offs(journey)),
        ("+ ?path=main (path search)", lambda: main_path(find_paths(journey).items)),
        ("+ ?path=<keys> (trace)", lambda: trace(journey, keys)),
    ]
    size = f"{len(journey.touchpoints)} touchpoints / {len(journey.transitions)} transitions"
    print(f"\ngraph view, {size}")
    print(f"{'part':<30} {'median ms':>10} {'cpu ms':>8}")
    for name, fn in rows:
        ms, cpu = timings_ms(fn, max(3, repeat // 2))
        print(f"{name:<30} {ms:>10.1f} {cpu:>8.1f}")


if __name__ == "__main__":
    main()
