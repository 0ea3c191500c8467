"""``mastplan sharing``: file and move sharing requests, and the regulator's cases.

Every command acts as a registered user (``--as USER`` or ``MASTPLAN_USER``) and sees only
what that user may see. A move the lifecycle, the capacity or the fee policy forbids exits
non-zero with one line saying why.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from mastplan.cli.common import (
    DatabaseOpt,
    ReasonOpt,
    UserOpt,
    _at,
    _run,
    _session,
    _table,
    console,
)
from mastplan.config import current_user
from mastplan.errors import MastplanError
from mastplan.registry.models import SharingRequest
from mastplan.sharing.lifecycle import Action

sharing_app = typer.Typer(
    help="Sharing requests (共建共享) and the regulator's cases.", no_args_is_help=True
)

IdArg = Annotated[int, typer.Argument(help="Request id.", show_default=False)]
StructureOpt = Annotated[str, typer.Option("--structure", help="Structure external id.")]
PositionsOpt = Annotated[
    str | None, typer.Option("--positions", help="Mount positions by number, e.g. 2,3.")
]
CountOpt = Annotated[
    int | None, typer.Option("--count", help="Any N free positions (chosen at approval).")
]
HeightOpt = Annotated[
    float | None, typer.Option("--height-m", help="Mount height [default: the structure's].")
]
PayloadOpt = Annotated[float, typer.Option("--payload-kg", help="Equipment mass.")]
WindOpt = Annotated[float, typer.Option("--wind-area-m2", help="Equipment wind area.")]
PowerOpt = Annotated[float, typer.Option("--power-kw", help="Power drawn.")]
FibreOpt = Annotated[bool, typer.Option("--fibre/--no-fibre", help="Needs fibre.")]
SiteOpt = Annotated[str | None, typer.Option("--site", help="The operator's site it serves.")]
FeeOpt = Annotated[
    list[str] | None,
    typer.Option("--fee", help="Fee offer line ITEM=AMOUNT (repeat), e.g. space_rent=7000."),
]
AtOpt = Annotated[
    str | None, typer.Option("--at", help="As of this time (ISO 8601) [default: now].")
]


def _spec(structure, positions, count, height_m, payload_kg, wind_area_m2, power_kw, fibre,
          site, fee):  # fmt: skip
    from mastplan.sharing.policy import FeeItem
    from mastplan.sharing.requests import RequestSpec

    numbers: tuple[int, ...] = ()
    if positions:
        try:
            numbers = tuple(int(p) for p in positions.split(",") if p.strip())
        except ValueError:
            raise MastplanError(f"--positions must be like 2,3, got {positions!r}") from None
    lines = []
    for text in fee or []:
        item, sep, amount = text.partition("=")
        try:
            lines.append(FeeItem(item.strip(), float(amount)))
        except ValueError:
            sep = ""
        if not sep or not item.strip():
            raise MastplanError(f"--fee must be ITEM=AMOUNT, got {text!r}")
    return RequestSpec(structure, numbers, count, height_m, payload_kg, wind_area_m2, power_kw,
                       fibre, site, tuple(lines))  # fmt: skip


@sharing_app.command("request")
def request_cmd(
    structure: StructureOpt,
    positions: PositionsOpt = None,
    count: CountOpt = None,
    height_m: HeightOpt = None,
    payload_kg: PayloadOpt = 0.0,
    wind_area_m2: WindOpt = 0.0,
    power_kw: PowerOpt = 0.0,
    fibre: FibreOpt = False,
    site: SiteOpt = None,
    fee: FeeOpt = None,
    submit: Annotated[bool, typer.Option("--submit", help="Submit it at once.")] = False,
    amend: Annotated[
        int | None,
        typer.Option(
            "--amend",
            help="Rewrite this request (a draft, or one sent back for "
            "changes) instead of filing a new one.",
        ),
    ] = None,
    user: UserOpt = None,
    reason: ReasonOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """File a request for space on a structure (a draft, or submitted with --submit)."""
    from mastplan.sharing.requests import act, amend_request, file_request

    def body() -> None:
        spec = _spec(structure, positions, count, height_m, payload_kg, wind_area_m2, power_kw,
                     fibre, site, fee)  # fmt: skip
        name = current_user(user)
        with _session(database) as session:
            if amend is None:
                req = file_request(session, name, spec, submit=submit, reason=reason)
                done = "filed"
            else:
                req = amend_request(session, name, amend, spec, reason)
                if submit:
                    req = act(session, name, req.id, Action.SUBMIT, reason=reason)
                done = "amended"
            due = f", answer due {req.answer_due_on}" if req.state.value == "submitted" else ""
            console.print(f"request {req.id} {done} ({req.state.value}{due})")

    _run(body)


_ACTION_HELP = {
    Action.SUBMIT: "Submit a draft (or an amended request) to the structure's owner.",
    Action.REVIEW: "Owner: take a submitted request under review.",
    Action.APPROVE: "Owner: approve; checks the fee policy and books the capacity.",
    Action.REJECT: "Owner: reject (needs --reason).",
    Action.REQUEST_CHANGES: "Owner: send back for changes (needs --reason).",
    Action.WITHDRAW: "Operator: withdraw a request before approval.",
    Action.INSTALL: "Operator: the equipment is installed.",
    Action.ACTIVATE: "Owner: the installation is accepted; the tenancy is active.",
    Action.RELEASE: "Operator: leave the structure; frees the capacity.",
    Action.FORCE_RELEASE: "Regulator: release by decision (needs --reason); frees the capacity.",
}


def _transition_command(action: Action) -> None:
    def command(
        request_id: IdArg,
        user: UserOpt = None,
        reason: ReasonOpt = None,
        database: DatabaseOpt = None,
    ) -> None:
        from mastplan.sharing.requests import act

        def body() -> None:
            with _session(database) as session:
                req = act(session, current_user(user), request_id, action, reason=reason)
                due = (f", answer due {req.answer_due_on}"
                       if action is Action.SUBMIT and req.answer_due_on else "")  # fmt: skip
                console.print(f"request {req.id}: {action.value} → {req.state.value}{due}")

        _run(body)

    command.__doc__ = _ACTION_HELP[action]
    sharing_app.command(action.value)(command)


for _action in Action:
    _transition_command(_action)


@sharing_app.command("waive")
def waive_cmd(
    request_id: IdArg,
    item: Annotated[str, typer.Option("--item", help="The fee item to waive (set to 0).")],
    user: UserOpt = None,
    reason: ReasonOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Owner or regulator: waive one fee item of a request awaiting its answer (needs --reason)."""
    from mastplan.sharing.requests import waive_fee

    def body() -> None:
        with _session(database) as session:
            req = waive_fee(session, current_user(user), request_id, item, reason=reason)
            console.print(f"request {req.id}: {item} waived")

    _run(body)


