// Validation errors of orgs/users/sectors/tokens and of query parameters; body handling
// (oversize, malformed JSON, invalid UTF-8, content type); no half-written objects;
// Japanese text round-trips byte for byte.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertProblem, rawRequest, uniq } from './lib/server.mjs';
import { assertResponse, requestAccepts } from './lib/openapi.mjs';

let srv;
let org; // an operator org to hang users on
before(async () => {
  srv = await startServer();
  org = await srv.createOrg({ name: { en: 'Validation Org' } });
});
after(async () => { await srv?.cleanup(); });

const NOT_AN_ID = '01936a8e-4f5e-7c2a-9b1d-2f3e4a5b6c7d';
const goodOrg = () => ({ name: { ja: '検証組織', en: uniq('Valid Org ') }, kind: 'operator', sectors: ['electricity'], tier: 'general' });
const goodUser = () => ({ login: uniq('v'), display_name: 'Valid User', org_id: org.id, roles: ['member'], password: 'valid-password-12' });
const contacts = (n) => Array.from({ length: n }, (_, i) => ({ type: 'email', value: `c${i}@example.jp` }));
const counts = async () => ({
  orgs: (await srv.listAll('/api/v1/orgs?include_disabled=true')).length,
  users: (await srv.listAll('/api/v1/users?include_disabled=true')).length,
  tokens: (await srv.listAll('/api/v1/tokens')).length,
  sectors: (await srv.listAll('/api/v1/sectors')).length,
});

/**
 * [label, method, path template, path, body, field, {schema: false} when the document cannot
 * know (e.g. whether a sector code exists), reason]
 */
