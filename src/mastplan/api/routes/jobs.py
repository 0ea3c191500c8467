"""/api/v1 endpoints of the jobs: long work (coverage, planning, reports, large imports) run in
the background, with state, progress and result files that survive a restart.

``POST /jobs`` queues a job and answers ``202 Accepted`` at once, with the job's address in
``Location``; poll ``GET /jobs/{id}`` for its state and progress; download its files from
``GET /jobs/{id}/files/{name}`` (only the names its result lists). A job the caller may not
see (another organisation's) is "not found", exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from mastplan.api.deps import DB, Authed
from mastplan.api.schemas import ERRORS as SHARED_ERRORS
from mastplan.api.schemas import NOT_FOUND, Problem, location, problem
from mastplan.errors import NotFoundError
from mastplan.jobs.models import Job, JobState
from mastplan.registry.models import User

#: The error answers of every endpoint here.
ERRORS = {**SHARED_ERRORS, **problem(404, "no such job, or not the caller's to see")}

router = APIRouter(prefix="/jobs", tags=["jobs"], responses=ERRORS)

MAX_PAGE = 200
MAX_ID = 2**63 - 1  # the largest id the databases hold
JobId = Annotated[int, Path(ge=1, le=MAX_ID, description="Job id.")]


class JobIn(BaseModel):
    """A job to queue: its kind and the kind's parameters (see docs/jobs.md)."""

    kind: str = Field(min_length=1, max_length=32, description="report, coverage, plan, import.")
    params: dict[str, Any] = Field(default_factory=dict)


class JobOut(BaseModel):
    """A job as its organisation (and the regulator) sees it."""

    id: int
    kind: str
    params: dict[str, Any]
    state: str
    progress: float = Field(description="0 to 1.")
    message: str | None
    result: dict[str, Any] = Field(description="When done: summary and files (names).")
    files: list[str] = Field(description="Result files, each at /jobs/{id}/files/{name}.")
    submitted_by: str | None
    organisation: str | None
    queued_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    cancel_requested: bool
    worker: str | None


class JobPage(BaseModel):
    """One page of jobs, newest first; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[JobOut]
    next_cursor: int | None


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)  # SQLite gives stored UTC times back without a zone


def _files(job: Job) -> list[str]:
    files = (job.result or {}).get("files") if job.state is JobState.DONE else None
    return [f for f in files if isinstance(f, str)] if isinstance(files, list) else []


def _out(job: Job, users: dict[int, str]) -> JobOut:
    return JobOut(
        id=job.id, kind=job.kind, params=dict(job.params or {}), state=job.state.value,
        progress=job.progress, message=job.message, result=dict(job.result or {}),
        files=_files(job), submitted_by=users.get(job.user_id) if job.user_id else None,
        organisation=job.organisation, queued_at=_utc(job.queued_at),
        started_at=_utc(job.started_at), finished_at=_utc(job.finished_at),
        cancel_requested=job.cancel_requested, worker=job.worker,
    )  # fmt: skip


def _names(session: Session, jobs: list[Job]) -> dict[int, str]:
    ids = {j.user_id for j in jobs if j.user_id is not None}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def _one(session: Session, job: Job) -> JobOut:
    return _out(job, _names(session, [job]))


def _jobs_dir(request: Request) -> FsPath:
    from mastplan.jobs.runner import jobs_dir

    return getattr(request.app.state, "jobs_dir", None) or jobs_dir()


REFUSED = {400: {"model": Problem, "description": "unknown kind or bad parameters"}}


def job_of_kind(session: Session, user_name: str, job_id: int, kind: str, noun: str) -> Job:
    """Job ``job_id`` of ``kind`` as ``user_name`` sees it; "no <noun> N" (404) when it is
    missing, not the caller's to see, or of another kind."""
    from mastplan.jobs.service import get_job

    try:
        job = get_job(session, user_name, job_id)
    except NotFoundError:
        job = None
    if job is None or job.kind != kind:
        raise NotFoundError(f"no {noun} {job_id}")
    return job


