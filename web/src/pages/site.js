// One site (#/sites/EXTERNAL_ID): operator, structure, RAT, band, status and its dates, the
// sectors, and its audit history. Another operator's planned or approved site does not exist
// for an operator (404), as the API says.
import { api } from "../api.js";
import { auditObjectOf, auditSection } from "../audit.js";
import { h, fill, message } from "../dom.js";
import { showError } from "../errors.js";
import { num, t, tOr, when } from "../i18n.js";
import { facts } from "./structure.js";

const SECTOR_COLUMNS = [
  ["sector_number", (s) => String(s.sector_number)],
  ["cell_identity", (s) => (s.cell_identity ?? "—")],
  ["pci", (s) => (s.pci ?? "—")],
  ["azimuth", (s) => (s.azimuth_deg == null ? "—" : `${num(s.azimuth_deg, 1)}°`)],
  ["tilt", (s) => `${num(s.mechanical_tilt_deg, 1)}° / ${num(s.electrical_tilt_deg, 1)}°`],
  ["height", (s) => (s.antenna_height_m == null ? "—" : `${num(s.antenna_height_m, 1)} m`)],
  ["power", (s) => (s.tx_power_dbm == null ? "—" : `${num(s.tx_power_dbm, 1)} dBm`)],
  ["bandwidth", (s) => (s.bandwidth_mhz == null ? "—" : `${num(s.bandwidth_mhz, 0)} MHz`)],
  ["carrier", (s) => (s.carrier_frequency_mhz == null ? "—" : `${num(s.carrier_frequency_mhz, 1)} MHz`)],
  ["pattern", (s) => s.antenna_pattern ?? "—"],
];

export function renderSite(container, { arg }) {
  let disposed = false;
  const body = h("div", { class: "detail-page", "data-testid": "site-page" }, t("common.loading"));
  fill(container, h("h1", { id: "page-title", tabindex: -1 }, t("site.title", { id: arg ?? "" })), body);
  if (!arg) {
    fill(body, message("error", t("site.missing")));
    return null;
  }
  api(`/sites/${encodeURIComponent(arg)}`)
    .then(({ data }) => {
      if (disposed) return;
      const p = data.properties;
      const [lon, lat] = data.geometry?.coordinates ?? [];
      const rows = [
        [t("site.name"), p.name || "—"],
        [t("site.operator"), p.operator],
        [t("site.structure"), p.structure ? h("a", { href: `#/structures/${encodeURIComponent(p.structure)}` }, p.structure) : "—"],
        [t("site.district"), p.district || "—"],
        [t("site.rat"), tOr(`rat.${p.rat}`, p.rat)],
        [t("site.band"), p.band || "—"],
        [t("site.status"), h("span", { class: `badge site-${p.status}`, "data-state": p.status }, tOr(`site.status.${p.status}`, p.status))],
        [t("site.node"), p.node_id ?? "—"],
        [t("site.planned"), when(p.planned_on)],
        [t("site.approved"), when(p.approved_on)],
        [t("site.built"), when(p.built_on)],
        [t("site.onAir"), when(p.on_air_on)],
        [t("site.retired"), when(p.retired_on)],
        [t("structure.location"), lon != null ? `${num(lat, 6)}, ${num(lon, 6)}` : "—"],
      ];
      const sectors = p.sectors ?? [];
      fill(
        body,
        facts(rows),
        p.synthetic ? h("p", { class: "hint" }, t("structure.synthetic")) : null,
        h(
          "section",
          { "aria-labelledby": "sectors-title" },
          h("h2", { id: "sectors-title" }, t("site.sectors")),
          sectors.length
            ? h(
                "table",
                { class: "data", "data-testid": "sectors" },
                h("caption", { class: "visually-hidden" }, t("site.sectors")),
                h("thead", {}, h("tr", {}, SECTOR_COLUMNS.map(([c]) => h("th", { scope: "col" }, t(`sector.col.${c}`))))),
                h("tbody", {}, sectors.map((s) => h("tr", { "data-sector": s.sector_number }, SECTOR_COLUMNS.map(([, f]) => h("td", {}, f(s)))))),
              )
            : message("info", t("site.sectors.none")),
        ),
        auditSection(auditObjectOf(p, "sites", p.external_id)),
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
