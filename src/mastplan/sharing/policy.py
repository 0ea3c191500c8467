"""The fee policy of sharing (共建共享) as data, and the check of an operator's fee offer.

The regulator edits and versions a YAML file (default: ``data/chongqing/fee_policy.yaml``):
allowed fee items with their caps (space rent by height band, electricity at cost under a price
cap, maintenance), prohibited items (进场费, 协调费, 分摊费 — and any item not on the allowed
list), the sharing discounts, the owners' answer deadline in working days, and the public
facilities the plan opens free of charge. :func:`check_offer` names every rule an offer breaks;
an offer with a violation cannot be approved. Pure: mappings and numbers in, violations out.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mastplan.errors import MastplanError
from mastplan.io.yaml_files import load_yaml

__all__ = ["FeeItem", "FeePolicy", "Violation", "check_offer", "load_fee_policy"]

#: Environment variable naming the fee policy file a deployment uses.
FEE_POLICY_ENV = "MASTPLAN_FEE_POLICY"
DEFAULT_POLICY = Path(__file__).resolve().parents[1] / "data" / "chongqing" / "fee_policy.yaml"


@dataclass(frozen=True)
class FeeItem:
    """One line of a fee offer: an item of the policy and its amount in the item's unit."""

    item: str
    amount: float


@dataclass(frozen=True)
class Violation:
    """A rule an offer breaks: the rule's id, the item, and a sentence naming both."""

    rule: str
    item: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class _Allowed:
    name_zh: str
    name_en: str
    unit: str
    max_yuan: float | None = None
    bands: tuple[tuple[float | None, float], ...] = ()  # (below_m or None, max_yuan)


@dataclass(frozen=True)
class FeePolicy:
    """A version of the fee policy (see the module doc); build with :meth:`from_mapping`."""

    name: str
    version: str
    effective_from: dt.date
    answer_within_working_days: int
    sharing_discount: dict[int, float]
    anchor_tenant_markup: float
    allowed: dict[str, _Allowed]
    prohibited: dict[str, tuple[str, str]]
    free_owner_kinds: frozenset[str]
    free_structure_kinds: frozenset[str]
    free_items: frozenset[str]
    source: str = "<mapping>"

    @classmethod
    def from_mapping(cls, data: Any, source: str = "<mapping>") -> FeePolicy:
        """Validate and build; every error names ``source`` and the key."""

        def fail(where: str, why: str) -> MastplanError:
            return MastplanError(f"{source}: {where}: {why}")

        def need(mapping: Any, key: str, where: str) -> Any:
            if not isinstance(mapping, Mapping):
                raise fail(where, "must be a mapping")
            if key not in mapping:
                raise fail(f"{where}.{key}" if where else key, "missing")
            return mapping[key]

        def number(value: Any, where: str, low: float = 0.0, high: float = float("inf")) -> float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise fail(where, f"must be a number, got {value!r}")
            if not (low <= float(value) <= high):
                raise fail(where, f"must be between {low:g} and {high:g}, got {value!r}")
            return float(value)

        def names(mapping: Any, where: str) -> tuple[str, str]:
            return (str(need(mapping, "name_zh", where)), str(need(mapping, "name_en", where)))

        effective = need(data, "effective_from", "")
        if not isinstance(effective, dt.date):
            raise fail("effective_from", f"must be a date (YYYY-MM-DD), got {effective!r}")
        days = need(data, "answer_within_working_days", "")
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise fail("answer_within_working_days", f"must be a whole number >= 1, got {days!r}")
        discounts = need(data, "sharing_discount", "")
        if not isinstance(discounts, Mapping) or not discounts:
            raise fail("sharing_discount", "must map numbers of sharers to discounts")
        sharing = {}
        for k, v in discounts.items():
            if isinstance(k, bool) or not isinstance(k, int) or k < 2:
                raise fail("sharing_discount", f"sharer counts must be whole numbers >= 2: {k!r}")
            sharing[k] = number(v, f"sharing_discount.{k}", 0.0, 1.0)

        allowed: dict[str, _Allowed] = {}
        items = need(data, "allowed_items", "")
        if not isinstance(items, Mapping) or not items:
            raise fail("allowed_items", "must be a non-empty mapping")
        for item, spec in items.items():
            where = f"allowed_items.{item}"
            zh, en = names(spec, where)
            unit = str(need(spec, "unit", where))
            cap_keys = [
                k for k in ("max_yuan", "max_yuan_per_kwh", "max_by_height_band") if k in spec
            ]
            if len(cap_keys) != 1:
                raise fail(where, "give exactly one cap: max_yuan, max_yuan_per_kwh or "
                                  "max_by_height_band")  # fmt: skip
            if cap_keys[0] == "max_by_height_band":
                bands = _bands(spec["max_by_height_band"], f"{where}.max_by_height_band", fail,
                               number)  # fmt: skip
                allowed[str(item)] = _Allowed(zh, en, unit, bands=bands)
            else:
                cap = number(spec[cap_keys[0]], f"{where}.{cap_keys[0]}")
                allowed[str(item)] = _Allowed(zh, en, unit, max_yuan=cap)

        prohibited = {}
        for item, spec in (need(data, "prohibited_items", "") or {}).items():
            if str(item) in allowed:
                raise fail(f"prohibited_items.{item}", "is also an allowed item")
            prohibited[str(item)] = names(spec, f"prohibited_items.{item}")

        free = need(data, "free_public_facilities", "")
        free_items = frozenset(str(i) for i in need(free, "free_items", "free_public_facilities"))
        unknown = sorted(free_items - set(allowed))
        if unknown:
            raise fail("free_public_facilities.free_items", f"not allowed items: {unknown}")
        return cls(
            name=str(need(data, "policy", "")),
            version=str(need(data, "version", "")),
            effective_from=effective,
            answer_within_working_days=days,
            sharing_discount=dict(sorted(sharing.items())),
            anchor_tenant_markup=number(
                need(data, "anchor_tenant_markup", ""), "anchor_tenant_markup", 0.0, 1.0
            ),
            allowed=allowed,
            prohibited=prohibited,
            free_owner_kinds=frozenset(
                str(k) for k in need(free, "owner_kinds", "free_public_facilities")
            ),
            free_structure_kinds=frozenset(
                str(k) for k in need(free, "structure_kinds", "free_public_facilities")
            ),
            free_items=free_items,
            source=source,
        )

    def discount(self, sharers: int) -> float:
        """The sharing discount for ``sharers`` operators on one structure (largest tier)."""
        return max((d for k, d in self.sharing_discount.items() if sharers >= k), default=0.0)

    def is_free_facility(self, owner_kind: str, structure_kind: str) -> bool:
        """Whether the plan opens this structure free of charge (public facility)."""
        return owner_kind in self.free_owner_kinds and structure_kind in self.free_structure_kinds

    def cap_yuan(self, item: str, height_m: float | None = None) -> float:
        """The most ``item`` may cost in its unit (for a mount at ``height_m`` when banded)."""
        spec = self.allowed[item]
        if not spec.bands:
            return float(spec.max_yuan)  # type: ignore[arg-type]
        if height_m is None:
            raise ValueError(f"{item} is capped by height band: give the mount height")
        for below, cap in spec.bands:
            if below is None or height_m < below:
                return cap
        raise AssertionError("the last band is open")  # pragma: no cover - validated


