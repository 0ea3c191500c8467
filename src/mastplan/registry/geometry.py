"""One geometry column type for both databases: PostGIS geometry on PostgreSQL, WKB on SQLite.

Python code always sees Shapely geometries in WGS84 (EPSG:4326); the database decides the storage.
"""

from __future__ import annotations

import shapely
from geoalchemy2 import Geometry as PostgisGeometry
from geoalchemy2 import WKBElement
from sqlalchemy import LargeBinary
from sqlalchemy.types import TypeDecorator

from mastplan.geo import STORAGE_EPSG


class GeometryType(TypeDecorator):
    """A WGS84 geometry stored natively on PostGIS and as WKB bytes on SQLite.

    Parameters
    ----------
    geometry_type : str
        OGC type name, e.g. ``"MULTIPOLYGON"`` or ``"POINT"``; enforced by PostGIS.
    """

    impl = LargeBinary
    cache_ok = True
    # Read by GeoAlchemy2's DDL hooks; the spatial indexes are made by the migrations.
    spatial_index = False
    use_N_D_index = False
    use_typmod = None
    srid = STORAGE_EPSG

    def __init__(self, geometry_type: str = "GEOMETRY") -> None:
        super().__init__()
        self.geometry_type = geometry_type.upper()

    def __repr__(self) -> str:
        return f"GeometryType({self.geometry_type!r})"

    def load_dialect_impl(self, dialect):
        postgis = PostgisGeometry(self.geometry_type, srid=STORAGE_EPSG, spatial_index=False)
        if dialect is None:  # GeoAlchemy2's DDL hooks ask without a dialect
            return postgis
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgis)
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, shapely.Geometry):
            raise TypeError(f"expected a shapely geometry, got {type(value).__name__}")
        if dialect.name == "postgresql":
            return WKBElement(shapely.to_wkb(value, hex=False), srid=STORAGE_EPSG, extended=False)
        return shapely.to_wkb(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, WKBElement):
            return shapely.from_wkb(bytes(value.data))
        if isinstance(value, memoryview):
            value = bytes(value)
        if isinstance(value, str):
            return shapely.from_wkb(bytes.fromhex(value))
        return shapely.from_wkb(value)
