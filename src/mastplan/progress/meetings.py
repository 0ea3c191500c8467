"""The joint meeting (联席会议) as services: meetings, the issues raised there, decisions, the
actions assigned to units, their follow-ups, and when an issue is resolved.

An issue points at what it is about — sites and structures by external id, key areas by code,
sharing cases and requests by id, plan tasks by code — and every link must resolve when the
issue is raised. A decision assigns actions to units with due dates; the units report
follow-ups (append-only progress updates with evidence) until the joint-meeting office or the
regulator closes the action. An issue resolves itself when every assignment of its decisions
is done, on the last closing date. An assignment is overdue on a date when its due date has
passed and it was not closed by that date.

Who writes: the meeting's records (meetings, issues, decisions, assignments, closing) are kept
by users of the joint-meeting office (``cq-5g-joint-office``) or the regulator (``cq-cac``);
a follow-up may also come from a user of the assigned unit. Each call is one transaction,
audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mastplan.errors import MastplanError, NotFoundError
from mastplan.progress.enums import IssueKind, IssueStatus, LinkKind, TaskStatus
from mastplan.progress.models import (
    Assignment,
    Decision,
    IssueLink,
    Meeting,
    MeetingIssue,
    ProgressUpdate,
)
from mastplan.progress.tasks import (
    clean_evidence,
    clean_note,
    get_task,
    is_overseer,
    local_date,
    overdue_on,
    parse_status,
    require_overseer,
    today,
    update_time,
)
from mastplan.registry import crud
from mastplan.registry.audit import Actor
from mastplan.registry.db import transaction
from mastplan.registry.models import KeyArea, SharingCase, SharingRequest, Site, Structure, User
from mastplan.registry.organisations import get_organisation
from mastplan.registry.permissions import deny, refuse_viewer
from mastplan.registry.users import acting

__all__ = [
    "AssignmentSpec",
    "assign",
    "close_assignment",
    "decide",
    "follow_ups",
    "get_assignment",
    "get_issue",
    "get_meeting",
    "list_issues",
    "list_meetings",
    "new_meeting",
    "overdue_assignments",
    "parse_link",
    "post_follow_up",
    "raise_issue",
]

_TITLE_MAX = 200


@dataclass(frozen=True)
class AssignmentSpec:
    """An action for a unit (organisation code), due by a date."""

    organisation: str
    due_on: dt.date
    action: str


def _title(title: str, what: str) -> str:
    title = (title or "").strip()
    if not title:
        raise MastplanError(f"{what} needs a title")
    if len(title) > _TITLE_MAX:
        raise MastplanError(f"{what}'s title is longer than {_TITLE_MAX} characters")
    return title


# --- reading ------------------------------------------------------------------------------------


def get_meeting(session: Session, meeting_id: int) -> Meeting:
    """The meeting ``meeting_id``; :class:`NotFoundError` if there is none."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFoundError(f"no meeting {meeting_id}")
    return meeting


def get_issue(session: Session, issue_id: int) -> MeetingIssue:
    """The issue ``issue_id``; :class:`NotFoundError` if there is none."""
    issue = session.get(MeetingIssue, issue_id)
    if issue is None:
        raise NotFoundError(f"no meeting issue {issue_id}")
    return issue


def get_decision(session: Session, decision_id: int) -> Decision:
    """The decision ``decision_id``; :class:`NotFoundError` if there is none."""
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFoundError(f"no decision {decision_id}")
    return decision


def get_assignment(session: Session, assignment_id: int, *, lock: bool = False) -> Assignment:
    """The assignment ``assignment_id``; :class:`NotFoundError` if there is none. With
    ``lock`` its row is locked and read afresh, so follow-ups on it take turns."""
    assignment = session.get(Assignment, assignment_id, with_for_update=lock,
                             populate_existing=lock)  # fmt: skip
    if assignment is None:
        raise NotFoundError(f"no assignment {assignment_id}")
    return assignment


def list_meetings(session: Session) -> list[Meeting]:
    """Every meeting, by date."""
    return list(session.scalars(select(Meeting).order_by(Meeting.held_on, Meeting.id)))


def issue_assignments(issue: MeetingIssue) -> list[Assignment]:
    """The assignments of all the issue's decisions, in order."""
    return [a for d in issue.decisions for a in d.assignments]


