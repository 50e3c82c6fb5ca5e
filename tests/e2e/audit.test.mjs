// The tamper-evident audit log (issue 4, item 5): logins, admin actions and reads of another
// organisation's report are recorded; auditors search and verify it and read no content;
// `isac audit verify` detects an altered, inserted or removed entry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startServer, assertProblem, runCli, uniq } from './lib/server.mjs';
import { assertResponse } from './lib/openapi.mjs';
import { orgWithUser, userOf, minimal, fileReport } from './lib/reports.mjs';

let srv, op, coord, auditor;

before(async () => {
  srv = await startServer();
  op = await orgWithUser(srv, { sectors: ['electricity'] });
  coord = await userOf(srv, { id: srv.coordOrgId }, { roles: ['analyst'] });
  auditor = await userOf(srv, { id: srv.coordOrgId }, { roles: ['auditor'] });
});
after(async () => { await srv?.cleanup(); });

async function entries(query = '') {
  const r = await srv.api('GET', `/api/v1/audit${query}`, { token: auditor.token });
  assert.equal(r.status, 200, r.text);
  assertResponse('GET', '/api/v1/audit', r);
  return r.json.items;
}

test('logins, failed logins and admin actions are recorded with the actor and the outcome', async () => {
  const u = await srv.createUser({ org_id: op.org.id, login: uniq('alice').toLowerCase() });
  assert.equal((await srv.login(u.login, u.password)).status, 201);
  assert.equal((await srv.login(u.login, 'not-the-password-123')).status, 401);
  const items = await entries(`?limit=200`);
  const ok = items.find((e) => e.action === 'login.success' && e.actor.login === u.login);
  assert.ok(ok, 'login.success recorded');
  assert.equal(ok.outcome, 'ok');
  assert.equal(ok.remote, '127.0.0.1');
  const bad = items.find((e) => e.action === 'login.failure' && e.detail.login === u.login);
  assert.ok(bad, 'login.failure recorded with the login typed');
  assert.equal(bad.outcome, 'denied');
  assert.equal(bad.actor.user_id, null);
  assert.equal(bad.object.id, u.id, 'the refused login names the existing account');
  // An unknown login is kept only as a hash: a password typed into the login field must not stay.
  assert.equal((await srv.login('Pasted-Secret-Passw0rd!', 'whatever-password-1')).status, 401);
  const unknown = (await entries('?action=login.failure')).find((e) => e.detail.unknown_login_hash);
  assert.ok(unknown, 'an unknown login is recorded by hash');
  assert.match(unknown.detail.unknown_login_hash, /^[0-9a-f]{16}$/);
  assert.doesNotMatch(JSON.stringify(await entries('?limit=200')), /Pasted-Secret-Passw0rd/i);
  assert.doesNotMatch(JSON.stringify(items), /not-the-password-123|correct-horse-battery/, 'no password in the log');
  const created = items.find((e) => e.action === 'user.create' && e.object.id === u.id);
  assert.ok(created, 'user.create recorded');
  assert.equal(created.actor.login, 'admin');
  // Filters by actor and action.
  const mine = await entries(`?actor=${encodeURIComponent(u.login)}`);
  assert.ok(mine.length >= 1 && mine.every((e) => e.actor.login === u.login));
  const orgs = await entries(`?action=org.create`);
  assert.ok(orgs.some((e) => e.object.id === op.org.id));
});

test('reading another organisation\'s report is recorded; reading one\'s own is not', async () => {
  const r = await fileReport(srv, op.token, minimal({ title: 'canary-title-7f3a', description: 'canary-description' }));
  const id = r.json.id;
  assert.equal((await srv.api('GET', `/api/v1/reports/${id}`, { token: op.token })).status, 200);
  assert.equal((await srv.api('GET', `/api/v1/reports/${id}`, { token: coord.token })).status, 200);
  const list = await srv.api('GET', '/api/v1/reports?limit=200', { token: coord.token });
  assert.equal(list.status, 200);
  const reads = await entries(`?object_id=${id}`);
  assert.equal(reads.length, 1, 'one restricted read: the coordinator\'s');
  assert.equal(reads[0].action, 'report.read');
  assert.equal(reads[0].actor.login, coord.user.login);
  assert.equal(reads[0].detail.provider_org, op.org.id);
  const lists = await entries(`?action=report.list&actor=${encodeURIComponent(coord.user.login)}`);
  assert.ok(lists.some((e) => e.detail.ids.includes(id)), 'the list that showed it is recorded with its id');
  // The log holds ids and codes, never content.
  const all = JSON.stringify(await entries('?limit=200'));
  assert.doesNotMatch(all, /canary-title-7f3a|canary-description/);
});

