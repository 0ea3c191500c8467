"""The cover problem: validation, evaluation, checks, point reduction, infeasibility messages."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import sparse

from mastplan.planning import CoverProblem, check, evaluate, explain_infeasible, reduce_points


def test_fields_are_normalised(small, cover):
    p = small(coverage=cover.astype(int), group=[0, 0, 1, 2], conflicts=[[1, 0], [0, 1]])
    assert isinstance(p.coverage, sparse.csr_array)
    assert p.coverage.dtype == np.bool_
    assert p.total_weight == 6.0
    assert p.group.dtype == np.int64
    assert p.conflicts.tolist() == [[0, 1]]  # sorted, deduplicated
    assert p.required_weight == 6.0
    assert p.n_candidates == 4 and p.n_points == 6


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"point_weight": np.ones(5)}, "point_weight must have shape"),
        ({"cost": np.ones(3)}, "cost must have shape"),
        ({"cost": np.array([1.0, -1.0, 1.0, 1.0])}, "cost must be >= 0"),
        ({"point_weight": np.array([1, 1, np.nan, 1, 1, 1.0])}, "point_weight must be finite"),
        ({"target_share": 0.0}, "target_share must be in"),
        ({"target_share": 1.01}, "target_share must be in"),
        ({"conflicts": np.array([[0, 4]])}, "outside"),
        ({"conflicts": np.array([[2, 2]])}, "with itself"),
        ({"conflicts": np.array([0, 1])}, "shape"),
        ({"group": np.array([0.5, 1, 2, 3])}, "group must be integer"),
        ({"fixed": np.array([1, 0, 0, 0])}, "fixed must be boolean"),
        ({"fixed": np.array([True, True, False, False]), "conflicts": [[0, 1]]}, "conflict"),
        ({"fixed": np.array([True, False, True, False]), "group": [3, 1, 3, 2]}, "same group"),
        ({"budget": -1.0}, "budget"),
        ({"total_weight": 5.0}, "total_weight"),
    ],
)
def test_invalid_problems_are_refused(changes, message, small):
    with pytest.raises(ValueError, match=message):
        small(**changes)


def test_negative_group_means_no_group(small):
    p = small(group=np.array([-1, -1, 0, 1]), fixed=np.array([True, True, False, False]))
    check(p, [0, 1])


def test_evaluate_counts_each_point_once(small):
    p = small(point_weight=np.array([1.0, 2, 3, 4, 5, 6]))
    covered, share = evaluate(p, [0, 2])  # A ∪ C = {0,1,2,3,4}
    assert covered == 1 + 2 + 3 + 4 + 5
    assert share == pytest.approx(15 / 21)
    mask = np.array([True, False, True, False])
    assert evaluate(p, mask) == (covered, share)
    assert evaluate(p, []) == (0.0, 0.0)


def test_total_weight_makes_the_share_relative_to_the_original_total(small):
    p = small(total_weight=12.0, target_share=0.5)
    assert evaluate(p, [0, 1]) == (6.0, 0.5)
    assert p.meets_target(6.0)
    assert not p.meets_target(5.9)


def test_check_names_each_violation(small):
    p = small(
        group=np.array([0, 0, 1, 2]),
        conflicts=np.array([[2, 3]]),
        fixed=np.array([False, True, False, False]),
        budget=5.0,
    )
    check(p, [1])
    with pytest.raises(ValueError, match="fixed"):
        check(p, [2])
    with pytest.raises(ValueError, match="group 0"):
        check(p, [0, 1])
    with pytest.raises(ValueError, match="conflicting candidates 2 and 3"):
        check(p, [1, 2, 3])
    with pytest.raises(ValueError, match="budget"):
        check(small(budget=5.0), [0, 3])  # 4 + 2 > 5
    check(p, [1, 3])  # the fixed candidate's cost is not counted: 2 <= 5
    with pytest.raises(ValueError, match="repeats"):
        check(p, [1, 1])
    with pytest.raises(ValueError, match="outside"):
        check(p, [1, 7])


def test_reduce_points_merges_and_drops(cover, cost):
    # points 0 and 1 are served by the same candidates (A, C); so are 3 and 4 (B, C);
    # point 6 is served by nobody, point 7 has no weight
    cov = np.zeros((4, 8), dtype=bool)
    cov[:, :6] = cover
    cov[0, 7] = True
    w = np.array([1.0, 2, 3, 4, 5, 6, 7, 0])
    p = CoverProblem(sparse.csr_array(cov), w, cost, 0.5)
    r, mapping = reduce_points(p)
    assert r.n_points == 4
    assert mapping[6] == -1 and mapping[7] == -1
    assert mapping[0] == mapping[1] and mapping[3] == mapping[4]
    assert len({mapping[0], mapping[2], mapping[3], mapping[5]}) == 4
    assert r.point_weight[mapping[0]] == 3.0
    assert r.point_weight[mapping[3]] == 9.0
    assert r.total_weight == w.sum()  # the dropped weight still counts
    assert r.required_weight == p.required_weight


@st.composite
def problems_and_selections(draw):
    n = draw(st.integers(1, 8))
    m = draw(st.integers(1, 30))
    # few distinct columns, so that merging happens
    patterns = draw(arrays(np.bool_, (n, draw(st.integers(1, 5)))))
    cols = draw(arrays(np.int64, m, elements=st.integers(0, patterns.shape[1] - 1)))
    cov = patterns[:, cols]
    w = draw(arrays(np.float64, m, elements=st.floats(0, 100, allow_nan=False)))
    chosen = draw(arrays(np.bool_, n))
    p = CoverProblem(sparse.csr_array(cov), w, np.ones(n), 0.5)
    return p, chosen


@settings(max_examples=80, deadline=None)
@given(problems_and_selections())
def test_reduce_points_preserves_the_covered_weight_of_every_selection(case):
    p, chosen = case
    r, mapping = reduce_points(p)
    assert r.total_weight == pytest.approx(p.total_weight)
    c0, s0 = evaluate(p, chosen)
    c1, s1 = evaluate(r, chosen)
    assert c1 == pytest.approx(c0, rel=1e-12, abs=1e-9)
    assert s1 == pytest.approx(s0, rel=1e-12, abs=1e-12)
    # the mapping sends each kept point to a reduced point with the same candidate set
    dense, rdense = p.coverage.toarray(), r.coverage.toarray()
    for old, new in enumerate(mapping):
        if new >= 0:
            assert np.array_equal(dense[:, old], rdense[:, new])
        else:
            assert not dense[:, old].any() or p.point_weight[old] == 0
    # and no two reduced points have the same candidate set
    assert len({rdense[:, k].tobytes() for k in range(r.n_points)}) == r.n_points


def test_explain_infeasible_names_the_best_share_and_the_unserved_weight(cover, cost):
    cov = np.zeros((4, 8), dtype=bool)
    cov[:, :6] = cover  # points 6 and 7 are served by nobody
    p = CoverProblem(sparse.csr_array(cov), np.ones(8), cost, 0.8)
    text = explain_infeasible(p)
    assert text is not None
    assert "75.00%" in text  # 6 of 8
    assert "2 point(s)" in text
    assert "ignoring groups and conflicts" in text
    assert explain_infeasible(p.replace(target_share=0.75)) is None


def test_explain_infeasible_counts_dropped_weight(small):
    p = small(total_weight=10.0, target_share=0.9)
    text = explain_infeasible(p)
    assert text is not None and "60.00%" in text


def test_explain_infeasible_in_budget_mode_says_the_budget_is_short(small):
    # full cover costs at least 7 (C + D); a budget of 6 cannot reach it
    text = explain_infeasible(small(budget=6.0))
    assert text is not None
    assert "budget" in text
    cheapest = float(re.search(r"costs ([0-9.]+) yuan", text).group(1))
    assert cheapest >= 7.0
    assert explain_infeasible(small(budget=7.0)) is None


def test_no_submodule_shadows_the_packages_functions():
    import importlib
    import pkgutil

    import mastplan.planning as planning

    for info in pkgutil.iter_modules(planning.__path__):  # import every submodule
        importlib.import_module(f"mastplan.planning.{info.name}")
    for name in planning.__all__:
        assert not isinstance(getattr(planning, name), type(planning)), name
