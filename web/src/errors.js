// An API error as a message, in the current language, with the API's own `detail`.
import { ApiError } from "./api.js";
import { fill, message } from "./dom.js";
import { t } from "./i18n.js";

export function errorText(exc) {
  if (exc instanceof ApiError) {
    if (exc.status === 0) return t("error.network", { detail: exc.detail });
    if (exc.status === 404 && /^Not Found$/i.test(exc.detail)) return t("error.missing", { path: exc.path });
    return t("error.http", { status: exc.status, detail: exc.detail });
  }
  return `${t("error.title")}: ${exc?.message ?? exc}`;
}

/** Replace what is in `where` with the error's message (role=alert). */
export function showError(where, exc) {
  fill(where, message("error", errorText(exc)));
}
