"""The joint meeting: meetings, issues linked to registry objects, decisions, assignments and
their follow-ups, issues that resolve themselves, overdue actions, who may write, and
`mastplan meeting` end to end."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from mastplan.cli import app
from mastplan.errors import MastplanError, NotFoundError, PermissionDeniedError
from mastplan.progress.enums import IssueStatus, LinkKind, TaskStatus
from mastplan.progress.meetings import (
    AssignmentSpec,
    assign,
    close_assignment,
    decide,
    follow_ups,
    get_issue,
    list_issues,
    new_meeting,
    overdue_assignments,
    post_follow_up,
    raise_issue,
)
from mastplan.progress.models import (
    Assignment,
    Decision,
    IssueLink,
    Meeting,
    MeetingIssue,
    ProgressUpdate,
)
from mastplan.progress.tasks import load_plan_tasks
from mastplan.registry.audit import Actor
from mastplan.registry.db import make_engine, session_factory
from mastplan.registry.models import AuditEntry, SharingCase, Site
from mastplan.registry.structures import create_structure
from mastplan.registry.users import add_user
from mastplan.sharing.calendar import CST
from mastplan.sharing.policy import FeeItem
from mastplan.sharing.requests import FeePolicyError, RequestSpec, act, file_request

ADMIN = Actor("admin", "onboarding")

#: name → (organisation, role)
USERS = {
    "liu.office": ("cq-5g-joint-office", "regulator"),
    "li.reg": ("cq-cac", "regulator"),
    "he.office.viewer": ("cq-5g-joint-office", "viewer"),
    "wang.jxw": ("cq-jxw", "regulator"),
    "zhou.zjw": ("cq-zjw", "owner"),
    "wang.cmcc": ("china-mobile", "operator"),
    "zhao.tower": ("china-tower", "owner"),
}

AIRPORT = "2019-ckg-airport"  # a key area of the Chongqing data set


def tower(external_id: str) -> dict:
    """A China Tower tower in Yuzhong (渝中区) with three positions."""
    return {"external_id": external_id, "kind": "telecom_tower", "owner": "china-tower",
            "lon_deg": 106.5700, "lat_deg": 29.5570, "height_m": 35.0, "mount_positions": 3,
            "max_payload_kg": 300.0, "available_power_kw": 10.0}  # fmt: skip


def setup_data(session) -> None:
    """Tasks, users, tower ``T1`` and a fee complaint (case) on a request for it."""
    load_plan_tasks(session, Actor("loader"))
    for name, (org, role) in USERS.items():
        add_user(session, ADMIN, name, org, role)
    create_structure(session, ADMIN, tower("T1"))
    spec = RequestSpec("T1", position_count=1, payload_kg=40.0, power_kw=1.5,
                       fee_offer=(FeeItem("entry_fee", 3000.0),))  # fmt: skip
    req = file_request(session, "wang.cmcc", spec, submit=True)
    act(session, "zhao.tower", req.id, "review")
    with pytest.raises(FeePolicyError):
        act(session, "zhao.tower", req.id, "approve")  # 进场费: refused, a case opens


@pytest.fixture
def gov(loaded_session):
    setup_data(loaded_session)
    return loaded_session


def d(day: str) -> dt.date:
    return dt.date.fromisoformat(day)


def at(day: str, time: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=CST)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def a_meeting(session, held_on: str = "2020-03-01") -> Meeting:
    return new_meeting(
        session,
        "liu.office",
        held_on=d(held_on),
        title="第一次联席会议",
        convener="cq-5g-joint-office",
        attendees=["cq-cac", "cq-jxw", "cq-zjw", "cq-cac", "china-tower"],
    )


def an_issue(session, meeting: Meeting, links=()) -> MeetingIssue:
    return raise_issue(session, "liu.office", meeting.id, kind="blocked_site",
                       title="屋顶进场难 Roof access refused", links=links)  # fmt: skip


def test_a_meeting_from_issue_to_resolution(gov):
    s = gov
    case = s.scalar(select(SharingCase))
    site = s.scalar(select(Site.external_id).order_by(Site.id).limit(1))
    assert case is not None and site is not None
    meeting = a_meeting(s)
    assert meeting.attendees == ["cq-cac", "cq-jxw", "cq-zjw", "china-tower"]
    assert meeting.convener.code == "cq-5g-joint-office"

    issue = raise_issue(
        s, "liu.office", meeting.id, kind="unreasonable_fee", title="进场费 Entry fee demanded",
        description="the owner asks an entry fee", raised_by="china-mobile",
        links=["structure:T1", f"key_area:{AIRPORT}", f"sharing_case:{case.id}",
               (LinkKind.SHARING_REQUEST, str(case.request_id)), "task:key-1-2", f"site:{site}",
               "structure:T1"],
    )  # fmt: skip
    s.expire_all()
    stored = {(link.kind, link.key) for link in get_issue(s, issue.id).links}
    assert stored == {(LinkKind.STRUCTURE, "T1"), (LinkKind.KEY_AREA, AIRPORT),
                      (LinkKind.SHARING_CASE, str(case.id)),
                      (LinkKind.SHARING_REQUEST, str(case.request_id)),
                      (LinkKind.TASK, "key-1-2"), (LinkKind.SITE, site)}  # fmt: skip
    assert issue.raised_by.code == "china-mobile" and issue.status is IssueStatus.OPEN

    decision = decide(s, "li.reg", issue.id, "取消进场费; the tower company answers in 10 days",
                      assignments=[AssignmentSpec("cq-zjw", d("2020-04-01"), "inspect the fee"),
                                   AssignmentSpec("china-tower", d("2020-04-15"),
                                                  "withdraw the fee")])  # fmt: skip
    assert decision.decided_on == d("2020-03-01")  # the meeting's day
    zjw, towerco = decision.assignments
    extra = assign(
        s,
        "liu.office",
        decision.id,
        AssignmentSpec("china-mobile", d("2020-04-20"), "confirm the site is built"),
    )

    post_follow_up(s, "zhou.zjw", zjw.id, status="in_progress", note="inspection booked",
                   at=at("2020-03-10"))  # fmt: skip
    post_follow_up(s, "zhao.tower", towerco.id, status="blocked", note="waiting for HQ",
                   evidence=["letter 2020-17"], at=at("2020-03-12"))  # fmt: skip
    s.refresh(towerco)
    assert towerco.status is TaskStatus.BLOCKED and towerco.closed_on is None

    close_assignment(s, "liu.office", towerco.id, note="fee withdrawn",
                     evidence=["https://example.org/notice"], at=at("2020-04-10"))  # fmt: skip
    close_assignment(s, "li.reg", extra.id, note="site on air", evidence=["OMC report"],
                     at=at("2020-04-12"))  # fmt: skip
    s.refresh(issue)
    assert issue.status is IssueStatus.OPEN  # one assignment still open
    post_follow_up(s, "liu.office", zjw.id, status="done", note="inspected, no fee",
                   evidence=["inspection record 7"], at=at("2020-04-05"))  # fmt: skip
    s.refresh(issue)
    # resolved on the last closing date, not on the date of the last closing made
    assert (issue.status, issue.resolved_on) == (IssueStatus.RESOLVED, d("2020-04-12"))
    s.refresh(zjw)
    assert (zjw.status, zjw.closed_on) == (TaskStatus.DONE, d("2020-04-05"))
    assert [u.note for u in follow_ups(s, zjw.id)] == ["inspection booked", "inspected, no fee"]
    assert [u.organisation for u in follow_ups(s, zjw.id)] == ["cq-zjw", "cq-5g-joint-office"]

    entities = {e.entity for e in s.scalars(select(AuditEntry).where(AuditEntry.actor.in_(
        ["liu.office", "li.reg", "zhou.zjw", "zhao.tower"])))}  # fmt: skip
    assert {"meetings", "meeting_issues", "issue_links", "decisions", "assignments",
            "progress_updates"} <= entities  # fmt: skip
    resolved = s.scalars(select(AuditEntry).where(AuditEntry.entity == "meeting_issues",
                                                  AuditEntry.action == "update")).all()  # fmt: skip
    assert [(e.actor, e.after) for e in resolved] == [
        ("liu.office", {"status": "resolved", "resolved_on": "2020-04-12"})]  # fmt: skip

    # a resolved issue takes no new decision or assignment; a closed assignment no follow-up
    with pytest.raises(MastplanError, match=f"issue {issue.id} was resolved on 2020-04-12"):
        decide(s, "liu.office", issue.id, "more")
    with pytest.raises(MastplanError, match="was resolved"):
        assign(s, "liu.office", decision.id, AssignmentSpec("cq-cac", d("2020-05-01"), "x"))
    with pytest.raises(MastplanError, match=f"assignment {zjw.id} was closed on 2020-04-05"):
        post_follow_up(s, "zhou.zjw", zjw.id, status="in_progress", note="again")


@pytest.mark.parametrize(
    ("link", "message"),
    [("structure:NOPE", "link structure:NOPE does not resolve: no structure with external_id"),
     ("site:NOPE", "no site with external_id 'NOPE'"),
     ("key_area:nowhere", "link key_area:nowhere does not resolve: no key area with code"),
     ("sharing_case:999", "link sharing_case:999 does not resolve: no sharing case 999"),
     ("sharing_case:abc", "no sharing case 'abc'"),
     ("sharing_request:999", "no sharing request 999"),
     ("task:key-9-9", "no plan task 'key-9-9'"),
     ("meeting:1", "unknown link kind 'meeting'"),
     ("structure", "a link is kind:key")],
)  # fmt: skip
def test_a_link_that_does_not_resolve_refuses_the_issue(gov, link, message):
    s = gov
    meeting = a_meeting(s)
    before = count(s, AuditEntry)
    with pytest.raises(MastplanError, match=message) as info:
        an_issue(s, meeting, links=["structure:T1", f"key_area:{AIRPORT}", link])
    assert "\n" not in str(info.value)
    if link.startswith(("structure:", "site:", "key_area:", "sharing", "task:")):
        assert isinstance(info.value, NotFoundError)
    assert (count(s, MeetingIssue), count(s, IssueLink), count(s, AuditEntry)) == (0, 0, before)


def test_overdue_assignments_and_issue_filters_at_dates(gov):
    s = gov
    meeting = a_meeting(s)
    first = an_issue(s, meeting, links=["structure:T1"])
    second = an_issue(s, meeting)
    d1 = decide(s, "liu.office", first.id, "inspect",
                assignments=[AssignmentSpec("cq-zjw", d("2020-04-01"), "inspect")])  # fmt: skip
    decide(s, "liu.office", second.id, "report",
           assignments=[AssignmentSpec("cq-jxw", d("2020-06-01"), "report")])  # fmt: skip
    action = d1.assignments[0]
    for day in ("2020-03-15", "2020-04-01"):
        assert overdue_assignments(s, d(day)) == [], day
        assert list_issues(s, overdue=True, on=d(day)) == []
    assert overdue_assignments(s, d("2020-04-02")) == [action]
    assert list_issues(s, overdue=True, on=d("2020-04-02")) == [first]
    close_assignment(s, "liu.office", action.id, note="done", evidence=["record"],
                     at=at("2020-04-05"))  # fmt: skip
    assert overdue_assignments(s, d("2020-04-04")) == [action]  # late, as it was then
    assert overdue_assignments(s, d("2020-04-05")) == []
    assert [a.organisation.code for a in overdue_assignments(s, d("2020-06-02"))] == ["cq-jxw"]
    assert list_issues(s, open_only=True, on=d("2020-04-04")) == [first, second]
    assert list_issues(s, open_only=True, on=d("2020-04-05")) == [second]
    assert list_issues(s, open_only=True) == [second]
    assert list_issues(s, kind="blocked_site", meeting_id=meeting.id) == [first, second]
    with pytest.raises(MastplanError, match="unknown issue kind 'fee'"):
        list_issues(s, kind="fee")


@pytest.mark.parametrize("user", ["wang.cmcc", "wang.jxw", "zhao.tower", "he.office.viewer"])
def test_only_the_office_and_the_regulator_keep_the_records(gov, user):
    s = gov
    with pytest.raises(MastplanError, match=f"{user}") as info:
        new_meeting(s, user, held_on=d("2020-03-01"), title="t", convener="cq-cac")
    assert "joint-meeting office" in str(info.value) or "viewer" in str(info.value)
    meeting = a_meeting(s)
    with pytest.raises(MastplanError, match="cannot raise a meeting issue"):
        raise_issue(s, user, meeting.id, kind="other", title="x")
    issue = an_issue(s, meeting)
    with pytest.raises(MastplanError, match="cannot record a decision"):
        decide(s, user, issue.id, "x")
    decision = decide(s, "li.reg", issue.id, "x")
    with pytest.raises(MastplanError, match="cannot assign an action"):
        assign(s, user, decision.id, AssignmentSpec("cq-zjw", d("2020-04-01"), "x"))
    assert (count(s, Meeting), count(s, MeetingIssue), count(s, Decision),
            count(s, Assignment)) == (1, 1, 1, 0)  # fmt: skip


def test_follow_ups_come_from_the_assigned_unit_and_only_the_office_closes(gov):
    s = gov
    issue = an_issue(s, a_meeting(s))
    decision = decide(
        s,
        "liu.office",
        issue.id,
        "inspect",
        assignments=[AssignmentSpec("cq-zjw", d("2020-04-01"), "inspect")],
    )
    action = decision.assignments[0]
    with pytest.raises(PermissionDeniedError, match=r"wang.jxw \(cq-jxw\) cannot follow up "
                       r"assignment \d+: only its unit \(cq-zjw\)"):  # fmt: skip
        post_follow_up(s, "wang.jxw", action.id, status="in_progress", note="x")
    with pytest.raises(MastplanError, match="is a viewer"):
        post_follow_up(s, "he.office.viewer", action.id, status="in_progress", note="x")
    with pytest.raises(MastplanError, match="cannot close assignment"):
        post_follow_up(s, "zhou.zjw", action.id, status="done", note="x", evidence=["e"])
    with pytest.raises(MastplanError, match="a done update needs evidence"):
        close_assignment(s, "liu.office", action.id, note="done")
    with pytest.raises(MastplanError, match=r"cannot be dated \(2020-02-28\) before the decision"):
        post_follow_up(s, "zhou.zjw", action.id, status="in_progress", note="x",
                       at=at("2020-02-28"))  # fmt: skip
    assert count(s, ProgressUpdate) == 0
    post_follow_up(s, "zhou.zjw", action.id, status="blocked", note="no key to the roof",
                   evidence=["photo-1.jpg"])  # fmt: skip
    s.refresh(action)
    assert action.status is TaskStatus.BLOCKED and action.closed_on is None


def test_meeting_records_are_checked(gov):
    s = gov
    with pytest.raises(NotFoundError, match="no organisation with code 'cq-nope'"):
        new_meeting(s, "liu.office", held_on=d("2020-03-01"), title="t", convener="cq-cac",
                    attendees=["cq-jxw", "cq-nope"])  # fmt: skip
    with pytest.raises(NotFoundError, match="no organisation with code 'cq-nope'"):
        new_meeting(s, "liu.office", held_on=d("2020-03-01"), title="t", convener="cq-nope")
    with pytest.raises(MastplanError, match="a meeting needs a title"):
        new_meeting(s, "liu.office", held_on=d("2020-03-01"), title=" ", convener="cq-cac")
    assert count(s, Meeting) == 0
    with pytest.raises(NotFoundError, match="no meeting 42"):
        raise_issue(s, "liu.office", 42, kind="other", title="x")
    meeting = a_meeting(s)
    with pytest.raises(MastplanError, match="unknown issue kind"):
        raise_issue(s, "liu.office", meeting.id, kind="noise", title="x")
    with pytest.raises(NotFoundError, match="no organisation"):
        raise_issue(s, "liu.office", meeting.id, kind="other", title="x", raised_by="cq-nope")
    issue = an_issue(s, meeting)
    with pytest.raises(MastplanError, match=r"before its meeting \(2020-03-01\)"):
        decide(s, "liu.office", issue.id, "x", decided_on=d("2020-02-01"))
    with pytest.raises(MastplanError, match="cannot be due"):
        decide(s, "liu.office", issue.id, "x",
               assignments=[AssignmentSpec("cq-zjw", d("2020-02-29"), "x")])  # fmt: skip
    with pytest.raises(NotFoundError, match="no organisation with code 'cq-nope'"):
        decide(s, "liu.office", issue.id, "x",
               assignments=[AssignmentSpec("cq-zjw", d("2020-04-01"), "x"),
                            AssignmentSpec("cq-nope", d("2020-04-01"), "x")])  # fmt: skip
    assert (count(s, Decision), count(s, Assignment)) == (0, 0)  # one transaction: all or none


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def db(loaded_url):
    engine = make_engine(loaded_url)
    with session_factory(engine)() as s:
        setup_data(s)
    engine.dispose()
    return loaded_url


def run(db, *args, user=None):
    who = ["--as", user] if user else []
    result = CliRunner(env={"COLUMNS": "220"}).invoke(app, ["meeting", *args, "--database", db,
                                                            *who])  # fmt: skip
    return result.exit_code, result.output


def test_the_joint_meeting_from_the_command_line(db):
    code, out = run(db, "new", "--date", "2020-03-01", "--title", "第一次联席会议",
                    "--convener", "cq-5g-joint-office", "--attendee", "cq-cac", "--attendee",
                    "cq-zjw", "--reason", "minutes", user="liu.office")  # fmt: skip
    assert (code, out.strip()) == (0, "meeting 1 recorded: 2020-03-01 第一次联席会议 "
                                      "(2 attending units)")  # fmt: skip
    code, out = run(db, "issue", "1", "--kind", "blocked_site", "--title", "Roof [T1] blocked",
                    "--link", "structure:T1", "--link", f"key_area:{AIRPORT}", "--link",
                    "sharing_case:1", user="liu.office")  # fmt: skip
    assert (code, out.strip()) == (0, "issue 1 raised at meeting 1 (3 link(s))")
    code, out = run(db, "issue", "1", "--kind", "other", "--title", "x", "--link",
                    "structure:NOPE", user="liu.office")  # fmt: skip
    assert (code, out.strip()) == (1, "error: link structure:NOPE does not resolve: no "
                                      "structure with external_id 'NOPE'")  # fmt: skip
    code, out = run(db, "decide", "1", "--text", "open the roof", "--assign",
                    "cq-zjw=2020-04-01:open the roof: today", user="li.reg")  # fmt: skip
    assert code == 0 and "decision 1 on issue 1 (2020-03-01)" in out
    assert "assignment 1 → cq-zjw, due 2020-04-01: open the roof: today" in out
    code, out = run(db, "assign", "1", "--unit", "china-tower", "--due", "2020-04-10",
                    "--action", "install", user="liu.office")  # fmt: skip
    assert (code, out.strip()) == (0, "assignment 2 → china-tower, due 2020-04-10: install")
    code, out = run(db, "decide", "1", "--text", "x", "--assign", "cq-zjw:2020-04-01",
                    user="li.reg")  # fmt: skip
    assert (code, out.strip()) == (1, "error: --assign must be ORG=YYYY-MM-DD:action, got "
                                      "'cq-zjw:2020-04-01'")  # fmt: skip

    code, out = run(db, "follow-up", "1", "--status", "in_progress", "--note", "key found",
                    "--evidence", "photo [1]", "--at", "2020-03-20", user="zhou.zjw")  # fmt: skip
    assert (code, out.strip()) == (0, "assignment 1: follow-up 1 recorded (in_progress)")
    code, out = run(db, "follow-up", "1", "--status", "done", "--note", "x", "--evidence", "e",
                    user="zhou.zjw")  # fmt: skip
    assert code == 1 and "cannot close assignment 1" in out

    code, out = run(db, "list", "--overdue", "--date", "2020-04-02")
    assert code == 0 and "1 issue(s) on 2020-04-02" in out and "Roof [T1] blocked" in out
    assert "1 action(s) overdue on 2020-04-02" in out and "open the roof: today" in out
    code, out = run(db, "close", "1", "--note", "roof open", "--evidence", "record 3", "--at",
                    "2020-04-03", user="liu.office")  # fmt: skip
    assert (code, out.strip()) == (0, "assignment 1: follow-up 2 recorded (done); closed on "
                                      "2020-04-03")  # fmt: skip
    code, out = run(db, "close", "2", "--note", "installed", "--evidence", "acceptance 9",
                    "--at", "2020-04-08", user="li.reg")  # fmt: skip
    assert code == 0 and "issue 1 resolved on 2020-04-08" in out

    code, out = run(db, "list", "--open")
    assert code == 0 and "0 issue(s)" in out
    code, out = run(db, "list", "--open", "--date", "2020-04-07")
    assert code == 0 and "1 issue(s) on 2020-04-07" in out and "1/2 done" in out
    code, out = run(db, "show", "1")
    assert code == 0 and "issue 1 (blocked_site, resolved on 2020-04-08): Roof [T1] blocked" in out
    assert "link structure:T1" in out and "link sharing_case:1" in out
    assert "zhou.zjw (cq-zjw) in_progress: key found [photo [1]]" in out
    code, out = run(db, "new", "--date", "2020-03-01", "--title", "t", "--convener", "cq-cac",
                    user="wang.cmcc")  # fmt: skip
    assert code == 1 and len(out.strip().splitlines()) == 1
    assert out.startswith("error: wang.cmcc (china-mobile) cannot record a meeting")
