// Proof (b) of issue 4: nothing that identifies the provider leaves isac. Canaries (the
// provider's names in ja and en, an alias, a domain, IP ranges, host names, a person, e-mail
// addresses, a phone number) are registered on the provider organisation and planted all over a
// report; the report is released to all members under TLP:CLEAR and published without any
// manual edit of the proposal; then every channel of lib/canary.mjs is read by every user of
// every other organisation, and no canary may appear. Positive controls make sure the canaries
// were planted (the coordinator reads them in the original), that the scanner finds them even
// \u-escaped, and that each release channel really carried the release.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, uniq } from './lib/server.mjs';
import { assertResponse } from './lib/openapi.mjs';
import { fileReport } from './lib/reports.mjs';
import { pmap, call, releaseTo } from './lib/releases.mjs';
import { makeCanaries, channels, scan } from './lib/canary.mjs';

const ROLES = ['member', 'analyst', 'org_admin', 'auditor'];
let srv;
let world;

before(async () => {
  srv = await startServer();
  const C = makeCanaries();
  const coord = { id: srv.coordOrgId };
  const provOrg = await srv.createOrg({ name: C.name, kind: 'operator', sectors: ['electricity'], tier: 'class1' });
  const [ca, pm, padm] = await Promise.all([
    srv.userWithToken({ org_id: coord.id, roles: ['analyst'] }),
    srv.userWithToken({ org_id: provOrg.id, roles: ['member'] }),
    srv.userWithToken({ org_id: provOrg.id, roles: ['org_admin'] }),
  ]);
  // The provider's org_admin registers its identifiers.
  const p = await call(srv, padm.token, 'PATCH', `/api/v1/orgs/${provOrg.id}`, { identifiers: C.identifiers }, 200);
  assertResponse('PATCH', '/api/v1/orgs/{id}', p);
  // Every other kind of organisation, every role.
  const others = await pmap([
    { kind: 'sector_hub', sectors: ['electricity'], tier: 'class2' },
    { kind: 'ministry', sectors: ['electricity'], tier: 'general' },
    { kind: 'operator', sectors: ['electricity'], tier: 'class2' },
    { kind: 'operator', sectors: ['gas'], tier: 'general' },
    { kind: 'agency', sectors: [], tier: 'class1' },
    { kind: 'vendor', sectors: [], tier: 'general' },
  ], 4, (f) => srv.createOrg({ name: { en: uniq('Reader org ') }, ...f }));
  const jobs = others.flatMap((org) => ROLES.map((role) => ({ org, role })));
  const users = await pmap(jobs, 4, (j) => srv.userWithToken({ org_id: j.org.id, roles: [j.role] }));
  const readers = jobs.map((j, i) => ({ name: `${j.org.kind}/${j.org.sectors.join('+') || '-'}/${j.org.tier}/${j.role}`, org: j.org, role: j.role, token: users[i].token }));
  // The report, released to all members under TLP:CLEAR, the proposal as it comes.
  const report = (await fileReport(srv, pm.token, {
    ...C.report, sectors: ['electricity'], audience: { orgs: [], sectors: [], tiers: [], all_members: true }, tlp: 'CLEAR',
  })).json;
  const release = await releaseTo(srv, { coord: ca.token, provider: pm.token }, report.id);
  // A consent request too, so its channel has something to show to those who may see it.
  await call(srv, ca.token, 'POST', `/api/v1/releases/${release.id}/audience-requests`,
    { audience: { all_members: true, hub: true }, reason: 'the hub too' }, 201);
  world = { srv, C, provider: { org: provOrg, token: pm.token }, coord: ca, report, release, marker: C.marker, canaries: C.list, readers };
});
after(async () => { await srv?.cleanup(); });

