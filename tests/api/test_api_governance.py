"""The governance endpoints on both databases: tasks (status at a date, units, milestones,
updates with If-Match), the joint meeting (meeting → issue with links → decision with an
assignment → follow-ups → closed and resolved), the read-only scenarios and enterprises, who may
write and who is refused (the OpenAPI schema is fuzzed in tests/api/test_api_schema.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from mastplan.api.security import set_password
from mastplan.registry.audit import Actor
from mastplan.registry.db import make_engine, session_factory
from mastplan.registry.users import add_user
from mastplan.sharing.calendar import today

API = "/api/v1"
ADMIN = Actor("admin", "governance tests")
PASSWORD = "correct horse battery staple"  # as tests/api/conftest.py sets for every user
OFFICE = "liu.office"  # a user of the joint-meeting office, made here
#: The tasks china-mobile is a unit of (responsible); key-1-2 has no district government.
CMCC_TASKS = {"key-1-1", "key-1-2", "key-1-3", "key-3", "safeguard-2"}
AIRPORT = "2019-ckg-airport"  # a key area of the loaded data set


@pytest.fixture
def office(api_url: str, app) -> str:
    """A user of the joint-meeting office (cq-5g-joint-office) with the tests' password."""
    engine = make_engine(api_url)
    with session_factory(engine)() as session:
        add_user(session, ADMIN, OFFICE, "cq-5g-joint-office", "regulator")
        set_password(session, ADMIN, OFFICE, PASSWORD)
    engine.dispose()
    return OFFICE


def ok(response, status: int = 200):
    assert response.status_code == status, response.text
    return response.json()


