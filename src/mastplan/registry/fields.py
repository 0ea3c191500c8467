"""Field schemas of the importable layers and their vectorised validation.

Every value of every row is checked; each problem becomes a :class:`~mastplan.errors.RowError`
naming the file, the row and the field. Single-object services validate through the same code
(a one-row frame), so there is one set of rules for a form, an API call and a million-row file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from mastplan.errors import RowError
from mastplan.registry.enums import Rat, SiteStatus, StructureKind, StructureStatus

Kind = Literal["str", "float", "int", "bool", "enum", "date"]

_TRUE = frozenset({"true", "t", "yes", "y", "1", "是"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "否"})


@dataclass(frozen=True)
class Field:
    """One column of a layer: its type, whether it is required, its default and its limits."""

    name: str
    kind: Kind
    required: bool = True
    default: Any = None
    choices: frozenset[str] | None = None
    min_value: float | None = None
    max_value: float | None = None
    min_exclusive: bool = False
    max_length: int | None = None
    aliases: tuple[str, ...] = ()


COORDINATE_FIELDS = (
    Field("lon_deg", "float", min_value=-180, max_value=180, aliases=("lon", "longitude", "x")),
    Field("lat_deg", "float", min_value=-90, max_value=90, aliases=("lat", "latitude", "y")),
)

STRUCTURE_FIELDS: tuple[Field, ...] = (
    Field("external_id", "str", max_length=128, aliases=("code", "id")),
    Field("kind", "enum", choices=frozenset(StructureKind)),
    Field("owner", "str", max_length=64, aliases=("owner_code",)),
    *COORDINATE_FIELDS,
    Field("height_m", "float", min_value=0, max_value=1000, min_exclusive=True),
    Field("mount_positions", "int", min_value=1, max_value=256),
    Field("max_payload_kg", "float", min_value=0, max_value=1e5),
    Field("available_power_kw", "float", min_value=0, max_value=1e4),
    Field("fibre", "bool", required=False, default=False),
    Field("open_for_sharing", "bool", required=False, default=True),
    Field(
        "status", "enum", required=False, default="in_service", choices=frozenset(StructureStatus)
    ),
    Field("name", "str", required=False, max_length=200),
    Field("source", "str", required=False, max_length=200),
)

SITE_FIELDS: tuple[Field, ...] = (
    Field("external_id", "str", max_length=128, aliases=("code", "id")),
    Field("operator", "str", max_length=64, aliases=("operator_code", "plmn")),
    Field("rat", "enum", choices=frozenset(Rat)),
    Field("band", "str", required=False, max_length=8),
    Field("status", "enum", choices=frozenset(SiteStatus)),
    *COORDINATE_FIELDS,
    Field("structure", "str", required=False, max_length=128, aliases=("structure_external_id",)),
    Field("node_id", "int", required=False, min_value=0, max_value=2**40),
    Field("name", "str", required=False, max_length=200),
    Field("planned_on", "date", required=False),
    Field("approved_on", "date", required=False),
    Field("built_on", "date", required=False),
    Field("on_air_on", "date", required=False),
    Field("retired_on", "date", required=False),
    Field("source", "str", required=False, max_length=200),
)


class RowErrors:
    """Collects row errors; keeps the first ``keep`` of them and counts them all."""

    def __init__(self, file: str, keep: int = 1000) -> None:
        self.file = file
        self.keep = keep
        self.items: list[RowError] = []
        self.total = 0

    def add(self, row: int, field: str, message: str) -> None:
        self.total += 1
        if len(self.items) < self.keep:
            self.items.append(RowError(self.file, row, field, message))

    def add_many(self, rows: Iterable[int], field: str, messages: Iterable[str]) -> None:
        for row, message in zip(rows, messages, strict=True):
            self.add(int(row), field, message)

    def __bool__(self) -> bool:
        return self.total > 0


def resolve_columns(columns: Iterable[str], fields: tuple[Field, ...]) -> dict[str, str]:
    """Map each field name to the file's column that holds it (exact name first, then aliases)."""
    lower = {str(c).strip().lower(): c for c in columns}
    found: dict[str, str] = {}
    for f in fields:
        for name in (f.name, *f.aliases):
            if name in lower:
                found[f.name] = lower[name]
                break
    return found


def _missing(values: pd.Series) -> np.ndarray:
    as_str = values.astype("string").str.strip()
    return (values.isna() | (as_str == "")).to_numpy(dtype=bool)


