"""``mastplan tasks`` and ``mastplan meeting``: the plan's tasks and the joint meeting."""

from __future__ import annotations

import typer

tasks_app = typer.Typer(help="The plan's tasks: units, milestones, updates.", no_args_is_help=True)
meeting_app = typer.Typer(
    help="The joint meeting (联席会议): issues, decisions, follow-ups.", no_args_is_help=True
)
