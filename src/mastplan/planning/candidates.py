"""Candidate site configurations on structures (and on new-tower positions), as tables.

Each usable structure gets a small set of configurations — three sectors 120° apart, rotated
by each of the cost model's rotations, at each electrical tilt of its site class — and each
configuration is one candidate of the cover problem, priced by :class:`CostModel`. Pure: tables
in, tables out (EPSG:32648 metres).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from mastplan.planning.costs import NEW_TOWER, CostModel

__all__ = [
    "STRUCTURE_COLUMNS",
    "Carrier",
    "candidate_configurations",
    "candidate_sectors",
    "new_tower_positions",
    "site_capacity",
    "usable_structures",
]

#: Columns of the structure table the planner takes (one row per structure).
STRUCTURE_COLUMNS = (
    "external_id", "kind", "x_m", "y_m", "height_m", "free_positions", "free_payload_kg",
    "free_power_kw", "tenants", "open_for_sharing",
)  # fmt: skip


@dataclass(frozen=True)
class Carrier:
    """The NR carrier an operator plans on."""

    operator: str
    band: str
    f_ghz: float
    bandwidth_mhz: float


def usable_structures(structures: pd.DataFrame, costs: CostModel) -> tuple[pd.DataFrame, dict]:
    """The structures a new site can go on, and how many were left out for which reason.

    A structure must be open for sharing and have a free mount position, payload and power for
    a site of its class (:attr:`CostModel.macro` or :attr:`CostModel.small_cell`).
    """
    missing = [c for c in STRUCTURE_COLUMNS if c not in structures.columns]
    if missing:
        raise ValueError(f"structures lack column(s): {', '.join(missing)}")
    have = structures[["free_positions", "free_payload_kg", "free_power_kw"]].to_numpy(float)
    fits = site_capacity(have, structures["height_m"].to_numpy(float), costs)
    closed = ~structures["open_for_sharing"].to_numpy(bool)
    short = (fits < 1) & ~closed
    excluded = {"closed_for_sharing": int(closed.sum()), "no_capacity": int(short.sum())}
    return structures[~closed & ~short].reset_index(drop=True), excluded


def site_capacity(free: np.ndarray, height_m: np.ndarray, costs: CostModel) -> np.ndarray:
    """How many sites of the class its height gives fit on each structure: the fewest that its
    free mount positions, payload and power (``free``, columns in that order) each hold."""
    cls = costs.site_class_of(np.asarray(height_m, float))
    need = np.zeros((len(cls), 3))
    for name, c in costs.classes().items():
        need[cls == name] = [c.mount_positions, c.payload_kg, c.power_kw]
    return np.floor(np.min(np.asarray(free, float) / np.maximum(need, 1e-9), axis=1)).astype(int)


def new_tower_positions(area_m: shapely.Geometry, spacing_m: float) -> np.ndarray:
    """Candidate new-tower positions: a hexagonal lattice anchored at the CRS origin (so
    neighbouring areas and tiles share it), the points inside ``area_m``; shape (n, 2)."""
    minx, miny, maxx, maxy = area_m.bounds
    dy = spacing_m * np.sqrt(3.0) / 2.0
    rows = np.arange(np.floor(miny / dy), np.ceil(maxy / dy) + 1)
    cols = np.arange(np.floor(minx / spacing_m) - 1, np.ceil(maxx / spacing_m) + 1)
    cc, rr = np.meshgrid(cols, rows)
    x = (cc + 0.5 * (rr % 2)) * spacing_m
    y = rr * dy
    inside = shapely.contains_xy(area_m, x.ravel(), y.ravel())
    return np.column_stack([x.ravel()[inside], y.ravel()[inside]])


def candidate_configurations(
    structures: pd.DataFrame, new_towers_xy_m: np.ndarray, costs: CostModel
) -> pd.DataFrame:
    """One row per candidate configuration: structure row (``structure``, −1 for a new tower),
    position, height, site class, azimuth rotation, electrical tilt and cost (yuan).

    ``structures`` are usable ones (:func:`usable_structures`); their ``tenants`` (operators
    already on them) set the sharing discount of one more tenant.
    """
    n_new = len(new_towers_xy_m)
    base = pd.DataFrame(
        {
            "structure": np.concatenate([np.arange(len(structures)), np.full(n_new, -1)]),
            "external_id": np.concatenate(
                [structures["external_id"].astype(str).to_numpy(), np.full(n_new, "", object)]
            ),
            "kind": np.concatenate(
                [structures["kind"].astype(str).to_numpy(), np.full(n_new, NEW_TOWER, object)]
            ),
            "x_m": np.concatenate([structures["x_m"].to_numpy(float), new_towers_xy_m[:, 0]]),
            "y_m": np.concatenate([structures["y_m"].to_numpy(float), new_towers_xy_m[:, 1]]),
            "height_m": np.concatenate(
                [structures["height_m"].to_numpy(float), np.full(n_new, costs.new_tower_height_m)]
            ),
            "tenants": np.concatenate([structures["tenants"].to_numpy(int), np.zeros(n_new, int)]),
        }
    )
    base["host"] = np.arange(len(base))  # the structure or new-tower position: one site at most
    base["site_class"] = costs.site_class_of(base["height_m"].to_numpy())
    base["cost_yuan"] = costs.tenant_cost_yuan(
        base["kind"].to_numpy(), base["height_m"].to_numpy(), base["tenants"].to_numpy()
    )
    base["new_build"] = base["kind"] == NEW_TOWER
    parts = []
    for name, site_class in costs.classes().items():
        rows = base[base["site_class"] == name]
        combos = [
            (r, t) for r in costs.azimuth_rotations_deg for t in site_class.electrical_tilts_deg
        ]
        for rotation, tilt in combos:
            parts.append(rows.assign(rotation_deg=rotation, tilt_deg=tilt))
    out = pd.concat(parts, ignore_index=True) if parts else base.iloc[:0]
    return out.sort_values(["host", "rotation_deg", "tilt_deg"], kind="stable").reset_index(
        drop=True
    )


def candidate_sectors(candidates: pd.DataFrame, carrier: Carrier, costs: CostModel) -> pd.DataFrame:
    """The radio engine's sector table of the candidates: three sectors each (``candidate`` =
    row of ``candidates``), on ``carrier``, UMa above the macro height and UMi below."""
    n = len(candidates)
    power = np.where(
        candidates["site_class"].to_numpy() == "macro",
        costs.macro.tx_power_dbm,
        costs.small_cell.tx_power_dbm,
    )
    height = candidates["height_m"].to_numpy(float)
    return pd.DataFrame(
        {
            "candidate": np.repeat(np.arange(n), 3),
            "x_m": np.repeat(candidates["x_m"].to_numpy(float), 3),
            "y_m": np.repeat(candidates["y_m"].to_numpy(float), 3),
            "height_m": np.repeat(height, 3),
            "azimuth_deg": (
                np.repeat(candidates["rotation_deg"].to_numpy(float), 3)
                + np.tile([0.0, 120.0, 240.0], n)
            )
            % 360.0,
            "tilt_deg": np.repeat(candidates["tilt_deg"].to_numpy(float), 3),
            "power_dbm": np.repeat(power, 3),
            "f_ghz": carrier.f_ghz,
            "bandwidth_mhz": carrier.bandwidth_mhz,
            "model": np.repeat(np.where(height >= costs.macro_min_height_m, "uma", "umi"), 3),
        }
    )
