"""Greedy heuristic for the cover problem: lazy cost-effectiveness greedy and local search.

Minimum-cost mode picks, again and again, the candidate of least cost per unit of *useful*
newly covered weight — the marginal weight capped at what the target still needs, so that a
cheap candidate that just finishes the job beats an expensive one that covers much more — until
the target is met. Budget mode picks the candidate of most marginal weight per yuan among those
that still fit the budget, and compares the result with the best single candidate (the classic
guard of the budgeted greedy). Both are lazy (CELF): the marginal weight only shrinks as points
get covered (it is submodular), so a priority queue of stale values is re-evaluated only at its
top, which gives exactly the plain greedy's choices.

Then redundant candidates are dropped (most expensive first) and a bounded local search tries,
for each chosen candidate from the most expensive, to drop it and re-cover what it alone served
with cheaper candidates that serve those points; a move is kept when it lowers the cost and the
target stays met (budget mode: when it raises the covered weight within the budget). In
minimum-cost mode it also tries insertions: add an unchosen candidate (swapping out its chosen
group-mate, if any) and drop the chosen ones that became redundant, kept when the cost falls —
this replaces several small sites by one that serves what they serve, which the drop move
cannot do.

The inner loops are Numba-compiled over the CSR (candidate → points) and CSC (point →
candidates) index arrays. Greedy proves nothing: ``Solution.lower_bound`` and ``gap`` are None.
"""

from __future__ import annotations

import time
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from mastplan.planning.problem import CoverProblem, Solution, make_solution

__all__ = ["greedy"]

_INF = np.inf


# --- the state of a selection -------------------------------------------------------------------
# data  = (indptr, indices, weight, cost, group_id, conf_ptr, conf_idx)
# state = (cover_count, chosen, group_used, blocked)
#   cover_count[p]: chosen candidates serving point p; group_used[g]: chosen candidates of group
#   g; blocked[j]: chosen candidates in conflict with j.


@numba.njit(cache=True)
def _available(j, data, state):  # pragma: no cover - compiled
    group_id = data[4]
    chosen, group_used, blocked = state[1], state[2], state[3]
    if chosen[j] or blocked[j] > 0:
        return False
    g = group_id[j]
    return not (g >= 0 and group_used[g] > 0)


@numba.njit(cache=True)
def _gain(j, data, state):  # pragma: no cover - compiled
    indptr, indices, weight = data[0], data[1], data[2]
    cover_count = state[0]
    total = 0.0
    for k in range(indptr[j], indptr[j + 1]):
        p = indices[k]
        if cover_count[p] == 0:
            total += weight[p]
    return total


@numba.njit(cache=True)
def _loss(j, data, state):  # pragma: no cover - compiled
    """Weight that only ``j`` serves among the chosen (lost if ``j`` is dropped)."""
    indptr, indices, weight = data[0], data[1], data[2]
    cover_count = state[0]
    total = 0.0
    for k in range(indptr[j], indptr[j + 1]):
        p = indices[k]
        if cover_count[p] == 1:
            total += weight[p]
    return total


@numba.njit(cache=True)
def _add(j, data, state):  # pragma: no cover - compiled
    indptr, indices, weight, group_id, conf_ptr, conf_idx = (
        data[0], data[1], data[2], data[4], data[5], data[6],
    )  # fmt: skip
    cover_count, chosen, group_used, blocked = state
    new = 0.0
    for k in range(indptr[j], indptr[j + 1]):
        p = indices[k]
        if cover_count[p] == 0:
            new += weight[p]
        cover_count[p] += 1
    chosen[j] = True
    if group_id[j] >= 0:
        group_used[group_id[j]] += 1
    for k in range(conf_ptr[j], conf_ptr[j + 1]):
        blocked[conf_idx[k]] += 1
    return new


@numba.njit(cache=True)
def _remove(j, data, state):  # pragma: no cover - compiled
    indptr, indices, weight, group_id, conf_ptr, conf_idx = (
        data[0], data[1], data[2], data[4], data[5], data[6],
    )  # fmt: skip
    cover_count, chosen, group_used, blocked = state
    lost = 0.0
    for k in range(indptr[j], indptr[j + 1]):
        p = indices[k]
        cover_count[p] -= 1
        if cover_count[p] == 0:
            lost += weight[p]
    chosen[j] = False
    if group_id[j] >= 0:
        group_used[group_id[j]] -= 1
    for k in range(conf_ptr[j], conf_ptr[j + 1]):
        blocked[conf_idx[k]] -= 1
    return lost


