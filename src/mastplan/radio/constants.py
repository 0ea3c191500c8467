"""Physical constants of the radio engine."""

SPEED_OF_LIGHT_M_PER_S = 299_792_458.0  # exact (SI); TR 38.901 breakpoint distances use it
THERMAL_NOISE_DBM_PER_HZ = -174.0  # kT at 290 K, rounded as 3GPP does
