"""All-or-nothing imports of structures and sites (CSV, GeoJSON, GeoPackage, OpenCelliD).

The file is streamed in batches; every batch is validated and written inside one transaction.
Any bad row anywhere rolls the whole import back and the error report names file, row and field.
A dry run does exactly the same work and then rolls back, so its counts are the real ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Table
from sqlalchemy.orm import Session

from mastplan.errors import ImportValidationError, MastplanError
from mastplan.io.readers import detect_format, read_batches
from mastplan.registry.audit import Actor, record
from mastplan.registry.bulk import WriteMethod, key_to_id, upsert
from mastplan.registry.db import transaction
from mastplan.registry.enums import Rat, SiteStatus
from mastplan.registry.fields import Field, RowErrors, validate_frame
from mastplan.registry.models import Sector, Site, Structure
from mastplan.registry.rules import RegistryLookups, prepare_sites, prepare_structures

LAYERS = ("structures", "sites")
Progress = Callable[[int], None]


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do)."""

    layer: str
    file: str
    format: str
    sha256: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _DryRunRollback(Exception):
    """Raised inside the transaction to undo a dry run's writes."""


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, recorded in the audit entry of its import."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_layer(
    session: Session,
    actor: Actor,
    path: Path,
    layer: str,
    fmt: str | None = None,
    *,
    dry_run: bool = False,
    batch_size: int = 50_000,
    progress: Progress | None = None,
    write_method: WriteMethod = "auto",
) -> ImportResult:
    """Import ``path`` into ``layer``, all or nothing, upserting by ``external_id``.

    Parameters
    ----------
    session : Session
        A session not inside a transaction; the import runs in its own.
    actor : Actor
        Who imports, recorded in the audit log.
    path : Path
        The file.
    layer : {"structures", "sites"}
        The registry layer to write.
    fmt : {"csv", "geojson", "gpkg", "opencellid"}, optional
        The file format; taken from the file name when omitted.
    dry_run : bool
        Validate and count, then roll back.
    batch_size : int
        Records per batch: memory stays bounded by this, not by the file size.
    progress : callable, optional
        Called with the number of records done after each batch.
    write_method : {"auto", "copy", "executemany"}
        How batches reach the database (:func:`mastplan.registry.bulk.upsert`): ``auto`` is
        ``COPY … FROM STDIN`` on PostgreSQL and ``executemany`` on SQLite. The rows, counts
        and audit entry are the same either way; ``executemany`` is the benchmark's baseline.

    Raises
    ------
    ImportValidationError
        When any row is bad; nothing is written.
    """
    if layer not in LAYERS:
        raise MastplanError(f"unknown layer '{layer}'; use one of {', '.join(LAYERS)}")
    path = Path(path)
    if not path.is_file():
        raise MastplanError(f"{path}: no such file")
    fmt = detect_format(path, fmt)
    if fmt == "opencellid" and layer != "sites":
        raise MastplanError("the opencellid format imports as sites: use --layer sites")
    result = ImportResult(layer, str(path), fmt, file_sha256(path), dry_run=dry_run)
    errors = RowErrors(str(path))
    try:
        with transaction(session):
            lookups = RegistryLookups(session)
            if fmt == "opencellid":
                _import_opencellid(
                    session, path, batch_size, lookups, errors, result, progress, write_method
                )
            else:
                seen = _KeyTracker()
                for batch in read_batches(path, fmt, batch_size):
                    if layer == "structures":
                        records = prepare_structures(
                            batch.frame, batch.rows, batch.errors, lookups, errors
                        )
                    else:
                        records = prepare_sites(
                            session, batch.frame, batch.rows, batch.errors, lookups, errors
                        )
                    table = Structure.__table__ if layer == "structures" else Site.__table__
                    _write_batch(
                        session, records, batch.rows, table, errors, result, seen, write_method
                    )
                    result.rows += len(batch.rows)
                    if progress:
                        progress(len(batch.rows))
                seen.report(errors, "external_id")
            if errors:
                raise ImportValidationError(
                    sorted(errors.items, key=lambda e: (e.row, e.field)), errors.total
                )
            record(session, actor, "import", layer, None, after=result.as_dict())
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    return result


