"""Sharing requests as services: file and amend a request, move it along the lifecycle, read it.

Every call names the registered user who acts; what the user may see is :mod:`.access`'s rule
(another operator's request is "not found"), what the user may do is
:mod:`.lifecycle`'s table. Approval checks the fee offer against the fee policy — a violation
opens a complaint case for the regulator and the approval fails — and then books the
structure's positions, payload and power under the structure's row lock, so concurrent
approvals never over-commit it. Each call is one transaction, audited.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from mastplan.errors import MastplanError, NotFoundError
from mastplan.registry import crud
from mastplan.registry.audit import Actor
from mastplan.registry.db import transaction
from mastplan.registry.enums import (
    AWAITING_ANSWER,
    CaseKind,
    RequestState,
    StructureStatus,
    UserRole,
)
from mastplan.registry.models import SharingRequest, Structure, User
from mastplan.registry.permissions import require_role
from mastplan.registry.sites import get_site
from mastplan.registry.structures import get_structure
from mastplan.registry.tenancies import book, release_tenancy
from mastplan.registry.users import acting
from mastplan.sharing.access import request_filter
from mastplan.sharing.calendar import CST, deadline
from mastplan.sharing.cases import open_case
from mastplan.sharing.lifecycle import Action, next_state
from mastplan.sharing.policy import FeeItem, FeePolicy, Violation, check_offer, load_fee_policy

__all__ = [
    "FeePolicyError",
    "RequestSpec",
    "act",
    "amend_request",
    "check_request_fees",
    "file_request",
    "get_request",
    "list_requests",
    "waive_fee",
]

# Before approval the operator may still change what it asks for.
_AMENDABLE = frozenset({RequestState.DRAFT, RequestState.CHANGES_REQUESTED})
# The owner (or the regulator) may waive a fee while the request waits for an answer.
_WAIVABLE = AWAITING_ANSWER


class FeePolicyError(MastplanError):
    """A fee offer breaks the fee policy: it cannot be approved (a case was opened)."""

    def __init__(self, message: str, violations: list[Violation], case_id: int) -> None:
        super().__init__(message)
        self.violations = violations
        self.case_id = case_id


@dataclass(frozen=True)
class RequestSpec:
    """What an operator asks of a structure (external ids; amounts in the policy's units).

    ``positions`` by number, or ``position_count`` free ones chosen at approval;
    ``mount_height_m`` defaults to the structure's height (it sets the rent's height band).
    """

    structure: str
    positions: tuple[int, ...] = ()
    position_count: int | None = None
    mount_height_m: float | None = None
    payload_kg: float = 0.0
    wind_area_m2: float = 0.0
    power_kw: float = 0.0
    fibre: bool = False
    site: str | None = None
    fee_offer: tuple[FeeItem, ...] = field(default_factory=tuple)


def _now(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise ValueError("give an aware datetime (UTC)")
    return now


def _values(session: Session, user: User, spec: RequestSpec) -> dict:
    """The request's columns from ``spec``, checked against the structure and the operator."""
    st = get_structure(session, spec.structure)
    where = f"structure {st.external_id}"
    if not st.open_for_sharing:
        raise MastplanError(f"{where} is not open for sharing")
    if st.status is StructureStatus.DECOMMISSIONED:
        raise MastplanError(f"{where} is decommissioned")
    for name in ("payload_kg", "wind_area_m2", "power_kw"):
        value = getattr(spec, name)
        if not (math.isfinite(value) and value >= 0):
            raise MastplanError(f"{name} must be a number >= 0, got {value!r}")
    positions = sorted(set(int(p) for p in spec.positions))
    outside = [p for p in positions if not 1 <= p <= st.mount_positions]
    if outside:
        raise MastplanError(f"{where} has mount positions 1..{st.mount_positions}, not {outside}")
    count = len(positions) if positions else (spec.position_count or 1)
    if positions and spec.position_count not in (None, len(positions)):
        raise MastplanError(f"{len(positions)} positions named but position_count is "
                            f"{spec.position_count}")  # fmt: skip
    if not 1 <= count <= st.mount_positions:
        raise MastplanError(f"{where} has {st.mount_positions} mount position(s), not {count}")
    height = st.height_m if spec.mount_height_m is None else float(spec.mount_height_m)
    if not (0 < height <= st.height_m + 1e-9):
        raise MastplanError(f"mount height {height:g} m must be above 0 and at most the "
                            f"structure's {st.height_m:g} m")  # fmt: skip
    site_id = None
    if spec.site:
        site = get_site(session, spec.site)
        if site.operator_id != user.organisation_id:
            raise NotFoundError(f"no site with external_id {spec.site!r}")  # not theirs: unseen
        site_id = site.id
    offer = []
    for line in spec.fee_offer:
        amount = float(line.amount)
        if not math.isfinite(amount):
            raise MastplanError(f"fee item {line.item}: amount must be a number, got {amount!r}")
        offer.append({"item": str(line.item), "amount": amount})
    return {
        "structure_id": st.id,
        "site_id": site_id,
        "positions": positions,
        "position_count": count,
        "mount_height_m": height,
        "payload_kg": float(spec.payload_kg),
        "wind_area_m2": float(spec.wind_area_m2),
        "power_kw": float(spec.power_kw),
        "fibre": bool(spec.fibre),
        "fee_offer": offer,
    }


