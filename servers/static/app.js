// The classroom page: four panels, the server's view, the handshake, and the controls.
// Every received text is placed with textContent: a message is data, never markup.

import {
  addServerStrings,
  applyTranslations,
  currentLanguage,
  preferredLanguage,
  setLanguage,
  t,
} from "./i18n.js";
import { LineChart, formatNumber } from "./charts.js";
import { setUpNetworkControls } from "./network.js";
import { acceptSteps } from "./sha1.js";
import { showTeacherNote, teacherHeaders } from "./teacher.js";
import {
  eventSourceClient,
  longPollClient,
  noticeNewFeed,
  pollingClient,
  webSocketClient,
} from "./clients.js";

// The techniques, their colours and flags come from the server (/api/config's "table", which
// is pushlab.techniques): the page paints them as the report's plots and the terminal do.
const MESSAGES_SHOWN = 30;
const LOG_LINES_KEPT = 150;
const STATS_INTERVAL_MS = 1000;

const settings = { pollIntervalMs: 1000, longpollHoldS: 25 }; // replaced from /api/config
const clientId = Math.random().toString(36).slice(2, 10);
const clock = { offsetMs: 0, bestRoundTripMs: Infinity, sameMachine: isLoopback(location.hostname) };

function isLoopback(hostname) {
  return hostname === "localhost" || hostname.startsWith("127.") || hostname === "[::1]";
}

function browserNowMs() {
  return performance.timeOrigin + performance.now();
}

