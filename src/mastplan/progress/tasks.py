"""The plan's tasks as services: load them with their units, add milestones, post progress
updates with evidence, and read where a task stood on any date.

A task's units are its lead units (牵头单位) and responsible units (责任单位) in the plan's order;
where the plan says 各区县政府 the 38 district and county governments are responsible too (有关区县
政府 names no district, so none is added). Progress updates are append-only: a task's status is
the status of its latest task-level update (an update on a milestone only moves a task that had
not started to in progress), and its status on a past date is computed the same way from the
updates dated on or before that day (Chongqing time), so a report can show any date. A
milestone is overdue on a date when its due date has passed and it was not done by that date.

Who writes: a registered user (not a viewer) of one of the task's units, of the joint-meeting
office (``cq-5g-joint-office``) or of the regulator (``cq-cac``). Each call is one transaction,
audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from mastplan.data.plan import load_organisations, load_tasks
from mastplan.errors import MastplanError, NotFoundError
from mastplan.progress.enums import TaskStatus, UnitRole
from mastplan.progress.models import Milestone, PlanTask, ProgressUpdate, TaskUnit
from mastplan.registry import crud
from mastplan.registry.audit import Actor
from mastplan.registry.db import transaction
from mastplan.registry.models import Organisation, User
from mastplan.registry.organisations import get_organisation
from mastplan.registry.permissions import deny, refuse_viewer
from mastplan.registry.users import acting
from mastplan.sharing.calendar import CST, as_utc, local_date, today

__all__ = [
    "JOINT_OFFICE",
    "REGULATOR",
    "TaskState",
    "add_milestone",
    "fold_status",
    "get_task",
    "list_tasks",
    "load_plan_tasks",
    "milestone_state",
    "overdue_milestones",
    "overdue_tasks",
    "post_task_update",
    "task_state_on",
    "task_status_on",
    "task_updates",
]

#: The joint-meeting office (联席会议办公室): reviews progress, may write on every task.
JOINT_OFFICE: Final = "cq-5g-joint-office"
#: The regulator (市通信管理局): may write on every task and record meetings.
REGULATOR: Final = "cq-cac"
#: Organisations whose users may write on any task and keep the joint meeting's records.
OVERSEERS: Final = frozenset({JOINT_OFFICE, REGULATOR})

_TITLE_MAX = 200
_EVIDENCE_MAX = 1000


# --- small helpers shared with the meeting services ---------------------------------------------


def parse_status(value: TaskStatus | str) -> TaskStatus:
    """``value`` as a :class:`TaskStatus`; a clear error naming the choices otherwise."""
    try:
        return TaskStatus(value)
    except ValueError:
        raise MastplanError(
            f"unknown status {value!r}; one of {', '.join(s.value for s in TaskStatus)}"
        ) from None


def end_of_day(on: dt.date) -> dt.datetime:
    """The first instant after ``on`` (Chongqing time), in UTC: updates before it count."""
    return dt.datetime.combine(on + dt.timedelta(days=1), dt.time(), CST).astimezone(dt.UTC)


def update_time(at: dt.datetime | None) -> dt.datetime:
    """When an update is dated: ``at`` (aware, not in the future) or now, in UTC."""
    now = dt.datetime.now(dt.UTC)
    if at is None:
        return now
    if at.tzinfo is None:
        raise ValueError("give an aware datetime")
    if at > now + dt.timedelta(minutes=1):
        raise MastplanError(f"an update cannot be dated in the future ({at.isoformat()})")
    return as_utc(at)


def clean_note(note: str) -> str:
    """A note must say something: the history is read by people."""
    if not note or not note.strip():
        raise MastplanError("an update needs a note (--note) saying what was done")
    return note.strip()


def clean_evidence(evidence: Iterable[str], status: TaskStatus) -> list[str]:
    """Evidence references (documents, URLs), stripped, empty ones dropped, duplicates once;
    a claim of ``done`` needs at least one."""
    out: list[str] = []
    for ref in evidence:
        ref = ref.strip()
        if len(ref) > _EVIDENCE_MAX:
            raise MastplanError(f"an evidence reference is longer than {_EVIDENCE_MAX} characters")
        if ref and ref not in out:
            out.append(ref)
    if status is TaskStatus.DONE and not out:
        raise MastplanError("a done update needs evidence (--evidence: a document or URL)")
    return out


def is_overseer(user: User) -> bool:
    """Whether the user belongs to the joint-meeting office or the regulator."""
    return user.organisation.code in OVERSEERS


def require_overseer(user: User, what: str) -> None:
    """Only the joint-meeting office and the regulator keep the joint meeting's records."""
    refuse_viewer(user, what)
    if not is_overseer(user):
        raise deny(user, what, f"users of the joint-meeting office ({JOINT_OFFICE}) or the "
                               f"regulator ({REGULATOR})")  # fmt: skip


