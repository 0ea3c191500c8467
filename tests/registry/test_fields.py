"""Validation of layer fields: every bad value is reported with its row and field."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from mastplan.registry.fields import STRUCTURE_FIELDS, RowErrors, validate_frame

GOOD = {
    "external_id": "a-1",
    "kind": "lamp_pole",
    "owner": "cq-street-lighting",
    "lon_deg": "106.55",
    "lat_deg": "29.56",
    "height_m": "12",
    "mount_positions": "2",
    "max_payload_kg": "40",
    "available_power_kw": "1.5",
}


def check(rows: list[dict]) -> tuple[pd.DataFrame, np.ndarray, RowErrors]:
    errors = RowErrors("in.csv")
    clean, bad = validate_frame(
        pd.DataFrame(rows), STRUCTURE_FIELDS, np.arange(1, len(rows) + 1), errors
    )
    return clean, bad, errors


def test_good_row_converts_and_fills_defaults():
    clean, bad, errors = check([GOOD])
    assert not errors and not bad.any()
    row = clean.iloc[0]
    assert row["height_m"] == 12.0 and row["mount_positions"] == 2
    assert row["fibre"] is np.False_ or row["fibre"] is False
    assert row["open_for_sharing"] and row["status"] == "in_service"


def test_aliases_and_case():
    clean, _, errors = check(
        [
            {
                **{k: v for k, v in GOOD.items() if k not in ("lon_deg", "lat_deg")},
                "Longitude": "106.5",
                "LAT": "29.5",
                "kind": " Lamp_Pole ",
            }
        ]
    )
    assert not errors
    assert clean.iloc[0]["lon_deg"] == 106.5 and clean.iloc[0]["kind"] == "lamp_pole"


def test_each_problem_names_row_and_field():
    rows = [
        GOOD,
        {**GOOD, "height_m": "-3"},
        {**GOOD, "kind": "tree"},
        {**GOOD, "mount_positions": "1.5"},
        {**GOOD, "lon_deg": "east"},
        {**GOOD, "external_id": ""},
        {**GOOD, "fibre": "perhaps"},
    ]
    _, bad, errors = check(rows)
    found = {(e.row, e.field) for e in errors.items}
    assert found == {
        (2, "height_m"),
        (3, "kind"),
        (4, "mount_positions"),
        (5, "lon_deg"),
        (6, "external_id"),
        (7, "fibre"),
    }
    assert bad.tolist() == [False, True, True, True, True, True, True]
    assert "in.csv: row 2: field 'height_m': must be > 0" in str(
        next(e for e in errors.items if e.row == 2)
    )


def test_missing_required_column_is_reported():
    row = {k: v for k, v in GOOD.items() if k != "height_m"}
    _, bad, errors = check([row, row])
    assert bad.all()
    assert [e.field for e in errors.items] == ["height_m"]
    assert "missing" in errors.items[0].message


VALUES = st.one_of(
    st.text(max_size=12),
    st.integers(),
    st.floats(allow_nan=True),
    st.none(),
    st.booleans(),
    st.sampled_from(list(GOOD.values())),
)
ROWS = st.fixed_dictionaries(
    {f.name: VALUES for f in STRUCTURE_FIELDS if f.required},
    optional={f.name: VALUES for f in STRUCTURE_FIELDS if not f.required} | {"junk": VALUES},
)


@settings(max_examples=200, deadline=None)
@given(st.lists(ROWS, min_size=1, max_size=8))
def test_validation_never_crashes_and_flags_exactly_the_reported_rows(rows):
    frame = pd.DataFrame(rows)
    errors = RowErrors("fuzz.csv", keep=10_000)
    clean, bad = validate_frame(frame, STRUCTURE_FIELDS, np.arange(1, len(rows) + 1), errors)
    assert len(clean) == len(rows)
    reported = {e.row for e in errors.items}
    assert reported == {i + 1 for i in np.flatnonzero(bad)}
    assert all(
        e.file == "fuzz.csv" and e.field in {f.name for f in STRUCTURE_FIELDS} for e in errors.items
    )
