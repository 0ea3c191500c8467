"""Writes and versions over HTTP, on both databases: structures, sites, scenarios, enterprises
and sharing cases are written by the roles their services allow (audited), refused to the
others (403), not found for those who may not see them (404); every GET of one mutable
resource sends an ``ETag``, and a write with ``If-Match`` happens only at that version (412
for a stale tag or one of another object, nothing written)."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from mastplan.api.etags import etag, if_match
from mastplan.registry.enums import CaseKind
from mastplan.registry.models import SharingRequest
from mastplan.registry.users import actor_for
from mastplan.sharing.cases import open_case

API = "/api/v1"


def ok(response, status: int = 200):
    assert response.status_code == status, response.text
    return response.json()


def audit(client, obj: str) -> list[dict]:
    return ok(client.get(f"{API}/audit", params={"object": obj}))["items"]


def field_of(response) -> str:
    """The field a 422 names (the service's import rules, or the request's schema)."""
    assert response.status_code == 422, response.text
    body = response.json()
    found = [e["field"] for e in body.get("errors") or [] if "field" in e]
    found += [str(e["loc"][-1]) for e in body.get("errors") or [] if "loc" in e]
    return found[0]


# --- the tag itself -----------------------------------------------------------------------------


def test_a_tag_names_its_object_and_version():
    assert etag("request", 12, 4) == 'W/"r12v4"'  # the form clients already hold
    assert etag("structure", "T1", 3) == 'W/"r:structure:T1:v3"'
    odd = etag("structure", 'a "b":c 渝', 1)
    assert odd.isascii() and odd.count('"') == 2
    assert if_match(odd, "structure", 'a "b":c 渝') == 1
    assert if_match(None, "site", "S") is None and if_match(" * ", "site", "S") is None
    assert if_match('"r:site:S:v7"', "site", "S") == 7  # a strong form is read alike
    for bad in ('W/"r:site:S1:v7"', 'W/"r:structure:S:v7"', 'W/"r:site:S:v"', "r:site:S:v1",
                'W/"r:site:S:v1x"', 'W/"r1v1"'):  # fmt: skip
        with pytest.raises(Exception) as refused:
            if_match(bad, "site", "S")
        assert refused.value.status_code == 412, bad


# --- every GET of one mutable resource sends an ETag --------------------------------------------

#: Path template → how to fill it from the world (every mutable resource read one at a time).
ETAGGED = {
    "/structures/{external_id}": lambda w, c: "/structures/T1",
    "/sites/{external_id}": lambda w, c: f"/sites/{w.sites['cmcc_public']}",
    "/sharing/requests/{request_id}": lambda w, c: f"/sharing/requests/{w.requests['cmcc']}",
    "/sharing/cases/{case_id}": lambda w, c: f"/sharing/cases/{c['case']}",
    "/tasks/{code}": lambda w, c: "/tasks/key-1-2",
    "/meetings/{meeting_id}": lambda w, c: f"/meetings/{c['meeting']}",
    "/scenarios/{code}": lambda w, c: f"/scenarios/{c['scenario']}",
    "/enterprises/{code}": lambda w, c: f"/enterprises/{c['enterprise']}",
}
RESOURCES = ("structures", "sites", "sharing/requests", "sharing/cases", "tasks", "meetings",
             "scenarios", "enterprises")  # fmt: skip


@pytest.fixture
def case_id(app, world) -> int:
    """An open fee-complaint case on China Unicom's submitted request."""
    with app.state.sessions() as session:
        req = session.get(SharingRequest, world.requests["unicom_open"])
        actor = actor_for(session, "li.reg")
        session.commit()
        case = open_case(session, actor, req, CaseKind.FEE_COMPLAINT, [{"message": "too dear"}])
        return case.id


