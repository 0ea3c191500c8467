"""The plan's tasks: loading them with their units, milestones, progress updates and their
history, overdue detection around due dates, who may post, and `mastplan tasks` end to end."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from mastplan.cli import app
from mastplan.data.plan import load_organisations, load_tasks
from mastplan.errors import MastplanError, NotFoundError
from mastplan.progress.enums import TaskStatus, UnitRole
from mastplan.progress.models import Milestone, PlanTask, ProgressUpdate, TaskUnit
from mastplan.progress.tasks import (
    add_milestone,
    get_task,
    list_tasks,
    load_plan_tasks,
    overdue_milestones,
    overdue_tasks,
    post_task_update,
    task_state_on,
    task_status_on,
    task_units,
    task_updates,
)
from mastplan.registry import crud
from mastplan.registry.audit import Actor
from mastplan.registry.db import make_engine, session_factory
from mastplan.registry.models import AuditEntry
from mastplan.registry.organisations import get_organisation
from mastplan.registry.users import add_user
from mastplan.sharing.calendar import CST

ADMIN = Actor("admin", "onboarding")
LOADER = Actor("loader", "plan tasks")

#: name → (organisation, role)
USERS = {
    "liu.office": ("cq-5g-joint-office", "regulator"),
    "li.reg": ("cq-cac", "regulator"),
    "he.reg.viewer": ("cq-cac", "viewer"),
    "wang.jxw": ("cq-jxw", "regulator"),
    "zhang.kjj": ("cq-kjj", "regulator"),
    "wang.cmcc": ("china-mobile", "operator"),
    "chen.yuzhong": ("gov-500103", "district"),
}


def make_users(session) -> None:
    for name, (org, role) in USERS.items():
        add_user(session, ADMIN, name, org, role)


@pytest.fixture
def tasks_session(loaded_session):
    """The loaded data set with the plan's tasks and the users above."""
    load_plan_tasks(loaded_session, LOADER)
    make_users(loaded_session)
    return loaded_session


def at(day: str, time: str = "10:00") -> dt.datetime:
    """A Chongqing time on ``day``."""
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=CST)


def d(day: str) -> dt.date:
    return dt.date.fromisoformat(day)


def codes(units: list[TaskUnit]) -> list[str]:
    return [u.organisation.code for u in units]


def audit_count(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry))


# --- loading ------------------------------------------------------------------------------------


def test_every_task_is_loaded_with_its_units_in_the_plans_order(tasks_session):
    s = tasks_session
    specs = load_tasks()
    districts = [o.code for o in load_organisations() if o.district_code is not None]
    assert len(districts) == 38
    assert s.scalar(select(func.count()).select_from(PlanTask)) == len(specs)
    for spec in specs:
        task = get_task(s, spec.id)
        assert (task.section, task.number_zh, task.title_zh, task.title_en) == (
            spec.section, spec.number_zh, spec.title_zh, spec.title_en)  # fmt: skip
        assert codes(task_units(task, UnitRole.LEAD)) == list(spec.lead)
        responsible = codes(task_units(task, UnitRole.RESPONSIBLE))
        assert responsible[: len(spec.responsible)] == list(spec.responsible)
        extra = responsible[len(spec.responsible) :]
        assert extra == (districts if spec.all_district_governments else [])
    assert codes(task_units(get_task(s, "key-2-6"), UnitRole.LEAD)) == ["cq-kjj"]
    assert task_units(get_task(s, "safeguard-1")) == []  # the joint meeting itself: no units
    # 12 named + 38 district governments
    assert len(task_units(get_task(s, "key-1-1"), UnitRole.RESPONSIBLE)) == 50


def test_loading_again_changes_nothing_and_writes_no_audit_entry(tasks_session):
    before = audit_count(tasks_session)
    summary = load_plan_tasks(tasks_session, LOADER)
    assert summary["tasks"] == len(load_tasks())
    assert (summary["created"], summary["updated"], summary["units_added"],
            summary["units_removed"], summary["units_moved"]) == (0, 0, 0, 0, 0)  # fmt: skip
    assert summary["units"] == sum(
        len(t.lead) + len(t.responsible) + 38 * t.all_district_governments for t in load_tasks()
    )
    assert audit_count(tasks_session) == before


