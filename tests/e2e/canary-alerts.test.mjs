// Canaries through the alert channels (issue 5): the SSE stream (live and replayed), webhooks
// (a real receiver), e-mail (a real SMTP server), plus the alert inbox, detail and delivery reads,
// plugged into the canary harness of lib/canary.mjs (registerChannel).
//
// The world of canary.test.mjs (a provider whose names and identifiers are canaries, a report full
// of them, its release published to all members under TLP:CLEAR), then an alert that links that
// release AND the original report, published to some organisations only, corrected, and an
// exercise alert to the same organisations. Every organisation has a webhook and an e-mail
// contact, every reader a live stream. Proofs:
//   - no canary (nor the report's id) reaches any reader through any alert channel;
//   - organisations outside the audience get nothing at all: no stream event, no webhook POST,
//     no e-mail, no inbox entry;
//   - positive controls: each targeted organisation got the alert through every channel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, uniq, sleep } from './lib/server.mjs';
import { fileReport } from './lib/reports.mjs';
import { pmap, call, releaseTo } from './lib/releases.mjs';
import { makeCanaries, registerChannel, scan, pages } from './lib/canary.mjs';
import { openStream } from './lib/sse.mjs';
import { startReceiver } from './lib/webhook.mjs';
import { startSmtp } from './lib/smtp.mjs';
import { alertBody, createAlert, publishAlert, newVersion, deliveryUntil, orgRow } from './lib/alerts.mjs';

const ROLES = ['member', 'analyst', 'org_admin', 'auditor'];
let srv;
let rx;
let mx;
let world;
const streams = [];

// ---- the alert channels: what a reader (or its organisation) received ----

const live = registerChannel('alert stream (live)', (reader) => [
  ...reader.stream.events.map((e) => `id: ${e.id}\nevent: ${e.event}\ndata: ${e.data}`),
  reader.stream.body,
], { shows: 'alert' });

const replay = registerChannel('alert stream (replayed)', async (reader, w) => {
  const s = await openStream(w.srv, { token: reader.token, lastEventId: w.firstEventId });
  streams.push(s);
  // Replayed events come first; a heartbeat (1 s) after them means the replay is over.
  if (s.status === 200) {
    await s.waitUntil(() => s.comments.some((c) => c.text === 'hb'), 5000, 'a heartbeat after the replay').catch(() => {});
  }
  await s.close();
  return [...s.events.map((e) => `id: ${e.id}\nevent: ${e.event}\ndata: ${e.data}`), s.body];
}, { shows: 'alert' });

const hooks = registerChannel('alert webhooks', (reader, w) => w.rx.of(w.hookPath(reader.org))
  .map((h) => `${JSON.stringify(h.headers)}\n${h.body}`), { shows: 'alert' });

const mails = registerChannel('alert e-mail', (reader, w) => w.mx.to(w.mailOf(reader.org)).flatMap((m) => [m.subject, m.text, m.raw]),
  { shows: 'alert' });

const inbox = registerChannel('alert inbox', async (reader, w) => {
  const qs = ['', '?exercise=any', '?exercise=true', '?state=any&exercise=any', `?q=${encodeURIComponent(w.marker)}&exercise=any`,
    '?urgency=urgent&exercise=any', `?since=${encodeURIComponent('2000-01-01T00:00:00+09:00')}&exercise=any`];
  return (await Promise.all(qs.map((q) => pages(w.srv, reader.token, `/api/v1/alerts${q}`)))).flat();
}, { shows: 'alert' });

const detail = registerChannel('alert detail, preview, delivery page', async (reader, w) => {
  const out = [];
  for (const id of w.alertIds) {
    for (const p of [`/api/v1/alerts/${id}`, `/api/v1/alerts/${id}/delivery`, `/api/v1/alerts/${id}/preview?org_id=${reader.org.id}`]) {
      out.push((await w.srv.api('GET', p, { token: reader.token })).text);
    }
  }
  return out;
}, { shows: 'alert' });

const hookLog = registerChannel('webhook delivery log', async (reader, w) => [
  (await w.srv.api('GET', `/api/v1/orgs/${reader.org.id}/webhooks`, { token: reader.token })).text,
  (await w.srv.api('GET', `/api/v1/webhooks/${w.hookIds.get(reader.org.id)}/deliveries`, { token: reader.token })).text,
]);

const mine = [live, replay, hooks, mails, inbox, detail, hookLog];

