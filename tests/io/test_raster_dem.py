"""Reading and writing DEMs (mastplan.io.raster, section DEM)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.transform import Affine

from mastplan.errors import MastplanError
from mastplan.io.raster import read_dem, write_dem
from mastplan.radio.terrain import Terrain, synthetic_terrain

# a plane in geographic coordinates: z = 300 + A (lon - 106.5) + B (lat - 29.5), metres
A_M_PER_DEG = 2_000.0
B_M_PER_DEG = -1_500.0


def plane(lon, lat):
    return 300.0 + A_M_PER_DEG * (np.asarray(lon) - 106.5) + B_M_PER_DEG * (np.asarray(lat) - 29.5)


def write_geographic(
    path: Path, values, lon0: float, lat0: float, step_deg: float, **extra
) -> None:
    rows, cols = values.shape
    profile = {
        "driver": "GTiff",
        "width": cols,
        "height": rows,
        "count": 1,
        "dtype": values.dtype.name,
        "crs": "EPSG:4326",
        "transform": Affine(step_deg, 0.0, lon0, 0.0, -step_deg, lat0),
        **extra,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)


@pytest.fixture
def plane_tif(tmp_path: Path) -> Path:
    # 0.4° x 0.4° around (106.55 E, 29.55 N) at 0.001° (~100 m), EPSG:4326
    step = 0.001
    lon0, lat0, n = 106.35, 29.75, 400
    lon = lon0 + (np.arange(n) + 0.5) * step
    lat = lat0 - (np.arange(n) + 0.5) * step
    values = plane(lon[None, :], lat[:, None]).astype(np.float32)
    path = tmp_path / "plane_4326.tif"
    write_geographic(path, values, lon0, lat0, step)
    return path


def test_read_dem_reprojects_a_plane(plane_tif: Path) -> None:
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
    to_geo = Transformer.from_crs("EPSG:32648", "EPSG:4326", always_xy=True)
    cx, cy = to_utm.transform(106.55, 29.55)
    cx, cy = round(cx, -2), round(cy, -2)
    bounds = (cx - 5_000.0, cy - 5_000.0, cx + 5_000.0, cy + 5_000.0)
    terrain = read_dem(plane_tif, "EPSG:32648", bounds, 50.0)
    assert terrain.shape == (200, 200)
    assert terrain.crs == "EPSG:32648"
    assert not terrain.synthetic
    assert terrain.bounds == pytest.approx(bounds)
    rng = np.random.default_rng(3)
    x = rng.uniform(bounds[0] + 100, bounds[2] - 100, 300)
    y = rng.uniform(bounds[1] + 100, bounds[3] - 100, 300)
    lon, lat = to_geo.transform(x, y)
    # the plane rises ~20 m per km east and falls ~15 m per km north: a grid misplaced by
    # half a cell (25 m) would be off by ~0.5 m, nearest-cell resampling by up to ~1 m;
    # bilinear resampling of a plane is exact up to GDAL's approximate transformer (~0.01 m)
    np.testing.assert_allclose(terrain.height_at(x, y), plane(lon, lat), atol=0.05)
    # the cell values themselves, at the cell centres
    xc, yc = terrain.cell_centres()
    lon_c, lat_c = to_geo.transform(*np.meshgrid(xc, yc))
    np.testing.assert_allclose(terrain.z_m, plane(lon_c, lat_c), atol=0.05)


def test_write_read_round_trip(tmp_path: Path) -> None:
    bounds = (650_000.0, 3_260_000.0, 653_000.0, 3_262_000.0)
    t = synthetic_terrain(bounds, 50.0, 11)
    path = write_dem(tmp_path / "synthetic.tif", t)
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 32648
        assert src.transform == Affine(50.0, 0.0, 650_000.0, 0.0, -50.0, 3_262_000.0)
        assert src.profile["tiled"] and src.profile["compress"] == "deflate"
    back = read_dem(path, "EPSG:32648", bounds, 50.0)
    assert back.synthetic
    np.testing.assert_allclose(back.z_m, t.z_m, atol=1e-3)
    # a finer, smaller window of it samples the same surface bilinearly
    sub = read_dem(path, "EPSG:32648", (650_500.0, 3_260_500.0, 652_000.0, 3_261_500.0), 25.0)
    x, y = sub.cell_centres()
    np.testing.assert_allclose(sub.z_m, t.height_at(x[None, :], y[:, None]), atol=1e-3)
    real = Terrain(t.z_m, t.x0_m, t.y0_m, t.resolution_m, crs=t.crs, synthetic=False)
    assert not read_dem(
        write_dem(tmp_path / "real.tif", real), "EPSG:32648", bounds, 50.0
    ).synthetic


def test_nodata_is_filled_from_neighbours(tmp_path: Path) -> None:
    # int16 DEM with nodata -32768 (as SRTM) and a 6 x 6 void in a plane of 100 + 2 (col + row)
    rows = cols = 40
    values = (100 + 2 * (np.arange(cols)[None, :] + np.arange(rows)[:, None])).astype(np.int16)
    values[15:21, 15:21] = -32768
    path = tmp_path / "void.tif"
    transform = Affine(30.0, 0.0, 650_000.0, 0.0, -30.0, 3_261_200.0)
    with rasterio.open(
        path, "w", driver="GTiff", width=cols, height=rows, count=1, dtype="int16",
        crs="EPSG:32648", transform=transform, nodata=-32768,
    ) as dst:  # fmt: skip
        dst.write(values, 1)
    bounds = (650_000.0, 3_260_000.0, 651_200.0, 3_261_200.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = read_dem(path, "EPSG:32648", bounds, 30.0)
    assert np.isfinite(t.z_m).all()
    void = t.z_m[15:21, 15:21]
    ring = t.z_m[14:22, 14:22]
    assert void.min() >= ring.min() - 1e-3 and void.max() <= ring.max() + 1e-3
    # interpolated, not a constant patch, and close to the plane it replaces
    assert void.std() > 1.0
    expected = 100 + 2 * (np.arange(15, 21)[None, :] + np.arange(15, 21)[:, None])
    assert np.abs(void - expected).max() < 8.0
    # 36 of 1600 cells (2.25 %) were filled: a warning names the file
    assert any(str(path) in str(w.message) for w in caught)
    # a -32768 must never leak into the heights
    assert t.z_m.min() >= 100.0


def test_partial_coverage_is_extended_from_the_edge(plane_tif: Path) -> None:
    # the raster ends at 106.75 E; ask for a window that reaches ~4 km past it
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
    ex, cy = to_utm.transform(106.75, 29.55)
    bounds = (ex - 4_000.0, cy - 2_000.0, ex + 4_000.0, cy + 2_000.0)
    with pytest.warns(UserWarning, match=r"plane_4326\.tif"):
        t = read_dem(plane_tif, "EPSG:32648", bounds, 100.0)
    assert np.isfinite(t.z_m).all()
    east = t.z_m[:, -5:]
    assert east.min() > 250.0 and east.max() < 800.0  # filled with edge values


def test_error_names_the_file_when_not_a_raster(tmp_path: Path) -> None:
    path = tmp_path / "notes.tif"
    path.write_text("this is not a GeoTIFF\n")
    with pytest.raises(MastplanError, match=r"notes\.tif"):
        read_dem(path, "EPSG:32648", (650_000, 3_260_000, 651_000, 3_261_000), 25.0)
    missing = tmp_path / "missing.tif"
    with pytest.raises(MastplanError, match=r"missing\.tif"):
        read_dem(missing, "EPSG:32648", (650_000, 3_260_000, 651_000, 3_261_000), 25.0)


def test_error_names_the_file_when_no_overlap(plane_tif: Path) -> None:
    # Beijing, far from the raster around Chongqing (in UTM 50N, expressed in 32648 it is
    # still east of the raster)
    with pytest.raises(MastplanError, match=r"plane_4326\.tif: no overlap"):
        read_dem(plane_tif, "EPSG:32648", (1_400_000, 4_400_000, 1_401_000, 4_401_000), 25.0)


def test_error_names_the_file_without_crs(tmp_path: Path) -> None:
    path = tmp_path / "no_crs.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32",
        transform=Affine(1.0, 0.0, 0.0, 0.0, -1.0, 4.0),
    ) as dst:  # fmt: skip
        dst.write(np.zeros((4, 4), dtype=np.float32), 1)
    with pytest.raises(MastplanError, match=r"no_crs\.tif: .*no CRS"):
        read_dem(path, "EPSG:32648", (0, 0, 4, 4), 1.0)


def test_error_when_only_nodata(tmp_path: Path) -> None:
    path = tmp_path / "empty.tif"
    values = np.full((10, 10), -9999.0, dtype=np.float32)
    with rasterio.open(
        path, "w", driver="GTiff", width=10, height=10, count=1, dtype="float32",
        crs="EPSG:32648", transform=Affine(100.0, 0.0, 650_000.0, 0.0, -100.0, 3_261_000.0),
        nodata=-9999.0,
    ) as dst:  # fmt: skip
        dst.write(values, 1)
    with pytest.raises(MastplanError, match=r"empty\.tif: no valid heights"):
        read_dem(path, "EPSG:32648", (650_000, 3_260_000, 651_000, 3_261_000), 50.0)


def test_write_error_names_the_file(tmp_path: Path) -> None:
    t = synthetic_terrain((650_000, 3_260_000, 650_500, 3_260_500), 50.0, 1)
    with pytest.raises(MastplanError, match="nowhere"):
        write_dem(tmp_path / "nowhere" / "dem.tif", t)
