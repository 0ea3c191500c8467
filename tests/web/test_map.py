"""The map's layers in a real browser (Debian Chromium, headless, Playwright): the key areas
coloured by phase year or by their latest recorded coverage result, and the sites in view (an
operator does not see another operator's planned or approved sites; the regulator does), with
their popups linking to the site page, in 中文 and English. The fixtures are in ``conftest.py``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from mastplan.api.app import create_app
from mastplan.progress.coverage_results import record_coverage
from mastplan.registry.audit import Actor
from mastplan.registry.db import make_engine, session_factory
from mastplan.registry.enums import SiteStatus
from mastplan.registry.models import Organisation, Site

# Only SQLite: the UI does not care which database is behind the API (the API tests cover both).
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

USERS = {
    "wang.cmcc": ("china-mobile", "operator"),
    "li.reg": ("cq-cac", "regulator"),
}
MET = "2019-jiefangbei-cbd"  # 解放碑商圈: a result above both targets
BELOW = "2019-guanyinqiao"  # 观音桥: a result under the coverage target
UNASSESSED = "2019-sanxia-square"  # no result recorded
AS_OF = dt.date(2021, 6, 30)
# the key areas' colours (web/src/pages/map.js)
PHASE_2019 = "#d7301f"
MET_COLOUR, BELOW_COLOUR, UNASSESSED_COLOUR = "#1b7837", "#e66101", "#8c8c8c"
HIDDEN = (SiteStatus.PLANNED, SiteStatus.APPROVED)  # another operator's: not for an operator


@dataclass
class MapWorld:
    url: str
    database: str


def _record(session, code: str, covered: float, continuity: float) -> None:
    summary = {
        "area": {"kind": "key_area", "code": code},
        "statistics": {"covered_share": covered, "continuity": continuity,
                       "rsrp_min_dbm": -105.0, "area_km2": 1.0, "n_holes": 0},
        "grid": {"resolution_m": 100.0},
        "options": {},  # all operators together
    }  # fmt: skip
    assert record_coverage(session, Actor("browser-test", "test setup"), summary, as_of=AS_OF)


@pytest.fixture
def map_world(loaded_url: str, web_bundle: Path, serve: Callable[..., str], make_users) -> MapWorld:
    """Users, and coverage results recorded for two key areas (one met, one below target)."""
    make_users(loaded_url, USERS)
    engine = make_engine(loaded_url)
    with session_factory(engine)() as session:
        _record(session, MET, 0.973, 0.991)
        _record(session, BELOW, 0.812, 0.9)
    engine.dispose()
    return MapWorld(serve(create_app(loaded_url, secure_cookies=False)), loaded_url)


# --- helpers ------------------------------------------------------------------------------------


def _wait_for_map(page: Page, after: int) -> None:
    page.wait_for_function(
        "n => { const m = document.querySelector('#map');"
        " return m && m.dataset.state === 'ready' && Number(m.dataset.loads) > n; }",
        arg=after,
    )


def _loads(page: Page) -> int:
    return int(page.locator("#map").get_attribute("data-loads") or 0)


def _zoom_to(page: Page, key_area: str, zoom_out: str) -> tuple[float, float, float, float]:
    """Zoom to a key area, then out one step (the button named ``zoom_out``), the sites and
    structures of the view drawn: the view's bbox."""
    before = _loads(page)
    page.get_by_test_id("key-area-select").select_option(key_area)
    _wait_for_map(page, before)
    before = _loads(page)
    page.get_by_role("button", name=zoom_out, exact=True).click()
    _wait_for_map(page, before)
    bbox = page.locator("#map").get_attribute("data-bbox")
    assert bbox, "no bbox: the view is not zoomed in enough for sites"
    west, south, east, north = (float(v) for v in bbox.split(","))
    return west, south, east, north


def _sites_in(database: str, bbox) -> list[tuple[str, str, SiteStatus]]:
    """(external id, operator, status) of every site in the bbox."""
    west, south, east, north = bbox
    engine = make_engine(database)
    with session_factory(engine)() as session:
        rows = session.execute(
            select(Site.external_id, Organisation.code, Site.status)
            .join(Organisation, Site.operator_id == Organisation.id)
            .where(Site.lon_deg.between(west, east), Site.lat_deg.between(south, north))
        ).all()  # fmt: skip
    engine.dispose()
    return [tuple(r) for r in rows]