@numba.njit(cache=True)
def _less(ka, ja, kb, jb):  # pragma: no cover - compiled
    return ka < kb or (ka == kb and ja < jb)


@numba.njit(cache=True)
def _push(hk, hj, hg, size, key, j, g):  # pragma: no cover - compiled
    i = size
    hk[i], hj[i], hg[i] = key, j, g
    while i > 0:
        parent = (i - 1) // 2
        if _less(hk[i], hj[i], hk[parent], hj[parent]):
            hk[i], hk[parent] = hk[parent], hk[i]
            hj[i], hj[parent] = hj[parent], hj[i]
            hg[i], hg[parent] = hg[parent], hg[i]
            i = parent
        else:
            break
    return size + 1


@numba.njit(cache=True)
def _pop(hk, hj, hg, size):  # pragma: no cover - compiled
    key, j, g = hk[0], hj[0], hg[0]
    size -= 1
    hk[0], hj[0], hg[0] = hk[size], hj[size], hg[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        best = left
        right = left + 1
        if right < size and _less(hk[right], hj[right], hk[left], hj[left]):
            best = right
        if _less(hk[best], hj[best], hk[i], hj[i]):
            hk[i], hk[best] = hk[best], hk[i]
            hj[i], hj[best] = hj[best], hj[i]
            hg[i], hg[best] = hg[best], hg[i]
            i = best
        else:
            break
    return key, j, g, size


@numba.njit(cache=True)
def _key(cost, gain, budget_mode):  # pragma: no cover - compiled
    if budget_mode:
        if cost <= 0.0:
            return -np.inf
        return -gain / cost
    return cost / gain


@numba.njit(cache=True)
def _celf(
    data, state, cands, covered, need, budget_left, budget_mode, max_added, tol_c
):  # pragma: no cover - compiled
    """Lazy greedy over ``cands`` from the current state; returns the picks and the new cover.

    Minimum-cost mode stops when ``covered >= need`` or the added cost reaches ``max_added``;
    budget mode adds while something with positive gain fits ``budget_left``.
    """
    cost = data[3]
    n = len(cands)
    hk = np.empty(n, dtype=np.float64)
    hj = np.empty(n, dtype=np.int64)
    hg = np.empty(n, dtype=np.float64)
    picked = np.empty(n, dtype=np.int64)
    size = 0
    evals = 0
    n_picked = 0
    added = 0.0
    if not budget_mode and covered >= need:
        return picked[:0], covered, evals, added
    for i in range(n):
        j = cands[i]
        if not _available(j, data, state):
            continue
        if budget_mode and cost[j] > budget_left + tol_c:
            continue
        g = _gain(j, data, state)
        evals += 1
        if not budget_mode:
            g = min(g, need - covered)
        if g <= 0.0:
            continue
        size = _push(hk, hj, hg, size, _key(cost[j], g, budget_mode), j, g)
    while size > 0:
        if not budget_mode and covered >= need:
            break
        _, j, g_old, size = _pop(hk, hj, hg, size)
        if not _available(j, data, state):
            continue
        if budget_mode and cost[j] > budget_left + tol_c:
            continue
        g = _gain(j, data, state)
        evals += 1
        if not budget_mode:
            g = min(g, need - covered)
        if g <= 0.0:
            continue
        if g != g_old:
            size = _push(hk, hj, hg, size, _key(cost[j], g, budget_mode), j, g)
            continue
        covered += _add(j, data, state)
        picked[n_picked] = j
        n_picked += 1
        added += cost[j]
        if budget_mode:
            budget_left -= cost[j]
        elif added >= max_added - tol_c:
            break
    return picked[:n_picked], covered, evals, added


@numba.njit(cache=True)
def _prune(data, state, order, covered, need, budget_mode):  # pragma: no cover - compiled
    """Drop, in ``order``, chosen candidates whose loss keeps the target (budget: no loss)."""
    chosen = state[1]
    removed = 0
    for j in order:
        if not chosen[j]:
            continue
        loss = _loss(j, data, state)
        if (budget_mode and loss <= 0.0) or (not budget_mode and covered - loss >= need):
            covered -= _remove(j, data, state)
            removed += 1
    return covered, removed


@numba.njit(cache=True)
def _by_decreasing_cost(chosen, is_fixed, cost):  # pragma: no cover - compiled
    idx = np.flatnonzero(chosen & ~is_fixed)
    order = np.argsort(-cost[idx], kind="mergesort")
    return idx[order]


@numba.njit(cache=True)
def _prune_neighbours(
    data, csc_ptr, csc_idx, state, is_fixed, picked, covered, need, mark, out
):  # pragma: no cover - compiled
    """Drop chosen candidates sharing points with ``picked`` that became redundant.

    Most expensive first; the dropped ones go to ``out``. Returns (count, their cost, cover).
    """
    cost = data[3]
    indptr, indices = data[0], data[1]
    chosen = state[1]
    for c in picked:
        mark[c] = True
    m = 0
    for c in picked:
        for k in range(indptr[c], indptr[c + 1]):
            p = indices[k]
            for q in range(csc_ptr[p], csc_ptr[p + 1]):
                d = csc_idx[q]
                if chosen[d] and not mark[d] and not is_fixed[d]:
                    mark[d] = True
                    out[m] = d
                    m += 1
    for c in picked:
        mark[c] = False
    for i in range(m):
        mark[out[i]] = False
    neighbours = out[:m].copy()
    neighbours = neighbours[np.argsort(-cost[neighbours], kind="mergesort")]
    return _drop_while_met(neighbours, data, state, covered, need, out)


@numba.njit(cache=True)
def _drop_while_met(order, data, state, covered, need, out):  # pragma: no cover - compiled
    """Drop, in ``order``, the chosen candidates whose loss keeps the target met; the dropped
    ones go to ``out``. Returns (count, their cost, covered weight)."""
    cost, chosen = data[3], state[1]
    n = 0
    dropped_cost = 0.0
    for d in order:
        if not chosen[d]:
            continue
        loss = _loss(d, data, state)
        if covered - loss >= need:
            covered -= _remove(d, data, state)
            out[n] = d
            n += 1
            dropped_cost += cost[d]
    return n, dropped_cost, covered


@numba.njit(cache=True)
def _chosen_csc(data, state):  # pragma: no cover - compiled
    """Per point, the chosen candidates serving it: a CSC of the chosen set only.

    Built from the CSR rows of the chosen candidates; ``cover_count`` is its column count.
    """
    indptr, indices = data[0], data[1]
    cover_count, chosen = state[0], state[1]
    n_pts = len(cover_count)
    cptr = np.zeros(n_pts + 1, dtype=np.int64)
    for p in range(n_pts):
        cptr[p + 1] = cptr[p] + cover_count[p]
    cidx = np.empty(cptr[n_pts], dtype=np.int64)
    fill = cptr[:n_pts].copy()
    for j in np.flatnonzero(chosen):
        for k in range(indptr[j], indptr[j + 1]):
            p = indices[k]
            cidx[fill[p]] = j
            fill[p] += 1
    return cptr, cidx


@numba.njit(cache=True)
def _insertion_pass(
    data, state, is_fixed, order, covered, need, max_moves, tol_w, tol_c, mark, buf, drop_buf
):  # pragma: no cover - compiled
    """Insertion (add-and-prune) moves, minimum-cost mode, trying the candidates in ``order``.

    For an unchosen, non-fixed, unblocked candidate ``k`` (its chosen group-mate ``g``, if any,
    removed first), add ``k`` and drop the chosen non-fixed candidates that became redundant,
    most expensive first; keep the move when the cost falls by more than ``tol_c``, else undo it.
    Returns (cover, accepted moves, tries).

    Cheap rejection: besides ``g``, a chosen ``d`` can only be dropped if its current loss, less
    the weight of the points it alone serves that ``k`` serves too (zero when they share no
    point), fits in the most slack the move can create, ``covered − need + gain(k)``: adding
    ``k`` relieves ``d`` of no more than that, and removals only raise losses and lower the
    cover. The cost of ``g`` and of those ``d`` (a prefix sum over the chosen ones by loss, plus
    the relieved neighbours) bounds the saving, so ``k`` is skipped, before any change, when
    ``cost[k]`` reaches it. The neighbours of ``k`` come from a CSC of the *chosen* set only
    (rebuilt after each accepted move): about ``nnz(k) × chosen per point``, never the full CSC.
    """
    indptr, indices, weight, cost, group_id, conf_ptr, conf_idx = data
    cover_count, chosen, group_used, blocked = state
    n_cand = len(cost)
    loss0 = np.zeros(n_cand, dtype=np.float64)
    relief = np.zeros(n_cand, dtype=np.float64)
    group_chosen = np.full(len(group_used), -1, dtype=np.int64)
    accepted = 0
    tries = 0
    stale = True
    # placeholders, typed; rebuilt below before any use
    cptr = np.zeros(1, dtype=np.int64)
    cidx = np.zeros(0, dtype=np.int64)
    by_cost = np.zeros(0, dtype=np.int64)
    loss_sorted = np.zeros(0, dtype=np.float64)
    prefix = np.zeros(1, dtype=np.float64)
    for k in order:
        if accepted >= max_moves:
            break
        if stale:
            # the chosen set changed: its CSC, losses, group members, cost and loss orders
            cptr, cidx = _chosen_csc(data, state)
            by_cost = _by_decreasing_cost(chosen, is_fixed, cost)
            for d in by_cost:
                loss0[d] = _loss(d, data, state)
            group_chosen[:] = -1
            for d in np.flatnonzero(chosen):
                if group_id[d] >= 0:
                    group_chosen[group_id[d]] = d
            by_loss = by_cost[np.argsort(loss0[by_cost], kind="mergesort")]
            loss_sorted = loss0[by_loss]
            prefix = np.zeros(len(by_loss) + 1, dtype=np.float64)
            for i in range(len(by_loss)):
                prefix[i + 1] = prefix[i] + cost[by_loss[i]]
            stale = False
        if chosen[k] or is_fixed[k] or cost[k] >= prefix[len(prefix) - 1]:
            continue  # (the saving cannot exceed the cost of all chosen non-fixed candidates)
        g = -1
        gk = group_id[k]
        if gk >= 0 and group_used[gk] > 0:
            g = group_chosen[gk]
            if g < 0 or is_fixed[g]:
                continue  # (a fixed group-mate stays)
        if blocked[k] > 0:
            # blocked: only a swap that removes the sole blocker g can proceed
            if g < 0:
                continue
            n_g = 0
            for q in range(conf_ptr[k], conf_ptr[k + 1]):
                if conf_idx[q] == g:
                    n_g += 1
            if blocked[k] > n_g:
                continue
        # chosen neighbours of k (and g), and the weight k would newly cover
        m = 0
        if g >= 0:
            mark[g] = True
            buf[0] = g
            m = 1
        gain = 0.0
        for q in range(indptr[k], indptr[k + 1]):
            p = indices[q]
            if cover_count[p] == 0:
                gain += weight[p]
                continue
            if cover_count[p] == 1:
                relief[cidx[cptr[p]]] += weight[p]
            for r in range(cptr[p], cptr[p + 1]):
                d = cidx[r]
                if not mark[d]:
                    mark[d] = True
                    buf[m] = d
                    m += 1
        # the saving is at most the cost of g and of the chosen d whose loss, less what k
        # relieves, fits in the slack: all those with loss0 <= thr (the prefix sum), and the
        # neighbours that k relieves enough
        thr = covered - need + gain + tol_w
        bound = prefix[np.searchsorted(loss_sorted, thr, side="right")]
        for i in range(m):
            d = buf[i]
            if not is_fixed[d] and loss0[d] > thr and (d == g or loss0[d] - relief[d] <= thr):
                bound += cost[d]
            relief[d] = 0.0
        if cost[k] >= bound:
            for i in range(m):
                mark[buf[i]] = False
            continue
        tries += 1
        saved_cov = covered
        saved = 0.0
        if g >= 0:
            covered -= _remove(g, data, state)
            saved = cost[g]
        covered += _add(k, data, state)
        n_drop = 0
        if covered >= need:
            droppable = by_cost[mark[by_cost] | (loss0[by_cost] <= thr)]
            n_drop, drop_cost, covered = _drop_while_met(
                droppable, data, state, covered, need, drop_buf
            )
            saved += drop_cost
        else:
            saved = 0.0  # the swap lost the target: rejected
        for i in range(m):
            mark[buf[i]] = False
        if saved > cost[k] + tol_c:
            accepted += 1
            stale = True
        else:
            for i in range(n_drop):
                _add(drop_buf[i], data, state)
            _remove(k, data, state)
            if g >= 0:
                _add(g, data, state)
            covered = saved_cov
    return covered, accepted, tries


@numba.njit(cache=True)
def _local_search(
    data, csc_ptr, csc_idx, state, is_fixed, covered, need, budget_left, budget_mode,
    max_passes, max_moves, tol_w, tol_c, insert_order,
):  # pragma: no cover - compiled  # fmt: skip
    """Drop-and-re-cover and insertion moves, passes until none improves; see the module doc."""
    indptr, indices, cost = data[0], data[1], data[3]
    cover_count, chosen = state[0], state[1]
    n_cand = len(cost)
    mark = np.zeros(n_cand, dtype=np.bool_)
    buf = np.empty(n_cand, dtype=np.int64)
    pruned_buf = np.empty(n_cand, dtype=np.int64)
    moves = 0
    attempts = 0
    insertions = 0
    insertion_tries = 0
    pruned = 0
    passes = 0
    for _ in range(max_passes):
        passes += 1
        improved = False
        order = _by_decreasing_cost(chosen, is_fixed, cost)
        for j in order:
            if moves + insertions >= max_moves:
                break
            if not chosen[j] or cost[j] <= 0.0:
                continue
            attempts += 1
            saved_cov = covered
            saved_left = budget_left
            n_pruned = 0
            covered -= _remove(j, data, state)
            if budget_mode:
                budget_left += cost[j]
            m = 0
            for k in range(indptr[j], indptr[j + 1]):
                p = indices[k]
                if cover_count[p] != 0:
                    continue
                for q in range(csc_ptr[p], csc_ptr[p + 1]):
                    c = csc_idx[q]
                    if c == j or mark[c] or is_fixed[c]:
                        continue
                    if not budget_mode and cost[c] >= cost[j]:
                        continue
                    mark[c] = True
                    buf[m] = c
                    m += 1
            for i in range(m):
                mark[buf[i]] = False
            cands = buf[:m].copy()
            if budget_mode:
                picked, covered, _, added = _celf(
                    data, state, cands, covered, np.inf, budget_left, True, np.inf, tol_c
                )
                budget_left -= added
                success = covered > saved_cov + tol_w
            else:
                picked, covered, _, added = _celf(
                    data, state, cands, covered, need, np.inf, False, np.inf, tol_c
                )
                success = False
                if covered >= need:
                    # the new candidates may make chosen neighbours redundant: drop those
                    n_pruned, pruned_cost, covered = _prune_neighbours(
                        data, csc_ptr, csc_idx, state, is_fixed, picked, covered, need, mark,
                        pruned_buf,
                    )  # fmt: skip
                    success = added - pruned_cost < cost[j] - tol_c
            if success:
                moves += 1
                improved = True
            else:
                if not budget_mode:
                    for i in range(n_pruned):
                        _add(pruned_buf[i], data, state)
                for c in picked:
                    _remove(c, data, state)
                _add(j, data, state)
                covered = saved_cov
                budget_left = saved_left
        if not budget_mode and covered >= need and moves + insertions < max_moves:
            covered, accepted, tried = _insertion_pass(
                data, state, is_fixed, insert_order, covered, need,
                max_moves - moves - insertions, tol_w, tol_c, mark, buf, pruned_buf,
            )  # fmt: skip
            insertions += accepted
            insertion_tries += tried
            improved = improved or accepted > 0
        order = _by_decreasing_cost(chosen, is_fixed, cost)
        covered, removed = _prune(data, state, order, covered, need, budget_mode)
        pruned += removed
        if not improved or moves + insertions >= max_moves:
            break
    return covered, budget_left, moves, attempts, insertions, insertion_tries, pruned, passes


@numba.njit(cache=True)
def _add_all(data, state, idx):  # pragma: no cover - compiled
    new = 0.0
    for j in idx:
        new += _add(j, data, state)
    return new


@numba.njit(cache=True)
def _gains(data, state, cands):  # pragma: no cover - compiled
    out = np.zeros(len(cands), dtype=np.float64)
    for i in range(len(cands)):
        out[i] = _gain(cands[i], data, state)
    return out


# --- Python side ----------------------------------------------------------------------------------


def _dense_groups(problem: CoverProblem) -> tuple[NDArray[np.int64], int]:
    n = problem.n_candidates
    if problem.group is None:
        return np.full(n, -1, dtype=np.int64), 0
    group = problem.group
    grouped = group >= 0
    gid = np.full(n, -1, dtype=np.int64)
    uniq, inv = np.unique(group[grouped], return_inverse=True)
    gid[grouped] = inv
    return gid, len(uniq)


def _conflict_adjacency(problem: CoverProblem) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    n = problem.n_candidates
    if problem.conflicts is None or len(problem.conflicts) == 0:
        return np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    a, b = problem.conflicts[:, 0], problem.conflicts[:, 1]
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    order = np.argsort(src, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=ptr[1:])
    return ptr, dst[order].astype(np.int64)


class _Greedy:
    """Arrays and state of one greedy run (shared by the solvers of this package)."""

    def __init__(self, problem: CoverProblem) -> None:
        self.problem = problem
        csr = problem.coverage
        gid, n_groups = _dense_groups(problem)
        conf_ptr, conf_idx = _conflict_adjacency(problem)
        self.data = (
            csr.indptr.astype(np.int64),
            csr.indices.astype(np.int64),
            np.ascontiguousarray(problem.point_weight, dtype=np.float64),
            np.ascontiguousarray(problem.cost, dtype=np.float64),
            gid,
            conf_ptr,
            conf_idx,
        )
        self.n_groups = n_groups
        self.is_fixed = (
            np.zeros(problem.n_candidates, dtype=bool)
            if problem.fixed is None
            else np.array(problem.fixed, dtype=bool)
        )
        self.budget_mode = problem.budget is not None
        self.need = (
            np.inf if self.budget_mode else problem.required_weight - problem.weight_tolerance
        )
        self.tol_w = problem.weight_tolerance
        self.tol_c = 1e-9 * max(float(problem.cost.max(initial=0.0)), 1.0)
        self._csc: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None
        self.reset()

    def reset(self) -> None:
        n_cand, n_pts = self.problem.coverage.shape
        self.state = (
            np.zeros(n_pts, dtype=np.int32),
            np.zeros(n_cand, dtype=np.bool_),
            np.zeros(max(self.n_groups, 1), dtype=np.int32),
            np.zeros(n_cand, dtype=np.int32),
        )
        fixed = np.flatnonzero(self.is_fixed).astype(np.int64)
        self.covered = float(_add_all(self.data, self.state, fixed))
        self.budget_left = np.inf if not self.budget_mode else float(self.problem.budget)  # type: ignore[arg-type]

    @property
    def csc(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        if self._csc is None:
            csc = sparse.csc_array(self.problem.coverage)
            csc.sort_indices()
            self._csc = (csc.indptr.astype(np.int64), csc.indices.astype(np.int64))
        return self._csc

    def free_candidates(self) -> NDArray[np.int64]:
        return np.flatnonzero(~self.is_fixed).astype(np.int64)

    def add(self, idx: NDArray[np.int64]) -> None:
        idx = np.asarray(idx, dtype=np.int64)
        self.covered += float(_add_all(self.data, self.state, idx))
        if self.budget_mode:
            self.budget_left -= float(self.problem.cost[idx].sum())

    def run_greedy(self, cands: NDArray[np.int64]) -> dict[str, int]:
        picked, covered, evals, added = _celf(
            self.data, self.state, cands, self.covered, self.need, self.budget_left,
            self.budget_mode, np.inf, self.tol_c,
        )  # fmt: skip
        self.covered = float(covered)
        if self.budget_mode:
            self.budget_left -= float(added)
        return {"picks": len(picked), "evaluations": int(evals)}

    def prune(self) -> int:
        order = _by_decreasing_cost(self.state[1], self.is_fixed, self.data[3])
        covered, removed = _prune(
            self.data, self.state, order, self.covered, self.need, self.budget_mode
        )
        self.covered = float(covered)
        return int(removed)

    def insertion_order(self) -> NDArray[np.int64]:
        """Free candidates serving some weight, by cost per weight served (then by index)."""
        if self.budget_mode:
            return np.zeros(0, dtype=np.int64)
        served = self.problem.coverage @ self.data[2]
        free = np.flatnonzero(~self.is_fixed & (served > 0)).astype(np.int64)
        ratio = self.data[3][free] / served[free]
        return free[np.argsort(ratio, kind="stable")]

    def local_search(self, max_passes: int, max_moves: int) -> dict[str, int]:
        csc_ptr, csc_idx = self.csc
        covered, left, moves, attempts, insertions, tries, pruned, passes = _local_search(
            self.data, csc_ptr, csc_idx, self.state, self.is_fixed, self.covered, self.need,
            self.budget_left, self.budget_mode, max_passes, max_moves, self.tol_w, self.tol_c,
            self.insertion_order(),
        )  # fmt: skip
        self.covered = float(covered)
        self.budget_left = float(left)
        return {
            "moves": int(moves),
            "attempts": int(attempts),
            "insertions": int(insertions),
            "insertion_tries": int(tries),
            "pruned": int(pruned),
            "passes": int(passes),
        }

    def chosen(self) -> NDArray[np.int64]:
        return np.flatnonzero(self.state[1]).astype(np.int64)

    def solve(self, local_search: bool, max_passes: int, max_moves: int) -> dict[str, Any]:
        stats: dict[str, Any] = {}
        free = self.free_candidates()
        stats.update(self.run_greedy(free))
        stats["redundant_dropped"] = self.prune()
        if local_search:
            ls = self.local_search(max_passes, max_moves)
            stats["local_search"] = ls
            if self.budget_mode:
                more = self.run_greedy(free)
                stats["picks"] += more["picks"]
                stats["evaluations"] += more["evaluations"]
                stats["redundant_dropped"] += self.prune()
        return stats


def greedy(
    problem: CoverProblem,
    *,
    local_search: bool = True,
    max_passes: int = 10,
    max_moves: int | None = None,
) -> Solution:
    """Solve with the lazy cost-effectiveness greedy, redundancy removal and local search.

    Fixed candidates are chosen first; groups and conflicts are respected throughout. Returns
    status ``"target met"`` or ``"target not met"`` (honestly: with conflicts or groups the
    greedy can miss a target that is reachable). ``max_passes`` bounds the local-search passes
    and ``max_moves`` (default ``10 × n_candidates``) the accepted moves.
    """
    t0 = time.perf_counter()
    moves_cap = 10 * max(problem.n_candidates, 1) if max_moves is None else int(max_moves)
    run = _Greedy(problem)
    stats = run.solve(local_search, max_passes, moves_cap)
    chosen = run.chosen()
    if run.budget_mode:
        # Budgeted greedy guard: the best single affordable candidate can beat the ratio greedy.
        best = _best_single(run)
        if best is not None:
            single = _Greedy(problem)
            single.add(np.array([best], dtype=np.int64))
            single_stats = single.solve(local_search, max_passes, moves_cap)
            if single.covered > run.covered + run.tol_w:
                chosen = single.chosen()
                stats = dict(single_stats, seeded_with_best_single=int(best))
    sol = make_solution(problem, chosen, solver="greedy", status="", time_s=0.0, stats=stats)
    return _finish(sol, t0)


def _best_single(run: _Greedy) -> int | None:
    """The affordable candidate serving the most weight beyond the fixed ones."""
    fresh = _Greedy(run.problem)
    free = fresh.free_candidates()
    fits = run.problem.cost[free] <= fresh.budget_left + fresh.tol_c
    free = free[fits]
    if len(free) == 0:
        return None
    gains = _gains(fresh.data, fresh.state, free)
    # available: not blocked by a fixed conflict, group not taken by a fixed candidate
    _, chosen, group_used, blocked = fresh.state
    gid = fresh.data[4][free]
    ok = ~chosen[free] & (blocked[free] == 0)
    ok &= (gid < 0) | (group_used[np.maximum(gid, 0)] == 0)
    gains = np.where(ok, gains, -1.0)
    k = int(np.argmax(gains))
    return int(free[k]) if gains[k] > 0 else None


def _finish(sol: Solution, t0: float) -> Solution:
    return Solution(
        chosen=sol.chosen,
        cost=sol.cost,
        covered_weight=sol.covered_weight,
        share=sol.share,
        target_met=sol.target_met,
        lower_bound=None,
        gap=None,
        solver=sol.solver,
        status="target met" if sol.target_met else "target not met",
        time_s=time.perf_counter() - t0,
        stats=sol.stats,
    )
