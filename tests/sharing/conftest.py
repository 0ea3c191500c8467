"""Users and structures of the sharing tests, on the loaded Chongqing data set."""

from __future__ import annotations

import pytest

from mastplan.registry.audit import Actor
from mastplan.registry.structures import create_structure
from mastplan.registry.users import add_user

ADMIN = Actor("admin", "onboarding")

#: name → (organisation, role)
USERS = {
    "li.reg": ("cq-cac", "regulator"),
    "wang.cmcc": ("china-mobile", "operator"),
    "sun.unicom": ("china-unicom", "operator"),
    "qian.telecom": ("china-telecom", "operator"),
    "zhao.tower": ("china-tower", "owner"),
    "zhou.tower": ("china-tower", "owner"),
    "wu.lights": ("cq-street-lighting", "owner"),
    "chen.yuzhong": ("gov-500103", "district"),
    "zheng.jiangbei": ("gov-500105", "district"),
    "ma.viewer": ("china-mobile", "viewer"),
    "he.viewer": ("china-unicom", "viewer"),
}


def structure(external_id: str, **overrides) -> dict:
    """A China Tower tower in Yuzhong (渝中区) with three positions unless told otherwise."""
    record = {"external_id": external_id, "kind": "telecom_tower", "owner": "china-tower",
              "lon_deg": 106.5700, "lat_deg": 29.5570, "height_m": 35.0, "mount_positions": 3,
              "max_payload_kg": 300.0, "available_power_kw": 10.0}  # fmt: skip
    record.update(overrides)
    return record


def make_users(session) -> None:
    for name, (org, role) in USERS.items():
        add_user(session, ADMIN, name, org, role)


@pytest.fixture
def sharing_session(loaded_session):
    """The loaded data set with the users above, a tower ``T1`` and a lamp pole ``P1``."""
    make_users(loaded_session)
    create_structure(loaded_session, ADMIN, structure("T1"))
    create_structure(loaded_session, ADMIN, structure(
        "P1", kind="lamp_pole", owner="cq-street-lighting", height_m=10.0, mount_positions=1,
        max_payload_kg=40.0, available_power_kw=1.5, lon_deg=106.5710))  # fmt: skip
    return loaded_session
