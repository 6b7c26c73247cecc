// What the four browser clients share: the gap signal, the new-feed check after a restart,
// the backoff before a reconnect (the served policy, backoff.js), chat over HTTP, and the log
// lines of a poll answer. Each client is one module (client-*.js); clients.js names them.

import { t } from "./i18n.js";

/** A private close code (RFC 6455 §7.4.2) that pushlab.protocol.GAP_CLOSE_CODE names: "you fell
 * further behind than the history holds"; the reason is the gap, resume after it. */
export const GAP_CLOSE_CODE = 4001;

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function readJson(response) {
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
export async function backOff(panel, backoff) {
  const waitMs = backoff.nextDelayMs();
  panel.log("note", t("log.retryIn", { seconds: (waitMs / 1000).toFixed(1) }));
  panel.setState("reconnecting");
  await delay(waitMs);
}

/** A request got through after a break: say that the panel resumes from its cursor. */
export function noteResumed(panel, backoff) {
  if (backoff.broken) panel.log("note", t("log.resumed", { cursor: panel.cursor }));
  backoff.reset();
}

export function logAnswer(panel, status, body) {
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
 * What the old feed published after our cursor died with the server; nobody can list those ids,
 * but we know which they are, and the log line says so.
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
  // The old feed died with the server: what it published after our cursor is lost, and we say so.
  panel.log("note", t("log.newFeed", { feedId: stats.feed_id, cursor: panel.cursor }));
  panel.cursor = 0;
  return true;
}

/**
 * A server that refuses our cursor with 400 (ahead of its newest id), or a socket that closed,
 * may mean a restart. Ask the server for its /stats: a new feed_id means a new feed, so the
 * panel starts again from since=0 rather than repeating the refused request forever. The
 * caller's next request uses the new cursor.
 */
export async function resyncAfterRestart(panel, baseUrl) {
  try {
    const response = await fetch(`${baseUrl}/stats`, { cache: "no-store" });
    noticeNewFeed(panel, await readJson(response));
  } catch {
    // Still down: the caller tries again after its retry delay.
  }
}

/** Chat over plain HTTP: POST /messages to the panel's own server. */
export async function postMessage(panel, baseUrl, text) {
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

export function readGap(text) {
  try {
    return JSON.parse(text).gap;
  } catch {
    return null;
  }
}
