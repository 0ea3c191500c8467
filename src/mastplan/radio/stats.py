"""Coverage statistics of a polygon over RSRP and SINR rasters.

Pure: arrays in, numbers out (NumPy and ``scipy.ndimage``). Rasterising the polygon into a
boolean ``mask`` is done elsewhere; every pixel has the same area ``pixel_area_m2`` (a projected
grid). The exact definitions are in ``docs/coverage-statistics.md``; in short:

* **covered** pixel: inside the polygon, with ``RSRP ≥ rsrp_min_dbm`` *and*
  ``SINR ≥ sinr_min_db``. A NaN (no signal) in either raster is not covered.
* **covered share**: covered area / polygon area.
* **continuity (连片)**: the area of the largest connected covered region / polygon area.
  Covered regions are 8-connected (pixels that touch at a corner belong together) and are
  found among the polygon's own pixels only.
* **holes**: 4-connected regions of uncovered polygon pixels whose area is at least
  ``min_hole_m2``. An uncovered region that touches the polygon's boundary is still counted
  (it is uncovered area of the polygon); how many of the holes do is reported separately.
* **CDFs**: percentiles of RSRP and SINR over the polygon's pixels (no-signal pixels rank
  lowest) and the share of the polygon at or above given thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

__all__ = [
    "DEFAULT_PERCENTILES",
    "DEFAULT_RSRP_THRESHOLDS_DBM",
    "DEFAULT_SINR_THRESHOLDS_DB",
    "CoverageStats",
    "Distribution",
    "Hole",
    "coverage_stats",
    "covered_pixels",
    "distribution",
    "label_covered_regions",
    "label_uncovered_regions",
]

DEFAULT_PERCENTILES: tuple[float, ...] = tuple(float(p) for p in range(5, 100, 5))
DEFAULT_RSRP_THRESHOLDS_DBM: tuple[float, ...] = (-120.0, -115.0, -110.0, -105.0, -100.0,
                                                  -95.0, -90.0, -85.0, -80.0)  # fmt: skip
DEFAULT_SINR_THRESHOLDS_DB: tuple[float, ...] = (-5.0, -3.0, 0.0, 3.0, 5.0, 10.0, 15.0, 20.0)

# Covered regions: 8-connectivity. Uncovered regions (holes): 4-connectivity, the dual that
# keeps the two consistent — a ring of covered pixels joined only at corners still encloses
# what is inside it, and a hole never "leaks" diagonally between two covered pixels.
_EIGHT = np.ones((3, 3), dtype=bool)
_FOUR = ndimage.generate_binary_structure(2, 1)


@dataclass(frozen=True)
class Hole:
    """One coverage hole: a 4-connected uncovered region of the polygon.

    ``centroid_row`` / ``centroid_col`` are in pixel coordinates of the input rasters (the
    centre of pixel (r, c) is (r, c)); the caller maps them to ground coordinates.
    """

    area_km2: float
    n_pixels: int
    centroid_row: float
    centroid_col: float
    touches_boundary: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "area_km2": self.area_km2,
            "n_pixels": self.n_pixels,
            "centroid_row": self.centroid_row,
            "centroid_col": self.centroid_col,
            "touches_boundary": self.touches_boundary,
        }


@dataclass(frozen=True)
class Distribution:
    """The distribution of one quantity (RSRP or SINR) over the polygon's pixels.

    ``percentiles``: ``(p, value)`` pairs; ``value`` is the smallest value ``v`` such that the
    pixels with a value ``≤ v`` make up at least ``p`` % of the polygon (the inverted CDF, no
    interpolation), with no-signal pixels ranked below every value. ``None`` when that
    percentile falls among the no-signal pixels.
    ``share_at_least``: ``(threshold, share)`` pairs, the share of the polygon's area with a
    value ``≥ threshold`` (no-signal pixels never are).
    ``no_signal_share``: the share of the polygon's area with no value (NaN).
    """

    percentiles: tuple[tuple[float, float | None], ...]
    share_at_least: tuple[tuple[float, float], ...]
    no_signal_share: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "percentiles": [{"p": p, "value": v} for p, v in self.percentiles],
            "share_at_least": [{"threshold": t, "share": s} for t, s in self.share_at_least],
            "no_signal_share": self.no_signal_share,
        }


@dataclass(frozen=True)
class CoverageStats:
    """Coverage statistics of one polygon (see the module docstring for the definitions)."""

    # inputs that shape the numbers, kept for provenance
    pixel_area_m2: float
    rsrp_min_dbm: float
    sinr_min_db: float
    min_hole_m2: float
    # polygon and coverage
    n_pixels: int
    area_km2: float
    covered_area_km2: float
    covered_share: float
    uncovered_area_km2: float
    # continuity (连片)
    n_covered_regions: int
    largest_region_area_km2: float
    continuity: float
    # holes (at least min_hole_m2)
    n_holes: int
    n_holes_touching_boundary: int
    holes_area_km2: float
    largest_hole_area_km2: float
    holes: tuple[Hole, ...]
    # distributions
    rsrp_dbm: Distribution
    sinr_db: Distribution

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (plain ints, floats, None, lists and dicts)."""
        return {
            "pixel_area_m2": self.pixel_area_m2,
            "rsrp_min_dbm": self.rsrp_min_dbm,
            "sinr_min_db": self.sinr_min_db,
            "min_hole_m2": self.min_hole_m2,
            "n_pixels": self.n_pixels,
            "area_km2": self.area_km2,
            "covered_area_km2": self.covered_area_km2,
            "covered_share": self.covered_share,
            "uncovered_area_km2": self.uncovered_area_km2,
            "n_covered_regions": self.n_covered_regions,
            "largest_region_area_km2": self.largest_region_area_km2,
            "continuity": self.continuity,
            "n_holes": self.n_holes,
            "n_holes_touching_boundary": self.n_holes_touching_boundary,
            "holes_area_km2": self.holes_area_km2,
            "largest_hole_area_km2": self.largest_hole_area_km2,
            "holes": [h.as_dict() for h in self.holes],
            "rsrp_dbm": self.rsrp_dbm.as_dict(),
            "sinr_db": self.sinr_db.as_dict(),
        }


