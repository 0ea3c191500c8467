"""One entry point for the cover problem: greedy, MILP, or greedy then MILP when it fits.

``solver="auto"`` runs the greedy first (a good plan in seconds), then HiGHS on the point-reduced
problem with the time left, warm-started from the greedy plan, when the reduced problem is at
most :data:`AUTO_MAX_CANDIDATES` candidates and :data:`AUTO_MAX_NONZEROS` coverage nonzeros;
bigger problems keep the greedy plan (split them with :func:`~mastplan.planning.tiles.solve_tiled`).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Literal

from mastplan.planning.greedy import greedy
from mastplan.planning.milp import _solve_reduced
from mastplan.planning.problem import CoverProblem, Solution, explain_infeasible, reduce_points

__all__ = ["AUTO_MAX_CANDIDATES", "AUTO_MAX_NONZEROS", "solve"]

#: ``auto`` runs the MILP only up to this many candidates ...
AUTO_MAX_CANDIDATES = 50_000
#: ... and this many nonzeros of the point-reduced coverage matrix.
AUTO_MAX_NONZEROS = 10_000_000

Solver = Literal["auto", "greedy", "milp"]


def solve(
    problem: CoverProblem,
    *,
    solver: Solver = "auto",
    time_limit_s: float = 60.0,
    mip_rel_gap: float | None = None,
    threads: int | None = None,
    local_search: bool = True,
    log: bool = False,
) -> Solution:
    """Solve the cover problem with the chosen ``solver`` within about ``time_limit_s``.

    ``"greedy"``: greedy and local search only. ``"milp"``: greedy, then HiGHS warm-started
    from it (``mip_rel_gap`` defaults to 1e-4). ``"auto"``: like ``"milp"`` (gap default 0.01)
    when the reduced problem is small enough (see the module doc), else greedy. The better of
    the greedy and MILP plans is returned, with the MILP's proven bound and gap.

    A plan that misses the target is returned, not raised: ``target_met`` is False and
    ``stats["explanation"]`` says why, in words (see
    :func:`~mastplan.planning.problem.explain_infeasible`).
    """
    if solver not in ("auto", "greedy", "milp"):
        raise ValueError(f"solver must be 'auto', 'greedy' or 'milp', got {solver!r}")
    t0 = time.perf_counter()
    budget_mode = problem.budget is not None
    g = greedy(problem, local_search=local_search)
    stats: dict[str, Any] = {
        "greedy": {"cost": g.cost, "share": g.share, "time_s": g.time_s, **g.stats},
    }
    best = g
    milp_infeasible = False
    unreachable = None if budget_mode else explain_infeasible(problem)

    run_milp = solver != "greedy"
    if run_milp and unreachable is not None:
        run_milp = False
        stats["milp_skipped"] = "the target is out of reach even with every candidate"
    if run_milp and not budget_mode and g.target_met and g.cost <= 0:
        run_milp = False
        best = dataclasses.replace(g, lower_bound=0.0, gap=0.0, status="optimal")
        stats["milp_skipped"] = "the greedy plan costs nothing: optimal"
    reduced = None
    if run_milp:
        reduced, _ = reduce_points(problem)
        nnz = int(reduced.coverage.nnz)
        stats["reduced"] = {"candidates": reduced.n_candidates, "points": reduced.n_points,
                            "nonzeros": nnz}  # fmt: skip
        if solver == "auto" and (
            reduced.n_candidates > AUTO_MAX_CANDIDATES or nnz > AUTO_MAX_NONZEROS
        ):
            run_milp = False
            stats["milp_skipped"] = (
                f"too big for the MILP in auto mode ({reduced.n_candidates} candidates, {nnz} "
                f"nonzeros; limits {AUTO_MAX_CANDIDATES} and {AUTO_MAX_NONZEROS})"
            )
    remaining = time_limit_s - (time.perf_counter() - t0)
    if run_milp and remaining <= 0:
        run_milp = False
        stats["milp_skipped"] = "no time left after the greedy"
    if run_milp:
        gap = mip_rel_gap if mip_rel_gap is not None else (1e-4 if solver == "milp" else 1e-2)
        m = _solve_reduced(
            problem,
            reduced,
            time_limit_s=remaining,
            mip_rel_gap=gap,
            warm_start=g,
            threads=threads,
            log=log,
        )
        stats["milp"] = {"cost": m.cost, "share": m.share, "status": m.status,
                         "time_s": m.time_s, **m.stats}  # fmt: skip
        milp_infeasible = m.status == "infeasible"
        if _better(m, g, budget_mode):
            best = m
        else:
            best = dataclasses.replace(
                g,
                lower_bound=m.lower_bound,
                gap=_relative_gap(g, m.lower_bound, budget_mode),
                status=m.status if not milp_infeasible else "infeasible",
            )

    if not best.target_met:
        stats["explanation"] = _explanation(problem, unreachable, milp_infeasible)
    stats["solvers_run"] = ["greedy", "milp"] if "milp" in stats else ["greedy"]
    return dataclasses.replace(best, time_s=time.perf_counter() - t0, stats={**best.stats, **stats})


def _better(m: Solution, g: Solution, budget_mode: bool) -> bool:
    if budget_mode:
        return m.covered_weight >= g.covered_weight
    if m.target_met != g.target_met:
        return m.target_met
    return m.cost <= g.cost


def _relative_gap(sol: Solution, bound: float | None, budget_mode: bool) -> float | None:
    if bound is None:
        return None
    if budget_mode:
        if sol.covered_weight <= 0:
            return None
        return max((bound - sol.covered_weight) / sol.covered_weight, 0.0)
    if sol.cost <= 0:
        return 0.0
    return max((sol.cost - bound) / sol.cost, 0.0)


def _explanation(problem: CoverProblem, unreachable: str | None, milp_infeasible: bool) -> str:
    if unreachable is not None:
        return unreachable
    text = explain_infeasible(problem)
    if text is not None:
        return text
    if milp_infeasible:
        return (
            f"no plan that respects the groups (one configuration per structure) and the "
            f"conflicts (minimum distances) meets the target of {problem.target_share:.2%}; "
            "HiGHS proved it (every candidate together, ignoring them, would)"
        )
    return (
        f"no plan meeting the target of {problem.target_share:.2%} was found within the groups, "
        "conflicts" + (" and budget" if problem.budget is not None else "") + "; one may "
        "exist (the greedy heuristic proves nothing: run the 'milp' solver for a proof)"
    )
