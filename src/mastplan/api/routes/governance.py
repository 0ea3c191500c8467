"""The plan's governance over HTTP: tasks and their milestones and updates, the joint meeting
(meetings, issues, decisions, assignments, follow-ups), and the application scenarios and 5G
enterprises.

The services decide who may write (:mod:`mastplan.progress.tasks`,
:mod:`mastplan.progress.meetings`, :mod:`mastplan.progress.scenarios`,
:mod:`mastplan.progress.enterprises`): a refusal is their :class:`~mastplan.errors.MastplanError`
(400). Every authenticated caller may read. A task, a meeting, a scenario and an enterprise
carry an ``ETag`` (:mod:`mastplan.api.etags`); a write sent with ``If-Match`` happens only if
the object is still at that version, checked under the row lock in the write transaction
(else 412). Times are aware UTC; days are Chongqing days.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from mastplan.api import etags
from mastplan.api.deps import DB, Authed
from mastplan.api.etags import IfMatch
from mastplan.api.schemas import (
    ERRORS,
    NOT_FOUND,
    VERSIONED_WRITE,
    WRITE_ERRORS,
    location,
    parse_day,
)
from mastplan.progress.enums import (
    IndustrySegment,
    IndustryZone,
    IssueKind,
    ScenarioCategory,
    ScenarioStatus,
    TaskStatus,
    UnitRole,
)
from mastplan.progress.models import (
    ApplicationScenario,
    Assignment,
    Decision,
    Enterprise,
    Meeting,
    MeetingIssue,
    Milestone,
    PlanTask,
    ProgressUpdate,
)
from mastplan.sharing.calendar import as_utc, today

router = APIRouter(tags=["governance"], responses=ERRORS)

#: Ids are 64-bit integers: anything larger is not an id.
IdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
#: A task's code (key-1-2, safeguard-3).
CodePath = Annotated[str, Path(min_length=1, max_length=32)]
#: An organisation's code.
OrgCode = Annotated[str, Field(min_length=1, max_length=64)]
#: An evidence reference: a document or a URL.
Evidence = Annotated[str, Field(min_length=1, max_length=1000)]
#: The days a date parameter may name.
DateQuery = Annotated[
    str | None,
    Query(
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        examples=["2021-12-31"],
        description="As of this day, YYYY-MM-DD (Chongqing) [default: today].",
    ),
]


# --- tasks --------------------------------------------------------------------------------------


class MilestoneOut(BaseModel):
    """A milestone as it stood on the day asked for (``done_on`` only when done by then)."""

    id: int
    title_zh: str
    title_en: str
    due_on: dt.date
    done_on: dt.date | None
    state: str = Field(description="done, overdue or pending on the day")
    overdue: bool


class TaskOut(BaseModel):
    """A plan task as it stood on ``as_of``: its status then, its units and milestones."""

    code: str
    section: str
    number_zh: str
    title_zh: str
    title_en: str
    summary_zh: str | None
    summary_en: str | None
    as_of: dt.date
    status: TaskStatus
    version: int
    lead_units: list[str]
    responsible_units: list[str]
    milestones: list[MilestoneOut]
    overdue: bool = Field(description="a milestone is overdue on the day")


class TaskUpdateIn(BaseModel):
    """Where a task (or one of its milestones) stands, with evidence; ``done`` needs some."""

    status: TaskStatus
    note: str = Field(min_length=1, max_length=4000)
    evidence: list[Evidence] = Field(default_factory=list, max_length=50)
    milestone_id: int | None = Field(default=None, ge=1, le=2**63 - 1)


class UpdateOut(BaseModel):
    """A progress update: on a task (or its milestone), or a follow-up of an assignment."""

    id: int
    task: str | None
    milestone_id: int | None
    assignment_id: int | None
    at: dt.datetime
    author: str
    organisation: str | None
    status: TaskStatus
    note: str
    evidence: list[str]


class MilestoneIn(BaseModel):
    """A dated step of a task, titled in both languages (unique within the task)."""

    title_zh: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=200)
    due_on: dt.date


def _milestone_out(m: Milestone, state: str) -> MilestoneOut:
    return MilestoneOut(id=m.id, title_zh=m.title_zh, title_en=m.title_en, due_on=m.due_on,
                        done_on=m.done_on if state == "done" else None, state=state,
                        overdue=state == "overdue")  # fmt: skip


def _task_out(state) -> TaskOut:
    from mastplan.progress.tasks import task_units

    t: PlanTask = state.task
    units = task_units(t)
    return TaskOut(
        code=t.code, section=t.section, number_zh=t.number_zh, title_zh=t.title_zh,
        title_en=t.title_en, summary_zh=t.summary_zh, summary_en=t.summary_en, as_of=state.on,
        status=state.status, version=t.version,
        lead_units=[u.organisation.code for u in units if u.role is UnitRole.LEAD],
        responsible_units=[u.organisation.code for u in units if u.role is UnitRole.RESPONSIBLE],
        milestones=[_milestone_out(m, s) for m, s in state.milestones],
        overdue=bool(state.overdue),
    )  # fmt: skip


def _update_out(session: Session, u: ProgressUpdate) -> UpdateOut:
    task = session.get(PlanTask, u.task_id) if u.task_id is not None else None
    return UpdateOut(id=u.id, task=task.code if task else None, milestone_id=u.milestone_id,
                     assignment_id=u.assignment_id, at=as_utc(u.at), author=u.author,
                     organisation=u.organisation, status=u.status, note=u.note,
                     evidence=list(u.evidence))  # fmt: skip


@router.get("/tasks", response_model=list[TaskOut], responses=NOT_FOUND)
def list_tasks_endpoint(
    who: Authed,
    session: DB,
    status: Annotated[TaskStatus | None, Query(description="The status on the day.")] = None,
    unit: Annotated[
        str | None, Query(min_length=1, max_length=64, description="A lead or responsible unit.")
    ] = None,
    date: DateQuery = None,
) -> list[TaskOut]:
    """The plan's tasks in its order as they stood on a day: status then, units, milestones
    (done, overdue or pending then). An unknown unit is 404."""
    from mastplan.progress.tasks import list_tasks

    return [_task_out(s) for s in list_tasks(session, status=status, unit=unit, on=parse_day(date))]


@router.get("/tasks/{code}", response_model=TaskOut, responses=NOT_FOUND)
def get_task_endpoint(
    code: CodePath, who: Authed, session: DB, response: Response, date: DateQuery = None
) -> TaskOut:
    """One task as it stood on a day, with its ``ETag`` (the task's current version)."""
    from mastplan.progress.tasks import get_task, task_state_on

    task = get_task(session, code)
    etags.set_etag(response, "task", task.code, task.version)
    return _task_out(task_state_on(session, task, parse_day(date)))


@router.get("/tasks/{code}/updates", response_model=list[UpdateOut], responses=NOT_FOUND)
def list_task_updates_endpoint(
    code: CodePath, who: Authed, session: DB, date: DateQuery = None
) -> list[UpdateOut]:
    """A task's progress updates (on it and on its milestones) up to the end of a day, oldest
    first: who said where it stood, when, with what evidence."""
    from mastplan.progress.tasks import task_updates

    return [_update_out(session, u) for u in task_updates(session, code, parse_day(date))]


@router.post(
    "/tasks/{code}/updates",
    response_model=UpdateOut,
    status_code=201,
    responses=VERSIONED_WRITE,
)
def post_task_update_endpoint(
    code: CodePath,
    body: TaskUpdateIn,
    who: Authed,
    session: DB,
    response: Response,
    if_match: IfMatch = None,
) -> UpdateOut:
    """Post where a task (or one of its milestones) stands, with evidence, as one of its units,
    the joint-meeting office or the regulator. With ``If-Match`` (the task's ``ETag``) only if
    the task has not changed since; the answer's ``ETag`` is the task's new one."""
    from mastplan.progress.tasks import get_task, post_task_update

    update = post_task_update(session, who.name, code, status=body.status, note=body.note,
                              evidence=body.evidence, milestone_id=body.milestone_id,
                              if_version=etags.if_match(if_match, "task", code))  # fmt: skip
    task = get_task(session, code)
    etags.set_etag(response, "task", task.code, task.version)
    response.headers["Location"] = location("tasks", task.code)
    return _update_out(session, update)


@router.post("/tasks/{code}/milestones", response_model=MilestoneOut, status_code=201,
             responses=WRITE_ERRORS)  # fmt: skip
def add_milestone_endpoint(
    code: CodePath, body: MilestoneIn, who: Authed, session: DB
) -> MilestoneOut:
    """Add a dated milestone to a task, as one of its units, the office or the regulator."""
    from mastplan.progress.tasks import add_milestone, milestone_state

    m = add_milestone(session, who.name, code, title_zh=body.title_zh, title_en=body.title_en,
                      due_on=body.due_on)  # fmt: skip
    return _milestone_out(m, milestone_state(m, today()))


# --- the joint meeting --------------------------------------------------------------------------


class MeetingIn(BaseModel):
    """A meeting: its day, title, convening organisation and attending organisations."""

    held_on: dt.date
    title: str = Field(min_length=1, max_length=200)
    convener: OrgCode
    attendees: list[OrgCode] = Field(default_factory=list, max_length=100)
    minutes: str | None = Field(default=None, max_length=20_000)


class MeetingSummary(BaseModel):
    """A meeting in a list."""

    id: int
    held_on: dt.date
    title: str
    convener: str
    attendees: list[str]
    issue_count: int


class AssignmentOut(BaseModel):
    """A unit's action on a decision, due by a day; ``overdue`` today."""

    id: int
    decision_id: int
    issue_id: int
    organisation: str
    action: str
    due_on: dt.date
    status: TaskStatus
    closed_on: dt.date | None
    overdue: bool


class DecisionOut(BaseModel):
    """What the meeting decided on an issue, and the actions it assigned."""

    id: int
    issue_id: int
    text: str
    decided_on: dt.date
    assignments: list[AssignmentOut]


class Link(BaseModel):
    """What an issue is about: a kind and the object's key."""

    kind: str
    key: str


class IssueOut(BaseModel):
    """An issue raised at a meeting, what it links to and what was decided."""

    id: int
    meeting_id: int
    kind: IssueKind
    title: str
    description: str | None
    raised_by: str | None
    status: str
    resolved_on: dt.date | None
    links: list[Link]
    decisions: list[DecisionOut]


class MeetingOut(BaseModel):
    """A meeting with its minutes and its issues, their links, decisions and assignments."""

    id: int
    version: int
    held_on: dt.date
    title: str
    convener: str
    attendees: list[str]
    minutes: str | None
    issues: list[IssueOut]


class IssueIn(BaseModel):
    """An issue raised at a meeting; ``links`` are ``kind:key`` (``structure:T1``,
    ``key_area:2019-ckg-airport``, ``task:key-1-2``, ``sharing_case:3`` …) and must resolve."""

    kind: IssueKind
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    raised_by: OrgCode | None = None
    links: list[Annotated[str, Field(min_length=3, max_length=200)]] = Field(
        default_factory=list, max_length=50
    )


class AssignmentIn(BaseModel):
    """An action for a unit, due by a day (not before the decision)."""

    organisation: OrgCode
    due_on: dt.date
    action: str = Field(min_length=1, max_length=4000)


class DecisionIn(BaseModel):
    """A decision on an open issue (dated the meeting's day by default) and its assignments."""

    text: str = Field(min_length=1, max_length=4000)
    decided_on: dt.date | None = None
    assignments: list[AssignmentIn] = Field(default_factory=list, max_length=50)


class FollowUpIn(BaseModel):
    """Where an assignment stands, with evidence; ``done`` closes it (office or regulator)."""

    status: TaskStatus
    note: str = Field(min_length=1, max_length=4000)
    evidence: list[Evidence] = Field(default_factory=list, max_length=50)


class FollowUpsOut(BaseModel):
    """An assignment and its follow-ups, oldest first."""

    assignment: AssignmentOut
    follow_ups: list[UpdateOut]


def _assignment_out(a: Assignment, on: dt.date) -> AssignmentOut:
    late = a.due_on < on and (a.closed_on is None or a.closed_on > on)
    return AssignmentOut(id=a.id, decision_id=a.decision_id, issue_id=a.decision.issue_id,
                         organisation=a.organisation.code, action=a.action, due_on=a.due_on,
                         status=a.status, closed_on=a.closed_on, overdue=late)  # fmt: skip


def _decision_out(d: Decision, on: dt.date) -> DecisionOut:
    return DecisionOut(id=d.id, issue_id=d.issue_id, text=d.text, decided_on=d.decided_on,
                       assignments=[_assignment_out(a, on) for a in d.assignments])  # fmt: skip


def _issue_out(i: MeetingIssue, on: dt.date) -> IssueOut:
    return IssueOut(
        id=i.id, meeting_id=i.meeting_id, kind=i.kind, title=i.title, description=i.description,
        raised_by=i.raised_by.code if i.raised_by else None, status=i.status.value,
        resolved_on=i.resolved_on,
        links=[Link(kind=link.kind.value, key=link.key)
               for link in sorted(i.links, key=lambda x: (x.kind.value, x.key))],
        decisions=[_decision_out(d, on) for d in i.decisions],
    )  # fmt: skip


def _summary(m: Meeting) -> MeetingSummary:
    return MeetingSummary(id=m.id, held_on=m.held_on, title=m.title, convener=m.convener.code,
                          attendees=list(m.attendees), issue_count=len(m.issues))  # fmt: skip


def _meeting_out(m: Meeting) -> MeetingOut:
    on = today()
    return MeetingOut(id=m.id, version=m.version, held_on=m.held_on, title=m.title,
                      convener=m.convener.code,
                      attendees=list(m.attendees), minutes=m.minutes,
                      issues=[_issue_out(i, on) for i in m.issues])  # fmt: skip


@router.get("/meetings", response_model=list[MeetingSummary])
def list_meetings_endpoint(who: Authed, session: DB) -> list[MeetingSummary]:
    """Every meeting, by day."""
    from mastplan.progress.meetings import list_meetings

    return [_summary(m) for m in list_meetings(session)]


@router.get("/meetings/{meeting_id}", response_model=MeetingOut, responses=NOT_FOUND)
def get_meeting_endpoint(
    meeting_id: IdPath, who: Authed, session: DB, response: Response
) -> MeetingOut:
    """One meeting with its issues: their links, decisions and assignments; its ``ETag``."""
    from mastplan.progress.meetings import get_meeting

    m = get_meeting(session, meeting_id)
    etags.set_etag(response, "meeting", m.id, m.version)
    return _meeting_out(m)


@router.post("/meetings", response_model=MeetingOut, status_code=201, responses=WRITE_ERRORS)
def new_meeting_endpoint(body: MeetingIn, who: Authed, session: DB, response: Response):
    """Record a meeting (the joint-meeting office or the regulator)."""
    from mastplan.progress.meetings import new_meeting

    m = new_meeting(session, who.name, held_on=body.held_on, title=body.title,
                    convener=body.convener, attendees=body.attendees,
                    minutes=body.minutes)  # fmt: skip
    response.headers["Location"] = location("meetings", m.id)
    etags.set_etag(response, "meeting", m.id, m.version)
    return _meeting_out(m)


@router.post("/meetings/{meeting_id}/issues", response_model=IssueOut, status_code=201,
             responses=WRITE_ERRORS)  # fmt: skip
def raise_issue_endpoint(meeting_id: IdPath, body: IssueIn, who: Authed, session: DB) -> IssueOut:
    """Raise an issue at a meeting, linked to what it is about (office or regulator); a link
    that does not resolve is 404 and nothing is written."""
    from mastplan.progress.meetings import raise_issue

    issue = raise_issue(session, who.name, meeting_id, kind=body.kind, title=body.title,
                        description=body.description, raised_by=body.raised_by,
                        links=body.links)  # fmt: skip
    return _issue_out(issue, today())


@router.post("/issues/{issue_id}/decisions", response_model=DecisionOut, status_code=201,
             responses=WRITE_ERRORS)  # fmt: skip
def decide_endpoint(issue_id: IdPath, body: DecisionIn, who: Authed, session: DB) -> DecisionOut:
    """Record a decision on an open issue with the actions it assigns (office or regulator)."""
    from mastplan.progress.meetings import AssignmentSpec, decide

    specs = [AssignmentSpec(a.organisation, a.due_on, a.action) for a in body.assignments]
    d = decide(session, who.name, issue_id, body.text, decided_on=body.decided_on,
               assignments=specs)  # fmt: skip
    return _decision_out(d, today())


@router.post("/assignments/{assignment_id}/follow-ups", response_model=UpdateOut,
             status_code=201, responses=WRITE_ERRORS)  # fmt: skip
def post_follow_up_endpoint(
    assignment_id: IdPath, body: FollowUpIn, who: Authed, session: DB
) -> UpdateOut:
    """Report where an assignment stands (the assigned unit, the office or the regulator);
    ``done`` closes it (the office or the regulator only) and may resolve its issue."""
    from mastplan.progress.meetings import post_follow_up

    update = post_follow_up(session, who.name, assignment_id, status=body.status,
                            note=body.note, evidence=body.evidence)  # fmt: skip
    return _update_out(session, update)


@router.get("/follow-ups", response_model=list[FollowUpsOut])
def list_follow_ups_endpoint(
    who: Authed,
    session: DB,
    overdue: Annotated[bool, Query(description="Only assignments overdue on the day.")] = False,
    date: DateQuery = None,
) -> list[FollowUpsOut]:
    """The meeting's assignments with their follow-ups, by due day; ``overdue`` keeps those
    due before the day and not closed by it."""
    from mastplan.progress.meetings import (
        follow_ups,
        issue_assignments,
        list_issues,
        overdue_assignments,
    )

    on = parse_day(date)
    if overdue:
        rows = overdue_assignments(session, on)
    else:
        rows = [a for i in list_issues(session, on=on) for a in issue_assignments(i)]
        rows.sort(key=lambda a: (a.due_on, a.id))
    return [FollowUpsOut(assignment=_assignment_out(a, on),
                         follow_ups=[_update_out(session, u) for u in follow_ups(session, a.id)])
            for a in rows]  # fmt: skip


# --- scenarios and enterprises --------------------------------------------------------------------


class ScenarioOut(BaseModel):
    """An application scenario (示范应用场景) and its enterprises (organisation codes)."""

    code: str
    version: int
    name_zh: str
    name_en: str
    category: ScenarioCategory
    district: str | None
    lon_deg: float | None
    lat_deg: float | None
    status: ScenarioStatus
    year: int
    in_operation_on: dt.date | None
    ended_on: dt.date | None
    demo: bool
    source: str | None
    notes: str | None
    enterprises: list[str]


class Revenue(BaseModel):
    """An enterprise's main-business revenue of a year, in yuan."""

    year: int
    revenue_yuan: float


class EnterpriseOut(BaseModel):
    """A 5G enterprise: its organisation, segment, "3+X" zone and revenue by year."""

    code: str
    version: int
    name_zh: str
    name_en: str
    segment: IndustrySegment
    zone: IndustryZone
    district: str | None
    innovative: bool
    registered_on: dt.date | None
    demo: bool
    revenues: list[Revenue]


def _scenario_out(s: ApplicationScenario) -> ScenarioOut:
    return ScenarioOut(
        code=s.code, version=s.version, name_zh=s.name_zh, name_en=s.name_en, category=s.category,
        district=s.district_code, lon_deg=s.lon_deg, lat_deg=s.lat_deg, status=s.status,
        year=s.year, in_operation_on=s.in_operation_on, ended_on=s.ended_on, demo=s.demo,
        source=s.source, notes=s.notes,
        enterprises=sorted(e.organisation.code for e in s.enterprises),
    )  # fmt: skip


def _enterprise_out(e: Enterprise) -> EnterpriseOut:
    org = e.organisation
    return EnterpriseOut(
        code=org.code, version=e.version, name_zh=org.name_zh, name_en=org.name_en,
        segment=e.segment, zone=e.zone,
        district=e.district_code, innovative=e.innovative, registered_on=e.registered_on,
        demo=e.demo,
        revenues=[Revenue(year=r.year, revenue_yuan=r.revenue_yuan)
                  for r in sorted(e.revenues, key=lambda r: r.year)],
    )  # fmt: skip


@router.get("/scenarios", response_model=list[ScenarioOut])
def list_scenarios_endpoint(
    who: Authed,
    session: DB,
    category: ScenarioCategory | None = None,
    district: Annotated[str | None, Query(min_length=1, max_length=12)] = None,
    status: ScenarioStatus | None = None,
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
) -> list[ScenarioOut]:
    """The application scenarios matching every filter given, by code."""
    from mastplan.progress.scenarios import list_scenarios

    rows = list_scenarios(session, category=category, district=district, status=status,
                          year=year)  # fmt: skip
    return [_scenario_out(s) for s in rows]


@router.get("/enterprises", response_model=list[EnterpriseOut])
def list_enterprises_endpoint(
    who: Authed,
    session: DB,
    segment: IndustrySegment | None = None,
    zone: IndustryZone | None = None,
) -> list[EnterpriseOut]:
    """The 5G enterprises matching every filter given, by code, with revenue by year."""
    from mastplan.progress.enterprises import list_enterprises

    return [_enterprise_out(e) for e in list_enterprises(session, segment=segment, zone=zone)]


#: A scenario's or an enterprise's code.
KeyPath = Annotated[str, Path(min_length=1, max_length=64)]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]