function cases() {
  const o = goodOrg;
  const u = goodUser;
  const without = (obj, k) => { const c = { ...obj }; delete c[k]; return c; };
  const orgP = `/api/v1/orgs/${org.id}`;
  const C = [];
  const add = (label, method, tpl, path, body, field, opts = {}) => C.push({ label, method, tpl, path, body, field, ...opts });
  // orgs: create
  add('org: missing name', 'POST', '/api/v1/orgs', '/api/v1/orgs', without(o(), 'name'), 'name');
  add('org: name not an object', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), name: 'Plain' }, 'name');
  add('org: name without ja and en', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), name: {} }, 'name');
  add('org: name.ja too long', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), name: { ja: 'あ'.repeat(201) } }, 'name.ja');
  add('org: name.en too long', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), name: { en: 'a'.repeat(201) } }, 'name.en');
  add('org: name.ja 201 4-byte chars', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), name: { ja: '𠮷'.repeat(201) } }, 'name.ja');
  add('org: name.en not a string', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), name: { en: 42 } }, 'name.en');
  add('org: name unknown language', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), name: { en: 'x', fr: 'y' } }, 'name.fr', { reason: 'unknown field' });
  add('org: missing kind', 'POST', '/api/v1/orgs', '/api/v1/orgs', without(o(), 'kind'), 'kind');
  add('org: unknown kind', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), kind: 'bank' }, 'kind');
  add('org: kind wrong type', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), kind: 3 }, 'kind');
  add('org: unknown tier', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), tier: 'platinum' }, 'tier');
  add('org: tier wrong type', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), tier: ['general'] }, 'tier');
  add('org: sectors not an array', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), sectors: 'electricity' }, 'sectors');
  add('org: unknown sector code', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), sectors: ['atlantis'] }, 'sectors[0]', { schema: false });
  add('org: second sector unknown', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), sectors: ['electricity', 'nope'] }, 'sectors[1]', { schema: false });
  add('org: sector code wrong type', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), sectors: ['gas', 7] }, 'sectors[1]');
  add('org: operator without sectors', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), sectors: [] }, 'sectors');
  add('org: sector hub without sectors', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), kind: 'sector_hub', sectors: [] }, 'sectors');
  add('org: 21 contacts', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), contacts: contacts(21) }, 'contacts');
  add('org: contacts not an array', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), contacts: { type: 'email' } }, 'contacts');
  add('org: unknown contact type', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), contacts: [{ type: 'fax', value: '03-0000' }] }, 'contacts[0].type');
  add('org: contact without value', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), contacts: [...contacts(1), { type: 'phone' }] }, 'contacts[1].value');
  add('org: contact value wrong type', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), contacts: [{ type: 'url', value: false }] }, 'contacts[0].value');
  add('org: contact unknown field', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), contacts: [{ type: 'email', value: 'a@b.jp', priority: 1 }] }, 'contacts[0].priority', { reason: 'unknown field' });
  add('org: unknown field', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), colour: 'red' }, 'colour', { reason: 'unknown field' });
  add('org: id is not writable', 'POST', '/api/v1/orgs', '/api/v1/orgs', { ...o(), id: NOT_AN_ID }, 'id', { reason: 'unknown field' });
  // orgs: patch
  add('org patch: name.ja too long', 'PATCH', '/api/v1/orgs/{id}', orgP, { name: { ja: 'い'.repeat(201) } }, 'name.ja');
  add('org patch: unknown kind', 'PATCH', '/api/v1/orgs/{id}', orgP, { kind: 'bank' }, 'kind');
  add('org patch: 21 contacts', 'PATCH', '/api/v1/orgs/{id}', orgP, { contacts: contacts(21) }, 'contacts');
  add('org patch: disabled wrong type', 'PATCH', '/api/v1/orgs/{id}', orgP, { disabled: 'yes' }, 'disabled');
  add('org patch: unknown sector', 'PATCH', '/api/v1/orgs/{id}', orgP, { sectors: ['electricity', 'gas', 'mars'] }, 'sectors[2]', { schema: false });
  add('org patch: unknown field', 'PATCH', '/api/v1/orgs/{id}', orgP, { created_at: '2026-01-01T00:00:00Z' }, 'created_at', { reason: 'unknown field' });
  // users: create
  add('user: missing login', 'POST', '/api/v1/users', '/api/v1/users', without(u(), 'login'), 'login');
  add('user: login too short', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), login: 'ab' }, 'login');
  add('user: login too long', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), login: 'a'.repeat(65) }, 'login');
  add('user: login with a space', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), login: 'bad login' }, 'login');
  add('user: login with a slash', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), login: 'a/b/c' }, 'login');
  add('user: login in kanji', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), login: '山田太郎' }, 'login');
  add('user: login fullwidth', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), login: 'ｙａｍａｄａ' }, 'login');
  add('user: login wrong type', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), login: 12345 }, 'login');
  add('user: missing password', 'POST', '/api/v1/users', '/api/v1/users', without(u(), 'password'), 'password');
  add('user: short password', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), password: 'elevenchars' }, 'password', { schema: false });
  add('user: 11-byte password', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), password: 'パスワxx' }, 'password', { schema: false });
  add('user: 1025-byte password', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), password: 'p'.repeat(1025) }, 'password');
  add('user: password wrong type', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), password: 123456789012345 }, 'password');
  add('user: missing display_name', 'POST', '/api/v1/users', '/api/v1/users', without(u(), 'display_name'), 'display_name');
  add('user: display_name wrong type', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), display_name: ['x'] }, 'display_name');
  add('user: missing org_id', 'POST', '/api/v1/users', '/api/v1/users', without(u(), 'org_id'), 'org_id');
  add('user: org_id not an id', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), org_id: 'acme' }, 'org_id');
  add('user: org_id of no org', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), org_id: NOT_AN_ID }, 'org_id', { schema: false });
  add('user: missing roles', 'POST', '/api/v1/users', '/api/v1/users', without(u(), 'roles'), 'roles');
  add('user: empty roles', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), roles: [] }, 'roles');
  add('user: roles not an array', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), roles: 'member' }, 'roles');
  add('user: unknown role', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), roles: ['superuser'] }, 'roles[0]');
  add('user: second role unknown', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), roles: ['member', 'god'] }, 'roles[1]');
  add('user: unknown locale', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), locale: 'fr' }, 'locale');
  add('user: email wrong type', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), email: 5 }, 'email');
  add('user: unknown field', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), is_admin: true }, 'is_admin', { reason: 'unknown field' });
  add('user: password_hash is not a field', 'POST', '/api/v1/users', '/api/v1/users', { ...u(), password_hash: 'x' }, 'password_hash', { reason: 'unknown field' });
  // users: patch
  const userP = `/api/v1/users/${srv.adminUserId}`;
  add('user patch: empty roles', 'PATCH', '/api/v1/users/{id}', userP, { roles: [] }, 'roles');
  add('user patch: unknown role', 'PATCH', '/api/v1/users/{id}', userP, { roles: ['admin', 'root'] }, 'roles[1]');
  add('user patch: unknown locale', 'PATCH', '/api/v1/users/{id}', userP, { locale: 'de' }, 'locale');
  add('user patch: short password', 'PATCH', '/api/v1/users/{id}', userP, { password: 'short' }, 'password', { schema: false });
  add('user patch: login not writable', 'PATCH', '/api/v1/users/{id}', userP, { login: 'renamed' }, 'login', { reason: 'unknown field' });
  add('user patch: org_id not writable', 'PATCH', '/api/v1/users/{id}', userP, { org_id: org.id }, 'org_id', { reason: 'unknown field' });
  add('user patch: disabled wrong type', 'PATCH', '/api/v1/users/{id}', userP, { disabled: 0 }, 'disabled');
  // sectors
  add('sector: missing code', 'POST', '/api/v1/sectors', '/api/v1/sectors', { name: { en: 'X' } }, 'code');
  add('sector: code with a space', 'POST', '/api/v1/sectors', '/api/v1/sectors', { code: 'bad code', name: { en: 'X' } }, 'code');
  add('sector: code upper case', 'POST', '/api/v1/sectors', '/api/v1/sectors', { code: 'Energy', name: { en: 'X' } }, 'code');
  add('sector: empty code', 'POST', '/api/v1/sectors', '/api/v1/sectors', { code: '', name: { en: 'X' } }, 'code');
  add('sector: code in kana', 'POST', '/api/v1/sectors', '/api/v1/sectors', { code: 'でんき', name: { en: 'X' } }, 'code');
  add('sector: code too long', 'POST', '/api/v1/sectors', '/api/v1/sectors', { code: 'a'.repeat(200), name: { en: 'X' } }, 'code');
  add('sector: code wrong type', 'POST', '/api/v1/sectors', '/api/v1/sectors', { code: 9, name: { en: 'X' } }, 'code');
  add('sector: missing name', 'POST', '/api/v1/sectors', '/api/v1/sectors', { code: 'newone' }, 'name');
  add('sector: name.en too long', 'POST', '/api/v1/sectors', '/api/v1/sectors', { code: 'newone', name: { en: 'e'.repeat(201) } }, 'name.en');
  add('sector: unknown field', 'POST', '/api/v1/sectors', '/api/v1/sectors', { code: 'newone', name: { en: 'X' }, order: 1 }, 'order', { reason: 'unknown field' });
  add('sector patch: disabled wrong type', 'PATCH', '/api/v1/sectors/{code}', '/api/v1/sectors/water', { disabled: 'yes' }, 'disabled');
  add('sector patch: name.ja too long', 'PATCH', '/api/v1/sectors/{code}', '/api/v1/sectors/water', { name: { ja: '水'.repeat(201) } }, 'name.ja');
  add('sector patch: code not writable', 'PATCH', '/api/v1/sectors/{code}', '/api/v1/sectors/water', { code: 'h2o' }, 'code', { reason: 'unknown field' });
  // tokens
  add('token: missing name', 'POST', '/api/v1/tokens', '/api/v1/tokens', { expires_in_days: 5 }, 'name');
  add('token: name wrong type', 'POST', '/api/v1/tokens', '/api/v1/tokens', { name: { x: 1 } }, 'name');
  add('token: expires_in_days 0', 'POST', '/api/v1/tokens', '/api/v1/tokens', { name: 't', expires_in_days: 0 }, 'expires_in_days');
  add('token: expires_in_days 366', 'POST', '/api/v1/tokens', '/api/v1/tokens', { name: 't', expires_in_days: 366 }, 'expires_in_days');
  add('token: expires_in_days string', 'POST', '/api/v1/tokens', '/api/v1/tokens', { name: 't', expires_in_days: '7' }, 'expires_in_days');
  add('token: unknown field', 'POST', '/api/v1/tokens', '/api/v1/tokens', { name: 't', scopes: ['all'] }, 'scopes', { reason: 'unknown field' });
  // session and password
  add('session: missing password', 'POST', '/api/v1/session', '/api/v1/session', { login: 'admin' }, 'password', { noAuth: true });
  add('session: unknown field', 'POST', '/api/v1/session', '/api/v1/session', { login: 'admin', password: 'x', remember: true }, 'remember', { noAuth: true, reason: 'unknown field' });
  add('password: missing current', 'POST', '/api/v1/me/password', '/api/v1/me/password', { new_password: 'long-enough-password' }, 'current_password');
  return C;
}

