"""The Chongqing 5G action plan's structure as data: organisations, targets, tasks and columns.

The plan (重庆市推动5G发展行动计划（2019—2022年）) is kept as YAML files in the package
``mastplan.data.chongqing``:

``organisations.yaml``
    every unit the plan names (牵头单位, 责任单位, 联席会议 members), the 38 district and
    county governments, the operators, the tower company and the owners of social poles;
``synthetic_owners.yaml``
    which organisations own the structures of the synthetic data set, by structure kind;
``plan_targets.yaml``
    the 行动目标 of section 一（三）;
``plan_tasks.yaml``
    the tasks of 二、重点任务 and 三、保障措施 with their lead and responsible units;
``plan_columns.yaml``
    the 10 专栏, with the 12 priority actions of 专栏10.

Every loader validates its file when it reads it and raises :class:`PlanDataError` (a
:class:`ValueError`) naming the file, the item and the field of the first problem. The loaders
cache their result; the returned objects are immutable. ``docs/plan-data.md`` describes the
fields and how to edit the files.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final, NamedTuple

import yaml

from mastplan.errors import MastplanError
from mastplan.planning.costs import CostModel
from mastplan.registry.enums import OrgKind, StructureKind

__all__ = [
    "COMPARATORS",
    "OPERATOR_CODES",
    "TOWER_COMPANY_CODES",
    "OrganisationSpec",
    "PlanAction",
    "PlanColumn",
    "PlanDataError",
    "TargetSpec",
    "TaskSpec",
    "load_columns",
    "load_cost_model",
    "load_organisations",
    "load_synthetic_owners",
    "load_targets",
    "load_tasks",
    "organisations_by_code",
    "tasks_for_organisation",
]

PACKAGE: Final = "mastplan.data.chongqing"
ORGANISATIONS_FILE: Final = "organisations.yaml"
SYNTHETIC_OWNERS_FILE: Final = "synthetic_owners.yaml"
COST_MODEL_FILE: Final = "planning_costs.yaml"
TARGETS_FILE: Final = "plan_targets.yaml"
TASKS_FILE: Final = "plan_tasks.yaml"
COLUMNS_FILE: Final = "plan_columns.yaml"

#: The four basic telecom operators (基础电信企业) a task's ``telecom_enterprises`` stands for.
OPERATOR_CODES: Final = ("china-mobile", "china-telecom", "china-unicom", "china-broadnet")
#: The tower companies (铁塔运营企业) a task's ``tower_companies`` stands for.
TOWER_COMPANY_CODES: Final = ("china-tower",)

#: Comparators of a target: numeric ones for quantified targets, the others for qualitative ones.
NUMERIC_COMPARATORS: Final = frozenset({">", ">=", "<", "<=", "=="})
QUALITATIVE_COMPARATORS: Final = frozenset({"in_tier", "achieved"})
COMPARATORS: Final = NUMERIC_COMPARATORS | QUALITATIVE_COMPARATORS
TARGET_STRANDS: Final = frozenset({"network", "industry", "application", "overall"})
TARGET_SCOPES: Final = frozenset({"city", "district"})
TASK_SECTIONS: Final = frozenset({"key_tasks", "safeguards"})

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_UNIT = re.compile(r"[a-z][a-z0-9_]*")
_DISTRICT_CODE = re.compile(r"\d{6}")
_PLMN = re.compile(r"\d{5,6}")
_KEY_TASK_ID = re.compile(r"key-[1-9][0-9]*(?:-[1-9][0-9]*)?")
_SAFEGUARD_ID = re.compile(r"safeguard-[1-9][0-9]*")

# Column widths of the registry's organisations table.
_CODE_MAX = 64
_NAME_MAX = 200
_SHORT_MAX = 64


class PlanDataError(MastplanError, ValueError):
    """A plan data file is malformed: names the file, the item and the field.

    Parameters
    ----------
    file
        The file (or other source) the data came from.
    message
        What is wrong.
    item
        The 0-based index of the item in a list, or the key of the item in a mapping; ``None``
        when the problem is with the file as a whole.
    field
        The field of the item, or ``None`` when the problem is with the item as a whole.
    """

    def __init__(
        self, file: str, message: str, *, item: int | str | None = None, field: str | None = None
    ) -> None:
        self.file = file
        self.item = item
        self.field = field
        self.message = message
        where = [file]
        if item is not None:
            where.append(f"item {item}" if isinstance(item, int) else f"item {item!r}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(": ".join([*where, message]))


# --- the specs -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrganisationSpec:
    """One organisation of ``organisations.yaml``.

    Attributes
    ----------
    code
        Unique lowercase slug, e.g. ``cq-jxw`` or ``gov-500101``.
    kind
        Government unit, operator, tower company, structure owner or enterprise.
    name_zh, name_en
        Full name in Chinese and in English.
    short_zh, short_en
        Short name as the plan uses it (e.g. 市经济信息委), and an optional English one.
    parent
        Code of the parent organisation, or ``None``.
    district_code
        GB/T 2260 code for the 38 district and county governments, else ``None``.
    plmn
        Public land mobile network identities ("MCCMNC") of an operator; empty otherwise.
    synthetic
        ``True`` for invented organisations of the synthetic data set.
    source
        Where the entry comes from.
    """

    code: str
    kind: OrgKind
    name_zh: str
    name_en: str
    short_zh: str
    short_en: str | None
    parent: str | None
    district_code: str | None
    plmn: tuple[str, ...]
    synthetic: bool
    source: str


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """One target (行动目标) of the plan.

    Attributes
    ----------
    id
        Unique slug, e.g. ``5g-base-stations``.
    strand
        ``network``, ``industry``, ``application`` or ``overall``.
    name_zh, name_en
        Short name of the target.
    definition_zh, definition_en
        What exactly is counted or judged.
    quantified
        ``True`` for a number to track, ``False`` for a qualitative aim.
    comparator
        ``>``, ``>=``, ``<``, ``<=`` or ``==`` for quantified targets; ``in_tier`` or
        ``achieved`` for qualitative ones.
    value
        The number for quantified targets (money in yuan); ``None`` otherwise.
    unit
        Unit of ``value`` (``base_stations``, ``yuan``, ``scenarios``, ``enterprises``, ...);
        ``None`` for qualitative targets.
    year
        The year by which the target is due.
    scope
        ``city`` or ``district``.
    quote_zh
        The sentence of the plan that states the target.
    """

    id: str
    strand: str
    name_zh: str
    name_en: str
    definition_zh: str
    definition_en: str
    quantified: bool
    comparator: str
    value: int | float | None
    unit: str | None
    year: int
    scope: str
    quote_zh: str

    def met_by(self, actual: float) -> bool:
        """Whether an actual figure meets this quantified target.

        Parameters
        ----------
        actual
            The figure in the target's unit (yuan for money).

        Returns
        -------
        bool
            ``actual <comparator> value``.

        Raises
        ------
        ValueError
            If the target is qualitative.
        """
        if not self.quantified or self.value is None:
            raise ValueError(f"target {self.id!r} is qualitative; it has no value to compare")
        match self.comparator:
            case ">":
                return actual > self.value
            case ">=":
                return actual >= self.value
            case "<":
                return actual < self.value
            case "<=":
                return actual <= self.value
            case "==":
                return actual == self.value
            case _:  # pragma: no cover - excluded by validation
                raise ValueError(f"target {self.id!r} has a non-numeric comparator")


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """One task of 二、重点任务 or 三、保障措施.

    Attributes
    ----------
    id
        ``key-1-1`` for 二（一）1, ``key-3`` for 二（三）, ``safeguard-2`` for 三（二）.
    section
        ``key_tasks`` or ``safeguards``.
    number_zh
        The number as printed, e.g. ``二（一）1``.
    group_zh, group_en
        Heading of the 二（…） group of a key task; ``None`` for safeguards.
    title_zh, title_en
        The task's heading.
    summary_zh, summary_en
        One or two sentences of the task's text, and their translation.
    lead
        Codes of the 牵头单位.
    responsible
        Codes of the 责任单位 (operators and the tower company included where the plan names
        基础电信企业 or 铁塔运营企业).
    all_district_governments
        The plan says 各区县政府: all 38 district and county governments are responsible.
    relevant_district_governments
        The plan says 有关区县政府: the district governments concerned are responsible.
    telecom_enterprises
        The plan names 基础电信企业 (then :data:`OPERATOR_CODES` are in ``responsible``).
    tower_companies
        The plan names 铁塔运营企业 (then :data:`TOWER_COMPANY_CODES` are in ``responsible``).
    responsible_etc
        The plan's list of 责任单位 ends with 等, so it is not exhaustive.
    columns
        Numbers of the 专栏 printed under the task.
    members
        Members of a body the task sets up (the joint meeting of 三（一））.
    note
        Free text, e.g. why ``lead`` is empty.
    """

    id: str
    section: str
    number_zh: str
    group_zh: str | None
    group_en: str | None
    title_zh: str
    title_en: str
    summary_zh: str
    summary_en: str
    lead: tuple[str, ...]
    responsible: tuple[str, ...]
    all_district_governments: bool
    relevant_district_governments: bool
    telecom_enterprises: bool
    tower_companies: bool
    responsible_etc: bool
    columns: tuple[int, ...]
    members: tuple[str, ...]
    note: str | None


@dataclass(frozen=True, slots=True)
class PlanAction:
    """One priority action (优先行动) of 专栏10, e.g. 5G＋工业互联网."""

    id: str
    name_zh: str
    name_en: str


@dataclass(frozen=True, slots=True)
class PlanColumn:
    """One 专栏 (boxed column) of the plan.

    Attributes
    ----------
    number
        1–10, as printed.
    title_zh, title_en
        The column's title.
    task
        Id of the task the column is printed under.
    actions
        The priority actions (专栏10 only; empty for the others).
    """

    number: int
    title_zh: str
    title_en: str
    task: str
    actions: tuple[PlanAction, ...]


# --- field reading ---------------------------------------------------------------------------


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


class _Item:
    """The fields of one mapping item; every error names the file, the item and the field."""

    def __init__(
        self,
        raw: object,
        source: str,
        item: int | str,
        required: Collection[str],
        optional: Collection[str] = (),
    ) -> None:
        self.source = source
        self.item = item
        if not isinstance(raw, dict):
            raise self.error(f"expected a mapping of fields, got {_type_name(raw)}")
        allowed = set(required) | set(optional)
        for key in raw:
            if not isinstance(key, str):
                raise self.error(f"field names must be strings, got {_type_name(key)} {key!r}")
            if key not in allowed:
                raise self.error(
                    f"unknown field (allowed: {', '.join(sorted(allowed))})", field=key
                )
        for key in required:
            if key not in raw:
                raise self.error("missing", field=key)
        self.raw: dict[str, object] = raw

    def error(self, message: str, *, field: str | None = None) -> PlanDataError:
        return PlanDataError(self.source, message, item=self.item, field=field)

    def text(self, name: str, *, max_len: int | None = None) -> str:
        value = self.raw.get(name)
        if not isinstance(value, str):
            raise self.error(f"expected a string, got {_type_name(value)}", field=name)
        if not value.strip():
            raise self.error("must not be empty", field=name)
        if max_len is not None and len(value) > max_len:
            raise self.error(f"longer than {max_len} characters", field=name)
        return value

    def optional_text(self, name: str, *, max_len: int | None = None) -> str | None:
        if self.raw.get(name) is None:
            return None
        return self.text(name, max_len=max_len)

    def slug(self, name: str, *, pattern: re.Pattern[str] = _SLUG) -> str:
        value = self.text(name, max_len=_CODE_MAX)
        if not pattern.fullmatch(value):
            raise self.error(f"{value!r} does not match {pattern.pattern}", field=name)
        return value

    def choice(self, name: str, choices: Collection[str]) -> str:
        value = self.text(name)
        if value not in choices:
            raise self.error(f"{value!r} is not one of {', '.join(sorted(choices))}", field=name)
        return value

    def flag(self, name: str, *, default: bool | None = None) -> bool:
        value = self.raw.get(name, default)
        if not isinstance(value, bool):
            raise self.error(f"expected true or false, got {_type_name(value)}", field=name)
        return value

    def integer(self, name: str) -> int:
        value = self.raw.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"expected an integer, got {_type_name(value)}", field=name)
        return value

    def optional_number(self, name: str) -> int | float | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"expected a number, got {_type_name(value)}", field=name)
        if not math.isfinite(value):
            raise self.error("must be a finite number", field=name)
        return value

    def items(self, name: str) -> list[object]:
        value = self.raw.get(name, [])
        if value is None:
            value = []
        if not isinstance(value, list):
            raise self.error(f"expected a list, got {_type_name(value)}", field=name)
        return value

    def text_list(self, name: str, *, pattern: re.Pattern[str] | None = None) -> tuple[str, ...]:
        out: list[str] = []
        for i, value in enumerate(self.items(name)):
            if not isinstance(value, str):
                raise self.error(
                    f"element {i}: expected a string, got {_type_name(value)}", field=name
                )
            if pattern is not None and not pattern.fullmatch(value):
                raise self.error(
                    f"element {i}: {value!r} does not match {pattern.pattern}", field=name
                )
            if value in out:
                raise self.error(f"element {i}: {value!r} is listed twice", field=name)
            out.append(value)
        return tuple(out)

    def int_list(self, name: str) -> tuple[int, ...]:
        out: list[int] = []
        for i, value in enumerate(self.items(name)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.error(
                    f"element {i}: expected an integer, got {_type_name(value)}", field=name
                )
            if value in out:
                raise self.error(f"element {i}: {value} is listed twice", field=name)
            out.append(value)
        return tuple(out)


def _items(data: object, source: str) -> list[object]:
    """The top level of a list file."""
    if not isinstance(data, list):
        raise PlanDataError(
            source, f"expected a list of items at the top level, got {_type_name(data)}"
        )
    return data


def _check_refs(item: _Item, name: str, codes: tuple[str, ...], known: Collection[str]) -> None:
    for code in codes:
        if code not in known:
            raise item.error(f"unknown organisation code {code!r}", field=name)


# --- parsers (pure: data in, specs out) ------------------------------------------------------

_ORG_REQUIRED = ("code", "kind", "name_zh", "name_en", "short_zh", "synthetic", "source")
_ORG_OPTIONAL = ("short_en", "parent", "district_code", "plmn")


def _parse_organisations(data: object, source: str) -> tuple[OrganisationSpec, ...]:
    """Validate the parsed content of ``organisations.yaml``.

    Parameters
    ----------
    data
        What :func:`yaml.safe_load` returned for the file.
    source
        The file's name, for error messages.

    Returns
    -------
    tuple of OrganisationSpec
        In file order.

    Raises
    ------
    PlanDataError
        On the first problem: unknown or missing field, wrong type or kind, duplicate code or
        PLMN, dangling or cyclic parent, a district code that does not match the code.
    """
    specs: list[OrganisationSpec] = []
    seen: dict[str, int] = {}
    plmn_seen: dict[str, str] = {}
    for index, raw in enumerate(_items(data, source)):
        it = _Item(raw, source, index, _ORG_REQUIRED, _ORG_OPTIONAL)
        code = it.slug("code")
        if code in seen:
            raise it.error(f"duplicate code {code!r} (first at item {seen[code]})", field="code")
        seen[code] = index
        kind = OrgKind(it.choice("kind", [k.value for k in OrgKind]))
        parent = it.optional_text("parent")
        if parent is not None and parent == code:
            raise it.error("an organisation cannot be its own parent", field="parent")
        district_code = it.optional_text("district_code")
        if district_code is not None:
            if not _DISTRICT_CODE.fullmatch(district_code):
                raise it.error(
                    f"{district_code!r} is not a 6-digit GB/T 2260 code", field="district_code"
                )
            if kind is not OrgKind.GOVERNMENT_UNIT or code != f"gov-{district_code}":
                raise it.error(
                    f"only the government unit 'gov-{district_code}' may carry this code",
                    field="district_code",
                )
        elif code.startswith("gov-"):
            raise it.error("a 'gov-' organisation needs its GB/T 2260 code", field="district_code")
        plmn = it.text_list("plmn", pattern=_PLMN)
        if kind is OrgKind.OPERATOR and not plmn:
            raise it.error("an operator needs at least one PLMN", field="plmn")
        if kind is not OrgKind.OPERATOR and plmn:
            raise it.error("only operators have PLMNs", field="plmn")
        for value in plmn:
            if value in plmn_seen:
                raise it.error(
                    f"PLMN {value} already belongs to {plmn_seen[value]!r}", field="plmn"
                )
            plmn_seen[value] = code
        synthetic = it.flag("synthetic")
        if synthetic != code.startswith("syn-"):
            raise it.error(
                "synthetic organisations, and only they, have codes starting with 'syn-'",
                field="synthetic",
            )
        specs.append(
            OrganisationSpec(
                code=code,
                kind=kind,
                name_zh=it.text("name_zh", max_len=_NAME_MAX),
                name_en=it.text("name_en", max_len=_NAME_MAX),
                short_zh=it.text("short_zh", max_len=_SHORT_MAX),
                short_en=it.optional_text("short_en", max_len=_SHORT_MAX),
                parent=parent,
                district_code=district_code,
                plmn=plmn,
                synthetic=synthetic,
                source=it.text("source"),
            )
        )
    parents = {spec.code: spec.parent for spec in specs}
    for index, spec in enumerate(specs):
        if spec.parent is None:
            continue
        if spec.parent not in parents:
            raise PlanDataError(
                source, f"unknown organisation code {spec.parent!r}", item=index, field="parent"
            )
        chain = {spec.code}
        up: str | None = spec.parent
        while up is not None:
            if up in chain:
                raise PlanDataError(
                    source, "the parent chain is a cycle", item=index, field="parent"
                )
            chain.add(up)
            up = parents.get(up)
    return tuple(specs)


def _parse_synthetic_owners(
    data: object, source: str, organisations: Mapping[str, OrganisationSpec]
) -> dict[str, tuple[str, ...]]:
    """Validate the parsed content of ``synthetic_owners.yaml``.

    Parameters
    ----------
    data
        What :func:`yaml.safe_load` returned for the file.
    source
        The file's name, for error messages.
    organisations
        The known organisations by code.

    Returns
    -------
    dict of str to tuple of str
        Structure kind to owner codes, one entry for every :class:`StructureKind`.

    Raises
    ------
    PlanDataError
        On an unknown or missing structure kind, an empty or malformed list, or an unknown
        organisation code.
    """
    if not isinstance(data, dict):
        raise PlanDataError(source, f"expected a mapping at the top level, got {_type_name(data)}")
    kinds = [k.value for k in StructureKind]
    out: dict[str, tuple[str, ...]] = {}
    for key, value in data.items():
        if not isinstance(key, str) or key not in kinds:
            raise PlanDataError(
                source, f"unknown structure kind (known: {', '.join(sorted(kinds))})", item=str(key)
            )
        it = _Item({"owners": value}, source, key, ("owners",))
        owners = it.text_list("owners", pattern=_SLUG)
        if not owners:
            raise it.error("at least one owner is needed", field="owners")
        _check_refs(it, "owners", owners, organisations)
        out[key] = owners
    missing = [k for k in kinds if k not in out]
    if missing:
        raise PlanDataError(source, f"no owners for structure kinds: {', '.join(missing)}")
    return out


_TARGET_FIELDS = (
    "id",
    "strand",
    "name_zh",
    "name_en",
    "definition_zh",
    "definition_en",
    "quantified",
    "comparator",
    "value",
    "unit",
    "year",
    "scope",
    "quote_zh",
)


def _parse_targets(data: object, source: str) -> tuple[TargetSpec, ...]:
    """Validate the parsed content of ``plan_targets.yaml``.

    Parameters
    ----------
    data
        What :func:`yaml.safe_load` returned for the file.
    source
        The file's name, for error messages.

    Returns
    -------
    tuple of TargetSpec
        In file order.

    Raises
    ------
    PlanDataError
        On the first problem: unknown or missing field, wrong type, duplicate id, a quantified
        target without a number or a qualitative one with a number.
    """
    specs: list[TargetSpec] = []
    seen: set[str] = set()
    for index, raw in enumerate(_items(data, source)):
        it = _Item(raw, source, index, _TARGET_FIELDS)
        target_id = it.slug("id")
        if target_id in seen:
            raise it.error(f"duplicate id {target_id!r}", field="id")
        seen.add(target_id)
        quantified = it.flag("quantified")
        comparator = it.choice("comparator", COMPARATORS)
        value = it.optional_number("value")
        unit = it.optional_text("unit")
        if unit is not None and not _UNIT.fullmatch(unit):
            raise it.error(f"{unit!r} does not match {_UNIT.pattern}", field="unit")
        if quantified:
            if comparator not in NUMERIC_COMPARATORS:
                raise it.error("a quantified target needs a numeric comparator", field="comparator")
            if value is None:
                raise it.error("a quantified target needs a value", field="value")
            if unit is None:
                raise it.error("a quantified target needs a unit", field="unit")
        else:
            if comparator not in QUALITATIVE_COMPARATORS:
                raise it.error(
                    "a qualitative target takes 'in_tier' or 'achieved'", field="comparator"
                )
            if value is not None:
                raise it.error("a qualitative target has no value (use null)", field="value")
        year = it.integer("year")
        if not 2019 <= year <= 2035:
            raise it.error(f"{year} is outside 2019–2035", field="year")
        specs.append(
            TargetSpec(
                id=target_id,
                strand=it.choice("strand", TARGET_STRANDS),
                name_zh=it.text("name_zh"),
                name_en=it.text("name_en"),
                definition_zh=it.text("definition_zh"),
                definition_en=it.text("definition_en"),
                quantified=quantified,
                comparator=comparator,
                value=value,
                unit=unit,
                year=year,
                scope=it.choice("scope", TARGET_SCOPES),
                quote_zh=it.text("quote_zh"),
            )
        )
    return tuple(specs)


def _parse_columns(data: object, source: str) -> tuple[PlanColumn, ...]:
    """Validate the parsed content of ``plan_columns.yaml``.

    Parameters
    ----------
    data
        What :func:`yaml.safe_load` returned for the file.
    source
        The file's name, for error messages.

    Returns
    -------
    tuple of PlanColumn
        In file order.

    Raises
    ------
    PlanDataError
        On the first problem: unknown or missing field, wrong type, duplicate number or action id.
        That each column's ``task`` exists is checked by :func:`load_tasks`.
    """
    specs: list[PlanColumn] = []
    seen: set[int] = set()
    for index, raw in enumerate(_items(data, source)):
        it = _Item(raw, source, index, ("number", "title_zh", "title_en", "task"), ("actions",))
        number = it.integer("number")
        if number < 1:
            raise it.error("column numbers start at 1", field="number")
        if number in seen:
            raise it.error(f"duplicate number {number}", field="number")
        seen.add(number)
        actions: list[PlanAction] = []
        for a_index, a_raw in enumerate(it.items("actions")):
            a_it = _Item(a_raw, source, f"{index}.actions[{a_index}]", ("id", "name_zh", "name_en"))
            action_id = a_it.slug("id")
            if any(a.id == action_id for a in actions):
                raise a_it.error(f"duplicate action id {action_id!r}", field="id")
            actions.append(
                PlanAction(id=action_id, name_zh=a_it.text("name_zh"), name_en=a_it.text("name_en"))
            )
        specs.append(
            PlanColumn(
                number=number,
                title_zh=it.text("title_zh"),
                title_en=it.text("title_en"),
                task=it.slug("task"),
                actions=tuple(actions),
            )
        )
    return tuple(specs)


_TASK_REQUIRED = (
    "id",
    "section",
    "number_zh",
    "title_zh",
    "title_en",
    "summary_zh",
    "summary_en",
    "lead",
    "responsible",
    "all_district_governments",
    "relevant_district_governments",
    "telecom_enterprises",
    "tower_companies",
    "responsible_etc",
    "columns",
)
_TASK_OPTIONAL = ("group_zh", "group_en", "members", "note")


def _parse_tasks(
    data: object,
    source: str,
    organisations: Collection[str],
    columns: Collection[int],
) -> tuple[TaskSpec, ...]:
    """Validate the parsed content of ``plan_tasks.yaml``.

    Parameters
    ----------
    data
        What :func:`yaml.safe_load` returned for the file.
    source
        The file's name, for error messages.
    organisations
        The known organisation codes.
    columns
        The known 专栏 numbers.

    Returns
    -------
    tuple of TaskSpec
        In file order.

    Raises
    ------
    PlanDataError
        On the first problem: unknown or missing field, wrong type, an id that does not fit its
        section, duplicate id, dangling organisation code or column number, a task without lead
        and without a note, or flags that contradict the lists.
    """
    specs: list[TaskSpec] = []
    seen: set[str] = set()
    for index, raw in enumerate(_items(data, source)):
        it = _Item(raw, source, index, _TASK_REQUIRED, _TASK_OPTIONAL)
        task_id = it.slug("id")
        if task_id in seen:
            raise it.error(f"duplicate id {task_id!r}", field="id")
        seen.add(task_id)
        section = it.choice("section", TASK_SECTIONS)
        pattern = _KEY_TASK_ID if section == "key_tasks" else _SAFEGUARD_ID
        if not pattern.fullmatch(task_id):
            raise it.error(f"a {section} id must match {pattern.pattern}", field="id")
        lead = it.text_list("lead", pattern=_SLUG)
        responsible = it.text_list("responsible", pattern=_SLUG)
        members = it.text_list("members", pattern=_SLUG)
        for name, codes in (("lead", lead), ("responsible", responsible), ("members", members)):
            _check_refs(it, name, codes, organisations)
        both = [code for code in responsible if code in lead]
        if both:
            raise it.error(f"{both[0]!r} is also in lead", field="responsible")
        note = it.optional_text("note")
        if not lead and note is None:
            raise it.error("a task without lead units needs a note saying why", field="lead")
        all_districts = it.flag("all_district_governments")
        relevant_districts = it.flag("relevant_district_governments")
        if all_districts and relevant_districts:
            raise it.error(
                "all_district_governments and relevant_district_governments exclude each other",
                field="relevant_district_governments",
            )
        telecom = it.flag("telecom_enterprises")
        if telecom:
            missing = [code for code in OPERATOR_CODES if code not in responsible]
            if missing:
                raise it.error(
                    f"telecom_enterprises is true but {missing[0]!r} is not responsible",
                    field="responsible",
                )
        towers = it.flag("tower_companies")
        if towers:
            missing = [code for code in TOWER_COMPANY_CODES if code not in responsible]
            if missing:
                raise it.error(
                    f"tower_companies is true but {missing[0]!r} is not responsible",
                    field="responsible",
                )
        task_columns = it.int_list("columns")
        for number in task_columns:
            if number not in columns:
                raise it.error(f"unknown column {number}", field="columns")
        specs.append(
            TaskSpec(
                id=task_id,
                section=section,
                number_zh=it.text("number_zh"),
                group_zh=it.optional_text("group_zh"),
                group_en=it.optional_text("group_en"),
                title_zh=it.text("title_zh"),
                title_en=it.text("title_en"),
                summary_zh=it.text("summary_zh"),
                summary_en=it.text("summary_en"),
                lead=lead,
                responsible=responsible,
                all_district_governments=all_districts,
                relevant_district_governments=relevant_districts,
                telecom_enterprises=telecom,
                tower_companies=towers,
                responsible_etc=it.flag("responsible_etc"),
                columns=task_columns,
                members=members,
                note=note,
            )
        )
    return tuple(specs)


def _load_yaml(text: str, source: str) -> object:
    """Parse YAML text with :func:`yaml.safe_load`, naming ``source`` on a syntax error."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlanDataError(source, f"not valid YAML: {exc}") from exc


def _source(name: str) -> str:
    return f"{PACKAGE.replace('.', '/')}/{name}"


def _read(name: str) -> object:
    text = resources.files(PACKAGE).joinpath(name).read_text(encoding="utf-8")
    return _load_yaml(text, _source(name))


# --- loaders ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def load_organisations() -> tuple[OrganisationSpec, ...]:
    """Load the organisations of the plan.

    Returns
    -------
    tuple of OrganisationSpec
        In file order: municipal units, operators, tower company, structure owners, then the 38
        district and county governments.

    Raises
    ------
    PlanDataError
        If ``organisations.yaml`` is malformed.
    """
    return _parse_organisations(_read(ORGANISATIONS_FILE), _source(ORGANISATIONS_FILE))


def organisations_by_code() -> dict[str, OrganisationSpec]:
    """The organisations of the plan by code (a new dict on every call).

    Returns
    -------
    dict of str to OrganisationSpec
    """
    return {spec.code: spec for spec in load_organisations()}


@functools.lru_cache(maxsize=1)
def _synthetic_owners() -> tuple[tuple[str, tuple[str, ...]], ...]:
    data = _parse_synthetic_owners(
        _read(SYNTHETIC_OWNERS_FILE), _source(SYNTHETIC_OWNERS_FILE), organisations_by_code()
    )
    return tuple(data.items())


def load_synthetic_owners() -> dict[str, tuple[str, ...]]:
    """Load which organisations own the synthetic structures of each kind.

    Returns
    -------
    dict of str to tuple of str
        Structure kind (a :class:`~mastplan.registry.enums.StructureKind` value) to organisation
        codes; every kind is present. A new dict on every call.

    Raises
    ------
    PlanDataError
        If ``synthetic_owners.yaml`` or ``organisations.yaml`` is malformed.
    """
    return dict(_synthetic_owners())


@functools.lru_cache(maxsize=1)
def load_targets() -> tuple[TargetSpec, ...]:
    """Load the plan's targets (行动目标).

    Returns
    -------
    tuple of TargetSpec
        Quantified targets first, in file order.

    Raises
    ------
    PlanDataError
        If ``plan_targets.yaml`` is malformed.
    """
    return _parse_targets(_read(TARGETS_FILE), _source(TARGETS_FILE))


@functools.lru_cache(maxsize=1)
def load_columns() -> tuple[PlanColumn, ...]:
    """Load the plan's 10 专栏.

    Returns
    -------
    tuple of PlanColumn
        In file order.

    Raises
    ------
    PlanDataError
        If ``plan_columns.yaml`` is malformed.
    """
    return _parse_columns(_read(COLUMNS_FILE), _source(COLUMNS_FILE))


@functools.lru_cache(maxsize=1)
def load_tasks() -> tuple[TaskSpec, ...]:
    """Load the plan's tasks (重点任务 and 保障措施), checked against organisations and columns.

    Returns
    -------
    tuple of TaskSpec
        In the plan's order.

    Raises
    ------
    PlanDataError
        If ``plan_tasks.yaml`` is malformed, refers to an unknown organisation or column, or
        disagrees with ``plan_columns.yaml`` about which task a column belongs to.
    """
    columns = load_columns()
    source = _source(TASKS_FILE)
    tasks = _parse_tasks(
        _read(TASKS_FILE),
        source,
        {spec.code for spec in load_organisations()},
        {column.number for column in columns},
    )
    by_id = {task.id: task for task in tasks}
    for index, column in enumerate(columns):
        owner = by_id.get(column.task)
        if owner is None or column.number not in owner.columns:
            raise PlanDataError(
                _source(COLUMNS_FILE),
                f"task {column.task!r} does not list column {column.number} in {source}",
                item=index,
                field="task",
            )
    for index, task in enumerate(tasks):
        for number in task.columns:
            column = next(c for c in columns if c.number == number)
            if column.task != task.id:
                raise PlanDataError(
                    source,
                    f"column {number} belongs to task {column.task!r}",
                    item=index,
                    field="columns",
                )
    return tasks


def tasks_for_organisation(code: str) -> tuple[TaskSpec, ...]:
    """The tasks an organisation leads, is responsible for or is a member of.

    A district or county government (``gov-<code>``) is included in tasks that name
    各区县政府 (``all_district_governments``); tasks that name 有关区县政府 are not included,
    since the plan does not say which districts are concerned.

    Parameters
    ----------
    code
        An organisation code.

    Returns
    -------
    tuple of TaskSpec
        In the plan's order.

    Raises
    ------
    KeyError
        If ``code`` is not an organisation of the plan.
    """
    spec = organisations_by_code()[code]
    is_district = spec.district_code is not None
    return tuple(
        task
        for task in load_tasks()
        if code in task.lead
        or code in task.responsible
        or code in task.members
        or (is_district and task.all_district_governments)
    )


def load_cost_model(path: Path | None = None) -> CostModel:
    """The planner's cost model: ``path`` (a YAML file) or the packaged Chongqing default."""
    if path is None:
        data, source = _read(COST_MODEL_FILE), _source(COST_MODEL_FILE)
    else:
        source = str(path)
        try:
            data = _load_yaml(Path(path).read_text(encoding="utf-8"), source)
        except OSError as exc:
            raise PlanDataError(source, f"cannot read: {exc.strerror}") from None
    if not isinstance(data, dict):
        raise PlanDataError(source, "expected a mapping at the top level")
    try:
        return CostModel.from_mapping(data, source)
    except ValueError as exc:
        raise PlanDataError(source, str(exc).removeprefix(f"{source}: ")) from None


class Population(NamedTuple):
    """The 7th census: its year, the city total, and per district ``(population, source)``
    (``(None, None)`` where no sourced figure is known)."""

    census_year: int
    city_total: int | None
    districts: dict[str, tuple[int | None, str | None]]


@functools.lru_cache(maxsize=1)
def load_district_population() -> Population:
    """Resident population of the city and its districts at the 7th census
    (``district_population.yaml``)."""
    name = "district_population.yaml"
    data = _read(name)
    if not isinstance(data, dict) or not isinstance(data.get("districts"), list):
        raise PlanDataError(_source(name), "needs census_year and a list of districts")
    out: dict[str, tuple[int | None, str | None]] = {}
    for i, row in enumerate(data["districts"]):
        code, pop = str(row.get("code", "")), row.get("population")
        if len(code) != 6 or not code.isdigit() or code in out:
            raise PlanDataError(_source(name), f"districts[{i}]: bad or repeated code {code!r}")
        if pop is not None and (isinstance(pop, bool) or not isinstance(pop, int) or pop <= 0):
            why = f"districts[{i}] ({code}): population must be a positive whole number or null"
            raise PlanDataError(_source(name), f"{why}, got {pop!r}")
        if pop is not None and not row.get("source"):
            raise PlanDataError(_source(name), f"districts[{i}] ({code}): a figure needs a source")
        out[code] = (pop, row.get("source"))
    total = data.get("city_total")
    return Population(int(data["census_year"]), int(total) if total else None, out)
