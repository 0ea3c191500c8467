"""Coordinate reference systems: WGS84 for storage, UTM 48N for metres in Chongqing."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pyproj import Transformer

STORAGE_EPSG = 4326
METRIC_EPSG = (
    32648  # WGS 84 / UTM zone 48N covers Chongqing (102°E–108°E, and 110°E with small error)
)


@lru_cache(maxsize=4)
def _transformer(src: int, dst: int) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def project(geom, src_epsg: int, dst_epsg: int):
    """Reproject a shapely geometry (or an array of them) from one EPSG code to another."""
    import shapely

    t = _transformer(src_epsg, dst_epsg)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def to_metric(lon_deg: np.ndarray, lat_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 longitude/latitude (degrees) to EPSG:32648 metres."""
    return _transformer(STORAGE_EPSG, METRIC_EPSG).transform(lon_deg, lat_deg)


def to_storage(x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unproject EPSG:32648 metres to WGS84 longitude/latitude (degrees)."""
    return _transformer(METRIC_EPSG, STORAGE_EPSG).transform(x_m, y_m)


class PolygonIndex:
    """Find which of a set of coded polygons contains each point (vectorised).

    Each polygon is prepared once; a point is tested only against the polygons whose bounding
    box holds it, with :func:`shapely.intersects_xy`, which uses the prepared polygon.

    Parameters
    ----------
    codes : sequence of str
        One code per polygon (e.g. GB/T 2260 district codes).
    polygons : sequence of shapely geometries
        In the same CRS as the points that will be located.
    """

    def __init__(self, codes: list[str], polygons: list) -> None:
        import shapely

        self.codes = list(codes)
        self.polygons = list(polygons)
        for polygon in self.polygons:
            shapely.prepare(polygon)
        self.bounds = np.array([p.bounds for p in self.polygons]).reshape(-1, 4)

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Return the code of the polygon containing each point, or ``None`` outside all of them.

        A point on a shared border gets the code of the polygon listed first.
        """
        import shapely

        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        out = np.full(len(x), None, dtype=object)
        todo = np.isfinite(x) & np.isfinite(y)
        for code, polygon, (minx, miny, maxx, maxy) in zip(
            self.codes, self.polygons, self.bounds, strict=True
        ):
            idx = np.flatnonzero(todo & (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))
            if len(idx) == 0:
                continue
            hit = idx[shapely.intersects_xy(polygon, x[idx], y[idx])]
            out[hit] = code
            todo[hit] = False
        return out
