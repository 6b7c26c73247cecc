// Panel feature: what this panel's own traffic would cost a phone's radio (LTE, AT&T ARO's
// defaults, served by /api/config): awake or idle now, the power it draws, and the energy per
// message received. Every request the panel sends and every answer or message it receives
// wakes the radio, which then stays awake for its tail (~10 s on LTE): a poll every second
// never lets it sleep; a push connection lets it idle between messages. The model is
// radio.js (the bench's bench/analysis/radio.py, the same state machine); heartbeats the
// browser answers by itself (a WebSocket ping) are not seen by the page, so are not counted.

import { t } from "./i18n.js";
import { addCounter, showCounter } from "./panel-counters.js";
import { radioGauge } from "./radio.js";

const PROFILE = "lte";
const KEPT_S = 120; // older traffic no longer changes the state now, nor the recent energy
const seen = new WeakMap(); // panel → { events, since, messages, profile }

function nowS() {
  return performance.now() / 1000;
}

function note(panel) {
  const state = seen.get(panel);
  const at = nowS();
  state.events.push({ t: at, up: 0, down: 0 });
  while (state.events.length && state.events[0].t < at - KEPT_S) state.events.shift();
}

export default {
  mount(panel, config) {
    addCounter(panel, "radio");
    const profile = config.radio_profiles?.[PROFILE];
    seen.set(panel, { events: [], since: nowS(), messages: 0, profile });
  },

  counted(panel, name) {
    if (name === "requests" || name === "empty") note(panel); // a request out, an answer in
  },

  message(panel) {
    seen.get(panel).messages += 1;
    note(panel);
  },

  reset(panel) {
    const state = seen.get(panel);
    state.since = nowS();
    state.messages = 0;
  },

  render(panel) {
    const { events, since, messages, profile } = seen.get(panel);
    if (!profile || events.length === 0) {
      showCounter(panel, "radio", "–");
      return;
    }
    const gauge = radioGauge(events, profile, nowS(), since, messages);
    const cell = panel.find('[data-counter="radio"]');
    cell.dataset.state = gauge.state;
    cell.dataset.powerMw = gauge.powerMw.toFixed(0);
    const perMessage = gauge.mJPerMessage === null ? "–" : Math.round(gauge.mJPerMessage);
    showCounter(
      panel,
      "radio",
      t("radio.gauge", {
        state: t(gauge.awake ? "radio.awake" : "radio.idle"),
        mw: Math.round(gauge.powerMw).toLocaleString("en-US"),
        mj: perMessage.toLocaleString("en-US"),
      }),
    );
  },
};