test('every validation error → 422 problem+json naming the field; the document agrees; nothing is stored', async () => {
  const before = await counts();
  const orgBefore = (await srv.admin('GET', `/api/v1/orgs/${org.id}`)).json;
  const adminBefore = (await srv.admin('GET', `/api/v1/users/${srv.adminUserId}`)).json;
  const failures = [];
  for (const c of cases()) {
    const r = await srv.api(c.method, c.path, { token: c.noAuth ? undefined : srv.adminToken, body: c.body });
    try {
      const p = assertProblem(r, 422, 'validation', [c.field]);
      assertResponse(c.method, c.tpl, r);
      if (c.reason) {
        const e = p.errors.find((x) => x.field === c.field);
        assert.equal(e.reason, c.reason, `reason for ${c.field}`);
      }
      for (const e of p.errors) assert.ok(typeof e.reason === 'string' && e.reason.length > 0, 'every error has a reason');
    } catch (e) {
      failures.push(`${c.label}: ${c.method} ${c.path} ${JSON.stringify(c.body).slice(0, 120)} → ${e.message.split('\n')[0]}`);
    }
    if (c.schema !== false && requestAccepts(c.method, c.tpl, c.body)) {
      failures.push(`${c.label}: api/openapi.json accepts this body`);
    }
  }
  assert.deepEqual(await counts(), before, 'no refused request stored anything');
  assert.deepEqual((await srv.admin('GET', `/api/v1/orgs/${org.id}`)).json, orgBefore, 'refused PATCHes changed nothing');
  assert.deepEqual((await srv.admin('GET', `/api/v1/users/${srv.adminUserId}`)).json, adminBefore, 'refused PATCHes changed nothing');
  const s = await srv.admin('GET', '/api/v1/sectors/water');
  assert.equal(s.json.disabled, false);
  assert.equal(s.json.name.ja, '水道');
  assert.deepEqual(failures, [], `${failures.length} validation cases failed:\n${failures.join('\n')}`);
});

