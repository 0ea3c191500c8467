"""Users: one organisation and one role that suits it; registered with an audit entry; the
actor of a registered user carries its organisation into the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from mastplan.cli import app
from mastplan.errors import MastplanError, NotFoundError
from mastplan.registry.audit import Actor, verify_chain
from mastplan.registry.db import make_engine, session_factory
from mastplan.registry.models import AuditEntry
from mastplan.registry.users import actor_for, add_user, get_user, list_users

ADMIN = Actor("admin", "onboarding")


@pytest.mark.parametrize("name, org, role", [
    ("li.regulator", "cq-cac", "regulator"),
    ("wang.cmcc", "china-mobile", "operator"),
    ("zhao.tower", "china-tower", "owner"),
    ("chen.yuzhong", "gov-500103", "district"),
    ("sun.viewer", "china-unicom", "viewer"),
])  # fmt: skip
def test_a_role_that_suits_the_organisation_is_registered_and_audited(
    loaded_session, name, org, role
):
    user = add_user(loaded_session, ADMIN, name, org, role)
    assert get_user(loaded_session, name).id == user.id
    assert user.organisation.code == org and user.role.value == role and user.active
    entry = loaded_session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "users").order_by(AuditEntry.id.desc())
    ).first()
    assert entry.action == "create" and entry.after["name"] == name
    assert entry.actor == "admin" and entry.reason == "onboarding"


@pytest.mark.parametrize("org, role, message", [
    ("china-mobile", "regulator", "a regulator belongs to an organisation of kind government_unit"),
    ("cq-cac", "operator", "cq-cac is a government_unit"),
    ("china-mobile", "owner", "china-mobile is a operator"),
    ("cq-cac", "district", "has no district"),
    ("china-mobile", "boss", "unknown role 'boss'"),
])  # fmt: skip
def test_a_role_that_does_not_suit_is_refused_and_nothing_is_written(
    loaded_session, org, role, message
):
    with pytest.raises(MastplanError, match=message):
        add_user(loaded_session, ADMIN, "someone", org, role)
    assert list_users(loaded_session) == []


def test_names_are_unique_and_unknown_users_are_not_found(loaded_session):
    add_user(loaded_session, ADMIN, "wang", "china-mobile", "operator")
    with pytest.raises(MastplanError, match="exists already"):
        add_user(loaded_session, ADMIN, "wang", "china-telecom", "operator")
    with pytest.raises(NotFoundError, match="nobody"):
        get_user(loaded_session, "nobody")
    with pytest.raises(NotFoundError, match="no organisation"):
        add_user(loaded_session, ADMIN, "x", "no-such-org", "viewer")


def test_a_registered_users_writes_carry_its_organisation(loaded_session):
    add_user(loaded_session, ADMIN, "zhao", "china-tower", "owner")
    actor = actor_for(loaded_session, "zhao", "survey")
    assert actor.organisation == "china-tower" and actor.reason == "survey"
    add_user(loaded_session, actor, "zhao.assistant", "china-tower", "viewer")
    entry = loaded_session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.actor == "zhao" and entry.organisation == "china-tower"
    assert verify_chain(loaded_session).intact


def test_user_commands(loaded_url):
    runner = CliRunner()
    args = ["--database", loaded_url, "--as", "admin"]
    ok = runner.invoke(app, ["user", "add", "wang", "--org", "china-mobile", "--role", "operator",
                             *args])  # fmt: skip
    assert ok.exit_code == 0 and "operator of china-mobile" in ok.output
    bad = runner.invoke(app, ["user", "add", "li", "--org", "china-mobile", "--role", "regulator",
                              *args])  # fmt: skip
    assert bad.exit_code == 1 and "government_unit" in bad.output
    listed = runner.invoke(app, ["user", "list", "--database", loaded_url])
    assert listed.exit_code == 0 and "wang" in listed.output and "operator" in listed.output
    assert "regulator" not in listed.output  # the refused user was not written
    # a registered user's registry writes carry its organisation; an unregistered name none
    ok = runner.invoke(app, ["user", "add", "wang.2", "--org", "china-mobile", "--role",
                             "viewer", "--database", loaded_url, "--as", "wang"])  # fmt: skip
    assert ok.exit_code == 0
    engine = make_engine(loaded_url)
    with session_factory(engine)() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.entity == "users")
                            .order_by(AuditEntry.id)).all()  # fmt: skip
        assert [(e.actor, e.organisation) for e in entries] == [
            ("admin", None), ("wang", "china-mobile")]  # fmt: skip
    engine.dispose()
