// The parts of the page outside the panels: the toolbar's controls and the sections below.
//
// A part is one module whose default export is { mount(page) } (mount may be async), where
// page = { config, settings, panels, onStats }:
//   config     /api/config: the techniques' URLs and table, the defaults, the reconnect policy
//   settings   what the browser clients read (pollIntervalMs, holdS, reconnect, ...)
//   panels     the four Panel objects (panel.js), in the table's order
//   onStats(listener)   listener(current, previous) with every /api/stats snapshot
// A part builds or wires its own elements, says everything through i18n.js, and places text
// from the network with textContent only. A new part is one module and one line below.

import publishRate from "./control-publish-rate.js";
import pollInterval from "./control-poll-interval.js";
import pauseAll from "./control-pause-all.js";
import network from "./control-network.js";
import path from "./control-path.js";
import serverView from "./server-view.js";
import handshakeView from "./handshake-view.js";
import tabs from "./tabs.js";

export const PAGE_PARTS = [
  publishRate,
  pollInterval,
  pauseAll,
  network,
  path,
  serverView,
  handshakeView,
  tabs,
];
