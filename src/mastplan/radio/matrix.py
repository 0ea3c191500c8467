"""Sparse sector × point matrices of received power, for optimisers (the site planner).

:func:`rsrp_matrix` evaluates every sector at the test points it can reach at or above a
threshold and keeps only those pairs, as a CSR matrix of SS-RSRP (dBm per RE): no dense
sectors × points array is ever built. It uses the coverage kernel's own building blocks
(:func:`~mastplan.radio.coverage.prepare_sectors`, the per-sector path-loss tables and
:func:`~mastplan.radio.coverage.sector_gain_nb`), so a pair's value is the RSRP a prediction
gives that sector at that point (without terrain and shadowing).
"""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd
import scipy.sparse

from mastplan.radio.antenna import make_codebook
from mastplan.radio.coverage import (
    ANTENNAS,
    CoverageOptions,
    PreparedSectors,
    max_gain_dbi,
    prepare_sectors,
    sector_gain_nb,
    table_path_loss_db_nb,
)

__all__ = ["PointIndex", "reach_radius_m", "rsrp_matrix"]


class PointIndex:
    """Test points bucketed in square cells, so a sector visits only the cells its disc meets.

    Parameters
    ----------
    x_m, y_m : ndarray
        Point coordinates in the grid's projected CRS (m).
    cell_m : float
        Bucket edge; about the typical reach radius / 4 keeps the visited area close to the
        disc.
    """

    def __init__(self, x_m: np.ndarray, y_m: np.ndarray, cell_m: float = 100.0) -> None:
        self.x_m = np.ascontiguousarray(x_m, dtype=float)
        self.y_m = np.ascontiguousarray(y_m, dtype=float)
        if self.x_m.shape != self.y_m.shape or self.x_m.ndim != 1:
            raise ValueError("x_m and y_m must be 1-D arrays of the same length")
        if not (np.isfinite(self.x_m).all() and np.isfinite(self.y_m).all()):
            raise ValueError("point coordinates must be finite")
        self.cell_m = float(cell_m)
        n = self.x_m.size
        self.x0 = float(self.x_m.min()) if n else 0.0
        self.y0 = float(self.y_m.min()) if n else 0.0
        cx = ((self.x_m - self.x0) // self.cell_m).astype(np.int64)
        cy = ((self.y_m - self.y0) // self.cell_m).astype(np.int64)
        self.ncx = int(cx.max()) + 1 if n else 1
        self.ncy = int(cy.max()) + 1 if n else 1
        cell = cy * self.ncx + cx
        self.order = np.argsort(cell, kind="stable").astype(np.int64)
        counts = np.bincount(cell, minlength=self.ncx * self.ncy)
        self.cell_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def __len__(self) -> int:
        return self.x_m.size


def reach_radius_m(
    prepared: PreparedSectors, threshold_dbm: float, max_gain_dbi: float
) -> np.ndarray:
    """Per sector, the distance beyond which its RSRP stays below ``threshold_dbm`` even at full
    antenna gain (from its own path-loss table, which grows with distance)."""
    # per distinct (table row, power): sectors sharing a table mostly share the power too
    key = np.column_stack([prepared.pl_table_row, prepared.p_re_dbm])
    uniq, back = np.unique(key, axis=0, return_inverse=True)
    back = back.ravel()
    table = prepared.pl_table_db[uniq[:, 0].astype(np.int64)].astype(float)
    ok = (uniq[:, 1] + max_gain_dbi - threshold_dbm)[:, None] - table >= 0.0
    n = table.shape[1]
    last = np.where(ok.any(axis=1), n - 1 - np.argmax(ok[:, ::-1], axis=1), -1)[back]
    u = 1.0 + (last + 1) / prepared.pl_table_inv_du  # one table step beyond the last point
    return np.where(last >= 0, np.minimum(10.0**u, prepared.radius_m), 0.0)


def rsrp_matrix(
    sectors: pd.DataFrame | PreparedSectors,
    points: PointIndex,
    threshold_dbm: float,
    **options: object,
) -> scipy.sparse.csr_array:
    """SS-RSRP (dBm per RE, float32) of each sector (rows) at each point (columns) where it is
    at least ``threshold_dbm``; absent entries are below it.

    Parameters
    ----------
    sectors : DataFrame or PreparedSectors
        The sector table of :func:`~mastplan.radio.coverage.predict_coverage` (or one already
        prepared with the same options).
    points : PointIndex
        The test points.
    threshold_dbm : float
        Pairs below this RSRP are dropped (and mostly never evaluated: each sector only visits
        points within its reach radius).
    **options
        Fields of :class:`~mastplan.radio.coverage.CoverageOptions` (antenna model, LOS mode,
        UE height, ...). Shadowing is not applied (the matrix is deterministic).
    """
    opts = CoverageOptions(**options)  # type: ignore[arg-type]
    n_s, n_p = len(sectors), len(points)
    if n_s == 0 or n_p == 0:
        return scipy.sparse.csr_array((n_s, n_p), dtype=np.float32)
    prepared = sectors if isinstance(sectors, PreparedSectors) else prepare_sectors(sectors, opts)
    radius = reach_radius_m(prepared, threshold_dbm, max_gain_dbi(opts))
    codebook = make_codebook(opts.codebook_azimuths, opts.codebook_tilts, 60.0, (-6.0, 6.0))
    args = (
        points.x_m, points.y_m, points.order, points.cell_start, points.x0, points.y0,
        points.cell_m, points.ncx, points.ncy, opts.ue_height_m,
        prepared.x_m, prepared.y_m, prepared.height_m, prepared.ground_m, prepared.sin_az,
        prepared.cos_az, prepared.sin_mech_tilt, prepared.cos_mech_tilt, prepared.elec_tilt_deg,
        prepared.p_re_dbm, prepared.pl_table_db, prepared.pl_table_row, prepared.pl_table_inv_du,
        radius,
        float(threshold_dbm), ANTENNAS[opts.antenna], opts.array_rows, opts.array_cols,
        opts.array_spacing_wavelengths, np.ascontiguousarray(codebook[:, 0]),
        np.ascontiguousarray(codebook[:, 1]),
    )  # fmt: skip
    bound = np.zeros(n_s, dtype=np.int64)
    _pairs_in_reach(*args, bound)  # upper bound per sector: points inside the reach disc
    start = np.concatenate([[0], np.cumsum(bound)]).astype(np.int64)
    idx = np.empty(start[-1], dtype=np.int32)
    val = np.empty(start[-1], dtype=np.float32)
    count = np.zeros(n_s, dtype=np.int64)
    _fill(*args, start, idx, val, count)
    keep = np.arange(start[-1]) < np.repeat(start[:-1] + count, bound)
    indptr = np.concatenate([[0], np.cumsum(count)]).astype(np.int64)
    return scipy.sparse.csr_array((val[keep], idx[keep], indptr), shape=(n_s, n_p))


@numba.njit(cache=True, inline="always")
def _cell_range(c, r, c0, cell, nc):  # pragma: no cover - numba
    lo = max(0, int((c - r - c0) // cell))
    hi = min(nc - 1, int((c + r - c0) // cell))
    return lo, hi


@numba.njit(cache=True, parallel=True)
def _pairs_in_reach(
    px, py, order, cell_start, x0, y0, cell, ncx, ncy, ue_h, s_x, s_y, s_h, s_ground, s_sin_az,
    s_cos_az, s_sin_mt, s_cos_mt, s_etilt, s_pre, pl_table, pl_row, pl_inv_du, s_radius, threshold,
    ant_mode, arr_m, arr_n, arr_d, cb_tilt, cb_az, bound,
):  # pragma: no cover - numba  # fmt: skip
    for s in numba.prange(s_x.size):
        r = s_radius[s]
        r2 = r * r
        cx0, cx1 = _cell_range(s_x[s], r, x0, cell, ncx)
        cy0, cy1 = _cell_range(s_y[s], r, y0, cell, ncy)
        n = 0
        for cy in range(cy0, cy1 + 1):
            for cx in range(cx0, cx1 + 1):
                c = cy * ncx + cx
                for k in range(cell_start[c], cell_start[c + 1]):
                    p = order[k]
                    dx = px[p] - s_x[s]
                    dy = py[p] - s_y[s]
                    if dx * dx + dy * dy <= r2:
                        n += 1
        bound[s] = n


@numba.njit(cache=True, parallel=True, error_model="numpy")
def _fill(
    px, py, order, cell_start, x0, y0, cell, ncx, ncy, ue_h, s_x, s_y, s_h, s_ground, s_sin_az,
    s_cos_az, s_sin_mt, s_cos_mt, s_etilt, s_pre, pl_table, pl_row, pl_inv_du, s_radius, threshold,
    ant_mode, arr_m, arr_n, arr_d, cb_tilt, cb_az, start, idx, val, count,
):  # pragma: no cover - numba  # fmt: skip
    for s in numba.prange(s_x.size):
        r = s_radius[s]
        r2 = r * r
        dz = ue_h - (s_ground[s] + s_h[s])
        beam_tilts = cb_tilt + s_etilt[s]
        cx0, cx1 = _cell_range(s_x[s], r, x0, cell, ncx)
        cy0, cy1 = _cell_range(s_y[s], r, y0, cell, ncy)
        n = 0
        base = start[s]
        for cy in range(cy0, cy1 + 1):
            for cx in range(cx0, cx1 + 1):
                c = cy * ncx + cx
                for k in range(cell_start[c], cell_start[c + 1]):
                    p = order[k]
                    dx = px[p] - s_x[s]
                    dy = py[p] - s_y[s]
                    d2sq = dx * dx + dy * dy
                    if d2sq > r2:
                        continue
                    gain = sector_gain_nb(
                        ant_mode, dx, dy, dz, s_sin_az[s], s_cos_az[s], s_sin_mt[s],
                        s_cos_mt[s], s_etilt[s], arr_m, arr_n, arr_d, beam_tilts, cb_az,
                    )  # fmt: skip
                    rsrp = (
                        s_pre[s]
                        + gain
                        - table_path_loss_db_nb(pl_table, pl_row, pl_inv_du, s, d2sq)
                    )
                    if rsrp >= threshold:
                        idx[base + n] = p
                        val[base + n] = rsrp
                        n += 1
        count[s] = n
