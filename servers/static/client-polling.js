// Polling's browser client: fetch() on a timer. Ask, log the answer, wait the poll interval
// (settings.pollIntervalMs, which the poll-interval control changes), ask again.

import { logAnswer } from "./client-common.js";
import { pollLoopClient } from "./client-poll-loop.js";

export function pollingClient(panel, baseUrl, settings) {
  return pollLoopClient(panel, baseUrl, settings, {
    query: () => "",
    sent: () => () => {},
    answered(status, body) {
      logAnswer(panel, status, body);
      panel.setState("waiting");
    },
    pauseMs: () => settings.pollIntervalMs,
    started: () => panel.setState("polling"),
  });
}
