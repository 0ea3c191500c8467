"""The command line: init → load → status, import/export, and one-line errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from mastplan.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_status_json_counts(loaded_url):
    res = run("status", "--json", "--database", loaded_url)
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["districts"] == 38
    assert set(data["key_areas"]["by_phase_year"]) == {"2019", "2020", "2021"}
    assert data["structures"]["total"] == sum(data["structures"]["by_kind"].values()) > 0
    assert data["structures"]["synthetic"] == data["structures"]["total"]
    assert set(data["sites"]["by_operator"]) <= {
        "china-mobile",
        "china-telecom",
        "china-unicom",
        "china-broadnet",
    }
    assert data["sites"]["total"] == sum(data["sites"]["by_status"].values()) > 0


def test_status_table_is_bilingual(loaded_url):
    res = run("status", "--database", loaded_url)
    assert res.exit_code == 0
    for word in ("lamp pole", "路灯杆", "SYNTHETIC", "Key areas by phase year", "2021"):
        assert word in res.stdout


def test_init_is_repeatable(db_url):
    assert run("init", "--database", db_url).exit_code == 0
    res = run("init", "--database", db_url)
    assert res.exit_code == 0 and "database ready" in res.stdout


def test_commands_on_uninitialised_database_say_so(tmp_path):
    res = run("status", "--database", str(tmp_path / "empty.db"))
    assert res.exit_code == 1
    assert "not initialised" in res.stderr and "mastplan init" in res.stderr
    assert "Traceback" not in res.output


def test_bad_import_exits_nonzero_and_names_row_and_field(loaded_url, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "external_id,kind,owner,lon_deg,lat_deg,height_m,mount_positions,max_payload_kg,"
        "available_power_kw\n"
        "p1,lamp_pole,cq-street-lighting,106.57,29.56,12,1,40,1\n"
        "p2,lamp_pole,cq-street-lighting,106.57,29.56,-12,1,40,1\n",
        encoding="utf-8",
    )
    before = json.loads(run("status", "--json", "--database", loaded_url).stdout)
    res = run("import", str(bad), "--layer", "structures", "--database", loaded_url)
    assert res.exit_code == 1
    assert "row 2" in res.stderr and "height_m" in res.stderr and "nothing written" in res.stderr
    after = json.loads(run("status", "--json", "--database", loaded_url).stdout)
    assert after == before


def test_import_dry_run_then_real(loaded_url, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(
        "external_id,kind,owner,lon_deg,lat_deg,height_m,mount_positions,max_payload_kg,"
        "available_power_kw\n"
        "p1,smart_pole,china-tower,106.57,29.56,15,3,120,3\n",
        encoding="utf-8",
    )
    res = run(
        "import",
        str(good),
        "--layer",
        "structures",
        "--dry-run",
        "--database",
        loaded_url,
        "--as",
        "alice",
    )
    assert res.exit_code == 0 and "dry run" in res.stdout and "1 new" in res.stdout
    res = run("import", str(good), "--layer", "structures", "--database", loaded_url)
    assert res.exit_code == 0 and "imported 1 rows" in res.stdout


def test_export_districts_geojson(loaded_url, tmp_path):
    out = tmp_path / "d.geojson"
    res = run(
        "export",
        "--layer",
        "districts",
        "--format",
        "geojson",
        "--out",
        str(out),
        "--database",
        loaded_url,
    )
    assert res.exit_code == 0 and "wrote 38 districts" in res.stdout
    assert len(json.loads(out.read_text())["features"]) == 38


def test_unknown_layer_is_one_line(loaded_url, tmp_path):
    res = run(
        "export",
        "--layer",
        "poles",
        "--format",
        "csv",
        "--out",
        str(tmp_path / "x"),
        "--database",
        loaded_url,
    )
    assert res.exit_code == 1
    assert res.stderr.strip().count("\n") == 0 and "unknown layer" in res.stderr


def test_version():
    res = run("--version")
    assert res.exit_code == 0 and res.stdout.startswith("mastplan ")


def test_load_chongqing_without_synthetic_inventory(db_url):
    res = run("load", "chongqing", "--no-synthetic", "--database", db_url, "--as", "loader")
    assert res.exit_code == 0, res.output
    data = json.loads(run("status", "--json", "--database", db_url).stdout)
    assert data["districts"] == 38 and data["structures"]["total"] == 0
    assert data["key_areas"]["total"] > 38


def test_synth_structures_writes_an_importable_file(loaded_url, tmp_path):
    out = tmp_path / "syn.csv"
    res = run(
        "synth",
        "structures",
        "--out",
        str(out),
        "--districts",
        "500103",
        "--count",
        "500",
        "--seed",
        "7",
    )
    assert res.exit_code == 0 and "wrote 500 synthetic structures" in res.stdout
    res = run("import", str(out), "--layer", "structures", "--dry-run", "--database", loaded_url)
    assert res.exit_code == 0 and "500 new" in res.stdout
    bad = run("synth", "structures", "--out", str(out), "--districts", "999999")
    assert bad.exit_code == 1 and "unknown district" in bad.stderr


def test_coverage_writes_rasters_pngs_and_stats(loaded_url, tmp_path):
    out = tmp_path / "cov"
    res = run(
        "coverage",
        "--area",
        "2019-jiefangbei-cbd",
        "--out",
        str(out),
        "--resolution-m",
        "50",
        "--database",
        loaded_url,
    )
    assert res.exit_code == 0, res.output
    names = {p.name for p in out.iterdir()}
    assert {
        "rsrp_dbm.tif",
        "sinr_db.tif",
        "best_server.tif",
        "servers_within_margin.tif",
        "throughput_mbps.tif",
        "rsrp_dbm.png",
        "sinr_db.png",
        "covered.geojson",
        "stats.json",
    } <= names
    stats = json.loads((out / "stats.json").read_text())
    assert stats["area"]["code"] == "2019-jiefangbei-cbd" and stats["sectors"]["used"] > 0
    assert 0.0 <= stats["statistics"]["continuity"] <= stats["statistics"]["covered_share"] <= 1
    import rasterio

    with rasterio.open(out / "rsrp_dbm.tif") as src:
        assert src.crs.to_epsg() == 32648 and src.res == (50.0, 50.0)
        assert src.profile["tiled"]


def test_coverage_of_an_unknown_area_is_one_line(loaded_url, tmp_path):
    res = run("coverage", "--area", "nowhere", "--out", str(tmp_path), "--database", loaded_url)
    assert res.exit_code == 1 and "no key area or district" in res.stderr


def test_radio_calibrate_writes_the_percentile_csv(tmp_path):
    out = tmp_path / "uma.csv"
    res = run(
        "radio",
        "calibrate",
        "--scenario",
        "uma",
        "--fc-ghz",
        "6",
        "--drops",
        "2",
        "--seed",
        "3",
        "--out",
        str(out),
    )
    assert res.exit_code == 0, res.output
    assert "median coupling_loss_db" in res.stdout
    import csv

    rows = list(csv.DictReader(out.open()))
    metrics = {r["metric"] for r in rows}
    assert {"coupling_loss_db", "geometry_db"} <= metrics
    cl = [float(r["value"]) for r in rows if r["metric"] == "coupling_loss_db"]
    assert [int(r["percentile"]) for r in rows if r["metric"] == "coupling_loss_db"] == list(
        range(5, 100, 5)
    )
    assert cl == sorted(cl)
    bad = run("radio", "calibrate", "--scenario", "rma", "--out", str(out))
    assert bad.exit_code == 1 and "uma or umi" in bad.stderr


def test_coverage_engine_options(loaded_url, tmp_path):
    out = tmp_path / "cov"
    res = run(
        "coverage",
        "--area",
        "2019-jiefangbei-cbd",
        "--out",
        str(out),
        "--resolution-m",
        "100",
        "--antenna",
        "array-best-beam",
        "--los-mode",
        "nlos",
        "--shadowing-seed",
        "3",
        "--database",
        loaded_url,
    )
    assert res.exit_code == 0, res.output
    stats = json.loads((out / "stats.json").read_text())
    assert stats["options"]["antenna"] == "array-best-beam"
    assert stats["options"]["shadowing_seed"] == 3
    bad = run(
        "coverage",
        "--area",
        "2019-jiefangbei-cbd",
        "--out",
        str(out),
        "--antenna",
        "dipole",
        "--database",
        loaded_url,
    )
    assert bad.exit_code == 1 and "antenna must be one of" in bad.stderr
