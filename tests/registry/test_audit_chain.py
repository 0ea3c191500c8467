"""The audit log's hash chain: intact after ordinary writes, broken exactly where a row was
edited or deleted, unforked under concurrent writers, and built for entries written before it."""

from __future__ import annotations

import itertools
import threading

import pytest
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from mastplan.cli import app
from mastplan.registry.audit import GENESIS, Actor, record, verify_chain
from mastplan.registry.db import alembic_config, session_factory, transaction
from mastplan.registry.models import AuditEntry
from mastplan.registry.structures import create_structure, update_structure


def tower(i: int) -> dict:
    return {"external_id": f"chain-{i}", "kind": "telecom_tower", "owner": "china-tower",
            "lon_deg": 106.57 + i * 1e-4, "lat_deg": 29.56, "height_m": 35, "mount_positions": 3,
            "max_payload_kg": 300, "available_power_kw": 10}  # fmt: skip


def entry_ids(session) -> list[int]:
    return list(session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))


def test_writes_leave_an_intact_chain(loaded_session):
    actor = Actor("clerk", "survey", organisation="china-tower")
    for i in range(3):
        create_structure(loaded_session, actor, tower(i))
    update_structure(loaded_session, actor, "chain-1", {"height_m": 40})
    report = verify_chain(loaded_session)
    assert report.intact and report.entries == len(entry_ids(loaded_session)) >= 4
    rows = list(loaded_session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert rows[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert report.head == rows[-1].hash
    assert rows[-1].organisation == "china-tower" and rows[-1].action == "update"


EDITS = [("reason", "'nothing to see'"), ("actor", "'someone else'"), ("after", "NULL")]


@pytest.mark.parametrize("column, value", EDITS)
def test_an_edited_entry_breaks_the_chain_there(loaded_session, column, value):
    actor = Actor("clerk", "survey")
    for i in range(3):
        create_structure(loaded_session, actor, tower(i))
    ids = entry_ids(loaded_session)
    victim = ids[-2]
    with transaction(loaded_session):
        loaded_session.execute(text(f"UPDATE audit_log SET {column} = {value} WHERE id = {victim}"))
    loaded_session.expire_all()
    report = verify_chain(loaded_session)
    assert report.broken_at == victim and "content" in report.problem
    assert report.entries == ids.index(victim)


def test_a_deleted_entry_breaks_the_chain_at_the_next(loaded_session):
    actor = Actor("clerk")
    for i in range(3):
        create_structure(loaded_session, actor, tower(i))
    ids = entry_ids(loaded_session)
    with transaction(loaded_session):
        loaded_session.execute(text(f"DELETE FROM audit_log WHERE id = {ids[-2]}"))
    loaded_session.expire_all()
    report = verify_chain(loaded_session)
    assert report.broken_at == ids[-1] and "link" in report.problem


def test_a_rolled_back_savepoint_leaves_no_gap(loaded_session):
    actor = Actor("clerk")
    with transaction(loaded_session):
        create_structure(loaded_session, actor, tower(0))
        with pytest.raises(ValueError), transaction(loaded_session):  # a nested service fails
            create_structure(loaded_session, actor, tower(1))
            raise ValueError("inner failure")
        create_structure(loaded_session, actor, tower(2))
    assert verify_chain(loaded_session).intact


def test_concurrent_writers_do_not_fork_the_chain(loaded_engine):
    # four threads, each with its own connection, append at once. PostgreSQL serialises them
    # with the chain's advisory lock; on SQLite a writing transaction takes the write lock at
    # BEGIN (IMMEDIATE) and the others wait their turn. Every write lands, the chain never forks.
    before = session_factory(loaded_engine)().scalar(select(func.count(AuditEntry.id)))
    written = [0] * 4
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        with session_factory(loaded_engine)() as s:
            for i in range(8):
                try:
                    create_structure(s, Actor(f"clerk-{w}"), tower(100 * w + i))
                    written[w] += 1
                except OperationalError as exc:
                    errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sum(written) == 32
    with session_factory(loaded_engine)() as s:
        report = verify_chain(s)
        assert report.intact
        assert report.entries == before + sum(written)  # nothing half-written


def test_the_migration_chains_entries_written_before_it(engine):
    cfg = alembic_config(engine)
    command.downgrade(cfg, "0001")
    with engine.begin() as conn:
        for i in range(3):
            conn.execute(text(
                "INSERT INTO audit_log (at, actor, action, entity, entity_id, request_id, after) "
                f"VALUES ('2019-06-0{i + 1} 08:00:00', 'old', 'create', 'structures', '{i}', "
                f"'r{i}', '{{\"n\": {i}}}')"
            ))  # fmt: skip
    command.upgrade(cfg, "head")
    with session_factory(engine)() as s:
        report = verify_chain(s)
        assert report.intact and report.entries == 3
        with transaction(s):
            record(s, Actor("new"), "note", "dataset", "x", after={"n": 9})
        report = verify_chain(s)
        assert report.intact and report.entries == 4


def test_the_audit_commands(loaded_url):
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify", "--database", loaded_url])
    assert ok.exit_code == 0 and "audit chain intact" in ok.output
    log = runner.invoke(app, ["audit", "log", "--object", "dataset:chongqing",
                              "--database", loaded_url])  # fmt: skip
    assert log.exit_code == 0 and "load" in log.output
    from sqlalchemy import create_engine

    eng = create_engine(loaded_url)
    with eng.begin() as conn:
        first = conn.scalar(text("SELECT min(id) FROM audit_log"))
        conn.execute(text(f"UPDATE audit_log SET reason = 'edited' WHERE id = {first}"))
    eng.dispose()
    bad = runner.invoke(app, ["audit", "verify", "--database", loaded_url])
    assert bad.exit_code == 1 and f"broken at entry {first}" in bad.output
