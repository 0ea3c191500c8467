"""Background jobs on both databases: submit over the API (202 + Location), run with the worker
to done with rising progress and download the result; cancel a queued job and a running one;
a job outlives a restart of the server; the job of a dead worker goes back to the queue and
completes (and fails after three attempts); concurrent workers never claim the same job;
another organisation's job does not exist for the caller; the CLI lists, shows, cancels, runs.

The fixtures are this file's own: a template per backend (the loaded data set plus users and
API tokens), copied per test; a fake ``test-steps`` kind that takes as long as asked.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from mastplan.api.app import create_app
from mastplan.api.security import create_token
from mastplan.cli.jobs import jobs_app, worker_cmd
from mastplan.jobs import runner, service
from mastplan.jobs.models import JobState
from mastplan.jobs.runner import Worker, start_worker, stop_worker
from mastplan.registry.audit import Actor, verify_chain
from mastplan.registry.db import make_engine, session_factory
from mastplan.registry.models import AuditEntry
from mastplan.registry.users import add_user
from mastplan.sharing.calendar import today

API = "/api/v1"
ADMIN = Actor("admin", "jobs test setup")
#: name → (organisation, role)
PEOPLE = {
    "li.reg": ("cq-cac", "regulator"),
    "wang.cmcc": ("china-mobile", "operator"),
    "sun.unicom": ("china-unicom", "operator"),
    "ma.viewer": ("china-mobile", "viewer"),
}
STEPS = "test-steps"


@dataclass
class JobsWorld:
    template: str
    tokens: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="session")
def jobs_world(backend, loaded_template) -> JobsWorld:
    """The loaded data set with the users above and a read-write token each (once per
    backend)."""
    url = backend.new_url(loaded_template)
    world = JobsWorld(backend.template_source(url))
    engine = make_engine(url)
    with session_factory(engine)() as s:
        for name, (org, role) in PEOPLE.items():
            add_user(s, ADMIN, name, org, role)
            world.tokens[name] = create_token(s, ADMIN, name, "jobs", ("read", "write"))[0]
    engine.dispose()
    return world


@pytest.fixture
def jobs_url(backend, jobs_world: JobsWorld, tmp_path, monkeypatch) -> str:
    """A fresh copy of the jobs world; job results under this test's folder; no server worker
    unless a test starts one."""
    monkeypatch.setenv(runner.JOBS_DIR_ENV, str(tmp_path / "jobs"))
    monkeypatch.setenv(runner.WORKER_ENV, "0")
    return backend.new_url(jobs_world.template)


def _app(url: str):
    app = create_app(url, secure_cookies=False)
    stop_worker(app)  # the tests run their own workers, when they choose
    return app


@pytest.fixture
def jobs_api(jobs_url: str) -> Iterator:
    app = _app(jobs_url)
    yield app
    stop_worker(app)
    app.state.engine.dispose()


@pytest.fixture
def as_user(jobs_api, jobs_world: JobsWorld) -> Iterator[Callable[[str], TestClient]]:
    """``as_user(name)``: a client sending ``name``'s read-write Bearer token."""
    made: list[TestClient] = []

    def make(name: str, app=None) -> TestClient:
        c = TestClient(app or jobs_api,
                       headers={"Authorization": f"Bearer {jobs_world.tokens[name]}"})  # fmt: skip
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@dataclass
class Steps:
    """What the fake kind's runs did: the step each reached, by job id."""

    reached: dict[int, int] = field(default_factory=dict)
    started: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def steps_kind(monkeypatch) -> Steps:
    """A ``test-steps`` kind: ``steps`` progress reports ``sleep_s`` apart, then a file."""
    seen = Steps()

    def validate(_session, _user, params):
        return {"steps": int(params.get("steps", 3)), "sleep_s": float(params.get("sleep_s", 0))}

    def run(ctx: runner.JobContext):
        n = ctx.params["steps"]
        for i in range(n):
            seen.reached[ctx.job_id] = i
            ctx.progress(i / n, f"step {i} of {n}")
            seen.started.set()
            time.sleep(ctx.params["sleep_s"])
        (ctx.out_dir / "steps.txt").write_text(f"{n} steps\n", encoding="utf-8")
        return {"steps": n}

    monkeypatch.setitem(service.KINDS, STEPS, service.JobKind(STEPS, validate))
    monkeypatch.setitem(runner.RUNNERS, STEPS, run)
    return seen


