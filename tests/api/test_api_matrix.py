"""Every operation of the API with each role, on both databases: allowed (2xx), forbidden (403:
the caller may see the object but its role or organisation may not do this), invisible (404:
the object exists but is another organisation's — exactly what a missing one gets).

:data:`MATRIX` has one entry per operation of the OpenAPI schema (a new endpoint without one
fails :func:`test_the_matrix_covers_every_operation`). An entry says how to call it — a path
filled from the world (``tests/api/conftest.py``) and from what its ``setup`` builds in the
database, a JSON body or a form — and what each role gets, as the services' rules say (the
code of the service each route calls, not observed answers). Some entries add probes: more
calls of the same operation on other objects (another operator's, one in a state the move does
not leave).

Each role calls through a logged-in browser session (session cookie + CSRF token, so writes are
allowed by the credential and only the rules decide). Refusals come first, on one fresh copy of
the world — which also shows that a refusal changes nothing; each allowed write then runs on a
fresh copy unless its entry says the writes do not disturb one another (``shared``), and is
checked afterwards where that is cheap (a GET shows it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mastplan.api.app import create_app
from mastplan.api.deps import CSRF_HEADER, SESSION_COOKIE
from mastplan.jobs import service as jobs
from mastplan.progress.meetings import AssignmentSpec, decide, new_meeting, raise_issue
from mastplan.progress.tasks import post_task_update
from mastplan.registry.enums import CaseKind
from mastplan.registry.models import SharingRequest
from mastplan.registry.users import actor_for
from mastplan.sharing.cases import open_case

API = "/api/v1"
PASSWORD = "correct horse battery staple"  # as tests/api/conftest.py sets for every user
#: The five roles, in the order the expectations list them, and the user who plays each.
ROLES = ("regulator", "operator", "owner", "district", "viewer")
USERS = {
    "regulator": "li.reg",  # cq-cac
    "operator": "wang.cmcc",  # china-mobile
    "owner": "zhao.tower",  # china-tower
    "district": "chen.yuzhong",  # gov-500103 (Yuzhong, where T1 stands)
    "viewer": "ma.viewer",  # a viewer of china-mobile
}

A, F, I = "allowed", "forbidden", "invisible"  # noqa: E741 - the matrix's three letters
_CODES = {"A": A, "F": F, "I": I}
EVERYONE = "A A A A A"


def roles(spec: str) -> dict[str, str | int]:
    """``"A I F 409 A"`` → what the regulator, operator, owner, district, viewer get: allowed,
    invisible, forbidden, or a status code."""
    words = spec.split()
    assert len(words) == len(ROLES), spec
    return {r: _CODES[w] if w in _CODES else int(w) for r, w in zip(ROLES, words, strict=True)}


Check = Callable[[TestClient, Any, dict[str, Any], str], None]


@dataclass(frozen=True)
class Call:
    """One call of an operation and what each role gets.

    ``path`` and the strings of ``json``/``form`` are ``str.format`` templates over the values:
    ``rq`` (the world's sharing requests), ``site`` (its sites), ``role``, ``user`` and what
    the entry's setup made. ``check(client, response, values, role)`` runs after an allowed
    call. ``shared``: allowed writes of several roles may run one after another on one copy.
    """

    path: str
    expect: str
    json: Any = None
    form: dict[str, str] | None = None
    upload: tuple[str, bytes] | None = None
    check: Check | None = None
    shared: bool = False
    anonymous: bool = False

    @property
    def outcomes(self) -> dict[str, str | int]:
        return roles(self.expect)


@dataclass(frozen=True)
class Op:
    """An operation: its calls (the first is the main one; the rest are probes) and what its
    copies of the world need made first (``setup(ctx)`` → more values)."""

    calls: tuple[Call, ...]
    setup: Callable[[Ctx], dict[str, Any]] | None = None


def op(*calls: Call, setup=None) -> Op:
    return Op(calls, setup)


# --- what entries build -------------------------------------------------------------------------


@dataclass
class Ctx:
    """A copy of the world: its app and the folder of its job results."""

    app: Any
    world: Any
    jobs_dir: Path

    def session(self):
        return self.app.state.sessions()


def _cmcc_job(ctx: Ctx, kind: str, params: dict, files: dict[str, bytes] | None = None,
              summary: dict | None = None) -> int:  # fmt: skip
    """A job of china-mobile (submitted by wang.cmcc): queued, or — with ``files`` — done
    with those result files (its work faked: claimed, files written, finished)."""
    with ctx.session() as s:
        job_id = jobs.submit(s, "wang.cmcc", kind, params).id
        if files is None:
            return job_id
        claimed = jobs.claim_next(s, "matrix", kinds=[kind])
        assert claimed is not None and claimed.id == job_id
        folder = ctx.jobs_dir / str(job_id)
        folder.mkdir(parents=True)
        for name, content in files.items():
            (folder / name).write_bytes(content)
        result = {"files": sorted(files), "summary": summary or {}}
        assert jobs.finish(s, job_id, result, worker="matrix") is not None
        return job_id


def make_case(ctx: Ctx) -> dict[str, Any]:
    """An open fee-complaint case on China Unicom's submitted request (T1, China Tower's, in
    Yuzhong)."""
    with ctx.session() as s:
        req = s.get(SharingRequest, ctx.world.requests["unicom_open"])
        actor = actor_for(s, "li.reg")
        s.commit()
        return {"case": open_case(s, actor, req, CaseKind.FEE_COMPLAINT,
                                  [{"message": "too dear"}]).id}  # fmt: skip


def make_jobs(ctx: Ctx) -> dict[str, Any]:
    """A done report job of china-mobile with a result file, and a queued one."""
    done = _cmcc_job(ctx, "report", {}, {"note.txt": b"matrix\n"})  # claims the oldest queued
    return {"done": done, "job": _cmcc_job(ctx, "report", {})}


PLANNED = (b"site,area,operator,lon_deg,lat_deg,new_build\n"
           b"P1,2019-chayuan,china-mobile,106.5,29.5,true\n")  # fmt: skip
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)


def make_plan(ctx: Ctx) -> dict[str, Any]:
    """A done plan of china-mobile with one planned site."""
    return {"plan": _cmcc_job(ctx, "plan", {"area": "2019-chayuan"}, {"sites.csv": PLANNED})}


def make_run(ctx: Ctx) -> dict[str, Any]:
    """A done coverage run of china-mobile with its overlay."""
    return {"run": _cmcc_job(ctx, "coverage", {"area": "2019-jiefangbei-cbd"},
                             {"overlay.png": PNG})}  # fmt: skip


def make_update(ctx: Ctx) -> dict[str, Any]:
    """An update of china-mobile (one of its units) on task key-1-2."""
    with ctx.session() as s:
        post_task_update(s, "wang.cmcc", "key-1-2", status="in_progress", note="matrix")
    return {}


def make_meeting(ctx: Ctx) -> dict[str, Any]:
    """A meeting (by the regulator), an issue raised at it and a decision assigning an action
    to china-mobile."""
    with ctx.session() as s:
        meeting = new_meeting(s, "li.reg", held_on=dt.date(2021, 3, 1), title="joint meeting",
                              convener="cq-cac", attendees=["china-mobile"])  # fmt: skip
        issue = raise_issue(s, "li.reg", meeting.id, kind="permit", title="a permit")
        assigned = decide(s, "li.reg", issue.id, "issue the permit", assignments=[
            AssignmentSpec("china-mobile", dt.date(2021, 6, 30), "apply again")])  # fmt: skip
        return {"meeting": meeting.id, "issue": issue.id, "assignment": assigned.assignments[0].id}


# --- checks after an allowed call ---------------------------------------------------------------


def _ids(body: Any) -> set[str]:
    if isinstance(body, dict):
        body = body.get("features", body.get("items"))
    return {str(item.get("id", item.get("code"))) for item in body}


def tenancies(ctx: Ctx) -> dict[str, Any]:
    """The tenancies the world's approved requests booked on T1, by operator."""
    with ctx.session() as s:
        return {"ten": {k: s.get(SharingRequest, ctx.world.requests[k]).tenancy_id
                        for k in ("cmcc", "unicom")}}  # fmt: skip


