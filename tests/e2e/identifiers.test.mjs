// Organisation identifiers (what the anonymizer always redacts) and the anonymizer's rules
// (issue 4): validation and normalisation of identifiers, who reads and who writes them
// (the org itself, the coordinator, admins; never another member), `isac org add|update
// --identifiers`, and GET/PUT /api/v1/anon-rules with its permissions, errors and audit entry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startServer, assertProblem, runCli, uniq } from './lib/server.mjs';
import { assertResponse } from './lib/openapi.mjs';
import { orgWithUser, userOf } from './lib/reports.mjs';

const EMPTY = { aliases: [], domains: [], ip_ranges: [], hostnames: [], persons: [] };
const IDENTS_IN = {
  aliases: [' 甲電力 ', '甲電力', 'Kou Power\u3000'],
  domains: ['Kou-Power.Example.JP.', 'kou-power.example.jp'],
  ip_ranges: ['192.0.2.77/24', '2001:DB8:0:0::1'],
  hostnames: ['SCADA-GW01'],
  persons: ['山田 太郎'],
};
const IDENTS = {
  aliases: ['甲電力', 'Kou Power'],
  domains: ['kou-power.example.jp'],
  ip_ranges: ['192.0.2.0/24', '2001:db8::1'],
  hostnames: ['scada-gw01'],
  persons: ['山田 太郎'],
};

let srv;
let a;          // operator A: {org, user, token} (member)
let aAdmin;     // org_admin of A
let b;          // operator B: member
let bAdmin;     // org_admin of B
let bAuditor;   // auditor of B: reads the directory, not others' identifiers
let coordAna;   // coordinator analyst (no directory role)
let coordDir;   // coordinator analyst + auditor: reads the directory and identifiers
let coordAud;   // coordinator auditor only
let coordMember; // coordinator member (not an analyst)

before(async () => {
  srv = await startServer();
  a = await orgWithUser(srv, { sectors: ['electricity'], identifiers: IDENTS_IN });
  aAdmin = await userOf(srv, a.org, { roles: ['org_admin'] });
  b = await orgWithUser(srv, { sectors: ['finance'], identifiers: { aliases: ['乙銀行'] } });
  bAdmin = await userOf(srv, b.org, { roles: ['org_admin'] });
  bAuditor = await userOf(srv, b.org, { roles: ['auditor'] });
  const coord = { id: srv.coordOrgId };
  coordAna = await userOf(srv, coord, { roles: ['analyst'] });
  coordDir = await userOf(srv, coord, { roles: ['analyst', 'auditor'] });
  coordAud = await userOf(srv, coord, { roles: ['auditor'] });
  coordMember = await userOf(srv, coord, { roles: ['member'] });
});
after(async () => { await srv?.cleanup(); });

const as = (who) => (method, path, body) => srv.api(method, path, { token: who.token, body });

test('identifiers are normalised on create; every org has all five lists', async () => {
  assert.deepEqual(a.org.identifiers, IDENTS, 'trimmed, lower-cased, canonical, duplicates dropped');
  const plain = await srv.createOrg({ kind: 'vendor', sectors: [], tier: 'class2' });
  assert.deepEqual(plain.identifiers, EMPTY);
  const g = await srv.admin('GET', `/api/v1/orgs/${a.org.id}`);
  assert.equal(g.status, 200, g.text);
  assertResponse('GET', '/api/v1/orgs/{id}', g);
  assert.deepEqual(g.json.identifiers, IDENTS);
});

