// What every Node.js peer shares: pushlab's feed, built-in publisher, meter and control routes.
//
// The bench drives a Node peer exactly as it drives pushlab's servers (servers/common.py):
// GET /healthz, GET /stats, GET and POST /publisher, POST /messages, with the same JSON, the
// same checks and the same counters; only the route that delivers messages is the peer's own
// (ws.js, socketio.js). The first line on stdout is the one the harness reads:
// "pushlab NAME listening on http://HOST:PORT". Bytes are counted per TCP socket by Node itself
// (socket.bytesRead, socket.bytesWritten), CPU by process.cpuUsage(): the bench also samples the
// process from outside, as it samples pushlab's.
//
// Seeded Poisson arrivals draw their gaps from a Mersenne Twister seeded as Python's
// random.Random(seed) is, with random() and expovariate() computed as CPython computes them: the
// same seed gives the same gaps as pushlab's publisher (servers/publisher.py), so every server
// of a run sees the same arrivals.
"use strict";

const crypto = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");

const ARRIVALS = ["periodic", "poisson"];

// --- Python's random.Random(seed): MT19937 and CPython's seeding ------------------------------

class PythonRandom {
  constructor(seed) {
    this.mt = new Uint32Array(624);
    this.index = 624;
    if (seed === null || seed === undefined) {
      const words = new Uint32Array(4);
      crypto.getRandomValues(words);
      this.initByArray(Array.from(words));
    } else {
      this.initByArray(PythonRandom.keyOf(BigInt(seed)));
    }
  }

  // CPython (random_seed): the seed's absolute value in 32-bit words, least significant first.
  static keyOf(seed) {
    const key = [];
    let rest = seed < 0n ? -seed : seed;
    do {
      key.push(Number(rest & 0xffffffffn));
      rest >>= 32n;
    } while (rest > 0n);
    return key;
  }