def _bands(value: Any, where: str, fail, number) -> tuple[tuple[float | None, float], ...]:
    if not isinstance(value, Sequence) or not value:
        raise fail(where, "must be a non-empty list of {below_m, max_yuan}")
    out: list[tuple[float | None, float]] = []
    for i, band in enumerate(value):
        if not isinstance(band, Mapping) or "below_m" not in band or "max_yuan" not in band:
            raise fail(f"{where}[{i}]", "must have below_m and max_yuan")
        below = band["below_m"]
        below = None if below is None else number(below, f"{where}[{i}].below_m")
        out.append((below, number(band["max_yuan"], f"{where}[{i}].max_yuan")))
    limits = [b for b, _ in out]
    if limits[-1] is not None or any(b is None for b in limits[:-1]):
        raise fail(where, "only the last band is open (below_m: null), and it must be there")
    if any(a >= b for a, b in itertools.pairwise(limits[:-1])):
        raise fail(where, "bands must go up in height")
    return tuple(out)


def load_fee_policy(path: str | Path | None = None) -> FeePolicy:
    """The fee policy of ``path``, else of the file ``MASTPLAN_FEE_POLICY`` names, else the
    packaged Chongqing policy."""
    path = Path(path or os.environ.get(FEE_POLICY_ENV) or DEFAULT_POLICY)
    return FeePolicy.from_mapping(load_yaml(path, "the fee policy"), str(path))


def check_offer(
    policy: FeePolicy,
    items: Sequence[FeeItem],
    *,
    height_m: float,
    owner_kind: str,
    structure_kind: str,
) -> list[Violation]:
    """Every rule of ``policy`` the fee offer ``items`` breaks (empty: the offer is allowed).

    ``height_m`` is the highest mount position asked for (it sets the rent band);
    ``owner_kind`` and ``structure_kind`` tell whether the structure is a public facility the
    plan opens free of charge.
    """
    out: list[Violation] = []
    seen: set[str] = set()
    free = policy.is_free_facility(owner_kind, structure_kind)
    tag = f"{policy.name} {policy.version}"
    for line in items:
        item, amount = line.item, float(line.amount)
        if item in seen:
            out.append(Violation("duplicate_item", item, f"{item} is offered twice ({tag})"))
            continue
        seen.add(item)
        if item in policy.prohibited:
            zh, en = policy.prohibited[item]
            out.append(Violation("prohibited_item", item,
                                 f"{zh} ({en}) is prohibited by {tag}"))  # fmt: skip
            continue
        if item not in policy.allowed:
            out.append(Violation("unknown_item", item,
                                 f"{item} is not an allowed fee item of {tag} "
                                 f"(allowed: {', '.join(policy.allowed)})"))  # fmt: skip
            continue
        spec = policy.allowed[item]
        if not (amount >= 0) or amount != amount:
            out.append(Violation("negative_amount", item, f"{spec.name_en}: amount {amount:g} "
                                                          "must be >= 0"))  # fmt: skip
            continue
        if free and item in policy.free_items and amount > 0:
            out.append(Violation("free_public_facility", item,
                                 f"{spec.name_zh} ({spec.name_en}) must be 0 on a public "
                                 f"{structure_kind.replace('_', ' ')} the plan opens free of "
                                 f"charge ({tag}); offered {amount:,.2f}"))  # fmt: skip
            continue
        cap = policy.cap_yuan(item, height_m)
        if amount > cap + 1e-9:
            band = f" at {height_m:g} m" if spec.bands else ""
            out.append(Violation("above_cap", item,
                                 f"{spec.name_zh} ({spec.name_en}) {amount:,.2f} exceeds the cap "
                                 f"{cap:,.2f} {spec.unit}{band} ({tag})"))  # fmt: skip
    return out