def follow_ups(session: Session, assignment_id: int) -> list[ProgressUpdate]:
    """The follow-ups of an assignment, oldest first."""
    query = select(ProgressUpdate).where(ProgressUpdate.assignment_id == assignment_id)
    return list(session.scalars(query.order_by(ProgressUpdate.at, ProgressUpdate.id)))


def overdue_assignments(session: Session, on: dt.date) -> list[Assignment]:
    """Assignments overdue on ``on``: due before it and not closed by it (never, or later);
    by due date."""
    query = select(Assignment).where(overdue_on(Assignment.due_on, Assignment.closed_on, on))
    return list(session.scalars(query.order_by(Assignment.due_on, Assignment.id)))


def list_issues(
    session: Session,
    *,
    open_only: bool = False,
    overdue: bool = False,
    on: dt.date | None = None,
    meeting_id: int | None = None,
    kind: IssueKind | str | None = None,
) -> list[MeetingIssue]:
    """Issues by meeting date. Filters: ``open_only`` (not resolved by ``on``), ``overdue``
    (an assignment overdue on ``on``), ``meeting_id``, ``kind``; ``on`` is today by default."""
    on = on or today()
    query = select(MeetingIssue).join(Meeting)
    if open_only:
        query = query.where(MeetingIssue.resolved_on.is_(None) | (MeetingIssue.resolved_on > on))
    if meeting_id is not None:
        query = query.where(MeetingIssue.meeting_id == meeting_id)
    if kind is not None:
        query = query.where(MeetingIssue.kind == _kind(kind))
    if overdue:
        late = (
            select(Decision.issue_id)
            .join(Assignment)
            .where(overdue_on(Assignment.due_on, Assignment.closed_on, on))
        )
        query = query.where(MeetingIssue.id.in_(late))
    return list(session.scalars(query.order_by(Meeting.held_on, MeetingIssue.id)))


# --- links --------------------------------------------------------------------------------------


def parse_link(text: str) -> tuple[LinkKind, str]:
    """``kind:key`` (e.g. ``structure:T1``, ``key_area:jiefangbei``) as (kind, key)."""
    kind, sep, key = text.partition(":")
    if not sep or not key.strip():
        raise MastplanError(f"a link is kind:key, got {text!r}")
    try:
        return LinkKind(kind.strip().replace("-", "_")), key.strip()
    except ValueError:
        raise MastplanError(
            f"unknown link kind {kind!r}; one of {', '.join(k.value for k in LinkKind)}"
        ) from None


def _by_id(session: Session, model: type, key: str, what: str) -> str:
    try:
        ident = int(key)
    except ValueError:
        raise NotFoundError(f"no {what} {key!r} (link by its numeric id)") from None
    if session.get(model, ident) is None:
        raise NotFoundError(f"no {what} {ident}")
    return str(ident)


def _resolve_link(session: Session, kind: LinkKind, key: str) -> str:
    """The link's key as stored, once the object it names is known to exist."""
    match kind:
        case LinkKind.SITE | LinkKind.STRUCTURE:
            model = Site if kind is LinkKind.SITE else Structure
            found = session.scalar(select(model.id).where(model.external_id == key))
            if found is None:
                raise NotFoundError(f"no {kind.value} with external_id {key!r}")
        case LinkKind.KEY_AREA:
            if session.scalar(select(KeyArea.id).where(KeyArea.code == key)) is None:
                raise NotFoundError(f"no key area with code {key!r}")
        case LinkKind.TASK:
            get_task(session, key)
        case LinkKind.SHARING_CASE:
            key = _by_id(session, SharingCase, key, "sharing case")
        case LinkKind.SHARING_REQUEST:
            key = _by_id(session, SharingRequest, key, "sharing request")
    return key


def _kind(kind: IssueKind | str) -> IssueKind:
    try:
        return IssueKind(kind)
    except ValueError:
        raise MastplanError(
            f"unknown issue kind {kind!r}; one of {', '.join(k.value for k in IssueKind)}"
        ) from None


# --- writing ------------------------------------------------------------------------------------