def test_every_get_of_one_mutable_resource_sends_its_etag(app, bearer, world, case_id):
    paths = app.openapi()["paths"]  # every route the app serves, however it was included
    routes = {
        path.removeprefix(API)
        for path, methods in paths.items()
        if "get" in methods and path.endswith("}")
        and any(path.startswith(f"{API}/{name}/") for name in RESOURCES)
    }  # fmt: skip
    assert routes == set(ETAGGED), "keep ETAGGED in step with the routes"
    reg = bearer("li.reg")
    meeting = ok(reg.get(f"{API}/meetings"))
    made = {"case": case_id,
            "meeting": meeting[0]["id"] if meeting else None,
            "scenario": ok(reg.get(f"{API}/scenarios"))[0]["code"],
            "enterprise": ok(reg.get(f"{API}/enterprises"))[0]["code"]}  # fmt: skip
    if made["meeting"] is None:
        body = {"held_on": "2021-03-01", "title": "joint meeting", "convener": "cq-cac"}
        made["meeting"] = ok(bearer("li.reg", write=True).post(f"{API}/meetings", json=body), 201)[
            "id"
        ]
    for template, fill in ETAGGED.items():
        r = reg.get(f"{API}{fill(world, made)}")
        body = ok(r)
        tag = r.headers.get("ETag", "")
        assert re.fullmatch(r'W/"r[^"]*v[0-9]+"', tag), (template, tag)
        version = (body.get("properties") or body)["version"]
        assert tag.endswith(f'v{version}"'), (template, tag, version)


# --- structures ---------------------------------------------------------------------------------

NEW_TOWER = {"external_id": "T-new", "kind": "telecom_tower", "owner": "china-tower",
             "lon_deg": 106.571, "lat_deg": 29.558, "height_m": 30.0, "mount_positions": 3,
             "max_payload_kg": 200.0, "available_power_kw": 8.0}  # fmt: skip


def test_the_owner_and_the_regulator_create_structures(bearer, login):
    zhao = bearer("zhao.tower", write=True)
    r = zhao.post(f"{API}/structures", json=NEW_TOWER)
    made = ok(r, 201)["properties"]
    assert made["owner"] == "china-tower" and made["version"] == 1
    assert r.headers["Location"] == f"{API}/structures/T-new"
    assert r.headers["ETag"] == 'W/"r:structure:T-new:v1"'
    entries = audit(bearer("li.reg"), made["audit_object"])
    assert [e["action"] for e in entries] == ["create"] and entries[0]["actor"] == "zhao.tower"
    assert entries[0]["after"]["external_id"] == "T-new"
    # the same external id again, for another owner, or by a role that does not own it
    assert zhao.post(f"{API}/structures", json=NEW_TOWER).status_code == 400
    other = {**NEW_TOWER, "external_id": "T-lights", "owner": "cq-street-lighting"}
    assert zhao.post(f"{API}/structures", json=other).status_code == 403
    assert bearer("wang.cmcc", write=True).post(f"{API}/structures", json=other).status_code == 403
    r = login("ma.viewer").post(f"{API}/structures", json={**NEW_TOWER, "external_id": "T-v"})
    assert r.status_code == 403 and "viewer" in r.json()["detail"]
    ok(login("wu.lights").post(f"{API}/structures", json=other), 201)
    by_regulator = {**NEW_TOWER, "external_id": "T-reg"}
    ok(bearer("li.reg", write=True).post(f"{API}/structures", json=by_regulator), 201)
    bad = zhao.post(f"{API}/structures", json={**NEW_TOWER, "external_id": "T-bad",
                                                "height_m": -3})  # fmt: skip
    assert field_of(bad) == "height_m"
    assert bearer("li.reg").get(f"{API}/structures/T-bad").status_code == 404


