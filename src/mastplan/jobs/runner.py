"""Running jobs: what each kind does, and the worker that claims and runs them.

A :class:`Worker` loops: claim the oldest queued job (:func:`~mastplan.jobs.service.claim_next`),
run its kind's function, record the outcome. A run function gets a :class:`JobContext`: the
job's parameters, a database session of its own, its output folder
``$MASTPLAN_JOBS_DIR/<job id>/`` (default ``./mastplan-jobs/``) and ``ctx.progress(fraction,
message)``, which records how far the job is and raises :class:`JobCancelled` once the user has
asked to cancel (the job then ends as ``cancelled`` and its partial files are removed). The
files left in the folder are listed in the job's result, where the API serves them from.

While a job runs, a heartbeat thread touches it every ``heartbeat_s``, so a job busy in a long
step without progress reports is not taken for the job of a dead worker; a job with neither
for ``stale_after`` is put back in the queue by any worker (:func:`~mastplan.jobs.service.
recover`). At start a worker also puts back at once the jobs of workers of this machine whose
process is gone (a server restarted). A worker that is stopped puts its running job back in the
queue at the job's next progress report.

The server runs one worker in a background thread (:func:`start_worker` / :func:`stop_worker`);
``mastplan worker`` runs one in the foreground, so that heavy jobs run on other machines.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from mastplan.distributed import WORK_DIRS
from mastplan.errors import ImportValidationError, MastplanError
from mastplan.jobs import service
from mastplan.jobs.models import Job
from mastplan.registry.audit import Actor
from mastplan.registry.db import _DEPTH, WRITE_OPTION
from mastplan.registry.models import User

__all__ = [
    "JOBS_DIR_ENV",
    "RUNNERS",
    "WORKER_ENV",
    "JobCancelled",
    "JobContext",
    "JobInterrupted",
    "Worker",
    "job_files",
    "jobs_dir",
    "register_kind",
    "start_worker",
    "stop_worker",
    "uploads_dir",
    "worker_lifespan",
    "worker_wanted",
]

log = logging.getLogger("mastplan.jobs")

#: Where job results are written: ``<dir>/<job id>/`` (default ``./mastplan-jobs``). The server
#: and every ``mastplan worker`` of a database must share it.
JOBS_DIR_ENV = "MASTPLAN_JOBS_DIR"
DEFAULT_JOBS_DIR = "mastplan-jobs"
#: ``0`` (or ``off``, ``false``, ``no``): :func:`worker_lifespan` starts no worker in the server
#: (jobs are run by ``mastplan worker`` processes).
WORKER_ENV = "MASTPLAN_JOBS_WORKER"


class JobCancelled(Exception):
    """Raised by ``ctx.progress`` when the job must stop: the user asked to cancel it, or it is
    no longer this worker's."""


class JobInterrupted(Exception):
    """Raised by ``ctx.progress`` when the worker itself is stopping: the job goes back to the
    queue."""


def jobs_dir() -> Path:
    """The folder of job results (``$MASTPLAN_JOBS_DIR``, default ``./mastplan-jobs``)."""
    return Path(os.environ.get(JOBS_DIR_ENV) or DEFAULT_JOBS_DIR).resolve()


_default_jobs_dir = jobs_dir


def uploads_dir(base: Path | None = None) -> Path:
    """Where files for ``import`` jobs are put (``<jobs dir>/uploads``)."""
    return (base or jobs_dir()) / "uploads"


