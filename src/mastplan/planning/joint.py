"""Several operators planned together: one MILP over every operator's cover problem, in which
operators that put a site on the same structure share its payments (China Tower's discounts).

Each operator ``o`` has its own :class:`~mastplan.planning.problem.CoverProblem` (its carrier's
coverage, its target, its existing sites fixed) whose ``cost`` is the candidate's **own** part —
the radio equipment — and a map from its candidates to shared structures (``-1``: not shared,
e.g. its sites on air). A structure ``s`` costs the operators together ``payments[s, k]`` yuan
when ``k`` of them put a site on it (``payments[s, 0] = 0``; the increase of the structure's
payments over its tenants before the plan, so an operator planned alone pays exactly what the
single-operator cost model charges). With binary ``x`` (candidate chosen), ``y`` in [0, 1]
(point covered) per operator and binary ``u[s, k]`` (at least ``k`` planned tenants on ``s``)::

    min  Σ_o Σ_j e_oj x_oj + Σ_s Σ_k (payments[s, k] − payments[s, k − 1]) u_sk
    s.t. each operator's cover rows (coverage, target share, groups, conflicts, fixed)
         Σ_{o, j on s} x_oj = Σ_k u_sk           every structure s
         u_s,k+1 ≤ u_sk                           every structure s, k ≥ 1
         u_sk = 0 for k above the structure's free capacity (in sites)

The discount makes the structure's cost grow less than linearly in its tenants, which is why the
planned operators meet on the same structures where that pays. Solved by HiGHS with a warm start
(typically the operators planned one after the other); the proven bound and gap are reported.
Pure: arrays in, arrays out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from mastplan.planning.milp import _build, _new_highs
from mastplan.planning.problem import CoverProblem, check, evaluate, reduce_points

__all__ = ["JointProblem", "JointSolution", "joint_cost", "solve_joint"]


@dataclass(frozen=True)
class JointProblem:
    """Every operator's cover problem and the structures their candidates share.

    Parameters
    ----------
    problems
        One cover problem per operator (minimum-cost mode); ``cost`` is each candidate's own
        part (equipment), without the structure.
    structure
        Per operator, per candidate: the shared structure (row of ``payments``), or ``-1``.
    payments
        ``(n_structures, K + 1)`` yuan: what the planned operators pay together for the
        structure when ``k`` of them use it; column 0 is 0, NaN where ``k`` exceeds its capacity.
    """

    problems: tuple[CoverProblem, ...]
    structure: tuple[NDArray[np.int64], ...]
    payments: NDArray[np.float64]

    def __post_init__(self) -> None:
        if len(self.problems) == 0 or len(self.problems) != len(self.structure):
            raise ValueError("give one structure map per operator problem (at least one)")
        pay = np.asarray(self.payments, dtype=np.float64)
        if pay.ndim != 2 or pay.shape[1] < 2 or np.any(pay[:, 0] != 0):
            raise ValueError("payments must be (n_structures, K + 1) with a zero first column")
        finite = np.isfinite(pay)
        if np.any(finite[:, 1:] & ~finite[:, :-1]) or np.any(pay[finite] < 0):
            raise ValueError("payments must be >= 0, NaN only beyond a structure's capacity")
        maps = []
        for o, (p, s) in enumerate(zip(self.problems, self.structure, strict=True)):
            if p.budget is not None:
                raise ValueError(f"operator {o}: the joint plan has no budget mode")
            s = np.asarray(s, dtype=np.int64)
            if s.shape != (p.n_candidates,) or np.any(s >= len(pay)) or np.any(s < -1):
                raise ValueError(f"operator {o}: structure map out of range or of wrong length")
            maps.append(s)
        object.__setattr__(self, "payments", pay)
        object.__setattr__(self, "structure", tuple(maps))

    @property
    def n_operators(self) -> int:
        return len(self.problems)


@dataclass(frozen=True)
class JointSolution:
    """Chosen candidates per operator, the joint cost, per-operator shares and the bound."""

    chosen: tuple[NDArray[np.int64], ...]
    cost: float
    operator_cost: tuple[float, ...]
    candidate_cost: tuple[NDArray[np.float64], ...]
    tenants: NDArray[np.int64]
    target_met: bool
    lower_bound: float | None
    gap: float | None
    status: str
    time_s: float
    stats: dict[str, Any] = field(default_factory=dict)


def joint_cost(jp: JointProblem, chosen: tuple[NDArray[np.int64], ...]) -> dict[str, Any]:
    """Cost of a joint selection: equipment, structure payments by number of planned tenants,
    and each operator's share (equipment + an equal share of its structures' payments)."""
    tenants = np.zeros(len(jp.payments), dtype=np.int64)
    for o, idx in enumerate(chosen):
        fixed = _fixed(jp.problems[o])
        s = jp.structure[o][idx]
        on = s[(s >= 0) & ~fixed[idx]]
        if len(np.unique(on)) != len(on):
            raise ValueError(f"operator {o} uses one structure twice")
        np.add.at(tenants, on, 1)
    used = np.flatnonzero(tenants)
    pay = jp.payments[used, tenants[used]]
    if np.any(~np.isfinite(pay)):
        raise ValueError("a structure carries more planned sites than its capacity")
    per_tenant = np.zeros(len(jp.payments))
    per_tenant[used] = pay / tenants[used]
    cand_cost, op_cost = [], []
    for o, idx in enumerate(chosen):
        p = jp.problems[o]
        fixed = _fixed(p)[idx]
        s = jp.structure[o][idx]
        c = np.where(fixed, 0.0, p.cost[idx] + np.where(s >= 0, per_tenant[np.maximum(s, 0)], 0))
        cand_cost.append(c)
        op_cost.append(float(c.sum()))
    return {"cost": float(sum(op_cost)), "operator_cost": tuple(op_cost),
            "candidate_cost": tuple(cand_cost), "tenants": tenants}  # fmt: skip


def _fixed(p: CoverProblem) -> NDArray[np.bool_]:
    return np.zeros(p.n_candidates, bool) if p.fixed is None else np.asarray(p.fixed, bool)


def solve_joint(
    jp: JointProblem,
    *,
    warm_start: tuple[NDArray[np.int64], ...] | None = None,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
    threads: int | None = None,
    log: bool = False,
) -> JointSolution:
    """Plan every operator together with HiGHS (see the module doc).

    ``warm_start``: one selection per operator (each valid for its problem), given to HiGHS as
    its first plan and kept when HiGHS finds nothing better in the time. Returns the best valid
    plan, HiGHS's status, its proven bound and gap.
    """
    t0 = time.perf_counter()
    k_max = jp.payments.shape[1] - 1
    blocks, lo_rows, hi_rows, costs, col_lo, col_hi, integ, offsets = [], [], [], [], [], [], [], []
    link_rows, link_cols = [], []
    reduced_problems = []
    col = 0
    for o, p in enumerate(jp.problems):
        red, _ = reduce_points(p)
        reduced_problems.append(red)
        w_pos = red.point_weight[red.point_weight > 0]
        scale = float(w_pos.mean()) if len(w_pos) else 1.0
        a, lo, hi, _ = _build(red, scale)
        n, m = red.coverage.shape
        fixed = _fixed(p)
        blocks.append(a)
        lo_rows.append(lo)
        hi_rows.append(hi)
        costs.append(np.concatenate([np.where(fixed, 0.0, p.cost), np.zeros(m)]))
        useless = (np.diff(red.coverage.indptr) == 0) & ~fixed
        col_lo.append(np.concatenate([fixed.astype(float), np.zeros(m)]))
        col_hi.append(np.concatenate([np.where(useless, 0.0, 1.0), np.ones(m)]))
        integ.append(np.concatenate([np.ones(n, np.int32), np.zeros(m, np.int32)]))
        s = jp.structure[o]
        shared = np.flatnonzero((s >= 0) & ~fixed)
        link_rows.append(s[shared])
        link_cols.append(col + shared)
        offsets.append(col)
        col += n + m
    n_s = len(jp.payments)
    # u[s, k] columns, k = 1..K, structure-major
    u_col = col + np.arange(n_s * k_max).reshape(n_s, k_max)
    cap_ok = np.isfinite(jp.payments[:, 1:])
    inc = np.diff(np.where(np.isfinite(jp.payments), jp.payments, 0.0), axis=1)
    n_cols = col + n_s * k_max
    a_cover = sparse.block_diag(blocks, format="csr") if blocks else None
    n_cover_rows = a_cover.shape[0]
    # linking rows: Σ x − Σ_k u = 0 (one per structure); ordering rows: u_{k+1} − u_k ≤ 0
    lr = np.concatenate(link_rows)
    lc = np.concatenate(link_cols)
    rows = [lr, np.repeat(np.arange(n_s), k_max)]
    cols = [lc, u_col.ravel()]
    vals = [np.ones(len(lr)), -np.ones(n_s * k_max)]
    order_rows = n_s + np.arange(n_s * (k_max - 1)).reshape(n_s, max(k_max - 1, 0))
    if k_max > 1:
        rows += [order_rows.ravel(), order_rows.ravel()]
        cols += [u_col[:, 1:].ravel(), u_col[:, :-1].ravel()]
        vals += [np.ones(order_rows.size), -np.ones(order_rows.size)]
    n_extra = n_s + order_rows.size
    a_extra = sparse.coo_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_extra, n_cols),
    ).tocsr()
    a_cover = sparse.hstack([a_cover, sparse.csr_array((n_cover_rows, n_s * k_max))])
    a = sparse.vstack([a_cover, a_extra]).tocsc()
    a.sort_indices()
    row_lo = np.concatenate([*lo_rows, np.zeros(n_s), np.full(order_rows.size, -np.inf)])
    row_hi = np.concatenate([*hi_rows, np.zeros(n_s), np.zeros(order_rows.size)])
    c = np.concatenate([*costs, inc.ravel()])
    lo_c = np.concatenate([*col_lo, np.zeros(n_s * k_max)])
    hi_c = np.concatenate([*col_hi, np.where(cap_ok, 1.0, 0.0).ravel()])
    integrality = np.concatenate([*integ, np.ones(n_s * k_max, np.int32)])

    h = _new_highs(log)
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    h.passModel(
        int(n_cols), int(a.shape[0]), int(a.nnz), int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize), 0.0, c, lo_c, hi_c, row_lo, row_hi,
        a.indptr.astype(np.int32), a.indices.astype(np.int32), a.data.astype(np.float64),
        integrality,
    )  # fmt: skip
    stats: dict[str, Any] = {"columns": int(n_cols), "rows": int(a.shape[0]),
                             "nonzeros": int(a.nnz)}  # fmt: skip
    if warm_start is not None:
        start = _start_vector(jp, reduced_problems, offsets, u_col, n_cols, warm_start)
        if start is not None:
            sol = highspy.HighsSolution()
            sol.col_value = start.tolist()
            sol.value_valid = True
            h.setSolution(sol)
            stats["warm_start"] = True
    h.setOptionValue("time_limit", max(float(time_limit_s) - (time.perf_counter() - t0), 0.01))
    h.run()
    info = h.getInfo()
    status = h.modelStatusToString(h.getModelStatus()).lower()
    stats["highs_status"] = status
    stats["nodes"] = int(info.mip_node_count)
    options: list[tuple[str, tuple[NDArray[np.int64], ...]]] = []
    if int(info.primal_solution_status) == 2:
        x = np.asarray(h.getSolution().col_value)
        options.append(("highs", tuple(
            np.flatnonzero(x[offsets[o] : offsets[o] + p.n_candidates] > 0.5)
            for o, p in enumerate(jp.problems)
        )))  # fmt: skip
    if warm_start is not None:
        options.append(("warm start", tuple(np.asarray(w, np.int64) for w in warm_start)))
    bound = float(info.mip_dual_bound)
    bound = bound if np.isfinite(bound) else None
    h.clear()
    best = None
    for source, chosen in options:
        try:
            for o, idx in enumerate(chosen):
                check(jp.problems[o], idx)
            cost = joint_cost(jp, chosen)
        except ValueError:
            continue
        met = all(
            p.meets_target(evaluate(p, idx)[0]) for p, idx in zip(jp.problems, chosen, strict=True)
        )
        if best is None or (met, -cost["cost"]) > (best[2], -best[1]["cost"]):
            best = (source, cost, met, chosen)
    if best is None:
        fixed = tuple(np.flatnonzero(_fixed(p)) for p in jp.problems)
        best = ("none", joint_cost(jp, fixed), False, fixed)
    source, cost, met, chosen = best
    stats["incumbent"] = source
    if status == "optimal" and bound is not None:
        bound = max(bound, cost["cost"] * (1.0 - mip_rel_gap)) if met else bound
    gap = None
    if bound is not None and met:
        gap = 0.0 if cost["cost"] <= 0 else max((cost["cost"] - bound) / cost["cost"], 0.0)
        gap = 0.0 if gap < 1e-9 else gap
    state = "optimal" if gap is not None and gap <= mip_rel_gap + 1e-5 else status
    if status == "infeasible":
        state, bound, gap = "infeasible", None, None
    return JointSolution(
        chosen=tuple(np.sort(c) for c in chosen), cost=cost["cost"],
        operator_cost=cost["operator_cost"], candidate_cost=cost["candidate_cost"],
        tenants=cost["tenants"], target_met=met, lower_bound=bound, gap=gap, status=state,
        time_s=time.perf_counter() - t0, stats=stats,
    )  # fmt: skip


def _start_vector(jp, reduced, offsets, u_col, n_cols, warm_start) -> NDArray | None:
    """The warm start as a full column vector, or None when it is not a valid plan."""
    try:
        for o, idx in enumerate(warm_start):
            check(jp.problems[o], idx)
        tenants = joint_cost(jp, warm_start)["tenants"]
    except ValueError:
        return None
    v = np.zeros(n_cols)
    for o, idx in enumerate(warm_start):
        x = np.zeros(jp.problems[o].n_candidates)
        x[np.asarray(idx, np.int64)] = 1.0
        v[offsets[o] : offsets[o] + len(x)] = x
        y = np.minimum(reduced[o].coverage.T @ x, 1.0)
        v[offsets[o] + len(x) : offsets[o] + len(x) + len(y)] = y
    k = np.arange(1, u_col.shape[1] + 1)
    v[u_col.ravel()] = (tenants[:, None] >= k[None, :]).astype(float).ravel()
    return v
