"""The rules every write of application scenarios and enterprises obeys, over records.

Imports run them over a whole file, the single-object services over one record and the demo
loader over its YAML, so a form, a spreadsheet and the demo data are held to the same checks and
give the same messages: each problem is a :class:`~mastplan.errors.RowError` naming the file, the
row and the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from mastplan.errors import MastplanError
from mastplan.progress.enums import IndustrySegment, IndustryZone, ScenarioCategory, ScenarioStatus
from mastplan.progress.models import Enterprise
from mastplan.registry.enums import OrgKind
from mastplan.registry.fields import Field, RowErrors, resolve_columns, validate_frame
from mastplan.registry.models import District, Organisation

#: Years a scenario, a revenue or a figure may belong to (the schema's check constraint).
MIN_YEAR, MAX_YEAR = 2015, 2035
#: Chongqing-ish bounds of a scenario's WGS84 location (the municipality spans about
#: 105.3–110.2 °E and 28.2–32.2 °N).
LON_RANGE_DEG = (105.0, 111.0)
LAT_RANGE_DEG = (28.0, 33.0)
#: A sanity ceiling of one enterprise's yearly revenue (10 trillion yuan).
MAX_REVENUE_YUAN = 1e13
#: Wide revenue columns of an enterprise file: ``revenue_2020_yuan`` …
REVENUE_COLUMN = re.compile(r"^revenue_(\d{4})_yuan$")
#: How the enterprise codes of a scenario are separated in a file cell.
CODE_LIST_SEPARATORS = re.compile(r"[;,；，\s]+")
_CODE = re.compile(r"^[^\s;,；，]+$")

SCENARIO_FIELDS: tuple[Field, ...] = (
    Field("code", "str", max_length=64, aliases=("scenario_code", "id")),
    Field("name_zh", "str", max_length=200),
    Field("name_en", "str", max_length=200),
    Field("category", "enum", choices=frozenset(ScenarioCategory)),
    Field("status", "enum", choices=frozenset(ScenarioStatus)),
    Field("year", "int", min_value=MIN_YEAR, max_value=MAX_YEAR),
    Field("district_code", "str", required=False, max_length=64, aliases=("district",)),
    Field(
        "lon_deg",
        "float",
        required=False,
        min_value=LON_RANGE_DEG[0],
        max_value=LON_RANGE_DEG[1],
        aliases=("lon", "longitude"),
    ),
    Field(
        "lat_deg",
        "float",
        required=False,
        min_value=LAT_RANGE_DEG[0],
        max_value=LAT_RANGE_DEG[1],
        aliases=("lat", "latitude"),
    ),
    Field("in_operation_on", "date", required=False),
    Field("ended_on", "date", required=False),
    Field("enterprises", "str", required=False, max_length=4000, aliases=("enterprise_codes",)),
    Field("demo", "bool", required=False, default=False),
    Field("source", "str", required=False, max_length=1000),
    Field("notes", "str", required=False, max_length=4000),
)

ENTERPRISE_FIELDS: tuple[Field, ...] = (
    Field("code", "str", max_length=64, aliases=("enterprise_code", "organisation")),
    Field("name_zh", "str", max_length=200),
    Field("name_en", "str", max_length=200),
    Field("short_zh", "str", required=False, max_length=64),
    Field("short_en", "str", required=False, max_length=64),
    Field("segment", "enum", choices=frozenset(IndustrySegment)),
    Field("zone", "enum", choices=frozenset(IndustryZone)),
    Field("district_code", "str", required=False, max_length=64, aliases=("district",)),
    Field("innovative", "bool", required=False, default=False),
    Field("registered_on", "date", required=False),
    Field("demo", "bool", required=False, default=False),
    Field("source", "str", required=False, max_length=1000),
)


class ProgressLookups:
    """What validation needs from the registry: districts (code → Chinese name), organisations
    (code → kind) and enterprises (organisation code → enterprise id)."""

    def __init__(
        self,
        districts: dict[str, str],
        org_kinds: dict[str, OrgKind],
        enterprise_ids: dict[str, int],
    ) -> None:
        self.district_codes = set(districts)
        self.district_by_name = {name: code for code, name in districts.items()}
        self.org_kinds = dict(org_kinds)
        self.enterprise_ids = dict(enterprise_ids)

    @classmethod
    def from_session(cls, session: Session) -> ProgressLookups:
        """Read them from the database."""
        districts = dict(session.execute(select(District.code, District.name_zh)).all())
        org_kinds = dict(session.execute(select(Organisation.code, Organisation.kind)).all())
        enterprise_ids = dict(
            session.execute(
                select(Organisation.code, Enterprise.id).join(
                    Enterprise, Enterprise.organisation_id == Organisation.id
                )
            ).all()
        )
        return cls(districts, org_kinds, enterprise_ids)

    def district(self, value: str) -> str | None:
        """The district code of ``value`` (a GB/T 2260 code or a Chinese name), if it exists."""
        if value in self.district_codes:
            return value
        return self.district_by_name.get(value)

    def unknown_district(self, value: str) -> str:
        hint = (
            " (the registry has no districts: run `mastplan load chongqing` first)"
            if not self.district_codes
            else ""
        )
        return f"unknown district {value!r}: give a GB/T 2260 code such as 500112{hint}"


def _validate(
    frame: pd.DataFrame, fields: tuple[Field, ...], rows: np.ndarray, errors: RowErrors
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Check and convert each field; return the values and, per field, its bad rows (so that
    rules across fields only use values that are themselves valid)."""
    parts: dict[str, Any] = {}
    bad: dict[str, np.ndarray] = {}
    for f in fields:
        clean, field_bad = validate_frame(frame, (f,), rows, errors)
        parts[f.name] = clean[f.name].to_numpy(dtype=object)
        bad[f.name] = field_bad
    return pd.DataFrame(parts, index=range(len(frame))), bad


