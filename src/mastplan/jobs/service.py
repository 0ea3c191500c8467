"""The jobs service: submit, see, cancel, claim, report on and finish background jobs.

Everything a job is lives in the ``jobs`` table, so a job outlives the process that queued it
and the worker that runs it. A job moves queued → running → done | failed | cancelled:

* :func:`submit` validates the kind and its parameters (per kind, with a clear
  :class:`~mastplan.errors.MastplanError`) and queues the job, audited as the submitting user;
* :func:`claim_next` moves the oldest queued job to running for one worker, atomically: on
  PostgreSQL ``SELECT … FOR UPDATE SKIP LOCKED`` lets concurrent workers pass each other; on
  SQLite the writing transaction holds the database's only write lock (``BEGIN IMMEDIATE``);
* the worker reports progress (:func:`report_progress`, which says ``False`` once the user has
  asked to cancel, or the job is no longer the worker's) and a heartbeat (:func:`heartbeat`),
  and ends the job with :func:`finish`, :func:`fail`, :func:`mark_cancelled` or, when it is
  stopping itself, :func:`release`;
* :func:`recover` puts back in the queue the jobs of workers that died (no progress nor heartbeat
  for longer than ``stale_after``, or a worker known to be dead), and fails a job after
  :data:`MAX_ATTEMPTS` attempts. The attempts are counted in the job's ``result``
  (``result["attempts"]``).

Who sees what: a user sees the jobs of its own organisation; the regulator sees all. A job the
caller may not see is "not found", exactly like a missing one. Viewers read; they never submit
nor cancel.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from mastplan.errors import InvalidTransitionError, MastplanError, NotFoundError
from mastplan.jobs.models import Job, JobState
from mastplan.registry import crud
from mastplan.registry.db import _DEPTH, transaction
from mastplan.registry.enums import UserRole
from mastplan.registry.models import User
from mastplan.registry.permissions import deny, refuse_viewer, require_role
from mastplan.registry.users import acting

__all__ = [
    "FINISHED",
    "KINDS",
    "MAX_ATTEMPTS",
    "JobKind",
    "attempts_of",
    "claim_next",
    "fail",
    "finish",
    "get_job",
    "heartbeat",
    "list_jobs",
    "mark_cancelled",
    "may_import",
    "recover",
    "register_kind",
    "release",
    "report_progress",
    "request_cancel",
    "stop_wanted",
    "submit",
]

#: A job is tried at most this many times: a worker that dies on it three times fails it.
MAX_ATTEMPTS = 3
#: States a job never leaves.
FINISHED = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED})
#: Longest message kept on a job.
MAX_MESSAGE = 2000


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ---------------------------------------------------------------------------------------------
# Kinds and their parameters
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobKind:
    """A kind of job: ``validate(session, user, params)`` returns the parameters to store
    (normalised: defaults filled in, dates fixed) or raises :class:`MastplanError`; it may also
    refuse the user (a role that may not run the kind)."""

    name: str
    validate: Callable[[Session, User, dict[str, Any]], dict[str, Any]]
    description: str = ""


#: The kinds :func:`submit` accepts, by name (tests and plug-ins may add their own with
#: :func:`register_kind`; the worker needs a runner for each, see ``mastplan.jobs.runner``).
KINDS: dict[str, JobKind] = {}


def register_kind(kind: JobKind) -> JobKind:
    """Add (or replace) a kind of job."""
    if not kind.name or len(kind.name) > 32:
        raise ValueError("a job kind is named with 1 to 32 characters")
    KINDS[kind.name] = kind
    return kind


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


AreaCode = Field(min_length=1, max_length=64, description="Key area, district or phase:YEAR.")
OperatorCode = Literal["china-mobile", "china-telecom", "china-unicom", "china-broadnet"]


class ReportParams(_Params):
    """``report``: the progress report of the city or a district on a day, HTML and PDF."""

    date: dt.date | None = Field(default=None, description="As of [default: the day submitted].")
    scope: str = Field(default="city", pattern=r"^(city|\d{6})$")
    lang: list[Literal["zh", "en"]] = Field(default_factory=lambda: ["zh"], min_length=1,
                                            max_length=2)  # fmt: skip


class CoverageParams(_Params):
    """``coverage``: predict the on-air sites' coverage over an area (``mastplan coverage``).
    Server-side files (a DEM) are not taken; ``synthetic_terrain_seed`` gives seeded terrain."""

    area: str = AreaCode
    resolution_m: float = Field(default=25.0, ge=5.0, le=1000.0)
    operators: list[OperatorCode] = Field(default_factory=list, max_length=4)
    synthetic_terrain_seed: int | None = Field(default=None, ge=0)
    halo_m: float = Field(default=3000.0, ge=0.0, le=20_000.0)
    rsrp_min_dbm: float = Field(default=-105.0, ge=-160.0, le=-40.0)
    sinr_min_db: float = Field(default=-3.0, ge=-30.0, le=50.0)
    load: float = Field(default=1.0, ge=0.0, le=1.0)
    los_mode: Literal["expected", "los", "nlos"] = "expected"
    antenna: Literal["element", "array", "array-best-beam"] = "element"
    shadowing_seed: int | None = Field(default=None, ge=0)
    as_of: dt.date | None = None
    record: bool = Field(default=False, description="Keep the key areas' statistics (regulator).")


class PlanParams(_Params):
    """``plan``: a share-first least-cost plan of an area, or the phased roll-out
    (``mastplan plan``). Server-side files (costs, demand, exclusions) are not taken."""

    area: str | None = Field(default=None, min_length=1, max_length=64)
    phased: bool = False
    operators: list[OperatorCode] = Field(default_factory=lambda: ["china-mobile"], min_length=1,
                                          max_length=4)  # fmt: skip
    target_rsrp_dbm: float | None = Field(default=None, ge=-160.0, le=-40.0)
    target_sinr_db: float | None = Field(default=None, ge=-30.0, le=50.0)
    target_share: float | None = Field(default=None, gt=0.0, le=1.0)
    target_continuity: float | None = Field(default=None, ge=0.0, le=1.0)
    solver: Literal["auto", "milp", "greedy"] = "auto"
    time_limit_s: float = Field(default=60.0, gt=0.0, le=3600.0)
    resolution_m: float = Field(default=25.0, ge=5.0, le=1000.0)
    min_isd_m: float = Field(default=0.0, ge=0.0, le=10_000.0)
    budget_yuan: float | None = Field(default=None, gt=0.0)
    load: float = Field(default=0.5, ge=0.0, le=1.0)
    greenfield: bool = False
    tiles: Literal["auto", "always", "never"] = "auto"
    tile_m: float = Field(default=2000.0, ge=200.0, le=50_000.0)
    record: bool = Field(default=False, description="Record the planned sites in the registry.")


class ImportParams(_Params):
    """``import``: a large structures or sites file, all or nothing (``mastplan import``). The
    file is named inside the jobs folder's ``uploads/`` (see ``mastplan.jobs.runner``)."""

    file: str = Field(min_length=1, max_length=255)
    layer: Literal["structures", "sites"]
    format: Literal["csv", "geojson", "gpkg", "opencellid", "xlsx"] | None = None
    dry_run: bool = False
    original_name: str | None = Field(
        default=None, max_length=255, description="The uploader's name of the file (display)."
    )


