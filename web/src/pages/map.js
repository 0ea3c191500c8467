// The map: our own vector layers (districts, key areas by phase year or by coverage status,
// structures in view clustered when zoomed out, the sites in view, a coverage run's raster) on a
// plain background, or on tiles when the server names a tile URL. Clicking a structure (on the
// map or in the list of structures in view) opens its panel; an operator can ask for space on it
// there. A site's popup links to its page.
import L from "leaflet";
import "leaflet.markercluster";

import { api } from "../api.js";
import { h, field, fill, message } from "../dom.js";
import { lang, nameOf, num, t, tOr, when } from "../i18n.js";
import { loadWebConfig } from "../config.js";
import { errorText, showError } from "../errors.js";
import { requestForm } from "../request-form.js";

/** Structures are fetched from this zoom on (the city is 82,000 km²). */
export const STRUCTURE_MIN_ZOOM = 13;
/** From this zoom on every structure is its own marker. */
const CLUSTER_OFF_ZOOM = 17;
const STRUCTURE_LIMIT = 1000;
/** Sites are fetched with the structures (same zoom, same view), at most this many. */
const SITE_LIMIT = 1000;
const LIST_MAX = 100;

export const PHASE_COLOURS = { 2019: "#d7301f", 2020: "#f28e2b", 2021: "#2a9d8f", 2022: "#6a51a3" };
export const KIND_COLOURS = {
  telecom_tower: "#1f4e9c",
  lamp_pole: "#2e8b3d",
  traffic_signal_pole: "#c2185b",
  cctv_pole: "#7b3fa0",
  power_pole: "#8d5a2b",
  rooftop: "#455a64",
  smart_pole: "#00838f",
};
/** Sites: a ring in the operator's colour (Okabe–Ito: told apart with colour-vision deficiency). */
export const OPERATOR_COLOURS = {
  "china-mobile": "#0072b2",
  "china-telecom": "#d55e00",
  "china-unicom": "#cc79a7",
  "china-broadnet": "#009e73",
};
/** A site's status is the ring's line: solid (on air), double (built), dashed (approved),
 * dotted (planned), grey (retired); the centre is filled when on air (grey when retired). */
export const SITE_STATUSES = ["on_air", "built", "approved", "planned", "retired"];
const RETIRED_COLOUR = "#8c8c8c";
/** Key areas by their latest recorded coverage result (all operators together). */
export const COVERAGE_STATUS_COLOURS = { met: "#1b7837", below_target: "#e66101", not_assessed: "#8c8c8c" };
const COVERAGE_STATUSES = Object.keys(COVERAGE_STATUS_COLOURS);

/** A cluster: how many structures, and how many free positions they have between them. */
function clusterIcon(group) {
  const members = group.getAllChildMarkers();
  const free = members.reduce((sum, m) => sum + (m.options.free ?? 0), 0);
  const size = members.length < 10 ? 30 : members.length < 100 ? 36 : 42;
  const el = h(
    "span",
    { class: `cl${free > 0 ? "" : " cl-full"}`, title: t("map.cluster", { count: members.length, free }) },
    h("span", { class: "cl-n" }, String(members.length)),
    h("span", { class: "cl-free" }, `+${free}`),
  );
  return L.divIcon({ className: "cl-marker", html: el, iconSize: [size, size] });
}

// What survives a re-render (language switch, coming back to the page).
const kept = {
  center: null,
  zoom: null,
  selected: null,
  keyArea: "",
  freeOnly: false,
  coverage: "",
  colourBy: "phase", // the key areas: "phase" (year) or "coverage" (status)
  sitesOpen: false, // the list of sites in view is unfolded
  layers: { districts: true, keyAreas: true, structures: true, sites: true },
};
const cache = { districts: null, keyAreas: null };

function phaseColour(year) {
  return PHASE_COLOURS[year] ?? "#8c8c8c";
}

function kindName(kind) {
  return tOr(`kind.${kind}`, kind);
}

function operatorName(code) {
  return tOr(`operator.${code}`, code);
}

function siteStatusName(status) {
  return tOr(`site.status.${status}`, status);
}

function siteColour(p) {
  return p.status === "retired" ? RETIRED_COLOUR : (OPERATOR_COLOURS[p.operator] ?? "#555");
}

/** met | below_target | not_assessed: the API's, else from `coverage` (an older server: none). */
export function coverageStatus(p) {
  if (COVERAGE_STATUSES.includes(p.coverage_status)) return p.coverage_status;
  if (p.coverage && typeof p.coverage.met === "boolean") return p.coverage.met ? "met" : "below_target";
  return "not_assessed";
}

function percent(fraction, digits = 1) {
  return fraction == null ? "—" : `${num(fraction * 100, digits)}%`;
}

/** The lines of a key area's coverage: "已达标：覆盖率 97.3% / 目标 95%", "连续覆盖率 99.1% / 目标
 * 90%（截至 …）"; or that it has not been assessed. */
