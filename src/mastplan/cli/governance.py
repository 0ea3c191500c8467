"""``mastplan tasks`` and ``mastplan meeting``: the plan's tasks and the joint meeting.

Writing commands act as a registered user (``--as USER`` or ``MASTPLAN_USER``) with an optional
``--reason`` for the audit log; reading commands need no user. Dates are ISO (``2021-03-31``),
times are Chongqing time unless they say otherwise. A refused write exits 1 with one line.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from mastplan.cli.common import (
    DatabaseOpt,
    ReasonOpt,
    UserOpt,
    _at,
    _date,
    _run,
    _session,
    _table,
    console,
)
from mastplan.config import current_user
from mastplan.errors import MastplanError

if TYPE_CHECKING:
    from mastplan.progress.meetings import AssignmentSpec
    from mastplan.progress.models import Assignment, Milestone

tasks_app = typer.Typer(help="The plan's tasks: units, milestones, updates.", no_args_is_help=True)
meeting_app = typer.Typer(
    help="The joint meeting (联席会议): issues, decisions, follow-ups.", no_args_is_help=True
)

TaskArg = Annotated[str, typer.Argument(help="Task code, e.g. key-1-2.", show_default=False)]
DateOpt = Annotated[
    str | None, typer.Option("--date", help="As of this date (YYYY-MM-DD) [default: today].")
]
StatusOpt = Annotated[
    str, typer.Option("--status", help="not_started, in_progress, blocked or done.")
]
NoteOpt = Annotated[str, typer.Option("--note", help="What was done or what is in the way.")]
EvidenceOpt = Annotated[
    list[str] | None,
    typer.Option("--evidence", help="A document reference or URL (repeat); done needs one."),
]
AtOpt = Annotated[
    str | None,
    typer.Option("--at", help="Date the update (ISO date or time, Chongqing) [default: now]."),
]


def _row(table: Table, *cells: str) -> None:
    """Add a row of plain text: titles and evidence may hold brackets Rich would read as markup."""
    table.add_row(*(escape(c) for c in cells))


def _say(text: str) -> None:
    """Print a line of plain text (no markup, no highlighting)."""
    console.print(text, highlight=False, markup=False, soft_wrap=True)


def _cst(at: dt.datetime) -> str:
    from mastplan.sharing.calendar import CST, as_utc

    return as_utc(at).astimezone(CST).strftime("%Y-%m-%d %H:%M")


# --- mastplan tasks -----------------------------------------------------------------------------


@tasks_app.command("list")
def tasks_list_cmd(
    status: Annotated[
        str | None, typer.Option("--status", help="Only tasks with this status on the date.")
    ] = None,
    unit: Annotated[
        str | None, typer.Option("--unit", help="Only tasks this organisation leads or is in.")
    ] = None,
    section: Annotated[
        str | None, typer.Option("--section", help="key_tasks or safeguards.")
    ] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only tasks with a milestone overdue on the date.")
    ] = False,
    date: DateOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """The plan's tasks as they stood on a date: status, lead units, milestones."""
    from mastplan.progress.enums import UnitRole
    from mastplan.progress.tasks import list_tasks, task_units, today

    def body() -> None:
        on = _date(date) or today()
        with _session(database) as session:
            rows = list_tasks(session, status=status, unit=unit, section=section,
                              overdue=overdue, on=on)  # fmt: skip
            table = _table("代码 / Code", "编号 / No.", "任务 / Task", "牵头单位 / Lead",
                           "状态 / Status", "里程碑 / Milestones", "逾期 / Overdue",
                           title=f"{len(rows)} task(s) on {on}")  # fmt: skip
            for s in rows:
                lead = ", ".join(u.organisation.code for u in task_units(s.task, UnitRole.LEAD))
                _row(table, s.task.code, s.task.number_zh,
                              f"{s.task.title_zh}\n{s.task.title_en}", lead or "—",
                              s.status.value, f"{s.done}/{len(s.milestones)} done",
                              str(len(s.overdue)) if s.overdue else "")  # fmt: skip
            console.print(table)
            if overdue:
                _print_overdue_milestones([m for s in rows for m in s.overdue], on)

    _run(body)