before(async () => {
  [rx, mx] = await Promise.all([startReceiver(), startSmtp()]);
  srv = await startServer({
    config: { stream_heartbeat_s: 1, webhook_allow_http: true, webhook_allow_private: true, deliver_poll_ms: 50, smtp_url: mx.url, smtp_from: 'isac@example.test' },
  });
  const C = makeCanaries();
  const provOrg = await srv.createOrg({ name: C.name, kind: 'operator', sectors: ['electricity'], tier: 'class1' });
  const [ca, pm, padm] = await Promise.all([
    srv.userWithToken({ org_id: srv.coordOrgId, roles: ['analyst'] }),
    srv.userWithToken({ org_id: provOrg.id, roles: ['member'] }),
    srv.userWithToken({ org_id: provOrg.id, roles: ['org_admin'] }),
  ]);
  await call(srv, padm.token, 'PATCH', `/api/v1/orgs/${provOrg.id}`, { identifiers: C.identifiers }, 200);
  const report = (await fileReport(srv, pm.token, {
    ...C.report, sectors: ['electricity'], audience: { orgs: [], sectors: [], tiers: [], all_members: true }, tlp: 'CLEAR',
  })).json;
  const release = await releaseTo(srv, { coord: ca.token, provider: pm.token }, report.id);

  // Targeted: an operator and a sector hub; outside: an operator of the same sector, a ministry, a vendor.
  const specs = [
    { kind: 'operator', sectors: ['electricity'], tier: 'class1', targeted: true },
    { kind: 'sector_hub', sectors: ['electricity'], tier: 'class2', targeted: true },
    { kind: 'operator', sectors: ['electricity'], tier: 'class1', targeted: false },
    { kind: 'ministry', sectors: ['electricity'], tier: 'general', targeted: false },
    { kind: 'vendor', sectors: [], tier: 'general', targeted: false },
  ];
  const tag = uniq('c').toLowerCase();
  const orgs = await pmap(specs, 3, ({ targeted, ...f }) => srv.createOrg({ name: { en: uniq('Alert reader ') }, ...f }));
  orgs.forEach((o, i) => { o.targeted = specs[i].targeted; });
  const mailOf = (org) => `soc-${org.id.slice(-12)}-${tag}@example.test`;
  const hookPath = (org) => `/org/${org.id}`;
  const hookIds = new Map();
  await pmap(orgs, 3, async (org) => {
    await call(srv, srv.adminToken, 'PATCH', `/api/v1/orgs/${org.id}`, { contacts: [{ type: 'email', value: mailOf(org), locale: 'en' }] }, 200);
    const h = await call(srv, srv.adminToken, 'POST', `/api/v1/orgs/${org.id}/webhooks`, { url: rx.url(hookPath(org)) }, 201);
    hookIds.set(org.id, h.json.id);
  });
  const jobs = orgs.flatMap((org) => ROLES.map((role) => ({ org, role })));
  const users = await pmap(jobs, 4, (j) => srv.userWithToken({ org_id: j.org.id, roles: [j.role] }));
  const readers = jobs.map((j, i) => ({
    name: `${j.org.kind}/${j.org.targeted ? 'targeted' : 'outside'}/${j.role}`, org: j.org, role: j.role, token: users[i].token,
  }));
  // Every reader listens before anything is published.
  await pmap(readers, 4, async (r) => {
    r.stream = await openStream(srv, { token: r.token });
    streams.push(r.stream);
  });

  // A first alert to the provider alone (not a reader): its event id is where the replay channel starts from.
  const first = await publishAlert(srv, ca.token, (await createAlert(srv, ca.token, alertBody({ orgs: [provOrg.id] }))).id);
  const firstEventId = String(first.event_id ?? 1);
  // The alert: links the release and the original report; to the two targeted organisations.
  const marker = `Merlin${uniq('m').toLowerCase()}`;
  const targets = orgs.filter((o) => o.targeted).map((o) => o.id);
  const body = alertBody({ orgs: targets }, {
    title: { ja: `公開情報 ${marker} に関する注意喚起`, en: `Advisory on release ${marker}` },
    actions: { ja: '公開情報の攻撃元 IP を遮断してください。', en: 'Block the attacker address of the release.' },
    urgency: 'urgent', tlp: 'AMBER',
    links: { releases: [release.id], reports: [report.id] },
    observables: [{ type: 'ipv4', value: '203.0.113.99', role: 'attacker' }],
  });
  const a1 = await publishAlert(srv, ca.token, (await createAlert(srv, ca.token, body)).id);
  const v2 = await newVersion(srv, ca.token, a1.id, { kind: 'correction', urgency: 'critical' });
  await publishAlert(srv, ca.token, v2.id);
  const drill = await publishAlert(srv, ca.token, (await createAlert(srv, ca.token, { ...body, exercise: true, urgency: 'routine' })).id);
  const alertIds = [a1.id, v2.id, drill.id];

  // Wait until every targeted organisation got all three through its webhook and its mailbox.
  for (const org of orgs.filter((o) => o.targeted)) {
    await rx.waitFor((h) => h.path === hookPath(org), 3, 20000);
    await mx.waitFor((m) => m.to.includes(mailOf(org)), 3, 20000);
  }
  for (const r of readers.filter((x) => x.org.targeted && x.role !== 'auditor')) {
    await r.stream.waitUntil(() => alertIds.every((id) => r.stream.events.some((e) => e.json?.id === id)), 20000, `${r.name}: the three alerts`);
  }
  for (const id of alertIds) {
    await deliveryUntil(srv, ca.token, id, (p) => p.targeted === 2 && targets.every((o) => orgRow(p, o).delivered.webhook && orgRow(p, o).delivered.email), 20000, 'webhook and e-mail receipts');
  }
  await sleep(500); // anything misdirected has had the time to arrive
  world = {
    srv, rx, mx, C, provider: { org: provOrg }, report, release, marker, alertIds, readers, orgs, mailOf, hookPath, hookIds, firstEventId,
    // The report id is not a canary of the provider, but recipients of an alert must not learn it.
    canaries: [...C.list, { name: 'linked report id', value: report.id }],
  };
});

