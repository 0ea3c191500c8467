"""The site planner's optimisation problem: partial set cover with costs, and its solutions.

Pure: arrays in, arrays out. A *candidate* is one configuration of one structure (or of a new
tower position); a *point* is a demand point of the planning area (a grid cell with its area in
m², or a demand weight). ``coverage[j, p]`` is true when candidate ``j`` serves point ``p``.

Two modes (details in ``docs/planning-solvers.md``):

* **minimum cost**: choose candidates of least total cost so that the covered point weight is at
  least ``target_share`` of the total weight;
* **budget** (``budget`` given): choose candidates of total cost at most ``budget`` so that the
  covered weight is as large as possible.

Side constraints in both modes: at most one candidate per ``group`` (the configurations of one
structure), never both candidates of a ``conflicts`` pair (minimum inter-site distance), and the
``fixed`` candidates (existing sites, earlier phases) are always chosen and cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

__all__ = [
    "CoverProblem",
    "Solution",
    "check",
    "evaluate",
    "explain_infeasible",
    "reduce_points",
]

#: Relative tolerance of the coverage target (of the total weight) and of the budget.
REL_TOL = 1e-9


@dataclass(frozen=True)
class CoverProblem:
    """A partial set-cover problem with costs at candidate-configuration level.

    Parameters
    ----------
    coverage
        ``(n_candidates, n_points)`` boolean sparse array: candidate ``j`` serves point ``p``.
        Any SciPy sparse array or matrix (or a dense array) is accepted and stored as a
        ``csr_array`` of ``bool`` with sorted indices.
    point_weight
        ``(n_points,)`` weights ≥ 0 (area in m², or demand).
    cost
        ``(n_candidates,)`` costs ≥ 0 in yuan.
    target_share
        Share of the *total* weight to cover, in (0, 1]. In budget mode it is only reported
        against (``Solution.target_met``).
    group
        ``(n_candidates,)`` integers: at most one candidate of each group value is chosen. A
        negative value means "in no group".
    conflicts
        ``(k, 2)`` candidate index pairs that must not both be chosen.
    fixed
        ``(n_candidates,)`` booleans: always chosen; their cost is not counted.
    budget
        When given (yuan ≥ 0): maximise the covered weight subject to the cost of the chosen
        non-fixed candidates being at most ``budget``.
    total_weight
        The weight the share is relative to; defaults to ``point_weight.sum()``. It is larger
        when points have been dropped from the problem (see :func:`reduce_points`).
    """

    coverage: sparse.csr_array
    point_weight: NDArray[np.float64]
    cost: NDArray[np.float64]
    target_share: float
    group: NDArray[np.int64] | None = None
    conflicts: NDArray[np.int64] | None = None
    fixed: NDArray[np.bool_] | None = None
    budget: float | None = None
    total_weight: float | None = None

    def __post_init__(self) -> None:
        coverage = _as_bool_csr(self.coverage)
        n_cand, n_pts = coverage.shape
        weight = _vector(self.point_weight, n_pts, "point_weight", np.float64)
        cost = _vector(self.cost, n_cand, "cost", np.float64)
        for name, arr in (("point_weight", weight), ("cost", cost)):
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} must be finite")
            if np.any(arr < 0):
                raise ValueError(f"{name} must be >= 0")
        share = float(self.target_share)
        if not (0.0 < share <= 1.0):
            raise ValueError(f"target_share must be in (0, 1], got {self.target_share!r}")

        group = None
        if self.group is not None:
            group = _vector(self.group, n_cand, "group", np.int64)
        conflicts = None
        if self.conflicts is not None:
            conflicts = _conflict_pairs(self.conflicts, n_cand)
        fixed = None
        if self.fixed is not None:
            fixed = _vector(self.fixed, n_cand, "fixed", np.bool_)

        budget = None
        if self.budget is not None:
            budget = float(self.budget)
            if not (np.isfinite(budget) and budget >= 0):
                raise ValueError(f"budget must be a finite number >= 0, got {self.budget!r}")

        points_total = float(weight.sum())
        if self.total_weight is None:
            total = points_total
        else:
            total = float(self.total_weight)
            if not np.isfinite(total) or total < points_total * (1 - REL_TOL) - REL_TOL:
                raise ValueError(
                    f"total_weight ({total}) must be finite and at least the sum of "
                    f"point_weight ({points_total})"
                )
            total = max(total, points_total)

        if fixed is not None and fixed.any():
            idx = np.flatnonzero(fixed)
            if group is not None:
                g = group[idx]
                g = g[g >= 0]
                uniq, counts = np.unique(g, return_counts=True)
                if np.any(counts > 1):
                    bad = uniq[counts > 1][0]
                    mates = idx[group[idx] == bad]
                    raise ValueError(
                        f"fixed candidates {mates.tolist()} are in the same group {int(bad)}: "
                        "at most one candidate per group can be chosen"
                    )
            if conflicts is not None and len(conflicts):
                both = fixed[conflicts[:, 0]] & fixed[conflicts[:, 1]]
                if both.any():
                    i, j = conflicts[np.argmax(both)]
                    raise ValueError(f"fixed candidates {int(i)} and {int(j)} conflict")

        object.__setattr__(self, "coverage", coverage)
        object.__setattr__(self, "point_weight", weight)
        object.__setattr__(self, "cost", cost)
        object.__setattr__(self, "target_share", share)
        object.__setattr__(self, "group", group)
        object.__setattr__(self, "conflicts", conflicts)
        object.__setattr__(self, "fixed", fixed)
        object.__setattr__(self, "budget", budget)
        object.__setattr__(self, "total_weight", total)

    @property
    def n_candidates(self) -> int:
        """Number of candidates (rows of ``coverage``)."""
        return int(self.coverage.shape[0])

    @property
    def n_points(self) -> int:
        """Number of points (columns of ``coverage``)."""
        return int(self.coverage.shape[1])

    @property
    def required_weight(self) -> float:
        """The weight the target asks for: ``target_share × total_weight``."""
        return self.target_share * float(self.total_weight)  # type: ignore[arg-type]

    @property
    def weight_tolerance(self) -> float:
        """Slack allowed on the target, against rounding: ``REL_TOL × total_weight``."""
        return REL_TOL * max(float(self.total_weight), 1.0)  # type: ignore[arg-type]

    def meets_target(self, covered_weight: float) -> bool:
        """Whether ``covered_weight`` reaches the target (within :attr:`weight_tolerance`)."""
        return covered_weight >= self.required_weight - self.weight_tolerance

    def fits_budget(self, cost_yuan: float) -> bool:
        """Whether ``cost_yuan`` is within the budget (always true without a budget)."""
        if self.budget is None:
            return True
        return cost_yuan <= self.budget + REL_TOL * max(self.budget, 1.0)

    def fixed_indices(self) -> NDArray[np.int64]:
        """Sorted indices of the fixed candidates."""
        if self.fixed is None:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(self.fixed).astype(np.int64)

    def replace(self, **changes: Any) -> CoverProblem:
        """A copy with some fields changed (validated again)."""
        values = {f: getattr(self, f) for f in self.__dataclass_fields__}
        values.update(changes)
        return CoverProblem(**values)


@dataclass(frozen=True)
class Solution:
    """A set of chosen candidates and what it achieves.

    ``lower_bound`` is a proven bound on the optimum: a lower bound on the cost in minimum-cost
    mode, an upper bound on the covered weight in budget mode (``None`` when nothing is proven,
    as with greedy). ``gap`` is the relative distance between the solution and that bound:
    ``(cost − bound) / cost`` (minimum cost) or ``(bound − covered) / covered`` (budget); 0 when
    proven optimal.
    """

    chosen: NDArray[np.int64]
    cost: float
    covered_weight: float
    share: float
    target_met: bool
    lower_bound: float | None
    gap: float | None
    solver: str
    status: str
    time_s: float
    stats: dict[str, Any] = field(default_factory=dict)


def _as_bool_csr(coverage: Any) -> sparse.csr_array:
    if sparse.issparse(coverage):
        csr = sparse.csr_array(coverage)
    else:
        arr = np.asarray(coverage)
        if arr.ndim != 2:
            raise ValueError(f"coverage must be 2-D (n_candidates, n_points), got {arr.shape}")
        csr = sparse.csr_array(arr)
    if csr.ndim != 2:
        raise ValueError("coverage must be 2-D (n_candidates, n_points)")
    if csr.dtype != np.bool_:
        csr = csr.astype(np.bool_)
    csr.eliminate_zeros()
    csr.sum_duplicates()
    csr.sort_indices()
    return csr


def _vector(values: Any, n: int, name: str, dtype: Any) -> NDArray[Any]:
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    if dtype is np.bool_ and arr.dtype != np.bool_:
        raise ValueError(f"{name} must be boolean, got {arr.dtype}")
    if dtype is np.int64 and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be integer, got {arr.dtype}")
    if dtype is np.float64 and not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise ValueError(f"{name} must be numeric, got {arr.dtype}")
    out = np.array(arr, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


def _conflict_pairs(values: Any, n_cand: int) -> NDArray[np.int64]:
    arr = np.asarray(values)
    if arr.size == 0:
        arr = arr.reshape(0, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"conflicts must have shape (k, 2), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"conflicts must be integer candidate indices, got {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n_cand):
        raise ValueError(f"conflicts refer to candidates outside 0..{n_cand - 1}")
    if np.any(arr[:, 0] == arr[:, 1]):
        i = int(arr[np.argmax(arr[:, 0] == arr[:, 1]), 0])
        raise ValueError(f"conflicts pair candidate {i} with itself")
    pairs = np.unique(np.sort(arr, axis=1), axis=0).astype(np.int64)
    pairs.setflags(write=False)
    return pairs


def _as_chosen(problem: CoverProblem, chosen: Any) -> NDArray[np.int64]:
    arr = np.asarray(chosen)
    if arr.dtype == np.bool_:
        if arr.shape != (problem.n_candidates,):
            raise ValueError(f"a boolean selection must have shape ({problem.n_candidates},)")
        return np.flatnonzero(arr).astype(np.int64)
    arr = arr.reshape(-1)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError("chosen must be candidate indices (integers) or a boolean mask")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= problem.n_candidates):
        raise ValueError(f"chosen refers to candidates outside 0..{problem.n_candidates - 1}")
    return arr


def covered_points(coverage: sparse.csr_array, chosen: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Boolean mask of the points served by at least one of the ``chosen`` rows."""
    mask = np.zeros(coverage.shape[1], dtype=bool)
    if len(chosen) == 0:
        return mask
    indptr, indices = coverage.indptr, coverage.indices
    starts, ends = indptr[chosen], indptr[chosen + 1]
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return mask
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    mask[indices[offsets + np.arange(total)]] = True
    return mask