def _print_overdue_milestones(milestones: list[Milestone], on: dt.date) -> None:
    """The overdue milestones with their tasks and how many days late they are."""
    table = _table("里程碑 / Milestone", "任务 / Task", "标题 / Title", "到期 / Due",
                   "逾期天数 / Days late",
                   title=f"{len(milestones)} milestone(s) overdue on {on}")  # fmt: skip
    for m in milestones:
        _row(table, str(m.id), m.task.code, f"{m.title_zh}\n{m.title_en}", str(m.due_on),
                      str((on - m.due_on).days))  # fmt: skip
    console.print(table)


@tasks_app.command("show")
def tasks_show_cmd(task: TaskArg, date: DateOpt = None, database: DatabaseOpt = None) -> None:
    """One task: its units, its milestones and its updates, as of a date."""
    from mastplan.progress.enums import UnitRole
    from mastplan.progress.tasks import task_state_on, task_units, task_updates, today

    def body() -> None:
        on = _date(date) or today()
        with _session(database) as session:
            state = task_state_on(session, task, on)
            t = state.task
            info = Table(show_header=False, title=f"task {t.code} on {on}")
            info.add_column(overflow="fold")
            info.add_column(overflow="fold")
            for key, value in (
                ("编号 / No.", t.number_zh),
                ("任务 / Task", f"{t.title_zh}\n{t.title_en}"),
                ("状态 / Status", state.status.value),
                ("牵头单位 / Lead", ", ".join(u.organisation.code
                                          for u in task_units(t, UnitRole.LEAD)) or "—"),
                ("责任单位 / Responsible", ", ".join(u.organisation.code
                                                 for u in task_units(t, UnitRole.RESPONSIBLE))),
            ):  # fmt: skip
                _row(info, key, value)
            console.print(info)
            ms = _table("id", "标题 / Title", "到期 / Due", "完成 / Done", "状态 / State",
                        title=f"{len(state.milestones)} milestone(s)")  # fmt: skip
            for m, st in state.milestones:
                done = str(m.done_on) if m.done_on and m.done_on <= on else ""
                _row(ms, str(m.id), f"{m.title_zh}\n{m.title_en}", str(m.due_on), done, st)
            console.print(ms)
            updates = task_updates(session, t, on)
            ups = _table("时间 / At (CST)", "作者 / Author", "状态 / Status",
                         "里程碑 / Milestone", "说明 / Note", "证据 / Evidence",
                         title=f"{len(updates)} update(s)")  # fmt: skip
            for u in updates:
                _row(ups, _cst(u.at), f"{u.author} ({u.organisation})", u.status.value,
                            str(u.milestone_id or ""), u.note, "\n".join(u.evidence))  # fmt: skip
            console.print(ups)

    _run(body)


