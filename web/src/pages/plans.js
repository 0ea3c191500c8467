// Plans (#/plans, #/plans/ID): start a planning run of an area (POST /plans, a background job),
// the list of runs, and one run: its progress while it runs (polled every 2 s, cancellable),
// then its totals and its planned sites on a map (new towers and existing structures in two
// styles) and in a table.
import L from "leaflet";

import { ApiError, api } from "../api.js";
import { h, field, fill, message } from "../dom.js";
import { showError } from "../errors.js";
import { checkNumber, focusFirstError, requiredField, showApiErrors } from "../forms.js";
import { ACTIVE, jobBadge, poll, progressBar } from "../jobs.js";
import { lang, nameOf, num, t, tOr, when } from "../i18n.js";

export const OPERATORS = ["china-mobile", "china-telecom", "china-unicom", "china-broadnet"];
const SOLVERS = ["auto", "milp", "greedy"];
const NEW_TOWER = "#d7301f";
const EXISTING = "#1f4e9c";

// What survives a re-render (the language switch): the form's values.
const kept = { form: null };
const cache = { areas: null, operators: null };

async function areaChoices() {
  if (!cache.areas) {
    const [{ data: keyAreas }, { data: districts }] = await Promise.all([api("/key-areas"), api("/districts")]);
    cache.areas = { keyAreas: keyAreas.features ?? [], districts: districts.features ?? [] };
  }
  return cache.areas;
}

async function operatorNames() {
  if (!cache.operators) {
    try {
      const { data } = await api("/organisations?kind=operator");
      cache.operators = Object.fromEntries(data.map((o) => [o.code, o]));
    } catch {
      cache.operators = {};
    }
  }
  return cache.operators;
}

export function areaName(code) {
  if (!code) return t("plans.phased");
  const all = [...(cache.areas?.keyAreas ?? []), ...(cache.areas?.districts ?? [])];
  const found = all.find((f) => (f.properties.code ?? f.id) === code);
  return found ? nameOf(found.properties) : code;
}

function money(value) {
  if (value == null) return "—";
  if (Math.abs(value) >= 1e4 && lang() === "zh") return t("plans.wan", { value: num(value / 1e4, 1) });
  return `${num(value, 0)} ${t("unit.yuan")}`;
}

export function renderPlans(container, ctx) {
  return ctx.arg ? renderPlan(container, ctx) : renderPlanList(container, ctx);
}

// --- the list and the form ----------------------------------------------------------------------