test('several bad fields at once are all reported', async () => {
  const r = await srv.admin('POST', '/api/v1/users', { login: 'x', display_name: 'X', org_id: org.id, roles: ['boss'], locale: 'xx', password: 'short' });
  assertProblem(r, 422, 'validation', ['login', 'roles[0]', 'locale', 'password']);
});

test('the documented request schemas accept the good bodies used in the suite', () => {
  assert.ok(requestAccepts('POST', '/api/v1/orgs', goodOrg()));
  assert.ok(requestAccepts('POST', '/api/v1/orgs', { name: { ja: '調整' }, kind: 'coordinator', tier: 'class1' }));
  assert.ok(requestAccepts('POST', '/api/v1/users', goodUser()));
  assert.ok(requestAccepts('POST', '/api/v1/tokens', { name: 't', expires_in_days: 365 }));
  assert.ok(requestAccepts('POST', '/api/v1/sectors', { code: 'space', name: { ja: '宇宙', en: 'Space' } }));
  assert.ok(requestAccepts('PATCH', '/api/v1/orgs/{id}', { contacts: contacts(20) }));
});

test('limits are inclusive: 200-char names, 20 contacts, 15 sectors, 64-char login, 12-byte and 1024-byte passwords', async () => {
  const allSectors = (await srv.admin('GET', '/api/v1/sectors')).json.items.map((s) => s.code).slice(0, 15);
  const r = await srv.admin('POST', '/api/v1/orgs', {
    name: { ja: '𠮷'.repeat(200), en: 'e'.repeat(200) }, kind: 'sector_hub', sectors: allSectors, tier: 'class1', contacts: contacts(20),
  });
  assert.equal(r.status, 201, r.text);
  assert.equal([...r.json.name.ja].length, 200);
  assert.equal(r.json.contacts.length, 20);
  assert.deepEqual(r.json.sectors, allSectors);
  const login = `${uniq('l')}.`.padEnd(64, 'z');
  const u = await srv.admin('POST', '/api/v1/users', { ...goodUser(), login, password: 'ｐ'.repeat(4) });
  assert.equal(u.status, 201, `64-char login and 12-byte password: ${u.text}`);
  assert.equal(u.json.login, login);
  assert.equal((await srv.login(login, 'ｐ'.repeat(4))).status, 201);
  const u2 = await srv.admin('POST', '/api/v1/users', { ...goodUser(), password: 'q'.repeat(1024) });
  assert.equal(u2.status, 201, `1024-byte password: ${u2.text}`);
});

