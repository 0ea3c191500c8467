// Sharing requests: the list the caller may see (by state, paged), and one request with the
// moves its state allows the caller's role. A move is sent with If-Match = the ETag read with
// the request, so a request changed meanwhile is refused (412) instead of overwritten.
import { ApiError, api } from "../api.js";
import { h, field, fill, message } from "../dom.js";
import { num, t, tOr, when } from "../i18n.js";
import { showError } from "../errors.js";

export const STATES = [
  "draft",
  "submitted",
  "under_review",
  "changes_requested",
  "approved",
  "rejected",
  "withdrawn",
  "installed",
  "active",
  "released",
];

// The lifecycle's moves (mastplan.sharing.lifecycle.TRANSITIONS): state, action, role, reason?
// The server decides; this only chooses which buttons to show.
export const MOVES = [
  ["draft", "submit", "operator"],
  ["changes_requested", "submit", "operator"],
  ["submitted", "review", "owner"],
  ["under_review", "approve", "owner"],
  ["under_review", "reject", "owner", true],
  ["under_review", "request-changes", "owner", true],
  ...["draft", "submitted", "under_review", "changes_requested"].map((s) => [s, "withdraw", "operator"]),
  ["approved", "install", "operator"],
  ["installed", "activate", "owner"],
  ["active", "release", "operator"],
  ...["approved", "installed", "active"].map((s) => [s, "force-release", "regulator", true]),
];

export function movesFor(state, role) {
  return MOVES.filter(([s, , r]) => s === state && r === role).map(([, action, , reason]) => ({
    action,
    reason: Boolean(reason),
  }));
}

const kept = { state: "" };

function stateBadge(state) {
  return h("span", { class: `badge state-${state}`, "data-state": state }, t(`state.${state}`));
}

