// A small server-sent-events client over node:http, for GET /api/v1/stream (issue 5).
//
//   const s = await openStream(srv, { token, lastEventId: '12' });   // resolves once the head is in
//   const ev = await s.waitFor((e) => e.data.includes(title));       // {id, event, data, json, at}
//   s.events / s.comments / s.status / s.headers / s.body (non-200)
//   await s.close();
//
// It parses the wire format itself (https://html.spec.whatwg.org/#event-stream-interpretation):
// lines end in CRLF, LF or CR; a line starting with ':' is a comment (heartbeats `: hb`);
// `field: value` (one leading space dropped) for id, event, data (several data lines join with
// LF), retry; a blank line dispatches the event (none when no data line was seen); the id is
// remembered across events like a browser's last event ID. No reconnection: tests reconnect
// themselves with lastEventId to check resumption.
import http from 'node:http';
import { sleep } from './server.mjs';

const OPEN_TIMEOUT_MS = 15000;

export class SseStream {
  constructor() {
    this.status = 0;
    this.headers = {};
    this.body = '';          // the whole body of a non-200 answer
    this.events = [];        // dispatched events: {id, event, data, json, at}
    this.comments = [];      // comment lines without the ':' (one leading space dropped): {text, at}
    this.lastEventId = '';
    this.ended = false;      // the server closed the stream
    this.error = null;
    this.req = null;
    this.res = null;
    this.buf = '';
    this.pending = { data: [], event: '', sawData: false };
    this.waiters = new Set();
  }

  /** Parses a chunk of the body. */
  feed(text) {
    this.buf += text;
    for (;;) {
      const m = /\r\n|\n|\r/.exec(this.buf);
      if (!m) break;
      // A CR at the very end may be the first half of CRLF: wait for the next chunk.
      if (m[0] === '\r' && m.index === this.buf.length - 1) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.line(line);
    }
  }

  line(line) {
    const at = Date.now();
    if (line === '') {
      const p = this.pending;
      this.pending = { data: [], event: '', sawData: false };
      if (!p.sawData) return;
      const data = p.data.join('\n');
      let json;
      try { json = JSON.parse(data); } catch { json = undefined; }
      this.events.push({ id: this.lastEventId, event: p.event || 'message', data, json, at });
      this.wake();
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push({ text: line.slice(1).replace(/^ /, ''), at });
      this.wake();
      return;
    }
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (field === 'data') { this.pending.data.push(value); this.pending.sawData = true; }
    else if (field === 'event') this.pending.event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    // retry and unknown fields are ignored, as a browser would.
  }

  wake() { for (const w of [...this.waiters]) w(); }

  /** Events of type `alert` (what the stream sends for alert versions). */
  get alerts() { return this.events.filter((e) => e.event === 'alert'); }

  /**
   * Resolves the first event matching pred (already received or arriving within timeoutMs);
   * rejects on timeout or when the stream ends first.
   */
  waitFor(pred, timeoutMs = 10000, what = 'an event') {
    return this.waitUntil(() => this.events.find(pred), timeoutMs, what);
  }

  /** Resolves once fn() returns a truthy value (re-checked on every event, comment and end). */
  waitUntil(fn, timeoutMs = 10000, what = 'a condition') {
    return new Promise((resolve, reject) => {
      let timer;
      const check = () => {
        const v = fn();
        if (v) { done(); resolve(v); return; }
        if (this.ended || this.error) {
          done();
          reject(new Error(`stream ended (${this.error?.message || 'closed by the server'}) before ${what}; ` +
            `events ${JSON.stringify(this.events.map((e) => e.id))}`));
        }
      };
      const done = () => { clearTimeout(timer); this.waiters.delete(check); };
      timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} within ${timeoutMs} ms; events ${JSON.stringify(this.events.map((e) => `${e.id}:${e.event}`))}, ` +
          `${this.comments.length} comments`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Hangs up (the client side of a disconnect) and waits for the socket to close. */
  async close() {
    if (!this.req) return;
    const sock = this.req.socket;
    this.req.destroy();
    if (sock && !sock.destroyed) await new Promise((r) => { sock.once('close', r); setTimeout(r, 1000); });
    await sleep(0);
  }
}

/**
 * Opens GET /api/v1/stream (or opts.path) on srv. opts: token (bearer), cookie (session cookie
 * value), lastEventId (sent as the Last-Event-ID header), query (appended as is), headers.
 * Resolves the SseStream once the response head has arrived; a non-200 answer is read to its end
 * (s.body) before resolving.
 */
export function openStream(srv, opts = {}) {
  const s = new SseStream();
  const headers = { accept: 'text/event-stream', 'cache-control': 'no-cache', ...(opts.headers || {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.cookie) headers.cookie = `isac_session=${opts.cookie}`;
  if (opts.lastEventId !== undefined && opts.lastEventId !== null) headers['last-event-id'] = String(opts.lastEventId);
  const path = (opts.path || '/api/v1/stream') + (opts.query ? `?${opts.query}` : '');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { req.destroy(); reject(new Error(`GET ${path}: no response head within ${OPEN_TIMEOUT_MS} ms`)); }, OPEN_TIMEOUT_MS);
    // agent: false: a connection of its own, closed when the stream is.
    const req = http.request({ host: '127.0.0.1', port: srv.port, path, method: 'GET', headers, agent: false }, (res) => {
      clearTimeout(timer);
      s.res = res;
      s.status = res.statusCode;
      s.headers = res.headers;
      res.setEncoding('utf8');
      res.on('error', (e) => { s.error = e; s.wake(); });
      res.on('close', () => { s.ended = true; s.wake(); });
      if (res.statusCode !== 200) {
        res.on('data', (d) => { s.body += d; });
        res.on('end', () => resolve(s));
        return;
      }
      res.on('data', (d) => s.feed(d));
      resolve(s);
    });
    s.req = req;
    req.on('error', (e) => {
      s.error = e;
      s.ended = true;
      s.wake();
      if (!s.res) { clearTimeout(timer); reject(e); }
    });
    req.end();
  });
}
