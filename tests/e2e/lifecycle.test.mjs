// Disabling users and orgs locks them out at once; pagination and filters of orgs/users;
// the CLI against a live data dir; the JSON access log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertProblem, uniq, sleep, ADMIN_PASSWORD } from './lib/server.mjs';
import { assertResponse, assertSchema } from './lib/openapi.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.cleanup(); });

test('a disabled user is locked out at once (session and token), and re-enabling restores', async () => {
  const org = await srv.createOrg();
  const u = await srv.createUser({ org_id: org.id, password: 'disable-me-please' });
  const s = await srv.mustLogin(u.login, 'disable-me-please');
  const tok = await srv.createToken({ user_id: u.id });
  assert.equal((await srv.api('GET', '/api/v1/me', { session: s })).status, 200);
  assert.equal((await srv.api('GET', '/api/v1/me', { token: tok.token })).status, 200);

  const d = await srv.admin('DELETE', `/api/v1/users/${u.id}`);
  assert.equal(d.status, 200, d.text);
  assertResponse('DELETE', '/api/v1/users/{id}', d);
  assert.equal(d.json.disabled, true);
  assertProblem(await srv.api('GET', '/api/v1/me', { session: s }), 401, 'unauthenticated');
  assertProblem(await srv.api('GET', '/api/v1/me', { token: tok.token }), 401, 'unauthenticated');
  assertProblem(await srv.api('POST', '/api/v1/tokens', { token: tok.token, body: { name: 'x' } }), 401, 'unauthenticated');
  const l = await srv.login(u.login, 'disable-me-please');
  assert.equal(l.status, 401, `login of a disabled user: ${l.status}`);

  // Hidden from lists unless include_disabled=true; still readable by id.
  assert.ok(!(await srv.listAll('/api/v1/users')).some((x) => x.id === u.id));
  assert.ok((await srv.listAll('/api/v1/users?include_disabled=true')).some((x) => x.id === u.id && x.disabled));
  assert.equal((await srv.admin('GET', `/api/v1/users/${u.id}`)).json.disabled, true);

  const e = await srv.admin('PATCH', `/api/v1/users/${u.id}`, { disabled: false });
  assert.equal(e.status, 200, e.text);
  assert.equal(e.json.disabled, false);
  assert.equal((await srv.api('GET', '/api/v1/me', { token: tok.token })).status, 200, 'token works again');
  assert.equal((await srv.login(u.login, 'disable-me-please')).status, 201, 'login works again');

  // Disabling through PATCH works the same.
  const p = await srv.admin('PATCH', `/api/v1/users/${u.id}`, { disabled: true });
  assert.equal(p.status, 200);
  assertProblem(await srv.api('GET', '/api/v1/me', { token: tok.token }), 401, 'unauthenticated');
  await srv.admin('PATCH', `/api/v1/users/${u.id}`, { disabled: false });
});

test('`isac user disable` on the live data dir locks the user out at the next request', async () => {
  const { user, token } = await srv.userWithToken();
  assert.equal((await srv.api('GET', '/api/v1/me', { token })).status, 200);
  await srv.cliData('user', 'disable', ['--login', user.login]);
  assertProblem(await srv.api('GET', '/api/v1/me', { token }), 401, 'unauthenticated');
  assert.equal((await srv.admin('GET', `/api/v1/users/${user.id}`)).json.disabled, true);
});

test('a disabled org locks all its users out; re-enabling restores', async () => {
  const org = await srv.createOrg({ kind: 'vendor', sectors: [] });
  const a = await srv.userWithToken({ org_id: org.id, password: 'org-user-password' });
  const b = await srv.userWithToken({ org_id: org.id });
  const s = await srv.mustLogin(a.user.login, 'org-user-password');
  for (const t of [a.token, b.token]) assert.equal((await srv.api('GET', '/api/v1/me', { token: t })).status, 200);

  const d = await srv.admin('DELETE', `/api/v1/orgs/${org.id}`);
  assert.equal(d.status, 200, d.text);
  assertResponse('DELETE', '/api/v1/orgs/{id}', d);
  assert.equal(d.json.disabled, true);
  for (const t of [a.token, b.token]) assertProblem(await srv.api('GET', '/api/v1/me', { token: t }), 401, 'unauthenticated');
  assertProblem(await srv.api('GET', '/api/v1/me', { session: s }), 401, 'unauthenticated');
  assert.equal((await srv.login(a.user.login, 'org-user-password')).status, 401);
  assert.ok(!(await srv.listAll('/api/v1/orgs')).some((o) => o.id === org.id), 'hidden from the default list');
  assert.ok((await srv.listAll('/api/v1/orgs?include_disabled=true')).some((o) => o.id === org.id && o.disabled));
  // The users themselves are not marked disabled: re-enabling the org is enough.
  const p = await srv.admin('PATCH', `/api/v1/orgs/${org.id}`, { disabled: false });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.json.disabled, false);
  for (const t of [a.token, b.token]) assert.equal((await srv.api('GET', '/api/v1/me', { token: t })).status, 200);
  assert.equal((await srv.login(a.user.login, 'org-user-password')).status, 201);
});