class ScenarioPatch(BaseModel):
    """Fields of a scenario to change (those left out stay); the merged record must pass the
    import's rules (a problem is 422 naming the field). ``enterprises`` replaces its links."""

    name_zh: Text200 | None = None
    name_en: Text200 | None = None
    category: ScenarioCategory | None = None
    status: ScenarioStatus | None = None
    year: int | None = None
    district_code: str | None = Field(default=None, max_length=64)
    lon_deg: float | None = None
    lat_deg: float | None = None
    in_operation_on: dt.date | None = None
    ended_on: dt.date | None = None
    demo: bool | None = None
    source: str | None = Field(default=None, max_length=1000)
    notes: str | None = Field(default=None, max_length=4000)
    enterprises: list[OrgCode] | None = Field(default=None, max_length=200)


class ScenarioIn(ScenarioPatch):
    """A new scenario (the import's fields; ``enterprises``: organisation codes)."""

    code: Annotated[str, Field(min_length=1, max_length=64)]
    name_zh: Text200
    name_en: Text200
    category: ScenarioCategory
    status: ScenarioStatus
    year: int


class EnterprisePatch(BaseModel):
    """Fields of an enterprise to change (those left out stay); the merged record must pass the
    import's rules (422 naming the field). ``revenues`` (year → yuan) sets those years."""

    name_zh: Text200 | None = None
    name_en: Text200 | None = None
    short_zh: str | None = Field(default=None, max_length=64)
    short_en: str | None = Field(default=None, max_length=64)
    segment: IndustrySegment | None = None
    zone: IndustryZone | None = None
    district_code: str | None = Field(default=None, max_length=64)
    innovative: bool | None = None
    registered_on: dt.date | None = None
    demo: bool | None = None
    source: str | None = Field(default=None, max_length=1000)
    revenues: dict[int, float] | None = Field(default=None, max_length=50)


