// Panel feature: the spread of the last latencies, as a strip of ticks from 0 to the slowest,
// and, for a technique that polls, its share of empty answers beside the model's e^(−λT).
//
// A mean hides polling's lesson: its latencies spread over the whole poll interval (a message
// waits for the next poll), while a push's stay in a narrow band near zero. And with Poisson
// arrivals at λ msg/s, a poll every T s comes back empty with probability e^(−λT) — the strip
// and the two percentages let a class see both the way the bench's plots show them.

import { t } from "./i18n.js";
import { formatMs } from "./page.js";
import { addCounter, showCounter } from "./panel-counters.js";

const KEPT = 60; // the last latencies drawn
const seen = new WeakMap(); // panel → { latencies: number[], rate, arrivals, polls }

/** The share of polls the model expects to come back empty: e^(−λT) for Poisson arrivals,
 * 1 − λT (never below 0) for a fixed period (bench/analysis/model.py, the same two). */
export function modelledEmptyShare(rate, intervalS, arrivals) {
  if (!(rate >= 0) || !(intervalS > 0)) return null;
  if (arrivals === "periodic") return Math.max(0, 1 - rate * intervalS);
  return Math.exp(-rate * intervalS);
}

function percent(share) {
  return share === null ? "–" : `${Math.round(100 * share)}%`;
}

export default {
  mount(panel, config) {
    const polls = config.table[panel.technique].polls;
    if (polls) addCounter(panel, "emptyShare");
    addCounter(panel, "spread");
    const strip = document.createElement("canvas");
    strip.className = "spread-strip";
    strip.height = 28;
    panel.find('[data-counter="spread"]').after(strip);
    seen.set(panel, { latencies: [], rate: null, arrivals: "poisson", polls, strip });
  },

  message(panel, message, latencyMs) {
    const { latencies } = seen.get(panel);
    latencies.push(latencyMs);
    if (latencies.length > KEPT) latencies.shift();
  },

  stats(panel, stats) {
    const state = seen.get(panel);
    state.rate = stats.publish_rate;
    state.arrivals = stats.arrivals;
  },

  reset(panel) {
    seen.get(panel).latencies = [];
  },

  render(panel) {
    const { latencies, rate, arrivals, polls, strip } = seen.get(panel);
    if (polls) {
      const { requests, empty } = panel.counters;
      const measured = requests > 0 ? empty / requests : null;
      const model = modelledEmptyShare(rate, panel.settings.pollIntervalMs / 1000, arrivals);
      const text = t("spread.emptyShare", { measured: percent(measured), model: percent(model) });
      showCounter(panel, "emptyShare", text);
      panel.find('[data-counter="emptyShare"]').dataset.model = model ?? "";
    }
    const slowest = latencies.length ? Math.max(...latencies) : null;
    const fastest = latencies.length ? Math.min(...latencies) : null;
    showCounter(
      panel,
      "spread",
      slowest === null ? "–" : `${formatMs(fastest)} – ${formatMs(slowest)}`,
    );
    drawStrip(strip, latencies, slowest, panel.root.style.getPropertyValue("--accent"));
  },
};

/** One tick per latency on an axis from 0 (left) to the slowest (right). */
function drawStrip(canvas, latencies, slowest, colour) {
  const width = canvas.clientWidth || 200;
  if (canvas.width !== width) canvas.width = width;
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = "#999";
  context.fillRect(0, canvas.height - 1, canvas.width, 1);
  if (!slowest) return;
  context.fillStyle = colour || "#333";
  for (const latency of latencies) {
    const x = Math.round((latency / slowest) * (canvas.width - 2));
    context.fillRect(x, 4, 2, canvas.height - 6);
  }
}
