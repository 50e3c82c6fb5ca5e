// Graceful stop (SIGTERM finishes in-flight requests, exits 0), restart on the same data dir,
// and kill -9 right after an acknowledged write loses nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, openSocket, parseHttpResponses, sleep, uniq, assertProblem } from './lib/server.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.cleanup(); });

async function ensureUp() {
  if (srv.running && srv.termSent) await srv.stop().catch(() => srv.kill9()); // a failed test left it stopping
  if (!srv.running) await srv.serve();
}

/** A raw connection that collects everything the server sends. */
async function rawConn() {
  const sock = await openSocket(srv.port);
  const chunks = [];
  sock.on('data', (d) => chunks.push(d));
  sock.on('error', () => {});
  const closed = new Promise((r) => sock.on('close', r));
  return {
    sock,
    closed,
    responses: () => parseHttpResponses(Buffer.concat(chunks)),
    async waitResponses(n, ms = 10000) {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        if (this.responses().length >= n) return this.responses();
        await Promise.race([sleep(20), closed]);
        if (sock.destroyed || sock.readableEnded) break;
      }
      return this.responses();
    },
  };
}

const requestHead = (method, path, headers) =>
  `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\n` +
  Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';

test('SIGTERM while a request body is still arriving: the request completes (201), exit code 0, data kept', async () => {
  await ensureUp();
  const name = uniq('In flight ');
  const body = Buffer.from(JSON.stringify({ name: { en: name, ja: '停止中に作成' }, kind: 'vendor', tier: 'general' }));
  const c = await rawConn();
  c.sock.write(requestHead('POST', '/api/v1/orgs', {
    Authorization: `Bearer ${srv.adminToken}`, 'Content-Type': 'application/json', 'Content-Length': body.length, Connection: 'close',
  }));
  c.sock.write(body.subarray(0, 12));
  await sleep(300);
  srv.terminate();
  await sleep(300);
  c.sock.write(body.subarray(12));
  const [res] = await c.waitResponses(1);
  assert.ok(res, 'a response arrived for the in-flight request');
  assert.equal(res.status, 201, res.body);
  const id = JSON.parse(res.body).id;
  await srv.stop(); // asserts exit code 0

  await srv.serve();
  const got = await srv.admin('GET', `/api/v1/orgs/${id}`);
  assert.equal(got.status, 200, 'the org created during shutdown survived the restart');
  assert.equal(got.json.name.en, name);
});

test('SIGTERM during a slow request (password hashing) still answers it; exit code 0', async () => {
  await ensureUp();
  const u = await srv.createUser({ password: 'slow-login-password' });
  const c = await rawConn();
  c.sock.write(requestHead('GET', '/healthz', {}));
  const [h] = await c.waitResponses(1);
  assert.equal(h?.status, 200, 'connection established and served');
  const body = Buffer.from(JSON.stringify({ login: u.login, password: 'slow-login-password' }));
  c.sock.write(requestHead('POST', '/api/v1/session', { 'Content-Type': 'application/json', 'Content-Length': body.length }));
  c.sock.write(body);
  await sleep(15);
  srv.terminate();
  const rs = await c.waitResponses(2);
  assert.equal(rs.length, 2, `a response for the login in flight: ${JSON.stringify(rs)}`);
  assert.equal(rs[1].status, 201, rs[1].body);
  await srv.stop();
});

test('SIGTERM with an idle keep-alive connection open exits promptly with code 0; new connections are refused', async () => {
  await ensureUp();
  const c = await rawConn();
  c.sock.write(requestHead('GET', '/healthz', {}));
  assert.equal((await c.waitResponses(1))[0]?.status, 200);
  const idle = await rawConn(); // connected, never sends anything
  const port = srv.port;
  const t0 = Date.now();
  srv.terminate();
  await srv.stop();
  const took = Date.now() - t0;
  assert.ok(took < 5000, `exited ${took} ms after SIGTERM with idle connections open`);
  idle.sock.destroy();
  c.sock.destroy();
  await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) }));
});

