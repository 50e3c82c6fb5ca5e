// Starts a throw-away isac daemon for the browser tests: fresh data dir, a coordinator
// org and an admin user made with the CLI, `isac serve` on a free loopback port.
// Self-contained on purpose (does not import from tests/e2e).
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ISAC_BIN = process.env.ISAC_BIN || path.join(REPO, 'build', 'isac');

export const ADMIN = {
  login: 'admin.ui',
  password: 'correct horse battery staple',
  name: '管理 太郎',
  locale: 'ja',
};
export const COORDINATOR = {
  nameEn: 'National cyber coordination centre',
  nameJa: '内閣サイバーセキュリティセンター',
};

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Run the isac CLI; resolves with trimmed stdout, rejects with stderr on failure. */
export function isac(args, input) {
  return new Promise((resolve, reject) => {
    const child = execFile(ISAC_BIN, args, { timeout: 30_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`isac ${args.join(' ')} failed (${err.code ?? err.signal}): ${stderr || err.message}`));
        return;
      }
      resolve(stdout.trim());
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitHealthy(base, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let lastErr = null;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`isac serve exited early (${child.exitCode ?? child.signalCode})`);
    }
    try {
      const res = await fetch(base + '/healthz', { signal: AbortSignal.timeout(2000) });
      if (res.ok) {
        const body = await res.json();
        if (body && body.status === 'ok') return body;
      }
      lastErr = new Error('healthz status ' + res.status);
    } catch (e) {
      lastErr = e;
    }
    await sleep(100);
  }
  throw new Error('isac serve did not become healthy: ' + (lastErr && lastErr.message));
}

/**
 * Start a server. Returns {base, port, dir, orgId, adminId, admin, isac(args, input), stop()}.
 * `setup(ctx)` may run more CLI commands (e.g. seed orgs) before the daemon starts.
 */
export async function startServer({ setup } = {}) {
  if (!fs.existsSync(ISAC_BIN)) {
    throw new Error(`isac binary not found at ${ISAC_BIN} (build it, or set ISAC_BIN)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'isac-browser-'));
  let child = null;
  const stderr = [];
  const ctx = { dir, admin: ADMIN, isac: (args, input) => isac(args, input) };
  try {
    await isac(['init', '--data', dir]);
    ctx.orgId = await isac(['org', 'add', '--data', dir, '--name', COORDINATOR.nameEn, '--name-ja', COORDINATOR.nameJa,
      '--kind', 'coordinator', '--sector', 'ict', '--sector', 'government', '--tier', 'class1']);
    if (!ctx.orgId) throw new Error('isac org add printed no id');
    ctx.adminId = await isac(['user', 'add', '--data', dir, '--org', ctx.orgId, '--login', ADMIN.login,
      '--role', 'admin', '--name', ADMIN.name, '--locale', ADMIN.locale], ADMIN.password + '\n');
    if (setup) await setup(ctx);

    const port = await freePort();
    ctx.port = port;
    ctx.base = `http://127.0.0.1:${port}`;
    const serveArgs = ['serve', '--data', dir, '--listen', `127.0.0.1:${port}`];
    // ISAC_SHARE: serve web/ and api/ from another directory (default: the daemon's own).
    if (process.env.ISAC_SHARE) serveArgs.push('--share', process.env.ISAC_SHARE);
    child = spawn(ISAC_BIN, serveArgs, {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.on('data', (d) => { stderr.push(d); if (stderr.length > 2000) stderr.shift(); });
    ctx.pid = child.pid;
    ctx.health = await waitHealthy(ctx.base, child, 15_000);
  } catch (e) {
    await stop();
    throw e;
  }

  async function stop() {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid, 'SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
      if (!done) {
        process.kill(child.pid, 'SIGKILL');
        await exited;
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  ctx.stop = stop;
  ctx.log = () => Buffer.concat(stderr).toString('utf8');
  return ctx;
}

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

// ---------------------------------------------------------------- page helpers shared by the tests

export const TIMEOUT = 10_000;

/** Collect console errors, page errors, CSP violations and failed responses of a page. */
export function watch(page) {
  const seen = { console: [], pageErrors: [], responses: [] };
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') seen.console.push(`${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => seen.pageErrors.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400) seen.responses.push(`${r.status()} ${r.request().method()} ${r.url()}`); });
  return seen;
}

export async function newPage(browser, opts = {}) {
  const context = await browser.newContext({ locale: 'ja-JP', viewport: { width: 1280, height: 900 }, ...opts });
  // Record CSP violations from inside the page (init scripts are injected by the
  // driver, not subject to the page's CSP).
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  return { context, page, seen: watch(page) };
}

export async function login(page, base, user = ADMIN) {
  await page.goto(base + '/');
  await page.locator('input[name="login"]').fill(user.login);
  await page.locator('input[name="password"]').fill(user.password);
  await page.locator('form.login-form button[type="submit"]').click();
  await page.locator('nav.mainnav').waitFor({ state: 'visible' });
}

/** Call the API as the page's signed-in user (cookie session + CSRF token from /me). */
export async function apiAs(page, base, method, path, body) {
  const me = await page.request.get(base + '/api/v1/me');
  const { csrf_token: csrf } = await me.json();
  const res = await page.request.fetch(base + '/api/v1' + path, {
    method, headers: { 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' },
    data: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status(), body: await res.json().catch(() => null) };
}