def test_a_structure_patch_with_if_match(bearer, login):
    reader, zhao = bearer("zhao.tower"), bearer("zhao.tower", write=True)
    r = reader.get(f"{API}/structures/T1")
    tag, before = r.headers["ETag"], ok(r)["properties"]
    obj = before["audit_object"]
    assert obj.startswith("structures:") and tag == f'W/"r:structure:T1:v{before["version"]}"'
    n = len(audit(reader, obj))
    patched = zhao.patch(f"{API}/structures/T1", json={"height_m": 40.0, "name": "T1 north"},
                         headers={"If-Match": tag})  # fmt: skip
    after = ok(patched)["properties"]
    assert after["height_m"] == 40.0 and after["name"] == "T1 north"
    assert after["version"] == before["version"] + 1 and patched.headers["ETag"] != tag
    assert reader.get(f"{API}/structures/T1").headers["ETag"] == patched.headers["ETag"]
    entries = audit(reader, obj)
    assert len(entries) == n + 1 and entries[-1]["action"] == "update"
    assert entries[-1]["before"]["height_m"] == 35.0 and entries[-1]["after"]["height_m"] == 40.0
    assert entries[-1]["actor"] == "zhao.tower"
    # the tag read before is stale: 412, nothing written
    stale = zhao.patch(f"{API}/structures/T1", json={"height_m": 45.0}, headers={"If-Match": tag})
    assert stale.status_code == 412 and "read it again" in stale.json()["detail"]
    assert reader.get(f"{API}/structures/T1").json()["properties"]["height_m"] == 40.0
    assert len(audit(reader, obj)) == n + 1
    # a tag of another object, or not a tag at all
    ok(zhao.post(f"{API}/structures", json=NEW_TOWER), 201)
    other = reader.get(f"{API}/structures/T-new").headers["ETag"]
    for wrong in (other, "garbage", 'W/"r1v1"'):
        r = zhao.patch(f"{API}/structures/T1", json={"height_m": 45.0}, headers={"If-Match": wrong})
        assert r.status_code == 412, wrong
    # invalid values: 422 naming the field; fewer positions than booked ones
    fresh = reader.get(f"{API}/structures/T1").headers["ETag"]
    bad = zhao.patch(f"{API}/structures/T1", json={"lat_deg": 123.0}, headers={"If-Match": fresh})
    assert field_of(bad) == "lat_deg"
    assert field_of(zhao.patch(f"{API}/structures/T1", json={"mount_positions": 1})) == (
        "mount_positions"
    )
    assert field_of(zhao.patch(f"{API}/structures/T1", json={"kind": "balloon"})) == "kind"
    # who may not: an operator, a viewer, the owner giving it away; a missing one is 404
    assert bearer("wang.cmcc", write=True).patch(f"{API}/structures/T1",
                                                 json={"name": "x"}).status_code == 403  # fmt: skip
    assert login("ma.viewer").patch(f"{API}/structures/T1", json={"name": "x"}).status_code == 403
    assert (
        zhao.patch(f"{API}/structures/T1", json={"owner": "cq-street-lighting"}).status_code == 403
    )
    assert zhao.patch(f"{API}/structures/nope", json={"name": "x"}).status_code == 404
    # the regulator may, without If-Match
    ok(bearer("li.reg", write=True).patch(f"{API}/structures/T1", json={"fibre": True}))
    assert reader.get(f"{API}/structures/T1").json()["properties"]["fibre"] is True


def test_two_clients_with_one_tag_one_wins(bearer):
    zhao, zhou = bearer("zhao.tower", write=True), bearer("zhou.tower", write=True)
    tag = zhao.get(f"{API}/structures/T1").headers["ETag"]
    assert zhou.get(f"{API}/structures/T1").headers["ETag"] == tag
    start = threading.Barrier(2)

    def patch(client, name):
        start.wait()
        return client.patch(f"{API}/structures/T1", json={"name": name},
                            headers={"If-Match": tag})  # fmt: skip

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(patch, (zhao, zhou), ("by zhao", "by zhou")))
    assert sorted(r.status_code for r in answers) == [200, 412], [r.text for r in answers]
    won = next(r for r in answers if r.status_code == 200)
    now = zhao.get(f"{API}/structures/T1")
    assert now.headers["ETag"] == won.headers["ETag"]
    assert now.json()["properties"]["name"] == won.json()["properties"]["name"]
    entries = audit(bearer("li.reg"), now.json()["properties"]["audit_object"])
    assert sum(e["action"] == "update" for e in entries) == 1