  initGenrand(s) {
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < 624; i++) {
      mt[i] = (Math.imul(1812433253, mt[i - 1] ^ (mt[i - 1] >>> 30)) + i) >>> 0;
    }
    this.index = 624;
  }

  initByArray(key) {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(624, key.length); k; k--) {
      mt[i] = ((mt[i] ^ Math.imul(mt[i - 1] ^ (mt[i - 1] >>> 30), 1664525)) + key[j] + j) >>> 0;
      i++;
      j++;
      if (i >= 624) {
        mt[0] = mt[623];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = 623; k; k--) {
      mt[i] = ((mt[i] ^ Math.imul(mt[i - 1] ^ (mt[i - 1] >>> 30), 1566083941)) - i) >>> 0;
      i++;
      if (i >= 624) {
        mt[0] = mt[623];
        i = 1;
      }
    }
    mt[0] = 0x80000000;
  }

  genrandInt32() {
    const mt = this.mt;
    if (this.index >= 624) {
      for (let kk = 0; kk < 624; kk++) {
        const y = (mt[kk] & 0x80000000) | (mt[(kk + 1) % 624] & 0x7fffffff);
        mt[kk] = mt[(kk + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.index = 0;
    }
    let y = mt[this.index++];
    y ^= y >>> 11;
    y = (y ^ ((y << 7) & 0x9d2c5680)) >>> 0;
    y = (y ^ ((y << 15) & 0xefc60000)) >>> 0;
    return (y ^ (y >>> 18)) >>> 0;
  }

  random() {
    const a = this.genrandInt32() >>> 5;
    const b = this.genrandInt32() >>> 6;
    return (a * 67108864 + b) * (1 / 9007199254740992);
  }

  expovariate(lambd) {
    return -Math.log(1 - this.random()) / lambd;
  }
}

// --- The feed and the built-in publisher -----------------------------------------------------

function nowS() {
  return (performance.timeOrigin + performance.now()) / 1000;
}

class Feed {
  constructor(historySize) {
    this.feedId = crypto.randomBytes(8).toString("hex");
    this.historySize = historySize;
    this.history = [];
    this.lastId = 0;
    this.listeners = [];
  }

  publish(text) {
    const message = { id: this.lastId + 1, ts: nowS(), text };
    message.json = JSON.stringify({ id: message.id, ts: message.ts, text });
    this.lastId = message.id;
    this.history.push(message);
    if (this.history.length > this.historySize) this.history.shift();
    for (const listener of this.listeners) listener(message);
    return message;
  }
}

class Publisher {
  constructor(feed, rate, arrivals) {
    this.feed = feed;
    this.publishRate = rate;
    this.arrivals = arrivals;
    this.seed = null;
    this.textBytes = 0;
    this.rng = new PythonRandom(null);
    this.timer = null;
  }

  configure(rate, arrivals, seed, textBytes) {
    this.publishRate = rate;
    this.arrivals = arrivals;
    this.seed = seed;
    this.textBytes = textBytes;
    this.rng = new PythonRandom(seed);
    this.start();
  }

  nextGapMs() {
    const gapS =
      this.arrivals === "poisson" ? this.rng.expovariate(this.publishRate) : 1 / this.publishRate;
    return gapS * 1000;
  }

  // An absolute schedule, as pushlab's publisher keeps: no drift from timer lateness.
  start() {
    clearTimeout(this.timer);
    this.timer = null;
    if (!(this.publishRate > 0)) return;
    let nextAt = performance.now() + this.nextGapMs();
    const tick = () => {
      const id = this.feed.lastId + 1;
      this.feed.publish(`message ${id} from the built-in publisher`.padEnd(this.textBytes, "."));
      nextAt += this.nextGapMs();
      this.timer = setTimeout(tick, Math.max(nextAt - performance.now(), 0));
    };
    this.timer = setTimeout(tick, Math.max(nextAt - performance.now(), 0));
  }

  state() {
    return {
      publish_rate: this.publishRate,
      arrivals: this.arrivals,
      seed: this.seed,
      text_bytes: this.textBytes,
    };
  }
}

// --- The meter, and pushlab's control routes -------------------------------------------------

class Meter {
  constructor() {
    this.startedAt = performance.now();
    this.requests = 0;
    this.otherRequests = 0;
    this.messagesDelivered = 0;
    this.clientsConnected = 0;
    this.tcpConnectionsOpened = 0;
    this.live = new Set();
    this.closedBytesIn = 0;
    this.closedBytesOut = 0;
  }

  watch(server) {
    server.on("connection", (socket) => {
      this.tcpConnectionsOpened++;
      this.live.add(socket);
      socket.once("close", () => {
        this.live.delete(socket);
        this.closedBytesIn += socket.bytesRead;
        this.closedBytesOut += socket.bytesWritten;
      });
    });
  }

  bytes() {
    let bytesIn = this.closedBytesIn;
    let bytesOut = this.closedBytesOut;
    for (const socket of this.live) {
      bytesIn += socket.bytesRead;
      bytesOut += socket.bytesWritten;
    }
    return [bytesIn, bytesOut];
  }
}

class ClientError extends Error {
  constructor(message, status = 400) {
    super(message);
    this.status = status;
  }
}

function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

function isWhole(value) {
  return Number.isInteger(value);
}

class Peer {
  // options: name, host, port, rate, arrivals, history, max_text_bytes, max_publish_rate
  constructor(options, stack) {
    this.options = options;
    this.name = options.name;
    this.feed = new Feed(options.history);
    this.publisher = new Publisher(this.feed, options.rate, options.arrivals);
    this.meter = new Meter();
    this.stack = { node: process.version, ...stack };
    this.ownPaths = new Set(["/messages"]);
    this.server = http.createServer((request, response) => this.control(request, response));
    this.meter.watch(this.server);
    // Node's 5 s would close the harness's kept-alive /stats connection while 1,000 clients
    // connect; pushlab's servers keep an idle connection this long.
    this.server.keepAliveTimeout = options.keepalive_timeout_s * 1000;
    this.server.headersTimeout = options.keepalive_timeout_s * 1000 + 1000;
  }

  // Count every request as the aiohttp servers' count_requests does; called first, whatever
  // library handles the request afterwards.
  countRequests() {
    this.server.prependListener("request", (request) => {
      const pathname = request.url.split("?", 1)[0];
      if (this.ownPaths.has(pathname)) this.meter.requests++;
      else this.meter.otherRequests++;
    });
  }

  stats() {
    const [bytesIn, bytesOut] = this.meter.bytes();
    const cpu = process.cpuUsage();
    return {
      technique: this.name,
      pid: process.pid,
      uptime_s: (performance.now() - this.meter.startedAt) / 1000,
      clients_connected: this.meter.clientsConnected,
      requests: this.meter.requests,
      other_requests: this.meter.otherRequests,
      empty_responses: 0,
      messages_published: this.feed.lastId,
      messages_delivered: this.meter.messagesDelivered,
      bytes_in: bytesIn,
      bytes_out: bytesOut,
      tcp_connections_opened: this.meter.tcpConnectionsOpened,
      tcp_connections_open: this.meter.live.size,
      fanout_s: 0,
      fanouts: 0,
      feed_id: this.feed.feedId,
      last_id: this.feed.lastId,
      publish_rate: this.publisher.publishRate,
      arrivals: this.publisher.arrivals,
      process_cpu_s: (cpu.user + cpu.system) / 1e6,
      process_max_rss_kb: process.resourceUsage().maxRSS,
      server_time: nowS(),
      stack: this.stack,
    };
  }

  configurePublisher(data) {
    const rate = data.publish_rate;
    if (!isNumber(rate)) {
      throw new ClientError(
        '"publish_rate" is required and must be a number (messages per second)',
      );
    }
    const maxRate = this.options.max_publish_rate;
    if (!(rate >= 0 && rate <= maxRate)) {
      throw new ClientError(`"publish_rate" must be between 0 and ${maxRate}`);
    }
    const arrivals = data.arrivals ?? this.publisher.arrivals;
    if (!ARRIVALS.includes(arrivals)) {
      throw new ClientError(`"arrivals" must be one of ${ARRIVALS.join(", ")}`);
    }
    const seed = data.seed ?? null;
    if (seed !== null && !(isWhole(seed) && seed >= 0 && seed < 2 ** 64)) {
      throw new ClientError('"seed" must be a whole number from 0 to 2^64 − 1 (or absent)');
    }
    // JSON.parse rounds integers past 2^53: such a seed would silently be another seed.
    if (seed !== null && !Number.isSafeInteger(seed)) {
      throw new ClientError('"seed" past 2^53 − 1 cannot be read exactly by the Node peers');
    }
    const textBytes = data.text_bytes ?? this.publisher.textBytes;
    const maxText = this.options.max_text_bytes;
    if (!(isWhole(textBytes) && textBytes >= 0 && textBytes <= maxText)) {
      throw new ClientError(`"text_bytes" must be a whole number from 0 to ${maxText} (0: short texts)`);
    }
    this.publisher.configure(rate, arrivals, seed, textBytes);
  }

  publishText(data) {
    const text = data.text;
    if (typeof text !== "string") throw new ClientError('"text" is required and must be a string');
    if (!text.trim()) throw new ClientError('"text" must not be empty');
    if (Buffer.byteLength(text) > this.options.max_text_bytes) {
      throw new ClientError(`"text" is longer than ${this.options.max_text_bytes} bytes`, 413);
    }
    return this.feed.publish(text);
  }

  answer(method, pathname, body) {
    const route = `${method} ${pathname}`;
    if (route === "GET /healthz") return [200, { status: "ok", technique: this.name }];
    if (route === "GET /stats") return [200, this.stats()];
    if (route === "GET /publisher") return [200, this.publisher.state()];
    if (route === "POST /publisher") {
      this.configurePublisher(jsonObject(body));
      return [200, this.publisher.state()];
    }
    if (route === "POST /messages") return [201, this.publishText(jsonObject(body))];
    if (["/healthz", "/stats", "/publisher", "/messages"].includes(pathname)) {
      throw new ClientError(`${method} is not allowed on ${pathname}`, 405);
    }
    throw new ClientError(`no such path: ${pathname}`, 404);
  }

  control(request, response) {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      let status;
      let body;
      try {
        [status, body] = this.answer(
          request.method,
          request.url.split("?", 1)[0],
          Buffer.concat(chunks),
        );
      } catch (error) {
        if (!(error instanceof ClientError)) throw error;
        [status, body] = [error.status, { error: error.message }];
      }
      const text = Buffer.from(body.json ?? JSON.stringify(body));
      response.writeHead(status, {
        "Content-Type": "application/json; charset=utf-8",
        "Content-Length": text.length,
      });
      response.end(text);
    });
  }

  listen() {
    this.server.listen({ host: this.options.host, port: this.options.port, backlog: 4096 }, () => {
      const address = this.server.address();
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
      process.stdout.write(`pushlab ${this.name} listening on http://${host}:${address.port}\n`);
      process.stdout.write(`stack: ${JSON.stringify(this.stack)}\n`);
      if (this.publisher.publishRate > 0) this.publisher.start();
    });
    for (const signal of ["SIGINT", "SIGTERM"]) {
      process.on(signal, () => {
        clearTimeout(this.publisher.timer);
        for (const socket of this.meter.live) socket.destroy();
        this.server.close(() => process.exit(0));
      });
    }
  }
}

function jsonObject(body) {
  let data;
  try {
    data = JSON.parse(body.toString("utf8"));
  } catch {
    throw new ClientError('body must be JSON, e.g. {"text": "hello"}');
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new ClientError('body must be a JSON object, e.g. {"text": "hello"}');
  }
  return data;
}

// The version of an installed package (read from its package.json, which "exports" may hide).
function version(name) {
  for (const folder of (process.env.NODE_PATH || "").split(path.delimiter)) {
    const file = path.join(folder, name, "package.json");
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, "utf8")).version;
  }
  return "?";
}

module.exports = { Peer, PythonRandom, version };