def _check_raster(name: str, values: ArrayLike, shape: tuple[int, ...] | None) -> NDArray[Any]:
    arr = np.asarray(values)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, not {arr.ndim}-D")
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{name} has shape {arr.shape}, the mask has {shape}")
    return arr


def covered_pixels(
    rsrp_dbm: ArrayLike,
    sinr_db: ArrayLike,
    mask: ArrayLike,
    rsrp_min_dbm: float = -105.0,
    sinr_min_db: float = -3.0,
) -> NDArray[np.bool_]:
    """Boolean raster of covered pixels: in ``mask``, RSRP ≥ threshold and SINR ≥ threshold.

    NaN in either raster (no signal) is never covered.
    """
    m = _check_raster("mask", mask, None).astype(bool)
    r = _check_raster("rsrp_dbm", rsrp_dbm, m.shape).astype(float)
    s = _check_raster("sinr_db", sinr_db, m.shape).astype(float)
    with np.errstate(invalid="ignore"):
        return m & (r >= rsrp_min_dbm) & (s >= sinr_min_db)


def label_covered_regions(covered: ArrayLike) -> tuple[NDArray[np.int32], int]:
    """8-connected covered regions: a label raster (0 = not covered) and their number."""
    c = _check_raster("covered", covered, None).astype(bool)
    labels, n = ndimage.label(c, structure=_EIGHT)
    return labels.astype(np.int32, copy=False), int(n)


def label_uncovered_regions(covered: ArrayLike, mask: ArrayLike) -> tuple[NDArray[np.int32], int]:
    """4-connected uncovered regions of the polygon: a label raster (0 = covered or outside)."""
    m = _check_raster("mask", mask, None).astype(bool)
    c = _check_raster("covered", covered, m.shape).astype(bool)
    labels, n = ndimage.label(m & ~c, structure=_FOUR)
    return labels.astype(np.int32, copy=False), int(n)


def distribution(
    values: ArrayLike,
    mask: ArrayLike,
    thresholds: Sequence[float],
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
) -> Distribution:
    """Percentiles and threshold shares of ``values`` over the ``mask`` pixels (NaN = no signal).

    See :class:`Distribution` for the exact definitions.
    """
    m = _check_raster("mask", mask, None).astype(bool)
    v = _check_raster("values", values, m.shape).astype(float)[m]
    n = v.size
    if n == 0:
        raise ValueError("the mask selects no pixels")
    finite = v[~np.isnan(v)]
    n_nan = n - finite.size
    ordered = np.sort(finite)
    pcts: list[tuple[float, float | None]] = []
    for p in percentiles:
        if not 0 < p <= 100:
            raise ValueError(f"percentile {p} is outside (0, 100]")
        # rank (1-based) of the smallest value with at least p % of the pixels at or below it;
        # rounded first so that 5 % of 100 pixels is rank 5, not 6 from 5.000000000000001.
        k = max(1, math.ceil(round(p * n / 100.0, 9)))
        value = None if k <= n_nan else float(ordered[k - n_nan - 1])
        pcts.append((float(p), value))
    shares = tuple((float(t), float(np.count_nonzero(finite >= t)) / n) for t in thresholds)
    return Distribution(tuple(pcts), shares, n_nan / n)


