"""Tests of the synthetic existing-site generator (mastplan.synthetic.sites)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from mastplan.synthetic.sites import (
    OPERATORS,
    SITE_STATUSES,
    SectorBatch,
    SiteBatch,
    generate_sites,
)
from mastplan.synthetic.structures import (
    STRUCTURE_KINDS,
    StructureBatch,
    concat_structures,
    generate_structures,
)

X0, Y0 = 652_000.0, 3_268_000.0
TOWER = STRUCTURE_KINDS.index("telecom_tower")
ROOFTOP = STRUCTURE_KINDS.index("rooftop")
OP = {name: i for i, name in enumerate(OPERATORS)}

# Written out independently of the module's table: (operator, rat) -> {band: DL range MHz}.
ALLOWED = {
    ("china-mobile", "NR"): {"n41": (2515, 2675), "n79": (4800, 4900)},
    ("china-telecom", "NR"): {"n78": (3400, 3500)},
    ("china-unicom", "NR"): {"n78": (3500, 3600)},
    ("china-broadnet", "NR"): {"n28": (758, 788), "n79": (4900, 5000)},
    ("china-mobile", "LTE"): {
        "B3": (1805, 1830), "B8": (934, 949), "B39": (1880, 1920), "B40": (2320, 2370),
        "B41": (2555, 2655),
    },
    ("china-telecom", "LTE"): {"B1": (2110, 2130), "B3": (1860, 1880), "B5": (870, 880)},
    ("china-unicom", "LTE"): {"B1": (2130, 2155), "B3": (1830, 1860)},
}  # fmt: skip


@pytest.fixture(scope="module")
def structures() -> StructureBatch:
    area = shapely.box(X0, Y0, X0 + 8000, Y0 + 8000)
    return concat_structures(generate_structures(area, seed=21))


@pytest.fixture(scope="module")
def generated(structures) -> tuple[SiteBatch, SectorBatch]:
    return generate_sites(structures, seed=21)


def _records(structures: StructureBatch, sites: SiteBatch, sectors: SectorBatch) -> list[tuple]:
    """Sites keyed by (structure local_id, operator), with their sectors, order-free."""
    out = []
    for r in range(len(sites)):
        sec = np.flatnonzero(sectors.site_row == r)
        out.append(
            (
                int(structures.local_id[sites.structure_row[r]]),
                int(sites.operator[r]),
                str(sites.rat[r]),
                str(sites.band[r]),
                str(sites.status[r]),
                float(sites.carrier_frequency_mhz[r]),
                float(sites.tx_power_dbm[r]),
                tuple(sectors.azimuth_deg[sec].tolist()),
                tuple(sectors.antenna_height_m[sec].tolist()),
                tuple(sectors.electrical_tilt_deg[sec].tolist()),
            )
        )
    return sorted(out)


def test_sites_on_towers_and_some_rooftops(structures, generated):
    sites, _ = generated
    assert len(sites) > 500
    kinds = structures.kind[sites.structure_row]
    assert set(np.unique(kinds)) <= {TOWER, ROOFTOP}
    roofs = structures.kind == ROOFTOP
    hosted = np.zeros(len(structures), bool)
    hosted[sites.structure_row] = True
    assert 0.0 < hosted[roofs].mean() < 0.2


def test_one_site_per_operator_and_within_mount_positions(structures, generated):
    sites, _ = generated
    pairs = sites.structure_row * len(OPERATORS) + sites.operator
    assert len(np.unique(pairs)) == len(sites)
    per_structure = np.bincount(sites.structure_row, minlength=len(structures))
    assert np.all(per_structure <= structures.mount_positions)
    assert np.all(np.diff(sites.structure_row) >= 0)


def test_tower_tenancy_ratio(structures, generated):
    sites, _ = generated
    towers = structures.kind == TOWER
    per_structure = np.bincount(sites.structure_row, minlength=len(structures))
    ratio = per_structure[towers].mean()
    assert 1.3 <= ratio <= 2.0  # China Tower: 1.62 tenants per tower (2019)
    assert per_structure[towers].max() >= 3


def test_bands_and_frequencies_valid_per_operator(generated):
    sites, _ = generated
    seen = set()
    for op, rat, band, f, bw in zip(
        sites.operator,
        sites.rat,
        sites.band,
        sites.carrier_frequency_mhz,
        sites.bandwidth_mhz,
        strict=True,
    ):
        allowed = ALLOWED[(OPERATORS[op], str(rat))]
        assert band in allowed, (OPERATORS[op], rat, band)
        lo, hi = allowed[band]
        assert lo <= f - bw / 2 and f + bw / 2 <= hi, (band, f, bw)
        seen.add((int(op), str(band)))
    assert {
        (OP["china-mobile"], "n41"),
        (OP["china-telecom"], "n78"),
        (OP["china-unicom"], "n78"),
    } <= seen
    assert set(np.unique(sites.rat)) == {"NR", "LTE"}
    assert set(np.unique(sites.status)) <= set(SITE_STATUSES)
    nr = sites.rat == "NR"
    assert np.all((sites.tx_power_dbm[nr] >= 50) & (sites.tx_power_dbm[nr] <= 56))


def test_sectors(structures, generated):
    sites, sectors = generated
    assert len(sectors) == 3 * len(sites)
    np.testing.assert_array_equal(np.bincount(sectors.site_row), np.full(len(sites), 3))
    np.testing.assert_array_equal(np.tile([1, 2, 3], len(sites)), sectors.sector_number)
    az = sectors.azimuth_deg.reshape(-1, 3).astype(np.float64)
    assert az.min() >= 0 and az.max() < 360
    np.testing.assert_allclose(np.mod(az[:, 1] - az[:, 0], 360), 120, atol=1e-3)
    np.testing.assert_allclose(np.mod(az[:, 2] - az[:, 0], 360), 240, atol=1e-3)
    assert sectors.mechanical_tilt_deg.min() >= 0 and sectors.mechanical_tilt_deg.max() <= 6
    assert sectors.electrical_tilt_deg.min() >= 2 and sectors.electrical_tilt_deg.max() <= 9
    row = sites.structure_row[sectors.site_row]
    h = structures.height_m[row]
    on_tower = structures.kind[row] == TOWER
    drop = h[on_tower] - sectors.antenna_height_m[on_tower]
    assert drop.min() >= 1 - 1e-3 and drop.max() <= 3 + 1e-3
    assert sectors.antenna_height_m.min() >= 3


def test_deterministic_and_independent_of_order_and_company(structures, generated):
    sites, sectors = generated
    expected = _records(structures, sites, sectors)
    again = generate_sites(structures, seed=21)
    assert _records(structures, *again) == expected
    perm = np.random.default_rng(0).permutation(len(structures))
    shuffled = structures.take(perm)
    assert _records(shuffled, *generate_sites(shuffled, seed=21)) == expected
    # a subset gets exactly the sites its structures had in the full run
    subset = structures.take(np.arange(0, len(structures), 3))
    keep = set(subset.local_id.tolist())
    assert _records(subset, *generate_sites(subset, seed=21)) == [
        r for r in expected if r[0] in keep
    ]
    other = generate_sites(structures, seed=22)
    assert _records(structures, *other) != expected


def test_nr_share_extremes(structures):
    lte_only, _ = generate_sites(structures, seed=21, nr_share=0.0)
    nr = lte_only.rat == "NR"
    assert np.all(lte_only.operator[nr] == OP["china-broadnet"])  # no LTE network
    all_nr, _ = generate_sites(structures, seed=21, nr_share=1.0)
    assert np.all(all_nr.rat == "NR")
    with pytest.raises(ValueError):
        generate_sites(structures, nr_share=1.5)


def test_empty_input(structures):
    sites, sectors = generate_sites(structures.take(slice(0, 0)))
    assert len(sites) == 0 and len(sectors) == 0
    no_towers = structures.take(structures.kind == STRUCTURE_KINDS.index("lamp_pole"))
    assert len(generate_sites(no_towers)[0]) == 0
