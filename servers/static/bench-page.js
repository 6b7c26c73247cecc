// One measured client of the bench's browser lane (pushlab/bench/measuring/browser_generator.py):
// the page's own client of one technique (clients.js), with a minimal panel that records, instead
// of showing, what the client tells it. The generator loads this page at the technique server's
// own origin, so the client talks to the server as the classroom page's would, and reads
// window.benchPage at the end.
//
// The query string names the technique and its settings:
//   ?technique=sse&poll_interval_s=1&hold_s=20&first_wait_s=1&cap_s=10&jitter=full
// Times are epoch seconds on the browser's clock (the bench's clients share the server's host).

import { CLIENTS } from "./clients.js";

const query = new URLSearchParams(location.search);
const CONNECTED_STATES = new Set(["open", "held", "waiting"]); // the client can hear news

const nowS = () => (performance.timeOrigin + performance.now()) / 1000;

/** What the four clients call on their panel (panel.js), kept as numbers for the bench. */
class RecordingPanel {
  constructor() {
    this.clientId = Math.random().toString(36).slice(2, 10);
    this.oldFeedIds = new Set();
    this.feed = 0; // how many new feeds this page has met (a restarted server starts one)
    this.currentFeedId = null;
    this.position = 0;
    this.gapFrom = null; // set by a "gap" log line, until the client moves its cursor past it
    this.state = "";
    this.connectedAt = null;
    this.deliveries = []; // [feed, id, ts, received_at]
    this.requestsAt = []; // every request the client started
    this.states = []; // [state, at]
    this.gaps = []; // [feed, from_id, to_id]: ids it was told are gone (to_id null: open-ended)
  }

  get feedId() {
    return this.currentFeedId;
  }

  /** A new feed (a restarted server): every message of the old one after the cursor is gone. */
  set feedId(value) {
    if (this.currentFeedId !== null && value !== this.currentFeedId) {
      this.gaps.push([this.feed, this.position + 1, null]);
      this.feed += 1;
    }
    this.currentFeedId = value;
  }

  get cursor() {
    return this.position;
  }

  /** showGap() logs the gap, then moves the cursor to its to_id: that move is the gap. */
  set cursor(value) {
    if (this.gapFrom !== null && value >= this.gapFrom) {
      this.gaps.push([this.feed, this.gapFrom, value]);
    }
    this.gapFrom = null;
    this.position = value;
  }

  log(kind) {
    if (kind === "gap") this.gapFrom = this.position + 1;
    return document.createElement("li"); // long polling marks its "held" line when released
  }

  count(name) {
    if (name === "requests") this.requestsAt.push(nowS());
  }

  setState(key) {
    const at = nowS();
    if (key === this.state) return;
    this.state = key;
    this.states.push([key, at]);
    if (CONNECTED_STATES.has(key) && this.connectedAt === null) this.connectedAt = at;
  }

  receive(messages) {
    const at = nowS();
    for (const message of messages) {
      this.deliveries.push([this.feed, message.id, message.ts, at]);
      if (message.id > this.position) this.position = message.id;
    }
  }
}

async function start() {
  const technique = query.get("technique");
  const settings = {
    pollIntervalMs: Number(query.get("poll_interval_s")) * 1000,
    longpollHoldS: Number(query.get("hold_s")),
    reconnect: {
      first_wait_s: Number(query.get("first_wait_s")),
      cap_s: Number(query.get("cap_s")),
      jitter: query.get("jitter") ?? "full",
    },
  };
  const panel = new RecordingPanel();
  // Start from the feed's present, as the classroom page and the bench's Locust users do.
  const stats = await (await fetch("/stats", { cache: "no-store" })).json();
  panel.feedId = stats.feed_id;
  panel.position = stats.last_id;
  const client = CLIENTS[technique](panel, location.origin, settings);
  window.benchPage = { panel, client, technique };
  client.start();
}

start().catch((error) => {
  window.benchPage = { error: String(error) };
});