def _parse(model: type[_Params], kind: str, params: dict[str, Any]) -> _Params:
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in exc.errors()
        )
        raise MastplanError(f"invalid parameters of a {kind} job: {problems}") from None


def _dump(model: _Params) -> dict[str, Any]:
    return model.model_dump(mode="json")


def _check_area(session: Session, code: str) -> None:
    from mastplan.registry.queries import area_by_code

    try:
        area_by_code(session, code)
    except NotFoundError as exc:  # a bad parameter, not a missing job: 400, not 404
        raise MastplanError(f"params.area: {exc}") from None


def _validate_report(session: Session, user: User, params: dict[str, Any]) -> dict[str, Any]:
    from mastplan.registry.models import District
    from mastplan.sharing.calendar import today

    p = _parse(ReportParams, "report", params)
    assert isinstance(p, ReportParams)
    if p.scope != "city" and session.get(District, p.scope) is None:
        raise MastplanError(f"params.scope: no district {p.scope!r}")
    p.date = p.date or today()
    p.lang = list(dict.fromkeys(p.lang))
    return _dump(p)


def _validate_coverage(session: Session, user: User, params: dict[str, Any]) -> dict[str, Any]:
    p = _parse(CoverageParams, "coverage", params)
    assert isinstance(p, CoverageParams)
    if p.record:
        what = "keep coverage statistics in the registry (record)"
        require_role(user, [UserRole.REGULATOR], what, "the regulator")
    _check_area(session, p.area)
    return _dump(p)