function coverageLines(p) {
  const c = p.coverage;
  if (!c || coverageStatus(p) === "not_assessed") return [t("map.coverage.notAssessed")];
  const covered = t("map.coverage.covered", {
    value: percent(c.covered_fraction),
    target: percent(c.target_coverage_fraction ?? p.target_coverage_fraction),
  });
  const continuity =
    c.continuity_fraction == null
      ? null
      : t("map.coverage.continuity", {
          value: percent(c.continuity_fraction),
          target: percent(c.target_continuity_fraction ?? p.target_continuity_fraction),
        });
  return [
    t("map.coverage.line", { status: t(`map.coverage.${coverageStatus(p)}`), values: covered }),
    t("map.coverage.asOf", { values: continuity ?? "", date: when(c.as_of) }).trim(),
  ];
}

/** A key area's style: by phase year, or by coverage status (not assessed: light, dashed). */
function keyAreaStyle(feature) {
  const p = feature.properties;
  if (kept.colourBy === "coverage") {
    const status = coverageStatus(p);
    const c = COVERAGE_STATUS_COLOURS[status];
    if (status === "not_assessed") return { color: c, weight: 1.5, dashArray: "5 4", fillColor: c, fillOpacity: 0.06 };
    return { color: c, weight: status === "met" ? 2 : 3, dashArray: null, fillColor: c, fillOpacity: 0.22 };
  }
  const c = phaseColour(p.phase_year);
  return { color: c, weight: 2, dashArray: null, fillColor: c, fillOpacity: 0.12 };
}

/** The area of a GeoJSON geometry's bounding box, in square degrees (0 without coordinates). */
function extentOf(geometry) {
  let west = Infinity;
  let south = Infinity;
  let east = -Infinity;
  let north = -Infinity;
  const walk = (c) => {
    if (typeof c[0] === "number") {
      west = Math.min(west, c[0]);
      east = Math.max(east, c[0]);
      south = Math.min(south, c[1]);
      north = Math.max(north, c[1]);
    } else c.forEach(walk);
  };
  if (geometry?.coordinates) walk(geometry.coordinates);
  return east >= west ? (east - west) * (north - south) : 0;
}

async function geojson(path) {
  const { data } = await api(path);
  return data;
}

