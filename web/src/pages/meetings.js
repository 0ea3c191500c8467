// The joint meeting (#/meetings, #/meetings/ID): the meetings, one meeting's issues with what
// they link to, the decisions and the actions assigned to units; for the joint-meeting office
// and the regulator the forms to record a meeting, raise an issue and decide one.
import { api } from "../api.js";
import { h, field, fill, message } from "../dom.js";
import { showError } from "../errors.js";
import { checkText, focusFirstError, requiredField, showApiErrors } from "../forms.js";
import { isOverseer } from "../governance.js";
import { t, tOr, when } from "../i18n.js";
import { statusBadge } from "./tasks.js";

const ISSUE_KINDS = ["blocked_site", "unreasonable_fee", "power_supply", "permit", "other"];

function todayIso() {
  // the day in Chongqing
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
}

const lines = (text) => text.split(/[\n,，]/).map((x) => x.trim()).filter(Boolean);

export function renderMeetings(container, ctx) {
  return ctx.arg ? renderMeeting(container, ctx) : renderMeetingList(container, ctx);
}

function renderMeetingList(container, { user, navigate, toast }) {
  let disposed = false;
  const status = h("div", { class: "list-status", "aria-live": "polite" });
  const tbody = h("tbody");
  fill(
    container,
    h("h1", {}, t("meetings.title")),
    status,
    h("table", { class: "data", "data-testid": "meetings-table" },
      h("thead", {}, h("tr", {}, ["held", "title", "convener", "attendees", "issues", "open"].map((c) => h("th", { scope: "col" }, t(`meetings.col.${c}`))))),
      tbody),
    isOverseer(user) ? meetingForm() : h("p", { class: "hint" }, t("meetings.readOnly")),
  );

  function meetingForm() {
    const held = h("input", { type: "date", name: "held_on", value: todayIso() });
    const title = h("input", { type: "text", name: "title", maxlength: 200 });
    const convener = h("input", { type: "text", name: "convener", value: user.organisation, maxlength: 64 });
    const attendees = h("input", { type: "text", name: "attendees" });
    const minutes = h("textarea", { name: "minutes", rows: 3 });
    const fHeld = requiredField(t("meetings.form.held"), held);
    const fTitle = requiredField(t("meetings.form.title"), title);
    const fConvener = requiredField(t("meetings.form.convener"), convener);
    const fAttendees = field(t("meetings.form.attendees"), attendees, { hint: t("meetings.form.codes.hint") });
    const fMinutes = field(t("meetings.form.minutes"), minutes);
    const formStatus = h("div", { class: "form-status", "aria-live": "assertive" });
    const form = h(
      "form",
      { class: "card", novalidate: true, "aria-labelledby": "meeting-form-title", "data-testid": "meeting-form" },
      h("h2", { id: "meeting-form-title" }, t("meetings.form.new")),
      fHeld, fTitle, fConvener, fAttendees, fMinutes, formStatus,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("meetings.form.submit"))),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      fill(formStatus);
      const ok = [checkText(fHeld, t("meetings.form.held")), checkText(fTitle, t("meetings.form.title")), checkText(fConvener, t("meetings.form.convener"))].every(Boolean);
      if (!ok) return focusFirstError(form);
      try {
        const { data } = await api("/meetings", {
          method: "POST",
          body: { held_on: held.value, title: title.value.trim(), convener: convener.value.trim(), attendees: lines(attendees.value), minutes: minutes.value.trim() || null },
        });
        if (disposed) return;
        toast(t("meetings.created", { id: data.id }));
        navigate("meetings", data.id);
      } catch (exc) {
        if (!disposed) showApiErrors(exc, { held_on: fHeld, title: fTitle, convener: fConvener, attendees: fAttendees, minutes: fMinutes }, formStatus);
      }
    });
    return form;
  }

  (async () => {
    fill(status, t("common.loading"));
    try {
      const { data } = await api("/meetings");
      if (disposed) return;
      fill(status, data.length ? null : message("info", t("meetings.empty")));
      fill(tbody, data.map((m) => h("tr", { "data-meeting-id": m.id },
        h("td", {}, when(m.held_on)), h("td", {}, m.title), h("td", {}, m.convener),
        h("td", {}, String(m.attendees.length)), h("td", {}, String(m.issue_count)),
        h("td", {}, h("a", { href: `#/meetings/${m.id}`, class: "button-link", "aria-label": t("meetings.open", { title: m.title }) }, t("meetings.col.open"))))));
    } catch (exc) {
      if (!disposed) showError(status, exc);
    }
  })();
  return () => {
    disposed = true;
  };
}

