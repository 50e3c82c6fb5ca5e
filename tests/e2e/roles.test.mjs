// Role checks: admin manages all; org_admin only its own org; member sees only itself;
// auditor reads the directory but writes nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertProblem, uniq } from './lib/server.mjs';
import { assertResponse } from './lib/openapi.mjs';

let srv;
let orgA, orgB;
let oa, ma, mb, au; // {user, token} for org_admin A, member A, member B, auditor
before(async () => {
  srv = await startServer();
  orgA = await srv.createOrg({ name: { ja: '甲電力', en: 'Org A Power' }, kind: 'operator', sectors: ['electricity'], tier: 'class2' });
  orgB = await srv.createOrg({ name: { ja: '乙銀行', en: 'Org B Bank' }, kind: 'operator', sectors: ['finance'], tier: 'general' });
  oa = await srv.userWithToken({ org_id: orgA.id, roles: ['org_admin'], login: uniq('oa') });
  ma = await srv.userWithToken({ org_id: orgA.id, roles: ['member'], login: uniq('ma') });
  mb = await srv.userWithToken({ org_id: orgB.id, roles: ['member'], login: uniq('mb') });
  au = await srv.userWithToken({ org_id: srv.coordOrgId, roles: ['auditor'], login: uniq('au') });
});
after(async () => { await srv?.cleanup(); });

const as = (who) => (method, path, body) => srv.api(method, path, { token: who.token, body });
const newUser = (org, extra = {}) => ({
  login: uniq('n'), display_name: 'New User', org_id: org.id, roles: ['member'], password: 'new-user-password', ...extra,
});
const userCount = async () => (await srv.listAll('/api/v1/users?include_disabled=true')).length;
const orgCount = async () => (await srv.listAll('/api/v1/orgs?include_disabled=true')).length;

test('admin manages everything', async () => {
  const orgs = await srv.listAll('/api/v1/orgs');
  for (const o of [orgA, orgB]) assert.ok(orgs.some((x) => x.id === o.id));
  assert.ok(orgs.some((x) => x.id === srv.coordOrgId));
  const users = await srv.listAll('/api/v1/users');
  for (const u of [oa, ma, mb, au]) assert.ok(users.some((x) => x.id === u.user.id));

  const p = await srv.admin('PATCH', `/api/v1/orgs/${orgB.id}`, { tier: 'class1', contacts: [{ type: 'url', value: 'https://b.example.jp/' }] });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.json.tier, 'class1');
  const u = await srv.admin('POST', '/api/v1/users', newUser(orgB, { roles: ['admin', 'auditor'] }));
  assert.equal(u.status, 201, u.text);
  assert.deepEqual(u.json.roles.sort(), ['admin', 'auditor']);
  const r = await srv.admin('PATCH', `/api/v1/users/${mb.user.id}`, { roles: ['member', 'analyst'], display_name: 'Changed by admin' });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.roles.sort(), ['analyst', 'member']);
  const toks = await srv.listAll(`/api/v1/tokens?user_id=${ma.user.id}`);
  assert.ok(toks.some((t) => t.id === ma.tokenId), "admin sees another user's tokens");
});

test('org_admin: sees only its own org', async () => {
  const call = as(oa);
  const list = await call('GET', '/api/v1/orgs');
  assert.equal(list.status, 200);
  assertResponse('GET', '/api/v1/orgs', list);
  assert.deepEqual(list.json.items.map((o) => o.id), [orgA.id]);
  assert.equal((await call('GET', `/api/v1/orgs/${orgA.id}`)).status, 200);
  assertProblem(await call('GET', `/api/v1/orgs/${orgB.id}`), 404, 'not-found');
  assertProblem(await call('GET', `/api/v1/orgs/${srv.coordOrgId}`), 404, 'not-found');

  const users = await srv.listAll('/api/v1/users', { token: oa.token });
  assert.ok(users.length >= 2);
  assert.ok(users.every((u) => u.org_id === orgA.id), 'org_admin lists only its org users');
  assert.ok(users.some((u) => u.id === ma.user.id));
  assertProblem(await call('GET', `/api/v1/users/${mb.user.id}`), 404, 'not-found');
  assertProblem(await call('GET', `/api/v1/users/${srv.adminUserId}`), 404, 'not-found');
  const filtered = await call('GET', `/api/v1/users?org_id=${orgB.id}`);
  assert.ok(filtered.status === 403 || filtered.status === 404 || (filtered.status === 200 && filtered.json.items.length === 0),
    `org_admin filtering on another org: ${filtered.status} ${filtered.text.slice(0, 200)}`);
});

