"""`mastplan sharing` end to end: each command as a registered user; a move that the lifecycle,
the capacity or the fee policy forbids exits 1 with one line saying why."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mastplan.cli import app
from mastplan.registry.db import make_engine, session_factory
from mastplan.registry.structures import create_structure

from .conftest import ADMIN, make_users, structure


@pytest.fixture
def db(loaded_url):
    engine = make_engine(loaded_url)
    with session_factory(engine)() as s:
        make_users(s)
        create_structure(s, ADMIN, structure("T9", mount_positions=1))
    engine.dispose()
    return loaded_url


def run(db, *args, user=None):
    who = ["--as", user] if user else []
    # a wide terminal: the tables fold cells in a narrow one, and the test reads whole words
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["sharing", *args, "--database", db,
                                                            *who])  # fmt: skip
    return result.exit_code, result.output


def test_the_workflow_from_the_command_line(db):
    code, out = run(db, "request", "--structure", "T9", "--count", "1", "--payload-kg", "40",
                    "--power-kw", "1.5", "--fee", "space_rent=6000", "--fee", "entry_fee=3000",
                    "--submit", user="wang.cmcc")  # fmt: skip
    assert code == 0 and "request 1 filed (submitted, answer due" in out
    assert run(db, "review", "1", user="zhao.tower") == (0, "request 1: review → under_review\n")

    code, out = run(db, "approve", "1", user="zhao.tower")
    assert code == 1 and len(out.strip().splitlines()) == 1
    assert "cannot be approved: 进场费 (entry fee) is prohibited" in out and "case 1" in out
    code, out = run(db, "show", "1", user="sun.unicom")
    assert (code, out.strip()) == (1, "error: no sharing request 1")
    code, out = run(db, "cases", user="li.reg")
    assert code == 0 and "fee_complaint" in out

    code, _ = run(db, "waive", "1", "--item", "entry_fee", "--reason", "prohibited: dropped",
                  user="zhao.tower")  # fmt: skip
    assert code == 0
    assert run(db, "approve", "1", user="zhao.tower")[0] == 0

    # a second operator asks for the structure's only position: no capacity, exit 1
    run(db, "request", "--structure", "T9", "--count", "1", "--submit", user="sun.unicom")
    run(db, "review", "2", user="zhao.tower")
    code, out = run(db, "approve", "2", user="zhao.tower")
    assert code == 1 and out.strip() == (
        "error: no capacity on structure T9: 1 position(s) asked, 0 free"
    )
    code, out = run(db, "reject", "2", user="zhao.tower")
    assert code == 1 and "reject needs a reason" in out
    assert run(db, "request-changes", "2", "--reason", "ask for less", user="zhao.tower")[0] == 0
    code, out = run(db, "request", "--amend", "2", "--structure", "T9", "--count", "1",
                    "--payload-kg", "5", "--submit", user="sun.unicom")  # fmt: skip
    assert code == 0 and "request 2 amended (submitted, answer due" in out
    run(db, "review", "2", user="zhao.tower")
    assert run(db, "reject", "2", "--reason", "full", user="zhao.tower")[0] == 0

    code, out = run(db, "show", "1", user="wang.cmcc")
    assert code == 0 and "approved" in out and "tenancy" in out
    code, out = run(db, "tenancies", "--structure", "T9", user="wang.cmcc")
    assert code == 0 and "1 tenancies" in out and "china-mobile" in out
    code, out = run(db, "tenancies", "--structure", "T9", user="sun.unicom")
    assert code == 0 and "0 tenancies" in out
    code, out = run(db, "list", user="li.reg")
    assert code == 0 and "2 request(s)" in out
    code, out = run(db, "decide", "1", "--outcome", "upheld", "--decision",
                    "entry fee removed before approval", user="li.reg")  # fmt: skip
    assert code == 0 and "upheld" in out
    code, out = run(db, "overdue", user="li.reg")
    assert code == 0 and "0 overdue request(s)" in out
    result = CliRunner().invoke(app, ["audit", "log", "--object", "sharing_requests:1",
                                      "--database", db])  # fmt: skip
    assert result.exit_code == 0 and "zhao.tower" in result.output