test('after a graceful restart on the same data dir every acknowledged change is there', async () => {
  await ensureUp();
  const org = await srv.createOrg({ name: { ja: '再起動テスト', en: uniq('Restart ') }, contacts: [{ type: 'webhook', value: 'https://hooks.example.jp/x' }] });
  const user = await srv.createUser({ org_id: org.id, password: 'restart-password-1', display_name: '再起動 太郎' });
  const tok = await srv.createToken({ user_id: user.id, name: 'restart token' });
  const revoked = await srv.createToken({ name: 'revoked before restart' });
  assert.equal((await srv.admin('DELETE', `/api/v1/tokens/${revoked.id}`)).status, 200);
  assert.equal((await srv.admin('PATCH', `/api/v1/orgs/${org.id}`, { tier: 'class2' })).status, 200);
  assert.equal((await srv.admin('POST', '/api/v1/sectors', { code: 'restart_sector', name: { ja: '再起動', en: 'Restart' } })).status, 201);
  const s = await srv.mustLogin(user.login, 'restart-password-1');
  assert.equal((await srv.api('POST', '/api/v1/me/password', { session: s, body: { current_password: 'restart-password-1', new_password: 'restart-password-2' } })).status, 204);
  const snapshot = {
    org: (await srv.admin('GET', `/api/v1/orgs/${org.id}`)).json,
    user: (await srv.admin('GET', `/api/v1/users/${user.id}`)).json,
  };
  await srv.stop();

  await srv.serve();
  assert.deepEqual((await srv.admin('GET', `/api/v1/orgs/${org.id}`)).json, snapshot.org);
  assert.deepEqual((await srv.admin('GET', `/api/v1/users/${user.id}`)).json, snapshot.user);
  assert.equal((await srv.api('GET', '/api/v1/me', { token: tok.token })).json?.user?.id, user.id, 'token survives');
  assertProblem(await srv.api('GET', '/api/v1/me', { token: revoked.token }), 401, 'unauthenticated');
  assert.equal((await srv.admin('GET', '/api/v1/sectors/restart_sector')).status, 200);
  assert.equal((await srv.login(user.login, 'restart-password-1')).status, 401);
  assert.equal((await srv.login(user.login, 'restart-password-2')).status, 201);
});

test('kill -9 right after an acknowledged 201 create loses nothing', async () => {
  await ensureUp();
  const org = await srv.createOrg({ name: { en: uniq('Kill9 '), ja: '強制終了' } });
  await srv.kill9();
  await srv.serve();
  const got = await srv.admin('GET', `/api/v1/orgs/${org.id}`);
  assert.equal(got.status, 200, 'org created right before kill -9 is there');
  assert.deepEqual(got.json, org);

  const user = await srv.createUser({ org_id: org.id, password: 'kill9-password-1' });
  await srv.kill9();
  await srv.serve();
  assert.equal((await srv.admin('GET', `/api/v1/users/${user.id}`)).status, 200, 'user survives kill -9');
  assert.equal((await srv.login(user.login, 'kill9-password-1')).status, 201);

  const tok = await srv.createToken({ user_id: user.id });
  await srv.kill9();
  await srv.serve();
  assert.equal((await srv.api('GET', '/api/v1/me', { token: tok.token })).status, 200, 'token survives kill -9');
});

test('kill -9 right after an acknowledged disable or revoke keeps it disabled/revoked', async () => {
  await ensureUp();
  const { user, token, tokenId } = await srv.userWithToken();
  const other = await srv.createToken({ user_id: user.id });
  assert.equal((await srv.admin('DELETE', `/api/v1/tokens/${tokenId}`)).status, 200);
  await srv.kill9();
  await srv.serve();
  assertProblem(await srv.api('GET', '/api/v1/me', { token }), 401, 'unauthenticated');
  assert.equal((await srv.api('GET', '/api/v1/me', { token: other.token })).status, 200);

  assert.equal((await srv.admin('DELETE', `/api/v1/users/${user.id}`)).status, 200);
  await srv.kill9();
  await srv.serve();
  assertProblem(await srv.api('GET', '/api/v1/me', { token: other.token }), 401, 'unauthenticated');
  assert.equal((await srv.admin('GET', `/api/v1/users/${user.id}`)).json.disabled, true);
});
