"""The MILP (HiGHS) against hand-worked optima and brute force; solve() orchestration."""

from __future__ import annotations

import importlib
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import sparse

from mastplan.planning import CoverProblem, check, evaluate, greedy, solve, solve_milp


@pytest.mark.parametrize(
    ("changes", "optimum", "chosen"),
    [
        # all 6 points: A+B = 8, C+D = 7 (C ∪ D = everything), anything with C and A or B ≥ 9
        ({}, 7.0, [2, 3]),
        # 4 of 6 points: C alone (5); A+D = 6; B+D = 6; nothing cheaper covers 4
        ({"target_share": 4 / 6}, 5.0, [2]),
        # C and D are one structure: A+B = 8
        ({"group": np.array([0, 1, 2, 2])}, 8.0, [0, 1]),
        # A is fixed (free): {3,4,5} remain: B (4) < C+D (7)
        ({"fixed": np.array([True, False, False, False])}, 4.0, [0, 1]),
        # C conflicts with D: A+B = 8
        ({"conflicts": np.array([[2, 3]])}, 8.0, [0, 1]),
    ],
)
def test_hand_worked_optima(changes, optimum, chosen, small):
    p = small(**changes)
    s = solve_milp(p)
    assert s.status == "optimal"
    assert s.cost == optimum
    assert s.chosen.tolist() == chosen
    assert s.gap == 0.0
    assert s.lower_bound == pytest.approx(optimum)
    assert s.target_met
    check(p, s.chosen)


@pytest.mark.parametrize(
    ("budget", "covered", "chosen"),
    [
        (1.0, 0.0, []),  # nothing affordable
        (5.0, 4.0, [2]),  # C (4 points) beats A (3), D (2)
        (6.0, 4.0, None),  # A+D or C: 4 points either way
        (7.0, 6.0, [2, 3]),  # C+D: everything
    ],
)
def test_budget_mode_by_hand(budget, covered, chosen, small):
    p = small(budget=budget)
    s = solve_milp(p)
    assert s.status == "optimal"
    assert s.covered_weight == covered
    assert s.lower_bound == pytest.approx(covered)
    assert s.gap == 0.0 or covered == 0.0
    assert s.cost <= budget
    assert s.target_met == (covered == 6.0)
    if chosen is not None:
        assert s.chosen.tolist() == chosen


def test_milp_beats_greedy_on_the_classic_counterexample():
    # Two rows of 7 points. R1 = top row, R2 = bottom row; column blocks C1 = column 0 (2
    # points), C2 = columns 1-2 (4), C3 = columns 3-6 (8). All cost 1. Greedy takes C3 (8 > 7),
    # then C2 (4 > 3), then C1 (2 > 1): 3. The optimum is R1 + R2 = 2. Local search cannot help:
    # nothing is cheaper than 1.
    top, bottom = np.arange(7), 7 + np.arange(7)
    cov = np.zeros((5, 14), dtype=bool)
    cov[0, top] = True
    cov[1, bottom] = True
    for k, cols in enumerate([[0], [1, 2], [3, 4, 5, 6]]):
        cov[2 + k, top[cols]] = True
        cov[2 + k, bottom[cols]] = True
    p = CoverProblem(sparse.csr_array(cov), np.ones(14), np.ones(5), 1.0)
    g = greedy(p)
    assert g.cost == 3.0
    m = solve_milp(p, warm_start=g)
    assert m.cost == 2.0
    assert m.chosen.tolist() == [0, 1]
    assert m.gap == 0.0 and m.status == "optimal"


def test_partial_cover_counterexample(small):
    # 4 of 6 points: the plain greedy takes D (1.0 per point), then A (ratio 2, tie with B) = 6;
    # the optimum is C alone = 5 (which the local search's insertion move finds too).
    p = small(target_share=4 / 6)
    assert greedy(p, local_search=False).cost == 6.0
    assert greedy(p).cost == 5.0
    s = solve(p, solver="auto", local_search=False)
    assert s.cost == 5.0 and s.solver == "milp"
    assert s.stats["solvers_run"] == ["greedy", "milp"]


