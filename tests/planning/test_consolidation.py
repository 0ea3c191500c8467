"""Tests of the 多杆合一 core (mastplan.planning.consolidation): layouts and invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from mastplan.planning.consolidation import (
    POLE_KINDS,
    Clusters,
    find_clusters,
    kinds_label,
    summarise,
)

# Somewhere in central Chongqing, EPSG:32648 metres.
X0, Y0 = 652_000.0, 3_268_000.0
LAMP, SIGNAL, CCTV, POWER, SMART = (
    "lamp_pole",
    "traffic_signal_pole",
    "cctv_pole",
    "power_pole",
    "smart_pole",
)
# The owner of each kind in the Chongqing data set.
OWNER = {
    LAMP: "cq-street-lighting",
    SIGNAL: "cq-traffic-police",
    CCTV: "cq-gaj",
    POWER: "sgcc-chongqing",
    SMART: "china-tower",
    "telecom_tower": "china-tower",
    "rooftop": "syn-building-owner-01",
}
HEIGHT = {
    LAMP: 12.0,
    SIGNAL: 7.0,
    CCTV: 8.0,
    POWER: 11.0,
    SMART: 13.0,
    "telecom_tower": 35.0,
    "rooftop": 30.0,
}


def layout(*poles: tuple[float, float, str], **kw) -> Clusters:
    """Cluster hand-placed poles (x, y relative to X0/Y0, kind), owners and heights by kind."""
    x = np.array([X0 + p[0] for p in poles])
    y = np.array([Y0 + p[1] for p in poles])
    kind = np.array([p[2] for p in poles])
    owner = np.array([OWNER[k] for k in kind])
    height = np.array([HEIGHT[k] for k in kind])
    return find_clusters(x, y, kind, owner, height, **kw)


def partition(c: Clusters) -> set[frozenset[int]]:
    return {frozenset(c.members(i).tolist()) for i in range(len(c))}


# --- hand-built layouts ------------------------------------------------------------------------


def test_lamp_and_cctv_on_a_straight_street_merge() -> None:
    c = layout((0, 0, LAMP), (4, 0, CCTV), (40, 0, LAMP), (80, 0, LAMP))
    assert len(c) == 1
    assert c.cluster.tolist() == [0, 0, -1, -1]
    assert c.removed.tolist() == [1]
    assert c.size.tolist() == [2] and c.n_owners.tolist() == [2]
    assert c.kinds.tolist() == ["lamp_pole+cctv_pole"]
    assert c.kept.tolist() == [0]  # the 12 m lamp, not the 8 m CCTV pole
    assert c.height_m.tolist() == [12.0]
    assert c.candidate_5g.tolist() == [True]
    assert c.centroid_x_m[0] == pytest.approx(X0 + 2.0)
    assert c.centroid_y_m[0] == pytest.approx(Y0)


def test_two_lamps_of_one_owner_are_no_cluster() -> None:
    c = layout((0, 0, LAMP), (4, 0, LAMP))
    assert len(c) == 0
    assert c.cluster.tolist() == [-1, -1]
    assert summarise(c)["poles_removed"] == 0


def test_one_owner_clusters_when_min_owners_is_one() -> None:
    c = layout((0, 0, LAMP), (4, 0, LAMP), min_owners=1)
    assert partition(c) == {frozenset({0, 1})}


def test_poles_20_m_apart_are_not_linked() -> None:
    assert len(layout((0, 0, LAMP), (20, 0, CCTV))) == 0
    assert len(layout((0, 0, LAMP), (15, 0, CCTV))) == 1  # the link distance is inclusive
    assert len(layout((0, 0, LAMP), (20, 0, CCTV), link_m=20.0)) == 1


def test_a_smart_pole_nearby_is_not_merged() -> None:
    c = layout((0, 0, LAMP), (3, 0, SMART), (6, 0, CCTV))
    assert c.cluster.tolist() == [0, -1, 0]
    assert c.kept.tolist() == [0]  # the smart pole is taller but takes no part
    assert layout((0, 0, LAMP), (3, 0, SMART)).cluster.tolist() == [-1, -1]
    assert layout((0, 0, SMART), (3, 0, "telecom_tower"), (5, 0, "rooftop")).size.size == 0


def test_a_chain_of_links_is_one_cluster() -> None:
    # 12 m links: the ends are 36 m apart, yet one street group (links chain)
    c = layout((0, 0, LAMP), (12, 0, CCTV), (24, 1, SIGNAL), (36, 0, LAMP))
    assert partition(c) == {frozenset({0, 1, 2, 3})}
    assert c.removed.tolist() == [3]
    assert c.kinds.tolist() == ["lamp_pole+traffic_signal_pole+cctv_pole"]


def test_a_small_corner_group_stays_whole() -> None:
    # signal pole at a corner, a lamp 6 m up each street: within 8 m of one diagonal line
    c = layout((0, 0, SIGNAL), (0, 6, LAMP), (6, 0, LAMP))
    assert partition(c) == {frozenset({0, 1, 2})}
    assert c.max_offset_m[0] <= 8.0
    # legs of 15 m, the link distance: 7.1 m off the diagonal axis, still one corner pole
    wide = layout((0, 0, SIGNAL), (15, 0, LAMP), (0, 15, CCTV))
    assert partition(wide) == {frozenset({0, 1, 2})}
    assert wide.max_offset_m[0] == pytest.approx(10 / 2**0.5, rel=1e-9)  # the corner, from (5, 5)


def test_an_l_shaped_junction_group_is_cut_at_the_median() -> None:
    # corner signal pole; a lamp/CCTV/lamp leg to the north and a lamp/power/lamp leg to the east
    poles = [
        (0, 0, SIGNAL),
        (0, 10, LAMP),
        (0, 20, CCTV),
        (0, 30, LAMP),
        (10, 0, LAMP),
        (20, 0, POWER),
        (30, 0, LAMP),
    ]
    whole = layout(*poles, corridor_m=20.0)
    assert partition(whole) == {frozenset(range(7))}  # a wide corridor takes the whole L
    c = layout(*poles)
    # the principal axis runs north-west to south-east; cut at the median, the western half
    # (the first ⌊7/2⌋ = 3 along the axis: the north leg) and the rest (corner + east leg)
    assert partition(c) == {frozenset({1, 2, 3}), frozenset({0, 4, 5, 6})}
    assert (c.max_offset_m <= 8.0).all()
    assert c.removed.sum() == 5
    assert sorted(c.kinds.tolist()) == [
        "lamp_pole+cctv_pole",
        "lamp_pole+traffic_signal_pole+power_pole",
    ]


def test_a_cut_part_of_one_owner_is_dropped() -> None:
    # as above, but the north leg is all lamps: it is no cluster after the cut
    poles = [
        (0, 0, SIGNAL),
        (0, 10, LAMP),
        (0, 20, LAMP),
        (0, 30, LAMP),
        (10, 0, LAMP),
        (20, 0, POWER),
        (30, 0, LAMP),
    ]
    c = layout(*poles)
    assert partition(c) == {frozenset({0, 4, 5, 6})}
    assert c.cluster[[1, 2, 3]].tolist() == [-1, -1, -1]


def test_kept_pole_is_the_tallest_first_on_ties() -> None:
    x = X0 + np.array([0.0, 3.0, 6.0])
    y = np.full(3, Y0)
    kind = np.array([LAMP, CCTV, POWER])
    owner = np.array(["a", "b", "c"])
    c = find_clusters(x, y, kind, owner, np.array([10.0, 12.0, 12.0]))
    assert c.kept.tolist() == [1]
    assert c.height_m.tolist() == [12.0]


def test_candidate_rule() -> None:
    low = layout((0, 0, SIGNAL), (3, 0, CCTV))  # 7 m and 8 m: the merged pole is 8 m
    assert low.candidate_5g.tolist() == [True]
    lower = layout((0, 0, SIGNAL), (3, 0, CCTV), min_height_m=9.0)
    assert lower.candidate_5g.tolist() == [False]
    x, y = X0 + np.array([0.0, 3.0]), np.full(2, Y0)
    args = (x, y, np.array([LAMP, CCTV]), np.array(["a", "b"]), np.array([12.0, 8.0]))
    assert find_clusters(*args, fibre=np.array([False, True])).candidate_5g.tolist() == [True]
    assert find_clusters(*args, fibre=np.array([False, False])).candidate_5g.tolist() == [False]
    power = np.array([0.2, 0.6])
    assert find_clusters(*args, power_kw=power).candidate_5g.tolist() == [True]
    assert find_clusters(*args, power_kw=power, min_power_kw=1.0).candidate_5g.tolist() == [False]


def test_min_owners_three() -> None:
    assert len(layout((0, 0, LAMP), (3, 0, CCTV), min_owners=3)) == 0
    assert len(layout((0, 0, LAMP), (3, 0, CCTV), (6, 0, SIGNAL), min_owners=3)) == 1


def test_summary_by_kind_combination() -> None:
    c = layout(
        (0, 0, LAMP),
        (4, 0, CCTV),
        (500, 0, LAMP),
        (505, 0, CCTV),
        (1000, 0, POWER),
        (1006, 0, LAMP),
        (1012, 0, LAMP),
    )
    kind = np.array([LAMP, CCTV, LAMP, CCTV, POWER, LAMP, LAMP])
    s = summarise(c, kind)
    assert s["clusters"] == 3 and s["smart_poles"] == 3
    assert s["poles_in_clusters"] == 7 and s["poles_removed"] == 4
    assert s["by_size"] == {"2": 2, "3": 1}
    assert s["by_kinds"] == {
        "lamp_pole+cctv_pole": {"clusters": 2, "poles": 4, "poles_removed": 2, "candidates_5g": 2},
        "lamp_pole+power_pole": {"clusters": 1, "poles": 3, "poles_removed": 2, "candidates_5g": 1},
    }
    assert s["by_kind"]["cctv_pole"] == {"poles": 2, "poles_removed": 2}
    # the 12 m lamps are kept, over the 11 m power pole too
    assert s["by_kind"]["lamp_pole"] == {"poles": 4, "poles_removed": 1}
    assert s["by_kind"]["power_pole"] == {"poles": 1, "poles_removed": 1}
    assert summarise(layout())["clusters"] == 0


def test_kinds_label_order() -> None:
    assert kinds_label(["cctv_pole", "lamp_pole", "cctv_pole"]) == "lamp_pole+cctv_pole"
    assert kinds_label(["x", "power_pole"]) == "power_pole+x"


def test_bad_input() -> None:
    x, y = np.zeros(2), np.zeros(2)
    kind, owner, h = np.array([LAMP, CCTV]), np.array(["a", "b"]), np.ones(2)
    with pytest.raises(ValueError, match="height_m"):
        find_clusters(x, y, kind, owner, np.ones(3))
    with pytest.raises(ValueError, match="link_m"):
        find_clusters(x, y, kind, owner, h, link_m=0.0)
    with pytest.raises(ValueError, match="finite"):
        find_clusters(np.array([0.0, np.nan]), y, kind, owner, h)
    with pytest.raises(ValueError, match="min_owners"):
        find_clusters(x, y, kind, owner, h, min_owners=0)


# --- invariants --------------------------------------------------------------------------------

KINDS = (*POLE_KINDS, SMART, "rooftop", "telecom_tower")


@st.composite
def poles(draw):
    """Up to 40 structures on whole metres in a 90 m square (dense: big linked groups)."""
    n = draw(st.integers(0, 40))
    coord = st.integers(0, 90)
    x = np.array(draw(st.lists(coord, min_size=n, max_size=n)), dtype=float)
    y = np.array(draw(st.lists(coord, min_size=n, max_size=n)), dtype=float)
    kind = np.array(draw(st.lists(st.sampled_from(KINDS), min_size=n, max_size=n)), dtype=object)
    owner = np.array(draw(st.lists(st.sampled_from("abc"), min_size=n, max_size=n)), dtype=object)
    # distinct heights, so that the kept pole does not depend on the order
    heights = draw(st.lists(st.integers(40, 200), min_size=n, max_size=n, unique=True))
    height = np.array(heights, dtype=float) / 10.0
    fibre = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    return x, y, kind, owner, height, fibre


OPTIONS = st.fixed_dictionaries(
    {
        "link_m": st.sampled_from([6.0, 10.0, 15.0]),
        "corridor_m": st.sampled_from([0.0, 3.0, 8.0]),
        "min_owners": st.sampled_from([1, 2, 3]),
    }
)


def _pca_offsets(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Distances from the principal line, by an SVD (independent of the module's eigh)."""
    d = np.column_stack([x - x.mean(), y - y.mean()])
    _, _, vt = np.linalg.svd(d, full_matrices=False)
    return np.abs(d @ vt[-1]) if len(d) > 1 else np.zeros(len(d))


