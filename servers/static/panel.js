// One technique's panel: its state badge, its conversation log, pause and reset, and the cursor
// its client resumes from. Everything else a panel shows or offers (counters, bytes, latency,
// the messages, chat) is a panel feature: one module each, listed in panel-features.js.

import { t } from "./i18n.js";
import { noticeNewFeed } from "./client-common.js";
import { serverNowSeconds } from "./clock.js";
import { clientId, element } from "./page.js";
import { PANEL_FEATURES } from "./panel-features.js";

const LOG_LINES_KEPT = 150;

export class Panel {
  /** entry: the technique's row of /api/config's table (name, colour, flags); settings: what
   * the page's controls change (the poll interval), read by the clients and the features. */
  constructor(entry, template, config, settings) {
    const technique = entry.name;
    this.technique = technique;
    this.settings = settings;
    this.root = template.content.firstElementChild.cloneNode(true);
    this.root.id = `panel-${technique}`;
    this.root.dataset.technique = technique;
    this.root.style.setProperty("--accent", entry.colour);
    this.find(".panel-title").dataset.i18n = `technique.${technique}`;
    this.find(".how").dataset.i18n = `how.${technique}`;
    // A full-duplex technique sends chat up its own connection; the others POST /messages.
    this.find(".chat-via").dataset.i18n = entry.full_duplex ? "chatVia.websocket" : "chatVia.http";
    this.cursor = config.last_id; // every panel starts from the same point of the feed
    this.feedId = null; // which feed the cursor counts in (see noticeNewFeed in client-common.js)
    this.oldFeedIds = new Set();
    this.clientId = clientId;
    this.userPaused = false;
    this.hiddenPaused = false;
    this.running = false;
    // A held request (long poll, SSE) keeps one of the browser's six HTTP/1.1 connections to
    // the host busy; a WebSocket, full duplex, has left the HTTP pool after its upgrade.
    this.holdsConnection = entry.holds_request && !entry.full_duplex;
    this.counters = { requests: 0, empty: 0, messages: 0 };
    for (const feature of PANEL_FEATURES) feature.mount(this, config);
    this.find(".pause").addEventListener("click", () => this.setUserPaused(!this.userPaused));
    this.find(".reset").addEventListener("click", () => this.reset());
    this.render();
  }

  find(selector) {
    return this.root.querySelector(selector);
  }

  /** Call `hook` of every panel feature that has one. */
  tellFeatures(hook, ...args) {
    for (const feature of PANEL_FEATURES) feature[hook]?.(this, ...args);
  }

  render() {
    this.tellFeatures("render");
  }

  reset() {
    this.counters = { requests: 0, empty: 0, messages: 0 };
    this.tellFeatures("reset");
    this.find(".conversation").replaceChildren();
    this.render();
  }

  count(name, delta = 1) {
    this.counters[name] += delta;
    this.tellFeatures("counted", name);
    this.render();
  }

  setState(key) {
    const badge = this.find(".state");
    badge.dataset.state = key;
    badge.dataset.i18n = `state.${key}`;
    badge.textContent = t(`state.${key}`);
  }

  log(kind, text) {
    const list = this.find(".conversation");
    const line = element("li", kind, text);
    list.append(line);
    while (list.childElementCount > LOG_LINES_KEPT) list.firstElementChild.remove();
    list.scrollTop = list.scrollHeight;
    return line;
  }

  receive(messages) {
    for (const message of messages) {
      if (message.id <= this.cursor) continue; // already shown (a resumed stream may repeat)
      this.cursor = message.id;
      this.counters.messages += 1;
      this.tellFeatures("message", message, (serverNowSeconds() - message.ts) * 1000);
    }
    this.render();
  }

  /** Fresh /stats of this panel's server: the features read it, and it names the feed. */
  updateStats(stats) {
    this.tellFeatures("stats", stats);
    if (noticeNewFeed(this, stats)) this.followNewFeed();
    this.render();
  }

  /**
   * The server restarted and our cursor is now 0: stop the client and start it again, so that
   * it asks the new feed from the start. Polling polls at once with since=0; long polling aborts
   * the held request and asks again; WebSocket and SSE close and reopen with since=0.
   * A paused panel does nothing now: it starts from since=0 when it resumes.
   */
  followNewFeed() {
    if (!this.running) return;
    this.client.stop();
    this.client.start();
  }

  attach(client) {
    this.client = client;
    this.sync();
  }

  /** Swap the client for one that reaches the server another way (the path control): the
   * old one stops, the new one starts from the same cursor. */
  replaceClient(client) {
    if (this.running) {
      this.client.stop();
      this.running = false;
    }
    this.attach(client);
  }

  setUserPaused(paused) {
    this.userPaused = paused;
    this.sync();
  }

  setHidden(hidden) {
    this.hiddenPaused = hidden && this.holdsConnection;
    this.sync();
  }

  /** Start or stop the client so that it runs exactly when nothing asks it to pause. */
  sync() {
    const pauseButton = this.find(".pause");
    pauseButton.dataset.i18n = this.userPaused ? "resume" : "pause";
    pauseButton.textContent = t(pauseButton.dataset.i18n);
    const shouldRun = !this.userPaused && !this.hiddenPaused;
    if (shouldRun && !this.running) {
      this.running = true;
      this.client.start();
    } else if (!shouldRun && this.running) {
      this.running = false;
      this.client.stop();
      this.log("note", t(this.userPaused ? "log.paused" : "log.hidden"));
      this.setState(this.userPaused ? "paused" : "hidden");
    } else if (!shouldRun) {
      this.setState(this.userPaused ? "paused" : "hidden");
    }
  }
}