def test_infeasible_with_conflicts(small):
    pairs = np.array([[i, j] for i in range(4) for j in range(i + 1, 4)])
    p = small(conflicts=pairs)
    s = solve_milp(p)
    assert s.status == "infeasible"
    assert not s.target_met
    assert s.lower_bound is None and s.gap is None
    check(p, s.chosen)
    out = solve(p, solver="milp")
    assert not out.target_met
    assert out.status == "infeasible"
    assert "HiGHS proved" in out.stats["explanation"]


def test_solve_explains_an_unreachable_target(small):
    p = small(total_weight=8.0)  # 2 of 8 weight units are served by nobody
    for solver in ("greedy", "milp", "auto"):
        s = solve(p, solver=solver)
        assert not s.target_met
        assert "75.00%" in s.stats["explanation"]


def test_solve_rejects_an_unknown_solver(small):
    with pytest.raises(ValueError, match="solver"):
        solve(small(), solver="simplex")  # type: ignore[arg-type]


def test_auto_keeps_the_greedy_plan_for_big_problems(monkeypatch, small):
    solve_module = importlib.import_module("mastplan.planning.solve")  # `solve` is the function
    monkeypatch.setattr(solve_module, "AUTO_MAX_CANDIDATES", 3)
    p = small(target_share=4 / 6)
    s = solve(p, solver="auto", local_search=False)
    assert s.solver == "greedy" and s.cost == 6.0
    assert "too big" in s.stats["milp_skipped"]
    assert solve(p, solver="milp").cost == 5.0  # "milp" has no size limit


def test_fixed_costs_are_not_counted(small):
    p = small(cost=np.array([100.0, 4.0, 5.0, 2.0]), fixed=np.array([True, False, False, False]))
    s = solve_milp(p)
    assert s.cost == 4.0 and s.lower_bound == pytest.approx(4.0)
    assert 0 in s.chosen.tolist()


# --- brute force --------------------------------------------------------------------------------


def brute_force(p: CoverProblem) -> tuple[float | None, float]:
    """(least cost meeting the target or None, most weight within the budget) by enumeration."""
    n = p.n_candidates
    subsets = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(bool)
    dense = p.coverage.toarray()
    covered = (subsets.astype(np.int64) @ dense.astype(np.int64)) > 0
    weight = covered @ p.point_weight
    fixed = np.zeros(n, bool) if p.fixed is None else p.fixed
    cost = subsets @ np.where(fixed, 0.0, p.cost)
    ok = subsets[:, fixed].all(axis=1)
    if p.group is not None:
        for g in np.unique(p.group[p.group >= 0]):
            ok &= subsets[:, p.group == g].sum(axis=1) <= 1
    if p.conflicts is not None:
        for i, j in p.conflicts:
            ok &= ~(subsets[:, i] & subsets[:, j])
    if p.budget is not None:
        ok &= cost <= p.budget + 1e-9
    meets = ok & (weight >= p.required_weight - p.weight_tolerance)
    least = float(cost[meets].min()) if meets.any() else None
    most = float(weight[ok].max()) if ok.any() else -1.0
    return least, most


