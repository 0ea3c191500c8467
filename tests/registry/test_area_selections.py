"""Area selections of `area_by_code`: key areas, districts, phase years and district groups."""

from __future__ import annotations

import pytest
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from mastplan.errors import NotFoundError
from mastplan.registry.enums import RegionGroup
from mastplan.registry.models import District
from mastplan.registry.queries import area_by_code


def test_a_district_group_is_its_districts_one_by_one(loaded_session: Session):
    central = loaded_session.scalars(
        select(District.code).where(District.group == RegionGroup.CENTRAL_URBAN)
    ).all()
    area = area_by_code(loaded_session, "group:central_urban")
    assert area.kind == "group" and area.name_zh == "中心城区"
    assert sorted(p.code for p in area.parts) == sorted(central)
    assert {p.kind for p in area.parts} == {"district"}
    union = shapely.union_all([p.boundary for p in area.parts])
    assert area.boundary.area == pytest.approx(union.area)
    main = area_by_code(loaded_session, "group:main_city")
    everything = area_by_code(loaded_session, "group:city")
    assert set(central) < {p.code for p in main.parts} < {p.code for p in everything.parts}
    total = loaded_session.scalars(select(District.code)).all()
    assert len(everything.parts) == len(total)


def test_an_unknown_group_names_the_known_ones(loaded_session: Session):
    with pytest.raises(NotFoundError, match=r"central_urban.*main_city"):
        area_by_code(loaded_session, "group:downtown")
