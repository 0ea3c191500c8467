"""Cost model (data) and candidate configurations: hand-worked prices and counts."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mastplan.data.plan import PlanDataError, load_cost_model
from mastplan.planning.candidates import (
    Carrier,
    candidate_configurations,
    candidate_sectors,
    new_tower_positions,
    usable_structures,
)
from mastplan.planning.costs import CostModel


@pytest.fixture(scope="module")
def costs() -> CostModel:
    return load_cost_model()


def test_the_default_tiers_follow_the_plans_order(costs):
    c = costs.structure_cost_yuan
    assert c["telecom_tower"] < c["lamp_pole"] < c["rooftop"] < c["new_tower"]
    # China Tower 2018 terms (facts file): 30 % with 2 sharers, 40 % with 3, anchor +5 %
    assert costs.discount(np.array([1, 2, 3, 4])).tolist() == [0.0, 0.3, 0.4, 0.4]
    assert costs.anchor_tenant_markup == 0.05


def test_one_more_tenant_pays_equipment_plus_the_increase_of_the_structure_payments(costs):
    tower = costs.structure_cost_yuan["telecom_tower"]
    eq = costs.macro.equipment_cost_yuan
    got = costs.tenant_cost_yuan(
        np.array(["telecom_tower"] * 3), np.array([30.0] * 3), np.array([0, 1, 2])
    )
    # 1st: b; 2nd: 2·0.7b − b = 0.4b; 3rd: 3·0.6b − 1.4b = 0.4b (plus equipment)
    assert got == pytest.approx([eq + tower, eq + 0.4 * tower, eq + 0.4 * tower])
    new = costs.tenant_cost_yuan(np.array(["new_tower"]), np.array([35.0]), np.array([0]))
    assert new[0] == pytest.approx(eq + 1.05 * costs.structure_cost_yuan["new_tower"])
    pole = costs.tenant_cost_yuan(np.array(["lamp_pole"]), np.array([10.0]), np.array([0]))
    assert pole[0] == pytest.approx(
        costs.small_cell.equipment_cost_yuan + costs.structure_cost_yuan["lamp_pole"]
    )


def _raw() -> dict:
    from importlib import resources

    text = resources.files("mastplan.data.chongqing").joinpath("planning_costs.yaml").read_text()
    return yaml.safe_load(text)


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda d: d["structure_cost_yuan"].pop("rooftop"), "structure_cost_yuan.rooftop"),
        (lambda d: d["structure_cost_yuan"].update(rooftop="lots"), "must be a number"),
        (lambda d: d["sharing_discount"].update({2: 1.5}), "sharing_discount.2"),
        (lambda d: d["site_classes"]["macro"].update(tx_power_dbm=-5), "tx_power_dbm"),
        (lambda d: d["structure_cost_yuan"].update(castle=1), "unknown structure kind"),
    ],
)
def test_bad_cost_files_name_the_file_and_the_key(tmp_path, edit, words):
    data = copy.deepcopy(_raw())
    edit(data)
    path = tmp_path / "costs.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(PlanDataError, match=words) as info:
        load_cost_model(path)
    assert str(path) in str(info.value)


def _structures(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "external_id": [f"s{i}" for i in range(n)],
            "kind": ["telecom_tower", "lamp_pole", "rooftop", "cctv_pole"][:n],
            "x_m": np.arange(n) * 100.0,
            "y_m": np.zeros(n),
            "height_m": [35.0, 10.0, 40.0, 8.0][:n],
            "free_positions": [3, 1, 0, 1][:n],
            "free_payload_kg": [300.0, 30.0, 200.0, 10.0][:n],
            "free_power_kw": [10.0, 1.0, 5.0, 1.0][:n],
            "tenants": [1, 0, 0, 0][:n],
            "open_for_sharing": [True, True, True, True][:n],
        }
    )


def test_structures_without_capacity_are_left_out_with_the_reason(costs):
    usable, excluded = usable_structures(_structures(4), costs)
    # the rooftop has no free position, the CCTV pole 10 kg < the small cell's 20 kg
    assert usable["external_id"].tolist() == ["s0", "s1"]
    assert excluded == {"closed_for_sharing": 0, "no_capacity": 2}


def test_configurations_are_rotations_times_tilts_per_class(costs):
    usable, _ = usable_structures(_structures(2), costs)
    cands = candidate_configurations(usable, np.array([[500.0, 0.0]]), costs)
    n_rot = len(costs.azimuth_rotations_deg)
    macro, small = len(costs.macro.electrical_tilts_deg), len(costs.small_cell.electrical_tilts_deg)
    # tower (macro) + lamp (small cell) + one new tower (macro)
    assert len(cands) == n_rot * (macro + small + macro)
    assert cands.groupby("host").size().tolist() == [n_rot * macro, n_rot * small, n_rot * macro]
    assert cands[cands["new_build"]]["kind"].unique().tolist() == ["new_tower"]
    sectors = candidate_sectors(cands, Carrier("china-mobile", "n41", 2.565, 100.0), costs)
    assert len(sectors) == 3 * len(cands)
    first = sectors[sectors["candidate"] == 0]["azimuth_deg"].to_numpy()
    assert np.allclose(
        np.sort(first), np.sort((cands.loc[0, "rotation_deg"] + [0, 120, 240]) % 360)
    )
    assert set(sectors["model"]) == {"uma", "umi"}


@settings(max_examples=40, deadline=None)
@given(st.floats(-5000, 5000), st.floats(-5000, 5000), st.floats(100.0, 800.0))
def test_new_tower_lattice_is_hexagonal_and_inside(x0, y0, spacing):
    area = shapely.box(x0, y0, x0 + 3000.0, y0 + 2000.0)
    xy = new_tower_positions(area, spacing)
    assert shapely.contains_xy(area, xy[:, 0], xy[:, 1]).all()
    if len(xy) > 1:
        from scipy.spatial import cKDTree

        d, _ = cKDTree(xy).query(xy, k=2)
        assert d[:, 1].min() == pytest.approx(spacing, rel=1e-9)
    # about one position per hexagon cell (area / (√3/2·s²)), within edge effects
    expected = area.area / (np.sqrt(3) / 2 * spacing**2)
    assert abs(len(xy) - expected) <= 2 * (3000 + 2000) / spacing + 4