@st.composite
def instances(draw, budget: bool):
    n = draw(st.integers(1, 12))
    m = draw(st.integers(1, 20))
    cov = draw(arrays(np.bool_, (n, m)))
    w = draw(arrays(np.float64, m, elements=st.integers(0, 9).map(float)))
    cost = draw(arrays(np.float64, n, elements=st.integers(0, 20).map(float)))
    share = draw(st.sampled_from([0.2, 0.5, 0.75, 0.9, 1.0]))
    group = None
    if draw(st.booleans()):
        group = draw(arrays(np.int64, n, elements=st.integers(-1, max(n // 2, 1))))
    conflicts = None
    if n >= 2 and draw(st.booleans()):
        pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=n))
        conflicts = np.array([q for q in pairs if q[0] != q[1]], dtype=np.int64).reshape(-1, 2)
    fixed = None
    if draw(st.booleans()):
        fixed = np.zeros(n, dtype=bool)
        for j in draw(st.lists(st.integers(0, n - 1), max_size=3)):
            trial = fixed.copy()
            trial[j] = True
            try:
                CoverProblem(sparse.csr_array(cov), w, cost, share, group, conflicts, trial)
            except ValueError:
                continue
            fixed = trial
    b = float(draw(st.integers(0, 40))) if budget else None
    return CoverProblem(sparse.csr_array(cov), w, cost, share, group, conflicts, fixed, b)


@settings(max_examples=100, deadline=None)
@given(instances(budget=False))
def test_min_cost_equals_brute_force(p):
    least, _ = brute_force(p)
    m = solve_milp(p, mip_rel_gap=0.0)
    check(p, m.chosen)
    g = greedy(p)
    check(p, g.chosen)
    assert g.target_met == p.meets_target(evaluate(p, g.chosen)[0])
    if least is None:
        assert m.status == "infeasible"
        assert not m.target_met
        assert not g.target_met
        return
    assert m.status == "optimal", (m, p.coverage.toarray().tolist())
    assert m.target_met
    assert m.cost == pytest.approx(least, abs=1e-6)
    assert m.gap == pytest.approx(0.0, abs=1e-6)
    if g.target_met:
        assert g.cost >= m.cost - 1e-6
    elif p.group is None and p.conflicts is None:
        pytest.fail("greedy missed a reachable target without groups or conflicts")
    # warm-started, the MILP ends at the same optimum
    w = solve_milp(p, mip_rel_gap=0.0, warm_start=g)
    assert w.cost == pytest.approx(least, abs=1e-6)


@settings(max_examples=80, deadline=None)
@given(instances(budget=True))
def test_budget_mode_equals_brute_force(p):
    _, most = brute_force(p)
    m = solve_milp(p, mip_rel_gap=0.0)
    check(p, m.chosen)
    assert m.status == "optimal"
    assert m.covered_weight == pytest.approx(most, abs=1e-6)
    assert m.target_met == p.meets_target(m.covered_weight)
    g = greedy(p)
    check(p, g.chosen)
    assert g.covered_weight <= m.covered_weight + 1e-6
    s = solve(p, solver="milp", mip_rel_gap=0.0)
    assert s.covered_weight == pytest.approx(most, abs=1e-6)


def random_problem(
    n: int, m: int, k: int, seed: int, share: float, unit_cost: bool
) -> CoverProblem:
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n), k)
    cols = rng.integers(0, m, n * k)
    cov = sparse.csr_array((np.ones(n * k, dtype=bool), (rows, cols)), shape=(n, m))
    if unit_cost:
        cost = np.ones(n)
    else:
        cost = rng.choice([20e3, 60e3, 100e3, 350e3], n) * rng.uniform(0.9, 1.1, n)
    return CoverProblem(cov, rng.uniform(0.5, 2.0, m), cost, share)


def test_time_limit_is_respected():
    # random sparse cover with unit costs: the LP bound is far below the optimum, so branch and
    # bound is far from done after one second
    p = random_problem(1000, 2000, 10, seed=3, share=0.95, unit_cost=True)
    g = greedy(p)
    t0 = time.perf_counter()
    s = solve_milp(p, time_limit_s=1.0, warm_start=g)
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0 + 4.0
    assert s.status in ("time limit", "optimal")
    assert s.target_met
    assert s.cost <= g.cost + 1e-6
    if s.status == "time limit":
        assert s.lower_bound is not None and s.gap is not None
        assert s.lower_bound <= s.cost + 1e-6
        assert s.gap == pytest.approx((s.cost - s.lower_bound) / s.cost)
        assert s.gap > 0


def test_warm_start_is_returned_when_highs_has_no_time():
    p = random_problem(3000, 6000, 8, seed=4, share=0.95, unit_cost=False)
    g = greedy(p)
    s = solve_milp(p, time_limit_s=0.001, warm_start=g)
    assert s.target_met
    assert s.cost <= g.cost + 1e-6
    assert s.stats["incumbent"] in ("warm start", "highs")
    t0 = time.perf_counter()
    auto = solve(p, solver="auto", time_limit_s=1.5)
    assert time.perf_counter() - t0 < 1.5 + 4.0
    assert auto.target_met and auto.cost <= g.cost + 1e-6
