// Who may write on the plan's governance (mastplan.progress.tasks): the joint-meeting office
// and the regulator on everything; a task's own units on that task. Viewers never write.
// The API decides; this only chooses which forms to show.
export const JOINT_OFFICE = "cq-5g-joint-office";
export const REGULATOR_ORG = "cq-cac";
export const TASK_STATUSES = ["not_started", "in_progress", "blocked", "done"];

export function isOverseer(user) {
  return user.role !== "viewer" && [JOINT_OFFICE, REGULATOR_ORG].includes(user.organisation);
}

export function mayUpdateTask(user, task) {
  if (user.role === "viewer") return false;
  if (isOverseer(user)) return true;
  return [...(task.lead_units ?? []), ...(task.responsible_units ?? [])].includes(user.organisation);
}
