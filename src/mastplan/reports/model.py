"""The data a progress report is rendered from: the interface between computing and rendering.

Another part of mastplan computes a :class:`ReportData`; :func:`mastplan.reports.render_report`
turns it into HTML and PDF without touching a database, so a report is a pure function of this
object (and the installed fonts). The classes check their own shape on construction and raise
:class:`~mastplan.errors.MastplanError` naming the field, so a bad object fails before anything
is drawn.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import geopandas

from mastplan.errors import MastplanError

__all__ = [
    "COMPARATORS",
    "DISTRICT_COLUMNS",
    "KEY_AREA_COLUMNS",
    "KEY_AREA_STATUSES",
    "KpiLine",
    "ReportData",
    "ReportFiles",
    "ReportTable",
]

#: Comparators of a numeric target; "" when the KPI has no numeric target.
COMPARATORS: Final = (">", ">=", "")
#: Columns ``ReportData.districts`` must have.
DISTRICT_COLUMNS: Final = (
    "code",
    "name_zh",
    "name_en",
    "base_stations",
    "population",
    "base_stations_per_10k",
    "coverage_fraction",
    "geometry",
)
#: Columns ``ReportData.key_areas`` must have.
KEY_AREA_COLUMNS: Final = (
    "code",
    "name_zh",
    "name_en",
    "phase_year",
    "status",
    "covered_fraction",
    "continuity_fraction",
    "geometry",
)
#: The status of a key area's coverage, in the order the maps' legends list them.
KEY_AREA_STATUSES: Final = ("covered", "not_covered", "no_result")


@dataclass(frozen=True)
class KpiLine:
    """One headline indicator: its latest value, its target and its history.

    ``unit_en`` "fraction" (or ``unit_zh`` "比例") marks a value between 0 and 1 that the report
    shows as a percentage; ``unit_en`` "%" marks a value already in percent.
    ``met`` is None where it cannot be judged (no value, or no numeric target).
    """

    id: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    value: float | None
    target: float | None
    comparator: str  # ">", ">=", or "" when there is no numeric target
    target_year: int | None
    met: bool | None
    series: tuple[tuple[datetime.date, float | None], ...]
    note_zh: str = ""
    note_en: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            raise MastplanError("report KPI: id is empty")
        if self.comparator not in COMPARATORS:
            raise MastplanError(
                f"report KPI {self.id!r}: comparator {self.comparator!r} is not one of "
                f"{', '.join(repr(c) for c in COMPARATORS)}"
            )
        if (self.target is None) != (self.comparator == ""):
            raise MastplanError(
                f"report KPI {self.id!r}: a target needs a comparator and a comparator a target"
            )
        for value in (self.value, self.target):
            if value is not None and not math.isfinite(value):
                raise MastplanError(f"report KPI {self.id!r}: value and target must be finite")
        for i, point in enumerate(self.series):
            if len(point) != 2 or not isinstance(point[0], datetime.date):
                raise MastplanError(
                    f"report KPI {self.id!r}: series item {i} is not a (date, value) pair"
                )


@dataclass(frozen=True)
class ReportTable:
    """A table of the report (overdue tasks, cases, meeting follow-ups, ...), already as text."""

    key: str
    title_zh: str
    title_en: str
    columns: tuple[tuple[str, str], ...]  # (zh, en) header pairs
    rows: tuple[tuple[str, ...], ...]
    empty_zh: str = "无"
    empty_en: str = "None"

    def __post_init__(self) -> None:
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise MastplanError(
                    f"report table {self.key!r}: row {i} has {len(row)} cells, "
                    f"the table has {len(self.columns)} columns"
                )


# eq=False: GeoDataFrames neither compare to a single bool nor hash.
@dataclass(frozen=True, eq=False)
class ReportData:
    """Everything one report shows, for one scope (the city or a district) at one date.

    ``districts`` and ``key_areas`` are GeoDataFrames in WGS84 with the columns of
    :data:`DISTRICT_COLUMNS` and :data:`KEY_AREA_COLUMNS`; a missing value is NaN.
    ``contains_synthetic`` prints a banner on every page: the data set holds synthetic or demo
    data, not official statistics.
    """

    as_of: datetime.date
    scope: str  # "city" or a district code
    scope_name_zh: str
    scope_name_en: str
    kpis: tuple[KpiLine, ...]
    districts: geopandas.GeoDataFrame
    key_areas: geopandas.GeoDataFrame
    tables: tuple[ReportTable, ...]
    contains_synthetic: bool = False
    generated_by: str = "mastplan"

    def __post_init__(self) -> None:
        for name, frame, columns in (
            ("districts", self.districts, DISTRICT_COLUMNS),
            ("key_areas", self.key_areas, KEY_AREA_COLUMNS),
        ):
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise MastplanError(f"report data: {name} lacks columns {', '.join(missing)}")
            if len(frame) and (frame.crs is None or frame.crs.to_epsg() != 4326):
                raise MastplanError(f"report data: {name} must be in WGS84 (EPSG:4326)")
        bad = sorted(set(self.key_areas["status"]) - set(KEY_AREA_STATUSES))
        if bad:
            raise MastplanError(
                f"report data: key-area status {bad[0]!r} is not one of "
                f"{', '.join(KEY_AREA_STATUSES)}"
            )
        ids = [k.id for k in self.kpis]
        if len(set(ids)) != len(ids):
            raise MastplanError("report data: KPI ids are not unique")
        keys = [t.key for t in self.tables]
        if len(set(keys)) != len(keys):
            raise MastplanError("report data: table keys are not unique")


@dataclass(frozen=True)
class ReportFiles:
    """The files one rendering wrote: the HTML (with its images) and the PDF."""

    html: Path
    pdf: Path
    images: tuple[Path, ...]
