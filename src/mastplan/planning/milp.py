"""Exact solution of the cover problem as a mixed-integer linear programme with HiGHS.

After :func:`~mastplan.planning.problem.reduce_points` (one row per distinct set of candidates),
with binary ``x_j`` (candidate chosen) and continuous ``y_p`` in [0, 1] (point covered)::

    minimum cost:  min  Σ_j c_j x_j
                   s.t. Σ_p w_p y_p ≥ share × total_weight
    budget:        max  Σ_p w_p y_p
                   s.t. Σ_j c_j x_j ≤ budget                (fixed candidates excluded)
    both:          y_p ≤ Σ_{j serves p} x_j                  for every point p
                   Σ_{j ∈ g} x_j ≤ 1                          for every group g of ≥ 2 members
                   x_i + x_j ≤ 1                              for every conflict pair (i, j)
                   x_j = 1                                    for every fixed j (cost 0)

The matrix is assembled in bulk (SciPy sparse, column-wise) and handed to HiGHS in one
``passModel``. A greedy solution can be passed as a warm start (``setSolution``).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

import highspy
import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from mastplan.planning.problem import (
    CoverProblem,
    Solution,
    check,
    evaluate,
    make_solution,
    reduce_points,
    solution_cost,
)

__all__ = ["solve_milp"]

_BANNER_LOCK = threading.Lock()
_banner_shown = False

_STATUS = {
    "kOptimal": "optimal",
    "kTimeLimit": "time limit",
    "kInfeasible": "infeasible",
    "kInterrupt": "interrupted",
    "kSolutionLimit": "solution limit",
    "kIterationLimit": "iteration limit",
    "kMemoryLimit": "memory limit",
    "kUnboundedOrInfeasible": "infeasible",
}


def _new_highs(log: bool) -> highspy.Highs:
    """A HiGHS instance; its once-per-process banner goes to /dev/null unless ``log``."""
    global _banner_shown
    with _BANNER_LOCK:
        if _banner_shown or log:
            _banner_shown = True
            h = highspy.Highs()
        else:
            sys.stdout.flush()
            saved = os.dup(1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 1)
                h = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(devnull)
            _banner_shown = True
    h.setOptionValue("output_flag", bool(log))
    return h


def _build(
    reduced: CoverProblem, weight_scale: float
) -> tuple[sparse.csc_array, NDArray[np.float64], NDArray[np.float64], dict[str, Any]]:
    """Column-wise constraint matrix and row bounds of the model (columns: x then y)."""
    n, m = reduced.coverage.shape
    csr = reduced.coverage
    budget_mode = reduced.budget is not None
    fixed = np.zeros(n, dtype=bool) if reduced.fixed is None else np.asarray(reduced.fixed, bool)
    w = reduced.point_weight / weight_scale
    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int64]] = []
    vals: list[NDArray[np.float64]] = []
    row_lo: list[NDArray[np.float64]] = []
    row_hi: list[NDArray[np.float64]] = []

    # y_p − Σ_j a_jp x_j ≤ 0
    lengths = np.diff(csr.indptr)
    rows += [csr.indices.astype(np.int64), np.arange(m, dtype=np.int64)]
    cols += [np.repeat(np.arange(n, dtype=np.int64), lengths), n + np.arange(m, dtype=np.int64)]
    vals += [np.full(csr.nnz, -1.0), np.ones(m)]
    row_lo.append(np.full(m, -np.inf))
    row_hi.append(np.zeros(m))
    next_row = m

    if budget_mode:
        free = np.flatnonzero(~fixed & (reduced.cost > 0))
        rows.append(np.full(len(free), next_row, dtype=np.int64))
        cols.append(free.astype(np.int64))
        vals.append(reduced.cost[free].astype(np.float64))
        row_lo.append(np.array([-np.inf]))
        row_hi.append(np.array([float(reduced.budget)]))  # type: ignore[arg-type]
    else:
        need = (reduced.required_weight - reduced.weight_tolerance) / weight_scale
        rows.append(np.full(m, next_row, dtype=np.int64))
        cols.append(n + np.arange(m, dtype=np.int64))
        vals.append(w.astype(np.float64))
        row_lo.append(np.array([need]))
        row_hi.append(np.array([np.inf]))
    next_row += 1

    n_group_rows = 0
    if reduced.group is not None:
        grouped = np.flatnonzero(reduced.group >= 0)
        uniq, inv, counts = np.unique(
            reduced.group[grouped], return_inverse=True, return_counts=True
        )
        big = counts >= 2
        if big.any():
            row_of_group = np.full(len(uniq), -1, dtype=np.int64)
            row_of_group[big] = next_row + np.arange(int(big.sum()))
            members = grouped[big[inv]]
            rows.append(row_of_group[inv[big[inv]]])
            cols.append(members.astype(np.int64))
            vals.append(np.ones(len(members)))
            n_group_rows = int(big.sum())
            row_lo.append(np.full(n_group_rows, -np.inf))
            row_hi.append(np.ones(n_group_rows))
            next_row += n_group_rows

    n_conflict_rows = 0
    if reduced.conflicts is not None and len(reduced.conflicts):
        k = len(reduced.conflicts)
        r = next_row + np.arange(k, dtype=np.int64)
        rows.append(np.concatenate([r, r]))
        cols.append(np.concatenate([reduced.conflicts[:, 0], reduced.conflicts[:, 1]]))
        vals.append(np.ones(2 * k))
        row_lo.append(np.full(k, -np.inf))
        row_hi.append(np.ones(k))
        n_conflict_rows = k
        next_row += k

    a = sparse.coo_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(next_row, n + m),
    ).tocsc()
    a.sum_duplicates()
    a.sort_indices()
    info = {
        "rows": int(next_row),
        "columns": int(n + m),
        "nonzeros": int(a.nnz),
        "group_rows": n_group_rows,
        "conflict_rows": n_conflict_rows,
    }
    return a, np.concatenate(row_lo), np.concatenate(row_hi), info


def _gap(budget_mode: bool, value: float, bound: float | None) -> float | None:
    if bound is None:
        return None
    if budget_mode:
        if value <= 0:
            return 0.0 if bound <= 1e-12 else None
        gap = (bound - value) / value
    else:
        if value <= 0:
            return 0.0
        gap = (value - bound) / value
    gap = max(gap, 0.0)
    return 0.0 if gap < 1e-9 else gap


def solve_milp(
    problem: CoverProblem,
    *,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
    warm_start: Solution | None = None,
    threads: int | None = None,
    log: bool = False,
) -> Solution:
    """Solve the cover problem exactly (within ``mip_rel_gap``) with HiGHS.

    ``warm_start`` (typically the greedy solution) gives HiGHS a first incumbent. The result
    carries HiGHS's status (``"optimal"``, ``"time limit"``, ``"infeasible"``, …), its proven
    bound in ``lower_bound`` (cost in yuan; covered weight in budget mode) and the relative gap.
    When HiGHS finds no solution in time the warm start is returned with that bound; when the
    problem is infeasible the solution has ``target_met`` False and status ``"infeasible"``.
    HiGHS writes nothing unless ``log``. ``time_limit_s`` counts the model building too.
    """
    return _solve_reduced(
        problem,
        None,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        warm_start=warm_start,
        threads=threads,
        log=log,
    )


def _solve_reduced(
    problem: CoverProblem,
    reduced: CoverProblem | None,
    *,
    time_limit_s: float,
    mip_rel_gap: float,
    warm_start: Solution | None,
    threads: int | None,
    log: bool,
) -> Solution:
    """:func:`solve_milp` on an already reduced problem (``reduce_points(problem)[0]``)."""
    t0 = time.perf_counter()
    budget_mode = problem.budget is not None
    if reduced is None:
        reduced, _ = reduce_points(problem)
    n, m = reduced.coverage.shape
    fixed = np.zeros(n, dtype=bool) if problem.fixed is None else np.asarray(problem.fixed, bool)
    stats: dict[str, Any] = {
        "candidates": int(n),
        "points": int(problem.n_points),
        "points_reduced": int(m),
    }

    warm_chosen: NDArray[np.int64] | None = None
    if warm_start is not None:
        try:
            check(problem, warm_start.chosen)
            covered, _ = evaluate(problem, warm_start.chosen)
            if budget_mode or problem.meets_target(covered):
                warm_chosen = np.asarray(warm_start.chosen, dtype=np.int64)
        except ValueError as exc:
            stats["warm_start_rejected"] = str(exc)

    fixed_idx = np.flatnonzero(fixed)
    fixed_covered, _ = evaluate(problem, fixed_idx)
    if n == 0 or (not budget_mode and problem.meets_target(fixed_covered)):
        # Nothing to decide: the fixed candidates alone meet the target (or there is nothing).
        sol = make_solution(problem, fixed_idx, solver="milp", status="", time_s=0.0)
        status = "optimal" if (sol.target_met or budget_mode) else "infeasible"
        return _with(sol, t0, status, 0.0 if status == "optimal" else None, stats, budget_mode)

    w_pos = reduced.point_weight[reduced.point_weight > 0]
    weight_scale = float(w_pos.mean()) if len(w_pos) else 1.0
    a, row_lo, row_hi, info = _build(reduced, weight_scale)
    stats.update(info)

    useless = (np.diff(reduced.coverage.indptr) == 0) & ~fixed
    col_lo = np.concatenate([fixed.astype(np.float64), np.zeros(m)])
    col_hi = np.concatenate([np.where(useless, 0.0, 1.0), np.ones(m)])
    if budget_mode:
        col_cost = np.concatenate([np.zeros(n), reduced.point_weight / weight_scale])
        sense = highspy.ObjSense.kMaximize
    else:
        col_cost = np.concatenate([np.where(fixed, 0.0, reduced.cost), np.zeros(m)])
        sense = highspy.ObjSense.kMinimize
    integrality = np.concatenate([np.ones(n, dtype=np.int32), np.zeros(m, dtype=np.int32)])

    model = (
        int(n + m), int(a.shape[0]), int(a.nnz), int(highspy.MatrixFormat.kColwise),
        int(sense), 0.0, col_cost.astype(np.float64), col_lo, col_hi,
        row_lo.astype(np.float64), row_hi.astype(np.float64),
        a.indptr.astype(np.int32), a.indices.astype(np.int32), a.data.astype(np.float64),
        integrality,
    )  # fmt: skip
    start = None
    if warm_chosen is not None:
        x = np.zeros(n)
        x[warm_chosen] = 1.0
        y = np.minimum(reduced.coverage.T @ x, 1.0) if m else np.zeros(0)
        start = np.concatenate([x, y])
        stats["warm_start"] = True

    build_s = time.perf_counter() - t0
    stats["build_s"] = build_s
    deadline = t0 + float(time_limit_s)
    options = {"mip_rel_gap": float(mip_rel_gap), "threads": threads, "log": log}
    runs = [_run_highs(model, start, max(deadline - time.perf_counter(), 0.01), n, **options)]
    if start is not None and _mismatch(problem, runs[0], weight_scale):
        # HiGHS (seen with 1.16) can hand back the start's values while reporting the objective
        # of its presolved image, a better plan: run once more without the start to get it.
        stats["warm_start_mismatch"] = True
        left = deadline - time.perf_counter()
        if left > 0.05:
            runs.append(_run_highs(model, None, left, n, **options))
    last = runs[-1]
    status = last["status"]
    stats["highs_status"] = last["highs_status"]
    stats["nodes"] = sum(r["nodes"] for r in runs)
    stats["simplex_iterations"] = sum(r["iterations"] for r in runs)
    stats["solve_s"] = time.perf_counter() - t0 - build_s

    bounds = [r["bound"] for r in runs if r["bound"] is not None]
    bound: float | None = None
    if bounds and status != "infeasible":
        bound = min(bounds) if budget_mode else max(bounds)
        if budget_mode:
            bound *= weight_scale

    options_chosen: list[tuple[str, NDArray[np.int64]]] = [
        ("highs", np.flatnonzero(r["x"] > 0.5)) for r in runs if r["has_solution"]
    ]
    has_solution = bool(options_chosen)
    if warm_chosen is not None:
        options_chosen.append(("warm start", warm_chosen))
    if options_chosen:
        source, chosen = _best_of(problem, options_chosen)
    elif warm_start is not None and status == "infeasible":
        source, chosen = "warm start (target not met)", np.asarray(warm_start.chosen, np.int64)
    else:
        source, chosen = "none", fixed_idx
    stats["incumbent"] = source

    sol = make_solution(problem, chosen, solver="milp", status="", time_s=0.0)
    if has_solution and not budget_mode and not sol.target_met:
        # HiGHS met the target within its feasibility tolerance only: top up greedily.
        from mastplan.planning.greedy import _Greedy

        top = _Greedy(problem)
        top.add(np.setdiff1d(sol.chosen, fixed_idx))
        top.run_greedy(top.free_candidates())
        sol = make_solution(problem, top.chosen(), solver="milp", status="", time_s=0.0)
        stats["topped_up"] = True
    if status == "infeasible":
        sol = make_solution(problem, sol.chosen, solver="milp", status="", time_s=0.0)
        return _with(sol, t0, status, None, stats, budget_mode, force_not_met=True)
    if any(r["status"] == "optimal" for r in runs):
        # optimal only if the plan handed back is within the gap of the proven bound (not so
        # when a mismatched run left no time for the second one)
        value = sol.covered_weight if budget_mode else sol.cost
        gap = _gap(budget_mode, value, bound)
        # (HiGHS's own objective carries its integrality tolerance: x_j = 1 − 1e-6 counts)
        status = "optimal" if gap is not None and gap <= mip_rel_gap + 1e-5 else "time limit"
    return _with(sol, t0, status, bound, stats, budget_mode)


def _run_highs(
    model: tuple[Any, ...],
    start: NDArray[np.float64] | None,
    time_limit_s: float,
    n: int,
    *,
    mip_rel_gap: float,
    threads: int | None,
    log: bool,
) -> dict[str, Any]:
    """One HiGHS run of ``model`` (``passModel`` arguments); what came out of it."""
    h = _new_highs(log)
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    if h.passModel(*model) == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS refused the model (passModel failed)")
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = start.tolist()
        sol.value_valid = True
        h.setSolution(sol)
    h.setOptionValue("time_limit", max(float(time_limit_s), 0.01))
    h.run()
    model_status = h.getModelStatus()
    info = h.getInfo()
    name = getattr(model_status, "name", str(model_status))
    status = _STATUS.get(name, h.modelStatusToString(model_status).lower())
    has_solution = int(info.primal_solution_status) == 2 and status != "infeasible"
    obj = float(info.objective_function_value) if has_solution else None
    bound: float | None = float(info.mip_dual_bound)
    if bound is None or not np.isfinite(bound) or status == "infeasible":
        bound = None
    maximise = model[4] == int(highspy.ObjSense.kMaximize)
    if bound is not None and obj is not None and status == "optimal":
        # HiGHS proved the incumbent within mip_rel_gap; when presolve alone solves the model
        # it reports a trivial dual bound (0), so take the bound its optimality implies
        implied = obj * (1.0 + mip_rel_gap) if maximise else obj * (1.0 - mip_rel_gap)
        bound = min(bound, implied) if maximise else max(bound, implied)
    x = np.asarray(h.getSolution().col_value[:n], dtype=np.float64) if has_solution else None
    out = {
        "status": status,
        "highs_status": h.modelStatusToString(model_status),
        "nodes": int(info.mip_node_count),
        "iterations": int(info.simplex_iteration_count),
        "has_solution": has_solution,
        "objective": obj,
        "bound": bound,
        "x": x,
        "maximise": maximise,
    }
    h.clear()
    return out


def _mismatch(problem: CoverProblem, run: dict[str, Any], weight_scale: float) -> bool:
    """Whether a run's solution values disagree with the objective HiGHS reports for them."""
    if not run["has_solution"]:
        return False
    chosen = np.flatnonzero(run["x"] > 0.5)
    obj = float(run["objective"])
    if run["maximise"]:
        covered, _ = evaluate(problem, chosen)
        reported = obj * weight_scale
        return covered < reported - 1e-5 * max(abs(reported), 1.0)
    cost = solution_cost(problem, chosen)
    return cost > obj + 1e-5 * max(abs(obj), 1.0)