function renderPlanList(container, { user, navigate, toast }) {
  let disposed = false;
  const canStart = user.role !== "viewer";
  const formArea = h("section", { class: "card plan-form-card", "aria-labelledby": "plan-form-title" });
  const listStatus = h("div", { class: "list-status", "aria-live": "polite" });
  const tbody = h("tbody");
  const table = h(
    "table",
    { class: "data", "data-testid": "plans-table" },
    h("caption", { class: "visually-hidden" }, t("plans.list")),
    h("thead", {}, h("tr", {}, ["id", "area", "operators", "state", "by", "queued", "totals", "open"].map((c) => h("th", { scope: "col" }, t(`plans.col.${c}`))))),
    tbody,
  );
  fill(
    container,
    h("h1", {}, t("plans.title")),
    h("div", { class: "two-col" },
      canStart ? formArea : h("p", { class: "hint" }, t("plans.viewerOnly")),
      h("section", { "aria-labelledby": "plans-list-title" },
        h("h2", { id: "plans-list-title" }, t("plans.list")),
        h("button", { type: "button", onclick: () => load() }, t("common.refresh")),
        listStatus, table)),
  );

  function row(plan) {
    return h(
      "tr",
      { "data-plan-id": plan.id, "data-state": plan.state },
      h("td", {}, String(plan.id)),
      h("td", {}, areaName(plan.area)),
      h("td", {}, plan.operators.join(", ")),
      h("td", {}, jobBadge(plan.state), ACTIVE.has(plan.state) ? ` ${num((plan.progress ?? 0) * 100)} %` : null),
      h("td", {}, plan.submitted_by ?? "—"),
      h("td", {}, when(plan.queued_at, true)),
      h("td", {}, plan.totals ? t("plans.totalsShort", { sites: plan.totals.sites, cost: money(plan.totals.cost_yuan) }) : "—"),
      h("td", {}, h("a", { href: `#/plans/${plan.id}`, class: "button-link", "aria-label": t("plans.open", { id: plan.id }) }, t("plans.col.open"))),
    );
  }

  let stopPoll = null;
  async function load() {
    fill(listStatus, t("common.loading"));
    try {
      const { data } = await api("/plans?limit=50");
      if (disposed) return [];
      fill(tbody, data.items.map(row));
      fill(listStatus, data.items.length ? null : message("info", t("plans.empty")));
      return data.items;
    } catch (exc) {
      if (!disposed) showError(listStatus, exc);
      throw exc;
    }
  }
  // keep the list fresh while some run is queued or running
  stopPoll = poll(load, (items) => !disposed && items.some((p) => ACTIVE.has(p.state)));

  if (canStart) buildForm();

  async function buildForm() {
    fill(formArea, h("h2", { id: "plan-form-title" }, t("plans.start")), t("common.loading"));
    let areas;
    let names;
    try {
      [areas, names] = await Promise.all([areaChoices(), operatorNames()]);
    } catch (exc) {
      if (!disposed) showError(formArea, exc);
      return;
    }
    if (disposed) return;
    const was = kept.form ?? {};
    const byYear = {};
    for (const f of areas.keyAreas) (byYear[f.properties.phase_year] ??= []).push(f);
    const area = h(
      "select",
      { name: "area", "data-testid": "plan-area" },
      h("option", { value: "" }, t("plans.area.choose")),
      Object.entries(byYear).map(([year, list]) =>
        h("optgroup", { label: t("plans.area.keyAreas", { year }) },
          list.map((f) => h("option", { value: f.properties.code, selected: f.properties.code === was.area }, nameOf(f.properties)))),
      ),
      h("optgroup", { label: t("plans.area.districts") },
        areas.districts.map((f) => h("option", { value: f.properties.code, selected: f.properties.code === was.area }, nameOf(f.properties)))),
    );
    const fArea = requiredField(t("plans.area"), area);
    const mine = user.role === "operator" && OPERATORS.includes(user.organisation) ? [user.organisation] : ["china-mobile"];
    const chosen = new Set(was.operators ?? mine);
    const boxes = OPERATORS.map((code) =>
      h("input", { type: "checkbox", name: "operators", value: code, checked: chosen.has(code) }),
    );
    const opsError = h("p", { class: "field-error", id: "plan-operators-error", role: "alert", hidden: true });
    const opsSet = h(
      "fieldset",
      { class: "checks", "aria-describedby": "plan-operators-error", "data-testid": "plan-operators" },
      h("legend", {}, t("plans.operators"), h("span", { class: "required" }, ` ${t("form.required")}`)),
      boxes.map((box) => h("label", { class: "check" }, box, names[box.value] ? nameOf(names[box.value], box.value) : box.value)),
      opsError,
    );
    const fOps = {
      setError(text) {
        opsError.textContent = text ?? "";
        opsError.hidden = !text;
        for (const b of boxes) {
          if (text) b.setAttribute("aria-invalid", "true");
          else b.removeAttribute("aria-invalid");
        }
      },
      control: boxes[0],
    };
    for (const b of boxes) b.addEventListener("change", () => fOps.setError(null));
    const share = h("input", { type: "number", name: "target_share", min: 1, max: 100, step: "any", inputmode: "decimal", value: was.target_share ?? "" });
    const fShare = field(t("plans.targetShare"), share, { hint: t("plans.targetShare.hint") });
    const resolution = h("input", { type: "number", name: "resolution_m", min: 5, max: 1000, step: "any", inputmode: "decimal", value: was.resolution_m ?? 100 });
    const fResolution = requiredField(t("plans.resolution"), resolution, { hint: t("plans.resolution.hint") });
    const solver = h("select", { name: "solver" }, SOLVERS.map((s) => h("option", { value: s, selected: s === (was.solver ?? "auto") }, t(`plans.solver.${s}`))));
    const fSolver = field(t("plans.solver"), solver);
    const limit = h("input", { type: "number", name: "time_limit_s", min: 1, max: 3600, step: "any", inputmode: "decimal", value: was.time_limit_s ?? 60 });
    const fLimit = requiredField(t("plans.timeLimit"), limit);
    const status = h("div", { class: "form-status", "aria-live": "assertive", "data-testid": "plan-form-status" });
    const submit = h("button", { type: "submit", class: "primary" }, t("plans.submit"));
    const form = h(
      "form",
      { class: "plan-form", novalidate: true, "aria-labelledby": "plan-form-title", "data-testid": "plan-form" },
      h("h2", { id: "plan-form-title" }, t("plans.start")),
      h("p", { class: "hint" }, t("plans.intro")),
      fArea, opsSet, fShare, fResolution, fSolver, fLimit, status,
      h("div", { class: "actions" }, submit),
    );
    const remember = () => {
      kept.form = {
        area: area.value,
        operators: boxes.filter((b) => b.checked).map((b) => b.value),
        target_share: share.value,
        resolution_m: resolution.value,
        solver: solver.value,
        time_limit_s: limit.value,
      };
    };
    form.addEventListener("input", remember);
    form.addEventListener("change", remember);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      fill(status);
      let ok = true;
      if (!area.value) {
        fArea.setError(t("plans.area.missing"));
        ok = false;
      } else fArea.setError(null);
      const operators = boxes.filter((b) => b.checked).map((b) => b.value);
      if (!operators.length) {
        fOps.setError(t("plans.operators.missing"));
        ok = false;
      } else fOps.setError(null);
      const sharePct = checkNumber(fShare, t("plans.targetShare"), { min: 0, max: 100, exclusiveMin: true, optional: true });
      const res = checkNumber(fResolution, t("plans.resolution"), { min: 5, max: 1000 });
      const seconds = checkNumber(fLimit, t("plans.timeLimit"), { min: 0, max: 3600, exclusiveMin: true });
      if (sharePct === undefined || res === undefined || seconds === undefined) ok = false;
      if (!ok) {
        if (!operators.length && area.value && ![share, resolution, limit].some((c) => c.getAttribute("aria-invalid"))) boxes[0].focus();
        else focusFirstError(form);
        return;
      }
      const body = {
        area: area.value,
        operators,
        target_share: sharePct == null ? null : sharePct / 100,
        resolution_m: res,
        solver: solver.value,
        time_limit_s: seconds,
        record: false,
      };
      submit.disabled = true;
      try {
        const { data } = await api("/plans", { method: "POST", body });
        if (disposed) return;
        toast(t("plans.started", { id: data.id }));
        navigate("plans", data.id);
      } catch (exc) {
        if (disposed) return;
        showApiErrors(exc, { area: fArea, operators: fOps, target_share: fShare, resolution_m: fResolution, solver: fSolver, time_limit_s: fLimit }, status);
        submit.disabled = false;
      }
    });
    fill(formArea, form);
  }

  return () => {
    disposed = true;
    stopPoll?.();
  };
}

