"""NR link quantities: table values and hand-worked numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mastplan.radio import nr

# ---------------------------------------------------------------------------------------------
# N_RB, TS 38.101-1 Table 5.3.2-1


@pytest.mark.parametrize(
    ("bandwidth_mhz", "scs_khz", "expected"),
    [
        (100, 30, 273),
        (20, 15, 106),
        (40, 30, 106),
        (10, 15, 52),
        (5, 15, 25),
        (50, 15, 270),
        (5, 30, 11),
        (60, 30, 162),
        (10, 60, 11),
        (100, 60, 135),
    ],
)
def test_n_rb_table_values(bandwidth_mhz, scs_khz, expected):
    assert nr.n_rb(bandwidth_mhz, scs_khz) == expected
    assert isinstance(nr.n_rb(bandwidth_mhz, scs_khz), int)


def test_n_rb_is_vectorised_and_broadcasts():
    out = nr.n_rb(np.array([[20, 40], [100, 10]]), np.array([[15, 30], [30, 15]]))
    np.testing.assert_array_equal(out, [[106, 106], [273, 52]])
    np.testing.assert_array_equal(nr.n_rb([20, 50, 100], 30), [51, 133, 273])


@pytest.mark.parametrize(
    ("bandwidth_mhz", "scs_khz"), [(100, 15), (60, 15), (5, 60), (33, 30), (20, 120), (20.5, 30)]
)
def test_n_rb_unsupported_combination_names_it(bandwidth_mhz, scs_khz):
    with pytest.raises(ValueError, match=rf"{bandwidth_mhz:g} MHz .* {scs_khz:g} kHz"):
        nr.n_rb(bandwidth_mhz, scs_khz)


def test_n_rb_array_with_one_bad_pair_raises():
    with pytest.raises(ValueError, match="100 MHz"):
        nr.n_rb([20, 100], [15, 15])


def test_n_rb_table_fits_inside_the_channel():
    # Sanity of the transcription: rows grow with the bandwidth and the occupied bandwidth
    # 12 * N_RB * SCS leaves a positive guard band on each side.
    for scs, row in nr.NRB_FR1.items():
        bws = sorted(row)
        assert [row[b] for b in bws] == sorted(row[b] for b in bws)
        for bw, n in row.items():
            guard_khz = (bw * 1000 - 12 * n * scs) / 2
            assert guard_khz > scs / 2, (scs, bw)


# ---------------------------------------------------------------------------------------------
# RSRP, noise, SINR


def test_rsrp_of_53_dbm_over_100_mhz_at_30_khz():
    # 273 RB * 12 = 3276 subcarriers; 10*log10(3276) = 35.1534 dB.
    expected = 53 - 10 * math.log10(12 * 273)
    assert nr.rsrp_dbm(53, 100, 30) == pytest.approx(expected, abs=1e-12)
    assert nr.rsrp_dbm(53, 100, 30) == pytest.approx(17.8466, abs=1e-4)


def test_rsrp_adds_gains_and_ssb_boost_and_broadcasts():
    gains = np.array([[-100.0, -120.0], [-90.0, 0.0]])
    out = nr.rsrp_dbm(46, 20, 15, gains_db=gains, ssb_boost_db=3)
    base = 46 - 10 * math.log10(12 * 106) + 3
    np.testing.assert_allclose(out, base + gains)


def test_noise_per_re_at_30_khz_nf_7():
    # -174 + 10*log10(30e3) + 7 = -174 + 44.771 + 7
    expected = -174 + 10 * math.log10(30e3) + 7
    assert nr.noise_per_re_dbm(30, 7.0) == pytest.approx(expected, abs=1e-12)
    assert nr.noise_per_re_dbm(30) == pytest.approx(-122.229, abs=1e-3)


def test_noise_over_the_carrier_and_snr_agree():
    n_total = nr.noise_dbm(100, 30, 7.0)
    assert n_total == pytest.approx(-174 + 10 * math.log10(12 * 273 * 30e3) + 7, abs=1e-12)
    # RSRP / noise-per-RE equals total power / total noise.
    snr_re = nr.rsrp_dbm(53, 100, 30, gains_db=-130) - nr.noise_per_re_dbm(30)
    snr_total = (53 - 130) - n_total
    assert snr_re == pytest.approx(snr_total, abs=1e-9)


def test_sinr_scales_interference_with_load():
    assert nr.sinr_db(1.0, 1.0, 1.0, load=1.0) == pytest.approx(10 * math.log10(1 / 2))
    assert nr.sinr_db(1.0, 1.0, 1.0, load=0.5) == pytest.approx(10 * math.log10(1 / 1.5))
    assert nr.sinr_db(1.0, 1.0, 1.0, load=0.0) == pytest.approx(0.0)
    assert nr.sinr_db(2.0, 0.0, 1.0) == pytest.approx(10 * math.log10(2))


def test_sinr_is_nan_where_there_is_no_signal_and_vectorised():
    out = nr.sinr_db(np.array([0.0, np.nan, 10.0]), np.array([1.0, 1.0, 4.0]), 1.0, load=0.25)
    assert np.isnan(out[0]) and np.isnan(out[1])
    assert out[2] == pytest.approx(10 * math.log10(10 / 2))


def test_sinr_rejects_bad_load_and_negative_power():
    with pytest.raises(ValueError, match="load"):
        nr.sinr_db(1.0, 1.0, 1.0, load=1.5)
    with pytest.raises(ValueError, match="negative"):
        nr.sinr_db(1.0, -1.0, 1.0)


def test_dbm_mw_round_trip():
    assert nr.dbm_to_mw(30) == pytest.approx(1000.0)
    assert nr.mw_to_dbm(1.0) == pytest.approx(0.0)
    assert nr.mw_to_dbm(0.0) == -math.inf


# ---------------------------------------------------------------------------------------------
# TS 38.306 §4.1.2


def test_numerology_and_symbol_duration():
    assert nr.numerology(15) == 0
    assert nr.numerology(30) == 1
    assert nr.numerology(60) == 2
    assert nr.symbol_duration_s(30) == pytest.approx(1e-3 / 28)
    with pytest.raises(ValueError, match="45"):
        nr.numerology(45)


def test_peak_rate_4_layers_256qam_273_rb_mu_1():
    # Worked by hand: T_s = 1e-3 / (14 * 2) s, so 12 * 273 / T_s = 3276 * 28000 = 91.728e6 RE/s;
    # x 4 layers x 8 bit x 1 x 948/1024 x (1 - 0.14) = 91.728 * 32 * 0.92578125 * 0.86 Mbit/s.
    hand = 91.728 * 4 * 8 * 0.92578125 * 0.86
    assert hand == pytest.approx(2337.00012, abs=1e-6)
    assert nr.peak_data_rate_mbps(273, 30, 4, 8, 1.0, 0.14) == pytest.approx(hand, rel=1e-12)


def test_peak_rate_20_mhz_15_khz_2_layers_64qam_uplink_overhead():
    # 12 * 106 / (1e-3 / 14) = 17.808e6 RE/s; x 2 x 6 x 0.75 x 948/1024 x 0.92.
    hand = 17.808 * 2 * 6 * 0.75 * 0.92578125 * 0.92
    assert nr.peak_data_rate_mbps(106, 15, 2, 6, 0.75, nr.OVERHEAD_UL_FR1) == pytest.approx(hand)
    assert hand == pytest.approx(136.5067, abs=1e-4)


def test_carrier_aggregation_is_a_sum():
    two = nr.peak_data_rate_mbps(np.array([273, 106]), np.array([30, 30]))
    assert two.sum() == pytest.approx(
        nr.peak_data_rate_mbps(273, 30) + nr.peak_data_rate_mbps(106, 30)
    )


# ---------------------------------------------------------------------------------------------
# CQI tables, TS 38.214 Tables 5.2.2.1-2 / 5.2.2.1-3


@pytest.mark.parametrize("table", [nr.CQI_TABLE_1, nr.CQI_TABLE_2])
def test_cqi_table_efficiency_is_qm_times_rate(table):
    assert [e.cqi for e in table] == list(range(1, 16))
    for e in table:
        # The table prints 4 decimals, rounding halves up (4 * 616 / 1024 = 2.40625 -> 2.4063).
        exact = e.modulation_order * e.code_rate_x1024 / 1024
        assert abs(e.efficiency - exact) <= 0.00005 + 1e-12
    effs = [e.efficiency for e in table]
    assert effs == sorted(effs)


def test_highest_mcs_efficiency_matches_r_max():
    assert nr.CQI_TABLE_2[-1].efficiency == pytest.approx(8 * nr.R_MAX, abs=1e-4)
    assert nr.CQI_TABLE_1[-1].efficiency == pytest.approx(6 * nr.R_MAX, abs=1e-4)
    assert list(nr.CQI_TABLE_1_SINR_DB) == sorted(nr.CQI_TABLE_1_SINR_DB)


# ---------------------------------------------------------------------------------------------
# SINR -> spectral efficiency -> throughput


def test_shannon_spectral_efficiency_hand_values():
    assert nr.spectral_efficiency(0.0) == pytest.approx(0.6)  # 0.6 * log2(1 + 1)
    assert nr.spectral_efficiency(-10.0) == pytest.approx(0.6 * math.log2(1.1))
    assert nr.spectral_efficiency(-10.01) == 0.0
    assert nr.spectral_efficiency(60.0) == pytest.approx(8 * 948 / 1024)
    assert nr.spectral_efficiency(60.0, modulation_order=6) == pytest.approx(6 * 948 / 1024)


def test_cqi_spectral_efficiency_staircase():
    se = nr.spectral_efficiency(np.array([-7.0, -6.7, 8.0, 8.1, 22.7, 40.0]), "cqi")
    np.testing.assert_allclose(se, [0.0, 0.1523, 1.4766, 1.9141, 5.5547, 5.5547])
    assert nr.spectral_efficiency(40.0, "cqi", modulation_order=4) == pytest.approx(2.4063)


def test_spectral_efficiency_rejects_unknown_model_and_order():
    with pytest.raises(ValueError, match="model"):
        nr.spectral_efficiency(0.0, "mystery")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="modulation order"):
        nr.spectral_efficiency(0.0, modulation_order=10)


def test_throughput_hand_worked_point():
    # SINR 0 dB: SE = 0.6 bit/RE; 4 layers x 0.6 x 91.728e6 RE/s x 0.86 = 189.326592 Mbit/s.
    assert nr.downlink_throughput_mbps(0.0, 100, 30) == pytest.approx(4 * 0.6 * 91.728 * 0.86)


def test_throughput_is_capped_at_the_38306_peak_and_nan_stays_nan():
    sinr = np.array([np.nan, -30.0, 0.0, 20.0, 40.0, 80.0])
    peak = nr.peak_data_rate_mbps(273, 30)
    for model in ("shannon", "cqi"):
        out = nr.downlink_throughput_mbps(sinr, 100, 30, model=model)
        assert np.isnan(out[0])
        assert out[1] == 0.0
        assert np.all(out[1:] <= peak * (1 + 1e-12))
    assert nr.downlink_throughput_mbps(40.0, 100, 30) == pytest.approx(peak)
    assert nr.downlink_throughput_mbps(80.0, 100, 30, model="cqi") == pytest.approx(
        nr.peak_data_rate_mbps(273, 30, modulation_order=6), rel=1e-4
    )


def test_throughput_keeps_raster_shape():
    sinr = np.full((3, 4), 5.0)
    assert nr.downlink_throughput_mbps(sinr, 20, 15, layers=2).shape == (3, 4)


@settings(max_examples=200, deadline=None)
@given(
    a=st.floats(-60, 80, allow_nan=False),
    b=st.floats(-60, 80, allow_nan=False),
    model=st.sampled_from(["shannon", "cqi"]),
    layers=st.integers(1, 8),
    carrier=st.sampled_from([(100, 30), (20, 15), (40, 30), (100, 60)]),
)
def test_throughput_is_monotone_in_sinr_and_bounded(a, b, model, layers, carrier):
    lo, hi = sorted((a, b))
    bw, scs = carrier
    t_lo = nr.downlink_throughput_mbps(lo, bw, scs, layers, model=model)
    t_hi = nr.downlink_throughput_mbps(hi, bw, scs, layers, model=model)
    assert 0.0 <= t_lo <= t_hi
    assert t_hi <= nr.peak_data_rate_mbps(nr.n_rb(bw, scs), scs, layers) * (1 + 1e-12)


# ---------------------------------------------------------------------------------------------
# Carrier


def test_carrier_properties():
    c = nr.Carrier(bandwidth_mhz=100, scs_khz=30, f_ghz=3.5)
    assert c.n_rb == 273
    assert c.n_subcarriers == 3276
    assert c.numerology == 1
    assert c.occupied_bandwidth_hz == pytest.approx(98.28e6)
    assert c.rsrp_offset_db == pytest.approx(-10 * math.log10(3276))
    assert c.rsrp_dbm(53) == pytest.approx(nr.rsrp_dbm(53, 100, 30))
    assert c.noise_per_re_dbm() == pytest.approx(nr.noise_per_re_dbm(30))
    assert c.noise_dbm() == pytest.approx(nr.noise_dbm(100, 30))
    assert c.peak_data_rate_mbps() == pytest.approx(nr.peak_data_rate_mbps(273, 30))
    assert c.downlink_throughput_mbps(0.0) == pytest.approx(
        nr.downlink_throughput_mbps(0.0, 100, 30)
    )


def test_carrier_validates():
    with pytest.raises(ValueError, match="100 MHz"):
        nr.Carrier(100, 15, 2.1)
    with pytest.raises(ValueError, match="FR1"):
        nr.Carrier(100, 30, 28.0)
