"""The fee policy file and the check of fee offers: prohibited items (进场费, 协调费, 分摊费),
unknown items, caps by height band, electricity at cost under its cap, and public facilities
opened free of charge."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from mastplan.errors import MastplanError
from mastplan.sharing import FeeItem, check_offer, load_fee_policy
from mastplan.sharing.policy import DEFAULT_POLICY, FeePolicy

POLICY = load_fee_policy()
TOWER = {"owner_kind": "tower_company", "structure_kind": "telecom_tower"}
PUBLIC_POLE = {"owner_kind": "government_unit", "structure_kind": "lamp_pole"}


def test_the_packaged_policy_carries_the_plans_rules():
    assert POLICY.version == "2019.1" and POLICY.effective_from == dt.date(2019, 5, 1)
    assert set(POLICY.prohibited) == {"entry_fee", "coordination_fee", "apportionment_fee"}
    assert {zh for zh, _ in POLICY.prohibited.values()} == {"进场费", "协调费", "分摊费"}
    # China Tower's discounts (chongqing-facts.md): 30 % with 2 sharers, 40 % with 3 and more
    assert POLICY.discount(1) == 0.0
    assert POLICY.discount(2) == 0.30 and POLICY.discount(3) == 0.40 and POLICY.discount(4) == 0.40
    assert POLICY.anchor_tenant_markup == 0.05
    assert POLICY.answer_within_working_days == 10


def test_a_fair_offer_passes():
    offer = [FeeItem("space_rent", 8000), FeeItem("electricity", 0.85), FeeItem("maintenance", 0)]
    assert check_offer(POLICY, offer, height_m=35.0, **TOWER) == []


@pytest.mark.parametrize("item, zh", [("entry_fee", "进场费"), ("coordination_fee", "协调费"),
                                      ("apportionment_fee", "分摊费")])  # fmt: skip
def test_prohibited_fees_are_named_whatever_the_amount(item, zh):
    for amount in (0.0, 1.0, 50_000.0):
        (v,) = check_offer(POLICY, [FeeItem(item, amount)], height_m=10.0, **TOWER)
        assert v.rule == "prohibited_item" and zh in v.message and "2019.1" in v.message


def test_any_item_not_on_the_allowed_list_is_refused():
    (v,) = check_offer(POLICY, [FeeItem("consulting", 100.0)], height_m=10.0, **TOWER)
    assert v.rule == "unknown_item" and "space_rent" in v.message


def test_rent_caps_follow_the_height_band_of_the_highest_mount():
    # bands of the file: < 10 m 3,000; < 20 m 5,000; < 40 m 8,000; above 12,000 yuan
    for height, cap in ((5.0, 3000), (9.99, 3000), (10.0, 5000), (39.9, 8000), (40.0, 12000)):
        assert check_offer(POLICY, [FeeItem("space_rent", cap)], height_m=height, **TOWER) == []
        (v,) = check_offer(POLICY, [FeeItem("space_rent", cap + 1)], height_m=height, **TOWER)
        assert v.rule == "above_cap" and f"{cap:,.2f}" in v.message


def test_electricity_is_at_cost_under_its_price_cap_and_amounts_are_not_negative():
    (v,) = check_offer(POLICY, [FeeItem("electricity", 0.95)], height_m=10.0, **TOWER)
    assert v.rule == "above_cap" and "电费" in v.message
    (v,) = check_offer(POLICY, [FeeItem("maintenance", -5)], height_m=10.0, **TOWER)
    assert v.rule == "negative_amount"
    (v,) = check_offer(POLICY, [FeeItem("maintenance", 10), FeeItem("maintenance", 10)],
                       height_m=10.0, **TOWER)  # fmt: skip
    assert v.rule == "duplicate_item"


def test_public_poles_the_plan_opens_charge_no_rent_but_electricity_at_cost():
    assert POLICY.is_free_facility("government_unit", "lamp_pole")
    assert not POLICY.is_free_facility("structure_owner", "lamp_pole")
    assert not POLICY.is_free_facility("government_unit", "telecom_tower")
    (v,) = check_offer(POLICY, [FeeItem("space_rent", 1.0)], height_m=8.0, **PUBLIC_POLE)
    assert v.rule == "free_public_facility" and "空间租赁费" in v.message
    ok = [FeeItem("space_rent", 0.0), FeeItem("electricity", 0.60)]
    assert check_offer(POLICY, ok, height_m=8.0, **PUBLIC_POLE) == []


@given(st.floats(0, 20_000, allow_nan=False), st.floats(0, 60, allow_nan=False))
def test_a_rent_is_refused_exactly_when_it_is_above_its_band(amount, height):
    cap = POLICY.cap_yuan("space_rent", height)
    found = check_offer(POLICY, [FeeItem("space_rent", amount)], height_m=height, **TOWER)
    assert (found != []) == (amount > cap + 1e-9)


def _policy_data() -> dict:
    return yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "change, where",
    [
        (lambda d: d.pop("answer_within_working_days"), "answer_within_working_days: missing"),
        (lambda d: d.update(answer_within_working_days=0), "answer_within_working_days"),
        (lambda d: d["sharing_discount"].update({2: 1.5}), "sharing_discount.2"),
        (lambda d: d["allowed_items"]["maintenance"].pop("max_yuan"), "allowed_items.maintenance"),
        (lambda d: d["allowed_items"]["space_rent"]["max_by_height_band"].pop(),
         "only the last band is open"),
        (lambda d: d["prohibited_items"].update(maintenance={"name_zh": "x", "name_en": "x"}),
         "prohibited_items.maintenance"),
        (lambda d: d["free_public_facilities"]["free_items"].append("parking"), "free_items"),
        (lambda d: d.update(effective_from="soon"), "effective_from"),
    ],
)  # fmt: skip
def test_a_bad_policy_file_is_refused_naming_the_key(change, where):
    data = _policy_data()
    change(data)
    with pytest.raises(MastplanError) as err:
        FeePolicy.from_mapping(data, "policy.yaml")
    assert str(err.value).startswith("policy.yaml: ") and where in str(err.value)


def test_unreadable_policy_files_are_named(tmp_path):
    with pytest.raises(MastplanError, match=r"nothing\.yaml"):
        load_fee_policy(tmp_path / "nothing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("policy: [unclosed", encoding="utf-8")
    with pytest.raises(MastplanError, match=r"bad\.yaml: not valid YAML"):
        load_fee_policy(bad)


def test_the_planner_prices_sharing_with_the_policys_discounts():
    # two files the regulator edits carry China Tower's terms: they must not drift apart
    from mastplan.data.plan import load_cost_model

    costs = load_cost_model(None)
    assert costs.sharing_discount == POLICY.sharing_discount
    assert costs.anchor_tenant_markup == POLICY.anchor_tenant_markup