def test_loading_repairs_edited_tasks_and_keeps_their_progress(tasks_session):
    s = tasks_session
    post_task_update(s, "wang.jxw", "key-2-1", status="in_progress", note="started")
    task = get_task(s, "key-2-1")
    crud.update(s, ADMIN, task, {"title_en": "edited by hand"})
    unit = next(u for u in task.units if u.organisation.code == "cq-jw")
    crud.delete(s, ADMIN, unit)
    kjj = next(u for u in task.units if u.organisation.code == "cq-kjj")
    crud.update(s, ADMIN, kjj, {"position": 7})
    cac = get_organisation(s, "cq-cac").id
    crud.create(s, ADMIN, TaskUnit(task=task, organisation_id=cac, role=UnitRole.RESPONSIBLE,
                                   position=9))  # fmt: skip
    s.commit()
    summary = load_plan_tasks(s, LOADER)
    assert (summary["updated"], summary["units_added"], summary["units_removed"],
            summary["units_moved"]) == (1, 1, 1, 1)  # fmt: skip
    s.expire_all()
    task = get_task(s, "key-2-1")
    assert task.title_en == next(t.title_en for t in load_tasks() if t.id == "key-2-1")
    assert codes(task_units(task)) == ["cq-jxw", "cq-jw", "cq-kjj", "cq-zstzj"]
    assert [u.position for u in task_units(task)] == [0, 0, 1, 2]
    assert task.status is TaskStatus.IN_PROGRESS and len(task_updates(s, task)) == 1


# --- updates and their history ------------------------------------------------------------------


def test_status_follows_the_latest_update_and_past_dates_show_their_status(tasks_session):
    s = tasks_session
    steps = [("2020-01-10", "in_progress"), ("2020-03-01", "blocked"),
             ("2020-06-01", "in_progress")]  # fmt: skip
    for day, status in steps:
        post_task_update(s, "wang.jxw", "key-2-1", status=status, note=f"{status} on {day}",
                         at=at(day))  # fmt: skip
    post_task_update(s, "zhang.kjj", "key-2-1", status="done", note="finished",
                     evidence=["渝经信发〔2021〕1号", "https://jjxxw.cq.gov.cn/x"],
                     at=at("2021-01-05"))  # fmt: skip
    assert get_task(s, "key-2-1").status is TaskStatus.DONE
    expected = {"2020-01-09": "not_started", "2020-01-10": "in_progress", "2020-02-29":
                "in_progress", "2020-03-01": "blocked", "2020-05-31": "blocked", "2020-06-01":
                "in_progress", "2021-01-04": "in_progress", "2021-01-05": "done",
                "2022-12-31": "done"}  # fmt: skip
    for day, status in expected.items():
        assert task_status_on(s, "key-2-1", d(day)) is TaskStatus(status), day
    # an update dated before the latest is history: it does not change the current status
    post_task_update(s, "wang.jxw", "key-2-1", status="blocked", note="late report of a block",
                     at=at("2020-09-01"))  # fmt: skip
    assert get_task(s, "key-2-1").status is TaskStatus.DONE
    assert task_status_on(s, "key-2-1", d("2020-09-01")) is TaskStatus.BLOCKED
    updates = task_updates(s, "key-2-1")
    assert [u.note for u in updates][3] == "late report of a block"
    assert updates[-1].evidence == ["渝经信发〔2021〕1号", "https://jjxxw.cq.gov.cn/x"]
    assert (updates[-1].author, updates[-1].organisation) == ("zhang.kjj", "cq-kjj")


def test_an_update_counts_for_its_day_in_chongqing(tasks_session):
    s = tasks_session
    # 23:30 in Chongqing is 15:30 UTC the same day; 00:30 is 16:30 UTC the day before
    post_task_update(s, "li.reg", "key-1-1", status="in_progress", note="late evening",
                     at=at("2020-01-10", "23:30"))  # fmt: skip
    post_task_update(s, "li.reg", "key-1-1", status="blocked", note="just after midnight",
                     at=at("2020-01-11", "00:30"))  # fmt: skip
    assert task_status_on(s, "key-1-1", d("2020-01-09")) is TaskStatus.NOT_STARTED
    assert task_status_on(s, "key-1-1", d("2020-01-10")) is TaskStatus.IN_PROGRESS
    assert task_status_on(s, "key-1-1", d("2020-01-11")) is TaskStatus.BLOCKED


