// How long the page waits before it reconnects: the one reconnect policy of pushlab
// (pushlab/reconnect_policy.py, which says why), with the numbers /api/config serves in its
// "reconnect" entry, so the page waits exactly as the terminal clients and the bench's Locust
// users do. Capped exponential backoff with full jitter: before attempt n, a random wait under
// min(cap, first wait · 2^n). The draw comes after the cap, so that a class of pages cut
// together stays spread even once all of them have reached the cap.
// A connection that works again resets the count.

const MAX_DOUBLINGS = 64; // past this every ceiling is the cap (as in reconnect_policy.py)

export class Backoff {
  /** policy: /api/config's "reconnect", {first_wait_s, cap_s, jitter: "full"}; jitter "none"
   * (the whole ceiling) only in the bench's reconnect storm, to show what jitter buys. */
  constructor(policy) {
    const { first_wait_s: firstS, cap_s: capS, jitter } = policy ?? {};
    if (!(firstS > 0 && capS >= firstS && (jitter === "full" || jitter === "none"))) {
      throw new Error(`unknown reconnect policy in /api/config: ${JSON.stringify(policy)}`);
    }
    this.firstWaitMs = firstS * 1000;
    this.capMs = capS * 1000;
    this.jitter = jitter === "full";
    this.attempt = 0;
  }

  /** The longest wait before attempt `attempt` (0, 1, 2, ...): doubling, then capped. */
  ceilingMs(attempt) {
    return Math.min(this.capMs, this.firstWaitMs * 2 ** Math.min(attempt, MAX_DOUBLINGS));
  }

  /** The wait before the next attempt, in ms; each call counts one more attempt. */
  nextDelayMs() {
    const ceilingMs = this.ceilingMs(this.attempt);
    this.attempt += 1;
    return this.jitter ? Math.random() * ceilingMs : ceilingMs;
  }

  /** True when the last attempt had failed (the next success is a resume worth saying). */
  get broken() {
    return this.attempt > 0;
  }

  reset() {
    this.attempt = 0;
  }
}
