"""Imports are all or nothing, name file/row/field on error, upsert by external id, dry-run."""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import func, select

from mastplan.errors import ImportValidationError, MastplanError
from mastplan.io.importer import import_layer
from mastplan.registry.models import AuditEntry, Sector, Site, Structure

# Inside 渝中区 and 江北区 (WGS84); the second is the Jiangbeizui proxy of the facts file.
IN_CITY = [(106.5709, 29.5608), (106.5804, 29.5686), (106.5440, 29.5526)]
OUTSIDE = (104.06, 30.66)  # Chengdu

HEADER = [
    "external_id",
    "kind",
    "owner",
    "lon_deg",
    "lat_deg",
    "height_m",
    "mount_positions",
    "max_payload_kg",
    "available_power_kw",
    "fibre",
    "open_for_sharing",
]


def structure_rows(n: int = 3, prefix: str = "imp") -> list[dict]:
    kinds = ["lamp_pole", "telecom_tower", "cctv_pole"]
    owners = ["cq-street-lighting", "china-tower", "cq-gaj"]
    return [
        {
            "external_id": f"{prefix}-{i}",
            "kind": kinds[i % 3],
            "owner": owners[i % 3],
            "lon_deg": IN_CITY[i % 3][0] + i * 1e-4,
            "lat_deg": IN_CITY[i % 3][1],
            "height_m": 12 + i,
            "mount_positions": 2 + i % 3,
            "max_payload_kg": 50,
            "available_power_kw": 2.0,
            "fibre": "yes",
            "open_for_sharing": "true",
        }
        for i in range(n)
    ]


def write_csv(path: Path, rows: list[dict], header: list[str] | None = None) -> Path:
    header = header or list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, header)
        w.writeheader()
        w.writerows(rows)
    return path


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_csv_import_inserts_then_upserts(loaded_session, actor, tmp_path):
    s = loaded_session
    before = count(s, Structure)
    rows = structure_rows(3)
    res = import_layer(s, actor, write_csv(tmp_path / "a.csv", rows), "structures")
    assert (res.rows, res.inserted, res.updated) == (3, 3, 0)
    assert count(s, Structure) == before + 3
    rows[0]["height_m"] = 30
    res = import_layer(s, actor, write_csv(tmp_path / "b.csv", rows), "structures")
    assert (res.inserted, res.updated) == (0, 3)
    st = s.scalar(select(Structure).where(Structure.external_id == "imp-0"))
    assert st.height_m == 30 and st.version == 2 and st.district_code == "500103"
    audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "import")).all()
    assert len(audit) == 2 and audit[-1].after["updated"] == 3 and audit[-1].actor == "tester"
    assert len(audit[-1].after["sha256"]) == 64


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"height_m": "tall"}, "height_m"),
        ({"kind": "tree"}, "kind"),
        ({"owner": "nobody"}, "owner"),
        ({"lon_deg": OUTSIDE[0], "lat_deg": OUTSIDE[1]}, "lon_deg/lat_deg"),
        ({"mount_positions": 0}, "mount_positions"),
        ({"external_id": ""}, "external_id"),
        ({"external_id": "imp-0"}, "external_id"),  # repeats row 1
    ],
)
def test_one_bad_row_refuses_the_whole_file(loaded_session, actor, tmp_path, change, field):
    s = loaded_session
    before = count(s, Structure), count(s, AuditEntry)
    rows = structure_rows(5)
    rows[3].update(change)
    with pytest.raises(ImportValidationError) as info:
        import_layer(
            s, actor, write_csv(tmp_path / "bad.csv", rows), "structures", batch_size=2
        )  # the bad row is in the second batch: the first was written
    err = info.value.errors[0]
    assert (err.file, err.row, err.field) == (str(tmp_path / "bad.csv"), 4, field)
    assert (count(s, Structure), count(s, AuditEntry)) == before


def test_missing_column_is_named(loaded_session, actor, tmp_path):
    rows = [{k: v for k, v in r.items() if k != "height_m"} for r in structure_rows(2)]
    with pytest.raises(ImportValidationError) as info:
        import_layer(loaded_session, actor, write_csv(tmp_path / "c.csv", rows), "structures")
    assert info.value.errors[0].field == "height_m"
    assert "missing" in info.value.errors[0].message


def test_dry_run_counts_and_writes_nothing(loaded_session, actor, tmp_path):
    s = loaded_session
    before = count(s, Structure), count(s, AuditEntry)
    res = import_layer(
        s, actor, write_csv(tmp_path / "a.csv", structure_rows(4)), "structures", dry_run=True
    )
    assert (res.rows, res.inserted, res.dry_run) == (4, 4, True)
    assert (count(s, Structure), count(s, AuditEntry)) == before


@pytest.mark.parametrize("suffix", ["geojson", "gpkg"])
def test_geodata_import_reprojects_and_checks_geometry(loaded_session, actor, tmp_path, suffix):
    rows = structure_rows(3, prefix=f"geo-{suffix}")
    frame = gpd.GeoDataFrame(
        [{k: v for k, v in r.items() if k not in ("lon_deg", "lat_deg")} for r in rows],
        geometry=[shapely.Point(r["lon_deg"], r["lat_deg"]) for r in rows],
        crs=4326,
    ).to_crs(32648)  # stored in UTM: the importer must bring it back to WGS84
    path = tmp_path / f"s.{suffix}"
    frame.to_file(path)
    res = import_layer(loaded_session, actor, path, "structures")
    assert res.inserted == 3
    st = loaded_session.scalar(select(Structure).where(Structure.external_id == f"geo-{suffix}-1"))
    assert st.lon_deg == pytest.approx(rows[1]["lon_deg"], abs=1e-7)
    assert st.lat_deg == pytest.approx(rows[1]["lat_deg"], abs=1e-7)

    bad = frame.copy()
    bad.loc[1, "geometry"] = shapely.box(*bad.geometry.iloc[1].buffer(10).bounds)
    bad_path = tmp_path / f"bad.{suffix}"
    bad.to_file(bad_path)
    with pytest.raises(ImportValidationError) as info:
        import_layer(loaded_session, actor, bad_path, "structures")
    assert (info.value.errors[0].row, info.value.errors[0].field) == (2, "geometry")
    assert "Point" in info.value.errors[0].message


