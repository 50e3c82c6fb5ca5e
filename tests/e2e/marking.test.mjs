// Audience and TLP 2.0 marking on reports (issue 4, item 1): the provider's choice, validated.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertProblem } from './lib/server.mjs';
import { assertResponse } from './lib/openapi.mjs';
import { orgWithUser, minimal, fileReport, revise } from './lib/reports.mjs';

let srv, op, other;
before(async () => {
  srv = await startServer();
  op = await orgWithUser(srv, { sectors: ['electricity'] });
  other = await orgWithUser(srv, { sectors: ['gas'] });
});
after(async () => { await srv?.cleanup(); });

test('by default a report goes to the coordinator only, marked TLP:AMBER', async () => {
  const r = await fileReport(srv, op.token, minimal());
  assert.deepEqual(r.json.audience, { orgs: [], sectors: [], tiers: [], all_members: false });
  assert.equal(r.json.tlp, 'AMBER');
  assert.equal(r.json.purpose, null);
  assert.equal(r.json.handling, null);
  assertResponse('POST', '/api/v1/reports', r);
});

test('the provider names organisations, sectors, tiers or all members, a TLP, a purpose and a handling rule', async () => {
  const body = minimal({
    audience: { orgs: [other.org.id, other.org.id], sectors: ['gas', 'water'], tiers: ['class1'], all_members: false },
    tlp: 'AMBER+STRICT', purpose: '防御のためにのみ使用 / for defence only', handling: '再共有しないこと / do not re-share',
  });
  const r = await fileReport(srv, op.token, body);
  assert.deepEqual(r.json.audience, { orgs: [other.org.id], sectors: ['gas', 'water'], tiers: ['class1'], all_members: false });
  assert.equal(r.json.tlp, 'AMBER+STRICT');
  assert.equal(r.json.purpose, '防御のためにのみ使用 / for defence only');
  // A revision narrows it (and records what changed).
  const v = await revise(srv, op.token, r.json.id, { stage: 'update', changes: { audience: { orgs: [other.org.id] }, tlp: 'RED' } });
  assert.deepEqual(v.json.audience, { orgs: [other.org.id], sectors: [], tiers: [], all_members: false });
  assert.equal(v.json.tlp, 'RED');
  const last = v.json.revisions[v.json.revisions.length - 1];
  assert.deepEqual(last.changes.map((c) => c.field).sort(), ['audience', 'tlp']);
});

test('bad audiences and markings are refused with the field', async () => {
  const cases = [
    [{ tlp: 'amber' }, ['tlp']],
    [{ tlp: 'TLP:AMBER' }, ['tlp']],
    [{ tlp: 'WHITE' }, ['tlp']],
    [{ audience: [] }, ['audience']],
    [{ audience: { orgs: ['acme'] } }, ['audience.orgs[0]']],
    [{ audience: { sectors: ['mining'] } }, ['audience.sectors[0]']],
    [{ audience: { tiers: ['platinum'] } }, ['audience.tiers[0]']],
    [{ audience: { all_members: 'yes' } }, ['audience.all_members']],
    [{ audience: { everyone: true } }, ['audience.everyone']],
    [{ tlp: 'RED', audience: { all_members: true } }, ['audience']],
    [{ tlp: 'RED', audience: { sectors: ['gas'] } }, ['audience']],
    [{ purpose: 'x'.repeat(1001) }, ['purpose']],
  ];
  const before = (await srv.api('GET', '/api/v1/reports?limit=200', { token: op.token })).json.items.length;
  for (const [fields, want] of cases) {
    const r = await srv.api('POST', '/api/v1/reports', { token: op.token, body: minimal(fields) });
    assertProblem(r, 422, 'validation', want);
  }
  const after = (await srv.api('GET', '/api/v1/reports?limit=200', { token: op.token })).json.items.length;
  assert.equal(after, before, 'nothing stored');
  // TLP:RED to named organisations is fine.
  const ok = await fileReport(srv, op.token, minimal({ tlp: 'RED', audience: { orgs: [other.org.id] } }));
  assert.equal(ok.json.tlp, 'RED');
});
