"""City scale on Dask: coverage tiles and plan tiles on a local cluster give the in-process
results; a worker killed half way changes nothing; a run resumes from the tiles on disk."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from sqlalchemy.orm import Session

from mastplan.coverage_run import CoverageRunOptions, run_coverage
from mastplan.distributed import LAYERS, RUN_FILE, ClusterOptions, tile_path
from mastplan.errors import MastplanError
from mastplan.plan_run import PLAN_TILES_DIR, PlanOptions, run_plan, tile_map

AREA = "2019-jiefangbei-cbd"
OPTIONS = CoverageRunOptions(resolution_m=50.0, synthetic_terrain_seed=7)
OUTPUTS = ("rsrp_dbm", "sinr_db", "best_server", "servers_within_margin", "throughput_mbps")


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of two worker processes; the runs connect their own client to it (one
    client per run, as ``--scheduler`` does: no second client kept open in this process)."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", scheduler_kwargs={"dashboard": False},
        env={"NUMBA_NUM_THREADS": "1"},
    ) as c:  # fmt: skip
        yield c


def _client(c):
    from distributed import Client

    return Client(c.scheduler_address, set_as_default=False)


def _read(folder: Path, name: str) -> np.ndarray:
    with rasterio.open(folder / f"{name}.tif") as src:
        return src.read(1)


def _assert_same_outputs(a: Path, b: Path) -> None:
    for name in OUTPUTS:
        x, y = _read(a, name), _read(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), name
    assert json.loads((a / "stats.json").read_text()) == json.loads((b / "stats.json").read_text())


def _last_run(out: Path) -> dict:
    return json.loads((out / "tiles" / RUN_FILE).read_text())["last_run"]


@pytest.fixture
def in_process(loaded_session: Session, tmp_path) -> Path:
    out = tmp_path / "in-process"
    run_coverage(loaded_session, AREA, out, OPTIONS, tile_px=4)
    return out


def test_coverage_on_a_cluster_is_the_in_process_coverage(
    loaded_session: Session, tmp_path, in_process, cluster
):
    c = cluster
    out = tmp_path / "dask"
    seen: list[tuple[int, int]] = []
    run_coverage(
        loaded_session, AREA, out, OPTIONS, tile_px=4, progress=lambda d, t: seen.append((d, t)),
        cluster=ClusterOptions(scheduler=c.scheduler_address),
    )  # fmt: skip
    _assert_same_outputs(in_process, out)
    report = _last_run(out)
    assert report["computed"] == report["tiles"] > 20 and report["reused"] == 0
    assert seen[-1] == (report["tiles"], report["tiles"])
    # every tile is a cloud-optimised GeoTIFF per layer, no temporary file left
    names = {p.name for p in (out / "tiles" / "rsrp_dbm").iterdir()}
    assert len(names) == report["tiles"] and all(n.startswith("r") for n in names)
    for layer in LAYERS:
        assert len(list((out / "tiles" / layer).glob("r*_c*.tif"))) == report["tiles"]
    assert not list((out / "tiles").glob("*/.*.part"))
    with rasterio.open(out / "tiles" / "rsrp_dbm" / sorted(names)[0]) as src:
        assert src.crs.to_epsg() == 32648 and src.profile["tiled"]


@contextlib.contextmanager
def _a_worker_killed_once(cluster, folder: Path, pattern: str, count: int):
    """SIGKILL one worker process of ``cluster`` as soon as ``count`` files match ``pattern``
    in ``folder`` (while the block runs); yields ``{"at": files seen then}``. Afterwards the
    process is gone and the nanny has started another."""
    with _client(cluster) as client:
        victim = next(iter(client.run(os.getpid).values()))
    killed: dict[str, int] = {}

    def watch() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            n = len(list(folder.glob(pattern))) if folder.exists() else 0
            if n >= count:
                os.kill(victim, signal.SIGKILL)
                killed["at"] = n
                return
            time.sleep(0.002)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    yield killed
    watcher.join(5)
    assert "at" in killed, "the worker was not killed"
    with pytest.raises(ProcessLookupError):
        os.kill(victim, 0)
    with _client(cluster) as client:
        client.wait_for_workers(2, timeout=60)


def test_a_worker_killed_half_way_changes_nothing(
    loaded_session: Session, tmp_path, in_process, cluster
):
    out = tmp_path / "killed"
    with _a_worker_killed_once(cluster, out / "tiles" / "rsrp_dbm", "r*.tif", 3) as killed:
        run_coverage(loaded_session, AREA, out, OPTIONS, tile_px=4,
                     cluster=ClusterOptions(scheduler=cluster.scheduler_address))  # fmt: skip
    assert killed["at"] < _last_run(out)["tiles"], "the worker was not killed mid-run"
    _assert_same_outputs(in_process, out)


def test_a_run_resumes_and_recomputes_only_the_missing_tiles(
    loaded_session: Session, tmp_path, in_process, cluster
):
    c = cluster
    on = ClusterOptions(scheduler=c.scheduler_address)
    out = tmp_path / "resume"
    run_coverage(loaded_session, AREA, out, OPTIONS, tile_px=4, cluster=on)
    total = _last_run(out)["tiles"]
    names = sorted(p.stem for p in (out / "tiles" / "rsrp_dbm").iterdir())
    for name in names[:3]:  # three tiles gone entirely, two with one layer missing
        for layer in LAYERS:
            tile_path(out / "tiles", layer, name).unlink()
    tile_path(out / "tiles", "sinr_db", names[10]).unlink()
    tile_path(out / "tiles", "best_server", names[11]).unlink()
    (out / "tiles" / "sinr_db" / ".r9999_c9999.tif.dead.part").write_bytes(b"half a tile")
    before = {n: tile_path(out / "tiles", "rsrp_dbm", n).stat().st_mtime_ns for n in names[3:]}
    run_coverage(loaded_session, AREA, out, OPTIONS, tile_px=4,
                 cluster=ClusterOptions(scheduler=c.scheduler_address, resume=True))  # fmt: skip
    report = _last_run(out)
    assert report["computed"] == 5 and report["reused"] == total - 5
    untouched = [n for n in names[3:] if n not in (names[10], names[11])]
    for n in untouched:
        assert tile_path(out / "tiles", "rsrp_dbm", n).stat().st_mtime_ns == before[n]
    assert not list((out / "tiles").glob("*/.*.part"))
    _assert_same_outputs(in_process, out)
    # the same run again, without --resume: resumes by itself, computes nothing
    run_coverage(loaded_session, AREA, out, OPTIONS, tile_px=4, cluster=on)
    assert _last_run(out)["computed"] == 0


def test_tiles_of_another_run_are_refused_on_resume_and_replaced_otherwise(
    loaded_session: Session, tmp_path, cluster
):
    c = cluster
    out = tmp_path / "other"
    on = ClusterOptions(scheduler=c.scheduler_address)
    run_coverage(loaded_session, AREA, out, OPTIONS, tile_px=8, cluster=on)
    hash_before = json.loads((out / "tiles" / RUN_FILE).read_text())["hash"]
    other = CoverageRunOptions(resolution_m=50.0, synthetic_terrain_seed=7, load=0.5)
    resume = ClusterOptions(scheduler=c.scheduler_address, resume=True)
    with pytest.raises(MastplanError, match="another run"):
        run_coverage(loaded_session, AREA, out, other, tile_px=8, cluster=resume)
    run_coverage(loaded_session, AREA, out, other, tile_px=8, cluster=on)
    report = _last_run(out)
    assert report["computed"] == report["tiles"]
    assert json.loads((out / "tiles" / RUN_FILE).read_text())["hash"] != hash_before
    # a folder named tiles that mastplan did not write is never emptied
    foreign = tmp_path / "foreign"
    (foreign / "tiles").mkdir(parents=True)
    (foreign / "tiles" / "mine.txt").write_text("keep me")
    with pytest.raises(MastplanError, match="not a tiles folder"):
        run_coverage(loaded_session, AREA, foreign, OPTIONS, tile_px=8, cluster=on)
    assert (foreign / "tiles" / "mine.txt").exists()


def test_a_tiled_plan_on_a_local_cluster_chooses_the_same_sites(loaded_session: Session, tmp_path):
    options = PlanOptions(resolution_m=50.0, solver="greedy", greenfield=True, time_limit_s=10.0,
                          tiles="always", tile_m=400.0)  # fmt: skip
    run_plan(loaded_session, "2019-chayuan", tmp_path / "a", options)
    notes: list[str] = []
    run_plan(loaded_session, "2019-chayuan", tmp_path / "b", options,
             cluster=ClusterOptions(workers=2), say=notes.append)  # fmt: skip
    assert any("local Dask cluster: 2" in n for n in notes)
    a = pd.read_csv(tmp_path / "a" / "sites.csv")
    b = pd.read_csv(tmp_path / "b" / "sites.csv")
    assert len(a) > 0
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "a" / "sectors.csv"), pd.read_csv(tmp_path / "b" / "sectors.csv")
    )
    plan = json.loads((tmp_path / "b" / "plan.json").read_text())
    tiled = plan["areas"][0]["operators"]["china-mobile"]["solution"]["stats"]["tiled"]
    assert tiled["tiles"] > 1
    # the workers read the cover builder from a file (arrays, no pickles); in-process, no file
    [builder] = (tmp_path / "b" / PLAN_TILES_DIR).glob("builder-*.npz")
    with np.load(builder, allow_pickle=False) as data:
        assert {"meta", "point_x_m", "cand.host", "existing.site"} <= set(data.files)
    assert not list((tmp_path / "a" / PLAN_TILES_DIR).glob("builder-*.npz"))


PLAN = PlanOptions(resolution_m=50.0, solver="greedy", greenfield=True, time_limit_s=10.0,
                   tiles="always", tile_m=400.0)  # fmt: skip
PLAN_AREA = "2019-chayuan"


def _kept(out: Path) -> dict[str, int]:
    """The kept tile results of a plan: name -> modification time."""
    return {p.stem: p.stat().st_mtime_ns for p in (out / PLAN_TILES_DIR).glob("t*.npz")}


def _same_plan(a: Path, b: Path) -> None:
    for name in ("sites.csv", "sectors.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(a / name), pd.read_csv(b / name))


def _counting_map(seen: list):
    def map_fn(f, tasks):
        for task in tasks:
            seen.append(task.key)
            yield f(task)

    return map_fn


def test_a_plan_keeps_its_tiles_and_resumes_from_them(loaded_session: Session, tmp_path):
    out = tmp_path / "plan"
    first: list = []
    with tile_map(_counting_map(first)):
        run_plan(loaded_session, PLAN_AREA, out, PLAN)
    kept = _kept(out)
    assert len(kept) == len(first) > 3  # one result per tile, none left half-written
    assert not list((out / PLAN_TILES_DIR).glob("*.part"))
    ref = tmp_path / "ref"
    shutil.copytree(out, ref)
    gone = sorted(kept)[:2]
    for name in gone:
        (out / PLAN_TILES_DIR / f"{name}.npz").unlink()
    (out / PLAN_TILES_DIR / f"{sorted(kept)[3]}.npz").write_bytes(b"not an npz")  # torn file
    (out / PLAN_TILES_DIR / ".t0_0-dead.npz.1234.part").write_bytes(b"half")
    again: list = []
    reported: list[tuple[int, int]] = []
    with tile_map(_counting_map(again)):
        run_plan(
            loaded_session, PLAN_AREA, out, PLAN, tile_progress=lambda d, t: reported.append((d, t))
        )
    assert len(again) == 3  # the two missing tiles and the unreadable one, nothing else
    assert reported == [(i, len(kept)) for i in range(1, len(kept) + 1)]  # kept ones count too
    after = _kept(out)
    assert set(after) == set(kept)
    assert all(after[n] == kept[n] for n in kept if n not in gone and n != sorted(kept)[3])
    assert not list((out / PLAN_TILES_DIR).glob("*.part"))
    _same_plan(ref, out)
    # other options: other tile problems; the old results are dropped at the end of the run
    other: list = []
    with tile_map(_counting_map(other)):
        run_plan(loaded_session, PLAN_AREA, out, dataclasses.replace(PLAN, time_limit_s=11.0))
    assert len(other) == len(first) and not set(_kept(out)) & set(kept)


def test_a_worker_killed_during_a_plan_changes_nothing(loaded_session: Session, tmp_path, cluster):
    ref, out = tmp_path / "ref", tmp_path / "killed"
    run_plan(loaded_session, PLAN_AREA, ref, PLAN)
    with _a_worker_killed_once(cluster, out / PLAN_TILES_DIR, "t*.npz", 1) as killed:
        run_plan(loaded_session, PLAN_AREA, out, PLAN,
                 cluster=ClusterOptions(scheduler=cluster.scheduler_address))  # fmt: skip
    assert killed["at"] < len(_kept(out)), "the worker was not killed mid-run"
    _same_plan(ref, out)
    assert set(_kept(out)) == set(_kept(ref))


def test_cluster_options_are_checked():
    with pytest.raises(MastplanError, match="not both"):
        ClusterOptions(scheduler="tcp://127.0.0.1:8786", workers=2)
    with pytest.raises(MastplanError, match="at least 1"):
        ClusterOptions(workers=0)
    assert not ClusterOptions().enabled and ClusterOptions(workers=1).enabled


def test_in_process_runs_never_import_dask():
    code = (
        "import sys, mastplan.cli, mastplan.coverage_run, mastplan.plan_run, "
        "mastplan.distributed; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')); "
        "assert not bad, bad"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
