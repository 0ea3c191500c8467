"""Sharing requests end to end on both databases: the lifecycle with its roles and reasons, the
isolation of operators, capacity booked at approval and freed at release, fee-policy violations
that block approval and open cases, and overdue answers counted on the PRC working-day calendar."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from mastplan.errors import (
    InvalidTransitionError,
    MastplanError,
    NotFoundError,
    PermissionDeniedError,
)
from mastplan.registry.audit import verify_chain
from mastplan.registry.enums import CaseKind, CaseState, RequestState, TenancyStatus
from mastplan.registry.models import AuditEntry, SharingCase, Tenancy, TenancyPosition
from mastplan.registry.structures import get_structure
from mastplan.registry.tenancies import CapacityError
from mastplan.registry.users import get_user
from mastplan.sharing.calendar import CST
from mastplan.sharing.cases import decide_case, escalate_overdue, list_cases, overdue_requests
from mastplan.sharing.leases import list_tenancies
from mastplan.sharing.policy import FeeItem
from mastplan.sharing.requests import (
    FeePolicyError,
    RequestSpec,
    act,
    amend_request,
    file_request,
    get_request,
    list_requests,
    waive_fee,
)

S = RequestState
FAIR = (FeeItem("space_rent", 7000.0), FeeItem("electricity", 0.65), FeeItem("maintenance", 1500))


def ask(structure="T1", **kw) -> RequestSpec:
    kw.setdefault("payload_kg", 60.0)
    kw.setdefault("power_kw", 2.0)
    kw.setdefault("fee_offer", FAIR)
    return RequestSpec(structure, **kw)


def to_review(session, spec=None, operator="wang.cmcc", owner="zhao.tower"):
    req = file_request(session, operator, spec or ask(), submit=True)
    return act(session, owner, req.id, "review")


def audit_count(session) -> int:
    return session.scalar(select(func.count(AuditEntry.id)))


def occupied(session, external_id: str) -> list[int]:
    st = get_structure(session, external_id)
    return sorted(session.scalars(
        select(TenancyPosition.position).where(TenancyPosition.structure_id == st.id)))  # fmt: skip


def test_the_whole_lifecycle_books_and_frees_capacity_and_is_audited(sharing_session):
    s = sharing_session
    req = file_request(s, "wang.cmcc", ask(position_count=2, mount_height_m=30.0))
    assert req.state is S.DRAFT and req.positions == [] and req.position_count == 2
    steps = [("wang.cmcc", "submit", S.SUBMITTED), ("zhao.tower", "review", S.UNDER_REVIEW),
             ("zhou.tower", "approve", S.APPROVED), ("wang.cmcc", "install", S.INSTALLED),
             ("zhao.tower", "activate", S.ACTIVE)]  # fmt: skip
    for user, action, state in steps:
        req = act(s, user, req.id, action)
        assert req.state is state
    assert req.answer_due_on is not None and req.answered_at is not None
    assert occupied(s, "T1") == [1, 2]  # the two lowest free positions, chosen at approval
    tenancy = s.get(Tenancy, req.tenancy_id)
    assert tenancy.status is TenancyStatus.ACTIVE and tenancy.payload_kg == 60.0
    assert tenancy.operator.code == "china-mobile" and req.policy_version is not None

    req = act(s, "wang.cmcc", req.id, "release")
    assert req.state is S.RELEASED and occupied(s, "T1") == []
    assert s.get(Tenancy, req.tenancy_id).status is TenancyStatus.RELEASED

    history = s.scalars(select(AuditEntry).where(
        AuditEntry.entity == "sharing_requests", AuditEntry.entity_id == str(req.id)
    ).order_by(AuditEntry.id)).all()  # fmt: skip
    assert [e.action for e in history] == ["create"] + ["update"] * 6
    assert [e.after["state"] for e in history[1:]] == [
        "submitted",
        "under_review",
        "approved",
        "installed",
        "active",
        "released",
    ]
    assert [e.before["state"] for e in history[1:]] == [
        "draft",
        "submitted",
        "under_review",
        "approved",
        "installed",
        "active",
    ]
    assert [e.organisation for e in history[1:4]] == ["china-mobile", "china-tower", "china-tower"]
    assert history[3].actor == "zhou.tower"
    assert verify_chain(s).intact


def test_an_operator_gets_not_found_for_another_operators_request(sharing_session):
    s = sharing_session
    req = to_review(s)
    with pytest.raises(NotFoundError) as missing:
        get_request(s, "sun.unicom", 999_999)
    for user in ("sun.unicom", "qian.telecom", "wu.lights", "zheng.jiangbei", "he.viewer"):
        with pytest.raises(NotFoundError) as hidden:
            get_request(s, user, req.id)
        # the same answer as for a request that does not exist
        assert str(hidden.value) == str(missing.value).replace("999999", str(req.id))
        assert req.id not in [r.id for r in list_requests(s, user)]
    with pytest.raises(NotFoundError):
        act(s, "sun.unicom", req.id, "withdraw")
    with pytest.raises(PermissionDeniedError, match="only the operator can withdraw"):
        act(s, "ma.viewer", req.id, "withdraw")  # a viewer sees, and moves nothing
    # the operator and its viewer, the owner, the regulator, the structure's district
    for user in ("wang.cmcc", "ma.viewer", "zhao.tower", "li.reg", "chen.yuzhong"):
        assert get_request(s, user, req.id).id == req.id
        assert [r.id for r in list_requests(s, user)] == [req.id]
    assert get_request(s, "wang.cmcc", req.id).state is S.UNDER_REVIEW  # nothing moved


DENIED, INVALID = PermissionDeniedError, InvalidTransitionError


@pytest.mark.parametrize("user, action, reason, error, message", [
    ("wang.cmcc", "approve", None, DENIED, "only the owner can approve"),
    ("li.reg", "approve", None, DENIED, "only the owner can approve"),
    ("zhao.tower", "reject", None, INVALID, "reject needs a reason"),
    ("zhao.tower", "request-changes", "  ", INVALID, "request-changes needs a reason"),
    ("zhao.tower", "install", None, INVALID, "cannot install"),
    ("chen.yuzhong", "approve", None, DENIED, "only the owner can approve"),
])  # fmt: skip
def test_only_the_tables_moves_by_their_roles_and_nothing_is_written_otherwise(
    sharing_session, user, action, reason, error, message
):
    s = sharing_session
    req = to_review(s)
    before = audit_count(s)
    with pytest.raises(error, match=message):
        act(s, user, req.id, action, reason=reason)
    assert audit_count(s) == before
    assert get_request(s, "li.reg", req.id).state is S.UNDER_REVIEW
    assert occupied(s, "T1") == []


def test_rejection_changes_and_withdrawal_carry_their_reasons(sharing_session):
    s = sharing_session
    req = to_review(s)
    req = act(s, "zhao.tower", req.id, "request-changes", reason="ask for position 3 only")
    assert req.state is S.CHANGES_REQUESTED and req.last_reason == "ask for position 3 only"
    req = amend_request(s, "wang.cmcc", req.id, ask(positions=(3,)))
    assert req.positions == [3] and req.position_count == 1
    req = act(s, "wang.cmcc", req.id, "submit")
    req = act(s, "zhao.tower", req.id, "review")
    req = act(s, "zhao.tower", req.id, "reject", reason="structural survey failed")
    assert req.state is S.REJECTED
    entry = s.scalars(select(AuditEntry).where(AuditEntry.entity == "sharing_requests")
                      .order_by(AuditEntry.id.desc())).first()  # fmt: skip
    assert entry.reason == "structural survey failed" and entry.after["state"] == "rejected"
    with pytest.raises(MastplanError, match="cannot be amended"):
        amend_request(s, "wang.cmcc", req.id, ask())
    other = to_review(s)
    assert act(s, "wang.cmcc", other.id, "withdraw").state is S.WITHDRAWN
    with pytest.raises(InvalidTransitionError, match="it is final"):
        act(s, "wang.cmcc", other.id, "submit")


def test_a_request_that_does_not_fit_the_structure_is_refused_at_filing(sharing_session):
    s = sharing_session
    with pytest.raises(MastplanError, match=r"positions 1\.\.3, not \[4\]"):
        file_request(s, "wang.cmcc", ask(positions=(2, 4)))
    with pytest.raises(MastplanError, match="at most the structure's 35 m"):
        file_request(s, "wang.cmcc", ask(mount_height_m=40.0))
    with pytest.raises(MastplanError, match="payload_kg must be a number >= 0"):
        file_request(s, "wang.cmcc", ask(payload_kg=-1.0))
    with pytest.raises(
        PermissionDeniedError, match="cannot file sharing requests: only an operator"
    ):
        file_request(s, "zhao.tower", ask())
    assert list_requests(s, "li.reg") == []


def test_approval_without_room_says_no_capacity_and_writes_nothing(sharing_session):
    s = sharing_session
    first = to_review(s, ask(positions=(3,)))
    second = to_review(s, ask(positions=(3,)), operator="sun.unicom")
    heavy = to_review(s, ask(positions=(1,), payload_kg=250.0), operator="qian.telecom")
    act(s, "zhao.tower", first.id, "approve")
    before = audit_count(s)
    with pytest.raises(CapacityError, match=r"no capacity on structure T1: position\(s\) \[3\]"):
        act(s, "zhao.tower", second.id, "approve")
    with pytest.raises(CapacityError, match="payload 250 kg exceeds the 240 kg left"):
        act(s, "zhao.tower", heavy.id, "approve")
    assert audit_count(s) == before
    assert occupied(s, "T1") == [3]
    for r in (second, heavy):
        r = get_request(s, "li.reg", r.id)
        assert r.state is S.UNDER_REVIEW and r.tenancy_id is None


def test_a_fee_offer_against_the_policy_cannot_be_approved_and_opens_one_case(sharing_session):
    s = sharing_session
    offer = (*FAIR[:2], FeeItem("entry_fee", 5000.0))  # 进场费
    req = to_review(s, ask(fee_offer=offer))
    for _ in range(2):  # a second attempt finds the same case open
        with pytest.raises(FeePolicyError, match=r"进场费 \(entry fee\) is prohibited") as err:
            act(s, "zhao.tower", req.id, "approve")
    assert "opened for the regulator" in str(err.value)
    assert len(s.scalars(select(SharingCase)).all()) == 1
    req = get_request(s, "li.reg", req.id)
    assert req.state is S.UNDER_REVIEW and req.tenancy_id is None and occupied(s, "T1") == []
    cases = list_cases(s, "li.reg")
    assert len(cases) == 1 and cases[0].id == err.value.case_id
    case = cases[0]
    assert case.kind is CaseKind.FEE_COMPLAINT and case.request_id == req.id
    assert [d["rule"] for d in case.detail] == ["prohibited_item"]
    assert list_cases(s, "wang.cmcc") == cases and list_cases(s, "sun.unicom") == []
    with pytest.raises(PermissionDeniedError, match="cannot decide cases: only the regulator"):
        decide_case(s, "zhao.tower", case.id, "upheld", "remove the entry fee")
    with pytest.raises(NotFoundError):
        decide_case(s, "sun.unicom", case.id, "upheld", "remove the entry fee")
    case = decide_case(s, "li.reg", case.id, "upheld", "进场费 is prohibited: remove it")
    assert case.state is CaseState.DECIDED and case.decided_by == "li.reg"
    assert list_cases(s, "li.reg") == []
    # the owner waives the prohibited item: it leaves the offer, and the approval goes through
    req = waive_fee(s, "zhao.tower", req.id, "entry_fee", reason="进场费 dropped")
    assert [line["item"] for line in req.fee_offer] == ["space_rent", "electricity"]
    assert act(s, "zhao.tower", req.id, "approve").state is S.APPROVED


def test_a_public_lamp_pole_is_free_of_rent_and_a_waiver_needs_a_reason(sharing_session):
    s = sharing_session
    offer = (FeeItem("space_rent", 2000.0), FeeItem("electricity", 0.6))
    req = to_review(s, ask("P1", payload_kg=20.0, power_kw=0.5, fee_offer=offer),
                    owner="wu.lights")  # fmt: skip
    with pytest.raises(FeePolicyError) as err:
        act(s, "wu.lights", req.id, "approve")
    assert [v.rule for v in err.value.violations] == ["free_public_facility"]
    with pytest.raises(MastplanError, match="needs a reason"):
        waive_fee(s, "wu.lights", req.id, "space_rent", reason=None)
    with pytest.raises(MastplanError, match="only the owner or the regulator"):
        waive_fee(s, "wang.cmcc", req.id, "space_rent", reason="please")
    req = waive_fee(s, "wu.lights", req.id, "space_rent", reason="public facility: free")
    assert [line["amount"] for line in req.fee_offer] == [0.0, 0.6]
    assert act(s, "wu.lights", req.id, "approve").state is S.APPROVED
    assert occupied(s, "P1") == [1]


def test_the_regulator_may_force_a_release_with_a_reason(sharing_session):
    s = sharing_session
    req = act(s, "zhao.tower", to_review(s).id, "approve")
    with pytest.raises(InvalidTransitionError, match="force-release needs a reason"):
        act(s, "li.reg", req.id, "force-release")
    with pytest.raises(PermissionDeniedError, match="only the regulator"):
        act(s, "zhao.tower", req.id, "force-release", reason="unpaid")
    req = act(s, "li.reg", req.id, "force-release", reason="site never built, space reclaimed")
    assert req.state is S.RELEASED and occupied(s, "T1") == []


# Friday 27 September 2019, 11:00 in Chongqing. Ten working days by the State Council's 2019
# notice (National Day 1–7 Oct off; Sun 29 Sep and Sat 12 Oct worked): 29, 30 Sep, 8, 9, 10, 11,
# 12, 14, 15, 16 Oct — the answer is due on Wednesday 16 October. Counting Monday to Friday
# only would have made it Friday 11 October.
SUBMITTED = dt.datetime(2019, 9, 27, 3, 0, tzinfo=dt.UTC)


def at_cst(day: int, month: int = 10, hour: int = 10) -> dt.datetime:
    return dt.datetime(2019, month, day, hour, 0, tzinfo=CST).astimezone(dt.UTC)


def test_overdue_answers_follow_the_working_day_calendar_and_become_cases(sharing_session):
    s = sharing_session
    req = file_request(s, "wang.cmcc", ask(), submit=True, now=SUBMITTED)
    assert req.answer_due_on == dt.date(2019, 10, 16)
    assert s.scalars(select(SharingCase)).all() == []
    reg = get_user(s, "li.reg")
    assert overdue_requests(s, reg, at_cst(14)) == []  # a weekday count would say overdue
    assert overdue_requests(s, reg, at_cst(16, hour=23)) == []  # the last day, still in time
    assert [r.id for r in overdue_requests(s, reg, at_cst(17, hour=0))] == [req.id]
    with pytest.raises(PermissionDeniedError,
                       match="cannot escalate overdue requests: only the regulator"):  # fmt: skip
        escalate_overdue(s, "zhao.tower", at_cst(18))
    opened = escalate_overdue(s, "li.reg", at_cst(18))
    assert [c.kind for c in opened] == [CaseKind.OVERDUE_ANSWER]
    assert opened[0].detail == [{"answer_due_on": "2019-10-16", "working_days_late": 2}]
    assert escalate_overdue(s, "li.reg", at_cst(21)) == []  # one open case per request
    # an answer, even late, ends the lateness; the case stays for the regulator to decide
    act(s, "zhao.tower", req.id, "review", now=at_cst(21))
    act(s, "zhao.tower", req.id, "approve", now=at_cst(21))
    assert overdue_requests(s, reg, at_cst(22)) == []
    assert [c.kind for c in list_cases(s, "li.reg")] == [CaseKind.OVERDUE_ANSWER]


def test_tenancy_terms_follow_the_same_visibility(sharing_session):
    s = sharing_session
    req = act(s, "zhao.tower", to_review(s, ask(payload_kg=75.0)).id, "approve")

    def seen(user, **kw):
        return [(t.id, rid) for t, rid in list_tenancies(s, user, structure="T1", **kw)]

    for user in ("wang.cmcc", "ma.viewer", "zhao.tower", "li.reg", "chen.yuzhong"):
        assert seen(user) == [(req.tenancy_id, req.id)]
    for user in ("sun.unicom", "he.viewer", "wu.lights", "zheng.jiangbei"):
        assert seen(user) == []
    # another operator's tenancies never show, anywhere in the city
    unicom = get_user(s, "sun.unicom").organisation_id
    assert {t.operator_id for t, _ in list_tenancies(s, "sun.unicom")} <= {unicom}
    for user, action in (("wang.cmcc", "install"), ("zhao.tower", "activate"),
                         ("wang.cmcc", "release")):  # fmt: skip
        act(s, user, req.id, action)
    assert seen("wang.cmcc") == [] and seen("wang.cmcc", active_only=False) == [
        (req.tenancy_id, req.id)]  # fmt: skip