class EnterpriseIn(EnterprisePatch):
    """A new enterprise and its organisation (of kind enterprise)."""

    code: OrgCode
    name_zh: Text200
    name_en: Text200
    segment: IndustrySegment
    zone: IndustryZone


def _fields(body: BaseModel) -> dict:
    """The fields a body sets, as an imported file would give them (text, numbers, dates)."""
    return body.model_dump(mode="json", exclude_unset=True)


@router.get("/scenarios/{code}", response_model=ScenarioOut, responses=NOT_FOUND)
def get_scenario_endpoint(code: KeyPath, who: Authed, session: DB, response: Response):
    """One application scenario and its enterprises, with its ``ETag``."""
    from mastplan.progress.scenarios import get_scenario

    s = get_scenario(session, code)
    etags.set_etag(response, "scenario", s.code, s.version)
    return _scenario_out(s)


@router.post("/scenarios", response_model=ScenarioOut, status_code=201,
             responses=WRITE_ERRORS)  # fmt: skip
def create_scenario_endpoint(body: ScenarioIn, who: Authed, session: DB, response: Response):
    """Create a scenario (the regulator's and the district governments' users)."""
    from mastplan.progress.scenarios import create_scenario_as, get_scenario

    s = create_scenario_as(session, who.name, _fields(body), source="request body")
    s = get_scenario(session, s.code)
    response.headers["Location"] = location("scenarios", s.code)
    etags.set_etag(response, "scenario", s.code, s.version)
    return _scenario_out(s)


