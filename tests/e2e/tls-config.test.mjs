// TLS and the config file: `isac serve --config FILE` with tls_cert/tls_key speaks HTTPS only,
// marks the session cookie Secure and sends HSTS; a bad config key is refused with its line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import { ISAC_BIN, freePort, cli, runCli, sleep } from './lib/server.mjs';

let dir, port, child, cert, stderr = '';
const PASSWORD = 'tls-password-0123';

function request(method, path, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port, method, path, ca: cert,
      checkServerIdentity: () => undefined, // the test certificate names localhost
      headers: { ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    if (body) req.write(JSON.stringify(body));
    req.end();
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'isac-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-subj', '/CN=localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
  { stdio: 'ignore' });
  cert = readFileSync(join(dir, 'cert.pem'));
  await cli(['init', '--data', join(dir, 'data')]);
  const org = await cli(['org', 'add', '--data', join(dir, 'data'), '--name', 'TLS Center', '--kind', 'coordinator', '--tier', 'class1']);
  await cli(['user', 'add', '--data', join(dir, 'data'), '--org', org, '--login', 'tls', '--role', 'member'], { input: `${PASSWORD}\n` });
  port = await freePort();
  await writeFile(join(dir, 'isac.conf'), [
    '# a comment', `data = ${join(dir, 'data')}`, `listen = 127.0.0.1:${port}`,
    `tls_cert = ${join(dir, 'cert.pem')}`, `tls_key = ${join(dir, 'key.pem')}`,
    'threads = 2   # trailing comment', 'session_ttl = 600', 'stream_heartbeat_s = 1', '',
  ].join('\n'));
  child = spawn(ISAC_BIN, ['serve', '--config', join(dir, 'isac.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.on('data', (d) => { stderr += d; });
  for (let i = 0; i < 100; i++) {
    try { if ((await request('GET', '/healthz')).status === 200) return; } catch { /* not yet */ }
    await sleep(50);
  }
  throw new Error(`isac serve over TLS did not start: ${stderr}`);
});

after(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('exit', (c) => r(c)));
    assert.equal(code, 0, `clean exit after SIGTERM: ${stderr.slice(-2000)}`);
  }
  assert.doesNotMatch(stderr, /AddressSanitizer|runtime error:/);
  await rm(dir, { recursive: true, force: true });
});

test('HTTPS answers, with HSTS; the session cookie is Secure, HttpOnly, SameSite=Strict', async () => {
  const h = await request('GET', '/healthz');
  assert.equal(h.status, 200);
  assert.match(h.headers['strict-transport-security'] || '', /max-age=\d+/);
  const r = await request('POST', '/api/v1/session', { body: { login: 'tls', password: PASSWORD } });
  assert.equal(r.status, 201, r.text);
  const cookie = r.headers['set-cookie'][0];
  assert.match(cookie, /; Secure/);
  assert.match(cookie, /; HttpOnly/);
  assert.match(cookie, /; SameSite=Strict/);
  assert.match(cookie, /Max-Age=600/, 'session_ttl from the config file');
  const me = await request('GET', '/api/v1/me', { headers: { Cookie: cookie.split(';')[0] } });
  assert.equal(me.status, 200);
  assert.equal(JSON.parse(me.text).user.login, 'tls');
});

test('an event stream over TLS stays in libmicrohttpd and keeps delivering (heartbeats)', async () => {
  const r = await request('POST', '/api/v1/session', { body: { login: 'tls', password: PASSWORD } });
  assert.equal(r.status, 201, r.text);
  const cookie = r.headers['set-cookie'][0].split(';')[0];
  let text = '';
  const res = await new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port, method: 'GET', path: '/api/v1/stream', ca: cert,
      checkServerIdentity: () => undefined, headers: { Cookie: cookie, Accept: 'text/event-stream' },
    }, resolve);
    req.on('error', reject);
    req.end();
  });
  try {
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'], /^text\/event-stream/);
    assert.match(res.headers['strict-transport-security'] || '', /max-age=\d+/);
    res.setEncoding('utf8');
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no two heartbeats within 5 s: ${JSON.stringify(text)}`)), 5000);
      res.on('data', (d) => {
        text += d;
        if ((text.match(/^: hb$/gm) || []).length >= 2) { clearTimeout(timer); resolve(); }
      });
    });
    assert.match(text, /^: isac event stream$/m);
  } finally {
    res.destroy();
  }
});

test('plain HTTP on the TLS port gets no HTTP answer', async () => {
  let failed = false;
  try {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) });
    failed = r.status !== 200;
  } catch {
    failed = true;
  }
  assert.ok(failed, 'a plain-text request must not be served');
});

test('a config file with an unknown key or a bad value is refused, naming the line', async () => {
  const bad = join(dir, 'bad.conf');
  await writeFile(bad, `data = ${join(dir, 'data')}\ncolour = blue\nthreads = many\n`);
  const r = await runCli(['serve', '--config', bad]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /invalid config/);
  assert.match(r.stderr, /line 2: colour: unknown key/);
  assert.match(r.stderr, /line 3: threads: must be an integer/);
  const half = join(dir, 'half.conf');
  await writeFile(half, `data = ${join(dir, 'data')}\nlisten = 127.0.0.1:${port + 1}\ntls_cert = ${join(dir, 'cert.pem')}\n`);
  const r2 = await runCli(['serve', '--config', half]);
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /tls_cert/);
});