test('logins are lower-cased; a taken login → 409 conflict whatever its case; nothing half-written', async () => {
  const base = uniq('Case.User');
  const r = await srv.admin('POST', '/api/v1/users', { ...goodUser(), login: base });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.login, base.toLowerCase());
  const n0 = (await counts()).users;
  const dup = await srv.admin('POST', '/api/v1/users', { ...goodUser(), login: base.toLowerCase() });
  assertProblem(dup, 409, 'conflict');
  assertResponse('POST', '/api/v1/users', dup);
  assertProblem(await srv.admin('POST', '/api/v1/users', { ...goodUser(), login: base.toUpperCase() }), 409, 'conflict');
  assert.equal((await counts()).users, n0);
  assertProblem(await srv.admin('POST', '/api/v1/sectors', { code: 'electricity', name: { en: 'Again' } }), 409, 'conflict');
  assert.equal((await srv.admin('GET', '/api/v1/sectors/electricity')).json.name.en, 'Electric power');

  // A create refused late (bad second role) leaves no user and does not reserve the login.
  const login = uniq('late');
  assertProblem(await srv.admin('POST', '/api/v1/users', { ...goodUser(), login, roles: ['member', 'bogus'] }), 422, 'validation', ['roles[1]']);
  assert.equal((await counts()).users, n0);
  assert.equal((await srv.login(login, 'valid-password-12')).status, 401);
  const ok = await srv.admin('POST', '/api/v1/users', { ...goodUser(), login });
  assert.equal(ok.status, 201, `login free after the refused create: ${ok.text}`);
});

test('bad query parameters → 400 bad-request naming the parameter', async () => {
  const lists = ['/api/v1/orgs', '/api/v1/users', '/api/v1/tokens'];
  const failures = [];
  for (const p of lists) {
    for (const [q, field] of [['limit=0', 'limit'], ['limit=201', 'limit'], ['limit=-1', 'limit'], ['limit=abc', 'limit'],
      ['limit=1.5', 'limit'], ['limit=10x', 'limit'], ['limit=99999999999999999999', 'limit'],
      ['limit=5%00x', 'limit'], ['cursor=not%20a%20cursor!', 'cursor'], ['cursor=%00', 'cursor'],
      ['cursor=MDE5MzZhOGU', 'cursor']]) {
      const r = await srv.admin('GET', `${p}?${q}`);
      try {
        assertProblem(r, 400, 'bad-request', [field]);
        assertResponse('GET', p, r);
      } catch (e) { failures.push(`GET ${p}?${q}: ${e.message.split('\n')[0].slice(0, 160)}`); }
    }
    for (const q of ['limit=1', 'limit=200']) {
      const r = await srv.admin('GET', `${p}?${q}`);
      if (r.status !== 200) failures.push(`GET ${p}?${q}: ${r.status}`);
      else if (r.json.items.length > Number(q.split('=')[1])) failures.push(`GET ${p}?${q}: ${r.json.items.length} items`);
    }
  }
  const filters = [
    ['/api/v1/orgs', 'kind=bank', 'kind'], ['/api/v1/orgs', 'tier=platinum', 'tier'], ['/api/v1/orgs', 'sector=Not%20A%20Code', 'sector'],
    ['/api/v1/orgs', 'include_disabled=maybe', 'include_disabled'], ['/api/v1/orgs', `q=${'q'.repeat(201)}`, 'q'],
    ['/api/v1/users', 'role=root', 'role'], ['/api/v1/users', 'org_id=acme', 'org_id'], ['/api/v1/users', 'include_disabled=2', 'include_disabled'],
    ['/api/v1/tokens', 'user_id=acme', 'user_id'], ['/api/v1/sectors', 'include_disabled=maybe', 'include_disabled'],
  ];
  for (const [p, q, field] of filters) {
    const r = await srv.admin('GET', `${p}?${q}`);
    try { assertProblem(r, 400, 'bad-request', [field]); } catch (e) { failures.push(`GET ${p}?${q}: ${e.message.split('\n')[0].slice(0, 160)}`); }
  }
  // Sectors and tiers are reference data: one page, whatever limit says.
  const sec = await srv.admin('GET', '/api/v1/sectors?limit=1');
  assert.equal(sec.json.items.length, 15);
  assert.equal(sec.json.next_cursor, null);
  assert.deepEqual(failures, [], failures.join('\n'));
});

