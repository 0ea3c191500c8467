"""Benchmark: the registry at a million structures, SQLite against PostgreSQL + PostGIS.

One run, one synthetic inventory (``mastplan synth structures`` over 主城都市区, the import
format), into fresh databases that hold the Chongqing reference data:

* **import**: PostgreSQL by ``COPY`` (the default there), PostgreSQL by ``executemany`` (the path
  before ``COPY``: the baseline, same file, same run) and SQLite (``executemany``);
* **bbox**: map-like windows (``--windows-km``) centred on random structures; on PostgreSQL the
  lon/lat range predicate (B-tree) against ``registry.queries.in_bbox`` (GiST), on SQLite its
  B-tree range predicate; then the API's structures page (``list_structures``, 1,000 features,
  called in-process: SQL and the JSON encoded from the rows, no HTTP) against the same page
  also put through its response model (one model per feature, validated and serialised: what
  the endpoint cost before it encoded pages itself);
* **radius**: ``registry.queries.within_m`` (``--radius-m``) around random structures;
* **export**: ``mastplan export structures`` to CSV (streamed: server-side cursor on PostgreSQL)
  with its peak memory over the process's memory before it, against reading the same query
  with ``.all()``.

Every phase is time-boxed (``--phase-seconds``); each import and each export runs in its own
process, so its peak RSS is its own. Prints Markdown tables; record them in docs/performance.md.

    python benchmarks/db_scale.py --count 100000                       # SQLite only, ~1 min
    scripts/test-postgres.sh .venv/bin/python benchmarks/db_scale.py --count 1000000 --postgres
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from import_structures import _peak_rss_mb, child_import  # the same import child

PG_ENV = "MASTPLAN_TEST_POSTGRES_URL"


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return math.nan


# --- children ---------------------------------------------------------------------------------


def _timed(fn, seconds: float, max_n: int) -> list[float]:
    """Latencies in ms of ``fn(i)`` for i = 0, 1, … until the time box or ``max_n`` runs."""
    out: list[float] = []
    stop = time.perf_counter() + seconds
    i = 0
    while i < max_n and (time.perf_counter() < stop or i < 3):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1000.0)
        i += 1
    return out


def _summary(ms: list[float], rows: list[int]) -> dict:
    q = statistics.quantiles(ms, n=20) if len(ms) >= 2 else [ms[0]] * 19
    return {
        "n": len(ms),
        "qps": 1000.0 * len(ms) / sum(ms),
        "p50_ms": statistics.median(ms),
        "p95_ms": q[18],
        "rows_mean": statistics.fmean(rows) if rows else 0.0,
    }


def child_queries(url: str, windows_km: str, radius_m: str, seconds: str, seed: str) -> dict:
    import numpy as np
    from sqlalchemy import func, select

    from mastplan.api.routes.registry import FeatureCollection, StructureProps, list_structures
    from mastplan.registry.db import make_engine, session_factory
    from mastplan.registry.enums import UserRole
    from mastplan.registry.models import Structure, User
    from mastplan.registry.queries import in_bbox, within_m

    engine = make_engine(url)
    dialect = engine.dialect.name
    box_s = float(seconds)
    out: dict = {"dialect": dialect}
    with session_factory(engine)() as s:
        n = s.scalar(select(func.count()).select_from(Structure))
        max_id = s.scalar(select(func.max(Structure.id)))
        rng = np.random.default_rng(int(seed))
        centres = []
        while len(centres) < 400:  # random structures as window centres (dense where they are)
            ids = rng.integers(1, max_id + 1, 800).tolist()
            rows = s.execute(
                select(Structure.lon_deg, Structure.lat_deg).where(Structure.id.in_(ids))
            ).all()
            centres.extend(rows)
        out["structures"] = n

        def window(i: int, km: float) -> tuple[float, float, float, float]:
            lon, lat = centres[i % len(centres)]
            dlat = km / 2 / 110.574
            dlon = km / 2 / (111.320 * math.cos(math.radians(lat)))
            return (lon - dlon, lat - dlat, lon + dlon, lat + dlat)

        forms = {"range": "sqlite", "gist": "postgresql"} if dialect == "postgresql" else {
            "range": "sqlite"
        }  # fmt: skip
        out["bbox"] = {}
        for km in (float(k) for k in windows_km.split(",")):
            for form, pred_dialect in forms.items():
                counts: list[int] = []

                def run(i: int, km=km, pred_dialect=pred_dialect, counts=counts) -> None:
                    q = select(Structure.id, Structure.lon_deg, Structure.lat_deg).where(
                        in_bbox(pred_dialect, Structure, window(i, km))
                    )
                    counts.append(len(s.execute(q).all()))

                run(0)  # warm
                counts.clear()
                out["bbox"][f"{km:g}|{form}"] = _summary(_timed(run, box_s, 2000), counts)
        who = type("Who", (), {"user": User(name="bench", role=UserRole.REGULATOR)})()
        page_model = FeatureCollection[StructureProps]
        for key, through_models in (("api_1km", False), ("api_1km_models", True)):
            api_counts: list[int] = []

            def api(i: int, through_models=through_models, api_counts=api_counts) -> None:
                b = ",".join(f"{v:.7f}" for v in window(i, 1.0))
                body = list_structures(who, s, bbox=b, limit=1000).body
                if through_models:  # the baseline: the page through its response model
                    body = page_model.model_validate_json(body).model_dump_json().encode()
                api_counts.append(body.count(b'"type":"Feature",'))

            api(0)
            api_counts.clear()
            out[key] = _summary(_timed(api, box_s, 2000), api_counts)
        r = float(radius_m)
        radius_counts: list[int] = []

        def radius(i: int) -> None:
            lon, lat = centres[i % len(centres)]
            q = select(Structure.id).where(within_m(s, Structure, lon, lat, r))
            radius_counts.append(len(s.execute(q).all()))

        radius(0)
        radius_counts.clear()
        out["radius"] = _summary(_timed(radius, box_s, 2000), radius_counts)
    return out


def child_export(url: str, out_path: str, mode: str) -> dict:
    from sqlalchemy.orm import Session  # noqa: F401  (imported before the baseline RSS)

    from mastplan.io import exporter
    from mastplan.registry.db import make_engine, session_factory

    engine = make_engine(url)
    with session_factory(engine)() as s:
        s.execute(exporter._structures().limit(10)).all()  # connect, compile, import
        before = _rss_mb()
        start = time.perf_counter()
        if mode == "stream":
            rows = exporter.export_layer(s, "structures", "csv", Path(out_path))
        else:  # the same query, all rows fetched at once (what streaming avoids)
            rows = len(s.execute(exporter._structures()).all())
        seconds = time.perf_counter() - start
    return {
        "rows": rows,
        "seconds": seconds,
        "rss_before_mb": before,
        "peak_rss_mb": _peak_rss_mb(),
        "growth_mb": _peak_rss_mb() - before,
    }


CHILDREN = {"import": child_import, "queries": child_queries, "export": child_export}


def _run_child(*args: str, timeout: float) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- driver -----------------------------------------------------------------------------------


def _pg_database(base: str, name: str) -> str:
    from sqlalchemy import create_engine, make_url, text

    admin = create_engine(make_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres",
        action="store_true",
        help=f"also PostgreSQL, on the server of ${PG_ENV} (scripts/test-postgres.sh sets it)",
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip PG executemany")
    parser.add_argument("--windows-km", default="0.5,1,2,5")
    parser.add_argument("--radius-m", type=float, default=500.0)
    parser.add_argument("--phase-seconds", type=float, default=8.0)
    parser.add_argument("--import-timeout", type=float, default=1200.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        print(json.dumps(CHILDREN[kind](*rest)))
        return

    from mastplan.chongqing import write_synthetic_structures

    targets: list[tuple[str, str, str]] = []  # (label, url, import method)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        if args.postgres:
            base = os.environ.get(PG_ENV)
            if not base:
                sys.exit(f"--postgres needs ${PG_ENV} (run under scripts/test-postgres.sh)")
            targets.append(("PostgreSQL, COPY", _pg_database(base, "bench_copy"), "auto"))
            if not args.no_baseline:
                targets.append(
                    ("PostgreSQL, executemany", _pg_database(base, "bench_many"), "executemany")
                )
        targets.append(("SQLite", f"sqlite:///{tmpdir}/bench.db", "auto"))

        start = time.perf_counter()
        path = tmpdir / "structures.csv"
        written = write_synthetic_structures(
            path, "main_city", count=args.count, seed=2019, density=1.0
        )
        gen_s = time.perf_counter() - start
        print(f"generated {written:,} structures in {gen_s:.1f} s", flush=True)

        imports = {}
        for label, url, method in targets:
            imports[label] = _run_child(
                "import", str(path), url, method, timeout=args.import_timeout
            )
            print(label, "import", imports[label], flush=True)
        phase_timeout = 60 + args.phase_seconds * 20
        queries, exports = {}, {}
        for label, url, _ in targets:
            if label == "PostgreSQL, executemany":
                continue  # the same rows as COPY: queried once
            queries[label] = _run_child(
                "queries", url, args.windows_km, str(args.radius_m), str(args.phase_seconds),
                str(args.seed), timeout=phase_timeout,
            )  # fmt: skip
            print(label, "queries", json.dumps(queries[label]), flush=True)
            for mode in ("stream", "all"):
                exports[label, mode] = _run_child(
                    "export", url, str(tmpdir / "export.csv"), mode, timeout=args.import_timeout
                )
                print(label, "export", mode, exports[label, mode], flush=True)

    _report(args, imports, queries, exports)


def _report(args, imports: dict, queries: dict, exports: dict) -> None:
    print(f"\n### Import of {args.count:,} structures\n")
    print("| what | rows | seconds | rows/s | peak RSS MB | time / PG executemany |")
    print("|---|---:|---:|---:|---:|---:|")
    base = imports.get("PostgreSQL, executemany")
    for label, r in imports.items():
        ratio = f"{r['seconds'] / base['seconds']:.2f}" if base else "–"
        print(
            f"| {label} | {r['rows']:,} | {r['seconds']:.1f} | {r['rows'] / r['seconds']:,.0f} "
            f"| {r['peak_rss_mb']:.0f} | {ratio} |"
        )
    print(f"\n### bbox queries (ids + lon/lat of every structure in the window; "
          f"{args.phase_seconds:g} s per phase)\n")  # fmt: skip
    print("| database | predicate | window | mean rows | queries/s | p50 / p95 ms | "
          "q/s / range form |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|")
    for label, q in queries.items():
        for key, r in q["bbox"].items():
            km, form = key.split("|")
            ref = q["bbox"][f"{km}|range"]
            name = {"range": "lon/lat range (B-tree)", "gist": "geom && envelope (GiST)"}[form]
            print(
                f"| {label} | {name} | {km} km | {r['rows_mean']:,.0f} | {r['qps']:,.1f} | "
                f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f} | {r['qps'] / ref['qps']:.2f} |"
            )
    print("\n### API page and radius\n")
    print("| database | query | mean rows | queries/s | p50 / p95 ms |")
    print("|---|---|---:|---:|---:|")
    for label, q in queries.items():
        for key, name in (("api_1km", "`list_structures` 1 km bbox, ≤ 1,000 features"),
                          ("api_1km_models", "same page through its response model (baseline)"),
                          ("radius", f"`within_m` {args.radius_m:g} m")):  # fmt: skip
            r = q[key]
            print(
                f"| {label} | {name} | {r['rows_mean']:,.0f} | {r['qps']:,.1f} | "
                f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f} |"
            )
    print("\n### Export of all structures\n")
    print("| database | how | rows | seconds | rows/s | RSS before MB | peak RSS MB | growth MB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for (label, mode), r in exports.items():
        how = "`mastplan export` to CSV (streamed)" if mode == "stream" else "same query, `.all()`"
        print(
            f"| {label} | {how} | {r['rows']:,} | {r['seconds']:.1f} | "
            f"{r['rows'] / r['seconds']:,.0f} | {r['rss_before_mb']:.0f} | "
            f"{r['peak_rss_mb']:.0f} | {r['growth_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