// --- one plan -----------------------------------------------------------------------------------

function renderPlan(container, { user, arg, toast }) {
  let disposed = false;
  let map = null;
  let stopPoll = null;
  const head = h("div", { class: "plan-head", "data-testid": "plan-status", "aria-live": "polite" }, t("common.loading"));
  const result = h("div", { class: "plan-result" });
  fill(
    container,
    h("p", { class: "breadcrumb" }, h("a", { href: "#/plans" }, t("plans.title"))),
    h("h1", { id: "page-title", tabindex: -1 }, t("plans.detail", { id: arg })),
    head,
    result,
  );
  areaChoices().catch(() => {}); // for the area's name

  let shownDone = false;
  function showPlan(plan) {
    const active = ACTIVE.has(plan.state);
    const cancel = active && user.role !== "viewer"
      ? h("button", { type: "button", class: "danger", "data-testid": "plan-cancel", onclick: () => cancelPlan(plan) }, t("plans.cancel"))
      : null;
    fill(
      head,
      h(
        "dl",
        { class: "facts" },
        [
          [t("plans.col.state"), jobBadge(plan.state)],
          [t("plans.col.area"), areaName(plan.area)],
          [t("plans.col.operators"), plan.operators.join(", ")],
          [t("plans.col.by"), plan.submitted_by ?? "—"],
          [t("plans.col.queued"), when(plan.queued_at, true)],
          [t("plans.finished"), when(plan.finished_at, true)],
          [t("plans.message"), plan.message || "—"],
        ].map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
      ),
      active ? progressBar(plan.state === "queued" ? 0 : plan.progress, t("plans.progress")) : null,
      cancel,
      plan.state === "failed" ? message("error", t("plans.failed", { detail: plan.error ?? plan.message ?? "" })) : null,
      plan.state === "cancelled" ? message("info", t("plans.cancelled")) : null,
    );
    head.dataset.state = plan.state;
    if (plan.state === "done" && !shownDone) {
      shownDone = true;
      showResult(plan);
    }
  }

  async function cancelPlan(plan) {
    try {
      await api(`/jobs/${plan.id}/cancel`, { method: "POST" });
      toast(t("plans.cancelAsked", { id: plan.id }));
      const { data } = await api(`/plans/${plan.id}`);
      if (!disposed) showPlan(data);
    } catch (exc) {
      if (!disposed) showError(result, exc);
    }
  }

  async function showResult(plan) {
    const totals = plan.totals;
    fill(
      result,
      h("section", { "aria-labelledby": "plan-totals-title", "data-testid": "plan-totals" },
        h("h2", { id: "plan-totals-title" }, t("plans.totals")),
        totals
          ? h("ul", { class: "tiles" },
              [["sites", totals.sites], ["new_towers", totals.new_towers], ["on_existing_structures", totals.on_existing_structures]].map(([k, v]) =>
                h("li", { class: `tile tile-${k}` }, h("span", { class: "tile-n" }, num(v)), h("span", {}, t(`plans.totals.${k}`)))),
              h("li", { class: "tile tile-cost" }, h("span", { class: "tile-n" }, money(totals.cost_yuan)), h("span", {}, t("plans.totals.cost"))))
          : message("info", t("plans.noTotals")),
        plan.feasible === false ? message("error", t("plans.infeasible")) : plan.feasible ? message("ok", t("plans.feasible")) : null,
        plan.sharing ? h("p", { class: "hint", "data-testid": "plan-sharing" }, sharingText(plan.sharing)) : null),
      h("div", { class: "plan-map-wrap" },
        h("div", { id: "plan-map", class: "map plan-map", role: "region", "aria-label": t("plans.map"), "data-testid": "plan-map" }),
        h("p", { class: "legend-inline" },
          h("span", { class: "swatch swatch-dot", style: `background:${NEW_TOWER}` }), ` ${t("plans.newTower")}  `,
          h("span", { class: "swatch swatch-dot", style: `background:${EXISTING}` }), ` ${t("plans.existing")}`)),
      h("section", { "aria-labelledby": "plan-sites-title" },
        h("h2", { id: "plan-sites-title" }, t("plans.sites")),
        h("div", { class: "plan-sites", "data-testid": "plan-sites" }, t("common.loading"))),
    );
    let sites;
    try {
      ({ data: sites } = await api(`/plans/${plan.id}/sites`));
    } catch (exc) {
      if (!disposed) showError(result.querySelector(".plan-sites"), exc);
      return;
    }
    if (disposed) return;
    drawMap(plan, sites.features ?? []);
    sitesTable(sites.features ?? []);
  }

  function sharingText(sharing) {
    const joint = sharing.joint_cost_yuan ?? sharing.joint?.cost_yuan;
    const separate = sharing.separate_cost_yuan ?? sharing.separate?.cost_yuan;
    const saving = sharing.saving_yuan ?? (joint != null && separate != null ? separate - joint : null);
    if (joint == null && separate == null) return JSON.stringify(sharing);
    return t("plans.sharing", { joint: money(joint), separate: money(separate), saving: money(saving) });
  }

  function popup(p) {
    return h(
      "div",
      { class: "site-popup" },
      h("strong", {}, p.site),
      h("br"),
      `${p.operator}${p.band ? ` · ${p.band}` : ""}`,
      h("br"),
      p.new_build ? t("plans.newTower") : t("plans.onStructure", { structure: p.structure ?? "—", kind: tOr(`kind.${p.kind}`, p.kind ?? "") }),
      h("br"),
      `${t("plans.col.height")}: ${p.height_m == null ? "—" : `${num(p.height_m, 1)} m`} · ${t("plans.col.cost")}: ${money(p.cost_yuan)}`,
      p.azimuths_deg ? [h("br"), `${t("plans.col.azimuths")}: ${p.azimuths_deg}`] : null,
    );
  }

  function drawMap(plan, features) {
    const el = result.querySelector("#plan-map");
    map = L.map(el, { zoomControl: false, minZoom: 7, maxZoom: 19 });
    map.attributionControl.setPrefix("Leaflet");
    L.control.zoom({ zoomInTitle: t("map.zoomIn"), zoomOutTitle: t("map.zoomOut") }).addTo(map);
    const area = [...(cache.areas?.keyAreas ?? []), ...(cache.areas?.districts ?? [])].find(
      (f) => (f.properties.code ?? f.id) === plan.area,
    );
    const areaLayer = area
      ? L.geoJSON(area, { style: { color: "#7d8a96", weight: 2, fillColor: "#faf7ef", fillOpacity: 0.6 }, interactive: false }).addTo(map)
      : null;
    const layer = L.featureGroup().addTo(map);
    for (const f of features) {
      const p = f.properties;
      const [lon, lat] = f.geometry.coordinates;
      const label = `${p.site}: ${p.new_build ? t("plans.newTower") : t("plans.existing")}`;
      const marker = p.new_build
        ? L.marker([lat, lon], {
            icon: L.divIcon({ className: "plan-marker", html: h("span", { class: "pm pm-new", "data-site": p.site, title: label }), iconSize: [16, 16], iconAnchor: [8, 8] }),
            title: label,
            alt: label,
            keyboard: true,
          })
        : L.circleMarker([lat, lon], { radius: 7, color: "#fff", weight: 2, fillColor: EXISTING, fillOpacity: 1, className: "pm-existing" });
      marker.bindPopup(() => popup(p));
      marker.addTo(layer);
    }
    // the planned sites' bbox, with the area around them (a single site's bbox is a point)
    const b = plan.bbox;
    const bounds = b && b.length === 4 ? L.latLngBounds([b[1], b[0]], [b[3], b[2]]) : features.length ? layer.getBounds() : null;
    if (bounds && areaLayer) bounds.extend(areaLayer.getBounds());
    if (bounds?.isValid()) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 17 });
    else if (areaLayer) map.fitBounds(areaLayer.getBounds());
    else map.setView([29.56, 106.55], 10);
    el.dataset.sites = String(features.length);
    el.dataset.state = "ready";
  }

  function sitesTable(features) {
    const where = result.querySelector(".plan-sites");
    if (!features.length) {
      fill(where, message("info", t("plans.sites.none")));
      return;
    }
    const cols = ["site", "operator", "band", "where", "height", "azimuths", "cost", "reason"];
    fill(
      where,
      h(
        "table",
        { class: "data", "data-testid": "plan-sites-table" },
        h("caption", { class: "visually-hidden" }, t("plans.sites")),
        h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, t(`plans.col.${c}`))))),
        h(
          "tbody",
          {},
          features.map((f) => {
            const p = f.properties;
            return h(
              "tr",
              { "data-site": p.site, "data-new-build": String(p.new_build) },
              h("td", {}, p.site),
              h("td", {}, p.operator),
              h("td", {}, p.band ?? "—"),
              h("td", {}, p.new_build
                ? h("span", { class: "badge pm-badge-new" }, t("plans.newTower"))
                : [h("a", { href: `#/structures/${encodeURIComponent(p.structure ?? "")}` }, p.structure ?? "—"), ` · ${tOr(`kind.${p.kind}`, p.kind ?? "")}`]),
              h("td", {}, p.height_m == null ? "—" : `${num(p.height_m, 1)} m`),
              h("td", {}, p.azimuths_deg ?? "—"),
              h("td", {}, money(p.cost_yuan)),
              h("td", {}, p.reason ?? "—"),
            );
          }),
        ),
      ),
    );
  }

  stopPoll = poll(
    async () => {
      try {
        const { data } = await api(`/plans/${encodeURIComponent(arg)}`);
        if (!disposed) showPlan(data);
        return data;
      } catch (exc) {
        if (!disposed) showError(head, exc);
        if (exc instanceof ApiError && exc.status >= 400 && exc.status < 500) return { state: "gone" };
        throw exc;
      }
    },
    (plan) => !disposed && ACTIVE.has(plan.state),
  );

  return () => {
    disposed = true;
    stopPoll?.();
    map?.remove();
  };
}
