"""Render a progress report to HTML (with its images) and to PDF.

:func:`render_report` is a pure function of a :class:`~mastplan.reports.model.ReportData` and a
language: it draws the charts and maps into ``img-<lang>/``, fills the Jinja2 template
``templates/report.html.j2`` and has WeasyPrint lay the same HTML out as an A4 PDF. The HTML
refers to its images relatively, so the output folder can be zipped and opened offline.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, Final

import jinja2
import pandas as pd
from markupsafe import Markup

from mastplan.reports import charts, fonts, maps
from mastplan.reports.i18n import (
    TEXTS,
    check_lang,
    format_date,
    format_target,
    format_value,
    text,
)
from mastplan.reports.model import KEY_AREA_STATUSES, KpiLine, ReportData, ReportFiles

__all__ = ["render_report"]

_HTML_LANG: Final = {"zh": "zh-CN", "en": "en"}
# Families after the one found, for a reader's browser that lacks it.
_FALLBACK_FAMILIES: Final = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei")


def _environment() -> jinja2.Environment:
    """The template environment: the package's templates, HTML escaping, strict undefineds."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("mastplan.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _css_string(value: str) -> Markup:
    """``value`` as a quoted CSS string, safe inside a <style> element."""
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\A ")
        .replace("<", "\\3C ")
        .replace(">", "\\3E ")
    )
    return Markup(f'"{escaped}"')


def _page_counter_css(lang: str) -> Markup:
    """The CSS ``content`` of the page-number footer, e.g. "第 " counter(page) " 页，共 "..."""
    parts = []
    for piece in re.split(r"(\{page\}|\{pages\})", TEXTS["page"][lang]):
        if piece == "{page}":
            parts.append("counter(page)")
        elif piece == "{pages}":
            parts.append("counter(pages)")
        elif piece:
            parts.append(str(_css_string(piece)))
    return Markup(" ".join(parts))


def _font_stack(font: fonts.CjkFont) -> Markup:
    """The CSS font-family list: the font found first, fontconfig resolves the names."""
    families = [font.family, *(f for f in _FALLBACK_FAMILIES if f != font.family)]
    return Markup(", ".join(str(_css_string(f)) for f in families) + ", sans-serif")