test('invalid identifiers: 422 naming each entry, nothing written', async () => {
  const name = uniq('Bad ');
  const r = await srv.admin('POST', '/api/v1/orgs', {
    name: { en: name }, kind: 'operator', sectors: ['gas'], tier: 'general',
    identifiers: {
      aliases: ['x', 'ok alias'],
      domains: ['a.example', 'not a domain', 'under_score.example'],
      ip_ranges: ['192.0.2.0/33', '10.0.0.1'],
      hostnames: ['host name'],
      persons: [5],
      emails: [],
    },
  });
  assertResponse('POST', '/api/v1/orgs', r);
  assertProblem(r, 422, 'validation', [
    'identifiers.aliases[0]', 'identifiers.domains[1]', 'identifiers.domains[2]',
    'identifiers.ip_ranges[0]', 'identifiers.hostnames[0]', 'identifiers.persons[0]',
    'identifiers.emails',
  ]);
  assert.equal(r.json.errors.length, 7, JSON.stringify(r.json.errors));
  const orgs = await srv.listAll(`/api/v1/orgs?q=${encodeURIComponent(name)}`);
  assert.equal(orgs.length, 0, 'no org created');

  for (const [body, fields] of [
    [{ identifiers: [] }, ['identifiers']],
    [{ identifiers: { domains: 'a.example' } }, ['identifiers.domains']],
    [{ identifiers: { domains: Array.from({ length: 65 }, (_, i) => `h${i}.example`) } }, ['identifiers.domains']],
    [{ identifiers: { aliases: ['a'.repeat(256)] } }, ['identifiers.aliases[0]']],
    [{ identifiers: { persons: ['   '] } }, ['identifiers.persons[0]']],
  ]) {
    const p = await srv.admin('PATCH', `/api/v1/orgs/${a.org.id}`, body);
    assertProblem(p, 422, 'validation', fields);
  }
  assert.deepEqual((await srv.admin('GET', `/api/v1/orgs/${a.org.id}`)).json.identifiers, IDENTS);

  // At the limits: 64 entries of 255 bytes in every list. All five exceed one 64 KiB body
  // (413, nothing written); a PATCH replaces only the lists it names, so one list at a time works.
  const full = {};
  for (const k of ['aliases', 'persons']) full[k] = Array.from({ length: 64 }, (_, i) => `${k}${i}`.padEnd(255, 'x'));
  full.domains = Array.from({ length: 64 }, (_, i) => `${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(63)}.${'g'.repeat(50)}.h${i}.ex`);
  full.hostnames = Array.from({ length: 64 }, (_, i) => `host-${i}-${'h'.repeat(245)}`);
  full.ip_ranges = Array.from({ length: 64 }, (_, i) => `2001:db8:${(i + 1).toString(16)}::/48`);
  assert.ok(Buffer.byteLength(JSON.stringify({ identifiers: full })) > 64 * 1024, 'all five lists exceed 64 KiB');
  const big = await srv.createOrg({ kind: 'operator', sectors: ['gas'] });
  assertProblem(await srv.admin('PATCH', `/api/v1/orgs/${big.id}`, { identifiers: full }), 413, 'too-large');
  assert.deepEqual((await srv.admin('GET', `/api/v1/orgs/${big.id}`)).json.identifiers, EMPTY);
  for (const k of Object.keys(full)) {
    const p = await srv.admin('PATCH', `/api/v1/orgs/${big.id}`, { identifiers: { [k]: full[k] } });
    assert.equal(p.status, 200, `${k}: ${p.text.slice(0, 300)}`);
  }
  const g2 = await srv.admin('GET', `/api/v1/orgs/${big.id}`);
  assertResponse('GET', '/api/v1/orgs/{id}', g2);
  for (const k of Object.keys(full)) assert.deepEqual(g2.json.identifiers[k], full[k], k);
});

test('who reads identifiers: the org, the coordinator, admins; never another member', async () => {
  const get = async (who, id = a.org.id) => {
    const r = await as(who)('GET', `/api/v1/orgs/${id}`);
    if (r.status === 200) assertResponse('GET', '/api/v1/orgs/{id}', r);
    return r;
  };
  for (const who of [a, aAdmin, coordDir]) {
    const r = await get(who);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.identifiers, IDENTS, `${who.user.login} sees the identifiers`);
  }
  assert.deepEqual((await srv.admin('GET', `/api/v1/orgs/${a.org.id}`)).json.identifiers, IDENTS);

  // Directory readers outside the org and the coordinator get the org without identifiers.
  for (const who of [bAuditor, coordAud]) {
    const r = await get(who);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.name.en, a.org.name.en);
    assert.equal('identifiers' in r.json, false, `${who.user.login} must not see A's identifiers`);
  }
  const own = await get(bAuditor, b.org.id);
  assert.deepEqual(own.json.identifiers.aliases, ['乙銀行'], "B's auditor sees B's own identifiers");

  // The list applies the same rule per org.
  const list = await srv.listAll('/api/v1/orgs', { token: bAuditor.token });
  const la = list.find((o) => o.id === a.org.id), lb = list.find((o) => o.id === b.org.id);
  assert.ok(la && lb);
  assert.equal('identifiers' in la, false);
  assert.deepEqual(lb.identifiers.aliases, ['乙銀行']);
  const l2 = await as(bAuditor)('GET', '/api/v1/orgs?limit=200');
  assertResponse('GET', '/api/v1/orgs', l2);
  const dirList = await srv.listAll('/api/v1/orgs', { token: coordDir.token });
  assert.deepEqual(dirList.find((o) => o.id === a.org.id).identifiers, IDENTS);

  // Others cannot read the org at all.
  assertProblem(await get(b), 404, 'not-found');
  assertProblem(await get(bAdmin), 404, 'not-found');

  // /me and the login answer carry the caller's own org with its identifiers.
  const me = await as(a)('GET', '/api/v1/me');
  assert.equal(me.status, 200, me.text);
  assertResponse('GET', '/api/v1/me', me);
  assert.deepEqual(me.json.org.identifiers, IDENTS);
});

