"""/api/v1/coverage-runs: coverage predictions as resources — ``coverage`` jobs seen as runs,
with their statistics and a map overlay of the RSRP.

A run is a job: queued, run in the background, seen by the jobs' rule (the caller's
organisation's runs; the regulator: all); anything else is 404 "no coverage run N". When done,
``overlay`` gives the address of ``overlay.png`` — the RSRP warped to Web Mercator and coloured
by class, transparent outside the area — its WGS84 corner ``bounds`` (``[[south, west], [north,
east]]``, what Leaflet's ``L.imageOverlay`` takes) and the legend of its colours. The rasters,
quick-looks and ``stats.json`` are the job's files (``GET /jobs/{id}/files/{name}``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from mastplan.api.deps import DB, Authed
from mastplan.api.routes.jobs import (
    MAX_ID,
    MAX_PAGE,
    REFUSED,
    _files,
    _names,
    _utc,
    job_of_kind,
    job_path,
    jobs_page,
    wake_worker,
)
from mastplan.api.schemas import ERRORS as SHARED_ERRORS
from mastplan.api.schemas import FIRST_DAY, LAST_DAY, location, problem
from mastplan.errors import MastplanError, NotFoundError
from mastplan.jobs.models import Job, JobState
from mastplan.jobs.service import OperatorCode

ERRORS = {**SHARED_ERRORS, **problem(404, "no such coverage run, or not the caller's to see")}
router = APIRouter(prefix="/coverage-runs", tags=["coverage"], responses=ERRORS)

RunId = Annotated[int, Path(ge=1, le=MAX_ID, description="Coverage run id (its job's id).")]
OVERLAY = "overlay.png"


class CoverageRunIn(BaseModel):
    """A coverage prediction of one area (the parameters of a ``coverage`` job)."""

    model_config = ConfigDict(extra="forbid")

    area: str = Field(min_length=1, max_length=64, description="Key area, district or phase:YEAR.")
    resolution_m: float = Field(default=50.0, ge=5.0, le=1000.0)
    operators: list[OperatorCode] = Field(default_factory=list, max_length=4,
                                          description="[] = every operator.")  # fmt: skip
    as_of: dt.date | None = Field(default=None, description="The network as it stood that day "
                                  "[default: now].")  # fmt: skip
    synthetic_terrain_seed: int | None = Field(default=None, ge=0, le=2**31 - 1,
                                               description="Seeded synthetic terrain.")  # fmt: skip
    record: bool = Field(default=False, description="Keep the key areas' statistics (regulator).")


class LegendEntry(BaseModel):
    """One colour class of the overlay: ``from_dbm <= RSRP < to_dbm`` (null: open)."""

    from_dbm: float | None
    to_dbm: float | None
    colour: str = Field(description="#rrggbb")
    label_zh: str
    label_en: str


class Overlay(BaseModel):
    """The RSRP map overlay: an RGBA PNG in Web Mercator and where it lies."""

    url: str
    bounds: list[list[float]] = Field(description="[[south, west], [north, east]], WGS84.")
    legend: list[LegendEntry]


class CoverageRunOut(BaseModel):
    """A coverage run: its job's state and, when done, its statistics and overlay."""

    id: int
    state: str = Field(description="queued, running, done, failed, cancelled.")
    progress: float = Field(description="0 to 1.")
    message: str | None
    area: str | None
    as_of: dt.date | None
    submitted_by: str | None
    queued_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None = Field(description="Why it failed (failed runs only).")
    statistics: dict[str, Any] | None = Field(description="The area's coverage statistics.")
    overlay: Overlay | None


class CoverageRunPage(BaseModel):
    """One page of coverage runs, newest first; pass ``next_cursor`` as ``cursor``."""

    items: list[CoverageRunOut]
    next_cursor: int | None


def _summary(job: Job) -> dict[str, Any]:
    if job.state is not JobState.DONE:
        return {}
    summary = (job.result or {}).get("summary")
    return summary if isinstance(summary, dict) else {}