function linkTo(link) {
  const href = {
    structure: `#/structures/${encodeURIComponent(link.key)}`,
    site: `#/sites/${encodeURIComponent(link.key)}`,
    task: `#/tasks/${encodeURIComponent(link.key)}`,
    sharing_request: `#/sharing/${encodeURIComponent(link.key)}`,
    sharing_case: "#/cases",
  }[link.kind];
  const text = `${tOr(`link.${link.kind}`, link.kind)} ${link.key}`;
  return href ? h("a", { href }, text) : text;
}

function renderMeeting(container, { user, arg, toast }) {
  let disposed = false;
  const body = h("div", { class: "detail-page", "data-testid": "meeting-page" }, t("common.loading"));
  fill(container, h("p", { class: "breadcrumb" }, h("a", { href: "#/meetings" }, t("meetings.title"))), body);
  const overseer = isOverseer(user);

  async function load(notice = null) {
    try {
      const { data } = await api(`/meetings/${encodeURIComponent(arg)}`);
      if (!disposed) show(data, notice);
    } catch (exc) {
      if (!disposed) showError(body, exc);
    }
  }

  function assignmentRow(a) {
    return h("tr", { "data-assignment-id": a.id },
      h("td", {}, a.organisation), h("td", {}, a.action), h("td", {}, when(a.due_on)),
      h("td", {}, statusBadge(a.status), a.overdue ? [" ", h("span", { class: "badge overdue" }, t("tasks.overdue"))] : null),
      h("td", {}, when(a.closed_on)));
  }

  function issueCard(issue) {
    return h(
      "article",
      { class: "card issue", "data-issue-id": issue.id, "data-status": issue.status, "aria-labelledby": `issue-${issue.id}` },
      h("h3", { id: `issue-${issue.id}` }, `${tOr(`issue.kind.${issue.kind}`, issue.kind)} · ${issue.title}`),
      h("dl", { class: "facts" }, [
        [t("issue.status"), h("span", { class: `badge issue-${issue.status}` }, tOr(`issue.status.${issue.status}`, issue.status))],
        [t("issue.raisedBy"), issue.raised_by ?? "—"],
        [t("issue.description"), issue.description || "—"],
        [t("issue.links"), issue.links.length ? issue.links.map((l, i) => [i ? ", " : "", linkTo(l)]) : "—"],
        [t("issue.resolved"), when(issue.resolved_on)],
      ].map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      issue.decisions.map((d) => h("section", { class: "decision", "data-decision-id": d.id },
        h("h4", {}, t("decision.title", { date: when(d.decided_on) })),
        h("p", {}, d.text),
        d.assignments.length
          ? h("table", { class: "data" },
              h("caption", {}, t("decision.assignments")),
              h("thead", {}, h("tr", {}, ["unit", "action", "due", "status", "closed"].map((c) => h("th", { scope: "col" }, t(`assignment.col.${c}`))))),
              h("tbody", {}, d.assignments.map(assignmentRow)))
          : null)),
      overseer && issue.status === "open" ? decisionForm(issue) : null,
    );
  }

  function issueForm(meeting) {
    const kind = h("select", { name: "kind" }, ISSUE_KINDS.map((k) => h("option", { value: k }, t(`issue.kind.${k}`))));
    const title = h("input", { type: "text", name: "title", maxlength: 200 });
    const description = h("textarea", { name: "description", rows: 2 });
    const raisedBy = h("input", { type: "text", name: "raised_by", maxlength: 64 });
    const links = h("textarea", { name: "links", rows: 2 });
    const fKind = field(t("issue.kind"), kind);
    const fTitle = requiredField(t("issue.title"), title);
    const fDescription = field(t("issue.description"), description);
    const fRaised = field(t("issue.raisedBy"), raisedBy, { hint: t("meetings.form.code.hint") });
    const fLinks = field(t("issue.links"), links, { hint: t("issue.links.hint") });
    const formStatus = h("div", { class: "form-status", "aria-live": "assertive" });
    const form = h(
      "form",
      { class: "card", novalidate: true, "aria-labelledby": "issue-form-title", "data-testid": "issue-form" },
      h("h2", { id: "issue-form-title" }, t("issue.new")),
      fKind, fTitle, fDescription, fRaised, fLinks, formStatus,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("issue.submit"))),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      fill(formStatus);
      if (!checkText(fTitle, t("issue.title"))) return focusFirstError(form);
      try {
        const { data } = await api(`/meetings/${meeting.id}/issues`, {
          method: "POST",
          body: { kind: kind.value, title: title.value.trim(), description: description.value.trim() || null, raised_by: raisedBy.value.trim() || null, links: lines(links.value) },
        });
        if (disposed) return;
        toast(t("issue.raised", { id: data.id }));
        load(message("ok", t("issue.raised", { id: data.id })));
      } catch (exc) {
        if (!disposed) showApiErrors(exc, { kind: fKind, title: fTitle, description: fDescription, raised_by: fRaised, links: fLinks }, formStatus);
      }
    });
    return form;
  }

  function decisionForm(issue) {
    const text = h("textarea", { name: "text", rows: 2 });
    const decided = h("input", { type: "date", name: "decided_on" });
    const org = h("input", { type: "text", name: "organisation", maxlength: 64 });
    const due = h("input", { type: "date", name: "due_on" });
    const action = h("input", { type: "text", name: "action" });
    const fText = requiredField(t("decision.text"), text);
    const fDecided = field(t("decision.date"), decided, { hint: t("decision.date.hint") });
    const fOrg = field(t("assignment.col.unit"), org, { hint: t("meetings.form.code.hint") });
    const fDue = field(t("assignment.col.due"), due);
    const fAction = field(t("assignment.col.action"), action);
    const formStatus = h("div", { class: "form-status", "aria-live": "assertive" });
    const form = h(
      "form",
      { class: "decision-form", novalidate: true, "data-testid": "decision-form", "aria-label": t("decision.new", { title: issue.title }) },
      h("h4", {}, t("decision.new", { title: issue.title })),
      fText, fDecided,
      h("fieldset", {}, h("legend", {}, t("decision.assignment")), fOrg, fDue, fAction),
      formStatus,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("decision.submit"))),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      fill(formStatus);
      let ok = checkText(fText, t("decision.text"));
      const some = [org, due, action].some((c) => c.value.trim());
      for (const [f, c, label] of [[fOrg, org, t("assignment.col.unit")], [fDue, due, t("assignment.col.due")], [fAction, action, t("assignment.col.action")]]) {
        const bad = some && !c.value.trim();
        f.setError(bad ? t("decision.assignment.missing", { field: label }) : null);
        if (bad) ok = false;
      }
      if (!ok) return focusFirstError(form);
      try {
        await api(`/issues/${issue.id}/decisions`, {
          method: "POST",
          body: {
            text: text.value.trim(),
            decided_on: decided.value || null,
            assignments: some ? [{ organisation: org.value.trim(), due_on: due.value, action: action.value.trim() }] : [],
          },
        });
        if (disposed) return;
        toast(t("decision.recorded"));
        load(message("ok", t("decision.recorded")));
      } catch (exc) {
        if (!disposed) showApiErrors(exc, { text: fText, decided_on: fDecided, organisation: fOrg, due_on: fDue, action: fAction }, formStatus);
      }
    });
    return form;
  }

  function show(m, notice) {
    fill(
      body,
      h("h1", { id: "page-title", tabindex: -1 }, `${when(m.held_on)} · ${m.title}`),
      notice,
      h("dl", { class: "facts" }, [
        [t("meetings.col.convener"), m.convener],
        [t("meetings.col.attendees"), m.attendees.join(", ") || "—"],
        [t("meetings.form.minutes"), m.minutes || "—"],
      ].map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      h("section", { "aria-labelledby": "issues-title", "data-testid": "issues" },
        h("h2", { id: "issues-title" }, t("meetings.issues", { count: m.issues.length })),
        m.issues.length ? m.issues.map(issueCard) : message("info", t("meetings.issues.none"))),
      overseer ? issueForm(m) : h("p", { class: "hint" }, t("meetings.readOnly")),
    );
    body.dataset.issues = String(m.issues.length);
  }

  load();
  return () => {
    disposed = true;
  };
}