test('org_admin: creates users in its own org only, never admin or auditor', async () => {
  const call = as(oa);
  const n0 = await userCount();
  assertProblem(await call('POST', '/api/v1/users', newUser(orgB)), 403, 'forbidden');
  assertProblem(await call('POST', '/api/v1/users', newUser(orgA, { roles: ['admin'] })), 403, 'forbidden');
  assertProblem(await call('POST', '/api/v1/users', newUser(orgA, { roles: ['member', 'auditor'] })), 403, 'forbidden');
  assert.equal(await userCount(), n0, 'refused creates made nobody');

  const ok = await call('POST', '/api/v1/users', newUser(orgA, { roles: ['member', 'org_admin'] }));
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.json.org_id, orgA.id);

  assertProblem(await call('PATCH', `/api/v1/users/${ma.user.id}`, { roles: ['admin'] }), 403, 'forbidden');
  assertProblem(await call('PATCH', `/api/v1/users/${ma.user.id}`, { roles: ['member', 'auditor'] }), 403, 'forbidden');
  assert.deepEqual((await srv.admin('GET', `/api/v1/users/${ma.user.id}`)).json.roles, ['member']);
  const p = await call('PATCH', `/api/v1/users/${ok.json.id}`, { roles: ['member', 'analyst'], display_name: '変更済み' });
  assert.equal(p.status, 200, p.text);
  const d = await call('DELETE', `/api/v1/users/${ok.json.id}`);
  assert.equal(d.status, 200, d.text);
  assert.equal(d.json.disabled, true);

  const pb = await call('PATCH', `/api/v1/users/${mb.user.id}`, { display_name: 'hijacked' });
  assert.ok([403, 404].includes(pb.status), `org_admin PATCH user of another org: ${pb.status}`);
  const db = await call('DELETE', `/api/v1/users/${mb.user.id}`);
  assert.ok([403, 404].includes(db.status), `org_admin DELETE user of another org: ${db.status}`);
  const mbNow = (await srv.admin('GET', `/api/v1/users/${mb.user.id}`)).json;
  assert.equal(mbNow.disabled, false);
  assert.notEqual(mbNow.display_name, 'hijacked');
});

test('org_admin: edits name and contacts of its org only', async () => {
  const call = as(oa);
  const p = await call('PATCH', `/api/v1/orgs/${orgA.id}`, {
    name: { ja: '甲電力株式会社', en: 'Org A Power Co.' }, contacts: [{ type: 'email', value: 'csirt@a.example.jp', label: 'CSIRT' }],
  });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.json.name.ja, '甲電力株式会社');
  for (const body of [{ tier: 'class1' }, { kind: 'vendor' }, { sectors: ['gas'] }, { disabled: true }, { name: { en: 'x' }, tier: 'class1' }]) {
    assertProblem(await call('PATCH', `/api/v1/orgs/${orgA.id}`, body), 403, 'forbidden');
  }
  const a = (await srv.admin('GET', `/api/v1/orgs/${orgA.id}`)).json;
  assert.equal(a.tier, 'class2');
  assert.equal(a.kind, 'operator');
  assert.equal(a.disabled, false);
  assert.equal(a.name.en, 'Org A Power Co.', 'a refused PATCH changed nothing, not even the allowed part');

  const pb = await call('PATCH', `/api/v1/orgs/${orgB.id}`, { name: { en: 'hijacked' } });
  assert.ok([403, 404].includes(pb.status), `org_admin PATCH another org: ${pb.status}`);
  assert.notEqual((await srv.admin('GET', `/api/v1/orgs/${orgB.id}`)).json.name.en, 'hijacked');
  const n0 = await orgCount();
  assertProblem(await call('POST', '/api/v1/orgs', { name: { en: 'by org admin' }, kind: 'vendor', tier: 'general' }), 403, 'forbidden');
  assert.equal(await orgCount(), n0);
  assertProblem(await call('DELETE', `/api/v1/orgs/${orgA.id}`), 403, 'forbidden');
  assertProblem(await call('POST', '/api/v1/sectors', { code: 'oaspace', name: { en: 'x' } }), 403, 'forbidden');
  assertProblem(await call('PATCH', '/api/v1/sectors/electricity', { disabled: true }), 403, 'forbidden');
});