def worker_of(app, **options) -> Worker:
    opts = {"poll_s": 0.02, "progress_interval_s": 0.0, "heartbeat_s": 1.0,
            "stale_after": dt.timedelta(seconds=60)} | options  # fmt: skip
    return Worker(app.state.sessions, **opts)


def submit(client: TestClient, kind: str, params: dict | None = None) -> dict:
    r = client.post(f"{API}/jobs", json={"kind": kind, "params": params or {}})
    assert r.status_code == 202, r.text
    assert r.headers["Location"] == f"{API}/jobs/{r.json()['id']}"
    return r.json()


def wait_for(client: TestClient, job_id: int, test: Callable[[dict], bool], timeout: float = 10):
    """Poll the job until ``test(job)``; every state seen on the way, in order."""
    seen = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r = client.get(f"{API}/jobs/{job_id}")
        assert r.status_code == 200, r.text
        seen.append(r.json())
        if test(seen[-1]):
            return seen
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} never got there: last {seen[-1] if seen else None}")


# --- a report, from submit to download ----------------------------------------------------------


def test_report_job_runs_to_done_with_rising_progress_and_its_pdf(as_user, jobs_api, monkeypatch):
    reported: list[float] = []
    real = service.report_progress

    def spy(session, job_id, fraction=None, message=None, **kw):
        if fraction is not None:
            reported.append(fraction)
        return real(session, job_id, fraction, message, **kw)

    monkeypatch.setattr(service, "report_progress", spy)
    cmcc = as_user("wang.cmcc")
    job = submit(cmcc, "report", {"scope": "500103", "lang": ["en"]})
    assert job["state"] == "queued" and job["progress"] == 0.0
    assert job["submitted_by"] == "wang.cmcc" and job["organisation"] == "china-mobile"
    assert job["params"] == {"date": today().isoformat(), "scope": "500103", "lang": ["en"]}

    worker = start_worker(jobs_api, poll_s=0.02, progress_interval_s=0.0)
    try:
        seen = wait_for(cmcc, job["id"], lambda j: j["state"] in ("done", "failed"), timeout=60)
    finally:
        assert stop_worker(jobs_api)
    done = seen[-1]
    assert done["state"] == "done", done["message"]
    assert worker is not None and done["worker"] == worker.name
    progress = [j["progress"] for j in seen]
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert len(reported) >= 2 and reported == sorted(reported) and 0 < reported[-1] < 1
    pdf = done["result"]["summary"]["reports"]["en"]["pdf"]
    assert pdf == "report-en.pdf" and pdf in done["files"]
    assert "report-en.html" in done["files"] and done["result"]["attempts"] == 1
    assert any(f.startswith("img-en/") for f in done["files"])

    r = cmcc.get(f"{API}/jobs/{job['id']}/files/{pdf}")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert "attachment" in r.headers["content-disposition"]
    image = next(f for f in done["files"] if f.startswith("img-en/"))
    assert cmcc.get(f"{API}/jobs/{job['id']}/files/{image}").status_code == 200
    # only the names the result lists; nothing outside the job's folder
    for bad in ("nope.pdf", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd",
                "img-en%2F..%2Freport-en.pdf"):  # fmt: skip
        r = cmcc.get(f"{API}/jobs/{job['id']}/files/{bad}")
        assert r.status_code == 404, (bad, r.status_code)


# --- cancelling ---------------------------------------------------------------------------------


