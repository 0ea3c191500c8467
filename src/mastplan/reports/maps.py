"""Maps of the report, drawn from mastplan's own vector layers (no basemap is downloaded).

Two kinds: a district choropleth in two panels (5G base stations per 10,000 people, and
coverage) and, per phase year, a map of that year's key areas coloured by coverage status.
Layers are projected to UTM 48N (EPSG:32648) for drawing, so distances on the scale bar are
metres. Each map places its axes by hand and fits the view to the axes' aspect, which keeps the
scale bar and the label-fit test exact.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import geopandas
import numpy as np
import pandas as pd
import shapely
from matplotlib import colormaps
from matplotlib import patheffects as pe
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, PercentFormatter

from mastplan.geo import METRIC_EPSG
from mastplan.reports.fonts import CjkFont, cjk_rc
from mastplan.reports.i18n import text
from mastplan.reports.model import KEY_AREA_STATUSES

__all__ = [
    "STATUS_COLOURS",
    "district_choropleth",
    "district_label",
    "districts_without_data",
    "key_area_map",
    "key_area_maps",
]

#: Fill colours of the key-area statuses.
STATUS_COLOURS: Final = {"covered": "#2e7d32", "not_covered": "#c62828", "no_result": "#9e9e9e"}
_STATUS_EDGES: Final = {"covered": "#1b4d1e", "not_covered": "#7f1919", "no_result": "#5f5f5f"}
# Key areas drawn last are on top: the ones that need action.
_STATUS_DRAW_ORDER: Final = ("covered", "no_result", "not_covered")
NO_DATA_FACE: Final = "#f4f4f4"
NO_DATA_EDGE: Final = "#808080"
NO_DATA_HATCH: Final = "////"
_SCALE_STEPS_KM: Final = (0.5, 1, 2, 5, 10, 20, 25, 50, 100, 200, 500)
# A key area smaller than this on paper also gets a marker, so that it can be seen.
_MIN_VISIBLE_IN: Final = 0.07


def districts_without_data(districts: geopandas.GeoDataFrame, column: str) -> list[str]:
    """The codes of the districts whose ``column`` is missing (NaN): drawn hatched, "no data".

    Parameters
    ----------
    districts : geopandas.GeoDataFrame
        The report's district layer.
    column : str
        "base_stations_per_10k" or "coverage_fraction".

    Returns
    -------
    list of str
        District codes, in the layer's order.
    """
    values = pd.to_numeric(districts[column], errors="coerce")
    return [str(code) for code in districts.loc[values.isna(), "code"]]


def district_label(name_zh: str, name_en: str, lang: str) -> str:
    """A short district name for a map: "石柱县" for "石柱土家族自治县", "Shizhu" in English."""
    if lang == "zh":
        return f"{name_zh[:2]}县" if name_zh.endswith("自治县") else name_zh
    for suffix in (" District", " County"):
        name_en = name_en.removesuffix(suffix)
    return name_en.split(" ")[0] if "Autonomous" in name_en else name_en


def _text_size_in(lines: list[str], fontsize: float) -> tuple[float, float]:
    """Roughly how wide and high a block of text is on paper, in inches."""

    def width(line: str) -> float:
        return sum(1.0 if ord(ch) >= 0x2E80 else 0.58 for ch in line) * fontsize / 72

    return max(width(line) for line in lines), len(lines) * fontsize * 1.25 / 72


def _fit_view(
    ax: Axes, bounds: np.ndarray, box_in: tuple[float, float], margin: float, min_pad_m: float
) -> float:
    """Set the view to ``bounds`` plus a margin, widened to the axes' aspect; metres per inch."""
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    pad = max(max(maxx - minx, maxy - miny) * margin, min_pad_m)
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    width, height = maxx - minx, maxy - miny
    aspect = box_in[0] / box_in[1]
    if width / height < aspect:
        grow = (height * aspect - width) / 2
        minx, maxx = minx - grow, maxx + grow
    else:
        grow = (width / aspect - height) / 2
        miny, maxy = miny - grow, maxy + grow
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect("equal", adjustable="box")
    for spine in ax.spines.values():
        spine.set_linewidth(0.5)
        spine.set_color("#888888")
    return (maxx - minx) / box_in[0]


