// The four techniques, each with the browser's own client: fetch on a timer, a fetch loop,
// WebSocket and EventSource, one module each. Each factory takes (panel, baseUrl, settings),
// returns {start, stop, send} and reports to its panel.
// settings: pollIntervalMs, holdS and reconnect (the policy) from /api/config, and
// onUpgrade, called when the WebSocket's upgrade succeeded.

import { eventSourceClient } from "./client-sse.js";
import { longPollClient } from "./client-longpoll.js";
import { pollingClient } from "./client-polling.js";
import { webSocketClient } from "./client-websocket.js";

export { noticeNewFeed, showGap } from "./client-common.js";

/** The browser's client of each technique, by its name in /api/config's table. */
export const CLIENTS = {
  polling: pollingClient,
  longpoll: longPollClient,
  websocket: webSocketClient,
  sse: eventSourceClient,
};
