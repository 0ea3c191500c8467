"""Benchmark: a city-scale coverage prediction (default 10,000 sectors over 500 km² at 25 m).

A square of ``--area-km2`` in EPSG:32648 around 106.55E 29.56N (Chongqing), three-sector sites
placed uniformly at random (azimuths 0/120/240° plus a random rotation per site, masts
20–40 m, electrical tilt 2–10°, 3.5 GHz, 100 MHz, 53 dBm, UMa), ``expected`` LOS mode, no
terrain, the 38.901 element. Measures, after a warm-up that compiles the kernel, the wall time
of :func:`mastplan.radio.coverage.predict_coverage` (``prepare_sectors`` with its culling
radii included, and timed alone too), the peak RSS of the process and the number of
sector-pixel evaluations (pairs whose pixel centre lies within the sector's culling radius,
which is what the kernel evaluates). Targets: under 60 s and under 4 GB.

It also samples pixels to tell how many of the evaluated pairs end above the culling floor,
and how many a culling test that knows the horizontal antenna pattern would keep (the gain
towards a pixel is at most 8 dBi − min(A_H(φ'), 30 dB), so such a test never drops a pair that
could be above the floor).

    python benchmarks/coverage_city.py                 # 10,000 sectors, 500 km², 25 m
    python benchmarks/coverage_city.py --quick         # 300 sectors, 9 km²
"""

from __future__ import annotations

import argparse
import math
import resource
import time

import numba
import numpy as np
import pandas as pd
from radio_kernel import cpu_model, pairs_in_radius  # the sibling benchmark (same folder)

from mastplan.radio import antenna
from mastplan.radio import coverage as cov
from mastplan.radio.grid import Grid
from mastplan.radio.propagation import los_probability, path_loss_db