def overdue_on(due_on: ColumnElement, done_on: ColumnElement, on: dt.date) -> ColumnElement:
    """SQL: due before ``on`` and not done by ``on`` (never, or later)."""
    return (due_on < on) & (done_on.is_(None) | (done_on > on))


# --- loading the plan's tasks -------------------------------------------------------------------


def _plan_order() -> dict[str, int]:
    return {spec.id: i for i, spec in enumerate(load_tasks())}


def _district_government_codes() -> list[str]:
    """The 38 district and county governments, in the order of ``organisations.yaml``."""
    return [spec.code for spec in load_organisations() if spec.district_code is not None]


def load_plan_tasks(session: Session, actor: Actor) -> dict[str, Any]:
    """Create or refresh every task of ``plan_tasks.yaml`` and its units, in one transaction.

    Titles and summaries follow the file; units are set to the plan's lead and responsible
    units in its order (plus the district governments for 各区县政府). A task's status,
    milestones and updates are kept. Running it again changes nothing and writes no audit
    entry. Returns counts: tasks, created, updated, units, units_added, units_removed,
    units_moved (a unit whose place in the plan's order changed).
    """
    specs = load_tasks()
    districts = _district_government_codes()
    summary = {"tasks": len(specs), "created": 0, "updated": 0, "units": 0, "units_added": 0,
               "units_removed": 0, "units_moved": 0}  # fmt: skip
    with transaction(session):
        needed = {c for s in specs for c in (*s.lead, *s.responsible)} | set(districts)
        org_ids = dict(
            session.execute(
                select(Organisation.code, Organisation.id).where(Organisation.code.in_(needed))
            ).all()
        )
        missing = sorted(needed - set(org_ids))
        if missing:
            raise MastplanError(
                f"organisation {missing[0]!r} of plan_tasks.yaml is not in the registry "
                f"({len(missing)} missing): load the organisations first "
                "(`mastplan load chongqing`)"
            )
        for spec in specs:
            values = {
                "section": spec.section,
                "number_zh": spec.number_zh,
                "title_zh": spec.title_zh,
                "title_en": spec.title_en,
                "summary_zh": spec.summary_zh,
                "summary_en": spec.summary_en,
            }
            task = session.scalar(
                select(PlanTask)
                .where(PlanTask.code == spec.id)
                .execution_options(populate_existing=True)
            )
            if task is None:
                task = crud.create(session, actor, PlanTask(code=spec.id, **values))
                summary["created"] += 1
            else:
                version = task.version
                crud.update(session, actor, task, values)
                summary["updated"] += task.version != version
            responsible = list(spec.responsible)
            if spec.all_district_governments:
                responsible += [c for c in districts if c not in responsible]
            wanted = {(org_ids[c], UnitRole.LEAD): i for i, c in enumerate(spec.lead)}
            wanted |= {(org_ids[c], UnitRole.RESPONSIBLE): i for i, c in enumerate(responsible)}
            _sync_units(session, actor, task, wanted, summary)
            summary["units"] += len(wanted)
    return summary


def _sync_units(
    session: Session,
    actor: Actor,
    task: PlanTask,
    wanted: dict[tuple[int, UnitRole], int],
    summary: dict[str, Any],
) -> None:
    """Make the task's units exactly ``wanted`` ((organisation id, role) → position)."""
    session.expire(task, ["units"])  # read them as stored, not as this session last saw them
    current = {(u.organisation_id, u.role): u for u in task.units}
    for key, unit in current.items():
        if key not in wanted:
            crud.delete(session, actor, unit)
            summary["units_removed"] += 1
        elif unit.position != wanted[key]:
            crud.update(session, actor, unit, {"position": wanted[key]})
            summary["units_moved"] += 1
    for (org_id, role), position in wanted.items():
        if (org_id, role) not in current:
            crud.create(
                session,
                actor,
                TaskUnit(task=task, organisation_id=org_id, role=role, position=position),
            )
            summary["units_added"] += 1
    session.expire(task, ["units"])


# --- reading ------------------------------------------------------------------------------------


