// A very small DOM builder. Text always goes in as text (never as HTML), so values from the API
// cannot inject markup.

/**
 * h("button", {class: "primary", onclick: fn, "aria-label": "…"}, "text", child, …)
 * Attribute values: strings, numbers, booleans (true → present, false/null → absent);
 * `on…` keys take listeners; `dataset` takes an object.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "value") {
      el.value = value;
    } else if (key === "checked" || key === "selected" || key === "disabled") {
      el[key] = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace everything inside `el` with `children`. */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let uid = 0;
/** A unique id for label/for and aria-describedby pairs. */
export function newId(prefix = "f") {
  uid += 1;
  return `${prefix}-${uid}`;
}

/**
 * A labelled form field: label, control, and a slot for its error message (under the field,
 * tied to the control by aria-describedby; the control gets aria-invalid while it shows).
 * `required`: the control is marked required and the label says so (`requiredText`).
 */
export function field(labelText, control, { hint, required = false, requiredText = "*" } = {}) {
  const id = control.id || newId();
  control.id = id;
  if (required) {
    control.required = true;
    control.setAttribute("aria-required", "true");
  }
  const err = h("p", { class: "field-error", id: `${id}-error`, role: "alert", hidden: true });
  const described = [`${id}-error`];
  let hintEl = null;
  if (hint) {
    hintEl = h("p", { class: "hint", id: `${id}-hint` }, hint);
    described.push(`${id}-hint`);
  }
  control.setAttribute("aria-describedby", described.join(" "));
  const label = h("label", { for: id }, labelText, required ? h("span", { class: "required" }, ` ${requiredText}`) : null);
  const wrap = h("div", { class: "field" }, label, control, hintEl, err);
  control.addEventListener("input", () => wrap.setError(null));
  control.addEventListener("change", () => wrap.setError(null));
  wrap.control = control;
  wrap.setError = (message) => {
    if (message) {
      err.textContent = message;
      err.hidden = false;
      control.setAttribute("aria-invalid", "true");
    } else {
      err.textContent = "";
      err.hidden = true;
      control.removeAttribute("aria-invalid");
    }
  };
  return wrap;
}

/** A message box: role=alert for errors, role=status otherwise. */
export function message(kind, text) {
  return h("div", { class: `msg msg-${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}