@tasks_app.command("update")
def tasks_update_cmd(
    task: TaskArg,
    status: StatusOpt,
    note: NoteOpt,
    evidence: EvidenceOpt = None,
    milestone: Annotated[
        int | None, typer.Option("--milestone", help="The update is on this milestone.")
    ] = None,
    at: AtOpt = None,
    user: UserOpt = None,
    reason: ReasonOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Post a progress update on a task (or one of its milestones), with evidence."""
    from mastplan.progress.tasks import get_task, post_task_update

    def body() -> None:
        moment = _at(at)
        with _session(database) as session:
            u = post_task_update(session, current_user(user), task, status=status, note=note,
                                 evidence=evidence or (), milestone_id=milestone, at=moment,
                                 reason=reason)  # fmt: skip
            t = get_task(session, task)
            on = f" on milestone {milestone}" if milestone is not None else ""
            _say(
                f"task {t.code}: update {u.id} recorded{on} ({u.status.value}); "
                f"task status {t.status.value}"
            )

    _run(body)


@tasks_app.command("milestone")
def tasks_milestone_cmd(
    task: TaskArg,
    title_zh: Annotated[str, typer.Option("--title-zh", help="Title in Chinese.")],
    title_en: Annotated[str, typer.Option("--title-en", help="Title in English.")],
    due: Annotated[str, typer.Option("--due", help="Due date YYYY-MM-DD.")],
    user: UserOpt = None,
    reason: ReasonOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Add a dated milestone to a task."""
    from mastplan.progress.tasks import add_milestone

    def body() -> None:
        due_on = _date(due, "--due")
        with _session(database) as session:
            m = add_milestone(session, current_user(user), task, title_zh=title_zh,
                              title_en=title_en, due_on=due_on, reason=reason)  # fmt: skip
            _say(f"task {task}: milestone {m.id} due {m.due_on}")

    _run(body)


# --- mastplan meeting ---------------------------------------------------------------------------

IdArg = Annotated[int, typer.Argument(show_default=False)]


def _assign_spec(text: str) -> AssignmentSpec:
    """``ORG=YYYY-MM-DD:action`` as an assignment spec."""
    from mastplan.progress.meetings import AssignmentSpec

    org, sep, rest = text.partition("=")
    due, sep2, action = rest.partition(":")
    if not (sep and sep2 and org.strip() and action.strip()):
        raise MastplanError(f"--assign must be ORG=YYYY-MM-DD:action, got {text!r}")
    due_on = _date(due.strip(), "--assign's date")
    return AssignmentSpec(org.strip(), due_on, action.strip())


@meeting_app.command("new")
def meeting_new_cmd(
    date: Annotated[str, typer.Option("--date", help="When it was held, YYYY-MM-DD.")],
    title: Annotated[str, typer.Option("--title", help="The meeting's title.")],
    convener: Annotated[str, typer.Option("--convener", help="Convening organisation code.")],
    attendee: Annotated[
        list[str] | None, typer.Option("--attendee", help="Attending organisation (repeat).")
    ] = None,
    minutes: Annotated[str | None, typer.Option("--minutes", help="Minutes, or a link.")] = None,
    user: UserOpt = None,
    reason: ReasonOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Record a meeting of the joint meeting (or of its office)."""
    from mastplan.progress.meetings import new_meeting

    def body() -> None:
        held_on = _date(date)
        with _session(database) as session:
            m = new_meeting(session, current_user(user), held_on=held_on, title=title,
                            convener=convener, attendees=attendee or (), minutes=minutes,
                            reason=reason)  # fmt: skip
            _say(f"meeting {m.id} recorded: {m.held_on} {m.title} "
                          f"({len(m.attendees)} attending units)")  # fmt: skip

    _run(body)


@meeting_app.command("issue")
def meeting_issue_cmd(
    meeting: Annotated[int, typer.Argument(help="Meeting id.", show_default=False)],
    kind: Annotated[
        str,
        typer.Option("--kind", help="blocked_site, unreasonable_fee, power_supply, permit, other."),
    ],
    title: Annotated[str, typer.Option("--title", help="The issue in a line.")],
    description: Annotated[str | None, typer.Option("--description", help="Details.")] = None,
    raised_by: Annotated[
        str | None, typer.Option("--raised-by", help="Organisation that raised it.")
    ] = None,
    link: Annotated[
        list[str] | None,
        typer.Option(
            "--link",
            help="What it is about, kind:key (repeat): site:EXT, structure:EXT, key_area:CODE, "
            "sharing_case:ID, sharing_request:ID, task:CODE.",
        ),
    ] = None,
    user: UserOpt = None,
    reason: ReasonOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Raise an issue at a meeting, linked to the registry objects it is about."""
    from mastplan.progress.meetings import raise_issue

    def body() -> None:
        with _session(database) as session:
            issue = raise_issue(session, current_user(user), meeting, kind=kind, title=title,
                                description=description, raised_by=raised_by,
                                links=link or (), reason=reason)  # fmt: skip
            _say(f"issue {issue.id} raised at meeting {meeting} "
                          f"({len(issue.links)} link(s))")  # fmt: skip

    _run(body)


def _print_assignment(a: Assignment) -> None:
    _say(f"assignment {a.id} → {a.organisation.code}, due {a.due_on}: {a.action}")


@meeting_app.command("decide")
def meeting_decide_cmd(
    issue: Annotated[int, typer.Argument(help="Issue id.", show_default=False)],
    text: Annotated[str, typer.Option("--text", help="The decision, as it will be on record.")],
    date: Annotated[
        str | None, typer.Option("--date", help="Decided on [default: the meeting's date].")
    ] = None,
    assign: Annotated[
        list[str] | None,
        typer.Option("--assign", help="An action for a unit, ORG=YYYY-MM-DD:action (repeat)."),
    ] = None,
    user: UserOpt = None,
    reason: ReasonOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Record a decision on an issue and the actions it assigns to units."""
    from mastplan.progress.meetings import decide

    def body() -> None:
        specs = [_assign_spec(a) for a in assign or ()]
        with _session(database) as session:
            d = decide(session, current_user(user), issue, text, decided_on=_date(date),
                       assignments=specs, reason=reason)  # fmt: skip
            _say(f"decision {d.id} on issue {issue} ({d.decided_on})")
            for a in d.assignments:
                _print_assignment(a)

    _run(body)


@meeting_app.command("assign")
def meeting_assign_cmd(
    decision: Annotated[int, typer.Argument(help="Decision id.", show_default=False)],
    unit: Annotated[str, typer.Option("--unit", help="Organisation code of the unit.")],
    due: Annotated[str, typer.Option("--due", help="Due date YYYY-MM-DD.")],
    action: Annotated[str, typer.Option("--action", help="What the unit is to do.")],
    user: UserOpt = None,
    reason: ReasonOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Assign one more action of a decision to a unit."""
    from mastplan.progress.meetings import AssignmentSpec, assign

    def body() -> None:
        due_on = _date(due, "--due")
        with _session(database) as session:
            a = assign(session, current_user(user), decision,
                       AssignmentSpec(unit, due_on, action), reason=reason)  # fmt: skip
            _print_assignment(a)

    _run(body)


def _follow_up(
    assignment_id: int,
    status: str,
    note: str,
    evidence: list[str] | None,
    at: str | None,
    user: str | None,
    reason: str | None,
    database: str | None,
) -> None:
    """Post a follow-up (done closes the assignment) and say what it did."""
    from mastplan.progress.meetings import get_assignment, post_follow_up

    moment = _at(at)
    with _session(database) as session:
        u = post_follow_up(session, current_user(user), assignment_id, status=status, note=note,
                           evidence=evidence or (), at=moment, reason=reason)  # fmt: skip
        a = get_assignment(session, assignment_id)
        line = f"assignment {a.id}: follow-up {u.id} recorded ({u.status.value})"
        if a.closed_on is not None:
            line += f"; closed on {a.closed_on}"
            issue = a.decision.issue
            if issue.resolved_on is not None:
                line += f"; issue {issue.id} resolved on {issue.resolved_on}"
        _say(line)


@meeting_app.command("follow-up")
def meeting_follow_up_cmd(
    assignment: Annotated[int, typer.Argument(help="Assignment id.", show_default=False)],
    status: StatusOpt,
    note: NoteOpt,
    evidence: EvidenceOpt = None,
    at: AtOpt = None,
    user: UserOpt = None,
    reason: ReasonOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Report where an assigned action stands; done (office or regulator only) closes it."""
    _run(lambda: _follow_up(assignment, status, note, evidence, at, user, reason, database))


@meeting_app.command("close")
def meeting_close_cmd(
    assignment: Annotated[int, typer.Argument(help="Assignment id.", show_default=False)],
    note: NoteOpt,
    evidence: EvidenceOpt = None,
    at: AtOpt = None,
    user: UserOpt = None,
    reason: ReasonOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Office or regulator: close an assignment as done, with evidence (may resolve its issue)."""
    _run(lambda: _follow_up(assignment, "done", note, evidence, at, user, reason, database))


@meeting_app.command("list")
def meeting_list_cmd(
    open_: Annotated[bool, typer.Option("--open", help="Only issues open on the date.")] = False,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only issues with an action overdue on the date.")
    ] = False,
    date: DateOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """The meetings' issues with their actions; with --overdue, the overdue actions too."""
    from mastplan.progress.meetings import issue_assignments, list_issues, overdue_assignments
    from mastplan.progress.tasks import today

    def body() -> None:
        on = _date(date) or today()
        with _session(database) as session:
            rows = list_issues(session, open_only=open_, overdue=overdue, on=on)
            late = overdue_assignments(session, on)
            late_ids = {a.id for a in late}
            table = _table("议题 / Issue", "会议 / Meeting", "类别 / Kind", "标题 / Title",
                           "状态 / Status", "落实 / Actions", "逾期 / Overdue",
                           title=f"{len(rows)} issue(s) on {on}")  # fmt: skip
            for i in rows:
                acts = issue_assignments(i)
                done = sum(a.closed_on is not None and a.closed_on <= on for a in acts)
                resolved = i.resolved_on is not None and i.resolved_on <= on
                status = f"resolved {i.resolved_on}" if resolved else "open"
                n_late = sum(a.id in late_ids for a in acts)
                _row(table, str(i.id), f"{i.meeting_id} ({i.meeting.held_on})", i.kind.value,
                              i.title, status, f"{done}/{len(acts)} done",
                              str(n_late) if n_late else "")  # fmt: skip
            console.print(table)
            if overdue:
                out = _table("落实 / Action", "议题 / Issue", "单位 / Unit", "内容 / Action text",
                             "到期 / Due", "状态 / Status", "逾期天数 / Days late",
                             title=f"{len(late)} action(s) overdue on {on}")  # fmt: skip
                for a in late:
                    _row(out, str(a.id), str(a.decision.issue_id), a.organisation.code,
                                a.action, str(a.due_on), a.status.value,
                                str((on - a.due_on).days))  # fmt: skip
                console.print(out)

    _run(body)


@meeting_app.command("show")
def meeting_show_cmd(
    issue: Annotated[int, typer.Argument(help="Issue id.", show_default=False)],
    database: DatabaseOpt = None,
) -> None:
    """One issue: its meeting, links, decisions, actions and their follow-ups."""
    from mastplan.progress.meetings import follow_ups, get_issue

    def body() -> None:
        with _session(database) as session:
            i = get_issue(session, issue)
            m = i.meeting
            _say(
                f"issue {i.id} ({i.kind.value}, {i.status.value}"
                f"{f' on {i.resolved_on}' if i.resolved_on else ''}): {i.title}"
            )
            _say(f"  meeting {m.id} on {m.held_on}: {m.title}, convened by {m.convener.code}")
            if i.raised_by is not None:
                _say(f"  raised by {i.raised_by.code}")
            if i.description:
                _say(f"  {i.description}")
            for link in i.links:
                _say(f"  link {link.kind.value}:{link.key}")
            for d in i.decisions:
                _say(f"decision {d.id} ({d.decided_on}): {d.text}")
                for a in d.assignments:
                    closed = f", closed {a.closed_on}" if a.closed_on else ""
                    _say(
                        f"  assignment {a.id} → {a.organisation.code}, due {a.due_on}, "
                        f"{a.status.value}{closed}: {a.action}"
                    )
                    for u in follow_ups(session, a.id):
                        refs = f" [{', '.join(u.evidence)}]" if u.evidence else ""
                        _say(
                            f"    {_cst(u.at)} {u.author} ({u.organisation}) "
                            f"{u.status.value}: {u.note}{refs}"
                        )

    _run(body)