def _positions(req: SharingRequest) -> str:
    if req.tenancy is not None and req.tenancy.positions:
        return ",".join(str(p.position) for p in req.tenancy.positions)
    return ",".join(map(str, req.positions)) if req.positions else f"any {req.position_count}"


@sharing_app.command("list")
def list_cmd(
    state: Annotated[
        list[str] | None, typer.Option("--state", help="Only these states (repeat).")
    ] = None,
    structure: Annotated[str | None, typer.Option(help="Only this structure.")] = None,
    user: UserOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """The requests you may see, newest first."""
    from mastplan.sharing.requests import list_requests

    def body() -> None:
        with _session(database) as session:
            rows = list_requests(session, current_user(user), states=state or (),
                                 structure=structure)  # fmt: skip
            table = _table("id", "state", "operator", "structure", "positions", "kg", "kW",
                           "answer due", title=f"{len(rows)} request(s)")  # fmt: skip
            for r in rows:
                table.add_row(str(r.id), r.state.value, r.operator.code, r.structure.external_id,
                              _positions(r), f"{r.payload_kg:g}", f"{r.power_kw:g}",
                              str(r.answer_due_on or ""))  # fmt: skip
            console.print(table)

    _run(body)


@sharing_app.command("tenancies")
def tenancies_cmd(
    structure: Annotated[str | None, typer.Option(help="Only this structure.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Released tenancies too.")] = False,
    user: UserOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """The tenancies you may see: positions, payload and power let, and since when."""
    from mastplan.sharing.leases import list_tenancies

    def body() -> None:
        with _session(database) as session:
            rows = list_tenancies(session, current_user(user), structure=structure,
                                  active_only=not all_)  # fmt: skip
            table = _table("id", "operator", "structure", "owner", "positions", "kg", "kW",
                           "since", "status", "request",
                           title=f"{len(rows)} tenancies")  # fmt: skip
            for t, request_id in rows:
                table.add_row(str(t.id), t.operator.code, t.structure.external_id,
                              t.structure.owner.code,
                              ",".join(str(p.position) for p in t.positions),
                              f"{t.payload_kg:g}", f"{t.power_kw:g}", str(t.start_on or ""),
                              t.status.value, str(request_id or ""))  # fmt: skip
            console.print(table)

    _run(body)


@sharing_app.command("show")
def show_cmd(request_id: IdArg, user: UserOpt = None, database: DatabaseOpt = None) -> None:
    """One request: what it asks, its fee check, deadline, booking and cases."""
    from sqlalchemy import select

    from mastplan.registry.models import SharingCase
    from mastplan.sharing.cases import working_days_late
    from mastplan.sharing.requests import check_request_fees, get_request

    def body() -> None:
        with _session(database) as session:
            r = get_request(session, current_user(user), request_id)
            st = r.structure
            table = Table(show_header=False, title=f"sharing request {r.id}")
            rows = [
                ("state", r.state.value),
                ("operator", f"{r.operator.code} ({r.filed_by})"),
                ("structure", f"{st.external_id}: {st.kind.value}, {st.height_m:g} m, owner "
                              f"{st.owner.code}"),
                ("positions", _positions(r)),
                ("mount height", f"{r.mount_height_m:g} m"),
                ("payload / wind area", f"{r.payload_kg:g} kg / {r.wind_area_m2:g} m²"),
                ("power / fibre", f"{r.power_kw:g} kW / {'yes' if r.fibre else 'no'}"),
                ("site", r.site.external_id if r.site else ""),
                ("fee offer", ", ".join(f"{x['item']}={x['amount']:g}" for x in r.fee_offer)),
                ("submitted (UTC)", r.submitted_at.strftime("%Y-%m-%d %H:%M") if r.submitted_at
                 else ""),
                ("answer due (CST)", str(r.answer_due_on or "")),
            ]  # fmt: skip
            late = working_days_late(r)
            if late or (r.answer_due_on and r.answered_at is None):
                rows.append(("working days late", str(late)))
            if r.state.value in ("submitted", "under_review"):
                problems = check_request_fees(session, r)
                rows.append(("fee policy", "; ".join(map(str, problems)) or "conforms"))
            if r.tenancy_id:
                rows.append(("tenancy", f"{r.tenancy_id} ({r.tenancy.status.value})"))
            if r.last_reason:
                rows.append(("last reason", r.last_reason))
            cases = session.scalars(select(SharingCase).where(SharingCase.request_id == r.id))
            for c in cases:
                rows.append(
                    (
                        f"case {c.id}",
                        f"{c.kind.value}, {c.state.value}"
                        + (f": {c.outcome.value}, {c.decision}" if c.outcome else ""),
                    )
                )
            for key, value in rows:
                table.add_row(key, value)
            console.print(table)
            console.print(f"history: mastplan audit log --object sharing_requests:{r.id}")

    _run(body)


def _print_cases(cases) -> None:
    """One paragraph per case: they carry long ids and sentences that a table would cut."""
    from mastplan.sharing.cases import detail_lines

    console.print(f"{len(cases)} case(s)", style="bold")
    for c in cases:
        st = c.request.structure
        console.print(f"case {c.id}  {c.kind.value}  {c.state.value}  request {c.request_id}  "
                      f"structure {st.external_id} ({st.owner.code})  opened "
                      f"{c.opened_at:%Y-%m-%d %H:%M} UTC by {c.opened_by}",
                      highlight=False)  # fmt: skip
        for line in detail_lines(c):
            console.print(f"    {line}", highlight=False)
        if c.outcome:
            console.print(f"    decided {c.outcome.value} by {c.decided_by}: {c.decision}",
                          highlight=False)  # fmt: skip


@sharing_app.command("overdue")
def overdue_cmd(at: AtOpt = None, user: UserOpt = None, database: DatabaseOpt = None) -> None:
    """Requests whose owner missed the answer deadline (working days, PRC calendar).

    Run by the regulator, it also opens a case for each that has none, and lists open cases.
    """
    from mastplan.registry.enums import UserRole
    from mastplan.registry.users import get_user
    from mastplan.sharing.cases import (
        escalate_overdue,
        list_cases,
        overdue_requests,
        working_days_late,
    )

    def body() -> None:
        moment = _at(at)
        name = current_user(user)
        with _session(database) as session:
            me = get_user(session, name)
            opened = []
            if me.role is UserRole.REGULATOR:
                opened = escalate_overdue(session, name, moment)
            rows = overdue_requests(session, me, moment)
            table = _table("id", "state", "operator", "structure", "owner", "answer due",
                           "working days late",
                           title=f"{len(rows)} overdue request(s)")  # fmt: skip
            for r in rows:
                table.add_row(str(r.id), r.state.value, r.operator.code, r.structure.external_id,
                              r.structure.owner.code, str(r.answer_due_on),
                              str(working_days_late(r, moment)))  # fmt: skip
            console.print(table)
            if me.role is UserRole.REGULATOR:
                console.print(f"{len(opened)} new case(s) opened")
                _print_cases(list_cases(session, name))

    _run(body)


@sharing_app.command("cases")
def cases_cmd(
    all_: Annotated[bool, typer.Option("--all", help="Decided cases too.")] = False,
    user: UserOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """The regulator's cases (overdue answers, fee complaints) on requests you may see."""
    from mastplan.sharing.cases import list_cases

    def body() -> None:
        with _session(database) as session:
            _print_cases(list_cases(session, current_user(user), state=None if all_ else "open"))

    _run(body)


@sharing_app.command("decide")
def decide_cmd(
    case_id: Annotated[int, typer.Argument(help="Case id.", show_default=False)],
    outcome: Annotated[str, typer.Option(help="upheld or dismissed.")],
    decision: Annotated[str, typer.Option(help="The decision, as it will be on record.")],
    user: UserOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Regulator: decide a case (一站式 coordination)."""
    from mastplan.sharing.cases import decide_case

    def body() -> None:
        if outcome not in ("upheld", "dismissed"):
            raise MastplanError(f"--outcome must be upheld or dismissed, got {outcome!r}")
        with _session(database) as session:
            case = decide_case(session, current_user(user), case_id, outcome, decision)
            console.print(f"case {case.id} decided: {case.outcome.value}")

    _run(body)
