"""Which candidate serves which test point: the radio engine's RSRP matrix folded from sectors
to candidates, and the cover problems of any subset of candidates and points.

A candidate serves a point when one of its sectors reaches the point at the RSRP target
(:func:`~mastplan.radio.matrix.rsrp_matrix`: the coverage kernel's antenna and path-loss blocks,
no terrain, no shadowing). :class:`CoverBuilder` holds one operator's candidates (its sites on
air, fixed, then the candidate configurations) and the test points as plain arrays, and builds
the :class:`~mastplan.planning.problem.CoverProblem` of any subset of them: the whole area at
once, or the tiles of :func:`~mastplan.planning.tiles.solve_tiled` (it is picklable, so tiles can
run in a process pool or on Dask workers). Pure: tables and arrays in, arrays out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict

import numpy as np
import pandas as pd
import scipy.sparse
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from mastplan.planning.candidates import Carrier, candidate_sectors
from mastplan.planning.costs import CostModel
from mastplan.planning.problem import CoverProblem
from mastplan.radio.coverage import CoverageOptions, max_gain_dbi, prepare_sectors
from mastplan.radio.matrix import PointIndex, reach_radius_m, rsrp_matrix

__all__ = ["ENGINE_COLUMNS", "CoverBuilder", "candidate_coverage", "sector_reach_m"]

#: The radio engine's sector-table columns.
ENGINE_COLUMNS = ["x_m", "y_m", "height_m", "azimuth_deg", "tilt_deg", "power_dbm", "f_ghz",
                  "bandwidth_mhz", "model"]  # fmt: skip

#: Sectors evaluated at once: the RSRP matrix reserves an (index, value) pair for every point
#: within a sector's reach disc, so chunks bound the memory of big problems (≈ 8 B × chunk ×
#: points in a disc).
SECTOR_CHUNK = 3000

#: Distinct (height, site class) pairs whose reach is computed at once (each has its own
#: path-loss table; real inventories have a height per structure).
REACH_CHUNK = 2000

#: Columns of the candidate table the builder keeps (see
#: :func:`~mastplan.planning.candidates.candidate_configurations`).
_CANDIDATE_COLUMNS = ("x_m", "y_m", "height_m", "site_class", "rotation_deg", "tilt_deg",
                      "cost_yuan", "host")  # fmt: skip


def candidate_coverage(
    sectors: pd.DataFrame, owner: NDArray[np.int64], n_sites: int, points: PointIndex,
    rsrp_dbm: float,
) -> scipy.sparse.csr_array:  # fmt: skip
    """Sites × points coverage at ``rsrp_dbm`` of an engine sector table whose row ``s``
    belongs to site ``owner[s]``."""
    if len(sectors) == 0 or len(points) == 0:
        return scipy.sparse.csr_array((n_sites, len(points)), dtype=bool)
    table = sectors[ENGINE_COLUMNS].reset_index(drop=True)
    owner = np.asarray(owner, dtype=np.int64)
    rows, cols = [], []
    for start in range(0, len(table), SECTOR_CHUNK):
        # in chunks: the engine reserves room for every point within each sector's reach disc
        m = rsrp_matrix(table.iloc[start : start + SECTOR_CHUNK], points, rsrp_dbm)
        pair_site = owner[start : start + SECTOR_CHUNK][np.repeat(np.arange(m.shape[0]),
                                                                   np.diff(m.indptr))]  # fmt: skip
        site = scipy.sparse.csr_array(
            (np.ones(m.nnz, dtype=bool), (pair_site, m.indices)), shape=(n_sites, len(points))
        )  # one pair per (site, point) of this chunk
        coo = site.tocoo()
        rows.append(coo.row.astype(np.int32))
        cols.append(coo.col.astype(np.int32))
    out = scipy.sparse.csr_array(
        (np.ones(sum(len(r) for r in rows), dtype=bool),
         (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_sites, len(points)),
    )  # fmt: skip
    out.sum_duplicates()  # a site whose sectors fell in two chunks
    out.data[:] = True
    return out


def sector_reach_m(sectors: pd.DataFrame, rsrp_dbm: float) -> NDArray[np.float64]:
    """Per sector of the engine table, the farthest it can reach at ``rsrp_dbm`` (m)."""
    if len(sectors) == 0:
        return np.zeros(0)
    opts = CoverageOptions()
    prepared = prepare_sectors(sectors[ENGINE_COLUMNS], opts)
    return reach_radius_m(prepared, rsrp_dbm, max_gain_dbi(opts))


def _no_objects(values: NDArray) -> NDArray:
    """Text columns as Unicode arrays (``np.load`` without pickles reads them back)."""
    values = np.asarray(values)
    return values.astype(str) if values.dtype.kind == "O" else values


def _objects(values: NDArray) -> NDArray:
    """Unicode arrays back to the object columns that pandas builds from text."""
    return values.astype(object) if values.dtype.kind == "U" else values


class CoverBuilder:
    """The cover problems of one operator over a set of test points, for any subset.

    Global candidate order: the sites of ``existing`` (fixed, cost 0, one group each), then the
    rows of ``candidates`` (group = ``host``: one configuration per structure at most). Calling
    the builder with sorted global candidate and point indices returns their
    :class:`CoverProblem`, rows and columns in that order (the interface of
    :func:`~mastplan.planning.tiles.solve_tiled`).

    Parameters
    ----------
    candidates
        Candidate configurations (:func:`~mastplan.planning.candidates.candidate_configurations`).
    carrier, costs
        The operator's NR carrier and the cost model (sector power and model by site class).
    point_x_m, point_y_m, point_weight
        Test points (EPSG:32648) and their weights (m², or demand).
    rsrp_dbm, target_share
        The coverage target: a point is served at SS-RSRP ≥ ``rsrp_dbm``.
    existing
        The operator's network as an engine sector table with a ``site`` column (sites on air
        and sites fixed by earlier phases); ``None`` for none.
    min_isd_m
        Configurations on hosts closer than this conflict (0: no conflicts).
    budget
        Budget mode of the cover problem (yuan), or ``None``.
    """

    def __init__(
        self,
        candidates: pd.DataFrame,
        carrier: Carrier,
        costs: CostModel,
        point_x_m: NDArray[np.float64],
        point_y_m: NDArray[np.float64],
        point_weight: NDArray[np.float64],
        rsrp_dbm: float,
        target_share: float,
        existing: pd.DataFrame | None = None,
        min_isd_m: float = 0.0,
        budget: float | None = None,
    ) -> None:
        missing = [c for c in _CANDIDATE_COLUMNS if c not in candidates.columns]
        if missing:
            raise ValueError(f"candidates lack column(s): {', '.join(missing)}")
        self.cand = {c: candidates[c].to_numpy() for c in _CANDIDATE_COLUMNS}
        self.carrier = carrier
        self.costs = costs
        self.point_x_m = np.ascontiguousarray(point_x_m, dtype=np.float64)
        self.point_y_m = np.ascontiguousarray(point_y_m, dtype=np.float64)
        self.point_weight = np.ascontiguousarray(point_weight, dtype=np.float64)
        self.rsrp_dbm = float(rsrp_dbm)
        self.target_share = float(target_share)
        self.min_isd_m = float(min_isd_m)
        self.budget = budget
        if existing is None or len(existing) == 0:
            self.existing = pd.DataFrame(columns=[*ENGINE_COLUMNS, "site"])
            self.site_ids = np.zeros(0, dtype=object)
            site_of_sector = np.zeros(0, dtype=np.int64)
        else:
            self.existing = existing[[*ENGINE_COLUMNS, "site"]].reset_index(drop=True)
            self.site_ids, site_of_sector = np.unique(
                self.existing["site"].astype(str).to_numpy(), return_inverse=True
            )
        self.site_of_sector = site_of_sector.astype(np.int64)
        n_e = len(self.site_ids)
        ex = self.existing
        sx = np.bincount(self.site_of_sector, ex["x_m"].to_numpy(float), n_e) if n_e else []
        sy = np.bincount(self.site_of_sector, ex["y_m"].to_numpy(float), n_e) if n_e else []
        count = np.maximum(np.bincount(self.site_of_sector, minlength=n_e), 1)
        self.xy_m = np.vstack(
            [
                np.column_stack([np.asarray(sx) / count, np.asarray(sy) / count]).reshape(-1, 2),
                np.column_stack([self.cand["x_m"], self.cand["y_m"]]).astype(np.float64),
            ]
        )
        self.n_existing = n_e

    def to_arrays(self) -> dict[str, NDArray]:
        """The builder as named arrays (text as Unicode arrays, no objects) and one JSON text of
        its scalars, carrier and cost model: what Dask workers load from a file
        (:meth:`from_arrays`) instead of receiving the builder pickled."""
        meta = {
            "carrier": asdict(self.carrier), "costs": self.costs.to_json(),
            "rsrp_dbm": self.rsrp_dbm, "target_share": self.target_share,
            "min_isd_m": self.min_isd_m, "budget": self.budget,
            "existing_columns": list(self.existing.columns),
        }  # fmt: skip
        out = {"meta": np.asarray(json.dumps(meta))}
        out |= {f"cand.{k}": _no_objects(v) for k, v in self.cand.items()}
        out |= {f"existing.{c}": _no_objects(self.existing[c].to_numpy()) for c in self.existing}
        out |= {"point_x_m": self.point_x_m, "point_y_m": self.point_y_m,
                "point_weight": self.point_weight}  # fmt: skip
        return out

    @classmethod
    def from_arrays(cls, a: Mapping[str, NDArray]) -> CoverBuilder:
        """The builder :meth:`to_arrays` wrote: the same problems for every subset."""
        meta = json.loads(str(a["meta"]))
        cand = pd.DataFrame({c: _objects(a[f"cand.{c}"]) for c in _CANDIDATE_COLUMNS})
        existing = pd.DataFrame({c: _objects(a[f"existing.{c}"]) for c in meta["existing_columns"]})
        return cls(
            cand, Carrier(**meta["carrier"]), CostModel.from_json(meta["costs"]),
            a["point_x_m"], a["point_y_m"], a["point_weight"], meta["rsrp_dbm"],
            meta["target_share"], existing=existing if len(existing) else None,
            min_isd_m=meta["min_isd_m"], budget=meta["budget"],
        )  # fmt: skip

    @property
    def n_candidates(self) -> int:
        """Existing sites plus candidate configurations."""
        return int(self.xy_m.shape[0])

    @property
    def n_points(self) -> int:
        return int(self.point_x_m.size)

    @property
    def point_xy_m(self) -> NDArray[np.float64]:
        """(n_points, 2) test-point coordinates."""
        return np.column_stack([self.point_x_m, self.point_y_m])

    def candidate_reach_m(self) -> NDArray[np.float64]:
        """Per global candidate, the farthest its sectors reach at the RSRP target (m): once per
        distinct (height, site class), which is all the reach depends on besides the carrier."""
        out = np.zeros(self.n_candidates)
        if self.n_existing:
            r = sector_reach_m(self.existing, self.rsrp_dbm)
            np.maximum.at(out, self.site_of_sector, r)
        if len(self.cand["x_m"]):
            key = pd.DataFrame({"h": self.cand["height_m"], "c": self.cand["site_class"]})
            first = ~key.duplicated().to_numpy()
            reps = np.flatnonzero(first)
            per_rep = np.zeros(len(reps))
            for start in range(0, len(reps), REACH_CHUNK):
                # in chunks: each distinct height gets its own path-loss table
                part = reps[start : start + REACH_CHUNK]
                sectors = candidate_sectors(self.candidate_frame(part), self.carrier, self.costs)
                r = sector_reach_m(sectors, self.rsrp_dbm)
                np.maximum.at(per_rep, start + sectors["candidate"].to_numpy(), r)
            code = key.groupby(["h", "c"], sort=False).ngroup().to_numpy()
            out[self.n_existing :] = per_rep[code]  # groups are numbered in order of first row
        return out

    def candidate_frame(self, rows: NDArray[np.int64]) -> pd.DataFrame:
        """The candidate table's rows ``rows`` (candidate numbering, existing sites excluded)."""
        return pd.DataFrame({c: v[rows] for c, v in self.cand.items()})

    def sectors(self, cand_idx: NDArray[np.int64]) -> tuple[pd.DataFrame, NDArray[np.int64]]:
        """The engine sector table of global candidates ``cand_idx`` and, per sector, the
        position of its candidate in ``cand_idx``."""
        cand_idx = np.asarray(cand_idx, dtype=np.int64)
        is_e = cand_idx < self.n_existing
        e_pos = np.flatnonzero(is_e)
        e_sites = cand_idx[is_e]
        e_rows = np.flatnonzero(np.isin(self.site_of_sector, e_sites))
        local_of_site = np.full(self.n_existing, -1, dtype=np.int64)
        local_of_site[e_sites] = e_pos
        c_pos = np.flatnonzero(~is_e)
        rows = cand_idx[~is_e] - self.n_existing
        csec = candidate_sectors(self.candidate_frame(rows), self.carrier, self.costs)
        frame = pd.concat(
            [self.existing.loc[e_rows, ENGINE_COLUMNS], csec[ENGINE_COLUMNS]], ignore_index=True
        )
        owner = np.concatenate(
            [local_of_site[self.site_of_sector[e_rows]], c_pos[csec["candidate"].to_numpy()]]
        ).astype(np.int64)
        return frame, owner

    def coverage(
        self, cand_idx: NDArray[np.int64], point_idx: NDArray[np.int64]
    ) -> scipy.sparse.csr_array:
        """Candidates × points served at the RSRP target (global indices, in that order)."""
        cand_idx = np.asarray(cand_idx, dtype=np.int64)
        point_idx = np.asarray(point_idx, dtype=np.int64)
        points = PointIndex(self.point_x_m[point_idx], self.point_y_m[point_idx], cell_m=100.0)
        frame, owner = self.sectors(cand_idx)
        return candidate_coverage(frame, owner, len(cand_idx), points, self.rsrp_dbm)

    def __call__(self, cand_idx: NDArray[np.int64], point_idx: NDArray[np.int64]) -> CoverProblem:
        """The cover problem of global candidates ``cand_idx`` over points ``point_idx``."""
        cand_idx = np.asarray(cand_idx, dtype=np.int64)
        point_idx = np.asarray(point_idx, dtype=np.int64)
        is_e = cand_idx < self.n_existing
        rows = cand_idx[~is_e] - self.n_existing
        cost = np.zeros(len(cand_idx))
        cost[~is_e] = self.cand["cost_yuan"][rows]
        group = cand_idx.copy()
        group[~is_e] = self.n_existing + self.cand["host"][rows].astype(np.int64)
        return CoverProblem(
            coverage=self.coverage(cand_idx, point_idx),
            point_weight=self.point_weight[point_idx],
            cost=cost,
            target_share=self.target_share,
            group=group,
            conflicts=self._conflicts(cand_idx, is_e),
            fixed=is_e,
            budget=self.budget,
        )

    def _conflicts(self, cand_idx: NDArray[np.int64], is_e: NDArray[np.bool_]) -> NDArray | None:
        """Pairs of (local) candidates on different hosts closer than ``min_isd_m``."""
        new = np.flatnonzero(~is_e)
        if self.min_isd_m <= 0 or len(new) < 2:
            return None
        xy = self.xy_m[cand_idx[new]]
        pairs = cKDTree(xy).query_pairs(self.min_isd_m, output_type="ndarray")
        if len(pairs) == 0:
            return None
        host = self.cand["host"][cand_idx[new] - self.n_existing]
        pairs = pairs[host[pairs[:, 0]] != host[pairs[:, 1]]]
        return new[pairs] if len(pairs) else None