def get_task(session: Session, code: str, *, lock: bool = False) -> PlanTask:
    """The task ``code`` (e.g. ``key-1-2``); :class:`NotFoundError` if there is none. With
    ``lock`` its row is locked and read afresh, so writers on one task take turns."""
    query = select(PlanTask).where(PlanTask.code == code)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    task = session.scalar(query)
    if task is None:
        raise NotFoundError(f"no plan task {code!r} (codes like key-1-2 or safeguard-3)")
    return task


def _task(session: Session, task: PlanTask | str) -> PlanTask:
    return get_task(session, task) if isinstance(task, str) else task


def task_units(task: PlanTask, role: UnitRole | None = None) -> list[TaskUnit]:
    """The task's units in the plan's order: lead units first, then responsible ones."""
    units = [u for u in task.units if role is None or u.role is role]
    return sorted(units, key=lambda u: (u.role is not UnitRole.LEAD, u.position))


def task_updates(
    session: Session, task: PlanTask | str, on: dt.date | None = None
) -> list[ProgressUpdate]:
    """The task's updates, oldest first; only those dated on or before ``on`` when given."""
    task = _task(session, task)
    query = select(ProgressUpdate).where(ProgressUpdate.task_id == task.id)
    if on is not None:
        query = query.where(ProgressUpdate.at < end_of_day(on))
    return list(session.scalars(query.order_by(ProgressUpdate.at, ProgressUpdate.id)))


def fold_status(updates: Iterable[ProgressUpdate]) -> TaskStatus:
    """A task's status after ``updates`` (oldest first): a task-level update sets it; an update
    on a milestone says where that milestone stands and only moves a task that had not started
    to in progress (work has begun)."""
    status = TaskStatus.NOT_STARTED
    for u in updates:
        if u.milestone_id is None:
            status = TaskStatus(u.status)
        elif status is TaskStatus.NOT_STARTED and u.status is not TaskStatus.NOT_STARTED:
            status = TaskStatus.IN_PROGRESS
    return status


def task_status_on(session: Session, task: PlanTask | str, on: dt.date) -> TaskStatus:
    """Where the task stood on ``on`` (Chongqing time), from its updates dated by then."""
    return fold_status(task_updates(session, task, on))


def milestone_state(milestone: Milestone, on: dt.date) -> str:
    """``done`` (by ``on``), ``overdue`` (due before ``on`` and not done by it) or ``pending``."""
    if milestone.done_on is not None and milestone.done_on <= on:
        return "done"
    return "overdue" if milestone.due_on < on else "pending"


@dataclass(frozen=True)
class TaskState:
    """A task as it stood on a date: its status then and each milestone's state then."""

    task: PlanTask
    on: dt.date
    status: TaskStatus
    milestones: tuple[tuple[Milestone, str], ...]

    @property
    def overdue(self) -> tuple[Milestone, ...]:
        """The milestones overdue on the date."""
        return tuple(m for m, state in self.milestones if state == "overdue")

    @property
    def done(self) -> int:
        """How many milestones were done by the date."""
        return sum(state == "done" for _, state in self.milestones)


def task_state_on(session: Session, task: PlanTask | str, on: dt.date) -> TaskState:
    """The task's status and milestones as they stood on ``on``, from the updates' history."""
    task = _task(session, task)
    milestones = tuple((m, milestone_state(m, on)) for m in task.milestones)
    return TaskState(task, on, task_status_on(session, task, on), milestones)


def list_tasks(
    session: Session,
    *,
    status: TaskStatus | str | None = None,
    unit: str | None = None,
    section: str | None = None,
    overdue: bool = False,
    on: dt.date | None = None,
) -> list[TaskState]:
    """The tasks in the plan's order, as they stood on ``on`` (today by default).

    Filters: ``status`` (on that date), ``unit`` (an organisation code: lead or responsible),
    ``section`` (``key_tasks`` or ``safeguards``), ``overdue`` (a milestone overdue then).
    """
    on = on or today()
    wanted = parse_status(status) if status is not None else None
    query = select(PlanTask)
    if unit is not None:
        org = get_organisation(session, unit)
        query = query.where(
            PlanTask.id.in_(select(TaskUnit.task_id).where(TaskUnit.organisation_id == org.id))
        )
    if section is not None:
        if section not in ("key_tasks", "safeguards"):
            raise MastplanError(f"unknown section {section!r}; one of key_tasks, safeguards")
        query = query.where(PlanTask.section == section)
    order = _plan_order()
    tasks = sorted(session.scalars(query), key=lambda t: (order.get(t.code, len(order)), t.id))
    states = [task_state_on(session, t, on) for t in tasks]
    return [
        s for s in states if (wanted is None or s.status is wanted) and (not overdue or s.overdue)
    ]


