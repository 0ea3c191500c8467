"""The Chongqing default data set: districts, key areas, organisations and a synthetic inventory.

``load_chongqing`` writes it all into the registry in one transaction (re-running it updates in
place). The structures and existing sites it generates are SYNTHETIC: they are marked so in the
database and in every export, and they go through the same rules as an imported inventory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mastplan.data.chongqing_geo import load_districts, load_key_areas
from mastplan.data.plan import (
    load_district_population,
    load_organisations,
    load_synthetic_owners,
)
from mastplan.errors import ImportValidationError, MastplanError
from mastplan.geo import METRIC_EPSG, to_storage
from mastplan.progress.demo import load_demo_progress
from mastplan.progress.tasks import load_plan_tasks
from mastplan.registry.areas import upsert_district, upsert_key_area
from mastplan.registry.audit import Actor, record
from mastplan.registry.bulk import key_to_id, upsert
from mastplan.registry.db import transaction
from mastplan.registry.enums import RegionGroup, SiteStatus
from mastplan.registry.fields import RowErrors
from mastplan.registry.models import Sector, Site, Structure, Tenancy, TenancyPosition
from mastplan.registry.organisations import upsert_organisation
from mastplan.registry.rules import RegistryLookups, prepare_structures
from mastplan.synthetic.sites import OPERATORS, generate_sites
from mastplan.synthetic.structures import (
    STRUCTURE_KINDS,
    StructureBatch,
    generate_structures,
    source_tag,
)

Step = Callable[..., None]

# What one synthetic tenant's equipment weighs and draws (a 64T64R AAU plus a BBU share).
TENANT_PAYLOAD_KG = 45.0
TENANT_POWER_KW = 1.5


@dataclass(frozen=True)
class LoadOptions:
    """Knobs of ``mastplan load chongqing``."""

    seed: int = 2019
    density: float = 1.0
    halo_m: float = 300.0
    years: tuple[int, ...] = (2019,)
    synthetic: bool = True
    demo: bool = True  # demo application scenarios, enterprises and figures (marked demo)


def _no_step(*_args: Any, **_kwargs: Any) -> None:
    return None


def load_chongqing(
    session: Session, actor: Actor, options: LoadOptions = LoadOptions(), step: Step = _no_step
) -> dict[str, Any]:
    """Load (or refresh) the Chongqing data set; return counts of what was written."""
    summary: dict[str, Any] = {"options": asdict(options)}
    with transaction(session):
        step("districts 区县")
        districts = load_districts()
        census_year, _, population = load_district_population()
        for row in districts.itertuples():
            people, people_source = population.get(row.code, (None, None))
            upsert_district(
                session,
                actor,
                code=row.code,
                name_zh=row.name_zh,
                name_en=row.name_en,
                kind=row.kind,
                group=row.group,
                boundary=row.geometry,
                population=people,
                population_year=census_year if people else None,
                population_source=people_source,
            )
        summary["districts"] = len(districts)

        step("organisations 单位")
        specs = load_organisations()
        done: set[str] = set()
        pending = list(specs)
        while pending:  # parents before children
            ready = [s for s in pending if s.parent is None or s.parent in done]
            if not ready:
                raise MastplanError("organisations.yaml: parent references form a cycle")
            for s in ready:
                upsert_organisation(
                    session,
                    actor,
                    code=s.code,
                    kind=s.kind,
                    name_zh=s.name_zh,
                    name_en=s.name_en,
                    short_zh=s.short_zh,
                    short_en=s.short_en,
                    parent_code=s.parent,
                    district_code=s.district_code,
                    plmn=s.plmn,
                    synthetic=s.synthetic,
                    source=s.source,
                )
                done.add(s.code)
            pending = [s for s in pending if s.code not in done]
        summary["organisations"] = len(specs)

        step("key areas 重点区域")
        key_areas = load_key_areas(districts)
        for row in key_areas.itertuples():
            upsert_key_area(
                session,
                actor,
                code=row.code,
                name_zh=row.name_zh,
                name_en=row.name_en,
                category=row.category,
                phase_year=int(row.phase_year),
                district_code=row.district_code,
                boundary=row.geometry,
                location_confidence=row.confidence,
                location_source=row.location_source,
                extent_method=row.extent_method,
                buffer_m=None if pd.isna(row.buffer_m) else float(row.buffer_m),
                anchor_lon_deg=_float_or_none(row.anchor_lon_deg),
                anchor_lat_deg=_float_or_none(row.anchor_lat_deg),
                plan_quote_zh=row.plan_quote_zh,
                notes=row.notes,
            )
        summary["key_areas"] = len(key_areas)

        step("plan tasks 任务")
        summary["plan_tasks"] = load_plan_tasks(session, actor)
        if options.demo:
            step("demo scenarios and enterprises 示例数据")
            summary["demo_progress"] = load_demo_progress(session, actor)

        if options.synthetic:
            area = key_areas.loc[key_areas["phase_year"].isin(options.years)]
            if area.empty:
                raise MastplanError(f"no key areas for phase years {options.years}")
            metric = shapely.union_all(area.to_crs(METRIC_EPSG).geometry.buffer(options.halo_m))
            summary["synthetic"] = _load_synthetic(session, actor, metric, options, step)
        record(session, actor, "load", "dataset", "chongqing", after=summary)
    return summary


def _float_or_none(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def synthetic_frame(
    batch: StructureBatch, seed: int, density: float, owners: dict[str, tuple[str, ...]]
) -> pd.DataFrame:
    """A synthetic batch as import records (the columns of ``mastplan import``)."""
    lon, lat = to_storage(batch.x_m, batch.y_m)
    kind = np.asarray(STRUCTURE_KINDS, dtype=object)[batch.kind]
    owner = np.empty(len(batch), dtype=object)
    for k, name in enumerate(STRUCTURE_KINDS):
        sel = batch.kind == k
        choices = np.asarray(owners[name], dtype=object)
        owner[sel] = choices[batch.local_id[sel] % len(choices)]
    return pd.DataFrame(
        {
            "external_id": [f"syn-{seed}-{i}" for i in batch.local_id],
            "kind": kind,
            "owner": owner,
            "lon_deg": np.round(lon, 7),
            "lat_deg": np.round(lat, 7),
            "height_m": np.round(batch.height_m.astype(float), 1),
            "mount_positions": batch.mount_positions.astype(int),
            "max_payload_kg": np.round(batch.max_payload_kg.astype(float), 1),
            "available_power_kw": np.round(batch.available_power_kw.astype(float), 2),
            "fibre": batch.fibre,
            "open_for_sharing": batch.open_for_sharing,
            "status": "in_service",
            "synthetic": True,
            "source": source_tag(seed=seed, density=density),
        }
    )


def _load_synthetic(
    session: Session, actor: Actor, area_m: shapely.Geometry, options: LoadOptions, step: Step
) -> dict[str, int]:
    owners = load_synthetic_owners()
    lookups = RegistryLookups(session)
    counts = {"structures": 0, "sites": 0, "sectors": 0, "tenancies": 0, "outside_city": 0}
    step("synthetic structures 合成杆塔", total=None)
    for batch in generate_structures(area_m, seed=options.seed, density=options.density):
        raw = synthetic_frame(batch, options.seed, options.density, owners)
        inside = ~pd.isna(
            lookups.districts.locate(raw["lon_deg"].to_numpy(), raw["lat_deg"].to_numpy())
        )
        counts["outside_city"] += int((~inside).sum())
        raw = raw.loc[inside].reset_index(drop=True)
        batch = _subset(batch, inside)
        errors = RowErrors("synthetic inventory")
        records = prepare_structures(raw, np.arange(1, len(raw) + 1), [], lookups, errors)
        if errors:
            raise ImportValidationError(errors.items, errors.total)
        upsert(session, Structure.__table__, records.to_dict("records"))
        counts["structures"] += len(records)
        districts = records["district_code"].to_numpy()
        for key, n in _synthetic_sites(
            session, batch, raw, districts, options, lookups.operator_ids
        ).items():
            counts[key] += n
        step("synthetic structures 合成杆塔", advance=len(records))
    record(session, actor, "load", "dataset", "chongqing-synthetic", after=counts)
    return counts


def _subset(batch: StructureBatch, mask: np.ndarray) -> StructureBatch:
    return StructureBatch(**{f: getattr(batch, f)[mask] for f in batch.__dataclass_fields__})


def _synthetic_sites(
    session: Session,
    batch: StructureBatch,
    raw: pd.DataFrame,
    districts: np.ndarray,
    options: LoadOptions,
    op_ids: dict[str, int],
) -> dict[str, int]:
    """Existing operator sites, sectors and tenancies on a batch of synthetic structures."""
    sites, sectors = generate_sites(batch, seed=options.seed)
    if len(sites.structure_row) == 0:
        return {}
    structure_ids = key_to_id(session, Structure.__table__, "external_id", list(raw["external_id"]))
    rows = sites.structure_row
    ext = raw["external_id"].to_numpy()[rows]
    operators = np.asarray(OPERATORS, dtype=object)[sites.operator]
    site_keys = [f"{e}-{o}" for e, o in zip(ext, operators, strict=True)]
    site_dates = _dates(sites.status_dates)  # planned, approved, built, on air
    records = [
        {
            "external_id": key,
            "name": None,
            "operator_id": op_ids[op],
            "structure_id": structure_ids[e],
            "district_code": districts[r],
            "rat": str(rat).lower(),
            "band": str(band),
            "node_id": None,
            "status": str(status),
            "lon_deg": float(raw["lon_deg"].iat[r]),
            "lat_deg": float(raw["lat_deg"].iat[r]),
            "planned_on": dates[0],
            "approved_on": dates[1],
            "built_on": dates[2],
            "on_air_on": dates[3],
            "retired_on": None,
            "synthetic": True,
            "source": source_tag(seed=options.seed, density=options.density),
        }
        for key, op, e, r, rat, band, status, dates in zip(
            site_keys, operators, ext, rows, sites.rat, sites.band, sites.status,
            site_dates, strict=True,
        )
    ]  # fmt: skip
    unknown = {rec["status"] for rec in records} - {s.value for s in SiteStatus}
    if unknown:
        raise MastplanError(f"synthetic site status(es) {sorted(unknown)} are not site statuses")
    upsert(session, Site.__table__, records)
    site_ids = key_to_id(session, Site.__table__, "external_id", site_keys)
    ids = [site_ids[k] for k in site_keys]
    # sectors and tenancies of these sites are regenerated as a whole
    session.execute(delete(Sector).where(Sector.site_id.in_(ids)))
    old = list(session.scalars(select(Tenancy.id).where(Tenancy.site_id.in_(ids))))
    if old:
        session.execute(delete(TenancyPosition).where(TenancyPosition.tenancy_id.in_(old)))
        session.execute(delete(Tenancy).where(Tenancy.id.in_(old)))
    session.execute(
        Sector.__table__.insert(),
        [
            {
                "site_id": ids[int(s)],
                "sector_number": int(n),
                "azimuth_deg": float(az) % 360.0,
                "mechanical_tilt_deg": float(mt),
                "electrical_tilt_deg": float(et),
                "antenna_height_m": float(h),
                "tx_power_dbm": float(sites.tx_power_dbm[int(s)]),
                "bandwidth_mhz": float(sites.bandwidth_mhz[int(s)]),
                "carrier_frequency_mhz": float(sites.carrier_frequency_mhz[int(s)]),
                "antenna_pattern": "tr38901-element",
                "version": 1,
            }
            for s, n, az, mt, et, h in zip(
                sectors.site_row,
                sectors.sector_number,
                sectors.azimuth_deg,
                sectors.mechanical_tilt_deg,
                sectors.electrical_tilt_deg,
                sectors.antenna_height_m,
                strict=True,
            )
        ],
    )
    return {
        "sites": len(records),
        "sectors": len(sectors.site_row),
        "tenancies": _synthetic_tenancies(
            session,
            batch,
            rows,
            ids,
            operators,
            op_ids,
            structure_ids,
            ext,
            [d[1] or d[0] for d in site_dates],
        ),
    }


def _dates(days: np.ndarray) -> list[list[dt.date | None]]:
    """Rows of datetime64 days as dates, NaT as None."""
    return [[None if np.isnat(d) else d.astype(dt.date) for d in row] for row in days]


def _synthetic_tenancies(
    session: Session,
    batch: StructureBatch,
    rows: np.ndarray,
    site_ids: list[int],
    operators: np.ndarray,
    op_ids: dict[str, int],
    structure_ids: dict[str, int],
    ext: np.ndarray,
    start_on: list[dt.date | None],
) -> int:
    """One tenancy per synthetic site, on consecutive mount positions of its structure, leased
    from the site's approval (a planned site's from its planning)."""
    tenancies = []
    for site_id, op, r, e, start in zip(site_ids, operators, rows, ext, start_on, strict=True):
        positions = int(batch.mount_positions[r])
        tenancies.append(
            {
                "structure_id": structure_ids[e],
                "operator_id": op_ids[op],
                "site_id": site_id,
                "status": "active",
                "version": 1,
                "start_on": start,
                "payload_kg": round(
                    min(TENANT_PAYLOAD_KG, float(batch.max_payload_kg[r]) / positions), 1
                ),
                "power_kw": round(
                    min(TENANT_POWER_KW, float(batch.available_power_kw[r]) / positions), 2
                ),
            }
        )
    session.execute(Tenancy.__table__.insert(), tenancies)
    by_site = dict(
        session.execute(
            select(Tenancy.site_id, Tenancy.id).where(Tenancy.site_id.in_(site_ids))
        ).all()
    )
    next_position: dict[int, int] = {}
    position_rows = []
    for t in tenancies:  # sites of one structure take positions 1, 2, ...
        pos = next_position.get(t["structure_id"], 0) + 1
        next_position[t["structure_id"]] = pos
        position_rows.append(
            {
                "structure_id": t["structure_id"],
                "position": pos,
                "tenancy_id": by_site[t["site_id"]],
            }
        )
    session.execute(TenancyPosition.__table__.insert(), position_rows)
    return len(position_rows)


# --- files for scale tests ---------------------------------------------------------------------

MAIN_CITY_GROUPS = (RegionGroup.CENTRAL_URBAN, RegionGroup.NEW_URBAN)


def district_area(spec: str):
    """The union of districts named by codes (comma-separated) or a group, in EPSG:32648."""
    districts = load_districts()
    spec = spec.strip()
    if spec == "main_city":
        chosen = districts[districts["group"].isin([g.value for g in MAIN_CITY_GROUPS])]
    elif spec in {g.value for g in RegionGroup}:
        chosen = districts[districts["group"] == spec]
    else:
        codes = [c.strip() for c in spec.split(",") if c.strip()]
        unknown = sorted(set(codes) - set(districts["code"]))
        if unknown:
            raise MastplanError(f"unknown district code(s): {', '.join(unknown)}")
        chosen = districts[districts["code"].isin(codes)]
    return shapely.union_all(chosen.to_crs(METRIC_EPSG).geometry.to_numpy())


def iter_synthetic_frames(
    area_m: shapely.Geometry, *, count: int | None, seed: int, density: float
) -> Iterator[pd.DataFrame]:
    """Synthetic structures over ``area_m`` as import records, batch by batch."""
    owners = load_synthetic_owners()
    for batch in generate_structures(area_m, seed=seed, density=density, limit=count):
        yield synthetic_frame(batch, seed, density, owners)


def write_synthetic_structures(
    out: Path,
    districts: str,
    *,
    count: int | None,
    seed: int,
    density: float,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write a synthetic structure inventory as an importable CSV; return how many rows."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    for i, frame in enumerate(
        iter_synthetic_frames(district_area(districts), count=count, seed=seed, density=density)
    ):
        frame.to_csv(out, mode="w" if i == 0 else "a", header=i == 0, index=False)
        n += len(frame)
        if progress:
            progress(len(frame))
    return n
