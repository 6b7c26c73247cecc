// Server-Sent Events' browser client: new EventSource(). The browser reconnects by itself with
// Last-Event-ID; only when it gives up for good (a refused stream) does the page reopen it.

import { Backoff } from "./backoff.js";
import { noteResumed, postMessage, readGap, resyncAfterRestart, showGap } from "./client-common.js";
import { t } from "./i18n.js";

export function eventSourceClient(panel, baseUrl, settings) {
  let source = null;
  let opened = false;
  let retryTimer = null;
  const backoff = new Backoff(settings.reconnect);

  function open() {
    const path = `/events?since=${panel.cursor}`;
    panel.count("requests");
    panel.log("out", `→ GET ${path}  (Accept: text/event-stream)`);
    panel.setState("connecting");
    opened = false;
    const current = new EventSource(baseUrl + path);
    source = current;
    current.onopen = () => {
      if (opened) {
        panel.count("requests"); // the browser's own reconnect was a new request
        panel.log("note", t("log.sseResumed", { id: panel.cursor }));
      }
      opened = true;
      panel.log("in", t("log.streamOpen"));
      noteResumed(panel, backoff);
      panel.setState("open");
    };
    current.onmessage = (event) => {
      panel.log("in", t("log.event", { id: event.lastEventId }));
      panel.receive([JSON.parse(event.data)]);
    };
    // A gap event's id is its to_id, so the browser's Last-Event-ID resumes after the gap.
    current.addEventListener("gap", (event) => showGap(panel, readGap(`{"gap":${event.data}}`)));
    current.onerror = () => {
      if (source !== current) return;
      if (current.readyState === EventSource.CONNECTING) {
        panel.log("note", t("log.sseRetry", { id: panel.cursor }));
        panel.setState("reconnecting");
        return;
      }
      // CLOSED: the browser gives up for good on an answer that is not a 200 event stream
      // (a restarted server refuses our Last-Event-ID with 400). Reopen it ourselves.
      panel.log("note", t("log.sseClosed"));
      const waitMs = backoff.nextDelayMs();
      panel.log("note", t("log.retryIn", { seconds: (waitMs / 1000).toFixed(1) }));
      panel.setState("reconnecting");
      retryTimer = setTimeout(async () => {
        await resyncAfterRestart(panel, baseUrl);
        if (source === current) open();
      }, waitMs);
    };
  }

  return {
    start: open,
    stop() {
      clearTimeout(retryTimer);
      source?.close();
      source = null;
    },
    send: (text) => postMessage(panel, baseUrl, text),
  };
}