def test_cancel_a_queued_job_at_once(as_user, jobs_api, steps_kind):
    cmcc = as_user("wang.cmcc")
    job = submit(cmcc, STEPS, {"steps": 2})
    r = cmcc.post(f"{API}/jobs/{job['id']}/cancel")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "cancelled" and r.json()["finished_at"] is not None
    assert cmcc.post(f"{API}/jobs/{job['id']}/cancel").json()["state"] == "cancelled"

    assert worker_of(jobs_api).run(until_idle=True) == 0  # nothing left to run
    assert job["id"] not in steps_kind.reached
    with jobs_api.state.sessions() as s:  # submitting and cancelling are audited
        entries = s.scalars(select(AuditEntry).where(AuditEntry.entity == "jobs",
                                                     AuditEntry.entity_id == str(job["id"]))
                            .order_by(AuditEntry.id)).all()  # fmt: skip
        assert [(e.action, e.actor, e.organisation) for e in entries] == [
            ("create", "wang.cmcc", "china-mobile"),
            ("update", "wang.cmcc", "china-mobile"),
        ]
        assert entries[1].after["state"] == "cancelled"
        assert verify_chain(s).intact
    assert cmcc.get(f"{API}/jobs/{job['id']}").json()["state"] == "cancelled"

    # a job done cannot be cancelled any more
    other = submit(cmcc, STEPS, {"steps": 1})
    assert worker_of(jobs_api).run(until_idle=True) == 1
    r = cmcc.post(f"{API}/jobs/{other['id']}/cancel")
    assert r.status_code == 409 and "is done" in r.json()["detail"]


def test_cancel_a_running_job_stops_it_as_cancelled(as_user, jobs_api, steps_kind, tmp_path):
    cmcc = as_user("wang.cmcc")
    job = submit(cmcc, STEPS, {"steps": 400, "sleep_s": 0.02})
    worker = worker_of(jobs_api)
    worker.start()
    try:
        assert steps_kind.started.wait(10)
        wait_for(cmcc, job["id"], lambda j: j["state"] == "running" and j["progress"] > 0)
        r = cmcc.post(f"{API}/jobs/{job['id']}/cancel")
        assert r.status_code == 200, r.text
        assert r.json()["cancel_requested"] is True
        seen = wait_for(cmcc, job["id"], lambda j: j["state"] != "running")
    finally:
        assert worker.stop(10)
    end = seen[-1]
    assert end["state"] == "cancelled", end
    assert 0 < end["progress"] < 1 and end["files"] == []
    assert steps_kind.reached[job["id"]] < 399  # it stopped, long before its end
    assert not (tmp_path / "jobs" / str(job["id"])).exists()  # partial files go


def test_a_stopping_worker_puts_its_job_back_in_the_queue(as_user, jobs_api, steps_kind):
    cmcc = as_user("wang.cmcc")
    job = submit(cmcc, STEPS, {"steps": 400, "sleep_s": 0.02})
    worker = worker_of(jobs_api)
    worker.start()
    assert steps_kind.started.wait(10)
    assert worker.stop(10)
    back = cmcc.get(f"{API}/jobs/{job['id']}").json()
    assert back["state"] == "queued" and back["worker"] is None
    assert back["result"]["attempts"] == 0  # a clean stop is not a failed attempt


# --- restarts and dead workers ------------------------------------------------------------------