# --- sites --------------------------------------------------------------------------------------


def test_the_operator_moves_its_site_with_if_match(bearer, login, world):
    planned = world.sites["cmcc_planned"]
    reader, cmcc = bearer("wang.cmcc"), bearer("wang.cmcc", write=True)
    r = reader.get(f"{API}/sites/{planned}")
    tag, site = r.headers["ETag"], ok(r)["properties"]
    assert site["status"] == "planned" and site["audit_object"].startswith("sites:")
    move = {"to": "approved", "on": "2021-06-01", "reason": "permit granted"}
    # another operator: the planned site does not exist for it, with or without a tag
    for other in (bearer("sun.unicom", write=True),):
        r = other.post(f"{API}/sites/{planned}/transition", json=move, headers={"If-Match": tag})
        assert r.status_code == 404 and r.json() == {"detail": f"no site {planned!r}"}
        r = other.get(f"{API}/audit", params={"object": site["audit_object"]})
        assert r.status_code == 404
    # roles that see it but may not move it
    assert login("chen.yuzhong").post(f"{API}/sites/{planned}/transition",
                                      json=move).status_code == 403  # fmt: skip
    assert login("ma.viewer").post(f"{API}/sites/{planned}/transition",
                                   json=move).status_code == 403  # fmt: skip
    public = world.sites["unicom_public"]
    r = cmcc.post(f"{API}/sites/{public}/transition", json={"to": "retired"})
    assert r.status_code == 403 and "operator" in r.json()["detail"]
    # stale and foreign tags: 412, nothing written
    stale = tag.replace(f'v{site["version"]}"', f'v{site["version"] + 5}"')
    assert cmcc.post(f"{API}/sites/{planned}/transition", json=move,
                     headers={"If-Match": stale}).status_code == 412  # fmt: skip
    foreign = reader.get(f"{API}/sites/{world.sites['cmcc_approved']}").headers["ETag"]
    assert cmcc.post(f"{API}/sites/{planned}/transition", json=move,
                     headers={"If-Match": foreign}).status_code == 412  # fmt: skip
    assert reader.get(f"{API}/sites/{planned}").json()["properties"]["status"] == "planned"
    n = len(audit(reader, site["audit_object"]))
    # the operator with the right tag
    r = cmcc.post(f"{API}/sites/{planned}/transition", json=move, headers={"If-Match": tag})
    moved = ok(r)["properties"]
    assert moved["status"] == "approved" and moved["approved_on"] == "2021-06-01"
    assert moved["version"] == site["version"] + 1 and r.headers["ETag"] != tag
    entries = audit(reader, site["audit_object"])
    assert len(entries) == n + 1 and entries[-1]["after"]["status"] == "approved"
    assert entries[-1]["actor"] == "wang.cmcc" and entries[-1]["reason"] == "permit granted"
    # the old tag is stale now; a move the lifecycle has not is 409; invalid body 422
    again = cmcc.post(f"{API}/sites/{planned}/transition", json={"to": "built"},
                      headers={"If-Match": tag})  # fmt: skip
    assert again.status_code == 412
    assert cmcc.post(f"{API}/sites/{planned}/transition", json={"to": "planned"}).status_code == 409
    assert field_of(cmcc.post(f"{API}/sites/{planned}/transition", json={"to": "up"})) == "to"
    # the regulator moves any site
    ok(bearer("li.reg", write=True).post(f"{API}/sites/{planned}/transition",
                                         json={"to": "built"}))  # fmt: skip


