"""多杆合一: find poles of different owners that one smart pole (智慧杆) could replace.

Chongqing's 5G plan asks to merge the street lamp, traffic-signal, CCTV and power poles that
stand a few metres apart along the same street into one smart pole, and to use those smart
poles for 5G small cells. This module finds such groups. It is a pure core: projected
coordinates (EPSG:32648 metres) and attribute arrays in, arrays out; no database, no files.

The rules, in order (docs/consolidation.md gives the reasoning):

1. Only the mergeable pole kinds take part (``kinds``, by default :data:`POLE_KINDS`); smart
   poles, towers and rooftops are never merged.
2. Two poles are linked when they stand within ``link_m`` of each other; the connected
   components of these links are the raw groups (a chain of links, not a disc).
3. A group must lie along one street: every member within ``corridor_m`` of the group's
   principal axis (the PCA line through its centroid). A group that does not (an L-shaped
   group round a junction corner, a bend) is cut in two at the median of its members'
   positions along that axis (the first ⌊n/2⌋ in the axis direction, which points east, or
   north for a due north–south axis, and the rest); each half is re-linked into its connected
   components, and each part is checked again, until every part passes (two poles always do).
4. A part is a cluster when its poles belong to at least ``min_owners`` distinct owners.

The smart pole replaces (or upgrades) the tallest member (ties: the lowest input index); the
other members are removed. A cluster is a 5G candidate when that pole is at least
``min_height_m`` high and, where given, some member has fibre and some member has at least
``min_power_kw`` of free power.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

__all__ = [
    "DEFAULT_CORRIDOR_M",
    "DEFAULT_LINK_M",
    "DEFAULT_MIN_OWNERS",
    "MIN_HEIGHT_M",
    "MIN_POWER_KW",
    "POLE_KINDS",
    "Clusters",
    "find_clusters",
    "kinds_label",
    "summarise",
]

#: The structure kinds that 多杆合一 merges (mastplan.registry.enums.StructureKind values), in
#: the order kind combinations are written ("lamp_pole+cctv_pole").
POLE_KINDS: tuple[str, ...] = ("lamp_pole", "traffic_signal_pole", "cctv_pole", "power_pole")

#: Poles this close are linked. Below the 20–50 m spacing of street lamps (CJJ 45-2015), so
#: consecutive lamps of one lamp line are not chained, yet well above the few metres between a
#: corner signal pole, the junction CCTV pole and the first lamp on the corner's line (3 m and
#: more), and the 5–10 m across a branch road between a lamp line and an overhead power line.
DEFAULT_LINK_M = 15.0
#: Half-width of the strip "along the same street": a pavement's width plus the lateral
#: set-backs of different owners' pole lines (a CCTV line stands 3 m behind the lamp line). A
#: corner group with one pole up each street fits (an L of 15 m legs is 7.1 m off its axis); one
#: with two poles 10 m apart up each street does not (8.5 m) and is cut.
DEFAULT_CORRIDOR_M = 8.0
#: 多杆合一 merges poles of *different* owners; a group of one owner's poles is its own business.
DEFAULT_MIN_OWNERS = 2
#: A smart pole carries a 5G small cell from about this height up (the low end of CJJ 45's
#: 8–15 m lamp poles; small cells hang at 6–10 m above the street).
MIN_HEIGHT_M = 8.0
#: Free power a small cell needs at the pole (a micro AAU draws a few hundred watts); an
#: assumption, checked only when the power array is given.
MIN_POWER_KW = 0.5


@dataclass(frozen=True)
class Clusters:
    """Poles that one smart pole could replace: a label per input structure, facts per cluster.

    Clusters are numbered 0, 1, … in the order of their lowest member index. Per-cluster arrays
    have one entry per cluster; ``member_index[member_offsets[c]:member_offsets[c + 1]]`` are
    the members of cluster ``c`` in increasing input order (see :meth:`members`).
    """

    #: Cluster of each input structure, -1 where none.
    cluster: np.ndarray
    #: Members per cluster (poles the cluster covers).
    size: np.ndarray
    #: Distinct owners per cluster.
    n_owners: np.ndarray
    #: Kinds present, joined with "+" in :data:`POLE_KINDS` order, e.g. "lamp_pole+cctv_pole".
    kinds: np.ndarray
    #: Centroid of the members, in the input's metres.
    centroid_x_m: np.ndarray
    centroid_y_m: np.ndarray
    #: Input index of the pole the smart pole replaces or upgrades (the tallest member).
    kept: np.ndarray
    #: Height of the kept pole, the height of the merged pole.
    height_m: np.ndarray
    #: Poles removed by the merge (members − 1).
    removed: np.ndarray
    #: Largest distance of a member from the cluster's principal axis (≤ the corridor).
    max_offset_m: np.ndarray
    #: Whether the merged pole can carry a 5G small cell (see :func:`find_clusters`).
    candidate_5g: np.ndarray
    #: Members of all clusters, cluster after cluster (CSR layout with ``member_offsets``).
    member_index: np.ndarray
    member_offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.size)

    def members(self, c: int) -> np.ndarray:
        """Input indices of the members of cluster ``c``, increasing."""
        return self.member_index[self.member_offsets[c] : self.member_offsets[c + 1]]


def kinds_label(kinds_present: Sequence[str], order: Sequence[str] = POLE_KINDS) -> str:
    """The kinds of a cluster as one label, "+"-joined in ``order`` (unknown kinds last)."""
    rank = {k: i for i, k in enumerate(order)}
    present = sorted(set(kinds_present), key=lambda k: (rank.get(k, len(rank)), k))
    return "+".join(present)


def _axis(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centroid, unit principal direction (pointing to +x, else +y) and offsets from the line."""
    xy = np.column_stack([x, y])
    centre = xy.mean(axis=0)
    d = xy - centre
    _, vectors = np.linalg.eigh(d.T @ d)
    axis = vectors[:, -1]  # eigenvalues come ascending: the last is the principal direction
    if axis[0] < 0 or (axis[0] == 0 and axis[1] < 0):
        axis = -axis
    along = d @ axis
    offset = np.abs(d[:, 0] * axis[1] - d[:, 1] * axis[0])
    return along, offset, centre