class _KeyTracker:
    """Finds keys repeated within one file, in bounded memory (64-bit hashes and row numbers)."""

    def __init__(self) -> None:
        self.hashes: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []

    def add(self, keys: pd.Series, rows: np.ndarray) -> None:
        self.hashes.append(pd.util.hash_array(keys.astype(str).to_numpy(dtype=object)))
        self.rows.append(rows)

    def report(self, errors: RowErrors, field_name: str) -> None:
        if not self.hashes:
            return
        hashes = np.concatenate(self.hashes)
        rows = np.concatenate(self.rows)
        order = np.argsort(hashes, kind="stable")
        h, r = hashes[order], rows[order]
        dup = np.flatnonzero(h[1:] == h[:-1]) + 1
        for i in dup:
            first = i - 1
            while first > 0 and h[first - 1] == h[i]:
                first -= 1
            errors.add(int(r[i]), field_name, f"repeats the value of row {int(r[first])}")


def _write_batch(
    session: Session,
    records: pd.DataFrame,
    rows: np.ndarray,
    table: Table,
    errors: RowErrors,
    result: ImportResult,
    seen: _KeyTracker,
    write_method: WriteMethod = "auto",
) -> None:
    """Upsert one prepared batch, unless some row of the file was bad (then only validate)."""
    seen.add(records["external_id"], rows)
    if errors:
        return
    ins, upd = upsert(session, table, records.to_dict("records"), method=write_method)
    result.inserted += ins
    result.updated += upd


# --- OpenCelliD -------------------------------------------------------------------------------

OPENCELLID_FIELDS: tuple[Field, ...] = (
    Field("radio", "str", max_length=8),
    Field("mcc", "int", min_value=1, max_value=999),
    Field("net", "int", min_value=0, max_value=999),
    Field("area", "int", min_value=0, max_value=2**32),
    Field("cell", "int", min_value=0, max_value=2**40),
    Field("lon", "float", min_value=-180, max_value=180),
    Field("lat", "float", min_value=-90, max_value=90),
    Field("created", "int", required=False, min_value=0),
)
# How a cell identity splits into node (eNB/gNB) and local cell: LTE ECI = eNB(20) + cell(8);
# NR NCI = gNB (22..32 bits, 24 assumed: the common choice in China) + cell (12).
_OCID_RAT = {"GSM": Rat.GSM, "UMTS": Rat.UMTS, "LTE": Rat.LTE, "NR": Rat.NR}
_LOCAL_CELL_BITS = {Rat.LTE: 8, Rat.NR: 12, Rat.UMTS: 16, Rat.GSM: 0}


