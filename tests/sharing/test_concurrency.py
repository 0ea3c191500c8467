"""Capacity under real concurrency: separate processes, each with its own connection, approve
requests that compete for a structure's last position (or its last kilograms of payload) at the
same moment. Exactly one wins; the others get a clear "no capacity" answer; nothing is left
half-written. On both databases."""

from __future__ import annotations

import multiprocessing as mp

import pytest
from sqlalchemy import func, select

from mastplan.registry.audit import verify_chain
from mastplan.registry.db import make_engine, session_factory
from mastplan.registry.enums import RequestState
from mastplan.registry.models import AuditEntry, Tenancy, TenancyPosition
from mastplan.registry.structures import create_structure, get_structure
from mastplan.registry.tenancies import CapacityError
from mastplan.registry.users import add_user
from mastplan.sharing.requests import RequestSpec, act, file_request, get_request

from .conftest import ADMIN, make_users, structure

CLERKS = 6
OPERATORS = ("wang.cmcc", "sun.unicom", "qian.telecom")


def approve_at_once(url: str, clerk: str, request_id: int, barrier, results) -> None:
    """One owner's clerk in its own process: connect, wait for the others, approve."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            session.execute(select(1))
            session.rollback()
            barrier.wait(timeout=60)
            try:
                act(session, clerk, request_id, "approve")
                results.put((request_id, "approved"))
            except CapacityError as exc:
                results.put((request_id, f"capacity: {exc}"))
            except Exception as exc:  # anything else is a failure the test reports
                results.put((request_id, f"error: {type(exc).__name__}: {exc}"))
    finally:
        engine.dispose()


@pytest.mark.parametrize("contest", ["last position", "last payload"])
def test_exactly_one_of_many_concurrent_approvals_wins(loaded_url, contest):
    engine = make_engine(loaded_url)
    with session_factory(engine)() as s:
        make_users(s)
        for i in range(CLERKS):
            add_user(s, ADMIN, f"clerk-{i}", "china-tower", "owner")
        if contest == "last position":
            # three positions, two let already: every request asks for any one position
            create_structure(s, ADMIN, structure("C1", max_payload_kg=1000.0))
            spec = RequestSpec("C1", position_count=1, payload_kg=10.0, power_kw=0.5)
            for op in OPERATORS[:2]:
                req = file_request(s, op, spec, submit=True)
                act(s, "zhao.tower", req.id, "review")
                act(s, "zhao.tower", req.id, "approve")
            make = [spec] * CLERKS
        else:
            # plenty of positions, 100 kg of payload: two requests of 60 kg cannot both fit
            create_structure(s, ADMIN, structure("C1", mount_positions=12, max_payload_kg=100.0))
            make = [RequestSpec("C1", positions=(i + 1,), payload_kg=60.0) for i in range(CLERKS)]
        ids = []
        for i, spec in enumerate(make):
            req = file_request(s, OPERATORS[i % 3], spec, submit=True)
            ids.append(act(s, "zhao.tower", req.id, "review").id)
        entries_before = s.scalar(select(func.count(AuditEntry.id)))
        tenancies_before = s.scalar(select(func.count(Tenancy.id)))
    engine.dispose()

    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(CLERKS), ctx.Queue()
    procs = [ctx.Process(target=approve_at_once,
                         args=(loaded_url, f"clerk-{i}", ids[i], barrier, results))
             for i in range(CLERKS)]  # fmt: skip
    for p in procs:
        p.start()
    outcome = dict(results.get(timeout=180) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0

    won = [i for i, what in outcome.items() if what == "approved"]
    lost = {i: what for i, what in outcome.items() if i not in won}
    assert len(won) == 1, outcome
    assert all(w.startswith("capacity: no capacity on structure C1") for w in lost.values()), lost

    engine = make_engine(loaded_url)
    with session_factory(engine)() as s:
        st = get_structure(s, "C1")
        states = {i: get_request(s, "li.reg", i).state for i in ids}
        assert states[won[0]] is RequestState.APPROVED
        assert all(states[i] is RequestState.UNDER_REVIEW for i in lost)
        assert all(get_request(s, "li.reg", i).tenancy_id is None for i in lost)
        assert s.scalar(select(func.count(Tenancy.id))) == tenancies_before + 1
        positions = s.scalars(
            select(TenancyPosition.position).where(TenancyPosition.structure_id == st.id)
        ).all()
        assert len(positions) == len(set(positions)) <= st.mount_positions
        load = s.scalar(select(func.sum(Tenancy.payload_kg)).where(Tenancy.structure_id == st.id))
        assert load <= st.max_payload_kg
        # the winner's approval wrote the request, the tenancy and its audit entries; the
        # losers wrote nothing
        assert s.scalar(select(func.count(AuditEntry.id))) == entries_before + 2
        assert verify_chain(s).intact
    engine.dispose()