def _popup_shown(page: Page) -> None:
    """Until the open popup has faded in (for the screenshot)."""
    page.wait_for_function(
        "() => { const p = document.querySelector('.leaflet-popup');"
        " return p && getComputedStyle(p).opacity === '1'; }"
    )


def _key_area(page: Page, code: str):
    return page.locator(f'#map path[data-key-area="{code}"]')


def _point_over(page: Page, code: str) -> tuple[float, float]:
    """A point of the page where the key area's path is the topmost element."""
    point = page.evaluate(
        """code => {
             const p = document.querySelector(`#map path[data-key-area="${code}"]`);
             const r = p.getBoundingClientRect();
             for (let i = 1; i < 12; i++) for (let j = 1; j < 12; j++) {
               const x = r.left + (r.width * i) / 12, y = r.top + (r.height * j) / 12;
               if (document.elementFromPoint(x, y) === p) return [x, y];
             }
             return null; }""",
        code,
    )
    assert point, f"no point of the page shows key area {code} on top"
    return point[0], point[1]


def _tooltip_of(page: Page, code: str):
    """The key area's tooltip (opened as a pointer over it would)."""
    path = _key_area(page, code)
    path.dispatch_event("mouseover")
    tip = page.locator(".leaflet-tooltip").filter(has=page.locator(f'[data-key-area="{code}"]'))
    expect(tip).to_be_visible()
    text = tip.inner_text()
    path.dispatch_event("mouseout")
    return text


# --- key areas by coverage status ---------------------------------------------------------------


@sqlite_only
def test_key_areas_coloured_by_phase_or_coverage(map_world: MapWorld, ui, shots) -> None:
    page = ui.page()
    ui.log_in(page, map_world.url, "wang.cmcc")
    expect(page.get_by_role("heading", name="站址地图")).to_be_visible()

    # by phase year (the default): the 2019 colour, the years in the legend
    legend = page.get_by_test_id("key-area-legend")
    expect(legend).to_have_attribute("data-mode", "phase")
    expect(legend).to_contain_text("2019 年")
    for code in (MET, BELOW, UNASSESSED):
        expect(_key_area(page, code)).to_have_attribute("stroke", PHASE_2019)
    expect(page.get_by_label("着色")).to_have_value("phase")

    # by coverage status: met green, below target orange, not assessed grey and dashed
    page.get_by_label("着色").select_option(label="覆盖达标情况")
    expect(legend).to_have_attribute("data-mode", "coverage")
    for status, text in (("met", "已达标"), ("below_target", "未达标"), ("not_assessed", "未评估")):
        expect(legend.locator(f'li[data-status="{status}"]')).to_have_text(text)
    expect(legend).not_to_contain_text("2019 年")
    met, below, unassessed = (_key_area(page, c) for c in (MET, BELOW, UNASSESSED))
    expect(met).to_have_attribute("stroke", MET_COLOUR)
    expect(met).to_have_attribute("data-coverage-status", "met")
    expect(below).to_have_attribute("stroke", BELOW_COLOUR)
    expect(below).to_have_attribute("data-coverage-status", "below_target")
    expect(unassessed).to_have_attribute("stroke", UNASSESSED_COLOUR)
    expect(unassessed).to_have_attribute("data-coverage-status", "not_assessed")
    expect(unassessed).to_have_attribute("stroke-dasharray", "5 4")
    # over the key area (zoomed to it, then out below the structures' zoom): its tooltip
    before = _loads(page)
    page.get_by_test_id("key-area-select").select_option(MET)
    _wait_for_map(page, before)
    hint = page.locator(".map-notes").get_by_text("放大地图（第 13 级以上）即可查看可挂载设施。")
    for _ in range(4):
        before = _loads(page)
        page.get_by_role("button", name="缩小", exact=True).click()
        _wait_for_map(page, before)
        if hint.is_visible():
            break
    expect(hint).to_be_visible()
    over_met = _point_over(page, MET)
    page.mouse.move(*over_met)
    tip = page.locator(".leaflet-tooltip").filter(has=page.locator(f'[data-key-area="{MET}"]'))
    expect(tip).to_contain_text("重点区域：解放碑商圈（2019 年）")
    expect(tip).to_contain_text("已达标：覆盖率 97.3% / 目标 95%")
    expect(tip).to_contain_text("2021/06/30")
    shots(page, "key-areas-coverage-zh")
    page.mouse.move(0, 0)  # off the map: the tooltip closes
    assert "覆盖率 97.3% / 目标 95%" in _tooltip_of(page, MET)
    tip = _tooltip_of(page, BELOW)
    assert "未达标" in tip and "覆盖率 81.2% / 目标 95%" in tip, tip
    assert "未评估" in _tooltip_of(page, UNASSESSED)

    # in English: the choice is kept, every text changes
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_role("heading", name="Site map")).to_be_visible()
    expect(page.get_by_label("Colour by")).to_have_value("coverage")
    legend = page.get_by_test_id("key-area-legend")
    for status, text in (("met", "target met"), ("below_target", "below target"),
                         ("not_assessed", "not assessed")):  # fmt: skip
        expect(legend.locator(f'li[data-status="{status}"]')).to_have_text(text)
    expect(_key_area(page, BELOW)).to_have_attribute("stroke", BELOW_COLOUR)
    tip = _tooltip_of(page, MET)
    assert "Jiefangbei central business district" in tip, tip
    assert "target met" in tip and "coverage 97.3% / target 95%" in tip, tip
    assert "below target" in _tooltip_of(page, BELOW)
    assert "Not assessed" in _tooltip_of(page, UNASSESSED)
    page.mouse.move(*_point_over(page, MET))
    tip = page.locator(".leaflet-tooltip").filter(has=page.locator(f'[data-key-area="{MET}"]'))
    expect(tip).to_contain_text("target met: coverage 97.3% / target 95%")
    shots(page, "key-areas-coverage-en")

    # back to the phase years
    page.get_by_label("Colour by").select_option("phase")
    expect(legend).to_have_attribute("data-mode", "phase")
    expect(legend).to_contain_text("2019")
    expect(_key_area(page, MET)).to_have_attribute("stroke", PHASE_2019)
    expect(_key_area(page, MET)).to_have_attribute("data-colour-by", "phase")
    assert not ui.errors, ui.errors


