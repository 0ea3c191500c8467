"""Load on the web platform: the map's bbox query over a large inventory and the sharing
workflow, through HTTP on 127.0.0.1, against a baseline measured in the same run.

Sets up a fresh database (SQLite file, or the PostgreSQL URL given), loads the Chongqing
districts and organisations, imports ``--structures`` synthetic structures over the main
city districts, starts ``mastplan serve`` in a subprocess, then drives it with ``--clients``
concurrent asyncio clients (httpx) for ``--seconds`` per phase:

* baseline: ``GET /api/v1/auth/me`` (authentication and JSON, no query);
* map: ``GET /api/v1/structures?bbox=…`` for random 1 km windows of the main city (≤ 1,000
  features a page, as the UI asks);
* workflow: an operator files and submits a request, the owner reviews and approves it (three
  writes, each audited; approval books capacity under the structure's row lock).

Prints requests per second and p50/p95 latency per phase, and the ratios to the baseline.

    python benchmarks/api_load.py --postgres-url postgresql+psycopg://…/db --structures 1000000
    python benchmarks/api_load.py --structures 100000            # SQLite file in a temp folder
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import create_engine, make_url, text

BIN = Path(sys.executable).parent
# a 1 km window is about 0.0104° of longitude and 0.009° of latitude at 29.5°N
WINDOW_DEG = (0.0104, 0.009)
CHONGQING = (105.2, 28.1, 110.2, 32.3)  # lon/lat box of the city


def sh(*args: str, stdin: str | None = None) -> str:
    out = subprocess.run([str(BIN / "mastplan"), *args], input=stdin, capture_output=True,
                         text=True, check=False)  # fmt: skip
    if out.returncode:
        raise SystemExit(f"mastplan {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def setup(url: str, structures: int, work: Path) -> dict[str, str]:
    """A loaded database with users and tokens; returns the tokens by role."""
    t0 = time.perf_counter()
    sh("init", "-d", url)
    sh("load", "chongqing", "--no-synthetic", "--no-demo", "-d", url)
    csv = work / "structures.csv"
    sh("synth", "structures", "--out", str(csv), "--districts", "main_city",
       "--count", str(structures))  # fmt: skip
    sh("import", str(csv), "--layer", "structures", "-d", url)
    tokens = {}
    for name, org, role in (("bench.reg", "cq-cac", "regulator"),
                            ("bench.op", "china-mobile", "operator"),
                            ("bench.tower", "china-tower", "owner")):  # fmt: skip
        sh("user", "add", name, "--org", org, "--role", role, "-d", url)
        out = sh("token", "create", f"load-{name}", "--user", name, "--scope", "read",
                 "--scope", "write", "-d", url)  # fmt: skip
        tokens[role] = out.strip()
    print(f"setup: {structures:,} structures imported and users made in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)  # fmt: skip
    return tokens


def check(r: httpx.Response) -> None:
    """Stop the run on an error answer, saying what the server said."""
    if r.status_code >= 400:
        raise SystemExit(f"{r.request.method} {r.request.url}: {r.status_code} {r.text}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def drive(base: str, clients: int, seconds: float, one) -> list[float]:
    """Run ``one(client)`` in ``clients`` concurrent loops for ``seconds``; latencies in s."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def loop() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                await one(client)
                latencies.append(time.perf_counter() - t)

    await asyncio.gather(*(loop() for _ in range(clients)))
    return latencies


def summary(name: str, lat: list[float], seconds: float, ops_per_call: int = 1) -> dict:
    arr = np.asarray(lat)
    row = {
        "phase": name,
        "calls": len(arr),
        "requests_per_s": round(len(arr) * ops_per_call / seconds, 1),
        "p50_ms": round(float(np.percentile(arr, 50)) * 1000, 1) if len(arr) else None,
        "p95_ms": round(float(np.percentile(arr, 95)) * 1000, 1) if len(arr) else None,
    }
    print(json.dumps(row), flush=True)
    return row


