"""The greedy heuristic: choices on hand-made cases, constraints, honesty, local search, speed."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import sparse

from mastplan.planning import CoverProblem, check, evaluate, greedy, solve_milp
from mastplan.planning.greedy import _Greedy


def test_full_cover_by_hand(small):
    # ratios: D 2/2 = 1 first; then C covers {0,1,3,4} at 5/4 against A, B at 4/2: C. Total 7.
    s = greedy(small())
    assert s.chosen.tolist() == [2, 3]
    assert s.cost == 7.0
    assert s.target_met and s.status == "target met"
    assert s.lower_bound is None and s.gap is None
    assert s.solver == "greedy"


def test_capped_gain_prefers_the_cheap_finisher():
    # 100 points; E covers points 0..89 (cost 9), F covers 90..99 (cost 10), G covers point 99
    # (cost 1). Target 91%: after E (ratio 0.1), F's useful gain is capped at 1 point, so its
    # ratio is 10 against G's 1: G finishes the job.
    cov = np.zeros((3, 100), dtype=bool)
    cov[0, :90] = True
    cov[1, 90:] = True
    cov[2, 99] = True
    p = CoverProblem(sparse.csr_array(cov), np.ones(100), np.array([9.0, 10.0, 1.0]), 0.91)
    s = greedy(p, local_search=False)
    assert s.chosen.tolist() == [0, 2]
    assert s.cost == 10.0


def test_zero_cost_candidates_come_first_and_unneeded_ones_are_dropped(small):
    cost = np.array([4.0, 4.0, 0.0, 0.0])
    s = greedy(small(cost=cost, target_share=4 / 6))
    # C and D are free and together cover everything; both are needed for 4 points? C alone is 4
    assert s.cost == 0.0
    assert s.target_met
    assert set(s.chosen.tolist()) <= {2, 3}


def test_redundancy_removal_drops_what_became_useless(cover):
    # A at 1.0 per point first? ratios: A 3/3 = 1, B 3/3 = 1, H covers all 6 at 5.9 (0.98): H
    # first and alone. Without H the others would be needed.
    cov = np.vstack([cover[:2], np.ones((1, 6), dtype=bool)])
    p = CoverProblem(sparse.csr_array(cov), np.ones(6), np.array([3.0, 3.0, 5.9]), 1.0)
    s = greedy(p)
    assert s.chosen.tolist() == [2]
    # a reverse case: cheap singles get picked first, then a big one makes them redundant
    cov2 = np.zeros((4, 4), dtype=bool)
    cov2[0, 0] = cov2[1, 1] = True
    cov2[2, :] = True  # covers all 4 at 3.6 (0.9 per point)
    cov2[3, 2:] = True  # covers 2..3 at 1.9 (0.95)
    p2 = CoverProblem(sparse.csr_array(cov2), np.ones(4), np.array([0.8, 0.8, 3.6, 1.9]), 1.0)
    s2 = greedy(p2, local_search=False)
    check(p2, s2.chosen)
    # greedy: 0 (0.8), 1 (0.8), then 3 (1.9 for 2 = 0.95) vs 2 (3.6 for 2 = 1.8): 3. Cost 3.5.
    assert s2.chosen.tolist() == [0, 1, 3]
    assert s2.cost == pytest.approx(3.5)


def test_local_search_replaces_an_expensive_candidate_by_cheaper_ones():
    # Six unit points, target all of them.
    #   X = {0,1,2,3} cost 4.0 (1.0 per point)    Y1 = {0,1,4} 3.3 (1.1)   Y2 = {2,3,5} 3.3 (1.1)
    #   Z4 = {4} 1.5                               Z5 = {5} 1.5
    # Greedy: X first (1.0/pt); {4,5} remain: Z4, Z5 (1.5 each) beat Y1, Y2 (3.3 for one
    # point). Total 7.0. Local search drops X (the most expensive), re-covers {0,1,2,3} with the
    # cheaper Y1 + Y2 (6.6), which make Z4 and Z5 redundant: 6.6 − 3.0 = 3.6 < 4.0, accepted.
    # The optimum is Y1 + Y2 = 6.6.
    cov = np.array(
        [
            [1, 1, 1, 1, 0, 0],  # X
            [1, 1, 0, 0, 1, 0],  # Y1
            [0, 0, 1, 1, 0, 1],  # Y2
            [0, 0, 0, 0, 1, 0],  # Z4
            [0, 0, 0, 0, 0, 1],  # Z5
        ],
        dtype=bool,
    )
    cost = np.array([4.0, 3.3, 3.3, 1.5, 1.5])
    p = CoverProblem(sparse.csr_array(cov), np.ones(6), cost, 1.0)
    plain = greedy(p, local_search=False)
    assert plain.chosen.tolist() == [0, 3, 4]
    assert plain.cost == pytest.approx(7.0)
    better = greedy(p, local_search=True)
    assert better.chosen.tolist() == [1, 2]
    assert better.cost == pytest.approx(6.6)
    assert better.stats["local_search"]["moves"] == 1
    # with Y1, Y2 at 3.6 the move would cost 7.2 − 3.0 = 4.2 > 4.0: rejected
    worse = greedy(p.replace(cost=np.array([4.0, 3.6, 3.6, 1.5, 1.5])))
    assert worse.chosen.tolist() == [0, 3, 4]


def _three_cheap_and_one_big(big_cost: float = 7.0, **kw) -> CoverProblem:
    """Three unit points; S0 = {0} costs 2, S1 = {1} 3, S2 = {2} 6, M = {0,1,2} ``big_cost``."""
    cov = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]], dtype=bool)
    cost = np.array([2.0, 3.0, 6.0, big_cost])
    return CoverProblem(sparse.csr_array(cov), np.ones(3), cost, 1.0, **kw)


def test_insertion_replaces_three_cheap_candidates_by_one():
    # Greedy ratios: S0 2/1 = 2 < M 7/3 ≈ 2.33: S0. Then S1 3/1 = 3 < M 7/2 = 3.5: S1. Then
    # S2 6/1 = 6 < M 7/1: S2. Plain greedy: S0 + S1 + S2 = 2 + 3 + 6 = 11.
    # Drop moves cannot help: they re-cover with cheaper candidates only, and the only other
    # server of each point is M (7), dearer than any S_i. Insertion: add M (7), then S2 (6),
    # S1 (3), S0 (2) are redundant, most expensive first: saving 11 − 7 = 4. Optimum: M, 7.
    p = _three_cheap_and_one_big()
    plain = greedy(p, local_search=False)
    assert plain.chosen.tolist() == [0, 1, 2]
    assert plain.cost == 11.0
    s = greedy(p)
    assert s.chosen.tolist() == [3]
    assert s.cost == 7.0
    assert s.target_met
    ls = s.stats["local_search"]
    assert ls["moves"] == 0  # no drop move
    assert ls["insertions"] == 1
    # M at 11 saves nothing (11 − 11 = 0): the move needs a strict saving and is undone
    same = greedy(_three_cheap_and_one_big(11.0))
    assert same.chosen.tolist() == [0, 1, 2]
    assert same.cost == 11.0
    assert same.stats["local_search"]["insertions"] == 0
    # at 10.5 it saves 0.5: kept
    assert greedy(_three_cheap_and_one_big(10.5)).chosen.tolist() == [3]


def test_insertion_can_drop_a_candidate_it_shares_no_point_with():
    # Partial cover: 8 unit points, target 7 (share 7/8).
    #   D = {0,1,2,6} 3.6 (0.9 per point)   A = {0,...,5} 6.0 (1.0)   K = {7} 2.5
    # Greedy: D (0.9) first; then A adds {3,4,5} at 6/3 = 2 against K's 2.5: A; 7 points,
    # done, 9.6. D alone serves only point 6, A alone {3,4,5}, and nobody cheaper serves
    # those: no drop move. Inserting K (cost 2.5) covers the 8th point, and then D, which
    # shares no point with K, is redundant: A + K = 8.5, saving 1.1 (the optimum).
    cov = np.zeros((3, 8), dtype=bool)
    cov[0, [0, 1, 2, 6]] = True
    cov[1, :6] = True
    cov[2, 7] = True
    p = CoverProblem(sparse.csr_array(cov), np.ones(8), np.array([3.6, 6.0, 2.5]), 7 / 8)
    assert greedy(p, local_search=False).chosen.tolist() == [0, 1]
    s = greedy(p)
    assert s.chosen.tolist() == [1, 2]
    assert s.cost == pytest.approx(8.5)
    assert s.covered_weight == 7.0
    assert s.stats["local_search"]["insertions"] == 1


def test_an_insertion_that_does_not_pay_is_undone():
    # 9 unit points, target 8.  A = {0,...,5} 6, D = {6} 3, E = {7} 3, K = {8} 4.
    # Greedy: A (1 per point), then D and E (3 each, D first by index) against K (4): 12.
    # Inserting K gives one point of slack, so D and E each look droppable (the bound, 6,
    # exceeds K's 4) and the move is tried; but only one can go: saving 3 < 4, undone.
    cov = np.zeros((4, 9), dtype=bool)
    cov[0, :6] = True
    cov[1, 6] = cov[2, 7] = cov[3, 8] = True
    p = CoverProblem(sparse.csr_array(cov), np.ones(9), np.array([6.0, 3.0, 3.0, 4.0]), 8 / 9)
    s = greedy(p)
    assert s.chosen.tolist() == [0, 1, 2]
    assert s.cost == 12.0
    ls = s.stats["local_search"]
    assert ls["insertion_tries"] >= 1
    assert ls["insertions"] == 0


def test_insertion_swaps_a_chosen_group_mate():
    # S0 and M are two configurations of one structure (group 0). The greedy takes S0 (ratio 2
    # against M's 7/3), which blocks M, then S1 and S2: 11. The move swaps S0 for M: remove S0,
    # add M, S2 and S1 become redundant: 7, a saving of 4.
    group = np.array([0, -1, -1, 0])
    p = _three_cheap_and_one_big(group=group)
    assert greedy(p, local_search=False).chosen.tolist() == [0, 1, 2]
    s = greedy(p)
    check(p, s.chosen)
    assert s.chosen.tolist() == [3]
    assert s.cost == 7.0
    # a fixed group-mate is never swapped out: S0 stays (free), M is out of reach, S1 + S2 = 9
    pf = _three_cheap_and_one_big(group=group, fixed=np.array([True, False, False, False]))
    sf = greedy(pf)
    assert sf.chosen.tolist() == [0, 1, 2]
    assert sf.cost == 9.0


def test_a_swap_that_loses_the_target_is_rejected():
    # As above, but S0 = {0, 3} also serves a fourth point that nothing else serves, and costs
    # 4 (ratio 4/2 = 2 < M's 7/3). Greedy: S0, then S1 (3), S2 (6): 13. Swapping S0 for M
    # leaves point 3 uncovered (3 of 4 < target): rejected. 13 is the optimum (S0 is forced,
    # which excludes M).
    cov = np.array([[1, 0, 0, 1], [0, 1, 0, 0], [0, 0, 1, 0], [1, 1, 1, 0]], dtype=bool)
    p = CoverProblem(
        sparse.csr_array(cov), np.ones(4), np.array([4.0, 3.0, 6.0, 7.0]), 1.0,
        group=np.array([0, -1, -1, 0]),
    )  # fmt: skip
    s = greedy(p)
    assert s.chosen.tolist() == [0, 1, 2]
    assert s.cost == 13.0
    assert s.target_met
    assert s.stats["local_search"]["insertions"] == 0
    assert solve_milp(p, mip_rel_gap=0).cost == pytest.approx(13.0)


def test_a_blocked_candidate_is_never_inserted():
    # M conflicts with a fixed candidate F (index 4, serving nothing): M can never be chosen,
    # and the plan stays S0 + S1 + S2 = 11 (F is free), which is then the optimum.
    cov = np.array(
        [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [0, 0, 0]],
        dtype=bool,
    )
    p = CoverProblem(
        sparse.csr_array(cov), np.ones(3), np.array([2.0, 3.0, 6.0, 7.0, 1.0]), 1.0,
        conflicts=np.array([[3, 4]]), fixed=np.array([False, False, False, False, True]),
    )  # fmt: skip
    s = greedy(p)
    check(p, s.chosen)
    assert s.chosen.tolist() == [0, 1, 2, 4]
    assert s.cost == 11.0
    assert solve_milp(p, mip_rel_gap=0).cost == pytest.approx(11.0)
    # M in conflict with the chosen S0: the move does not remove a blocker (other than a
    # group-mate), so M is not inserted either, although M alone (7) would be allowed
    p2 = _three_cheap_and_one_big(conflicts=np.array([[3, 0]]))
    s2 = greedy(p2)
    check(p2, s2.chosen)
    assert s2.chosen.tolist() == [0, 1, 2]
    assert s2.stats["local_search"]["insertions"] == 0


def test_fixed_candidates_are_kept_and_free(small):
    s = greedy(small(fixed=np.array([True, False, False, False])))
    # A is there; {3,4,5} remain: B (4 for 3) against C (5 for 2) and D (2 for 1): B.
    assert s.chosen.tolist() == [0, 1]
    assert s.cost == 4.0


def test_groups_and_conflicts_are_respected(small):
    # C and D in one group: the greedy's C + D is not allowed
    s = greedy(small(group=np.array([0, 1, 2, 2])))
    check(small(group=np.array([0, 1, 2, 2])), s.chosen)
    assert s.target_met
    assert not {2, 3} <= set(s.chosen.tolist())
    s2 = greedy(small(conflicts=np.array([[2, 3]])))
    assert s2.target_met and not {2, 3} <= set(s2.chosen.tolist())


def test_target_not_met_is_said_honestly(small):
    # every pair conflicts: at most one candidate, none covers everything
    pairs = np.array([[i, j] for i in range(4) for j in range(i + 1, 4)])
    p = small(conflicts=pairs)
    s = greedy(p)
    check(p, s.chosen)
    assert not s.target_met
    assert s.status == "target not met"
    assert len(s.chosen) == 1


def test_budget_mode_maximises_weight_per_yuan_and_fits(small):
    p = small(budget=6.0)
    s = greedy(p)
    check(p, s.chosen)
    assert s.cost <= 6.0
    assert s.covered_weight == 4.0  # D + A, or C
    assert s.stats["local_search"]["insertions"] == 0  # minimum-cost mode only


def test_budget_mode_uses_the_best_single_guard():
    # K: 1 point for 0.1 (10 per yuan), L: 50 points for 10 (5 per yuan). Budget 10: the ratio
    # greedy takes K and then cannot afford L; L alone is far better.
    cov = np.zeros((2, 51), dtype=bool)
    cov[0, 0] = True
    cov[1, 1:] = True
    p = CoverProblem(sparse.csr_array(cov), np.ones(51), np.array([0.1, 10.0]), 1.0, budget=10.0)
    s = greedy(p)
    assert s.chosen.tolist() == [1]
    assert s.covered_weight == 50.0


@st.composite
def instances(draw):
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
        pairs = [p for p in pairs if p[0] != p[1]]
        conflicts = np.array(pairs, dtype=np.int64).reshape(-1, 2)
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
    budget = draw(st.one_of(st.none(), st.integers(0, 40).map(float)))
    return CoverProblem(sparse.csr_array(cov), w, cost, share, group, conflicts, fixed, budget)


@st.composite
def scale_instances(draw, max_n=12, max_m=20):
    """Minimum-cost instances where insertion moves matter.

    Candidates of varied reach whose cost grows like the square root of the points they serve
    (economies of scale, as with sites: a big one can cost less than the small ones it
    replaces); groups, conflicts and a fixed candidate at times.
    """
    n = draw(st.integers(2, max_n))
    m = draw(st.integers(2, max_m))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    cov = rng.random((n, m)) < rng.uniform(0.05, 0.7, (n, 1))
    w = rng.integers(1, 10, m).astype(float)
    cost = np.round(2.0 * np.sqrt(cov.sum(axis=1)) + rng.integers(0, 3, n))
    share = draw(st.sampled_from([0.5, 0.75, 0.9, 1.0]))
    group = rng.integers(-1, max(n // 2, 1), n) if draw(st.booleans()) else None
    conflicts = None
    if draw(st.booleans()):
        pairs = rng.integers(0, n, (int(rng.integers(0, n)), 2))
        conflicts = pairs[pairs[:, 0] != pairs[:, 1]]
    fixed = None
    if draw(st.booleans()):
        fixed = np.zeros(n, dtype=bool)
        fixed[rng.integers(0, n)] = True
    return CoverProblem(sparse.csr_array(cov), w, cost, share, group, conflicts, fixed)


@settings(max_examples=100, deadline=None)
@given(instances(), st.booleans())
def test_greedy_solutions_are_valid_and_honest(p, local_search):
    s = greedy(p, local_search=local_search)
    check(p, s.chosen)
    covered, share = evaluate(p, s.chosen)
    assert s.covered_weight == pytest.approx(covered)
    assert s.share == pytest.approx(share)
    assert s.target_met == p.meets_target(covered)
    assert s.status == ("target met" if s.target_met else "target not met")
    fixed = p.fixed_indices()
    assert set(fixed.tolist()) <= set(s.chosen.tolist())
    assert s.cost == pytest.approx(p.cost[np.setdiff1d(s.chosen, fixed)].sum())
    if p.budget is None and p.group is None and p.conflicts is None:
        # without side constraints the target is reachable iff all candidates reach it
        assert s.target_met == p.meets_target(evaluate(p, np.arange(p.n_candidates))[0])
    if p.budget is None and s.target_met:
        # no chosen non-fixed candidate with positive cost is redundant
        for j in np.setdiff1d(s.chosen, fixed):
            if p.cost[j] > 0:
                assert not p.meets_target(evaluate(p, s.chosen[s.chosen != j])[0])


@settings(max_examples=60, deadline=None)
@given(instances())
def test_local_search_never_costs_more(p):
    plain = greedy(p, local_search=False)
    better = greedy(p, local_search=True)
    if p.budget is None:
        if plain.target_met:
            assert better.target_met
            assert better.cost <= plain.cost + 1e-9
    else:
        assert better.covered_weight >= plain.covered_weight - 1e-9


@settings(max_examples=100, deadline=None)
@given(scale_instances())
def test_insertion_invariants(p):
    plain = greedy(p, local_search=False)
    s = greedy(p)
    check(p, s.chosen)
    if plain.target_met:
        assert s.target_met
        assert s.cost <= plain.cost + 1e-9
    assert greedy(p).chosen.tolist() == s.chosen.tolist()  # deterministic
    # the incremental state matches the chosen set: every rejected move was undone exactly
    run = _Greedy(p)
    run.solve(True, 10, 10 * p.n_candidates)
    chosen = run.chosen()
    assert chosen.tolist() == s.chosen.tolist()
    cover_count, _, group_used, blocked = run.state
    rows = p.coverage[chosen]
    assert np.array_equal(cover_count, np.asarray(rows.sum(axis=0)).ravel())
    assert run.covered == pytest.approx(evaluate(p, chosen)[0])
    gid = run.data[4][chosen]
    assert np.array_equal(group_used, np.bincount(gid[gid >= 0], minlength=len(group_used)))
    expected_blocked = np.zeros(p.n_candidates, dtype=np.int64)
    if p.conflicts is not None:
        for a, b in p.conflicts:
            expected_blocked[b] += run.state[1][a]
            expected_blocked[a] += run.state[1][b]
    assert np.array_equal(blocked, expected_blocked)


@settings(max_examples=60, deadline=None)
@given(scale_instances(max_n=8, max_m=10))
def test_greedy_is_never_cheaper_than_the_optimum(p):
    s = greedy(p)
    if not s.target_met:
        return
    opt = solve_milp(p, mip_rel_gap=0, time_limit_s=10)
    assert opt.status == "optimal"
    assert s.cost >= opt.cost - 1e-6


def test_large_random_instance_is_fast():
    # 20,000 candidates × 40,000 points, 50 points per candidate (1 M nonzeros)
    rng = np.random.default_rng(7)
    n, m, k = 20_000, 40_000, 50
    rows = np.repeat(np.arange(n), k)
    cols = rng.integers(0, m, n * k)
    cov = sparse.csr_array((np.ones(n * k, dtype=bool), (rows, cols)), shape=(n, m))
    cost = rng.choice([20e3, 60e3, 100e3, 350e3], n)
    p = CoverProblem(cov, rng.uniform(0.5, 2.0, m), cost, 0.9)
    greedy(p.replace(coverage=cov[:10], cost=cost[:10]))  # compile outside the timing
    t0 = time.perf_counter()
    s = greedy(p)
    elapsed = time.perf_counter() - t0
    assert s.target_met
    assert elapsed < 20.0
