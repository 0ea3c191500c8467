"""The demo progress data: fictitious application scenarios, enterprises with revenues, their
links and reported 5G-industry revenue, for trying the registries and the KPIs.

Everything it writes is marked: ``demo = True`` on every scenario, enterprise and figure (and
``synthetic`` on the enterprises' organisations), names prefixed 示例 / "Demo", codes prefixed
``demo-`` and the source "mastplan demo data — fictitious". The YAML goes through the same rules
as an imported file, and loading it again changes nothing.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sqlalchemy.orm import Session

from mastplan.errors import ImportValidationError, MastplanError
from mastplan.progress.enterprises import write_enterprise
from mastplan.progress.figures import write_figure
from mastplan.progress.registry_rules import ProgressLookups, prepare_enterprises, prepare_scenarios
from mastplan.progress.scenarios import write_scenario
from mastplan.registry.audit import Actor, record
from mastplan.registry.db import transaction
from mastplan.registry.fields import RowErrors

__all__ = ["DEMO_FILE", "DEMO_SOURCE", "demo_data", "load_demo_progress"]

DEMO_FILE = "demo_progress.yaml"
DEMO_SOURCE = "mastplan demo data — fictitious"
_PREFIXES = {"code": "demo-", "name_zh": "示例", "name_en": "Demo "}


@cache
def demo_data() -> dict[str, Any]:
    """The demo file's content: ``source``, ``enterprises``, ``scenarios`` and ``figures``."""
    text = (files("mastplan.data.chongqing") / DEMO_FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    for section in ("enterprises", "scenarios"):
        for i, item in enumerate(data.get(section) or [], 1):
            for key, prefix in _PREFIXES.items():
                if not str(item.get(key, "")).startswith(prefix):
                    raise MastplanError(f"{DEMO_FILE}: {section} item {i}: {key} must start with "
                                        f"{prefix.strip()!r}: demo data must look like demo "
                                        "data")  # fmt: skip
    return data


def _frame(items: list[dict[str, Any]], source: str) -> pd.DataFrame:
    rows = []
    for item in items:
        row = {k: v for k, v in item.items() if k not in ("revenue_yuan", "enterprises")}
        for year, value in (item.get("revenue_yuan") or {}).items():
            row[f"revenue_{int(year)}_yuan"] = value
        if "enterprises" in item:
            row["enterprises"] = ";".join(item["enterprises"] or [])
        rows.append({**row, "demo": True, "source": source})
    return pd.DataFrame(rows)


def load_demo_progress(session: Session, actor: Actor) -> dict[str, int]:
    """Upsert the demo scenarios, enterprises, revenues, links and figures in one transaction
    (idempotent: a second run writes nothing new); return counts of what the file holds.

    Needs the districts (``mastplan load chongqing``); a problem in the file raises
    :class:`~mastplan.errors.ImportValidationError` naming item, row and field.
    """
    data = demo_data()
    source = data.get("source") or DEMO_SOURCE
    enterprises = data.get("enterprises") or []
    scenarios = data.get("scenarios") or []
    figures = data.get("figures") or []
    with transaction(session):
        lookups = ProgressLookups.from_session(session)
        ent_errors = RowErrors(f"{DEMO_FILE}[enterprises]")
        ent_rows = np.arange(1, len(enterprises) + 1)
        good_ents = prepare_enterprises(_frame(enterprises, source), ent_rows, lookups, ent_errors)
        scn_errors = RowErrors(f"{DEMO_FILE}[scenarios]")
        codes = {e["code"] for e in enterprises}
        good_scns = prepare_scenarios(_frame(scenarios, source), np.arange(1, len(scenarios) + 1),
                                      lookups, scn_errors, codes)  # fmt: skip
        if ent_errors or scn_errors:
            raise ImportValidationError(ent_errors.items + scn_errors.items,
                                        ent_errors.total + scn_errors.total)  # fmt: skip
        ids = dict(lookups.enterprise_ids)
        for p in good_ents:
            obj, _ = write_enterprise(session, actor, p.values)
            ids[p.values["code"]] = obj.id
        for p in good_scns:
            write_scenario(session, actor, p.values, ids)
        for f in figures:
            write_figure(session, actor, indicator=f["indicator"], year=int(f["year"]),
                         value=f["value"], scope=f.get("scope", "city"),
                         reported_on=f.get("reported_on"), source=source,
                         demo=True)  # fmt: skip
        summary = {
            "enterprises": len(good_ents),
            "enterprise_revenues": sum(len(p.values["revenues_yuan"]) for p in good_ents),
            "scenarios": len(good_scns),
            "scenario_links": sum(len(p.values["enterprise_codes"] or []) for p in good_scns),
            "reported_figures": len(figures),
        }
        record(session, actor, "load", "dataset", "demo-progress", after=summary)
    return summary