async def run(base: str, tokens: dict[str, str], clients: int, seconds: float) -> list[dict]:
    auth = {role: {"Authorization": f"Bearer {t}"} for role, t in tokens.items()}
    rng = random.Random(2019)
    rows = []

    async def me(client):
        r = await client.get("/api/v1/auth/me", headers=auth["regulator"])
        check(r)

    # where structures are: map windows open around them, requests go to China Tower's towers
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        everywhere = ",".join(map(str, CHONGQING))
        r = await client.get("/api/v1/structures", headers=auth["regulator"],
                             params={"bbox": everywhere, "limit": 5000})  # fmt: skip
        check(r)
        spots = [f["geometry"]["coordinates"] for f in r.json()["features"]]
        query = {"bbox": everywhere, "kind": "telecom_tower", "limit": 5000}
        r = await client.get("/api/v1/structures", headers=auth["regulator"], params=query)
        check(r)
        towers = [p["external_id"] for p in (f["properties"] for f in r.json()["features"])
                  if p["owner"] == "china-tower" and p["open_for_sharing"]
                  and p["free_positions"] > 0]  # fmt: skip
    rng.shuffle(towers)

    async def bbox(client):
        w, h = WINDOW_DEG
        x, y = rng.choice(spots)
        window = f"{x - w / 2:.6f},{y - h / 2:.6f},{x + w / 2:.6f},{y + h / 2:.6f}"
        r = await client.get("/api/v1/structures", headers=auth["regulator"],
                             params={"bbox": window, "limit": 1000})  # fmt: skip
        check(r)

    async def workflow(client):
        tower = towers.pop()
        r = await client.post("/api/v1/sharing/requests", headers=auth["operator"],
                              json={"structure": tower, "position_count": 1, "payload_kg": 30,
                                    "power_kw": 1.0, "submit": True})  # fmt: skip
        check(r)
        rid = r.json()["id"]
        for action in ("review", "approve"):
            r = await client.post(f"/api/v1/sharing/requests/{rid}/{action}",
                                  headers=auth["owner"])  # fmt: skip
            check(r)

    for name, one, ops in (("baseline /auth/me", me, 1), ("map bbox 1 km", bbox, 1),
                           ("workflow file+review+approve", workflow, 3)):  # fmt: skip
        lat = await drive(base, clients, seconds, one)
        rows.append(summary(name, lat, seconds, ops))
    base_rps = rows[0]["requests_per_s"]
    for row in rows[1:]:
        print(f"{row['phase']}: {row['requests_per_s'] / base_rps:.2f} × the baseline's "
              "requests per second")  # fmt: skip
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--postgres-url", help="An empty PostgreSQL + PostGIS database to fill.")
    ap.add_argument("--postgres-admin-url", default=os.environ.get("MASTPLAN_TEST_POSTGRES_URL"),
                    help="A server to make (and drop) a fresh database on [default: "
                         "MASTPLAN_TEST_POSTGRES_URL, as test-postgres.sh sets it].")  # fmt: skip
    ap.add_argument("--structures", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=15.0)
    args = ap.parse_args()
    made = None
    if not args.postgres_url and args.postgres_admin_url:
        made = f"bench_{uuid.uuid4().hex[:10]}"
        _admin(args.postgres_admin_url, f"CREATE DATABASE {made}")
        args.postgres_url = (
            make_url(args.postgres_admin_url)
            .set(database=made)
            .render_as_string(hide_password=False)
        )
    try:
        _run_all(args)
    finally:
        if made:
            _admin(args.postgres_admin_url, f"DROP DATABASE IF EXISTS {made} WITH (FORCE)")


def _admin(url: str, statement: str) -> None:
    engine = create_engine(make_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


def _run_all(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = args.postgres_url or f"sqlite:///{work / 'load.db'}"
        tokens = setup(url, args.structures, work)
        port = free_port()
        env = {**os.environ, "MASTPLAN_JOBS_WORKER": "0"}
        server = subprocess.Popen(
            [str(BIN / "mastplan"), "serve", "--port", str(port), "--insecure-cookies", "-d", url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    httpx.get(f"{base}/api/v1/openapi.json", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            backend = "PostgreSQL" if args.postgres_url else "SQLite"
            print(f"{backend}, {args.structures:,} structures, {args.clients} clients, "
                  f"{args.seconds:g} s per phase", flush=True)  # fmt: skip
            asyncio.run(run(base, tokens, args.clients, args.seconds))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
