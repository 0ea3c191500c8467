"""Sharing (共建共享): the fee policy as data and its check, and the working-day calendar of the
owners' answer deadlines. The request workflow, roles and cases build on these."""

from mastplan.sharing.calendar import (
    add_working_days,
    deadline,
    is_overdue,
    is_working_day,
    working_days,
)
from mastplan.sharing.policy import FeeItem, FeePolicy, Violation, check_offer, load_fee_policy

__all__ = [
    "FeeItem",
    "FeePolicy",
    "Violation",
    "add_working_days",
    "check_offer",
    "deadline",
    "is_overdue",
    "is_working_day",
    "load_fee_policy",
    "working_days",
]