def new_meeting(
    session: Session,
    user_name: str,
    *,
    held_on: dt.date,
    title: str,
    convener: str,
    attendees: Sequence[str] = (),
    minutes: str | None = None,
    reason: str | None = None,
) -> Meeting:
    """Record a meeting: its date, title, convening organisation and attending organisations
    (codes, each must exist; listed once, in the order given)."""
    title = _title(title, "a meeting")
    codes: list[str] = []
    for code in attendees:
        code = code.strip()
        if code and code not in codes:
            codes.append(code)
    with transaction(session):
        user, actor = acting(session, user_name, reason)
        require_overseer(user, "record a meeting")
        chair = get_organisation(session, convener)
        for code in codes:
            get_organisation(session, code)
        return crud.create(
            session,
            actor,
            Meeting(held_on=held_on, title=title, convener_id=chair.id, attendees=codes,
                    minutes=(minutes or "").strip() or None),
        )  # fmt: skip


def raise_issue(
    session: Session,
    user_name: str,
    meeting_id: int,
    *,
    kind: IssueKind | str,
    title: str,
    description: str | None = None,
    raised_by: str | None = None,
    links: Iterable[tuple[LinkKind | str, str] | str] = (),
    reason: str | None = None,
) -> MeetingIssue:
    """Record an issue raised at a meeting, with links to what it is about (``(kind, key)``
    pairs or ``kind:key`` text). A link that does not resolve refuses the whole issue with
    :class:`NotFoundError` naming it; nothing is written."""
    kind = _kind(kind)
    title = _title(title, "an issue")
    wanted: list[tuple[LinkKind, str]] = []
    for link in links:
        link_kind, key = parse_link(link) if isinstance(link, str) else link
        try:
            link_kind = LinkKind(link_kind)
        except ValueError:
            raise MastplanError(f"unknown link kind {link_kind!r}") from None
        wanted.append((link_kind, key.strip()))
    with transaction(session):
        user, actor = acting(session, user_name, reason)
        require_overseer(user, "raise a meeting issue")
        meeting = get_meeting(session, meeting_id)
        raiser = get_organisation(session, raised_by).id if raised_by else None
        resolved: list[tuple[LinkKind, str]] = []
        for link_kind, key in wanted:
            try:
                stored = _resolve_link(session, link_kind, key)
            except NotFoundError as exc:
                what = f"{link_kind.value}:{key}"
                raise NotFoundError(f"link {what} does not resolve: {exc}") from None
            if (link_kind, stored) not in resolved:
                resolved.append((link_kind, stored))
        issue = crud.create(
            session,
            actor,
            MeetingIssue(meeting=meeting, kind=kind, title=title,
                         description=(description or "").strip() or None, raised_by_id=raiser),
        )  # fmt: skip
        for link_kind, key in resolved:
            link = IssueLink(kind=link_kind, key=key)
            issue.links.append(link)
            crud.create(session, actor, link)
        return issue


def _open_issue(issue: MeetingIssue) -> None:
    if issue.status is IssueStatus.RESOLVED:
        raise MastplanError(f"issue {issue.id} was resolved on {issue.resolved_on}")


def _assignment(
    session: Session, actor: Actor, decision: Decision, spec: AssignmentSpec
) -> Assignment:
    action = (spec.action or "").strip()
    if not action:
        raise MastplanError("an assignment needs the action to take")
    if spec.due_on < decision.decided_on:
        raise MastplanError(
            f"an assignment cannot be due ({spec.due_on}) before its decision "
            f"({decision.decided_on})"
        )
    org = get_organisation(session, spec.organisation)
    return crud.create(
        session,
        actor,
        Assignment(decision=decision, organisation_id=org.id, action=action, due_on=spec.due_on),
    )


def decide(
    session: Session,
    user_name: str,
    issue_id: int,
    text: str,
    *,
    decided_on: dt.date | None = None,
    assignments: Sequence[AssignmentSpec] = (),
    reason: str | None = None,
) -> Decision:
    """Record a decision on an open issue (dated the meeting's day by default, never before
    it), with the actions it assigns to units."""
    text = (text or "").strip()
    if not text:
        raise MastplanError("a decision needs its text (--text)")
    with transaction(session):
        user, actor = acting(session, user_name, reason)
        require_overseer(user, "record a decision")
        issue = get_issue(session, issue_id)
        _open_issue(issue)
        held_on = issue.meeting.held_on
        decided_on = decided_on or held_on
        if decided_on < held_on:
            raise MastplanError(
                f"a decision cannot be dated ({decided_on}) before its meeting ({held_on})"
            )
        decision = crud.create(
            session, actor, Decision(issue=issue, text=text, decided_on=decided_on)
        )
        for spec in assignments:
            _assignment(session, actor, decision, spec)
        return decision


