// Panel feature: the delivery latency of the messages received (receive time on the server's
// clock minus the message's ts), the last one and the mean.

import { formatMs } from "./page.js";
import { addCounter, showCounter } from "./panel-counters.js";

const latencies = new WeakMap(); // panel → { count, sumMs, lastMs }
const none = () => ({ count: 0, sumMs: 0, lastMs: null });

export default {
  mount(panel) {
    addCounter(panel, "lastLatency");
    addCounter(panel, "meanLatency");
    latencies.set(panel, none());
  },

  message(panel, message, latencyMs) {
    const seen = latencies.get(panel);
    seen.count += 1;
    seen.sumMs += latencyMs;
    seen.lastMs = latencyMs;
  },

  reset(panel) {
    latencies.set(panel, none());
  },

  render(panel) {
    const { count, sumMs, lastMs } = latencies.get(panel);
    showCounter(panel, "lastLatency", lastMs === null ? "–" : formatMs(lastMs));
    showCounter(panel, "meanLatency", count === 0 ? "–" : formatMs(sumMs / count));
  },
};
