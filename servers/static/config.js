// What the server says about itself (/api/config): where the techniques live, their table
// (pushlab.techniques: names, labels, colours, flags), the defaults and the reconnect policy.
// The page types none of these facts: it paints and waits as the plots and terminal clients do.

import { addServerStrings } from "./i18n.js";
import { fetchTimedJson } from "./clock.js";

export function loadConfig() {
  return fetchTimedJson("/api/config");
}

/**
 * The table's labels become the page's technique names (capitalised for titles); returns the
 * settings the browser clients read (the poll interval control changes pollIntervalMs).
 */
export function useConfig(config) {
  const capitalised = (text) => text.charAt(0).toUpperCase() + text.slice(1);
  const entries = Object.values(config.table);
  const labels = (field, shape) =>
    Object.fromEntries(entries.map((entry) => [`technique.${entry.name}`, shape(entry[field])]));
  addServerStrings(
    { en: labels("label", capitalised), zh: labels("label_zh", (text) => text) },
    { hold: config.hold_s },
  );
  return {
    pollIntervalMs: Math.round(config.poll_interval_s * 1000),
    holdS: config.hold_s,
    reconnect: config.reconnect,
  };
}