def _slug(value: str) -> str:
    """A file-name-safe form of an id."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", value).strip("-")[:40] or "kpi"


def _kpi_row(kpi: KpiLine, lang: str, chart: str | None) -> dict[str, Any]:
    """What the template shows of one KPI: texts already in ``lang`` and formatted."""
    if kpi.met is None:
        met_key, met_class = "not_assessed", "na"
    else:
        met_key, met_class = ("met", "met") if kpi.met else ("not_met", "not-met")
    return {
        "id": kpi.id,
        "name": kpi.name_zh if lang == "zh" else kpi.name_en,
        "note": kpi.note_zh if lang == "zh" else kpi.note_en,
        "value": (
            text("no_data", lang)
            if kpi.value is None
            else format_value(kpi.value, kpi.unit_zh, kpi.unit_en, lang)
        ),
        "target": format_target(
            kpi.target, kpi.comparator, kpi.target_year, kpi.unit_zh, kpi.unit_en, lang
        ),
        "met": text(met_key, lang),
        "met_class": met_class,
        "chart": chart,
    }


def _names(frame: pd.DataFrame, lang: str) -> str:
    """The names of the rows of ``frame`` in ``lang``, as one list."""
    column = "name_zh" if lang == "zh" else "name_en"
    return text("list_sep", lang).join(str(n) for n in frame[column])


def _key_area_sections(data: ReportData, lang: str, images: dict[int, str]) -> list[dict[str, Any]]:
    """One entry per phase year: its map, the status counts and the areas not covered."""
    sections = []
    areas = data.key_areas
    for year in sorted({int(y) for y in areas["phase_year"]}):
        of_year = areas[areas["phase_year"] == year]
        counts = {s: int((of_year["status"] == s).sum()) for s in KEY_AREA_STATUSES}
        not_covered = of_year[of_year["status"] == "not_covered"]
        sections.append(
            {
                "title": text("key_areas_year", lang, year=year),
                "image": images.get(year),
                "counts": text("key_area_counts", lang, n=len(of_year), **counts),
                "not_covered": (
                    text("key_area_not_covered", lang, names=_names(not_covered, lang))
                    if len(not_covered)
                    else ""
                ),
            }
        )
    return sections


def _district_notes(data: ReportData, lang: str) -> list[str]:
    """Per map panel, the districts drawn hatched because they have no value."""
    notes = []
    for column, title_key in (
        ("base_stations_per_10k", "per_10k"),
        ("coverage_fraction", "coverage"),
    ):
        codes = set(maps.districts_without_data(data.districts, column))
        if codes:
            missing = data.districts[data.districts["code"].astype(str).isin(codes)]
            names = text("districts_no_data", lang, names=_names(missing, lang))
            sep = "——" if lang == "zh" else ": "
            notes.append(f"{text(title_key, lang)}{sep}{names}")
    return notes


def _clean_images(img_dir: Path, keep: set[Path]) -> None:
    """Remove PNGs an earlier rendering left in ``img_dir`` that this one did not write."""
    for old in img_dir.glob("*.png"):
        if old not in keep:
            old.unlink()


def render_report(data: ReportData, lang: str, out_dir: Path, *, dpi: int = 150) -> ReportFiles:
    """Render the progress report in one language to HTML and PDF.

    Parameters
    ----------
    data : ReportData
        Everything the report shows (computed elsewhere).
    lang : str
        "zh" (中文) or "en" (English).
    out_dir : Path
        The output folder (created): ``report-<lang>.html``, its images in ``img-<lang>/``,
        and ``report-<lang>.pdf``.
    dpi : int
        Resolution of the charts and maps (150 to 200).

    Returns
    -------
    ReportFiles
        The HTML, the PDF and the images written.

    Raises
    ------
    MastplanError
        ``lang`` is not a report language, or no font with Chinese glyphs is installed
        (checked before anything is written).
    """
    check_lang(lang)
    font = fonts.find_cjk_font()
    out_dir = Path(out_dir)
    img_dir = out_dir / f"img-{lang}"
    img_dir.mkdir(parents=True, exist_ok=True)
    highlight = None if data.scope == "city" else data.scope
    written: list[Path] = []

    def rel(path: Path | None) -> str | None:
        """Record an image and give its address relative to the HTML file."""
        if path is None:
            return None
        written.append(path)
        return path.relative_to(out_dir).as_posix()

    kpis = [
        _kpi_row(
            kpi,
            lang,
            rel(
                charts.kpi_chart(
                    kpi, lang, img_dir / f"kpi-{i:02d}-{_slug(kpi.id)}.png", font=font, dpi=dpi
                )
            ),
        )
        for i, kpi in enumerate(data.kpis, start=1)
    ]
    district_map = rel(
        maps.district_choropleth(
            data.districts, lang, img_dir / "districts.png", font=font, dpi=dpi, highlight=highlight
        )
    )
    key_area_images = {
        year: str(rel(path))
        for year, path in maps.key_area_maps(
            data.districts, data.key_areas, lang, img_dir, font=font, dpi=dpi, highlight=highlight
        ).items()
    }
    _clean_images(img_dir, set(written))

    scope_name = data.scope_name_zh if lang == "zh" else data.scope_name_en
    title = text("title", lang, scope=scope_name)
    as_of = format_date(data.as_of, lang)
    judged = [k for k in data.kpis if k.met is not None]
    context = {
        "lang": lang,
        "html_lang": _HTML_LANG[lang],
        "t": functools.partial(text, lang=lang),
        "title": title,
        "scope_name": scope_name,
        "as_of": as_of,
        "as_of_iso": data.as_of.isoformat(),
        "generated_by": data.generated_by,
        "synthetic": data.contains_synthetic,
        "font_stack": _font_stack(font),
        "css_header_left": _css_string(title),
        "css_header_right": _css_string(f"{text('as_of', lang)} {as_of}"),
        "css_footer_left": _css_string(
            text("synthetic_short", lang) if data.contains_synthetic else data.generated_by
        ),
        "css_page": _page_counter_css(lang),
        "kpis": kpis,
        "kpi_summary": (
            text("kpis_summary", lang, n=len(judged), met=sum(bool(k.met) for k in judged))
            if judged
            else ""
        ),
        "district_map": district_map,
        "district_notes": _district_notes(data, lang),
        "has_districts": len(data.districts) > 0,
        "key_area_sections": _key_area_sections(data, lang, key_area_images),
        "tables": [
            {
                "key": table.key,
                "title": table.title_zh if lang == "zh" else table.title_en,
                "columns": [zh if lang == "zh" else en for zh, en in table.columns],
                "rows": table.rows,
                "empty": table.empty_zh if lang == "zh" else table.empty_en,
            }
            for table in data.tables
        ],
    }
    html = _environment().get_template("report.html.j2").render(context)
    html_path = out_dir / f"report-{lang}.html"
    html_path.write_text(html, encoding="utf-8")

    import weasyprint  # slow to import: only when a PDF is made

    pdf_path = out_dir / f"report-{lang}.pdf"
    # hinting=True keeps the fonts' hints: a little faster to subset, crisper on screens
    weasyprint.HTML(filename=str(html_path), encoding="utf-8").write_pdf(pdf_path, hinting=True)
    return ReportFiles(html=html_path, pdf=pdf_path, images=tuple(written))