def _validate_plan(session: Session, user: User, params: dict[str, Any]) -> dict[str, Any]:
    p = _parse(PlanParams, "plan", params)
    assert isinstance(p, PlanParams)
    if (p.area is None) == (not p.phased):
        raise MastplanError("invalid parameters of a plan job: give exactly one of area and "
                            "phased")  # fmt: skip
    if p.record:
        own = user.role is UserRole.OPERATOR and set(p.operators) == {user.organisation.code}
        if user.role is not UserRole.REGULATOR and not own:
            raise deny(user, "record planned sites (record)",
                       "the regulator, or an operator for its own sites,")  # fmt: skip
    if p.area is not None:
        _check_area(session, p.area)
    p.operators = list(dict.fromkeys(p.operators))
    return _dump(p)


def _may_import(user: User) -> None:
    require_role(user, [UserRole.REGULATOR], "import registry layers", "the regulator")


def _validate_import(session: Session, user: User, params: dict[str, Any]) -> dict[str, Any]:
    p = _parse(ImportParams, "import", params)
    assert isinstance(p, ImportParams)
    _may_import(user)
    name = p.file
    if "/" in name or "\\" in name or name in (".", "..") or name.startswith("."):
        raise MastplanError(f"params.file: a plain file name in the uploads folder, not {name!r}")
    return _dump(p)


for _kind in (
    JobKind("report", _validate_report, "The progress report (HTML and PDF)."),
    JobKind("coverage", _validate_coverage, "Coverage prediction of an area."),
    JobKind("plan", _validate_plan, "Site plan of an area or the phased roll-out."),
    JobKind("import", _validate_import, "Import of a structures or sites file."),
):
    register_kind(_kind)


# ---------------------------------------------------------------------------------------------
# For users: submit, see, cancel
# ---------------------------------------------------------------------------------------------


@contextmanager
def _writing(session: Session) -> Iterator[Session]:
    """:func:`transaction`, but a read the session left open is ended first (it holds nothing),
    so that the write begins as a writer (``BEGIN IMMEDIATE`` on SQLite) on fresh rows."""
    if (
        not session.info.get(_DEPTH, 0)
        and session.in_transaction()
        and not (session.new or session.dirty or session.deleted)
    ):
        session.commit()
    with transaction(session):
        yield session


def _visible_filter(user: User) -> ColumnElement[bool]:
    if user.role is UserRole.REGULATOR:
        return true()
    return Job.organisation == user.organisation.code


def _visible(session: Session, user: User, job_id: int, *, lock: bool = False) -> Job:
    query = select(Job).where(Job.id == job_id, _visible_filter(user))
    if lock:
        query = query.with_for_update(of=Job).execution_options(populate_existing=True)
    job = session.execute(query).scalar_one_or_none()
    if job is None:
        raise NotFoundError(f"no job {job_id}")
    return job


