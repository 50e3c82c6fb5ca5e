// API tokens: create (secret shown once), use, list with cursor pagination, rename, revoke,
// expiry bounds, tokens made by the CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertProblem, uniq, ADMIN_LOGIN } from './lib/server.mjs';
import { assertResponse, assertSchema } from './lib/openapi.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.cleanup(); });

const DAY = 86400e3;
const near = (a, b, slackMs = 5 * 60e3) => Math.abs(a - b) <= slackMs;

test('create: the secret is shown once; GET and lists never show it; it authenticates', async () => {
  const r = await srv.admin('POST', '/api/v1/tokens', { name: 'ci pipeline' });
  assert.equal(r.status, 201, r.text);
  assertResponse('POST', '/api/v1/tokens', r);
  const t = r.json;
  assert.equal(t.name, 'ci pipeline');
  assert.equal(t.user_id, srv.adminUserId);
  assert.equal(t.revoked, false);
  assert.equal(t.last_used_at, null);
  assert.match(t.token, /^isac_/);
  assert.ok(t.token.startsWith(t.prefix), `token starts with its prefix ${t.prefix}`);
  assert.ok(t.token.length >= t.prefix.length + 16, 'prefix is only a short part of the secret');
  assert.ok(near(Date.parse(t.expires_at) - Date.parse(t.created_at), 90 * DAY), `default expiry 90 days: ${t.created_at} → ${t.expires_at}`);

  const g = await srv.admin('GET', `/api/v1/tokens/${t.id}`);
  assert.equal(g.status, 200);
  assertResponse('GET', '/api/v1/tokens/{id}', g);
  assert.ok(!('token' in g.json), 'GET does not show the secret');
  assert.ok(!g.text.includes(t.token));
  const { token: _secret, ...rest } = t;
  assert.deepEqual({ ...g.json, last_used_at: null }, rest);

  const list = await srv.admin('GET', '/api/v1/tokens?limit=200');
  assert.equal(list.status, 200);
  assertResponse('GET', '/api/v1/tokens', list);
  assert.ok(list.json.items.some((x) => x.id === t.id));
  assert.ok(!list.text.includes(t.token), 'list does not show the secret');
  assert.ok(list.json.items.every((x) => !('token' in x)));

  const me = await srv.api('GET', '/api/v1/me', { token: t.token });
  assert.equal(me.status, 200);
  assert.equal(me.json.user.id, srv.adminUserId);
  const used = (await srv.admin('GET', `/api/v1/tokens/${t.id}`)).json;
  assert.ok(used.last_used_at !== null && Math.abs(Date.parse(used.last_used_at) - Date.now()) < 5 * 60e3, `last_used_at after use: ${used.last_used_at}`);
  // A token differing only in its last character is not accepted.
  const last = t.token.at(-1);
  const forged = t.token.slice(0, -1) + (last === 'A' ? 'B' : 'A');
  assertProblem(await srv.api('GET', '/api/v1/me', { token: forged }), 401, 'unauthenticated');
  assertProblem(await srv.api('GET', '/api/v1/me', { token: t.prefix }), 401, 'unauthenticated');
  assert.ok(!srv.stderr.includes(t.token), 'the secret is not in the server log');
});

test('expires_in_days: 1 and 365 accepted; 0, 366, non-integers rejected', async () => {
  for (const days of [1, 365]) {
    const t = await srv.createToken({ expires_in_days: days });
    assert.ok(near(Date.parse(t.expires_at) - Date.parse(t.created_at), days * DAY), `${days} days: ${t.created_at} → ${t.expires_at}`);
    assert.ok(near(Date.parse(t.expires_at), Date.now() + days * DAY));
  }
  const n0 = (await srv.listAll('/api/v1/tokens')).length;
  for (const bad of [0, 366, -1, 1.5, '30', true, 1e12]) {
    const r = await srv.admin('POST', '/api/v1/tokens', { name: 'bad expiry', expires_in_days: bad });
    assertProblem(r, 422, 'validation', ['expires_in_days']);
  }
  assert.equal((await srv.listAll('/api/v1/tokens')).length, n0, 'refused creates left nothing behind');
});