test('only auditors and administrators read the log; an auditor sees no report content', async () => {
  for (const t of [op.token, coord.token]) {
    const r = await srv.api('GET', '/api/v1/audit', { token: t });
    assertProblem(r, 403, 'forbidden');
    assertProblem(await srv.api('GET', '/api/v1/audit/verify', { token: t }), 403, 'forbidden');
  }
  assert.equal((await srv.api('GET', '/api/v1/audit', { token: srv.adminToken })).status, 200);
  const watched = await entries('?action=audit.search&actor=admin');
  assert.ok(watched.length >= 1, 'searching the log is itself recorded');
  const reports = await srv.api('GET', '/api/v1/reports', { token: auditor.token });
  assert.equal(reports.status, 200);
  assert.deepEqual(reports.json.items, [], 'an auditor lists no reports');
  assertProblem(await srv.api('GET', '/api/v1/audit?limit=0', { token: auditor.token }), 400, 'bad-request', ['limit']);
  assertProblem(await srv.api('GET', '/api/v1/audit?since=yesterday', { token: auditor.token }), 400, 'bad-request', ['since']);
});

test('paging through the log sees every entry once, newest first', async () => {
  const seen = [];
  let cursor = null;
  do {
    const r = await srv.api('GET', `/api/v1/audit?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: auditor.token });
    assert.equal(r.status, 200, r.text);
    seen.push(...r.json.items.map((e) => e.seq));
    cursor = r.json.next_cursor;
  } while (cursor);
  assert.deepEqual(seen, [...seen].sort((a, b) => b - a));
  assert.equal(new Set(seen).size, seen.length);
  assert.equal(seen[seen.length - 1], 1);
});

test('verify finds the chain intact, then detects an altered, a removed and an inserted entry', async () => {
  const v = await srv.api('GET', '/api/v1/audit/verify', { token: auditor.token });
  assert.equal(v.status, 200);
  assertResponse('GET', '/api/v1/audit/verify', v);
  assert.equal(v.json.intact, true, JSON.stringify(v.json));
  assert.ok(v.json.entries >= 5);
  await srv.stop();
  const db = join(srv.dataDir, 'isac.db');
  const sql = (q) => execFileSync('sqlite3', [db, q], { encoding: 'utf8' }).trim();
  const verify = () => runCli(['audit', 'verify', '--data', srv.dataDir]);
  let r = await verify();
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /intact/);
  // Altered: an entry's outcome flipped.
  sql("UPDATE audit SET outcome = 'ok' WHERE seq = (SELECT MIN(seq) FROM audit WHERE outcome = 'denied')");
  r = await verify();
  assert.equal(r.code, 1);
  assert.match(r.stdout, /BROKEN at entry \d+: .*altered/);
  sql("UPDATE audit SET outcome = 'denied' WHERE seq = (SELECT MIN(seq) FROM audit WHERE action = 'login.failure')");
  assert.equal((await verify()).code, 0, 'restored');
  // Removed in the middle.
  sql('CREATE TABLE saved AS SELECT * FROM audit WHERE seq = 3; DELETE FROM audit WHERE seq = 3');
  r = await verify();
  assert.equal(r.code, 1);
  assert.match(r.stdout, /BROKEN at entry 3/);
  sql('INSERT INTO audit SELECT * FROM saved; DROP TABLE saved');
  assert.equal((await verify()).code, 0, 'restored');
  // Removed at the end.
  sql('CREATE TABLE saved AS SELECT * FROM audit WHERE seq = (SELECT MAX(seq) FROM audit); DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)');
  r = await verify();
  assert.equal(r.code, 1);
  assert.match(r.stdout, /head/);
  sql('INSERT INTO audit SELECT * FROM saved; DROP TABLE saved');
  assert.equal((await verify()).code, 0, 'restored');
  // Inserted: a copy of entry 2 slipped in after it, renumbering the rest would break every hash.
  sql('UPDATE audit SET seq = seq + 1000 WHERE seq > 2; INSERT INTO audit SELECT 3, at, actor_user, actor_login, actor_org, remote, action, object_kind, object_id, outcome, detail, prev_hash, hash FROM audit WHERE seq = 2; UPDATE audit SET seq = seq - 999 WHERE seq > 1000');
  r = await verify();
  assert.equal(r.code, 1);
  assert.match(r.stdout, /BROKEN at entry 3/);
  await srv.serve();
  const v2 = await srv.api('GET', '/api/v1/audit/verify', { token: auditor.token });
  assert.equal(v2.json.intact, false);
  assert.equal(v2.json.first_bad, 3);
});
