"""Reading demand densities (mastplan.io.raster, section Demand): reprojected by averaging,
0 outside the file and where it has no data, negative densities refused by file name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.transform import Affine

from mastplan.errors import MastplanError
from mastplan.io.raster import read_density

LON0, LAT0, STEP = 106.50, 29.56, 0.001  # a 0.04° × 0.04° raster in WGS84


def write(path: Path, values: np.ndarray, nodata: float | None = None) -> Path:
    with rasterio.open(
        path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0], count=1,
        dtype="float64", crs="EPSG:4326", transform=Affine(STEP, 0, LON0, 0, -STEP, LAT0),
        nodata=nodata,
    ) as dst:  # fmt: skip
        dst.write(values.astype(np.float64), 1)
    return path


def utm_box(lon_a, lat_a, lon_b, lat_b):
    t = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
    xa, ya = t.transform(lon_a, lat_a)
    xb, yb = t.transform(lon_b, lat_b)
    return (min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb))


def test_a_constant_density_stays_constant_and_is_zero_outside(tmp_path):
    path = write(tmp_path / "d.tif", np.full((40, 40), 2500.0))
    inside = utm_box(106.51, 29.53, 106.53, 29.55)
    d = read_density(path, "EPSG:32648", inside, 50.0)
    assert d.shape == (int(np.ceil((inside[3] - inside[1]) / 50 - 1e-9)),
                       int(np.ceil((inside[2] - inside[0]) / 50 - 1e-9)))  # fmt: skip
    assert np.allclose(d, 2500.0)
    # half of this request lies east of the file: 0 there, the density where the file is
    half = utm_box(106.52, 29.53, 106.56, 29.55)
    d = read_density(path, "EPSG:32648", half, 50.0)
    cols = d.shape[1]
    assert np.allclose(d[:, : cols // 2 - 2], 2500.0) and np.allclose(d[:, cols // 2 + 2 :], 0.0)


def test_nodata_counts_as_no_demand_and_averaging_keeps_the_total(tmp_path):
    values = np.zeros((40, 40))
    values[:, 20:] = 1000.0  # the east half of the raster
    values[0:5, 0:5] = -9999.0
    path = write(tmp_path / "d.tif", values, nodata=-9999.0)
    box = utm_box(106.5005, 29.5205, 106.5395, 29.5595)
    d = read_density(path, "EPSG:32648", box, 25.0)
    assert d.min() >= 0.0
    # the demand (density × area) of the east half survives the reprojection within 3 %
    t = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
    x0, _ = t.transform(LON0 + 0.02, 29.54)
    x1, _ = t.transform(LON0 + 0.0395, 29.54)
    east_area_m2 = (x1 - x0) * (box[3] - box[1])
    assert (d * 625.0).sum() == pytest.approx(1000.0 * east_area_m2, rel=0.03)


def test_negative_densities_and_unreadable_files_are_named(tmp_path):
    path = write(tmp_path / "neg.tif", np.full((40, 40), -1.0))
    box = utm_box(106.51, 29.53, 106.53, 29.55)
    with pytest.raises(MastplanError, match=r"neg\.tif.*>= 0"):
        read_density(path, "EPSG:32648", box, 50.0)
    bad = tmp_path / "bad.tif"
    bad.write_text("no raster", encoding="utf-8")
    with pytest.raises(MastplanError, match=r"bad\.tif"):
        read_density(bad, "EPSG:32648", box, 50.0)
