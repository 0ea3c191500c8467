"""Coverage runs: the registry's sectors over a key area or district in, rasters, quick-looks,
the covered area and statistics out (what `mastplan coverage` does)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from mastplan.distributed import COVERAGE_TILES_DIR
from mastplan.errors import MastplanError
from mastplan.geo import METRIC_EPSG, STORAGE_EPSG, project, to_metric, to_storage
from mastplan.io import coverage_outputs as out
from mastplan.radio.coverage import CoverageResult, predict_coverage
from mastplan.radio.grid import Grid
from mastplan.radio.stats import coverage_stats
from mastplan.radio.terrain import Terrain, synthetic_terrain
from mastplan.registry.queries import Area, area_by_code, sectors_in_bbox

if TYPE_CHECKING:
    from mastplan.distributed import ClusterOptions

# Antennas at or above this height are macro cells above the rooftops (UMa); lower ones are
# street-level small cells on poles (UMi street canyon).
MACRO_MIN_HEIGHT_M = 20.0
DEFAULT_TX_POWER_DBM = 49.0  # 80 W per sector when the registry has no power
DEFAULT_BANDWIDTH_MHZ = 100.0


@dataclass(frozen=True)
class CoverageRunOptions:
    """What `mastplan coverage` takes besides the area and the output folder."""

    resolution_m: float = 25.0
    operators: tuple[str, ...] = ()
    dem: Path | None = None
    synthetic_terrain_seed: int | None = None
    halo_m: float = 3000.0
    rsrp_min_dbm: float = -105.0
    sinr_min_db: float = -3.0
    min_hole_m2: float = 10_000.0
    load: float = 1.0
    los_mode: str = "expected"
    antenna: str = "element"
    shadowing_seed: int | None = None
    as_of: dt.date | None = None  # predict the network as it stood that day


def engine_sectors(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Registry sectors → the engine's sector table (EPSG:32648 metres); also what was skipped.

    Only NR sectors are predicted (this is 5G coverage); sectors without an azimuth (e.g. from
    OpenCelliD) or without a carrier frequency cannot be predicted; all are skipped and counted.
    Missing power and bandwidth take documented defaults.
    """
    is_nr = frame["rat"] == "nr"
    skipped = {"not_nr": int((~is_nr).sum())}
    frame = frame[is_nr]
    skipped |= {
        "no_azimuth": int(frame["azimuth_deg"].isna().sum()),
        "no_frequency": int(
            (frame["azimuth_deg"].notna() & frame["carrier_frequency_mhz"].isna()).sum()
        ),
    }
    usable = frame[frame["azimuth_deg"].notna() & frame["carrier_frequency_mhz"].notna()]
    x, y = to_metric(usable["lon_deg"].to_numpy(float), usable["lat_deg"].to_numpy(float))
    height = usable["antenna_height_m"].fillna(MACRO_MIN_HEIGHT_M).to_numpy(float)
    sectors = pd.DataFrame(
        {
            "site": usable["site"].to_numpy(),
            "operator": usable["operator"].to_numpy(),
            "x_m": x,
            "y_m": y,
            "height_m": height,
            "azimuth_deg": usable["azimuth_deg"].to_numpy(float),
            "tilt_deg": usable["electrical_tilt_deg"].fillna(0.0).to_numpy(float),
            "mechanical_tilt_deg": usable["mechanical_tilt_deg"].fillna(0.0).to_numpy(float),
            "power_dbm": usable["tx_power_dbm"].fillna(DEFAULT_TX_POWER_DBM).to_numpy(float),
            "f_ghz": usable["carrier_frequency_mhz"].to_numpy(float) / 1000.0,
            "bandwidth_mhz": usable["bandwidth_mhz"].fillna(DEFAULT_BANDWIDTH_MHZ).to_numpy(float),
            "model": np.where(height >= MACRO_MIN_HEIGHT_M, "uma", "umi"),
        }
    )
    return sectors.reset_index(drop=True), skipped


def _terrain(options: CoverageRunOptions, grid: Grid) -> Terrain | None:
    if options.dem is not None:
        from mastplan.io.raster import read_dem

        return read_dem(
            options.dem, grid.crs, _grow(grid.bounds, options.halo_m), grid.resolution_m
        )
    if options.synthetic_terrain_seed is not None:
        return synthetic_terrain(
            _grow(grid.bounds, options.halo_m), grid.resolution_m, options.synthetic_terrain_seed
        )
    return None