def evaluate(problem: CoverProblem, chosen: Any) -> tuple[float, float]:
    """Covered weight and share (of ``total_weight``) of a selection.

    ``chosen`` is an array of candidate indices or a boolean mask; fixed candidates count only
    when they are in it.
    """
    idx = np.unique(_as_chosen(problem, chosen))
    covered = float(problem.point_weight[covered_points(problem.coverage, idx)].sum())
    total = float(problem.total_weight)  # type: ignore[arg-type]
    return covered, (covered / total if total > 0 else 1.0)


def solution_cost(problem: CoverProblem, chosen: NDArray[np.int64]) -> float:
    """Cost of a selection, fixed candidates excluded."""
    idx = np.unique(np.asarray(chosen, dtype=np.int64))
    if problem.fixed is not None:
        idx = idx[~problem.fixed[idx]]
    return float(problem.cost[idx].sum())


def check(problem: CoverProblem, chosen: Any) -> None:
    """Raise ``ValueError`` if a selection breaks a constraint of the problem.

    Checked: indices in range and not repeated, every fixed candidate chosen, at most one
    candidate per group, no conflicting pair, and the budget (budget mode). The coverage target
    is *not* checked: a solution that misses it says so in ``Solution.target_met``.
    """
    idx = _as_chosen(problem, chosen)
    if len(np.unique(idx)) != len(idx):
        raise ValueError("chosen repeats a candidate")
    mask = np.zeros(problem.n_candidates, dtype=bool)
    mask[idx] = True
    if problem.fixed is not None and np.any(problem.fixed & ~mask):
        missing = np.flatnonzero(problem.fixed & ~mask)
        raise ValueError(f"fixed candidate(s) {missing[:10].tolist()} not chosen")
    if problem.group is not None and len(idx):
        g = problem.group[idx]
        g = g[g >= 0]
        uniq, counts = np.unique(g, return_counts=True)
        if np.any(counts > 1):
            bad = int(uniq[counts > 1][0])
            raise ValueError(f"more than one candidate of group {bad} chosen")
    if problem.conflicts is not None and len(problem.conflicts):
        both = mask[problem.conflicts[:, 0]] & mask[problem.conflicts[:, 1]]
        if both.any():
            i, j = problem.conflicts[np.argmax(both)]
            raise ValueError(f"conflicting candidates {int(i)} and {int(j)} both chosen")
    if problem.budget is not None:
        cost = solution_cost(problem, idx)
        if not problem.fits_budget(cost):
            raise ValueError(f"cost {cost:.2f} yuan exceeds the budget {problem.budget:.2f} yuan")


