// The panel features: what each technique's panel shows or offers beyond its log and state.
//
// A feature is one module whose default export is an object of hooks, each optional but mount:
//   mount(panel, config)            build its part of the panel (config: /api/config)
//   message(panel, message, latencyMs)   a new message arrived, with its delivery latency
//   stats(panel, stats)             fresh /stats of the panel's server (about once a second)
//   counted(panel, name)            the panel counted one more of its requests, empty answers…
//   reset(panel)                    the reader pressed "reset": forget what was counted
//   render(panel)                   show the current values (after any of the above)
// Strings it shows go through i18n.js (t(), or data-i18n on the elements it builds); text
// that came over the network is placed with textContent only. The order here is the order of
// the counters on the panel. A new feature is one module and one line below.

import counters from "./panel-counters.js";
import bytes from "./panel-bytes.js";
import latency from "./panel-latency.js";
import spread from "./panel-spread.js";
import radio from "./panel-radio.js";
import messages from "./panel-messages.js";
import chat from "./panel-chat.js";

export const PANEL_FEATURES = [counters, bytes, latency, spread, radio, messages, chat];