async function pageAll(path, limit, auth = { token: srv.adminToken }) {
  const pages = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const r = await srv.api('GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, auth);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.items.length <= limit);
    pages.push(r.json.items);
    cursor = r.json.next_cursor;
    assert.ok(pages.length < 100, 'pagination ends');
  } while (cursor !== null);
  return pages;
}

test('orgs: create 7, page with limit=3, each seen exactly once; filters', async () => {
  const tag = uniq('Pagi');
  const made = [];
  for (let i = 0; i < 7; i++) {
    made.push(await srv.createOrg({
      name: { en: `${tag} ${i}`, ja: `ページ${i}` }, kind: i % 2 ? 'vendor' : 'operator',
      sectors: i % 2 ? [] : ['port'], tier: i < 3 ? 'class1' : 'general',
    }));
  }
  const pages = await pageAll(`/api/v1/orgs?q=${encodeURIComponent(tag)}`, 3);
  assert.deepEqual(pages.map((p) => p.length), [3, 3, 1]);
  const ids = pages.flat().map((o) => o.id);
  assert.equal(new Set(ids).size, 7);
  assert.deepEqual([...ids].sort(), made.map((o) => o.id).sort());

  // Whole list, no filter: every org exactly once.
  const all = (await pageAll('/api/v1/orgs', 3)).flat().map((o) => o.id);
  assert.equal(new Set(all).size, all.length, 'no org seen twice');
  for (const o of made) assert.ok(all.includes(o.id));
  assert.equal(all.length, (await srv.listAll('/api/v1/orgs')).length);

  const vendors = await srv.listAll(`/api/v1/orgs?kind=vendor&q=${encodeURIComponent(tag)}`);
  assert.deepEqual(vendors.map((o) => o.id).sort(), made.filter((_, i) => i % 2).map((o) => o.id).sort());
  assert.ok((await srv.listAll('/api/v1/orgs?kind=vendor')).every((o) => o.kind === 'vendor'));
  const port = await srv.listAll('/api/v1/orgs?sector=port');
  assert.ok(port.length >= 4 && port.every((o) => o.sectors.includes('port')));
  const c1 = await srv.listAll(`/api/v1/orgs?tier=class1&q=${encodeURIComponent(tag)}`);
  assert.deepEqual(c1.map((o) => o.id).sort(), made.slice(0, 3).map((o) => o.id).sort());
  const combo = await srv.listAll(`/api/v1/orgs?tier=class1&kind=operator&sector=port&q=${encodeURIComponent(tag)}`);
  assert.deepEqual(combo.map((o) => o.id).sort(), [made[0].id, made[2].id].sort());
  const none = await srv.admin('GET', `/api/v1/orgs?q=${encodeURIComponent(uniq('nomatch'))}`);
  assert.deepEqual(none.json, { items: [], next_cursor: null });
});

test('users: create 7, page with limit=3, each seen exactly once; filters', async () => {
  const org = await srv.createOrg({ kind: 'agency', sectors: [] });
  const made = [];
  for (let i = 0; i < 7; i++) {
    made.push(await srv.createUser({ org_id: org.id, roles: i === 0 ? ['auditor'] : ['member'], display_name: `Page User ${i}` }));
  }
  const pages = await pageAll(`/api/v1/users?org_id=${org.id}`, 3);
  assert.deepEqual(pages.map((p) => p.length), [3, 3, 1]);
  const ids = pages.flat().map((u) => u.id);
  assert.equal(new Set(ids).size, 7);
  assert.deepEqual([...ids].sort(), made.map((u) => u.id).sort());
  for (const u of pages.flat()) assertSchema('User', u);

  const all = (await pageAll('/api/v1/users', 3)).flat().map((u) => u.id);
  assert.equal(new Set(all).size, all.length);
  assert.equal(all.length, (await srv.listAll('/api/v1/users')).length);
  const auditors = await srv.listAll(`/api/v1/users?org_id=${org.id}&role=auditor`);
  assert.deepEqual(auditors.map((u) => u.id), [made[0].id]);
  const byLogin = await srv.listAll(`/api/v1/users?q=${encodeURIComponent(made[3].login)}`);
  assert.ok(byLogin.some((u) => u.id === made[3].id));

  // A cursor keeps working when an object is added between pages (no repeats).
  const first = await srv.admin('GET', `/api/v1/users?org_id=${org.id}&limit=3`);
  await srv.createUser({ org_id: org.id });
  const second = await srv.admin('GET', `/api/v1/users?org_id=${org.id}&limit=3&cursor=${encodeURIComponent(first.json.next_cursor)}`);
  assert.equal(second.status, 200, second.text);
  const overlap = second.json.items.filter((u) => first.json.items.some((f) => f.id === u.id));
  assert.deepEqual(overlap, [], 'no user repeated across pages');
});

