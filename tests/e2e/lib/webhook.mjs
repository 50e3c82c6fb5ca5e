// A real webhook receiver (node:http on a free loopback port) for the delivery tests (issue 5).
//
//   const rx = await startReceiver();                    // rx.url('/a') → http://127.0.0.1:PORT/a
//   rx.respond('/flaky', [500, 500, 200]);               // answers per path, in order (last repeats)
//   rx.delay('/slow', 2000);                             // answers that path only after 2 s
//   const hits = await rx.waitFor((h) => h.path === '/a', 1);
//   verifySignature(secret, hits[0])                      // true when X-Isac-Signature is right
//   await rx.close();
//
// Every request is recorded: {path, method, headers (lower case), body (string), json, at (ms),
// status (what it was answered)}. Paths answer 200 unless told otherwise; respond() also takes a
// function (hit, n) → status, n counting that path's requests from 1. A 3xx answer carries
// `Location: <path>/redirected` (a receiver must not be able to send deliveries elsewhere).
import http from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';

export class Receiver {
  constructor() {
    this.hits = [];
    this.plans = new Map();
    this.delays = new Map();
    this.counts = new Map();
    this.waiters = new Set();
    this.server = null;
    this.port = 0;
  }

  url(path = '/') { return `http://127.0.0.1:${this.port}${path}`; }

  /** What `path` answers: an array of statuses (the last repeats) or fn(hit, n) → status. */
  respond(path, plan) { this.plans.set(path, plan); }

  statusFor(hit) {
    const n = (this.counts.get(hit.path) || 0) + 1;
    this.counts.set(hit.path, n);
    const plan = this.plans.get(hit.path);
    if (!plan) return 200;
    if (typeof plan === 'function') return plan(hit, n);
    return plan[Math.min(n, plan.length) - 1];
  }

  /** Answer requests to `path` only after ms milliseconds (a slow receiver). */
  delay(path, ms) { this.delays.set(path, ms); }

  /** The hits of one path (in arrival order). */
  of(path) { return this.hits.filter((h) => h.path === path); }

  /** Resolves the hits matching pred once there are at least n of them (rejects after timeoutMs). */
  waitFor(pred, n = 1, timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      let timer;
      const check = () => {
        const got = this.hits.filter(pred);
        if (got.length >= n) { clearTimeout(timer); this.waiters.delete(check); resolve(got); }
      };
      timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`webhook receiver: ${this.hits.filter(pred).length} of ${n} wanted requests within ${timeoutMs} ms; ` +
          `got ${JSON.stringify(this.hits.map((h) => `${h.path}:${h.status}`))}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  close() {
    return new Promise((r) => {
      this.server.closeAllConnections?.();
      this.server.close(() => r());
    });
  }
}

/** Starts a receiver on a free loopback port. */
export function startReceiver() {
  const rx = new Receiver();
  rx.server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json;
      try { json = JSON.parse(body); } catch { json = undefined; }
      const hit = { path: req.url, method: req.method, headers: { ...req.headers }, body, json, at: Date.now() };
      hit.status = rx.statusFor(hit);
      rx.hits.push(hit);
      for (const w of [...rx.waiters]) w();
      const answer = () => {
        if (res.destroyed) return;
        const headers = { 'content-type': 'text/plain' };
        if (hit.status >= 300 && hit.status < 400) headers.location = rx.url(`${hit.path}/redirected`);
        res.writeHead(hit.status, headers);
        res.end(hit.status < 300 ? 'ok' : 'try again');
      };
      const ms = rx.delays.get(hit.path);
      if (ms) setTimeout(answer, ms).unref();
      else answer();
    });
  });
  return new Promise((resolve, reject) => {
    rx.server.on('error', reject);
    rx.server.listen(0, '127.0.0.1', () => {
      rx.port = rx.server.address().port;
      resolve(rx);
    });
  });
}

/** HMAC-SHA256(secret, timestamp + "." + body) as lower-case hex. */
export function sign(secret, timestamp, body) {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * Whether a hit carries a right X-Isac-Signature for secret (the string returned at creation,
 * used as the key as is).
 */
export function verifySignature(secret, hit) {
  const ts = hit.headers['x-isac-timestamp'];
  const sig = hit.headers['x-isac-signature'] || '';
  if (!ts || !sig.startsWith('sha256=')) return false;
  const want = Buffer.from(sign(secret, ts, hit.body), 'hex');
  const got = Buffer.from(sig.slice(7), 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}
