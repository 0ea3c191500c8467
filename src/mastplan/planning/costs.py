"""Costs and site classes of the planner, as data (the regulator edits a YAML file).

:class:`CostModel` is built from a mapping (see ``data/chongqing/planning_costs.yaml`` for the
default and its sources) and prices one more tenant on a structure: radio equipment plus the
structure's share, discounted when operators share it (China Tower's 2018 pricing).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["NEW_TOWER", "CostModel", "SiteClass"]

#: The kind name of a candidate tower that does not exist yet.
NEW_TOWER = "new_tower"
_STRUCTURE_KINDS = (
    "telecom_tower", "smart_pole", "lamp_pole", "cctv_pole", "traffic_signal_pole", "power_pole",
    "rooftop", NEW_TOWER,
)  # fmt: skip


@dataclass(frozen=True)
class SiteClass:
    """What a site of one class costs, radiates and needs on its structure."""

    name: str
    equipment_cost_yuan: float
    tx_power_dbm: float
    mount_positions: int
    payload_kg: float
    power_kw: float
    electrical_tilts_deg: tuple[float, ...]


@dataclass(frozen=True)
class CostModel:
    """Structure costs by kind, sharing discounts and site classes (all money in yuan)."""

    structure_cost_yuan: dict[str, float]
    sharing_discount: dict[int, float]
    anchor_tenant_markup: float
    macro_min_height_m: float
    macro: SiteClass
    small_cell: SiteClass
    azimuth_rotations_deg: tuple[float, ...]
    new_tower_height_m: float
    new_tower_spacing_m: float
    new_tower_owner: str
    new_tower_mount_positions: int
    new_tower_max_payload_kg: float
    new_tower_available_power_kw: float
    source: str = "<mapping>"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "<mapping>") -> CostModel:
        """Validate and build; errors name the source and the key."""

        def need(mapping: Any, key: str, where: str) -> Any:
            if not isinstance(mapping, Mapping) or key not in mapping:
                raise ValueError(f"{source}: missing {where}{key}")
            return mapping[key]

        def number(value: Any, where: str, low: float = 0.0, high: float = float("inf")) -> float:
            try:
                x = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{source}: {where} must be a number, got {value!r}") from None
            if not (np.isfinite(x) and low <= x <= high):
                raise ValueError(f"{source}: {where} must lie in [{low}, {high}], got {x}")
            return x

        raw_costs = need(data, "structure_cost_yuan", "")
        costs = {
            k: number(need(raw_costs, k, "structure_cost_yuan."), f"structure_cost_yuan.{k}")
            for k in _STRUCTURE_KINDS
        }
        unknown = set(raw_costs) - set(_STRUCTURE_KINDS)
        if unknown:
            raise ValueError(f"{source}: unknown structure kind(s) {sorted(unknown)}")
        discounts: dict[int, float] = {}
        for k, v in dict(need(data, "sharing_discount", "")).items():
            if int(k) < 2:
                raise ValueError(f"{source}: sharing_discount keys are tenant counts >= 2")
            discounts[int(k)] = number(v, f"sharing_discount.{k}", 0.0, 1.0)

        def site_class(name: str) -> SiteClass:
            raw = need(need(data, "site_classes", ""), name, "site_classes.")
            where = f"site_classes.{name}."
            tilts = tuple(
                number(t, f"{where}electrical_tilts_deg", -20.0, 30.0)
                for t in need(raw, "electrical_tilts_deg", where)
            )
            if not tilts:
                raise ValueError(f"{source}: {where}electrical_tilts_deg is empty")
            return SiteClass(
                name=name,
                equipment_cost_yuan=number(need(raw, "equipment_cost_yuan", where),
                                           f"{where}equipment_cost_yuan"),
                tx_power_dbm=number(need(raw, "tx_power_dbm", where), f"{where}tx_power_dbm",
                                    0.0, 80.0),
                mount_positions=int(number(need(raw, "mount_positions", where),
                                           f"{where}mount_positions", 1, 100)),
                payload_kg=number(need(raw, "payload_kg", where), f"{where}payload_kg"),
                power_kw=number(need(raw, "power_kw", where), f"{where}power_kw"),
                electrical_tilts_deg=tilts,
            )  # fmt: skip

        tower = need(data, "new_tower", "")
        rotations = tuple(
            number(r, "azimuth_rotations_deg", 0.0, 120.0)
            for r in need(data, "azimuth_rotations_deg", "")
        )
        if not rotations:
            raise ValueError(f"{source}: azimuth_rotations_deg is empty")
        return cls(
            structure_cost_yuan=costs,
            sharing_discount=dict(sorted(discounts.items())),
            anchor_tenant_markup=number(need(data, "anchor_tenant_markup", ""),
                                        "anchor_tenant_markup", 0.0, 1.0),
            macro_min_height_m=number(need(data, "macro_min_height_m", ""), "macro_min_height_m"),
            macro=site_class("macro"),
            small_cell=site_class("small_cell"),
            azimuth_rotations_deg=rotations,
            new_tower_height_m=number(need(tower, "height_m", "new_tower."),
                                      "new_tower.height_m", 1.0, 300.0),
            new_tower_spacing_m=number(need(tower, "spacing_m", "new_tower."),
                                       "new_tower.spacing_m", 10.0, 100_000.0),
            new_tower_owner=str(need(tower, "owner", "new_tower.")),
            new_tower_mount_positions=int(number(need(tower, "mount_positions", "new_tower."),
                                                 "new_tower.mount_positions", 1, 100)),
            new_tower_max_payload_kg=number(need(tower, "max_payload_kg", "new_tower."),
                                            "new_tower.max_payload_kg"),
            new_tower_available_power_kw=number(need(tower, "available_power_kw", "new_tower."),
                                                "new_tower.available_power_kw"),
            source=source,
        )  # fmt: skip

    def to_json(self) -> str:
        """The model as JSON (its fields as they are: :meth:`from_json` reads it back)."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CostModel:
        """The model :meth:`to_json` wrote (already validated when it was first built)."""
        d = json.loads(text)

        def site_class(c: dict[str, Any]) -> SiteClass:
            return SiteClass(**{**c, "electrical_tilts_deg": tuple(c["electrical_tilts_deg"])})

        return cls(**{
            **d,
            "sharing_discount": {int(k): v for k, v in d["sharing_discount"].items()},
            "macro": site_class(d["macro"]), "small_cell": site_class(d["small_cell"]),
            "azimuth_rotations_deg": tuple(d["azimuth_rotations_deg"]),
        })  # fmt: skip

    def discount(self, n_tenants: np.ndarray | int) -> np.ndarray:
        """Sharing discount for ``n_tenants`` on one structure (the largest tier reached)."""
        n = np.asarray(n_tenants)
        out = np.zeros(n.shape)
        for tenants, d in self.sharing_discount.items():
            out = np.where(n >= tenants, d, out)
        return out

    def structure_payments_yuan(self, kind: np.ndarray, n_tenants: np.ndarray) -> np.ndarray:
        """What ``n_tenants`` operators pay together for a structure (each its discounted share)."""
        base = self.base_cost_yuan(kind)
        n = np.asarray(n_tenants, float)
        return base * n * (1.0 - self.discount(n))

    def base_cost_yuan(self, kind: np.ndarray) -> np.ndarray:
        """The structure cost of each kind (``new_tower`` for candidates not built yet)."""
        kind = np.asarray(kind, dtype=object)
        out = np.array([self.structure_cost_yuan.get(str(k), np.nan) for k in kind.ravel()])
        if np.isnan(out).any():
            bad = sorted({str(k) for k in kind.ravel() if str(k) not in self.structure_cost_yuan})
            raise ValueError(f"{self.source}: no cost for structure kind(s) {bad}")
        return out.reshape(kind.shape)

    def site_class_of(self, height_m: np.ndarray) -> np.ndarray:
        """``"macro"`` at or above :attr:`macro_min_height_m`, else ``"small_cell"``."""
        return np.where(np.asarray(height_m) >= self.macro_min_height_m, "macro", "small_cell")

    def classes(self) -> dict[str, SiteClass]:
        return {"macro": self.macro, "small_cell": self.small_cell}

    def equipment_cost_yuan(self, height_m: np.ndarray) -> np.ndarray:
        """The radio equipment of a site of the class its structure's height gives."""
        cls = self.site_class_of(height_m)
        return np.where(
            cls == "macro", self.macro.equipment_cost_yuan, self.small_cell.equipment_cost_yuan
        )

    def structure_increase_yuan(self, kind: np.ndarray, tenants_before: np.ndarray) -> np.ndarray:
        """How much the structure payments grow when one more operator joins (``tenants_before``
        → one more), with the anchor markup for the first tenant of a new tower."""
        n = np.asarray(tenants_before, float)
        kind = np.asarray(kind, dtype=object)
        structure = self.structure_payments_yuan(kind, n + 1) - self.structure_payments_yuan(
            kind, n
        )
        anchor = (kind == NEW_TOWER) & (n == 0)
        return np.where(anchor, structure * (1.0 + self.anchor_tenant_markup), structure)

    def tenant_cost_yuan(
        self, kind: np.ndarray, height_m: np.ndarray, tenants_before: np.ndarray
    ) -> np.ndarray:
        """What one more operator pays to put a site on each structure: its radio equipment plus
        the increase of the structure payments (``tenants_before`` → one more), with the anchor
        markup for the first tenant of a new tower."""
        return self.equipment_cost_yuan(height_m) + self.structure_increase_yuan(
            kind, tenants_before
        )

    def joint_payments_yuan(
        self, kind: np.ndarray, tenants_before: np.ndarray, capacity: np.ndarray, k_max: int
    ) -> np.ndarray:
        """``(n, k_max + 1)``: how much the payments of each structure grow when ``k`` more
        operators join it together (``k`` = 0 … ``k_max``); NaN beyond its ``capacity`` (sites).
        One operator alone pays exactly :meth:`structure_increase_yuan`."""
        kind = np.asarray(kind, dtype=object)
        t0 = np.asarray(tenants_before, float)
        steps = [self.structure_increase_yuan(kind, t0 + i) for i in range(k_max)]
        out = np.zeros((len(kind), k_max + 1))
        if k_max:
            out[:, 1:] = np.cumsum(np.column_stack(steps), axis=1)
        k = np.arange(k_max + 1)
        return np.where(k[None, :] <= np.asarray(capacity)[:, None], out, np.nan)
