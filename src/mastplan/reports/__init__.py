"""The progress report for the regulator and the joint-meeting office, in 中文 or English.

:func:`render_report` turns a :class:`ReportData` (computed elsewhere) into HTML with its
images and an A4 PDF: headline KPIs against the plan's targets, a progress chart per KPI,
district and key-area maps, and tables of overdue tasks, cases and follow-ups.
See ``docs/reports.md``.
"""

from __future__ import annotations

from mastplan.reports.model import KpiLine, ReportData, ReportFiles, ReportTable
from mastplan.reports.render import render_report

__all__ = ["KpiLine", "ReportData", "ReportFiles", "ReportTable", "render_report"]
