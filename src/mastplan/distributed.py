"""City-scale runs on a Dask cluster: the client, the tile tasks, and their files.

Nothing here imports Dask at module level: ``mastplan coverage`` and ``mastplan plan`` without
``--scheduler``/``--workers`` never load it. With one of them:

* :func:`dask_client` connects to a running scheduler (``tcp://host:8786``, or the JSON file
  ``dask scheduler --scheduler-file`` writes, as batch systems use) or starts a
  :class:`~distributed.LocalCluster` bound to 127.0.0.1 (worker processes, one thread each, no
  dashboard unless asked for).
* Coverage (:func:`predict_coverage_tiled`): the client writes the run's inputs into
  ``<out>/tiles/`` — the prepared sectors (``sectors.npz``), the terrain (``terrain.tif``)
  and ``run.json`` with the hash of everything the tiles depend on. Each task gets a small
  spec (the tile, its terrain window, those paths) and writes its layers as cloud-optimised
  GeoTIFFs ``<out>/tiles/<layer>/r<row>_c<col>.tif`` (a temporary name, then an atomic
  rename: a tile on disk is complete). Task keys derive from the run's hash and the tile;
  tiles already on disk are not recomputed, so a run killed half way resumes where it stopped.
  The client mosaics the tiles into the full rasters, identical to the in-process run's.
* Planning (:func:`dask_map`): a ``map_fn`` for :func:`~mastplan.planning.tiles.solve_tiled`;
  the tile problems' shared builder is written once to ``<out>/plan-tiles/builder-<digest>.npz``
  (:func:`builder_file`) and each worker loads it from there, once per process.
  :func:`kept_map` keeps each tile's result on disk (``<out>/plan-tiles/t<key>-<digest>.npz``,
  the digest of the run's builder and of the tile problem), written by the worker that solved
  it; a plan run again with the same inputs reuses them, so a stopped run resumes.

A worker that dies loses only its running tile: the scheduler gives it to another worker, and
its half-written files never got their final name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mastplan.errors import MastplanError
from mastplan.radio.coverage import (
    CoverageOptions,
    CoverageResult,
    PreparedSectors,
    predict_tile,
    prepare_sectors,
    sectors_for_tile,
)
from mastplan.radio.grid import Grid, Tile
from mastplan.radio.terrain import Terrain

#: The layers a coverage tile writes (all of :class:`CoverageResult`'s).
LAYERS = (
    "rsrp_dbm",
    "best_server",
    "second_server",
    "servers_within_margin",
    "sinr_db",
    "throughput_mbps",
)
#: Empty value of each layer (pixels of tiles outside the region), as in the in-process run.
EMPTY = {
    "rsrp_dbm": (np.float32, np.nan),
    "best_server": (np.int32, -1),
    "second_server": (np.int32, -1),
    "servers_within_margin": (np.uint8, 0),
    "sinr_db": (np.float32, np.nan),
    "throughput_mbps": (np.float32, 0.0),
}
#: Folders of a run's output folder that hold its tiles (intermediate: resumable runs).
COVERAGE_TILES_DIR = "tiles"
PLAN_TILES_DIR = "plan-tiles"
WORK_DIRS = (COVERAGE_TILES_DIR, PLAN_TILES_DIR)
RUN_FILE = "run.json"
SECTORS_FILE = "sectors.npz"
TERRAIN_FILE = "terrain.tif"
TILES_FORMAT = 2  # bump when the tile files or the hash change meaning
TERRAIN_MARGIN_CELLS = 2  # bilinear sampling needs the next cell centre


@dataclass(frozen=True)
class ClusterOptions:
    """Where tile tasks run: ``scheduler`` (address of a running Dask scheduler) or
    ``workers`` (a local cluster of that many processes); neither: in-process."""

    scheduler: str | None = None  # tcp://host:port, or the path of a scheduler file
    workers: int | None = None
    dashboard: bool = False
    resume: bool = False

    def __post_init__(self) -> None:
        if self.scheduler and self.workers:
            raise MastplanError("give --scheduler or --workers, not both")
        if self.workers is not None and self.workers < 1:
            raise MastplanError(f"--workers must be at least 1, not {self.workers}")

    @property
    def enabled(self) -> bool:
        return bool(self.scheduler) or self.workers is not None


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def dask_client(options: ClusterOptions, say: Callable[[str], None] | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` on the scheduler, or on a LocalCluster closed afterwards."""
    say = say or (lambda _msg: None)
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - a dependency
        raise MastplanError(
            "--scheduler/--workers need Dask: pip install 'dask[distributed]'"
        ) from exc
    show = options.dashboard
    if show:
        import importlib.util

        if importlib.util.find_spec("bokeh") is None:
            say("the Dask dashboard needs bokeh (pip install 'bokeh>=3.1'); running without it")
            show = False
    if options.scheduler:
        where = Path(options.scheduler)
        try:
            if "://" not in options.scheduler and where.is_file():  # --scheduler-file's JSON
                client = Client(scheduler_file=str(where), timeout="30s")
            else:
                client = Client(options.scheduler, timeout="30s")
        except (OSError, ValueError) as exc:
            raise MastplanError(
                f"cannot reach the Dask scheduler {options.scheduler}: {exc}"
            ) from None
        say(f"Dask scheduler {client.scheduler.address}: "
            f"{len(client.scheduler_info()['workers'])} worker(s)")  # fmt: skip
        if show:
            say(f"Dask dashboard: {client.dashboard_link}")
        try:
            yield client
        finally:
            client.close()
        return
    n = int(options.workers or 1)
    threads = max(1, (os.cpu_count() or 1) // n)  # Numba threads per worker: no oversubscription
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        # the scheduler serves HTTP (health, metrics) anyway: on 127.0.0.1, and without the
        # dashboard unless asked for
        dashboard_address="127.0.0.1:8787" if show else "127.0.0.1:0",
        scheduler_kwargs={"dashboard": show},
        env={"NUMBA_NUM_THREADS": str(threads)},
    )
    try:
        client = Client(cluster)
        try:
            say(f"local Dask cluster: {n} worker process(es) on 127.0.0.1")
            if show:
                say(f"Dask dashboard: {client.dashboard_link}")
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