function serverNowSeconds() {
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

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function formatMs(ms) {
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`;
}

class Panel {
  /** entry: the technique's row of the table (name, colour, flags). */
  constructor(entry, template) {
    const technique = entry.name;
    this.technique = technique;
    this.root = template.content.firstElementChild.cloneNode(true);
    this.root.id = `panel-${technique}`;
    this.root.dataset.technique = technique;
    this.root.style.setProperty("--accent", entry.colour);
    this.find(".panel-title").dataset.i18n = `technique.${technique}`;
    this.find(".how").dataset.i18n = `how.${technique}`;
    // A full-duplex technique sends chat up its own connection; the others POST /messages.
    this.find(".chat-via").dataset.i18n = entry.full_duplex ? "chatVia.websocket" : "chatVia.http";
    this.cursor = 0;
    this.feedId = null; // which feed the cursor counts in (see noticeNewFeed in clients.js)
    this.oldFeedIds = new Set();
    this.clientId = clientId;
    this.userPaused = false;
    this.hiddenPaused = false;
    this.running = false;
    // A held request (long poll, SSE) keeps one of the browser's six HTTP/1.1 connections to
    // the host busy; a WebSocket, full duplex, has left the HTTP pool after its upgrade.
    this.holdsConnection = entry.holds_request && !entry.full_duplex;
    this.bytesBaseline = null;
    this.latestStats = null;
    this.resetCounters();
    this.find(".pause").addEventListener("click", () => this.setUserPaused(!this.userPaused));
    this.find(".reset").addEventListener("click", () => this.reset());
    this.find(".chat").addEventListener("submit", (event) => this.submitChat(event));
  }

  find(selector) {
    return this.root.querySelector(selector);
  }

  resetCounters() {
    this.counters = { requests: 0, empty: 0, messages: 0 };
    this.latencySumMs = 0;
    this.lastLatencyMs = null;
    this.bytesBaseline = this.latestStats;
    this.render();
  }

  reset() {
    this.resetCounters();
    this.find(".messages").replaceChildren();
    this.find(".conversation").replaceChildren();
  }

  count(name, delta = 1) {
    this.counters[name] += delta;
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
      const latencyMs = (serverNowSeconds() - message.ts) * 1000;
      this.counters.messages += 1;
      this.latencySumMs += latencyMs;
      this.lastLatencyMs = latencyMs;
      this.showMessage(message, latencyMs);
    }
    this.render();
  }

  showMessage(message, latencyMs) {
    const list = this.find(".messages");
    const item = element("li");
    item.dataset.id = message.id;
    item.append(
      element("span", "message-text", message.text),
      element("span", "message-meta", `#${message.id} · ${formatMs(latencyMs)}`),
    );
    list.prepend(item);
    while (list.childElementCount > MESSAGES_SHOWN) list.lastElementChild.remove();
  }

  /** Fresh /stats of this panel's server: its byte counters, and which feed it serves. */
  updateStats(stats) {
    if (this.latestStats && this.latestStats.feed_id !== stats.feed_id) this.carryBytesOver();
    if (noticeNewFeed(this, stats)) this.followNewFeed();
    this.latestStats = stats;
    this.bytesBaseline ??= stats;
    this.render();
  }

  /**
   * A restarted server counts its bytes from 0: keep what the old one counted since our
   * baseline, and add the new server's counts to it from now on.
   */
  carryBytesOver() {
    if (!this.latestStats || !this.bytesBaseline) return;
    this.bytesBaseline = {
      bytes_in: this.bytesBaseline.bytes_in - this.latestStats.bytes_in,
      bytes_out: this.bytesBaseline.bytes_out - this.latestStats.bytes_out,
    };
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

  render() {
    const values = {
      ...this.counters,
      bytesSent: "–",
      bytesReceived: "–",
      lastLatency: this.lastLatencyMs === null ? "–" : formatMs(this.lastLatencyMs),
      meanLatency:
        this.counters.messages === 0 ? "–" : formatMs(this.latencySumMs / this.counters.messages),
    };
    if (this.latestStats && this.bytesBaseline) {
      // The browser's bytes sent are the bytes the server read, and the other way round.
      values.bytesSent = this.latestStats.bytes_in - this.bytesBaseline.bytes_in;
      values.bytesReceived = this.latestStats.bytes_out - this.bytesBaseline.bytes_out;
    }
    for (const [name, value] of Object.entries(values)) {
      const cell = this.find(`[data-counter="${name}"]`);
      const text = typeof value === "number" ? value.toLocaleString("en-US") : value;
      if (cell.textContent !== text) cell.textContent = text;
    }
  }

  attach(client) {
    this.client = client;
    this.sync();
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

  submitChat(event) {
    event.preventDefault();
    const input = event.target.elements.text;
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    this.client.send(text);
  }
}

// --- Server view ------------------------------------------------------------------------------

function buildLegend(table) {
  const legend = document.getElementById("legend");
  for (const entry of Object.values(table)) {
    const item = element("li");
    const swatch = element("span", "swatch");
    swatch.style.background = entry.colour;
    const label = element("span");
    label.dataset.i18n = `technique.${entry.name}`;
    item.append(swatch, label);
    legend.append(item);
  }
}

function makeCharts(table) {
  const colors = Object.fromEntries(Object.values(table).map((entry) => [entry.name, entry.colour]));
  const chart = (id, format) => new LineChart(document.getElementById(id), colors, format);
  const oneColor = { cpu: "#333" };
  return {
    clients: chart("chart-clients"),
    requests: chart("chart-requests"),
    bytes: chart("chart-bytes", formatNumber),
    cpu: new LineChart(document.getElementById("chart-cpu"), oneColor, (v) => `${formatNumber(v)} %`),
  };
}

function rates(previous, current) {
  const elapsedS = current.server_time - previous.server_time;
  const perTechnique = (field) =>
    Object.fromEntries(
      Object.keys(current.techniques).map((name) => {
        const delta = field(current.techniques[name]) - field(previous.techniques[name]);
        return [name, Math.max(0, delta / elapsedS)];
      }),
    );
  // The demo is one process: every technique's snapshot reports the same CPU time.
  const cpuS = (snapshot) => anyTechnique(snapshot).process_cpu_s;
  return {
    requests: perTechnique((s) => s.requests),
    bytes: perTechnique((s) => s.bytes_in + s.bytes_out),
    cpu: { cpu: Math.max(0, ((cpuS(current) - cpuS(previous)) / elapsedS) * 100) },
  };
}

function anyTechnique(snapshot) {
  return Object.values(snapshot.techniques)[0];
}

async function fetchJson(url, options) {
  const response = await fetch(url, { cache: "no-store", ...options });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

function watchServer(panels, charts, firstStats) {
  let previous = firstStats;
  const rateInput = document.getElementById("publish-rate");
  setInterval(async () => {
    let current;
    try {
      const sentAt = browserNowMs();
      current = await fetchJson("/api/stats");
      sampleClock(sentAt, browserNowMs(), current.server_time);
    } catch {
      return; // the server is gone or busy; the charts simply pause
    }
    const perSecond = rates(previous, current);
    previous = current;
    charts.clients.push(
      Object.fromEntries(
        Object.entries(current.techniques).map(([name, stats]) => [name, stats.clients_connected]),
      ),
    );
    charts.requests.push(perSecond.requests);
    charts.bytes.push(perSecond.bytes);
    charts.cpu.push(perSecond.cpu);
    for (const panel of panels) panel.updateStats(current.techniques[panel.technique]);
    if (document.activeElement !== rateInput) {
      rateInput.value = anyTechnique(current).publish_rate; // one shared publisher
    }
  }, STATS_INTERVAL_MS);
}

// --- Handshake panel --------------------------------------------------------------------------

function headerLines(firstLine, headers) {
  return [firstLine, ...headers.map(([name, value]) => `${name}: ${value}`)].join("\n");
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
  document.getElementById("handshake-request").textContent = headerLines(
    handshake.request_line,
    handshake.request_headers,
  );
  document.getElementById("handshake-response").textContent = headerLines(
    `HTTP/1.1 ${handshake.status} Switching Protocols`,
    handshake.response_headers,
  );
  const find = (headers, name) =>
    headers.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1] ?? "";
  const steps = acceptSteps(find(handshake.request_headers, "Sec-WebSocket-Key"));
  const sent = find(handshake.response_headers, "Sec-WebSocket-Accept");
  document.getElementById("accept-key").textContent = steps.key;
  document.getElementById("accept-guid").textContent = steps.guid;
  document.getElementById("accept-sha1").textContent = steps.sha1Hex;
  document.getElementById("accept-base64").textContent = steps.accept;
  document.getElementById("accept-server").textContent = sent;
  const verdict = document.getElementById("accept-match");
  verdict.dataset.i18n = steps.accept === sent ? "accept.match" : "accept.mismatch";
  verdict.textContent = t(verdict.dataset.i18n);
}

// --- Tabs and the 6-connection limit -----------------------------------------------------------

/** Count this page's tabs in this browser (BroadcastChannel), to warn before the limit bites. */
function watchTabs() {
  if (!("BroadcastChannel" in window)) return;
  const channel = new BroadcastChannel("pushlab-demo");
  const others = new Map(); // tab id → {visible, seenAt}
  const announce = () => channel.postMessage({ id: clientId, visible: !document.hidden });
  const render = () => {
    const now = Date.now();
    for (const [id, tab] of others) if (now - tab.seenAt > 5000) others.delete(id);
    const tabs = [...others.values()];
    const visible = tabs.filter((tab) => tab.visible).length + (document.hidden ? 0 : 1);
    const counter = document.getElementById("tabs-open");
    counter.textContent = t("tabsOpen", { count: tabs.length + 1 });
    document.getElementById("tabs-warning").hidden = visible < 6;
  };
  channel.onmessage = ({ data }) => {
    if (data.gone) others.delete(data.id);
    else {
      if (!others.has(data.id)) announce();
      others.set(data.id, { visible: data.visible, seenAt: Date.now() });
    }
    render();
  };
  addEventListener("pagehide", () => channel.postMessage({ id: clientId, gone: true }));
  document.addEventListener("visibilitychange", announce);
  setInterval(() => {
    announce();
    render();
  }, 2000);
  announce();
  render();
  return render;
}

// --- Controls ----------------------------------------------------------------------------------

function setUpViewButtons(onLanguageChange) {
  const largeButton = document.getElementById("large-type");
  const applyLarge = (large) => {
    document.documentElement.classList.toggle("large", large);
    largeButton.setAttribute("aria-pressed", String(large));
  };
  applyLarge(localStorage.getItem("pushlab.large") === "1");
  largeButton.addEventListener("click", () => {
    const large = !document.documentElement.classList.contains("large");
    localStorage.setItem("pushlab.large", large ? "1" : "0");
    applyLarge(large);
  });
  document.getElementById("lang-switch").addEventListener("click", () => {
    const next = currentLanguage() === "en" ? "zh" : "en";
    localStorage.setItem("pushlab.lang", next);
    setLanguage(next);
    onLanguageChange();
  });
}

function setUpControls(panels) {
  const intervalInput = document.getElementById("poll-interval");
  intervalInput.value = settings.pollIntervalMs;
  intervalInput.addEventListener("input", () => {
    const value = Number(intervalInput.value);
    if (value >= 100 && value <= 60000) settings.pollIntervalMs = value;
  });

  const rateInput = document.getElementById("publish-rate");
  rateInput.addEventListener("change", async () => {
    const rate = Number(rateInput.value);
    try {
      await fetchJson("/api/publisher", {
        method: "POST",
        headers: { "Content-Type": "application/json", ...teacherHeaders() },
        body: JSON.stringify({ publish_rate: rate }),
      });
      showStatus("");
    } catch (error) {
      showStatus(error.message);
    }
  });

  const pauseAll = document.getElementById("pause-all");
  pauseAll.addEventListener("click", () => {
    const pause = panels.some((panel) => !panel.userPaused);
    for (const panel of panels) panel.setUserPaused(pause);
    pauseAll.dataset.i18n = pause ? "resumeAll" : "pauseAll";
    pauseAll.textContent = t(pauseAll.dataset.i18n);
  });
  document.getElementById("reset-all").addEventListener("click", () => {
    for (const panel of panels) panel.reset();
  });

  // Hidden tabs give their held connections back (see "the 6-connection limit" on the page).
  document.addEventListener("visibilitychange", () => {
    for (const panel of panels) panel.setHidden(document.hidden);
  });
}

function showStatus(text) {
  document.getElementById("page-status").textContent = text;
}

function showClockOffset() {
  document.getElementById("clock-offset").textContent = clock.sameMachine
    ? t("clockSame")
    : t("clockOffset", { offset: clock.offsetMs.toFixed(1) });
}

// --- Start -------------------------------------------------------------------------------------

async function loadConfig() {
  const sentAt = browserNowMs();
  const config = await fetchJson("/api/config");
  sampleClock(sentAt, browserNowMs(), config.server_time);
  return config;
}

function makeClient(panel, config) {
  const url = config.techniques[panel.technique];
  switch (panel.technique) {
    case "polling":
      return pollingClient(panel, url, settings);
    case "longpoll":
      return longPollClient(panel, url, settings);
    case "websocket":
      return webSocketClient(panel, url.replace(/^http/, "ws"), {
        onUpgrade: showHandshake,
      });
    case "sse":
      return eventSourceClient(panel, url);
  }
}

/** The table's labels become the page's technique names (capitalised for titles). */
function useConfig(config) {
  const capitalised = (text) => text.charAt(0).toUpperCase() + text.slice(1);
  const entries = Object.values(config.table);
  const labels = (field, shape) =>
    Object.fromEntries(entries.map((entry) => [`technique.${entry.name}`, shape(entry[field])]));
  addServerStrings(
    { en: labels("label", capitalised), zh: labels("label_zh", (text) => text) },
    { hold: config.longpoll_timeout_s },
  );
  settings.pollIntervalMs = Math.round(config.poll_interval_s * 1000);
  settings.longpollHoldS = config.longpoll_timeout_s;
}

async function main() {
  setLanguage(preferredLanguage());
  let charts = {};
  let renderTabs = () => {};
  setUpViewButtons(() => {
    showClockOffset();
    renderTabs();
    Object.values(charts).forEach((chart) => chart.draw());
  });

  let config;
  let firstStats;
  try {
    config = await loadConfig();
    firstStats = await fetchJson("/api/stats");
  } catch (error) {
    showStatus(t("startError", { error: error.message }));
    return;
  }
  useConfig(config);
  buildLegend(config.table);
  charts = makeCharts(config.table);
  showClockOffset();
  document.getElementById("publish-rate").value = config.publish_rate;
  showTeacherNote(config.teacher_key_required);

  const template = document.getElementById("panel-template");
  const panels = Object.values(config.table).map((entry) => new Panel(entry, template));
  const container = document.getElementById("panels");
  for (const panel of panels) {
    container.append(panel.root);
    panel.cursor = config.last_id; // every panel starts from the same point of the feed
    panel.updateStats(firstStats.techniques[panel.technique]);
  }
  applyTranslations();
  setUpControls(panels);
  await setUpNetworkControls(panels, showStatus);
  renderTabs = watchTabs() ?? renderTabs;
  for (const panel of panels) {
    panel.hiddenPaused = document.hidden && panel.holdsConnection;
    panel.attach(makeClient(panel, config));
  }
  watchServer(panels, charts, firstStats);
  addEventListener("resize", () => Object.values(charts).forEach((chart) => chart.draw()));
  document.body.dataset.ready = "true";
}

main();