def test_a_job_survives_a_restart_and_a_new_worker_runs_it(jobs_url, jobs_world, steps_kind):
    token = {"Authorization": f"Bearer {jobs_world.tokens['wang.cmcc']}"}
    first = _app(jobs_url)
    client = TestClient(first, headers=token)
    job = submit(client, STEPS, {"steps": 3})
    client.close()
    stop_worker(first)
    first.state.engine.dispose()  # the server is gone

    second = _app(jobs_url)  # a new server over the same database
    client = TestClient(second, headers=token)
    try:
        again = client.get(f"{API}/jobs/{job['id']}").json()
        assert again["state"] == "queued" and again["params"] == job["params"]
        assert worker_of(second).run(until_idle=True) == 1
        done = client.get(f"{API}/jobs/{job['id']}").json()
        assert done["state"] == "done" and done["files"] == ["steps.txt"]
        assert client.get(f"{API}/jobs/{job['id']}/files/steps.txt").text == "3 steps\n"
    finally:
        client.close()
        stop_worker(second)
        second.state.engine.dispose()


def test_the_server_runs_a_worker_from_start_to_shutdown(jobs_url, jobs_world, steps_kind,
                                                         monkeypatch):  # fmt: skip
    monkeypatch.delenv(runner.WORKER_ENV)
    app = _app(jobs_url)
    app.router.lifespan_context = runner.worker_lifespan  # what create_app hooks in
    token = {"Authorization": f"Bearer {jobs_world.tokens['wang.cmcc']}"}
    try:
        with TestClient(app, headers=token) as client:
            worker = app.state.job_worker
            assert worker is not None and worker.is_alive()
            job = submit(client, STEPS, {"steps": 2})
            seen = wait_for(client, job["id"], lambda j: j["state"] == "done")
            assert seen[-1]["worker"] == worker.name
        assert app.state.job_worker is None and not worker.is_alive()
    finally:
        stop_worker(app)
        app.state.engine.dispose()


def test_the_job_of_a_dead_worker_is_requeued_and_completed(as_user, jobs_api, steps_kind):
    cmcc = as_user("wang.cmcc")
    job = submit(cmcc, STEPS, {"steps": 2})
    sessions = jobs_api.state.sessions
    with sessions() as s:
        claimed = service.claim_next(s, "ghost-host:1:1")
        assert claimed is not None and claimed.id == job["id"]
    assert cmcc.get(f"{API}/jobs/{job['id']}").json()["state"] == "running"

    with sessions() as s:  # it is not stale yet: it stays with its worker
        assert service.recover(s, dt.timedelta(minutes=5)) == []
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    with sessions() as s:  # ten minutes without a word: its worker died
        back = service.recover(s, dt.timedelta(minutes=5), now=later)
        assert [j.id for j in back] == [job["id"]]
    queued = cmcc.get(f"{API}/jobs/{job['id']}").json()
    assert queued["state"] == "queued" and "ghost-host:1:1" in queued["message"]
    assert queued["result"]["attempts"] == 1

    assert worker_of(jobs_api).run(until_idle=True) == 1
    done = cmcc.get(f"{API}/jobs/{job['id']}").json()
    assert done["state"] == "done" and done["result"]["attempts"] == 2


def test_a_worker_taken_for_dead_that_finishes_still_delivers(jobs_url, steps_kind):
    engine = make_engine(jobs_url)
    sessions = session_factory(engine)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    try:
        with sessions() as s:
            first = service.submit(s, "wang.cmcc", STEPS, {"steps": 1})
            second = service.submit(s, "wang.cmcc", STEPS, {"steps": 1})
            for job in (first, second):
                assert service.claim_next(s, "busy").id == job.id
            assert len(service.recover(s, dt.timedelta(minutes=5), now=later)) == 2
            # not claimed since: the busy worker's result counts
            assert service.finish(s, first.id, {"files": []}, worker="someone-else") is None
            done = service.finish(s, first.id, {"files": []}, worker="busy")
            assert done is not None and done.state is JobState.DONE
            # claimed by another worker since: the late result is dropped
            assert service.claim_next(s, "fresh").id == second.id
            assert service.finish(s, second.id, {"files": []}, worker="busy") is None
            assert service.report_progress(s, second.id, 0.5, worker="busy") is False
            assert service.report_progress(s, second.id, 0.5, worker="fresh") is True
    finally:
        engine.dispose()


