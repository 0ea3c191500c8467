"""The plan's KPIs: definitions as data (``data/chongqing/kpis.yaml``), values at any date.

:class:`KpiData` reads the dated facts once (sites' on-air and retirement dates, structures,
tenancies, coverage results, the request history of the audit log, cases, scenarios,
enterprises, reported figures, population); the measures are pure functions of those frames,
a scope (``city``, a district code, ``phase:2019``) and a day, so a time series costs one read.
:func:`snapshot_kpis` keeps the values of a day in ``kpi_snapshots``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mastplan.data.plan import load_district_population, load_targets
from mastplan.errors import MastplanError
from mastplan.progress.coverage_results import meets_targets
from mastplan.progress.models import (
    ApplicationScenario,
    CoverageResult,
    Enterprise,
    KpiSnapshot,
    ReportedFigure,
)
from mastplan.registry.audit import Actor, record
from mastplan.registry.db import transaction
from mastplan.registry.enums import AWAITING_ANSWER, KeyAreaCategory, StructureKind, plain
from mastplan.registry.models import (
    AuditEntry,
    District,
    KeyArea,
    SharingCase,
    SharingRequest,
    Site,
    Structure,
    Tenancy,
)
from mastplan.sharing.calendar import CST

__all__ = [
    "KpiData",
    "KpiSpec",
    "KpiValue",
    "compute",
    "compute_all",
    "load_kpis",
    "scopes_of",
    "series",
    "snapshot_kpis",
]

DEFAULT_KPIS = Path(__file__).resolve().parents[1] / "data" / "chongqing" / "kpis.yaml"
UNITS = ("count", "fraction", "ratio", "per_10k", "yuan")
SCOPE_KINDS = ("city", "district", "phase")
SOCIAL_KINDS = frozenset(k.value for k in StructureKind) - {StructureKind.TELECOM_TOWER.value}


@dataclass(frozen=True)
class Target:
    """A value to reach (``>`` or ``>=``) by the end of a year (``None``: the phase's year)."""

    value: float
    comparator: str
    year: int | None

    def met_by(self, actual: float | None) -> bool | None:
        if actual is None or np.isnan(actual):
            return None
        return actual > self.value if self.comparator == ">" else actual >= self.value


@dataclass(frozen=True)
class KpiSpec:
    """One KPI's definition (see the module doc and the YAML file)."""

    id: str
    name_zh: str
    name_en: str
    unit: str
    definition_zh: str
    definition_en: str
    measure: str
    scopes: tuple[str, ...]
    targets: dict[str, Target] = field(default_factory=dict)
    reference: dict[str, Any] | None = None

    def target_for(self, scope: str) -> Target | None:
        """The target of ``scope`` (a phase's year filled in), or ``None``."""
        kind = scope_kind(scope)
        t = self.targets.get(kind)
        if t is None:
            return None
        if t.year is None:
            return Target(t.value, t.comparator, int(scope.split(":", 1)[1]))
        return t


@dataclass(frozen=True)
class KpiValue:
    """A KPI's value for a scope on a day, with what it was made of and its target."""

    kpi: str
    scope: str
    as_of: dt.date
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    target: Target | None = None
    met: bool | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def scope_kind(scope: str) -> str:
    """``city``, ``district`` (a six-digit code) or ``phase`` (``phase:YEAR``)."""
    if scope == "city":
        return "city"
    if scope.startswith("phase:") and scope[6:].isdigit():
        return "phase"
    if len(scope) == 6 and scope.isdigit():
        return "district"
    raise MastplanError(f"unknown KPI scope {scope!r}: city, a district code or phase:YEAR")


# --- definitions --------------------------------------------------------------------------------


def load_kpis(path: str | Path | None = None) -> tuple[str, tuple[KpiSpec, ...]]:
    """The KPI definitions of ``path`` (default: the packaged Chongqing file) and its version."""
    path = Path(path) if path is not None else DEFAULT_KPIS
    return _load(str(path))


@lru_cache(maxsize=4)
def _load(path: str) -> tuple[str, tuple[KpiSpec, ...]]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise MastplanError(f"{path}: cannot read the KPI definitions: {exc.strerror}") from None
    plan = {t.id: t for t in load_targets()}

    def fail(where: str, why: str) -> MastplanError:
        return MastplanError(f"{path}: {where}: {why}")

    if not isinstance(data, dict) or "kpis" not in data or "version" not in data:
        raise fail("top level", "needs version and kpis")
    specs, seen = [], set()
    for i, item in enumerate(data["kpis"]):
        where = f"kpis[{i}]"
        missing = [k for k in ("id", "name_zh", "name_en", "unit", "definition_zh",
                               "definition_en", "measure", "scopes") if k not in item]  # fmt: skip
        if missing:
            raise fail(where, f"missing {', '.join(missing)}")
        where = f"kpis.{item['id']}"
        if item["id"] in seen:
            raise fail(where, "duplicate id")
        seen.add(item["id"])
        if item["unit"] not in UNITS:
            raise fail(where, f"unit must be one of {', '.join(UNITS)}")
        if item["measure"] not in MEASURES:
            raise fail(where, f"unknown measure {item['measure']!r}")
        bad = [s for s in item["scopes"] if s not in SCOPE_KINDS]
        if bad:
            raise fail(where, f"unknown scope kinds {bad}")
        targets = {}
        for kind, spec in (item.get("target") or {}).items():
            if kind not in item["scopes"]:
                raise fail(f"{where}.target.{kind}", "not one of the KPI's scopes")
            if "plan_target" in spec:
                t = plan.get(spec["plan_target"])
                if t is None or t.value is None:
                    raise fail(f"{where}.target.{kind}", f"no quantified plan target "
                                                         f"{spec['plan_target']!r}")  # fmt: skip
                targets[kind] = Target(float(t.value), t.comparator, int(t.year))
            else:
                if spec.get("comparator") not in (">", ">="):
                    raise fail(f"{where}.target.{kind}", "comparator must be > or >=")
                year = None if spec.get("year") == "phase" else int(spec["year"])
                targets[kind] = Target(float(spec["value"]), spec["comparator"], year)
        specs.append(KpiSpec(
            id=item["id"], name_zh=item["name_zh"], name_en=item["name_en"], unit=item["unit"],
            definition_zh=" ".join(str(item["definition_zh"]).split()),
            definition_en=" ".join(str(item["definition_en"]).split()),
            measure=item["measure"], scopes=tuple(item["scopes"]), targets=targets,
            reference=item.get("reference"),
        ))  # fmt: skip
    return str(data["version"]), tuple(specs)


# --- the facts, read once -----------------------------------------------------------------------


def _day(values: pd.Series) -> pd.Series:
    """Dates or aware timestamps → naive days (China Standard Time for timestamps)."""
    s = pd.Series(values)
    if s.empty:
        return pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    if isinstance(s.iloc[0], dt.datetime) or isinstance(s.dtype, pd.DatetimeTZDtype):
        s = pd.to_datetime(s, utc=True).dt.tz_convert(CST).dt.tz_localize(None).dt.normalize()
        return s
    return pd.to_datetime(s)


def _frame(session: Session, query) -> pd.DataFrame:
    return pd.DataFrame(session.execute(query).all(), columns=list(query.selected_columns.keys()))


class KpiData:
    """The registry's dated facts as frames; the measures read only these."""

    def __init__(self, session: Session) -> None:
        sites = _frame(session, select(Site.id, Site.rat, Site.status, Site.district_code,
                                       Site.structure_id, Site.on_air_on, Site.retired_on,
                                       Site.created_at))  # fmt: skip
        created = _day(sites.pop("created_at"))
        sites["rat"] = sites["rat"].map(plain)
        on_air_now = sites["status"].map(plain) == "on_air"
        since = _day(sites["on_air_on"])
        sites["since"] = since.where(since.notna() | ~on_air_now, created)
        sites["retired_on"] = _day(sites["retired_on"])
        self.sites = sites
        self.structures = _frame(session, select(Structure.id, Structure.kind,
                                                 Structure.district_code))  # fmt: skip
        self.structures["kind"] = self.structures["kind"].map(plain)
        ten = _frame(session, select(Tenancy.structure_id, Tenancy.start_on, Tenancy.end_on,
                                     Tenancy.created_at))  # fmt: skip
        start = _day(ten["start_on"])
        ten["start_on"] = start.where(start.notna(), _day(ten["created_at"]))
        ten["end_on"] = _day(ten["end_on"])
        self.tenancies = ten.merge(self.structures[["id", "district_code"]], how="left",
                                   left_on="structure_id", right_on="id")  # fmt: skip
        ka = _frame(session, select(KeyArea.id, KeyArea.code, KeyArea.category,
                                    KeyArea.phase_year, KeyArea.district_code,
                                    KeyArea.target_coverage_fraction,
                                    KeyArea.target_continuity_fraction))  # fmt: skip
        ka["category"] = ka["category"].map(plain)
        self.key_areas = ka
        cov = _frame(session, select(CoverageResult.key_area_id, CoverageResult.as_of,
                                     CoverageResult.computed_at, CoverageResult.covered_fraction,
                                     CoverageResult.continuity_fraction,
                                     CoverageResult.operator))  # fmt: skip
        cov = cov[cov["operator"].isna()]  # all operators together: the network's coverage
        cov["as_of"] = _day(cov["as_of"])
        self.coverage = cov.sort_values(["as_of", "computed_at"])
        self.requests = self._request_history(session)
        cases = _frame(session, select(SharingCase.id, SharingCase.kind, SharingCase.opened_at,
                                       SharingCase.decided_at, Structure.district_code)
                       .join(SharingRequest, SharingCase.request_id == SharingRequest.id)
                       .join(Structure, SharingRequest.structure_id == Structure.id))  # fmt: skip
        cases["opened_on"] = _day(cases["opened_at"])
        cases["decided_on"] = _day(cases["decided_at"])
        self.cases = cases
        sc = _frame(session, select(ApplicationScenario.district_code,
                                    ApplicationScenario.in_operation_on,
                                    ApplicationScenario.ended_on,
                                    ApplicationScenario.demo))  # fmt: skip
        sc["in_operation_on"] = _day(sc["in_operation_on"])
        sc["ended_on"] = _day(sc["ended_on"])
        self.scenarios = sc
        ent = _frame(session, select(Enterprise.district_code, Enterprise.innovative,
                                     Enterprise.registered_on, Enterprise.demo))  # fmt: skip
        ent["registered_on"] = _day(ent["registered_on"])
        self.enterprises = ent
        self.figures = _frame(session, select(ReportedFigure.indicator, ReportedFigure.year,
                                              ReportedFigure.scope, ReportedFigure.value,
                                              ReportedFigure.demo))  # fmt: skip
        pop = _frame(session, select(District.code, District.population))
        self.population = {c: float(p) for c, p in zip(pop["code"], pop["population"],
                                                        strict=True) if pd.notna(p)}  # fmt: skip
        total = load_district_population().city_total
        self.city_population = float(total) if total else None

    def _request_history(self, session: Session) -> pd.DataFrame:
        """Each request's state after each of its audited writes, with the day it was made."""
        rows = session.execute(
            select(AuditEntry.entity_id, AuditEntry.at, AuditEntry.after)
            .where(AuditEntry.entity == "sharing_requests")
            .order_by(AuditEntry.id)
        ).all()
        hist = pd.DataFrame(
            [(int(e), at, a["state"]) for e, at, a in rows if a and "state" in a],
            columns=["request_id", "at", "state"],
        )
        hist["day"] = _day(hist["at"])
        where = _frame(session, select(SharingRequest.id, Structure.district_code)
                       .join(Structure, SharingRequest.structure_id == Structure.id))  # fmt: skip
        return hist.merge(where, how="left", left_on="request_id", right_on="id")


# --- measures: (data, scope, day) -> (value, numerator, denominator, detail) ---------------------

Measured = tuple[float | None, float | None, float | None, dict[str, Any]]


def _in(frame: pd.DataFrame, scope: str, column: str = "district_code") -> pd.DataFrame:
    kind = scope_kind(scope)
    if kind == "district":
        return frame[frame[column] == scope]
    return frame


def _ratio(num: float, den: float, detail: dict[str, Any] | None = None) -> Measured:
    return (num / den if den else None), num, den, detail or {}


def _on_air(data: KpiData, scope: str, day: pd.Timestamp) -> pd.DataFrame:
    s = _in(data.sites, scope)
    live = (s["rat"] == "nr") & (s["since"] <= day)
    live &= s["retired_on"].isna() | (s["retired_on"] > day)
    return s[live]


def base_stations(data: KpiData, scope: str, day: pd.Timestamp) -> Measured:
    n = float(len(_on_air(data, scope, day)))
    return n, n, None, {}


def base_stations_per_10k(data: KpiData, scope: str, day: pd.Timestamp) -> Measured:
    pop = data.city_population if scope == "city" else data.population.get(scope)
    n = float(len(_on_air(data, scope, day)))
    if not pop:
        return None, n, None, {"why": "population unknown"}
    return n / pop * 10_000, n, pop, {}


def _covered(data: KpiData, areas: pd.DataFrame, day: pd.Timestamp) -> Measured:
    if areas.empty:
        return None, 0.0, 0.0, {"why": "no key areas in scope"}
    cov = data.coverage[data.coverage["as_of"] <= day]
    latest = cov.groupby("key_area_id").last()
    joined = areas.join(latest, on="id")
    ok = meets_targets(
        joined["covered_fraction"],
        joined["continuity_fraction"],
        joined["target_coverage_fraction"],
        joined["target_continuity_fraction"],
    )
    detail = {
        "covered": sorted(joined.loc[ok, "code"]),
        "not_covered": sorted(joined.loc[~ok & joined["covered_fraction"].notna(), "code"]),
        "no_result": sorted(joined.loc[joined["covered_fraction"].isna(), "code"]),
    }
    return _ratio(float(ok.sum()), float(len(joined)), detail)


def key_areas_covered(data: KpiData, scope: str, day: pd.Timestamp) -> Measured:
    areas = data.key_areas
    if scope_kind(scope) == "phase":
        areas = areas[areas["phase_year"] == int(scope[6:])]
    else:
        areas = _in(areas, scope)
    return _covered(data, areas, day)


def district_urban_areas_covered(data: KpiData, scope: str, day: pd.Timestamp) -> Measured:
    areas = _in(data.key_areas, scope)
    return _covered(data, areas[areas["category"] == KeyAreaCategory.DISTRICT_URBAN_AREA], day)


def shared_or_social_share(data: KpiData, scope: str, day: pd.Timestamp) -> Measured:
    live = _on_air(data, scope, day)
    if live.empty:
        return None, 0.0, 0.0, {}
    kinds = data.structures.set_index("id")["kind"]
    social = live["structure_id"].map(kinds).isin(SOCIAL_KINDS)
    # a tower that carried another site before this one went on air
    others = data.sites[data.sites["structure_id"].notna()]
    pairs = others.merge(live[["id", "structure_id", "since"]], on="structure_id",
                         suffixes=("", "_live"))  # fmt: skip
    before = (pairs["id"] != pairs["id_live"]) & (pairs["since"] < pairs["since_live"])
    existing = live["id"].isin(pairs.loc[before, "id_live"])
    n = float((social | existing).sum())
    detail = {"social": int(social.sum()), "existing_tower": int((existing & ~social).sum())}
    return _ratio(n, float(len(live)), detail)


def tenants_per_structure(data: KpiData, scope: str, day: pd.Timestamp) -> Measured:
    t = _in(data.tenancies, scope)
    live = t[(t["start_on"] <= day) & (t["end_on"].isna() | (t["end_on"] > day))]
    return _ratio(float(len(live)), float(live["structure_id"].nunique()))


def open_sharing_requests(data: KpiData, scope: str, day: pd.Timestamp) -> Measured:
    h = _in(data.requests, scope)
    h = h[h["day"] <= day]
    state = h.groupby("request_id")["state"].last()
    n = float(state.isin([s.value for s in AWAITING_ANSWER]).sum())
    return n, n, None, {}


def open_cases(data: KpiData, scope: str, day: pd.Timestamp) -> Measured:
    c = _in(data.cases, scope)
    live = c[(c["opened_on"] <= day) & (c["decided_on"].isna() | (c["decided_on"] > day))]
    kinds = live["kind"].map(plain).value_counts().to_dict()
    return float(len(live)), float(len(live)), None, {"by_kind": kinds}


def application_scenarios(data: KpiData, scope: str, day: pd.Timestamp) -> Measured:
    s = _in(data.scenarios, scope)
    live = (s["in_operation_on"] <= day) & (s["ended_on"].isna() | (s["ended_on"] > day))
    n = float(live.sum())
    return n, n, None, {"demo": int(s.loc[live, "demo"].sum())}


def innovative_enterprises(data: KpiData, scope: str, day: pd.Timestamp) -> Measured:
    e = _in(data.enterprises, scope)
    live = e["innovative"].astype(bool) & (e["registered_on"] <= day)
    n = float(live.sum())
    return n, n, None, {"demo": int(e.loc[live, "demo"].sum())}


def industry_revenue(data: KpiData, scope: str, day: pd.Timestamp) -> Measured:
    f = data.figures
    f = f[(f["indicator"] == "5g-industry-revenue") & (f["scope"] == scope)
          & (f["year"] <= day.year)]  # fmt: skip
    if f.empty:
        return None, None, None, {"why": "no figure reported"}
    row = f.sort_values("year").iloc[-1]
    return float(row["value"]), None, None, {"year": int(row["year"]), "demo": bool(row["demo"])}


MEASURES: dict[str, Callable[[KpiData, str, pd.Timestamp], Measured]] = {
    f.__name__: f
    for f in (base_stations, base_stations_per_10k, key_areas_covered,
              district_urban_areas_covered, shared_or_social_share, tenants_per_structure,
              open_sharing_requests, open_cases, application_scenarios, innovative_enterprises,
              industry_revenue)
}  # fmt: skip


# --- values, series, snapshots ------------------------------------------------------------------


def compute(data: KpiData, spec: KpiSpec, scope: str, day: dt.date) -> KpiValue:
    """``spec``'s value for ``scope`` on ``day``."""
    if scope_kind(scope) not in spec.scopes:
        raise MastplanError(f"KPI {spec.id} has no {scope_kind(scope)} scope ({scope})")
    value, num, den, detail = MEASURES[spec.measure](data, scope, pd.Timestamp(day))
    target = spec.target_for(scope)
    return KpiValue(spec.id, scope, day, value, num, den, target,
                    target.met_by(value) if target else None, detail)  # fmt: skip


def scopes_of(spec: KpiSpec, data: KpiData) -> list[str]:
    """Every scope ``spec`` is computed for: the city, each district, each phase year."""
    out = []
    if "city" in spec.scopes:
        out.append("city")
    if "phase" in spec.scopes:
        out += [f"phase:{y}" for y in sorted(data.key_areas["phase_year"].unique())]
    if "district" in spec.scopes:
        out += sorted(data.population.keys() | set(data.key_areas["district_code"]))
    return out


def compute_all(
    data: KpiData, specs: Sequence[KpiSpec], day: dt.date, scopes: Iterable[str] | None = None
) -> list[KpiValue]:
    """Every KPI for every scope it has (or for ``scopes``) on ``day``."""
    wanted = None if scopes is None else set(scopes)
    return [
        compute(data, spec, scope, day)
        for spec in specs
        for scope in scopes_of(spec, data)
        if wanted is None or scope in wanted
    ]


def series(data: KpiData, spec: KpiSpec, scope: str, days: Sequence[dt.date]) -> list[KpiValue]:
    """``spec``'s values for ``scope`` on each of ``days`` (a progress line)."""
    return [compute(data, spec, scope, d) for d in days]


def quarter_ends(start: dt.date, end: dt.date) -> list[dt.date]:
    """The last days of the quarters from ``start``'s to ``end``'s, and ``end`` itself."""
    days = [d.date() for d in pd.date_range(start, end, freq="QE")]
    return [*days, end] if not days or days[-1] != end else days


def snapshot_kpis(
    session: Session, actor: Actor, day: dt.date, path: str | Path | None = None
) -> list[KpiSnapshot]:
    """Compute every KPI for every scope on ``day`` and keep the values (replacing an earlier
    snapshot of the same day), in one transaction with one audit entry."""
    version, specs = load_kpis(path)
    data = KpiData(session)
    values = compute_all(data, specs, day)
    with transaction(session):
        session.execute(delete(KpiSnapshot).where(KpiSnapshot.as_of == day))
        rows = [
            KpiSnapshot(
                kpi=v.kpi, scope=v.scope, as_of=day, value=v.value,
                target=v.target.value if v.target else None, met=v.met,
                detail={"numerator": v.numerator, "denominator": v.denominator, **v.detail},
                definitions_version=version,
            )
            for v in values
        ]  # fmt: skip
        session.add_all(rows)
        session.flush()
        record(session, actor, "snapshot", "kpi_snapshots", day.isoformat(),
               after={"kpis": len(specs), "values": len(rows), "definitions": version})  # fmt: skip
    return rows
