"""mastplan.radio: the radio engine, a pure core (arrays in, arrays out; no database, no files).

TR 38.901 propagation and antennas, terrain diffraction, NR link quantities and coverage
prediction over grids.
"""
