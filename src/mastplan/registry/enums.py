"""Closed vocabularies of the registry, stored as their lowercase string values."""

from __future__ import annotations

from enum import StrEnum


class OrgKind(StrEnum):
    """What an organisation is to the plan."""

    GOVERNMENT_UNIT = "government_unit"
    OPERATOR = "operator"
    TOWER_COMPANY = "tower_company"
    STRUCTURE_OWNER = "structure_owner"
    ENTERPRISE = "enterprise"


class DistrictKind(StrEnum):
    """区, 县 or 自治县."""

    DISTRICT = "district"
    COUNTY = "county"
    AUTONOMOUS_COUNTY = "autonomous_county"


class RegionGroup(StrEnum):
    """The 一区两群 groups of Chongqing's districts."""

    CENTRAL_URBAN = "central_urban"  # 主城都市区 – 中心城区
    NEW_URBAN = "new_urban"  # 主城都市区 – 主城新区
    THREE_GORGES = "three_gorges"  # 渝东北三峡库区城镇群
    WULING = "wuling"  # 渝东南武陵山区城镇群


class KeyAreaCategory(StrEnum):
    """Kinds of key area named in the plan's phased roll-out (专栏2)."""

    TRANSPORT_HUB = "transport_hub"
    BUSINESS_DISTRICT = "business_district"
    RIVERSIDE = "riverside"
    UNIVERSITY = "university"
    GOVERNMENT = "government"
    DIGITAL_PARK = "digital_park"
    FREE_TRADE_ZONE = "free_trade_zone"
    INDUSTRIAL_PARK = "industrial_park"
    HOSPITAL = "hospital"
    SCENIC_AREA = "scenic_area"
    DISTRICT_URBAN_AREA = "district_urban_area"
    HIGHWAY = "highway"


class Confidence(StrEnum):
    """How well a key area's location is known."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class StructureKind(StrEnum):
    """Towers, poles and rooftops that can carry antennas."""

    TELECOM_TOWER = "telecom_tower"
    LAMP_POLE = "lamp_pole"
    TRAFFIC_SIGNAL_POLE = "traffic_signal_pole"
    CCTV_POLE = "cctv_pole"
    POWER_POLE = "power_pole"
    ROOFTOP = "rooftop"
    SMART_POLE = "smart_pole"


class StructureStatus(StrEnum):
    """Whether a structure stands."""

    PLANNED = "planned"
    IN_SERVICE = "in_service"
    DECOMMISSIONED = "decommissioned"


class Rat(StrEnum):
    """Radio access technology of a site."""

    GSM = "gsm"
    UMTS = "umts"
    LTE = "lte"
    NR = "nr"


class SiteStatus(StrEnum):
    """Lifecycle of a site: planned → approved → built → on air → retired."""

    PLANNED = "planned"
    APPROVED = "approved"
    BUILT = "built"
    ON_AIR = "on_air"
    RETIRED = "retired"


class TenancyStatus(StrEnum):
    """Whether an operator still occupies its mount positions."""

    ACTIVE = "active"
    RELEASED = "released"


# The lifecycle as a transition table: the only moves a site can make.
SITE_TRANSITIONS: dict[SiteStatus, frozenset[SiteStatus]] = {
    SiteStatus.PLANNED: frozenset({SiteStatus.APPROVED, SiteStatus.RETIRED}),
    SiteStatus.APPROVED: frozenset({SiteStatus.BUILT, SiteStatus.RETIRED}),
    SiteStatus.BUILT: frozenset({SiteStatus.ON_AIR, SiteStatus.RETIRED}),
    SiteStatus.ON_AIR: frozenset({SiteStatus.RETIRED}),
    SiteStatus.RETIRED: frozenset(),
}

# 3GPP NR bands used in China and LTE bands of the existing networks (TS 38.101-1, TS 36.101).
NR_BANDS = frozenset({"n1", "n3", "n8", "n28", "n41", "n78", "n79"})
LTE_BANDS = frozenset({"B1", "B3", "B5", "B8", "B34", "B39", "B40", "B41"})

# Names people read, 中文 and English.
STRUCTURE_KIND_NAMES: dict[str, tuple[str, str]] = {
    StructureKind.TELECOM_TOWER: ("通信铁塔", "telecom tower"),
    StructureKind.LAMP_POLE: ("路灯杆", "lamp pole"),
    StructureKind.TRAFFIC_SIGNAL_POLE: ("交通信号杆", "traffic-signal pole"),
    StructureKind.CCTV_POLE: ("视频监控杆", "CCTV pole"),
    StructureKind.POWER_POLE: ("电力杆", "power pole"),
    StructureKind.ROOFTOP: ("楼顶", "rooftop"),
    StructureKind.SMART_POLE: ("智慧杆（多杆合一）", "smart pole"),
}
