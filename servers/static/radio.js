// A phone's radio, modelled over a panel's own traffic: the gauge's arithmetic, with no DOM.
//
// The same RRC state machines as bench/analysis/radio.py (AT&T ARO's LTE and 3G defaults, the
// numbers served by /api/config as each profile's `parameters`): a write that finds the radio
// idle pays a promotion; after the last write the radio stays awake for its tail (LTE: 0.1 s of
// continuous reception, then DRX until ~10 s; 3G: DCH, then FACH); only then does it idle.
// A test runs this file in Node against the Python model, timeline by timeline.
//
// events: [{t: seconds, up: bytes sent, down: bytes received}, ...] in time order.
// profile: {kind: "lte" | "3g", parameters: {promotion_s: 0.26, ...}}.

const cycleW = (wakeS, wakeW, periodS, restW) => (wakeS * wakeW + (periodS - wakeS) * restW) / periodS;

/** Each state's average power (W); in DRX and idle, the average over one wake-up cycle. */
export function statePowers(profile) {
  const p = profile.parameters;
  if (profile.kind === "lte") {
    return {
      idle: cycleW(p.idle_ping_s, p.idle_ping_w, p.idle_ping_period_s, p.idle_w),
      promotion: p.promotion_w,
      continuous: p.continuous_w,
      tail: p.continuous_w,
      short_drx: cycleW(p.drx_ping_s, p.short_drx_ping_w, p.short_drx_period_s, p.tail_w),
      long_drx: cycleW(p.drx_ping_s, p.long_drx_ping_w, p.long_drx_period_s, p.tail_w),
    };
  }
  return {
    idle: p.idle_w,
    promotion: p.idle_dch_promotion_w,
    dch: p.dch_w,
    fach: p.fach_w,
    fach_promotion: p.fach_dch_promotion_w,
  };
}

function lteSpans(events, p, endS) {
  const out = [];
  const add = (start, end, state) => { if (end > start) out.push({ start, end, state }); };
  const promote = (timer, at) => {
    const start = Math.max(timer, at - p.promotion_s);
    add(timer, start, "idle");
    out.push({ start, end: at, state: "promotion" });
    return at;
  };
  const tail = (timer, last, stop) => {
    add(timer, last, "continuous");
    let start = last;
    for (const [state, length] of [["tail", p.inactivity_s], ["short_drx", p.short_drx_s], ["long_drx", p.long_drx_s]]) {
      const end = Math.min(start + length, stop);
      add(start, end, state);
      start = Math.max(start, end);
    }
    return start;
  };
  let timer = promote(events[0].t - p.promotion_s, events[0].t);
  let last = events[0].t;
  for (const { t } of events.slice(1)) {
    if (t - last > p.inactivity_s) {
      timer = tail(timer, last, t);
      if (timer < t) timer = promote(timer, t);
    }
    last = t;
  }
  timer = tail(timer, last, endS);
  add(timer, endS, "idle");
  return out;
}

