"""Exports: WGS84 GeoJSON with codes and names, GeoPackage layers for QGIS, CSV and KML."""

from __future__ import annotations

import json

import pandas as pd
import pyogrio
import pytest
import shapely

from mastplan.io.exporter import export_layer
from mastplan.registry.status import status_summary

DISTRICT_CODES = {
    "500101",
    "500102",
    "500103",
    "500104",
    "500105",
    "500106",
    "500107",
    "500108",
    "500109",
    "500110",
    "500111",
    "500112",
    "500113",
    "500114",
    "500115",
    "500116",
    "500117",
    "500118",
    "500119",
    "500120",
    "500151",
    "500152",
    "500153",
    "500154",
    "500155",
    "500156",
    "500229",
    "500230",
    "500231",
    "500233",
    "500235",
    "500236",
    "500237",
    "500238",
    "500240",
    "500241",
    "500242",
    "500243",
}


def test_districts_geojson_has_the_38_codes_and_names(loaded_session, tmp_path):
    out = tmp_path / "districts.geojson"
    assert export_layer(loaded_session, "districts", "geojson", out) == 38
    doc = json.loads(out.read_text(encoding="utf-8"))
    codes = {f["properties"]["code"] for f in doc["features"]}
    assert codes == DISTRICT_CODES
    yuzhong = next(f for f in doc["features"] if f["properties"]["code"] == "500103")
    assert yuzhong["properties"]["name_zh"] == "渝中区"
    assert "Yuzhong" in yuzhong["properties"]["name_en"]
    geom = shapely.geometry.shape(yuzhong["geometry"])
    # WGS84 degrees, and the Jiefangbei proxy of the facts file lies inside
    assert geom.contains(shapely.Point(106.5709, 29.5608))


def test_key_areas_cover_all_phase_years(loaded_session, tmp_path):
    out = tmp_path / "key_areas.geojson"
    n = export_layer(loaded_session, "key_areas", "geojson", out)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert len(doc["features"]) == n > 38
    props = [f["properties"] for f in doc["features"]]
    assert {p["phase_year"] for p in props} == {2019, 2020, 2021}
    assert all(p["code"] and p["name_zh"] and p["name_en"] and p["category"] for p in props)
    urban = [p for p in props if p["category"] == "district_urban_area"]
    assert {p["district_code"] for p in urban} == DISTRICT_CODES


def test_geopackage_holds_one_table_per_layer(loaded_session, tmp_path):
    out = tmp_path / "cq.gpkg"
    counts = {
        layer: export_layer(loaded_session, layer, "gpkg", out)
        for layer in ("districts", "key_areas", "structures", "sites")
    }
    layers = dict(pyogrio.list_layers(out))
    assert set(layers) == set(counts)
    info = pyogrio.read_info(out, layer="structures")
    assert info["features"] == counts["structures"] > 0
    assert "EPSG:4326" in info["crs"]
    summary = status_summary(loaded_session)
    assert counts["structures"] == summary["structures"]["total"]
    structures = pyogrio.read_dataframe(out, layer="structures")
    assert structures["synthetic"].all()  # the default inventory says what it is
    assert (structures["free_positions"] <= structures["mount_positions"]).all()


def test_csv_and_kml(loaded_session, tmp_path):
    n = export_layer(loaded_session, "structures", "csv", tmp_path / "s.csv")
    table = pd.read_csv(tmp_path / "s.csv")
    assert len(table) == n and {"code", "kind", "owner", "lon_deg", "lat_deg"} <= set(table)
    export_layer(loaded_session, "districts", "csv", tmp_path / "d.csv")
    d = pd.read_csv(tmp_path / "d.csv", dtype={"code": str})
    assert shapely.from_wkt(d.loc[d.code == "500103", "wkt"].iloc[0]).geom_type == "MultiPolygon"
    export_layer(loaded_session, "key_areas", "kml", tmp_path / "k.kml")
    kml = pyogrio.read_dataframe(tmp_path / "k.kml")
    assert len(kml) > 38


def test_export_rejects_unknown_layer_and_format(loaded_session, tmp_path):
    from mastplan.errors import MastplanError

    with pytest.raises(MastplanError, match="layer"):
        export_layer(loaded_session, "poles", "csv", tmp_path / "x.csv")
    with pytest.raises(MastplanError, match="format"):
        export_layer(loaded_session, "sites", "shp", tmp_path / "x.shp")


@pytest.mark.parametrize("fmt", ["csv", "gpkg", "geojson"])
def test_export_then_import_is_a_no_op_round_trip(loaded_session, actor, tmp_path, fmt):
    from sqlalchemy import select

    from mastplan.io.importer import import_layer
    from mastplan.registry.models import Structure

    def snapshot():
        return loaded_session.execute(
            select(
                Structure.external_id,
                Structure.kind,
                Structure.lon_deg,
                Structure.lat_deg,
                Structure.height_m,
                Structure.mount_positions,
                Structure.fibre,
                Structure.open_for_sharing,
                Structure.owner_id,
            ).order_by(Structure.external_id)
        ).all()

    before = snapshot()
    out = tmp_path / f"structures.{fmt}"
    n = export_layer(loaded_session, "structures", fmt, out)
    res = import_layer(loaded_session, actor, out, "structures")
    assert (res.rows, res.inserted, res.updated) == (n, 0, n)
    after = snapshot()
    assert [r[:2] + r[4:] for r in after] == [r[:2] + r[4:] for r in before]
    for a, b in zip(after, before, strict=True):
        assert a.lon_deg == pytest.approx(b.lon_deg, abs=1e-7)
        assert a.lat_deg == pytest.approx(b.lat_deg, abs=1e-7)