def job_files(folder: Path) -> list[str]:
    """The files under a job's folder, as sorted relative POSIX paths; the tiles folders of a
    run (what makes it resumable, not its results) are left out."""
    if not folder.is_dir():
        return []
    files = (p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
    return sorted(p.as_posix() for p in files if not set(p.parts[:-1]) & set(WORK_DIRS))


@dataclass
class JobContext:
    """What a run function gets: the job, a session for its work, its folder, ``progress``.

    ``progress(fraction=None, message=None)`` records how far the job is (``fraction`` 0..1,
    ``None`` keeps it) and raises :class:`JobCancelled` (or :class:`JobInterrupted`) when the job
    must stop: let it propagate. On SQLite it also ends a read the work session left open
    (never a service's transaction), so do not call it while iterating over a query's rows.
    """

    job_id: int
    kind: str
    params: dict[str, Any]
    out_dir: Path
    session: Session
    user_name: str | None
    progress: Callable[..., None]
    jobs_dir: Path = field(default_factory=jobs_dir)

    def actor(self) -> Actor:
        """The audit actor of the job's writes: the user who submitted it, as of now (a user
        deactivated since cannot write). Ends the session's read, so the write starts fresh."""
        from mastplan.registry.users import actor_for

        if self.user_name is None:
            raise MastplanError(f"job {self.job_id} has no user to write as")
        actor = actor_for(self.session, self.user_name, f"job {self.job_id} ({self.kind})")
        self.session.commit()
        return actor


RunFunction = Callable[[JobContext], dict[str, Any] | None]

#: What runs each kind of job, by name.
RUNNERS: dict[str, RunFunction] = {}


def register_kind(
    name: str,
    run: RunFunction,
    validate: Callable[[Session, User, dict[str, Any]], dict[str, Any]] | None = None,
    description: str = "",
) -> None:
    """Add (or replace) a kind of job: its run function and, given one, its validation
    (default: the parameters are stored as given)."""
    if validate is not None or name not in service.KINDS:
        service.register_kind(
            service.JobKind(name, validate or (lambda _s, _u, params: params), description)
        )
    RUNNERS[name] = run


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def run_report(ctx: JobContext) -> dict[str, Any]:
    """The progress report, one HTML and one PDF per language (``mastplan report``)."""
    from mastplan.progress.report_data import build_report_data
    from mastplan.reports.render import render_report

    day = dt.date.fromisoformat(ctx.params["date"])
    scope = ctx.params.get("scope", "city")
    langs = list(ctx.params.get("lang") or ["zh"])
    ctx.progress(0.05, "collecting the report data")
    data = build_report_data(ctx.session, day, scope)
    ctx.session.commit()  # end the read: rendering takes a while
    written = {}
    for i, lang in enumerate(langs):
        ctx.progress(0.2 + 0.8 * i / len(langs), f"rendering the report ({lang})")
        files = render_report(data, lang, ctx.out_dir)
        written[lang] = {"html": files.html.relative_to(ctx.out_dir).as_posix(),
                         "pdf": files.pdf.relative_to(ctx.out_dir).as_posix()}  # fmt: skip
    return {"date": day.isoformat(), "scope": scope, "reports": written}


def run_coverage_job(ctx: JobContext) -> dict[str, Any]:
    """Coverage of the on-air sites over an area (``mastplan coverage``)."""
    from mastplan.coverage_run import CoverageRunOptions, run_coverage

    p = ctx.params
    options = CoverageRunOptions(
        resolution_m=p["resolution_m"], operators=tuple(p.get("operators") or ()),
        synthetic_terrain_seed=p.get("synthetic_terrain_seed"), halo_m=p["halo_m"],
        rsrp_min_dbm=p["rsrp_min_dbm"], sinr_min_db=p["sinr_min_db"], load=p["load"],
        los_mode=p["los_mode"], antenna=p["antenna"], shadowing_seed=p.get("shadowing_seed"),
        as_of=dt.date.fromisoformat(p["as_of"]) if p.get("as_of") else None,
    )  # fmt: skip
    ctx.progress(0.0, f"coverage of {p['area']}")

    def step(done: int, total: int) -> None:
        ctx.progress(0.9 * done / total if total else None, f"predicting: {done}/{total}")

    summary = run_coverage(ctx.session, p["area"], ctx.out_dir, options, progress=step)
    kept = 0
    if p.get("record"):
        from mastplan.progress.coverage_results import record_coverage
        from mastplan.sharing.calendar import today

        ctx.progress(0.95, "keeping the key areas' statistics")
        kept = len(record_coverage(ctx.session, ctx.actor(), summary,
                                   as_of=options.as_of or today()))  # fmt: skip
    overlay = None
    if (ctx.out_dir / "rsrp_dbm.tif").is_file():
        from mastplan.io.overlay import write_rsrp_overlay
        from mastplan.registry.queries import area_by_code

        ctx.progress(0.97, "drawing the map overlay")
        boundary = area_by_code(ctx.session, p["area"]).boundary
        ctx.session.commit()  # end the read
        info = write_rsrp_overlay(ctx.out_dir, ctx.out_dir / "rsrp_dbm.tif", boundary)
        overlay = {"png": "overlay.png", "bounds": info["bounds"], "legend": info["legend"]}
    return _jsonable({"area": summary.get("area"), "statistics": summary.get("statistics"),
                      "recorded_key_areas": kept, "overlay": overlay})  # fmt: skip


def run_plan_job(ctx: JobContext) -> dict[str, Any]:
    """A share-first least-cost plan of an area, or the phased roll-out (``mastplan plan``)."""
    from mastplan.plan_run import PlanOptions, run_phased, run_plan

    p = ctx.params
    options = PlanOptions(
        operators=tuple(p["operators"]), target_rsrp_dbm=p.get("target_rsrp_dbm"),
        target_sinr_db=p.get("target_sinr_db"), target_share=p.get("target_share"),
        target_continuity=p.get("target_continuity"), resolution_m=p["resolution_m"],
        solver=p["solver"], time_limit_s=p["time_limit_s"], min_isd_m=p["min_isd_m"],
        budget_yuan=p.get("budget_yuan"), load=p["load"], greenfield=p["greenfield"],
        tiles=p["tiles"], tile_m=p["tile_m"],
    )  # fmt: skip
    actor = ctx.actor() if p.get("record") else None
    ctx.progress(0.0, "planning")

    def say(message: str) -> None:
        ctx.progress(None, message)

    if p.get("phased"):
        summary = run_phased(ctx.session, ctx.out_dir, options, actor, say)
        years = summary.get("years") or []
        n_sites = sum(y["sites"] for y in years)
        n_new = sum(y["new_towers"] for y in years)
        totals = {"sites": n_sites, "new_towers": n_new,
                  "on_existing_structures": n_sites - n_new,
                  "cost_yuan": sum(y["cost_yuan"] for y in years)}  # fmt: skip
        feasible = all(y["feasible"] for y in years)
        return _jsonable({**summary, "totals": totals, "feasible": feasible,
                          "bbox": sites_bbox(ctx.out_dir)})  # fmt: skip
    summary = run_plan(ctx.session, p["area"], ctx.out_dir, options, actor, say)
    return _jsonable({"area": summary.get("area"), "totals": summary.get("totals"),
                      "feasible": summary.get("feasible"), "sharing": summary.get("sharing"),
                      "bbox": sites_bbox(ctx.out_dir),
                      "recorded": bool(summary.get("recorded"))})  # fmt: skip


def sites_bbox(folder: Path) -> list[float] | None:
    """``[west, south, east, north]`` (WGS84) of the sites of every ``sites.csv`` under a plan
    job's folder; ``None`` when it has none."""
    import pandas as pd

    files = sorted(folder.rglob("sites.csv"))
    frames = [f for f in (pd.read_csv(p, usecols=["lon_deg", "lat_deg"]) for p in files) if len(f)]
    if not frames:
        return None
    both = pd.concat(frames, ignore_index=True).dropna()
    if both.empty:
        return None
    return [float(both["lon_deg"].min()), float(both["lat_deg"].min()),
            float(both["lon_deg"].max()), float(both["lat_deg"].max())]  # fmt: skip


def run_import(ctx: JobContext) -> dict[str, Any]:
    """A structures or sites file from the uploads folder, all or nothing (``mastplan
    import``)."""
    from mastplan.io.importer import import_layer

    p = ctx.params
    base = uploads_dir(ctx.jobs_dir).resolve()
    path = (base / p["file"]).resolve()
    if path.parent != base or not path.is_file():
        raise MastplanError(f"no file {p['file']!r} in the uploads folder")
    shown = p.get("original_name") or p["file"]  # the name people know the file by
    fmt = p.get("format")
    with tempfile.TemporaryDirectory(prefix="mastplan-import-") as scratch:
        source = path
        if (fmt or path.suffix.lstrip(".").lower()) == "xlsx":
            ctx.progress(0.0, f"reading the workbook {shown}")
            source = xlsx_to_csv(path, Path(scratch) / f"{path.stem}.csv", p["layer"])
            fmt = "csv"
        total = None
        if (fmt or source.suffix.lstrip(".").lower()) == "csv":
            with source.open("rb") as f:
                total = max(1, sum(1 for _ in f) - 1)
        done = 0
        ctx.progress(0.0, f"importing {shown}")

        def step(n: int) -> None:
            nonlocal done
            done += n
            ctx.progress(min(0.99, done / total) if total else None, f"{done:,} records")

        try:
            result = import_layer(ctx.session, ctx.actor(), source, p["layer"], fmt,
                                  dry_run=bool(p.get("dry_run")), progress=step)  # fmt: skip
        except ImportValidationError as exc:  # name the file as the uploader knows it
            raise ImportValidationError(
                [replace(e, file=shown) for e in exc.errors], exc.total_errors
            ) from None
        except MastplanError as exc:
            raise MastplanError(str(exc).replace(str(source), shown)) from None
    return _jsonable({**result.as_dict(), "file": shown, "stored_as": p["file"]})


def xlsx_to_csv(path: Path, dest: Path, sheet: str | None = None) -> Path:
    """The sheet named ``sheet`` (any case; else the first) of an .xlsx workbook as a UTF-8
    CSV at ``dest``, row by row (the workbook is read in streaming mode). Numbers are written
    as they are, dates as ISO dates, booleans as ``true``/``false``, empty cells empty."""
    import csv
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise MastplanError(f"{path.name}: not a readable .xlsx workbook: {exc}") from None
    try:
        names = {n.lower(): n for n in book.sheetnames}
        if not names:
            raise MastplanError(f"{path.name}: the workbook has no sheet")
        ws = book[names.get((sheet or "").lower(), book.sheetnames[0])]
        with dest.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            for row in ws.iter_rows(values_only=True):
                cells = ["" if v is None else _cell_text(v) for v in row]
                while cells and cells[-1] == "":
                    cells.pop()
                if cells:
                    writer.writerow(cells)
    finally:
        book.close()
    return dest


def _cell_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


register_kind("report", run_report)
register_kind("coverage", run_coverage_job)
register_kind("plan", run_plan_job)
register_kind("import", run_import)


# ---------------------------------------------------------------------------------------------
# The worker
# ---------------------------------------------------------------------------------------------

_COUNTER = itertools.count(1)
_HOST = socket.gethostname()[:40] or "localhost"
_LIVE: dict[str, int] = {}  # names of this process's workers that are running (nesting)
_LIVE_LOCK = threading.Lock()


@contextmanager
def _alive(name: str) -> Iterator[None]:
    """Mark a worker of this process as running (see :func:`local_worker_dead`)."""
    with _LIVE_LOCK:
        _LIVE[name] = _LIVE.get(name, 0) + 1
    try:
        yield
    finally:
        with _LIVE_LOCK:
            _LIVE[name] -= 1
            if not _LIVE[name]:
                del _LIVE[name]


def _worker_name() -> str:
    return f"{_HOST}:{os.getpid()}:{next(_COUNTER)}"


def local_worker_dead(name: str) -> bool:
    """Whether a worker named by :func:`Worker` on this machine is gone: its process ended, or
    it was this process's but no longer runs (a restarted server may get the same pid)."""
    host, _, rest = name.partition(":")
    pid_text, _, _n = rest.partition(":")
    if host != _HOST or not pid_text.isdigit():
        return False  # another machine's: only the stale rule applies
    pid = int(pid_text)
    if pid == os.getpid():
        with _LIVE_LOCK:
            return not _LIVE.get(name)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, not ours to signal
        return False
    return False


class _WriteWatch:
    """SQLite's one writer, seen from a job's work session.

    ``writing``: the session holds the write lock (inside a transaction begun as a writer, or
    one that has written). Progress reported from there (an import reports between the batches
    of its one transaction) cannot be written by another connection of the same thread: it
    would wait for the lock its own thread holds.

    :meth:`end_read`: a read the work left open is ended before progress is written. Else the
    progress write would make the read's snapshot stale, and the work's later write in that
    transaction (a plan recording its sites after its reads) could not take the lock at all.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.writing = False
        self.sqlite = session.get_bind().dialect.name == "sqlite"
        if self.sqlite:
            event.listen(session, "after_begin", self._began)
            event.listen(session, "do_orm_execute", self._executed)
            event.listen(session, "after_flush", self._flushed)
            event.listen(session, "after_transaction_end", self._ended)

    def end_read(self) -> None:
        s = self.session
        if (
            self.sqlite
            and not self.writing
            and s.in_transaction()
            and not s.info.get(_DEPTH, 0)  # never inside a service's transaction
            and not (s.new or s.dirty or s.deleted)
        ):
            s.commit()

    def _began(self, _session, _transaction, connection) -> None:
        if connection.get_execution_options().get(WRITE_OPTION):
            self.writing = True

    def _executed(self, state) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            self.writing = True

    def _flushed(self, _session, _context) -> None:
        self.writing = True

    def _ended(self, _session, transaction) -> None:
        if transaction.parent is None:
            self.writing = False


class _Reporter:
    """``ctx.progress``: records progress at most every ``interval_s`` (and the last step
    always), and stops the job when asked. While the work holds SQLite's write lock it only
    reads whether to stop; the progress is written at the next report after."""

    def __init__(self, worker: Worker, job_id: int, session: Session, watch: _WriteWatch) -> None:
        self.worker = worker
        self.job_id = job_id
        self.session = session
        self.watch = watch
        self.last = -float("inf")
        self.fraction: float | None = None

    def __call__(self, fraction: float | None = None, message: str | None = None) -> None:
        if self.worker.stopping:
            raise JobInterrupted(f"worker {self.worker.name} is stopping")
        if fraction is not None:
            self.fraction = max(self.fraction or 0.0, fraction)
        if not self.watch.writing:
            self.watch.end_read()
        now = time.monotonic()
        last_step = fraction is not None and fraction >= 1
        if now - self.last < self.worker.progress_interval_s and not last_step:
            return
        self.last = now
        if self.watch.writing:
            go = not service.stop_wanted(self.session, self.job_id, worker=self.worker.name)
        else:
            go = service.report_progress(self.session, self.job_id, self.fraction, message,
                                         worker=self.worker.name)  # fmt: skip
        if not go:
            raise JobCancelled(f"job {self.job_id} was cancelled")


class Worker:
    """Claims queued jobs one at a time and runs them (see the module's docstring).

    ``sessions``: a session factory of the database; ``kinds``: only these kinds (default: every
    kind with a runner); ``poll_s``: how long to wait when the queue is empty (``wake()`` cuts
    it short); ``stale_after``: a running job with no progress nor heartbeat for that long is
    put back in the queue; ``heartbeat_s``: how often a running job is touched.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        name: str | None = None,
        *,
        jobs_dir: Path | None = None,
        kinds: list[str] | None = None,
        poll_s: float = 2.0,
        stale_after: dt.timedelta = dt.timedelta(minutes=5),
        heartbeat_s: float = 30.0,
        progress_interval_s: float = 0.5,
    ) -> None:
        if stale_after.total_seconds() <= 2 * heartbeat_s:
            raise MastplanError("stale_after must be more than twice heartbeat_s")
        self.sessions = sessions
        self.name = name or _worker_name()
        self.jobs_dir = Path(jobs_dir).resolve() if jobs_dir else _default_jobs_dir()
        self.kinds = kinds
        self.poll_s = poll_s
        self.stale_after = stale_after
        self.heartbeat_s = heartbeat_s
        self.progress_interval_s = progress_interval_s
        self.recover_every_s = max(5.0, stale_after.total_seconds() / 2)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_recover = -float("inf")
        self.current: int | None = None  # the job running now
        self.jobs_run = 0

    # -- control ------------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wake(self) -> None:
        """Look at the queue now (a job was just submitted)."""
        self._wake.set()

    def start(self) -> threading.Thread:
        """Run :meth:`run` in a daemon thread."""
        if self._thread is not None and self._thread.is_alive():
            return self._thread
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name=f"mastplan-worker {self.name}",
                                        daemon=True)  # fmt: skip
        self._thread.start()
        return self._thread

    def stop(self, timeout: float | None = 30.0) -> bool:
        """Ask the worker to stop (its running job goes back to the queue at its next progress
        report) and wait up to ``timeout`` seconds; whether it stopped."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- the loop -----------------------------------------------------------------------------

    def run(self, *, until_idle: bool = False, max_jobs: int | None = None) -> int:
        """Claim and run jobs until stopped (or, with ``until_idle``, until the queue is empty;
        with ``max_jobs``, after that many). Returns how many jobs it ran."""
        ran = 0
        with _alive(self.name):  # the first turn recovers the jobs of dead workers
            while not self._stop.is_set() and (max_jobs is None or ran < max_jobs):
                try:
                    if time.monotonic() - self._last_recover >= self.recover_every_s:
                        self.recover()
                    job = self.run_once()
                except (SQLAlchemyError, OSError):
                    if until_idle:
                        raise
                    log.exception("worker %s: cannot reach the queue; trying again", self.name)
                    job = None
                if job is not None:
                    ran += 1
                    continue
                if until_idle:
                    break
                self._wake.wait(self.poll_s)
                self._wake.clear()
        return ran

    def recover(self) -> list[int]:
        """Put back in the queue the jobs of dead workers; their ids."""
        self._last_recover = time.monotonic()
        with self.sessions() as session:
            jobs = service.recover(session, self.stale_after, dead=local_worker_dead)
        for job in jobs:
            log.warning("worker %s: job %s %s (%s)", self.name, job.id, job.state.value,
                        job.message)  # fmt: skip
        return [j.id for j in jobs]

    def run_once(self) -> Job | None:
        """Claim the oldest queued job and run it; ``None`` if none was queued, else the job as
        it ended (as claimed, when it went back to the queue or was taken from this worker)."""
        kinds = self.kinds if self.kinds is not None else list(RUNNERS)
        with self.sessions() as session:
            job = service.claim_next(session, self.name, kinds)
        if job is None:
            return None
        self.current = job.id
        try:
            with _alive(self.name):
                return self._execute(job) or job
        finally:
            self.current = None
            self.jobs_run += 1

    def _execute(self, job: Job) -> Job | None:
        out_dir = self.jobs_dir / str(job.id)
        log.info("worker %s: job %s (%s) started", self.name, job.id, job.kind)
        done = threading.Event()
        with self.sessions() as books, self.sessions() as work:
            watch = _WriteWatch(work)
            beat = threading.Thread(target=self._heartbeat, args=(job.id, done, watch),
                                    daemon=True, name=f"mastplan-heartbeat {job.id}")  # fmt: skip
            end: Callable[[], Job | None]
            try:
                shutil.rmtree(out_dir, ignore_errors=True)  # an earlier attempt's files
                out_dir.mkdir(parents=True, exist_ok=True)
                beat.start()
                run = RUNNERS.get(job.kind)
                if run is None:
                    raise MastplanError(f"no runner for jobs of kind {job.kind!r}")
                user = work.get(User, job.user_id) if job.user_id is not None else None
                ctx = JobContext(job.id, job.kind, dict(job.params), out_dir, work,
                                 user.name if user else None, _Reporter(self, job.id, books, watch),
                                 self.jobs_dir)  # fmt: skip
                work.commit()
                summary = run(ctx)
                result = {"summary": summary or {}, "files": job_files(out_dir)}
                end = lambda: service.finish(books, job.id, result, worker=self.name)  # noqa: E731
            except JobCancelled:
                end = lambda: self._cancelled(books, job.id, out_dir)  # noqa: E731
            except (JobInterrupted, KeyboardInterrupt) as exc:
                done.set()
                work.close()
                books.rollback()
                service.release(books, job.id, worker=self.name)
                log.info("worker %s: job %s back in the queue", self.name, job.id)
                if isinstance(exc, KeyboardInterrupt):
                    raise
                return None
            except Exception as exc:
                why = _why(exc)
                if not isinstance(exc, MastplanError):
                    log.exception("worker %s: job %s failed", self.name, job.id)
                end = lambda: service.fail(books, job.id, why, worker=self.name)  # noqa: E731
            finally:
                done.set()
            work.close()  # whatever the work left open goes before the job's last write
            books.rollback()  # and whatever a failed progress report left
            ended = end()
        if ended is None:
            log.warning("worker %s: job %s was taken from it", self.name, job.id)
        else:
            log.info("worker %s: job %s %s", self.name, job.id, ended.state.value)
        return ended

    def _cancelled(self, session: Session, job_id: int, out_dir: Path) -> Job | None:
        ended = service.mark_cancelled(session, job_id, worker=self.name)
        if ended is not None:  # still ours: its partial files go (else another worker's now)
            shutil.rmtree(out_dir, ignore_errors=True)
        return ended

    def _heartbeat(self, job_id: int, done: threading.Event, watch: _WriteWatch) -> None:
        while not done.wait(self.heartbeat_s):
            if watch.writing:  # SQLite's lock is the work's: beat after
                continue
            try:
                with self.sessions() as session:
                    if not service.heartbeat(session, job_id, self.name):
                        return
            except Exception:  # pragma: no cover - the database went away for a moment
                log.exception("worker %s: heartbeat of job %s failed", self.name, job_id)


def _why(exc: BaseException) -> str:
    if isinstance(exc, MastplanError):
        return str(exc)
    if isinstance(exc, SQLAlchemyError):
        return f"database error: {getattr(exc, 'orig', None) or exc}".splitlines()[0]
    if isinstance(exc, OSError):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}"


# ---------------------------------------------------------------------------------------------
# The server's worker
# ---------------------------------------------------------------------------------------------


def worker_wanted() -> bool:
    """Whether the server should run a worker: not when ``MASTPLAN_JOBS_WORKER`` is ``0``,
    ``off``, ``false`` or ``no`` (the jobs are run by ``mastplan worker`` processes)."""
    return os.environ.get(WORKER_ENV, "").strip().lower() not in ("0", "off", "false", "no")


def start_worker(app: Any, **options: Any) -> Worker:
    """Start the server's worker thread over ``app.state.sessions`` (once: a running one is
    returned as it is; ``options`` go to :class:`Worker`)."""
    worker = getattr(app.state, "job_worker", None)
    if worker is not None and worker.is_alive():
        return worker
    worker = Worker(app.state.sessions, **options)
    app.state.job_worker = worker
    app.state.jobs_dir = worker.jobs_dir
    worker.start()
    return worker


def stop_worker(app: Any, timeout: float | None = 30.0) -> bool:
    """Stop the server's worker thread (its running job goes back to the queue); whether it
    stopped within ``timeout`` seconds (or there was none)."""
    worker = getattr(app.state, "job_worker", None)
    if worker is None:
        return True
    stopped = worker.stop(timeout)
    app.state.job_worker = None
    return stopped


@asynccontextmanager
async def worker_lifespan(app: Any) -> AsyncIterator[None]:
    """The app's lifespan with its worker: started when the server starts (unless
    :func:`worker_wanted` says no), stopped when it stops. ``FastAPI(lifespan=worker_lifespan)``."""
    import anyio.to_thread

    if worker_wanted():
        start_worker(app)
    try:
        yield
    finally:
        await anyio.to_thread.run_sync(stop_worker, app)