def _components(x: np.ndarray, y: np.ndarray, link_m: float) -> tuple[int, np.ndarray]:
    """Connected components of the points under "within ``link_m``" (cKDTree + csgraph)."""
    n = len(x)
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(link_m, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs), np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)


def _groups(labels: np.ndarray) -> list[np.ndarray]:
    """Positions grouped by label (groups of two or more only), each group increasing."""
    order = np.argsort(labels, kind="stable")
    cuts = np.flatnonzero(np.diff(labels[order])) + 1
    return [g for g in np.split(order, cuts) if len(g) >= 2]


def _straight_parts(
    x: np.ndarray,
    y: np.ndarray,
    owner: np.ndarray,
    members: np.ndarray,
    link_m: float,
    corridor_m: float,
    min_owners: int,
) -> list[np.ndarray]:
    """Cut one linked group into parts that lie along one street and have enough owners.

    ``x``/``y`` are relative to a per-group origin so that translating the input changes
    nothing (bit for bit, for coordinates that translate exactly).
    """
    parts: list[np.ndarray] = []
    todo = [members]
    while todo:
        m = todo.pop()
        if len(m) < 2 or len(np.unique(owner[m])) < min_owners:
            continue
        along, offset, _ = _axis(x[m], y[m])
        if len(m) == 2 or offset.max() <= corridor_m:
            parts.append(m)
            continue
        # m is in canonical order, so the stable sort breaks ties the same way every time
        order = np.argsort(along, kind="stable")
        half = len(m) // 2
        for side in (m[np.sort(order[:half])], m[np.sort(order[half:])]):
            if len(side) < 2:
                continue
            _, labels = _components(x[side], y[side], link_m)
            todo.extend(side[g] for g in _groups(labels))
    return parts