# ---------------------------------------------------------------------------------------------
# Coverage in tiles
# ---------------------------------------------------------------------------------------------


def tile_name(tile: Tile, tile_px: int) -> str:
    """``r<row>_c<col>``: the tile's row and column in the grid of tiles."""
    return f"r{tile.row0 // tile_px:04d}_c{tile.col0 // tile_px:04d}"


def tile_path(tiles_dir: Path, layer: str, name: str) -> Path:
    return Path(tiles_dir) / layer / f"{name}.tif"


def _feed(h: Any, part: Any) -> None:
    """Hash ``part`` into ``h`` by content: arrays by their bytes (object arrays by their
    values), frames column by column, mappings, sequences and dataclasses item by item."""
    import pandas as pd

    if isinstance(part, np.ndarray):
        h.update(str((part.dtype.str, part.shape)).encode())
        if part.dtype.kind == "O":
            h.update(json.dumps([str(v) for v in part.ravel()]).encode())
        else:
            h.update(np.ascontiguousarray(part).tobytes())
    elif isinstance(part, pd.DataFrame):
        h.update(json.dumps([[str(c), str(t)] for c, t in part.dtypes.items()]).encode())
        _feed(h, part.index.to_numpy())
        for column in part.columns:
            _feed(h, part[column].to_numpy())
    elif isinstance(part, dict):
        for key in sorted(part, key=str):
            h.update(json.dumps(str(key)).encode())
            _feed(h, part[key])
    elif isinstance(part, (list, tuple)):
        h.update(f"[{len(part)}".encode())
        for item in part:
            _feed(h, item)
    elif dataclasses.is_dataclass(part) and not isinstance(part, type):
        h.update(type(part).__qualname__.encode())
        for f in dataclasses.fields(part):
            _feed(h, getattr(part, f.name))
    else:
        h.update(json.dumps(part, sort_keys=True, default=str).encode())


def content_digest(*parts: Any) -> str:
    """SHA-256 of ``parts`` by content (:func:`_feed`), hex."""
    h = hashlib.sha256()
    for part in parts:
        _feed(h, part)
    return h.hexdigest()


def _prepared_arrays(prepared: PreparedSectors) -> dict[str, np.ndarray]:
    return {f.name: np.asarray(getattr(prepared, f.name)) for f in dataclasses.fields(prepared)}