def _show(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _check_field(
    f: Field, values: pd.Series, rows: np.ndarray, errors: RowErrors
) -> tuple[np.ndarray, np.ndarray]:
    """Convert one column; return (converted values, bad-row mask)."""
    n = len(values)
    missing = _missing(values)
    bad = np.zeros(n, dtype=bool)
    if f.required and missing.any():
        errors.add_many(rows[missing], f.name, ["missing value"] * int(missing.sum()))
        bad |= missing
    present = ~missing

    if f.kind in ("float", "int"):
        nums = pd.to_numeric(values.where(present), errors="coerce").to_numpy(dtype=float)
        not_num = present & ~np.isfinite(nums)
        if not_num.any():
            errors.add_many(
                rows[not_num], f.name, [f"not a number: {_show(v)}" for v in values[not_num]]
            )
        bad |= not_num
        ok = present & ~not_num
        if f.kind == "int":
            frac = ok & (nums != np.round(nums))
            if frac.any():
                errors.add_many(
                    rows[frac], f.name, [f"not a whole number: {_show(v)}" for v in values[frac]]
                )
            bad |= frac
            ok &= ~frac
        if f.min_value is not None:
            low = ok & ((nums <= f.min_value) if f.min_exclusive else (nums < f.min_value))
            if low.any():
                op = ">" if f.min_exclusive else ">="
                errors.add_many(
                    rows[low],
                    f.name,
                    [f"must be {op} {f.min_value:g} (got {v:g})" for v in nums[low]],
                )
            bad |= low
        if f.max_value is not None:
            high = ok & (nums > f.max_value)
            if high.any():
                errors.add_many(
                    rows[high],
                    f.name,
                    [f"must be <= {f.max_value:g} (got {v:g})" for v in nums[high]],
                )
            bad |= high
        if f.default is not None:
            nums = np.where(missing, f.default, nums)
        if f.kind == "int":
            usable = np.isfinite(nums) & ~bad & (np.abs(nums) < 2**62)
            out = np.full(n, None, dtype=object)
            out[usable] = [int(v) for v in nums[usable]]
            return out, bad
        return nums, bad

    text = values.astype("string").str.strip()
    if f.kind == "bool":
        low = text.str.lower()
        is_true = low.isin(_TRUE).to_numpy(dtype=bool)
        is_false = low.isin(_FALSE).to_numpy(dtype=bool)
        wrong = present & ~(is_true | is_false)
        if wrong.any():
            errors.add_many(
                rows[wrong], f.name, [f"not a yes/no value: {_show(v)}" for v in values[wrong]]
            )
        bad |= wrong
        out = np.where(missing, bool(f.default), is_true)
        return out.astype(bool), bad

    if f.kind == "enum":
        assert f.choices is not None
        low = text.str.lower()
        wrong = present & ~low.isin(f.choices).to_numpy(dtype=bool)
        if wrong.any():
            allowed = ", ".join(sorted(f.choices))
            errors.add_many(
                rows[wrong],
                f.name,
                [f"unknown value {_show(v)}; allowed: {allowed}" for v in values[wrong]],
            )
        bad |= wrong
        out = low.to_numpy(dtype=object)
        out[missing] = f.default
        return out, bad

    if f.kind == "date":
        parsed = pd.to_datetime(text.where(present), errors="coerce", format="ISO8601")
        wrong = present & parsed.isna().to_numpy(dtype=bool)
        if wrong.any():
            errors.add_many(
                rows[wrong],
                f.name,
                [f"not an ISO date (YYYY-MM-DD): {_show(v)}" for v in values[wrong]],
            )
        bad |= wrong
        out = np.array([d.date() if not pd.isna(d) else None for d in parsed], dtype=object)
        return out, bad

    # str
    out = text.to_numpy(dtype=object)
    if f.max_length is not None:
        lengths = text.str.len().fillna(0).to_numpy()
        long = present & (lengths > f.max_length)
        if long.any():
            errors.add_many(
                rows[long], f.name, [f"longer than {f.max_length} characters"] * int(long.sum())
            )
        bad |= long
    out[missing] = f.default
    return out, bad


def validate_frame(
    frame: pd.DataFrame, fields: tuple[Field, ...], rows: np.ndarray, errors: RowErrors
) -> tuple[pd.DataFrame, np.ndarray]:
    """Check and convert every field of ``frame``.

    Parameters
    ----------
    frame : DataFrame
        The raw rows as read from the file (strings or the file's own types).
    fields : tuple of Field
        The layer's schema.
    rows : ndarray of int
        The 1-based row number of each record in its file, for error messages.
    errors : RowErrors
        Where problems are reported.

    Returns
    -------
    clean : DataFrame
        One column per field, converted, defaults filled.
    bad : ndarray of bool
        Rows with at least one problem.
    """
    mapping = resolve_columns(frame.columns, fields)
    n = len(frame)
    bad = np.zeros(n, dtype=bool)
    clean: dict[str, Any] = {}
    for f in fields:
        if f.name not in mapping:
            if f.required:
                if n:
                    errors.add(int(rows[0]), f.name, "required column is missing from the file")
                bad[:] = True
            clean[f.name] = np.full(n, f.default, dtype=object)
            continue
        values = frame[mapping[f.name]].reset_index(drop=True)
        clean[f.name], field_bad = _check_field(f, values, rows, errors)
        bad |= field_bad
    return pd.DataFrame(clean), bad