@router.patch("/scenarios/{code}", response_model=ScenarioOut, responses=VERSIONED_WRITE)
def patch_scenario_endpoint(
    code: KeyPath,
    body: ScenarioPatch,
    who: Authed,
    session: DB,
    response: Response,
    if_match: IfMatch = None,
) -> ScenarioOut:
    """Change a scenario's fields (the regulator's and the district governments' users); with
    ``If-Match`` (its ``ETag``) only if it has not changed since."""
    from mastplan.progress.scenarios import edit_scenario

    s = edit_scenario(session, who.name, code, _fields(body), source="request body",
                      if_version=etags.if_match(if_match, "scenario", code))  # fmt: skip
    etags.set_etag(response, "scenario", s.code, s.version)
    return _scenario_out(s)


@router.get("/enterprises/{code}", response_model=EnterpriseOut, responses=NOT_FOUND)
def get_enterprise_endpoint(code: KeyPath, who: Authed, session: DB, response: Response):
    """One 5G enterprise with its revenue by year, with its ``ETag``."""
    from mastplan.progress.enterprises import get_enterprise

    e = get_enterprise(session, code)
    etags.set_etag(response, "enterprise", code, e.version)
    return _enterprise_out(e)


@router.post("/enterprises", response_model=EnterpriseOut, status_code=201,
             responses=WRITE_ERRORS)  # fmt: skip