def _grow(bounds: tuple[float, float, float, float], by: float) -> tuple[float, ...]:
    minx, miny, maxx, maxy = bounds
    return (minx - by, miny - by, maxx + by, maxy + by)


def run_coverage(
    session: Session,
    area_code: str,
    out_dir: Path,
    options: CoverageRunOptions = CoverageRunOptions(),
    progress: Callable[[int, int], None] | None = None,
    *,
    cluster: ClusterOptions | None = None,
    tile_px: int | None = None,
    say: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Predict coverage over a key area or district and write the results to ``out_dir``.

    Writes ``rsrp_dbm.tif``, ``sinr_db.tif``, ``best_server.tif``, ``servers_within_margin.tif``,
    ``throughput_mbps.tif`` (cloud-optimised GeoTIFFs, EPSG:32648), ``rsrp_dbm.png`` and
    ``sinr_db.png`` quick-looks, ``covered.geojson`` (WGS84) and ``stats.json``; returns the
    summary that ``stats.json`` holds. For a phase selection (``phase:2019``) the statistics
    are given for the union and for each key area (``per_area``).

    ``cluster`` (with a scheduler or a worker count): the tiles run on Dask and are written to
    ``out_dir/tiles/`` first (see :mod:`mastplan.distributed`); the outputs are the same.
    ``tile_px``: tile edge in pixels (default the engine's, 128). ``say`` hears what the run
    does besides the tiles' progress (cluster, resume).
    """
    area = area_by_code(session, area_code)
    area_m = project(area.boundary, STORAGE_EPSG, METRIC_EPSG)
    grid = Grid.from_polygon(area_m, options.resolution_m)
    search = _grow(grid.bounds, options.halo_m)
    lon, lat = to_storage(np.array(search[::2]), np.array(search[1::2]))
    registry = sectors_in_bbox(
        session,
        (lon.min(), lat.min(), lon.max(), lat.max()),
        operators=options.operators or None,
        as_of=options.as_of,
    )
    sectors, skipped = engine_sectors(registry)
    if sectors.empty:
        raise MastplanError(
            f"no on-air sectors with an azimuth and a frequency near "
            f"{area.code} ({area.name_en}): nothing to predict"
        )
    terrain_model = _terrain(options, grid)
    engine = {
        "load": options.load,
        "los_mode": options.los_mode,
        "antenna": options.antenna,
        "shadowing_seed": options.shadowing_seed,
        **({} if tile_px is None else {"tile_px": int(tile_px)}),
    }
    table = sectors.drop(columns=["site", "operator"])
    try:
        if cluster is not None and cluster.enabled:
            result = _predict_on_dask(
                cluster, out_dir, area, grid, table, terrain_model, area_m, engine, progress, say
            )
        else:
            result = predict_coverage(
                grid, table, terrain_model=terrain_model, region=area_m, progress=progress,
                **engine,
            )  # fmt: skip
    except ValueError as exc:  # the engine's word on bad sector data
        raise MastplanError(f"cannot predict coverage of {area.code}: {exc}") from None
    return _write(out_dir, area, area_m, grid, sectors, result, skipped, options, terrain_model)


def _predict_on_dask(
    cluster: ClusterOptions,
    out_dir: Path,
    area: Area,
    grid: Grid,
    table: pd.DataFrame,
    terrain_model: Terrain | None,
    area_m: Any,
    engine: dict[str, Any],
    progress: Callable[[int, int], None] | None,
    say: Callable[[str], None] | None,
) -> CoverageResult:
    """The tiles on Dask (``out_dir/tiles``), mosaicked here."""
    from mastplan.distributed import dask_client, predict_coverage_tiled

    say = say or (lambda _msg: None)
    with dask_client(cluster, say) as client:
        result, report = predict_coverage_tiled(
            client, grid, table, Path(out_dir) / COVERAGE_TILES_DIR, terrain_model=terrain_model,
            region=area_m, progress=progress, resume=cluster.resume, say=say,
            run_meta={"area": area.code}, **engine,
        )  # fmt: skip
    rate = f", {report['tiles_per_s']:.2f} tiles/s" if report["tiles_per_s"] else ""
    say(f"tiles: {report['computed']} computed, {report['reused']} reused of "
        f"{report['tiles']} in {report['seconds']:.1f} s{rate}")  # fmt: skip
    return result


def _write(
    out_dir: Path,
    area: Area,
    area_m,
    grid: Grid,
    sectors: pd.DataFrame,
    result: CoverageResult,
    skipped: dict[str, int],
    options: CoverageRunOptions,
    terrain_model: Terrain | None,
) -> dict[str, Any]:
    out_dir = Path(out_dir)
    files: list[str] = []
    for name, array in result.layers.items():
        if name == "second_server":
            continue
        files.append(out.write_cog(out_dir / f"{name}.tif", array, grid, name).name)

    def window_stats(geometry_m: Any) -> tuple[Any, np.ndarray, Any]:
        """The geometry's window of the grid, its mask there and its statistics (a key area
        reads its window, not a city-wide raster)."""
        win = grid.window_over(geometry_m)
        rows, cols = win.slices
        mask = win.grid.mask(geometry_m)
        stats = coverage_stats(
            result.rsrp_dbm[rows, cols],
            result.sinr_db[rows, cols],
            mask,
            grid.pixel_area_m2,
            options.rsrp_min_dbm,
            options.sinr_min_db,
            options.min_hole_m2,
        )
        return win, mask, stats

    win, mask, stats = window_stats(area_m)
    per_area = [
        {
            "code": part.code,
            "name_zh": part.name_zh,
            "name_en": part.name_en,
            "statistics": window_stats(project(part.boundary, STORAGE_EPSG, METRIC_EPSG))[
                2
            ].as_dict(),
        }
        for part in area.parts
    ]
    sites_xy = (sectors["x_m"].to_numpy(), sectors["y_m"].to_numpy())
    title = f"{out.bilingual(area.name_zh, area.name_en)} ({area.code})"
    files.append(
        out.write_quicklook_png(
            out_dir / "rsrp_dbm.png",
            result.rsrp_dbm,
            grid,
            title=f"{out.bilingual('参考信号接收功率', 'SS-RSRP')}\n{title}",
            label="SS-RSRP (dBm per RE)",
            cmap="viridis",
            vmin=-130,
            vmax=-60,
            outline=area_m,
            points=sites_xy,
        ).name
    )
    files.append(
        out.write_quicklook_png(
            out_dir / "sinr_db.png",
            result.sinr_db,
            grid,
            title=f"{out.bilingual('信干噪比', 'SINR')}\n{title}",
            label="SINR (dB)",
            cmap="RdYlGn",
            vmin=-10,
            vmax=30,
            outline=area_m,
            points=sites_xy,
        ).name
    )
    rows, cols = win.slices  # the area's window: the same polygons, a smaller raster
    covered = (result.rsrp_dbm[rows, cols] >= options.rsrp_min_dbm) & (
        result.sinr_db[rows, cols] >= options.sinr_min_db
    )
    files.append(
        out.write_covered_geojson(
            out_dir / "covered.geojson",
            covered & mask,
            win.grid,
            {
                "area": area.code,
                "rsrp_min_dbm": options.rsrp_min_dbm,
                "sinr_min_db": options.sinr_min_db,
            },
        ).name
    )
    summary = {
        "area": {
            "kind": area.kind,
            "code": area.code,
            "name_zh": area.name_zh,
            "name_en": area.name_en,
        },
        "grid": {
            "crs": grid.crs,
            "resolution_m": grid.resolution_m,
            "shape": list(grid.shape),
            "bounds": list(grid.bounds),
        },
        "sectors": {
            "used": len(sectors),
            "sites": int(sectors["site"].nunique()),
            "skipped": skipped,
        },
        "terrain": None
        if terrain_model is None
        else {
            "synthetic": bool(terrain_model.synthetic),
            "source": str(options.dem) if options.dem else "synthetic",
        },
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(options).items()},
        "statistics": stats.as_dict(),
        "per_area": per_area,
        "files": sorted([*files, "stats.json"]),
    }
    (out_dir / "stats.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8"
    )
    return summary


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Sequence):
        return list(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