def test_a_restarted_server_takes_back_the_jobs_of_its_dead_process_at_once(
    as_user, jobs_api, steps_kind
):
    cmcc = as_user("wang.cmcc")
    job = submit(cmcc, STEPS, {"steps": 1})
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead_name = f"{runner._HOST}:{gone.pid}:1"  # a worker of this machine whose process ended
    with jobs_api.state.sessions() as s:
        service.claim_next(s, dead_name)
    worker = worker_of(jobs_api, stale_after=dt.timedelta(hours=1))
    assert worker.run(until_idle=True) == 1  # recovered at start, without waiting an hour
    assert cmcc.get(f"{API}/jobs/{job['id']}").json()["state"] == "done"


def test_a_job_whose_worker_keeps_dying_fails_after_three_attempts(jobs_url, steps_kind):
    engine = make_engine(jobs_url)
    sessions = session_factory(engine)
    try:
        with sessions() as s:
            job = service.submit(s, "wang.cmcc", STEPS, {"steps": 1})
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        for attempt in range(1, 4):
            with sessions() as s:
                assert service.claim_next(s, f"doomed-{attempt}").id == job.id
                [back] = service.recover(s, dt.timedelta(minutes=5), now=later)
            expected = JobState.QUEUED if attempt < 3 else JobState.FAILED
            assert back.state is expected, (attempt, back.message)
        assert "after 3 attempts" in back.message
        with sessions() as s:
            assert service.claim_next(s, "another") is None
    finally:
        engine.dispose()


# --- concurrent workers -------------------------------------------------------------------------


def test_concurrent_workers_never_claim_the_same_job(jobs_url, steps_kind):
    engine = make_engine(jobs_url)
    with session_factory(engine)() as s:
        ids = [service.submit(s, "wang.cmcc", STEPS, {"steps": 1}).id for _ in range(24)]
    engine.dispose()

    workers = 4
    barrier = threading.Barrier(workers)
    claimed: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def claim_all(name: str) -> None:
        own = make_engine(jobs_url)  # a process-like worker: its own engine and connections
        try:
            with session_factory(own)() as session:
                mine = claimed.setdefault(name, [])
                barrier.wait(timeout=30)
                while (job := service.claim_next(session, name)) is not None:
                    mine.append(job.id)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=claim_all, args=(f"w{i}",)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    every = [i for mine in claimed.values() for i in mine]
    assert sorted(every) == sorted(ids)  # each job claimed exactly once
    assert len(set(every)) == len(every)


# --- who sees what ------------------------------------------------------------------------------


def test_another_organisations_job_does_not_exist_for_the_caller(as_user, steps_kind):
    cmcc, unicom = as_user("wang.cmcc"), as_user("sun.unicom")
    job = submit(cmcc, STEPS, {"steps": 1})
    jid = job["id"]
    missing = unicom.get(f"{API}/jobs/999999")
    assert missing.status_code == 404 and missing.json()["detail"] == "no job 999999"
    assert unicom.get(f"{API}/jobs/{2**64}").status_code == 422  # not a database id at all
    for r in (unicom.get(f"{API}/jobs/{jid}"), unicom.post(f"{API}/jobs/{jid}/cancel"),
              unicom.get(f"{API}/jobs/{jid}/files/steps.txt")):  # fmt: skip
        assert r.status_code == 404 and r.json()["detail"] == f"no job {jid}", r.text
    assert jid not in [j["id"] for j in unicom.get(f"{API}/jobs").json()["items"]]

    # the regulator sees every job; a viewer of the same organisation sees it but cannot cancel
    reg = as_user("li.reg")
    assert reg.get(f"{API}/jobs/{jid}").status_code == 200
    assert jid in [j["id"] for j in reg.get(f"{API}/jobs").json()["items"]]
    viewer = as_user("ma.viewer")
    assert viewer.get(f"{API}/jobs/{jid}").status_code == 200
    r = viewer.post(f"{API}/jobs/{jid}/cancel")
    assert r.status_code == 403 and "viewer" in r.json()["detail"]
    assert cmcc.get(f"{API}/jobs/{jid}").json()["state"] == "queued"


