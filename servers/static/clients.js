// The four techniques, each with the browser's own client: fetch on a timer, a fetch loop,
// WebSocket and EventSource. Each factory returns {start, stop, send} and reports to its panel.

import { t } from "./i18n.js";

const RETRY_DELAY_MS = 2000;

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return {};
  }
}

function logAnswer(panel, status, body) {
  if (status >= 400) {
    panel.log("error", t("log.httpError", { status, error: body.error ?? "" }));
    return;
  }
  const messages = body.messages ?? [];
  if (messages.length === 0) {
    panel.count("empty");
    panel.log("in", t("log.nothingNew", { status }));
  } else {
    panel.log("in", t("log.messages", { status, count: messages.length, last: messages.at(-1).id }));
  }
  panel.receive(messages);
}

/**
 * Every feed has an identity, `feed_id` in the server's /stats, made when the server starts.
 * Ids count from #1 in every feed, so a different feed_id means the server restarted: our cursor
 * is a position in the old feed and says nothing about the new one, even when the new feed has
 * already passed it. Everything the new feed holds is new to us: start again from since=0.
 * The first feed_id the panel sees is simply remembered. Returns true when the feed changed.
 */
export function noticeNewFeed(panel, stats) {
  if (typeof stats.feed_id !== "string") return false;
  if (panel.feedId === null) {
    panel.feedId = stats.feed_id;
    return false;
  }
  if (stats.feed_id === panel.feedId) return false;
  // A late answer, sent before the restart, still names a feed we have left: not news.
  if (panel.oldFeedIds.has(stats.feed_id)) return false;
  panel.oldFeedIds.add(panel.feedId);
  panel.feedId = stats.feed_id;
  panel.log("note", t("log.newFeed", { feedId: stats.feed_id }));
  panel.cursor = 0;
  return true;
}

/**
 * A server that refuses our cursor with 400 (ahead of its newest id), or a socket that closed,
 * may mean a restart. Ask the server for its /stats: a new feed_id means a new feed, so the
 * panel starts again from since=0 rather than repeating the refused request forever. The
 * caller's next request uses the new cursor.
 */
async function resyncAfterRestart(panel, baseUrl) {
  try {
    const response = await fetch(`${baseUrl}/stats`, { cache: "no-store" });
    noticeNewFeed(panel, await readJson(response));
  } catch {
    // Still down: the caller tries again after its retry delay.
  }
}

/** Chat over plain HTTP: POST /messages to the panel's own server. */
async function postMessage(panel, baseUrl, text) {
  panel.count("requests");
  panel.log("out", "→ POST /messages");
  try {
    const response = await fetch(`${baseUrl}/messages`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text }),
    });
    const body = await readJson(response);
    if (response.ok) panel.log("in", t("log.posted", { status: response.status, id: body.id }));
    else panel.log("error", t("log.httpError", { status: response.status, error: body.error ?? "" }));
  } catch (error) {
    panel.log("error", t("log.networkError", { error: error.message }));
  }
}

export function pollingClient(panel, baseUrl, settings) {
  let generation = 0;
  let timer = null;

  async function pollOnce(mine) {
    if (mine !== generation) return; // paused, reset or restarted since this poll was planned
    const path = `/poll?since=${panel.cursor}`;
    panel.count("requests");
    panel.log("out", `→ GET ${path}`);
    try {
      const response = await fetch(baseUrl + path, { cache: "no-store" });
      const body = await readJson(response);
      if (mine !== generation) return;
      logAnswer(panel, response.status, body);
      if (response.status === 400) {
        await resyncAfterRestart(panel, baseUrl);
        if (mine !== generation) return; // a newer loop took over while we asked
      }
      panel.setState("waiting");
    } catch (error) {
      if (mine !== generation) return;
      panel.log("error", t("log.networkError", { error: error.message }));
      panel.setState("error");
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

/** settings.longpollHoldS: how long the server may hold each request (from /api/config). */
export function longPollClient(panel, baseUrl, settings) {
  let generation = 0;
  let controller = null;

  async function loop(mine) {
    while (mine === generation) {
      const path = `/poll?since=${panel.cursor}&timeout=${settings.longpollHoldS}`;
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
        logRelease(panel, response.status, body);
        if (response.status >= 400) {
          // An error comes back at once: without a pause this loop would hammer the server.
          if (response.status === 400) {
            await resyncAfterRestart(panel, baseUrl);
            if (mine !== generation) return; // a newer loop took over while we asked
          }
          panel.log("note", t("log.retryIn", { seconds: RETRY_DELAY_MS / 1000 }));
          panel.setState("reconnecting");
          await delay(RETRY_DELAY_MS);
        }
      } catch (error) {
        release(heldLine, sentAt);
        if (mine !== generation) return;
        panel.log("error", t("log.networkError", { error: error.message }));
        panel.log("note", t("log.retryIn", { seconds: RETRY_DELAY_MS / 1000 }));
        panel.setState("reconnecting");
        await delay(RETRY_DELAY_MS);
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

export function webSocketClient(panel, wsUrl, { onUpgrade } = {}) {
  const httpUrl = wsUrl.replace(/^ws/, "http");
  let socket = null;
  let running = false;
  let retryTimer = null;

  function connect() {
    const path = `/ws?since=${panel.cursor}&client=${panel.clientId}`;
    panel.count("requests");
    panel.log("out", `→ GET ${path}  (Upgrade: websocket)`);
    panel.setState("connecting");
    const current = new WebSocket(wsUrl + path);
    socket = current;
    current.onopen = () => {
      panel.log("in", t("log.upgraded"));
      panel.setState("open");
      onUpgrade?.();
    };
    current.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if ("error" in data) {
        panel.log("error", t("log.errorFrame", { error: data.error }));
        return;
      }
      const bytes = new TextEncoder().encode(event.data).length;
      panel.log("in", t("log.frame", { id: data.id, bytes }));
      panel.receive([data]);
    };
    current.onclose = (event) => {
      if (socket !== current) return;
      panel.log("note", t("log.closed", { code: event.code }));
      socket = null;
      if (!running) return;
      panel.setState("reconnecting");
      panel.log("note", t("log.retryIn", { seconds: RETRY_DELAY_MS / 1000 }));
      retryTimer = setTimeout(reconnect, RETRY_DELAY_MS);
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

export function eventSourceClient(panel, baseUrl) {
  let source = null;
  let opened = false;
  let retryTimer = null;

  function open() {
    const path = `/events?since=${panel.cursor}`;
    panel.count("requests");
    panel.log("out", `→ GET ${path}  (Accept: text/event-stream)`);
    panel.setState("connecting");
    opened = false;
    const current = new EventSource(baseUrl + path);
    source = current;
    current.onopen = () => {
      if (opened) panel.count("requests"); // the browser's own reconnect was a new request
      opened = true;
      panel.log("in", t("log.streamOpen"));
      panel.setState("open");
    };
    current.onmessage = (event) => {
      panel.log("in", t("log.event", { id: event.lastEventId }));
      panel.receive([JSON.parse(event.data)]);
    };
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
      panel.log("note", t("log.retryIn", { seconds: RETRY_DELAY_MS / 1000 }));
      panel.setState("reconnecting");
      retryTimer = setTimeout(async () => {
        await resyncAfterRestart(panel, baseUrl);
        if (source === current) open();
      }, RETRY_DELAY_MS);
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