def listed(key: str, seen_by: set[str]) -> Check:
    """The list holds the object ``key`` (a template) names exactly for the roles in
    ``seen_by``."""

    def check(client, r, v, role):
        assert (key.format(**v) in _ids(r.json())) == (role in seen_by), (role, key)

    return check


def shows(path: str, test: Callable[[dict, dict], bool]) -> Check:
    """After the write, a GET of ``path`` (a template; ``made`` is the answer's body) passes
    ``test(body, values)``."""

    def check(client, r, v, role):
        got = client.get(API + path.format(**v, made=r.json()))
        assert got.status_code == 200 and test(got.json(), v), got.text

    return check


def props(body: dict) -> dict:
    return body.get("properties", body)


def _me(client, r, v, role):
    assert r.json()["role"] == role and r.json()["name"] == USERS[role]


def _logged_out(client, r, v, role):
    assert client.get(f"{API}/auth/me").status_code == 401


def _logged_in(client, r, v, role):
    assert r.json()["role"] == role and r.json()["csrf_token"]
    assert "mastplan_session" in client.cookies


def _only_own_users(client, r, v, role):
    orgs = {u["organisation"] for u in r.json()}
    assert "china-unicom" in orgs if role == "regulator" else len(orgs) == 1, (role, orgs)


def _file(client, r, v, role):
    assert r.content == b"matrix\n"