test("who writes identifiers: admins and the org's own org_admin", async () => {
  const mine = { aliases: ['甲電力', 'KOU'], persons: ['Taro Yamada'] };
  const p = await as(aAdmin)('PATCH', `/api/v1/orgs/${a.org.id}`, { identifiers: mine });
  assert.equal(p.status, 200, p.text);
  assertResponse('PATCH', '/api/v1/orgs/{id}', p);
  assert.deepEqual(p.json.identifiers, { ...IDENTS, ...mine }, 'only the lists given are replaced');

  assertProblem(await as(a)('PATCH', `/api/v1/orgs/${a.org.id}`, { identifiers: { aliases: [] } }), 403, 'forbidden');
  assertProblem(await as(aAdmin)('PATCH', `/api/v1/orgs/${a.org.id}`, { identifiers: { aliases: [] }, tier: 'class1' }), 403, 'forbidden');
  const other = await as(bAdmin)('PATCH', `/api/v1/orgs/${a.org.id}`, { identifiers: { aliases: ['hijacked'] } });
  assert.ok([403, 404].includes(other.status), `org_admin of B patching A: ${other.status}`);
  const ca = await as(coordAna)('PATCH', `/api/v1/orgs/${a.org.id}`, { identifiers: { aliases: ['by coordinator'] } });
  assert.ok([403, 404].includes(ca.status), `coordinator analyst patching A: ${ca.status}`);
  assert.deepEqual((await srv.admin('GET', `/api/v1/orgs/${a.org.id}`)).json.identifiers, { ...IDENTS, ...mine });

  const ad = await srv.admin('PATCH', `/api/v1/orgs/${a.org.id}`, { identifiers: IDENTS });
  assert.equal(ad.status, 200, ad.text);
  assert.deepEqual(ad.json.identifiers, IDENTS);

  // An admin's answer about another org keeps the identifiers; the audit names the field only.
  const audit = await srv.api('GET', `/api/v1/audit?action=org.update&object_id=${a.org.id}`, { token: coordAud.token });
  assert.equal(audit.status, 200, audit.text);
  const e = audit.json.items.find((x) => x.actor.login === aAdmin.user.login);
  assert.ok(e, 'org.update by the org_admin recorded');
  assert.deepEqual(e.detail.changed, ['identifiers']);
  assert.equal(JSON.stringify(audit.json).includes('Taro Yamada'), false, 'no identifier values in the audit log');
});

test('CLI: org add --identifiers FILE, org update --identifiers -', async () => {
  const file = join(srv.dataDir, 'idents.json');
  await writeFile(file, JSON.stringify({ domains: ['CLI.Example.JP'], hostnames: ['Gw-1'] }));
  const id = await srv.cliData('org', 'add', ['--name', uniq('CLI org '), '--kind', 'operator',
    '--sector', 'gas', '--tier', 'general', '--identifiers', file]);
  let g = await srv.admin('GET', `/api/v1/orgs/${id}`);
  assert.equal(g.status, 200, g.text);
  assert.deepEqual(g.json.identifiers, { ...EMPTY, domains: ['cli.example.jp'], hostnames: ['gw-1'] });

  const up = await runCli(['org', 'update', '--data', srv.dataDir, '--id', id, '--identifiers', '-'],
    { input: JSON.stringify({ ip_ranges: ['198.51.100.7/24'] }) });
  assert.equal(up.code, 0, up.stderr);
  g = await srv.admin('GET', `/api/v1/orgs/${id}`);
  assert.deepEqual(g.json.identifiers, { ...EMPTY, domains: ['cli.example.jp'], hostnames: ['gw-1'], ip_ranges: ['198.51.100.0/24'] });

  const bad = await runCli(['org', 'update', '--data', srv.dataDir, '--id', id, '--identifiers', '-'],
    { input: JSON.stringify({ domains: ['not a domain'] }) });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /identifiers\.domains\[0\]/);
  const notJson = await runCli(['org', 'update', '--data', srv.dataDir, '--id', id, '--identifiers', '-'], { input: '{' });
  assert.equal(notJson.code, 1);
  assert.match(notJson.stderr, /cannot read identifiers/);
  assert.deepEqual((await srv.admin('GET', `/api/v1/orgs/${id}`)).json.identifiers.domains, ['cli.example.jp']);
});

