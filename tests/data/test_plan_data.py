"""Tests of the plan data files (src/mastplan/data/chongqing/*.yaml) and their loader."""

from __future__ import annotations

import dataclasses
from importlib import resources
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mastplan.data import plan
from mastplan.registry.enums import OrgKind, StructureKind

# The 38 districts and counties with their GB/T 2260 codes, from reference/chongqing-facts.md.
GBT2260_DISTRICTS = {
    "500101": "万州区",
    "500102": "涪陵区",
    "500103": "渝中区",
    "500104": "大渡口区",
    "500105": "江北区",
    "500106": "沙坪坝区",
    "500107": "九龙坡区",
    "500108": "南岸区",
    "500109": "北碚区",
    "500110": "綦江区",
    "500111": "大足区",
    "500112": "渝北区",
    "500113": "巴南区",
    "500114": "黔江区",
    "500115": "长寿区",
    "500116": "江津区",
    "500117": "合川区",
    "500118": "永川区",
    "500119": "南川区",
    "500120": "璧山区",
    "500151": "铜梁区",
    "500152": "潼南区",
    "500153": "荣昌区",
    "500154": "开州区",
    "500155": "梁平区",
    "500156": "武隆区",
    "500229": "城口县",
    "500230": "丰都县",
    "500231": "垫江县",
    "500233": "忠县",
    "500235": "云阳县",
    "500236": "奉节县",
    "500237": "巫山县",
    "500238": "巫溪县",
    "500240": "石柱土家族自治县",
    "500241": "秀山土家族苗族自治县",
    "500242": "酉阳土家族苗族自治县",
    "500243": "彭水苗族土家族自治县",
}

OPERATOR_PLMNS = {
    "china-mobile": ("46000", "46002", "46004", "46007", "46008"),
    "china-unicom": ("46001", "46006", "46009"),
    "china-telecom": ("46003", "46005", "46011"),
    "china-broadnet": ("46015",),
}

# Codes that other parts of mastplan refer to, with the kind each must have.
REQUIRED_CODES = {
    "china-mobile": OrgKind.OPERATOR,
    "china-telecom": OrgKind.OPERATOR,
    "china-unicom": OrgKind.OPERATOR,
    "china-broadnet": OrgKind.OPERATOR,
    "china-tower": OrgKind.TOWER_COMPANY,
    "cq-street-lighting": OrgKind.GOVERNMENT_UNIT,
    "cq-traffic-police": OrgKind.GOVERNMENT_UNIT,
    "cq-gaj": OrgKind.GOVERNMENT_UNIT,
    "cq-cgj": OrgKind.GOVERNMENT_UNIT,
    "cq-cac": OrgKind.GOVERNMENT_UNIT,
    "cq-jxw": OrgKind.GOVERNMENT_UNIT,
    "cq-bigdata": OrgKind.GOVERNMENT_UNIT,
    "cq-5g-joint-office": OrgKind.GOVERNMENT_UNIT,
    "sgcc-chongqing": OrgKind.STRUCTURE_OWNER,
    **{f"syn-building-owner-{i:02d}": OrgKind.STRUCTURE_OWNER for i in range(1, 6)},
}

EXPECTED_TASK_IDS = (
    "key-1-1",
    "key-1-2",
    "key-1-3",
    *(f"key-2-{i}" for i in range(1, 8)),
    "key-3",
    *(f"safeguard-{i}" for i in range(1, 8)),
)


@pytest.fixture(scope="module")
def orgs() -> dict[str, plan.OrganisationSpec]:
    return plan.organisations_by_code()


# --- organisations ---------------------------------------------------------------------------


def test_required_codes_exist_with_their_kind(orgs: dict[str, plan.OrganisationSpec]) -> None:
    for code, kind in REQUIRED_CODES.items():
        assert code in orgs, code
        assert orgs[code].kind is kind, code


def test_structure_owner_parents(orgs: dict[str, plan.OrganisationSpec]) -> None:
    assert orgs["cq-street-lighting"].parent == "cq-cgj"
    assert orgs["cq-traffic-police"].parent == "cq-gaj"
    assert orgs["cq-5g-joint-office"].parent == "cq-jxw"
    assert orgs["cq-gaj"].short_zh == "市公安局"
    assert orgs["cq-cgj"].short_zh == "市城市管理局"


