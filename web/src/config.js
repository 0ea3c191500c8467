// The server's settings for the UI (/web-config.json, written by mastplan.web): the optional
// tile URL of a basemap. Without one (the default) the map shows only our own vector layers.

let pending = null;

export function loadWebConfig() {
  if (!pending) {
    pending = fetch("/web-config.json", { credentials: "same-origin" })
      .then((resp) => (resp.ok ? resp.json() : {}))
      .catch(() => ({}));
  }
  return pending;
}