def create_enterprise_endpoint(
    body: EnterpriseIn, who: Authed, session: DB, response: Response
) -> EnterpriseOut:
    """Create an enterprise and its organisation (the regulator's and the district
    governments' users)."""
    from mastplan.progress.enterprises import create_enterprise_as, get_enterprise

    create_enterprise_as(session, who.name, _fields(body), source="request body")
    e = get_enterprise(session, body.code)
    response.headers["Location"] = location("enterprises", body.code)
    etags.set_etag(response, "enterprise", body.code, e.version)
    return _enterprise_out(e)


@router.patch("/enterprises/{code}", response_model=EnterpriseOut, responses=VERSIONED_WRITE)
def patch_enterprise_endpoint(
    code: KeyPath,
    body: EnterprisePatch,
    who: Authed,
    session: DB,
    response: Response,
    if_match: IfMatch = None,
) -> EnterpriseOut:
    """Change an enterprise's fields and revenues (the regulator's and the district
    governments' users); with ``If-Match`` (its ``ETag``) only if it has not changed since."""
    from mastplan.progress.enterprises import edit_enterprise, get_enterprise

    edit_enterprise(session, who.name, code, _fields(body), source="request body",
                    if_version=etags.if_match(if_match, "enterprise", code))  # fmt: skip
    e = get_enterprise(session, code)
    etags.set_etag(response, "enterprise", code, e.version)
    return _enterprise_out(e)
