"""Plans as resources, on both databases: start a planning run (202 + Location), run it with the
worker, read its totals, sharing comparison and bbox, its planned sites as GeoJSON; planned
coordinates are confidential (another operator: 404 on the plan, its sites and its files, and
it is not in its list); pages; refusals; a failed plan says why (the schemathesis run over every
endpoint is tests/api/test_api_schema.py). Also: a report job's files download from
/jobs/{id}/files/{name}.

Runs are kept small: one key area at 100 m, the greedy solver.
"""

from __future__ import annotations

import pytest

from mastplan.jobs import runner

API = "/api/v1"
pytestmark = pytest.mark.usefixtures("local_jobs")
#: A small plan of two operators that needs a site (a share above what is on air).
PLAN = {"area": "2019-chayuan", "operators": ["china-mobile", "china-unicom"],
        "target_share": 0.99, "resolution_m": 100, "solver": "greedy", "time_limit_s": 10,
        "record": False}  # fmt: skip
SITE_PROPERTIES = {"site", "area", "operator", "band", "structure", "kind", "new_build",
                   "height_m", "site_class", "azimuths_deg", "tilt_deg", "cost_yuan",
                   "reason"}  # fmt: skip


def start(client, body: dict) -> dict:
    r = client.post(f"{API}/plans", json=body)
    assert r.status_code == 202, r.text
    assert r.headers["Location"] == f"{API}/plans/{r.json()['id']}"
    return r.json()


def test_a_plan_runs_and_gives_totals_sharing_bbox_and_its_sites(bearer, app, login, run_jobs):
    cmcc = bearer("wang.cmcc", write=True)
    plan = start(cmcc, PLAN)
    pid = plan["id"]
    assert plan["state"] == "queued" and plan["area"] == "2019-chayuan"
    assert plan["operators"] == ["china-mobile", "china-unicom"]
    assert plan["submitted_by"] == "wang.cmcc" and plan["totals"] is None
    assert plan["feasible"] is None and plan["bbox"] is None and plan["error"] is None
    r = cmcc.get(f"{API}/plans/{pid}/sites")
    assert r.status_code == 404 and "queued" in r.json()["detail"]
    job = cmcc.get(f"{API}/jobs/{pid}").json()  # the plan is a job: the typed body narrowed it
    assert job["kind"] == "plan" and job["params"]["resolution_m"] == 100
    assert job["params"]["solver"] == "greedy" and job["params"]["target_share"] == 0.99

    assert run_jobs(app) == 1
    done = cmcc.get(f"{API}/plans/{pid}").json()
    assert done["state"] == "done", done["message"]
    assert done["feasible"] is True and done["progress"] == 1.0 and done["finished_at"]
    totals = done["totals"]
    assert totals["sites"] >= 1
    assert totals["sites"] == totals["new_towers"] + totals["on_existing_structures"]
    assert totals["cost_yuan"] > 0
    sharing = done["sharing"]
    assert sharing["operators"] == ["china-mobile", "china-unicom"]
    assert sharing["joint_cost_yuan"] == totals["cost_yuan"]

    r = cmcc.get(f"{API}/plans/{pid}/sites")
    assert r.status_code == 200
    body = r.json()
    assert body["type"] == "FeatureCollection" and body["plan"] == pid
    feats = body["features"]
    assert len(feats) == totals["sites"]
    west, south, east, north = done["bbox"]
    for f in feats:
        assert f["type"] == "Feature" and f["geometry"]["type"] == "Point"
        lon, lat = f["geometry"]["coordinates"]
        assert west <= lon <= east and south <= lat <= north
        props = f["properties"]
        assert set(props) == SITE_PROPERTIES and f["id"] == props["site"]
        assert props["area"] == "2019-chayuan" and isinstance(props["new_build"], bool)
        assert props["operator"] in PLAN["operators"] and props["cost_yuan"] > 0
        assert len(props["azimuths_deg"].split("/")) == 3
        assert (props["structure"] is None) == props["new_build"]
    assert min(f["geometry"]["coordinates"][0] for f in feats) == west
    assert max(f["geometry"]["coordinates"][1] for f in feats) == north
    assert "sites.csv" in cmcc.get(f"{API}/jobs/{pid}").json()["files"]

    # confidential: another operator finds nothing, anywhere
    unicom = bearer("sun.unicom")
    for path in (f"/plans/{pid}", f"/plans/{pid}/sites", f"/jobs/{pid}",
                 f"/jobs/{pid}/files/sites.csv", f"/jobs/{pid}/files/sites.gpkg",
                 f"/jobs/{pid}/files/plan.json"):  # fmt: skip
        r = unicom.get(f"{API}{path}")
        assert r.status_code == 404, (path, r.text)
    assert unicom.get(f"{API}/plans/{pid}").json()["detail"] == f"no plan {pid}"
    assert unicom.get(f"{API}/plans/{pid}/sites").json()["detail"] == f"no plan {pid}"
    assert pid not in [p["id"] for p in unicom.get(f"{API}/plans").json()["items"]]
    # the regulator sees every plan; a viewer of the organisation sees its own
    reg = bearer("li.reg")
    assert reg.get(f"{API}/plans/{pid}/sites").json()["features"] == feats
    assert pid in [p["id"] for p in reg.get(f"{API}/plans").json()["items"]]
    assert login("ma.viewer").get(f"{API}/plans/{pid}").json()["totals"] == totals