def submit(
    session: Session,
    user_name: str,
    kind: str,
    params: dict[str, Any] | None = None,
    *,
    reason: str | None = None,
) -> Job:
    """Queue a job of ``kind`` with ``params`` for ``user_name`` (audited)."""
    params = {} if params is None else params
    if not isinstance(params, dict):
        raise MastplanError("job parameters are a JSON object")
    spec = KINDS.get(kind)
    if spec is None:
        raise MastplanError(f"unknown job kind {kind!r}; one of {', '.join(sorted(KINDS))}")
    with _writing(session):
        user, actor = acting(session, user_name, reason)
        refuse_viewer(user, "submit jobs")
        clean = spec.validate(session, user, dict(params))
        job = Job(kind=kind, params=clean, state=JobState.QUEUED, progress=0.0, result={},
                  user_id=user.id, organisation=user.organisation.code, queued_at=_now(),
                  cancel_requested=False, message="queued")  # fmt: skip
        return crud.create(session, actor, job)


def may_import(session: Session, user_name: str) -> None:
    """Raise :class:`~mastplan.errors.PermissionDeniedError` unless ``user_name`` may submit
    ``import`` jobs (what :func:`submit` checks, before an upload is received); ends the read."""
    user, _ = acting(session, user_name)
    try:
        refuse_viewer(user, "submit jobs")
        _may_import(user)
    finally:
        session.commit()


def get_job(session: Session, user_name: str, job_id: int) -> Job:
    """Job ``job_id`` as ``user_name`` sees it; "no job N" when it may not see it."""
    user, _ = acting(session, user_name)
    return _visible(session, user, job_id)


def list_jobs(
    session: Session,
    user_name: str,
    *,
    states: Sequence[JobState | str] = (),
    kind: str | None = None,
    before_id: int | None = None,
    limit: int | None = None,
) -> list[Job]:
    """The jobs ``user_name`` may see, newest first, optionally by state and kind; ``before_id``
    and ``limit`` page through them (a cursor: the last id of a page)."""
    user, _ = acting(session, user_name)
    query = select(Job).where(_visible_filter(user))
    if states:
        try:
            query = query.where(Job.state.in_([JobState(s) for s in states]))
        except ValueError:
            raise MastplanError(
                f"unknown job state among {list(states)}; one of "
                f"{', '.join(s.value for s in JobState)}"
            ) from None
    if kind:
        query = query.where(Job.kind == kind)
    if before_id is not None:
        query = query.where(Job.id < before_id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query.order_by(Job.id.desc())))


def request_cancel(
    session: Session, user_name: str, job_id: int, *, reason: str | None = None
) -> Job:
    """Cancel a job: a queued one at once; a running one is asked to stop (it stops as
    ``cancelled`` at its next progress report). Cancelling a cancelled job changes nothing;
    a job done or failed cannot be cancelled (:class:`InvalidTransitionError`)."""
    with _writing(session):
        user, actor = acting(session, user_name, reason)
        job = _visible(session, user, job_id, lock=True)
        refuse_viewer(user, "cancel jobs")
        if job.state is JobState.CANCELLED or (
            job.state is JobState.RUNNING and job.cancel_requested
        ):
            return job
        if job.state in FINISHED:
            raise InvalidTransitionError(f"job {job.id} is {job.state.value}: nothing to cancel")
        if job.state is JobState.QUEUED:
            changes: dict[str, Any] = {"state": JobState.CANCELLED, "cancel_requested": True,
                                       "finished_at": _now(),
                                       "message": f"cancelled by {user.name}"}  # fmt: skip
        else:
            changes = {"cancel_requested": True, "message": f"cancel asked by {user.name}"}
        return crud.update(session, actor, job, changes)


# ---------------------------------------------------------------------------------------------
# For workers: claim, report, finish (bookkeeping, not audited)
# ---------------------------------------------------------------------------------------------


def attempts_of(job: Job) -> int:
    """How many times a worker has started the job."""
    try:
        return int((job.result or {}).get("attempts", 0))
    except (TypeError, ValueError):
        return 0


