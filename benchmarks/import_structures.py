"""Benchmark: streaming import of a synthetic structure inventory (default 1,000,000 rows).

Each measurement runs in its own process, so its peak memory is its own. The baseline, measured
in the same run on the same file, is the floor any importer pays: pandas parsing the CSV in the
same batches plus a bare sqlite3 ``executemany`` into a table without constraints. The script
prints a Markdown table with throughput and the ratios; record it in docs/performance.md.

    python benchmarks/import_structures.py --count 1000000 --small 100000
    python benchmarks/import_structures.py --postgres-url postgresql+psycopg://…/db   # also PG
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_import(csv_path: str, url: str, method: str = "auto") -> dict:
    """Fresh database, Chongqing reference data without synthetic inventory, then the import
    (``method``: the write path, as ``import_layer(write_method=…)``); PostgreSQL analysed
    after it."""
    from mastplan.chongqing import LoadOptions, load_chongqing
    from mastplan.io.importer import import_layer
    from mastplan.registry.audit import Actor
    from mastplan.registry.db import init_db, make_engine, session_factory

    engine = make_engine(url)
    init_db(engine)
    with session_factory(engine)() as session:
        load_chongqing(session, Actor("bench"), LoadOptions(synthetic=False))
    start = time.perf_counter()
    with session_factory(engine)() as session:
        result = import_layer(
            session, Actor("bench"), Path(csv_path), "structures", write_method=method
        )
    seconds = time.perf_counter() - start
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    return {"rows": result.rows, "seconds": seconds, "peak_rss_mb": _peak_rss_mb()}


def child_baseline(csv_path: str, db_path: str) -> dict:
    """Parse in the same batches and insert with bare sqlite3: no validation, no upsert."""
    import pandas as pd

    conn = sqlite3.connect(db_path)
    conn.execute(
        "CREATE TABLE s (external_id TEXT, kind TEXT, owner TEXT, lon REAL, lat REAL, "
        "height REAL, positions INTEGER, payload REAL, power REAL)"
    )
    start = time.perf_counter()
    rows = 0
    cols = [
        "external_id",
        "kind",
        "owner",
        "lon_deg",
        "lat_deg",
        "height_m",
        "mount_positions",
        "max_payload_kg",
        "available_power_kw",
    ]
    for chunk in pd.read_csv(csv_path, dtype=str, keep_default_na=False, chunksize=50_000):
        conn.executemany(
            "INSERT INTO s VALUES (?,?,?,?,?,?,?,?,?)",
            chunk[cols].itertuples(index=False, name=None),
        )
        rows += len(chunk)
    conn.commit()
    return {"rows": rows, "seconds": time.perf_counter() - start, "peak_rss_mb": _peak_rss_mb()}


def _run_child(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        fn = child_import if kind == "import" else child_baseline
        print(json.dumps(fn(*rest)))
        return

    from mastplan.chongqing import write_synthetic_structures

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        files = {}
        for n in (args.small, args.count):
            start = time.perf_counter()
            path = tmpdir / f"structures-{n}.csv"
            written = write_synthetic_structures(path, "main_city", count=n, seed=2019, density=1.0)
            gen = time.perf_counter() - start
            files[n] = path
            print(
                f"generated {written:,} structures in {gen:.1f} s "
                f"({written / gen:,.0f}/s, {path.stat().st_size / 1e6:.0f} MB)",
                flush=True,
            )
        results = []
        for n in (args.small, args.count):
            r = _run_child("import", str(files[n]), f"sqlite:///{tmpdir}/import-{n}.db")
            results.append(("mastplan import, SQLite", n, r))
            print(results[-1], flush=True)
        if args.postgres_url:
            r = _run_child("import", str(files[args.count]), args.postgres_url)
            results.append(("mastplan import, PostgreSQL", args.count, r))
            print(results[-1], flush=True)
        base = _run_child("baseline", str(files[args.count]), str(tmpdir / "baseline.db"))
        results.append(("baseline: pandas parse + bare sqlite3 insert", args.count, base))

    print("\n| what | rows | seconds | rows/s | peak RSS MB | time / baseline |")
    print("|---|---:|---:|---:|---:|---:|")
    for what, _n, r in results:
        ratio = (r["seconds"] / r["rows"]) / (base["seconds"] / base["rows"])
        print(
            f"| {what} | {r['rows']:,} | {r['seconds']:.1f} | {r['rows'] / r['seconds']:,.0f} "
            f"| {r['peak_rss_mb']:.0f} | {ratio:.2f} |"
        )
    small, big = results[0][2], results[1][2]
    print(
        f"\npeak memory, {args.count:,} rows / {args.small:,} rows: "
        f"{big['peak_rss_mb'] / small['peak_rss_mb']:.2f} (1.0 = bounded by the batch)"
    )


if __name__ == "__main__":
    main()