test('member: sees only itself and its org; may edit own display_name/locale/email only', async () => {
  const call = as(ma);
  const users = await call('GET', '/api/v1/users');
  assert.equal(users.status, 200);
  assert.deepEqual(users.json.items.map((u) => u.id), [ma.user.id]);
  assertProblem(await call('GET', `/api/v1/users/${oa.user.id}`), 404, 'not-found');
  assertProblem(await call('GET', `/api/v1/users/${mb.user.id}`), 404, 'not-found');
  assert.equal((await call('GET', `/api/v1/users/${ma.user.id}`)).status, 200);
  const orgs = await call('GET', '/api/v1/orgs');
  assert.deepEqual(orgs.json.items.map((o) => o.id), [orgA.id]);
  assert.equal((await call('GET', `/api/v1/orgs/${orgA.id}`)).status, 200);
  assertProblem(await call('GET', `/api/v1/orgs/${orgB.id}`), 404, 'not-found');
  assert.equal((await call('GET', '/api/v1/sectors')).status, 200);
  assert.equal((await call('GET', '/api/v1/tiers')).status, 200);
  const me = await call('GET', '/api/v1/me');
  assert.equal(me.json.user.id, ma.user.id);
  assert.equal(me.json.org.id, orgA.id);
  assert.deepEqual(me.json.sectors.map((x) => x.code), ['electricity']);
  assert.deepEqual(me.json.sectors[0].name, { ja: '電力', en: 'Electric power' });
  assert.equal(me.json.tier.code, 'class2');
  assert.equal(me.json.tier.name.ja, '第二類構成員');

  const p = await call('PATCH', `/api/v1/users/${ma.user.id}`, { display_name: '自分で変えた', locale: 'en', email: 'me@a.example.jp' });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.json.display_name, '自分で変えた');
  for (const body of [{ roles: ['admin'] }, { roles: ['member', 'org_admin'] }, { disabled: true }, { password: 'a-new-password-1' }]) {
    assertProblem(await call('PATCH', `/api/v1/users/${ma.user.id}`, body), 403, 'forbidden');
  }
  assert.deepEqual((await srv.admin('GET', `/api/v1/users/${ma.user.id}`)).json.roles, ['member']);
  const n0 = await userCount();
  assertProblem(await call('POST', '/api/v1/users', newUser(orgA)), 403, 'forbidden');
  assert.equal(await userCount(), n0);
  assertProblem(await call('POST', '/api/v1/orgs', { name: { en: 'by member' }, kind: 'vendor', tier: 'general' }), 403, 'forbidden');
  assertProblem(await call('PATCH', `/api/v1/orgs/${orgA.id}`, { name: { en: 'by member' } }), 403, 'forbidden');
  const d = await call('DELETE', `/api/v1/users/${oa.user.id}`);
  assert.ok([403, 404].includes(d.status), `member DELETE other user: ${d.status}`);
  assert.equal((await srv.admin('GET', `/api/v1/users/${oa.user.id}`)).json.disabled, false);
});

test('auditor: reads all orgs and users, writes nothing', async () => {
  const call = as(au);
  const orgs = await srv.listAll('/api/v1/orgs', { token: au.token });
  for (const o of [orgA, orgB]) assert.ok(orgs.some((x) => x.id === o.id));
  const users = await srv.listAll('/api/v1/users', { token: au.token });
  for (const u of [oa, ma, mb]) assert.ok(users.some((x) => x.id === u.user.id));
  assert.equal((await call('GET', `/api/v1/orgs/${orgB.id}`)).status, 200);
  assert.equal((await call('GET', `/api/v1/users/${mb.user.id}`)).status, 200);

  const n0 = await orgCount();
  const u0 = await userCount();
  assertProblem(await call('POST', '/api/v1/orgs', { name: { en: 'by auditor' }, kind: 'vendor', tier: 'general' }), 403, 'forbidden');
  assertProblem(await call('PATCH', `/api/v1/orgs/${orgA.id}`, { name: { en: 'by auditor' } }), 403, 'forbidden');
  assertProblem(await call('DELETE', `/api/v1/orgs/${orgA.id}`), 403, 'forbidden');
  assertProblem(await call('POST', '/api/v1/users', newUser(orgA)), 403, 'forbidden');
  assertProblem(await call('PATCH', `/api/v1/users/${mb.user.id}`, { display_name: 'by auditor' }), 403, 'forbidden');
  assertProblem(await call('DELETE', `/api/v1/users/${mb.user.id}`), 403, 'forbidden');
  assertProblem(await call('POST', '/api/v1/sectors', { code: 'auditspace', name: { en: 'x' } }), 403, 'forbidden');
  assertProblem(await call('PATCH', '/api/v1/sectors/electricity', { disabled: true }), 403, 'forbidden');
  assert.equal(await orgCount(), n0);
  assert.equal(await userCount(), u0);
  assert.equal((await srv.admin('GET', '/api/v1/sectors/electricity')).json.disabled, false);
  assert.equal((await srv.admin('GET', `/api/v1/orgs/${orgA.id}`)).json.disabled, false);
});

test('sectors: only admin adds and edits them', async () => {
  const r = await srv.admin('POST', '/api/v1/sectors', { code: 'space', name: { ja: '宇宙', en: 'Space' } });
  assert.equal(r.status, 201, r.text);
  assertProblem(await srv.admin('POST', '/api/v1/sectors', { code: 'space', name: { en: 'Space again' } }), 409, 'conflict');
  const p = await srv.admin('PATCH', '/api/v1/sectors/space', { name: { ja: '宇宙産業', en: 'Space industry' } });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.json.name.ja, '宇宙産業');
  const seen = await as(ma)('GET', '/api/v1/sectors/space');
  assert.equal(seen.status, 200);
  assert.equal(seen.json.name.en, 'Space industry');
  // A new sector is usable for orgs at once.
  const o = await srv.createOrg({ sectors: ['space'] });
  assert.deepEqual(o.sectors, ['space']);
  assertProblem(await srv.admin('PATCH', '/api/v1/sectors/nosuch', { disabled: true }), 404, 'not-found');
});
