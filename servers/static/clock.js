// The server's clock, seen from the browser. A message's latency is "now" on the server's clock
// minus the message's ts; on another machine the browser's clock differs, so the page estimates
// the offset from its requests' round trips (the fastest round trip's midpoint).

import { t } from "./i18n.js";
import { fetchJson } from "./page.js";

const clock = { offsetMs: 0, bestRoundTripMs: Infinity, sameMachine: isLoopback(location.hostname) };

function isLoopback(hostname) {
  return hostname === "localhost" || hostname.startsWith("127.") || hostname === "[::1]";
}

function browserNowMs() {
  return performance.timeOrigin + performance.now();
}

export function serverNowSeconds() {
  return (browserNowMs() + clock.offsetMs) / 1000;
}

/** Estimate server clock − browser clock from a request's round trip (best of all samples). */
function sampleClock(sentAtMs, receivedAtMs, serverTimeS) {
  if (clock.sameMachine) return; // one machine, one clock: nothing to correct
  const roundTripMs = receivedAtMs - sentAtMs;
  if (roundTripMs >= clock.bestRoundTripMs) return;
  clock.bestRoundTripMs = roundTripMs;
  clock.offsetMs = serverTimeS * 1000 - (sentAtMs + receivedAtMs) / 2;
  showClockOffset();
}

/** GET an answer that carries the server's `server_time`, and learn the clock from it. */
export async function fetchTimedJson(url) {
  const sentAt = browserNowMs();
  const answer = await fetchJson(url);
  sampleClock(sentAt, browserNowMs(), answer.server_time);
  return answer;
}

export function showClockOffset() {
  document.getElementById("clock-offset").textContent = clock.sameMachine
    ? t("clockSame")
    : t("clockOffset", { offset: clock.offsetMs.toFixed(1) });
}