def test_all_38_district_governments(orgs: dict[str, plan.OrganisationSpec]) -> None:
    governments = {spec.district_code: spec for spec in orgs.values() if spec.district_code}
    assert set(governments) == set(GBT2260_DISTRICTS)
    for district_code, name in GBT2260_DISTRICTS.items():
        spec = governments[district_code]
        assert spec.code == f"gov-{district_code}"
        assert spec.kind is OrgKind.GOVERNMENT_UNIT
        assert spec.short_zh == name
        assert spec.name_zh == f"{name}人民政府"
        assert spec.name_en.endswith("People's Government")
        assert not spec.synthetic
    assert orgs["gov-500240"].short_en == "Shizhu Tujia Autonomous County"
    assert orgs["gov-500103"].short_en == "Yuzhong District"


def test_operators_have_plmns_with_mcc_460(orgs: dict[str, plan.OrganisationSpec]) -> None:
    for code, expected in OPERATOR_PLMNS.items():
        spec = orgs[code]
        assert spec.plmn == expected
        assert all(p.startswith("460") and len(p) == 5 for p in spec.plmn)
    holders = {code for code, spec in orgs.items() if spec.plmn}
    assert holders == set(OPERATOR_PLMNS)
    assert set(plan.OPERATOR_CODES) == set(OPERATOR_PLMNS)


def test_synthetic_organisations_are_marked(orgs: dict[str, plan.OrganisationSpec]) -> None:
    synthetic = {code for code, spec in orgs.items() if spec.synthetic}
    assert synthetic == {f"syn-building-owner-{i:02d}" for i in range(1, 6)}
    for code in synthetic:
        assert "（合成）" in orgs[code].name_zh
        assert "(synthetic)" in orgs[code].name_en


def test_codes_unique_and_parents_resolve() -> None:
    specs = plan.load_organisations()
    codes = [spec.code for spec in specs]
    assert len(codes) == len(set(codes))
    for spec in specs:
        assert spec.parent is None or spec.parent in codes


# --- synthetic owners ------------------------------------------------------------------------


def test_synthetic_owners_exist(orgs: dict[str, plan.OrganisationSpec]) -> None:
    owners = plan.load_synthetic_owners()
    assert set(owners) == {kind.value for kind in StructureKind}
    for kind, codes in owners.items():
        assert codes, kind
        for code in codes:
            assert code in orgs, (kind, code)
    assert owners["lamp_pole"] == ("cq-street-lighting",)
    assert owners["traffic_signal_pole"] == ("cq-traffic-police",)
    assert owners["cctv_pole"] == ("cq-gaj",)
    assert owners["power_pole"] == ("sgcc-chongqing",)
    assert owners["rooftop"] == tuple(f"syn-building-owner-{i:02d}" for i in range(1, 6))
    assert owners["telecom_tower"] == owners["smart_pole"] == ("china-tower",)


def test_synthetic_owners_returns_a_fresh_dict() -> None:
    first = plan.load_synthetic_owners()
    first["lamp_pole"] = ("nobody",)
    assert plan.load_synthetic_owners()["lamp_pole"] == ("cq-street-lighting",)


# --- targets ---------------------------------------------------------------------------------


def test_quantified_targets_match_the_plan() -> None:
    targets = {t.id: t for t in plan.load_targets()}
    expected = {
        "5g-base-stations": (">", 100_000, "base_stations", "超过10万个"),
        "5g-industry-revenue": (">", 100_000_000_000, "yuan", "突破1000亿元"),
        "5g-demo-scenarios": (">", 100, "scenarios", "超过100个"),
        "5g-innovative-enterprises": (">=", 100, "enterprises", "100家以上"),
    }
    quantified = {t.id for t in targets.values() if t.quantified}
    assert quantified == set(expected)
    for target_id, (comparator, value, unit, phrase) in expected.items():
        target = targets[target_id]
        assert target.comparator == comparator
        assert target.value == value
        assert target.unit == unit
        assert target.year == 2022
        assert target.scope == "city"
        assert phrase in target.quote_zh
        assert target.quote_zh.startswith("到2022年")


def test_qualitative_targets_have_no_value() -> None:
    qualitative = {t.id: t for t in plan.load_targets() if not t.quantified}
    for required in ("network-coverage-first-tier", "key-area-continuous-coverage"):
        assert required in qualitative
    assert qualitative["network-coverage-first-tier"].comparator == "in_tier"
    assert "第一梯队" in qualitative["network-coverage-first-tier"].quote_zh
    assert "“3＋X”" in qualitative["three-plus-x-pattern"].quote_zh
    for target in qualitative.values():
        assert target.value is None
        assert target.unit is None
        with pytest.raises(ValueError, match="qualitative"):
            target.met_by(1.0)


