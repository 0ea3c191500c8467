"""``mastplan scenario``, ``mastplan enterprise``, ``mastplan figure``: the plan's application
scenarios, enterprises and reported figures."""

from __future__ import annotations

import typer

scenario_app = typer.Typer(help="Application scenarios (专栏10).", no_args_is_help=True)
enterprise_app = typer.Typer(help="5G enterprises and their revenue.", no_args_is_help=True)
figure_app = typer.Typer(
    help="Figures reported by the statistics authorities.", no_args_is_help=True
)
