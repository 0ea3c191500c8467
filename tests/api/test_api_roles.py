"""Who may see and do what over HTTP, on both databases: every read endpoint with each role
(allowed, forbidden, invisible), and the credentials themselves.

What a user may not see does not exist for it: an operator gets 404 — never 403 — for another
operator's sharing request, its planned or approved site, its tenancy terms and its request's
audit, and such objects are absent from its lists. 401 without a credential; 403 for a write a
credential may not make (a read-only token, a browser without its CSRF token).
"""

from __future__ import annotations

import pytest

from mastplan.api.security import MAX_FAILURES

API = "/api/v1"
ROLES = ("regulator", "operator", "owner", "district", "viewer")

#: Every read endpoint (an item of each kind that exists).
READS = [
    "/districts",
    "/key-areas",
    "/key-areas/2019-jiefangbei-cbd",
    "/structures?limit=10",
    "/structures/T1",
    "/sites?limit=10",
    "/organisations",
    "/kpis?date=2021-12-31",
    "/sharing/requests",
    "/sharing/cases",
    "/auth/me",
]


def ids(response) -> set:
    assert response.status_code == 200, response.text
    body = response.json()
    if isinstance(body, dict) and "features" in body:
        return {f["id"] for f in body["features"]}
    return {item["id"] for item in (body["items"] if isinstance(body, dict) else body)}


# --- credentials --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*READS, "/sites/x", "/audit?object=sharing_requests:1"])
def test_every_read_needs_a_credential(anon, path):
    r = anon.get(f"{API}{path}")
    assert r.status_code == 401
    assert r.json() == {"detail": "authentication required"}
    assert r.headers["WWW-Authenticate"] == "Bearer"
    bad = anon.get(f"{API}{path}", headers={"Authorization": "Bearer mp_not-a-token"})
    assert bad.status_code == 401


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_every_list(bearer, login, role):
    name = {"regulator": "li.reg", "operator": "wang.cmcc", "owner": "zhao.tower",
            "district": "chen.yuzhong", "viewer": "ma.viewer"}[role]  # fmt: skip
    for client in (bearer(name), login(name)):
        for path in READS:
            r = client.get(f"{API}{path}")
            assert r.status_code == 200, (role, path, r.text)
    me = bearer(name).get(f"{API}/auth/me").json()
    assert me["role"] == role and me["via"] == "token" and me["scopes"] == ["read"]


def test_a_read_only_token_may_not_write(bearer, world):
    spec = {"structure": "T1", "position_count": 1, "payload_kg": 10.0}
    r = bearer("wang.cmcc").post(f"{API}/sharing/requests", json=spec)
    assert r.status_code == 403 and r.json()["detail"] == "this token may only read"
    rid = world.requests["unicom_open"]
    r = bearer("zhao.tower").post(f"{API}/sharing/requests/{rid}/review")
    assert r.status_code == 403
    ok = bearer("wang.cmcc", write=True).post(f"{API}/sharing/requests", json=spec)
    assert ok.status_code == 201 and ok.json()["state"] == "draft"
    assert ok.headers["Location"] == f"{API}/sharing/requests/{ok.json()['id']}"


