"""Background poster exports for large maps: a thread renders the PDF while the dialog polls.

State lives in files, not in this process's memory: EXPORT_DIR/<job>.json (status, step, who may
fetch it) and EXPORT_DIR/<job>.pdf when done, written atomically (write, then rename). So with
several workers on one host (gunicorn -w N), a poll or the download may land on any worker and
still find the job; only the worker that started it renders it. Workers on different hosts need a
shared EXPORT_DIR (a network volume). A job whose worker died stays "running" until it expires:
files older than EXPORT_KEEP_SECONDS are deleted whenever a job starts or is read.
"""

import json
import os
import secrets
import tempfile
import threading
import time
from pathlib import Path

from flask import current_app

STEPS = ("queued", "data", "layout", "pdf", "done")
JOB_ID = "[A-Za-z0-9_-]{16,64}"
_threads: dict[str, threading.Thread] = {}


def folder() -> Path:
    """EXPORT_DIR, created on first use (default: cjm-exports in the system temp folder)."""
    path = Path(current_app.config.get("EXPORT_DIR") or Path(tempfile.gettempdir()) / "cjm-exports")
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _write(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old or the new content, never half of it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_bytes(data)
    tmp.replace(path)


def _save(job_id: str, status: dict) -> None:
    _write(folder() / f"{job_id}.json", json.dumps(status).encode())


def expire() -> None:
    """Delete job files older than EXPORT_KEEP_SECONDS."""
    cutoff = time.time() - current_app.config["EXPORT_KEEP_SECONDS"]
    for path in folder().iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:  # another worker got there first
            pass


def start(map_id: int, user_id: int, options: dict, filename: str) -> str:
    """Queue a poster export of map_id for user_id in a background thread; returns the job id."""
    from .pdf import PosterOptions

    PosterOptions.from_dict(options)  # refuse bad options now, not in the thread
    expire()
    job_id = secrets.token_urlsafe(18)
    status = {
        "map_id": map_id,
        "user_id": user_id,
        "step": "queued",
        "filename": filename,
        "error": None,
        "notes": [],
        "started": time.time(),
    }
    _save(job_id, status)
    app = current_app._get_current_object()
    thread = threading.Thread(
        target=_run, args=(app, job_id, status, dict(options)), daemon=True, name=f"pdf-{job_id}"
    )
    _threads[job_id] = thread
    thread.start()
    return job_id


def _run(app, job_id: str, status: dict, options: dict) -> None:
    """The thread: render with its own app context (and DB session), saving each step."""
    from .pdf import PosterOptions, render_poster

    with app.app_context():

        def progress(step: str) -> None:
            status["step"] = step
            _save(job_id, status)

        try:
            poster = render_poster(status["map_id"], PosterOptions.from_dict(options), progress)
            _write(folder() / f"{job_id}.pdf", poster.pdf)
            status.update(step="done", notes=poster.notes, sheets=poster.sheets)
        except Exception as error:  # the dialog shows it; the log keeps the traceback
            app.logger.exception("poster export %s failed", job_id)
            status.update(step="failed", error=str(error) or type(error).__name__)
        finally:
            _save(job_id, status)
            _threads.pop(job_id, None)


def status(job_id: str) -> dict | None:
    """A job's status (None if unknown or expired)."""
    expire()
    try:
        return json.loads((folder() / f"{job_id}.json").read_bytes())
    except (FileNotFoundError, ValueError):
        return None


def result(job_id: str) -> bytes | None:
    """A finished job's PDF."""
    try:
        return (folder() / f"{job_id}.pdf").read_bytes()
    except FileNotFoundError:
        return None


def wait(job_id: str, timeout: float = 120) -> None:
    """Block until this process's thread for the job ends (tests, the CLI)."""
    thread = _threads.get(job_id)
    if thread is not None:
        thread.join(timeout)
