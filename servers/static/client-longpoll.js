// Long polling's browser client: a fetch() loop. The server holds each request until there is
// news or settings.holdS pass; the page asks again at once.

import { logAnswer } from "./client-common.js";
import { pollLoopClient } from "./client-poll-loop.js";
import { t } from "./i18n.js";

/** settings.holdS: how long the server may hold each request (from /api/config). */
export function longPollClient(panel, baseUrl, settings) {
  return pollLoopClient(panel, baseUrl, settings, {
    query: () => `&timeout=${settings.holdS}`,
    sent() {
      const heldLine = panel.log("held", t("log.held"));
      panel.setState("held");
      const sentAt = performance.now();
      return () => release(heldLine, sentAt);
    },
    answered: (status, body) => logRelease(panel, status, body),
    pauseMs: null,
  });
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