def find_clusters(
    x_m: np.ndarray,
    y_m: np.ndarray,
    kind: np.ndarray,
    owner: np.ndarray,
    height_m: np.ndarray,
    *,
    link_m: float = DEFAULT_LINK_M,
    corridor_m: float = DEFAULT_CORRIDOR_M,
    min_owners: int = DEFAULT_MIN_OWNERS,
    kinds: Sequence[str] = POLE_KINDS,
    fibre: np.ndarray | None = None,
    power_kw: np.ndarray | None = None,
    min_height_m: float = MIN_HEIGHT_M,
    min_power_kw: float = MIN_POWER_KW,
) -> Clusters:
    """Find groups of poles of different owners along one street that one smart pole replaces.

    Parameters
    ----------
    x_m, y_m : array of float
        Projected positions in metres (EPSG:32648 for Chongqing).
    kind : array of str
        Structure kinds (``StructureKind`` values); only ``kinds`` take part.
    owner : array
        Owner codes or ids; owners are told apart by ``str(owner)``.
    height_m : array of float
        Pole heights; the tallest member is kept.
    link_m, corridor_m, min_owners
        The link distance, the corridor half-width and the owners a cluster needs (module doc).
    kinds : sequence of str
        The mergeable kinds, in the order kind combinations are written.
    fibre, power_kw : array, optional
        Fibre at the pole and free power (kW); when given, a 5G candidate needs a member with
        fibre and a member with at least ``min_power_kw`` (the merged pole keeps the best feed).
    min_height_m, min_power_kw : float
        The 5G candidate's height and power thresholds.

    Returns
    -------
    Clusters
        Labels per input and facts per cluster; the result depends only on the set of poles,
        not on their order (up to the numbering) or on a translation of the coordinates.
    """
    x = np.asarray(x_m, dtype=float)
    y = np.asarray(y_m, dtype=float)
    kind = np.asarray(kind).astype(str)
    owner_s = np.asarray(owner).astype(str)
    height = np.asarray(height_m, dtype=float)
    n = len(x)
    fibre = None if fibre is None else np.asarray(fibre, dtype=bool)
    power_kw = None if power_kw is None else np.asarray(power_kw, dtype=float)
    arrays: dict[str, np.ndarray | None] = {"x_m": x, "y_m": y, "kind": kind, "owner": owner_s}
    arrays |= {"height_m": height, "fibre": fibre, "power_kw": power_kw}
    for name, values in arrays.items():
        if values is not None and values.shape != (n,):
            raise ValueError(f"{name} has shape {values.shape}, expected ({n},) like x_m")
    if not link_m > 0:
        raise ValueError(f"link_m must be positive, got {link_m}")
    if not corridor_m >= 0:
        raise ValueError(f"corridor_m must be non-negative, got {corridor_m}")
    if min_owners < 1:
        raise ValueError(f"min_owners must be at least 1, got {min_owners}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("x_m and y_m must be finite")

    # Canonical order of the eligible poles (by position, then attributes), so that the
    # floating-point work below does not depend on the input order.
    eligible = np.flatnonzero(np.isin(kind, list(kinds)))
    _, owner_code = np.unique(owner_s[eligible], return_inverse=True)
    _, kind_code = np.unique(kind[eligible], return_inverse=True)
    canon = eligible[
        np.lexsort((owner_code, kind_code, height[eligible], y[eligible], x[eligible]))
    ]
    ex, ey = x[canon], y[canon]
    eowner = np.unique(owner_s[canon], return_inverse=True)[1]

    parts: list[np.ndarray] = []
    if len(canon) >= 2:
        _, labels = _components(ex, ey, link_m)
        for group in _groups(labels):
            gx = ex[group] - ex[group].min()
            gy = ey[group] - ey[group].min()
            local = _straight_parts(
                gx, gy, eowner[group], np.arange(len(group)), link_m, corridor_m, min_owners
            )
            parts.extend(group[p] for p in local)

    members = sorted((np.sort(canon[p]) for p in parts), key=lambda m: int(m[0]))
    return _facts(members, x, y, kind, owner_s, height, fibre, power_kw, kinds, n,
                  min_height_m, min_power_kw)  # fmt: skip


def _facts(
    members: list[np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    kind: np.ndarray,
    owner: np.ndarray,
    height: np.ndarray,
    fibre: np.ndarray | None,
    power_kw: np.ndarray | None,
    kinds: Sequence[str],
    n: int,
    min_height_m: float,
    min_power_kw: float,
) -> Clusters:
    """Per-cluster facts from the members of each cluster (input indices, increasing)."""
    k = len(members)
    cluster = np.full(n, -1, dtype=np.int64)
    size = np.array([len(m) for m in members], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(size)]).astype(np.int64)
    member_index = np.concatenate(members).astype(np.int64) if k else np.zeros(0, np.int64)
    cluster[member_index] = np.repeat(np.arange(k), size)
    kept = np.zeros(k, dtype=np.int64)
    n_owners = np.zeros(k, dtype=np.int64)
    labels = np.empty(k, dtype=object)
    max_offset = np.zeros(k)
    candidate = np.zeros(k, dtype=bool)
    for c, m in enumerate(members):
        kept[c] = m[np.argmax(height[m])]  # argmax takes the first of equal heights
        n_owners[c] = len(np.unique(owner[m]))
        labels[c] = kinds_label(kind[m], kinds)
        max_offset[c] = _axis(x[m] - x[m].min(), y[m] - y[m].min())[1].max()
        ok = height[kept[c]] >= min_height_m
        if fibre is not None:
            ok = ok and bool(fibre[m].any())
        if power_kw is not None:
            ok = ok and bool(power_kw[m].max() >= min_power_kw)
        candidate[c] = ok
    cx = np.array([x[m].mean() for m in members]) if k else np.zeros(0)
    cy = np.array([y[m].mean() for m in members]) if k else np.zeros(0)
    return Clusters(
        cluster=cluster,
        size=size,
        n_owners=n_owners,
        kinds=labels.astype(str) if k else np.zeros(0, dtype=str),
        centroid_x_m=cx,
        centroid_y_m=cy,
        kept=kept,
        height_m=height[kept] if k else np.zeros(0),
        removed=size - 1,
        max_offset_m=max_offset,
        candidate_5g=candidate,
        member_index=member_index,
        member_offsets=offsets,
    )


def summarise(clusters: Clusters, kind: np.ndarray | None = None) -> dict[str, Any]:
    """Totals of a clustering: clusters, poles covered and removed, 5G candidates, by kinds.

    ``by_kinds`` maps each kind combination ("lamp_pole+cctv_pole") to its clusters, poles,
    poles removed and candidates, most clusters first. With the input ``kind`` array, also the
    poles covered and removed per kind (``by_kind``; a removed pole is any member but the kept).
    """
    by_kinds: dict[str, dict[str, int]] = {}
    for label in np.unique(clusters.kinds):
        sel = clusters.kinds == label
        by_kinds[str(label)] = {
            "clusters": int(sel.sum()),
            "poles": int(clusters.size[sel].sum()),
            "poles_removed": int(clusters.removed[sel].sum()),
            "candidates_5g": int(clusters.candidate_5g[sel].sum()),
        }
    by_kinds = dict(sorted(by_kinds.items(), key=lambda kv: (-kv[1]["clusters"], kv[0])))
    sizes, counts = np.unique(clusters.size, return_counts=True)
    summary: dict[str, Any] = {
        "clusters": len(clusters),
        "poles_in_clusters": int(clusters.size.sum()),
        "poles_removed": int(clusters.removed.sum()),
        "smart_poles": len(clusters),
        "candidates_5g": int(clusters.candidate_5g.sum()),
        "by_size": {str(int(s)): int(c) for s, c in zip(sizes, counts, strict=True)},
        "by_kinds": by_kinds,
    }
    if kind is not None:
        kind = np.asarray(kind).astype(str)
        members = clusters.member_index
        removed = np.setdiff1d(members, clusters.kept)
        summary["by_kind"] = {
            str(k): {
                "poles": int((kind[members] == k).sum()),
                "poles_removed": int((kind[removed] == k).sum()),
            }
            for k in sorted(set(kind[members]))
        }
    return summary