test('list with cursor pagination sees every token exactly once', async () => {
  for (let i = 0; i < 5; i++) await srv.createToken({ name: `page-${i}` });
  const all = await srv.listAll('/api/v1/tokens');
  assert.ok(all.length >= 6);
  const seen = new Map();
  let cursor = null;
  let pages = 0;
  do {
    const r = await srv.admin('GET', `/api/v1/tokens?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(r.status, 200, r.text);
    assertResponse('GET', '/api/v1/tokens', r);
    assert.ok(r.json.items.length <= 2, `page of ${r.json.items.length} with limit=2`);
    for (const t of r.json.items) {
      assert.ok(!seen.has(t.id), `token ${t.id} seen twice`);
      seen.set(t.id, t);
    }
    cursor = r.json.next_cursor;
    if (cursor !== null) assert.equal(r.json.items.length, 2, 'only the last page may be short');
    pages++;
    assert.ok(pages < 100, 'pagination ends');
  } while (cursor !== null);
  assert.deepEqual([...seen.keys()].sort(), all.map((t) => t.id).sort());
  assert.ok(pages >= Math.ceil(all.length / 2) && pages <= Math.ceil(all.length / 2) + 1, `${pages} pages for ${all.length}`);
  for (let i = 0; i < 5; i++) assert.ok([...seen.values()].some((t) => t.name === `page-${i}`));
});

test('rename, then revoke → 401 at once; the revoked token stays listed as revoked', async () => {
  const t = await srv.createToken({ name: 'to rename' });
  const p = await srv.admin('PATCH', `/api/v1/tokens/${t.id}`, { name: '名前を変えた' });
  assert.equal(p.status, 200, p.text);
  assertResponse('PATCH', '/api/v1/tokens/{id}', p);
  assert.equal(p.json.name, '名前を変えた');
  assert.ok(!('token' in p.json));
  assert.equal((await srv.admin('GET', `/api/v1/tokens/${t.id}`)).json.name, '名前を変えた');
  assertProblem(await srv.admin('PATCH', `/api/v1/tokens/${t.id}`, { name: 'x', expires_in_days: 3 }), 422, 'validation', ['expires_in_days']);
  assertProblem(await srv.admin('PATCH', `/api/v1/tokens/${t.id}`, { name: 7 }), 422, 'validation', ['name']);

  assert.equal((await srv.api('GET', '/api/v1/me', { token: t.token })).status, 200);
  const d = await srv.admin('DELETE', `/api/v1/tokens/${t.id}`);
  assert.equal(d.status, 200, d.text);
  assertResponse('DELETE', '/api/v1/tokens/{id}', d);
  assert.equal(d.json.revoked, true);
  assert.equal(d.json.id, t.id);
  assertProblem(await srv.api('GET', '/api/v1/me', { token: t.token }), 401, 'unauthenticated');
  assertProblem(await srv.api('POST', '/api/v1/tokens', { token: t.token, body: { name: 'x' } }), 401, 'unauthenticated');
  const g = await srv.admin('GET', `/api/v1/tokens/${t.id}`);
  assert.equal(g.status, 200);
  assert.equal(g.json.revoked, true);
  assert.ok((await srv.listAll('/api/v1/tokens')).find((x) => x.id === t.id).revoked);
  assertProblem(await srv.admin('GET', '/api/v1/tokens/01936a8e-4f5e-7c2a-9b1d-2f3e4a5b6c7d'), 404, 'not-found');
});

test('a token can revoke itself and is dead right after', async () => {
  const t = await srv.createToken({ name: 'self-revoke' });
  const d = await srv.api('DELETE', `/api/v1/tokens/${t.id}`, { token: t.token });
  assert.equal(d.status, 200, d.text);
  assertProblem(await srv.api('GET', '/api/v1/tokens', { token: t.token }), 401, 'unauthenticated');
});

test('tokens made by `isac token create` work, also while the server runs', async () => {
  // srv.adminToken itself was made by the CLI before serving.
  const me = await srv.admin('GET', '/api/v1/me');
  assert.equal(me.status, 200);
  assert.equal(me.json.user.login, ADMIN_LOGIN);
  const name = uniq('cli');
  const tok = await srv.cliData('token', 'create', ['--user', ADMIN_LOGIN, '--name', name, '--days', '2']);
  assert.match(tok, /^isac_\S+$/);
  const r = await srv.api('GET', '/api/v1/me', { token: tok });
  assert.equal(r.status, 200, r.text);
  const listed = (await srv.listAll('/api/v1/tokens')).find((t) => t.name === name);
  assert.ok(listed, 'CLI token is listed');
  assert.ok(tok.startsWith(listed.prefix));
  assert.ok(near(Date.parse(listed.expires_at), Date.now() + 2 * DAY));
  assertSchema('Token', listed);
});

test('members see and manage only their own tokens; admin may make tokens for others', async () => {
  const a = await srv.createUser();
  const b = await srv.createUser();
  const ta = await srv.createToken({ user_id: a.id, name: 'a-token' });
  assert.equal(ta.user_id, a.id);
  const tb = await srv.createToken({ user_id: b.id, name: 'b-token' });
  const meA = await srv.api('GET', '/api/v1/me', { token: ta.token });
  assert.equal(meA.json.user.id, a.id, 'admin-made token authenticates as its user');

  const asA = { token: ta.token };
  const own = await srv.listAll('/api/v1/tokens', asA);
  assert.ok(own.length >= 1 && own.every((t) => t.user_id === a.id), 'own tokens only');
  assertProblem(await srv.api('GET', `/api/v1/tokens/${tb.id}`, asA), 404, 'not-found');
  assert.ok([403, 404].includes((await srv.api('PATCH', `/api/v1/tokens/${tb.id}`, { ...asA, body: { name: 'mine' } })).status));
  assert.ok([403, 404].includes((await srv.api('DELETE', `/api/v1/tokens/${tb.id}`, asA)).status));
  assert.equal((await srv.api('GET', '/api/v1/me', { token: tb.token })).status, 200, "b's token survived a's attempts");
  const other = await srv.api('GET', `/api/v1/tokens?user_id=${b.id}`, asA);
  assert.ok(other.status === 403 || (other.status === 200 && other.json.items.every((t) => t.user_id === a.id)),
    `member listing another user's tokens: ${other.status} ${other.text.slice(0, 200)}`);
  // A user the caller cannot see is reported like a user that does not exist.
  const forB = await srv.api('POST', '/api/v1/tokens', { ...asA, body: { name: 'for b', user_id: b.id } });
  assertProblem(forB, 422, 'validation', ['user_id']);
  assert.ok(!(await srv.listAll(`/api/v1/tokens?user_id=${b.id}`)).some((t) => t.name === 'for b'));

  // Own token by a member: works.
  const mine = await srv.createToken({ name: 'member own' }, asA);
  assert.equal(mine.user_id, a.id);
  // Admin lists another user's tokens with user_id.
  const adminView = await srv.listAll(`/api/v1/tokens?user_id=${a.id}`);
  assert.deepEqual(adminView.map((t) => t.id).sort(), [ta.id, mine.id].sort());
  // A token for a user that does not exist: 422 naming user_id.
  const ghost = await srv.admin('POST', '/api/v1/tokens', { name: 'x', user_id: '01936a8e-4f5e-7c2a-9b1d-2f3e4a5b6c7d' });
  assertProblem(ghost, 422, 'validation', ['user_id']);
  assertProblem(await srv.admin('POST', '/api/v1/tokens', { name: 'x', user_id: 'not-an-id' }), 422, 'validation', ['user_id']);
});