def test_updates_are_audited_and_never_rewritten(tasks_session):
    s = tasks_session
    u1 = post_task_update(s, "wang.jxw", "key-2-1", status="in_progress", note="one",
                          evidence=["doc-1", " ", "doc-1"], reason="monthly report")  # fmt: skip
    post_task_update(s, "wang.jxw", "key-2-1", status="blocked", note="two")
    entries = s.scalars(select(AuditEntry).where(AuditEntry.entity == "progress_updates")).all()
    assert [(e.action, e.actor, e.organisation) for e in entries] == [
        ("create", "wang.jxw", "cq-jxw"), ("create", "wang.jxw", "cq-jxw")]  # fmt: skip
    assert entries[0].reason == "monthly report" and entries[0].after["evidence"] == ["doc-1"]
    s.refresh(u1)
    assert (u1.status, u1.note) == (TaskStatus.IN_PROGRESS, "one")
    task_entries = s.scalars(
        select(AuditEntry).where(AuditEntry.entity == "plan_tasks", AuditEntry.action == "update",
                                 AuditEntry.actor == "wang.jxw")).all()  # fmt: skip
    assert [e.after["status"] for e in task_entries] == ["in_progress", "blocked"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": "finished", "note": "x"}, "unknown status 'finished'"),
        ({"status": "in_progress", "note": "  "}, "an update needs a note"),
        ({"status": "done", "note": "done", "evidence": [" "]}, "a done update needs evidence"),
        ({"status": "in_progress", "note": "x",
          "at": dt.datetime.now(dt.UTC) + dt.timedelta(days=2)}, "cannot be dated in the future"),
    ],
)  # fmt: skip
def test_bad_updates_are_refused_and_nothing_is_written(tasks_session, kwargs, message):
    with pytest.raises(MastplanError, match=message):
        post_task_update(tasks_session, "wang.jxw", "key-2-1", **kwargs)
    assert tasks_session.scalar(select(func.count()).select_from(ProgressUpdate)) == 0
    assert get_task(tasks_session, "key-2-1").status is TaskStatus.NOT_STARTED


def test_unknown_task_and_foreign_milestone_are_refused(tasks_session):
    s = tasks_session
    with pytest.raises(NotFoundError, match="no plan task 'key-9-9'"):
        post_task_update(s, "li.reg", "key-9-9", status="in_progress", note="x")
    m = add_milestone(
        s, "li.reg", "key-1-1", title_zh="规划", title_en="Plan", due_on=d("2020-06-30")
    )
    with pytest.raises(NotFoundError, match=f"task key-1-2 has no milestone {m.id}"):
        post_task_update(s, "li.reg", "key-1-2", status="done", note="x", evidence=["e"],
                         milestone_id=m.id)  # fmt: skip
    assert s.scalar(select(func.count()).select_from(ProgressUpdate)) == 0


# --- milestones and overdue ---------------------------------------------------------------------


def test_milestones_are_overdue_after_their_due_date_until_done(tasks_session):
    s = tasks_session
    m = add_milestone(s, "wang.jxw", "key-2-1", title_zh="出台实施方案",
                      title_en="Issue the implementation plan", due_on=d("2020-06-30"))  # fmt: skip
    later = add_milestone(s, "wang.jxw", "key-2-1", title_zh="验收", title_en="Acceptance",
                          due_on=d("2021-12-31"))  # fmt: skip
    for day in ("2020-06-29", "2020-06-30"):
        assert overdue_milestones(s, d(day)) == [], day
        assert not task_state_on(s, "key-2-1", d(day)).overdue
    assert [x.id for x in overdue_milestones(s, d("2020-07-01"))] == [m.id]
    assert [t.code for t in overdue_tasks(s, d("2020-07-01"))] == ["key-2-1"]
    assert overdue_milestones(s, d("2020-07-01"))[0].task.code == "key-2-1"

    post_task_update(s, "zhang.kjj", "key-2-1", status="done", note="plan issued",
                     evidence=["渝府办发〔2020〕9号"], milestone_id=m.id,
                     at=at("2020-07-03"))  # fmt: skip
    s.refresh(m)
    assert m.done_on == d("2020-07-03")
    assert [x.id for x in overdue_milestones(s, d("2020-07-02"))] == [m.id]  # history kept
    assert overdue_milestones(s, d("2020-07-03")) == []
    assert overdue_milestones(s, d("2022-01-01")) == [later]
    state = task_state_on(s, "key-2-1", d("2020-07-02"))
    assert [st for _, st in state.milestones] == ["overdue", "pending"]
    assert [st for _, st in task_state_on(s, "key-2-1", d("2020-07-03")).milestones] == [
        "done", "pending"]  # fmt: skip
    # a milestone done is not the task done: the task has only begun
    assert get_task(s, "key-2-1").status is TaskStatus.IN_PROGRESS
    assert task_status_on(s, "key-2-1", d("2020-07-02")) is TaskStatus.NOT_STARTED

    assert [x.task.code for x in list_tasks(s, overdue=True, on=d("2020-07-02"))] == ["key-2-1"]
    assert list_tasks(s, overdue=True, on=d("2020-07-03")) == []
    with pytest.raises(MastplanError, match="was done on 2020-07-03"):
        post_task_update(s, "wang.jxw", "key-2-1", status="in_progress", note="again",
                         milestone_id=m.id)  # fmt: skip


