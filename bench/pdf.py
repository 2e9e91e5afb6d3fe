"""PDF poster speed and memory: WeasyPrint (the app's renderer) against the same HTML printed by
headless Chromium, in one run on one machine.

Cases: the demo map (24 touchpoints) fitted on A3 landscape; the large generated map (15 stages,
400 touchpoints, 600 transitions, see bench/board.py) on A1 landscape, fitted and tiled. For each,
WeasyPrint's time per export (data, HTML, layout, PDF) and the peak resident memory of this
process during it; Chromium's time per export (launch, load the HTML, print, close) and warm (the
page already loaded: print only), with the peak resident memory of its process tree. Chromium
cannot tile, so the tiled case has no Chromium column. Goals: small A3 ≤ 0.5 s; WeasyPrint per
export ≤ Chromium per export.

    .venv/bin/python bench/pdf.py [--repeat 3]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from board import large_journey  # noqa: E402

from cjm import create_app, store  # noqa: E402
from cjm.extensions import db  # noqa: E402
from cjm.models import User  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        ppid = int(fields.get("PPid", "0").strip())
        children.setdefault(ppid, []).append(int(entry.name))
        rss[int(entry.name)] = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by the descendants of a process (not itself)."""
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, list(children.get(pid, []))
    while todo:
        p = todo.pop()
        total += cpu.get(p, 0)
        todo.extend(children.get(p, []))
    return total


class Peak:
    """Sample the resident memory of a process tree every 10 ms while the block runs."""

    def __init__(self, pid: int, tree: bool):
        self.pid, self.tree, self.peak = pid, tree, 0
        self._stop = threading.Event()

    def _rss(self) -> int:
        if self.tree:
            return tree_rss(self.pid)
        fields = Path(f"/proc/{self.pid}/status").read_text().split("VmRSS:")[1]
        return int(fields.split()[0]) * 1024

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            self._stop.wait(0.01)

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())


def median(values) -> float:
    return statistics.median(values)


