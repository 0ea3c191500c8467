"""Progress and governance: KPIs against the plan's targets, application scenarios and
enterprises, plan tasks and the joint meeting, and the reports taken to meetings."""