def make_solution(
    problem: CoverProblem,
    chosen: Any,
    *,
    solver: str,
    status: str,
    time_s: float,
    lower_bound: float | None = None,
    gap: float | None = None,
    stats: dict[str, Any] | None = None,
) -> Solution:
    """Build a :class:`Solution` for a selection, computing its cost, coverage and target."""
    idx = np.unique(_as_chosen(problem, chosen))
    covered, share = evaluate(problem, idx)
    return Solution(
        chosen=idx,
        cost=solution_cost(problem, idx),
        covered_weight=covered,
        share=share,
        target_met=problem.meets_target(covered),
        lower_bound=lower_bound,
        gap=gap,
        solver=solver,
        status=status,
        time_s=time_s,
        stats=dict(stats or {}),
    )


def _column_signatures(csc: sparse.csc_array) -> NDArray[np.uint64]:
    """A 64-bit hash of each column's set of row indices (order-independent)."""
    n_rows, n_cols = csc.shape
    rng = np.random.default_rng(0x5EED_CAFE)
    keys = rng.integers(1, np.iinfo(np.int64).max, size=n_rows, dtype=np.int64).astype(np.uint64)
    keys |= np.uint64(1)
    sig = np.zeros(n_cols, dtype=np.uint64)
    lengths = np.diff(csc.indptr)
    nonempty = np.flatnonzero(lengths)
    if len(nonempty):
        vals = keys[csc.indices]
        with np.errstate(over="ignore"):
            sums = np.add.reduceat(vals, csc.indptr[nonempty])
            sig[nonempty] = sums * np.uint64(0x9E3779B97F4A7C15) + lengths[nonempty].astype(
                np.uint64
            )
    return sig