def test_milestone_titles_are_required_and_unique_within_a_task(tasks_session):
    s = tasks_session
    add_milestone(
        s, "li.reg", "key-1-2", title_zh="平台", title_en="Platform", due_on=d("2020-01-01")
    )
    with pytest.raises(MastplanError, match="has milestone"):
        add_milestone(s, "li.reg", "key-1-2", title_zh="平台", title_en="Other",
                      due_on=d("2020-02-01"))  # fmt: skip
    with pytest.raises(MastplanError, match="in Chinese and in English"):
        add_milestone(s, "li.reg", "key-1-2", title_zh="", title_en="X", due_on=d("2020-02-01"))
    assert s.scalar(select(func.count()).select_from(Milestone)) == 1


def test_list_tasks_filters_by_unit_section_and_status(tasks_session):
    s = tasks_session
    mobile = [x.task.code for x in list_tasks(s, unit="china-mobile")]
    assert mobile == ["key-1-1", "key-1-2", "key-1-3", "key-3", "safeguard-2"]
    assert [x.task.code for x in list_tasks(s, unit="gov-500103")] == [
        t.id for t in load_tasks() if t.all_district_governments]  # fmt: skip
    assert [x.task.code for x in list_tasks(s, section="safeguards")] == [
        f"safeguard-{n}" for n in range(1, 8)]  # fmt: skip
    post_task_update(s, "li.reg", "key-1-3", status="blocked", note="power", at=at("2020-05-01"))
    assert [x.task.code for x in list_tasks(s, status="blocked")] == ["key-1-3"]
    assert list_tasks(s, status="blocked", on=d("2020-04-30")) == []
    assert len(list_tasks(s, status="not_started", on=d("2020-04-30"))) == len(load_tasks())
    with pytest.raises(NotFoundError):
        list_tasks(s, unit="no-such-org")
    with pytest.raises(MastplanError, match="unknown section"):
        list_tasks(s, section="annex")


# --- who may write ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "task"),
    [("wang.jxw", "key-2-1"),  # lead unit
     ("zhang.kjj", "key-2-1"),  # responsible unit
     ("wang.cmcc", "key-1-2"),  # an operator named by 基础电信企业
     ("chen.yuzhong", "key-1-1"),  # a district government under 各区县政府
     ("liu.office", "key-2-1"),  # the joint-meeting office
     ("li.reg", "safeguard-1")],  # the regulator, on a task without units
)  # fmt: skip
def test_units_the_office_and_the_regulator_may_post(tasks_session, user, task):
    post_task_update(tasks_session, user, task, status="in_progress", note="on it")
    assert get_task(tasks_session, task).status is TaskStatus.IN_PROGRESS