def coverage_stats(
    rsrp_dbm: ArrayLike,
    sinr_db: ArrayLike,
    mask: ArrayLike,
    pixel_area_m2: float,
    rsrp_min_dbm: float = -105.0,
    sinr_min_db: float = -3.0,
    min_hole_m2: float = 10_000.0,
    *,
    rsrp_thresholds_dbm: Sequence[float] = DEFAULT_RSRP_THRESHOLDS_DBM,
    sinr_thresholds_db: Sequence[float] = DEFAULT_SINR_THRESHOLDS_DB,
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
) -> CoverageStats:
    """Coverage, continuity (连片), holes and RSRP/SINR distributions of one polygon.

    Parameters
    ----------
    rsrp_dbm, sinr_db
        2-D rasters of the best server's SS-RSRP (dBm) and SINR (dB); NaN where there is no
        signal.
    mask
        2-D boolean raster, True for the polygon's pixels (same shape).
    pixel_area_m2
        Ground area of one pixel, m² (the grid must be equal-area, e.g. UTM).
    rsrp_min_dbm, sinr_min_db
        Coverage thresholds: a pixel is covered when both are met (≥).
    min_hole_m2
        Smallest uncovered region, m², that counts as a hole (area ≥ this).
    rsrp_thresholds_dbm, sinr_thresholds_db
        Thresholds for the "share at least" part of the distributions.
    percentiles
        Percentiles (0 < p ≤ 100) of the distributions.

    Returns
    -------
    CoverageStats
        Areas in km², shares in [0, 1]; ``continuity ≤ covered_share``;
        ``holes_area_km2 ≤ uncovered_area_km2``.

    Raises
    ------
    ValueError
        If the rasters are not 2-D arrays of one shape, the mask is empty or the pixel area is
        not positive.
    """
    if not (math.isfinite(pixel_area_m2) and pixel_area_m2 > 0):
        raise ValueError(f"pixel_area_m2 must be positive, not {pixel_area_m2}")
    m = _check_raster("mask", mask, None).astype(bool)
    n_pix = int(np.count_nonzero(m))
    if n_pix == 0:
        raise ValueError("the mask selects no pixels")
    covered = covered_pixels(rsrp_dbm, sinr_db, m, rsrp_min_dbm, sinr_min_db)
    km2 = pixel_area_m2 / 1e6
    n_cov = int(np.count_nonzero(covered))

    # continuity: the largest 8-connected covered region
    cov_labels, n_regions = label_covered_regions(covered)
    largest_region = int(np.bincount(cov_labels.ravel())[1:].max()) if n_regions else 0

    # holes: 4-connected uncovered regions of at least min_hole_m2
    unc_labels, n_unc = label_uncovered_regions(covered, m)
    holes: list[Hole] = []
    if n_unc:
        sizes = np.bincount(unc_labels.ravel())
        # boundary pixels of the polygon: those with a 4-neighbour outside it (or off the grid)
        edge = m & ~ndimage.binary_erosion(m, structure=_FOUR, border_value=0)
        touching = np.zeros(n_unc + 1, dtype=bool)
        touching[np.unique(unc_labels[edge])] = True
        big = np.flatnonzero(sizes[1:] * pixel_area_m2 >= min_hole_m2) + 1
        slices = ndimage.find_objects(unc_labels)
        for lab in big:
            window = slices[lab - 1]
            rows, cols = np.nonzero(unc_labels[window] == lab)
            holes.append(
                Hole(
                    area_km2=float(sizes[lab] * km2),
                    n_pixels=int(sizes[lab]),
                    centroid_row=float(rows.mean() + window[0].start),
                    centroid_col=float(cols.mean() + window[1].start),
                    touches_boundary=bool(touching[lab]),
                )
            )
    holes.sort(key=lambda h: (-h.n_pixels, h.centroid_row, h.centroid_col))
    hole_pixels = sum(h.n_pixels for h in holes)

    return CoverageStats(
        pixel_area_m2=float(pixel_area_m2),
        rsrp_min_dbm=float(rsrp_min_dbm),
        sinr_min_db=float(sinr_min_db),
        min_hole_m2=float(min_hole_m2),
        n_pixels=n_pix,
        area_km2=n_pix * km2,
        covered_area_km2=n_cov * km2,
        covered_share=n_cov / n_pix,
        uncovered_area_km2=(n_pix - n_cov) * km2,
        n_covered_regions=n_regions,
        largest_region_area_km2=largest_region * km2,
        continuity=largest_region / n_pix,
        n_holes=len(holes),
        n_holes_touching_boundary=sum(h.touches_boundary for h in holes),
        holes_area_km2=hole_pixels * km2,
        largest_hole_area_km2=holes[0].area_km2 if holes else 0.0,
        holes=tuple(holes),
        rsrp_dbm=distribution(rsrp_dbm, m, rsrp_thresholds_dbm, percentiles),
        sinr_db=distribution(sinr_db, m, sinr_thresholds_db, percentiles),
    )