def _planned_site(client, r, v, role):
    assert [f["id"] for f in r.json()["features"]] == ["P1"]


def _png(client, r, v, role):
    assert r.headers["content-type"] == "image/png" and r.content == PNG


def _the_update(client, r, v, role):
    assert [(u["note"], u["author"]) for u in r.json()] == [("matrix", "wang.cmcc")]


def _queued(client, r, v, role):
    assert client.get(f"{API}/jobs/{r.json()['id']}").json()["state"] == "queued"


MOBILE = {"regulator", "operator", "viewer"}  # who sees china-mobile's jobs, plans and runs
T1_PARTIES = {"regulator", "owner", "district"}  # who sees unicom's request on T1
TOWER = {"external_id": "M-{role}", "kind": "telecom_tower", "owner": "china-tower",
         "lon_deg": 106.571, "lat_deg": 29.558, "height_m": 30.0, "mount_positions": 3,
         "max_payload_kg": 200.0, "available_power_kw": 8.0}  # fmt: skip
CSV = (b"external_id,kind,owner,lon_deg,lat_deg,height_m,mount_positions,max_payload_kg,"
       b"available_power_kw,fibre,open_for_sharing\n"
       b"up-1,telecom_tower,china-tower,106.571,29.557,30,3,300,10,yes,true\n")  # fmt: skip


# --- the matrix ---------------------------------------------------------------------------------
# Expectations list regulator, operator, owner, district, viewer (see USERS).