after(async () => {
  for (const s of streams) await s.close();
  try { await srv?.cleanup(); } finally {
    await rx?.close();
    await mx?.stop();
  }
});

test('organisations outside the audience get nothing at all: no event, no webhook POST, no e-mail, no inbox entry', async () => {
  for (const org of world.orgs.filter((o) => !o.targeted)) {
    assert.deepEqual(world.rx.of(world.hookPath(org)).map((h) => h.json?.alert?.id), [], `${org.kind}: no webhook POST`);
    assert.deepEqual(world.mx.to(world.mailOf(org)).map((m) => m.subject), [], `${org.kind}: no e-mail`);
  }
  for (const r of world.readers.filter((x) => !x.org.targeted)) {
    assert.deepEqual(r.stream.events.map((e) => e.json?.id ?? e.data.slice(0, 80)), [], `${r.name}: no stream event`);
    // Alive: a heartbeat comes every second (a stream opened just now may not have had one yet).
    await r.stream.waitUntil(() => r.stream.status !== 200 || r.stream.comments.some((c) => c.text === 'hb'), 5000,
      `${r.name}: the stream was alive (heartbeats)`);
    const items = await pages(world.srv, r.token, '/api/v1/alerts?exercise=any');
    assert.ok(items.every((t) => !world.alertIds.some((id) => t.includes(id))), `${r.name}: no inbox entry`);
  }
  // Auditor-only users of targeted organisations: no events either (their organisation's
  // webhook and mailbox did get the alert: those are the organisation's, not the user's).
  for (const r of world.readers.filter((x) => x.org.targeted && x.role === 'auditor')) {
    assert.deepEqual(r.stream.events, [], `${r.name}: no stream event for an auditor-only user`);
  }
});

test('no provider canary (nor the linked report id) in any alert channel, for any reader', async (t) => {
  const fails = [];
  const seen = new Map(); // channel → readers whose texts carried the marker
  let texts = 0;
  let bytes = 0;
  await pmap(world.readers, 5, async (reader) => {
    for (const ch of mine) {
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
      const carried = got.some((s) => s && s.includes(world.marker));
      if (carried) {
        if (!seen.has(ch.name)) seen.set(ch.name, new Set());
        seen.get(ch.name).add(reader.name);
      }
      if (carried && !reader.org.targeted) fails.push(`${ch.name} / ${reader.name}: the alert reached an organisation outside its audience`);
    }
  });
  const msg = `alert canaries: ${world.canaries.length} canaries × ${mine.length} channels × ${world.readers.length} readers; ` +
    `${texts} texts, ${bytes} characters scanned; ${fails.length} leaks`;
  t.diagnostic(msg);
  console.log(msg);
  assert.deepEqual(fails, [], fails.join('\n'));
  // Positive controls: a channel that carried nothing would prove nothing.
  const users = world.readers.filter((r) => r.org.targeted && r.role !== 'auditor').map((r) => r.name).sort();
  const orgReaders = world.readers.filter((r) => r.org.targeted).map((r) => r.name).sort();
  for (const ch of mine.filter((c) => c.shows === 'alert')) {
    // Webhooks and mailboxes are the organisation's: its auditor-only users "read" them too.
    const want = [hooks, mails].includes(ch) ? orgReaders : users;
    assert.deepEqual([...(seen.get(ch.name) || [])].sort(), want, `${ch.name}: every targeted reader got the alert`);
  }
  // The release link itself does go through (recipients may open the release): its id, nothing more.
  const ev = world.readers.find((r) => r.org.targeted && r.role === 'member').stream.events.find((e) => e.json?.id === world.alertIds[0]);
  assert.deepEqual(ev.json.links, { releases: [world.release.id], reports: [] });
});