def _label_districts(
    ax: Axes,
    districts: geopandas.GeoDataFrame,
    lang: str,
    metres_per_inch: float,
    *,
    fontsize: float,
    colour: str,
    extra: Mapping[str, str] | None = None,
    zorder: float = 6,
) -> None:
    """Name the districts whose visible part is large enough on paper to hold the label."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    view = shapely.box(x0, y0, x1, y1)
    extra = extra or {}
    for row in districts.itertuples(index=False):
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        visible = shapely.make_valid(geom).intersection(view)
        if visible.is_empty:
            continue
        lines = [district_label(str(row.name_zh), str(row.name_en), lang)]
        if str(row.code) in extra:
            lines.append(extra[str(row.code)])
        text_w, text_h = _text_size_in(lines, fontsize)
        minx, miny, maxx, maxy = visible.bounds
        box_w, box_h = (maxx - minx) / metres_per_inch, (maxy - miny) / metres_per_inch
        area_in2 = visible.area / metres_per_inch**2
        if text_w > 0.8 * box_w or text_h > 0.6 * box_h or area_in2 < 2.5 * text_w * text_h:
            continue
        point = visible.representative_point()
        ax.text(
            point.x,
            point.y,
            "\n".join(lines),
            ha="center",
            va="center",
            fontsize=fontsize,
            color=colour,
            linespacing=1.1,
            path_effects=[pe.withStroke(linewidth=2.0, foreground="white")],
            zorder=zorder,
        )


def _finish_axes(ax: Axes) -> None:
    """No ticks and no axis labels (GeoPandas names the CRS axes); a thin grey frame."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")


def _outline(ax: Axes, districts: geopandas.GeoDataFrame, code: str | None) -> None:
    """Outline the district ``code`` (the report's scope) in black; nothing when None."""
    if code is None:
        return
    chosen = districts[districts["code"].astype(str) == code]
    if not chosen.empty:
        chosen.boundary.plot(ax=ax, color="black", linewidth=1.4, zorder=5)


def _north_arrow(ax: Axes, lang: str, x: float = 0.94, y: float = 0.84) -> None:
    """An arrow pointing to grid north (UTM 48N; within 1.5° of true north in Chongqing)."""
    ax.annotate(
        "",
        xy=(x, y + 0.09),
        xytext=(x, y),
        xycoords="axes fraction",
        arrowprops={"arrowstyle": "-|>,head_width=0.35,head_length=0.7", "color": "black"},
        zorder=8,
    )
    ax.text(
        x,
        y + 0.10,
        text("north", lang),
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontsize=8,
        fontweight="bold",
        zorder=8,
    )