test('CLI while the server runs: org add and user add on the live data dir are visible via the API', async () => {
  const name = uniq('CLI Org ');
  const id = await srv.cliData('org', 'add', ['--name', name, '--name-ja', '運用中に追加', '--kind', 'operator',
    '--sector', 'water', '--sector', 'gas', '--tier', 'class2']);
  assert.match(id, /^[0-9a-f-]{36}$/);
  const r = await srv.admin('GET', `/api/v1/orgs/${id}`);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.name, { ja: '運用中に追加', en: name });
  assert.deepEqual([...r.json.sectors].sort(), ['gas', 'water']);
  assert.equal(r.json.tier, 'class2');
  assert.equal(r.json.kind, 'operator');

  const login = uniq('cliuser');
  const uid = await srv.cliData('user', 'add', ['--org', id, '--login', login, '--role', 'member', '--role', 'analyst',
    '--name', 'CLI 利用者', '--locale', 'ja'], { input: 'cli-user-password\n' });
  const u = await srv.admin('GET', `/api/v1/users/${uid}`);
  assert.equal(u.status, 200, u.text);
  assert.equal(u.json.login, login);
  assert.deepEqual([...u.json.roles].sort(), ['analyst', 'member']);
  assert.equal(u.json.display_name, 'CLI 利用者');
  assert.equal((await srv.login(login, 'cli-user-password')).status, 201);

  // `isac user passwd` takes effect for the next login.
  await srv.cliData('user', 'passwd', ['--login', login], { input: 'cli-user-password-2\n' });
  assert.equal((await srv.login(login, 'cli-user-password')).status, 401);
  assert.equal((await srv.login(login, 'cli-user-password-2')).status, 201);

  const list = await srv.cliData('org', 'list', []);
  assert.ok(list.split('\n').some((l) => l.split('\t').includes(id)), 'org list shows the org');
  const ulist = await srv.cliData('user', 'list', []);
  assert.ok(ulist.split('\n').some((l) => l.split('\t').includes(login)), 'user list shows the user');
});

test('access log: one JSON line per request with method, path, status; no secrets', async () => {
  const marker = `/api/v1/orgs/${'01936a8e-4f5e-7c2a-9b1d-'}${Date.now().toString(16).padStart(12, '0').slice(-12)}`;
  await srv.admin('GET', marker);
  await srv.login('admin', 'wrong-password-for-log');
  const s = await srv.login('admin', ADMIN_PASSWORD);
  await srv.api('GET', '/api/v1/me?x=1', { session: s.session });
  const n = 5;
  const tag = `/api/v1/sectors/logtest${Date.now()}`;
  for (let i = 0; i < n; i++) await srv.admin('GET', tag);

  let lines = [];
  for (let i = 0; i < 40; i++) {
    lines = srv.logLines();
    if (lines.filter((l) => l.path === tag).length >= n) break;
    await sleep(50);
  }
  const mine = lines.filter((l) => l.path === marker);
  assert.equal(mine.length, 1, `one line for ${marker}: ${JSON.stringify(mine)}`);
  assert.equal(mine[0].method, 'GET');
  assert.equal(mine[0].status, 404);
  assert.equal(lines.filter((l) => l.path === tag).length, n, 'one line per request');
  const sess = lines.filter((l) => l.path === '/api/v1/session' && l.method === 'POST');
  assert.ok(sess.some((l) => l.status === 401) && sess.some((l) => l.status === 201));
  assert.ok(lines.some((l) => (l.path === '/api/v1/me' || l.path === '/api/v1/me?x=1') && l.status === 200), 'GET /api/v1/me?x=1 logged');
  for (const l of lines.filter((x) => 'method' in x)) {
    assert.equal(typeof l.method, 'string');
    assert.equal(typeof l.path, 'string');
    assert.equal(typeof l.status, 'number');
  }
  assert.ok(!srv.stderr.includes(ADMIN_PASSWORD), 'no password in the log');
  assert.ok(!srv.stderr.includes('wrong-password-for-log'), 'no password in the log');
  assert.ok(!srv.stderr.includes(srv.adminToken), 'no bearer token in the log');
  assert.ok(!srv.stderr.includes(s.session.cookie), 'no session id in the log');
  assert.ok(!srv.stderr.includes(s.session.csrf), 'no csrf token in the log');
});
