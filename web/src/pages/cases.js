// The regulator's cases (一站式协调): overdue answers and fee complaints, and the decision on
// each (POST /sharing/cases/{id}/decision). Other roles see the cases of their own requests.
import { api } from "../api.js";
import { h, field, fill, message } from "../dom.js";
import { showError } from "../errors.js";
import { t, tOr, when } from "../i18n.js";

const kept = { state: "open" };

function detailLines(detail) {
  if (!Array.isArray(detail) || !detail.length) return "—";
  return h(
    "ul",
    { class: "case-detail" },
    detail.map((d) =>
      h(
        "li",
        {},
        typeof d?.message === "string"
          ? d.message
          : Object.entries(d ?? {})
              .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`)
              .join("; "),
      ),
    ),
  );
}

export function renderCases(container, { user, toast }) {
  let disposed = false;
  const isRegulator = user.role === "regulator";
  const stateSelect = h(
    "select",
    { name: "case-state", "data-testid": "case-filter" },
    ["open", "decided", "all"].map((s) => h("option", { value: s, selected: s === kept.state }, t(`cases.filter.${s}`))),
  );
  const status = h("div", { class: "list-status", "aria-live": "polite" });
  const list = h("div", { class: "cases", "data-testid": "cases" });
  fill(
    container,
    h("h1", {}, t("cases.title")),
    isRegulator ? null : h("p", { class: "hint" }, t("cases.onlyRegulator")),
    h("form", { class: "inline-form", onsubmit: (e) => e.preventDefault() }, field(t("sharing.filter"), stateSelect)),
    status,
    list,
  );
  stateSelect.addEventListener("change", () => {
    kept.state = stateSelect.value;
    load();
  });

  function decisionForm(c) {
    const outcome = h(
      "select",
      { name: "outcome" },
      ["upheld", "dismissed"].map((o) => h("option", { value: o }, t(`cases.outcome.${o}`))),
    );
    const decision = h("textarea", { name: "decision", rows: 3, required: true, maxlength: 4000 });
    const fDecision = field(t("cases.decision"), decision);
    const formStatus = h("div", { class: "form-status", "aria-live": "assertive" });
    const submit = h("button", { type: "submit", class: "primary" }, t("cases.decide"));
    const form = h(
      "form",
      { class: "decision-form", novalidate: true, "data-case-id": c.id },
      field(t("cases.outcome"), outcome),
      fDecision,
      formStatus,
      h("div", { class: "actions" }, submit),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!decision.value.trim()) {
        fDecision.setError(t("cases.decision.missing"));
        decision.focus();
        return;
      }
      fDecision.setError(null);
      submit.disabled = true;
      try {
        const { data } = await api(`/sharing/cases/${c.id}/decision`, {
          method: "POST",
          body: { outcome: outcome.value, decision: decision.value.trim() },
        });
        if (disposed) return;
        toast(t("cases.decided", { id: data.id, outcome: t(`cases.outcome.${data.outcome}`) }));
        load();
      } catch (exc) {
        if (!disposed) showError(formStatus, exc);
        submit.disabled = false;
      }
    });
    return form;
  }

  function card(c) {
    const facts = [
      [t("cases.col.kind"), tOr(`cases.kind.${c.kind}`, c.kind)],
      [t("cases.col.request"), h("a", { href: `#/sharing/${c.request_id}` }, `#${c.request_id}`)],
      [t("cases.col.opened"), `${when(c.opened_at, true)} · ${c.opened_by}`],
      [t("cases.col.state"), tOr(`cases.state.${c.state}`, c.state)],
      [t("cases.col.detail"), detailLines(c.detail)],
    ];
    if (c.outcome) {
      facts.push([
        t("cases.col.decision"),
        `${tOr(`cases.outcome.${c.outcome}`, c.outcome)}: ${c.decision ?? ""} (${c.decided_by ?? ""}, ${when(c.decided_at, true)})`,
      ]);
    }
    return h(
      "article",
      { class: "card case", "data-case-id": c.id, "data-state": c.state, "aria-labelledby": `case-${c.id}` },
      h("h2", { id: `case-${c.id}` }, `${t("cases.col.id")} ${c.id} · ${tOr(`cases.kind.${c.kind}`, c.kind)}`),
      h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      isRegulator && c.state === "open" ? decisionForm(c) : null,
    );
  }

  async function load() {
    fill(status, t("common.loading"));
    try {
      const { data } = await api(`/sharing/cases?state=${encodeURIComponent(kept.state)}`);
      if (disposed) return;
      fill(status, data.length ? null : message("info", t("cases.empty")));
      fill(list, data.map(card));
    } catch (exc) {
      if (!disposed) showError(status, exc);
    }
  }

  load();
  return () => {
    disposed = true;
  };
}
