"""Cases for the regulator (一站式 coordination): owners' overdue answers and fee complaints.

A case opens when an owner lets the answer deadline pass (:func:`escalate_overdue`, run by the
regulator or a scheduled job) or when an approval is refused because the fee offer breaks the
policy. At most one case of each kind is open per request. The regulator decides a case
(upheld or dismissed, with the decision's text); everyone else sees the cases of the requests
they may see.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mastplan.errors import MastplanError, NotFoundError
from mastplan.registry import crud
from mastplan.registry.audit import Actor
from mastplan.registry.db import transaction
from mastplan.registry.enums import AWAITING_ANSWER, CaseKind, CaseOutcome, CaseState, UserRole
from mastplan.registry.models import SharingCase, SharingRequest, User
from mastplan.registry.permissions import require_role
from mastplan.registry.users import acting
from mastplan.sharing.access import request_filter
from mastplan.sharing.calendar import CST, working_days

__all__ = [
    "decide_case",
    "detail_lines",
    "escalate_overdue",
    "get_case",
    "list_cases",
    "open_case",
    "overdue_requests",
    "working_days_late",
]


def open_case(
    session: Session,
    actor: Actor,
    req: SharingRequest,
    kind: CaseKind,
    detail: list[dict[str, Any]],
) -> SharingCase:
    """The open case of ``kind`` on ``req``: the existing one (its detail brought up to date)
    or a new one."""
    with transaction(session):
        case = session.scalar(
            select(SharingCase).where(
                SharingCase.request_id == req.id,
                SharingCase.kind == kind,
                SharingCase.state == CaseState.OPEN,
            )
        )
        if case is not None:
            return crud.update(session, actor, case, {"detail": detail})
        return crud.create(
            session,
            actor,
            SharingCase(kind=kind, request_id=req.id, opened_by=actor.user, detail=detail),
        )


def detail_lines(case: SharingCase) -> list[str]:
    """A case's detail for people: each violation's sentence, or the facts of an overdue
    answer as "key value" pairs."""
    return [d.get("message") or ", ".join(f"{k} {v}" for k, v in d.items()) for d in case.detail]


def _today_cst(now: dt.datetime | None) -> dt.date:
    return (now or dt.datetime.now(dt.UTC)).astimezone(CST).date()


def working_days_late(req: SharingRequest, now: dt.datetime | None = None) -> int:
    """Working days past the answer deadline at ``now`` (0 when not late or not due)."""
    if req.answer_due_on is None or req.state not in AWAITING_ANSWER:
        return 0
    return working_days(req.answer_due_on, _today_cst(now))


def overdue_requests(
    session: Session, user: User, now: dt.datetime | None = None
) -> list[SharingRequest]:
    """Requests ``user`` may see whose owner has not answered by the deadline at ``now``."""
    query = select(SharingRequest).where(
        request_filter(user),
        SharingRequest.state.in_(AWAITING_ANSWER),
        SharingRequest.answer_due_on < _today_cst(now),
    )
    return list(session.scalars(query.order_by(SharingRequest.answer_due_on, SharingRequest.id)))


def escalate_overdue(
    session: Session, user_name: str, now: dt.datetime | None = None
) -> list[SharingCase]:
    """Open an overdue-answer case for every overdue request that has none open; the regulator
    runs it (or a scheduled job as a regulator user). Returns the cases opened now."""
    with transaction(session):
        user, actor = acting(session, user_name)
        _require_regulator(user, "escalate overdue requests")
        opened = []
        for req in overdue_requests(session, user, now):
            exists = session.scalar(
                select(SharingCase.id).where(
                    SharingCase.request_id == req.id,
                    SharingCase.kind == CaseKind.OVERDUE_ANSWER,
                    SharingCase.state == CaseState.OPEN,
                )
            )
            if exists is None:
                detail = [{"answer_due_on": req.answer_due_on.isoformat(),
                           "working_days_late": working_days_late(req, now)}]  # fmt: skip
                opened.append(open_case(session, actor, req, CaseKind.OVERDUE_ANSWER, detail))
        return opened


def list_cases(
    session: Session, user_name: str, *, state: CaseState | str | None = CaseState.OPEN
) -> list[SharingCase]:
    """The cases of the requests ``user_name`` may see (open ones unless ``state`` says)."""
    user, _ = acting(session, user_name)
    query = select(SharingCase).join(SharingRequest).where(request_filter(user))
    if state is not None:
        query = query.where(SharingCase.state == CaseState(state))
    return list(session.scalars(query.order_by(SharingCase.id)))


def _visible_case(session: Session, user: User, case_id: int, *, lock: bool = False):
    query = (
        select(SharingCase)
        .join(SharingRequest)
        .where(SharingCase.id == case_id, request_filter(user))
    )
    if lock:  # the regulator's clerks deciding one case take turns, on a fresh row
        query = query.with_for_update(of=SharingCase).execution_options(populate_existing=True)
    case = session.scalar(query)
    if case is None:
        raise NotFoundError(f"no case {case_id}")
    return case


def get_case(session: Session, user_name: str, case_id: int) -> SharingCase:
    """Case ``case_id`` as ``user_name`` sees it: "not found" unless it may see its request."""
    user, _ = acting(session, user_name)
    return _visible_case(session, user, case_id)


def decide_case(
    session: Session,
    user_name: str,
    case_id: int,
    outcome: CaseOutcome | str,
    decision: str,
    now: dt.datetime | None = None,
    *,
    if_version: int | None = None,
) -> SharingCase:
    """The regulator's decision on an open case (upheld or dismissed, with its text).

    With ``if_version``, only if the case is still at that version (read under the row lock),
    else :class:`~mastplan.errors.StaleVersionError`."""
    if not decision.strip():
        raise MastplanError("a decision needs its text")
    with transaction(session):
        user, actor = acting(session, user_name, decision)
        case = _visible_case(session, user, case_id, lock=True)
        _require_regulator(user, "decide cases")
        crud.check_version(case, if_version, f"sharing case {case_id}")
        if case.state is not CaseState.OPEN:
            raise MastplanError(f"case {case_id} was decided already ({case.outcome.value})")
        return crud.update(
            session,
            actor,
            case,
            {
                "state": CaseState.DECIDED,
                "outcome": CaseOutcome(outcome),
                "decision": decision.strip(),
                "decided_by": user.name,
                "decided_at": now or dt.datetime.now(dt.UTC),
            },
        )


def _require_regulator(user: User, what: str) -> None:
    require_role(user, [UserRole.REGULATOR], what, "the regulator")
