// Event streams outside libmicrohttpd (src/http/http_stream.c): over plain HTTP an accepted
// stream's socket is taken over; these tests hold it to HTTP: the response head carries the
// security headers and delimits the body by closing; `stream_limit` streams at most (503 past
// it, counted down again as soon as a client leaves or the server ends a stream); a client
// that sends bytes after its request is dropped; the server stops cleanly with streams open.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, assertProblem, sleep } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';

const LIMIT = 3;
let srv;
let member;
const open = new Set();

before(async () => {
  srv = await startServer({ config: { stream_limit: LIMIT, stream_heartbeat_s: 1 } });
  member = await srv.userWithToken({ org_id: srv.coordOrgId, roles: ['member'] });
});
after(async () => {
  for (const s of open) await s.close();
  await srv?.cleanup();
});

async function stream(opts = { token: member.token }) {
  const s = await openStream(srv, opts);
  open.add(s);
  return s;
}

/** GET /api/v1/stream as raw bytes: resolves the text received within ms (or until the server closes). */
function rawStream(ms, { send = '' } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(srv.port, '127.0.0.1');
    let text = '';
    let closed = false;
    sock.setEncoding('latin1');
    sock.on('data', (d) => { text += d; });
    sock.on('error', () => { closed = true; });
    sock.on('close', () => { closed = true; resolve({ text, closed }); });
    sock.on('connect', () => {
      sock.write(`GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${member.token}\r\n` +
        'Accept: text/event-stream\r\n\r\n');
      if (send) setTimeout(() => sock.write(send), 300);
    });
    setTimeout(() => { if (!closed) { sock.destroy(); resolve({ text, closed: false }); } }, ms);
    sock.on('timeout', reject);
  });
}

test('the response head: 200, event-stream, security headers, body delimited by the close', async () => {
  const r = await rawStream(1500);
  const head = r.text.slice(0, r.text.indexOf('\r\n\r\n'));
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(head, /\r\nContent-Type: text\/event-stream; charset=utf-8\r\n/i);
  assert.match(head, /\r\nCache-Control: no-store\r\n/i);
  assert.match(head, /\r\nConnection: close\r\n/i);
  assert.match(head, /\r\nDate: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\r\n/);
  assert.match(head, /\r\nContent-Security-Policy: default-src 'none'/i);
  assert.match(head, /\r\nX-Content-Type-Options: nosniff\r\n/i);
  assert.doesNotMatch(head, /Transfer-Encoding|Content-Length/i);
  const body = r.text.slice(head.length + 4);
  assert.match(body, /^retry: 3000\n: isac event stream\n\n/);
  assert.match(body, /: hb\n\n/, 'a heartbeat within 1.5 s (stream_heartbeat_s = 1)');
  assert.equal(r.closed, false, 'the stream stays open');
});

test(`stream_limit: ${LIMIT} streams, the next is 503; a client leaving frees its place at once`, async () => {
  const s = [];
  for (let i = 0; i < LIMIT; i++) {
    s.push(await stream());
    assert.equal(s[i].status, 200, s[i].body);
  }
  const over = await stream();
  assertProblem({ status: over.status, contentType: over.headers['content-type'] || '', text: over.body,
    json: JSON.parse(over.body) }, 503, 'unavailable');
  assert.match(over.body, /too many event streams/);
  await s[0].close();
  let again;
  for (let i = 0; i < 50; i++) {
    again = await stream();
    if (again.status === 200) break;
    await sleep(50);
  }
  assert.equal(again.status, 200, `a place is free again after a client left: ${again.status} ${again.body}`);
  // the others still deliver
  await s[1].waitUntil(() => s[1].comments.filter((c) => c.text === 'hb').length >= 1, 5000, 'a heartbeat');
  for (const x of [...open]) await x.close();
  open.clear();
});

test('a client that sends bytes after its request is dropped, and its place freed', async () => {
  const r = await rawStream(5000, { send: 'GET /api/v1/me HTTP/1.1\r\nHost: x\r\n\r\n' });
  assert.equal(r.closed, true, 'the server closed the stream');
  assert.doesNotMatch(r.text, /"login"/, 'the pipelined request was not answered');
  const s = [];
  for (let i = 0; i < LIMIT; i++) {
    let x;
    for (let k = 0; k < 50; k++) {
      x = await stream();
      if (x.status === 200) break;
      await sleep(50);
    }
    assert.equal(x.status, 200, `stream ${i + 1} of ${LIMIT}: ${x.status} ${x.body}`);
    s.push(x);
  }
  for (const x of [...open]) await x.close();
  open.clear();
});

test('the server stops cleanly (SIGTERM) with streams open, ending them', async () => {
  const s = [await stream(), await stream()];
  for (const x of s) assert.equal(x.status, 200);
  await srv.stop();
  for (const x of s) await x.waitUntil(() => x.ended, 5000, 'the end of the stream');
});