def _write_atomic(path: Path, write: Callable[[Path], Any]) -> None:
    """Write through ``write(tmp)`` to a temporary name beside ``path``, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    def write(tmp: Path) -> None:
        with tmp.open("wb") as f:
            np.savez(f, **arrays)

    _write_atomic(path, write)


def _save_terrain(path: Path, model: Terrain) -> None:
    import rasterio
    from rasterio.transform import Affine

    rows, cols = model.shape
    r = model.resolution_m

    def write(tmp: Path) -> None:
        with rasterio.open(
            tmp, "w", driver="GTiff", width=cols, height=rows, count=1, dtype="float32",
            crs=model.crs, transform=Affine(r, 0.0, model.x0_m, 0.0, -r, model.y0_m),
            tiled=True, blockxsize=256, blockysize=256, compress="deflate", BIGTIFF="IF_SAFER",
        ) as dst:  # fmt: skip
            dst.write(model.z_m, 1)
            dst.update_tags(synthetic=str(bool(model.synthetic)))

    _write_atomic(path, write)


def _read_npz(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file written here (no pickles allowed)."""
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def _read_once(path: str, make: Callable[[dict[str, np.ndarray]], Any]) -> Any:
    """``make(arrays of path)``, built once per worker process and version of the file (its
    modification time and size): a worker's tasks share the run's sectors or cover builder."""
    st = os.stat(path)
    return _made(path, (st.st_mtime_ns, st.st_size), make)


@functools.lru_cache(maxsize=4)
def _made(path: str, stamp: tuple[int, int], make: Callable[[dict[str, np.ndarray]], Any]) -> Any:
    return make(_read_npz(path))


def _prepared_from(arrays: dict[str, np.ndarray]) -> PreparedSectors:
    return PreparedSectors(**{**arrays, "n_carriers": int(arrays["n_carriers"])})


def _read_terrain(path: str, window: tuple[int, int, int, int], synthetic: bool) -> Terrain:
    """The window (row0, col0, rows, cols) of the run's terrain file, as a Terrain."""
    import rasterio
    from rasterio.windows import Window

    row0, col0, rows, cols = window
    with rasterio.open(path) as src:
        z = src.read(1, window=Window(col0, row0, cols, rows))
        t = src.transform
        crs = src.crs.to_string()
    r = t.a
    return Terrain(z, t.c + col0 * r, t.f - row0 * r, r, crs=crs, synthetic=synthetic)


def terrain_window(
    model: Terrain, tile: Tile, prepared: PreparedSectors, sel: np.ndarray
) -> tuple[int, int, int, int]:
    """The cells of ``model`` a tile's prediction reads: every profile from one of its sectors
    to one of its pixels lies in the box of the tile and those sectors; grown by two cells
    (bilinear sampling) and clipped to the terrain. Inside the window the heights, and the
    clamping at the terrain's own edges, are those of the whole terrain: same results."""
    minx, miny, maxx, maxy = tile.grid.bounds
    if len(sel):
        minx = min(minx, float(prepared.x_m[sel].min()))
        maxx = max(maxx, float(prepared.x_m[sel].max()))
        miny = min(miny, float(prepared.y_m[sel].min()))
        maxy = max(maxy, float(prepared.y_m[sel].max()))
    rows, cols = model.shape
    r = model.resolution_m
    m = TERRAIN_MARGIN_CELLS
    c0 = max(0, int(np.floor((minx - model.x0_m) / r)) - m)
    c1 = min(cols, int(np.ceil((maxx - model.x0_m) / r)) + m)
    r0 = max(0, int(np.floor((model.y0_m - maxy) / r)) - m)
    r1 = min(rows, int(np.ceil((model.y0_m - miny) / r)) + m)
    if c1 <= c0 or r1 <= r0:  # the tile lies outside the terrain: clamping reads its edge
        c0, c1, r0, r1 = 0, cols, 0, rows
    return (r0, c0, r1 - r0, c1 - c0)


