// What polling and long polling share: a loop of GET /poll?since=cursor that start() begins and
// stop() (or a newer start()) ends, the answer's JSON, a new-feed check after a 400, a backoff
// after a network error, and chat over POST /messages. The two differ in the question (long
// polling adds &timeout=, and the server holds it), in what the panel shows while it is out, and
// in what the client does between two questions: polling waits its interval, long polling asks
// again at once.

import { Backoff } from "./backoff.js";
import { backOff, noteResumed, postMessage, readJson, resyncAfterRestart } from "./client-common.js";
import { t } from "./i18n.js";

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * technique: {
 *   query(): what follows since=cursor in the request's query ("" or "&timeout=…"),
 *   sent(): called as each request goes out; returns what to call when it is back (or failed),
 *   answered(status, body): log the answer,
 *   pauseMs: a function (the wait before the next request), or null to ask again at once,
 *   started(): called by start(), before the first request (optional),
 * }
 * Returns {start, stop, send}, as every browser client does (clients.js).
 */
export function pollLoopClient(panel, baseUrl, settings, technique) {
  let generation = 0;
  let controller = null;
  const backoff = new Backoff(settings.reconnect);
  // An error answer comes back at once: a loop that asks again at once must back off after it,
  // or it would hammer the server; one that pauses between requests already waits.
  const asksAtOnce = technique.pauseMs === null;

  async function loop(mine) {
    while (mine === generation) {
      const path = `/poll?since=${panel.cursor}${technique.query()}`;
      panel.count("requests");
      panel.log("out", `→ GET ${path}`);
      const back = technique.sent();
      controller = new AbortController();
      try {
        const response = await fetch(baseUrl + path, { cache: "no-store", signal: controller.signal });
        const body = await readJson(response);
        back();
        if (mine !== generation) return; // paused, reset or restarted while it was out
        if (response.ok || !asksAtOnce) noteResumed(panel, backoff);
        technique.answered(response.status, body);
        if (response.status === 400) {
          await resyncAfterRestart(panel, baseUrl);
          if (mine !== generation) return; // a newer loop took over while we asked
        }
        if (response.status >= 400 && asksAtOnce) await backOff(panel, backoff);
      } catch (error) {
        back();
        if (mine !== generation) return;
        panel.log("error", t("log.networkError", { error: error.message }));
        await backOff(panel, backoff); // polling too backs off: a herd of pollers is still a herd
      }
      if (!asksAtOnce && mine === generation) await delay(technique.pauseMs());
    }
  }

  return {
    start() {
      technique.started?.();
      loop(++generation);
    },
    stop() {
      generation++;
      controller?.abort();
    },
    send: (text) => postMessage(panel, baseUrl, text),
  };
}
