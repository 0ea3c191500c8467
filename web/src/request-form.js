// The form to ask for space on a structure (POST /sharing/requests), for operators: on the
// map's structure panel and on a structure's page. Out-of-range numbers are refused in the
// form, under the field, in the current language.
import { api } from "./api.js";
import { h, field, fill } from "./dom.js";
import { t, when } from "./i18n.js";
import { showError } from "./errors.js";

export const FEE_ITEMS = ["space_rent", "electricity", "maintenance"];

function numberInput(name, value, attrs = {}) {
  return h("input", { type: "number", name, value, inputmode: "decimal", min: 0, step: "any", ...attrs });
}

export function requestForm(p, free, { toast = () => {} } = {}) {
  const count = numberInput("position_count", 1, { min: 1, max: free, step: 1, inputmode: "numeric" });
  const payload = numberInput("payload_kg", 20);
  const power = numberInput("power_kw", 0.5);
  const fees = Object.fromEntries(FEE_ITEMS.map((item) => [item, numberInput(`fee_${item}`, "")]));
  const fCount = field(t("request.positions"), count);
  const fPayload = field(t("request.payload"), payload);
  const fPower = field(t("request.power"), power);
  const fFees = Object.fromEntries(FEE_ITEMS.map((item) => [item, field(t(`request.fee.${item}`), fees[item])]));
  const status = h("div", { class: "form-status", "aria-live": "assertive", "data-testid": "request-status" });
  const submit = h("button", { type: "submit", class: "primary" }, t("request.submit"));
  const form = h(
    "form",
    { class: "request-form", novalidate: true, "aria-labelledby": "request-title", "data-testid": "request-form" },
    h("h3", { id: "request-title" }, t("request.title")),
    fCount,
    fPayload,
    fPower,
    h(
      "fieldset",
      {},
      h("legend", {}, t("request.fees")),
      h("p", { class: "hint" }, t("request.feeHint")),
      FEE_ITEMS.map((item) => fFees[item]),
    ),
    status,
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fill(status);
    let ok = true;
    const n = Number(count.value);
    if (!Number.isInteger(n) || n < 1 || n > free) {
      fCount.setError(t("request.invalid.positions", { max: free }));
      ok = false;
    } else fCount.setError(null);
    const numbers = [
      [fPayload, payload, t("request.payload")],
      [fPower, power, t("request.power")],
      ...FEE_ITEMS.map((item) => [fFees[item], fees[item], t(`request.fee.${item}`), true]),
    ];
    for (const [f, input, label, optional] of numbers) {
      const raw = input.value.trim();
      const bad = optional && raw === "" ? false : !(raw !== "" && Number.isFinite(Number(raw)) && Number(raw) >= 0);
      f.setError(bad ? t("request.invalid.number", { field: label }) : null);
      if (bad) ok = false;
    }
    if (!ok) return form.querySelector("[aria-invalid=true]")?.focus();
    const body = {
      structure: p.external_id,
      position_count: n,
      payload_kg: Number(payload.value),
      power_kw: Number(power.value),
      fee_offer: FEE_ITEMS.filter((item) => fees[item].value.trim() !== "").map((item) => ({
        item,
        amount: Number(fees[item].value),
      })),
      submit: true,
    };
    submit.disabled = true;
    submit.textContent = t("request.busy");
    try {
      const { data } = await api("/sharing/requests", { method: "POST", body });
      const text = t("request.done", {
        id: data.id,
        state: t(`state.${data.state}`),
        due: when(data.answer_due_on),
      });
      fill(
        status,
        h(
          "div",
          { class: "msg msg-ok", role: "status", "data-testid": "request-done", "data-request-id": data.id },
          text,
          " ",
          h("a", { href: `#/sharing/${data.id}` }, t("request.goto")),
        ),
      );
      toast(text);
      submit.hidden = true;
    } catch (exc) {
      showError(status, exc);
    } finally {
      submit.disabled = false;
      submit.textContent = t("request.submit");
    }
  });
  return form;
}
