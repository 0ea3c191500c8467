"""The rules every write of structures and sites obeys, vectorised over records.

Imports run them over batches of a file; single-object services run them over one record; so a
form, an API call and a million-row file are held to the same checks and give the same messages.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from mastplan.errors import MastplanError
from mastplan.geo import PolygonIndex
from mastplan.registry.bulk import key_to_id
from mastplan.registry.enums import LTE_BANDS, NR_BANDS, OrgKind, Rat
from mastplan.registry.fields import SITE_FIELDS, STRUCTURE_FIELDS, Field, RowErrors, validate_frame
from mastplan.registry.models import District, Organisation, Structure

STRUCTURE_IMPORT_FIELDS: tuple[Field, ...] = (
    *STRUCTURE_FIELDS,
    Field("synthetic", "bool", required=False, default=False),
)


class RegistryLookups:
    """What validation needs from the registry: organisations, operators by PLMN, districts."""

    def __init__(self, session: Session) -> None:
        orgs = session.execute(
            select(Organisation.code, Organisation.id, Organisation.kind, Organisation.plmn)
        ).all()
        self.org_ids = {code: oid for code, oid, _, _ in orgs}
        self.operator_ids = {code: oid for code, oid, kind, _ in orgs if kind == OrgKind.OPERATOR}
        self.plmn_operator = {
            p: oid
            for _, oid, kind, plmns in orgs
            if kind == OrgKind.OPERATOR
            for p in (plmns or [])
        }
        districts = session.execute(select(District.code, District.boundary)).all()
        if not districts:
            raise MastplanError(
                "the registry has no districts, so locations cannot be checked: "
                "run `mastplan load chongqing` first"
            )
        self.districts = PolygonIndex([c for c, _ in districts], [b for _, b in districts])


def _locate(
    batch_rows: np.ndarray,
    clean: pd.DataFrame,
    bad: np.ndarray,
    lookups: RegistryLookups,
    errors: RowErrors,
) -> np.ndarray:
    """District of each row; rows outside every district are errors."""
    lon = clean["lon_deg"].to_numpy(dtype=float)
    lat = clean["lat_deg"].to_numpy(dtype=float)
    district = lookups.districts.locate(lon, lat)
    outside = np.isfinite(lon) & np.isfinite(lat) & pd.isna(district)
    for i in np.flatnonzero(outside):
        errors.add(
            int(batch_rows[i]),
            "lon_deg/lat_deg",
            f"({lon[i]:.6f}, {lat[i]:.6f}) is outside the city's districts",
        )
    bad |= outside
    return district


def geometry_errors(rows: np.ndarray, found: list, errors: RowErrors) -> np.ndarray:
    """Report problems the reader found in geometries; return the rows they make bad."""
    bad = np.zeros(len(rows), dtype=bool)
    index = {int(r): i for i, r in enumerate(rows)}
    for e in found:
        errors.add(e.row, e.field, e.message)
        bad[index[e.row]] = True
    return bad


def nullable(values: np.ndarray, cast: type | None = None) -> np.ndarray:
    """The values with NaN and NA turned into None (an object array, so pandas keeps the None),
    optionally cast (e.g. ``int`` for ids that went through a float column)."""
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        missing = v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
        out[i] = None if missing else (cast(v) if cast else v)
    return out


def prepare_structures(
    frame: pd.DataFrame,
    rows: np.ndarray,
    geom_errors: list,
    lookups: RegistryLookups,
    errors: RowErrors,
) -> pd.DataFrame:
    """Validate raw structure records and turn them into table rows (the rules of every write)."""
    batch_bad = geometry_errors(rows, geom_errors, errors)
    clean, bad = validate_frame(frame, STRUCTURE_IMPORT_FIELDS, rows, errors)
    bad |= batch_bad
    owner_id = clean["owner"].map(lookups.org_ids)
    unknown = clean["owner"].notna().to_numpy() & owner_id.isna().to_numpy()
    for i in np.flatnonzero(unknown):
        errors.add(int(rows[i]), "owner", f"unknown organisation code {clean['owner'].iat[i]!r}")
    district = _locate(rows, clean, bad | unknown, lookups, errors)
    return pd.DataFrame(
        {
            "external_id": clean["external_id"],
            "name": nullable(clean["name"].to_numpy()),
            "kind": clean["kind"],
            "owner_id": owner_id.fillna(-1).astype(int),
            "district_code": district,
            "lon_deg": clean["lon_deg"],
            "lat_deg": clean["lat_deg"],
            "height_m": clean["height_m"],
            "mount_positions": clean["mount_positions"].fillna(0).astype(int),
            "max_payload_kg": clean["max_payload_kg"],
            "available_power_kw": clean["available_power_kw"],
            "fibre": clean["fibre"].astype(bool),
            "open_for_sharing": clean["open_for_sharing"].astype(bool),
            "status": clean["status"],
            "synthetic": clean["synthetic"].astype(bool),
            "source": nullable(clean["source"].to_numpy()),
        }
    )


def _check_bands(
    rows: np.ndarray, rat: pd.Series, band: pd.Series, bad: np.ndarray, errors: RowErrors
) -> None:
    for i, (r, b) in enumerate(zip(rat, band, strict=True)):
        if b is None or (isinstance(b, float) and np.isnan(b)):
            continue
        allowed = NR_BANDS if r == Rat.NR else LTE_BANDS if r == Rat.LTE else frozenset()
        if b not in allowed:
            choices = ", ".join(sorted(allowed)) or "none for this radio"
            errors.add(int(rows[i]), "band", f"{b!r} is not a band of {r}; allowed: {choices}")
            bad[i] = True


def prepare_sites(
    session: Session,
    frame: pd.DataFrame,
    rows: np.ndarray,
    geom_errors: list,
    lookups: RegistryLookups,
    errors: RowErrors,
) -> pd.DataFrame:
    """Validate raw site records and turn them into table rows (the rules of every write)."""
    batch_bad = geometry_errors(rows, geom_errors, errors)
    clean, bad = validate_frame(frame, SITE_FIELDS, rows, errors)
    bad |= batch_bad
    op = clean["operator"]
    operator_id = op.map(lambda v: lookups.operator_ids.get(v, lookups.plmn_operator.get(v)))
    unknown = op.notna().to_numpy() & operator_id.isna().to_numpy()
    for i in np.flatnonzero(unknown):
        errors.add(
            int(rows[i]),
            "operator",
            f"unknown operator {op.iat[i]!r} (give an operator code or a PLMN such as 46000)",
        )
    bad |= unknown
    _check_bands(rows, clean["rat"], clean["band"], bad, errors)
    structure_keys = [s for s in clean["structure"] if isinstance(s, str)]
    structure_ids = key_to_id(session, Structure.__table__, "external_id", structure_keys)
    structure_id = clean["structure"].map(structure_ids)
    missing = clean["structure"].notna().to_numpy() & structure_id.isna().to_numpy()
    for i in np.flatnonzero(missing):
        errors.add(
            int(rows[i]),
            "structure",
            f"no structure with external_id {clean['structure'].iat[i]!r}",
        )
    bad |= missing
    district = _locate(rows, clean, bad, lookups, errors)
    return pd.DataFrame(
        {
            "external_id": clean["external_id"],
            "name": nullable(clean["name"].to_numpy()),
            "operator_id": operator_id.fillna(-1).astype(int),
            "structure_id": nullable(structure_id.to_numpy(), int),
            "district_code": district,
            "rat": clean["rat"],
            "band": nullable(clean["band"].to_numpy()),
            "node_id": nullable(clean["node_id"].to_numpy(), int),
            "status": clean["status"],
            "lon_deg": clean["lon_deg"],
            "lat_deg": clean["lat_deg"],
            **{
                d: nullable(clean[d].to_numpy())
                for d in ("planned_on", "approved_on", "built_on", "on_air_on", "retired_on")
            },
            "synthetic": False,
            "source": nullable(clean["source"].to_numpy()),
        }
    )