test('malformed JSON and invalid UTF-8 → 400 malformed-json; nothing created', async () => {
  const before = await counts();
  const name = uniq('Broken ');
  const bodies = [
    ['truncated', `{"name":{"en":"${name}"},"kind":"vendor","tier":"gen`],
    ['trailing garbage', `{"name":{"en":"${name}"},"kind":"vendor","tier":"general"} x`],
    ['two documents', `{"name":{"en":"${name}"},"kind":"vendor","tier":"general"}{}`],
    ['single quotes', `{'name':{'en':'${name}'},'kind':'vendor','tier':'general'}`],
    ['trailing comma', `{"name":{"en":"${name}"},"kind":"vendor","tier":"general",}`],
    ['empty body', ''],
    ['bare word', 'hello'],
    ['raw control char in string', `{"name":{"en":"a\u0001b"},"kind":"vendor","tier":"general"}`],
    ['bad escape', `{"name":{"en":"a\\qb"},"kind":"vendor","tier":"general"}`],
    ['deep unterminated nesting', '['.repeat(60000)],
  ];
  for (const [label, text] of bodies) {
    const r = await srv.admin('POST', '/api/v1/orgs', text);
    assertProblem(r, 400, 'malformed-json');
    assertResponse('POST', '/api/v1/orgs', r);
    assert.ok(r.status === 400, label);
  }
  const head = Buffer.from('{"name":{"en":"');
  const tail = Buffer.from('"},"kind":"vendor","tier":"general"}');
  for (const [label, bad] of [
    ['lone 0xff', [0xff]], ['truncated 3-byte seq', [0xe6, 0x97]], ['overlong slash', [0xc0, 0xaf]],
    ['UTF-16 surrogate encoded', [0xed, 0xa0, 0x80]], ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]], ['latin-1 é', [0xe9]],
  ]) {
    const r = await srv.admin('POST', '/api/v1/orgs', Buffer.concat([head, Buffer.from(name), Buffer.from(bad), tail]));
    try { assertProblem(r, 400, 'malformed-json'); } catch (e) { throw new Error(`${label}: ${e.message}`); }
  }
  // A Shift_JIS body (common in Japan) is not UTF-8.
  const sjis = Buffer.concat([head, Buffer.from([0x93, 0x64, 0x97, 0xcd]), tail]); // 電力 in Shift_JIS
  assertProblem(await srv.admin('POST', '/api/v1/orgs', sjis), 400, 'malformed-json');
  assert.deepEqual(await counts(), before);
  assert.equal((await srv.listAll(`/api/v1/orgs?include_disabled=true&q=${encodeURIComponent(name)}`)).length, 0);
});

test('a body that is not a JSON object is refused', async () => {
  const deep = `{"name":${'['.repeat(20000)}${']'.repeat(20000)},"kind":"vendor","tier":"general"}`;
  for (const text of ['[]', '"org"', '42', 'null', 'true', deep]) {
    const r = await srv.admin('POST', '/api/v1/orgs', text);
    assert.ok([400, 422].includes(r.status), `${text.slice(0, 40)}: ${r.status}`);
    assert.match(r.contentType, /^application\/problem\+json/);
  }
});