def overdue_milestones(session: Session, on: dt.date) -> list[Milestone]:
    """Milestones overdue on ``on``: due before it and not done by it (never, or later);
    by due date. Each carries its task (``milestone.task``)."""
    query = select(Milestone).where(overdue_on(Milestone.due_on, Milestone.done_on, on))
    return list(session.scalars(query.order_by(Milestone.due_on, Milestone.id)))


def overdue_tasks(session: Session, on: dt.date) -> list[PlanTask]:
    """The tasks with a milestone overdue on ``on``, in the plan's order."""
    order = _plan_order()
    tasks = {m.task.id: m.task for m in overdue_milestones(session, on)}
    return sorted(tasks.values(), key=lambda t: (order.get(t.code, len(order)), t.id))


# --- writing ------------------------------------------------------------------------------------


def _require_task_writer(user: User, task: PlanTask, what: str) -> None:
    """A user of one of the task's units, of the joint-meeting office or of the regulator."""
    refuse_viewer(user, what)
    if is_overseer(user):
        return
    if any(u.organisation_id == user.organisation_id for u in task.units):
        return
    raise deny(user, what, f"the units of task {task.code}, the joint-meeting office "
                           f"({JOINT_OFFICE}) and the regulator ({REGULATOR})")  # fmt: skip


def add_milestone(
    session: Session,
    user_name: str,
    task_code: str,
    *,
    title_zh: str,
    title_en: str,
    due_on: dt.date,
    reason: str | None = None,
) -> Milestone:
    """Add a dated milestone to a task (titles in both languages, unique within the task)."""
    title_zh, title_en = (title_zh or "").strip(), (title_en or "").strip()
    if not title_zh or not title_en:
        raise MastplanError("a milestone needs a title in Chinese and in English")
    if max(len(title_zh), len(title_en)) > _TITLE_MAX:
        raise MastplanError(f"a milestone title is longer than {_TITLE_MAX} characters")
    with transaction(session):
        user, actor = acting(session, user_name, reason)
        task = get_task(session, task_code, lock=True)
        _require_task_writer(user, task, f"add a milestone to task {task.code}")
        for m in task.milestones:
            if m.title_zh == title_zh or m.title_en == title_en:
                raise MastplanError(f"task {task.code} has milestone {m.id} with this title")
        return crud.create(
            session,
            actor,
            Milestone(task=task, title_zh=title_zh, title_en=title_en, due_on=due_on),
        )


def post_task_update(
    session: Session,
    user_name: str,
    task_code: str,
    *,
    status: TaskStatus | str,
    note: str,
    evidence: Sequence[str] = (),
    milestone_id: int | None = None,
    at: dt.datetime | None = None,
    reason: str | None = None,
    if_version: int | None = None,
) -> ProgressUpdate:
    """Record where a task stands, with evidence; optionally on one of its milestones.

    ``at`` dates the update (an aware time, not in the future; now by default). The task's
    status follows its latest task-level update (:func:`fold_status`); an update on a milestone
    with status ``done`` marks the milestone done on the update's date (Chongqing time), and a
    done milestone stays done.

    With ``if_version``, the update is recorded only if the task is still at that version (read
    under the row lock), else :class:`~mastplan.errors.StaleVersionError`.
    """
    status = parse_status(status)
    note = clean_note(note)
    refs = clean_evidence(evidence, status)
    moment = update_time(at)
    with transaction(session):
        user, actor = acting(session, user_name, reason)
        task = get_task(session, task_code, lock=True)
        _require_task_writer(user, task, f"post an update on task {task.code}")
        crud.check_version(task, if_version, f"task {task.code}")
        milestone = None
        if milestone_id is not None:
            milestone = session.get(Milestone, milestone_id)
            if milestone is None or milestone.task_id != task.id:
                raise NotFoundError(f"task {task.code} has no milestone {milestone_id}")
            if milestone.done_on is not None:
                raise MastplanError(
                    f"milestone {milestone.id} of task {task.code} was done on "
                    f"{milestone.done_on}; post on the task instead"
                )
        update = crud.create(
            session,
            actor,
            ProgressUpdate(
                task_id=task.id,
                milestone_id=milestone_id,
                at=moment,
                author=user.name,
                organisation=user.organisation.code,
                status=status,
                note=note,
                evidence=refs,
            ),
        )
        if milestone is not None and status is TaskStatus.DONE:
            crud.update(session, actor, milestone, {"done_on": local_date(moment)})
        # an update dated before later ones is history: the fold leaves the status to them
        crud.update(session, actor, task, {"status": fold_status(task_updates(session, task))})
        return update