def aware_utc(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    assert moment.utcoffset() == dt.timedelta(0), text
    return moment


# --- tasks --------------------------------------------------------------------------------------


def test_tasks_as_of_a_day_with_units_and_filters(bearer):
    c = bearer("xu.viewer")
    tasks = ok(c.get(f"{API}/tasks"))
    codes = [t["code"] for t in tasks]
    assert codes[:3] == ["key-1-1", "key-1-2", "key-1-3"] and "safeguard-7" in codes
    first = tasks[0]
    assert first["as_of"] == today().isoformat() and first["status"] == "not_started"
    assert first["lead_units"] == ["cq-cac"] and "china-mobile" in first["responsible_units"]
    assert "gov-500103" in first["responsible_units"]  # 各区县政府
    assert first["milestones"] == [] and first["overdue"] is False and first["version"] >= 1
    mine = ok(c.get(f"{API}/tasks", params={"unit": "china-mobile"}))
    assert {t["code"] for t in mine} == CMCC_TASKS
    assert ok(c.get(f"{API}/tasks", params={"status": "done"})) == []
    assert len(ok(c.get(f"{API}/tasks", params={"status": "not_started"}))) == len(tasks)
    assert c.get(f"{API}/tasks", params={"unit": "nobody"}).status_code == 404
    assert c.get(f"{API}/tasks", params={"status": "finished"}).status_code == 422
    assert c.get(f"{API}/tasks", params={"date": "2021-02-30"}).status_code == 422
    assert c.get(f"{API}/tasks/no-such-task").status_code == 404
    assert c.get(f"{API}/tasks/" + "k" * 33).status_code == 422


def test_a_task_update_with_if_match_and_a_stale_one(bearer):
    reader, cmcc = bearer("wang.cmcc"), bearer("wang.cmcc", write=True)
    r = reader.get(f"{API}/tasks/key-1-2")
    assert r.status_code == 200 and r.json()["status"] == "not_started"
    tag = r.headers["ETag"]
    assert tag.startswith('W/"r') and tag.endswith(f'v{r.json()["version"]}"')
    body = {"status": "in_progress", "note": "design institute briefed",
            "evidence": ["https://example.org/brief.pdf"]}  # fmt: skip
    posted = cmcc.post(f"{API}/tasks/key-1-2/updates", json=body, headers={"If-Match": tag})
    update = ok(posted, 201)
    assert update["task"] == "key-1-2" and update["status"] == "in_progress"
    assert update["author"] == "wang.cmcc" and update["organisation"] == "china-mobile"
    assert update["evidence"] == ["https://example.org/brief.pdf"]
    assert abs(aware_utc(update["at"]) - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    new_tag = posted.headers["ETag"]
    assert new_tag != tag
    now = reader.get(f"{API}/tasks/key-1-2")
    assert now.headers["ETag"] == new_tag and now.json()["status"] == "in_progress"
    # the tag read before the update is stale now: nothing is written
    stale = cmcc.post(f"{API}/tasks/key-1-2/updates", json={**body, "status": "blocked"},
                      headers={"If-Match": tag})  # fmt: skip
    assert stale.status_code == 412 and "version" in stale.json()["detail"]
    other = reader.get(f"{API}/tasks/key-1-1").headers["ETag"]  # another task's tag
    wrong = cmcc.post(f"{API}/tasks/key-1-2/updates", json=body, headers={"If-Match": other})
    assert wrong.status_code == 412
    assert reader.get(f"{API}/tasks/key-1-2").json()["status"] == "in_progress"
    # without If-Match (or with *) the update is recorded
    star = cmcc.post(f"{API}/tasks/key-1-2/updates", json={**body, "status": "blocked"},
                     headers={"If-Match": "*"})  # fmt: skip
    assert star.status_code == 201
    assert reader.get(f"{API}/tasks/key-1-2").json()["status"] == "blocked"
    # done needs evidence: the service says so
    bare = cmcc.post(f"{API}/tasks/key-1-2/updates", json={"status": "done", "note": "all done"})
    assert bare.status_code == 400 and "evidence" in bare.json()["detail"]
    # the task's updates, oldest first: the two recorded, not the stale nor the refused ones
    listed = ok(reader.get(f"{API}/tasks/key-1-2/updates"))
    assert [(u["status"], u["author"]) for u in listed] == [
        ("in_progress", "wang.cmcc"), ("blocked", "wang.cmcc")]  # fmt: skip
    assert all(u["task"] == "key-1-2" and u["organisation"] == "china-mobile" for u in listed)
    assert ok(reader.get(f"{API}/tasks/key-1-2/updates", params={"date": "2019-01-01"})) == []
    assert reader.get(f"{API}/tasks/no-such-task/updates").status_code == 404


def test_who_may_post_on_a_task(bearer, login):
    body = {"status": "in_progress", "note": "survey started"}
    # a district government is a unit of key-1-1 (各区县政府) but not of key-1-2
    district = login("chen.yuzhong")
    assert district.post(f"{API}/tasks/key-1-1/updates", json=body).status_code == 201
    refused = district.post(f"{API}/tasks/key-1-2/updates", json=body)
    assert refused.status_code == 403
    assert "only the units of task key-1-2" in refused.json()["detail"]
    # an operator on a task it is not a unit of; the regulator on any task
    wrong = bearer("wang.cmcc", write=True).post(f"{API}/tasks/key-2-1/updates", json=body)
    assert wrong.status_code == 403
    assert bearer("li.reg", write=True).post(f"{API}/tasks/key-2-1/updates",
                                             json=body).status_code == 201  # fmt: skip
    # a viewer never writes: its browser session is refused by the service, its token by scope
    viewer = login("ma.viewer").post(f"{API}/tasks/key-1-2/updates", json=body)
    assert viewer.status_code == 403 and "viewer" in viewer.json()["detail"]
    assert bearer("ma.viewer").post(f"{API}/tasks/key-1-2/updates", json=body).status_code == 403
    # without credentials, or a browser without its CSRF token
    assert login("wang.cmcc", csrf=False).post(f"{API}/tasks/key-1-2/updates",
                                               json=body).status_code == 403  # fmt: skip
    tasks = bearer("li.reg").get(f"{API}/tasks", params={"unit": "gov-500103"}).json()
    assert {t["code"]: t["status"] for t in tasks}["key-1-1"] == "in_progress"


@pytest.mark.parametrize("body", [
    {"status": "in_progress"}, {"status": "in_progress", "note": ""},
    {"status": "in_progress", "note": "x" * 4001}, {"status": "finished", "note": "n"},
    {"status": "done", "note": "n", "evidence": ["e" * 1001]},
    {"status": "done", "note": "n", "milestone_id": 2**63},
])  # fmt: skip
def test_an_invalid_task_update_is_422(bearer, body):
    r = bearer("li.reg", write=True).post(f"{API}/tasks/key-1-2/updates", json=body)
    assert r.status_code == 422, r.text


def test_milestones_overdue_then_done(bearer, login):
    reg = bearer("li.reg", write=True)
    added = reg.post(f"{API}/tasks/key-1-2/milestones",
                     json={"title_zh": "完成站址规划", "title_en": "Site plan done",
                           "due_on": "2021-06-30"})  # fmt: skip
    m = ok(added, 201)
    assert m["due_on"] == "2021-06-30" and m["state"] == "overdue" and m["overdue"] is True
    again = reg.post(
        f"{API}/tasks/key-1-2/milestones",
        json={"title_zh": "完成站址规划", "title_en": "Other", "due_on": "2022-01-01"},
    )
    assert again.status_code == 400  # a title once per task
    refused = bearer("wang.cmcc", write=True).post(
        f"{API}/tasks/key-2-1/milestones",
        json={"title_zh": "一", "title_en": "One", "due_on": "2022-01-01"},
    )
    assert refused.status_code == 403
    viewer = login("ma.viewer").post(f"{API}/tasks/key-1-2/milestones",
                                     json={"title_zh": "二", "title_en": "Two",
                                           "due_on": "2022-01-01"})  # fmt: skip
    assert viewer.status_code == 403
    before = ok(reg.get(f"{API}/tasks/key-1-2", params={"date": "2021-01-01"}))
    assert before["milestones"][0]["state"] == "pending" and before["overdue"] is False
    late = ok(reg.get(f"{API}/tasks", params={"date": "2021-07-01"}))
    assert next(t for t in late if t["code"] == "key-1-2")["overdue"] is True
    done = reg.post(f"{API}/tasks/key-1-2/updates",
                    json={"status": "done", "note": "plan approved", "milestone_id": m["id"],
                          "evidence": ["渝通管〔2021〕1号"]})  # fmt: skip
    assert ok(done, 201)["milestone_id"] == m["id"]
    now = ok(reg.get(f"{API}/tasks/key-1-2"))
    assert now["milestones"][0]["state"] == "done"
    assert now["milestones"][0]["done_on"] == today().isoformat()
    assert now["status"] == "in_progress"  # a milestone's update starts the task
    history = ok(reg.get(f"{API}/tasks/key-1-2", params={"date": "2021-07-01"}))
    assert history["milestones"][0]["state"] == "overdue"  # done later than that day
    assert history["milestones"][0]["done_on"] is None and history["status"] == "not_started"
    missing = reg.post(f"{API}/tasks/key-1-1/updates",
                       json={"status": "done", "note": "n", "milestone_id": m["id"],
                             "evidence": ["e"]})  # fmt: skip
    assert missing.status_code == 404  # not a milestone of key-1-1


# --- the joint meeting --------------------------------------------------------------------------


def test_meeting_issue_decision_follow_up_close(bearer, login, office):
    chair = login(office)
    meeting = ok(chair.post(f"{API}/meetings", json={
        "held_on": "2021-03-01", "title": "第一次联席会议", "convener": "cq-5g-joint-office",
        "attendees": ["china-tower", "china-mobile", "china-tower"]}), 201)  # fmt: skip
    assert meeting["attendees"] == ["china-tower", "china-mobile"] and meeting["issues"] == []
    mid = meeting["id"]
    issue = ok(chair.post(f"{API}/meetings/{mid}/issues", json={
        "kind": "blocked_site", "title": "T1 cannot be entered", "raised_by": "china-tower",
        "links": ["structure:T1", f"key_area:{AIRPORT}"]}), 201)  # fmt: skip
    assert issue["status"] == "open" and issue["raised_by"] == "china-tower"
    assert issue["links"] == [{"kind": "key_area", "key": AIRPORT},
                              {"kind": "structure", "key": "T1"}]  # fmt: skip
    decision = ok(chair.post(f"{API}/issues/{issue['id']}/decisions", json={
        "text": "China Tower negotiates entry with the property manager",
        "assignments": [{"organisation": "china-tower", "due_on": "2021-04-01",
                         "action": "agree entry terms"}]}), 201)  # fmt: skip
    assert decision["decided_on"] == "2021-03-01"
    (assignment,) = decision["assignments"]
    aid = assignment["id"]
    assert assignment["organisation"] == "china-tower" and assignment["status"] == "not_started"
    assert assignment["overdue"] is True  # due in 2021, not closed today

    tower = bearer("zhao.tower", write=True)
    first = ok(
        tower.post(
            f"{API}/assignments/{aid}/follow-ups",
            json={"status": "in_progress", "note": "met the manager"},
        ),
        201,
    )
    assert first["assignment_id"] == aid and first["task"] is None
    aware_utc(first["at"])
    # another unit may not report; the assigned unit may not close
    other = bearer("wang.cmcc", write=True).post(
        f"{API}/assignments/{aid}/follow-ups", json={"status": "in_progress", "note": "n"}
    )
    assert other.status_code == 403 and "only its unit (china-tower)" in other.json()["detail"]
    close_self = tower.post(
        f"{API}/assignments/{aid}/follow-ups",
        json={"status": "done", "note": "agreed", "evidence": ["e.pdf"]},
    )
    assert close_self.status_code == 403
    assert (
        login("ma.viewer")
        .post(f"{API}/assignments/{aid}/follow-ups", json={"status": "in_progress", "note": "n"})
        .status_code
        == 403
    )

    late = ok(
        bearer("xu.viewer").get(f"{API}/follow-ups", params={"overdue": True, "date": "2021-05-01"})
    )
    (row,) = late
    assert row["assignment"]["id"] == aid and row["assignment"]["status"] == "in_progress"
    assert [f["note"] for f in row["follow_ups"]] == ["met the manager"]
    assert (
        ok(
            bearer("xu.viewer").get(
                f"{API}/follow-ups", params={"overdue": True, "date": "2021-03-15"}
            )
        )
        == []
    )

    closed = ok(
        chair.post(
            f"{API}/assignments/{aid}/follow-ups",
            json={"status": "done", "note": "entry agreed", "evidence": ["agreement.pdf"]},
        ),
        201,
    )
    assert closed["status"] == "done" and closed["author"] == OFFICE
    again = tower.post(
        f"{API}/assignments/{aid}/follow-ups", json={"status": "in_progress", "note": "n"}
    )
    assert again.status_code == 400 and "closed" in again.json()["detail"]

    full = ok(bearer("chen.yuzhong").get(f"{API}/meetings/{mid}"))
    (shown,) = full["issues"]
    assert shown["status"] == "resolved" and shown["resolved_on"] == today().isoformat()
    (a,) = shown["decisions"][0]["assignments"]
    assert a["status"] == "done" and a["closed_on"] == today().isoformat() and not a["overdue"]
    listed = ok(bearer("chen.yuzhong").get(f"{API}/meetings"))
    assert [(m["id"], m["issue_count"]) for m in listed] == [(mid, 1)]
    # overdue on the day in 2021 (closed later), not today; all assignments without overdue
    assert (
        len(
            ok(
                bearer("li.reg").get(
                    f"{API}/follow-ups", params={"overdue": True, "date": "2021-05-01"}
                )
            )
        )
        == 1
    )
    assert ok(bearer("li.reg").get(f"{API}/follow-ups", params={"overdue": True})) == []
    every = ok(bearer("li.reg").get(f"{API}/follow-ups"))
    assert [len(r["follow_ups"]) for r in every] == [2]
    # the resolved issue takes no more decisions
    more = chair.post(f"{API}/issues/{issue['id']}/decisions", json={"text": "more"})
    assert more.status_code == 400


def test_who_keeps_the_meeting_records(bearer, login, office):
    body = {"held_on": "2021-03-01", "title": "会议", "convener": "cq-cac"}
    made = bearer("li.reg", write=True).post(f"{API}/meetings", json=body)  # the regulator
    mid = ok(made, 201)["id"]
    assert made.headers["Location"] == f"{API}/meetings/{mid}"
    for name in ("chen.yuzhong", "wang.cmcc", "ma.viewer"):
        r = login(name).post(f"{API}/meetings", json=body)
        assert r.status_code == 403, (name, r.text)
        r = login(name).post(f"{API}/meetings/{mid}/issues",
                             json={"kind": "other", "title": "t"})  # fmt: skip
        assert r.status_code == 403, (name, r.text)
    assert bearer("li.reg").post(f"{API}/meetings", json=body).status_code == 403  # read token
    chair = login(office)
    bad_link = chair.post(
        f"{API}/meetings/{mid}/issues",
        json={"kind": "other", "title": "t", "links": ["structure:nope"]},
    )
    assert bad_link.status_code == 404 and "structure:nope" in bad_link.json()["detail"]
    bad_kind = chair.post(
        f"{API}/meetings/{mid}/issues",
        json={"kind": "other", "title": "t", "links": ["planet:mars"]},
    )
    assert bad_kind.status_code == 400
    assert chair.post(f"{API}/meetings/999999/issues",
                      json={"kind": "other", "title": "t"}).status_code == 404  # fmt: skip
    iid = ok(
        chair.post(
            f"{API}/meetings/{mid}/issues",
            json={"kind": "permit", "title": "t", "links": ["task:key-1-2"]},
        ),
        201,
    )["id"]
    early = chair.post(
        f"{API}/issues/{iid}/decisions", json={"text": "x", "decided_on": "2021-02-01"}
    )  # before the meeting
    assert early.status_code == 400
    refused = login("wang.cmcc").post(f"{API}/issues/{iid}/decisions", json={"text": "x"})
    assert refused.status_code == 403
    assert bearer("li.reg").get(f"{API}/follow-ups").json() == []


@pytest.mark.parametrize("path", ["/meetings/0", f"/meetings/{2**63}", "/meetings/-1"])
def test_ids_out_of_range_are_422(bearer, path):
    assert bearer("li.reg").get(f"{API}{path}").status_code == 422


def test_missing_meeting_issue_and_assignment_are_404(bearer):
    c = bearer("li.reg", write=True)
    assert c.get(f"{API}/meetings/{2**31 - 1}").status_code == 404
    # the largest id the path takes: no such meeting on SQLite; on PostgreSQL the id column
    # (32-bit) cannot hold it, which the app answers 422 (never a 5xx)
    assert c.get(f"{API}/meetings/{2**63 - 1}").status_code in (404, 422)
    assert c.post(f"{API}/issues/7/decisions", json={"text": "x"}).status_code == 404
    assert c.post(f"{API}/assignments/7/follow-ups",
                  json={"status": "in_progress", "note": "n"}).status_code == 404  # fmt: skip
    assert c.post(f"{API}/assignments/{2**63}/follow-ups",
                  json={"status": "in_progress", "note": "n"}).status_code == 422  # fmt: skip


# --- scenarios and enterprises ------------------------------------------------------------------


def test_scenarios_with_filters(bearer):
    c = bearer("ma.viewer")
    every = ok(c.get(f"{API}/scenarios"))
    assert every and [s["code"] for s in every] == sorted(s["code"] for s in every)
    first = every[0]
    assert first["demo"] is True and first["code"].startswith("demo-")
    category = first["category"]
    some = ok(c.get(f"{API}/scenarios", params={"category": category}))
    assert some and all(s["category"] == category for s in some)
    running = ok(c.get(f"{API}/scenarios", params={"status": "in_operation"}))
    assert all(s["status"] == "in_operation" and s["in_operation_on"] for s in running)
    year = first["year"]
    assert all(s["year"] == year for s in ok(c.get(f"{API}/scenarios", params={"year": year})))
    if first["district"]:
        local = ok(c.get(f"{API}/scenarios", params={"district": first["district"]}))
        assert first["code"] in {s["code"] for s in local}
    assert any(s["enterprises"] for s in every)
    assert c.get(f"{API}/scenarios", params={"category": "space"}).status_code == 422
    assert c.get(f"{API}/scenarios", params={"year": 10**20}).status_code == 422
    assert c.post(f"{API}/scenarios", json={}).status_code == 403  # a read-only token


def test_enterprises_with_revenue_by_year(bearer):
    c = bearer("sun.unicom")
    every = ok(c.get(f"{API}/enterprises"))
    assert every and all(e["demo"] for e in every)
    with_revenue = [e for e in every if e["revenues"]]
    assert with_revenue
    years = [r["year"] for r in with_revenue[0]["revenues"]]
    assert years == sorted(years) and all(r["revenue_yuan"] >= 0 for e in every
                                          for r in e["revenues"])  # fmt: skip
    segment, zone = every[0]["segment"], every[0]["zone"]
    by_segment = ok(c.get(f"{API}/enterprises", params={"segment": segment}))
    assert by_segment and all(e["segment"] == segment for e in by_segment)
    by_zone = ok(c.get(f"{API}/enterprises", params={"zone": zone}))
    assert by_zone and all(e["zone"] == zone for e in by_zone)
    assert c.get(f"{API}/enterprises", params={"zone": "moon"}).status_code == 422
    anon = c.get(f"{API}/enterprises", headers={"Authorization": "Bearer nope"})
    assert anon.status_code == 401