def _connected(x: np.ndarray, y: np.ndarray, link_m: float) -> bool:
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(
        link_m * (1 + 1e-12), output_type="ndarray"
    )
    n = len(x)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[0] == 1


@settings(max_examples=200, deadline=None)
@given(poles(), OPTIONS)
def test_invariants(data, options) -> None:
    x, y, kind, owner, height, fibre = data
    c = find_clusters(X0 + x, Y0 + y, kind, owner, height, fibre=fibre, **options)
    k = len(c)
    # labels: a partition of the clustered poles into clusters 0..k-1, numbered by first member
    assert c.cluster.shape == (len(x),)
    assert set(c.cluster.tolist()) <= {-1, *range(k)}
    assert sorted(c.member_index.tolist()) == np.flatnonzero(c.cluster >= 0).tolist()
    assert [int(c.members(i)[0]) for i in range(k)] == sorted(
        int(c.members(i)[0]) for i in range(k)
    )
    assert not np.isin(kind[c.cluster >= 0], [SMART, "rooftop", "telecom_tower"]).any()
    for i in range(k):
        m = c.members(i)
        assert m.tolist() == np.flatnonzero(c.cluster == i).tolist()
        assert c.size[i] == len(m) >= 2
        assert c.removed[i] == len(m) - 1
        assert c.n_owners[i] == len(set(owner[m])) >= options["min_owners"]
        assert _connected(x[m], y[m], options["link_m"])
        offsets = _pca_offsets(x[m], y[m])
        assert offsets.max() <= options["corridor_m"] + 1e-6
        assert c.max_offset_m[i] == pytest.approx(offsets.max(), abs=1e-6)
        assert c.kept[i] in m and height[c.kept[i]] == height[m].max()
        assert c.kinds[i] == kinds_label(kind[m])
        assert c.centroid_x_m[i] == pytest.approx(X0 + x[m].mean())
        assert c.candidate_5g[i] == (height[m].max() >= 8.0 and fibre[m].any())
    assert summarise(c)["poles_removed"] == int(c.removed.sum())