@pytest.mark.parametrize(
    ("user", "task", "message"),
    [("wang.cmcc", "key-2-1", r"wang.cmcc \(china-mobile\) cannot post an update on task key-2-1"),
     ("chen.yuzhong", "key-1-2", "only the units of task key-1-2"),
     ("zhang.kjj", "safeguard-1", "only the units of task safeguard-1"),
     ("he.reg.viewer", "key-1-1", "is a viewer"),
     ("nobody", "key-1-1", "no user 'nobody'")],
)  # fmt: skip
def test_others_are_refused_with_one_line(tasks_session, user, task, message):
    s = tasks_session
    with pytest.raises(MastplanError, match=message) as info:
        post_task_update(s, user, task, status="in_progress", note="on it")
    assert "\n" not in str(info.value)
    with pytest.raises(MastplanError, match=message.replace("post an update on", "add a "
                                                            "milestone to")):  # fmt: skip
        add_milestone(s, user, task, title_zh="甲", title_en="A", due_on=d("2020-01-01"))
    assert s.scalar(select(func.count()).select_from(ProgressUpdate)) == 0
    assert s.scalar(select(func.count()).select_from(Milestone)) == 0


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def db(loaded_url):
    engine = make_engine(loaded_url)
    with session_factory(engine)() as s:
        load_plan_tasks(s, LOADER)
        make_users(s)
    engine.dispose()
    return loaded_url


def run(db, *args, user=None):
    who = ["--as", user] if user else []
    result = CliRunner(env={"COLUMNS": "220"}).invoke(app, ["tasks", *args, "--database", db, *who])
    return result.exit_code, result.output


def test_tasks_from_the_command_line(db):
    code, out = run(db, "list")
    assert code == 0 and f"{len(load_tasks())} task(s) on" in out
    assert "加强5G网络规划统筹" in out and "Strengthen the overall planning of 5G networks" in out
    assert "任务 / Task" in out and "牵头单位 / Lead" in out

    code, out = run(db, "milestone", "key-2-1", "--title-zh", "出台方案", "--title-en",
                    "Issue the plan", "--due", "2020-06-30", "--reason", "plan",
                    user="wang.jxw")  # fmt: skip
    assert (code, out.strip()) == (0, "task key-2-1: milestone 1 due 2020-06-30")

    code, out = run(db, "update", "key-2-1", "--status", "in_progress", "--note", "drafting",
                    "--at", "2020-05-01", user="wang.jxw")  # fmt: skip
    assert code == 0 and "task key-2-1: update 1 recorded (in_progress); task status" in out

    code, out = run(db, "list", "--overdue", "--date", "2020-07-01")
    assert code == 0 and "1 task(s) on 2020-07-01" in out and "1 milestone(s) overdue" in out
    assert "Issue the plan" in out
    code, out = run(db, "list", "--overdue", "--date", "2020-06-30")
    assert code == 0 and "0 task(s) on 2020-06-30" in out

    code, out = run(db, "update", "key-2-1", "--status", "done", "--note", "issued",
                    "--evidence", "[渝经信发〔2020〕5号]", "--milestone", "1", "--at",
                    "2020-07-02T09:00", user="zhang.kjj")  # fmt: skip
    assert code == 0 and "on milestone 1 (done)" in out
    code, out = run(db, "list", "--overdue", "--date", "2020-07-03")
    assert code == 0 and "0 task(s) on 2020-07-03" in out

    code, out = run(db, "list", "--status", "in_progress", "--unit", "cq-kjj")
    assert code == 0 and "1 task(s)" in out and "key-2-1" in out
    code, out = run(db, "show", "key-2-1", "--date", "2020-07-02")
    assert code == 0 and "[渝经信发〔2020〕5号]" in out and "2020-07-02 09:00" in out
    assert "cq-jxw" in out and "done" in out
    code, out = run(db, "show", "key-2-1", "--date", "2020-05-31")
    assert code == 0 and "1 update(s)" in out and "overdue" not in out

    code, out = run(db, "update", "key-2-1", "--status", "blocked", "--note", "x",
                    user="wang.cmcc")  # fmt: skip
    assert code == 1 and len(out.strip().splitlines()) == 1
    assert "error: wang.cmcc (china-mobile) cannot post an update on task key-2-1" in out
    code, out = run(db, "list", "--date", "2020-13-01")
    expected = "error: --date must be an ISO date YYYY-MM-DD, got '2020-13-01'"
    assert (code, out.strip()) == (1, expected)
    code, out = run(db, "update", "key-2-1", "--status", "done", "--note", "x", user="li.reg")
    assert code == 1 and "a done update needs evidence" in out
