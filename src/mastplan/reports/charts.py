"""Progress charts of the report: one line chart per KPI, with its target as a dashed line.

Drawn with Matplotlib's object API (Agg, no pyplot state), in the report's language and its CJK
font, with thousands separators (percentages for fraction units) on the value axis.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from pathlib import Path
from typing import Final

import numpy as np
from matplotlib import dates as mdates
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from mastplan.reports.fonts import CjkFont, cjk_rc
from mastplan.reports.i18n import (
    format_number,
    format_target,
    is_fraction_unit,
    money_scale,
    text,
)
from mastplan.reports.model import KpiLine

__all__ = ["kpi_chart"]

LINE_COLOUR: Final = "#1f5fa8"
TARGET_COLOUR: Final = "#c62828"
# Extend the time axis to the end of the target year only when that is not too far ahead.
_MAX_LOOKAHEAD: Final = datetime.timedelta(days=6 * 366)
# Dates as numbers, the same in both languages.
_DATE_FORMATS: Final = ["%Y", "%Y-%m", "%m-%d", "%H:%M", "%H:%M", "%S.%f"]
_DATE_OFFSETS: Final = ["", "%Y", "%Y-%m", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d %H:%M"]


def _points(kpi: KpiLine) -> list[tuple[datetime.date, float]]:
    """The series points that have a finite value, in date order."""
    return sorted(
        (day, float(v)) for day, v in kpi.series if v is not None and math.isfinite(float(v))
    )


def _value_formatter(fraction: bool, span: float) -> FuncFormatter | PercentFormatter:
    """Tick labels: percentages for fractions, else thousands separators."""
    if fraction:
        return PercentFormatter(xmax=1.0, decimals=0 if span >= 0.05 else 1)
    decimals = 0 if span >= 5 else 1 if span >= 0.5 else 2
    return FuncFormatter(lambda y, _pos: f"{y:,.{decimals}f}")


def kpi_chart(kpi: KpiLine, lang: str, path: Path, *, font: CjkFont, dpi: int = 150) -> Path | None:
    """Draw one KPI's progress and its target as a PNG.

    Parameters
    ----------
    kpi : KpiLine
        The indicator; points of its ``series`` without a value are gaps in the line.
    lang : str
        "zh" or "en": the language of the title, axis label and legend.
    path : Path
        Where to write the PNG (its folder is created).
    font : CjkFont
        The font with Chinese glyphs (see :func:`mastplan.reports.fonts.find_cjk_font`).
    dpi : int
        Resolution of the PNG; 150 to 200 prints well.

    Returns
    -------
    Path or None
        ``path``, or None (nothing written) when the series has no value to draw.
    """
    points = _points(kpi)
    if not points:
        return None
    fraction = is_fraction_unit(kpi.unit_zh, kpi.unit_en)
    name = kpi.name_zh if lang == "zh" else kpi.name_en
    unit = kpi.unit_zh if lang == "zh" else kpi.unit_en
    days = [day for day, _ in sorted(kpi.series, key=lambda p: p[0])]
    values = np.array(
        [np.nan if v is None else float(v) for _, v in sorted(kpi.series, key=lambda p: p[0])]
    )
    # Large amounts of yuan are drawn in 亿元 / billion yuan, as the table writes them.
    magnitude = max([abs(v) for _, v in points] + [abs(kpi.target or 0.0)])
    scale = money_scale(kpi.unit_zh, kpi.unit_en, lang, magnitude)
    if scale is not None:
        divisor, unit = scale
        values = values / divisor
        points = [(day, v / divisor) for day, v in points]
        kpi = dataclasses.replace(
            kpi,
            target=None if kpi.target is None else kpi.target / divisor,
            unit_zh=unit,
            unit_en=unit,
        )
    with cjk_rc(font):
        fig = Figure(figsize=(6.6, 2.6), dpi=dpi, layout="constrained")
        ax = fig.subplots()
        ax.plot(
            days,
            values,
            marker="o",
            markersize=3.5,
            linewidth=1.8,
            color=LINE_COLOUR,
            label=text("actual", lang),
        )
        first, last = points[0][0], points[-1][0]
        right = last
        top = max(v for _, v in points)
        bottom = min(v for _, v in points)
        if kpi.target is not None:
            target_text = format_target(
                kpi.target, kpi.comparator, None, kpi.unit_zh, kpi.unit_en, lang, words=False
            )
            label = (
                text("target_line", lang, target=target_text, year=kpi.target_year)
                if kpi.target_year
                else text("target_line_no_year", lang, target=target_text)
            )
            ax.axhline(kpi.target, linestyle="--", linewidth=1.3, color=TARGET_COLOUR, label=label)
            if kpi.target_year:
                year_end = datetime.date(kpi.target_year, 12, 31)
                if last < year_end <= last + _MAX_LOOKAHEAD:
                    right = year_end
                if first <= year_end <= right:  # the deadline on the target line
                    ax.plot([year_end], [kpi.target], marker="D", markersize=5, color=TARGET_COLOUR)
            top = max(top, kpi.target)
            bottom = min(bottom, kpi.target)
        pad = max((right - first) * 0.03, datetime.timedelta(days=20))
        ax.set_xlim(first - pad, right + pad)
        low = 0.0 if bottom >= 0 else bottom * 1.1
        high = top * 1.15 if top > 0 else 1.0
        if fraction:
            high = min(max(high, 0.1), 1.05)
        ax.set_ylim(low, high)
        ax.yaxis.set_major_formatter(_value_formatter(fraction, high - low))
        locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(
            mdates.ConciseDateFormatter(
                locator,
                formats=_DATE_FORMATS,
                zero_formats=_DATE_FORMATS,
                offset_formats=_DATE_OFFSETS,
            )
        )
        last_day, last_value = points[-1]
        ax.annotate(
            format_number(last_value, fraction=fraction),
            xy=(last_day, last_value),
            xytext=(0, 7),
            textcoords="offset points",
            ha="center",
            fontsize=8,
            color=LINE_COLOUR,
        )
        # A vertical Chinese unit reads badly: in Chinese it goes into the title.
        if unit and not fraction and lang == "zh":
            name = f"{name}（{unit}）"
        elif unit and not fraction:
            ax.set_ylabel(unit, fontsize=8)
        ax.set_title(name, fontsize=10, loc="left")
        ax.tick_params(labelsize=8)
        ax.grid(True, linewidth=0.4, alpha=0.5)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.legend(loc="outside upper right", ncols=2, fontsize=8, frameon=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, metadata={"Software": None})
    return path