test('Content-Type other than application/json → 415; with charset=utf-8 it is fine', async () => {
  const before = await counts();
  const body = JSON.stringify({ name: { en: uniq('CT ') }, kind: 'vendor', tier: 'general' });
  for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp', 'application/json-patch+json', 'text/json']) {
    const r = await srv.admin('POST', '/api/v1/orgs', body, { contentType: ct });
    assertProblem(r, 415, 'unsupported-media-type');
    assertResponse('POST', '/api/v1/orgs', r);
  }
  assertProblem(await srv.admin('POST', '/api/v1/orgs', body, { contentType: null }), 415, 'unsupported-media-type');
  assertProblem(await srv.admin('PATCH', `/api/v1/orgs/${org.id}`, JSON.stringify({ name: { en: 'x' } }), { contentType: 'text/plain' }), 415, 'unsupported-media-type');
  assertProblem(await srv.admin('POST', '/api/v1/tokens', JSON.stringify({ name: 'x' }), { contentType: 'text/plain' }), 415, 'unsupported-media-type');
  assert.deepEqual(await counts(), before);
  assert.equal((await srv.admin('GET', `/api/v1/orgs/${org.id}`)).json.name.en, 'Validation Org');

  for (const ct of ['application/json; charset=utf-8', 'application/json;charset=UTF-8', 'Application/JSON']) {
    const ok = await srv.admin('POST', '/api/v1/orgs', JSON.stringify({ name: { en: uniq('CT ') }, kind: 'vendor', tier: 'general' }), { contentType: ct });
    assert.equal(ok.status, 201, `${ct}: ${ok.text}`);
  }
});

test('oversize bodies → 413 too-large, nothing created (64 KiB API limit, 1 MiB global, chunked too)', async () => {
  const before = await counts();
  const name = uniq('Huge ');
  const padded = (bytes) => {
    const core = JSON.stringify({ name: { en: name }, kind: 'vendor', tier: 'general' });
    return core.slice(0, -1) + ' '.repeat(bytes - core.length) + '}';
  };
  const ok = padded(60 * 1024);
  const r0 = await srv.admin('POST', '/api/v1/orgs', ok.replace(name, `${name}-small`));
  assert.equal(r0.status, 201, `60 KiB of valid JSON is accepted: ${r0.text.slice(0, 200)}`);

  for (const size of [64 * 1024 + 1, 100 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024]) {
    const r = await rawRequest(srv.port, {
      method: 'POST', path: '/api/v1/orgs', body: padded(size),
      headers: { authorization: `Bearer ${srv.adminToken}`, 'content-type': 'application/json', 'content-length': String(size) },
    });
    assert.equal(r.status, 413, `${size} bytes: ${r.status} ${r.text.slice(0, 200)}`);
    assert.match(r.headers['content-type'] || '', /^application\/problem\+json/);
    assert.equal(r.json?.type, 'urn:isac:problem:too-large');
  }
  // Chunked, no Content-Length: the limit holds while streaming.
  const big = padded(200 * 1024);
  const chunks = [];
  for (let i = 0; i < big.length; i += 8192) chunks.push(big.slice(i, i + 8192));
  const rc = await rawRequest(srv.port, {
    method: 'POST', path: '/api/v1/orgs', chunks,
    headers: { authorization: `Bearer ${srv.adminToken}`, 'content-type': 'application/json' },
  });
  assert.equal(rc.status, 413, `chunked 200 KiB: ${rc.status} ${rc.text.slice(0, 200)}`);
  assert.equal(rc.json?.type, 'urn:isac:problem:too-large');
  // Unauthenticated oversize bodies are refused too (401 or 413), never read to the end and stored.
  const ru = await rawRequest(srv.port, {
    method: 'POST', path: '/api/v1/session', body: 'x'.repeat(2 * 1024 * 1024),
    headers: { 'content-type': 'application/json', 'content-length': String(2 * 1024 * 1024) },
  });
  assert.equal(ru.status, 413, `2 MiB to /session: ${ru.status} ${ru.text.slice(0, 200)}`);

  const after = await counts();
  assert.deepEqual(after, { ...before, orgs: before.orgs + 1 });
  const found = await srv.listAll('/api/v1/orgs?include_disabled=true');
  assert.equal(found.filter((o) => o.name.en === name).length, 0, 'no oversize org stored');
  // The server is still fine.
  assert.equal((await srv.api('GET', '/healthz')).status, 200);
});

