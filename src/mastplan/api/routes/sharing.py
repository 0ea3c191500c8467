"""Sharing requests, their moves, the regulator's cases and tenancies (共建共享) over HTTP.

The services decide who sees and may do what; these endpoints only translate. A request and a
case carry an ``ETag`` (:mod:`mastplan.api.etags`: the object and its version); a move or a
decision sent with ``If-Match`` happens only if the object is still at that version, checked
under the row lock in the write transaction (else 412). Fee amounts are shown to the parties
(the operator, the owner) and the regulator only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from mastplan.api import etags
from mastplan.api.deps import DB, Authed
from mastplan.api.etags import IfMatch
from mastplan.api.schemas import (
    ERRORS,
    NOT_FOUND,
    VERSIONED_WRITE,
    WRITE_ERRORS,
    location,
    problem,
)
from mastplan.registry.enums import CaseOutcome, RequestState
from mastplan.registry.models import SharingCase, SharingRequest, User
from mastplan.sharing.access import sees_fees
from mastplan.sharing.calendar import as_utc
from mastplan.sharing.lifecycle import Action
from mastplan.sharing.policy import FeeItem

router = APIRouter(prefix="/sharing", tags=["sharing"], responses=ERRORS)

MAX_PAGE = 200
#: Ids are 64-bit integers: anything larger is not an id.
IdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]


class FeeLine(BaseModel):
    """One line of a fee offer, in the policy item's unit."""

    item: str = Field(min_length=1, max_length=64)
    amount: float = Field(ge=0, allow_inf_nan=False)


class RequestIn(BaseModel):
    """What an operator asks of a structure (see ``mastplan sharing request``)."""

    structure: str = Field(min_length=1, max_length=128, description="Structure external id.")
    positions: list[int] = Field(default_factory=list, max_length=32)
    position_count: int | None = Field(default=None, ge=1, le=32)
    mount_height_m: float | None = Field(default=None, gt=0, le=500)
    payload_kg: float = Field(default=0.0, ge=0, le=10_000)
    wind_area_m2: float = Field(default=0.0, ge=0, le=100)
    power_kw: float = Field(default=0.0, ge=0, le=1_000)
    fibre: bool = False
    site: str | None = Field(default=None, max_length=128)
    fee_offer: list[FeeLine] = Field(default_factory=list, max_length=20)
    submit: bool = False


class RequestOut(BaseModel):
    """A sharing request as the caller may see it (``fee_offer`` is null for non-parties)."""

    id: int
    state: str
    version: int
    operator: str
    structure: str
    owner: str
    positions: list[int]
    position_count: int
    booked_positions: list[int]
    mount_height_m: float
    payload_kg: float
    wind_area_m2: float
    power_kw: float
    fibre: bool
    site: str | None
    fee_offer: list[FeeLine] | None
    filed_by: str
    submitted_at: dt.datetime | None
    answer_due_on: dt.date | None
    answered_at: dt.datetime | None
    tenancy_id: int | None
    last_reason: str | None


class RequestPage(BaseModel):
    """One page of requests, newest first; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[RequestOut]
    next_cursor: int | None


class MoveIn(BaseModel):
    """Why (required for reject, request-changes and force-release)."""

    reason: str | None = Field(default=None, max_length=2000)


class CaseOut(BaseModel):
    """A case for the regulator."""

    id: int
    kind: str
    state: str
    version: int
    request_id: int
    opened_at: dt.datetime
    opened_by: str
    detail: list[dict[str, Any]]
    outcome: str | None
    decision: str | None
    decided_by: str | None
    decided_at: dt.datetime | None


class DecisionIn(BaseModel):
    """The regulator's decision on a case."""

    outcome: CaseOutcome
    decision: str = Field(min_length=1, max_length=4000)


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else as_utc(moment)


def _out(req: SharingRequest, user: User) -> RequestOut:
    booked = [p.position for p in req.tenancy.positions] if req.tenancy else []
    fees = [FeeLine(**line) for line in req.fee_offer] if sees_fees(user) else None
    return RequestOut(
        id=req.id, state=req.state.value, version=req.version, operator=req.operator.code,
        structure=req.structure.external_id, owner=req.structure.owner.code,
        positions=list(req.positions), position_count=req.position_count, booked_positions=booked,
        mount_height_m=req.mount_height_m, payload_kg=req.payload_kg,
        wind_area_m2=req.wind_area_m2, power_kw=req.power_kw, fibre=req.fibre,
        site=req.site.external_id if req.site else None, fee_offer=fees, filed_by=req.filed_by,
        submitted_at=_utc(req.submitted_at), answer_due_on=req.answer_due_on,
        answered_at=_utc(req.answered_at), tenancy_id=req.tenancy_id, last_reason=req.last_reason,
    )  # fmt: skip