def test_sites_import_links_structures_and_checks_bands(loaded_session, actor, tmp_path):
    s = loaded_session
    import_layer(s, actor, write_csv(tmp_path / "st.csv", structure_rows(2, "host")), "structures")
    rows = [
        {
            "external_id": "gnb-1",
            "operator": "china-telecom",
            "rat": "nr",
            "band": "n78",
            "status": "on_air",
            "lon_deg": IN_CITY[0][0],
            "lat_deg": IN_CITY[0][1],
            "structure": "host-0",
            "on_air_on": "2020-06-30",
        },
        {
            "external_id": "gnb-2",
            "operator": "46000",
            "rat": "nr",
            "band": "n41",
            "status": "planned",
            "lon_deg": IN_CITY[1][0],
            "lat_deg": IN_CITY[1][1],
            "structure": "",
            "on_air_on": "",
        },
    ]
    res = import_layer(s, actor, write_csv(tmp_path / "sites.csv", rows), "sites")
    assert res.inserted == 2
    site = s.scalar(select(Site).where(Site.external_id == "gnb-1"))
    assert site.structure.external_id == "host-0" and str(site.on_air_on) == "2020-06-30"
    assert s.scalar(select(Site).where(Site.external_id == "gnb-2")).operator.code == "china-mobile"
    for change, field in [
        ({"band": "n99"}, "band"),
        ({"structure": "none"}, "structure"),
        ({"operator": "46099"}, "operator"),
        ({"on_air_on": "30/06/2020"}, "on_air_on"),
    ]:
        bad = [dict(rows[0], external_id="gnb-x", **change)]
        with pytest.raises(ImportValidationError) as info:
            import_layer(s, actor, write_csv(tmp_path / "bad.csv", bad), "sites")
        assert info.value.errors[0].field == field


OPENCELLID = (
    "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n"
    """LTE,460,0,9001,{eci1},0,106.5710,29.5610,500,10,1,1577836800,1600000000,0
LTE,460,0,9001,{eci2},0,106.5712,29.5612,500,10,1,1577836800,1600000000,0
NR,460,11,7001,{nci},0,106.5805,29.5687,300,3,1,1609459200,1610000000,0
LTE,460,1,9002,{eci3},0,104.0600,30.6600,500,10,1,1577836800,1600000000,0
CDMA,460,3,1,5,0,106.5,29.5,500,1,1,1577836800,1600000000,0
"""
)


def test_opencellid_cells_become_sites_with_sectors(loaded_session, actor, tmp_path):
    enb = 123456
    text = OPENCELLID.format(
        eci1=enb * 256 + 1, eci2=enb * 256 + 2, nci=654321 * 4096 + 3, eci3=1000 * 256 + 1
    )
    path = tmp_path / "cells.csv"
    path.write_text(text)
    res = import_layer(loaded_session, actor, path, "sites", "opencellid")
    assert (res.rows, res.inserted) == (5, 2)
    assert res.skipped == {"unsupported_radio": 1, "outside_city": 1}
    lte = loaded_session.scalar(select(Site).where(Site.external_id == f"ocid:46000:lte:{enb}"))
    assert lte.operator.code == "china-mobile" and lte.node_id == enb
    assert [sec.sector_number for sec in lte.sectors] == [1, 2]
    nr = loaded_session.scalar(select(Site).where(Site.node_id == 654321))
    assert nr.operator.code == "china-telecom" and nr.rat.value == "nr"
    # re-import: same sites, sectors replaced not duplicated
    res = import_layer(loaded_session, actor, path, "sites", "opencellid")
    assert (res.inserted, res.updated) == (0, 2)
    assert (
        loaded_session.scalar(
            select(func.count()).select_from(Sector).where(Sector.site_id == lte.id)
        )
        == 2
    )


def test_unreadable_inputs_fail_clearly(loaded_session, actor, tmp_path):
    with pytest.raises(MastplanError, match="no such file"):
        import_layer(loaded_session, actor, tmp_path / "nope.csv", "structures")
    odd = tmp_path / "x.txt"
    odd.write_text("a,b\n")
    with pytest.raises(MastplanError, match="--format"):
        import_layer(loaded_session, actor, odd, "structures")
    with pytest.raises(MastplanError, match="layer"):
        import_layer(loaded_session, actor, odd, "towers", "csv")


def test_reimporting_the_same_file_changes_no_version(loaded_session, actor, tmp_path):
    path = write_csv(tmp_path / "a.csv", structure_rows(3, "same"))
    import_layer(loaded_session, actor, path, "structures")
    import_layer(loaded_session, actor, path, "structures")
    versions = loaded_session.scalars(
        select(Structure.version).where(Structure.external_id.like("same-%"))
    ).all()
    assert versions == [1, 1, 1]
