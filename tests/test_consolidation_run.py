"""Tests of `mastplan consolidate`'s service (mastplan.consolidation_run) on the loaded data set."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mastplan.consolidation_run import ConsolidationOptions, kinds_names, run_consolidation
from mastplan.errors import MastplanError, NotFoundError
from mastplan.registry.models import AuditEntry, District, Structure

CENTRAL = "500103"  # 渝中区, the densest part of the loaded 2019 key areas
MERGEABLE = {"lamp_pole", "traffic_signal_pole", "cctv_pole", "power_pole"}
TO_UTM = Transformer.from_crs(4326, 32648, always_xy=True)


def _structures(session: Session, external_ids: list[str]) -> pd.DataFrame:
    """The registry's rows for these structures, read directly, projected to metres."""
    rows = session.scalars(select(Structure).where(Structure.external_id.in_(external_ids))).all()
    frame = pd.DataFrame(
        [
            {
                "external_id": s.external_id,
                "kind": str(getattr(s.kind, "value", s.kind)),
                "owner_id": s.owner_id,
                "status": str(getattr(s.status, "value", s.status)),
                "lon": s.lon_deg,
                "lat": s.lat_deg,
                "height_m": s.height_m,
            }
            for s in rows
        ]
    )
    frame["x"], frame["y"] = TO_UTM.transform(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    return frame.set_index("external_id").loc[external_ids]


def _one_chain(x: np.ndarray, y: np.ndarray, link_m: float) -> bool:
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(link_m + 1e-6, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(x),) * 2)
    return connected_components(graph, directed=False)[0] == 1


def test_central_district(loaded_session: Session, tmp_path) -> None:
    audit_before = loaded_session.scalar(select(func.count()).select_from(AuditEntry))
    summary = run_consolidation(loaded_session, CENTRAL, tmp_path)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == summary["files"] == ["clusters.csv", "clusters.gpkg", "consolidation.json"]
    assert json.loads((tmp_path / "consolidation.json").read_text(encoding="utf-8")) == summary
    assert summary["area"]["code"] == CENTRAL and summary["area"]["name_zh"] == "渝中区"
    assert summary["options"] == {"link_m": 15.0, "corridor_m": 8.0, "min_owners": 2}
    assert summary["poles"]["read"] == summary["poles"]["synthetic"] > 0
    assert summary["clusters"] > 20  # the synthetic junctions and branch roads give plenty

    table = pd.read_csv(tmp_path / "clusters.csv", dtype={"district_code": str})
    assert len(table) == summary["clusters"]
    assert table["poles_removed"].sum() == summary["poles_removed"]
    assert table["candidate_5g"].sum() == summary["candidates_5g"]
    assert (table["n_poles"] == table["poles_removed"] + 1).all()
    assert sum(v["clusters"] for v in summary["by_kinds"].values()) == summary["clusters"]
    for label, row in summary["by_kinds"].items():
        assert (row["name_zh"], row["name_en"]) == kinds_names(label)
    gpkg = pyogrio.read_dataframe(tmp_path / "clusters.gpkg", layer="clusters")
    assert len(gpkg) == len(table) and gpkg.crs.to_epsg() == 4326
    np.testing.assert_allclose(gpkg.geometry.x, table["lon_deg"])

    # every cluster, recomputed from the registry: in-service poles of ≥ 2 owners, one chain of
    # links, along one street, tallest kept; no pole in two clusters
    seen: set[str] = set()
    boundary = loaded_session.get(District, CENTRAL).boundary
    for row in table.itertuples():
        removed = row.removed_external_ids.split(";")
        ids = [row.kept_external_id, *removed]
        assert not seen & set(ids)
        seen |= set(ids)
        s = _structures(loaded_session, ids)
        assert len(s) == row.n_poles
        assert set(s["kind"]) <= MERGEABLE and (s["status"] == "in_service").all()
        assert s["owner_id"].nunique() == row.n_owners >= 2
        assert _one_chain(s["x"].to_numpy(), s["y"].to_numpy(), 15.0)
        d = np.column_stack([s["x"] - s["x"].mean(), s["y"] - s["y"].mean()])
        offsets = np.abs(d @ np.linalg.svd(d)[2][-1])
        assert offsets.max() <= 8.0 + 1e-6
        assert s["height_m"].iloc[0] == s["height_m"].max() == row.height_m
        assert shapely.contains_xy(boundary, s["lon"], s["lat"]).all()
        assert row.kinds_zh == kinds_names(row.kinds)[0]
        assert row.candidate_5g <= (row.height_m >= 8.0)
    assert len(seen) == summary["poles_in_clusters"]

    # reading only: nothing was written to the registry
    loaded_session.rollback()
    assert loaded_session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before


def test_phase_and_options(loaded_session: Session, tmp_path) -> None:
    summary = run_consolidation(loaded_session, "phase:2019", tmp_path / "wide")
    assert summary["area"]["kind"] == "phase" and summary["clusters"] > 0
    assert len(pd.read_csv(tmp_path / "wide" / "clusters.csv")) == summary["clusters"]
    narrow = run_consolidation(
        loaded_session,
        "phase:2019",
        tmp_path / "narrow",
        ConsolidationOptions(link_m=5.0, corridor_m=4.0, min_owners=2),
    )
    assert narrow["options"] == {"link_m": 5.0, "corridor_m": 4.0, "min_owners": 2}
    assert 0 < narrow["clusters"] < summary["clusters"]
    strict = run_consolidation(
        loaded_session, CENTRAL, tmp_path / "three", ConsolidationOptions(min_owners=3)
    )
    table = pd.read_csv(tmp_path / "three" / "clusters.csv")
    assert len(table) == strict["clusters"] and (table["n_owners"] >= 3).all()


def test_area_without_poles_writes_empty_files(loaded_session: Session, tmp_path) -> None:
    summary = run_consolidation(loaded_session, "500101", tmp_path)  # 万州区: no synthetic poles
    assert summary["poles"]["read"] == 0 and summary["clusters"] == 0
    assert len(pd.read_csv(tmp_path / "clusters.csv")) == 0
    assert len(pyogrio.read_dataframe(tmp_path / "clusters.gpkg")) == 0


def test_unknown_area_and_bad_options(loaded_session: Session, tmp_path) -> None:
    with pytest.raises(NotFoundError, match="nowhere"):
        run_consolidation(loaded_session, "nowhere", tmp_path)
    with pytest.raises(MastplanError, match="link_m"):
        run_consolidation(loaded_session, CENTRAL, tmp_path, ConsolidationOptions(link_m=0.0))
    assert not (tmp_path / "clusters.csv").exists()