def compute_coverage_tile(spec: dict[str, Any]) -> dict[str, Any]:
    """One tile on a worker: read the inputs named in ``spec``, predict, write the layers.

    Idempotent: a tile whose layers are all on disk is not recomputed. Each layer is written to
    a temporary name and renamed, so a tile on disk is complete even if the worker dies.
    """
    t0 = time.perf_counter()
    tiles_dir = Path(spec["tiles_dir"])
    paths = {layer: tile_path(tiles_dir, layer, spec["name"]) for layer in LAYERS}
    if all(p.exists() for p in paths.values()):
        return {"name": spec["name"], "computed": False, "seconds": 0.0}
    from mastplan.io.coverage_outputs import write_cog

    prepared = _read_once(str(tiles_dir / SECTORS_FILE), _prepared_from)
    options = CoverageOptions(**spec["options"])
    tile = Tile(spec["row0"], spec["col0"], Grid(**spec["grid"]))
    terrain_model = None
    if spec["terrain_window"] is not None:
        terrain_model = _read_terrain(
            str(tiles_dir / TERRAIN_FILE), tuple(spec["terrain_window"]), spec["synthetic"]
        )
    res = predict_tile(tile, prepared, options, terrain_model)
    for layer, path in paths.items():
        _write_atomic(path, lambda tmp, layer=layer: write_cog(tmp, getattr(res, layer), tile.grid,
                                                               layer))  # fmt: skip
    return {"name": spec["name"], "computed": True, "seconds": time.perf_counter() - t0}


def _read_tile(path: Path) -> np.ndarray:
    import rasterio

    with rasterio.open(path) as src:
        return src.read(1)