export function renderMap(container, { user, navigate, toast }) {
  let disposed = false;
  let fetchCtl = null;
  let refetchTimer = null;
  let structures = []; // features in view
  let truncated = false;
  const markers = new Map(); // external_id → marker
  let sites = []; // the sites in view
  let sitesTruncated = false;
  let sitesStale = true; // not fetched for this view (the layer was off)
  let sitesError = null;
  const siteMarkers = new Map(); // external_id → marker

  const mapEl = h("div", {
    id: "map",
    class: "map",
    role: "region",
    "aria-label": t("map.region"),
    "data-testid": "map",
  });
  const notes = h("div", { class: "map-notes", "aria-live": "polite" });
  const keyAreaSelect = h(
    "select",
    { name: "key-area", "data-testid": "key-area-select" },
    h("option", { value: "" }, t("map.zoomTo.choose")),
  );
  const zoomButton = h("button", { type: "button", "data-testid": "key-area-zoom" }, t("map.zoomTo.button"));
  const keyAreaForm = h(
    "form",
    { class: "inline-form", onsubmit: (e) => e.preventDefault() },
    field(t("map.zoomTo"), keyAreaSelect),
    zoomButton,
  );
  const layerBoxes = {
    districts: h("input", { type: "checkbox", checked: kept.layers.districts, name: "layer-districts" }),
    keyAreas: h("input", { type: "checkbox", checked: kept.layers.keyAreas, name: "layer-key-areas" }),
    structures: h("input", { type: "checkbox", checked: kept.layers.structures, name: "layer-structures" }),
    sites: h("input", { type: "checkbox", checked: kept.layers.sites, name: "layer-sites", "data-testid": "layer-sites" }),
  };
  const colourBy = h(
    "select",
    { name: "key-area-colour", "data-testid": "key-area-colour" },
    h("option", { value: "phase", selected: kept.colourBy === "phase" }, t("map.colourBy.phase")),
    h("option", { value: "coverage", selected: kept.colourBy === "coverage" }, t("map.colourBy.coverage")),
  );
  const keyAreaLegend = h("div", { class: "key-area-legend", "data-testid": "key-area-legend" });
  const siteRing = (colour, status, extra = "") =>
    h("span", { class: `site-ring site-${status}${extra}`, style: `--op:${colour}`, "aria-hidden": "true" });
  const legend = h(
    "section",
    { class: "legend", "aria-labelledby": "legend-title" },
    h("h2", { id: "legend-title" }, t("map.layers")),
    h("label", { class: "check" }, layerBoxes.districts, h("span", { class: "swatch swatch-district" }), t("map.districts")),
    h("label", { class: "check" }, layerBoxes.keyAreas, t("map.keyAreas")),
    h("div", { class: "legend-field" }, field(t("map.colourBy"), colourBy)),
    keyAreaLegend,
    h("label", { class: "check" }, layerBoxes.sites, t("map.sites")),
    h(
      "ul",
      { class: "legend-list", "data-testid": "site-legend" },
      Object.entries(OPERATOR_COLOURS).map(([code, colour]) =>
        h("li", { "data-operator": code }, siteRing(colour, "on_air", " site-legend"), operatorName(code)),
      ),
    ),
    h(
      "ul",
      { class: "legend-list" },
      SITE_STATUSES.map((status) =>
        h(
          "li",
          { "data-status": status },
          siteRing(status === "retired" ? RETIRED_COLOUR : "#3d4a57", status, " site-legend"),
          siteStatusName(status),
        ),
      ),
    ),
    h("label", { class: "check" }, layerBoxes.structures, t("map.structures")),
    h(
      "ul",
      { class: "legend-list" },
      Object.entries(KIND_COLOURS).map(([kind, colour]) =>
        h("li", {}, h("span", { class: "swatch swatch-dot", style: `background:${colour}` }), kindName(kind)),
      ),
    ),
    h(
      "p",
      { class: "hint legend-capacity" },
      h("span", { class: "st st-legend" }, "2"), " ", t("map.free"), "  ",
      h("span", { class: "st st-legend st-full" }, "0"), " ", t("map.full"), "  ",
      h("span", { class: "cl cl-legend" }, h("span", { class: "cl-n" }, "12"), h("span", { class: "cl-free" }, "+30")), " ",
      t("map.clusterLegend"),
    ),
  );
  const freeOnly = h("input", { type: "checkbox", name: "free-only", checked: kept.freeOnly, "data-testid": "free-only" });
  const listTitle = h("h2", { id: "in-view-title" });
  const listEl = h("ul", { class: "structure-list", "aria-labelledby": "in-view-title", "data-testid": "structure-list" });
  const listSection = h(
    "section",
    { class: "in-view" },
    listTitle,
    h("label", { class: "check" }, freeOnly, t("map.filter.freeOnly")),
    listEl,
  );
  // the sites in view, as a list (a choice opens the site's popup)
  const siteListTitle = h("span", { id: "sites-in-view-title" });
  const siteListEl = h("ul", { class: "structure-list site-list", "aria-labelledby": "sites-in-view-title", "data-testid": "site-list" });
  const siteListSection = h(
    "section",
    { class: "in-view sites-in-view" },
    h("details", { open: kept.sitesOpen ? true : null, ontoggle: (e) => (kept.sitesOpen = e.target.open) }, h("summary", {}, h("h2", {}, siteListTitle)), siteListEl),
  );
  const detail = h("section", {
    class: "structure-detail",
    "aria-live": "polite",
    "data-testid": "structure-detail",
    hidden: true,
  });
  // coverage runs: one finished run's raster over the map, with its legend
  const coverageSelect = h(
    "select",
    { name: "coverage-run", "data-testid": "coverage-select" },
    h("option", { value: "" }, t("coverage.none")),
  );
  const coverageNote = h("div", { class: "coverage-note", "aria-live": "polite" });
  const coverageLegend = h("div", { class: "coverage-legend", "data-testid": "coverage-legend" });
  const coverageSection = h(
    "section",
    { class: "coverage-control", "aria-labelledby": "coverage-title", "data-testid": "coverage-control" },
    h("h2", { id: "coverage-title" }, t("coverage.title")),
    field(t("coverage.choose"), coverageSelect),
    coverageNote,
    coverageLegend,
  );
  const side = h(
    "aside",
    { class: "side", "aria-label": t("map.title") },
    h("h1", {}, t("map.title")),
    keyAreaForm,
    detail,
    listSection,
    siteListSection,
    legend,
    coverageSection,
  );
  fill(container, h("div", { class: "map-layout" }, h("div", { class: "map-wrap" }, mapEl, notes), side));

  // --- the map -------------------------------------------------------------------------------
  const map = L.map(mapEl, {
    zoomControl: false,
    attributionControl: true,
    minZoom: 7,
    maxZoom: 19,
    preferCanvas: false,
  });
  map.attributionControl.setPrefix("Leaflet");
  L.control.zoom({ zoomInTitle: t("map.zoomIn"), zoomOutTitle: t("map.zoomOut") }).addTo(map);
  map.createPane("districts").style.zIndex = 350;
  map.createPane("keyAreas").style.zIndex = 420;
  map.createPane("coverage").style.zIndex = 410; // above the districts, under the key areas
  // sites: rings under the structures' markers (600), so a structure's disc sits in its sites' rings
  map.createPane("sites").style.zIndex = 550;

  const districtLayer = L.geoJSON(null, {
    pane: "districts",
    style: () => ({ color: "#7d8a96", weight: 1, fillColor: "#faf7ef", fillOpacity: 1 }),
    onEachFeature: (feature, layer) => {
      layer.bindTooltip(() => t("map.district", { name: nameOf(feature.properties) }), { sticky: true });
    },
  }).addTo(map);
  // each key area's path says which it is and how it is coloured (for people's tools and tests)
  function markKeyArea(layer) {
    const el = layer.getElement?.();
    if (!el) return;
    const p = layer.feature.properties;
    el.setAttribute("data-key-area", p.code ?? layer.feature.id);
    el.setAttribute("data-coverage-status", coverageStatus(p));
    el.setAttribute("data-colour-by", kept.colourBy);
  }
  const keyAreaLayer = L.geoJSON(null, {
    pane: "keyAreas",
    style: keyAreaStyle,
    onEachFeature: (feature, layer) => {
      const p = feature.properties;
      layer.bindTooltip(
        () =>
          h(
            "span",
            { class: "key-area-tip", "data-key-area": p.code ?? feature.id },
            t("map.keyArea", { name: nameOf(p), year: p.phase_year ?? "—" }),
            coverageLines(p).map((line) => [h("br"), h("span", { class: `coverage-line coverage-${coverageStatus(p)}` }, line)]),
          ),
        { sticky: true },
      );
      layer.on("add", () => markKeyArea(layer));
      layer.on("click", () => {
        if (map.getZoom() < STRUCTURE_MIN_ZOOM) map.fitBounds(layer.getBounds(), { maxZoom: 16 });
      });
    },
  }).addTo(map);
  const cluster = L.markerClusterGroup({
    disableClusteringAtZoom: CLUSTER_OFF_ZOOM,
    maxClusterRadius: 50,
    chunkedLoading: false, // at most STRUCTURE_LIMIT markers: add them at once
    showCoverageOnHover: false,
    spiderfyOnMaxZoom: false,
    iconCreateFunction: clusterIcon,
  }).addTo(map);
  const siteLayer = L.layerGroup([], { pane: "sites" }).addTo(map);

  loadWebConfig().then((config) => {
    if (disposed) return;
    if (config.tile_url) {
      L.tileLayer(config.tile_url, { attribution: config.tile_attribution || "", maxZoom: 19 }).addTo(map);
      districtLayer.setStyle({ fillOpacity: 0.15 });
      mapEl.classList.add("with-tiles");
    } else {
      map.attributionControl.addAttribution(t("map.tilesOff"));
    }
  });

  for (const [key, layer] of [
    ["districts", districtLayer],
    ["keyAreas", keyAreaLayer],
    ["structures", cluster],
    ["sites", siteLayer],
  ]) {
    const show = () => {
      if (layerBoxes[key].checked) map.addLayer(layer);
      else map.removeLayer(layer);
    };
    if (!layerBoxes[key].checked) show();
    layerBoxes[key].addEventListener("change", () => {
      kept.layers[key] = layerBoxes[key].checked;
      show();
      if (key === "sites") {
        renderSiteList();
        if (mapEl.dataset.state !== "loading") showNotes();
        if (layerBoxes.sites.checked && sitesStale) scheduleStructures(); // not fetched while off
      }
    });
  }

  // --- key areas: coloured by phase year or by coverage status --------------------------------
  function renderKeyAreaLegend() {
    const byCoverage = kept.colourBy === "coverage";
    keyAreaLegend.dataset.mode = kept.colourBy;
    fill(
      keyAreaLegend,
      h(
        "ul",
        { class: "legend-list" },
        byCoverage
          ? COVERAGE_STATUSES.map((status) =>
              h(
                "li",
                { "data-status": status },
                h("span", { class: `swatch swatch-coverage swatch-${status}`, style: `--c:${COVERAGE_STATUS_COLOURS[status]}` }),
                t(`map.coverage.${status}`),
              ),
            )
          : Object.entries(PHASE_COLOURS).map(([year, colour]) =>
              h("li", { "data-year": year }, h("span", { class: "swatch", style: `background:${colour}` }), t("map.phase", { year })),
            ),
      ),
      byCoverage ? h("p", { class: "hint legend-note" }, t("map.coverage.legendNote")) : null,
    );
  }
  function recolourKeyAreas() {
    kept.colourBy = colourBy.value === "coverage" ? "coverage" : "phase";
    keyAreaLayer.setStyle(keyAreaStyle);
    keyAreaLayer.eachLayer(markKeyArea);
    renderKeyAreaLegend();
  }
  colourBy.addEventListener("change", recolourKeyAreas);
  renderKeyAreaLegend();

  function saveView() {
    kept.center = map.getCenter();
    kept.zoom = map.getZoom();
  }

  // --- districts and key areas -------------------------------------------------------------------
  async function loadAreas() {
    try {
      if (!cache.districts) cache.districts = await geojson("/districts");
      if (!cache.keyAreas) cache.keyAreas = await geojson("/key-areas");
    } catch (exc) {
      if (disposed) return;
      showError(notes, exc);
      if (kept.center == null) map.setView([29.56, 106.55], 10);
      return;
    }
    if (disposed) return;
    districtLayer.addData(cache.districts);
    // small areas on top of the large ones they lie in (e.g. a CBD inside a district's urban
    // area): drawn in that order. Leaflet draws a group's layers in the order they were made
    // (also when the layer is switched off and on again), and the paths exist only once the map
    // has a view, so the order is the features' order, not a later bringToFront.
    const byExtent = [...(cache.keyAreas.features ?? [])].sort((a, b) => extentOf(b.geometry) - extentOf(a.geometry));
    keyAreaLayer.addData({ type: "FeatureCollection", features: byExtent });
    const areas = [...(cache.keyAreas.features ?? [])].sort(
      (a, b) =>
        (a.properties.phase_year ?? 0) - (b.properties.phase_year ?? 0) ||
        nameOf(a.properties).localeCompare(nameOf(b.properties), "zh-CN"),
    );
    for (const f of areas) {
      const code = f.properties.code ?? f.id;
      keyAreaSelect.append(
        h("option", { value: code, selected: code === kept.keyArea }, `${f.properties.phase_year ?? ""} · ${nameOf(f.properties)}`),
      );
    }
    if (kept.center == null) {
      const bounds = districtLayer.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds);
      else map.setView([29.56, 106.55], 9);
    }
  }

  function zoomToKeyArea() {
    const code = keyAreaSelect.value;
    kept.keyArea = code;
    if (!code) return;
    keyAreaLayer.eachLayer((layer) => {
      const p = layer.feature.properties;
      if ((p.code ?? layer.feature.id) === code) map.fitBounds(layer.getBounds(), { maxZoom: 16 });
    });
  }
  zoomButton.addEventListener("click", zoomToKeyArea);
  keyAreaSelect.addEventListener("change", zoomToKeyArea);

  // --- structures in view -------------------------------------------------------------------------
  function markerFor(feature) {
    const p = feature.properties;
    const [lon, lat] = feature.geometry.coordinates;
    const free = Number(p.free_positions ?? 0);
    const label = `${kindName(p.kind)} ${p.external_id}: ${t("structure.freeOf", { free, total: p.mount_positions ?? "?" })}`;
    const dot = h(
      "span",
      {
        class: `st st-${p.kind}${free > 0 ? "" : " st-full"}${kept.selected === p.external_id ? " st-selected" : ""}`,
        "data-external-id": p.external_id,
        "data-kind": p.kind,
        "data-free": free,
      },
      h("span", { "aria-hidden": "true" }, String(free)),
      h("span", { class: "visually-hidden" }, label), // the marker's name for screen readers
    );
    dot.style.setProperty("--kind", KIND_COLOURS[p.kind] ?? "#555");
    const marker = L.marker([lat, lon], {
      icon: L.divIcon({ className: "st-marker", html: dot, iconSize: [22, 22], iconAnchor: [11, 11] }),
      title: label,
      alt: label,
      keyboard: true,
      riseOnHover: true,
      free,
    });
    marker.on("click", () => select(p.external_id));
    return marker;
  }

  function renderStructures() {
    cluster.clearLayers();
    markers.clear();
    const made = structures.map((f) => {
      const m = markerFor(f);
      markers.set(f.properties.external_id, m);
      return m;
    });
    cluster.addLayers(made);
    renderList();
  }

  function renderList() {
    const zoomedOut = map.getZoom() < STRUCTURE_MIN_ZOOM;
    if (zoomedOut) {
      fill(listTitle, t("map.structures"));
      fill(listEl, h("li", { class: "hint" }, t("map.zoomInHint", { zoom: STRUCTURE_MIN_ZOOM })));
      return;
    }
    const shown = structures
      .filter((f) => !freeOnly.checked || Number(f.properties.free_positions) > 0)
      .sort((a, b) => Number(b.properties.free_positions) - Number(a.properties.free_positions));
    fill(listTitle, t("map.inView", { count: structures.length }));
    if (!shown.length) {
      fill(listEl, h("li", { class: "hint" }, t("map.inView.empty")));
      return;
    }
    fill(
      listEl,
      truncated ? h("li", { class: "hint" }, t("map.inView.truncated", { count: structures.length })) : null,
      shown.slice(0, LIST_MAX).map((f) => {
        const p = f.properties;
        const free = Number(p.free_positions ?? 0);
        return h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: `structure-item${kept.selected === p.external_id ? " selected" : ""}`,
              "data-external-id": p.external_id,
              "aria-pressed": kept.selected === p.external_id ? "true" : "false",
              onclick: () => select(p.external_id, true),
            },
            h("span", { class: `st st-${p.kind}${free > 0 ? "" : " st-full"}`, style: `--kind:${KIND_COLOURS[p.kind] ?? "#555"}`, "aria-hidden": "true" }, String(free)),
            h("span", { class: "item-name" }, p.external_id),
            h("span", { class: "item-kind" }, `${kindName(p.kind)} · ${t("structure.freeOf", { free, total: p.mount_positions ?? "?" })}`),
          ),
        );
      }),
    );
  }

  // --- sites in view ------------------------------------------------------------------------------
  function siteLabel(p) {
    return t("map.site.label", {
      id: p.external_id,
      operator: operatorName(p.operator),
      status: siteStatusName(p.status),
    });
  }

  function sitePopup(p) {
    const dates = [
      ["planned_on", "site.planned"],
      ["approved_on", "site.approved"],
      ["built_on", "site.built"],
      ["on_air_on", "site.onAir"],
      ["retired_on", "site.retired"],
    ].filter(([k]) => p[k]);
    const rows = [
      [t("site.operator"), operatorName(p.operator)],
      [t("site.status"), siteStatusName(p.status)],
      [t("site.band"), [tOr(`rat.${p.rat}`, p.rat), p.band].filter(Boolean).join(" · ") || "—"],
      [t("site.structure"), p.structure ?? "—"],
      ...dates.map(([k, label]) => [t(label), when(p[k])]),
    ];
    return h(
      "div",
      { class: "site-popup", "data-testid": "site-popup", "data-external-id": p.external_id },
      h("strong", {}, p.name || p.external_id),
      p.name ? h("div", { class: "hint" }, p.external_id) : null,
      h("dl", { class: "facts facts-compact" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      h(
        "a",
        { href: `#/sites/${encodeURIComponent(p.external_id)}`, "data-testid": "site-details-link" },
        t("map.site.details"),
      ),
    );
  }

  /** Sites on one structure (or at one point) are nested rings: the first the smallest. */
  function siteMarker(feature, ring) {
    const p = feature.properties;
    const [lon, lat] = feature.geometry.coordinates;
    const label = siteLabel(p);
    const size = 32 + 10 * ring;
    const el = h(
      "span",
      {
        class: `site site-${p.status}${ring ? "" : " site-inner"}`,
        "data-external-id": p.external_id,
        "data-operator": p.operator,
        "data-status": p.status,
        style: `--op:${siteColour(p)}`,
      },
      h("span", { class: "visually-hidden" }, label),
    );
    const marker = L.marker([lat, lon], {
      pane: "sites",
      icon: L.divIcon({ className: "site-marker", html: el, iconSize: [size, size], iconAnchor: [size / 2, size / 2] }),
      title: label,
      alt: label,
      keyboard: true,
      zIndexOffset: -20 * ring,
    });
    marker.bindPopup(() => sitePopup(p), { className: "site-popup-wrap" });
    return marker;
  }

  /** Draw the sites in view; a marker that is drawn already as it should be stays (with its
   * popup open: opening one may pan the map, which loads the view again). */
  function renderSites() {
    const before = new Map(siteMarkers);
    siteMarkers.clear();
    const rings = new Map(); // where → how many rings there already
    const ordered = [...sites].sort(
      (a, b) =>
        SITE_STATUSES.indexOf(a.properties.status) - SITE_STATUSES.indexOf(b.properties.status) ||
        String(a.properties.operator).localeCompare(String(b.properties.operator)),
    );
    for (const f of ordered) {
      const p = f.properties;
      const where = p.structure ? `s:${p.structure}` : f.geometry.coordinates.map((v) => v.toFixed(6)).join(",");
      const ring = Math.min(rings.get(where) ?? 0, 4);
      rings.set(where, ring + 1);
      const key = JSON.stringify([p, f.geometry.coordinates, ring, lang()]);
      let m = before.get(p.external_id);
      if (m && m.options.siteKey === key) {
        before.delete(p.external_id);
      } else {
        m = siteMarker(f, ring);
        m.options.siteKey = key;
        siteLayer.addLayer(m);
      }
      siteMarkers.set(p.external_id, m);
    }
    for (const old of before.values()) siteLayer.removeLayer(old);
    renderSiteList();
  }

  function openSite(externalId) {
    const m = siteMarkers.get(externalId);
    if (!m) return;
    if (!map.getBounds().contains(m.getLatLng())) map.panTo(m.getLatLng());
    m.openPopup();
  }

  function renderSiteList() {
    if (!layerBoxes.sites.checked) {
      fill(siteListTitle, t("map.sites"));
      fill(siteListEl, h("li", { class: "hint" }, t("map.sites.off")));
      return;
    }
    if (!(map.getZoom() >= STRUCTURE_MIN_ZOOM)) {
      fill(siteListTitle, t("map.sites"));
      fill(siteListEl, h("li", { class: "hint" }, t("map.sites.zoomInHint", { zoom: STRUCTURE_MIN_ZOOM })));
      return;
    }
    fill(siteListTitle, t("map.sitesInView", { count: sites.length }));
    if (sitesError) {
      fill(siteListEl, h("li", { class: "hint" }, t("map.sites.failed")));
      return;
    }
    if (!sites.length) {
      fill(siteListEl, h("li", { class: "hint" }, t("map.sites.empty")));
      return;
    }
    const shown = [...sites].sort((a, b) => String(a.properties.external_id).localeCompare(String(b.properties.external_id)));
    fill(
      siteListEl,
      sitesTruncated ? h("li", { class: "hint" }, t("map.sites.truncated", { count: sites.length })) : null,
      shown.slice(0, LIST_MAX).map((f) => {
        const p = f.properties;
        return h(
          "li",
          {},
          h(
            "button",
            { type: "button", class: "structure-item site-item", "data-external-id": p.external_id, onclick: () => openSite(p.external_id) },
            h("span", { class: `site site-legend site-${p.status}`, style: `--op:${siteColour(p)}`, "aria-hidden": "true" }),
            h("span", { class: "item-name" }, p.name || p.external_id),
            h("span", { class: "item-kind" }, `${operatorName(p.operator)} · ${siteStatusName(p.status)}${p.band ? ` · ${p.band}` : ""}`),
          ),
        );
      }),
      shown.length > LIST_MAX ? h("li", { class: "hint" }, t("map.sites.listMax", { count: LIST_MAX })) : null,
    );
  }

  // --- loading what is in view ----------------------------------------------------------------------
  function showNotes() {
    if (!(map.getZoom() >= STRUCTURE_MIN_ZOOM)) {
      fill(notes, h("p", { class: "map-hint" }, t("map.zoomInHint", { zoom: STRUCTURE_MIN_ZOOM })));
      return;
    }
    const lines = [];
    if (truncated) lines.push(h("p", { class: "map-hint" }, t("map.inView.truncated", { count: structures.length })));
    if (layerBoxes.sites.checked && sitesTruncated) {
      lines.push(h("p", { class: "map-hint", "data-testid": "sites-truncated" }, t("map.sites.truncated", { count: sites.length })));
    }
    if (layerBoxes.sites.checked && sitesError) lines.push(message("error", t("map.sites.error", { detail: errorText(sitesError) })));
    fill(notes, lines);
  }

  async function loadStructures() {
    if (disposed) return;
    fetchCtl?.abort();
    if (map.getZoom() < STRUCTURE_MIN_ZOOM) {
      structures = [];
      truncated = false;
      sites = [];
      sitesTruncated = false;
      sitesError = null;
      sitesStale = true;
      showNotes();
      renderStructures();
      renderSites();
      loaded();
      return;
    }
    const b = map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(",");
    fetchCtl = new AbortController();
    const { signal } = fetchCtl;
    fill(notes, h("p", { class: "map-hint", "data-testid": "map-loading" }, t("map.loading")));
    mapEl.setAttribute("aria-busy", "true");
    mapEl.dataset.bbox = bbox;
    const wantSites = layerBoxes.sites.checked;
    // both at once; the sites failing (an older server) leaves the structures shown
    const sitesCall = wantSites
      ? api(`/sites?bbox=${bbox}&limit=${SITE_LIMIT}`, { signal }).then(
          ({ data }) => ({ data }),
          (error) => ({ error }),
        )
      : Promise.resolve(null);
    try {
      const { data } = await api(`/structures?bbox=${bbox}&limit=${STRUCTURE_LIMIT}`, { signal });
      const siteAnswer = await sitesCall;
      if (disposed || signal.aborted) return;
      structures = (data?.features ?? []).filter((f) => f.geometry?.type === "Point");
      truncated = Boolean(data?.truncated ?? data?.next_cursor ?? structures.length >= STRUCTURE_LIMIT);
      if (siteAnswer?.error) {
        if (siteAnswer.error.name === "AbortError") return;
        sites = [];
        sitesTruncated = false;
        sitesError = siteAnswer.error;
      } else if (siteAnswer) {
        sites = (siteAnswer.data?.features ?? []).filter((f) => f.geometry?.type === "Point");
        sitesTruncated = Boolean(siteAnswer.data?.next_cursor ?? sites.length >= SITE_LIMIT);
        sitesError = null;
      } else {
        sites = []; // the layer is off: fetched when it is switched on again
        sitesTruncated = false;
        sitesError = null;
      }
      sitesStale = !wantSites;
      showNotes();
      renderStructures();
      renderSites();
      loaded();
      mapEl.removeAttribute("aria-busy");
      if (kept.selected && detail.hidden) {
        const again = structures.find((f) => f.properties.external_id === kept.selected);
        if (again) showDetail(again, false);
      }
    } catch (exc) {
      if (exc.name === "AbortError" || disposed) return; // a newer load is on its way
      mapEl.dataset.state = "error";
      mapEl.removeAttribute("aria-busy");
      showError(notes, exc);
    }
  }

  // For people and tests alike: data-state is "loading" from a move until its structures are
  // drawn, then "ready"; data-loads counts the loads drawn so far.
  let loads = 0;
  function loaded() {
    loads += 1;
    mapEl.dataset.loads = String(loads);
    mapEl.dataset.structures = String(structures.length);
    mapEl.dataset.sites = String(sites.length);
    mapEl.dataset.state = "ready";
  }

  function scheduleStructures() {
    mapEl.dataset.state = "loading";
    clearTimeout(refetchTimer);
    refetchTimer = setTimeout(loadStructures, 200);
  }

  map.on("moveend", () => {
    saveView();
    scheduleStructures();
  });
  freeOnly.addEventListener("change", () => {
    kept.freeOnly = freeOnly.checked;
    renderList();
  });

  // --- one structure: details and the request form ----------------------------------------------------
  function select(externalId, fromList = false) {
    const previous = kept.selected;
    kept.selected = externalId;
    for (const id of [previous, externalId]) {
      const m = id && markers.get(id);
      const el = m?.getElement()?.querySelector(".st");
      if (el) el.classList.toggle("st-selected", id === externalId);
    }
    for (const btn of listEl.querySelectorAll("button.structure-item")) {
      const on = btn.dataset.externalId === externalId;
      btn.classList.toggle("selected", on);
      btn.setAttribute("aria-pressed", on ? "true" : "false");
    }
    const feature = structures.find((f) => f.properties.external_id === externalId);
    if (!feature) return;
    if (fromList) {
      const m = markers.get(externalId);
      if (m) cluster.zoomToShowLayer(m, () => {});
    }
    showDetail(feature);
  }

  function showDetail(feature, focus = true) {
    const p = feature.properties;
    const free = Number(p.free_positions ?? 0);
    const rows = [
      [t("structure.kind"), kindName(p.kind)],
      [t("structure.owner"), p.owner ?? "—"],
      [t("structure.height"), p.height_m != null ? t("structure.unit.m", { value: num(p.height_m, 1) }) : "—"],
      [t("structure.positions"), t("structure.freeOf", { free, total: p.mount_positions ?? "?" })],
      [t("structure.open"), p.open_for_sharing ? t("common.yes") : t("common.no")],
    ];
    const closeBtn = h(
      "button",
      {
        type: "button",
        class: "link-button close",
        "aria-label": t("common.close"),
        onclick: () => {
          detail.hidden = true;
          select(null);
        },
      },
      "×",
    );
    let body;
    if (user.role !== "operator") body = h("p", { class: "hint" }, t("structure.onlyOperators"));
    else if (!p.open_for_sharing) body = message("info", t("structure.notOpen"));
    else if (free < 1) body = message("info", t("structure.noFree"));
    else body = requestForm(p, free, { toast });
    fill(
      detail,
      h("div", { class: "detail-head" }, h("h2", { id: "structure-title", tabindex: -1 }, t("structure.title", { id: p.external_id })), closeBtn),
      h("dl", { class: "facts" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      h(
        "p",
        {},
        h(
          "a",
          { href: `#/structures/${encodeURIComponent(p.external_id)}`, class: "button-link", "data-testid": "structure-details-link" },
          t("structure.details"),
        ),
      ),
      body,
    );
    detail.hidden = false;
    if (focus) detail.querySelector("h2")?.focus();
  }

  // --- coverage runs ------------------------------------------------------------------------------
  let coverageRuns = [];
  let coverageLayer = null;

  function coverageLabel(run) {
    const area = cache.keyAreas?.features?.find((f) => (f.properties.code ?? f.id) === run.area);
    const district = cache.districts?.features?.find((f) => (f.properties.code ?? f.id) === run.area);
    const name = area ? nameOf(area.properties) : district ? nameOf(district.properties) : run.area;
    return t("coverage.run", { id: run.id, area: name ?? "—", date: when(run.as_of || run.finished_at) });
  }

  async function loadCoverageRuns() {
    try {
      const { data } = await api("/coverage-runs?limit=20");
      if (disposed) return;
      coverageRuns = (data?.items ?? []).filter((r) => r.state === "done" && r.overlay?.url && r.overlay?.bounds);
      for (const run of coverageRuns) {
        coverageSelect.append(h("option", { value: String(run.id), selected: String(run.id) === kept.coverage }, coverageLabel(run)));
      }
      fill(coverageNote, coverageRuns.length ? null : h("p", { class: "hint" }, t("coverage.empty")));
      if (kept.coverage) showCoverage(kept.coverage, false);
    } catch (exc) {
      if (disposed) return;
      coverageSelect.disabled = true;
      showError(coverageNote, exc);
    }
  }

  function showCoverage(id, zoom = true) {
    kept.coverage = id;
    if (coverageLayer) {
      map.removeLayer(coverageLayer);
      coverageLayer = null;
    }
    fill(coverageLegend);
    const run = coverageRuns.find((r) => String(r.id) === String(id));
    if (!run) return;
    const { url, bounds, legend: steps } = run.overlay;
    coverageLayer = L.imageOverlay(url, bounds, {
      opacity: 0.6,
      pane: "coverage",
      alt: coverageLabel(run),
      className: "coverage-overlay",
      interactive: false,
    }).addTo(map);
    fill(
      coverageLegend,
      h("p", { class: "hint" }, coverageLabel(run)),
      h(
        "ul",
        { class: "legend-list" },
        (steps ?? []).map((step) =>
          h(
            "li",
            { "data-from": step.from_dbm ?? "" },
            h("span", { class: "swatch", style: `background:${step.colour}` }),
            (lang() === "en" ? step.label_en : step.label_zh) || step.label_zh || step.label_en || "",
          ),
        ),
      ),
    );
    if (zoom) map.fitBounds(bounds);
  }
  coverageSelect.addEventListener("change", () => showCoverage(coverageSelect.value));

  // --- start ------------------------------------------------------------------------------------
  if (kept.center != null) map.setView(kept.center, kept.zoom);
  loadAreas().then(() => {
    if (!disposed && kept.center != null) scheduleStructures();
    if (!disposed) loadCoverageRuns();
  });
  renderList();
  renderSiteList();
  // Leaflet measures its container: once laid out, tell it.
  requestAnimationFrame(() => !disposed && map.invalidateSize());

  return () => {
    disposed = true;
    fetchCtl?.abort();
    clearTimeout(refetchTimer);
    // A zoom or pan may still be animating (a structure chosen from the list is zoomed to):
    // removing the map under it would break Leaflet's pending frames. Stop, then remove it
    // once those are past (the map's element has left the page already).
    map.stop();
    map.off();
    setTimeout(() => {
      try {
        map.remove();
      } catch {
        /* removed in the middle of an animation: nothing left to free */
      }
    }, 600);
  };
}