test('anon-rules: coordinator analysts and admins read them; others 403', async () => {
  for (const who of [coordAna, { token: srv.adminToken }]) {
    const r = await as(who)('GET', '/api/v1/anon-rules');
    assert.equal(r.status, 200, r.text);
    assertResponse('GET', '/api/v1/anon-rules', r);
    assert.ok(r.json.builtin.length > 0, 'built-in rules listed');
    assert.ok(r.json.builtin.some((x) => x.kind === 'email'));
    assert.deepEqual(r.json.custom, []);
    assert.equal(r.json.updated_at, null);
  }
  for (const who of [a, aAdmin, coordMember, coordAud, bAuditor]) {
    const r = await as(who)('GET', '/api/v1/anon-rules');
    assertResponse('GET', '/api/v1/anon-rules', r);
    assertProblem(r, 403, 'forbidden');
  }
  const w = await as(coordAna)('PUT', '/api/v1/anon-rules', { custom: [] });
  assertResponse('PUT', '/api/v1/anon-rules', w);
  assertProblem(w, 403, 'forbidden');
  assertProblem(await as(aAdmin)('PUT', '/api/v1/anon-rules', { custom: [] }), 403, 'forbidden');
});

test('anon-rules: PUT validates by compiling built-in and custom rules together', async () => {
  const put = (body) => srv.admin('PUT', '/api/v1/anon-rules', body);
  const ok = { id: 'plant-code', kind: 'plant', pattern: 'PLANT-[0-9]{4}' };

  const r = await put({ custom: [{ id: 'bad', kind: 'x', pattern: 'a(b' }] });
  assertResponse('PUT', '/api/v1/anon-rules', r);
  assertProblem(r, 422, 'validation', ['custom[0].pattern']);
  const reason = r.json.errors.find((e) => e.field === 'custom[0].pattern').reason;
  assert.match(reason, /parenthes/i, `PCRE2's message: ${reason}`);

  const builtinId = (await srv.admin('GET', '/api/v1/anon-rules')).json.builtin[0].id;
  let d = await put({ custom: [ok, { ...ok, pattern: 'X' }] });
  assertProblem(d, 422, 'validation', ['custom[1].id']);
  assert.match(d.json.errors[0].reason, /custom\[0\]/, 'names the first with the same id as sent');
  d = await put({ custom: [{ ...ok, id: builtinId }] });
  assertProblem(d, 422, 'validation', ['custom[0].id']);

  assertProblem(await put({ custom: [{ ...ok, colour: 'red' }] }), 422, 'validation', ['custom[0].colour']);
  assertProblem(await put({ custom: [{ ...ok, kind: 'Bad Kind' }] }), 422, 'validation', ['custom[0].kind']);
  assertProblem(await put({ custom: [{ ...ok, id: 'org:name' }] }), 422, 'validation', ['custom[0].id']);
  assertProblem(await put({ custom: [5] }), 422, 'validation', ['custom[0]']);
  assertProblem(await put({}), 422, 'validation', ['custom']);
  assertProblem(await put({ custom: {} }), 422, 'validation', ['custom']);
  assertProblem(await put({ custom: [], extra: 1 }), 422, 'validation', ['extra']);
  assertProblem(await put({ custom: Array.from({ length: 300 }, (_, i) => ({ ...ok, id: `r${i}` })) }), 422, 'validation', ['custom']);
  assert.equal((await srv.admin('GET', '/api/v1/anon-rules')).json.updated_at, null, 'nothing stored');

  const before = Math.floor(Date.now() / 1000) - 1;
  const rule2 = { id: 'ticket', kind: 'ticket', pattern: 'INC[0-9]+', description: '社内チケット番号', caseless: false };
  const s = await put({ custom: [ok, rule2] });
  assert.equal(s.status, 200, s.text);
  assertResponse('PUT', '/api/v1/anon-rules', s);
  assert.deepEqual(s.json.custom, [ok, rule2]);
  assert.ok(s.json.updated_at >= before);
  const g = await as(coordAna)('GET', '/api/v1/anon-rules');
  assert.deepEqual(g.json.custom, [ok, rule2]);
  assert.equal(g.json.updated_at, s.json.updated_at);
  assert.deepEqual(g.json.builtin, s.json.builtin);

  const audit = await srv.api('GET', '/api/v1/audit?action=anon_rules.update', { token: coordAud.token });
  assert.equal(audit.status, 200, audit.text);
  assert.equal(audit.json.items.length, 1, 'only the accepted PUT is recorded');
  const e = audit.json.items[0];
  assert.equal(e.actor.login, 'admin');
  assert.equal(e.outcome, 'ok');
  assert.deepEqual(e.detail.custom_ids, ['plant-code', 'ticket']);

  const clear = await put({ custom: [] });
  assert.equal(clear.status, 200, clear.text);
  assert.deepEqual(clear.json.custom, []);
  assert.equal(typeof clear.json.updated_at, 'number');
});