def file_request(
    session: Session,
    user_name: str,
    spec: RequestSpec,
    *,
    submit: bool = False,
    reason: str | None = None,
    now: dt.datetime | None = None,
    policy: FeePolicy | None = None,
) -> SharingRequest:
    """An operator's new request (a draft; submitted at once with ``submit``)."""
    with transaction(session):
        user, actor = acting(session, user_name, reason)
        require_role(user, [UserRole.OPERATOR], "file sharing requests", "an operator")
        values = _values(session, user, spec)
        req = crud.create(
            session,
            actor,
            SharingRequest(
                operator_id=user.organisation_id,
                state=RequestState.DRAFT,
                filed_by=user.name,
                **values,
            ),
        )
        if submit:
            _move(session, user, actor, req, Action.SUBMIT, now, policy)
        return req


def amend_request(
    session: Session, user_name: str, request_id: int, spec: RequestSpec, reason: str | None = None
) -> SharingRequest:
    """Change what a draft or a request sent back for changes asks for."""
    with transaction(session):
        user, actor = acting(session, user_name, reason)
        req = _visible(session, user, request_id, lock=True)
        require_role(user, [UserRole.OPERATOR], "amend a request", "the operator")
        if req.state not in _AMENDABLE:
            raise MastplanError(f"a {req.state.value} request cannot be amended (only a draft "
                                "or one with changes requested)")  # fmt: skip
        return crud.update(session, actor, req, _values(session, user, spec))


def act(
    session: Session,
    user_name: str,
    request_id: int,
    action: Action | str,
    *,
    reason: str | None = None,
    now: dt.datetime | None = None,
    policy: FeePolicy | None = None,
    if_version: int | None = None,
) -> SharingRequest:
    """Move request ``request_id`` by ``action`` as ``user_name``; one audited transaction.

    With ``if_version``, the move happens only if the request is still at that version (read
    under the row lock), else :class:`~mastplan.errors.StaleVersionError`.

    Raises :class:`NotFoundError` for a request the user may not see,
    :class:`~mastplan.errors.InvalidTransitionError` for a move the table does not allow,
    :class:`~mastplan.registry.tenancies.CapacityError` when approval finds no room, and
    :class:`FeePolicyError` when the fee offer breaks the policy (after opening the case).
    """
    refused: FeePolicyError | None = None
    with transaction(session):
        user, actor = acting(session, user_name, reason)
        req = _visible(session, user, request_id, lock=True)
        _check_version(req, if_version)
        try:
            _move(session, user, actor, req, Action(action), now, policy)
        except FeePolicyError as exc:
            refused = exc  # the case stays: commit it, then refuse the approval
    if refused is not None:
        raise refused
    return req


def _move(
    session: Session,
    user: User,
    actor: Actor,
    req: SharingRequest,
    action: Action,
    now: dt.datetime | None,
    policy: FeePolicy | None,
) -> None:
    t = next_state(req.state, action, user.role, actor.reason)
    moment = _now(now)
    changes: dict = {"state": t.target, "last_reason": actor.reason}
    if action is Action.SUBMIT:
        policy = policy or load_fee_policy()
        changes |= {
            "submitted_at": moment,
            "answer_due_on": deadline(moment, policy.answer_within_working_days),
            "answered_at": None,
        }
    if t.source in AWAITING_ANSWER and t.target not in AWAITING_ANSWER | {RequestState.WITHDRAWN}:
        changes["answered_at"] = moment
    if t.reserves_capacity:
        policy = policy or load_fee_policy()
        violations = check_request_fees(session, req, policy)
        if violations:
            case = open_case(session, actor, req, CaseKind.FEE_COMPLAINT,
                             [v.__dict__ for v in violations])  # fmt: skip
            more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
            raise FeePolicyError(
                f"request {req.id} cannot be approved: {violations[0]}{more}; "
                f"case {case.id} opened for the regulator",
                violations,
                case.id,
            )
        tenancy = book(
            session,
            actor,
            req.structure,
            req.operator_id,
            positions=req.positions,
            count=req.position_count,
            payload_kg=req.payload_kg,
            power_kw=req.power_kw,
            site_id=req.site_id,
            start_on=moment.astimezone(CST).date(),
        )
        changes |= {"tenancy_id": tenancy.id, "policy_version": policy.version}
    if t.frees_capacity and req.tenancy_id is not None:
        release_tenancy(session, actor, req.tenancy_id, moment.astimezone(CST).date())
    crud.update(session, actor, req, changes)


