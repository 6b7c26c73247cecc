// Two languages, one dictionary. Elements carry data-i18n="key"; dynamic text calls t(key, params).
// Every translation is placed with textContent, so a translation can never inject markup.

const STRINGS = {
  en: {
    title: "pushlab: four ways to get news to a browser",
    subtitle:
      "One server process, one shared feed of messages, four techniques side by side. Every panel uses the browser's own client.",
    langButton: "中文 / Chinese",
    "chart.ago": "{seconds} s ago",
    "chart.now": "now",
    "network.about": "What do the network controls do?",
    "path.heading": "Path",
    "path.target": "Path of",
    "path.profile": "through",
    "path.now": "now reached at {url}",
    largeType: "Large type",
    publishRate: "Publish rate (messages/s, whole server)",
    pollInterval: "Poll interval (ms)",
    pauseAll: "Pause all",
    resumeAll: "Resume all",
    resetAll: "Reset all counters",
    teacherNote:
      "This server is shared on the network: changing the publish rate or the network, cutting or restarting needs the teacher's URL (it carries a key). Reading and chatting need nothing.",
    "how.polling": "fetch() on a timer: ask, wait the poll interval, ask again, news or not.",
    "how.longpoll":
      "A fetch() loop: the server holds each request until there is news (or {hold} s pass), then the page asks again at once.",
    "how.websocket":
      "new WebSocket(): one HTTP upgrade, then the server pushes a frame per message on the same connection.",
    "how.sse":
      "new EventSource(): one long HTTP response that never ends; each message is an event in the stream.",
    "counter.requests": "Requests sent",
    "counter.empty": "Empty answers",
    "counter.messages": "Messages",
    "counter.bytesSent": "Bytes sent ↑",
    "counter.bytesReceived": "Bytes received ↓",
    "counter.lastLatency": "Last latency",
    "counter.meanLatency": "Mean latency",
    "counter.emptyShare": "Empty share",
    "counter.spread": "Latency spread",
    "spread.emptyShare": "{measured} (model: {model})",
    "counter.radio": "Phone radio (LTE model)",
    "radio.gauge": "{state} · {mw} mW · {mj} mJ/message",
    "radio.awake": "awake",
    "radio.idle": "idle",
    bytesNote:
      "Bytes are not estimated: each technique's server counts every byte its sockets read and write (request lines, headers, bodies, frames). They are that server's totals for all its clients, so they are this tab's own only while one tab is open.",
    pause: "Pause",
    resume: "Resume",
    reset: "Reset",
    send: "Send",
    chatPlaceholder: "Chat message",
    "chatVia.websocket": "sent as a frame on the open socket",
    "chatVia.http": "sent with POST /messages",
    messagesHeading: "Received messages",
    conversationHeading: "Conversation",
    "state.connecting": "connecting",
    "state.polling": "polling",
    "state.waiting": "waiting",
    "state.held": "request held by the server",
    "state.open": "open",
    "state.reconnecting": "reconnecting",
    "state.closed": "closed",
    "state.paused": "paused",
    "state.hidden": "paused: tab hidden",
    "state.error": "error",
    "log.nothingNew": "← {status} nothing new",
    "log.messages": "← {status} {count} message(s), up to #{last}",
    "log.held": "… held by the server",
    "log.heldFor": "… held {seconds} s, then released",
    "log.timeout": "← {status} nothing new (the hold timed out)",
    "log.upgraded": "← 101 Switching Protocols: the socket stays open",
    "log.frame": "⇠ frame: message #{id}, {bytes} bytes",
    "log.sentFrame": "→ frame {payload}",
    "log.errorFrame": "⇠ error frame: {error}",
    "log.closed": "✕ socket closed (code {code})",
    "log.streamOpen": "← 200 text/event-stream: the response stays open",
    "log.event": "⇠ event id: {id}",
    "log.sseRetry": "✕ stream broken; the browser retries with Last-Event-ID: {id}",
    "log.posted": "← {status} stored as #{id}",
    "log.httpError": "← {status} {error}",
    "log.networkError": "✕ network error: {error}",
    "log.retryIn": "… retrying in {seconds} s",
    "log.newFeed": "↺ the server serves a new feed (feed_id {feedId}): it restarted, and its ids count from #1 again; messages of the old feed after #{cursor}, if there were any, are lost; starting again from since=0",
    "log.sseClosed": "✕ the server refused the stream; the browser will not retry by itself",
    "log.paused": "■ paused",
    "log.hidden": "■ paused while the tab is hidden",
    serverHeading: "The server's view",
    serverIntro:
      "Measured by the servers themselves, once a second: every technique's clients, requests and bytes, and the CPU of the one process that serves them all.",
    "chart.clients": "Clients connected",
    "chart.requests": "Requests/s",
    "chart.bytes": "Bytes/s (in + out)",
    "chart.cpu": "Server CPU % (one process)",
    handshakeHeading: "The WebSocket handshake of this page",
    handshakeIntro:
      "The server recorded the HTTP request that opened this page's WebSocket and the 101 answer it sent. The answer proves the server speaks WebSocket: it hashes the client's key with a fixed GUID.",
    handshakeRequest: "Request (browser → server)",
    handshakeResponse: "Response (server → browser)",
    handshakeWaiting: "waiting for the WebSocket panel to connect…",
    handshakeMissing: "this server does not record handshakes",
    acceptHeading: "Sec-WebSocket-Accept = base64(SHA-1(key + GUID))",
    "accept.key": "Sec-WebSocket-Key",
    "accept.guid": "GUID (RFC 6455)",
    "accept.sha1": "SHA-1",
    "accept.base64": "base64",
    "accept.server": "server sent",
    "accept.match": "✓ match",
    "accept.mismatch": "✗ no match",
    limitsHeading: "Why pausing hidden tabs? The 6-connection limit",
    limitsText1:
      "Over HTTP/1.1 a browser opens at most 6 connections to one scheme + host + port and queues every other request. A held long poll and an SSE stream each occupy one of those 6 connections for as long as they stay open.",
    limitsText2:
      "So this demo gives every technique its own port (8001–8004): each is its own group of 6, and a stream on one cannot starve another. With 7 tabs open, the 7th tab's SSE stream would still wait forever for a free connection; so a tab that is hidden closes its long poll and its stream, and reopens them (from where it left off) when you come back.",
    limitsText3:
      "WebSocket is not part of this limit. HTTP/2 removes it too: many streams share one connection.",
    tabsOpen: "Tabs of this page open in this browser: {count}",
    tabsWarning:
      "6 or more visible tabs: held requests now fill a port's 6 connections and others queue. Hide or close a few tabs.",
    clockOffset:
      "Latency = arrival time − the server's publish time, corrected by this device's clock offset to the server, estimated from the fastest round trip: {offset} ms.",
    clockSame: "Latency = arrival time − the server's publish time (same machine, same clock).",
    footer: "Nothing here is loaded from the network: plain HTML, CSS and JavaScript served by pushlab.",
    startError: "Could not reach the demo server: {error}",
    "network.heading": "Network",
    "network.target": "Network of",
    "network.all": "all four",
    "network.rtt": "Round-trip time",
    "network.cut": "Cut the connection",
    "network.restart": "Restart the server",
    "network.note":
      "Each technique's traffic goes through its own network emulator on the server (a delay of half the round-trip time each way). \"Cut\" resets every connection at once, as when a phone changes networks. \"Restart\" stops that technique's server application and starts a new one on the same port; the feed lives in the demo process, which keeps running, so it survives, as a feed kept in a broker would. A real server whose feed lives in its own memory loses it: the terminal clients and the bench show that case.",
    "network.failed": "The network control failed: {error}",
    "log.rttSet": "⏱ the network now adds {rtt} ms of round-trip time",
    "log.cut": "✂ the connection was cut (every connection reset)",
    "log.restart": "↯ the server application was restarted",
    "log.gap": "⚠ messages #{from}–#{to} are gone: the server no longer holds them",
    "log.resumed": "↻ back: resuming from the cursor, since={cursor}",
    "log.sseResumed": "↻ the browser reconnected by itself, with Last-Event-ID: {id}",
    "log.closedNoFrame": "✕ the connection ended without a close frame (the browser reports code 1006)",
  },
  zh: {
    title: "pushlab：把新消息送到浏览器的四种方法",
    subtitle: "一个服务器进程，一条共享的消息流，四种技术并排演示。每个面板都使用浏览器自带的客户端。",
    langButton: "English / 英文",
    "chart.ago": "{seconds} 秒前",
    "chart.now": "现在",
    "network.about": "网络控制做什么？",
    "path.heading": "路径",
    "path.target": "路径对象",
    "path.profile": "经由",
    "path.now": "现在经由 {url}",
    largeType: "大字号",
    publishRate: "发布速率（条/秒，整个服务器）",
    pollInterval: "轮询间隔（毫秒）",
    pauseAll: "全部暂停",
    resumeAll: "全部继续",
    resetAll: "全部计数清零",
    teacherNote: "本服务器在网络上共享：修改发布速率或网络、切断或重启需要老师的网址（其中带有密钥）。阅读和聊天不需要。",
    "how.polling": "定时 fetch()：发请求，等一个轮询间隔，再发，不管有没有新消息。",
    "how.longpoll": "fetch() 循环：服务器扣住每个请求，直到有新消息（或 {hold} 秒到期），页面随即再问。",
    "how.websocket": "new WebSocket()：一次 HTTP 升级，之后服务器在同一连接上每条消息推送一帧。",
    "how.sse": "new EventSource()：一个永不结束的 HTTP 响应，每条消息是流中的一个事件。",
    "counter.requests": "已发请求",
    "counter.empty": "空响应",
    "counter.messages": "消息",
    "counter.bytesSent": "发送字节 ↑",
    "counter.bytesReceived": "接收字节 ↓",
    "counter.lastLatency": "最近延迟",
    "counter.meanLatency": "平均延迟",
    "counter.emptyShare": "空响应比例",
    "counter.spread": "延迟分布",
    "spread.emptyShare": "{measured}（模型：{model}）",
    "counter.radio": "手机射频（LTE 模型）",
    "radio.gauge": "{state} · {mw} 毫瓦 · 每条消息 {mj} 毫焦",
    "radio.awake": "唤醒",
    "radio.idle": "空闲",
    bytesNote:
      "字节数不是估算的：每种技术的服务器统计其套接字读写的每个字节（请求行、头部、正文、帧）。这是该服务器所有客户端的总数，只有一个标签页打开时才等于本页的字节数。",
    pause: "暂停",
    resume: "继续",
    reset: "清零",
    send: "发送",
    chatPlaceholder: "聊天消息",
    "chatVia.websocket": "作为一帧经已打开的套接字发送",
    "chatVia.http": "用 POST /messages 发送",
    messagesHeading: "收到的消息",
    conversationHeading: "对话记录",
    "state.connecting": "连接中",
    "state.polling": "轮询中",
    "state.waiting": "等待中",
    "state.held": "请求被服务器扣住",
    "state.open": "已打开",
    "state.reconnecting": "重连中",
    "state.closed": "已关闭",
    "state.paused": "已暂停",
    "state.hidden": "已暂停：标签页隐藏",
    "state.error": "出错",
    "log.nothingNew": "← {status} 没有新消息",
    "log.messages": "← {status} {count} 条消息，直到 #{last}",
    "log.held": "… 被服务器扣住",
    "log.heldFor": "… 扣住 {seconds} 秒后放行",
    "log.timeout": "← {status} 没有新消息（扣留超时）",
    "log.upgraded": "← 101 Switching Protocols：套接字保持打开",
    "log.frame": "⇠ 帧：消息 #{id}，{bytes} 字节",
    "log.sentFrame": "→ 帧 {payload}",
    "log.errorFrame": "⇠ 错误帧：{error}",
    "log.closed": "✕ 套接字关闭（代码 {code}）",
    "log.streamOpen": "← 200 text/event-stream：响应保持打开",
    "log.event": "⇠ 事件 id：{id}",
    "log.sseRetry": "✕ 流中断；浏览器带着 Last-Event-ID: {id} 重试",
    "log.posted": "← {status} 已存为 #{id}",
    "log.httpError": "← {status} {error}",
    "log.networkError": "✕ 网络错误：{error}",
    "log.retryIn": "… {seconds} 秒后重试",
    "log.newFeed": "↺ 服务器换了一个新的消息流（feed_id {feedId}）：它重启过，id 又从 #1 开始计数；旧消息流中 #{cursor} 之后的消息（如果有的话）已经丢失；从 since=0 重新开始",
    "log.sseClosed": "✕ 服务器拒绝了这个流；浏览器不会再自动重试",
    "log.paused": "■ 已暂停",
    "log.hidden": "■ 标签页隐藏期间暂停",
    serverHeading: "服务器的视角",
    serverIntro: "由服务器自己每秒测量：各技术的客户端、请求和字节，以及服务它们的那一个进程的 CPU。",
    "chart.clients": "已连接客户端",
    "chart.requests": "请求/秒",
    "chart.bytes": "字节/秒（收 + 发）",
    "chart.cpu": "服务器 CPU %（一个进程）",
    handshakeHeading: "本页 WebSocket 的握手",
    handshakeIntro:
      "服务器记录了打开本页 WebSocket 的 HTTP 请求和它回的 101 响应。响应证明服务器懂 WebSocket：它把客户端的密钥和一个固定 GUID 一起做哈希。",
    handshakeRequest: "请求（浏览器 → 服务器）",
    handshakeResponse: "响应（服务器 → 浏览器）",
    handshakeWaiting: "等待 WebSocket 面板连接…",
    handshakeMissing: "此服务器不记录握手",
    acceptHeading: "Sec-WebSocket-Accept = base64(SHA-1(密钥 + GUID))",
    "accept.key": "Sec-WebSocket-Key",
    "accept.guid": "GUID（RFC 6455）",
    "accept.sha1": "SHA-1",
    "accept.base64": "base64",
    "accept.server": "服务器发送",
    "accept.match": "✓ 一致",
    "accept.mismatch": "✗ 不一致",
    limitsHeading: "为什么隐藏的标签页会暂停？每个主机 6 个连接的限制",
    limitsText1:
      "在 HTTP/1.1 下，浏览器对同一个协议 + 主机 + 端口最多开 6 个连接，其余请求排队。被扣住的长轮询和 SSE 流在打开期间各占其中一个连接。",
    limitsText2:
      "所以本演示给每种技术一个单独的端口（8001–8004）：每个端口各有 6 个连接，一种技术的流不会饿死另一种。开 7 个标签页时，第 7 个的 SSE 流仍会一直等空闲连接；所以隐藏的标签页会关闭长轮询和流，回来时再从断点重新打开。",
    limitsText3: "WebSocket 不受此限制。HTTP/2 也消除了它：多个流共享一个连接。",
    tabsOpen: "本浏览器中打开的本页标签页：{count}",
    tabsWarning: "可见标签页达到 6 个或更多：被扣住的请求占满某个端口的 6 个连接，其他请求只能排队。请隐藏或关闭几个标签页。",
    clockOffset: "延迟 = 到达时间 − 服务器发布时间，并按本设备与服务器的时钟偏差校正（由最快的一次往返估算）：{offset} 毫秒。",
    clockSame: "延迟 = 到达时间 − 服务器发布时间（同一台机器，同一个时钟）。",
    footer: "这里没有任何内容来自网络：pushlab 自带的纯 HTML、CSS 和 JavaScript。",
    startError: "无法连接演示服务器：{error}",
    "network.heading": "网络",
    "network.target": "设置网络：",
    "network.all": "全部四种",
    "network.rtt": "往返时间",
    "network.cut": "断开连接",
    "network.restart": "重启服务器",
    "network.note":
      "每种技术的流量都经过服务器上它自己的网络模拟器（每个方向延迟往返时间的一半）。“断开连接”会立刻重置所有连接，就像手机换了网络。“重启服务器”会停掉这种技术的服务器应用并在同一端口启动一个新的；消息流保存在演示进程里，而演示进程一直在运行，所以消息流还在，就像保存在消息代理里的一样。真正的单个服务器若把消息流放在自己的内存里，重启后就没了：终端客户端和基准测试展示的是这种情况。",
    "network.failed": "网络控制失败：{error}",
    "log.rttSet": "⏱ 网络现在增加 {rtt} 毫秒的往返时间",
    "log.cut": "✂ 连接被断开（所有连接都被重置）",
    "log.restart": "↯ 服务器应用已重启",
    "log.gap": "⚠ 消息 #{from}–#{to} 已经没了：服务器不再保存它们",
    "log.resumed": "↻ 回来了：从游标 since={cursor} 接着收",
    "log.sseResumed": "↻ 浏览器自己重连了，带着 Last-Event-ID: {id}",
    "log.closedNoFrame": "✕ 连接断了，没有收到关闭帧（浏览器报告代码 1006）",
  },
};

