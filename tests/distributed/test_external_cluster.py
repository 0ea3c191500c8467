"""`--scheduler` against a cluster mastplan did not start: a ``dask scheduler`` and ``dask
worker`` processes of their own (as on a real cluster), by address and by scheduler file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from typer.testing import CliRunner

from mastplan.cli import app

runner = CliRunner()
COVERAGE = ("coverage", "--area", "2019-jiefangbei-cbd", "--resolution-m", "100", "--no-record",
            "--tile-px", "8")  # fmt: skip
PLAN = ("plan", "--area", "2019-chayuan", "--resolution-m", "50", "--solver", "greedy",
        "--greenfield", "--tiles", "always", "--tile-m", "400", "--no-record")  # fmt: skip


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _start(args: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    with log.open("wb") as fh:
        return subprocess.Popen([sys.executable, "-m", *args], env=env, stdout=fh, stderr=fh)


@pytest.fixture(scope="module")
def external(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A scheduler and two worker processes started as an operator starts them; yields the
    scheduler's address and its scheduler file."""
    from distributed import Client

    folder = tmp_path_factory.mktemp("dask-cluster")
    sched_file = folder / "scheduler.json"
    procs = [_start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                     "--no-dashboard", "--scheduler-file", str(sched_file)],
                    folder / "scheduler.log")]  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            assert procs[0].poll() is None, (folder / "scheduler.log").read_text()
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        procs.append(_start(["distributed.cli.dask_worker", address, "--nworkers", "2",
                             "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1",
                             "--local-directory", str(folder / "workers")],
                            folder / "workers.log"))  # fmt: skip
        with Client(address, set_as_default=False, timeout="30s") as client:
            client.wait_for_workers(2, timeout=90)
        yield address, sched_file
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _in_process_and_on(scheduler: str, command, url: str, tmp_path: Path, address: str):
    """Run ``command`` in-process into ``a`` and on ``scheduler`` into ``b``; both succeed and
    the second says it ran on the scheduler at ``address`` with its two workers."""
    a, b = tmp_path / "a", tmp_path / "b"
    res = run(*command, "--out", str(a), "--database", url)
    assert res.exit_code == 0, res.output
    res = run(*command, "--out", str(b), "--scheduler", scheduler, "--database", url)
    assert res.exit_code == 0, res.output
    assert f"Dask scheduler {address}: 2 worker(s)" in " ".join(res.stderr.split())
    return a, b


def test_coverage_on_an_external_scheduler_is_the_in_process_coverage(
    loaded_url, tmp_path, external
):
    address, _ = external
    a, b = _in_process_and_on(address, COVERAGE, loaded_url, tmp_path, address)
    for name in ("rsrp_dbm", "sinr_db", "best_server", "throughput_mbps"):
        with rasterio.open(a / f"{name}.tif") as x, rasterio.open(b / f"{name}.tif") as y:
            assert np.array_equal(x.read(1), y.read(1), equal_nan=True), name
    assert json.loads((a / "stats.json").read_text()) == json.loads((b / "stats.json").read_text())
    run_file = json.loads((b / "tiles" / "run.json").read_text())
    assert run_file["last_run"]["computed"] == run_file["tiles"] > 1


def test_a_plan_on_an_external_scheduler_by_its_file_is_the_in_process_plan(
    loaded_url, tmp_path, external
):
    address, sched_file = external
    a, b = _in_process_and_on(str(sched_file), PLAN, loaded_url, tmp_path, address)
    for name in ("sites.csv", "sectors.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(a / name), pd.read_csv(b / name))
    assert len(pd.read_csv(a / "sites.csv")) > 0
    kept = sorted(p.name for p in (b / "plan-tiles").glob("t*.npz"))
    assert kept and kept == sorted(p.name for p in (a / "plan-tiles").glob("t*.npz"))


def test_an_unreachable_scheduler_is_one_line(loaded_url, tmp_path):
    res = run(*COVERAGE, "--out", str(tmp_path), "--scheduler", "tcp://127.0.0.1:9",
              "--database", loaded_url)  # fmt: skip
    assert res.exit_code == 1
    assert "cannot reach the Dask scheduler tcp://127.0.0.1:9" in res.stderr
