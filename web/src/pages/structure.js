// One structure (#/structures/EXTERNAL_ID): what it is, its capacity, the tenancies the caller
// may see, its audit history, and for an operator the form to ask for space on it.
import { api } from "../api.js";
import { auditObjectOf, auditSection } from "../audit.js";
import { h, fill, message } from "../dom.js";
import { showError } from "../errors.js";
import { num, t, tOr, when } from "../i18n.js";
import { requestForm } from "../request-form.js";

export function facts(rows) {
  return h("dl", { class: "facts" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")]));
}

export function yesNo(value) {
  return value == null ? "—" : value ? t("common.yes") : t("common.no");
}

function tenanciesTable(items) {
  if (!items.length) return message("info", t("structure.tenancies.none"));
  return h(
    "table",
    { class: "data", "data-testid": "tenancies" },
    h("caption", { class: "visually-hidden" }, t("structure.tenancies")),
    h(
      "thead",
      {},
      h("tr", {}, ["operator", "site", "request", "positions", "payload", "power", "start", "end"].map((c) =>
        h("th", { scope: "col" }, t(`tenancy.col.${c}`)),
      )),
    ),
    h(
      "tbody",
      {},
      items.map((ten) =>
        h(
          "tr",
          { "data-tenancy-id": ten.id },
          h("td", {}, ten.operator),
          h("td", {}, ten.site ? h("a", { href: `#/sites/${encodeURIComponent(ten.site)}` }, ten.site) : "—"),
          h("td", {}, ten.request_id ? h("a", { href: `#/sharing/${ten.request_id}` }, `#${ten.request_id}`) : "—"),
          h("td", {}, ten.positions.join(", ")),
          h("td", {}, `${num(ten.payload_kg, 1)} kg`),
          h("td", {}, `${num(ten.power_kw, 2)} kW`),
          h("td", {}, when(ten.start_on)),
          h("td", {}, when(ten.end_on)),
        ),
      ),
    ),
  );
}

export function renderStructure(container, { user, arg, toast }) {
  let disposed = false;
  const body = h("div", { class: "detail-page", "data-testid": "structure-page" }, t("common.loading"));
  fill(
    container,
    h("p", { class: "breadcrumb" }, h("a", { href: "#/map" }, t("nav.map"))),
    h("h1", { id: "page-title", tabindex: -1 }, t("structure.title", { id: arg ?? "" })),
    body,
  );
  if (!arg) {
    fill(body, message("error", t("structure.missing")));
    return null;
  }

  api(`/structures/${encodeURIComponent(arg)}`)
    .then(({ data }) => {
      if (disposed) return;
      const p = data.properties;
      const [lon, lat] = data.geometry?.coordinates ?? [];
      const free = Number(p.free_positions ?? 0);
      const rows = [
        [t("structure.name"), p.name || "—"],
        [t("structure.kind"), tOr(`kind.${p.kind}`, p.kind)],
        [t("structure.owner"), p.owner],
        [t("structure.district"), p.district || "—"],
        [t("structure.height"), t("structure.unit.m", { value: num(p.height_m, 1) })],
        [t("structure.positions"), t("structure.freeOf", { free, total: p.mount_positions })],
        [t("structure.freeNumbers"), p.free_position_numbers?.length ? p.free_position_numbers.join(", ") : t("common.none")],
        [t("structure.payload"), `${num(p.max_payload_kg, 1)} kg`],
        [t("structure.power"), `${num(p.available_power_kw, 2)} kW`],
        [t("structure.fibre"), yesNo(p.fibre)],
        [t("structure.open"), yesNo(p.open_for_sharing)],
        [t("structure.status"), tOr(`structure.status.${p.status}`, p.status)],
        [t("structure.location"), lon != null ? `${num(lat, 6)}, ${num(lon, 6)}` : "—"],
      ];
      let requestArea;
      if (user.role !== "operator") requestArea = null;
      else if (!p.open_for_sharing) requestArea = message("info", t("structure.notOpen"));
      else if (free < 1) requestArea = message("info", t("structure.noFree"));
      else {
        const holder = h("div", { class: "request-holder" });
        const open = h(
          "button",
          {
            type: "button",
            class: "primary",
            "data-testid": "open-request-form",
            "aria-expanded": "false",
            onclick: () => {
              fill(holder, requestForm(p, free, { toast }));
              open.setAttribute("aria-expanded", "true");
              open.hidden = true;
              holder.querySelector("input")?.focus();
            },
          },
          t("request.title"),
        );
        requestArea = h("section", { class: "card" }, open, holder);
      }
      fill(
        body,
        facts(rows),
        p.synthetic ? h("p", { class: "hint" }, t("structure.synthetic")) : null,
        requestArea,
        h("section", { "aria-labelledby": "tenancies-title" },
          h("h2", { id: "tenancies-title" }, t("structure.tenancies")),
          tenanciesTable(p.tenancies ?? [])),
        auditSection(auditObjectOf(p, "structures", p.external_id)),
      );
      body.dataset.state = "ready";
    })
    .catch((exc) => {
      if (!disposed) showError(body, exc);
    });

  return () => {
    disposed = true;
  };
}
