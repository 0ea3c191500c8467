"""Closed vocabularies of the plan's progress registries, stored as their string values."""

from __future__ import annotations

from enum import StrEnum


class ScenarioCategory(StrEnum):
    """The 12 priority actions of 5G converged applications (专栏10); ids as in plan_columns."""

    INDUSTRIAL_INTERNET = "industrial-internet"  # 5G＋工业互联网
    SMART_GOVERNMENT = "smart-government"  # 5G＋智能政务
    SMART_TRANSPORT = "smart-transport-connected-vehicles"  # 5G＋智能交通和智能网联汽车
    SMART_LOGISTICS = "smart-logistics"  # 5G＋智慧物流
    SMART_EDUCATION = "smart-education"  # 5G＋智慧教育
    SMART_HEALTHCARE = "smart-healthcare"  # 5G＋智慧医疗
    SMART_URBAN_MANAGEMENT = "smart-urban-management"  # 5G＋智慧城管
    POVERTY_ALLEVIATION = "targeted-poverty-alleviation"  # 5G＋精准扶贫
    SMART_AGRICULTURE = "smart-agriculture"  # 5G＋农业智能化生产
    DISASTER_PREVENTION = "disaster-prevention"  # 5G＋智能灾害防控
    UHD_VIDEO = "uhd-video"  # 5G＋4K/8K超高清视频
    SMART_COMMERCE_TOURISM = "smart-commerce-tourism"  # 5G＋智慧商旅


class ScenarioStatus(StrEnum):
    """Where an application scenario stands; only ``in_operation`` counts towards the target."""

    PLANNED = "planned"
    BUILDING = "building"
    IN_OPERATION = "in_operation"
    ENDED = "ended"


class IndustrySegment(StrEnum):
    """The 5G industry chain segments of the plan's 二（二）."""

    MATERIALS = "materials"  # 关键材料
    CHIPS = "chips"  # 芯片
    MODULES = "modules"  # 模组
    TERMINALS = "terminals"  # 终端
    ANTENNA_FEEDER = "antenna_feeder"  # 天线射频
    SOFTWARE = "software"  # 软件
    APPLICATIONS = "applications"  # 应用


class IndustryZone(StrEnum):
    """The "3+X" pattern: three core zones and the support districts."""

    LIANGJIANG = "liangjiang"  # 两江新区
    HIGH_TECH_ZONE = "high_tech_zone"  # 重庆高新区
    ECONOMIC_DEV_ZONE = "economic_dev_zone"  # 经开区
    SUPPORT_DISTRICT = "support_district"  # X: 5G产业支撑区


class TaskStatus(StrEnum):
    """Where a plan task, or a meeting's assignment, stands."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"


class UnitRole(StrEnum):
    """How an organisation takes part in a plan task."""

    LEAD = "lead"  # 牵头单位
    RESPONSIBLE = "responsible"  # 责任单位


class IssueKind(StrEnum):
    """What a problem raised at the joint meeting is about."""

    BLOCKED_SITE = "blocked_site"  # 进场难: a site that cannot be entered or built
    UNREASONABLE_FEE = "unreasonable_fee"
    POWER_SUPPLY = "power_supply"  # 转供电 / power-supply approval
    PERMIT = "permit"  # planning or construction approval
    OTHER = "other"


class IssueStatus(StrEnum):
    """Open until every assignment of its decisions is done."""

    OPEN = "open"
    RESOLVED = "resolved"


class LinkKind(StrEnum):
    """What a meeting issue can point at."""

    SITE = "site"
    STRUCTURE = "structure"
    SHARING_CASE = "sharing_case"
    SHARING_REQUEST = "sharing_request"
    KEY_AREA = "key_area"
    TASK = "task"
