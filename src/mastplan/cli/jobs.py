"""``mastplan worker`` and ``mastplan jobs``: run background jobs, and list, show and cancel them.

The server runs a worker of its own; ``mastplan worker`` runs more (on this or other machines,
sharing the database and ``MASTPLAN_JOBS_DIR``). ``mastplan jobs`` acts as a registered user
(``--as USER`` or ``MASTPLAN_USER``) and sees what that user may see.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from mastplan.cli.common import DatabaseOpt, ReasonOpt, UserOpt, _run, _session, _table, console
from mastplan.config import current_user

jobs_app = typer.Typer(help="Background jobs: list, show and cancel.", no_args_is_help=True)

JobArg = Annotated[int, typer.Argument(help="Job id.", show_default=False)]


def worker_cmd(
    name: Annotated[str | None, typer.Option(help="Worker name [default: host:pid:n].")] = None,
    once: Annotated[
        bool, typer.Option("--once", help="Run the queued jobs, then exit (no waiting).")
    ] = False,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help="Only jobs of this kind (repeat).")
    ] = None,
    poll_s: Annotated[float, typer.Option(help="Seconds between looks at an empty queue.")] = 2.0,
    stale_after_s: Annotated[
        float,
        typer.Option(help="A running job silent this long is put back in the queue (seconds)."),
    ] = 300.0,
    heartbeat_s: Annotated[float, typer.Option(help="Seconds between heartbeats.")] = 30.0,
    jobs_dir: Annotated[
        Path | None,
        typer.Option(
            "--jobs-dir",
            envvar="MASTPLAN_JOBS_DIR",
            help="Folder of the job results [default: ./mastplan-jobs].",
        ),
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Run background jobs (coverage, plans, reports, imports) until stopped (Ctrl-C puts the
    running job back in the queue)."""
    import logging

    from mastplan.jobs.runner import Worker
    from mastplan.registry.db import make_engine, require_current_schema, session_factory

    def body() -> None:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
        from mastplan.config import database_url

        engine = make_engine(database_url(database))
        try:
            require_current_schema(engine)
            worker = Worker(session_factory(engine), name, jobs_dir=jobs_dir, kinds=kind,
                            poll_s=poll_s, stale_after=dt.timedelta(seconds=stale_after_s),
                            heartbeat_s=heartbeat_s)  # fmt: skip
            console.print(f"worker {worker.name} on {engine.url.render_as_string()}, "
                          f"results in {worker.jobs_dir}")  # fmt: skip
            try:
                ran = worker.run(until_idle=once)
            except KeyboardInterrupt:
                console.print("stopped")
                return
            console.print(f"ran {ran} job(s)")
        finally:
            engine.dispose()

    _run(body)


@jobs_app.command("list")
def jobs_list_cmd(
    state: Annotated[
        list[str] | None, typer.Option("--state", help="Only this state (repeat).")
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    user: UserOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """The jobs you may see (your organisation's; the regulator: all), newest first."""
    from mastplan.jobs.service import list_jobs

    def body() -> None:
        with _session(database) as session:
            jobs = list_jobs(session, current_user(user), states=state or (), kind=kind,
                             limit=limit)  # fmt: skip
            table = _table("id", "kind", "state", "progress", "message", "organisation",
                           "queued", title=f"{len(jobs)} job(s)")  # fmt: skip
            for j in jobs:
                table.add_row(str(j.id), j.kind, j.state.value, f"{100 * j.progress:.0f} %",
                              j.message or "", j.organisation or "",
                              f"{j.queued_at:%Y-%m-%d %H:%M}")  # fmt: skip
            console.print(table)

    _run(body)


@jobs_app.command("show")
def jobs_show_cmd(job_id: JobArg, user: UserOpt = None, database: DatabaseOpt = None) -> None:
    """One job as JSON: parameters, state, progress, result."""
    from mastplan.jobs.service import get_job

    def body() -> None:
        with _session(database) as session:
            j = get_job(session, current_user(user), job_id)
            console.print_json(json.dumps({
                "id": j.id, "kind": j.kind, "state": j.state.value, "progress": j.progress,
                "message": j.message, "params": j.params, "result": j.result,
                "organisation": j.organisation, "worker": j.worker,
                "cancel_requested": j.cancel_requested, "queued_at": j.queued_at,
                "started_at": j.started_at, "finished_at": j.finished_at,
            }, default=str, ensure_ascii=False))  # fmt: skip

    _run(body)


@jobs_app.command("cancel")
def jobs_cancel_cmd(
    job_id: JobArg, user: UserOpt = None, reason: ReasonOpt = None, database: DatabaseOpt = None
) -> None:
    """Cancel a job: a queued one at once, a running one at its next progress report."""
    from mastplan.jobs.service import request_cancel

    def body() -> None:
        with _session(database) as session:
            j = request_cancel(session, current_user(user), job_id, reason=reason)
        what = "cancelled" if j.state.value == "cancelled" else "asked to stop"
        console.print(f"job {j.id} {what}")

    _run(body)
