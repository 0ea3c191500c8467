"""Imports on PostgreSQL go in by COPY, in the import's one transaction: all or nothing, one
audit entry, and the same rows as the executemany path and as SQLite."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mastplan.errors import ImportValidationError
from mastplan.io.importer import import_layer
from mastplan.registry import bulk
from mastplan.registry.db import init_db, make_engine, session_factory
from mastplan.registry.models import AuditEntry, Organisation, Structure

N = 2_500
# A 0.04° × 0.04° patch of 渝中区/江北区 (inside the city; 主城 districts)
LON0, LAT0 = 106.53, 29.54
COLUMNS = ["external_id", "kind", "owner", "lon_deg", "lat_deg", "height_m", "mount_positions",
           "max_payload_kg", "available_power_kw", "fibre", "open_for_sharing", "name"]  # fmt: skip
KINDS = ["lamp_pole", "telecom_tower", "cctv_pole", "power_pole"]
OWNERS = ["cq-street-lighting", "china-tower", "cq-gaj", "china-tower"]
# what an import writes, compared between databases and paths (ids and times differ)
ROW = (Structure.external_id, Structure.name, Structure.kind, Organisation.code,
       Structure.district_code, Structure.lon_deg, Structure.lat_deg, Structure.height_m,
       Structure.mount_positions, Structure.max_payload_kg, Structure.available_power_kw,
       Structure.fibre, Structure.open_for_sharing, Structure.status, Structure.synthetic,
       Structure.source, Structure.version)  # fmt: skip


def write_file(path: Path, n: int = N, bad_row: int | None = None, height: float = 12.0) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for i in range(n):
            k = i % 4
            w.writerow([
                f"copy-{i}", KINDS[k], OWNERS[k],
                f"{LON0 + (i % 50) * 8e-4:.7f}", f"{LAT0 + (i // 50) * 8e-4:.7f}",
                "tall" if i == bad_row else height + i % 7, 1 + i % 4, 50 + i % 3, 1.5,
                "yes" if i % 2 else "no", "true", f"名 {i}" if i % 5 else "",
            ])  # fmt: skip
    return path


def rows_of(session) -> list[tuple]:
    q = (
        select(*ROW)
        .join(Organisation, Structure.owner_id == Organisation.id)
        .where(Structure.external_id.like("copy-%"))
        .order_by(Structure.external_id)
    )
    return [tuple(r) for r in session.execute(q).all()]


def counts(session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(Structure)),
        session.scalar(select(func.count()).select_from(AuditEntry)),
    )


@pytest.fixture
def copies(monkeypatch) -> list[str]:
    """The targets of every COPY the registry sends."""
    seen: list[str] = []
    real = bulk._copy_rows

    def spy(session, target, *args, **kwargs):
        seen.append(target)
        return real(session, target, *args, **kwargs)

    monkeypatch.setattr(bulk, "_copy_rows", spy)
    return seen


def test_import_lands_exactly_the_files_rows(loaded_session, actor, tmp_path, copies):
    s = loaded_session
    before = counts(s)
    path = write_file(tmp_path / "s.csv")
    res = import_layer(s, actor, path, "structures", batch_size=1_000)
    assert (res.rows, res.inserted, res.updated) == (N, N, 0)
    assert counts(s) == (before[0] + N, before[1] + 1)  # one audit entry for the import
    got = rows_of(s)
    assert len(got) == N and {r[0] for r in got} == {f"copy-{i}" for i in range(N)}
    assert got[0][0] == "copy-0" and got[0][1] is None and got[1][1] == "名 1"
    if s.get_bind().dialect.name == "postgresql":
        assert copies == ["structures"] * 3  # three batches, straight into the table
    else:
        assert copies == []  # SQLite keeps executemany
    audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "import")).all()[-1]
    assert audit.after["inserted"] == N and audit.after["rows"] == N


def test_reimport_with_changes_goes_through_staging(loaded_session, actor, tmp_path, copies):
    s = loaded_session
    import_layer(s, actor, write_file(tmp_path / "a.csv"), "structures", batch_size=1_000)
    copies.clear()
    res = import_layer(
        s, actor, write_file(tmp_path / "b.csv", height=20.0), "structures", batch_size=1_000
    )
    assert (res.inserted, res.updated) == (0, N)
    rows = rows_of(s)
    assert all(r[-1] == 2 for r in rows)  # every row changed: version 2
    assert rows[0][7] == 20.0
    if s.get_bind().dialect.name == "postgresql":
        assert len(copies) == 3 and all(t.startswith("_mastplan_stage_") for t in copies)
    # the same file again changes nothing
    res = import_layer(
        s, actor, write_file(tmp_path / "c.csv", height=20.0), "structures", batch_size=1_000
    )
    assert (res.inserted, res.updated) == (0, N)
    assert all(r[-1] == 2 for r in rows_of(s))


def test_bad_row_in_a_late_batch_leaves_nothing(loaded_session, actor, tmp_path, copies):
    s = loaded_session
    before = counts(s)
    path = write_file(tmp_path / "bad.csv", bad_row=N - 10)
    with pytest.raises(ImportValidationError):
        import_layer(s, actor, path, "structures", batch_size=1_000)
    if s.get_bind().dialect.name == "postgresql":
        assert copies == ["structures", "structures"]  # two batches were copied, then undone
    assert counts(s) == before and rows_of(s) == []


@pytest.mark.only_backend("postgresql")
def test_failure_mid_copy_leaves_nothing(loaded_session, actor, tmp_path, monkeypatch):
    s = loaded_session
    before = counts(s)
    real = bulk._copy_rows
    calls = []

    def fail_second(session, target, columns, records, *args, **kwargs):
        calls.append(target)
        if len(calls) == 2:
            # half of this batch reaches the server, then the connection's client fails
            records = list(records)
            real(session, target, columns, records[: len(records) // 2], *args, **kwargs)
            raise RuntimeError("client died mid-COPY")
        return real(session, target, columns, records, *args, **kwargs)

    monkeypatch.setattr(bulk, "_copy_rows", fail_second)
    with pytest.raises(RuntimeError, match="mid-COPY"):
        import_layer(s, actor, write_file(tmp_path / "s.csv"), "structures", batch_size=1_000)
    s.rollback()
    assert counts(s) == before and rows_of(s) == []


@pytest.mark.only_backend("postgresql")
def test_copy_equals_executemany_equals_sqlite(loaded_session, actor, tmp_path, backend):
    """The same file through COPY, through executemany, and into SQLite: the same rows."""
    s = loaded_session
    path = write_file(tmp_path / "s.csv")
    import_layer(s, actor, path, "structures", batch_size=1_000, write_method="copy")
    via_copy = rows_of(s)
    # the executemany path, on the same database once the copied rows are gone
    with session_factory(s.get_bind())() as s2:
        s2.execute(Structure.__table__.delete().where(Structure.external_id.like("copy-%")))
        s2.commit()
        import_layer(s2, actor, path, "structures", batch_size=1_000, write_method="executemany")
        via_executemany = rows_of(s2)
    assert via_executemany == via_copy
    # SQLite, from scratch with the same reference data
    lite = make_engine(f"sqlite:///{tmp_path / 'lite.db'}")
    init_db(lite)
    from mastplan.chongqing import LoadOptions, load_chongqing

    with session_factory(lite)() as s3:
        load_chongqing(s3, actor, LoadOptions(synthetic=False))
        import_layer(s3, actor, path, "structures", batch_size=1_000)
        via_sqlite = rows_of(s3)
    lite.dispose()
    assert via_sqlite == via_copy


@pytest.mark.only_backend("sqlite")
def test_copy_needs_postgresql(session):
    with pytest.raises(ValueError, match="COPY needs PostgreSQL"):
        bulk.upsert(session, Structure.__table__, [{"external_id": "x"}], method="copy")
