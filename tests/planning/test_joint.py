"""Joint planning of several operators: sharing a structure's payments changes the plan; one
operator alone is the single-operator MILP; the joint optimum never costs more than the
operators' separate optima together."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from mastplan.planning import CoverProblem, solve_milp
from mastplan.planning.joint import JointProblem, joint_cost, solve_joint

NAN = np.nan


def two_operators(payments: np.ndarray) -> JointProblem:
    """A: a0 on s0, a1 on s1; B: b0 on s0, b1 on s2; every candidate covers its operator's two
    points and costs 10 yuan of equipment."""
    full = sparse.csr_array(np.ones((2, 2), dtype=bool))
    a = CoverProblem(full, np.ones(2), np.array([10.0, 10.0]), 1.0, group=np.array([0, 1]))
    b = CoverProblem(full, np.ones(2), np.array([10.0, 10.0]), 1.0, group=np.array([0, 1]))
    return JointProblem((a, b), (np.array([0, 1]), np.array([0, 2])), payments)


# China Tower's pricing: k tenants pay base × k × (1 − discount(k)), 30 % off for 2 tenants
S0 = [0.0, 80.0, 2 * 80.0 * 0.7]  # 0, 80, 112
S1 = [0.0, 60.0, 2 * 60.0 * 0.7]  # 0, 60, 84


def test_sharing_a_structure_beats_two_cheaper_ones():
    # separate: A on s1 (10 + 60) and B on s2 (10 + 60) = 140; together on s0: 20 + 112 = 132
    jp = two_operators(np.array([S0, S1, S1]))
    warm = (np.array([1]), np.array([1]))  # the operators planned one after the other
    assert joint_cost(jp, warm)["cost"] == pytest.approx(140.0)
    sol = solve_joint(jp, warm_start=warm, mip_rel_gap=0.0)
    assert [c.tolist() for c in sol.chosen] == [[0], [0]]
    assert sol.cost == pytest.approx(132.0)
    assert sol.operator_cost == pytest.approx((66.0, 66.0))  # 10 + 112 / 2 each
    assert sol.tenants.tolist() == [2, 0, 0]
    assert sol.target_met and sol.status == "optimal" and sol.gap == 0.0
    assert sol.lower_bound == pytest.approx(132.0)


def test_no_sharing_when_it_does_not_pay_or_there_is_no_room():
    dear = two_operators(np.array([[0.0, 100.0, 140.0], S1, S1]))  # 20 + 140 = 160 > 140
    assert solve_joint(dear).cost == pytest.approx(140.0)
    full = two_operators(np.array([[0.0, 80.0, NAN], S1, S1]))  # s0 has room for one site
    sol = solve_joint(full, mip_rel_gap=0.0)
    assert sol.cost == pytest.approx(140.0)
    assert sol.tenants.max() == 1
    with pytest.raises(ValueError, match="capacity"):
        joint_cost(full, (np.array([0]), np.array([0])))


def test_bad_joint_problems_are_refused():
    jp = two_operators(np.array([S0, S1, S1]))
    with pytest.raises(ValueError, match="zero first column"):
        JointProblem(jp.problems, jp.structure, np.array([[1.0, 2.0]]))
    with pytest.raises(ValueError, match="one structure map"):
        JointProblem(jp.problems, jp.structure[:1], jp.payments)
    with pytest.raises(ValueError, match="out of range"):
        JointProblem(jp.problems, (np.array([0, 5]), np.array([0, 2])), jp.payments)
    with pytest.raises(ValueError, match="NaN only beyond"):
        JointProblem(jp.problems, jp.structure, np.array([[0.0, NAN, 3.0], S1, S1]))


@st.composite
def operators(draw, n_ops_max=3):
    """Random operators over shared structures: a few structures with concave payments, each
    operator a candidate or none per structure, coverage random."""
    n_s = draw(st.integers(2, 6))
    n_ops = draw(st.integers(1, n_ops_max))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    base = rng.uniform(10, 100, n_s)
    k = np.arange(n_ops + 1)
    disc = np.where(k >= 3, 0.4, np.where(k >= 2, 0.3, 0.0))
    payments = base[:, None] * k[None, :] * (1 - disc[None, :])
    problems, maps = [], []
    for _ in range(n_ops):
        on = np.flatnonzero(rng.random(n_s) < 0.8)
        if len(on) == 0:
            on = np.array([0])
        m = int(rng.integers(2, 7))
        cov = rng.random((len(on), m)) < 0.5
        cov[rng.integers(len(on)), :] = True  # the target is always reachable
        share = float(rng.choice([0.5, 0.8, 1.0]))
        problems.append(CoverProblem(sparse.csr_array(cov), np.ones(m),
                                     rng.uniform(1, 20, len(on)), share, group=on))  # fmt: skip
        maps.append(on)
    return JointProblem(tuple(problems), tuple(maps), payments)


@settings(max_examples=40, deadline=None)
@given(operators(n_ops_max=1))
def test_one_operator_alone_is_the_single_operator_milp(jp):
    p, s = jp.problems[0], jp.structure[0]
    alone = p.replace(cost=p.cost + jp.payments[s, 1])
    single = solve_milp(alone, mip_rel_gap=0.0)
    joint = solve_joint(jp, mip_rel_gap=0.0)
    assert joint.target_met and joint.status == "optimal"
    assert joint.cost == pytest.approx(single.cost)


@settings(max_examples=40, deadline=None)
@given(operators())
def test_the_joint_optimum_never_costs_more_than_the_separate_optima(jp):
    separate = 0.0
    alone = []
    for p, s in zip(jp.problems, jp.structure, strict=True):
        sol = solve_milp(p.replace(cost=p.cost + jp.payments[s, 1]), mip_rel_gap=0.0)
        separate += sol.cost
        alone.append(sol.chosen)
    joint = solve_joint(jp, warm_start=tuple(alone), mip_rel_gap=0.0)
    assert joint.target_met
    assert joint.cost <= separate + 1e-6
    # the reported cost is the cost of the reported plan, and each operator meets its target
    again = joint_cost(jp, joint.chosen)
    assert again["cost"] == pytest.approx(joint.cost)
    assert sum(joint.operator_cost) == pytest.approx(joint.cost)
    for p, idx in zip(jp.problems, joint.chosen, strict=True):
        covered = p.coverage[idx].toarray().any(axis=0) if len(idx) else np.zeros(p.n_points)
        assert covered.mean() >= p.target_share - 1e-9
