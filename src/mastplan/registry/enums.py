"""Closed vocabularies of the registry, stored as their lowercase string values."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


def plain(value: Any) -> Any:
    """An enum member as its stored string; anything else as it is."""
    return getattr(value, "value", value)


class OrgKind(StrEnum):
    """What an organisation is to the plan."""

    GOVERNMENT_UNIT = "government_unit"
    OPERATOR = "operator"
    TOWER_COMPANY = "tower_company"
    STRUCTURE_OWNER = "structure_owner"
    ENTERPRISE = "enterprise"


class UserRole(StrEnum):
    """What a user is to the sharing workflow."""

    REGULATOR = "regulator"  # 市通信管理局
    OPERATOR = "operator"
    OWNER = "owner"  # a structure owner's or the tower company's clerk
    DISTRICT = "district"  # a district government
    VIEWER = "viewer"


#: The organisation kinds a user of each role may belong to.
ROLE_ORG_KINDS: dict[UserRole, frozenset[OrgKind]] = {
    UserRole.REGULATOR: frozenset({OrgKind.GOVERNMENT_UNIT}),
    UserRole.OPERATOR: frozenset({OrgKind.OPERATOR}),
    UserRole.OWNER: frozenset(
        {OrgKind.TOWER_COMPANY, OrgKind.STRUCTURE_OWNER, OrgKind.GOVERNMENT_UNIT}
    ),
    UserRole.DISTRICT: frozenset({OrgKind.GOVERNMENT_UNIT}),
    UserRole.VIEWER: frozenset(OrgKind),
}


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


class RequestState(StrEnum):
    """Where a sharing request stands (the moves are :mod:`mastplan.sharing.lifecycle`'s table)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    INSTALLED = "installed"
    ACTIVE = "active"
    RELEASED = "released"


#: States in which the owner still owes an answer (the deadline runs).
AWAITING_ANSWER = frozenset({RequestState.SUBMITTED, RequestState.UNDER_REVIEW})


class CaseKind(StrEnum):
    """Why a case came to the regulator (一站式 coordination)."""

    OVERDUE_ANSWER = "overdue_answer"  # the owner did not answer within the deadline
    FEE_COMPLAINT = "fee_complaint"  # a fee offer broke the fee policy


class CaseState(StrEnum):
    """Open until the regulator decides it."""

    OPEN = "open"
    DECIDED = "decided"


class CaseOutcome(StrEnum):
    """The regulator's decision on a case."""

    UPHELD = "upheld"  # the complaint stands: the owner is ordered to answer or correct the fee
    DISMISSED = "dismissed"


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
STRUCTURE_KIND_NAMES: dict[str, dict[str, str]] = {
    StructureKind.TELECOM_TOWER: {"zh": "通信铁塔", "en": "telecom tower"},
    StructureKind.LAMP_POLE: {"zh": "路灯杆", "en": "lamp pole"},
    StructureKind.TRAFFIC_SIGNAL_POLE: {"zh": "交通信号杆", "en": "traffic-signal pole"},
    StructureKind.CCTV_POLE: {"zh": "视频监控杆", "en": "CCTV pole"},
    StructureKind.POWER_POLE: {"zh": "电力杆", "en": "power pole"},
    StructureKind.ROOFTOP: {"zh": "楼顶", "en": "rooftop"},
    StructureKind.SMART_POLE: {"zh": "智慧杆（多杆合一）", "en": "smart pole"},
}

KEY_AREA_CATEGORY_NAMES: dict[str, dict[str, str]] = {
    "transport_hub": {"zh": "重要交通枢纽", "en": "Transport hub"},
    "business_district": {"zh": "商业核心区", "en": "Business district"},
    "riverside": {"zh": "“两江四岸”核心区", "en": "Two Rivers, Four Banks riverside"},
    "university": {"zh": "高等院校", "en": "University"},
    "government": {"zh": "党政机关", "en": "Party and government offices"},
    "digital_park": {"zh": "数字产业园区", "en": "Digital industry park"},
    "free_trade_zone": {"zh": "自贸试验区", "en": "Pilot free trade zone"},
    "industrial_park": {"zh": "工业园区", "en": "Industrial park"},
    "hospital": {"zh": "三甲医院", "en": "Grade-3A hospital"},
    "scenic_area": {"zh": "4A级以上旅游景区", "en": "4A+ scenic area"},
    "district_urban_area": {"zh": "区县城市区域", "en": "District or county urban area"},
    "highway": {"zh": "高速公路", "en": "Expressway"},
}
