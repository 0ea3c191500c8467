// The REST API under /api/v1: one fetch wrapper (JSON in and out, the session's CSRF token on
// every write, the API's `detail` on errors) and who is logged in.

const BASE = "/api/v1";
const CSRF_KEY = "mastplan.csrf";

export class ApiError extends Error {
  constructor(status, detail, body, path) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.body = body;
    this.path = path;
  }
}

let csrfToken = readCsrf();
let me = null;
const authListeners = new Set();

function readCsrf() {
  try {
    return sessionStorage.getItem(CSRF_KEY);
  } catch {
    return null;
  }
}

function writeCsrf(token) {
  csrfToken = token;
  try {
    if (token) sessionStorage.setItem(CSRF_KEY, token);
    else sessionStorage.removeItem(CSRF_KEY);
  } catch {
    /* the token lasts for this page only */
  }
}

/** The logged-in user ({name, organisation, role}) or null. */
export function currentUser() {
  return me;
}

export function hasCsrf() {
  return Boolean(csrfToken);
}

/** Called with a reason ("expired", "csrf") when the server no longer knows the session. */
export function onAuthLost(fn) {
  authListeners.add(fn);
}

function authLost(reason) {
  me = null;
  writeCsrf(null);
  for (const fn of authListeners) fn(reason);
}

/** One readable line from an error body: the `detail`, and field errors or violations. */
export function detailOf(body, fallback) {
  if (!body || typeof body !== "object") return typeof body === "string" && body ? body : fallback;
  let text = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail ?? fallback);
  if (Array.isArray(body.errors) && body.errors.length) {
    const parts = body.errors.slice(0, 5).map((e) =>
      e.loc ? `${e.loc.filter((p) => p !== "body").join(".")}: ${e.msg}` : (e.message ?? JSON.stringify(e)),
    );
    text += ` — ${parts.join("; ")}`;
  }
  return text;
}

/**
 * Call the API: `api("/sharing/requests", {method: "POST", body: {...}, headers: {...}})`.
 * Returns {data, etag, status}; throws ApiError (status 0 when the server cannot be reached).
 */
export async function api(path, { method = "GET", body, headers = {}, signal, authCheck = true } = {}) {
  const sent = { Accept: "application/json", ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD" && csrfToken) sent["X-CSRF-Token"] = csrfToken;
  let resp;
  try {
    resp = await fetch(BASE + path, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      signal,
    });
  } catch (exc) {
    if (exc.name === "AbortError") throw exc;
    throw new ApiError(0, exc.message || String(exc), null, path);
  }
  let data = null;
  if (resp.status !== 204) {
    const text = await resp.text();
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = text;
    }
  }
  if (!resp.ok) {
    const detail = detailOf(data, resp.statusText || `HTTP ${resp.status}`);
    if (authCheck && resp.status === 401) authLost("expired");
    else if (authCheck && resp.status === 403 && /CSRF/i.test(detail)) authLost("csrf");
    throw new ApiError(resp.status, detail, data, path);
  }
  return { data, etag: resp.headers.get("ETag"), status: resp.status };
}

/** Log in; keeps the CSRF token for this tab. Throws ApiError (401 wrong, 429 throttled). */
export async function login(name, password) {
  const { data } = await api("/auth/login", {
    method: "POST",
    body: { name, password },
    authCheck: false,
  });
  writeCsrf(data.csrf_token);
  me = { name: data.name, organisation: data.organisation, role: data.role };
  return me;
}

/** Who the session cookie belongs to, or null (also null without this tab's CSRF token:
 * a session we cannot write with is treated as logged out, and a new login replaces it). */
export async function restore() {
  if (!csrfToken) return null;
  try {
    const { data } = await api("/auth/me", { authCheck: false });
    me = { name: data.name, organisation: data.organisation, role: data.role };
    return me;
  } catch (exc) {
    if (exc instanceof ApiError && (exc.status === 401 || exc.status === 403)) {
      writeCsrf(null);
      return null;
    }
    throw exc;
  }
}

export async function logout() {
  try {
    await api("/auth/logout", { method: "POST", authCheck: false });
  } finally {
    me = null;
    writeCsrf(null);
  }
}