def reduce_points(problem: CoverProblem) -> tuple[CoverProblem, NDArray[np.int64]]:
    """Merge points served by the same set of candidates, and drop points no one serves.

    Merged points get the sum of their weights; points no candidate serves, and points of zero
    weight, are dropped. ``total_weight`` is kept, so shares stay relative to the original
    total and the covered weight of every selection is unchanged. Returns the reduced problem
    and the map from old point to new point (``-1`` for a dropped point).
    """
    csc = sparse.csc_array(problem.coverage)
    csc.sort_indices()
    n_pts = problem.n_points
    lengths = np.diff(csc.indptr)
    keep = (lengths > 0) & (problem.point_weight > 0)
    mapping = np.full(n_pts, -1, dtype=np.int64)
    kept = np.flatnonzero(keep)
    if len(kept) == 0:
        reduced = problem.replace(
            coverage=sparse.csr_array((problem.n_candidates, 0), dtype=bool),
            point_weight=np.zeros(0),
        )
        return reduced, mapping

    sig = _column_signatures(csc)[kept]
    _, first, inverse = np.unique(sig, return_index=True, return_inverse=True)
    rep = kept[first][inverse]  # representative (old index) of each kept point
    # Verify exactly that each point has the same candidate set as its representative; a hash
    # collision (never seen, but possible) sends the point to a group of its own.
    same = _same_columns(csc, kept, rep)
    group_of = inverse.astype(np.int64)
    if not same.all():
        n_groups = int(group_of.max()) + 1
        bad = np.flatnonzero(~same)
        exact: dict[bytes, int] = {}
        for k in bad:
            p = kept[k]
            key = csc.indices[csc.indptr[p] : csc.indptr[p + 1]].tobytes()
            if key not in exact:
                exact[key] = n_groups
                n_groups += 1
            group_of[k] = exact[key]
    # Renumber groups in order of first appearance, so the reduction is deterministic.
    _, first_pos, dense = np.unique(group_of, return_index=True, return_inverse=True)
    order = np.argsort(first_pos, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    new_index = rank[dense]
    n_new = len(order)
    mapping[kept] = new_index
    weight = np.bincount(new_index, weights=problem.point_weight[kept], minlength=n_new)
    rep_cols = np.empty(n_new, dtype=np.int64)
    rep_cols[new_index] = kept
    coverage = sparse.csr_array(csc[:, rep_cols])
    reduced = problem.replace(coverage=coverage, point_weight=weight)
    return reduced, mapping


def _same_columns(
    csc: sparse.csc_array, cols: NDArray[np.int64], reps: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """Whether each column in ``cols`` has exactly the row set of the matching ``reps`` column."""
    indptr, indices = csc.indptr, csc.indices
    len_c = indptr[cols + 1] - indptr[cols]
    len_r = indptr[reps + 1] - indptr[reps]
    same = len_c == len_r
    lengths = np.where(same, len_c, 0)
    total = int(lengths.sum())
    if total:
        local = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        a = indices[np.repeat(indptr[cols], lengths) + local]
        b = indices[np.repeat(indptr[reps], lengths) + local]
        diff = a != b
        if diff.any():
            owner = np.repeat(np.arange(len(cols)), lengths)
            same[np.unique(owner[diff])] = False
    return same


def explain_infeasible(problem: CoverProblem) -> str | None:
    """Explain, in words, why the coverage target cannot be met; ``None`` when it can.

    The target is out of reach when even every candidate together (groups and conflicts
    ignored) covers less than the target share; the message gives the best achievable share and
    how much weight, at how many points, no candidate serves. In budget mode it also says when
    the budget is too small: the cheapest plan the greedy heuristic finds that meets the target
    costs more than the budget. A ``None`` answer with groups or conflicts does not prove
    feasibility: they are ignored here.
    """
    total = float(problem.total_weight)  # type: ignore[arg-type]
    served = np.diff(sparse.csc_array(problem.coverage).indptr) > 0
    best = float(problem.point_weight[served].sum())
    best_share = best / total if total > 0 else 1.0
    if not problem.meets_target(best):
        unserved_w = float(problem.point_weight[~served].sum())
        dropped_w = total - float(problem.point_weight.sum())
        n_unserved = int((~served).sum())
        msg = (
            f"the target of {problem.target_share:.2%} of the weight cannot be met: choosing "
            f"every candidate (ignoring groups and conflicts) covers at most {best_share:.2%} "
            f"({best:.6g} of {total:.6g}); {unserved_w + dropped_w:.6g} of the weight "
            f"({(unserved_w + dropped_w) / total:.2%}) is at {n_unserved} point(s) no candidate "
            "serves"
        )
        if dropped_w > 0:
            msg += f" (including {dropped_w:.6g} at points dropped before this problem)"
        return msg
    if problem.budget is None:
        return None
    from mastplan.planning.greedy import greedy  # the greedy module imports this one

    within = greedy(problem, local_search=True)
    if within.target_met:
        return None
    cheapest = greedy(problem.replace(budget=None), local_search=True)
    if not cheapest.target_met:
        return (
            f"the target of {problem.target_share:.2%} is reachable only ignoring groups and "
            f"conflicts; with them the greedy heuristic covers at most {cheapest.share:.2%}, "
            f"and within the budget {within.share:.2%}"
        )
    if cheapest.cost <= problem.budget + REL_TOL * max(problem.budget or 0.0, 1.0):  # type: ignore[operator]
        return None
    return (
        f"the budget of {problem.budget:.2f} yuan is insufficient for the target of "
        f"{problem.target_share:.2%}: within it the greedy heuristic covers {within.share:.2%}, "
        f"and the cheapest plan it finds that meets the target costs {cheapest.cost:.2f} yuan "
        "(a heuristic cost: the optimum may be lower; the MILP solver can prove it)"
    )