def test_list_pages_and_filters(as_user, steps_kind):
    cmcc = as_user("wang.cmcc")
    ids = [submit(cmcc, STEPS, {"steps": 1})["id"] for _ in range(3)]
    cmcc.post(f"{API}/jobs/{ids[0]}/cancel")
    page = cmcc.get(f"{API}/jobs", params={"limit": 2}).json()
    assert [j["id"] for j in page["items"]] == ids[:0:-1] and page["next_cursor"] == ids[1]
    rest = cmcc.get(f"{API}/jobs", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [j["id"] for j in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    queued = cmcc.get(f"{API}/jobs", params={"state": "queued", "kind": STEPS}).json()
    assert [j["id"] for j in queued["items"]] == ids[:0:-1]


@pytest.mark.parametrize(
    ("who", "kind", "params", "status", "words"),
    [
        ("wang.cmcc", "mine-bitcoin", {}, 400, "unknown job kind 'mine-bitcoin'"),
        ("wang.cmcc", "report", {"lang": ["fr"]}, 400,
         "invalid parameters of a report job: lang.0"),
        ("wang.cmcc", "report", {"scope": "999999"}, 400, "no district '999999'"),
        ("wang.cmcc", "report", {"colour": "red"}, 400, "colour: Extra inputs are not permitted"),
        ("ma.viewer", "report", {}, 403, "is a viewer and cannot submit jobs"),
        ("wang.cmcc", "coverage", {"area": "nowhere"}, 400, "params.area"),
        ("wang.cmcc", "coverage", {"area": "500103", "resolution_m": 0}, 400, "resolution_m"),
        ("wang.cmcc", "coverage", {"area": "500103", "record": True}, 403, "only the regulator"),
        ("wang.cmcc", "plan", {}, 400, "exactly one of area and phased"),
        ("wang.cmcc", "plan", {"area": "500103", "operators": ["china-unicom"], "record": True},
         403, "for its own sites"),
        ("wang.cmcc", "import", {"file": "a.csv", "layer": "sites"}, 403, "only the regulator"),
        ("li.reg", "import", {"file": "../a.csv", "layer": "sites"}, 400, "a plain file name"),
    ],
)  # fmt: skip
def test_submit_refuses_bad_kinds_params_and_roles(as_user, who, kind, params, status, words):
    r = as_user(who).post(f"{API}/jobs", json={"kind": kind, "params": params})
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]


def test_a_failing_job_fails_with_its_reason(as_user, jobs_api, monkeypatch, steps_kind):
    def broken(ctx):
        raise service.MastplanError("the data set has no such thing")

    monkeypatch.setitem(runner.RUNNERS, STEPS, broken)
    cmcc = as_user("wang.cmcc")
    job = submit(cmcc, STEPS)
    assert worker_of(jobs_api).run(until_idle=True) == 1
    failed = cmcc.get(f"{API}/jobs/{job['id']}").json()
    assert failed["state"] == "failed" and failed["message"] == "the data set has no such thing"
    assert failed["files"] == []


# --- the command line ---------------------------------------------------------------------------


def test_cli_worker_once_and_jobs_list_show_cancel(jobs_url, steps_kind, monkeypatch):
    cli = typer.Typer()
    cli.command("worker")(worker_cmd)
    cli.add_typer(jobs_app, name="jobs")
    run = CliRunner().invoke
    engine = make_engine(jobs_url)
    with session_factory(engine)() as s:
        first = service.submit(s, "wang.cmcc", STEPS, {"steps": 1}).id
        second = service.submit(s, "wang.cmcc", STEPS, {"steps": 1}).id
    engine.dispose()
    db = ["--database", jobs_url]
    monkeypatch.setenv("MASTPLAN_USER", "wang.cmcc")
    r = run(cli, ["jobs", "cancel", str(second), *db])
    assert r.exit_code == 0 and f"job {second} cancelled" in r.output, r.output
    r = run(cli, ["worker", "--once", "--poll-s", "0.05", *db])
    assert r.exit_code == 0 and "ran 1 job(s)" in r.output, r.output
    r = run(cli, ["jobs", "list", *db])
    assert r.exit_code == 0 and "done" in r.output and "cancelled" in r.output, r.output
    r = run(cli, ["jobs", "show", str(first), *db])
    assert r.exit_code == 0 and '"state": "done"' in r.output and "steps.txt" in r.output
    r = run(cli, ["jobs", "show", str(first), *db, "--as", "sun.unicom"])
    assert r.exit_code == 1 and f"no job {first}" in r.output


def test_jobs_dir_is_where_results_go(tmp_path, monkeypatch):
    monkeypatch.setenv(runner.JOBS_DIR_ENV, str(tmp_path / "jobs"))
    assert runner.jobs_dir() == (tmp_path / "jobs").resolve()
    assert runner.uploads_dir() == (tmp_path / "jobs" / "uploads").resolve()
    assert Path(runner.jobs_dir()).is_absolute()


# --- the real kinds, small ----------------------------------------------------------------------


def _structures_csv(path: Path, n: int = 3) -> None:
    rows = ["external_id,kind,owner,lon_deg,lat_deg,height_m,mount_positions,max_payload_kg,"
            "available_power_kw,fibre,open_for_sharing"]  # fmt: skip
    rows += [f"job-{i},telecom_tower,china-tower,{106.57 + i * 1e-3},29.557,30,3,300,10,yes,true"
             for i in range(n)]  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("who", "kind", "params", "expect_file"),
    [
        ("li.reg", "coverage", {"area": "2019-jiefangbei-cbd", "resolution_m": 100,
                                "record": True}, "stats.json"),
        ("wang.cmcc", "plan", {"area": "2019-chayuan", "resolution_m": 50, "solver": "greedy",
                               "greenfield": True, "time_limit_s": 10, "record": True},
         "plan.json"),
        ("li.reg", "import", {"file": "towers.csv", "layer": "structures"}, None),
    ],
)  # fmt: skip
def test_the_real_kinds_run_to_done(as_user, jobs_api, who, kind, params, expect_file):
    _structures_csv(runner.uploads_dir() / "towers.csv")
    client = as_user(who)
    job = submit(client, kind, params)
    assert worker_of(jobs_api).run(until_idle=True) == 1
    done = client.get(f"{API}/jobs/{job['id']}").json()
    assert done["state"] == "done", done["message"]
    summary = done["result"]["summary"]
    if expect_file:
        assert expect_file in done["files"]
        r = client.get(f"{API}/jobs/{job['id']}/files/{expect_file}")
        assert r.status_code == 200 and r.json()
    if kind == "coverage":
        assert summary["recorded_key_areas"] == 1 and "covered_share" in summary["statistics"]
    if kind == "plan":
        assert summary["feasible"] is True and summary["totals"]["sites"] > 0
        assert summary["recorded"] is True
    if kind == "import":
        assert summary["rows"] == 3 and summary["inserted"] == 3 and done["files"] == []


def test_a_jobs_files_leave_out_the_tiles_that_make_it_resumable(tmp_path):
    for name in ("sites.csv", "2019/plan.json", "plan-tiles/t1_2-ab.npz",
                 "2020/plan-tiles/builder-cd.npz", "tiles/rsrp_dbm/r0000_c0000.tif",
                 "tiles/run.json", "img-en/map.png"):  # fmt: skip
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert runner.job_files(tmp_path) == ["2019/plan.json", "img-en/map.png", "sites.csv"]
    assert runner.job_files(tmp_path / "missing") == []