export function renderSharing(container, { user, arg, navigate, toast }) {
  let disposed = false;
  let cursor = null;
  let items = [];

  const stateSelect = h(
    "select",
    { name: "state", "data-testid": "state-filter" },
    h("option", { value: "" }, t("sharing.filter.all")),
    STATES.map((s) => h("option", { value: s, selected: s === kept.state }, t(`state.${s}`))),
  );
  const refresh = h("button", { type: "button", onclick: () => load(true) }, t("common.refresh"));
  const status = h("div", { class: "list-status", "aria-live": "polite" });
  const tbody = h("tbody");
  const table = h(
    "table",
    { class: "data", "data-testid": "requests-table" },
    h("caption", { class: "visually-hidden" }, t("sharing.title")),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["id", "state", "operator", "structure", "owner", "due", "open"].map((c) =>
          h("th", { scope: "col" }, t(`sharing.col.${c}`)),
        ),
      ),
    ),
    tbody,
  );
  const more = h("button", { type: "button", hidden: true, onclick: () => load(false) }, t("common.more"));
  const detail = h("section", { class: "request-detail", "data-testid": "request-detail", hidden: true, "aria-live": "polite" });

  fill(
    container,
    h("h1", {}, t("sharing.title")),
    h("div", { class: "sharing-layout" },
      h("section", { class: "request-list" },
        h("form", { class: "inline-form", onsubmit: (e) => e.preventDefault() }, field(t("sharing.filter"), stateSelect), refresh),
        status, table, more),
      detail),
  );

  stateSelect.addEventListener("change", () => {
    kept.state = stateSelect.value;
    load(true);
  });

  function row(item) {
    return h(
      "tr",
      { "data-request-id": item.id, class: String(item.id) === String(arg) ? "selected" : "" },
      h("td", {}, String(item.id)),
      h("td", {}, stateBadge(item.state)),
      h("td", {}, item.operator),
      h("td", {}, item.structure),
      h("td", {}, item.owner),
      h("td", {}, when(item.answer_due_on)),
      h(
        "td",
        {},
        h(
          "a",
          { href: `#/sharing/${item.id}`, "aria-label": t("sharing.open", { id: item.id }), class: "button-link" },
          t("sharing.col.open"),
        ),
      ),
    );
  }

  let loading = 0; // only the latest load may fill the table
  async function load(reset) {
    const seq = ++loading;
    const base = reset ? [] : items;
    const from = reset ? null : cursor;
    fill(status, t("common.loading"));
    const params = new URLSearchParams({ limit: "50" });
    if (kept.state) params.append("state", kept.state);
    if (from) params.set("cursor", String(from));
    try {
      const { data } = await api(`/sharing/requests?${params}`);
      if (disposed || seq !== loading) return;
      items = base.concat(data.items);
      cursor = data.next_cursor;
      fill(tbody, items.map(row));
      fill(status, items.length ? null : message("info", t("sharing.empty")));
      more.hidden = !cursor;
    } catch (exc) {
      if (!disposed && seq === loading) showError(status, exc);
    }
  }

  async function open(id) {
    detail.hidden = false;
    fill(detail, t("common.loading"));
    try {
      const { data, etag } = await api(`/sharing/requests/${encodeURIComponent(id)}`);
      if (disposed) return;
      showRequest(data, etag);
    } catch (exc) {
      if (!disposed) showError(detail, exc);
    }
  }

  function showRequest(req, etag, notice = null) {
    const facts = [
      [t("sharing.col.state"), stateBadge(req.state)],
      [t("sharing.col.operator"), req.operator],
      [t("sharing.col.structure"), req.structure],
      [t("sharing.col.owner"), req.owner],
      [t("sharing.positionCount"), String(req.position_count)],
      [t("sharing.booked"), req.booked_positions?.length ? req.booked_positions.join(", ") : t("common.none")],
      [t("sharing.payload"), `${num(req.payload_kg, 1)} kg`],
      [t("sharing.power"), `${num(req.power_kw, 2)} kW`],
      [
        t("sharing.fees"),
        req.fee_offer == null
          ? "—"
          : req.fee_offer.length
            ? req.fee_offer.map((f) => `${tOr(`request.fee.${f.item}`, f.item)}: ${num(f.amount, 2)}`).join("; ")
            : t("common.none"),
      ],
      [t("sharing.filedBy"), req.filed_by],
      [t("sharing.submittedAt"), when(req.submitted_at, true)],
      [t("sharing.col.due"), when(req.answer_due_on)],
      [t("sharing.lastReason"), req.last_reason || "—"],
      [t("sharing.version"), String(req.version)],
    ];
    const moves = movesFor(req.state, user.role);
    const actionStatus = h("div", { class: "form-status", "aria-live": "assertive", "data-testid": "action-status" });
    const actionArea = h("div", { class: "action-area" });
    const buttons = moves.map(({ action, reason }) =>
      h(
        "button",
        {
          type: "button",
          class: action === "approve" ? "primary" : action === "reject" || action === "force-release" ? "danger" : "",
          "data-action": action,
          onclick: () => (reason ? askReason(action) : move(action, null)),
        },
        t(`action.${action}`),
      ),
    );

    function askReason(action) {
      const text = h("textarea", { name: "reason", rows: 3, required: true, maxlength: 2000 });
      const f = field(t("sharing.reason"), text);
      const form = h(
        "form",
        { class: "reason-form", novalidate: true },
        f,
        h("div", { class: "actions" },
          h("button", { type: "submit", class: "primary" }, t("sharing.confirm", { action: t(`action.${action}`) })),
          h("button", { type: "button", onclick: () => fill(actionArea) }, t("common.cancel"))),
      );
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        if (!text.value.trim()) {
          f.setError(t("sharing.reason.missing"));
          text.focus();
          return;
        }
        move(action, text.value.trim());
      });
      fill(actionArea, form);
      text.focus();
    }

    async function move(action, reason) {
      for (const b of buttons) b.disabled = true;
      fill(actionStatus);
      try {
        const { data, etag: next } = await api(
          `/sharing/requests/${req.id}/${action}`,
          { method: "POST", body: { reason }, headers: etag ? { "If-Match": etag } : {} },
        );
        if (disposed) return;
        const text = t("sharing.moved", { id: data.id, action: t(`action.${action}`), state: t(`state.${data.state}`) });
        toast(text);
        showRequest(data, next, message("ok", text));
        load(true);
      } catch (exc) {
        if (disposed) return;
        if (exc instanceof ApiError && exc.status === 412) {
          // show the request as it is now, with the reason the move was refused
          try {
            const { data, etag: fresh } = await api(`/sharing/requests/${req.id}`);
            showRequest(data, fresh, message("error", t("sharing.stale", { detail: exc.detail })));
            load(true);
            return;
          } catch (again) {
            showError(actionStatus, again);
          }
        } else if (exc instanceof ApiError && exc.status === 409) {
          fill(actionStatus, message("error", t("sharing.conflict", { detail: exc.detail })));
        } else if (exc instanceof ApiError && exc.status === 422 && exc.body?.violations) {
          fill(actionStatus, message("error", t("sharing.feePolicy", { detail: exc.detail })));
        } else showError(actionStatus, exc);
        for (const b of buttons) b.disabled = false;
      }
    }

    fill(
      detail,
      h("h2", { id: "request-detail-title" }, t("sharing.detail", { id: req.id })),
      notice,
      h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      h("h3", {}, t("sharing.actions")),
      buttons.length ? h("div", { class: "actions", "data-testid": "request-actions" }, buttons) : h("p", { class: "hint" }, t("sharing.noActions")),
      actionArea,
      actionStatus,
    );
    detail.dataset.requestId = String(req.id);
    detail.dataset.state = req.state;
    detail.hidden = false;
  }

  load(true);
  if (arg) open(arg);
  return () => {
    disposed = true;
  };
}
