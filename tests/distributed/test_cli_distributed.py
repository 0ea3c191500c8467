"""`mastplan coverage --workers N` on the command line, and its one-line errors."""

from __future__ import annotations

import json

import numpy as np
import rasterio
from typer.testing import CliRunner

from mastplan.cli import app

runner = CliRunner()
COMMON = ("coverage", "--area", "2019-jiefangbei-cbd", "--resolution-m", "100", "--no-record")


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_coverage_with_workers_writes_the_in_process_outputs(loaded_url, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    # the same tiles (tiles outside the area are left empty, in-process as on Dask)
    res = run(*COMMON, "--out", str(a), "--tile-px", "8", "--database", loaded_url)
    assert res.exit_code == 0, res.output
    res = run(*COMMON, "--out", str(b), "--workers", "1", "--tile-px", "8",
              "--database", loaded_url)  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "local Dask cluster: 1 worker" in res.stderr and "tiles: " in res.stderr
    assert "dashboard" not in res.output.lower()
    for name in ("rsrp_dbm", "sinr_db", "best_server"):
        with rasterio.open(a / f"{name}.tif") as x, rasterio.open(b / f"{name}.tif") as y:
            assert np.array_equal(x.read(1), y.read(1), equal_nan=True)
    sa, sb = (json.loads((p / "stats.json").read_text()) for p in (a, b))
    assert sa == sb
    assert (b / "tiles" / "run.json").exists() and not (a / "tiles").exists()


def test_resume_without_a_cluster_and_both_cluster_options_are_one_line(loaded_url, tmp_path):
    res = run(*COMMON, "--out", str(tmp_path), "--resume", "--database", loaded_url)
    assert res.exit_code == 1 and "--resume needs --scheduler or --workers" in res.stderr
    res = run(*COMMON, "--out", str(tmp_path), "--workers", "2", "--scheduler",
              "tcp://127.0.0.1:1", "--database", loaded_url)  # fmt: skip
    assert res.exit_code == 1 and "not both" in res.stderr