function threeGSpans(events, p, endS) {
  const out = [];
  const add = (start, end, state) => { if (end > start) out.push({ start, end, state }); };
  let state = "idle";
  let since = events[0].t - p.idle_dch_promotion_s;
  let until = Infinity;
  let dchQueued = [0, 0], dchLast = [-Infinity, -Infinity];
  let fachQueued = [0, 0], fachLast = [-Infinity, -Infinity];
  const way = (e) => (e.up ? [0, e.up] : [1, e.down]);
  const advance = (now) => {
    while (state !== "idle" && now >= until) {
      add(since, until, state);
      if (state === "dch") {
        [state, since, until] = ["fach", until, until + p.fach_idle_timer_s];
        fachQueued = [0, 0]; fachLast = [-Infinity, -Infinity];
      } else {
        [state, since, until] = ["idle", until, Infinity];
      }
    }
  };
  const promote = (e, lengthS, name) => {
    const start = Math.max(since, e.t - lengthS);
    add(since, start, state);
    out.push({ start, end: e.t, state: name });
    [state, since, until] = ["dch", e.t, e.t + p.dch_fach_timer_s];
    const [w, size] = way(e);
    dchQueued = w === 0 ? [size, 0] : [0, size];
    dchLast = w === 0 ? [e.t, -Infinity] : [-Infinity, e.t];
  };
  const dchRestarts = (e) => {  // ARO's DchDemotionQueue: only a burst restarts DCH's timer
    const [w, size] = way(e);
    dchQueued[w] = e.t > dchLast[w] + p.dch_reset_window_s ? size : dchQueued[w] + size;
    if (e.t > dchLast[1 - w] + p.dch_reset_window_s) dchQueued[1 - w] = 0;
    dchLast[w] = e.t;
    return Math.max(...dchQueued) >= p.dch_reset_bytes;
  };
  const fachOverflows = (e) => {  // ARO's FachQueue: RLC buffers that drain over time
    const [w, size] = way(e);
    const name = w === 0 ? "rlc_up_drain" : "rlc_down_drain";
    const q = fachQueued[w];
    const drainS = (q * q * p[`${name}_ms_per_b2`] + q * p[`${name}_ms_per_b`] + p[`${name}_ms`]) / 1000;
    fachQueued[w] = (e.t - fachLast[w] > drainS ? 0 : q) + size;
    fachLast[w] = e.t;
    return fachQueued[0] > p.fach_up_limit_bytes || fachQueued[1] > p.fach_down_limit_bytes;
  };
  for (const e of events) {
    advance(e.t);
    if (state === "idle") promote(e, p.idle_dch_promotion_s, "promotion");
    else if (state === "dch") { if (dchRestarts(e)) until = e.t + p.dch_fach_timer_s; }
    else if (fachOverflows(e)) promote(e, p.fach_dch_promotion_s, "fach_promotion");
    else until = e.t + p.fach_idle_timer_s;
  }
  advance(endS);
  add(since, endS, state);
  return out;
}

/** The radio's states from the first write's promotion until endS (writes after it ignored). */
export function radioSpans(events, profile, endS) {
  const kept = events.filter((e) => e.t <= endS);
  if (kept.length === 0) return [{ start: endS, end: endS, state: "idle" }];
  return profile.kind === "lte" ? lteSpans(kept, profile.parameters, endS) : threeGSpans(kept, profile.parameters, endS);
}

/** Energy (J), time awake (s) and promotions over [startS, endS), bytes' LTE term included. */
export function radioUse(events, profile, startS, endS) {
  const power = statePowers(profile);
  const spans = radioSpans(events, profile, endS);
  if (startS < spans[0].start) spans.unshift({ start: startS, end: spans[0].start, state: "idle" });
  let energyJ = 0, awakeS = 0, promotions = 0;
  for (const span of spans) {
    if (span.state.endsWith("promotion") && span.end >= startS && span.end < endS) promotions += 1;
    const length = Math.min(span.end, endS) - Math.max(span.start, startS);
    if (length > 0) {
      energyJ += length * power[span.state];
      if (span.state !== "idle") awakeS += length;
    }
  }
  if (profile.kind === "lte") {
    const p = profile.parameters;
    for (const e of events) {
      if (e.t >= startS && e.t < endS) {
        energyJ += (p.alpha_up_mw_per_mbps * e.up * 8 + p.alpha_down_mw_per_mbps * e.down * 8) * 1e-9;
      }
    }
  }
  return { energyJ, awakeS, promotions, durationS: endS - startS };
}

/** The gauge now: the radio's state and power (mW) at nowS, and whether it is awake. */
export function radioNow(events, profile, nowS) {
  const spans = radioSpans(events, profile, nowS);
  const last = spans[spans.length - 1];
  const state = last.end >= nowS ? last.state : "idle";
  return { state, powerMw: statePowers(profile)[state] * 1000, awake: state !== "idle" };
}

/** What a panel's gauge shows: awake or idle, mW now, and mJ per message since sinceS
 *  (everything the radio spent, heartbeats included, over the messages received; null if none). */
export function radioGauge(events, profile, nowS, sinceS, messages) {
  const now = radioNow(events, profile, nowS);
  const use = nowS > sinceS ? radioUse(events, profile, sinceS, nowS) : { energyJ: 0 };
  return { ...now, mJPerMessage: messages > 0 ? (use.energyJ * 1000) / messages : null };
}