def test_a_browser_write_needs_the_csrf_token(login, world):
    rid = world.requests["unicom_open"]
    bare = login("zhao.tower", csrf=False)
    assert bare.get(f"{API}/sharing/requests/{rid}").status_code == 200  # reads need none
    r = bare.post(f"{API}/sharing/requests/{rid}/review")
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    wrong = bare.post(f"{API}/sharing/requests/{rid}/review", headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    ok = bare.post(f"{API}/sharing/requests/{rid}/review",
                   headers={"X-CSRF-Token": bare.csrf_token})  # fmt: skip
    assert ok.status_code == 200 and ok.json()["state"] == "under_review"


def test_logout_ends_the_session(login):
    c = login("li.reg")
    assert c.get(f"{API}/auth/me").json()["via"] == "session"
    assert c.post(f"{API}/auth/logout").status_code == 204
    assert c.get(f"{API}/sites?limit=1").status_code == 401


def test_a_wrong_user_and_a_wrong_password_get_the_same_answer(anon):
    wrong_user = anon.post(f"{API}/auth/login", json={"name": "nobody", "password": "x" * 12})
    wrong_pass = anon.post(f"{API}/auth/login", json={"name": "li.reg", "password": "x" * 12})
    assert wrong_user.status_code == wrong_pass.status_code == 401
    assert wrong_user.json() == wrong_pass.json() == {"detail": "wrong user name or password"}
    assert "set-cookie" not in wrong_pass.headers


def test_logins_are_throttled_after_repeated_failures(anon, password):
    login = f"{API}/auth/login"
    for _ in range(MAX_FAILURES):
        r = anon.post(login, json={"name": "li.reg", "password": "not the password"})
        assert r.status_code == 401
    # the right password no longer helps, for that name and from that client
    r = anon.post(login, json={"name": "li.reg", "password": password})
    assert r.status_code == 429
    assert r.json() == {"detail": "too many failed logins: try again later"}
    assert "set-cookie" not in r.headers
    assert anon.post(login, json={"name": "wang.cmcc", "password": password}).status_code == 429


# --- sharing requests: 404, never 403 -----------------------------------------------------------

#: user → which of the world's requests it sees (T1 is China Tower's, in Yuzhong 500103).
REQUEST_VISIBILITY = {
    "li.reg": {"cmcc", "unicom", "unicom_open"},
    "wang.cmcc": {"cmcc"},
    "sun.unicom": {"unicom", "unicom_open"},
    "zhao.tower": {"cmcc", "unicom", "unicom_open"},
    "wu.lights": set(),
    "chen.yuzhong": {"cmcc", "unicom", "unicom_open"},
    "zheng.jiangbei": set(),
    "ma.viewer": {"cmcc"},
    "xu.viewer": set(),
}


@pytest.mark.parametrize("name", sorted(REQUEST_VISIBILITY))
def test_requests_are_visible_to_the_parties_only(bearer, world, name):
    c = bearer(name)
    seen = REQUEST_VISIBILITY[name]
    for key, rid in world.requests.items():
        r = c.get(f"{API}/sharing/requests/{rid}")
        if key in seen:
            assert r.status_code == 200, (name, key)
            assert r.headers["ETag"] == f'W/"r{rid}v{r.json()["version"]}"'
        else:  # exactly what a request that does not exist gets
            assert r.status_code == 404, (name, key, r.status_code)
            assert r.json() == {"detail": f"no sharing request {rid}"}
    missing = c.get(f"{API}/sharing/requests/999999")
    assert missing.status_code == 404 and missing.json() == {"detail": "no sharing request 999999"}
    listed = ids(c.get(f"{API}/sharing/requests"))
    assert listed & set(world.requests.values()) == {world.requests[k] for k in seen}


def test_fee_amounts_are_for_the_parties_and_the_regulator(bearer, world):
    rid = world.requests["cmcc"]
    for name in ("li.reg", "wang.cmcc", "zhao.tower"):
        assert bearer(name).get(f"{API}/sharing/requests/{rid}").json()["fee_offer"], name
    for name in ("chen.yuzhong", "ma.viewer"):
        assert bearer(name).get(f"{API}/sharing/requests/{rid}").json()["fee_offer"] is None


def test_moves_of_another_operators_request_are_not_found(bearer, world):
    rid = world.requests["unicom_open"]
    r = bearer("wang.cmcc", write=True).post(f"{API}/sharing/requests/{rid}/withdraw")
    assert r.status_code == 404 and r.json() == {"detail": f"no sharing request {rid}"}


def test_a_move_of_another_role_is_forbidden(bearer, world):
    """Moves of another role on a visible request are 403; moves the state has not are 409."""
    rid = world.requests["unicom_open"]
    r = bearer("sun.unicom", write=True).post(f"{API}/sharing/requests/{rid}/review")
    assert r.status_code == 403 and "only the owner" in r.json()["detail"]
    r = bearer("zhao.tower", write=True).post(f"{API}/sharing/requests/{rid}/install")
    assert r.status_code == 409 and "cannot install" in r.json()["detail"]
    r = bearer("zhao.tower", write=True).post(f"{API}/sharing/requests", json={"structure": "T1"})
    assert r.status_code == 403 and "only an operator" in r.json()["detail"]


def test_a_stale_if_match_is_refused(bearer, world):
    rid = world.requests["unicom_open"]
    zhao, zhou = bearer("zhao.tower", write=True), bearer("zhou.tower", write=True)
    tag = zhao.get(f"{API}/sharing/requests/{rid}").headers["ETag"]
    assert zhou.get(f"{API}/sharing/requests/{rid}").headers["ETag"] == tag
    first = zhou.post(f"{API}/sharing/requests/{rid}/review", headers={"If-Match": tag})
    assert first.status_code == 200 and first.headers["ETag"] != tag
    stale = zhao.post(f"{API}/sharing/requests/{rid}/review", headers={"If-Match": tag})
    assert stale.status_code == 412 and "read it again" in stale.json()["detail"]
    other = zhao.post(f"{API}/sharing/requests/{rid}/review", headers={"If-Match": 'W/"r1v1"'})
    assert other.status_code == 412
    # the fresh tag gets to the lifecycle (a request under review cannot be reviewed again)
    fresh = zhao.post(f"{API}/sharing/requests/{rid}/review",
                      headers={"If-Match": first.headers["ETag"]})  # fmt: skip
    assert fresh.status_code == 409


# --- sites: other operators' plans do not exist -------------------------------------------------

#: user → the world's sites it sees (others' built and on-air sites are public).
SITE_VISIBILITY = {
    "li.reg": "all",
    "chen.yuzhong": "all",
    "xu.viewer": "all",
    "wang.cmcc": {"cmcc_planned", "cmcc_approved", "cmcc_public", "cmcc_planned_tower",
                  "cmcc_planned_other", "unicom_public"},
    "ma.viewer": {"cmcc_planned", "cmcc_approved", "cmcc_public", "cmcc_planned_tower",
                  "cmcc_planned_other", "unicom_public"},
    "sun.unicom": {"unicom_planned", "unicom_approved", "unicom_public", "unicom_planned_tower",
                   "cmcc_public"},
    # China Tower: the public sites and the plans on its own structures (found below)
    "zhao.tower": {"cmcc_public", "unicom_public", "on china-tower"},
}  # fmt: skip


def _on_towers(bearer, world) -> set[str]:
    """The world's sites that stand on China Tower's structures."""
    reg = bearer("li.reg")
    out = set()
    for key, ext in world.sites.items():
        structure = reg.get(f"{API}/sites/{ext}").json()["properties"]["structure"]
        if (
            structure
            and reg.get(f"{API}/structures/{structure}").json()["properties"]["owner"]
            == "china-tower"
        ):
            out.add(key)
    return out


@pytest.mark.parametrize("name", sorted(SITE_VISIBILITY))
def test_planned_and_approved_sites_are_their_operators_secret(bearer, world, name):
    c = bearer(name)
    seen = SITE_VISIBILITY[name]
    if "on china-tower" in seen:
        seen = (seen - {"on china-tower"}) | _on_towers(bearer, world)
        assert {"cmcc_planned_tower", "unicom_planned_tower"} <= seen
        assert "cmcc_planned_other" not in seen
    for key, ext in world.sites.items():
        r = c.get(f"{API}/sites/{ext}")
        if seen == "all" or key in seen:
            assert r.status_code == 200, (name, key, r.text)
        else:
            assert r.status_code == 404, (name, key, r.status_code)
            assert r.json() == {"detail": f"no site {ext!r}"}  # as for one that does not exist
    assert c.get(f"{API}/sites/no-such-site").json() == {"detail": "no site 'no-such-site'"}


def test_site_lists_leave_out_other_operators_plans(bearer, world):
    secret = {"planned", "approved"}
    every = bearer("li.reg").get(f"{API}/sites", params={"limit": 5000}).json()["features"]
    assert {f["properties"]["status"] for f in every} >= secret | {"on_air"}
    for name, own in (("wang.cmcc", "china-mobile"), ("sun.unicom", "china-unicom")):
        feats = bearer(name).get(f"{API}/sites", params={"limit": 5000}).json()["features"]
        assert not [f for f in feats if f["properties"]["operator"] != own
                    and f["properties"]["status"] in secret]  # fmt: skip
        others_public = [f for f in every if f["properties"]["operator"] != own
                         and f["properties"]["status"] not in secret]  # fmt: skip
        mine = [f for f in every if f["properties"]["operator"] == own]
        assert {f["id"] for f in feats} == {f["id"] for f in others_public + mine}
        planned = bearer(name).get(f"{API}/sites", params={"status": "planned", "limit": 5000})
        assert {f["properties"]["operator"] for f in planned.json()["features"]} == {own}
    # an owner: the plans on its structures, no others
    feats = bearer("zhao.tower").get(f"{API}/sites", params={"limit": 5000}).json()["features"]
    plans = {f["id"] for f in feats if f["properties"]["status"] in secret}
    assert world.sites["unicom_planned_tower"] in plans
    assert world.sites["cmcc_planned_other"] not in plans


def test_paging_does_not_reveal_hidden_sites(bearer):
    """An operator's pages hold the same sites as its one big list: no cursor arithmetic shows
    how many of another operator's plans lie between."""
    c = bearer("wang.cmcc")
    whole = c.get(f"{API}/sites", params={"limit": 5000}).json()
    out, cursor = [], None
    while True:
        page = c.get(f"{API}/sites", params={"limit": 100, **({"cursor": cursor} if cursor
                                                               else {})}).json()  # fmt: skip
        out += [f["id"] for f in page["features"]]
        assert len(page["features"]) == 100 or page["next_cursor"] is None
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert out == [f["id"] for f in whole["features"]]


# --- tenancies: the terms are the parties' ------------------------------------------------------

#: user → operators of T1's tenancies it sees.
TENANCY_VISIBILITY = {
    "li.reg": {"china-mobile", "china-unicom"},
    "wang.cmcc": {"china-mobile"},
    "sun.unicom": {"china-unicom"},
    "zhao.tower": {"china-mobile", "china-unicom"},
    "wu.lights": set(),
    "chen.yuzhong": {"china-mobile", "china-unicom"},
    "zheng.jiangbei": set(),
    "ma.viewer": {"china-mobile"},
    "xu.viewer": set(),
}


@pytest.mark.parametrize("name", sorted(TENANCY_VISIBILITY))
def test_a_structure_shows_only_the_tenancies_the_caller_may_see(bearer, world, name):
    r = bearer(name).get(f"{API}/structures/T1")
    assert r.status_code == 200
    props = r.json()["properties"]
    assert {t["operator"] for t in props["tenancies"]} == TENANCY_VISIBILITY[name]
    # what is left is the structure's, the same for everyone
    assert props["free_positions"] == 1 and props["free_position_numbers"] == [3]
    seen_requests = {t["request_id"] for t in props["tenancies"]}
    assert seen_requests <= {world.requests[k] for k in REQUEST_VISIBILITY[name]}


# --- the audit ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REQUEST_VISIBILITY))
def test_the_audit_of_a_request_follows_the_request(bearer, world, name):
    c = bearer(name)
    for key, rid in world.requests.items():
        r = c.get(f"{API}/audit", params={"object": f"sharing_requests:{rid}"})
        if key in REQUEST_VISIBILITY[name]:
            assert r.status_code == 200 and r.json()["items"], (name, key)
        else:
            assert r.status_code == 404, (name, key, r.status_code)
            assert r.json() == {"detail": f"no audit entries of 'sharing_requests:{rid}'"}
    missing = c.get(f"{API}/audit", params={"object": "sharing_requests:999999"})
    assert missing.status_code == (200 if name == "li.reg" else 404)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "regulator"])