test('positive controls: the canaries are planted, the scanner finds them (escaped too), the coordinator reads them', async () => {
  const { C } = world;
  // Every canary is in the original report as the coordinator reads it.
  const orig = await call(srv, world.coord.token, 'GET', `/api/v1/reports/${world.report.id}`, undefined, 200);
  // (The digits-only phone is a form to look for, not a form planted.)
  const planted = C.list.map((x) => x.name).filter((n) => n !== 'phone digits').sort();
  assert.deepEqual(scan([orig.text], C.list).map((h) => h.name).filter((n) => n !== 'phone digits').sort(), planted, 'all canaries planted in the report');
  // The identifiers are registered and visible to an administrator (not to others: the directory channel).
  const org = await call(srv, srv.adminToken, 'GET', `/api/v1/orgs/${world.provider.org.id}`, undefined, 200);
  assert.deepEqual(org.json.identifiers.domains, [C.c.domain]);
  assert.ok(scan([org.text], C.list).some((h) => h.name === 'alias ja'));
  // Auditors of other organisations read the directory: the organisation without its identifiers
  // (so the directory channel below is not clean merely because it showed nothing).
  for (const reader of world.readers.filter((r) => r.role === 'auditor')) {
    const o = await call(srv, reader.token, 'GET', `/api/v1/orgs/${world.provider.org.id}`, undefined, 200);
    assert.deepEqual(o.json.name, C.name);
    assert.ok(!('identifiers' in o.json), `${reader.name}: no identifiers`);
  }
  // The scanner: \u escapes, case, NFKC (full-width), spaces inside a name.
  const esc = `{"t":"${[...C.c.orgJa].map((ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"}`;
  assert.deepEqual(scan([esc], C.list).map((h) => h.name), ['org name ja']);
  assert.ok(scan([C.c.email.toUpperCase()], C.list).some((h) => h.name === 'email'));
  const fullWidth = [...C.c.aliasEn].map((ch) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0)).join('');
  assert.ok(scan([fullWidth], C.list).some((h) => h.name === 'alias en'));
  assert.ok(scan([C.c.personJa.replace(' ', '')], C.list).some((h) => h.name === 'person ja'));
  // The published content itself is clean (the coordinator's view also lists the redacted originals).
  const rel = await call(srv, world.coord.token, 'GET', `/api/v1/releases/${world.release.id}`, undefined, 200);
  assert.equal(rel.json.state, 'published');
  assert.deepEqual(scan([JSON.stringify(rel.json.content)], C.list), [], 'no canary in the released content');
  assert.ok(rel.json.content.title.includes(world.marker), rel.json.content.title);
  assert.ok(rel.json.content.observables.some((o) => o.value === '203.0.113.99'), 'the attacker indicator is shared');
});

test('no canary reaches any other organisation, through any channel, for any role', async (t) => {
  const fails = [];
  const seen = new Map(); // channel → readers whose texts carried the marker
  let texts = 0;
  let bytes = 0;
  const chans = channels();
  await pmap(world.readers, 3, async (reader) => {
    for (const ch of chans) {
      let got;
      try {
        got = await ch.fn(reader, world);
      } catch (e) {
        fails.push(`${ch.name} / ${reader.name}: the channel failed: ${e.message}`);
        continue;
      }
      texts += got.length;
      bytes += got.reduce((n, s) => n + (s ? s.length : 0), 0);
      for (const h of scan(got, world.canaries, ch.allow)) {
        fails.push(`${ch.name} / ${reader.name}: canary "${h.name}" (${h.value}) in …${h.at}…`);
      }
      if (got.some((s) => s && s.includes(world.marker))) {
        if (!seen.has(ch.name)) seen.set(ch.name, new Set());
        seen.get(ch.name).add(reader.name);
      }
    }
  });
  const msg = `canaries: ${world.canaries.length} canaries × ${chans.length} channels × ${world.readers.length} readers; ` +
    `${texts} texts, ${bytes} characters scanned; ${fails.length} leaks`;
  t.diagnostic(msg);
  console.log(msg);
  assert.deepEqual(fails, [], fails.join('\n'));
  // A release channel that carried nothing would prove nothing: every reader who is not an
  // auditor-only user received the release (all members, TLP:CLEAR) through each of them.
  const recipients = world.readers.filter((r) => r.role !== 'auditor').map((r) => r.name).sort();
  for (const ch of chans.filter((c) => c.shows === 'release')) {
    assert.deepEqual([...(seen.get(ch.name) || [])].sort(), recipients, `${ch.name}: every recipient got the release`);
  }
});