def plain(value: Any) -> Any:
    """A converted cell as a plain Python value: missing becomes ``None``, numpy scalars their
    Python equivalents."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float | np.floating) and math.isnan(value):
        return None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def split_codes(text: str | None) -> list[str]:
    """The enterprise codes of a cell (``a;b``, also ``,``, full-width ``；，`` or blanks),
    in order, each once."""
    if not text:
        return []
    return list(dict.fromkeys(c for c in CODE_LIST_SEPARATORS.split(text.strip()) if c))


@dataclass(frozen=True)
class Prepared:
    """A valid record ready to be written, with its row number in the input."""

    row: int
    values: dict[str, Any]


def _code_ok(code: str | None, row: int, errors: RowErrors) -> bool:
    """A code is one word: no blanks, and none of the separators of a list of codes."""
    if code is None or _CODE.match(code):
        return True
    errors.add(row, "code", f"{code!r} must not contain blanks, ';' or ','")
    return False


def prepare_scenarios(
    frame: pd.DataFrame,
    rows: np.ndarray,
    lookups: ProgressLookups,
    errors: RowErrors,
    more_enterprises: Collection[str] = (),
) -> list[Prepared]:
    """Validate raw scenario records and turn the good ones into table values.

    ``more_enterprises`` are enterprise codes that the same import creates, which a scenario may
    refer to besides those in the database. ``values["enterprise_codes"]`` is the list of a
    record's enterprises, or ``None`` when the input has no ``enterprises`` column (links are
    then left as they are).
    """
    links_given = "enterprises" in resolve_columns(frame.columns, SCENARIO_FIELDS)
    clean, bad = _validate(frame, SCENARIO_FIELDS, rows, errors)
    known = set(lookups.enterprise_ids) | set(more_enterprises)
    out: list[Prepared] = []
    for i in range(len(clean)):
        row = int(rows[i])
        v = {name: plain(clean[name].iat[i]) for name in clean.columns}
        ok = _code_ok(v["code"], row, errors) and not any(b[i] for b in bad.values())

        district = v.pop("district_code")
        v["district_code"] = None
        if district is not None:
            v["district_code"] = lookups.district(district)
            if v["district_code"] is None:
                errors.add(row, "district_code", lookups.unknown_district(district))
                ok = False

        lon_given = v["lon_deg"] is not None or bad["lon_deg"][i]
        lat_given = v["lat_deg"] is not None or bad["lat_deg"][i]
        if lon_given != lat_given:
            errors.add(row, "lon_deg/lat_deg", "give both coordinates or neither")
            ok = False

        status = v["status"] if not bad["status"][i] else None
        started, ended = v["in_operation_on"], v["ended_on"]
        started_bad, ended_bad = bad["in_operation_on"][i], bad["ended_on"][i]
        if status == ScenarioStatus.IN_OPERATION and started is None and not started_bad:
            errors.add(row, "in_operation_on", "status in_operation needs the date it went "
                       "into operation")  # fmt: skip
            ok = False
        if status in (ScenarioStatus.PLANNED, ScenarioStatus.BUILDING) and started is not None:
            errors.add(row, "in_operation_on", f"a {status} scenario is not in operation yet: "
                       "leave it empty or set the status in_operation")  # fmt: skip
            ok = False
        if status == ScenarioStatus.ENDED and ended is None and not ended_bad:
            errors.add(row, "ended_on", "status ended needs the date it ended")
            ok = False
        if status is not None and status != ScenarioStatus.ENDED and ended is not None:
            errors.add(row, "ended_on", f"only an ended scenario has an end date (status {status})")
            ok = False
        if started is not None and ended is not None and ended < started:
            errors.add(row, "ended_on", f"{ended} is before in_operation_on {started}")
            ok = False

        codes = split_codes(v.pop("enterprises"))
        for code in codes:
            if code in known:
                continue
            kind = lookups.org_kinds.get(code)
            if kind is None:
                why = "no such enterprise in the database or in this import"
            elif kind == OrgKind.ENTERPRISE:
                why = "the organisation has no enterprise record yet: import it as an enterprise"
            else:
                why = f"the organisation is a {kind.value}, not an enterprise"
            errors.add(row, "enterprises", f"{code!r}: {why}")
            ok = False
        v["enterprise_codes"] = codes if links_given else None
        v["demo"] = bool(v["demo"])
        if ok:
            v["category"] = ScenarioCategory(v["category"])
            v["status"] = ScenarioStatus(v["status"])
            out.append(Prepared(row, v))
    return out


def revenue_columns(columns: Collection[Any], first_row: int, errors: RowErrors) -> dict[int, Any]:
    """The file's revenue columns by year (``revenue_2020_yuan`` → 2020); a column that looks
    like one but is misnamed, or whose year is out of range, is an error."""
    found: dict[int, Any] = {}
    for column in columns:
        name = str(column).strip().lower()
        if not name.startswith("revenue"):
            continue
        match = REVENUE_COLUMN.match(name)
        if match is None:
            errors.add(first_row, str(column), "a revenue column is named revenue_YYYY_yuan, "
                       "e.g. revenue_2020_yuan")  # fmt: skip
            continue
        year = int(match.group(1))
        if not MIN_YEAR <= year <= MAX_YEAR:
            errors.add(first_row, str(column), f"year {year} is outside {MIN_YEAR}–{MAX_YEAR}")
            continue
        if year in found:
            errors.add(first_row, str(column), f"a second column for the revenue of {year}")
            continue
        found[year] = column
    return found


def prepare_enterprises(
    frame: pd.DataFrame, rows: np.ndarray, lookups: ProgressLookups, errors: RowErrors
) -> list[Prepared]:
    """Validate raw enterprise records (with their wide revenue columns) and turn the good ones
    into values; ``values["revenues_yuan"]`` maps year to revenue, for the years given."""
    clean, bad = _validate(frame, ENTERPRISE_FIELDS, rows, errors)
    first = int(rows[0]) if len(rows) else 1
    revenue_by_year = revenue_columns(frame.columns, first, errors)
    revenues: dict[int, np.ndarray] = {}
    for year, column in sorted(revenue_by_year.items()):
        name = f"revenue_{year}_yuan"
        f = Field(name, "float", required=False, min_value=0, max_value=MAX_REVENUE_YUAN)
        part = frame[[column]].set_axis([name], axis=1)
        values, year_bad = validate_frame(part, (f,), rows, errors)
        revenues[year] = values[name].to_numpy(dtype=float)
        bad[name] = year_bad
    out: list[Prepared] = []
    for i in range(len(clean)):
        row = int(rows[i])
        v = {name: plain(clean[name].iat[i]) for name in clean.columns}
        ok = _code_ok(v["code"], row, errors) and not any(b[i] for b in bad.values())
        kind = lookups.org_kinds.get(v["code"])
        if kind is not None and kind != OrgKind.ENTERPRISE:
            errors.add(row, "code", f"organisation {v['code']!r} is a {kind.value}, not an "
                       "enterprise")  # fmt: skip
            ok = False
        district = v.pop("district_code")
        v["district_code"] = None
        if district is not None:
            v["district_code"] = lookups.district(district)
            if v["district_code"] is None:
                errors.add(row, "district_code", lookups.unknown_district(district))
                ok = False
        v["revenues_yuan"] = {
            year: float(values[i]) for year, values in revenues.items() if np.isfinite(values[i])
        }
        v["innovative"] = bool(v["innovative"])
        v["demo"] = bool(v["demo"])
        if ok:
            v["segment"] = IndustrySegment(v["segment"])
            v["zone"] = IndustryZone(v["zone"])
            out.append(Prepared(row, v))
    return out


def check_year(year: int, what: str = "year") -> None:
    """Refuse a year outside the schema's range, naming ``what``."""
    if not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise MastplanError(
            f"{what} must be a year between {MIN_YEAR} and {MAX_YEAR}, got {year!r}"
        )


def check_revenue(revenue_yuan: float) -> None:
    """Refuse a revenue that is not a number between 0 and the sanity ceiling."""
    try:
        value = float(revenue_yuan)
    except (TypeError, ValueError):
        raise MastplanError(f"revenue_yuan must be a number, got {revenue_yuan!r}") from None
    if not math.isfinite(value) or value < 0 or value > MAX_REVENUE_YUAN:
        raise MastplanError(
            f"revenue_yuan must be between 0 and {MAX_REVENUE_YUAN:g} yuan, got {revenue_yuan!r}"
        )


def choice(enum: type[StrEnum], value: str | None, option: str) -> Any:
    """The member of ``enum`` named by ``value`` (a filter people type), ``None`` for ``None``;
    an unknown value is an error listing the allowed ones."""
    if value is None:
        return None
    try:
        return enum(value.strip().lower())
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise MastplanError(f"unknown {option} {value!r}; one of {allowed}") from None