def test_only_the_regulator_reads_the_audit_of_other_objects(bearer, role):
    """Users, tenancies and malformed keys stay the regulator's; the audit of structures and
    visible sites is open to all (tests/api/test_api_writes.py)."""
    name = {"operator": "wang.cmcc", "owner": "zhao.tower", "district": "chen.yuzhong",
            "viewer": "ma.viewer"}[role]  # fmt: skip
    for obj in ("users:1", "tenancies:1", "sharing_requests:x", "plans:1"):
        r = bearer(name).get(f"{API}/audit", params={"object": obj})
        assert r.status_code == 404, (role, obj)
    assert bearer("li.reg").get(f"{API}/audit", params={"object": "users:1"}).json()["items"]


def test_the_audit_hides_fees_from_those_who_may_not_read_them(bearer, world):
    rid = world.requests["cmcc"]

    def offers(name):
        items = (
            bearer(name)
            .get(f"{API}/audit", params={"object": f"sharing_requests:{rid}"})
            .json()["items"]
        )
        return [e["after"]["fee_offer"] for e in items if e["after"] and "fee_offer" in e["after"]]

    assert offers("wang.cmcc") and all(offers("wang.cmcc"))
    assert offers("zhao.tower") == offers("li.reg") == offers("wang.cmcc")
    assert offers("chen.yuzhong") and not any(offers("chen.yuzhong"))
    assert offers("ma.viewer") and not any(offers("ma.viewer"))