def test_the_audit_of_structures_and_sites_follows_what_the_caller_sees(bearer, world):
    t1 = bearer("li.reg").get(f"{API}/structures/T1").json()["properties"]["audit_object"]
    for name in ("wang.cmcc", "zhao.tower", "chen.yuzhong", "ma.viewer", "xu.viewer"):
        assert audit(bearer(name), t1)[0]["action"] == "create", name
    planned = bearer("li.reg").get(f"{API}/sites/{world.sites['unicom_planned']}")
    obj = planned.json()["properties"]["audit_object"]
    assert bearer("sun.unicom").get(f"{API}/audit", params={"object": obj}).status_code == 200
    for name in ("wang.cmcc", "ma.viewer"):
        r = bearer(name).get(f"{API}/audit", params={"object": obj})
        assert r.status_code == 404 and r.json() == {"detail": f"no audit entries of {obj!r}"}
    for name in ("wang.cmcc", "zhao.tower"):  # nothing else opens up
        for other in ("users:1", "tenancies:1", "structures:x", "sites:abc", "organisations:1"):
            assert bearer(name).get(f"{API}/audit", params={"object": other}).status_code == 404


# --- scenarios and enterprises ------------------------------------------------------------------

SCENARIO = {"code": "api-smart-port", "name_zh": "智慧港口", "name_en": "Smart port",
            "category": "smart_manufacturing", "status": "planned", "year": 2021}  # fmt: skip


def _category(bearer) -> str:
    return ok(bearer("li.reg").get(f"{API}/scenarios"))[0]["category"]


def test_scenarios_are_written_by_the_regulator_and_the_districts(bearer, login):
    body = {**SCENARIO, "category": _category(bearer)}
    chen = login("chen.yuzhong")
    r = chen.post(f"{API}/scenarios", json=body)
    made = ok(r, 201)
    assert r.headers["Location"] == f"{API}/scenarios/{body['code']}"
    assert r.headers["ETag"] == f'W/"r:scenario:{body["code"]}:v1"' and made["version"] == 1
    reg = bearer("li.reg")
    assert chen.post(f"{API}/scenarios", json=body).status_code == 400  # it exists
    for refused in (bearer("wang.cmcc", write=True), bearer("zhao.tower", write=True),
                    login("ma.viewer")):  # fmt: skip
        r = refused.post(f"{API}/scenarios", json={**body, "code": "api-other"})
        assert r.status_code == 403 and "regulator" in r.json()["detail"]
        r = refused.patch(f"{API}/scenarios/api-smart-port", json={"notes": "x"})
        assert r.status_code == 403
    assert field_of(chen.post(f"{API}/scenarios", json={**body, "code": "api-y",
                                                        "year": 1800})) == "year"  # fmt: skip
    # PATCH with If-Match; its enterprises are part of its version
    got = reg.get(f"{API}/scenarios/api-smart-port")
    tag = got.headers["ETag"]
    enterprise = ok(reg.get(f"{API}/enterprises"))[0]["code"]
    writer = bearer("li.reg", write=True)
    r = writer.patch(f"{API}/scenarios/api-smart-port", json={"enterprises": [enterprise]},
                     headers={"If-Match": tag})  # fmt: skip
    assert ok(r)["enterprises"] == [enterprise] and r.headers["ETag"] != tag
    assert ok(r)["version"] == 2
    stale = writer.patch(f"{API}/scenarios/api-smart-port", json={"notes": "late"},
                         headers={"If-Match": tag})  # fmt: skip
    assert stale.status_code == 412
    assert reg.get(f"{API}/scenarios/api-smart-port").json()["notes"] is None
    code = next(s["code"] for s in ok(reg.get(f"{API}/scenarios")) if s["code"] != SCENARIO["code"])
    other = reg.get(f"{API}/scenarios/{code}")
    assert writer.patch(f"{API}/scenarios/api-smart-port", json={"notes": "x"},
                        headers={"If-Match": other.headers["ETag"]}).status_code == 412  # fmt: skip
    fresh = r.headers["ETag"]
    bad = writer.patch(f"{API}/scenarios/api-smart-port", json={"status": "in_operation"},
                       headers={"If-Match": fresh})  # fmt: skip
    assert field_of(bad) == "in_operation_on"
    r = writer.patch(f"{API}/scenarios/api-smart-port",
                     json={"status": "in_operation", "in_operation_on": "2021-09-01"},
                     headers={"If-Match": fresh})  # fmt: skip
    assert ok(r)["status"] == "in_operation" and ok(r)["enterprises"] == [enterprise]
    assert writer.patch(f"{API}/scenarios/nope", json={"notes": "x"}).status_code == 404
    assert reg.get(f"{API}/scenarios/nope").status_code == 404


