// Reports (#/reports): the progress report of the city or a district on a day, in 中文 and/or
// English, HTML and PDF, made in the background (POST /jobs kind=report); the list of report
// jobs with their progress (polled every 2 s while one runs) and, when done, links to their
// files (GET /jobs/{id}/files/{name}).
import { api } from "../api.js";
import { h, field, fill, message } from "../dom.js";
import { showError } from "../errors.js";
import { focusFirstError, requiredField, showApiErrors } from "../forms.js";
import { ACTIVE, jobBadge, poll, progressBar } from "../jobs.js";
import { nameOf, t, when } from "../i18n.js";

const LANGS = ["zh", "en"];
let districts = null;

function todayIso() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
}

function scopeName(scope) {
  if (!scope || scope === "city") return t("reports.scope.city");
  const d = districts?.find((f) => f.properties.code === scope);
  return d ? nameOf(d.properties) : scope;
}

function fileLabel(name) {
  const lang = /(^|[-_./])(zh|en)([-_./]|$)/.exec(name)?.[2];
  const ext = name.split(".").pop()?.toUpperCase();
  return lang ? t("reports.file", { lang: t(`reports.lang.${lang}`), ext }) : name;
}

export function renderReports(container, { user, toast }) {
  let disposed = false;
  const canStart = user.role !== "viewer";
  const formArea = h("section", { class: "card", "aria-labelledby": "report-form-title" });
  const status = h("div", { class: "list-status", "aria-live": "polite" });
  const tbody = h("tbody");
  fill(
    container,
    h("h1", {}, t("reports.title")),
    h("div", { class: "two-col" },
      canStart ? formArea : h("p", { class: "hint" }, t("reports.viewerOnly")),
      h("section", { "aria-labelledby": "reports-list-title" },
        h("h2", { id: "reports-list-title" }, t("reports.list")),
        status,
        h("table", { class: "data", "data-testid": "reports-table" },
          h("thead", {}, h("tr", {}, ["id", "date", "scope", "state", "by", "files"].map((c) => h("th", { scope: "col" }, t(`reports.col.${c}`))))),
          tbody))),
  );

  function row(job) {
    const p = job.params ?? {};
    const files = (job.files ?? []).filter((f) => /\.(pdf|html)$/i.test(f));
    return h(
      "tr",
      { "data-job-id": job.id, "data-state": job.state },
      h("td", {}, String(job.id)),
      h("td", {}, when(p.date)),
      h("td", {}, scopeName(p.scope)),
      h("td", {}, jobBadge(job.state), ACTIVE.has(job.state) ? progressBar(job.progress, t("reports.progress", { id: job.id })) : null,
        job.state === "failed" ? h("div", { class: "field-error" }, job.message ?? "") : null),
      h("td", {}, job.submitted_by ?? "—"),
      h("td", {}, job.state === "done"
        ? h("ul", { class: "files" }, files.map((f) => h("li", {}, h("a", {
            href: `/api/v1/jobs/${job.id}/files/${f.split("/").map(encodeURIComponent).join("/")}`,
            download: f.split("/").pop(),
            "data-file": f,
          }, fileLabel(f)))))
        : "—"),
    );
  }

  async function load() {
    try {
      const { data } = await api("/jobs?kind=report&limit=50");
      if (disposed) return [];
      fill(status, data.items.length ? null : message("info", t("reports.empty")));
      fill(tbody, data.items.map(row));
      return data.items;
    } catch (exc) {
      if (!disposed) showError(status, exc);
      throw exc;
    }
  }
  let stopPoll = null;
  function startPolling() {
    stopPoll?.();
    stopPoll = poll(load, (items) => !disposed && items.some((j) => ACTIVE.has(j.state)));
  }

  async function buildForm() {
    try {
      if (!districts) districts = (await api("/districts")).data.features ?? [];
    } catch (exc) {
      if (!disposed) showError(formArea, exc);
      return;
    }
    if (disposed) return;
    const date = h("input", { type: "date", name: "date", value: todayIso() });
    const scope = h("select", { name: "scope" }, h("option", { value: "city" }, t("reports.scope.city")),
      districts.map((f) => h("option", { value: f.properties.code }, nameOf(f.properties))));
    const boxes = LANGS.map((l) => h("input", { type: "checkbox", name: "lang", value: l, checked: true }));
    const langError = h("p", { class: "field-error", id: "report-lang-error", role: "alert", hidden: true });
    const fDate = requiredField(t("reports.date"), date);
    const fScope = field(t("reports.scope"), scope);
    const langSet = h("fieldset", { class: "checks", "aria-describedby": "report-lang-error" },
      h("legend", {}, t("reports.langs"), h("span", { class: "required" }, ` ${t("form.required")}`)),
      boxes.map((b) => h("label", { class: "check" }, b, t(`reports.lang.${b.value}`))), langError);
    const fLang = {
      setError(text) {
        langError.textContent = text ?? "";
        langError.hidden = !text;
        for (const b of boxes) {
          if (text) b.setAttribute("aria-invalid", "true");
          else b.removeAttribute("aria-invalid");
        }
      },
    };
    for (const b of boxes) b.addEventListener("change", () => fLang.setError(null));
    const formStatus = h("div", { class: "form-status", "aria-live": "assertive", "data-testid": "report-form-status" });
    const submit = h("button", { type: "submit", class: "primary" }, t("reports.submit"));
    const form = h("form", { novalidate: true, "aria-labelledby": "report-form-title", "data-testid": "report-form" },
      h("h2", { id: "report-form-title" }, t("reports.start")),
      fDate, fScope, langSet, formStatus, h("div", { class: "actions" }, submit));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      fill(formStatus);
      let ok = true;
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date.value)) {
        fDate.setError(t("reports.date.missing"));
        ok = false;
      } else fDate.setError(null);
      const langs = boxes.filter((b) => b.checked).map((b) => b.value);
      if (!langs.length) {
        fLang.setError(t("reports.langs.missing"));
        ok = false;
      } else fLang.setError(null);
      if (!ok) {
        if (!langs.length && date.value) boxes[0].focus();
        else focusFirstError(form);
        return;
      }
      submit.disabled = true;
      try {
        const { data } = await api("/jobs", { method: "POST", body: { kind: "report", params: { date: date.value, scope: scope.value, lang: langs } } });
        if (disposed) return;
        toast(t("reports.started", { id: data.id }));
        fill(formStatus, message("ok", t("reports.started", { id: data.id })));
        startPolling();
      } catch (exc) {
        if (!disposed) showApiErrors(exc, { date: fDate, scope: fScope, lang: fLang }, formStatus);
      } finally {
        submit.disabled = false;
      }
    });
    fill(formArea, form);
  }

  if (canStart) buildForm();
  startPolling();
  return () => {
    disposed = true;
    stopPoll?.();
  };
}