def test_target_met_by() -> None:
    targets = {t.id: t for t in plan.load_targets()}
    assert not targets["5g-base-stations"].met_by(100_000)
    assert targets["5g-base-stations"].met_by(100_001)
    assert targets["5g-innovative-enterprises"].met_by(100)
    assert not targets["5g-innovative-enterprises"].met_by(99)


# --- tasks and columns -----------------------------------------------------------------------


def test_task_ids_and_order() -> None:
    assert tuple(t.id for t in plan.load_tasks()) == EXPECTED_TASK_IDS


def test_every_task_code_is_an_organisation(orgs: dict[str, plan.OrganisationSpec]) -> None:
    for task in plan.load_tasks():
        for code in (*task.lead, *task.responsible, *task.members):
            assert code in orgs, (task.id, code)


def test_task_flags_agree_with_lists() -> None:
    for task in plan.load_tasks():
        operators = set(plan.OPERATOR_CODES) & set(task.responsible)
        assert operators == (set(plan.OPERATOR_CODES) if task.telecom_enterprises else set())
        assert ("china-tower" in task.responsible) == task.tower_companies
        assert not (task.all_district_governments and task.relevant_district_governments)


def test_lead_units_as_in_the_plan() -> None:
    tasks = {t.id: t for t in plan.load_tasks()}
    assert tasks["key-1-1"].lead == tasks["key-1-2"].lead == tasks["key-1-3"].lead == ("cq-cac",)
    assert tasks["key-2-6"].lead == ("cq-kjj",)
    assert tasks["key-3"].lead == ("cq-bigdata",)
    assert tasks["safeguard-4"].lead == ("cq-fgw",)
    assert tasks["safeguard-5"].lead == ("cq-rlsbj",)
    assert tasks["safeguard-6"].lead == ("cq-sww",)
    assert tasks["safeguard-7"].lead == ("cq-wxb",)
    assert "cq-jcjt" in tasks["key-1-3"].responsible
    assert "cq-ybjj" in tasks["safeguard-3"].responsible
    assert tasks["key-1-1"].all_district_governments
    assert tasks["key-2-1"].relevant_district_governments
    assert tasks["safeguard-2"].telecom_enterprises and not tasks["safeguard-2"].tower_companies


def test_joint_meeting_has_no_invented_lead() -> None:
    task = {t.id: t for t in plan.load_tasks()}["safeguard-1"]
    assert task.lead == ()
    assert task.responsible == ()
    assert task.note and "联席会议" in task.note
    assert len(task.members) == 29
    assert task.members[:3] == ("cq-jxw", "cq-bigdata", "cq-cac")
    assert "china-broadnet" not in task.members


def test_columns_belong_to_one_task_each() -> None:
    columns = plan.load_columns()
    assert [c.number for c in columns] == list(range(1, 11))
    attached = sorted(n for t in plan.load_tasks() for n in t.columns)
    assert attached == list(range(1, 11))
    actions = columns[-1].actions
    assert len(actions) == 12
    assert actions[0].name_zh == "5G＋工业互联网"
    assert actions[-1].name_zh == "5G＋智慧商旅"
    assert all(not c.actions for c in columns[:-1])


def test_tasks_for_organisation() -> None:
    district = {t.id for t in plan.tasks_for_organisation("gov-500103")}
    assert district == {t.id for t in plan.load_tasks() if t.all_district_governments}
    assert "safeguard-1" in {t.id for t in plan.tasks_for_organisation("china-tower")}
    with pytest.raises(KeyError):
        plan.tasks_for_organisation("no-such-org")


def test_specs_are_frozen_and_cached() -> None:
    assert plan.load_tasks() is plan.load_tasks()
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.load_targets()[0].value = 1  # type: ignore[misc]


# --- the validator ---------------------------------------------------------------------------


def _org(code: str, **fields: object) -> dict[str, object]:
    item: dict[str, object] = {
        "code": code,
        "kind": "government_unit",
        "name_zh": "示例",
        "name_en": "Example",
        "short_zh": "示例",
        "synthetic": False,
        "source": "test",
    }
    item.update(fields)
    return item


