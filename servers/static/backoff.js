// Capped exponential backoff with jitter: how long a client waits before reconnecting.
// Waiting first_ms · 2^attempt (at most MAX_RETRY_MS) lets a long outage cost few requests;
// drawing half of each wait at random spreads a classroom of clients out, so a restarted server
// is not hit by all of them at the same instant ("equal jitter", the same rule as the terminal
// clients' pushlab.clients.reconnect). A connection that works again resets the count.

export const FIRST_RETRY_MS = 500;
export const MAX_RETRY_MS = 10000;

export class Backoff {
  constructor() {
    this.attempt = 0;
  }

  /** The wait before the next attempt, in ms; each call counts one more attempt. */
  nextDelayMs() {
    const ceilingMs = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.attempt);
    this.attempt += 1;
    return ceilingMs / 2 + (Math.random() * ceilingMs) / 2;
  }

  /** True when the last attempt had failed (the next success is a resume worth saying). */
  get broken() {
    return this.attempt > 0;
  }

  reset() {
    this.attempt = 0;
  }
}