def jobs_page(session: Session, user_name: str, kind: str, cursor: int | None,
              limit: int) -> tuple[list[Job], dict[int, str], int | None]:  # fmt: skip
    """One page of the caller's jobs of ``kind``, newest first: the jobs, the names of their
    submitters, and the next page's cursor (``None`` on the last)."""
    from mastplan.jobs.service import list_jobs

    rows = list_jobs(session, user_name, kind=kind, before_id=cursor, limit=limit + 1)
    page = rows[:limit]
    return page, _names(session, page), page[-1].id if len(rows) > limit else None


def wake_worker(request: Request) -> None:
    """Tell the server's worker (if it runs one) that a job was queued."""
    worker = getattr(request.app.state, "job_worker", None)
    if worker is not None:
        worker.wake()


def job_path(request: Request, job: Job, name: str) -> FsPath:
    """The path of result file ``name`` of a done ``job``; :class:`NotFoundError` when its
    result lists no such file or it is not a file inside the job's folder."""
    if name not in _files(job):
        raise NotFoundError(f"job {job.id} has no file {name!r}")
    folder = (_jobs_dir(request) / str(job.id)).resolve()
    path = (folder / name).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        raise NotFoundError(f"job {job.id} has no file {name!r}")
    return path


@router.post("", response_model=JobOut, status_code=202, responses=REFUSED)
def submit_job_endpoint(body: JobIn, who: Authed, session: DB, request: Request,
                        response: Response) -> JobOut:  # fmt: skip
    """Queue a job; it runs in the background (poll its address for state and progress)."""
    from mastplan.jobs.service import submit

    job = submit(session, who.name, body.kind, body.params)
    worker = getattr(request.app.state, "job_worker", None)
    if worker is not None:
        worker.wake()
    response.headers["Location"] = location("jobs", job.id)
    return _one(session, job)


@router.get("", response_model=JobPage)
def list_jobs_endpoint(
    who: Authed,
    session: DB,
    state: Annotated[list[JobState] | None, Query()] = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    cursor: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> JobPage:
    """The jobs the caller may see (its organisation's; the regulator: all), newest first."""
    from mastplan.jobs.service import list_jobs

    rows = list_jobs(session, who.name, states=state or (), kind=kind, before_id=cursor,
                     limit=limit + 1)  # fmt: skip
    page = rows[:limit]
    users = _names(session, page)
    return JobPage(items=[_out(j, users) for j in page],
                   next_cursor=page[-1].id if len(rows) > limit else None)  # fmt: skip


@router.get("/{job_id}", response_model=JobOut)
def get_job_endpoint(job_id: JobId, who: Authed, session: DB) -> JobOut:
    """One job: state, progress, message and, when done, its result and files."""
    from mastplan.jobs.service import get_job

    return _one(session, get_job(session, who.name, job_id))


@router.post("/{job_id}/cancel", response_model=JobOut,
             responses={**NOT_FOUND,
                        409: {"model": Problem,
                              "description": "the job is done or failed already"}})  # fmt: skip
def cancel_job_endpoint(job_id: JobId, who: Authed, session: DB) -> JobOut:
    """Cancel a job: a queued one at once; a running one stops at its next progress report
    (``cancel_requested`` is true until it has)."""
    from mastplan.jobs.service import request_cancel

    return _one(session, request_cancel(session, who.name, job_id))


@router.get("/{job_id}/files/{name:path}", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}}})  # fmt: skip
def job_file_endpoint(job_id: JobId, name: str, who: Authed, session: DB,
                      request: Request) -> FileResponse:  # fmt: skip
    """Download one file of a job's result (a name its ``files`` lists)."""
    from mastplan.jobs.service import get_job

    job = get_job(session, who.name, job_id)
    path = job_path(request, job, name)
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media, filename=path.name,
                        headers={"X-Content-Type-Options": "nosniff"})  # fmt: skip
