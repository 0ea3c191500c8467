"""Service functions: every write is audited in its own transaction; rules hold for one object
as for a file; lifecycles and mount positions cannot be broken."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from mastplan.errors import ImportValidationError, InvalidTransitionError, NotFoundError
from mastplan.registry.audit import Actor
from mastplan.registry.enums import SITE_TRANSITIONS, SiteStatus
from mastplan.registry.models import AuditEntry, Site, Structure, Tenancy
from mastplan.registry.organisations import get_organisation, upsert_organisation
from mastplan.registry.sites import STATUS_DATE, transition_site
from mastplan.registry.structures import create_structure, get_structure, update_structure
from mastplan.registry.tenancies import CapacityError, create_tenancy, release_tenancy

TOWER = {
    "external_id": "t-1",
    "kind": "telecom_tower",
    "owner": "china-tower",
    "lon_deg": 106.5709,
    "lat_deg": 29.5608,
    "height_m": 35,
    "mount_positions": 3,
    "max_payload_kg": 300,
    "available_power_kw": 10,
}


def audit(session, entity: str, entity_id: str | None = None) -> list[AuditEntry]:
    q = select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id)
    if entity_id is not None:
        q = q.where(AuditEntry.entity_id == entity_id)
    return list(session.scalars(q))


def test_create_and_update_structure_are_audited_with_before_after(loaded_session):
    s = loaded_session
    alice = Actor("alice", reason="survey 2020-05", request_id="req-1")
    st = create_structure(s, alice, TOWER)
    assert st.district_code == "500103" and st.version == 1
    update_structure(s, Actor("bob", request_id="req-2"), "t-1", {"height_m": 40})
    entries = audit(s, "structures", str(st.id))
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[0].actor == "alice" and entries[0].reason == "survey 2020-05"
    assert entries[0].request_id == "req-1" and entries[0].after["height_m"] == 35
    assert entries[1].before == {"height_m": 35.0} and entries[1].after == {"height_m": 40.0}
    assert get_structure(s, "t-1").version == 2


def test_single_writes_obey_the_import_rules(loaded_session, actor):
    with pytest.raises(ImportValidationError) as info:
        create_structure(loaded_session, actor, {**TOWER, "lon_deg": 104.06, "lat_deg": 30.66})
    assert info.value.errors[0].field == "lon_deg/lat_deg"
    create_structure(loaded_session, actor, TOWER)
    with pytest.raises(ImportValidationError):
        update_structure(loaded_session, actor, "t-1", {"mount_positions": 0})
    assert get_structure(loaded_session, "t-1").mount_positions == 3
    with pytest.raises(NotFoundError):
        get_structure(loaded_session, "nope")


def test_failed_write_leaves_no_audit_entry(loaded_session, actor):
    n = loaded_session.scalar(select(func.count()).select_from(AuditEntry))
    with pytest.raises(ImportValidationError):
        create_structure(loaded_session, actor, {**TOWER, "owner": "nobody"})
    assert loaded_session.scalar(select(func.count()).select_from(AuditEntry)) == n


def test_upsert_organisation_records_only_real_changes(loaded_session, actor):
    s = loaded_session
    org = get_organisation(s, "china-tower")
    n = len(audit(s, "organisations", str(org.id)))
    upsert_organisation(
        s,
        actor,
        code=org.code,
        kind=org.kind,
        name_zh=org.name_zh,
        name_en=org.name_en,
        short_zh=org.short_zh,
        short_en=org.short_en,
        plmn=org.plmn,
        synthetic=org.synthetic,
        source=org.source,
    )
    assert len(audit(s, "organisations", str(org.id))) == n
    upsert_organisation(
        s,
        actor,
        code=org.code,
        kind=org.kind,
        name_zh=org.name_zh,
        name_en="China Tower Chongqing",
        short_zh=org.short_zh,
        short_en=org.short_en,
        plmn=org.plmn,
        synthetic=org.synthetic,
        source=org.source,
    )
    last = audit(s, "organisations", str(org.id))[-1]
    assert last.after == {"name_en": "China Tower Chongqing"}


def _site(session, status: str) -> Site:
    op = get_organisation(session, "china-unicom")
    site = Site(
        external_id=f"s-{status}",
        operator_id=op.id,
        rat="nr",
        band="n78",
        status=status,
        lon_deg=106.57,
        lat_deg=29.56,
    )
    session.add(site)
    session.commit()
    return site


@pytest.mark.parametrize("start", list(SiteStatus))
def test_site_lifecycle_allows_exactly_the_transition_table(loaded_session, actor, start):
    for to in SiteStatus:
        site = _site(loaded_session, start.value)
        if to in SITE_TRANSITIONS[start]:
            done = transition_site(
                loaded_session, actor, site.external_id, to, on=dt.date(2021, 3, 1)
            )
            assert done.status == to
            assert getattr(done, STATUS_DATE[to]) == dt.date(2021, 3, 1)
        else:
            with pytest.raises(InvalidTransitionError):
                transition_site(loaded_session, actor, site.external_id, to)
            assert loaded_session.get(Site, site.id).status == start
        loaded_session.delete(loaded_session.get(Site, site.id))
        loaded_session.commit()


def test_tenancies_never_double_book_positions(loaded_session, actor):
    s = loaded_session
    create_structure(s, actor, TOWER)
    t1 = create_tenancy(
        s,
        actor,
        structure="t-1",
        operator="china-mobile",
        positions=[1, 2],
        payload_kg=100,
        power_kw=4,
    )
    with pytest.raises(CapacityError, match="already occupied"):
        create_tenancy(s, actor, structure="t-1", operator="china-telecom", positions=[2, 3])
    with pytest.raises(CapacityError, match=r"positions 1\.\.3"):
        create_tenancy(s, actor, structure="t-1", operator="china-telecom", positions=[4])
    with pytest.raises(CapacityError, match="payload"):
        create_tenancy(
            s, actor, structure="t-1", operator="china-telecom", positions=[3], payload_kg=250
        )
    create_tenancy(
        s,
        actor,
        structure="t-1",
        operator="china-telecom",
        positions=[3],
        payload_kg=100,
        power_kw=3,
    )
    release_tenancy(s, actor, t1.id)
    assert s.get(Tenancy, t1.id).status.value == "released"
    t3 = create_tenancy(s, actor, structure="t-1", operator="china-unicom", positions=[1, 2])
    assert [p.position for p in t3.positions] == [1, 2]


def test_the_database_itself_refuses_a_double_booking(loaded_session, actor):
    """Even a writer that skips the service cannot book a taken position (the key does it)."""
    from sqlalchemy.exc import IntegrityError

    from mastplan.registry.models import TenancyPosition

    s = loaded_session
    st = create_structure(s, actor, TOWER)
    t = create_tenancy(s, actor, structure="t-1", operator="china-mobile", positions=[1])
    s.expunge_all()
    s.add(TenancyPosition(structure_id=st.id, position=1, tenancy_id=t.id))
    with pytest.raises(IntegrityError):
        s.commit()
    s.rollback()
    assert (
        s.scalar(select(func.count()).select_from(Structure).where(Structure.external_id == "t-1"))
        == 1
    )


def test_add_sector_is_audited(loaded_session, actor):
    from mastplan.registry.sites import add_sector

    site = _site(loaded_session, "planned")
    sector = add_sector(
        loaded_session,
        actor,
        site.external_id,
        sector_number=1,
        azimuth_deg=120.0,
        electrical_tilt_deg=6.0,
        antenna_height_m=28.0,
        tx_power_dbm=53.0,
        bandwidth_mhz=100.0,
        carrier_frequency_mhz=3550.0,
    )
    entry = audit(loaded_session, "sectors", str(sector.id))[-1]
    assert entry.action == "create" and entry.after["azimuth_deg"] == 120.0
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):  # the CHECK constraint on azimuth
        add_sector(loaded_session, actor, site.external_id, sector_number=2, azimuth_deg=400.0)