CENTRE = (652_000.0, 3_271_000.0)  # EPSG:32648, around 106.55E 29.56N
UE_H = 1.5


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_sectors(n_sectors: int, side_m: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_sites = math.ceil(n_sectors / 3)
    sx = CENTRE[0] + rng.uniform(-side_m / 2, side_m / 2, n_sites)
    sy = CENTRE[1] + rng.uniform(-side_m / 2, side_m / 2, n_sites)
    h = rng.uniform(20.0, 40.0, n_sites)
    rot = rng.uniform(0.0, 120.0, n_sites)
    df = pd.DataFrame(
        {
            "x_m": np.repeat(sx, 3),
            "y_m": np.repeat(sy, 3),
            "height_m": np.repeat(h, 3),
            "azimuth_deg": (np.repeat(rot, 3) + np.tile([0.0, 120.0, 240.0], n_sites)) % 360.0,
            "tilt_deg": rng.uniform(2.0, 10.0, 3 * n_sites),
            "power_dbm": 53.0,
            "f_ghz": 3.5,
            "bandwidth_mhz": 100.0,
            "model": "uma",
        }
    )
    return df.iloc[:n_sectors].reset_index(drop=True)


def sample_pairs(prepared, grid, opts, n_pixels: int, seed: int) -> dict:
    """For random pixels and every sector: in radius, above the floor, kept by a culling test
    that knows the horizontal pattern."""
    rng = np.random.default_rng(seed)
    xc, yc = grid.x_centres(), grid.y_centres()
    px = xc[rng.integers(0, grid.nx, n_pixels)][:, None]
    py = yc[rng.integers(0, grid.ny, n_pixels)][:, None]
    s = prepared
    dx, dy = px - s.x_m[None, :], py - s.y_m[None, :]
    d2 = np.hypot(dx, dy)
    inside = d2 <= s.radius_m[None, :]
    dx, dy, d2 = dx[inside], dy[inside], d2[inside]
    idx = np.nonzero(inside)[1]
    h, f = s.height_m[idx], s.f_ghz[idx]
    pl_los = path_loss_db("uma", d2, h, UE_H, f, True)
    pl_nlos = path_loss_db("uma", d2, h, UE_H, f, False)
    if opts.los_mode == "los":
        pl = pl_los
    elif opts.los_mode == "nlos":
        pl = pl_nlos
    else:
        p = los_probability("uma", np.maximum(d2, 10.0), UE_H)
        pl = -10.0 * np.log10(p * 10 ** (-pl_los / 10) + (1 - p) * 10 ** (-pl_nlos / 10))
    gain = antenna.sector_gain_dbi(
        dx, dy, UE_H - h, s.azimuth_deg[idx], s.mech_tilt_deg[idx], s.elec_tilt_deg[idx]
    )
    above = s.p_re_dbm[idx] + gain - pl >= s.floor_dbm[idx]
    # horizontal-pattern bound: local azimuth from the boresight, no vertical pattern
    phi = np.degrees(np.arctan2(dx, dy)) - s.azimuth_deg[idx]
    bound = antenna.element_gain_dbi(90.0, phi)
    kept = s.p_re_dbm[idx] + bound - pl >= s.floor_dbm[idx]
    return {"in_radius": int(inside.sum()), "above": int(above.sum()), "kept": int(kept.sum()),
            "missed": int((above & ~kept).sum())}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sectors", type=int, default=10_000)
    ap.add_argument("--area-km2", type=float, default=500.0)
    ap.add_argument("--resolution-m", type=float, default=25.0)
    ap.add_argument("--los-mode", default="expected", choices=sorted(cov.LOS_MODES))
    ap.add_argument("--tile-px", type=int, default=cov.CoverageOptions().tile_px)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sample-pixels", type=int, default=200, help="0: no sampling")
    ap.add_argument("--quick", action="store_true", help="300 sectors over 9 km²")
    args = ap.parse_args(argv)
    if args.quick:
        args.sectors, args.area_km2 = 300, 9.0

    side = math.sqrt(args.area_km2) * 1e3
    cx, cy = CENTRE
    grid = Grid.from_bounds(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2,
                            args.resolution_m)  # fmt: skip
    sectors = make_sectors(args.sectors, side, args.seed)
    opts = {"los_mode": args.los_mode, "tile_px": args.tile_px}
    print(f"CPU: {cpu_model()}; threads: {numba.get_num_threads()}; numba {numba.__version__}")
    print(f"{len(sectors):,} sectors on {math.ceil(len(sectors) / 3):,} sites, "
          f"{grid.nx}×{grid.ny} pixels at {args.resolution_m:g} m "
          f"({grid.nx * grid.ny:,} pixels, {grid.nx * grid.ny * args.resolution_m**2 / 1e6:.0f} "
          f"km²), {args.los_mode} LOS mode, no terrain")  # fmt: skip

    t0 = time.perf_counter()  # warm-up: compile (or load from the cache) the kernel
    cov.predict_coverage(grid.window(0, 0, 8, 8), sectors.iloc[:3], **opts)
    warm = time.perf_counter() - t0
    rss_before = peak_rss_mb()

    t0 = time.perf_counter()
    prepared = cov.prepare_sectors(sectors, cov.CoverageOptions(**opts))
    t_prepare = time.perf_counter() - t0
    n_eval = pairs_in_radius(prepared, grid)

    t0 = time.perf_counter()
    result = cov.predict_coverage(grid, sectors, **opts)
    wall = time.perf_counter() - t0
    rss = peak_rss_mb()

    served = np.isfinite(result.rsrp_dbm)
    radius = prepared.radius_m
    rate = n_eval / (wall - t_prepare)
    print("\n| what | value |\n|---|---:|")
    rows = [
        ("wall time of predict_coverage (after warm-up)", f"{wall:.2f} s"),
        ("  of which prepare_sectors (culling radii)", f"{t_prepare:.2f} s"),
        ("warm-up (compile or cache load)", f"{warm:.1f} s"),
        ("sector-pixel evaluations (pairs in radius)", f"{n_eval:,}"),
        ("evaluations per pixel (mean)", f"{n_eval / (grid.nx * grid.ny):,.0f}"),
        ("culling radius (median)", f"{np.median(radius):,.0f} m"),
        ("evaluations/s (kernel part: wall − prepare)", f"{rate / 1e6:,.1f} M"),
        ("peak RSS", f"{rss:,.0f} MB (before the run: {rss_before:,.0f} MB)"),
        ("pixels served (RSRP above the floor)", f"{served.mean():.1%}"),
        ("median best-server RSRP / SINR",
         f"{np.nanmedian(result.rsrp_dbm):.1f} dBm / {np.nanmedian(result.sinr_db):.1f} dB"),
    ]  # fmt: skip
    for name, value in rows:
        print(f"| {name} | {value} |")
    ok_t, ok_m = wall < 60.0, rss < 4096.0
    print(f"\nTargets: wall < 60 s: {'met' if ok_t else 'MISSED'} ({wall:.1f} s); "
          f"peak RSS < 4 GB: {'met' if ok_m else 'MISSED'} ({rss / 1024:.2f} GB)")  # fmt: skip
    if not ok_t:
        need = n_eval / 60.0
        print(f"To finish in 60 s the kernel would need {need / 1e6:,.0f} M evaluations/s "
              f"with this many evaluations (it did {rate / 1e6:,.1f} M).")  # fmt: skip

    if args.sample_pixels:
        s = sample_pairs(prepared, grid, cov.CoverageOptions(**opts), args.sample_pixels, 2)
        print(f"\nSample of {args.sample_pixels} pixels × all sectors: {s['in_radius']:,} pairs "
              f"in radius; {s['above'] / s['in_radius']:.1%} end above the floor; a culling test "
              f"with the horizontal pattern keeps {s['kept'] / s['in_radius']:.1%} "
              f"(drops {s['missed']} pairs that are above the floor).")  # fmt: skip


if __name__ == "__main__":
    main()
