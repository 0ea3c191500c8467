// Login: user name and password; errors under the fields and in one alert, in both languages.
import { ApiError, login } from "../api.js";
import { h, field, fill, message } from "../dom.js";
import { t } from "../i18n.js";

export function renderLogin(container, { notice, onLoggedIn }) {
  const name = h("input", { name: "username", type: "text", autocomplete: "username", required: true });
  const password = h("input", {
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const nameField = field(t("login.name"), name);
  const passwordField = field(t("login.password"), password);
  const status = h("div", { class: "form-status", "aria-live": "assertive" });
  const submit = h("button", { type: "submit", class: "primary" }, t("login.submit"));

  const form = h(
    "form",
    { class: "card login-card", novalidate: true, "aria-labelledby": "login-title" },
    h("h1", { id: "login-title" }, t("login.title")),
    h("p", { class: "intro" }, t("login.intro")),
    notice ? message("info", notice) : null,
    nameField,
    passwordField,
    status,
    h("div", { class: "actions" }, submit),
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fill(status);
    nameField.setError(name.value.trim() ? null : t("login.missing.name"));
    passwordField.setError(password.value ? null : t("login.missing.password"));
    if (!name.value.trim()) return name.focus();
    if (!password.value) return password.focus();
    submit.disabled = true;
    submit.textContent = t("login.busy");
    try {
      const user = await login(name.value.trim(), password.value);
      onLoggedIn(user);
    } catch (exc) {
      let text;
      if (exc instanceof ApiError && exc.status === 401) text = t("login.wrong");
      else if (exc instanceof ApiError && exc.status === 429) text = t("login.throttled");
      else if (exc instanceof ApiError && exc.status === 0) text = t("error.network", { detail: exc.detail });
      else text = t("login.failed", { detail: exc.detail ?? exc.message });
      fill(status, message("error", text));
      password.value = "";
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = t("login.submit");
    }
  });

  fill(container, form);
  name.focus();
  return null;
}