def test_failed_logins_and_refusals_are_in_the_auth_log(app, anon, bearer, login, world):
    """The auth event log keeps failed logins, credential refusals (a read-only token, a missing
    CSRF token) and authorisation refusals (403 from a service), with who, from where, on what."""
    from sqlalchemy import select

    from mastplan.api.models import AuthEvent

    assert (
        anon.post(f"{API}/auth/login", json={"name": "wang.cmcc", "password": "nope"}).status_code
        == 401
    )
    rid = world.requests["unicom_open"]
    assert bearer("zhao.tower").post(f"{API}/sharing/requests/{rid}/review").status_code == 403
    assert (
        login("zhao.tower", csrf=False).post(f"{API}/sharing/requests/{rid}/review").status_code
        == 403
    )
    spec = {"structure": "T1", "position_count": 1}
    assert (
        bearer("zhao.tower", write=True).post(f"{API}/sharing/requests", json=spec).status_code
        == 403
    )
    with app.state.sessions() as session:
        events = [(e.kind, e.user_name, (e.detail or {}).get("path"))
                  for e in session.scalars(select(AuthEvent).order_by(AuthEvent.id))]  # fmt: skip
    assert ("login_failed", "wang.cmcc", None) in events
    assert ("scope_refused", "zhao.tower", f"{API}/sharing/requests/{rid}/review") in events
    assert ("csrf_refused", "zhao.tower", f"{API}/sharing/requests/{rid}/review") in events
    assert ("forbidden", "zhao.tower", f"{API}/sharing/requests") in events
