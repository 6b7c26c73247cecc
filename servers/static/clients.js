// The four techniques, each with the browser's own client: fetch on a timer, a fetch loop,
// WebSocket and EventSource. Each factory takes (panel, baseUrl, settings), returns
// {start, stop, send} and reports to its panel; CLIENTS (at the end) names them by technique.
// settings: pollIntervalMs, longpollHoldS and reconnect (the policy) from /api/config, and
// onUpgrade, called when the WebSocket's upgrade succeeded.

import { Backoff } from "./backoff.js";
import { t } from "./i18n.js";

/** A private close code (RFC 6455 §7.4.2) that pushlab.protocol.GAP_CLOSE_CODE names: "you fell
 * further behind than the history holds"; the reason is the gap, resume after it. */
const GAP_CLOSE_CODE = 4001;

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return {};
  }
}

/**
 * The server says messages from_id…to_id are gone from its history (pushlab.protocol): say so,
 * as text, and move the cursor past them so that the next request does not ask again.
 */
export function showGap(panel, gap) {
  const from = gap?.from_id;
  const to = gap?.to_id;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to < from) return;
  panel.log("gap", t("log.gap", { from, to }));
  panel.cursor = Math.max(panel.cursor, to);
}

/** Wait before the next attempt, saying how long: capped exponential backoff with jitter. */
async function backOff(panel, backoff) {
  const waitMs = backoff.nextDelayMs();
  panel.log("note", t("log.retryIn", { seconds: (waitMs / 1000).toFixed(1) }));
  panel.setState("reconnecting");
  await delay(waitMs);
}

/** A request got through after a break: say that the panel resumes from its cursor. */
function noteResumed(panel, backoff) {
  if (backoff.broken) panel.log("note", t("log.resumed", { cursor: panel.cursor }));
  backoff.reset();
}

function logAnswer(panel, status, body) {
  if (status >= 400) {
    panel.log("error", t("log.httpError", { status, error: body.error ?? "" }));
    return;
  }
  if (body.gap) showGap(panel, body.gap);
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

/** settings.longpollHoldS: how long the server may hold each request (from /api/config). */
export function longPollClient(panel, baseUrl, settings) {
  let generation = 0;
  let controller = null;
  const backoff = new Backoff(settings.reconnect);

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

function readGap(text) {
  try {
    return JSON.parse(text).gap;
  } catch {
    return null;
  }
}

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

/** The browser's client of each technique, by its name in /api/config's table. */
export const CLIENTS = {
  polling: pollingClient,
  longpoll: longPollClient,
  websocket: webSocketClient,
  sse: eventSourceClient,
};