def test_plans_list_pages_newest_first_and_holds_only_plans(bearer, login):
    cmcc = bearer("wang.cmcc", write=True)
    ids = [start(cmcc, {"area": "2019-chayuan"})["id"] for _ in range(3)]
    other = cmcc.post(f"{API}/coverage-runs", json={"area": "2019-chayuan"}).json()["id"]
    page = cmcc.get(f"{API}/plans", params={"limit": 2}).json()
    assert [p["id"] for p in page["items"]] == ids[:0:-1] and page["next_cursor"] == ids[1]
    rest = cmcc.get(f"{API}/plans", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [p["id"] for p in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    assert other not in [p["id"] for p in cmcc.get(f"{API}/plans").json()["items"]]
    first = rest["items"][0]
    assert first["operators"] == ["china-mobile"] and first["state"] == "queued"
    r = cmcc.get(f"{API}/plans/{other}")  # a coverage run is no plan
    assert r.status_code == 404 and r.json()["detail"] == f"no plan {other}"
    assert cmcc.get(f"{API}/plans/999999").json()["detail"] == "no plan 999999"
    assert cmcc.get(f"{API}/plans/{2**64}").status_code == 422


@pytest.mark.parametrize(
    ("who", "body", "status", "words"),
    [
        ("wang.cmcc", {"area": "nowhere"}, 400, "params.area"),
        ("wang.cmcc", {**PLAN, "record": True}, 403, "for its own sites"),
        ("wang.cmcc", {**PLAN, "solver": "quantum"}, 422, "invalid request"),
        ("wang.cmcc", {**PLAN, "target_share": 1.5}, 422, "invalid request"),
        ("wang.cmcc", {**PLAN, "operators": []}, 422, "invalid request"),
        ("wang.cmcc", {**PLAN, "greenfield": True}, 422, "invalid request"),
        ("wang.cmcc", {"operators": ["china-mobile"]}, 422, "invalid request"),
        ("ma.viewer", PLAN, 403, "this token may only read"),
    ],
)  # fmt: skip
def test_starting_a_plan_refuses_bad_bodies_and_roles(bearer, who, body, status, words):
    r = bearer(who, write=who != "ma.viewer").post(f"{API}/plans", json=body)
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]


def test_a_viewer_may_not_start_a_plan_and_an_operator_records_only_itself(login, bearer):
    r = login("ma.viewer").post(f"{API}/plans", json=PLAN)
    assert r.status_code == 403 and "viewer" in r.json()["detail"]
    own = {**PLAN, "operators": ["china-mobile"], "record": True}
    assert bearer("wang.cmcc", write=True).post(f"{API}/plans", json=own).status_code == 202


def test_a_failed_plan_says_why(bearer, app, monkeypatch, run_jobs):
    def broken(ctx):
        raise runner.MastplanError("no structures near the area")

    monkeypatch.setitem(runner.RUNNERS, "plan", broken)
    cmcc = bearer("wang.cmcc", write=True)
    pid = start(cmcc, PLAN)["id"]
    assert run_jobs(app) == 1
    failed = cmcc.get(f"{API}/plans/{pid}").json()
    assert failed["state"] == "failed" and failed["error"] == "no structures near the area"
    assert failed["totals"] is None and failed["bbox"] is None
    r = cmcc.get(f"{API}/plans/{pid}/sites")
    assert r.status_code == 404 and "failed" in r.json()["detail"]


@pytest.mark.slow
def test_a_report_jobs_files_download(bearer, app, run_jobs):
    """What the UI does for reports: POST /jobs {kind: report} and then download its files."""
    cmcc = bearer("wang.cmcc", write=True)
    params = {"scope": "500103", "lang": ["zh", "en"]}
    r = cmcc.post(f"{API}/jobs", json={"kind": "report", "params": params})
    assert r.status_code == 202, r.text
    jid = r.json()["id"]
    assert run_jobs(app) == 1
    job = cmcc.get(f"{API}/jobs/{jid}").json()
    assert job["state"] == "done", job["message"]
    for lang in ("zh", "en"):
        names = job["result"]["summary"]["reports"][lang]
        assert names["pdf"] in job["files"] and names["html"] in job["files"]
        pdf = cmcc.get(f"{API}/jobs/{jid}/files/{names['pdf']}")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-type"] == "application/pdf"
        html = cmcc.get(f"{API}/jobs/{jid}/files/{names['html']}")
        assert html.status_code == 200 and "<html" in html.text.lower()
    assert bearer("sun.unicom").get(f"{API}/jobs/{jid}/files/{names['pdf']}").status_code == 404