# fmt: off
MATRIX: dict[tuple[str, str], Op] = {
    # auth: the one unauthenticated operation; everyone else's needs the session
    ("POST", "/api/v1/auth/login"): op(
        Call("/auth/login", EVERYONE, json={"name": "{user}", "password": PASSWORD},
             anonymous=True, check=_logged_in, shared=True)),
    ("POST", "/api/v1/auth/logout"): op(Call("/auth/logout", EVERYONE, check=_logged_out,
                                             shared=True)),
    ("GET", "/api/v1/auth/me"): op(Call("/auth/me", EVERYONE, check=_me)),
    # sharing (mastplan.sharing.requests, .cases, .lifecycle, .access): an operator sees its
    # own requests; the owner those on its structures; a district those in it; a viewer its
    # organisation's. Each move belongs to one role; the regulator decides cases.
    ("GET", "/api/v1/sharing/requests"): op(
        Call("/sharing/requests", EVERYONE, check=listed("{rq[unicom_open]}", T1_PARTIES))),
    ("POST", "/api/v1/sharing/requests"): op(
        Call("/sharing/requests", "F A F F F",
             json={"structure": "T1", "position_count": 1, "payload_kg": 10.0},
             check=shows("/sharing/requests/{made[id]}", lambda b, v: b["state"] == "draft"))),
    ("GET", "/api/v1/sharing/requests/{request_id}"): op(
        Call("/sharing/requests/{rq[unicom_open]}", "A I A A I"),
        Call("/sharing/requests/{rq[cmcc]}", EVERYONE)),
    ("POST", "/api/v1/sharing/requests/{request_id}/{action}"): op(
        # the owner's move on unicom's submitted request
        Call("/sharing/requests/{rq[unicom_open]}/review", "F I A F I",
             check=shows("/sharing/requests/{rq[unicom_open]}",
                         lambda b, v: b["state"] == "under_review")),
        # the operator's move on its approved request; the regulator's forced release of it
        Call("/sharing/requests/{rq[cmcc]}/install", "F A F F F",
             check=shows("/sharing/requests/{rq[cmcc]}", lambda b, v: b["state"] == "installed")),
        Call("/sharing/requests/{rq[cmcc]}/force-release", "A F F F F",
             json={"reason": "the regulator ends it"},
             check=shows("/sharing/requests/{rq[cmcc]}", lambda b, v: b["state"] == "released")),
        # a move an approved request does not have: a conflict for all who see it
        Call("/sharing/requests/{rq[cmcc]}/withdraw", "409 409 409 409 409")),
    ("GET", "/api/v1/sharing/cases"): op(
        Call("/sharing/cases", EVERYONE, check=listed("{case}", T1_PARTIES)), setup=make_case),
    ("GET", "/api/v1/sharing/cases/{case_id}"): op(
        Call("/sharing/cases/{case}", "A I A A I"), setup=make_case),
    ("POST", "/api/v1/sharing/cases/{case_id}/decision"): op(
        Call("/sharing/cases/{case}/decision", "A I F F I",
             json={"outcome": "upheld", "decision": "the fee is too high"},
             check=shows("/sharing/cases/{case}", lambda b, v: b["outcome"] == "upheld")),
        setup=make_case),
    # the registry: places and structures are public, sites in plan their operator's (and
    # the owner's of their structure); structures are written by their owner's users and the
    # regulator, sites moved by their operator's and the regulator (.structures, .sites)
    ("GET", "/api/v1/districts"): op(Call("/districts", EVERYONE)),
    ("GET", "/api/v1/key-areas"): op(Call("/key-areas?phase_year=2019", EVERYONE)),
    ("GET", "/api/v1/key-areas/{code}"): op(Call("/key-areas/2019-jiefangbei-cbd", EVERYONE)),
    ("GET", "/api/v1/structures"): op(Call("/structures?limit=5", EVERYONE)),
    ("POST", "/api/v1/structures"): op(
        Call("/structures", "A F A F F", json=TOWER, shared=True,
             check=shows("/structures/M-{role}",
                         lambda b, v: props(b)["owner"] == "china-tower"))),
    ("GET", "/api/v1/structures/{external_id}"): op(Call("/structures/T1", EVERYONE)),
    ("PATCH", "/api/v1/structures/{external_id}"): op(
        Call("/structures/T1", "A F A F F", json={"name": "renamed by {role}"}, shared=True,
             check=shows("/structures/T1",
                         lambda b, v: props(b)["name"] == f"renamed by {v['role']}"))),
    ("GET", "/api/v1/sites"): op(Call("/sites?limit=5", EVERYONE)),
    ("GET", "/api/v1/sites/{external_id}"): op(
        # china-mobile's plan on another owner's structure; unicom's plan on China Tower's
        Call("/sites/{site[cmcc_planned_other]}", "A A I A A"),
        Call("/sites/{site[unicom_planned_tower]}", "A I A A I"),
        Call("/sites/{site[unicom_public]}", EVERYONE)),
    ("POST", "/api/v1/sites/{external_id}/transition"): op(
        Call("/sites/{site[cmcc_planned_tower]}/transition", "A A F F F", json={"to": "approved"},
             check=shows("/sites/{site[cmcc_planned_tower]}",
                         lambda b, v: props(b)["status"] == "approved")),
        Call("/sites/{site[unicom_planned_tower]}/transition", "A I F F I",
             json={"to": "approved"}),
        # on air → planned is no move of the lifecycle: 409 for those who may move the site
        Call("/sites/{site[cmcc_public]}/transition", "409 409 F F F", json={"to": "planned"})),
    ("GET", "/api/v1/organisations"): op(Call("/organisations", EVERYONE)),
    # tenancies (mastplan.sharing.leases, access.tenancy_filter): an operator its own, the
    # owner those on its structures, a district those in it, a viewer its organisation's
    ("GET", "/api/v1/tenancies"): op(
        Call("/tenancies", EVERYONE, check=listed("{ten[unicom]}", T1_PARTIES)),
        setup=tenancies),
    ("GET", "/api/v1/tenancies/{tenancy_id}"): op(
        Call("/tenancies/{ten[unicom]}", "A I A A I"),
        Call("/tenancies/{ten[cmcc]}", EVERYONE), setup=tenancies),
    ("GET", "/api/v1/users"): op(Call("/users", EVERYONE, check=_only_own_users)),
    ("GET", "/api/v1/audit"): op(
        Call("/audit?object=sharing_requests:{rq[unicom_open]}", "A I A A I"),
        Call("/audit?object=users:1", "A I I I I"),
        Call("/audit?object=structures:1", EVERYONE)),
    ("GET", "/api/v1/kpis"): op(Call("/kpis?date=2021-12-31", EVERYONE)),
    # jobs (mastplan.jobs.service): an organisation's jobs, plans and runs are its own (the
    # regulator sees all); viewers never submit nor cancel; imports and recorded coverage
    # statistics are the regulator's; recorded planned sites the regulator's or an
    # operator's for itself (the default operators: china-mobile)
    ("POST", "/api/v1/jobs"): op(
        Call("/jobs", "A A A A F", json={"kind": "report", "params": {}}, shared=True,
             check=_queued),
        Call("/jobs", "A F F F F", shared=True, check=_queued,
             json={"kind": "import", "params": {"file": "towers.csv", "layer": "structures"}})),
    ("GET", "/api/v1/jobs"): op(Call("/jobs", EVERYONE, check=listed("{job}", MOBILE)),
                                setup=make_jobs),
    ("GET", "/api/v1/jobs/{job_id}"): op(Call("/jobs/{job}", "A A I I A"), setup=make_jobs),
    ("POST", "/api/v1/jobs/{job_id}/cancel"): op(
        Call("/jobs/{job}/cancel", "A A I I F", shared=True,  # cancelling twice is fine
             check=shows("/jobs/{job}", lambda b, v: b["state"] == "cancelled")),
        Call("/jobs/{done}/cancel", "409 409 I I F"),
        setup=make_jobs),
    ("GET", "/api/v1/jobs/{job_id}/files/{name}"): op(
        Call("/jobs/{done}/files/note.txt", "A A I I A", check=_file), setup=make_jobs),
    ("POST", "/api/v1/imports"): op(
        Call("/imports", "A F F F F", form={"layer": "structures", "dry_run": "true"},
             upload=("towers.csv", CSV),
             check=shows("/jobs/{made[id]}", lambda b, v: b["kind"] == "import"))),
    ("POST", "/api/v1/plans"): op(
        Call("/plans", "A A A A F", json={"area": "2019-chayuan"}, shared=True,
             check=shows("/plans/{made[id]}", lambda b, v: b["area"] == "2019-chayuan")),
        Call("/plans", "A A F F F", json={"area": "2019-chayuan", "record": True}, shared=True,
             check=shows("/plans/{made[id]}", lambda b, v: b["state"] == "queued"))),
    ("GET", "/api/v1/plans"): op(Call("/plans", EVERYONE, check=listed("{plan}", MOBILE)),
                                 setup=make_plan),
    ("GET", "/api/v1/plans/{plan_id}"): op(Call("/plans/{plan}", "A A I I A"), setup=make_plan),
    ("GET", "/api/v1/plans/{plan_id}/sites"): op(
        Call("/plans/{plan}/sites", "A A I I A", check=_planned_site), setup=make_plan),
    ("POST", "/api/v1/coverage-runs"): op(
        Call("/coverage-runs", "A A A A F", json={"area": "2019-jiefangbei-cbd"}, shared=True,
             check=shows("/coverage-runs/{made[id]}", lambda b, v: b["state"] == "queued")),
        Call("/coverage-runs", "A F F F F", json={"area": "2019-jiefangbei-cbd", "record": True},
             check=shows("/coverage-runs/{made[id]}", lambda b, v: b["state"] == "queued"))),
    ("GET", "/api/v1/coverage-runs"): op(
        Call("/coverage-runs", EVERYONE, check=listed("{run}", MOBILE)), setup=make_run),
    ("GET", "/api/v1/coverage-runs/{run_id}"): op(
        Call("/coverage-runs/{run}", "A A I I A"), setup=make_run),
    ("GET", "/api/v1/coverage-runs/{run_id}/overlay.png"): op(
        Call("/coverage-runs/{run}/overlay.png", "A A I I A", check=_png), setup=make_run),
    # governance (mastplan.progress.*): everyone reads; a task is written by its units (key-1-2:
    # china-mobile and china-tower among them, no district government), the joint-meeting
    # office and the regulator; the meeting's records by the office and the regulator, an
    # assignment's follow-ups also by its unit (but closing it: not); scenarios and
    # enterprises by the regulator and the district governments; viewers never write
    ("GET", "/api/v1/tasks"): op(Call("/tasks", EVERYONE)),
    ("GET", "/api/v1/tasks/{code}"): op(Call("/tasks/key-1-2", EVERYONE)),
    ("GET", "/api/v1/tasks/{code}/updates"): op(
        Call("/tasks/key-1-2/updates", EVERYONE, check=_the_update),
        setup=make_update),
    ("POST", "/api/v1/tasks/{code}/updates"): op(
        Call("/tasks/key-1-2/updates", "A A A F F", shared=True,
             json={"status": "in_progress", "note": "sites surveyed by the {role}"},
             check=shows("/tasks/key-1-2", lambda b, v: b["status"] == "in_progress"))),
    ("POST", "/api/v1/tasks/{code}/milestones"): op(
        Call("/tasks/key-1-2/milestones", "A A A F F", shared=True,
             json={"title_zh": "里程碑 {role}", "title_en": "milestone of the {role}",
                   "due_on": "2022-06-30"},
             check=shows("/tasks/key-1-2", lambda b, v: f"milestone of the {v['role']}"
                         in {m["title_en"] for m in b["milestones"]}))),
    ("GET", "/api/v1/meetings"): op(
        Call("/meetings", EVERYONE, check=listed("{meeting}", set(ROLES))), setup=make_meeting),
    ("POST", "/api/v1/meetings"): op(
        Call("/meetings", "A F F F F",
             json={"held_on": "2021-03-01", "title": "joint meeting", "convener": "cq-cac"},
             check=shows("/meetings/{made[id]}", lambda b, v: b["title"] == "joint meeting"))),
    ("GET", "/api/v1/meetings/{meeting_id}"): op(Call("/meetings/{meeting}", EVERYONE),
                                                 setup=make_meeting),
    ("POST", "/api/v1/meetings/{meeting_id}/issues"): op(
        Call("/meetings/{meeting}/issues", "A F F F F",
             json={"kind": "other", "title": "power supply", "links": ["structure:T1"]},
             check=shows("/meetings/{meeting}", lambda b, v: len(b["issues"]) == 2)),
        setup=make_meeting),
    ("POST", "/api/v1/issues/{issue_id}/decisions"): op(
        Call("/issues/{issue}/decisions", "A F F F F", json={"text": "grant it"},
             check=shows("/meetings/{meeting}",
                         lambda b, v: len(b["issues"][0]["decisions"]) == 2)),
        setup=make_meeting),
    ("POST", "/api/v1/assignments/{assignment_id}/follow-ups"): op(
        Call("/assignments/{assignment}/follow-ups", "A A F F F", shared=True,
             json={"status": "in_progress", "note": "applied, by the {role}"},
             check=shows("/follow-ups", lambda b, v: b[0]["follow_ups"][-1]["note"]
                         == f"applied, by the {v['role']}")),
        # done closes the assignment: the office and the regulator only
        Call("/assignments/{assignment}/follow-ups", "A F F F F",
             json={"status": "done", "note": "granted", "evidence": ["permit.pdf"]},
             check=shows("/follow-ups", lambda b, v: b[0]["assignment"]["status"] == "done")),
        setup=make_meeting),
    ("GET", "/api/v1/follow-ups"): op(Call("/follow-ups", EVERYONE), setup=make_meeting),
    ("GET", "/api/v1/scenarios"): op(Call("/scenarios", EVERYONE)),
    ("POST", "/api/v1/scenarios"): op(
        Call("/scenarios", "A F F A F", shared=True,
             json={"code": "matrix-{role}", "name_zh": "智慧港口", "name_en": "Smart port",
                   "category": "smart-logistics", "status": "planned", "year": 2021},
             check=shows("/scenarios/matrix-{role}", lambda b, v: b["status"] == "planned"))),
    ("GET", "/api/v1/scenarios/{code}"): op(Call("/scenarios/demo-scn-01", EVERYONE)),
    ("PATCH", "/api/v1/scenarios/{code}"): op(
        Call("/scenarios/demo-scn-01", "A F F A F", json={"notes": "seen by the {role}"},
             shared=True, check=shows("/scenarios/demo-scn-01",
                                      lambda b, v: b["notes"] == f"seen by the {v['role']}"))),
    ("GET", "/api/v1/enterprises"): op(Call("/enterprises", EVERYONE)),
    ("POST", "/api/v1/enterprises"): op(
        Call("/enterprises", "A F F A F", shared=True,
             json={"code": "matrix-ent-{role}", "name_zh": "测试企业", "name_en": "Test firm",
                   "segment": "modules", "zone": "liangjiang"},
             check=shows("/enterprises/matrix-ent-{role}",
                         lambda b, v: b["zone"] == "liangjiang"))),
    ("GET", "/api/v1/enterprises/{code}"): op(Call("/enterprises/demo-ent-01", EVERYONE)),
    ("PATCH", "/api/v1/enterprises/{code}"): op(
        Call("/enterprises/demo-ent-01", "A F F A F", json={"name_en": "Renamed by the {role}"},
             shared=True, check=shows("/enterprises/demo-ent-01",
                                      lambda b, v: b["name_en"] == f"Renamed by the {v['role']}"))),
}
# fmt: on


