// The plan's tasks (#/tasks, #/tasks/CODE): by unit and status, with their milestones; one
// task with its milestones, its updates and, for its units, the joint-meeting office and the
// regulator, a form to post where it stands. The post carries If-Match (the task's ETag): a
// task changed since it was read is refused (412) and the page says to reload.
import { ApiError, api } from "../api.js";
import { h, field, fill, message } from "../dom.js";
import { showError } from "../errors.js";
import { checkText, focusFirstError, requiredField, showApiErrors } from "../forms.js";
import { TASK_STATUSES, mayUpdateTask } from "../governance.js";
import { lang, t, tOr, when } from "../i18n.js";

const kept = { unit: "", status: "" };

export function titleOf(obj) {
  return (lang() === "en" ? obj.title_en : obj.title_zh) || obj.title_zh || obj.title_en || "";
}

export function statusBadge(status) {
  return h("span", { class: `badge task-${status}`, "data-status": status }, tOr(`task.status.${status}`, status));
}

function milestoneShare(task) {
  const all = task.milestones ?? [];
  const done = all.filter((m) => m.state === "done").length;
  return { done, total: all.length };
}

export function renderTasks(container, ctx) {
  return ctx.arg ? renderTask(container, ctx) : renderTaskList(container, ctx);
}

function renderTaskList(container) {
  let disposed = false;
  const unitSelect = h("select", { name: "unit", "data-testid": "task-unit" }, h("option", { value: "" }, t("tasks.unit.all")));
  const statusSelect = h(
    "select",
    { name: "status", "data-testid": "task-status-filter" },
    h("option", { value: "" }, t("tasks.status.all")),
    TASK_STATUSES.map((s) => h("option", { value: s, selected: s === kept.status }, t(`task.status.${s}`))),
  );
  const status = h("div", { class: "list-status", "aria-live": "polite" });
  const list = h("div", { class: "tasks", "data-testid": "tasks" });
  fill(
    container,
    h("h1", {}, t("tasks.title")),
    h("form", { class: "inline-form", onsubmit: (e) => e.preventDefault() }, field(t("tasks.unit"), unitSelect), field(t("tasks.status"), statusSelect)),
    status,
    list,
  );
  unitSelect.addEventListener("change", () => {
    kept.unit = unitSelect.value;
    load();
  });
  statusSelect.addEventListener("change", () => {
    kept.status = statusSelect.value;
    load();
  });

  function table(section, tasks) {
    return h(
      "section",
      { "aria-labelledby": `tasks-${section}` },
      h("h2", { id: `tasks-${section}` }, tOr(`tasks.section.${section}`, section)),
      h(
        "table",
        { class: "data" },
        h("thead", {}, h("tr", {}, ["number", "title", "status", "lead", "milestones", "open"].map((c) => h("th", { scope: "col" }, t(`tasks.col.${c}`))))),
        h(
          "tbody",
          {},
          tasks.map((task) => {
            const { done, total } = milestoneShare(task);
            return h(
              "tr",
              { "data-task": task.code, "data-status": task.status },
              h("td", {}, task.number_zh),
              h("td", {}, titleOf(task)),
              h("td", {}, statusBadge(task.status), task.overdue ? [" ", h("span", { class: "badge overdue" }, t("tasks.overdue"))] : null),
              h("td", {}, task.lead_units.join(", ") || "—"),
              h(
                "td",
                {},
                total ? `${done} / ${total}` : "—",
                total
                  ? h("div", { class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round((100 * done) / total), "aria-label": t("tasks.milestonesOf", { code: task.code }) },
                      h("span", { class: "progress-bar", style: `width:${((100 * done) / total).toFixed(1)}%` }))
                  : null,
              ),
              h("td", {}, h("a", { href: `#/tasks/${encodeURIComponent(task.code)}`, class: "button-link", "aria-label": t("tasks.open", { code: task.code }) }, t("tasks.col.open"))),
            );
          }),
        ),
      ),
    );
  }

  let units = null;
  async function load() {
    fill(status, t("common.loading"));
    try {
      if (!units) {
        const { data: all } = await api("/tasks");
        units = [...new Set(all.flatMap((x) => [...x.lead_units, ...x.responsible_units]))].sort();
        if (disposed) return;
        for (const u of units) unitSelect.append(h("option", { value: u, selected: u === kept.unit }, u));
      }
      const params = new URLSearchParams();
      if (kept.unit) params.set("unit", kept.unit);
      if (kept.status) params.set("status", kept.status);
      const { data } = await api(`/tasks${params.size ? `?${params}` : ""}`);
      if (disposed) return;
      const bySection = {};
      for (const task of data) (bySection[task.section] ??= []).push(task);
      fill(status, data.length ? h("p", { class: "as-of" }, t("dashboard.asOf", { date: when(data[0].as_of) })) : message("info", t("tasks.empty")));
      fill(list, Object.entries(bySection).map(([section, tasks]) => table(section, tasks)));
    } catch (exc) {
      if (!disposed) showError(status, exc);
    }
  }
  load();
  return () => {
    disposed = true;
  };
}

