// The city's KPIs against the plan's targets (GET /kpis?scope=city), and the sharing workflow
// at a glance: requests by state, open cases.
import { ApiError, api } from "../api.js";
import { h, fill, message } from "../dom.js";
import { showError } from "../errors.js";
import { lang, nameOf, num, t, when } from "../i18n.js";
import { STATES } from "./sharing.js";

const COMPARATORS = { ">=": "≥", ">": ">", "<=": "≤", "<": "<" };

/** A KPI value in its unit: fractions as per cent, counts whole. */
export function formatValue(value, unit) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  switch (unit) {
    case "fraction":
      return `${num(value * 100, 1)} %`;
    case "count":
      return `${num(value, 0)}${t("unit.count") ? ` ${t("unit.count")}` : ""}`;
    case "per_10k":
      return `${num(value, 2)} ${t("unit.per_10k")}`;
    case "yuan":
      if (Math.abs(value) >= 1e8) {
        // 亿 (10^8) in Chinese, billions in English
        return t("unit.yuan.big", { value: lang() === "zh" ? num(value / 1e8, 1) : num(value / 1e9, 2) });
      }
      return `${num(value, 0)} ${t("unit.yuan")}`;
    default:
      return num(value, 2);
  }
}

function progress(kpi) {
  if (kpi.value == null || kpi.target == null || !(kpi.target > 0)) return null;
  const share = Math.max(0, Math.min(1, kpi.value / kpi.target));
  return h(
    "div",
    {
      class: "progress",
      role: "progressbar",
      "aria-valuemin": 0,
      "aria-valuemax": 100,
      "aria-valuenow": Math.round(share * 100),
      "aria-label": nameOf(kpi, kpi.kpi),
    },
    h("span", { class: `progress-bar${kpi.met ? " met" : ""}`, style: `width:${(share * 100).toFixed(1)}%` }),
  );
}

function statusBadge(met) {
  if (met === true) return h("span", { class: "badge met", "data-met": "true" }, `✓ ${t("dashboard.met")}`);
  if (met === false) return h("span", { class: "badge not-met", "data-met": "false" }, `✗ ${t("dashboard.notMet")}`);
  return h("span", { class: "badge no-target", "data-met": "none" }, t("dashboard.noTarget"));
}

export function renderDashboard(container) {
  let disposed = false;
  const kpiArea = h("section", { class: "kpis", "aria-labelledby": "dash-title", "data-testid": "kpis" }, t("common.loading"));
  const sharingArea = h("section", { class: "dash-sharing", "aria-labelledby": "dash-sharing-title" });
  fill(container, h("h1", { id: "dash-title" }, t("dashboard.title")), kpiArea, sharingArea);

  async function loadKpis() {
    try {
      const { data } = await api("/kpis?scope=city");
      if (disposed) return;
      const kpis = (Array.isArray(data) ? data : (data?.items ?? [])).filter((k) => !k.scope || k.scope === "city");
      const asOf = kpis.find((k) => k.as_of)?.as_of;
      fill(
        kpiArea,
        asOf ? h("p", { class: "as-of" }, t("dashboard.asOf", { date: when(asOf) })) : null,
        h(
          "table",
          { class: "data kpi-table" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["kpi", "value", "target", "status"].map((c) => h("th", { scope: "col" }, t(`dashboard.${c}`))),
            ),
          ),
          h(
            "tbody",
            {},
            kpis.map((k) =>
              h(
                "tr",
                { "data-kpi": k.kpi, "data-met": String(k.met) },
                h("th", { scope: "row" }, nameOf(k, k.kpi)),
                h("td", {}, formatValue(k.value, k.unit), progress(k)),
                h(
                  "td",
                  {},
                  k.target == null
                    ? "—"
                    : `${COMPARATORS[k.comparator] ?? k.comparator ?? ""} ${formatValue(k.target, k.unit)}${k.target_year ? ` · ${t("dashboard.byYear", { year: k.target_year })}` : ""}`,
                ),
                h("td", {}, statusBadge(k.met)),
              ),
            ),
          ),
        ),
      );
    } catch (exc) {
      if (disposed) return;
      if (exc instanceof ApiError && exc.status === 404 && /^Not Found$/i.test(exc.detail)) {
        fill(kpiArea, message("info", t("dashboard.missing")));
      } else showError(kpiArea, exc);
    }
  }

  async function loadSharing() {
    try {
      const [{ data: page }, { data: cases }] = await Promise.all([
        api("/sharing/requests?limit=200"),
        api("/sharing/cases?state=open"),
      ]);
      if (disposed) return;
      const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
      for (const r of page.items) counts[r.state] = (counts[r.state] ?? 0) + 1;
      fill(
        sharingArea,
        h("h2", { id: "dash-sharing-title" }, t("dashboard.requests")),
        h(
          "ul",
          { class: "tiles", "data-testid": "request-counts" },
          STATES.filter((s) => counts[s] > 0).map((s) =>
            h("li", { class: `tile state-${s}` }, h("span", { class: "tile-n" }, String(counts[s])), h("span", {}, t(`state.${s}`))),
          ),
          h(
            "li",
            { class: "tile tile-cases" },
            h("a", { href: "#/cases" }, h("span", { class: "tile-n" }, String(cases.length)), h("span", {}, t("dashboard.cases"))),
          ),
        ),
      );
    } catch (exc) {
      if (!disposed) showError(sharingArea, exc);
    }
  }

  loadKpis();
  loadSharing();
  return () => {
    disposed = true;
  };
}