def assign(
    session: Session,
    user_name: str,
    decision_id: int,
    spec: AssignmentSpec,
    *,
    reason: str | None = None,
) -> Assignment:
    """Assign one more action of a decision to a unit, due by a date (not before the
    decision); the issue must still be open."""
    with transaction(session):
        user, actor = acting(session, user_name, reason)
        require_overseer(user, "assign an action")
        decision = get_decision(session, decision_id)
        _open_issue(decision.issue)
        return _assignment(session, actor, decision, spec)


def _require_follow_up_writer(user: User, assignment: Assignment) -> None:
    """The assigned unit, the joint-meeting office or the regulator."""
    refuse_viewer(user, f"follow up assignment {assignment.id}")
    if is_overseer(user) or user.organisation_id == assignment.organisation_id:
        return
    raise deny(user, f"follow up assignment {assignment.id}",
               f"its unit ({assignment.organisation.code}), the joint-meeting office and the "
               "regulator")  # fmt: skip


def post_follow_up(
    session: Session,
    user_name: str,
    assignment_id: int,
    *,
    status: TaskStatus | str,
    note: str,
    evidence: Sequence[str] = (),
    at: dt.datetime | None = None,
    reason: str | None = None,
) -> ProgressUpdate:
    """Report where an assignment stands, with evidence (an append-only progress update).

    The assigned unit, the joint-meeting office or the regulator reports; ``done`` closes the
    assignment and only the office or the regulator may say so (:func:`close_assignment`).
    ``at`` dates it (aware, not in the future, not before the decision; now by default).
    """
    status = parse_status(status)
    note = clean_note(note)
    refs = clean_evidence(evidence, status)
    moment = update_time(at)
    with transaction(session):
        user, actor = acting(session, user_name, reason)
        assignment = get_assignment(session, assignment_id, lock=True)
        _require_follow_up_writer(user, assignment)
        if status is TaskStatus.DONE:
            require_overseer(user, f"close assignment {assignment.id}")
        if assignment.closed_on is not None:
            raise MastplanError(f"assignment {assignment.id} was closed on {assignment.closed_on}")
        on = local_date(moment)
        if on < assignment.decision.decided_on:
            raise MastplanError(
                f"a follow-up cannot be dated ({on}) before the decision "
                f"({assignment.decision.decided_on})"
            )
        update = crud.create(
            session,
            actor,
            ProgressUpdate(assignment_id=assignment.id, at=moment, author=user.name,
                           organisation=user.organisation.code, status=status, note=note,
                           evidence=refs),
        )  # fmt: skip
        latest = follow_ups(session, assignment.id)[-1]
        changes: dict[str, object] = {"status": TaskStatus(latest.status)}
        if status is TaskStatus.DONE:
            changes = {"status": TaskStatus.DONE, "closed_on": on}
        crud.update(session, actor, assignment, changes)
        if status is TaskStatus.DONE:
            _resolve_if_done(session, actor, assignment.decision.issue_id)
        return update


def close_assignment(
    session: Session,
    user_name: str,
    assignment_id: int,
    *,
    note: str,
    evidence: Sequence[str] = (),
    at: dt.datetime | None = None,
    reason: str | None = None,
) -> ProgressUpdate:
    """The joint-meeting office or the regulator closes an assignment as done (a follow-up
    with status done and its evidence); the issue resolves when it was the last one open."""
    return post_follow_up(session, user_name, assignment_id, status=TaskStatus.DONE, note=note,
                          evidence=evidence, at=at, reason=reason)  # fmt: skip


def _resolve_if_done(session: Session, actor: Actor, issue_id: int) -> None:
    """Resolve the issue when every assignment of its decisions is done, on the last closing
    date. An issue with no assignment stays open. The issue's row is locked first, so two
    closings of its last assignments at the same moment cannot both see the other open."""
    issue = session.get(MeetingIssue, issue_id, with_for_update=True, populate_existing=True)
    assert issue is not None
    closed = list(
        session.scalars(
            select(Assignment.closed_on).join(Decision).where(Decision.issue_id == issue_id)
        )
    )
    if closed and all(day is not None for day in closed):
        resolved_on = max(day for day in closed if day is not None)
        crud.update(
            session, actor, issue, {"status": IssueStatus.RESOLVED, "resolved_on": resolved_on}
        )