# --- sites in view ------------------------------------------------------------------------------


@sqlite_only
def test_sites_in_view_by_who_may_see_them(map_world: MapWorld, ui, shots) -> None:
    # the operator: its own sites and the others' built, on-air and retired ones, not the others'
    # planned or approved ones
    op = ui.page()
    ui.log_in(op, map_world.url, "wang.cmcc")
    expect(op.get_by_test_id("layer-sites")).to_be_checked()
    expect(op.get_by_test_id("site-legend")).to_contain_text("中国移动")
    expect(op.get_by_test_id("site-legend")).to_contain_text("中国广电")
    bbox = _zoom_to(op, MET, "缩小")
    in_view = _sites_in(map_world.database, bbox)
    hidden = [s for s, o, st in in_view if o != "china-mobile" and st in HIDDEN]
    visible = [s for s, o, st in in_view if not (o != "china-mobile" and st in HIDDEN)]
    assert hidden, f"the test data has no other operator's planned site in {bbox}: {in_view}"
    assert len(visible) > 3
    expect(op.locator("#map")).to_have_attribute("data-sites", str(len(visible)))
    expect(op.locator("#map .site-marker .site")).to_have_count(len(visible))
    for external_id in hidden:
        expect(op.locator(f'#map .site[data-external-id="{external_id}"]')).to_have_count(0)
    # an operator's sites are in its colour, the status in the ring
    own = next(s for s, o, st in in_view if o == "china-mobile" and st is SiteStatus.ON_AIR)
    marker = op.locator(f'#map .site[data-external-id="{own}"]')
    expect(marker).to_have_attribute("data-operator", "china-mobile")
    expect(marker).to_have_attribute("data-status", "on_air")
    shots(op, "sites-operator")

    # the list of sites in view: the same sites; choosing one opens its popup, linking to its page
    op.locator(".sites-in-view summary").click()
    expect(op.get_by_role("heading", name=f"当前视野内的站点（{len(visible)}）")).to_be_visible()
    expect(op.get_by_test_id("site-list").locator("button.site-item")).to_have_count(len(visible))
    op.locator(f'button.site-item[data-external-id="{own}"]').click()
    popup = op.locator(f'.leaflet-popup [data-testid="site-popup"][data-external-id="{own}"]')
    expect(popup).to_be_visible()
    expect(popup).to_contain_text("中国移动")
    expect(popup).to_contain_text("已开通")
    expect(popup).to_contain_text("开通日期")
    _popup_shown(op)
    shots(op, "sites-popup")
    popup.get_by_role("link", name="站点详情").click()
    expect(op).to_have_url(re.compile(f"#/sites/{re.escape(own)}$"))
    expect(op.get_by_role("heading", name=f"站点 {own}")).to_be_visible()
    expect(op.get_by_test_id("site-page")).to_contain_text("china-mobile")

    # back on the map (the view kept), the sites switched off: none drawn; on again: back
    op.locator('nav a[data-page="map"]').click()
    _wait_for_map(op, 0)
    drawn = int(op.locator("#map").get_attribute("data-sites") or 0)
    assert drawn > 3
    expect(op.locator("#map .site-marker .site")).to_have_count(drawn)
    op.get_by_test_id("layer-sites").uncheck()
    expect(op.locator("#map .site-marker")).to_have_count(0)
    expect(op.get_by_test_id("site-list")).to_contain_text("站点图层已关闭。")
    op.get_by_test_id("layer-sites").check()
    expect(op.locator("#map .site-marker .site")).to_have_count(drawn)

    # the regulator sees every site of the view, the others' planned ones among them
    reg = ui.page()
    ui.log_in(reg, map_world.url, "li.reg")
    reg.locator('nav a[data-page="map"]').click()
    in_view = _sites_in(map_world.database, _zoom_to(reg, MET, "缩小"))
    expect(reg.locator("#map")).to_have_attribute("data-sites", str(len(in_view)))
    expect(reg.locator("#map .site-marker .site")).to_have_count(len(in_view))
    planned = next(s for s in hidden if s in {i for i, _, _ in in_view})
    operator, status = next((o, st) for s, o, st in in_view if s == planned)
    ring = reg.locator(f'#map .site[data-external-id="{planned}"]')
    expect(ring).to_have_attribute("data-status", status.value)
    expect(ring).to_have_attribute("data-operator", operator)
    style = "dotted" if status is SiteStatus.PLANNED else "dashed"
    assert ring.evaluate("e => getComputedStyle(e).borderTopStyle") == style
    # a marker is a keyboard button: Enter opens its popup
    reg.locator(f'#map .site-marker:has(.site[data-external-id="{planned}"])').focus()
    reg.keyboard.press("Enter")
    popup = reg.locator(f'.leaflet-popup [data-testid="site-popup"][data-external-id="{planned}"]')
    expect(popup).to_be_visible()
    expect(popup).to_contain_text({"planned": "规划", "approved": "已批准"}[status.value])
    expect(popup.get_by_role("link", name="站点详情")).to_have_attribute(
        "href", f"#/sites/{planned}"
    )
    _popup_shown(reg)
    shots(reg, "sites-regulator")

    reg.get_by_test_id("lang-switch").click()
    expect(reg.get_by_role("heading", name="Site map")).to_be_visible()
    expect(reg.get_by_test_id("site-legend")).to_contain_text("China Telecom")
    reg.locator(".sites-in-view summary").click()
    expect(reg.get_by_role("heading", name=f"Sites in view ({len(in_view)})")).to_be_visible()
    reg.locator(f'button.site-item[data-external-id="{planned}"]').click()
    popup = reg.locator(f'.leaflet-popup [data-testid="site-popup"][data-external-id="{planned}"]')
    expect(popup).to_contain_text(status.value.replace("_", " "))
    expect(popup.get_by_role("link", name="Site details")).to_be_visible()
    _popup_shown(reg)
    shots(reg, "sites-regulator-en")
    assert not ui.errors, ui.errors
