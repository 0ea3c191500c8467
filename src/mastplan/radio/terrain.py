"""Terrain: a DEM on a regular grid, a seeded synthetic Chongqing-like terrain, and diffraction
loss over terrain profiles (Recommendation ITU-R P.526-15).

A pure core: arrays in, arrays out. Reading and writing GeoTIFF DEMs lives in
:mod:`mastplan.io.raster`.

* :class:`Terrain` holds heights above sea level on a north-up grid and samples them
  bilinearly (:meth:`Terrain.height_at`).
* :func:`synthetic_terrain` builds a **synthetic** terrain (seeded, plausible, not a survey):
  parallel NE–SW ridges, rolling hills and incised river valleys, as a function of absolute
  coordinates (so any window of it agrees with any other window).
* :func:`fresnel_v`, :func:`knife_edge_loss_db` (P.526-15 eqs. 26 and 31) and
  :func:`deygout_loss_db` (a Deygout construction with up to three edges) compute diffraction
  loss along a profile; :func:`profile_loss_nb` does the same straight from the DEM inside a
  Numba kernel and :func:`terrain_loss` runs it in parallel over many receivers.

See ``docs/terrain.md`` for the model, the equations and its limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from mastplan.radio.constants import SPEED_OF_LIGHT_M_PER_S

__all__ = [
    "DEFAULT_CRS",
    "EARTH_RADIUS_M",
    "EFFECTIVE_EARTH_RADIUS_M",
    "KNIFE_EDGE_V_MIN",
    "K_FACTOR",
    "SyntheticTerrainParams",
    "Terrain",
    "deygout_loss_db",
    "earth_bulge_m",
    "fresnel_v",
    "knife_edge_loss_db",
    "profile_loss_nb",
    "profile_loss_reference",
    "synthetic_height_m",
    "synthetic_terrain",
    "terrain_loss",
]

DEFAULT_CRS = "EPSG:32648"  # WGS 84 / UTM 48N, the engine's metric CRS for Chongqing
EARTH_RADIUS_M = 6_371_000.0  # mean Earth radius
K_FACTOR = 4.0 / 3.0  # median effective-Earth-radius factor (standard atmosphere)
EFFECTIVE_EARTH_RADIUS_M = K_FACTOR * EARTH_RADIUS_M  # 8 495 km (P.526 suggests 8 500 km)
KNIFE_EDGE_V_MIN = -0.78  # P.526-15 eq. (31) holds for v > -0.78; J(v) is taken as 0 below


# ---------------------------------------------------------------------------------------------
# Terrain grid
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Terrain:
    """Heights above sea level on a regular, north-up grid.

    Parameters
    ----------
    z_m : numpy.ndarray
        2-D heights in metres above sea level, ``float32``, C-contiguous (converted if
        needed), rows running north to south and columns west to east. Every value must be
        finite. Treat it as read-only: kernels read it directly.
    x0_m, y0_m : float
        Easting and northing (metres, in ``crs``) of the upper-left corner of the upper-left
        cell, i.e. the GeoTIFF "area" origin. Cell ``(i, j)`` has its centre at
        ``(x0_m + (j + 0.5) * resolution_m, y0_m - (i + 0.5) * resolution_m)``.
    resolution_m : float
        Cell size in metres (square cells).
    crs : str
        The coordinate reference system of ``x0_m``/``y0_m``, e.g. ``"EPSG:32648"``. It must be
        a projected CRS in metres for the radio kernels.
    synthetic : bool
        True when the heights are generated (:func:`synthetic_terrain`), not measured.
    """

    z_m: np.ndarray
    x0_m: float
    y0_m: float
    resolution_m: float
    crs: str = DEFAULT_CRS
    synthetic: bool = False

    def __post_init__(self) -> None:
        z = np.ascontiguousarray(self.z_m, dtype=np.float32)
        if z.ndim != 2 or z.shape[0] < 1 or z.shape[1] < 1:
            raise ValueError(f"terrain heights must be a non-empty 2-D array, got {z.shape}")
        if not np.isfinite(z).all():
            raise ValueError("terrain heights must be finite (fill nodata before building it)")
        if not (math.isfinite(self.resolution_m) and self.resolution_m > 0):
            raise ValueError(f"resolution_m must be positive, got {self.resolution_m}")
        object.__setattr__(self, "z_m", z)
        object.__setattr__(self, "x0_m", float(self.x0_m))
        object.__setattr__(self, "y0_m", float(self.y0_m))
        object.__setattr__(self, "resolution_m", float(self.resolution_m))

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)`` of the grid."""
        return (int(self.z_m.shape[0]), int(self.z_m.shape[1]))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the grid's outer cell edges, in metres."""
        rows, cols = self.shape
        r = self.resolution_m
        return (self.x0_m, self.y0_m - rows * r, self.x0_m + cols * r, self.y0_m)

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Easting of every column centre and northing of every row centre (1-D arrays, m)."""
        rows, cols = self.shape
        r = self.resolution_m
        x = self.x0_m + (np.arange(cols) + 0.5) * r
        y = self.y0_m - (np.arange(rows) + 0.5) * r
        return x, y

    def height_at(self, x_m: np.ndarray | float, y_m: np.ndarray | float) -> np.ndarray:
        """Bilinearly interpolated height (m a.s.l.) at points, vectorised.

        Interpolation runs between cell centres. A point outside the hull of the cell
        centres (outside the raster, or in the outer half cell) takes the value at the
        nearest point of that hull: coordinates are clamped to the first/last row and column
        centres, so heights are extended flat from the edge, never extrapolated.

        Parameters
        ----------
        x_m, y_m : array_like
            Eastings and northings in metres (the terrain's CRS), broadcast together.

        Returns
        -------
        numpy.ndarray
            ``float64`` heights with the broadcast shape of ``x_m`` and ``y_m``.
        """
        return _bilinear_np(self.z_m, self.x0_m, self.y0_m, self.resolution_m, x_m, y_m)


def _bilinear_np(
    z: np.ndarray,
    x0: float,
    y0: float,
    res: float,
    x_m: np.ndarray | float,
    y_m: np.ndarray | float,
) -> np.ndarray:
    """NumPy bilinear sampling between cell centres, clamped at the edges (see height_at)."""
    x, y = np.broadcast_arrays(np.asarray(x_m, dtype=np.float64), np.asarray(y_m, dtype=np.float64))
    rows, cols = z.shape
    c = np.clip((x - x0) / res - 0.5, 0.0, cols - 1.0)
    r = np.clip((y0 - y) / res - 0.5, 0.0, rows - 1.0)
    j0 = np.minimum(np.floor(c).astype(np.int64), max(cols - 2, 0))
    i0 = np.minimum(np.floor(r).astype(np.int64), max(rows - 2, 0))
    j1 = np.minimum(j0 + 1, cols - 1)
    i1 = np.minimum(i0 + 1, rows - 1)
    tx = c - j0
    ty = r - i0
    zf = z.astype(np.float64, copy=False)
    top = zf[i0, j0] * (1.0 - tx) + zf[i0, j1] * tx
    bottom = zf[i1, j0] * (1.0 - tx) + zf[i1, j1] * tx
    return top * (1.0 - ty) + bottom * ty


@numba.njit(cache=True)
def _bilinear_nb(z, x0, y0, res, x, y):  # pragma: no cover - compiled
    """Numba twin of :func:`_bilinear_np` for one point."""
    rows, cols = z.shape
    c = (x - x0) / res - 0.5
    r = (y0 - y) / res - 0.5
    c = min(max(c, 0.0), cols - 1.0)
    r = min(max(r, 0.0), rows - 1.0)
    j0 = min(math.floor(c), max(cols - 2, 0))
    i0 = min(math.floor(r), max(rows - 2, 0))
    j1 = min(j0 + 1, cols - 1)
    i1 = min(i0 + 1, rows - 1)
    tx = c - j0
    ty = r - i0
    top = float(z[i0, j0]) * (1.0 - tx) + float(z[i0, j1]) * tx
    bottom = float(z[i1, j0]) * (1.0 - tx) + float(z[i1, j1]) * tx
    return top * (1.0 - ty) + bottom * ty


# ---------------------------------------------------------------------------------------------
# Diffraction (ITU-R P.526-15 §4.1) and the Deygout construction
# ---------------------------------------------------------------------------------------------


def earth_bulge_m(d1_m: np.ndarray | float, d2_m: np.ndarray | float, k_factor: float = K_FACTOR):
    """Height of the effective Earth's bulge above the chord between the path ends.

    ``b = d1 * d2 / (2 * k * R)``, ``R`` = 6 371 km: added to the terrain heights of a
    profile so that a straight ray over a flat map is equivalent to the curved ray over the
    curved Earth under a standard atmosphere (``k = 4/3``, effective radius ≈ 8 495 km).

    Parameters
    ----------
    d1_m, d2_m : array_like
        Distances (m) from the point to the two ends of the path.
    k_factor : float
        Effective-Earth-radius factor.

    Returns
    -------
    numpy.ndarray or float
        The bulge in metres (0.0147 m at the middle of a 1 km path, 1.47 m of a 10 km path).
    """
    return np.asarray(d1_m, dtype=np.float64) * d2_m / (2.0 * k_factor * EARTH_RADIUS_M)


def fresnel_v(h_m, d1_m, d2_m, wavelength_m) -> np.ndarray:
    """The dimensionless diffraction parameter ν of a knife edge (P.526-15 eq. 26).

    ``ν = h * sqrt((2 / λ) * (1 / d1 + 1 / d2))``

    Parameters
    ----------
    h_m : array_like
        Height of the edge above the straight line joining the two ends (m); negative when
        the edge is below it.
    d1_m, d2_m : array_like
        Distances (m) from the edge to the two ends, both > 0.
    wavelength_m : float or array_like
        Wavelength (m).

    Returns
    -------
    numpy.ndarray
        ν, broadcast over the inputs (a 0-d array for scalar inputs).
    """
    h = np.asarray(h_m, dtype=np.float64)
    d1 = np.asarray(d1_m, dtype=np.float64)
    d2 = np.asarray(d2_m, dtype=np.float64)
    return h * np.sqrt(2.0 / np.asarray(wavelength_m, dtype=np.float64) * (1.0 / d1 + 1.0 / d2))


def knife_edge_loss_db(v) -> np.ndarray:
    """Single knife-edge diffraction loss J(ν) in dB (P.526-15 §4.1, eq. 31).

    ``J(ν) = 6.9 + 20 log10( sqrt((ν - 0.1)² + 1) + ν - 0.1 )`` for ν > -0.78, and 0 dB for
    ν ≤ -0.78 (where the approximation's value is below 0.005 dB). J(0) ≈ 6.03 dB.

    Parameters
    ----------
    v : array_like
        The diffraction parameter ν (:func:`fresnel_v`).

    Returns
    -------
    numpy.ndarray
        J(ν) in dB, ≥ 0, same shape as ``v``.
    """
    v = np.asarray(v, dtype=np.float64)
    vc = np.maximum(v, KNIFE_EDGE_V_MIN) - 0.1  # clamp so that far-below values stay finite
    loss = 6.9 + 20.0 * np.log10(np.sqrt(vc * vc + 1.0) + vc)
    return np.where(v > KNIFE_EDGE_V_MIN, loss, 0.0)


def _max_v_np(d, z, da, ha, db, hb, wavelength_m):
    """Index and value of the largest ν of profile points against the ray (da,ha)-(db,hb)."""
    h = z - (ha + (hb - ha) * (d - da) / (db - da))
    v = fresnel_v(h, d - da, db - d, wavelength_m)
    k = int(np.argmax(v))
    return k, float(v[k])


def deygout_loss_db(
    d_m: np.ndarray,
    z_m: np.ndarray,
    path_m: float,
    tx_h_m: float,
    rx_h_m: float,
    wavelength_m: float,
) -> float:
    """Multi-edge diffraction loss of a profile by the Deygout construction (up to 3 edges).

    1. The principal edge ``p`` is the profile point with the largest ν against the direct
       ray from the transmitter to the receiver. If ``ν_p ≤ -0.78`` the loss is 0.
    2. On the sub-path transmitter → top of ``p`` the point with the largest ν (against that
       sub-path's ray) is the transmitter-side edge ``t``; likewise ``r`` on top of ``p`` →
       receiver.
    3. ``L = J(ν_p) + J(ν_t) + J(ν_r)``, each J from :func:`knife_edge_loss_db` (so a
       secondary edge counts only where its ν > -0.78). No empirical correction is added.

    The geometry is flat: apply :func:`earth_bulge_m` to ``z_m`` beforehand for a curved
    Earth. Distances are horizontal.

    Parameters
    ----------
    d_m : array_like
        Distances (m) of the profile's interior points from the transmitter, each strictly
        between 0 and ``path_m``.
    z_m : array_like
        Heights (m) of those points, in the same vertical datum as the antenna heights.
    path_m : float
        Horizontal transmitter–receiver distance (m).
    tx_h_m, rx_h_m : float
        Heights (m) of the transmitting and receiving antennas (same datum as ``z_m``).
    wavelength_m : float
        Wavelength (m).

    Returns
    -------
    float
        The diffraction loss in dB (≥ 0).
    """
    d = np.asarray(d_m, dtype=np.float64).ravel()
    z = np.asarray(z_m, dtype=np.float64).ravel()
    if d.shape != z.shape:
        raise ValueError(f"d_m and z_m differ in length: {d.size} != {z.size}")
    if d.size == 0:
        return 0.0
    if not (np.all(d > 0.0) and np.all(d < path_m)):
        raise ValueError("profile distances must lie strictly between 0 and path_m")
    p, vp = _max_v_np(d, z, 0.0, tx_h_m, path_m, rx_h_m, wavelength_m)
    if vp <= KNIFE_EDGE_V_MIN:
        return 0.0
    loss = float(knife_edge_loss_db(vp))
    if p > 0:
        _, vt = _max_v_np(d[:p], z[:p], 0.0, tx_h_m, d[p], z[p], wavelength_m)
        loss += float(knife_edge_loss_db(vt))
    if p < d.size - 1:
        _, vr = _max_v_np(d[p + 1 :], z[p + 1 :], d[p], z[p], path_m, rx_h_m, wavelength_m)
        loss += float(knife_edge_loss_db(vr))
    return loss


# ---------------------------------------------------------------------------------------------
# Path kernel (Numba) and its NumPy reference
# ---------------------------------------------------------------------------------------------


@numba.njit(cache=True)
def _j_nb(v):  # pragma: no cover - compiled
    """J(ν) of P.526-15 eq. (31); 0 for ν ≤ -0.78."""
    if v <= KNIFE_EDGE_V_MIN:
        return 0.0
    vc = v - 0.1
    return 6.9 + 20.0 * math.log10(math.sqrt(vc * vc + 1.0) + vc)


@numba.njit(cache=True)
def profile_loss_nb(
    z_grid,
    x0,
    y0,
    res,
    tx_x,
    tx_y,
    tx_h_abs,
    rx_x,
    rx_y,
    rx_h_abs,
    wavelength_m,
    step_m,
):  # pragma: no cover - compiled
    """Terrain line of sight and Deygout diffraction loss of one path, straight from a DEM.

    The straight line from the transmitter to the receiver is cut into
    ``n = ceil(D / step_m)`` equal intervals (so the spacing is ≤ ``step_m``); the ``n - 1``
    interior points are sampled bilinearly (as :meth:`Terrain.height_at`) and raised by the
    effective-Earth bulge ``d1 d2 / (2 k R)``, k = 4/3. The antenna points themselves are not
    sampled. The path is in line of sight when no sampled point is above the direct ray
    (a purely geometric test, without any Fresnel-zone clearance). The loss is the Deygout
    construction of :func:`deygout_loss_db` on those points: it is 0 dB when every point is
    at least about 0.55 of the first Fresnel radius below the ray (ν ≤ -0.78), and it can
    be positive (up to ~6 dB) on a line-of-sight path that grazes the terrain.

    Allocation-free: the profile is never stored; the principal edge is found in one pass
    and the two sub-paths are re-sampled in a second pass.

    Parameters
    ----------
    z_grid : numpy.ndarray
        ``Terrain.z_m`` (2-D float32, rows north to south).
    x0, y0, res : float
        ``Terrain.x0_m``, ``Terrain.y0_m``, ``Terrain.resolution_m``.
    tx_x, tx_y, rx_x, rx_y : float
        Transmitter and receiver positions (m, the terrain's CRS).
    tx_h_abs, rx_h_abs : float
        Absolute antenna heights (m above sea level, the DEM's datum).
    wavelength_m : float
        Wavelength (m).
    step_m : float
        Largest spacing of profile samples (m); about the DEM resolution.

    Returns
    -------
    tuple of (bool, float)
        ``(los, loss_db)``. Non-finite inputs give ``(False, nan)``; a path shorter than
        two steps has no interior sample and gives ``(True, 0.0)``.
    """
    dx = rx_x - tx_x
    dy = rx_y - tx_y
    dist = math.sqrt(dx * dx + dy * dy)
    if not (
        math.isfinite(dist)
        and math.isfinite(tx_h_abs)
        and math.isfinite(rx_h_abs)
        and wavelength_m > 0.0
        and step_m > 0.0
    ):
        return False, math.nan
    n = math.ceil(dist / step_m)
    if n < 2:
        return True, 0.0
    inv_2ae = 1.0 / (2.0 * EFFECTIVE_EARTH_RADIUS_M)
    two_over_lambda = 2.0 / wavelength_m
    dh = rx_h_abs - tx_h_abs

    # pass 1: line of sight and the principal edge
    los = True
    best_v = -math.inf
    best_i = 0
    best_z = 0.0
    for i in range(1, n):
        f = i / n
        d1 = f * dist
        d2 = dist - d1
        zt = _bilinear_nb(z_grid, x0, y0, res, tx_x + f * dx, tx_y + f * dy) + d1 * d2 * inv_2ae
        h = zt - (tx_h_abs + f * dh)
        if h > 0.0:
            los = False
        v = h * math.sqrt(two_over_lambda * (1.0 / d1 + 1.0 / d2))
        if v > best_v:
            best_v = v
            best_i = i
            best_z = zt
    if best_v <= KNIFE_EDGE_V_MIN:
        return los, 0.0
    loss = _j_nb(best_v)

    # pass 2: transmitter side (tx -> top of the principal edge)
    dp = best_i / n * dist
    sub_v = -math.inf
    for i in range(1, best_i):
        f = i / n
        d1 = f * dist
        zt = (
            _bilinear_nb(z_grid, x0, y0, res, tx_x + f * dx, tx_y + f * dy)
            + d1 * (dist - d1) * inv_2ae
        )
        h = zt - (tx_h_abs + (best_z - tx_h_abs) * d1 / dp)
        v = h * math.sqrt(two_over_lambda * (1.0 / d1 + 1.0 / (dp - d1)))
        if v > sub_v:
            sub_v = v
    loss += _j_nb(sub_v)

    # ... and receiver side (top of the principal edge -> rx)
    rest = dist - dp
    sub_v = -math.inf
    for i in range(best_i + 1, n):
        f = i / n
        d = f * dist
        zt = (
            _bilinear_nb(z_grid, x0, y0, res, tx_x + f * dx, tx_y + f * dy)
            + d * (dist - d) * inv_2ae
        )
        d1 = d - dp
        h = zt - (best_z + (rx_h_abs - best_z) * d1 / rest)
        v = h * math.sqrt(two_over_lambda * (1.0 / d1 + 1.0 / (dist - d)))
        if v > sub_v:
            sub_v = v
    loss += _j_nb(sub_v)
    return los, loss


def profile_loss_reference(
    terrain: Terrain,
    tx_x: float,
    tx_y: float,
    tx_h_abs: float,
    rx_x: float,
    rx_y: float,
    rx_h_abs: float,
    wavelength_m: float,
    step_m: float,
) -> tuple[bool, float]:
    """NumPy reference of :func:`profile_loss_nb` (same sampling, same rule; slower).

    Builds the profile explicitly (:meth:`Terrain.height_at` plus :func:`earth_bulge_m`) and
    applies :func:`deygout_loss_db`. Used to check the kernel.

    Returns
    -------
    tuple of (bool, float)
        ``(los, loss_db)`` as :func:`profile_loss_nb`.
    """
    dist = math.hypot(rx_x - tx_x, rx_y - tx_y)
    n = math.ceil(dist / step_m)
    if n < 2:
        return True, 0.0
    f = np.arange(1, n) / n
    d = f * dist
    z = terrain.height_at(tx_x + f * (rx_x - tx_x), tx_y + f * (rx_y - tx_y))
    z = z + earth_bulge_m(d, dist - d)
    los = bool(np.all(z - (tx_h_abs + f * (rx_h_abs - tx_h_abs)) <= 0.0))
    return los, deygout_loss_db(d, z, dist, tx_h_abs, rx_h_abs, wavelength_m)


@numba.njit(cache=True, parallel=True)
def _terrain_loss_nb(
    z, x0, y0, res, tx_x, tx_y, tx_h_abs, rx_x, rx_y, rx_h_agl, wavelength_m, step_m, los, loss
):  # pragma: no cover - compiled
    for k in numba.prange(rx_x.size):
        rx_h_abs = _bilinear_nb(z, x0, y0, res, rx_x[k], rx_y[k]) + rx_h_agl[k]
        los[k], loss[k] = profile_loss_nb(
            z, x0, y0, res, tx_x, tx_y, tx_h_abs, rx_x[k], rx_y[k], rx_h_abs, wavelength_m, step_m
        )


def terrain_loss(
    terrain: Terrain,
    tx_xyz: tuple[float, float, float],
    rx_x: np.ndarray,
    rx_y: np.ndarray,
    rx_h_agl_m: np.ndarray | float,
    f_ghz: float,
    *,
    step_m: float | None = None,
    tx_z_is_agl: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Terrain line of sight and diffraction loss from one transmitter to many receivers.

    Runs :func:`profile_loss_nb` in parallel over the receivers (``numba.prange``; the
    thread count is Numba's, see ``numba.set_num_threads``).

    Parameters
    ----------
    terrain : Terrain
        The DEM, in a metric CRS.
    tx_xyz : tuple of float
        Transmitter ``(x_m, y_m, z_m)``. ``z_m`` is the antenna height **above ground** (the
        terrain at the transmitter is added) unless ``tx_z_is_agl=False``, when it is the
        absolute height above sea level.
    rx_x, rx_y : array_like
        Receiver positions (m), any shape (broadcast together).
    rx_h_agl_m : array_like or float
        Receiver antenna heights above ground (m), broadcast against the positions.
    f_ghz : float
        Carrier frequency in GHz (wavelength ``c / f``).
    step_m : float, optional
        Profile sample spacing; the terrain resolution by default.
    tx_z_is_agl : bool
        Whether ``tx_xyz[2]`` is above ground (default) or above sea level.

    Returns
    -------
    tuple of numpy.ndarray
        ``(los, loss_db)``: booleans and ``float64`` dB, in the broadcast shape of the
        receivers.
    """
    if not f_ghz > 0:
        raise ValueError(f"f_ghz must be positive, got {f_ghz}")
    step = terrain.resolution_m if step_m is None else float(step_m)
    if not step > 0:
        raise ValueError(f"step_m must be positive, got {step_m}")
    shape = np.broadcast_shapes(np.shape(rx_x), np.shape(rx_y), np.shape(rx_h_agl_m))
    # private, writeable, contiguous 1-D copies (one compiled signature for every caller)
    x, y, h = (
        np.array(np.broadcast_to(np.asarray(a, dtype=np.float64), shape)).reshape(-1)
        for a in (rx_x, rx_y, rx_h_agl_m)
    )
    tx_x, tx_y, tx_z = (float(c) for c in tx_xyz)
    tx_h_abs = tx_z + float(terrain.height_at(tx_x, tx_y)) if tx_z_is_agl else tx_z
    wavelength_m = SPEED_OF_LIGHT_M_PER_S / (f_ghz * 1e9)
    los = np.empty(x.size, dtype=np.bool_)
    loss = np.empty(x.size, dtype=np.float64)
    _terrain_loss_nb(
        terrain.z_m,
        terrain.x0_m,
        terrain.y0_m,
        terrain.resolution_m,
        tx_x,
        tx_y,
        tx_h_abs,
        x,
        y,
        h,
        wavelength_m,
        step,
        los,
        loss,
    )
    return los.reshape(shape), loss.reshape(shape)


# ---------------------------------------------------------------------------------------------
# Synthetic Chongqing-like terrain (SYNTHETIC: generated, not measured)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticTerrainParams:
    """Parameters of the synthetic Chongqing-like terrain (all lengths in metres).

    The defaults imitate the parallel ridge-and-valley belt of central Chongqing (川东平行岭谷):
    narrow anticline ridges such as 缙云山, 中梁山, 铜锣山 and 明月山, 15–20 km apart and
    trending NNE–SSW, rising to 500–1000 m; rolling hills of 200–400 m between them; two
    families of incised rivers whose valleys sit at about 175–250 m. The field is a pure
    function of absolute coordinates and the seed.

    Attributes
    ----------
    ridge_azimuth_deg : float
        Azimuth of the ridge axes, degrees clockwise from grid north.
    ridge_spacing_m : float
        Mean distance between neighbouring ridge axes; each axis is shifted by up to
        ±``ridge_jitter`` of it, so neighbours are 15–20 km apart with the defaults (and
        each axis also wanders ±700 m along its length).
    ridge_jitter : float
        Largest shift of a ridge axis, as a fraction of the spacing (per ridge, seeded).
    ridge_crest_m : tuple of float
        Range of crest heights (m a.s.l.); each ridge's crest wanders slowly in this range
        along its length (seeded).
    ridge_half_width_m : float
        Mean half-width of a ridge (the distance from the axis at which it has lost ~63 % of
        its height over the hills).
    ridge_trough_fraction : float
        Depth of the karst trough along a ridge axis, as a fraction of the ridge's height over
        the hills (the "一山二岭一槽" form: two crests and a trough); 0 for a single crest.
    hill_base_m : float
        Mean height of the rolling hills between ridges (m a.s.l.).
    hill_relief_m : float
        Amplitude of the hills' fractal (multi-octave value) noise.
    hill_wavelength_m : float
        Longest wavelength of that noise; octaves halve it down to ~100 m.
    hill_gain : float
        Amplitude ratio of successive octaves (0.5 is smooth "1/f" relief; higher values
        give rougher, more broken hills at the scale of a cell's radius).
    river_level_m : float
        Water level of the main rivers (m a.s.l.); tributaries sit 6 m higher.
    river_azimuths_deg : tuple of float
        General flow azimuths of the two river families (main, tributary).
    river_spacing_m : tuple of float
        Spacing between the rivers of each family.
    river_half_widths_m : tuple of float
        Half-width of each family's channel (flat at the water level).
    valley_half_widths_m : tuple of float
        Half-width of each family's valley, where the terrain meets the hills again.
    """

    ridge_azimuth_deg: float = 30.0
    ridge_spacing_m: float = 17_500.0
    ridge_jitter: float = 0.07
    ridge_crest_m: tuple[float, float] = (550.0, 1000.0)
    ridge_half_width_m: float = 2_200.0
    ridge_trough_fraction: float = 0.25
    hill_base_m: float = 300.0
    hill_relief_m: float = 140.0
    hill_wavelength_m: float = 6_400.0
    hill_gain: float = 0.62
    river_level_m: float = 175.0
    river_azimuths_deg: tuple[float, float] = (70.0, 160.0)
    river_spacing_m: tuple[float, float] = (60_000.0, 43_000.0)
    river_half_widths_m: tuple[float, float] = (450.0, 220.0)
    valley_half_widths_m: tuple[float, float] = (3_000.0, 2_000.0)


_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0xC2B2AE3D27D4EB4F)


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on uint64 arrays (wrapping arithmetic)."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def _hash_unit(seed: int, stream: int, i, j=0) -> np.ndarray:
    """A uniform number in [0, 1) for each integer pair (i, j), from (seed, stream).

    Works on 1-D uint64 arrays throughout, so the wrapping multiplications never meet NumPy's
    scalar overflow checks; the result has the broadcast shape of ``i`` and ``j``.
    """
    key = np.array([seed & 0xFFFFFFFFFFFFFFFF, stream & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64)
    base = _mix64(key[:1] ^ _mix64(key[1:] + _GOLDEN))
    i_arr, j_arr = np.broadcast_arrays(np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64))
    iu = i_arr.astype(np.uint64).reshape(-1)
    ju = j_arr.astype(np.uint64).reshape(-1)
    h = _mix64(base ^ (iu * _GOLDEN))
    h = _mix64(h ^ (ju * _K2))
    unit = (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
    return unit.reshape(i_arr.shape)


def _value_noise(x: np.ndarray, y: np.ndarray, wavelength: float, seed: int, stream: int):
    """Smooth value noise in [-1, 1] on a lattice of the given wavelength (quintic fade)."""
    gx = x / wavelength
    gy = y / wavelength
    fx0 = np.floor(gx)
    fy0 = np.floor(gy)
    tx = gx - fx0
    ty = gy - fy0
    ix = fx0.astype(np.int64)
    iy = fy0.astype(np.int64)
    tx = tx * tx * tx * (tx * (tx * 6.0 - 15.0) + 10.0)
    ty = ty * ty * ty * (ty * (ty * 6.0 - 15.0) + 10.0)
    v00 = _hash_unit(seed, stream, ix, iy)
    v10 = _hash_unit(seed, stream, ix + 1, iy)
    v01 = _hash_unit(seed, stream, ix, iy + 1)
    v11 = _hash_unit(seed, stream, ix + 1, iy + 1)
    top = v00 + (v10 - v00) * tx
    bottom = v01 + (v11 - v01) * tx
    return 2.0 * (top + (bottom - top) * ty) - 1.0


def _fbm(
    x, y, longest_m: float, shortest_m: float, seed: int, stream: int, gain: float = 0.5
) -> np.ndarray:
    """Fractal (multi-octave) value noise in [-1, 1]: octaves halve the wavelength and
    multiply the amplitude by ``gain``.

    Each octave's lattice is rotated by a seeded angle about the CRS origin, which hides the
    lattice's axes while keeping the field a function of absolute coordinates.
    """
    total = np.zeros(np.shape(x))
    norm = 0.0
    wavelength = longest_m
    amp = 1.0
    octave = 0
    while wavelength >= shortest_m * 0.999:
        ang = 2.0 * math.pi * float(_hash_unit(seed, stream + 1000 + octave, 0))
        ca, sa = math.cos(ang), math.sin(ang)
        total += amp * _value_noise(ca * x - sa * y, sa * x + ca * y, wavelength, seed, stream)
        norm += amp
        amp *= gain
        wavelength *= 0.5
        octave += 1
    return total / norm


def _ridge_section(a: np.ndarray, trough_fraction: float) -> np.ndarray:
    """Cross-section of a ridge at ``a`` half-widths from its axis: a steep-sided bump
    ``exp(-a^2.5)`` with an axial trough ``1 - f exp(-(a/0.3)^2)``."""
    return np.exp(-(a**2.5)) * (1.0 - trough_fraction * np.exp(-((a / 0.3) ** 2)))


def synthetic_height_m(
    x_m: np.ndarray | float,
    y_m: np.ndarray | float,
    seed: int,
    params: SyntheticTerrainParams | None = None,
) -> np.ndarray:
    """Height (m a.s.l.) of the **synthetic** terrain at absolute coordinates (EPSG:32648 m).

    A pure function of the coordinates, the seed and the parameters, vectorised; see
    :class:`SyntheticTerrainParams` and ``docs/terrain.md`` for the construction.

    Parameters
    ----------
    x_m, y_m : array_like
        Eastings and northings in metres (broadcast together).
    seed : int
        The seed; any integer.
    params : SyntheticTerrainParams, optional
        The model's parameters; the defaults when omitted.

    Returns
    -------
    numpy.ndarray
        ``float64`` heights with the broadcast shape of the coordinates.
    """
    p = SyntheticTerrainParams() if params is None else params
    x, y = np.broadcast_arrays(np.asarray(x_m, dtype=np.float64), np.asarray(y_m, dtype=np.float64))
    seed = int(seed)

    # rolling hills: fractal value noise around the hill base
    z = p.hill_base_m + p.hill_relief_m * _fbm(
        x, y, p.hill_wavelength_m, 100.0, seed, 1, gain=p.hill_gain
    )

    # parallel ridges: u across the axes, s along them
    az = math.radians(p.ridge_azimuth_deg)
    u = x * math.cos(az) - y * math.sin(az)
    s = x * math.sin(az) + y * math.cos(az)
    spacing = p.ridge_spacing_m
    u_off = spacing * float(_hash_unit(seed, 2, 0))
    k_near = np.rint((u - u_off) / spacing).astype(np.int64)
    lo, hi = p.ridge_crest_m
    roughness = _fbm(x, y, 1_600.0, 100.0, seed, 3)
    # the cross-section's maximum (off-axis when there is a trough), so crests reach `crest`
    a_grid = np.linspace(0.0, 2.0, 2001)
    peak = float(np.max(_ridge_section(a_grid, p.ridge_trough_fraction)))
    for dk in (-1, 0, 1):
        k = k_near + dk
        jitter = (2.0 * _hash_unit(seed, 4, k) - 1.0) * p.ridge_jitter * spacing
        ph1 = 2.0 * math.pi * _hash_unit(seed, 5, k)
        ph2 = 2.0 * math.pi * _hash_unit(seed, 6, k)
        ph3 = 2.0 * math.pi * _hash_unit(seed, 7, k)
        # the axis wanders a little; crest height wanders between lo and hi along the ridge
        axis = u_off + k * spacing + jitter + 700.0 * np.sin(2.0 * math.pi * s / 23_000.0 + ph1)
        level = 0.35 + 0.3 * _hash_unit(seed, 8, k)
        level = level + 0.25 * np.sin(2.0 * math.pi * s / 29_000.0 + ph2)
        level = level + 0.1 * np.sin(2.0 * math.pi * s / 8_300.0 + ph3)
        crest = lo + (hi - lo) * np.clip(level, 0.0, 1.0)
        width = p.ridge_half_width_m * (0.8 + 0.4 * _hash_unit(seed, 9, k))
        a = np.abs(u - axis) / width
        section = _ridge_section(a, p.ridge_trough_fraction) / peak
        rise = (crest - z) * section
        z = z + np.maximum(rise, 0.0) + 45.0 * section * roughness

    # incised rivers: two families of meandering rivers; valleys blend down to the water
    for fam in range(2):
        theta = math.radians(p.river_azimuths_deg[fam])
        along = x * math.sin(theta) + y * math.cos(theta)
        across = x * math.cos(theta) - y * math.sin(theta)
        r_spacing = p.river_spacing_m[fam]
        r_off = r_spacing * float(_hash_unit(seed, 20 + fam, 0))
        m_near = np.rint((across - r_off) / r_spacing).astype(np.int64)
        dist = np.full(x.shape, np.inf)
        for dm in (-1, 0, 1):
            m = m_near + dm
            centre = r_off + m * r_spacing
            slope = np.zeros(x.shape)
            for j, (amp, wl) in enumerate(
                ((2_600.0, 31_000.0), (1_000.0, 12_700.0), (300.0, 5_300.0))
            ):
                ph = 2.0 * math.pi * _hash_unit(seed, 30 + 10 * fam + j, m)
                arg = 2.0 * math.pi * along / wl + ph
                centre = centre + amp * np.sin(arg)
                slope = slope + amp * 2.0 * math.pi / wl * np.cos(arg)
            dist = np.minimum(dist, np.abs(across - centre) / np.sqrt(1.0 + slope * slope))
        level = p.river_level_m + 6.0 * fam
        ch = p.river_half_widths_m[fam]
        t = np.clip((dist - ch) / (p.valley_half_widths_m[fam] - ch), 0.0, 1.0)
        blend = t * t * (3.0 - 2.0 * t)
        z = np.where(z > level, level + (z - level) * blend, z)
    return z


def synthetic_terrain(
    bounds_m: tuple[float, float, float, float],
    resolution_m: float,
    seed: int,
    *,
    params: SyntheticTerrainParams | None = None,
    crs: str = DEFAULT_CRS,
) -> Terrain:
    """A seeded **synthetic** Chongqing-like terrain over a window (``synthetic=True``).

    Heights are :func:`synthetic_height_m` at the cell centres. The grid starts at
    ``(xmin, ymax)`` and has ``ceil((xmax - xmin) / resolution_m)`` columns and
    ``ceil((ymax - ymin) / resolution_m)`` rows (the last ones may reach past the bounds).
    Because the field depends only on absolute coordinates, a sub-window on the same grid
    gives exactly the same heights as that area of a larger window.

    Parameters
    ----------
    bounds_m : tuple of float
        ``(xmin, ymin, xmax, ymax)`` in metres of ``crs`` (the model is tuned to EPSG:32648
        around Chongqing, but is defined everywhere).
    resolution_m : float
        Cell size (m).
    seed : int
        The seed.
    params : SyntheticTerrainParams, optional
        The model's parameters.
    crs : str
        The CRS written into the terrain.

    Returns
    -------
    Terrain
        The synthetic terrain.
    """
    xmin, ymin, xmax, ymax = (float(b) for b in bounds_m)
    if not (xmax > xmin and ymax > ymin):
        raise ValueError(f"empty bounds {bounds_m}")
    if not resolution_m > 0:
        raise ValueError(f"resolution_m must be positive, got {resolution_m}")
    cols = max(1, math.ceil((xmax - xmin) / resolution_m - 1e-9))
    rows = max(1, math.ceil((ymax - ymin) / resolution_m - 1e-9))
    xc = xmin + (np.arange(cols) + 0.5) * resolution_m
    z = np.empty((rows, cols), dtype=np.float32)
    chunk = max(1, 262_144 // cols)  # bound the temporaries to ~a quarter million points
    for r0 in range(0, rows, chunk):
        r1 = min(rows, r0 + chunk)
        yc = ymax - (np.arange(r0, r1) + 0.5) * resolution_m
        z[r0:r1] = synthetic_height_m(xc[None, :], yc[:, None], seed, params)
    return Terrain(z, xmin, ymax, float(resolution_m), crs=crs, synthetic=True)