function updateItem(u, milestones) {
  const m = u.milestone_id ? milestones.find((x) => x.id === u.milestone_id) : null;
  return h(
    "li",
    { class: "update", "data-update-id": u.id },
    h("div", {}, h("strong", {}, when(u.at, true)), ` · ${u.author}${u.organisation ? ` (${u.organisation})` : ""} · `, statusBadge(u.status),
      m ? ` · ${t("tasks.onMilestone", { title: titleOf(m) })}` : null),
    h("p", { class: "update-note" }, u.note),
    u.evidence?.length ? h("ul", { class: "evidence" }, u.evidence.map((e) => h("li", {}, e))) : null,
  );
}

function renderTask(container, { user, arg, toast }) {
  let disposed = false;
  let etag = null;
  const body = h("div", { class: "detail-page", "data-testid": "task-page" }, t("common.loading"));
  fill(container, h("p", { class: "breadcrumb" }, h("a", { href: "#/tasks" }, t("tasks.title"))), body);

  async function load(notice = null) {
    try {
      const code = encodeURIComponent(arg);
      const [{ data, etag: tag }, { data: updates }] = await Promise.all([
        api(`/tasks/${code}`),
        api(`/tasks/${code}/updates`),
      ]);
      if (disposed) return;
      etag = tag;
      show({ ...data, updates }, notice);
    } catch (exc) {
      if (!disposed) showError(body, exc);
    }
  }

  function show(task, notice) {
    const milestones = task.milestones ?? [];
    const updates = [...(task.updates ?? [])];
    updates.sort((a, b) => String(b.at).localeCompare(String(a.at)));
    fill(
      body,
      h("h1", { id: "page-title", tabindex: -1 }, `${task.number_zh} ${titleOf(task)}`),
      notice,
      h(
        "dl",
        { class: "facts" },
        [
          [t("tasks.col.status"), [statusBadge(task.status), task.overdue ? [" ", h("span", { class: "badge overdue" }, t("tasks.overdue"))] : null]],
          [t("tasks.asOf"), when(task.as_of)],
          [t("tasks.col.lead"), task.lead_units.join(", ") || "—"],
          [t("tasks.responsible"), task.responsible_units.join(", ") || "—"],
          [t("tasks.summary"), (lang() === "en" ? task.summary_en : task.summary_zh) || task.summary_zh || "—"],
          [t("sharing.version"), String(task.version)],
        ].map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
      ),
      h(
        "section",
        { "aria-labelledby": "milestones-title" },
        h("h2", { id: "milestones-title" }, t("tasks.milestones")),
        milestones.length
          ? h(
              "table",
              { class: "data", "data-testid": "milestones" },
              h("thead", {}, h("tr", {}, ["title", "due", "done", "state"].map((c) => h("th", { scope: "col" }, t(`milestone.col.${c}`))))),
              h("tbody", {}, milestones.map((m) => h("tr", { "data-milestone-id": m.id, "data-state": m.state },
                h("td", {}, titleOf(m)), h("td", {}, when(m.due_on)), h("td", {}, when(m.done_on)),
                h("td", {}, h("span", { class: `badge milestone-${m.state}` }, tOr(`milestone.state.${m.state}`, m.state)))))),
            )
          : message("info", t("tasks.milestones.none")),
      ),
      h(
        "section",
        { "aria-labelledby": "updates-title" },
        h("h2", { id: "updates-title" }, t("tasks.updates")),
        updates.length ? h("ul", { class: "updates", "data-testid": "task-updates" }, updates.map((u) => updateItem(u, milestones))) : h("p", { class: "hint", "data-testid": "task-updates" }, t("tasks.updates.none")),
      ),
      mayUpdateTask(user, task) ? updateForm(task) : h("p", { class: "hint" }, t("tasks.readOnly")),
    );
    body.dataset.version = String(task.version);
    body.dataset.status = task.status;
  }

  function updateForm(task) {
    const status = h("select", { name: "status" }, TASK_STATUSES.map((s) => h("option", { value: s, selected: s === task.status }, t(`task.status.${s}`))));
    const milestone = h(
      "select",
      { name: "milestone_id" },
      h("option", { value: "" }, t("tasks.form.wholeTask")),
      (task.milestones ?? []).filter((m) => m.state !== "done").map((m) => h("option", { value: String(m.id) }, `${titleOf(m)} (${when(m.due_on)})`)),
    );
    const note = h("textarea", { name: "note", rows: 3, maxlength: 4000 });
    const evidence = h("textarea", { name: "evidence", rows: 2 });
    const fStatus = field(t("tasks.form.status"), status);
    const fMilestone = field(t("tasks.form.milestone"), milestone);
    const fNote = requiredField(t("tasks.form.note"), note);
    const fEvidence = field(t("tasks.form.evidence"), evidence, { hint: t("tasks.form.evidence.hint") });
    const formStatus = h("div", { class: "form-status", "aria-live": "assertive", "data-testid": "task-form-status" });
    const submit = h("button", { type: "submit", class: "primary" }, t("tasks.form.submit"));
    const form = h(
      "form",
      { class: "card task-form", novalidate: true, "aria-labelledby": "task-form-title", "data-testid": "task-form" },
      h("h2", { id: "task-form-title" }, t("tasks.form.title")),
      fStatus, fMilestone, fNote, fEvidence, formStatus,
      h("div", { class: "actions" }, submit),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      fill(formStatus);
      const refs = evidence.value.split("\n").map((x) => x.trim()).filter(Boolean);
      let ok = checkText(fNote, t("tasks.form.note"));
      if (status.value === "done" && !refs.length) {
        fEvidence.setError(t("tasks.form.evidence.missing"));
        ok = false;
      } else fEvidence.setError(null);
      if (!ok) return focusFirstError(form);
      submit.disabled = true;
      try {
        const { data } = await api(`/tasks/${encodeURIComponent(task.code)}/updates`, {
          method: "POST",
          body: { status: status.value, note: note.value.trim(), evidence: refs, milestone_id: milestone.value ? Number(milestone.value) : null },
          headers: etag ? { "If-Match": etag } : {},
        });
        if (disposed) return;
        const text = t("tasks.posted", { code: task.code, status: t(`task.status.${data.status}`) });
        toast(text);
        load(message("ok", text));
      } catch (exc) {
        if (disposed) return;
        submit.disabled = false;
        if (exc instanceof ApiError && exc.status === 412) {
          fill(
            formStatus,
            h("div", { class: "msg msg-error", role: "alert", "data-testid": "task-stale" },
              t("tasks.stale"), " ",
              h("button", { type: "button", onclick: () => load() }, t("tasks.reload"))),
          );
        } else showApiErrors(exc, { status: fStatus, note: fNote, evidence: fEvidence, milestone_id: fMilestone }, formStatus);
      }
    });
    return form;
  }

  load();
  return () => {
    disposed = true;
  };
}

