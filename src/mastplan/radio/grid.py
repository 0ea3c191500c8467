"""The raster grid predictions are made on: a CRS, an origin, a resolution and a shape, cut into
tiles that can be computed independently (in-process today, on Dask workers later)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import shapely
from rasterio.features import rasterize
from rasterio.transform import Affine

from mastplan.geo import METRIC_EPSG


@dataclass(frozen=True)
class Grid:
    """A north-up raster: ``ny`` rows from the north edge ``y0_m`` down, ``nx`` columns from the
    west edge ``x0_m`` east, square pixels of ``resolution_m``, in a projected CRS (metres).

    Pixel (row, col) has its centre at (x0 + (col + ½)·res, y0 − (row + ½)·res).
    """

    x0_m: float
    y0_m: float
    resolution_m: float
    nx: int
    ny: int
    crs: str = f"EPSG:{METRIC_EPSG}"

    def __post_init__(self) -> None:
        if self.resolution_m <= 0 or self.nx < 1 or self.ny < 1:
            raise ValueError(f"invalid grid: {self}")

    @classmethod
    def from_bounds(
        cls,
        minx: float,
        miny: float,
        maxx: float,
        maxy: float,
        resolution_m: float,
        crs: str = f"EPSG:{METRIC_EPSG}",
    ) -> Grid:
        """The smallest grid of ``resolution_m`` pixels aligned to multiples of the resolution
        that covers the bounds (aligned grids of the same resolution share pixel edges)."""
        x0 = math.floor(minx / resolution_m) * resolution_m
        y0 = math.ceil(maxy / resolution_m) * resolution_m
        nx = max(1, math.ceil((maxx - x0) / resolution_m))
        ny = max(1, math.ceil((y0 - miny) / resolution_m))
        return cls(x0, y0, resolution_m, nx, ny, crs)

    @classmethod
    def from_polygon(
        cls,
        polygon: shapely.Geometry,
        resolution_m: float,
        pad_m: float = 0.0,
        crs: str = f"EPSG:{METRIC_EPSG}",
    ) -> Grid:
        """A grid over the polygon's bounds (in the grid's CRS) grown by ``pad_m``."""
        minx, miny, maxx, maxy = polygon.bounds
        return cls.from_bounds(
            minx - pad_m, miny - pad_m, maxx + pad_m, maxy + pad_m, resolution_m, crs
        )

    @property
    def shape(self) -> tuple[int, int]:
        return (self.ny, self.nx)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        r = self.resolution_m
        return (self.x0_m, self.y0_m - self.ny * r, self.x0_m + self.nx * r, self.y0_m)

    @property
    def transform(self) -> Affine:
        """The rasterio/GDAL affine transform of the grid."""
        return Affine(self.resolution_m, 0.0, self.x0_m, 0.0, -self.resolution_m, self.y0_m)

    @property
    def pixel_area_m2(self) -> float:
        return self.resolution_m**2

    def x_centres(self) -> np.ndarray:
        return self.x0_m + (np.arange(self.nx) + 0.5) * self.resolution_m

    def y_centres(self) -> np.ndarray:
        return self.y0_m - (np.arange(self.ny) + 0.5) * self.resolution_m

    def mask(self, geometry: shapely.Geometry) -> np.ndarray:
        """Pixels whose centre lies inside ``geometry`` (same CRS as the grid)."""
        if geometry.is_empty:
            return np.zeros(self.shape, dtype=bool)
        return rasterize(
            [(geometry, 1)], out_shape=self.shape, transform=self.transform, fill=0, dtype="uint8"
        ).astype(bool)

    def window(self, row0: int, col0: int, nrows: int, ncols: int) -> Grid:
        """The sub-grid of ``nrows`` × ``ncols`` pixels starting at (row0, col0)."""
        r = self.resolution_m
        return Grid(self.x0_m + col0 * r, self.y0_m - row0 * r, r, ncols, nrows, self.crs)

    def window_over(self, geometry: shapely.Geometry) -> Tile:
        """The smallest window of this grid holding every pixel of ``geometry`` (its bounds
        clipped to the grid, one pixel of margin): a key area's statistics read that window,
        not a city-wide raster."""
        r = self.resolution_m
        minx, miny, maxx, maxy = geometry.bounds
        col0 = min(max(0, math.floor((minx - self.x0_m) / r) - 1), self.nx - 1)
        col1 = max(min(self.nx, math.ceil((maxx - self.x0_m) / r) + 1), col0 + 1)
        row0 = min(max(0, math.floor((self.y0_m - maxy) / r) - 1), self.ny - 1)
        row1 = max(min(self.ny, math.ceil((self.y0_m - miny) / r) + 1), row0 + 1)
        return Tile(row0, col0, self.window(row0, col0, row1 - row0, col1 - col0))

    def tiles(self, tile_px: int = 256) -> Iterator[Tile]:
        """The grid cut into tiles of at most ``tile_px`` × ``tile_px`` pixels, row-major."""
        for row0 in range(0, self.ny, tile_px):
            for col0 in range(0, self.nx, tile_px):
                nrows = min(tile_px, self.ny - row0)
                ncols = min(tile_px, self.nx - col0)
                yield Tile(row0, col0, self.window(row0, col0, nrows, ncols))


@dataclass(frozen=True)
class Tile:
    """A piece of a grid: where it sits in the parent (row0, col0) and its own sub-grid.

    Tiles are plain values (picklable, keyed by their offsets), so they can be shipped to
    workers and their results written back idempotently.
    """

    row0: int
    col0: int
    grid: Grid

    @property
    def key(self) -> str:
        return f"r{self.row0:06d}c{self.col0:06d}"

    @property
    def slices(self) -> tuple[slice, slice]:
        return (
            slice(self.row0, self.row0 + self.grid.ny),
            slice(self.col0, self.col0 + self.grid.nx),
        )