def _best_of(
    problem: CoverProblem, options: list[tuple[str, NDArray[np.int64]]]
) -> tuple[str, NDArray[np.int64]]:
    """The best valid selection among ``options`` (first wins ties)."""
    best: tuple[str, NDArray[np.int64]] | None = None
    best_key: tuple[float, ...] | None = None
    for source, chosen in options:
        try:
            check(problem, chosen)
        except ValueError:
            continue
        covered, _ = evaluate(problem, chosen)
        if problem.budget is not None:
            key = (-covered, solution_cost(problem, chosen))
        else:
            key = (0.0 if problem.meets_target(covered) else 1.0, solution_cost(problem, chosen))
        if best_key is None or key < best_key:
            best, best_key = (source, chosen), key
    if best is None:  # nothing valid: keep HiGHS's first answer, check() will tell
        return options[0]
    return best


def _with(
    sol: Solution,
    t0: float,
    status: str,
    bound: float | None,
    stats: dict[str, Any],
    budget_mode: bool,
    *,
    force_not_met: bool = False,
) -> Solution:
    value = sol.covered_weight if budget_mode else sol.cost
    return Solution(
        chosen=sol.chosen,
        cost=sol.cost,
        covered_weight=sol.covered_weight,
        share=sol.share,
        target_met=False if force_not_met else sol.target_met,
        lower_bound=bound,
        gap=_gap(budget_mode, value, bound),
        solver="milp",
        status=status,
        time_s=time.perf_counter() - t0,
        stats=stats,
    )
