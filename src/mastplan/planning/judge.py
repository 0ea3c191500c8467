"""A plan judged by the radio engine itself, and a local search against the SINR target (module
name: `judge`, so that it never shadows the package's `evaluate` function of a selection).

The cover problem only knows which candidate reaches which test point at the RSRP threshold;
SINR depends on every other site on the carrier. :func:`evaluate_sites` predicts the whole
network (existing + chosen sectors) with :func:`~mastplan.radio.predict_coverage` and
:func:`repair_sinr` adds (and afterwards drops) candidates while that full prediction says the
target is missed. Pure: grid, masks and tables in, numbers out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse

from mastplan.radio import Grid, coverage_stats, predict_coverage
from mastplan.radio.stats import CoverageStats

__all__ = ["Evaluation", "Targets", "evaluate_sites", "repair_sinr"]


@dataclass(frozen=True)
class Targets:
    """What a plan must reach over its area."""

    rsrp_dbm: float = -105.0
    sinr_db: float = -3.0
    share: float = 0.95
    continuity: float = 0.90
    min_hole_m2: float = 10_000.0


@dataclass
class Evaluation:
    """The full prediction of a network over the plan's area."""

    rsrp_dbm: np.ndarray
    sinr_db: np.ndarray
    ok: np.ndarray  # RSRP and SINR both at target, inside the area
    stats: CoverageStats
    demand: np.ndarray | None = None  # per pixel, when the target is a share of demand

    @property
    def share(self) -> float:
        """The share the target is on: of the area, or of the demand when there is one."""
        if self.demand is None:
            return self.stats.covered_share
        total = float(self.demand.sum())
        return float(self.demand[self.ok].sum()) / total if total > 0 else 1.0

    def meets(self, targets: Targets) -> bool:
        return (
            self.share >= targets.share - 1e-12
            and self.stats.continuity >= targets.continuity - 1e-12
        )


def evaluate_sites(
    grid: Grid,
    mask: np.ndarray,
    sectors: pd.DataFrame,
    targets: Targets,
    demand: np.ndarray | None = None,
    **options: object,
) -> Evaluation:
    """Predict ``sectors`` (the engine's table) over ``grid`` and judge them inside ``mask``;
    with ``demand`` (per pixel), the share target is a share of that demand."""
    ny, nx = grid.shape
    if len(sectors) == 0:
        rsrp = np.full((ny, nx), np.nan, np.float32)
        sinr = np.full((ny, nx), np.nan, np.float32)
    else:
        res = predict_coverage(grid, sectors, **options)
        rsrp, sinr = res.rsrp_dbm, res.sinr_db
    stats = coverage_stats(
        rsrp, sinr, mask, grid.pixel_area_m2, targets.rsrp_dbm, targets.sinr_db,
        targets.min_hole_m2,
    )  # fmt: skip
    with np.errstate(invalid="ignore"):
        ok = (rsrp >= targets.rsrp_dbm) & (sinr >= targets.sinr_db) & mask
    return Evaluation(rsrp, sinr, ok, stats, None if demand is None else demand * mask)


def repair_sinr(
    chosen: np.ndarray,
    coverage: scipy.sparse.csr_array | Callable[[np.ndarray], np.ndarray],
    cost: np.ndarray,
    allowed: np.ndarray,
    host: np.ndarray,
    point_pixel: np.ndarray,
    evaluate: Callable[[np.ndarray], Evaluation],
    targets: Targets,
    *,
    max_rounds: int = 20,
    tries_per_round: int = 4,
    max_drop_tries: int = 10,
) -> tuple[np.ndarray, Evaluation, dict]:
    """Local search on the full prediction: while the target is missed, add the candidate that
    reaches the most failing test points per yuan (among ``tries_per_round`` best, the first
    that improves the share of the area at target); then try dropping the ``max_drop_tries`` most
    expensive chosen candidates, keeping each drop that leaves the target met (fewer sites also
    means less interference).

    ``coverage`` is candidates × test points (the matrix), or a function of a boolean mask of
    failing test points giving, per candidate, how many of them it reaches (so a tiled plan
    builds the matrix only around the failing points); ``point_pixel`` the flat pixel of
    each test point, ``allowed`` the candidates that may be added (not excluded, no conflict),
    ``host`` the structure of each candidate (one configuration per structure), ``evaluate``
    maps a set of candidates to its :class:`Evaluation`. Returns the new set, its evaluation
    and what the search did.
    """
    chosen = np.array(sorted(set(int(c) for c in chosen)), dtype=np.int64)
    current = evaluate(chosen)
    added: list[int] = []
    dropped: list[int] = []
    rounds = 0
    while not current.meets(targets) and rounds < max_rounds:
        rounds += 1
        failing = ~current.ok.ravel()[point_pixel]
        used_hosts = set(host[chosen].tolist())
        free = allowed.copy()
        free[chosen] = False
        free &= ~np.isin(host, list(used_hosts))
        if callable(coverage):
            reach = np.asarray(coverage(failing), dtype=np.float64)
        else:
            reach = np.asarray(coverage @ failing.astype(np.float64)).ravel()
        score = np.where(free & (reach > 0), reach / np.maximum(cost, 1.0), -np.inf)
        order = np.argsort(-score)[:tries_per_round]
        improved = False
        for cand in order:
            if not np.isfinite(score[cand]):
                break
            trial = np.sort(np.append(chosen, cand))
            ev = evaluate(trial)
            if ev.share > current.share:
                chosen, current, improved = trial, ev, True
                added.append(int(cand))
                break
        if not improved:
            break
    if current.meets(targets):
        droppable = [int(c) for c in chosen if allowed[c] and cost[c] > 0]
        for cand in sorted(droppable, key=lambda c: -cost[c])[:max_drop_tries]:
            trial = chosen[chosen != cand]
            ev = evaluate(trial)
            if ev.meets(targets):
                chosen, current = trial, ev
                dropped.append(int(cand))
    return chosen, current, {"rounds": rounds, "added": added, "dropped": dropped}
