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
    """Find which of a set of coded polygons contains each point (vectorised, STR-tree backed).

    Parameters
    ----------
    codes : sequence of str
        One code per polygon (e.g. GB/T 2260 district codes).
    polygons : sequence of shapely geometries
        In the same CRS as the points that will be located.
    """

    def __init__(self, codes: list[str], polygons: list) -> None:
        import shapely

        self.codes = np.asarray(codes, dtype=object)
        self.polygons = np.asarray(polygons, dtype=object)
        shapely.prepare(self.polygons)
        self._tree = shapely.STRtree(self.polygons)

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Return the code of the polygon containing each point, or ``None`` outside all of them.

        A point on a shared border gets the first polygon's code.
        """
        import shapely

        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        out = np.full(len(x), None, dtype=object)
        finite = np.isfinite(x) & np.isfinite(y)
        idx = np.flatnonzero(finite)
        if len(idx) == 0 or len(self.polygons) == 0:
            return out
        points = shapely.points(x[idx], y[idx])
        pt_i, poly_i = self._tree.query(points, predicate="intersects")
        # keep the first polygon for each point
        order = np.lexsort((poly_i, pt_i))
        pt_i, poly_i = pt_i[order], poly_i[order]
        first = np.ones(len(pt_i), dtype=bool)
        first[1:] = pt_i[1:] != pt_i[:-1]
        out[idx[pt_i[first]]] = self.codes[poly_i[first]]
        return out