def _locked(session: Session, job_id: int) -> Job | None:
    return session.execute(
        select(Job)
        .where(Job.id == job_id)
        .with_for_update(of=Job)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def _ours(job: Job | None, worker: str | None) -> bool:
    """Whether the job is running, and (given a worker name) for that worker."""
    return (
        job is not None
        and job.state is JobState.RUNNING
        and (worker is None or job.worker == worker)
    )


def claim_next(
    session: Session, worker_name: str, kinds: Sequence[str] | None = None
) -> Job | None:
    """Move the oldest queued job (of ``kinds``, default any) to running for ``worker_name``
    and return it; ``None`` when none is queued. Two workers never get the same job."""
    if not worker_name or len(worker_name) > 64:
        raise MastplanError("a worker is named with 1 to 64 characters")
    with _writing(session):
        query = select(Job).where(Job.state == JobState.QUEUED)
        if kinds is not None:
            query = query.where(Job.kind.in_(list(kinds)))
        query = (
            query.order_by(Job.id)
            .limit(1)
            .with_for_update(of=Job, skip_locked=True)
            .execution_options(populate_existing=True)
        )
        job = session.execute(query).scalar_one_or_none()
        if job is None:
            return None
        now = _now()
        job.state = JobState.RUNNING
        job.worker = worker_name
        job.started_at = now
        job.finished_at = None
        job.progress = 0.0
        job.message = f"started by {worker_name}"
        job.result = {"attempts": attempts_of(job) + 1}
        job.updated_at = now
        session.flush()
        return job


def report_progress(
    session: Session,
    job_id: int,
    fraction: float | None = None,
    message: str | None = None,
    *,
    worker: str | None = None,
) -> bool:
    """Record how far a running job is (``fraction`` 0..1, never going back; ``None`` keeps
    it) and what it is doing. ``False`` means stop: the user asked to cancel, or the job is no
    longer running (for ``worker``)."""
    with _writing(session):
        job = _locked(session, job_id)
        if not _ours(job, worker):
            return False
        assert job is not None
        if job.cancel_requested:
            return False
        if fraction is not None and math.isfinite(fraction):
            job.progress = max(job.progress or 0.0, min(1.0, max(0.0, float(fraction))))
        if message is not None:
            job.message = message[:MAX_MESSAGE]
        job.updated_at = _now()  # the heartbeat, even when nothing else changed
        return True


def stop_wanted(session: Session, job_id: int, *, worker: str | None = None) -> bool:
    """Whether a running job should stop (cancelling asked, or no longer running for
    ``worker``), by a read alone: for a worker whose work holds SQLite's write lock."""
    row = session.execute(
        select(Job.state, Job.worker, Job.cancel_requested).where(Job.id == job_id)
    ).one_or_none()
    if session.info.get(_DEPTH, 0) == 0:
        session.commit()  # end the read
    if row is None:
        return True
    state, owner, cancel = row
    return state is not JobState.RUNNING or (worker is not None and owner != worker) or cancel


def heartbeat(session: Session, job_id: int, worker: str | None = None) -> bool:
    """Say that a running job's worker is alive (during work without progress reports);
    ``False`` when the job is no longer running (for ``worker``)."""
    with _writing(session):
        job = _locked(session, job_id)
        if not _ours(job, worker):
            return False
        assert job is not None
        job.updated_at = _now()
        return True


def finish(
    session: Session,
    job_id: int,
    result: dict[str, Any] | None = None,
    *,
    worker: str | None = None,
    message: str = "done",
) -> Job | None:
    """A running job is done: its ``result`` (files, summary) is kept, next to the attempts.
    ``None`` (and nothing changed) when the job is no longer running for ``worker``. A job put
    back in the queue from ``worker`` (taken for dead while it was busy) and not claimed since
    is done all the same: its work is."""
    with _writing(session):
        job = _locked(session, job_id)
        late = (
            job is not None
            and worker is not None
            and job.state is JobState.QUEUED
            and (job.result or {}).get("requeued_from") == worker
        )
        if not (_ours(job, worker) or late):
            return None
        assert job is not None
        job.state = JobState.DONE
        job.progress = 1.0
        job.finished_at = _now()
        job.message = message[:MAX_MESSAGE]
        job.result = {**(result or {}), "attempts": attempts_of(job)}
        return job


def fail(session: Session, job_id: int, message: str, *, worker: str | None = None) -> Job | None:
    """A running job failed, saying why; ``None`` when it is no longer running for ``worker``."""
    with _writing(session):
        job = _locked(session, job_id)
        if not _ours(job, worker):
            return None
        assert job is not None
        job.state = JobState.FAILED
        job.finished_at = _now()
        job.message = message[:MAX_MESSAGE]
        return job


def mark_cancelled(session: Session, job_id: int, *, worker: str | None = None) -> Job | None:
    """A running job stopped because cancelling was asked; ``None`` (nothing changed) when the
    job is not running for ``worker`` or nobody asked to cancel it."""
    with _writing(session):
        job = _locked(session, job_id)
        if not _ours(job, worker):
            return None
        assert job is not None
        if not job.cancel_requested:
            return None
        job.state = JobState.CANCELLED
        job.finished_at = _now()
        job.message = f"cancelled at {100 * job.progress:.0f} %"
        return job


def release(
    session: Session, job_id: int, *, worker: str | None = None, message: str | None = None
) -> Job | None:
    """A worker stopping puts its running job back in the queue (the attempt is not counted);
    a job whose cancelling was asked is cancelled instead."""
    with _writing(session):
        job = _locked(session, job_id)
        if not _ours(job, worker):
            return None
        assert job is not None
        _requeue(job, message or f"back in the queue: worker {job.worker} stopped", count=False)
        return job


def _requeue(job: Job, message: str, *, count: bool = True) -> None:
    now = _now()
    if job.cancel_requested:
        job.state = JobState.CANCELLED
        job.finished_at = now
        job.message = f"cancelled ({message})"
        return
    attempts = attempts_of(job) if count else max(0, attempts_of(job) - 1)
    job.state = JobState.QUEUED
    job.started_at = None
    job.progress = 0.0
    job.message = message[:MAX_MESSAGE]
    job.result = {"attempts": attempts, "requeued_from": job.worker}
    job.worker = None
    job.updated_at = now


def recover(
    session: Session,
    stale_after: dt.timedelta | None,
    *,
    dead: Callable[[str], bool] | None = None,
    now: dt.datetime | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> list[Job]:
    """Jobs left running by a worker that died go back to the queue (or fail after
    ``max_attempts`` attempts; a job asked to cancel is cancelled). A worker died when its job
    has had no progress nor heartbeat for longer than ``stale_after``, or when ``dead(worker
    name)`` says so. ``stale_after=None`` takes every running job (the start-up of a server
    that is the database's only worker). Returns the jobs changed."""
    now = now or _now()
    with _writing(session):
        query = select(Job).where(Job.state == JobState.RUNNING).order_by(Job.id)
        query = query.with_for_update(of=Job, skip_locked=True).execution_options(
            populate_existing=True
        )
        changed = []
        for job in session.scalars(query):
            stale = stale_after is None or _aware(job.updated_at) < now - stale_after
            if not (stale or (dead is not None and job.worker and dead(job.worker))):
                continue
            why = f"worker {job.worker} stopped answering"
            if not job.cancel_requested and attempts_of(job) >= max_attempts:
                job.state = JobState.FAILED
                job.finished_at = now
                job.message = f"failed: {why}, after {attempts_of(job)} attempts"
            else:
                _requeue(job, f"back in the queue: {why}")
            changed.append(job)
        return changed


def _aware(moment: dt.datetime) -> dt.datetime:
    """A stored time as UTC (SQLite gives it back without its zone)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
