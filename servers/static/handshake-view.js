// Section: the WebSocket handshake of this page. Once the WebSocket panel's upgrade succeeds,
// the server tells us (/api/handshake) what it received and answered; the page redoes the
// Sec-WebSocket-Accept computation of RFC 6455 §4.2.2 step by step beside it.

import { t } from "./i18n.js";
import { clientId, fetchJson } from "./page.js";
import { acceptSteps } from "./sha1.js";

function headerLines(firstLine, headers) {
  return [firstLine, ...headers.map(([name, value]) => `${name}: ${value}`)].join("\n");
}

function showText(id, text) {
  document.getElementById(id).textContent = text;
}

async function showHandshake() {
  const status = document.getElementById("handshake-status");
  let handshake;
  try {
    handshake = await fetchJson(`/api/handshake?client=${clientId}`);
  } catch {
    status.dataset.i18n = "handshakeMissing";
    status.textContent = t("handshakeMissing");
    return;
  }
  status.hidden = true;
  showText("handshake-request", headerLines(handshake.request_line, handshake.request_headers));
  showText(
    "handshake-response",
    headerLines(`HTTP/1.1 ${handshake.status} Switching Protocols`, handshake.response_headers),
  );
  const find = (headers, name) =>
    headers.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1] ?? "";
  const steps = acceptSteps(find(handshake.request_headers, "Sec-WebSocket-Key"));
  const sent = find(handshake.response_headers, "Sec-WebSocket-Accept");
  showText("accept-key", steps.key);
  showText("accept-guid", steps.guid);
  showText("accept-sha1", steps.sha1Hex);
  showText("accept-base64", steps.accept);
  showText("accept-server", sent);
  const verdict = document.getElementById("accept-match");
  verdict.dataset.i18n = steps.accept === sent ? "accept.match" : "accept.mismatch";
  verdict.textContent = t(verdict.dataset.i18n);
}

export default {
  mount(page) {
    page.settings.onUpgrade = showHandshake; // the WebSocket client calls it (clients.js)
  },
};
