// WebSocket's browser client: one HTTP upgrade, then one frame per message on the open socket;
// chat goes up the same socket. A close for a gap (GAP_CLOSE_CODE) resumes at once after it.

import { Backoff } from "./backoff.js";
import {
  GAP_CLOSE_CODE,
  noteResumed,
  readGap,
  resyncAfterRestart,
  showGap,
} from "./client-common.js";
import { t } from "./i18n.js";

export function webSocketClient(panel, httpUrl, settings) {
  const wsUrl = httpUrl.replace(/^http/, "ws");
  let socket = null;
  let running = false;
  let retryTimer = null;
  const backoff = new Backoff(settings.reconnect);

  function connect() {
    const path = `/ws?since=${panel.cursor}&client=${panel.clientId}`;
    panel.count("requests");
    panel.log("out", `→ GET ${path}  (Upgrade: websocket)`);
    panel.setState("connecting");
    const current = new WebSocket(wsUrl + path);
    socket = current;
    current.onopen = () => {
      panel.log("in", t("log.upgraded"));
      noteResumed(panel, backoff);
      panel.setState("open");
      settings.onUpgrade?.();
    };
    current.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if ("error" in data) {
        panel.log("error", t("log.errorFrame", { error: data.error }));
        return;
      }
      if ("gap" in data) {
        showGap(panel, data.gap);
        return;
      }
      const bytes = new TextEncoder().encode(event.data).length;
      panel.log("in", t("log.frame", { id: data.id, bytes }));
      panel.receive([data]);
    };
    current.onclose = (event) => {
      if (socket !== current) return;
      // 1006 is never sent (RFC 6455 §7.4.1): the browser's word for "no close frame came".
      if (event.code === 1006) panel.log("note", t("log.closedNoFrame"));
      else panel.log("note", t("log.closed", { code: event.code }));
      socket = null;
      if (!running) return;
      if (event.code === GAP_CLOSE_CODE) {
        showGap(panel, readGap(event.reason));
        connect(); // the server's instruction, not a fault: resume after the gap at once
        return;
      }
      const waitMs = backoff.nextDelayMs();
      panel.setState("reconnecting");
      panel.log("note", t("log.retryIn", { seconds: (waitMs / 1000).toFixed(1) }));
      retryTimer = setTimeout(reconnect, waitMs);
    };
  }

  // A refused upgrade shows the page only close code 1006, not the 400's reason: check first.
  async function reconnect() {
    await resyncAfterRestart(panel, httpUrl);
    if (running && socket === null) connect();
  }

  return {
    start() {
      running = true;
      connect();
    },
    stop() {
      running = false;
      clearTimeout(retryTimer);
      const closing = socket;
      socket = null;
      closing?.close(1000);
    },
    send(text) {
      if (socket?.readyState !== WebSocket.OPEN) {
        panel.log("error", t("state.closed"));
        return;
      }
      const payload = JSON.stringify({ text });
      socket.send(payload);
      panel.log("out", t("log.sentFrame", { payload }));
    },
  };
}