def test_the_audit_of_a_scenario_write(bearer, login, app):
    body = {**SCENARIO, "category": _category(bearer)}
    ok(login("chen.yuzhong").post(f"{API}/scenarios", json=body), 201)
    ok(bearer("li.reg", write=True).patch(f"{API}/scenarios/api-smart-port",
                                          json={"notes": "pilot"}))  # fmt: skip
    from sqlalchemy import select

    from mastplan.progress.models import ApplicationScenario

    with app.state.sessions() as session:
        sid = session.scalar(select(ApplicationScenario.id).where(
            ApplicationScenario.code == "api-smart-port"))  # fmt: skip
    entries = audit(bearer("li.reg"), f"application_scenarios:{sid}")
    assert [(e["action"], e["actor"]) for e in entries] == [("create", "chen.yuzhong"),
                                                           ("update", "li.reg")]  # fmt: skip
    assert entries[-1]["after"] == {"notes": "pilot"}


def test_enterprises_are_written_by_the_regulator_and_the_districts(bearer, login, app):
    reg, writer = bearer("li.reg"), bearer("li.reg", write=True)
    sample = ok(reg.get(f"{API}/enterprises"))[0]
    body = {"code": "api-ent", "name_zh": "测试企业", "name_en": "Test enterprise",
            "segment": sample["segment"], "zone": sample["zone"],
            "revenues": {"2021": 1.5e8}}  # fmt: skip
    chen = login("chen.yuzhong")
    r = chen.post(f"{API}/enterprises", json=body)
    made = ok(r, 201)
    assert made["revenues"] == [{"year": 2021, "revenue_yuan": 1.5e8}]
    assert r.headers["ETag"] == 'W/"r:enterprise:api-ent:v1"'
    for refused in (bearer("wang.cmcc", write=True), login("ma.viewer")):
        assert refused.post(f"{API}/enterprises", json={**body, "code": "x"}).status_code == 403
        assert refused.patch(f"{API}/enterprises/api-ent", json={"name_en": "x"}).status_code == 403
    assert chen.post(f"{API}/enterprises", json=body).status_code == 400  # it exists
    bad = chen.post(f"{API}/enterprises", json={**body, "code": "api-bad", "zone": "moon"})
    assert field_of(bad) == "zone"
    # a revenue is part of its version
    tag = reg.get(f"{API}/enterprises/api-ent").headers["ETag"]
    r = writer.patch(f"{API}/enterprises/api-ent", json={"revenues": {"2022": 2e8}},
                     headers={"If-Match": tag})  # fmt: skip
    years = [v["year"] for v in ok(r)["revenues"]]
    assert years == [2021, 2022] and r.headers["ETag"] != tag and ok(r)["version"] == 2
    stale = writer.patch(f"{API}/enterprises/api-ent", json={"name_en": "Late"},
                         headers={"If-Match": tag})  # fmt: skip
    assert stale.status_code == 412
    assert reg.get(f"{API}/enterprises/api-ent").json()["name_en"] == "Test enterprise"
    foreign = etag("enterprise", sample["code"], sample["version"])
    assert writer.patch(f"{API}/enterprises/api-ent", json={"name_en": "x"},
                        headers={"If-Match": foreign}).status_code == 412  # fmt: skip
    r = writer.patch(f"{API}/enterprises/api-ent", json={"name_en": "Renamed"},
                     headers={"If-Match": r.headers["ETag"]})  # fmt: skip
    assert ok(r)["name_en"] == "Renamed" and ok(r)["version"] == 3
    assert writer.patch(f"{API}/enterprises/nope", json={"name_en": "x"}).status_code == 404
    assert reg.get(f"{API}/enterprises/nope").status_code == 404
    from sqlalchemy import select

    from mastplan.registry.models import Organisation

    with app.state.sessions() as session:
        oid = session.scalar(select(Organisation.id).where(Organisation.code == "api-ent"))
    entries = audit(reg, f"organisations:{oid}")
    assert [e["action"] for e in entries] == ["create", "update"]
    assert entries[-1]["actor"] == "li.reg" and entries[-1]["after"] == {"name_en": "Renamed"}