def check_request_fees(
    session: Session, req: SharingRequest, policy: FeePolicy | None = None
) -> list[Violation]:
    """The fee-policy rules the request's fee offer breaks (empty: it may be approved)."""
    policy = policy or load_fee_policy()
    st = req.structure
    return check_offer(
        policy,
        [FeeItem(line["item"], line["amount"]) for line in req.fee_offer],
        height_m=req.mount_height_m,
        owner_kind=st.owner.kind.value,
        structure_kind=st.kind.value,
    )


def waive_fee(
    session: Session,
    user_name: str,
    request_id: int,
    item: str,
    *,
    reason: str | None,
    policy: FeePolicy | None = None,
) -> SharingRequest:
    """The owner (or the regulator) waives fee ``item`` of a request awaiting its answer: an
    allowed item's amount becomes 0, a prohibited or unlisted item leaves the offer. A waiver
    needs a reason."""
    if not (reason and reason.strip()):
        raise MastplanError("a fee waiver needs a reason")
    with transaction(session):
        user, actor = acting(session, user_name, reason)
        req = _visible(session, user, request_id, lock=True)
        require_role(user, [UserRole.OWNER, UserRole.REGULATOR], "waive a fee",
                     "the owner or the regulator")  # fmt: skip
        if req.state not in _WAIVABLE:
            raise MastplanError(f"a {req.state.value} request's fees cannot be waived")
        if item not in {line["item"] for line in req.fee_offer}:
            raise MastplanError(f"request {req.id} offers no fee item {item!r}")
        allowed = (policy or load_fee_policy()).allowed
        offer = [
            {**line, "amount": 0.0} if line["item"] == item else dict(line)
            for line in req.fee_offer
            if line["item"] != item or item in allowed
        ]
        return crud.update(session, actor, req, {"fee_offer": offer, "last_reason": reason})


def _check_version(req: SharingRequest, if_version: int | None) -> None:
    crud.check_version(req, if_version, f"sharing request {req.id}")


def _visible(
    session: Session, user: User, request_id: int, *, lock: bool = False
) -> SharingRequest:
    query = select(SharingRequest).where(SharingRequest.id == request_id, request_filter(user))
    if lock:  # two clerks acting on one request run one after the other, on fresh rows
        query = query.with_for_update(of=SharingRequest).execution_options(populate_existing=True)
    req = session.execute(query).scalar_one_or_none()
    if req is None:
        raise NotFoundError(f"no sharing request {request_id}")
    return req


def get_request(session: Session, user_name: str, request_id: int) -> SharingRequest:
    """Request ``request_id`` as ``user_name`` sees it; "not found" when it may not."""
    user, _ = acting(session, user_name)
    return _visible(session, user, request_id)


def list_requests(
    session: Session,
    user_name: str,
    *,
    states: Sequence[RequestState | str] = (),
    structure: str | None = None,
    before_id: int | None = None,
    limit: int | None = None,
) -> list[SharingRequest]:
    """The requests ``user_name`` may see, newest first, optionally by state and structure;
    ``before_id`` and ``limit`` page through them (a cursor: the last id of a page)."""
    user, _ = acting(session, user_name)
    query = select(SharingRequest).where(request_filter(user))
    if before_id is not None:
        query = query.where(SharingRequest.id < before_id)
    if limit is not None:
        query = query.limit(limit)
    if states:
        query = query.where(SharingRequest.state.in_([RequestState(s) for s in states]))
    if structure:
        query = query.join(Structure, Structure.id == SharingRequest.structure_id).where(
            Structure.external_id == structure
        )
    return list(session.scalars(query.order_by(SharingRequest.id.desc())))