def _case_out(case: SharingCase) -> CaseOut:
    return CaseOut(
        id=case.id, kind=case.kind.value, state=case.state.value, version=case.version,
        request_id=case.request_id,
        opened_at=_utc(case.opened_at), opened_by=case.opened_by, detail=list(case.detail),
        outcome=case.outcome.value if case.outcome else None, decision=case.decision,
        decided_by=case.decided_by, decided_at=_utc(case.decided_at),
    )  # fmt: skip


@router.get("/requests", response_model=RequestPage)
def list_requests_endpoint(
    who: Authed,
    session: DB,
    state: Annotated[list[RequestState] | None, Query()] = None,
    structure: Annotated[str | None, Query(max_length=128)] = None,
    cursor: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> RequestPage:
    """The requests the caller may see, newest first, by state and structure; paged."""
    from mastplan.sharing.requests import list_requests

    rows = list_requests(session, who.name, states=state or (), structure=structure,
                         before_id=cursor, limit=limit + 1)  # fmt: skip
    page = rows[:limit]
    return RequestPage(
        items=[_out(r, who.user) for r in page],
        next_cursor=page[-1].id if len(rows) > limit else None,
    )


@router.post("/requests", response_model=RequestOut, status_code=201, responses=WRITE_ERRORS)
def file_request_endpoint(body: RequestIn, who: Authed, session: DB, response: Response):
    """File a request (a draft, or submitted with ``submit``); operators only."""
    from mastplan.sharing.requests import RequestSpec, file_request

    spec = RequestSpec(
        body.structure, tuple(body.positions), body.position_count, body.mount_height_m,
        body.payload_kg, body.wind_area_m2, body.power_kw, body.fibre, body.site,
        tuple(FeeItem(f.item, f.amount) for f in body.fee_offer),
    )  # fmt: skip
    req = file_request(session, who.name, spec, submit=body.submit)
    etags.set_etag(response, "request", req.id, req.version)
    response.headers["Location"] = location("sharing", "requests", req.id)
    return _out(req, who.user)


@router.get("/requests/{request_id}", response_model=RequestOut,
            responses={404: {"description": "no such request, or not yours to see"}})  # fmt: skip
def get_request_endpoint(request_id: IdPath, who: Authed, session: DB, response: Response):
    """One request; 404 when it does not exist or the caller may not see it."""
    from mastplan.sharing.requests import get_request

    req = get_request(session, who.name, request_id)
    etags.set_etag(response, "request", req.id, req.version)
    return _out(req, who.user)


@router.post(
    "/requests/{request_id}/{action}",
    response_model=RequestOut,
    responses={**WRITE_ERRORS,
               409: {"description": "the move is not allowed now, or no capacity"},
               412: {"description": "the request changed since it was read"},
               422: {"description": "the fee offer breaks the policy (a case was opened)"}},
)  # fmt: skip
def move_request_endpoint(
    request_id: IdPath,
    action: Action,
    who: Authed,
    session: DB,
    response: Response,
    body: MoveIn | None = None,
    if_match: IfMatch = None,
):
    """Move a request along its lifecycle (submit, review, approve, reject, …) as the caller."""
    from mastplan.sharing.requests import act

    req = act(session, who.name, request_id, action, reason=body.reason if body else None,
              if_version=etags.if_match(if_match, "request", request_id))  # fmt: skip
    etags.set_etag(response, "request", req.id, req.version)
    return _out(req, who.user)


@router.get("/cases", response_model=list[CaseOut])
def list_cases_endpoint(
    who: Authed,
    session: DB,
    state: Annotated[str, Query(pattern="^(open|decided|all)$")] = "open",
) -> list[CaseOut]:
    """The cases of the requests the caller may see."""
    from mastplan.sharing.cases import list_cases

    return [_case_out(c) for c in
            list_cases(session, who.name, state=None if state == "all" else state)]  # fmt: skip


@router.get("/cases/{case_id}", response_model=CaseOut, responses=NOT_FOUND)
def get_case_endpoint(case_id: IdPath, who: Authed, session: DB, response: Response) -> CaseOut:
    """One case, with its ``ETag``; 404 unless the caller may see its request."""
    from mastplan.sharing.cases import get_case

    case = get_case(session, who.name, case_id)
    etags.set_etag(response, "case", case.id, case.version)
    return _case_out(case)


@router.post(
    "/cases/{case_id}/decision",
    response_model=CaseOut,
    responses={**VERSIONED_WRITE, **problem(409, "the case was decided already")},
)  # fmt: skip
def decide_case_endpoint(
    case_id: IdPath,
    body: DecisionIn,
    who: Authed,
    session: DB,
    response: Response,
    if_match: IfMatch = None,
) -> CaseOut:
    """The regulator decides a case (一站式 coordination); with ``If-Match`` (the case's
    ``ETag``) only if the case has not changed since."""
    from mastplan.sharing.cases import decide_case

    case = decide_case(session, who.name, case_id, body.outcome, body.decision,
                       if_version=etags.if_match(if_match, "case", case_id))  # fmt: skip
    etags.set_etag(response, "case", case.id, case.version)
    return _case_out(case)