test('request headers: up to 16 KiB together are served, more is 413 problem+json', async () => {
  // 15 KiB of headers in 30 headers of 512 bytes: served (the per-connection buffer holds them).
  const pad = (n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-pad-${i}`, 'p'.repeat(500)]));
  const ok = await rawRequest(srv.port, {
    method: 'GET', path: '/api/v1/me', headers: { authorization: `Bearer ${srv.adminToken}`, ...pad(30) },
  });
  assert.equal(ok.status, 200, `15 KiB of headers: ${ok.status} ${ok.text.slice(0, 200)}`);
  const big = await rawRequest(srv.port, {
    method: 'GET', path: '/api/v1/me', headers: { authorization: `Bearer ${srv.adminToken}`, ...pad(34) },
  });
  assert.equal(big.status, 413, `17 KiB of headers: ${big.status} ${big.text.slice(0, 200)}`);
  assert.equal(big.json?.type, 'urn:isac:problem:too-large');
  assert.equal((await srv.api('GET', '/healthz')).status, 200);
});

test('Japanese text round-trips byte for byte (4-byte chars, combining marks, NFD, ZWJ)', async () => {
  const nameJa = '𠮷野家ホールディングス（テスト）・か\u3099き\u3099く\u3099・ﾃｽﾄ・髙﨑・①・👩‍💻・e\u0301';
  const nameEn = 'Yoshinoya\u00a0Test — “quotes” \\ back\\slash / "dq" <b>&amp;</b>';
  const created = await srv.admin('POST', '/api/v1/orgs', { name: { ja: nameJa, en: nameEn }, kind: 'operator', sectors: ['logistics'], tier: 'general' });
  assert.equal(created.status, 201, created.text);
  const same = (got, want, what) => assert.ok(Buffer.from(got, 'utf8').equals(Buffer.from(want, 'utf8')),
    `${what}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
  same(created.json.name.ja, nameJa, 'create org name.ja');
  same(created.json.name.en, nameEn, 'create org name.en');
  const got = await srv.admin('GET', `/api/v1/orgs/${created.json.id}`);
  same(got.json.name.ja, nameJa, 'get org name.ja');
  same(got.json.name.en, nameEn, 'get org name.en');
  const listed = (await srv.listAll('/api/v1/orgs')).find((o) => o.id === created.json.id);
  same(listed.name.ja, nameJa, 'list org name.ja');
  assert.notEqual(nameJa.normalize('NFC'), nameJa, 'the test string is not NFC');

  const display = '𠮷田\u3000太郎\u0301（ｶﾀｶﾅ）🇯🇵';
  const u = await srv.admin('POST', '/api/v1/users', { ...goodUser(), display_name: display, locale: 'ja' });
  assert.equal(u.status, 201, u.text);
  same(u.json.display_name, display, 'create user display_name');
  same((await srv.admin('GET', `/api/v1/users/${u.json.id}`)).json.display_name, display, 'get user display_name');
  same((await srv.listAll('/api/v1/users')).find((x) => x.id === u.json.id).display_name, display, 'list user display_name');

  const patched = '改名後の名前・𩸽（ほっけ）';
  const p = await srv.admin('PATCH', `/api/v1/orgs/${created.json.id}`, { name: { ja: patched, en: nameEn } });
  assert.equal(p.status, 200, p.text);
  same((await srv.admin('GET', `/api/v1/orgs/${created.json.id}`)).json.name.ja, patched, 'patched name.ja');
  // JSON \u escapes (incl. surrogate pairs) decode to the same characters.
  const escaped = '{"name":{"ja":"\\ud842\\udfb7\\u91ce"},"kind":"vendor","tier":"general"}';
  const e = await srv.admin('POST', '/api/v1/orgs', escaped);
  assert.equal(e.status, 201, e.text);
  same(e.json.name.ja, '𠮷野', 'escaped surrogate pair');
  // The raw response is UTF-8.
  assert.ok(Buffer.from(got.text, 'utf8').equals(got.raw), 'response is valid UTF-8');
});

test('a NUL character in a name is refused or kept intact, never truncated', async () => {
  const name = 'before\u0000after';
  const r = await srv.admin('POST', '/api/v1/orgs', { name: { en: name }, kind: 'vendor', tier: 'general' });
  if (r.status === 201) {
    assert.equal((await srv.admin('GET', `/api/v1/orgs/${r.json.id}`)).json.name.en, name);
  } else if (r.status === 400) {
    assertProblem(r, 400, 'malformed-json');
  } else {
    assertProblem(r, 422, 'validation', ['name.en']);
  }
});
