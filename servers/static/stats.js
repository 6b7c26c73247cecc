// The server's view, once a second: every technique's /stats in one /api/stats answer, handed to
// whoever listens (the charts, the panels' byte counters, the publish-rate box).

import { fetchTimedJson } from "./clock.js";

const STATS_INTERVAL_MS = 1000;

/** Call each listener with (current, previous) snapshot every second, from `firstStats` on. */
export function watchStats(firstStats, listeners) {
  let previous = firstStats;
  setInterval(async () => {
    let current;
    try {
      current = await fetchTimedJson("/api/stats");
    } catch {
      return; // the server is gone or busy; the charts simply pause
    }
    for (const listener of listeners) listener(current, previous);
    previous = current;
  }, STATS_INTERVAL_MS);
}

/** The demo is one process: every technique's snapshot reports the same CPU time and rate. */
export function anyTechnique(snapshot) {
  return Object.values(snapshot.techniques)[0];
}
