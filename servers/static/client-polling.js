// Polling's browser client: fetch() on a timer. Ask, log the answer, wait the poll interval
// (settings.pollIntervalMs, which the poll-interval control changes), ask again.

import { Backoff } from "./backoff.js";
import {
  backOff,
  logAnswer,
  noteResumed,
  postMessage,
  readJson,
  resyncAfterRestart,
} from "./client-common.js";
import { t } from "./i18n.js";

export function pollingClient(panel, baseUrl, settings) {
  let generation = 0;
  let timer = null;
  const backoff = new Backoff(settings.reconnect);

  async function pollOnce(mine) {
    if (mine !== generation) return; // paused, reset or restarted since this poll was planned
    const path = `/poll?since=${panel.cursor}`;
    panel.count("requests");
    panel.log("out", `→ GET ${path}`);
    try {
      const response = await fetch(baseUrl + path, { cache: "no-store" });
      const body = await readJson(response);
      if (mine !== generation) return;
      noteResumed(panel, backoff);
      logAnswer(panel, response.status, body);
      if (response.status === 400) {
        await resyncAfterRestart(panel, baseUrl);
        if (mine !== generation) return; // a newer loop took over while we asked
      }
      panel.setState("waiting");
    } catch (error) {
      if (mine !== generation) return;
      panel.log("error", t("log.networkError", { error: error.message }));
      await backOff(panel, backoff); // polling too backs off: a herd of pollers is still a herd
      if (mine !== generation) return;
    }
    timer = setTimeout(() => pollOnce(mine), settings.pollIntervalMs);
  }

  return {
    start() {
      panel.setState("polling");
      pollOnce(++generation);
    },
    stop() {
      generation++;
      clearTimeout(timer);
    },
    send: (text) => postMessage(panel, baseUrl, text),
  };
}