@pytest.mark.parametrize(
    ("items", "index", "field"),
    [
        ([_org("a"), _org("b", kind="ministry")], 1, "kind"),
        ([_org("a"), _org("b", colour="red")], 1, "colour"),
        ([_org("a"), _org("a")], 1, "code"),
        ([_org("a", parent="nobody")], 0, "parent"),
        ([_org("a"), {k: v for k, v in _org("b").items() if k != "name_en"}], 1, "name_en"),
        ([_org("a", kind="operator")], 0, "plmn"),
        ([_org("a", plmn=["46000"])], 0, "plmn"),
        ([_org("gov-500101", district_code=500101)], 0, "district_code"),
        ([_org("a", district_code="500101")], 0, "district_code"),
        ([_org("a", synthetic="yes")], 0, "synthetic"),
        ([_org("a", parent="b"), _org("b", parent="a")], 0, "parent"),
    ],
)
def test_bad_organisations_name_file_item_and_field(
    tmp_path: Path, items: list[dict[str, object]], index: int, field: str
) -> None:
    path = tmp_path / "organisations.yaml"
    path.write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")
    data = plan._load_yaml(path.read_text(encoding="utf-8"), str(path))
    with pytest.raises(ValueError) as excinfo:
        plan._parse_organisations(data, str(path))
    message = str(excinfo.value)
    assert str(path) in message
    assert f"item {index}" in message
    assert f"field '{field}'" in message


def test_bad_task_names_file_item_and_field(tmp_path: Path) -> None:
    text = resources.files(plan.PACKAGE).joinpath(plan.TASKS_FILE).read_text(encoding="utf-8")
    task = yaml.safe_load(text)[0]
    bad = dict(task, id="key-1-9", lead=["cq-nobody"])
    path = tmp_path / "plan_tasks.yaml"
    path.write_text(yaml.safe_dump([task, bad], allow_unicode=True), encoding="utf-8")
    codes = set(plan.organisations_by_code())
    with pytest.raises(plan.PlanDataError) as excinfo:
        plan._parse_tasks(
            plan._load_yaml(path.read_text(encoding="utf-8"), str(path)),
            str(path),
            codes,
            range(1, 11),
        )
    error = excinfo.value
    assert (error.file, error.item, error.field) == (str(path), 1, "lead")
    assert "cq-nobody" in str(error)
    assert isinstance(error, ValueError)


def test_telecom_flag_requires_the_operators() -> None:
    task = plan.load_tasks()[0]
    raw = {f.name: getattr(task, f.name) for f in dataclasses.fields(task)}
    raw = {k: list(v) if isinstance(v, tuple) else v for k, v in raw.items()}
    raw["responsible"] = [c for c in raw["responsible"] if c != "china-broadnet"]
    with pytest.raises(ValueError, match=r"item 0: field 'responsible'.*china-broadnet"):
        plan._parse_tasks([raw], "t.yaml", set(plan.organisations_by_code()), range(1, 11))


def test_quantified_target_needs_a_value() -> None:
    target = plan.load_targets()[0]
    raw = {f.name: getattr(target, f.name) for f in dataclasses.fields(target)}
    raw["value"] = None
    with pytest.raises(ValueError, match=r"t.yaml: item 0: field 'value'"):
        plan._parse_targets([raw], "t.yaml")


def test_invalid_yaml_names_the_file() -> None:
    with pytest.raises(ValueError, match=r"^broken.yaml: not valid YAML"):
        plan._load_yaml("- code: [unclosed", "broken.yaml")


def test_unknown_structure_kind_is_rejected() -> None:
    owners = {kind.value: ["china-tower"] for kind in StructureKind}
    owners["bridge"] = ["china-tower"]
    with pytest.raises(ValueError, match=r"s.yaml: item 'bridge'"):
        plan._parse_synthetic_owners(owners, "s.yaml", plan.organisations_by_code())


_FIELD_NAMES = sorted(
    {
        *plan._ORG_REQUIRED,
        *plan._ORG_OPTIONAL,
        *plan._TARGET_FIELDS,
        *plan._TASK_REQUIRED,
        *plan._TASK_OPTIONAL,
        "number",
        "task",
        "actions",
        *(kind.value for kind in StructureKind),
    }
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["cq-jxw", "gov-500101", "operator", "key-1-1", "46000", "500101", ">"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=10,
)
_KEYS = st.one_of(st.sampled_from(_FIELD_NAMES), st.text(max_size=6), st.integers(), st.none())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_KEYS, _VALUES, max_size=12))
def test_validator_raises_only_value_error(raw: dict[object, object]) -> None:
    orgs = plan.organisations_by_code()
    parsers = [
        lambda d: plan._parse_organisations(d, "x.yaml"),
        lambda d: plan._parse_targets(d, "x.yaml"),
        lambda d: plan._parse_columns(d, "x.yaml"),
        lambda d: plan._parse_tasks(d, "x.yaml", set(orgs), range(1, 11)),
        lambda d: plan._parse_synthetic_owners(d, "x.yaml", orgs),
    ]
    for parse in parsers:
        for data in (raw, [raw], [raw, raw]):
            try:
                parse(data)
            except ValueError as exc:
                assert str(exc).startswith("x.yaml")
