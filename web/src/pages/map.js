// The map: our own vector layers (districts, key areas by phase year, structures in view,
// clustered when zoomed out) on a plain background, or on tiles when the server names a tile
// URL. Clicking a structure (on the map or in the list of structures in view) opens its panel;
// an operator can ask for space on it there.
import L from "leaflet";
import "leaflet.markercluster";

import { api } from "../api.js";
import { h, field, fill, message } from "../dom.js";
import { lang, nameOf, num, t, tOr, when } from "../i18n.js";
import { loadWebConfig } from "../config.js";
import { showError } from "../errors.js";
import { requestForm } from "../request-form.js";

/** Structures are fetched from this zoom on (the city is 82,000 km²). */
export const STRUCTURE_MIN_ZOOM = 13;
/** From this zoom on every structure is its own marker. */
const CLUSTER_OFF_ZOOM = 17;
const STRUCTURE_LIMIT = 1000;
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
const kept = { center: null, zoom: null, selected: null, keyArea: "", freeOnly: false, coverage: "" };
const cache = { districts: null, keyAreas: null };

function phaseColour(year) {
  return PHASE_COLOURS[year] ?? "#8c8c8c";
}

function kindName(kind) {
  return tOr(`kind.${kind}`, kind);
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
    districts: h("input", { type: "checkbox", checked: true, name: "layer-districts" }),
    keyAreas: h("input", { type: "checkbox", checked: true, name: "layer-key-areas" }),
    structures: h("input", { type: "checkbox", checked: true, name: "layer-structures" }),
  };
  const legend = h(
    "section",
    { class: "legend", "aria-labelledby": "legend-title" },
    h("h2", { id: "legend-title" }, t("map.layers")),
    h("label", { class: "check" }, layerBoxes.districts, h("span", { class: "swatch swatch-district" }), t("map.districts")),
    h("label", { class: "check" }, layerBoxes.keyAreas, t("map.keyAreas")),
    h(
      "ul",
      { class: "legend-list" },
      Object.entries(PHASE_COLOURS).map(([year, colour]) =>
        h("li", {}, h("span", { class: "swatch", style: `background:${colour}` }), t("map.phase", { year })),
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

  const districtLayer = L.geoJSON(null, {
    pane: "districts",
    style: () => ({ color: "#7d8a96", weight: 1, fillColor: "#faf7ef", fillOpacity: 1 }),
    onEachFeature: (feature, layer) => {
      layer.bindTooltip(() => t("map.district", { name: nameOf(feature.properties) }), { sticky: true });
    },
  }).addTo(map);
  const keyAreaLayer = L.geoJSON(null, {
    pane: "keyAreas",
    style: (feature) => {
      const c = phaseColour(feature.properties.phase_year);
      return { color: c, weight: 2, fillColor: c, fillOpacity: 0.12 };
    },
    onEachFeature: (feature, layer) => {
      const p = feature.properties;
      layer.bindTooltip(() => t("map.keyArea", { name: nameOf(p), year: p.phase_year ?? "—" }), { sticky: true });
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
  ]) {
    layerBoxes[key].addEventListener("change", () => {
      if (layerBoxes[key].checked) map.addLayer(layer);
      else map.removeLayer(layer);
    });
  }

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
    keyAreaLayer.addData(cache.keyAreas);
    // small areas on top of the large ones they lie in (e.g. a CBD inside a district's urban area)
    const extent = (layer) => {
      const b = layer.getBounds();
      return (b.getEast() - b.getWest()) * (b.getNorth() - b.getSouth());
    };
    keyAreaLayer
      .getLayers()
      .sort((a, b) => extent(b) - extent(a))
      .forEach((layer) => layer.bringToFront());
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

  async function loadStructures() {
    if (disposed) return;
    fetchCtl?.abort();
    if (map.getZoom() < STRUCTURE_MIN_ZOOM) {
      structures = [];
      truncated = false;
      fill(notes, h("p", { class: "map-hint" }, t("map.zoomInHint", { zoom: STRUCTURE_MIN_ZOOM })));
      renderStructures();
      loaded();
      return;
    }
    const b = map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(",");
    fetchCtl = new AbortController();
    fill(notes, h("p", { class: "map-hint", "data-testid": "map-loading" }, t("map.loading")));
    mapEl.setAttribute("aria-busy", "true");
    try {
      const { data } = await api(`/structures?bbox=${bbox}&limit=${STRUCTURE_LIMIT}`, { signal: fetchCtl.signal });
      if (disposed) return;
      structures = (data?.features ?? []).filter((f) => f.geometry?.type === "Point");
      truncated = Boolean(data?.truncated ?? data?.next_cursor ?? structures.length >= STRUCTURE_LIMIT);
      fill(notes, truncated ? h("p", { class: "map-hint" }, t("map.inView.truncated", { count: structures.length })) : null);
      renderStructures();
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