# --- sharing cases ------------------------------------------------------------------------------


def test_a_case_decision_with_if_match(bearer, case_id, world):
    reg, writer = bearer("li.reg"), bearer("li.reg", write=True)
    r = reg.get(f"{API}/sharing/cases/{case_id}")
    tag, case = r.headers["ETag"], ok(r)
    assert tag == f'W/"r:case:{case_id}:v{case["version"]}"' and case["state"] == "open"
    # the parties see it; another operator does not
    assert bearer("sun.unicom").get(f"{API}/sharing/cases/{case_id}").status_code == 200
    hidden = bearer("wang.cmcc").get(f"{API}/sharing/cases/{case_id}")
    assert hidden.status_code == 404 and hidden.json() == {"detail": f"no case {case_id}"}
    decision = {"outcome": "upheld", "decision": "the offer stands"}
    r = bearer("wang.cmcc", write=True).post(f"{API}/sharing/cases/{case_id}/decision",
                                             json=decision)  # fmt: skip
    assert r.status_code == 404
    r = bearer("sun.unicom", write=True).post(f"{API}/sharing/cases/{case_id}/decision",
                                              json=decision, headers={"If-Match": tag})  # fmt: skip
    assert r.status_code == 403 and "regulator" in r.json()["detail"]
    stale = f'W/"r:case:{case_id}:v{case["version"] + 1}"'
    r = writer.post(f"{API}/sharing/cases/{case_id}/decision", json=decision,
                    headers={"If-Match": stale})  # fmt: skip
    assert (
        r.status_code == 412 and reg.get(f"{API}/sharing/cases/{case_id}").json()["state"] == "open"
    )
    request_tag = reg.get(f"{API}/sharing/requests/{world.requests['unicom_open']}").headers["ETag"]
    r = writer.post(f"{API}/sharing/cases/{case_id}/decision", json=decision,
                    headers={"If-Match": request_tag})  # fmt: skip
    assert r.status_code == 412
    r = writer.post(f"{API}/sharing/cases/{case_id}/decision", json=decision,
                    headers={"If-Match": tag})  # fmt: skip
    decided = ok(r)
    assert decided["state"] == "decided" and decided["version"] == case["version"] + 1
    assert r.headers["ETag"] == f'W/"r:case:{case_id}:v{decided["version"]}"'
    entries = audit(reg, f"sharing_cases:{case_id}")
    assert entries[-1]["action"] == "update" and entries[-1]["after"]["state"] == "decided"
    maybe = {"outcome": "maybe", "decision": "x"}
    assert field_of(writer.post(f"{API}/sharing/cases/{case_id}/decision", json=maybe)) == (
        "outcome"
    )


# --- users --------------------------------------------------------------------------------------


def test_the_users_a_caller_may_list(bearer):
    every = ok(bearer("li.reg").get(f"{API}/users"))
    names = [u["name"] for u in every]
    assert names == sorted(names) and {"li.reg", "wang.cmcc", "zhao.tower"} <= set(names)
    assert {"name", "organisation", "role", "active"} == set(every[0])
    tower = ok(bearer("zhao.tower").get(f"{API}/users"))
    assert {u["name"] for u in tower} == {"zhao.tower", "zhou.tower"}
    assert {u["organisation"] for u in tower} == {"china-tower"}
    cmcc = ok(bearer("ma.viewer").get(f"{API}/users", params={"role": "operator"}))
    assert [u["name"] for u in cmcc] == ["wang.cmcc"]
    assert bearer("li.reg").get(f"{API}/users", params={"role": "king"}).status_code == 422
    assert bearer("li.reg", write=True).post(f"{API}/users", json={}).status_code == 405
