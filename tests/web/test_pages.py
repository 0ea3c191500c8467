"""The other pages of the web UI in a real browser (Debian Chromium, headless, Playwright):
the offline API docs page, structure and site details, tasks and meetings, reports, plans and
the coverage overlay, in 中文 and English. The fixtures are in ``conftest.py``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import urlopen

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from mastplan.api.app import create_app
from mastplan.jobs.service import submit as submit_job
from mastplan.registry.audit import Actor
from mastplan.registry.db import make_engine, session_factory
from mastplan.registry.enums import SiteStatus
from mastplan.registry.models import KeyArea, Organisation, Site, Structure, Tenancy
from mastplan.registry.structures import create_structure
from mastplan.sharing.requests import RequestSpec, act, file_request

# Only SQLite: the UI does not care which database is behind the API (the API tests cover both).
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@sqlite_only
def test_api_docs_page_lists_every_endpoint_offline(
    db_url: str, web_bundle: Path, serve: Callable[..., str], ui, shots
) -> None:
    url = serve(create_app(db_url, secure_cookies=False))
    page = ui.page(locale="en-GB")
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)

    page.goto(url + "/api/v1/docs")
    expect(page.locator("#swagger-ui .info .title")).to_contain_text("mastplan API")
    with urlopen(url + "/api/v1/openapi.json") as resp:  # the same document, read here
        spec = json.load(resp)
    operations = [(path, method) for path, item in spec["paths"].items()
                  for method in item if method in HTTP_METHODS]  # fmt: skip
    assert len(operations) > 30
    expect(page.locator("#swagger-ui .opblock")).to_have_count(len(operations))
    shown = page.evaluate(
        """() => [...document.querySelectorAll('#swagger-ui .opblock')].map((b) => [
             b.querySelector('.opblock-summary-path').dataset.path,
             [...b.classList].find((c) => /^opblock-(get|put|post|delete|patch|head|options)$/
                                            .test(c)).slice(8)])"""
    )
    assert sorted(map(tuple, shown)) == sorted(operations)  # every endpoint, each once
    shots(page, "api-docs")
    hosts = {urlsplit(u).netloc for u in requested if not u.startswith(("data:", "blob:"))}
    assert hosts == {urlsplit(url).netloc}, requested
    assert not [c for c in console if "Content Security Policy" in c], console
    assert not ui.errors, ui.errors


# --- the world of the walk-throughs -------------------------------------------------------------

USERS = {
    "wang.cmcc": ("china-mobile", "operator"),
    "zhao.tower": ("china-tower", "owner"),
    "li.reg": ("cq-cac", "regulator"),
    "he.reg": ("cq-cac", "regulator"),
}
NEAR_AREA = "2019-jiefangbei-cbd"  # the new tower stands at its centre
TOWER = "WEB-T1"
TASK = "key-1-1"  # china-mobile is one of its units
PLAN_AREA = "2020-hospital-three-gorges-central"  # small, no sites yet: a new tower or more


@dataclass
class World:
    url: str
    database: str
    request_id: int  # china-mobile's approved request on TOWER
    loaded_structure: str  # a loaded structure with a china-mobile tenancy on a site
    loaded_site: str
    coverage_run: int | None = None


def _world(database: str, make_users, *, coverage: bool = False) -> dict:
    """Users; a China Tower tower at the key area's centre (its creation audited) with an
    approved china-mobile request on it; a loaded structure with a site; a coverage job."""
    make_users(database, USERS)
    engine = make_engine(database)
    with session_factory(engine)() as session:
        centre = session.scalar(select(KeyArea).where(KeyArea.code == NEAR_AREA)).boundary.centroid
        create_structure(session, Actor("browser-test", "test setup"), {
            "external_id": TOWER, "kind": "telecom_tower", "owner": "china-tower",
            "lon_deg": centre.x, "lat_deg": centre.y, "height_m": 40.0, "mount_positions": 6,
            "max_payload_kg": 400.0, "available_power_kw": 12.0, "fibre": True,
            "open_for_sharing": True,
        })  # fmt: skip
        req = file_request(session, "wang.cmcc",
                           RequestSpec(TOWER, position_count=1, payload_kg=25, power_kw=0.8),
                           submit=True)  # fmt: skip
        act(session, "zhao.tower", req.id, "review")
        act(session, "zhao.tower", req.id, "approve")
        structure, site = session.execute(
            select(Structure.external_id, Site.external_id)
            .join(Tenancy, Tenancy.structure_id == Structure.id)
            .join(Site, Tenancy.site_id == Site.id)
            .join(Organisation, Site.operator_id == Organisation.id)
            .where(Organisation.code == "china-mobile", Site.status == SiteStatus.ON_AIR)
            .order_by(Structure.id)
            .limit(1)
        ).one()  # fmt: skip
        run = None
        if coverage:
            run = submit_job(session, "li.reg", "coverage",
                             {"area": NEAR_AREA, "resolution_m": 100}).id  # fmt: skip
        world = {"request_id": req.id, "loaded_structure": structure, "loaded_site": site,
                 "coverage_run": run}  # fmt: skip
    engine.dispose()
    return world


@pytest.fixture
def world(loaded_url: str, web_bundle: Path, serve, make_users) -> World:
    made = _world(loaded_url, make_users)
    url = serve(create_app(loaded_url, secure_cookies=False))
    return World(url, loaded_url, **made)


@pytest.fixture
def busy_world(loaded_url: str, web_bundle: Path, serve, make_users) -> World:
    """The same, with the job worker running and a coverage run queued for it."""
    made = _world(loaded_url, make_users, coverage=True)
    url = serve(create_app(loaded_url, secure_cookies=False), worker=True)
    return World(url, loaded_url, **made)


def _field(page, label: str):
    """The control labelled ``label`` (exactly; the required mark is part of the label)."""
    return page.get_by_label(re.compile("^" + re.escape(label)))


# --- structures and sites -------------------------------------------------------------------------


@sqlite_only
def test_structure_and_site_details(world: World, ui, shots) -> None:
    # the operator: from the map's panel to the structure's page
    op = ui.page()
    ui.log_in(op, world.url, "wang.cmcc")
    op.get_by_label("定位到重点区域").select_option(NEAR_AREA)
    item = op.locator(f'button.structure-item[data-external-id="{TOWER}"]')
    item.click()
    panel = op.get_by_test_id("structure-detail")
    expect(panel.get_by_role("heading", name=f"设施 {TOWER}")).to_be_visible()
    panel.get_by_role("link", name="详情").click()
    expect(op).to_have_url(re.compile(f"#/structures/{TOWER}$"))
    expect(op.get_by_role("heading", name=f"设施 {TOWER}")).to_be_visible()
    page = op.get_by_test_id("structure-page")
    expect(page).to_contain_text("通信铁塔")
    expect(page).to_contain_text("china-tower")
    expect(page).to_contain_text("空余 5 / 共 6")
    expect(page).to_contain_text("400 kg")
    tenancy = page.get_by_test_id("tenancies").locator("tbody tr")
    expect(tenancy).to_have_count(1)
    expect(tenancy).to_contain_text("china-mobile")
    expect(tenancy.get_by_role("link", name=f"#{world.request_id}")).to_be_visible()
    audit = page.get_by_test_id("audit")
    expect(audit).to_have_attribute("data-state", "ready")
    expect(audit.get_by_role("heading", name="变更记录")).to_be_visible()
    expect(audit.locator("tbody tr").first).to_contain_text("browser-test")
    expect(audit).to_contain_text("create")
    expect(op.locator('nav a[aria-current="page"]')).to_have_text("地图")
    # the request form of the map, here too
    op.get_by_test_id("open-request-form").click()
    expect(page.get_by_role("heading", name="申请共享")).to_be_visible()
    shots(op, "structure-zh", full_page=True)

    op.get_by_test_id("lang-switch").click()
    expect(op.get_by_role("heading", name=f"Structure {TOWER}")).to_be_visible()
    expect(page).to_contain_text("telecom tower")
    expect(page.get_by_role("heading", name="Tenancies")).to_be_visible()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    expect(page).to_contain_text("5 free of 6")
    shots(op, "structure-en", full_page=True)
    op.get_by_test_id("lang-switch").click()

    # the regulator: a loaded structure, its tenancy's site
    reg = ui.page()
    ui.log_in(reg, world.url, "li.reg")
    reg.goto(f"{world.url}/#/structures/{world.loaded_structure}")
    page = reg.get_by_test_id("structure-page")
    expect(page).to_have_attribute("data-state", "ready")
    page.get_by_test_id("tenancies").get_by_role("link", name=world.loaded_site).click()
    expect(reg.get_by_role("heading", name=f"站点 {world.loaded_site}")).to_be_visible()
    site = reg.get_by_test_id("site-page")
    expect(site).to_contain_text("china-mobile")
    expect(site).to_contain_text("已开通")
    expect(site.get_by_role("link", name=world.loaded_structure)).to_be_visible()
    expect(site.get_by_test_id("sectors").locator("tbody tr").first).to_be_visible()
    expect(site.get_by_test_id("audit")).to_have_attribute("data-state", re.compile("ready|empty"))
    shots(reg, "site", full_page=True)
    assert not ui.errors, ui.errors


# --- tasks and meetings ---------------------------------------------------------------------------


@sqlite_only
def test_tasks_and_meetings(world: World, ui, shots) -> None:
    op = ui.page()
    ui.log_in(op, world.url, "wang.cmcc")
    op.locator('nav a[data-page="tasks"]').click()
    expect(op.get_by_role("heading", name="规划任务")).to_be_visible()
    expect(op.get_by_test_id("tasks").locator("tbody tr")).to_have_count(18)
    op.get_by_label("责任单位").select_option("china-mobile")
    rows = op.get_by_test_id("tasks").locator("tbody tr")
    expect(rows.locator(f'xpath=self::tr[@data-task="{TASK}"]')).to_have_count(1)
    shots(op, "tasks")
    op.get_by_role("link", name=f"打开任务 {TASK}").click()
    task = op.get_by_test_id("task-page")
    expect(task.get_by_role("heading", name="更新进展")).to_be_visible()
    expect(task).to_have_attribute("data-status", "not_started")

    # the same task, read now by the regulator in another browser
    reg = ui.page()
    ui.log_in(reg, world.url, "li.reg")
    reg.goto(f"{world.url}/#/tasks/{TASK}")
    stale = reg.get_by_test_id("task-page")
    expect(stale).to_have_attribute("data-status", "not_started")

    # the form: a note is required (中文, then English), under the field, aria-invalid
    form = task.get_by_test_id("task-form")
    form.get_by_role("button", name="提交更新").click()
    expect(form.get_by_text("请填写“进展说明”。")).to_be_visible()
    note = _field(form, "进展说明")
    expect(note).to_have_attribute("aria-invalid", "true")
    error_id = form.get_by_text("请填写“进展说明”。").get_attribute("id")
    assert error_id and error_id in (note.get_attribute("aria-describedby") or "")
    shots(op, "task-required-zh")
    op.get_by_test_id("lang-switch").click()
    form = op.get_by_test_id("task-form")
    expect(op.get_by_role("heading", name="Milestones")).to_be_visible()
    form.get_by_role("button", name="Post the update").click()
    expect(form.get_by_text("Fill in “What was done”.")).to_be_visible()
    expect(_field(form, "What was done")).to_have_attribute("aria-invalid", "true")
    form.get_by_label("Status").select_option("done")
    _field(form, "What was done").fill("Site survey finished.")
    form.get_by_role("button", name="Post the update").click()
    expect(form.get_by_text("Give evidence for “done”.")).to_be_visible()
    shots(op, "task-required-en")
    op.get_by_test_id("lang-switch").click()

    form = op.get_by_test_id("task-form")
    form.get_by_label("状态").select_option("in_progress")
    _field(form, "进展说明").fill("已完成首批 20 个站址的现场勘察。")
    form.get_by_label("佐证材料").fill("survey-2021-03.pdf")
    form.get_by_role("button", name="提交更新").click()
    task = op.get_by_test_id("task-page")
    expect(task).to_have_attribute("data-status", "in_progress")
    expect(task.get_by_test_id("task-updates")).to_contain_text("已完成首批 20 个站址的现场勘察。")
    expect(task.get_by_test_id("task-updates")).to_contain_text("survey-2021-03.pdf")
    expect(task.get_by_role("status").first).to_contain_text(f"任务 {TASK} 的进展已更新：进行中")
    shots(op, "task-updated")

    # the regulator acts on what it read before: 412, told to reload
    form = reg.get_by_test_id("task-form")
    _field(form, "进展说明").fill("通信管理局督办。")
    form.get_by_role("button", name="提交更新").click()
    expect(form.get_by_test_id("task-stale")).to_contain_text("该任务已被他人修改（412）")
    shots(reg, "task-stale-412")
    form.get_by_role("button", name="重新加载").click()
    expect(reg.get_by_test_id("task-page")).to_have_attribute("data-status", "in_progress")

    # the regulator records a meeting, raises an issue about the task and decides it
    reg.locator('nav a[data-page="meetings"]').click()
    expect(reg.get_by_role("heading", name="联席会议")).to_be_visible()
    mf = reg.get_by_test_id("meeting-form")
    mf.get_by_role("button", name="保存会议").click()
    expect(mf.get_by_text("请填写“会议名称”。")).to_be_visible()
    _field(mf, "会议名称").fill("5G 建设联席会议第一次会议")
    mf.get_by_label("参会单位").fill("china-mobile, china-tower")
    mf.get_by_role("button", name="保存会议").click()
    meeting = reg.get_by_test_id("meeting-page")
    expect(
        meeting.get_by_role("heading", name=re.compile("5G 建设联席会议第一次会议"))
    ).to_be_visible()
    expect(meeting).to_contain_text("本次会议还没有议题。")
    issue_form = meeting.get_by_test_id("issue-form")
    issue_form.get_by_label("问题类型").select_option("power_supply")
    _field(issue_form, "问题标题").fill("解放碑站点转供电审批慢")
    issue_form.get_by_label("提出单位").fill("china-mobile")
    issue_form.get_by_label("关联对象").fill(f"task:{TASK}\nstructure:{TOWER}")
    issue_form.get_by_role("button", name="提出问题").click()
    issue = meeting.locator("article.issue")
    expect(issue).to_have_count(1)
    expect(issue).to_contain_text("转供电 · 解放碑站点转供电审批慢")
    expect(issue).to_contain_text("待解决")
    expect(issue.get_by_role("link", name=f"任务 {TASK}")).to_be_visible()
    decide = issue.get_by_test_id("decision-form")
    _field(decide, "决定内容").fill("由电力公司在两周内完成转供电审批。")
    decide.get_by_label("承办单位").fill("china-mobile")
    decide.get_by_role("button", name="记录决定").click()
    expect(decide.get_by_text("交办事项需填写“期限”。")).to_be_visible()
    decide.get_by_label("期限").fill("2030-01-15")
    decide.get_by_label("事项").fill("报送转供电材料")
    decide.get_by_role("button", name="记录决定").click()
    expect(issue.locator(".decision")).to_contain_text("由电力公司在两周内完成转供电审批。")
    expect(issue.locator(".decision tbody tr")).to_contain_text("报送转供电材料")
    shots(reg, "meeting", full_page=True)
    reg.locator('nav a[data-page="meetings"]').click()
    expect(reg.get_by_test_id("meetings-table").locator("tbody tr")).to_have_count(1)
    assert not ui.errors, ui.errors


# --- plans, reports, the coverage overlay (the job worker runs) ---------------------------------


@sqlite_only
def test_plans_reports_and_coverage(busy_world: World, ui, shots) -> None:
    w = busy_world
    # the operator plans a small key area, coarse and greedy: done in seconds
    op = ui.page()
    ui.log_in(op, w.url, "wang.cmcc")
    op.locator('nav a[data-page="plans"]').click()
    expect(op.get_by_role("heading", name="站址规划")).to_be_visible()
    form = op.get_by_test_id("plan-form")
    expect(form.get_by_label("中国移动")).to_be_checked()
    form.get_by_label("中国移动").uncheck()
    _field(form, "栅格分辨率（米）").fill("2")
    form.get_by_role("button", name="开始规划").click()
    expect(form.get_by_text("请选择规划区域。")).to_be_visible()
    expect(form.get_by_text("请至少选择一家运营商。")).to_be_visible()
    expect(form.get_by_text("“栅格分辨率（米）”应为数字，范围 5 到 1000。")).to_be_visible()
    expect(_field(form, "规划区域")).to_have_attribute("aria-invalid", "true")
    shots(op, "plan-form-errors")
    _field(form, "规划区域").select_option(PLAN_AREA)
    form.get_by_label("中国移动").check()
    _field(form, "栅格分辨率（米）").fill("100")
    form.get_by_label("求解方法").select_option("greedy")
    _field(form, "求解时限（秒）").fill("10")
    form.get_by_role("button", name="开始规划").click()
    expect(op).to_have_url(re.compile(r"#/plans/\d+$"))
    status = op.get_by_test_id("plan-status")
    expect(status).to_have_attribute("data-state", "done", timeout=90_000)
    plan_map = op.get_by_test_id("plan-map")
    expect(plan_map).to_have_attribute("data-state", "ready")
    sites = int(plan_map.get_attribute("data-sites") or 0)
    assert sites > 0
    markers = op.locator("#plan-map .plan-marker, #plan-map path.pm-existing")
    expect(markers).to_have_count(sites)
    expect(op.get_by_test_id("plan-sites-table").locator("tbody tr")).to_have_count(sites)
    expect(op.get_by_test_id("plan-totals")).to_contain_text("站点")
    markers.first.click()
    expect(op.locator(".leaflet-popup-content")).to_contain_text("china-mobile")
    shots(op, "plan-done")
    op.get_by_test_id("lang-switch").click()
    expect(op.get_by_role("heading", name=re.compile(r"^Plan \d+$"))).to_be_visible()
    expect(op.get_by_role("heading", name="Planned sites")).to_be_visible()
    expect(op.get_by_test_id("plan-map")).to_have_attribute("data-state", "ready")
    shots(op, "plan-done-en")
    op.get_by_test_id("lang-switch").click()
    op.get_by_role("link", name="站址规划").click()
    expect(op.get_by_test_id("plans-table").locator("tbody tr")).to_have_count(1)
    expect(op.get_by_test_id("plans-table").locator("tbody tr .badge")).to_have_text("已完成")

    # the regulator makes a report and downloads its PDF
    reg = ui.page(accept_downloads=True)
    ui.log_in(reg, w.url, "li.reg")
    reg.locator('nav a[data-page="reports"]').click()
    rf = reg.get_by_test_id("report-form")
    rf.get_by_label("英文").uncheck()
    rf.get_by_role("button", name="生成报告").click()
    row = reg.get_by_test_id("reports-table").locator("tbody tr").first
    expect(row).to_have_attribute("data-state", re.compile("queued|running|done"))
    expect(row).to_have_attribute("data-state", "done", timeout=90_000)
    pdf = row.locator('a[data-file$=".pdf"]')
    expect(pdf).to_have_count(1)
    shots(reg, "report-done")
    with reg.expect_download() as download:
        pdf.click()
    path = download.value.path()
    assert path is not None and Path(path).read_bytes()[:5] == b"%PDF-"

    # the coverage run queued before: its overlay on the map, with its legend
    reg.locator('nav a[data-page="map"]').click()
    select = reg.get_by_test_id("coverage-select")
    option = select.locator(f'option[value="{w.coverage_run}"]')
    expect(option).to_have_count(1, timeout=60_000)
    select.select_option(str(w.coverage_run))
    overlay = reg.locator("img.coverage-overlay")
    expect(overlay).to_be_visible()
    assert overlay.get_attribute("src", timeout=5_000).startswith("/api/v1/coverage-runs/")
    reg.wait_for_function(
        "() => { const i = document.querySelector('img.coverage-overlay');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    expect(reg.get_by_test_id("coverage-legend").locator("li").first).to_be_visible()
    shots(reg, "coverage-overlay")
    assert not ui.errors, ui.errors
