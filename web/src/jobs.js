// Background work seen from the pages: a progress bar, and polling an address every 2 s
// while the job is queued or running.
import { h } from "./dom.js";
import { num, t } from "./i18n.js";

export const POLL_MS = 2000;
export const ACTIVE = new Set(["queued", "running"]);

/** A progress bar (role=progressbar, aria-valuenow in per cent); null fraction: unknown. */
export function progressBar(fraction, label) {
  const pct = fraction == null ? null : Math.round(Math.max(0, Math.min(1, fraction)) * 100);
  return h(
    "div",
    {
      class: "progress job-progress",
      role: "progressbar",
      "aria-valuemin": 0,
      "aria-valuemax": 100,
      "aria-valuenow": pct ?? false,
      "aria-valuetext": pct == null ? t("job.progress.unknown") : `${num(pct)} %`,
      "aria-label": label,
      "data-testid": "job-progress",
    },
    h("span", { class: "progress-bar", style: `width:${pct ?? 0}%` }),
  );
}

export function jobBadge(state) {
  return h("span", { class: `badge job-${state}`, "data-state": state }, t(`job.state.${state}`));
}

/**
 * Call `load()` now and every POLL_MS while `active(result)` says so; returns a stop function.
 * A failed load is retried at the next tick.
 */
export function poll(load, active) {
  let timer = null;
  let stopped = false;
  async function tick() {
    let again = true;
    try {
      const result = await load();
      again = active(result);
    } catch {
      again = true;
    }
    if (!stopped && again) timer = setTimeout(tick, POLL_MS);
  }
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