def _overlay(job: Job, summary: dict[str, Any]) -> Overlay | None:
    info = summary.get("overlay")
    if not isinstance(info, dict) or OVERLAY not in _files(job):
        return None
    try:
        return Overlay(url=f"/api/v1/coverage-runs/{job.id}/{OVERLAY}", bounds=info["bounds"],
                       legend=info["legend"])  # fmt: skip
    except (KeyError, ValueError):
        return None


def _day(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def run_out(job: Job, users: dict[int, str]) -> CoverageRunOut:
    """A ``coverage`` job as a coverage run."""
    params, summary = dict(job.params or {}), _summary(job)
    stats = summary.get("statistics")
    return CoverageRunOut(
        id=job.id, state=job.state.value, progress=job.progress, message=job.message,
        area=params.get("area"), as_of=_day(params.get("as_of")),
        submitted_by=users.get(job.user_id) if job.user_id else None,
        queued_at=_utc(job.queued_at), finished_at=_utc(job.finished_at),
        error=job.message if job.state is JobState.FAILED else None,
        statistics=stats if isinstance(stats, dict) else None, overlay=_overlay(job, summary),
    )  # fmt: skip


def _one(session: Session, job: Job) -> CoverageRunOut:
    return run_out(job, _names(session, [job]))


@router.post("", response_model=CoverageRunOut, status_code=202, responses=REFUSED)
def start_coverage_run_endpoint(body: CoverageRunIn, who: Authed, session: DB, request: Request,
                                response: Response) -> CoverageRunOut:  # fmt: skip
    """Start a coverage prediction of an area (a ``coverage`` job); poll its address."""
    from mastplan.jobs.service import submit

    if body.as_of is not None and not FIRST_DAY <= body.as_of <= LAST_DAY:
        raise MastplanError(f"as_of must be between {FIRST_DAY} and {LAST_DAY}")
    job = submit(session, who.name, "coverage", body.model_dump(mode="json"))
    wake_worker(request)
    response.headers["Location"] = location("coverage-runs", job.id)
    return _one(session, job)


@router.get("", response_model=CoverageRunPage)
def list_coverage_runs_endpoint(
    who: Authed,
    session: DB,
    cursor: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> CoverageRunPage:
    """The coverage runs the caller may see (its organisation's; the regulator: all), newest
    first."""
    page, users, next_cursor = jobs_page(session, who.name, "coverage", cursor, limit)
    return CoverageRunPage(items=[run_out(j, users) for j in page], next_cursor=next_cursor)


@router.get("/{run_id}", response_model=CoverageRunOut)
def get_coverage_run_endpoint(run_id: RunId, who: Authed, session: DB) -> CoverageRunOut:
    """One coverage run: state and progress; when done, statistics and the overlay."""
    return _one(session, job_of_kind(session, who.name, run_id, "coverage", "coverage run"))


@router.get(f"/{{run_id}}/{OVERLAY}", response_class=FileResponse,
            responses={200: {"content": {"image/png": {}},
                             "description": "The RSRP overlay (RGBA PNG, EPSG:3857)."},
                       **problem(404, "no such run, not the caller's, or not done")})  # fmt: skip
def coverage_overlay_endpoint(run_id: RunId, who: Authed, session: DB,
                              request: Request) -> FileResponse:  # fmt: skip
    """The RSRP map overlay of a done run (lay it on the map at the run's ``overlay.bounds``)."""
    job = job_of_kind(session, who.name, run_id, "coverage", "coverage run")
    if job.state is not JobState.DONE or OVERLAY not in _files(job):
        raise NotFoundError(f"coverage run {run_id} has no overlay: it is {job.state.value}")
    return FileResponse(job_path(request, job, OVERLAY), media_type="image/png",
                        headers={"X-Content-Type-Options": "nosniff",
                                 "Cache-Control": "private, max-age=3600"})  # fmt: skip
