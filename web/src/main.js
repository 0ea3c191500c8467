// The app: header (navigation, language switch, who is logged in), hash routes, pages.
import "leaflet/dist/leaflet.css";
import "leaflet.markercluster/dist/MarkerCluster.css";
import "leaflet.markercluster/dist/MarkerCluster.Default.css";
import "./style.css";

import { ApiError, currentUser, logout, onAuthLost, restore } from "./api.js";
import { h, fill, message } from "./dom.js";
import { applyDocumentLang, lang, onLangChange, setLang, t } from "./i18n.js";
import { renderCases } from "./pages/cases.js";
import { renderDashboard } from "./pages/dashboard.js";
import { renderLogin } from "./pages/login.js";
import { renderMap } from "./pages/map.js";
import { renderMeetings } from "./pages/meetings.js";
import { renderPlans } from "./pages/plans.js";
import { renderReports } from "./pages/reports.js";
import { renderSharing } from "./pages/sharing.js";
import { renderSite } from "./pages/site.js";
import { renderStructure } from "./pages/structure.js";
import { renderTasks } from "./pages/tasks.js";

// The pages by their route (#/KEY or #/KEY/ARG). `label`: in the navigation (for `roles`, or
// everyone); without one the page is reached by links (a structure, a site). `parent`: the
// navigation entry marked current on it.
const PAGES = {
  map: { label: "nav.map", render: renderMap },
  sharing: { label: "nav.sharing", render: renderSharing },
  dashboard: { label: "nav.dashboard", render: renderDashboard },
  cases: { label: "nav.cases", render: renderCases },
  plans: { label: "nav.plans", render: renderPlans, roles: ["regulator", "operator", "district", "viewer"] },
  tasks: { label: "nav.tasks", render: renderTasks },
  meetings: { label: "nav.meetings", render: renderMeetings },
  reports: { label: "nav.reports", render: renderReports },
  structures: { render: renderStructure, parent: "map" },
  sites: { render: renderSite, parent: "map" },
};

function allowed(key, user) {
  const p = PAGES[key];
  return Boolean(p) && (!p.roles || p.roles.includes(user?.role));
}

const header = document.getElementById("top");
const main = document.getElementById("main");
const toastEl = document.getElementById("toast");
let dispose = null;
let flash = null; // a message for the next page (e.g. "session ended")

function homeOf(user) {
  return user?.role === "regulator" ? "dashboard" : "map";
}

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  return { page: parts[0] || "", arg: parts[1] ? decodeURIComponent(parts[1]) : null };
}

export function navigate(page, arg = null) {
  const target = `#/${page}${arg != null ? `/${encodeURIComponent(arg)}` : ""}`;
  if (location.hash === target) render();
  else location.hash = target;
}

let toastTimer = null;
function toast(text, kind = "ok") {
  fill(toastEl, h("div", { class: `toast toast-${kind}` }, text));
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => fill(toastEl), 8000);
}

function renderHeader(user, page) {
  const langButton = h(
    "button",
    {
      type: "button",
      class: "lang-switch",
      lang: lang() === "zh" ? "en" : "zh-CN",
      "aria-label": t("lang.switch.label"),
      "data-testid": "lang-switch",
      onclick: () => setLang(lang() === "zh" ? "en" : "zh"),
    },
    t("lang.switch"),
  );
  const brand = h("div", { class: "brand" }, h("strong", {}, "mastplan"), " ", h("span", {}, t("app.short")));
  if (!user) {
    fill(header, h("div", { class: "bar" }, brand, h("div", { class: "bar-right" }, langButton)));
    return;
  }
  const nav = h(
    "nav",
    { "aria-label": t("nav.label") },
    h(
      "ul",
      {},
      Object.entries(PAGES)
        .filter(([key, p]) => p.label && allowed(key, user))
        .map(([key, p]) =>
          h(
            "li",
            {},
            h(
              "a",
              { href: `#/${key}`, "aria-current": key === page ? "page" : false, "data-page": key },
              t(p.label),
            ),
          ),
        ),
    ),
  );
  const who = h(
    "span",
    { class: "who", "data-testid": "who" },
    t("user.as", { name: user.name, org: user.organisation, role: t(`role.${user.role}`) }),
  );
  const out = h(
    "button",
    {
      type: "button",
      class: "link-button",
      onclick: async () => {
        try {
          await logout();
        } catch {
          /* the session is gone either way */
        }
        navigate("login");
      },
    },
    t("user.logout"),
  );
  fill(header, h("div", { class: "bar" }, brand, nav, h("div", { class: "bar-right" }, who, langButton, out)));
}

async function render() {
  if (dispose) {
    try {
      dispose();
    } catch (exc) {
      console.error(exc);
    }
    dispose = null;
  }
  applyDocumentLang();
  const { page, arg } = parseHash();
  const user = currentUser();
  const notice = flash;
  flash = null;
  if (!user || page === "login") {
    if (user && page === "login") {
      navigate(homeOf(user));
      return;
    }
    renderHeader(null, "login");
    main.className = "page page-login";
    dispose = renderLogin(main, {
      notice,
      onLoggedIn: (u) => {
        if (allowed(page, u)) navigate(page, arg);
        else navigate(homeOf(u));
      },
    });
    return;
  }
  const key = allowed(page, user) ? page : homeOf(user);
  if (key !== page) {
    history.replaceState(null, "", `#/${key}`);
  }
  renderHeader(user, PAGES[key].parent ?? key);
  main.className = `page page-${key}`;
  fill(main);
  if (notice) main.append(message("info", notice));
  try {
    dispose = PAGES[key].render(main, { user, arg: key === page ? arg : null, navigate, toast }) || null;
  } catch (exc) {
    console.error(exc);
    main.append(message("error", `${t("error.title")}: ${exc.message}`));
  }
}

onLangChange(() => {
  fill(toastEl); // a message in the other language would linger
  render();
});
onAuthLost((reason) => {
  flash = reason === "csrf" ? t("error.csrf") : t("login.expired");
  navigate("login");
});
window.addEventListener("hashchange", () => render());

async function start() {
  applyDocumentLang();
  try {
    await restore();
  } catch (exc) {
    const text = exc instanceof ApiError && exc.status === 0 ? t("error.network", { detail: exc.detail }) : exc.message;
    flash = text;
  }
  render();
}

start();