def _prepare_tiles_dir(tiles_dir: Path, run_hash: str, meta: dict[str, Any], resume: bool,
                       say: Callable[[str], None]) -> None:  # fmt: skip
    """Check ``run.json`` against this run: resume on a match; on a mismatch refuse (resume)
    or start afresh; never delete a folder that is not a tiles folder of mastplan."""
    run_file = tiles_dir / RUN_FILE
    if run_file.exists():
        try:
            old = json.loads(run_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        if old.get("hash") == run_hash:
            say(f"resuming the tiles in {tiles_dir}")
            for part in tiles_dir.glob("*/.*.part"):  # left by a worker that died
                part.unlink(missing_ok=True)
            return
        if resume:
            raise MastplanError(
                f"{tiles_dir} holds the tiles of another run (different area, sectors, terrain "
                "or options): cannot resume; run without --resume to start afresh"
            )
        say(f"the tiles in {tiles_dir} are of another run: starting afresh")
        for layer in LAYERS:
            shutil.rmtree(tiles_dir / layer, ignore_errors=True)
        for name in (SECTORS_FILE, TERRAIN_FILE, RUN_FILE):
            (tiles_dir / name).unlink(missing_ok=True)
    elif tiles_dir.exists() and any(tiles_dir.iterdir()):
        raise MastplanError(f"{tiles_dir} exists and is not a tiles folder of mastplan")
    elif resume:
        say(f"nothing to resume in {tiles_dir}: starting afresh")
    tiles_dir.mkdir(parents=True, exist_ok=True)
    _write_atomic(run_file, lambda tmp: tmp.write_text(
        json.dumps({"hash": run_hash, **meta}, indent=2), encoding="utf-8"))  # fmt: skip


def predict_coverage_tiled(
    client: Any,
    grid: Grid,
    sectors: Any,
    tiles_dir: Path,
    *,
    terrain_model: Terrain | None = None,
    region: Any = None,
    progress: Callable[[int, int], None] | None = None,
    resume: bool = False,
    say: Callable[[str], None] | None = None,
    run_meta: dict[str, Any] | None = None,
    **options: Any,
) -> tuple[CoverageResult, dict[str, Any]]:
    """:func:`~mastplan.radio.coverage.predict_coverage` with the tiles on a Dask cluster.

    Returns the result (the same arrays as in-process) and a report: tiles in all, computed
    now and found on disk, seconds and tiles per second of the tile phase.
    """
    import shapely

    from distributed import as_completed

    say = say or (lambda _msg: None)
    tiles_dir = Path(tiles_dir)
    opts = CoverageOptions(**options)
    prepared = prepare_sectors(sectors, opts, terrain_model)
    arrays = _prepared_arrays(prepared)
    arrays["n_carriers"] = np.asarray(prepared.n_carriers)
    tiles = list(grid.tiles(opts.tile_px))
    if region is not None:
        shapely.prepare(region)
        tiles = [t for t in tiles if region.intersects(shapely.box(*t.grid.bounds))]
    grid_d = dataclasses.asdict(grid)
    opts_d = dataclasses.asdict(opts)
    terrain_d = None
    if terrain_model is not None:
        terrain_d = {"x0_m": terrain_model.x0_m, "y0_m": terrain_model.y0_m,
                     "resolution_m": terrain_model.resolution_m, "crs": terrain_model.crs,
                     "synthetic": bool(terrain_model.synthetic)}  # fmt: skip
    run_hash = content_digest(
        TILES_FORMAT, grid_d, opts_d, terrain_d, [t.key for t in tiles],
        *(arrays[k] for k in sorted(arrays)),
        *(() if terrain_model is None else (terrain_model.z_m,)),
    )  # fmt: skip
    meta = {"format": TILES_FORMAT, "grid": grid_d, "options": opts_d, "terrain": terrain_d,
            "tiles": len(tiles), "tile_px": opts.tile_px, **(run_meta or {})}  # fmt: skip
    _prepare_tiles_dir(tiles_dir, run_hash, meta, resume, say)
    _save_npz(tiles_dir / SECTORS_FILE, arrays)
    if terrain_model is not None and not (tiles_dir / TERRAIN_FILE).exists():
        _save_terrain(tiles_dir / TERRAIN_FILE, terrain_model)

    names = {t.key: tile_name(t, opts.tile_px) for t in tiles}
    done = [t for t in tiles if all(tile_path(tiles_dir, la, names[t.key]).exists()
                                    for la in LAYERS)]  # fmt: skip
    done_keys = {t.key for t in done}
    todo = [t for t in tiles if t.key not in done_keys]
    if done:
        say(f"{len(done)} of {len(tiles)} tiles already on disk")
    if progress:
        progress(len(done), len(tiles))

    specs = []
    for t in todo:
        window = None
        if terrain_model is not None:
            window = terrain_window(terrain_model, t, prepared, sectors_for_tile(prepared, t))
        specs.append({
            "tiles_dir": str(tiles_dir), "name": names[t.key], "row0": t.row0, "col0": t.col0,
            "grid": dataclasses.asdict(t.grid), "options": opts_d, "terrain_window": window,
            "synthetic": bool(terrain_model is not None and terrain_model.synthetic),
        })  # fmt: skip
    t0 = time.perf_counter()
    computed = 0
    finished = len(done)
    for attempt in range(2):
        if not specs:
            break
        # keys from the run and the tile; a second pass (a result the scheduler still held
        # from an earlier run of the same tiles, whose files are gone) gets fresh ones
        suffix = "" if attempt == 0 else f"-{uuid.uuid4().hex[:8]}"
        keys = [f"mastplan-coverage-{run_hash[:16]}-{s['name']}{suffix}" for s in specs]
        futures = client.map(compute_coverage_tile, specs, key=keys, pure=True, retries=2)
        for future in as_completed(futures):
            info = future.result()
            computed += int(info["computed"])
            finished += int(attempt == 0)
            if progress:
                progress(min(finished, len(tiles)), len(tiles))
        del futures
        specs = [
            sp
            for sp in specs
            if not all(tile_path(tiles_dir, la, sp["name"]).exists() for la in LAYERS)
        ]
    if specs:
        raise MastplanError(f"{len(specs)} tile(s) were not written to {tiles_dir}")
    seconds = time.perf_counter() - t0

    ny, nx = grid.shape
    layers = {name: np.full((ny, nx), fill, dtype=dtype) for name, (dtype, fill) in EMPTY.items()}
    for t in tiles:
        rows, cols = t.slices
        for layer in LAYERS:
            layers[layer][rows, cols] = _read_tile(tile_path(tiles_dir, layer, names[t.key]))
    report = {
        "tiles": len(tiles),
        "computed": computed,
        "reused": len(tiles) - computed,
        "seconds": round(seconds, 3),
        "tiles_per_s": round(computed / seconds, 3) if seconds > 0 and computed else None,
    }
    run = json.loads((tiles_dir / RUN_FILE).read_text(encoding="utf-8"))
    run["last_run"] = report
    _write_atomic(tiles_dir / RUN_FILE, lambda tmp: tmp.write_text(json.dumps(run, indent=2),
                                                                  encoding="utf-8"))  # fmt: skip
    return CoverageResult(grid=grid, **layers), report


# ---------------------------------------------------------------------------------------------
# Planning tiles
# ---------------------------------------------------------------------------------------------


def task_name(task: Any, run_digest: str) -> str:
    """Name of a tile task's kept result: ``t<key>-<digest>``, the digest of the run (what the
    task's shared ``build`` holds) and of the task's own fields (tile, indices, solver, limits).
    """
    parts = [getattr(task, f.name) for f in dataclasses.fields(task) if f.name != "build"]
    key = "_".join(str(k) for k in np.atleast_1d(getattr(task, "key", ())))
    return f"t{key}-{content_digest(run_digest, *parts)[:24]}"


class _Keep:
    """``f`` that also keeps its result in ``folder`` under :func:`task_name` (written to a
    temporary name, then renamed: a kept result is whole). Module level, so Dask pickles it."""

    def __init__(self, f: Callable[[Any], Any], folder: str, run_digest: str) -> None:
        self.f = f
        self.folder = folder
        self.run_digest = run_digest

    def __call__(self, task: Any) -> Any:
        result = self.f(task)
        _save_npz(Path(self.folder) / f"{task_name(task, self.run_digest)}.npz", result.to_arrays())
        return result


def kept_map(
    map_fn: Callable[..., Iterable[Any]],
    folder: Path,
    run_digest: str,
    result_type: Any,
    used: set[str] | None = None,
) -> Callable[..., Iterable[Any]]:
    """A ``map_fn`` that keeps every task's result in ``folder`` and reuses the ones there.

    Tasks are dataclasses with a ``key``; results have ``to_arrays()`` and
    ``result_type.from_arrays(arrays)``. A result on disk is reused when the run (``run_digest``)
    and the task are the same (:func:`task_name`), so a run stopped half way — a killed client,
    a lost cluster — resumes with the tasks it had not finished. ``used`` collects the names
    of this run's results (to tidy the folder afterwards: :func:`drop_unused`).
    """
    folder = Path(folder)

    def wrapped(f: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        tasks = list(tasks)
        names = [task_name(t, run_digest) for t in tasks]
        if used is not None:
            used.update(names)
        kept: dict[int, Any] = {}
        for i, name in enumerate(names):
            path = folder / f"{name}.npz"
            if path.exists():
                try:
                    kept[i] = result_type.from_arrays(_read_npz(path))
                except (OSError, ValueError, KeyError):  # unreadable: solved again
                    path.unlink(missing_ok=True)
        todo = [t for i, t in enumerate(tasks) if i not in kept]
        fresh = iter(map_fn(_Keep(f, str(folder), run_digest), todo) if todo else ())
        for i in range(len(tasks)):
            yield kept[i] if i in kept else next(fresh)

    return wrapped


class BuilderFile:
    """A cover builder (``build(cand_idx, point_idx)`` of
    :func:`~mastplan.planning.tiles.solve_tiled`) that a worker loads from a file it can reach
    (NumPy arrays, no pickles), once per process: what a tile task carries instead of the
    builder itself."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __call__(self, cand_idx: np.ndarray, point_idx: np.ndarray) -> Any:
        from mastplan.planning.coverage import CoverBuilder

        return _read_once(self.path, CoverBuilder.from_arrays)(cand_idx, point_idx)


def builder_file(builder: Any, folder: Path, run_digest: str) -> BuilderFile:
    """Write ``builder`` (its ``to_arrays()``) to ``folder/builder-<digest>.npz`` unless it is
    there already, and return the :class:`BuilderFile` that reads it."""
    path = Path(folder) / f"builder-{run_digest[:24]}.npz"
    if not path.exists():
        _save_npz(path, builder.to_arrays())
    return BuilderFile(str(path))


def drop_unused(folder: Path, used: set[str]) -> int:
    """Remove the kept results in ``folder`` that are not in ``used`` (and temporary files
    left by a worker that died); returns how many were removed."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    gone = 0
    for path in folder.iterdir():
        stale = path.name.endswith(".part") or (
            path.suffix == ".npz" and path.name.startswith(("t", "builder-"))
            and path.stem not in used
        )  # fmt: skip
        if stale and path.is_file():
            path.unlink(missing_ok=True)
            gone += 1
    return gone


def dask_map(client: Any, label: str = "plan") -> Callable[..., Iterable[Any]]:
    """A ``map_fn`` for :func:`~mastplan.planning.tiles.solve_tiled` that runs on ``client``,
    results in order. The tasks should be small: :func:`~mastplan.plan_run.run_plan` gives
    them the path of the cover builder (:class:`BuilderFile`), not the builder."""

    def map_fn(f: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        tasks = list(tasks)
        if not tasks:
            return
        token = uuid.uuid4().hex[:12]
        keys = [
            f"mastplan-{label}-{token}-" + str(getattr(t, "key", i)).replace(" ", "")
            for i, t in enumerate(tasks)
        ]
        futures = client.map(f, tasks, key=keys, pure=False, retries=2)
        try:
            for future in futures:
                yield future.result()
        finally:
            client.cancel(futures)

    return map_fn
