"""The progress report renders in 中文 and English, to HTML and PDF, with readable Chinese."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pypdfium2 as pdfium
import pytesseract
import pytest
from PIL import Image
from shapely.geometry import Point, box

from mastplan.errors import MastplanError
from mastplan.reports import (
    KpiLine,
    ReportData,
    ReportFiles,
    ReportTable,
    charts,
    fonts,
    maps,
    render_report,
)
from mastplan.reports.i18n import TEXTS, format_number, format_target, format_value

X0, Y0, SIDE = 106.40, 29.45, 0.1  # three 0.1° squares side by side, near 106.5E 29.5N


def _districts() -> gpd.GeoDataFrame:
    """Three square districts; the third has no population, so no per-10k value."""
    population = np.array([800_000.0, 500_000.0, np.nan])
    stations = np.array([1200, 300, 90])
    return gpd.GeoDataFrame(
        {
            "code": ["500901", "500902", "500903"],
            "name_zh": ["甲区", "乙区", "丙县"],
            "name_en": ["Jia District", "Yi District", "Bing County"],
            "base_stations": stations,
            "population": population,
            "base_stations_per_10k": stations / population * 10_000,
            "coverage_fraction": [0.92, 0.55, np.nan],
        },
        geometry=[box(X0 + i * SIDE, Y0, X0 + (i + 1) * SIDE, Y0 + SIDE) for i in range(3)],
        crs="EPSG:4326",
    )


def _key_areas() -> gpd.GeoDataFrame:
    """Key areas of 2019 and 2020 with all three statuses (one too small to see as a polygon)."""
    rows = [
        ("2019-a", "甲站", "Jia station", 2019, "covered", 0.97, 1.0, (0.03, 0.05, 0.012)),
        ("2019-b", "乙园", "Yi park", 2019, "not_covered", 0.41, 0.6, (0.14, 0.04, 0.010)),
        ("2020-a", "丙镇", "Bing town", 2020, "covered", 0.95, 0.9, (0.24, 0.06, 0.015)),
        ("2020-b", "丁湖", "Ding lake", 2020, "no_result", np.nan, np.nan, (0.21, 0.02, 0.008)),
        ("2020-c", "戊港", "Wu port", 2020, "not_covered", 0.3, 0.5, (0.27, 0.03, 0.0004)),
    ]
    return gpd.GeoDataFrame(
        {
            "code": [r[0] for r in rows],
            "name_zh": [r[1] for r in rows],
            "name_en": [r[2] for r in rows],
            "phase_year": [r[3] for r in rows],
            "status": [r[4] for r in rows],
            "covered_fraction": [r[5] for r in rows],
            "continuity_fraction": [r[6] for r in rows],
        },
        geometry=[Point(X0 + dx, Y0 + dy).buffer(r) for *_, (dx, dy, r) in rows],
        crs="EPSG:4326",
    )


def _kpis() -> tuple[KpiLine, ...]:
    return (
        KpiLine(
            id="5g-base-stations",
            name_zh="5G基站数",
            name_en="5G base stations",
            unit_zh="个",
            unit_en="base stations",
            value=49_000,
            target=100_000,
            comparator=">",
            target_year=2022,
            met=False,
            series=(
                (dt.date(2019, 12, 31), 10_000),
                (dt.date(2020, 12, 31), 39_000),
                (dt.date(2021, 9, 30), 49_000),
            ),
            note_zh="在网运行的gNB",
            note_en="gNBs on air",
        ),
        KpiLine(
            id="key-area-coverage",
            name_zh="重点区域覆盖率",
            name_en="Key-area coverage",
            unit_zh="比例",
            unit_en="fraction",
            value=0.72,
            target=0.9,
            comparator=">=",
            target_year=2021,
            met=False,
            series=((dt.date(2020, 6, 30), 0.4), (dt.date(2021, 9, 30), 0.72)),
        ),
        KpiLine(
            id="5g-demo-scenarios",
            name_zh="5G示范应用场景数",
            name_en="5G demonstration scenarios",
            unit_zh="个",
            unit_en="scenarios",
            value=None,
            target=100,
            comparator=">",
            target_year=2022,
            met=None,
            series=(),
        ),
    )


def _data(synthetic: bool = True) -> ReportData:
    tables = (
        ReportTable(
            key="overdue-tasks",
            title_zh="逾期任务",
            title_en="Overdue tasks",
            columns=(("任务", "Task"), ("牵头单位", "Lead unit"), ("截止日期", "Due")),
            rows=(
                ("建设5G基站", "市通信管理局", "2021-06-30"),
                ("开放公共资源", "市经济信息委", "2021-03-31"),
            ),
        ),
        ReportTable(
            key="meeting-follow-ups",
            title_zh="联席会议跟踪事项",
            title_en="Meeting follow-ups",
            columns=(("事项", "Item"), ("状态", "Status")),
            rows=(),
        ),
    )
    return ReportData(
        as_of=dt.date(2021, 9, 30),
        scope="city",
        scope_name_zh="重庆市",
        scope_name_en="Chongqing",
        kpis=_kpis(),
        districts=_districts(),
        key_areas=_key_areas(),
        tables=tables,
        contains_synthetic=synthetic,
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ReportFiles]:
    """The report rendered once per language into one folder (rendering takes a few seconds)."""
    out = tmp_path_factory.mktemp("report")
    data = _data()
    return {lang: render_report(data, lang, out) for lang in ("zh", "en")}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_files_are_written_next_to_each_other(rendered: dict[str, ReportFiles], lang: str):
    files = rendered[lang]
    assert files.html.name == f"report-{lang}.html" and files.html.is_file()
    assert files.pdf.name == f"report-{lang}.pdf" and files.pdf.stat().st_size > 10_000
    names = {p.name for p in files.images}
    # 2 charts (the third KPI has no data), the district map, a key-area map per year
    assert names == {
        "kpi-01-5g-base-stations.png",
        "kpi-02-key-area-coverage.png",
        "districts.png",
        "key-areas-2019.png",
        "key-areas-2020.png",
    }
    html = files.html.read_text(encoding="utf-8")
    for image in files.images:
        assert image.parent == files.html.parent / f"img-{lang}" and image.is_file()
        assert f'src="img-{lang}/{image.name}"' in html  # relative: the folder can be zipped
    assert str(files.html.parent) not in html
    with Image.open(files.images[0]) as png:
        assert png.info.get("dpi", (150, 150))[0] == pytest.approx(150, abs=1)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_html_has_translated_headings_kpis_and_tables(rendered: dict[str, ReportFiles], lang: str):
    html = rendered[lang].html.read_text(encoding="utf-8")
    for key in ("kpis", "progress", "districts", "key_areas", "tables", "target", "indicator"):
        assert TEXTS[key][lang] in html, key
    assert TEXTS["synthetic_banner"][lang] in html
    for kpi in _kpis():
        assert (kpi.name_zh if lang == "zh" else kpi.name_en) in html
    assert "49,000" in html and "72.0%" in html
    if lang == "zh":
        assert "超过100,000个（2022年）" in html and "不少于90.0%（2021年）" in html
        assert "暂无数据" in html  # the KPI without a series
        assert "逾期任务" in html and "市通信管理局" in html and ">无<" in html
        assert "丙县" in html and "无数据" in html  # the district without population
        assert "未覆盖：乙园" in html
    else:
        assert "more than 100,000 base stations by 2022" in html
        assert "at least 90.0% by 2021" in html
        assert "No data" in html
        assert "Overdue tasks" in html and ">None<" in html
        assert "Bing County" in html and "Not covered: Wu port" in html


def test_pdf_has_pages_with_header_and_footer(rendered: dict[str, ReportFiles]):
    pdf = pdfium.PdfDocument(rendered["zh"].pdf)
    try:
        assert len(pdf) >= 2
        first = pdf[0].get_textpage().get_text_range()
        assert "关键指标" in first and "5G基站数" in first
        assert f"第 1 页，共 {len(pdf)} 页" in first
        assert "数据截至 2021年9月30日" in first
        assert "含合成或示例数据" in first  # the synthetic-data note in the footer
    finally:
        pdf.close()
    pdf = pdfium.PdfDocument(rendered["en"].pdf)
    try:
        assert len(pdf) >= 2
        assert f"Page 2 of {len(pdf)}" in pdf[1].get_textpage().get_text_range()
    finally:
        pdf.close()


def test_chinese_in_the_pdf_is_readable_not_boxes(rendered: dict[str, ReportFiles], tmp_path: Path):
    """OCR page 1 of the Chinese PDF: tofu boxes would not read as the headings."""
    pdf = pdfium.PdfDocument(rendered["zh"].pdf)
    try:
        image = pdf[0].render(scale=150 / 72).to_pil()
    finally:
        pdf.close()
    png = tmp_path / "report-zh-page1.png"  # a test artefact, to look at
    image.save(png)
    found = "".join(pytesseract.image_to_string(Image.open(png), lang="chi_sim+eng").split())
    assert "关键指标" in found or "5G基站" in found, found[:300]
    assert "重庆市" in found or "建设进展" in found, found[:300]


def test_missing_cjk_font_fails_loudly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setattr(fonts, "_font_entries", lambda rescan: [])
    with pytest.raises(MastplanError, match="fonts-noto-cjk"):
        fonts.find_cjk_font()
    with pytest.raises(MastplanError, match="install the Debian package"):
        render_report(_data(), "zh", tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing written


def test_cjk_font_is_found():
    font = fonts.find_cjk_font()
    assert font.family in fonts.CJK_FAMILIES and font.path.is_file()


def test_unknown_language_is_refused(tmp_path: Path):
    with pytest.raises(MastplanError, match="unknown report language 'fr'"):
        render_report(_data(), "fr", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_maps_hatch_districts_without_population(tmp_path: Path):
    districts = _districts()
    assert maps.districts_without_data(districts, "base_stations_per_10k") == ["500903"]
    assert maps.districts_without_data(districts, "coverage_fraction") == ["500903"]
    font = fonts.find_cjk_font()
    for lang in ("zh", "en"):
        path = maps.district_choropleth(
            districts, lang, tmp_path / f"d-{lang}.png", font=font, highlight="500902"
        )
        assert path is not None and path.is_file()
        drawn = maps.key_area_maps(districts, _key_areas(), lang, tmp_path / lang, font=font)
        assert sorted(drawn) == [2019, 2020] and all(p.is_file() for p in drawn.values())
    # every district without data: still a map, all hatched, no colour bar to mislead
    empty = districts.assign(base_stations_per_10k=np.nan, coverage_fraction=np.nan)
    assert maps.district_choropleth(empty, "zh", tmp_path / "none.png", font=font) is not None


def test_district_labels_are_short():
    assert maps.district_label("石柱土家族自治县", "Shizhu Tujia ...", "zh") == "石柱县"
    assert maps.district_label("", "Shizhu Tujia Autonomous County", "en") == "Shizhu"
    assert maps.district_label("渝中区", "Yuzhong District", "en") == "Yuzhong"


def test_kpi_with_empty_series_draws_nothing(tmp_path: Path):
    font = fonts.find_cjk_font()
    empty = _kpis()[2]
    assert charts.kpi_chart(empty, "zh", tmp_path / "k.png", font=font) is None
    assert not (tmp_path / "k.png").exists()
    only_gaps = KpiLine(**{**empty.__dict__, "series": ((dt.date(2021, 1, 1), None),)})
    assert charts.kpi_chart(only_gaps, "en", tmp_path / "k.png", font=font) is None


def test_numbers_have_thousands_separators_and_fractions_are_percent():
    assert format_number(1_234_567) == "1,234,567"
    assert format_number(12.345) == "12.3"
    assert format_number(None) == format_number(float("nan")) == "—"
    assert format_number(0.875, fraction=True) == "87.5%"
    assert format_value(50_000_000, "元", "yuan", "zh") == "50,000,000元"
    # large amounts of yuan as the plan writes them: 1000亿元
    assert format_value(100_000_000_000, "元", "yuan", "zh") == "1,000亿元"
    assert format_value(100_000_000_000, "元", "yuan", "en") == "100 billion yuan"
    assert format_value(1.62, "租户/塔", "ratio", "en") == "1.62 ratio"  # not a fraction
    assert format_value(2.5, "%", "%", "en") == "2.50%"
    assert format_target(None, "", None, "个", "sites", "en") == "No numeric target"


def test_bad_report_data_is_refused():
    with pytest.raises(MastplanError, match="comparator"):
        KpiLine("x", "x", "x", "", "", 1.0, 2.0, "=", 2022, None, ())
    with pytest.raises(MastplanError, match="row 0 has 1 cells"):
        ReportTable("t", "t", "t", (("a", "a"), ("b", "b")), (("only",),))
    with pytest.raises(MastplanError, match="status 'done'"):
        ReportData(
            as_of=dt.date(2021, 1, 1),
            scope="city",
            scope_name_zh="重庆市",
            scope_name_en="Chongqing",
            kpis=(),
            districts=_districts(),
            key_areas=_key_areas().assign(status="done"),
            tables=(),
        )
