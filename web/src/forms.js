// Form checks shared by the pages: required fields and numbers in range (messages in the
// current language, under the field), and the API's refusals mapped back to the fields they
// name (422 `errors[].loc`, or a 400 detail naming `params.<field>`).
import { ApiError } from "./api.js";
import { field, fill, message } from "./dom.js";
import { t } from "./i18n.js";
import { errorText } from "./errors.js";

/** field() with the required mark in the current language. */
export function requiredField(labelText, control, options = {}) {
  return field(labelText, control, { ...options, required: true, requiredText: t("form.required") });
}

/** A required text: its message when empty. */
export function checkText(f, label) {
  const ok = f.control.value.trim() !== "";
  f.setError(ok ? null : t("form.missing", { field: label }));
  return ok;
}

/**
 * A number in [min, max] (`exclusiveMin`: above min; `integer`; `optional`: empty is fine).
 * Returns the number (null when empty and optional) or undefined when refused.
 */
export function checkNumber(f, label, { min = -Infinity, max = Infinity, exclusiveMin = false, integer = false, optional = false } = {}) {
  const raw = f.control.value.trim();
  if (raw === "" && optional) {
    f.setError(null);
    return null;
  }
  const n = Number(raw);
  const bad =
    raw === "" ||
    !Number.isFinite(n) ||
    (integer && !Number.isInteger(n)) ||
    (exclusiveMin ? n <= min : n < min) ||
    n > max;
  if (bad) {
    const range =
      Number.isFinite(min) && Number.isFinite(max)
        ? t(exclusiveMin ? "form.range.open" : "form.range", { min, max })
        : Number.isFinite(min)
          ? t(exclusiveMin ? "form.range.above" : "form.range.min", { min })
          : "";
    f.setError(t(integer ? "form.integer" : "form.number", { field: label, range }));
    return undefined;
  }
  f.setError(null);
  return n;
}

/** Focus the first field that shows an error. */
export function focusFirstError(form) {
  form.querySelector("[aria-invalid=true]")?.focus();
}

/**
 * Show an API refusal: each error that names a field (422 `errors[].loc` ending in one of
 * `fields`' keys, or "params.<key>:" / "<key>:" in a 400 detail) under that field, in the
 * current language with the API's own words; the rest in `status`. Returns whether a field
 * got one.
 */
export function showApiErrors(exc, fields, status) {
  let placed = false;
  if (exc instanceof ApiError && exc.status === 422 && Array.isArray(exc.body?.errors)) {
    const rest = [];
    for (const e of exc.body.errors) {
      const key = [...(e.loc ?? [])].reverse().find((p) => typeof p === "string" && p in fields);
      if (key) {
        fields[key].setError(t("form.refused", { detail: e.msg ?? "" }));
        placed = true;
      } else rest.push(e);
    }
    fill(status, message("error", errorText(exc)));
    if (placed) focusFirstError(status.closest("form") ?? document);
    return placed;
  }
  if (exc instanceof ApiError && exc.status === 400 && typeof exc.detail === "string") {
    for (const [key, f] of Object.entries(fields)) {
      const found = new RegExp(`(?:params\\.)?\\b${key}\\b(?:\\.\\d+)?: ([^;]+)`).exec(exc.detail);
      if (found) {
        f.setError(t("form.refused", { detail: found[1] }));
        placed = true;
      }
    }
  }
  fill(status, message("error", errorText(exc)));
  if (placed) focusFirstError(status.closest("form") ?? document);
  return placed;
}
