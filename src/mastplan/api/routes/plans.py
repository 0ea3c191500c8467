"""/api/v1/plans: planning runs as resources — ``plan`` jobs seen as plans, with their totals,
the sharing comparison, the bounding box of the planned sites and the sites as GeoJSON.

A plan is a job: it is queued, runs in the background and is seen by the jobs' rule (the
caller's organisation's plans; the regulator: all). Anything else — another organisation's plan,
a job of another kind, a missing one — is 404 "no plan N": planned coordinates are confidential.
Its files are the job's (``GET /jobs/{id}/files/{name}``).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from mastplan.api.deps import DB, Authed
from mastplan.api.routes.jobs import (
    MAX_ID,
    MAX_PAGE,
    REFUSED,
    _utc,
    job_of_kind,
    job_path,
    jobs_page,
    wake_worker,
)
from mastplan.api.schemas import ERRORS as SHARED_ERRORS
from mastplan.api.schemas import location, problem
from mastplan.errors import NotFoundError
from mastplan.jobs.models import Job, JobState
from mastplan.jobs.service import OperatorCode

ERRORS = {**SHARED_ERRORS, **problem(404, "no such plan, or not the caller's to see")}
router = APIRouter(prefix="/plans", tags=["plans"], responses=ERRORS)

PlanId = Annotated[int, Path(ge=1, le=MAX_ID, description="Plan id (its job's id).")]


class PlanIn(BaseModel):
    """A planning run of one area (the parameters of a ``plan`` job; see docs/jobs.md)."""

    model_config = ConfigDict(extra="forbid")

    area: str = Field(min_length=1, max_length=64, description="Key area, district or phase:YEAR.")
    operators: list[OperatorCode] = Field(default_factory=lambda: ["china-mobile"], min_length=1,
                                          max_length=4)  # fmt: skip
    target_share: float | None = Field(default=None, gt=0.0, le=1.0,
                                       description="Share of the area to cover [default: the "
                                       "key area's target].")  # fmt: skip
    resolution_m: float = Field(default=100.0, ge=5.0, le=1000.0)
    solver: Literal["auto", "milp", "greedy"] = "auto"
    time_limit_s: float = Field(default=60.0, gt=0.0, le=3600.0)
    record: bool = Field(default=False, description="Record the planned sites in the registry "
                         "(the regulator, or an operator planning only itself).")  # fmt: skip


class PlanTotals(BaseModel):
    sites: int
    new_towers: int
    on_existing_structures: int
    cost_yuan: float


class PlanOut(BaseModel):
    """A planning run: its job's state and, when done, what it planned."""

    id: int
    state: str = Field(description="queued, running, done, failed, cancelled.")
    progress: float = Field(description="0 to 1.")
    message: str | None
    area: str | None = Field(description="The area planned (null: the phased roll-out).")
    operators: list[str]
    submitted_by: str | None
    queued_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None = Field(description="Why it failed (failed runs only).")
    feasible: bool | None = Field(description="Whether every target was met (when done).")
    totals: PlanTotals | None
    sharing: dict[str, Any] | None = Field(
        description="Several operators: the joint and the separate costs and the saving."
    )
    bbox: list[float] | None = Field(
        description="[west, south, east, north] of the planned sites, WGS84 (when done)."
    )


class PlanPage(BaseModel):
    """One page of plans, newest first; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[PlanOut]
    next_cursor: int | None


class PointGeometry(BaseModel):
    type: Literal["Point"] = "Point"
    coordinates: list[float] = Field(description="[lon, lat], WGS84 degrees.")


class PlannedSiteProps(BaseModel):
    site: str
    area: str
    operator: str
    band: str | None
    structure: str | None = Field(description="The host structure's external id (null: a new "
                                  "tower).")  # fmt: skip
    kind: str | None
    new_build: bool
    height_m: float | None
    site_class: str | None
    azimuths_deg: str | None = Field(description="Sector azimuths, e.g. 30/150/270.")
    tilt_deg: float | None
    cost_yuan: float | None
    reason: str | None


class PlannedSite(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: PointGeometry
    properties: PlannedSiteProps


class PlannedSites(BaseModel):
    """The planned sites of a plan, as a GeoJSON FeatureCollection (WGS84 points)."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    plan: int
    features: list[PlannedSite]


def _summary(job: Job) -> dict[str, Any]:
    if job.state is not JobState.DONE:
        return {}
    summary = (job.result or {}).get("summary")
    return summary if isinstance(summary, dict) else {}


def _totals(value: Any) -> PlanTotals | None:
    if not isinstance(value, dict):
        return None
    try:
        sites, new = int(value["sites"]), int(value["new_towers"])
        on = int(value.get("on_existing_structures", sites - new))
        return PlanTotals(sites=sites, new_towers=new, on_existing_structures=on,
                          cost_yuan=float(value["cost_yuan"]))  # fmt: skip
    except (KeyError, TypeError, ValueError):
        return None