def _import_opencellid(
    session: Session,
    path: Path,
    batch_size: int,
    lookups: RegistryLookups,
    errors: RowErrors,
    result: ImportResult,
    progress: Progress | None,
    write_method: WriteMethod = "auto",
) -> None:
    """Group OpenCelliD cells into sites (one per eNB/gNB, sectors per cell) and upsert them.

    Rows outside the city and radios mastplan does not model (CDMA) are skipped and counted,
    because the public export comes per country; every other problem is an error.
    """
    cells: list[pd.DataFrame] = []
    seen = _KeyTracker()
    for batch in read_batches(path, "opencellid", batch_size):
        frame = batch.frame.rename(columns=str.lower)
        clean, bad = validate_frame(frame, OPENCELLID_FIELDS, batch.rows, errors)
        result.rows += len(batch.rows)
        if progress:
            progress(len(batch.rows))
        radio = clean["radio"].str.upper()
        unsupported = radio.notna().to_numpy() & ~radio.isin(list(_OCID_RAT)).to_numpy()
        result.skipped["unsupported_radio"] = result.skipped.get("unsupported_radio", 0) + int(
            unsupported.sum()
        )
        plmn = clean["mcc"].astype(str) + clean["net"].map(
            lambda n: f"{int(n):02d}" if n is not None and n is not pd.NA else ""
        )
        operator_id = plmn.map(lookups.plmn_operator)
        unknown = ~bad & ~unsupported & operator_id.isna().to_numpy()
        for i in np.flatnonzero(unknown):
            errors.add(
                int(batch.rows[i]),
                "mcc/net",
                f"PLMN {plmn.iat[i]} belongs to no operator in the registry",
            )
        lon = clean["lon"].to_numpy(dtype=float)
        lat = clean["lat"].to_numpy(dtype=float)
        district = lookups.districts.locate(lon, lat)
        outside = ~bad & ~unsupported & ~unknown & pd.isna(district)
        result.skipped["outside_city"] = result.skipped.get("outside_city", 0) + int(outside.sum())
        keep = ~bad & ~unsupported & ~unknown & ~outside
        if not keep.any():
            continue
        part = clean.loc[keep, ["mcc", "net", "area", "cell", "lon", "lat", "created"]].copy()
        part["rat"] = radio[keep].map(_OCID_RAT).to_numpy()
        part["plmn"] = plmn[keep].to_numpy()
        part["operator_id"] = operator_id[keep].astype(int).to_numpy()
        part["district_code"] = district[keep]
        part["row"] = batch.rows[keep]
        cell_key = part["plmn"] + ":" + part["rat"].astype(str) + ":" + part["cell"].astype(str)
        seen.add(cell_key, part["row"].to_numpy())
        cells.append(part)
    seen.report(errors, "cell")
    if errors or not cells:
        return
    table = pd.concat(cells, ignore_index=True)
    bits = table["rat"].map(_LOCAL_CELL_BITS).astype(int).to_numpy()
    cell = table["cell"].astype(np.int64).to_numpy()
    table["node_id"] = np.right_shift(cell, bits)
    table["local_cell"] = cell - np.left_shift(table["node_id"].to_numpy(), bits)
    table["site_key"] = (
        "ocid:"
        + table["plmn"]
        + ":"
        + table["rat"].astype(str)
        + ":"
        + table["node_id"].astype(str)
    )
    sites = table.groupby("site_key", sort=True).agg(
        operator_id=("operator_id", "first"),
        rat=("rat", "first"),
        node_id=("node_id", "first"),
        lon_deg=("lon", "median"),
        lat_deg=("lat", "median"),
        created=("created", "min"),
    )
    sites["district_code"] = lookups.districts.locate(
        sites["lon_deg"].to_numpy(), sites["lat_deg"].to_numpy()
    )
    on_air = pd.to_datetime(pd.to_numeric(sites["created"], errors="coerce"), unit="s").dt.date
    records = [
        {
            "external_id": key,
            "name": None,
            "operator_id": int(s.operator_id),
            "structure_id": None,
            "district_code": s.district_code,
            "rat": str(s.rat),
            "band": None,
            "node_id": int(s.node_id),
            "status": SiteStatus.ON_AIR.value,
            "lon_deg": float(s.lon_deg),
            "lat_deg": float(s.lat_deg),
            "planned_on": None,
            "approved_on": None,
            "built_on": None,
            "on_air_on": None if pd.isna(d) else d,
            "retired_on": None,
            "synthetic": False,
            "source": "OpenCelliD",
        }
        for (key, s), d in zip(sites.iterrows(), on_air, strict=True)
    ]
    ins, upd = upsert(session, Site.__table__, records, method=write_method)
    result.inserted += ins
    result.updated += upd
    site_ids = key_to_id(session, Site.__table__, "external_id", list(sites.index))
    sector_table = Sector.__table__
    ids = list(site_ids.values())
    for i in range(0, len(ids), 5_000):
        session.execute(sector_table.delete().where(sector_table.c.site_id.in_(ids[i : i + 5_000])))
    sector_rows = [
        {
            "site_id": site_ids[k],
            "sector_number": int(lc),
            "cell_identity": int(c),
            "mechanical_tilt_deg": 0.0,
            "electrical_tilt_deg": 0.0,
            "version": 1,
        }
        for k, lc, c in zip(table["site_key"], table["local_cell"], table["cell"], strict=True)
    ]
    session.execute(sector_table.insert(), sector_rows)