export const LANGUAGES = Object.keys(STRINGS);
let language = "en";

export function currentLanguage() {
  return language;
}

// Filled in from the server's /api/config: the techniques' labels and the defaults ({hold}).
const fromServer = { strings: { en: {}, zh: {} }, params: {} };

/** Add the strings the server's technique table provides: labels, and values such as {hold}. */
export function addServerStrings(strings, params) {
  for (const [lang, entries] of Object.entries(strings)) Object.assign(fromServer.strings[lang], entries);
  Object.assign(fromServer.params, params);
}

export function t(key, params = {}) {
  const template =
    fromServer.strings[language][key] ??
    STRINGS[language][key] ??
    fromServer.strings.en[key] ??
    STRINGS.en[key] ??
    key;
  const values = { ...fromServer.params, ...params };
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    name in values ? String(values[name]) : whole,
  );
}

export function applyTranslations(root = document) {
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of root.querySelectorAll("[data-i18n-placeholder]")) {
    element.placeholder = t(element.dataset.i18nPlaceholder);
  }
}

const languageListeners = [];

/** Call `listener` after every change of language (for text drawn, not placed by data-i18n). */
export function onLanguageChange(listener) {
  languageListeners.push(listener);
}

export function setLanguage(next) {
  language = STRINGS[next] ? next : "en";
  document.documentElement.lang = language === "zh" ? "zh-CN" : "en";
  applyTranslations();
  for (const listener of languageListeners) listener(language);
}

export function preferredLanguage() {
  const fromUrl = new URLSearchParams(location.search).get("lang");
  const stored = localStorage.getItem("pushlab.lang");
  const fromBrowser = navigator.language?.toLowerCase().startsWith("zh") ? "zh" : "en";
  return [fromUrl, stored, fromBrowser].find((lang) => lang && STRINGS[lang]) ?? "en";
}