def _bbox(value: Any) -> list[float] | None:
    if (
        isinstance(value, list)
        and len(value) == 4
        and all(isinstance(v, int | float) and math.isfinite(v) for v in value)
    ):
        return [float(v) for v in value]
    return None


def plan_out(job: Job, users: dict[int, str]) -> PlanOut:
    """A ``plan`` job as a plan."""
    params, summary = dict(job.params or {}), _summary(job)
    feasible = summary.get("feasible")
    sharing = summary.get("sharing")
    return PlanOut(
        id=job.id, state=job.state.value, progress=job.progress, message=job.message,
        area=params.get("area"), operators=list(params.get("operators") or []),
        submitted_by=users.get(job.user_id) if job.user_id else None,
        queued_at=_utc(job.queued_at), finished_at=_utc(job.finished_at),
        error=job.message if job.state is JobState.FAILED else None,
        feasible=feasible if isinstance(feasible, bool) else None,
        totals=_totals(summary.get("totals")),
        sharing=sharing if isinstance(sharing, dict) else None,
        bbox=_bbox(summary.get("bbox")),
    )  # fmt: skip


def _one(session: Session, job: Job) -> PlanOut:
    from mastplan.api.routes.jobs import _names

    return plan_out(job, _names(session, [job]))


@router.post("", response_model=PlanOut, status_code=202, responses=REFUSED)
def start_plan_endpoint(body: PlanIn, who: Authed, session: DB, request: Request,
                        response: Response) -> PlanOut:  # fmt: skip
    """Start a planning run of an area (a ``plan`` job); poll its address for its state."""
    from mastplan.jobs.service import submit

    job = submit(session, who.name, "plan", body.model_dump(mode="json"))
    wake_worker(request)
    response.headers["Location"] = location("plans", job.id)
    return _one(session, job)


@router.get("", response_model=PlanPage)
def list_plans_endpoint(
    who: Authed,
    session: DB,
    cursor: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> PlanPage:
    """The plans the caller may see (its organisation's; the regulator: all), newest first."""
    page, users, next_cursor = jobs_page(session, who.name, "plan", cursor, limit)
    return PlanPage(items=[plan_out(j, users) for j in page], next_cursor=next_cursor)


@router.get("/{plan_id}", response_model=PlanOut)
def get_plan_endpoint(plan_id: PlanId, who: Authed, session: DB) -> PlanOut:
    """One plan: state and progress; when done, feasibility, totals, sharing and bbox."""
    return _one(session, job_of_kind(session, who.name, plan_id, "plan", "plan"))


def _text(value: str | None) -> str | None:
    return value if value not in (None, "") else None


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value not in (None, "") else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _site(row: dict[str, str]) -> PlannedSite | None:
    lon, lat = _number(row.get("lon_deg")), _number(row.get("lat_deg"))
    if lon is None or lat is None:
        return None
    props = PlannedSiteProps(
        site=row.get("site") or "", area=row.get("area") or "", operator=row.get("operator") or "",
        band=_text(row.get("band")), structure=_text(row.get("structure")),
        kind=_text(row.get("kind")),
        new_build=(row.get("new_build") or "").strip().lower() in ("true", "1", "yes"),
        height_m=_number(row.get("height_m")), site_class=_text(row.get("site_class")),
        azimuths_deg=_text(row.get("azimuths_deg")), tilt_deg=_number(row.get("tilt_deg")),
        cost_yuan=_number(row.get("cost_yuan")), reason=_text(row.get("reason")),
    )  # fmt: skip
    return PlannedSite(id=props.site, geometry=PointGeometry(coordinates=[lon, lat]),
                       properties=props)  # fmt: skip


@router.get("/{plan_id}/sites", response_model=PlannedSites,
            responses=problem(404, "no such plan, not the caller's, or not done"))  # fmt: skip
def plan_sites_endpoint(plan_id: PlanId, who: Authed, session: DB,
                        request: Request) -> PlannedSites:  # fmt: skip
    """The planned sites as GeoJSON (WGS84 points); 404 until the plan is done."""
    job = job_of_kind(session, who.name, plan_id, "plan", "plan")
    if job.state is not JobState.DONE:
        raise NotFoundError(f"plan {plan_id} has no sites: it is {job.state.value}")
    names = [f for f in (job.result or {}).get("files") or []
             if isinstance(f, str) and (f == "sites.csv" or f.endswith("/sites.csv"))]  # fmt: skip
    features: list[PlannedSite] = []
    for name in sorted(names):
        with job_path(request, job, name).open(encoding="utf-8", newline="") as fh:
            features += [s for s in map(_site, csv.DictReader(fh)) if s is not None]
    return PlannedSites(plan=job.id, features=features)