@settings(max_examples=100, deadline=None)
@given(poles(), OPTIONS, st.integers(-500_000, 500_000), st.integers(-500_000, 500_000))
def test_invariant_under_translation(data, options, dx, dy) -> None:
    x, y, kind, owner, height, _ = data
    a = find_clusters(X0 + x, Y0 + y, kind, owner, height, **options)
    b = find_clusters(X0 + dx + x, Y0 + dy + y, kind, owner, height, **options)
    assert a.cluster.tolist() == b.cluster.tolist()
    assert a.kept.tolist() == b.kept.tolist()
    assert a.kinds.tolist() == b.kinds.tolist()
    np.testing.assert_allclose(b.centroid_x_m - dx, a.centroid_x_m, atol=1e-6)
    np.testing.assert_allclose(b.centroid_y_m - dy, a.centroid_y_m, atol=1e-6)


@settings(max_examples=100, deadline=None)
@given(poles(), OPTIONS, st.randoms(use_true_random=False))
def test_invariant_under_permutation(data, options, rnd) -> None:
    x, y, kind, owner, height, _ = data
    order = list(range(len(x)))
    rnd.shuffle(order)
    p = np.array(order, dtype=np.intp)
    a = find_clusters(X0 + x, Y0 + y, kind, owner, height, **options)
    b = find_clusters(X0 + x[p], Y0 + y[p], kind[p], owner[p], height[p], **options)
    # the same clusters of the same poles (b's indices mapped back), with the same kept pole
    assert {frozenset(p[b.members(i)].tolist()) for i in range(len(b))} == partition(a)
    assert {int(p[j]) for j in b.kept} == set(a.kept.tolist())
