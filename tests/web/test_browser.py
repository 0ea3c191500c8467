"""The web UI in a real browser (Debian Chromium, headless, through Playwright's sync API).

The app (API + built bundle) is served by uvicorn in a background thread over a fresh copy of
the loaded Chongqing data set (SQLite only: the UI does not care which database is behind the
API, and the API tests cover both). Three people use it: an operator finds a lamp pole with a
free position near a key area on the map and asks for space on it; the street-lighting office
(the owner) reviews and approves it, one of its clerks being refused with 412 for acting on a
stale copy; the regulator reads the dashboard and the cases. Every step asserts what is shown
(texts in 中文 and English, states), and the database is checked at the end. Screenshots go to
``tmp_path`` and are copied to ``test-artifacts/browser/``. The fixtures (the app served, the
browser, users, screenshots) are in ``conftest.py``; the other pages are walked through in
``test_pages.py``.

Needs Chromium at ``/usr/bin/chromium`` (``MASTPLAN_CHROMIUM`` to point elsewhere) and npm to
build the bundle if it is missing or stale (``scripts/build-web.sh``); never downloads a browser.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import exists, select

from mastplan.api.app import create_app
from mastplan.registry.db import make_engine, session_factory
from mastplan.registry.enums import CaseState, RequestState, StructureKind, StructureStatus
from mastplan.registry.models import (
    Organisation,
    SharingCase,
    SharingRequest,
    Structure,
    TenancyPosition,
)
from mastplan.sharing.policy import FeeItem
from mastplan.sharing.requests import RequestSpec, file_request
from mastplan.web import TILE_URL_ENV, mount_web

USERS = {
    "wang.cmcc": ("china-mobile", "operator"),
    "wu.lights": ("cq-street-lighting", "owner"),
    "qian.lights": ("cq-street-lighting", "owner"),
    "li.reg": ("cq-cac", "regulator"),
}
KEY_AREA = "2019-jiefangbei-cbd"  # 解放碑商圈, Yuzhong: lamp poles all around

# Only SQLite: see the module doc. The backend fixture of tests/conftest.py takes the param.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


# --- fixtures (the shared ones are in conftest.py) ---------------------------------------------


@dataclass
class Site:
    """The running app: its address, its database, and a request filed before the browser
    came: rent asked on a public lamp pole (the fee policy forbids it)."""

    url: str
    database: str
    rent_request: int
    rent_pole: str


@pytest.fixture
def site(
    loaded_url: str, web_bundle: Path, serve: Callable[..., str], make_users
) -> Iterator[Site]:
    """The API and the UI over a fresh loaded database with users that have passwords."""
    make_users(loaded_url, USERS)
    engine = make_engine(loaded_url)
    with session_factory(engine)() as session:
        pole = session.scalar(
            select(Structure.external_id)
            .join(Organisation, Structure.owner_id == Organisation.id)
            .where(Organisation.code == "cq-street-lighting",
                   Structure.kind == StructureKind.LAMP_POLE,
                   Structure.status == StructureStatus.IN_SERVICE,
                   Structure.open_for_sharing.is_(True),
                   ~exists().where(TenancyPosition.structure_id == Structure.id))
            .order_by(Structure.id)
            .limit(1)
        )  # fmt: skip
        assert pole is not None
        rent = file_request(
            session, "wang.cmcc",
            RequestSpec(pole, position_count=1, payload_kg=10, power_kw=0.2,
                        fee_offer=(FeeItem("space_rent", 2000.0),)),
            submit=True,
        )  # fmt: skip
        rent_id = rent.id
    engine.dispose()

    app = create_app(loaded_url, secure_cookies=False)
    assert mount_web(app), "mount_web found no bundle"
    yield Site(serve(app), loaded_url, rent_id, pole)


# --- helpers ------------------------------------------------------------------------------------


def map_loads(page: Page) -> int:
    return int(page.locator("#map").get_attribute("data-loads") or 0)


def wait_for_map(page: Page, after: int) -> None:
    """Until the map has drawn the structures of a view newer than load number ``after``."""
    page.wait_for_function(
        "n => { const m = document.querySelector('#map');"
        " return m && m.dataset.state === 'ready' && Number(m.dataset.loads) > n; }",
        arg=after,
    )


def free_lamp_pole_marker(page: Page):
    """A lamp-pole marker with a free position, wholly inside the map (not under a control)."""
    box = page.locator("#map").bounding_box()
    assert box is not None
    markers = page.locator('.st-marker .st[data-kind="lamp_pole"]:not(.st-full)')
    for i in range(markers.count()):
        m = markers.nth(i)
        b = m.bounding_box()
        if b is None:
            continue
        inside = (box["x"] + 60 < b["x"] and b["x"] + b["width"] < box["x"] + box["width"] - 20
                  and box["y"] + 60 < b["y"]
                  and b["y"] + b["height"] < box["y"] + box["height"] - 30)  # fmt: skip
        if inside:
            return m
    return None


# --- the test -----------------------------------------------------------------------------------


@sqlite_only
def test_operator_requests_owner_approves_regulator_watches(site: Site, ui, shots) -> None:
    errors = ui.errors

    # -- the operator: login page, errors in both languages --------------------------------------
    op = ui.page()
    op.goto(site.url + "/")
    expect(op.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(op.get_by_role("heading", name="登录")).to_be_visible()
    op.get_by_role("button", name="登录").click()
    expect(op.get_by_text("请输入用户名。")).to_be_visible()
    expect(op.get_by_label("用户名")).to_have_attribute("aria-invalid", "true")
    op.get_by_label("用户名").fill("wang.cmcc")
    op.get_by_label("密码").fill("not the password")
    op.get_by_role("button", name="登录").click()
    expect(op.get_by_role("alert").filter(has_text="用户名或密码错误。")).to_be_visible()
    shots(op, "login-error-zh")

    op.get_by_role("button", name="Switch to English").click()
    expect(op.locator("html")).to_have_attribute("lang", "en")
    expect(op.get_by_role("heading", name="Log in")).to_be_visible()
    op.get_by_label("User name").fill("wang.cmcc")
    op.get_by_label("Password").fill("still not the password")
    op.get_by_role("button", name="Log in").click()
    expect(op.get_by_role("alert").filter(has_text="Wrong user name or password.")).to_be_visible()
    shots(op, "login-error-en")
    op.get_by_role("button", name="切换到中文").click()
    expect(op.get_by_role("heading", name="登录")).to_be_visible()

    # -- the operator: the map, a key area, a lamp pole with a free position -----------------------
    ui.log_in(op, site.url, "wang.cmcc")
    expect(op.get_by_role("heading", name="站址地图")).to_be_visible()
    expect(op.get_by_test_id("who")).to_contain_text("运营商")
    expect(op.locator("#map path.leaflet-interactive").first).to_be_attached()  # areas drawn
    expect(op.locator(f'[data-testid="key-area-select"] option[value="{KEY_AREA}"]')).to_have_text(
        "2019 · 解放碑商圈"
    )
    expect(op.get_by_text("放大地图（第 13 级以上）即可查看可挂载设施。").first).to_be_visible()
    shots(op, "map-city")

    before = map_loads(op)
    op.get_by_label("定位到重点区域").select_option(KEY_AREA)
    wait_for_map(op, before)
    assert int(op.locator("#map").get_attribute("data-structures") or 0) > 0
    expect(op.get_by_role("heading", name=re.compile(r"当前视野内的设施（\d+）"))).to_be_visible()
    shots(op, "map-key-area")

    marker = free_lamp_pole_marker(op)
    for _ in range(4):  # zoom in until clustering lets go of a lamp pole with room on it
        if marker is not None:
            break
        before = map_loads(op)
        op.get_by_role("button", name="放大", exact=True).click()
        wait_for_map(op, before)
        marker = free_lamp_pole_marker(op)
    assert marker is not None, "no lamp pole with a free position near the key area"
    pole = marker.get_attribute("data-external-id")
    free = int(marker.get_attribute("data-free") or 0)
    assert pole and free > 0
    marker.click()

    panel = op.get_by_test_id("structure-detail")
    expect(panel.get_by_role("heading", name=f"设施 {pole}")).to_be_visible()
    expect(panel).to_contain_text("路灯杆")
    expect(panel).to_contain_text("cq-street-lighting")
    expect(panel).to_contain_text(f"空余 {free} / 共")
    expect(panel.get_by_role("heading", name="申请共享")).to_be_visible()
    expect(op.locator(f'.st[data-external-id="{pole}"]')).to_have_class(re.compile("st-selected"))

    # a wrong number is refused in the form, with its message
    panel.get_by_label("挂载位数").fill("0")
    panel.get_by_role("button", name="申请共享").click()
    expect(panel.get_by_text(f"挂载位数应为 1 到 {free} 之间的整数。")).to_be_visible()
    panel.get_by_label("挂载位数").fill("1")
    panel.get_by_label("设备重量（千克）").fill("15")
    panel.get_by_label("用电功率（千瓦）").fill("0.3")
    panel.get_by_label("电费（元/千瓦时）").fill("0.65")  # public pole: no rent, power at cost
    panel.get_by_role("button", name="申请共享").click()
    done = op.get_by_test_id("request-done")
    expect(done).to_contain_text(re.compile(r"申请 \d+ 已发出，状态：已提交"))
    expect(done).to_contain_text("答复期限")
    request_id = done.get_attribute("data-request-id")
    assert request_id and request_id.isdigit()
    shots(op, "operator-request-filed")

    # the language switch: every text, and the key areas' names, in English
    op.get_by_test_id("lang-switch").click()
    expect(op.locator("html")).to_have_attribute("lang", "en")
    expect(op.get_by_role("heading", name="Site map")).to_be_visible()
    expect(op.get_by_role("link", name="Sharing requests")).to_be_visible()
    expect(op.locator(f'[data-testid="key-area-select"] option[value="{KEY_AREA}"]')).to_have_text(
        "2019 · Jiefangbei central business district"
    )
    expect(op.get_by_test_id("structure-detail")).to_contain_text("lamp pole")
    shots(op, "map-english")
    op.get_by_test_id("lang-switch").click()
    expect(op.get_by_role("heading", name="站址地图")).to_be_visible()

    # the operator's list: its request, submitted
    op.get_by_role("link", name="共享申请").click()
    row = op.locator(f'tr[data-request-id="{request_id}"]')
    expect(row).to_contain_text(pole)
    expect(row.locator(".badge")).to_have_text("已提交")
    op.get_by_role("button", name="退出登录").click()
    expect(op.get_by_role("heading", name="登录")).to_be_visible()
    op.context.close()

    # -- the owner: two clerks of the street-lighting office open the request --------------------
    owner = ui.page()
    ui.log_in(owner, site.url, "wu.lights")
    owner.get_by_role("link", name="共享申请").click()
    owner.get_by_role("link", name=f"打开申请 {request_id}").click()
    detail = owner.get_by_test_id("request-detail")
    expect(detail.get_by_role("heading", name=f"申请 {request_id}")).to_be_visible()
    expect(detail).to_have_attribute("data-state", "submitted")
    expect(detail).to_contain_text(pole)
    expect(detail).to_contain_text("电费（元/千瓦时）: 0.65")

    other = ui.page()
    ui.log_in(other, site.url, "qian.lights")
    other.goto(f"{site.url}/#/sharing/{request_id}")
    other_detail = other.get_by_test_id("request-detail")
    expect(other_detail).to_have_attribute("data-state", "submitted")

    detail.get_by_role("button", name="开始审核").click()
    expect(detail).to_have_attribute("data-state", "under_review")
    expect(detail.locator(".badge")).to_have_text("审核中")

    # the second clerk acts on what it read before: refused (412), shown the request as it is now
    other_detail.get_by_role("button", name="开始审核").click()
    expect(other_detail.get_by_role("alert")).to_contain_text("412")
    expect(other_detail).to_have_attribute("data-state", "under_review")
    shots(other, "owner-stale-412")
    other.context.close()

    # a reason is required to reject: the form says so (and nothing is sent)
    detail.get_by_role("button", name="拒绝").click()
    detail.get_by_role("button", name="确认拒绝").click()
    expect(detail.get_by_text("请填写理由。")).to_be_visible()
    detail.get_by_role("button", name="取消").click()

    detail.get_by_role("button", name="批准").click()
    expect(detail).to_have_attribute("data-state", "approved")
    expect(detail.locator(".badge")).to_have_text("已批准")
    expect(detail).to_contain_text("当前状态下您没有可执行的操作。")
    expect(owner.locator(f'tr[data-request-id="{request_id}"] .badge')).to_have_text("已批准")
    shots(owner, "owner-approved")

    # rent asked on a public lamp pole: approval refused (422), a case for the regulator
    owner.get_by_role("link", name=f"打开申请 {site.rent_request}").click()
    expect(detail).to_have_attribute("data-request-id", str(site.rent_request))
    expect(detail).to_contain_text("空间租赁费（元/挂载位/年）: 2,000")
    detail.get_by_role("button", name="开始审核").click()
    expect(detail).to_have_attribute("data-state", "under_review")
    detail.get_by_role("button", name="批准").click()
    refused = detail.get_by_test_id("action-status").get_by_role("alert")
    expect(refused).to_contain_text("费用报价不符合收费政策（422）")
    expect(refused).to_contain_text("空间租赁费 (space rent) must be 0 on a public lamp pole")
    expect(detail).to_have_attribute("data-state", "under_review")
    shots(owner, "owner-fee-refused-422")
    owner.context.close()

    # -- the regulator: the dashboard and the cases ------------------------------------------------
    reg = ui.page()
    ui.log_in(reg, site.url, "li.reg")
    expect(reg.get_by_role("heading", name="指标看板（全市）")).to_be_visible()
    expect(reg.locator('nav a[aria-current="page"]')).to_have_text("指标看板")
    kpis = reg.get_by_test_id("kpis")
    expect(kpis.locator("tbody tr").first).to_be_visible()
    expect(kpis).to_contain_text("5G基站数")
    expect(kpis).to_contain_text(re.compile("已达标|未达标"))
    expect(kpis).to_contain_text(re.compile(r"截至 \d{4}/\d{2}/\d{2}"))
    assert kpis.locator("tbody tr").count() >= 5
    counts = reg.get_by_test_id("request-counts")
    expect(counts.locator(".state-approved .tile-n")).to_have_text("1")
    expect(counts.locator(".state-under_review .tile-n")).to_have_text("1")
    expect(counts.locator(".tile-cases .tile-n")).to_have_text("1")
    shots(reg, "regulator-dashboard", full_page=True)

    reg.get_by_test_id("lang-switch").click()
    expect(reg.get_by_role("heading", name="Dashboard (whole city)")).to_be_visible()
    expect(kpis).to_contain_text("5G base stations")
    expect(kpis).to_contain_text(re.compile("met|not met|no target"))
    shots(reg, "regulator-dashboard-en", full_page=True)
    reg.get_by_test_id("lang-switch").click()

    reg.locator('nav a[data-page="cases"]').click()
    expect(reg.get_by_role("heading", name="协调案件（一站式协调）")).to_be_visible()
    case = reg.locator("article.case")
    expect(case).to_have_count(1)
    expect(case).to_contain_text("收费投诉")
    expect(case).to_contain_text(f"#{site.rent_request}")
    expect(case).to_contain_text("空间租赁费 (space rent) must be 0")
    case.get_by_role("button", name="作出决定").click()
    expect(case.get_by_text("请填写决定内容。")).to_be_visible()
    case.get_by_label("结论").select_option("upheld")
    case.get_by_label("决定内容").fill("公共路灯杆不得收取空间租赁费；请撤除该费用后再批准。")
    shots(reg, "regulator-case-open")
    case.get_by_role("button", name="作出决定").click()
    expect(reg.get_by_text("没有案件。")).to_be_visible()
    reg.get_by_label("状态").select_option("decided")
    decided = reg.locator("article.case[data-state=decided]")
    expect(decided).to_contain_text("成立: 公共路灯杆不得收取空间租赁费")
    expect(decided).to_contain_text("li.reg")
    shots(reg, "regulator-case-decided")
    reg.context.close()

    # -- what the browser did is what the database holds -------------------------------------------
    assert not errors, f"uncaught errors in the page: {errors}"
    engine = make_engine(site.database)
    with session_factory(engine)() as session:
        req = session.scalar(select(SharingRequest).where(SharingRequest.id == int(request_id)))
        assert req is not None
        assert req.state is RequestState.APPROVED
        assert req.structure.external_id == pole
        assert req.operator.code == "china-mobile"
        assert req.tenancy is not None and len(req.tenancy.positions) == 1
        assert req.fee_offer == [{"item": "electricity", "amount": 0.65}]
        rent = session.get(SharingRequest, site.rent_request)
        assert rent is not None and rent.state is RequestState.UNDER_REVIEW
        cases = list(session.scalars(select(SharingCase).where(
            SharingCase.request_id == site.rent_request)))  # fmt: skip
        assert [(c.state, c.outcome.value if c.outcome else None, c.decided_by)
                for c in cases] == [(CaseState.DECIDED, "upheld", "li.reg")]  # fmt: skip
    engine.dispose()


# --- serving the bundle (no browser) --------------------------------------------------------------


@sqlite_only
def test_mount_web_serves_the_bundle(db_url: str, web_bundle: Path, monkeypatch) -> None:
    monkeypatch.setenv(TILE_URL_ENV, "https://{s}.tiles.example.cn/{z}/{x}/{y}.png")
    app = create_app(db_url, secure_cookies=False)
    assert mount_web(app)
    with TestClient(app) as client:
        index = client.get("/")
        assert index.status_code == 200
        assert index.headers["content-type"].startswith("text/html")
        csp = index.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "img-src 'self' data: blob: https://*.tiles.example.cn" in csp
        script = re.search(r'src="(/assets/[^"]+\.js)"', index.text)
        assert script, index.text
        asset = client.get(script.group(1))
        assert asset.status_code == 200
        assert "immutable" in asset.headers["cache-control"]
        assert "javascript" in asset.headers["content-type"]
        config = client.get("/web-config.json").json()
        assert config["tile_url"] == "https://{s}.tiles.example.cn/{z}/{x}/{y}.png"
        assert client.get("/assets/nothing-here.js").status_code == 404
        assert client.get("/api/v1/auth/me").status_code == 401  # the API is untouched

        # the API docs page: Swagger UI from /assets, under the same strict CSP
        docs = client.get("/api/v1/docs")
        assert docs.status_code == 200 and docs.headers["content-type"].startswith("text/html")
        assert docs.headers["content-security-policy"] == csp
        assert not re.search(r"(src|href)=\"(https?:)?//", docs.text), docs.text  # nothing outside
        assert "<script>" not in docs.text  # no inline script
        scripts = re.findall(r'<script src="(/assets/[^"]+\.js)"', docs.text)
        assert len(scripts) == 2 and "swagger-ui-bundle" in scripts[0], docs.text
        for path in [*scripts, *re.findall(r'href="(/assets/[^"]+)"', docs.text)]:
            assert client.get(path).status_code == 200, path
        assert client.get("/api/v1/openapi.json").status_code == 200
        assert "/api/v1/docs" not in client.get("/api/v1/openapi.json").json()["paths"]
    app.state.engine.dispose()


def test_mount_web_without_bundle_says_how_to_build(tmp_path: Path, caplog, monkeypatch) -> None:
    monkeypatch.delenv(TILE_URL_ENV, raising=False)
    app = FastAPI()
    with caplog.at_level("WARNING", logger="mastplan.web"):
        assert mount_web(app, static_dir=tmp_path / "static") is False
    assert "scripts/build-web.sh" in caplog.text
    assert mount_web(app) is False  # once per app: a second call changes nothing
    with TestClient(app) as client:
        page = client.get("/")
        assert page.status_code == 503
        assert "scripts/build-web.sh" in page.text and "网页界面尚未构建" in page.text
        docs = client.get("/api/v1/docs")  # the API docs page is part of the bundle
        assert docs.status_code == 503 and docs.text == page.text
        assert client.get("/web-config.json").json() == {"tile_url": None, "tile_attribution": ""}
        assert client.get("/assets/index.js").status_code == 404
