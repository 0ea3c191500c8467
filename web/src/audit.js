// The audit history of one object (GET /audit?object=TABLE:ID): who changed what, when, from
// what to what, and why. What the caller may not read is "not found" to the API: shown as "no
// history visible to you".
import { ApiError, api } from "./api.js";
import { h, fill, message } from "./dom.js";
import { showError } from "./errors.js";
import { t, when } from "./i18n.js";

function changes(entry) {
  const before = entry.before ?? {};
  const after = entry.after ?? {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
    (k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]),
  );
  if (!keys.length) return "—";
  const show = (v) => (v === undefined || v === null ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v));
  return h(
    "ul",
    { class: "changes" },
    keys.slice(0, 12).map((k) => h("li", {}, h("code", {}, k), `: ${show(before[k])} → ${show(after[k])}`)),
    keys.length > 12 ? h("li", {}, "…") : null,
  );
}

/** A section that loads and shows the audit entries of `object` ("structures:12"). */
export function auditSection(object) {
  const body = h("div", { class: "audit-body" }, t("common.loading"));
  const section = h(
    "section",
    { class: "audit", "aria-labelledby": "audit-title", "data-testid": "audit", "data-object": object },
    h("h2", { id: "audit-title" }, t("audit.title")),
    body,
  );
  api(`/audit?object=${encodeURIComponent(object)}&limit=200`)
    .then(({ data }) => {
      const items = data?.items ?? [];
      if (!items.length) {
        fill(body, message("info", t("audit.empty")));
        section.dataset.state = "empty";
        return;
      }
      fill(
        body,
        h(
          "table",
          { class: "data audit-table" },
          h("caption", { class: "visually-hidden" }, t("audit.title")),
          h("thead", {}, h("tr", {}, ["at", "actor", "action", "changes", "reason"].map((c) => h("th", { scope: "col" }, t(`audit.col.${c}`))))),
          h(
            "tbody",
            {},
            items.map((e) =>
              h(
                "tr",
                { "data-audit-id": e.id },
                h("td", {}, when(e.at, true)),
                h("td", {}, e.organisation ? `${e.actor} (${e.organisation})` : e.actor),
                h("td", {}, e.action),
                h("td", {}, changes(e)),
                h("td", {}, e.reason || "—"),
              ),
            ),
          ),
        ),
      );
      section.dataset.state = "ready";
    })
    .catch((exc) => {
      if (exc instanceof ApiError && exc.status === 404) {
        fill(body, message("info", t("audit.hidden")));
        section.dataset.state = "hidden";
      } else {
        showError(body, exc);
        section.dataset.state = "error";
      }
    });
  return section;
}

/** The audit object of an API object: its `audit_object`, else TABLE:fallback. */
export function auditObjectOf(props, table, fallback) {
  return props?.audit_object || `${table}:${fallback}`;
}