def weasyprint_case(map_id: int, options: dict, repeat: int) -> dict:
    """Median seconds per export (after one warm-up), the poster's shape and peak RSS."""
    from cjm.export.pdf import PosterOptions, render_poster

    opts = PosterOptions.from_dict(options)
    render_poster(map_id, opts)  # templates compiled, fonts loaded
    times, cpu = [], []
    with Peak(os.getpid(), tree=False) as peak:
        for _ in range(repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            poster = render_poster(map_id, opts)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
    return {"s": median(times), "cpu": median(cpu), "rss": peak.peak, "poster": poster}


def chromium_html(map_id: int, options: dict) -> tuple[str, float]:
    """The poster's HTML with its stylesheet inline (what WeasyPrint lays out), and the scale
    WeasyPrint put it on paper with."""
    from flask_babel import force_locale

    from cjm.export import pdf
    from cjm.export.pdf import PosterOptions, poster_css, render_poster

    opts = PosterOptions.from_dict(options)
    poster = render_poster(map_id, opts)
    with force_locale(opts.language or "en"):
        html, _width = pdf.poster_html(map_id, opts)
    return html.replace("</head>", f"<style>{poster_css()}</style></head>", 1), poster.scale


def chromium_case(html: str, paper: tuple[float, float], scale: float, repeat: int) -> dict:
    """Chromium per export (launch, load, print, close) and warm (print only), medians; peak RSS
    of the driver and browser processes."""
    from playwright.sync_api import sync_playwright

    width_in, height_in = paper[0] / 96, paper[1] / 96
    pdf_args = {
        "width": f"{width_in}in",
        "height": f"{height_in}in",
        "scale": max(0.1, min(2.0, scale)),
        "print_background": True,
        "margin": {"top": "10mm", "bottom": "10mm", "left": "10mm", "right": "10mm"},
    }
    per_export, warm, cpu, peak = [], [], [], 0
    with sync_playwright() as p:
        for i in range(repeat + 1):
            start, start_cpu = time.perf_counter(), tree_cpu(os.getpid())
            browser = p.chromium.launch(executable_path=CHROMIUM)
            with Peak(os.getpid(), tree=True) as sampler:
                page = browser.new_page()
                page.set_content(html, wait_until="load")
                data = page.pdf(**pdf_args)
                if i == 0:  # warm: the page is loaded, print again
                    for _ in range(repeat):
                        mark = time.perf_counter()
                        page.pdf(**pdf_args)
                        warm.append(time.perf_counter() - mark)
                used = tree_cpu(os.getpid()) - start_cpu  # before close: the processes live
                browser.close()
            elapsed = time.perf_counter() - start
            peak = max(peak, sampler.peak)
            if i:  # the first launch warms the disk cache
                per_export.append(elapsed)
                cpu.append(used)
            assert data.startswith(b"%PDF")
    return {"s": median(per_export), "warm": median(warm), "cpu": median(cpu), "rss": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-chromium", action="store_true", help="WeasyPrint only")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="cjm-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite"
    app = create_app({"SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    chromium = not args.no_chromium and Path(CHROMIUM).exists()
    rows = []
    with app.app_context():
        from flask_migrate import upgrade

        from cjm.documents import import_document
        from cjm.export.sheets import paper_px

        upgrade()
        user = User(email="bench@example.com", name="Bench", password_hash="x")
        db.session.add(user)
        db.session.commit()
        demo = json.loads((ROOT / "cjm/seed/demo.en.json").read_text(encoding="utf-8"))
        small = import_document(demo, user.id).id
        large = store.add_journey(large_journey(), user.id).id
        db.session.commit()
        cases = [
            ("demo, A3 fit", small, {"paper": "A3", "orientation": "landscape"}),
            ("large, A1 fit", large, {"paper": "A1", "orientation": "landscape"}),
            ("large, A1 tiled", large, {"paper": "A1", "orientation": "landscape", "tiled": 1}),
        ]
        for name, map_id, options in cases:
            weasy = weasyprint_case(map_id, options, args.repeat)
            chrome = None
            if chromium and not options.get("tiled"):
                html, scale = chromium_html(map_id, options)
                paper = paper_px(options["paper"], options["orientation"])
                chrome = chromium_case(html, paper, scale, args.repeat)
            rows.append((name, weasy, chrome))

    mb = 1024 * 1024
    print(
        f"{'case':<16} {'sheets':>6} {'scale':>5} {'WP s':>6} {'WP cpu':>6} {'WP MB':>6} "
        f"{'Cr s':>6} {'Cr cpu':>6} {'Cr warm':>7} {'Cr MB':>6} {'WP/Cr':>6} {'WP/warm':>7}"
    )
    for name, weasy, chrome in rows:
        poster = weasy["poster"]
        line = (
            f"{name:<16} {poster.sheets:>6} {poster.scale:>5.2f} {weasy['s']:>6.2f} "
            f"{weasy['cpu']:>6.2f} {weasy['rss'] / mb:>6.0f} "
        )
        if chrome:
            line += (
                f"{chrome['s']:>6.2f} {chrome['cpu']:>6.2f} {chrome['warm']:>7.2f} "
                f"{chrome['rss'] / mb:>6.0f} {weasy['s'] / chrome['s']:>6.2f} "
                f"{weasy['s'] / chrome['warm']:>7.2f}"
            )
        else:
            line += f"{'—':>6} {'—':>6} {'—':>7} {'—':>6} {'—':>6} {'—':>7}"
        print(line)
    cpus, load = os.cpu_count(), os.getloadavg()[0]
    print(f"\nmedians of {args.repeat} runs after a warm-up, {cpus} CPUs, load average {load:.1f}")
    print("at the end. WP = WeasyPrint, the whole export (data, HTML,")
    print("layout, PDF); cpu = CPU seconds of this process; MB = its peak RSS. Cr = Chromium per")
    print("export (launch, load, print, close); cpu = CPU seconds of the driver and browser")
    print("processes; MB = peak RSS of that tree; warm = printing a page already loaded.")
    print("goals: demo A3 <= 0.5 s; WeasyPrint per export <= Chromium per export")


if __name__ == "__main__":
    main()