# --- running an entry ---------------------------------------------------------------------------


def _fill(value: Any, values: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value.format(**values)
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    return value


@dataclass(frozen=True)
class SignedIn:
    """A copy of the world where each role's user has logged in (POST /auth/login): every
    copy of it carries the five live browser sessions."""

    template: str
    cookies: dict[str, str]
    csrf: dict[str, str]


@pytest.fixture(scope="module")
def signed_in(backend, world) -> SignedIn:
    """The world with a browser session of each role's user (argon2 once per role, not once
    per role and copy)."""
    url = backend.new_url(world.template)
    app = create_app(url, secure_cookies=False)
    cookies, csrf = {}, {}
    for role, name in USERS.items():
        with_login = TestClient(app)
        r = with_login.post(f"{API}/auth/login", json={"name": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        cookies[role], csrf[role] = with_login.cookies[SESSION_COOKIE], r.json()["csrf_token"]
        with_login.close()
    app.state.engine.dispose()
    return SignedIn(backend.template_source(url), cookies, csrf)


class Copies:
    """The fresh copies of the signed-in world one test uses, each with its entry's setup
    made; a role's browser sends its session cookie and CSRF token."""

    def __init__(self, backend, world, signed: SignedIn, tmp_path: Path, entry: Op) -> None:
        self.backend, self.world, self.signed = backend, world, signed
        self.tmp, self.entry = tmp_path, entry
        self.apps: list[Any] = []
        self.clients: list[TestClient] = []
        self._fresh()

    def _fresh(self) -> None:
        app = create_app(self.backend.new_url(self.signed.template), secure_cookies=False)
        self.apps.append(app)
        self.ctx = Ctx(app, self.world, self.tmp / f"jobs-{len(self.apps)}")
        app.state.jobs_dir = self.ctx.jobs_dir  # results and uploads of this copy
        self.values: dict[str, Any] = {"rq": self.world.requests, "site": self.world.sites}
        if self.entry.setup is not None:
            self.values |= self.entry.setup(self.ctx)
        self.browsers: dict[str, TestClient] = {}
        self.written_by: set[int] = set()

    def client(self, role: str, anonymous: bool) -> TestClient:
        if anonymous:
            c = TestClient(self.ctx.app)
        elif role in self.browsers:
            return self.browsers[role]
        else:
            c = self.browsers[role] = TestClient(
                self.ctx.app, cookies={SESSION_COOKIE: self.signed.cookies[role]},
                headers={CSRF_HEADER: self.signed.csrf[role]})  # fmt: skip
        self.clients.append(c)
        return c

    def for_write(self, index: int, shared: bool) -> None:
        """Make ready for an allowed write of call ``index``: this copy while no write touched
        it (or only this call's, if they are ``shared``), else a fresh one."""
        if self.written_by and not (shared and self.written_by == {index}):
            self._fresh()
        self.written_by.add(index)

    def close(self) -> None:
        for c in self.clients:
            c.close()
        for app in self.apps:
            app.state.engine.dispose()


def _call(copies: Copies, method: str, call: Call, role: str):
    values = {**copies.values, "role": role, "user": USERS[role]}
    client = copies.client(role, call.anonymous)
    kwargs: dict[str, Any] = {}
    if call.json is not None:
        kwargs["json"] = _fill(call.json, values)
    if call.form is not None:
        kwargs["data"] = _fill(call.form, values)
    if call.upload is not None:
        name, content = call.upload
        kwargs["files"] = {"file": (name, content, "application/octet-stream")}
    r = client.request(method, API + call.path.format(**values), **kwargs)
    return client, values, r


def _assert_outcome(expected: str | int, r, where) -> None:
    status = r.status_code
    if expected == A:
        assert 200 <= status < 300, (where, status, r.text)
    elif expected == F:
        assert status == 403, (where, status, r.text)
        detail = r.json()["detail"]  # the rules' refusal, not the credential's
        assert "CSRF" not in detail and "may only read" not in detail, (where, detail)
    elif expected == I:
        assert status == 404, (where, status, r.text)
    else:
        assert status == expected, (where, status, r.text)


def _operations(app) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in app.openapi()["paths"].items()
            for method in item}  # fmt: skip


def test_the_matrix_covers_every_operation(app):
    assert set(MATRIX) == _operations(app), "give every operation of the API a matrix entry"


@pytest.mark.parametrize("key", [pytest.param(key, id=f"{key[0]} {key[1].removeprefix(API)}")
                                 for key in MATRIX])  # fmt: skip
def test_each_role_gets_what_the_rules_say(backend, world, signed_in, tmp_path, key):
    method, _ = key
    entry = MATRIX[key]
    copies = Copies(backend, world, signed_in, tmp_path, entry)
    try:
        # refusals (and reads) first, on one copy: nothing they do changes it
        later = []
        for index, call in enumerate(entry.calls):
            for role, expected in call.outcomes.items():
                if expected == A and method != "GET":
                    later.append((index, call, role))
                    continue
                client, values, r = _call(copies, method, call, role)
                _assert_outcome(expected, r, (index, role))
                if expected == A and call.check is not None:
                    call.check(client, r, values, role)
        # then each allowed write, on a copy no other write touched (unless shared)
        for index, call, role in later:
            copies.for_write(index, call.shared)
            client, values, r = _call(copies, method, call, role)
            _assert_outcome(A, r, (index, role))
            if call.check is not None:
                call.check(client, r, values, role)
    finally:
        copies.close()