def _scale_bar(ax: Axes, lang: str) -> None:
    """A two-tone scale bar in the lower left, about a fifth of the view wide."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width, height = x1 - x0, y1 - y0
    fitting = [km for km in _SCALE_STEPS_KM if km * 1000 <= width * 0.22]
    km = fitting[-1] if fitting else _SCALE_STEPS_KM[0]
    length = km * 1000
    left, base, bar_h = x0 + 0.04 * width, y0 + 0.04 * height, 0.012 * height
    for i, face in enumerate(("black", "white")):
        ax.add_patch(
            Rectangle(
                (left + i * length / 2, base),
                length / 2,
                bar_h,
                facecolor=face,
                edgecolor="black",
                linewidth=0.6,
                zorder=8,
            )
        )
    unit = "公里" if lang == "zh" else "km"
    halo = [pe.withStroke(linewidth=2.0, foreground="white")]
    for x, label in ((left, "0"), (left + length, f"{km:g} {unit}")):
        ax.text(
            x,
            base + bar_h * 1.6,
            label,
            ha="center",
            va="bottom",
            fontsize=7,
            path_effects=halo,
            zorder=8,
        )


def _nice_ceiling(value: float) -> float:
    """The smallest "round" number (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k) at least ``value``."""
    if not value > 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * power >= value * (1 - 1e-12):
            return step * power
    return 10 * power  # pragma: no cover - the loop ends at 10


def district_choropleth(
    districts: geopandas.GeoDataFrame,
    lang: str,
    path: Path,
    *,
    font: CjkFont,
    dpi: int = 150,
    highlight: str | None = None,
) -> Path | None:
    """Draw the districts in two panels: 5G base stations per 10,000 people, and coverage.

    Districts without a value are hatched and listed in the legend as "no data / 无数据";
    the larger districts are named.

    Parameters
    ----------
    districts : geopandas.GeoDataFrame
        WGS84, with the columns of :data:`mastplan.reports.model.DISTRICT_COLUMNS`.
    lang : str
        "zh" or "en".
    path : Path
        Where to write the PNG (its folder is created).
    font : CjkFont
        The font with Chinese glyphs.
    dpi : int
        Resolution of the PNG.
    highlight : str, optional
        The code of a district to outline in black (the report's scope).

    Returns
    -------
    Path or None
        ``path``, or None (nothing written) when there are no districts.
    """
    frame = districts[districts.geometry.notna() & ~districts.geometry.is_empty]
    if frame.empty:
        return None
    metric = frame.to_crs(METRIC_EPSG)
    fig_w, fig_h = 7.4, 4.8
    ax_w, ax_h, ax_bottom = 0.485, 0.72, 0.2
    panels = (
        ("base_stations_per_10k", "per_10k", "YlGnBu", False),
        ("coverage_fraction", "coverage", "YlGn", True),
    )
    no_data = text("map_no_data", lang)
    with cjk_rc(font):
        fig = Figure(figsize=(fig_w, fig_h), dpi=dpi)
        for i, (column, title_key, cmap_name, fraction) in enumerate(panels):
            left = 0.01 + 0.5 * i
            ax = fig.add_axes((left, ax_bottom, ax_w, ax_h))
            metres_per_inch = _fit_view(
                ax, metric.total_bounds, (fig_w * ax_w, fig_h * ax_h), 0.03, 1000.0
            )
            values = pd.to_numeric(metric[column], errors="coerce")
            has = values.notna().to_numpy()
            cmap = colormaps[cmap_name]
            if fraction:
                norm = Normalize(0.0, 1.0)
            else:
                norm = Normalize(0.0, _nice_ceiling(float(values.max())) if has.any() else 1.0)
            if has.any():
                metric[has].plot(
                    ax=ax, color=cmap(norm(values[has].to_numpy())), edgecolor="none", zorder=2
                )
            if (~has).any():
                metric[~has].plot(
                    ax=ax,
                    facecolor=NO_DATA_FACE,
                    edgecolor=NO_DATA_EDGE,
                    hatch=NO_DATA_HATCH,
                    linewidth=0.0,
                    zorder=2,
                )
            metric.boundary.plot(ax=ax, color="#4d4d4d", linewidth=0.35, zorder=3)
            _outline(ax, metric, highlight)
            missing = {str(c): no_data for c in metric.loc[~has, "code"]}
            _label_districts(
                ax, metric, lang, metres_per_inch, fontsize=5.5, colour="#1a1a1a", extra=missing
            )
            ax.set_title(text(title_key, lang), fontsize=9.5, pad=4)
            if (~has).any():
                ax.legend(
                    handles=[
                        Patch(
                            facecolor=NO_DATA_FACE,
                            edgecolor=NO_DATA_EDGE,
                            hatch=NO_DATA_HATCH,
                            label=no_data,
                        )
                    ],
                    loc="upper left",
                    fontsize=7,
                    frameon=False,
                )
            _finish_axes(ax)
            _north_arrow(ax, lang)
            _scale_bar(ax, lang)
            cax = fig.add_axes((left + 0.07, 0.125, ax_w - 0.14, 0.025))
            bar = fig.colorbar(
                ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal"
            )
            bar.ax.tick_params(labelsize=7)
            bar.outline.set_linewidth(0.5)
            if fraction:
                bar.ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
            else:
                bar.ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.6g}"))
                bar.set_label(text("per_10k_unit", lang), fontsize=7)
            if not has.any():
                cax.set_visible(False)
        fig.text(0.5, 0.015, text("crs_note", lang), ha="center", fontsize=6.5, color="#444444")
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, metadata={"Software": None})
    return path


def key_area_map(
    districts: geopandas.GeoDataFrame,
    key_areas: geopandas.GeoDataFrame,
    year: int,
    lang: str,
    path: Path,
    *,
    font: CjkFont,
    dpi: int = 150,
    highlight: str | None = None,
) -> Path | None:
    """Draw the key areas of one phase year, coloured by coverage status, over the districts.

    Parameters
    ----------
    districts : geopandas.GeoDataFrame
        WGS84 district layer, drawn as grey outlines.
    key_areas : geopandas.GeoDataFrame
        WGS84, with the columns of :data:`mastplan.reports.model.KEY_AREA_COLUMNS`; only the
        rows of ``year`` are drawn, and the view is zoomed to them with a margin.
    year : int
        The phase year (2019, 2020 or 2021).
    lang : str
        "zh" or "en".
    path : Path
        Where to write the PNG (its folder is created).
    font : CjkFont
        The font with Chinese glyphs.
    dpi : int
        Resolution of the PNG.
    highlight : str, optional
        The code of a district to outline in black (the report's scope).

    Returns
    -------
    Path or None
        ``path``, or None (nothing written) when the year has no key area with a geometry.
    """
    areas = key_areas[
        (key_areas["phase_year"] == year)
        & key_areas.geometry.notna()
        & ~key_areas.geometry.is_empty
    ]
    if areas.empty:
        return None
    areas = areas.to_crs(METRIC_EPSG)
    outlines = districts[districts.geometry.notna()].to_crs(METRIC_EPSG)
    fig_w, fig_h = 6.6, 4.4
    ax_box = (0.01, 0.065, 0.98, 0.865)
    with cjk_rc(font):
        fig = Figure(figsize=(fig_w, fig_h), dpi=dpi)
        ax = fig.add_axes(ax_box)
        metres_per_inch = _fit_view(
            ax, areas.total_bounds, (fig_w * ax_box[2], fig_h * ax_box[3]), 0.12, 3000.0
        )
        if not outlines.empty:
            outlines.plot(ax=ax, facecolor="#fafafa", edgecolor="#9a9a9a", linewidth=0.7, zorder=1)
            _label_districts(  # under the key areas, which matter more
                ax, outlines, lang, metres_per_inch, fontsize=7, colour="#8a8a8a", zorder=2
            )
            _outline(ax, outlines, highlight)
        for status in _STATUS_DRAW_ORDER:
            subset = areas[areas["status"] == status]
            if subset.empty:
                continue
            subset.plot(
                ax=ax,
                facecolor=STATUS_COLOURS[status],
                edgecolor=_STATUS_EDGES[status],
                linewidth=0.6,
                alpha=0.85,
                zorder=3,
            )
            bounds = subset.geometry.bounds
            extent_in = (
                np.maximum(bounds["maxx"] - bounds["minx"], bounds["maxy"] - bounds["miny"])
                / metres_per_inch
            )
            small = subset[(extent_in < _MIN_VISIBLE_IN).to_numpy()]
            if not small.empty:
                points = small.geometry.representative_point()
                ax.scatter(
                    points.x,
                    points.y,
                    s=18,
                    color=STATUS_COLOURS[status],
                    edgecolors=_STATUS_EDGES[status],
                    linewidths=0.6,
                    zorder=4,
                )
        counts = areas["status"].value_counts()
        handles = [
            Patch(
                facecolor=STATUS_COLOURS[s],
                edgecolor=_STATUS_EDGES[s],
                label=f"{text(f'status_{s}', lang)} ({int(counts.get(s, 0))})",
            )
            for s in KEY_AREA_STATUSES
        ]
        ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.9).set_zorder(9)
        ax.set_title(text("key_areas_year", lang, year=year), fontsize=10, pad=4)
        _finish_axes(ax)
        _north_arrow(ax, lang)
        _scale_bar(ax, lang)
        fig.text(0.5, 0.015, text("crs_note", lang), ha="center", fontsize=6.5, color="#444444")
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, metadata={"Software": None})
    return path


def key_area_maps(
    districts: geopandas.GeoDataFrame,
    key_areas: geopandas.GeoDataFrame,
    lang: str,
    out_dir: Path,
    *,
    font: CjkFont,
    dpi: int = 150,
    highlight: str | None = None,
) -> dict[int, Path]:
    """Draw :func:`key_area_map` for each phase year present, as ``key-areas-<year>.png``.

    Parameters
    ----------
    districts, key_areas : geopandas.GeoDataFrame
        As for :func:`key_area_map`.
    lang : str
        "zh" or "en".
    out_dir : Path
        The folder of the PNGs.
    font : CjkFont
        The font with Chinese glyphs.
    dpi : int
        Resolution of the PNGs.
    highlight : str, optional
        The code of a district to outline in black (the report's scope).

    Returns
    -------
    dict of int to Path
        The PNG of each year that has key areas, in year order.
    """
    maps: dict[int, Path] = {}
    for year in sorted({int(y) for y in key_areas["phase_year"]}):
        drawn = key_area_map(
            districts,
            key_areas,
            year,
            lang,
            out_dir / f"key-areas-{year}.png",
            font=font,
            dpi=dpi,
            highlight=highlight,
        )
        if drawn is not None:
            maps[year] = drawn
    return maps
