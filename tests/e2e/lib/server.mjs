// End-to-end harness: the real isac binary on a free loopback port with a fresh data dir,
// HTTP only, stopped by PID.
//
//   const srv = await startServer();        // init + coordinator org + admin user + serve
//   const r = await srv.api('GET', '/api/v1/me', { token: srv.adminToken });
//   await srv.stop();                        // SIGTERM, asserts exit code 0, no sanitizer report
//   await srv.cleanup();                     // stop if running, remove the data dir
//
// ISAC_BIN selects the binary (default <repo>/build/isac; `make test` sets the ASan build).
// Every spawned process is tracked and killed by PID if the test process exits early.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const ISAC_BIN = resolve(REPO, process.env.ISAC_BIN || 'build/isac');

export const ADMIN_LOGIN = 'admin';
export const ADMIN_PASSWORD = 'admin-password-0123';
export const PROBLEM_CT = 'application/problem+json';
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const START_TIMEOUT_MS = 20000;
const STOP_TIMEOUT_MS = 15000;
const REQUEST_TIMEOUT_MS = 15000;
const SANITIZER_RE = /AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:/;

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});

let seq = 0;
/** A short string unique within this test process (for logins, names). */
export function uniq(prefix = 'x') {
  seq += 1;
  return `${prefix}${process.pid.toString(36)}${seq.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A free loopback TCP port (released right before use; startServer retries on a clash). */
export function freePort() {
  return new Promise((resolveP, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolveP(port));
    });
  });
}

/**
 * Runs the isac CLI. Resolves {code, signal, stdout, stderr}; never rejects on a non-zero exit.
 * `input` is written to stdin (then closed).
 */
export function runCli(args, { input, env } = {}) {
  return new Promise((resolveP, reject) => {
    const child = spawn(ISAC_BIN, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    child.on('error', (e) => { live.delete(child); reject(e); });
    child.on('close', (code, signal) => { live.delete(child); resolveP({ code, signal, stdout, stderr }); });
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/** Runs the CLI and returns trimmed stdout, throwing with stderr on failure. */
export async function cli(args, opts) {
  const r = await runCli(args, opts);
  if (r.code !== 0) {
    throw new Error(`isac ${args.join(' ')} exited ${r.code ?? r.signal}: ${r.stderr.trim()}`);
  }
  if (SANITIZER_RE.test(r.stderr)) throw new Error(`isac ${args.join(' ')}: sanitizer report:\n${r.stderr}`);
  return r.stdout.trim();
}

/** Parses one Set-Cookie header value into {name, value, attrs: Map(lower-name → value|true)}. */
export function parseSetCookie(header) {
  const [pair, ...rest] = header.split(';');
  const eq = pair.indexOf('=');
  const attrs = new Map();
  for (const a of rest) {
    const i = a.indexOf('=');
    if (i < 0) attrs.set(a.trim().toLowerCase(), true);
    else attrs.set(a.slice(0, i).trim().toLowerCase(), a.slice(i + 1).trim());
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attrs };
}

export class IsacServer {
  constructor(dataDir) {
    this.dataDir = dataDir;
    this.child = null;
    this.port = 0;
    this.stderr = '';
    this.stdout = '';
    this.exit = null;        // {code, signal} of the last serve process
    this.adminToken = null;  // bearer token of the bootstrap admin (made with `isac token create`)
    this.coordOrgId = null;
    this.adminUserId = null;
    this.configPath = null;  // a config file passed to `isac serve --config` (startServer opts.config)
  }

  get base() { return `http://127.0.0.1:${this.port}`; }

  /** Spawns `isac serve` on a fresh free port and waits until /healthz answers 200. */
  async serve() {
    let lastErr;
    for (let attempt = 0; attempt < 3; attempt++) {
      this.port = await freePort();
      try {
        await this.#spawnServe();
        return this;
      } catch (e) {
        lastErr = e;
        if (this.child) await this.kill9();
      }
    }
    throw lastErr;
  }

  async #spawnServe() {
    this.termSent = false;
    this.stderr = '';
    this.stdout = '';
    this.exit = null;
    const args = ['serve', '--data', this.dataDir, '--listen', `127.0.0.1:${this.port}`];
    if (this.configPath) args.push('--config', this.configPath);
    const child = spawn(ISAC_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    live.add(child);
    child.stdout.setEncoding('utf8').on('data', (d) => { this.stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { this.stderr += d; });
    this.exited = new Promise((r) => {
      child.on('exit', (code, signal) => { live.delete(child); this.exit = { code, signal }; r(this.exit); });
      child.on('error', (e) => { live.delete(child); this.exit = { code: null, signal: null, error: e }; r(this.exit); });
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exit) {
        throw new Error(`isac serve exited early (${JSON.stringify(this.exit)}): ${this.stderr.trim()}`);
      }
      try {
        const r = await fetch(`${this.base}/healthz`, { signal: AbortSignal.timeout(1000) });
        await r.arrayBuffer();
        if (r.status === 200) return;
      } catch { /* not up yet */ }
      await sleep(50);
    }
    throw new Error(`isac serve did not answer /healthz within ${START_TIMEOUT_MS} ms: ${this.stderr.trim()}`);
  }

  get running() { return this.child !== null && this.exit === null; }
  get pid() { return this.child?.pid; }

  /**
   * Sends SIGTERM to the server's PID and waits for it to exit. Throws unless it exits with
   * code 0 and printed no sanitizer report. Returns {code, signal}.
   */
  async stop() {
    if (!this.child) return this.exit;
    if (this.exit === null && !this.termSent) this.terminate();
    let timer;
    const ex = await Promise.race([this.exited, new Promise((r) => { timer = setTimeout(() => r(null), STOP_TIMEOUT_MS); })]);
    clearTimeout(timer);
    if (ex === null) {
      await this.kill9();
      throw new Error(`isac serve did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM`);
    }
    this.child = null;
    this.assertNoSanitizerReport();
    if (ex.code !== 0) {
      throw new Error(`isac serve exited with ${JSON.stringify(ex)} after SIGTERM (want code 0): ${this.stderrTail()}`);
    }
    return ex;
  }

  /** Sends SIGTERM to the server's PID without waiting (stop() then only waits). */
  terminate() {
    this.termSent = true;
    process.kill(this.child.pid, 'SIGTERM');
  }

  /** SIGKILL by PID; waits for the exit. */
  async kill9() {
    if (!this.child) return this.exit;
    if (this.exit === null) {
      try { process.kill(this.child.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    const ex = await this.exited;
    this.child = null;
    return ex;
  }

  /** Stops the server if running (asserting a clean exit) and removes the data dir. */
  async cleanup() {
    try {
      if (this.running) await this.stop();
    } finally {
      if (this.child) await this.kill9();
      if (!process.env.ISAC_E2E_KEEP) await rm(this.dataDir, { recursive: true, force: true });
    }
  }

  assertNoSanitizerReport() {
    if (SANITIZER_RE.test(this.stderr)) throw new Error(`sanitizer report on server stderr:\n${this.stderrTail(4000)}`);
  }

  stderrTail(n = 1500) { return this.stderr.slice(-n); }

  /** Parsed JSON lines of the access log (stderr); non-JSON lines are skipped. */
  logLines() {
    const out = [];
    for (const line of this.stderr.split('\n')) {
      const t = line.trim();
      if (!t.startsWith('{')) continue;
      try { out.push(JSON.parse(t)); } catch { /* partial or foreign line */ }
    }
    return out;
  }

  /** Runs an isac CLI subcommand against this data dir: cliData('org', 'add', ...). */
  cliData(sub, verb, args = [], opts) {
    return cli([sub, verb, '--data', this.dataDir, ...args], opts);
  }

  /**
   * One HTTP request. opts: body (object → JSON; string/Buffer sent raw), contentType,
   * token (bearer), session ({cookie, csrf}; csrf sent on writes unless csrf:false),
   * headers. Resolves {status, headers, text, json, contentType}.
   */
  async api(method, path, opts = {}) {
    const headers = { ...(opts.headers || {}) };
    let body;
    if (opts.body !== undefined) {
      if (typeof opts.body === 'string' || Buffer.isBuffer(opts.body) || opts.body instanceof Uint8Array) {
        body = opts.body;
      } else {
        body = JSON.stringify(opts.body);
      }
      if (opts.contentType !== null) headers['content-type'] = opts.contentType || 'application/json';
    }
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.session) {
      headers.cookie = `isac_session=${opts.session.cookie}`;
      const write = !['GET', 'HEAD', 'OPTIONS'].includes(method);
      if (write && opts.csrf !== false) headers['x-csrf-token'] = opts.csrfValue ?? opts.session.csrf;
    }
    const res = await fetch(this.base + path, {
      method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(opts.timeout ?? REQUEST_TIMEOUT_MS),
    });
    const buf = Buffer.from(await res.arrayBuffer());
    const text = buf.toString('utf8');
    const contentType = res.headers.get('content-type') || '';
    let parsed;
    if (/json/.test(contentType) && text.length) {
      try { parsed = JSON.parse(text); } catch { parsed = undefined; }
    }
    return { status: res.status, headers: res.headers, text, raw: buf, json: parsed, contentType };
  }

  /** Shorthands with the admin bearer token. */
  admin(method, path, body, extra = {}) {
    return this.api(method, path, { token: this.adminToken, body, ...extra });
  }

  /** POST /api/v1/session; resolves {status, res, session: {cookie, csrf, setCookie}}. */
  async login(login, password) {
    const res = await this.api('POST', '/api/v1/session', { body: { login, password } });
    let session = null;
    if (res.status === 201) {
      const sc = (res.headers.getSetCookie?.() || []).map(parseSetCookie).find((c) => c.name === 'isac_session');
      if (!sc) throw new Error(`login ${login}: 201 without an isac_session cookie`);
      session = { cookie: sc.value, csrf: res.json?.csrf_token, setCookie: sc };
    }
    return { status: res.status, res, session };
  }

  /** Logs in and throws unless 201. */
  async mustLogin(login, password) {
    const r = await this.login(login, password);
    if (r.status !== 201) throw new Error(`login ${login}: ${r.status} ${r.res.text}`);
    return r.session;
  }

  /** Creates an org via the API as admin; throws unless 201. */
  async createOrg(fields = {}) {
    const body = {
      name: { en: uniq('Org ') }, kind: 'operator', sectors: ['electricity'], tier: 'general', ...fields,
    };
    const r = await this.admin('POST', '/api/v1/orgs', body);
    if (r.status !== 201) throw new Error(`create org: ${r.status} ${r.text}`);
    return r.json;
  }

  /** Creates a user via the API (as admin unless opts.auth given); throws unless 201. Returns {..user, password}. */
  async createUser(fields = {}, auth = { token: this.adminToken }) {
    const body = {
      login: uniq('u'), display_name: 'Test User', org_id: this.coordOrgId, roles: ['member'],
      password: 'correct-horse-battery', ...fields,
    };
    const r = await this.api('POST', '/api/v1/users', { ...auth, body });
    if (r.status !== 201) throw new Error(`create user: ${r.status} ${r.text}`);
    return { ...r.json, password: body.password };
  }

  /** Creates a token via the API; throws unless 201. Returns the create response (with .token). */
  async createToken(fields = {}, auth = { token: this.adminToken }) {
    const r = await this.api('POST', '/api/v1/tokens', { ...auth, body: { name: uniq('tok'), ...fields } });
    if (r.status !== 201) throw new Error(`create token: ${r.status} ${r.text}`);
    return r.json;
  }

  /** A user plus a bearer token for it (admin creates both). */
  async userWithToken(fields = {}) {
    const user = await this.createUser(fields);
    const tok = await this.createToken({ user_id: user.id });
    return { user, token: tok.token, tokenId: tok.id };
  }

  /** Follows next_cursor to the end; returns all items. Throws on a non-200 page or a loop. */
  async listAll(path, auth = { token: this.adminToken }, limit = 200) {
    const items = [];
    let cursor = null;
    for (let page = 0; page < 1000; page++) {
      const sep = path.includes('?') ? '&' : '?';
      const url = `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const r = await this.api('GET', url, auth);
      if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${r.text}`);
      items.push(...r.json.items);
      cursor = r.json.next_cursor;
      if (cursor === null) return items;
    }
    throw new Error(`GET ${path}: pagination did not end`);
  }
}

/**
 * Fresh data dir: `isac init`, a coordinator org and an admin user via the CLI, an admin bearer
 * token via `isac token create`, then `isac serve`. opts.serve=false skips serving.
 * opts.config = {key: value} writes a config file of `key = value` lines into the data dir and
 * serves with `--config` (e.g. {stream_heartbeat_s: 1, webhook_allow_http: true}).
 */
export async function startServer(opts = {}) {
  if (!existsSync(ISAC_BIN)) {
    throw new Error(`isac binary not found at ${ISAC_BIN}: build it (ninja -C build) or set ISAC_BIN`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'isac-e2e-'));
  const srv = new IsacServer(dir);
  try {
    await cli(['init', '--data', dir]);
    srv.coordOrgId = await srv.cliData('org', 'add',
      ['--name', 'National Coordination Center', '--name-ja', '国家調整センター', '--kind', 'coordinator', '--tier', 'class1']);
    if (!UUID_RE.test(srv.coordOrgId)) throw new Error(`isac org add printed ${JSON.stringify(srv.coordOrgId)}, want an id`);
    srv.adminUserId = await srv.cliData('user', 'add',
      ['--org', srv.coordOrgId, '--login', ADMIN_LOGIN, '--role', 'admin', '--name', 'Administrator', '--locale', 'en'],
      { input: `${ADMIN_PASSWORD}\n` });
    if (!UUID_RE.test(srv.adminUserId)) throw new Error(`isac user add printed ${JSON.stringify(srv.adminUserId)}, want an id`);
    srv.adminToken = await srv.cliData('token', 'create', ['--user', ADMIN_LOGIN, '--name', 'e2e-admin']);
    if (!/^isac_\S+$/.test(srv.adminToken)) throw new Error(`isac token create printed ${JSON.stringify(srv.adminToken)}`);
    if (opts.config) {
      srv.configPath = join(dir, 'isac.conf');
      await writeFile(srv.configPath, Object.entries(opts.config).map(([k, v]) => `${k} = ${v}\n`).join(''));
    }
    if (opts.serve !== false) await srv.serve();
  } catch (e) {
    await srv.cleanup().catch(() => {});
    throw e;
  }
  return srv;
}

/**
 * Raw HTTP/1.1 request over a plain socket, for bodies fetch cannot send or responses it would
 * hide: the server may answer (e.g. 413) and close before reading the whole body, so write
 * errors after that are ignored. `chunks` sends the body with Transfer-Encoding: chunked.
 * Resolves {status, headers, text, json} of the first response; rejects if none arrives.
 */
export async function rawRequest(port, { method = 'POST', path, headers = {}, body = '', chunks }) {
  const sock = await openSocket(port);
  const got = [];
  let sockErr = null;
  let closed = false;
  sock.on('data', (d) => got.push(d));
  sock.on('error', (e) => { sockErr = e; });
  const done = new Promise((r) => sock.on('close', () => { closed = true; r(); }));
  const first = () => parseHttpResponses(Buffer.concat(got))[0];
  const hdrs = { host: `127.0.0.1:${port}`, connection: 'close', ...headers };
  if (chunks) hdrs['transfer-encoding'] = 'chunked';
  else if (hdrs['content-length'] === undefined) hdrs['content-length'] = String(Buffer.byteLength(body));
  const head = `${method} ${path} HTTP/1.1\r\n${Object.entries(hdrs).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  const parts = chunks
    ? [...chunks.map((c) => Buffer.concat([Buffer.from(`${Buffer.byteLength(c).toString(16)}\r\n`), Buffer.from(c), Buffer.from('\r\n')])), Buffer.from('0\r\n\r\n')]
    : [];
  if (!chunks) {
    const b = Buffer.from(body);
    for (let i = 0; i < b.length; i += 16 * 1024) parts.push(b.subarray(i, i + 16 * 1024));
  }
  const write = (buf) => new Promise((r) => {
    if (closed || sockErr || sock.destroyed) return r(false);
    sock.write(buf, (err) => r(!err));
  });
  // Yield between writes so a response sent early (e.g. 413 on Content-Length alone) is read
  // before a reset from the server's close could discard it.
  await write(Buffer.from(head));
  await sleep(50);
  for (const p of parts) {
    if (got.length || !(await write(p))) break;
    await sleep(2);
  }
  let timer;
  await Promise.race([done, new Promise((r) => { timer = setTimeout(r, REQUEST_TIMEOUT_MS); })]);
  clearTimeout(timer);
  sock.destroy();
  const res = first();
  if (!res) throw new Error(`no HTTP response (${sockErr ? sockErr.code : 'connection closed'}); got ${Buffer.concat(got).length} bytes`);
  let parsed;
  try { parsed = JSON.parse(res.body); } catch { parsed = undefined; }
  return { status: res.status, headers: res.headers, text: res.body, json: parsed };
}

/** Opens a plain TCP connection to the server (for in-flight request tests). */
export function openSocket(port) {
  return new Promise((resolveP, reject) => {
    const s = connect(port, '127.0.0.1', () => resolveP(s));
    s.on('error', reject);
  });
}

/**
 * Asserts an RFC 9457 problem: status, Content-Type application/problem+json, type
 * urn:isac:problem:<slug>, and (for validation-like errors) that errors[] names each field.
 */
export function assertProblem(res, status, slug, fields = []) {
  const ctx = `want ${status} ${slug}${fields.length ? ` [${fields}]` : ''}, got ${res.status} ${res.contentType}: ${res.text.slice(0, 600)}`;
  assert.equal(res.status, status, ctx);
  assert.match(res.contentType, /^application\/problem\+json\s*(;|$)/, ctx);
  assert.ok(res.json && typeof res.json === 'object', ctx);
  assert.equal(res.json.type, `urn:isac:problem:${slug}`, ctx);
  assert.equal(res.json.status, status, ctx);
  assert.equal(typeof res.json.title, 'string', ctx);
  for (const f of fields) {
    assert.ok(Array.isArray(res.json.errors) && res.json.errors.some((e) => e.field === f),
      `errors[] does not name field ${JSON.stringify(f)}: ${JSON.stringify(res.json.errors)} (${ctx})`);
  }
  return res.json;
}

/**
 * Parses consecutive HTTP/1.x responses from raw bytes (Content-Length or chunked bodies).
 * Returns [{status, headers, body}] for the complete ones.
 */
export function parseHttpResponses(buf) {
  const out = [];
  let off = 0;
  while (off < buf.length) {
    const headEnd = buf.indexOf('\r\n\r\n', off);
    if (headEnd < 0) break;
    const lines = buf.subarray(off, headEnd).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!m) break;
    const headers = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    let p = headEnd + 4;
    let body;
    if (/chunked/i.test(headers['transfer-encoding'] || '')) {
      const parts = [];
      for (;;) {
        const le = buf.indexOf('\r\n', p);
        if (le < 0) return out;
        const n = parseInt(buf.subarray(p, le).toString('latin1'), 16);
        if (Number.isNaN(n)) return out;
        if (n === 0) { const te = buf.indexOf('\r\n\r\n', le - 2); if (te < 0) return out; p = te + 4; break; }
        if (le + 2 + n + 2 > buf.length) return out;
        parts.push(buf.subarray(le + 2, le + 2 + n));
        p = le + 2 + n + 2;
      }
      body = Buffer.concat(parts);
    } else {
      const n = parseInt(headers['content-length'] || '0', 10);
      if (p + n > buf.length) return out;
      body = buf.subarray(p, p + n);
      p += n;
    }
    out.push({ status: Number(m[1]), headers, body: body.toString('utf8') });
    off = p;
  }
  return out;
}
