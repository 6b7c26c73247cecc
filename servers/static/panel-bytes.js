// Panel feature: the bytes this panel's technique moved, as its server counted them (/stats).
// The browser's bytes sent are the bytes the server read, and the other way round.

import { addCounter, showCounter } from "./panel-counters.js";

const bytes = new WeakMap(); // panel → { baseline, latest }: /stats snapshots

export default {
  mount(panel) {
    addCounter(panel, "bytesSent");
    addCounter(panel, "bytesReceived");
    bytes.set(panel, { baseline: null, latest: null });
  },

  stats(panel, stats) {
    const seen = bytes.get(panel);
    if (seen.latest && seen.latest.feed_id !== stats.feed_id) carryOver(seen);
    seen.latest = stats;
    seen.baseline ??= stats;
  },

  reset(panel) {
    const seen = bytes.get(panel);
    seen.baseline = seen.latest;
  },

  render(panel) {
    const { baseline, latest } = bytes.get(panel);
    const known = baseline && latest;
    showCounter(panel, "bytesSent", known ? latest.bytes_in - baseline.bytes_in : "–");
    showCounter(panel, "bytesReceived", known ? latest.bytes_out - baseline.bytes_out : "–");
  },
};

/**
 * A restarted server counts its bytes from 0: keep what the old one counted since our
 * baseline, and add the new server's counts to it from now on.
 */
function carryOver(seen) {
  if (!seen.baseline) return;
  seen.baseline = {
    bytes_in: seen.baseline.bytes_in - seen.latest.bytes_in,
    bytes_out: seen.baseline.bytes_out - seen.latest.bytes_out,
  };
}
