"""GeoTIFF rasters through rasterio (GDAL).

Sections:

* DEM — :func:`read_dem` reads any GDAL-readable elevation raster into a
  :class:`mastplan.radio.terrain.Terrain` on the engine's grid (reprojected, nodata filled);
  :func:`write_dem` writes a terrain back as a GeoTIFF.
* Demand — :func:`read_density` reads a demand density raster (people, traffic or users per
  km²) onto a planning grid, for demand-weighted test points.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import CRSError, RasterioError
from rasterio.fill import fillnodata
from rasterio.transform import Affine
from rasterio.warp import reproject, transform_bounds
from rasterio.windows import Window
from scipy import ndimage

from mastplan.errors import MastplanError
from mastplan.radio.terrain import Terrain

# =============================================================================================
# DEM
# =============================================================================================

#: GeoTIFF tag that records whether a DEM is synthetic (written by :func:`write_dem`).
SYNTHETIC_TAG = "MASTPLAN_SYNTHETIC"
#: Voids up to this many cells from valid data are interpolated (GDAL FillNodata); the rest
#: takes the value of the nearest valid cell.
FILL_SEARCH_CELLS = 100
#: A warning is issued when more than this share of the requested cells had to be filled.
FILL_WARN_FRACTION = 0.01


def read_dem(
    path: str | Path,
    crs: str,
    bounds_m: tuple[float, float, float, float],
    resolution_m: float,
) -> Terrain:
    """Read an elevation raster onto a regular grid in a metric CRS.

    The source may be any single-band raster GDAL reads with a CRS (GeoTIFF, SRTM ``.hgt``,
    ...) in any CRS. Only the part covering ``bounds_m`` (plus a margin of two source
    cells) is read. It is reprojected with ``rasterio.warp.reproject`` and bilinear
    resampling onto the grid whose upper-left corner is ``(xmin, ymax)`` with
    ``ceil(width / resolution_m)`` columns and ``ceil(height / resolution_m)`` rows.

    Nodata: source nodata (the band's nodata value, NaN, or its mask) becomes NaN and is
    excluded from the bilinear kernel. Cells still without a value — voids, or parts of the
    request the file does not cover — are filled: first by GDAL's FillNodata (inverse
    distance interpolation from the void's edge) up to :data:`FILL_SEARCH_CELLS` cells from
    valid data, then by the value of the nearest valid cell. A :class:`UserWarning` names
    the file when more than :data:`FILL_WARN_FRACTION` of the cells were filled.

    Parameters
    ----------
    path : str or Path
        The raster file.
    crs : str
        The target CRS, e.g. ``"EPSG:32648"`` (metres; the radio engine's CRS).
    bounds_m : tuple of float
        ``(xmin, ymin, xmax, ymax)`` in the target CRS.
    resolution_m : float
        Target cell size (m).

    Returns
    -------
    Terrain
        Heights as stored in the file (metres assumed), ``synthetic`` as recorded by
        :func:`write_dem` (False for other files).

    Raises
    ------
    MastplanError
        Naming the file: it cannot be opened or read, has no CRS, does not overlap the
        bounds, or has no valid height there; or the arguments are invalid.
    """
    path = Path(path)
    z, synthetic, xmin, ymax = _read_onto(path, crs, bounds_m, resolution_m, Resampling.bilinear,
                                          "heights")  # fmt: skip
    valid = np.isfinite(z)
    if not valid.any():
        raise MastplanError(f"{path}: no valid heights inside the requested bounds")
    filled = 1.0 - valid.mean()
    if filled > 0:
        z = _fill_nodata(z, valid)
        if filled > FILL_WARN_FRACTION:
            warnings.warn(
                f"{path}: {100 * filled:.1f}% of the requested cells had no data and were "
                "filled from their neighbours",
                UserWarning,
                stacklevel=2,
            )
    return Terrain(
        z.astype(np.float32),
        xmin,
        ymax,
        float(resolution_m),
        crs=CRS.from_user_input(crs).to_string(),
        synthetic=synthetic,
    )


def _read_onto(
    path: Path,
    crs: str,
    bounds_m: tuple[float, float, float, float],
    resolution_m: float,
    resampling: Resampling,
    what: str,
) -> tuple[np.ndarray, bool, float, float]:
    """Band 1 of a raster reprojected onto the grid whose upper-left corner is (xmin, ymax):
    NaN where the source has no data. Returns the array, the synthetic tag, xmin and ymax."""
    xmin, ymin, xmax, ymax = (float(b) for b in bounds_m)
    if not (xmax > xmin and ymax > ymin):
        raise MastplanError(f"{path}: empty bounds {tuple(bounds_m)}")
    if not (math.isfinite(resolution_m) and resolution_m > 0):
        raise MastplanError(f"{path}: resolution must be positive, got {resolution_m}")
    try:
        dst_crs = CRS.from_user_input(crs)
    except CRSError as exc:
        raise MastplanError(f"{path}: unknown target CRS {crs!r}: {exc}") from exc
    cols = max(1, math.ceil((xmax - xmin) / resolution_m - 1e-9))
    rows = max(1, math.ceil((ymax - ymin) / resolution_m - 1e-9))
    dst_transform = Affine(resolution_m, 0.0, xmin, 0.0, -resolution_m, ymax)

    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise MastplanError(f"{path}: the raster has no CRS; assign one (e.g. gdal_edit)")
            window = _source_window(src, dst_crs, (xmin, ymin, xmax, ymax), path)
            band = src.read(1, window=window, masked=True).astype(np.float64)
            src_transform = src.transform @ Affine.translation(window.col_off, window.row_off)
            src_crs = src.crs
            synthetic = src.tags().get(SYNTHETIC_TAG, "").lower() == "true"
    except MastplanError:
        raise
    except (RasterioError, OSError) as exc:
        raise MastplanError(f"{path}: cannot read as a raster: {exc}") from exc

    source = np.ma.filled(band, np.nan)
    if not np.isfinite(source).any():
        raise MastplanError(f"{path}: no valid {what} inside the requested bounds")
    z = np.full((rows, cols), np.nan, dtype=np.float64)
    reproject(
        source,
        z,
        src_transform=src_transform,
        src_crs=src_crs,
        src_nodata=np.nan,
        dst_transform=dst_transform,
        dst_crs=dst_crs,
        dst_nodata=np.nan,
        resampling=resampling,
    )
    return z, synthetic, xmin, ymax


def _source_window(src, dst_crs: CRS, bounds: tuple[float, float, float, float], path: Path):
    """The window of ``src`` that covers ``bounds`` (target CRS) plus two cells, or raise."""
    try:
        left, bottom, right, top = transform_bounds(dst_crs, src.crs, *bounds, densify_pts=21)
    except Exception as exc:  # pyproj/GDAL raise several types for impossible transforms
        raise MastplanError(
            f"{path}: the requested bounds cannot be expressed in the file's CRS: {exc}"
        ) from exc
    s_left, s_bottom, s_right, s_top = src.bounds
    if not (
        min(left, right) < max(s_left, s_right)
        and max(left, right) > min(s_left, s_right)
        and min(bottom, top) < max(s_bottom, s_top)
        and max(bottom, top) > min(s_bottom, s_top)
    ):
        raise MastplanError(
            f"{path}: no overlap between the raster (bounds {tuple(src.bounds)} in "
            f"{src.crs.to_string()}) and the requested bounds {bounds} in {dst_crs.to_string()}"
        )
    if not src.transform.is_rectilinear:
        return Window(0, 0, src.width, src.height)
    t = src.transform  # rectilinear: col = (x - c) / a, row = (y - f) / e
    cols = sorted(((left - t.c) / t.a, (right - t.c) / t.a))
    rows = sorted(((top - t.f) / t.e, (bottom - t.f) / t.e))
    col0 = max(0, math.floor(cols[0]) - 2)
    row0 = max(0, math.floor(rows[0]) - 2)
    col1 = min(src.width, math.ceil(cols[1]) + 2)
    row1 = min(src.height, math.ceil(rows[1]) + 2)
    if col1 <= col0 or row1 <= row0:
        raise MastplanError(f"{path}: no overlap with the requested bounds {bounds}")
    return Window(col0, row0, col1 - col0, row1 - row0)


def _fill_nodata(z: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Fill NaN cells: GDAL FillNodata near valid data, then the nearest valid value."""
    mask = valid.astype(np.uint8)
    out = fillnodata(
        np.where(valid, z, 0.0).astype(np.float32),
        mask=mask,
        max_search_distance=FILL_SEARCH_CELLS,
        smoothing_iterations=0,
    ).astype(np.float64)
    # FillNodata leaves cells out of its reach untouched; an indicator run finds them
    reached = fillnodata(
        mask.astype(np.float32),
        mask=mask,
        max_search_distance=FILL_SEARCH_CELLS,
        smoothing_iterations=0,
    )
    out[reached < 0.5] = np.nan
    still = ~np.isfinite(out)
    if still.any():
        idx = ndimage.distance_transform_edt(still, return_distances=False, return_indices=True)
        out = out[tuple(idx)]
    return out


def write_dem(path: str | Path, terrain: Terrain) -> Path:
    """Write a terrain as a GeoTIFF (float32, CRS and transform, tiled, DEFLATE).

    The tag ``MASTPLAN_SYNTHETIC`` records ``terrain.synthetic`` so that :func:`read_dem`
    gives it back.

    Parameters
    ----------
    path : str or Path
        The file to write (overwritten); its folder must exist.
    terrain : Terrain
        The terrain.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    MastplanError
        Naming the file, when it cannot be written.
    """
    path = Path(path)
    rows, cols = terrain.shape
    profile = {
        "driver": "GTiff",
        "width": cols,
        "height": rows,
        "count": 1,
        "dtype": "float32",
        "crs": CRS.from_user_input(terrain.crs),
        "transform": Affine(
            terrain.resolution_m, 0.0, terrain.x0_m, 0.0, -terrain.resolution_m, terrain.y0_m
        ),
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
        "predictor": 3,
    }
    try:
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(terrain.z_m, 1)
            dst.update_tags(**{SYNTHETIC_TAG: "true" if terrain.synthetic else "false"})
            dst.set_band_unit(1, "metre")
    except (RasterioError, OSError) as exc:
        raise MastplanError(f"{path}: cannot write the DEM: {exc}") from exc
    return path


# =============================================================================================
# Demand
# =============================================================================================


def read_density(
    path: str | Path,
    crs: str,
    bounds_m: tuple[float, float, float, float],
    resolution_m: float,
) -> np.ndarray:
    """A demand density raster (any unit per area, e.g. people per km²) on a grid in a metric
    CRS, averaged over each target cell; 0 where the file has no data or does not reach.

    The grid is the one of :func:`read_dem` (upper-left corner ``(xmin, ymax)``). A density,
    not a count per source cell, is what survives reprojection to another cell size.

    Raises
    ------
    MastplanError
        Naming the file: unreadable, no CRS, no overlap, no valid value, or a negative density.
    """
    path = Path(path)
    z, _, _, _ = _read_onto(path, crs, bounds_m, resolution_m, Resampling.average, "densities")
    if np.nanmin(z, initial=0.0) < 0:
        raise MastplanError(f"{path}: demand densities must be >= 0 (found {np.nanmin(z):g})")
    return np.nan_to_num(z, nan=0.0)
