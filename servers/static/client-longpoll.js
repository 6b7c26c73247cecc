// Long polling's browser client: a fetch() loop. The server holds each request until there is
// news or settings.holdS pass; the page asks again at once.

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

/** settings.holdS: how long the server may hold each request (from /api/config). */
export function longPollClient(panel, baseUrl, settings) {
  let generation = 0;
  let controller = null;
  const backoff = new Backoff(settings.reconnect);

  async function loop(mine) {
    while (mine === generation) {
      const path = `/poll?since=${panel.cursor}&timeout=${settings.holdS}`;
      panel.count("requests");
      panel.log("out", `→ GET ${path}`);
      const heldLine = panel.log("held", t("log.held"));
      panel.setState("held");
      const sentAt = performance.now();
      controller = new AbortController();
      try {
        const response = await fetch(baseUrl + path, { cache: "no-store", signal: controller.signal });
        const body = await readJson(response);
        release(heldLine, sentAt);
        if (mine !== generation) return;
        if (response.ok) noteResumed(panel, backoff);
        logRelease(panel, response.status, body);
        if (response.status >= 400) {
          // An error comes back at once: without a pause this loop would hammer the server.
          if (response.status === 400) {
            await resyncAfterRestart(panel, baseUrl);
            if (mine !== generation) return; // a newer loop took over while we asked
          }
          await backOff(panel, backoff);
        }
      } catch (error) {
        release(heldLine, sentAt);
        if (mine !== generation) return;
        panel.log("error", t("log.networkError", { error: error.message }));
        await backOff(panel, backoff);
      }
    }
  }

  return {
    start() {
      loop(++generation);
    },
    stop() {
      generation++;
      controller?.abort();
    },
    send: (text) => postMessage(panel, baseUrl, text),
  };
}

function release(heldLine, sentAt) {
  const seconds = ((performance.now() - sentAt) / 1000).toFixed(1);
  heldLine.classList.replace("held", "released");
  heldLine.textContent = t("log.heldFor", { seconds });
}

function logRelease(panel, status, body) {
  if (status < 400 && (body.messages ?? []).length === 0) {
    panel.count("empty");
    panel.log("in", t("log.timeout", { status }));
    return;
  }
  logAnswer(panel, status, body);
}
