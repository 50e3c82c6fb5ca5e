// Alerts (issue 5): compose → preview (targeted and not) → publish → the recipients' inbox and
// detail (recipients' view) → receipts read/acted (idempotent) → the delivery page (counts, rates,
// who was not reached, time to receipt) → corrections and withdrawals delivered like the first;
// sector hubs issue only to their own sectors; validation (422 with fields); exercises kept apart
// and marked, with the same receipts. Each test works in a sector of its own, so the numbers of
// targeted organisations are exact.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertProblem, uniq, sleep, UUID_RE } from './lib/server.mjs';
import { assertResponse, assertSchema } from './lib/openapi.mjs';
import { fileReport, minimal } from './lib/reports.mjs';
import {
  newSector, alertBody, call, createAlert, publishAlert, issueAlert, newVersion, listAlerts, getAlert, receipt,
  deliveryPage, orgRow, assertRecipientView, orgWith, userOf,
} from './lib/alerts.mjs';

let srv;
let coord;   // {ca: coordinator analyst, cm: coordinator member}
before(async () => {
  srv = await startServer();
  const [ca, cm] = await Promise.all([
    srv.userWithToken({ org_id: srv.coordOrgId, roles: ['analyst'] }),
    srv.userWithToken({ org_id: srv.coordOrgId, roles: ['member'] }),
  ]);
  coord = { ca: { ...ca, org: { id: srv.coordOrgId } }, cm };
});
after(async () => { await srv?.cleanup(); });

const ms = (t) => Date.parse(t);
const isTime = (t) => typeof t === 'string' && /Z$/.test(t) && !Number.isNaN(Date.parse(t));

/**
 * A sector S with: E1 (class1; member, analyst, auditor-only), E2 (class2), E3 (general, silent),
 * the hub H of S (analyst, member), a disabled operator D of S; and outside S: G (another sector)
 * and the hub H2 of that other sector.
 */
async function world() {
  const S = await newSector(srv);
  const T = await newSector(srv);
  const e1 = await orgWith(srv, { sectors: [S], tier: 'class1', name: { ja: `第一電力 ${S}`, en: `First Power ${S}` } });
  const [e1a, e1aud, e2, e3, h, g, h2, d] = await Promise.all([
    userOf(srv, e1.org, ['analyst']),
    userOf(srv, e1.org, ['auditor']),
    orgWith(srv, { sectors: [S], tier: 'class2' }),
    orgWith(srv, { sectors: [S], tier: 'general', name: { ja: `沈黙電力 ${S}`, en: `Silent Power ${S}` } }),
    orgWith(srv, { kind: 'sector_hub', sectors: [S], tier: 'general' }, ['analyst']),
    orgWith(srv, { sectors: [T], tier: 'class1' }),
    orgWith(srv, { kind: 'sector_hub', sectors: [T], tier: 'general' }, ['analyst']),
    orgWith(srv, { sectors: [S], tier: 'class1' }),
  ]);
  const hm = await userOf(srv, h.org, ['member']);
  await call(srv, srv.adminToken, 'PATCH', `/api/v1/orgs/${d.org.id}`, { disabled: true }, 200);
  return { S, T, e1, e1a, e1aud, e2, e3, h, hm, g, h2, d };
}

test('compose → preview → publish → inbox and detail → receipts → delivery page', async () => {
  const w = await world();
  const { ca } = coord;
  const rep = (await fileReport(srv, w.e1.token, minimal({ sectors: [w.S] }))).json;
  const body = alertBody({ sectors: [w.S] }, {
    urgency: 'urgent', tlp: 'AMBER',
    links: { releases: [], reports: [rep.id] },
    observables: [{ type: 'cve', value: 'cve-2024-3400', role: 'attacker' }, { type: 'ipv4', value: '203.0.113.7', role: 'attacker' }],
  });

  // Compose: a draft, the issuer's full view.
  const t0 = Date.now();
  const draft = await createAlert(srv, ca.token, body);
  assertSchema('Alert', draft, 'POST /alerts');
  assert.match(draft.id, UUID_RE);
  assert.equal(draft.series_id, draft.id, 'version 1 starts its series');
  assert.equal(draft.version, 1);
  assert.equal(draft.kind, 'alert');
  assert.equal(draft.state, 'draft');
  assert.deepEqual(draft.title, body.title);
  assert.deepEqual(draft.summary, body.summary);
  assert.deepEqual(draft.actions, body.actions);
  assert.equal(draft.urgency, 'urgent');
  assert.equal(draft.exercise, false, 'exercise defaults to false');
  assert.equal(draft.tlp, 'AMBER');
  assert.deepEqual(draft.links, { releases: [], reports: [rep.id] });
  assert.deepEqual(draft.observables.map((o) => o.value).sort(), ['203.0.113.7', 'CVE-2024-3400'], 'observables normalised like report observables');
  assert.deepEqual(draft.audience, { orgs: [], sectors: [w.S], tiers: [], all_members: false });
  assert.equal(draft.issuer.org_id, srv.coordOrgId);
  assert.equal(draft.issuer.kind, 'coordinator');
  assert.deepEqual(draft.issuer.name, { ja: '国家調整センター', en: 'National Coordination Center' });
  assert.equal(draft.created_by, ca.user.id);
  assert.equal(draft.published_by, null);
  assert.equal(draft.published_at, null);
  assert.ok(isTime(draft.created_at) && Math.abs(ms(draft.created_at) - t0) < 60e3, `created_at ${draft.created_at}`);

  // A draft is the issuer side's only.
  await getAlert(srv, w.e1.token, draft.id, 404);
  assert.ok(!(await listAlerts(srv, w.e1.token)).some((a) => a.id === draft.id), 'drafts are not in the inbox');
  const mine = await listAlerts(srv, ca.token, 'state=draft');
  assert.ok(mine.some((a) => a.id === draft.id), 'the issuer lists its drafts with state=draft');
  assert.ok(!(await listAlerts(srv, ca.token, 'state=published')).some((a) => a.id === draft.id));
  const cmView = (await getAlert(srv, coord.cm.token, draft.id, 200)).json;
  assertSchema('Alert', cmView, 'the coordinator\'s member reads the full view');

  // Edit the draft.
  const summary = { ja: '認証回避の脆弱性。悪用を確認。', en: 'Authentication bypass, exploited in the wild.' };
  const p = await call(srv, ca.token, 'PATCH', `/api/v1/alerts/${draft.id}`, { summary }, 200);
  assertResponse('PATCH', '/api/v1/alerts/{id}', p);
  assert.deepEqual(p.json.summary, summary);
  assert.deepEqual(p.json.title, body.title, 'PATCH changes only what it names');
  assert.ok(ms(p.json.updated_at) >= ms(draft.created_at));

  // Preview as organisations would see it.
  const preview = async (org) => {
    const r = await call(srv, ca.token, 'GET', `/api/v1/alerts/${draft.id}/preview?org_id=${org.id}`, undefined, 200);
    assertResponse('GET', '/api/v1/alerts/{id}/preview', r);
    return r.json;
  };
  const pv1 = await preview(w.e1.org);
  assert.equal(pv1.targeted, true, 'E1 (in the sector) is targeted');
  assert.ok(pv1.channels.includes('inbox'), `channels ${pv1.channels}`);
  assert.ok(!pv1.channels.includes('webhook') && !pv1.channels.includes('email'), `E1 registered no webhook and no e-mail: ${pv1.channels}`);
  assert.equal(pv1.alert.id, draft.id);
  assert.deepEqual(pv1.alert.title, body.title);
  assert.deepEqual(pv1.alert.summary, summary);
  for (const k of ['audience', 'created_by', 'published_by']) assert.ok(!(k in pv1.alert), `preview shows no ${k}`);
  assert.deepEqual(pv1.alert.links.reports, [], 'preview: reports are not the recipients\' to see');
  assert.equal((await preview(w.h.org)).targeted, true, 'the hub of the sector is in the sector');
  const pvG = await preview(w.g.org);
  assert.equal(pvG.targeted, false, 'G (another sector) is not targeted');
  assert.equal(pvG.alert.id, draft.id, 'a preview for an untargeted organisation still shows what it would look like');
  assert.equal((await preview(w.d.org)).targeted, false, 'a disabled organisation is not targeted');
  // The contact with e-mail shows in the preview's channels.
  await call(srv, srv.adminToken, 'PATCH', `/api/v1/orgs/${w.e2.org.id}`,
    { contacts: [{ type: 'email', value: `soc@${w.S}.example.test`, locale: 'en' }] }, 200);
  assert.ok((await preview(w.e2.org)).channels.includes('email'), 'an e-mail contact is a channel');
  // Only the issuer side previews.
  for (const t of [w.e1.token, w.h.token]) {
    const r = await call(srv, t, 'GET', `/api/v1/alerts/${draft.id}/preview?org_id=${w.e1.org.id}`);
    assert.ok([403, 404].includes(r.status), `preview by a recipient: ${r.status}`);
    assertResponse('GET', '/api/v1/alerts/{id}/preview', r);
  }

  // Others see none of the issuer side's drafts, whatever they ask for.
  for (const t of [w.e1.token, w.h.token]) {
    for (const q of ['state=draft', 'state=any&exercise=any']) {
      const r = await call(srv, t, 'GET', `/api/v1/alerts?${q}`);
      assert.ok(r.status !== 200 || !r.json.items.some((x) => x.id === draft.id), `GET /alerts?${q} by a recipient: ${r.status} ${r.text.slice(0, 200)}`);
    }
  }

  // Publish.
  const t1 = Date.now();
  const pub = await publishAlert(srv, ca.token, draft.id);
  assertSchema('Alert', pub, 'publish');
  assert.equal(pub.state, 'published');
  assert.equal(pub.published_by, ca.user.id);
  assert.ok(isTime(pub.published_at) && ms(pub.published_at) >= t1 - 2000 && ms(pub.published_at) <= Date.now() + 2000);
  assertProblem(await call(srv, ca.token, 'POST', `/api/v1/alerts/${draft.id}/publish`, {}), 409, 'conflict');
  assertProblem(await call(srv, ca.token, 'PATCH', `/api/v1/alerts/${draft.id}`, { urgency: 'routine' }), 409, 'conflict');

  // Recipients: E1, E2, E3 and the hub H; not G, H2, the auditor-only user, the issuer.
  for (const [who, token] of [['E1 member', w.e1.token], ['E1 analyst', w.e1a.token], ['E2', w.e2.token], ['hub H', w.hm.token]]) {
    const items = await listAlerts(srv, token);
    const it = items.find((a) => a.id === draft.id);
    assert.ok(it, `${who} lists the alert`);
    assertRecipientView(it, { what: `${who} inbox` });
    assertSchema('RecipientAlert', it, `${who} inbox`);
  }
  for (const [who, token] of [['G', w.g.token], ['H2', w.h2.token], ['E1 auditor', w.e1aud.token]]) {
    assert.ok(!(await listAlerts(srv, token)).some((a) => a.series_id === draft.id), `${who} does not list it`);
    await getAlert(srv, token, draft.id, 404);
  }
  const det = (await getAlert(srv, w.e1.token, draft.id, 200)).json;
  assertRecipientView(det, { receipt: true, what: 'E1 detail' });
  assertSchema('RecipientAlert', det, 'E1 detail');
  assert.deepEqual(det.title, body.title);
  assert.deepEqual(det.actions, body.actions);
  assert.equal(det.urgency, 'urgent');
  assert.equal(det.tlp, 'AMBER');
  assert.equal(det.issuer.kind, 'coordinator');
  assert.ok(isTime(det.receipt.delivered_at), `listing recorded an inbox delivery: ${JSON.stringify(det.receipt)}`);
  assert.equal(det.receipt.read_at, null);
  assert.equal(det.receipt.acted_at, null);
  assert.equal(det.receipt.note, null);
  assert.ok(!JSON.stringify(det).includes(rep.id), 'the linked report id is nowhere in the recipients\' view');

  // Receipts: read (idempotent, per organisation), acted (first time wins, note updated).
  const r1 = (await receipt(srv, w.e1.token, draft.id, { kind: 'read' })).json;
  assert.ok(isTime(r1.read_at), JSON.stringify(r1));
  assert.equal(r1.acted_at, null);
  const r2 = (await receipt(srv, w.e1a.token, draft.id, { kind: 'read' })).json;
  assert.equal(r2.read_at, r1.read_at, 'a second read (another user of the org) keeps the first time');
  const a1 = (await receipt(srv, w.e1.token, draft.id, { kind: 'acted', note: 'patched the VPN' })).json;
  assert.ok(isTime(a1.acted_at));
  assert.equal(a1.note, 'patched the VPN');
  await new Promise((r) => setTimeout(r, 1100));
  const a2 = (await receipt(srv, w.e1a.token, draft.id, { kind: 'acted', note: '全拠点で適用済み' })).json;
  assert.equal(a2.acted_at, a1.acted_at, 'acted: the first time wins');
  assert.equal(a2.note, '全拠点で適用済み', 'acted: the note is updated');
  assert.equal(a2.read_at, r1.read_at);
  await receipt(srv, w.e2.token, draft.id, { kind: 'read' });
  const det2 = (await getAlert(srv, w.e1.token, draft.id, 200)).json;
  assert.deepEqual({ ...det2.receipt }, { delivered_at: det.receipt.delivered_at, read_at: r1.read_at, acted_at: a1.acted_at, note: '全拠点で適用済み' });
  // Who may not: an untargeted organisation, the issuer side, an auditor-only user.
  assertProblem(await call(srv, w.g.token, 'POST', `/api/v1/alerts/${draft.id}/receipts`, { kind: 'read' }), 404, 'not-found');
  for (const t of [ca.token, w.e1aud.token]) {
    const r = await call(srv, t, 'POST', `/api/v1/alerts/${draft.id}/receipts`, { kind: 'read' });
    assert.ok([403, 404].includes(r.status), `receipt by a non-recipient: ${r.status} ${r.text}`);
    assertResponse('POST', '/api/v1/alerts/{id}/receipts', r);
  }

  // The delivery page: 4 targeted (E1, E2, E3, H); E3 never looked.
  const page = await deliveryPage(srv, ca.token, draft.id);
  assert.equal(page.alert_id, draft.id);
  assert.equal(page.series_id, draft.id);
  assert.equal(page.published_at, pub.published_at);
  assert.equal(page.exercise, false);
  assert.equal(page.targeted, 4, JSON.stringify(page.orgs.map((o) => o.name.en)));
  assert.equal(page.reached, 3);
  assert.equal(page.read, 2);
  assert.equal(page.acted, 1);
  assert.equal(page.reachability, 0.75);
  assert.equal(page.read_rate, 0.5);
  assert.equal(page.acted_rate, 0.25);
  assert.deepEqual(page.not_reached, [{ org_id: w.e3.org.id, name: w.e3.org.name }]);
  assert.deepEqual(page.orgs.map((o) => o.org_id).sort(), [w.e1.org.id, w.e2.org.id, w.e3.org.id, w.h.org.id].sort());
  const row1 = orgRow(page, w.e1.org.id);
  assert.deepEqual(row1.name, w.e1.org.name);
  assert.equal(row1.delivered.inbox, det.receipt.delivered_at);
  assert.equal(row1.delivered.webhook, null);
  assert.equal(row1.delivered.email, null, 'E1 has no e-mail contact');
  assert.equal(row1.read_at, r1.read_at);
  assert.equal(row1.acted_at, a1.acted_at);
  assert.equal(row1.note, '全拠点で適用済み');
  assert.equal(row1.escalated_at, null);
  const row3 = orgRow(page, w.e3.org.id);
  assert.deepEqual(row3.delivered, { stream: null, inbox: null, webhook: null, email: null });
  assert.equal(row3.read_at, null);
  const ttr = page.time_to_receipt;
  for (const k of ['p50_ms', 'p90_ms', 'p99_ms', 'max_ms']) assert.ok(Number.isInteger(ttr[k]) && ttr[k] >= 0, `${k}: ${ttr[k]}`);
  assert.ok(ttr.p50_ms <= ttr.p90_ms && ttr.p90_ms <= ttr.p99_ms && ttr.p99_ms <= ttr.max_ms, JSON.stringify(ttr));
  const firsts = page.orgs.map((o) => Object.values(o.delivered).filter(Boolean).map(ms))
    .filter((a) => a.length).map((a) => Math.min(...a) - ms(page.published_at));
  assert.ok(Math.abs(ttr.max_ms - Math.max(...firsts)) <= 1000, `max_ms ${ttr.max_ms} vs first deliveries ${firsts}`);
  assert.ok(ttr.buckets.length > 0, 'a histogram');
  for (let i = 1; i < ttr.buckets.length; i++) {
    const [a, b] = [ttr.buckets[i - 1].le_ms, ttr.buckets[i].le_ms];
    assert.ok(b === null || (a !== null && b > a), `buckets ascend: ${JSON.stringify(ttr.buckets)}`);
  }
  assert.equal(ttr.buckets[ttr.buckets.length - 1].le_ms, null, 'a last bucket for the rest');
  assert.equal(ttr.buckets.reduce((s, x) => s + x.count, 0), page.reached, `bucket counts add up to reached: ${JSON.stringify(ttr.buckets)}`);
  // Each reached organisation counts in the bucket of its first delivery.
  for (const f of firsts) {
    const i = ttr.buckets.findIndex((x) => x.le_ms === null || Math.max(0, f) <= x.le_ms);
    assert.ok(ttr.buckets[i].count > 0, `a first delivery after ${f} ms falls in bucket ${JSON.stringify(ttr.buckets[i])}`);
  }
  // Only the issuer side reads it.
  for (const t of [w.e1.token, w.hm.token, w.g.token]) {
    const r = await call(srv, t, 'GET', `/api/v1/alerts/${draft.id}/delivery`);
    assert.ok([403, 404].includes(r.status), `delivery page by another org: ${r.status}`);
    assertResponse('GET', '/api/v1/alerts/{id}/delivery', r);
  }
  // A draft has no delivery page yet.
  const d2 = await createAlert(srv, ca.token, alertBody({ sectors: [w.S] }));
  const r409 = await call(srv, ca.token, 'GET', `/api/v1/alerts/${d2.id}/delivery`);
  assertProblem(r409, 409, 'conflict');
  assertResponse('GET', '/api/v1/alerts/{id}/delivery', r409);
});

test('audiences: named orgs, sectors, tiers, all members; recipients fixed at publication; one publication', async () => {
  const w = await world();
  const { ca } = coord;
  const targeted = async (audience, org) => {
    const d = await createAlert(srv, ca.token, alertBody(audience));
    return (await call(srv, ca.token, 'GET', `/api/v1/alerts/${d.id}/preview?org_id=${org.id}`, undefined, 200)).json.targeted;
  };
  assert.equal(await targeted({ orgs: [w.e1.org.id] }, w.e1.org), true, 'named');
  assert.equal(await targeted({ orgs: [w.e1.org.id] }, w.e2.org), false, 'not named');
  assert.equal(await targeted({ tiers: ['class2'] }, w.e2.org), true, 'in the tier');
  assert.equal(await targeted({ tiers: ['class2'] }, w.e1.org), false, 'another tier');
  assert.equal(await targeted({ all_members: true }, w.g.org), true, 'all members');
  assert.equal(await targeted({ all_members: true }, w.d.org), false, 'all members: not a disabled organisation');
  assert.equal(await targeted({ sectors: [w.T], orgs: [w.e1.org.id] }, w.e1.org), true, 'any member of the audience');

  // Two publications of one draft at once: one wins, one event.
  const d = await createAlert(srv, ca.token, alertBody({ sectors: [w.S] }));
  const both = await Promise.all([1, 2].map(() => call(srv, ca.token, 'POST', `/api/v1/alerts/${d.id}/publish`, {})));
  assert.deepEqual(both.map((r) => r.status).sort(), [200, 409], both.map((r) => r.text.slice(0, 200)).join('\n'));

  // Recipients are fixed when it is published: a newcomer to the sector does not get it, an
  // organisation that leaves the sector keeps it.
  const late = await orgWith(srv, { sectors: [w.S] });
  await call(srv, srv.adminToken, 'PATCH', `/api/v1/orgs/${w.e2.org.id}`, { sectors: [w.T] }, 200);
  assert.ok(!(await listAlerts(srv, late.token)).some((a) => a.id === d.id), 'a newcomer does not receive an earlier alert');
  await getAlert(srv, late.token, d.id, 404);
  assert.ok((await listAlerts(srv, w.e2.token)).some((a) => a.id === d.id), 'an organisation that moved keeps what it was sent');
  await getAlert(srv, w.e2.token, d.id, 200);
  const page = await deliveryPage(srv, ca.token, d.id);
  assert.equal(page.targeted, 4);
  assert.ok(!page.orgs.some((o) => o.org_id === late.org.id));
  await call(srv, srv.adminToken, 'PATCH', `/api/v1/orgs/${w.e2.org.id}`, { sectors: [w.S] }, 200);
});

test('corrections and withdrawals are new versions, delivered like the first', async () => {
  const w = await world();
  const { ca } = coord;
  const body = alertBody({ sectors: [w.S] }, { urgency: 'urgent' });
  const v1 = await issueAlert(srv, ca.token, body);
  await listAlerts(srv, w.e1.token); // E1 gets it in its inbox

  // Correction: a draft version 2 with the changed fields merged over version 1.
  const title = { ja: `${body.title.ja}（訂正）`, en: `${body.title.en} (corrected)` };
  const v2 = await newVersion(srv, ca.token, v1.id, { kind: 'correction', title, urgency: 'critical' });
  assertSchema('Alert', v2, 'correction');
  assert.notEqual(v2.id, v1.id);
  assert.equal(v2.series_id, v1.id);
  assert.equal(v2.version, 2);
  assert.equal(v2.kind, 'correction');
  assert.equal(v2.state, 'draft');
  assert.deepEqual(v2.title, title);
  assert.equal(v2.urgency, 'critical');
  assert.deepEqual(v2.actions, v1.actions, 'unchanged fields carried over');
  assert.deepEqual(v2.summary, v1.summary);
  assert.deepEqual(v2.audience, v1.audience);
  assert.equal(v2.tlp, v1.tlp);
  assert.equal(v2.published_at, null);
  // One open version at a time; recipients keep version 1 until version 2 is published.
  assertProblem(await call(srv, ca.token, 'POST', `/api/v1/alerts/${v1.id}/versions`, { kind: 'correction', urgency: 'routine' }), 409, 'conflict');
  await getAlert(srv, w.e1.token, v2.id, 404);
  let inbox = (await listAlerts(srv, w.e1.token)).filter((a) => a.series_id === v1.id);
  assert.deepEqual(inbox.map((a) => a.id), [v1.id]);
  // Recipients, and other hubs, cannot version it.
  for (const t of [w.e1a.token, w.h.token, w.h2.token]) {
    const r = await call(srv, t, 'POST', `/api/v1/alerts/${v1.id}/versions`, { kind: 'correction', urgency: 'routine' });
    assert.ok([403, 404].includes(r.status), `versions by a non-issuer: ${r.status} ${r.text}`);
  }

  const pub2 = await publishAlert(srv, ca.token, v2.id);
  assert.equal(pub2.state, 'published');
  inbox = (await listAlerts(srv, w.e1.token)).filter((a) => a.series_id === v1.id);
  assert.deepEqual(inbox.map((a) => [a.id, a.version, a.kind]), [[v2.id, 2, 'correction']], 'the inbox shows the latest version of a series');
  assertRecipientView(inbox[0]);
  assert.deepEqual(inbox[0].title, title);
  const old = (await getAlert(srv, w.e1.token, v1.id, 200)).json;
  assert.equal(old.version, 1, 'an earlier published version stays readable');
  // Delivered like the first: its own receipts and delivery page.
  await receipt(srv, w.e1.token, v2.id, { kind: 'read' });
  const page2 = await deliveryPage(srv, ca.token, v2.id);
  assert.equal(page2.alert_id, v2.id);
  assert.equal(page2.series_id, v1.id);
  assert.equal(page2.targeted, 4);
  assert.equal(page2.read, 1);
  assert.ok(orgRow(page2, w.e1.org.id).delivered.inbox, 'the inbox delivered version 2 too');
  const page1 = await deliveryPage(srv, ca.token, v1.id);
  assert.equal(page1.read, 0, 'reading version 2 is not reading version 1');

  // Withdrawal: a reason is required; the summary becomes the reason.
  for (const [b, field] of [[{ kind: 'withdrawal' }, 'reason'], [{ kind: 'withdrawal', reason: '' }, 'reason'],
    [{ kind: 'withdrawal', reason: '   ' }, 'reason'], [{ kind: 'retraction', reason: 'x' }, 'kind'], [{}, 'kind']]) {
    const r = await call(srv, ca.token, 'POST', `/api/v1/alerts/${v2.id}/versions`, b);
    assertProblem(r, 422, 'validation', [field]);
    assertResponse('POST', '/api/v1/alerts/{id}/versions', r);
  }
  const reason = '誤報でした。該当装置は影響を受けません。';
  // (Through the first version's id: a new version builds on the latest, whichever id names the series.)
  const v3 = await newVersion(srv, ca.token, v1.id, { kind: 'withdrawal', reason });
  assert.equal(v3.version, 3);
  assert.equal(v3.kind, 'withdrawal');
  assert.equal(v3.series_id, v1.id);
  assert.deepEqual(v3.title, title, 'a withdrawal keeps the content');
  assert.deepEqual(v3.actions, v2.actions);
  assert.ok(Object.keys(v3.summary).length >= 1 && Object.values(v3.summary).every((s) => s === reason),
    `the summary is the reason: ${JSON.stringify(v3.summary)}`);
  await publishAlert(srv, ca.token, v3.id);
  inbox = (await listAlerts(srv, w.e2.token)).filter((a) => a.series_id === v1.id);
  assert.deepEqual(inbox.map((a) => [a.version, a.kind]), [[3, 'withdrawal']]);
  const page3 = await deliveryPage(srv, ca.token, v3.id);
  assert.equal(page3.targeted, 4);
  assert.ok(orgRow(page3, w.e2.org.id).delivered.inbox);
});

test('sector hub analysts issue only to their own sectors', async () => {
  const w = await world();
  const ha = w.h;
  // Their own sector: allowed, the hub is the issuer and not a recipient.
  const mineBody = alertBody({ sectors: [w.S] });
  const draft = await createAlert(srv, ha.token, mineBody);
  const pv = await call(srv, ha.token, 'GET', `/api/v1/alerts/${draft.id}/preview?org_id=${w.h.org.id}`, undefined, 200);
  assert.equal(pv.json.targeted, false, 'the issuing hub is in the sector but not a recipient');
  assert.equal((await call(srv, ha.token, 'GET', `/api/v1/alerts/${draft.id}/preview?org_id=${w.e1.org.id}`, undefined, 200)).json.targeted, true);
  assert.equal(draft.issuer.org_id, w.h.org.id);
  assert.equal(draft.issuer.kind, 'sector_hub');
  assert.deepEqual(draft.issuer.name, w.h.org.name);
  // Anything beyond: 403 (and nothing created).
  const before = (await listAlerts(srv, ha.token, 'state=any&exercise=any')).length;
  for (const audience of [{ sectors: [w.T] }, { sectors: [w.S, w.T] }, { all_members: true }, { orgs: [w.e1.org.id] },
    { sectors: [w.S], orgs: [w.e1.org.id] }, { tiers: ['class1'] }, { sectors: [w.S], tiers: ['class1'] }, { sectors: [] }]) {
    const r = await call(srv, ha.token, 'POST', '/api/v1/alerts', alertBody(audience));
    assertProblem(r, 403, 'forbidden');
    assertResponse('POST', '/api/v1/alerts', r);
  }
  assertProblem(await call(srv, ha.token, 'PATCH', `/api/v1/alerts/${draft.id}`, { audience: { sectors: [w.T] } }), 403, 'forbidden');
  assertProblem(await call(srv, ha.token, 'PATCH', `/api/v1/alerts/${draft.id}`, { audience: { all_members: true } }), 403, 'forbidden');
  assert.equal((await listAlerts(srv, ha.token, 'state=any&exercise=any')).length, before, 'nothing created by a refused call');
  // Other users: a hub member, an operator's analyst, the coordinator's member, another hub.
  for (const [who, t] of [['hub member', w.hm.token], ['operator analyst', w.e1a.token], ['coordinator member', coord.cm.token],
    ['hub of another sector', w.h2.token]]) {
    const r = await call(srv, t, 'POST', '/api/v1/alerts', alertBody({ sectors: [w.S] }));
    assert.equal(r.status, 403, `${who} composes: ${r.status} ${r.text}`);
    assertProblem(r, 403, 'forbidden');
  }
  // Another hub cannot touch or see the draft.
  for (const [m, path, b] of [['PATCH', `/api/v1/alerts/${draft.id}`, { urgency: 'urgent' }], ['POST', `/api/v1/alerts/${draft.id}/publish`, {}],
    ['GET', `/api/v1/alerts/${draft.id}`, undefined]]) {
    const r = await call(srv, w.h2.token, m, path, b);
    assert.ok([403, 404].includes(r.status), `${m} ${path} by another hub: ${r.status}`);
  }
  const pub = await publishAlert(srv, ha.token, draft.id);
  assert.equal(pub.state, 'published');
  // The coordinator sees every alert in full; the hub's member is on the issuer side too.
  assertSchema('Alert', (await getAlert(srv, coord.cm.token, draft.id, 200)).json, 'coordinator view of a hub alert');
  assertSchema('Alert', (await getAlert(srv, w.hm.token, draft.id, 200)).json, 'hub member view of its own alert');
  assert.ok((await listAlerts(srv, w.hm.token, 'state=published')).some((a) => a.id === draft.id), 'in the issuer\'s list');
  for (const t of [w.e1.token, w.e2.token, w.e3.token]) {
    const it = (await listAlerts(srv, t)).find((a) => a.id === draft.id);
    assert.ok(it, 'operators of the sector receive the hub\'s alert');
    assertRecipientView(it);
  }
  assert.ok(!(await listAlerts(srv, w.g.token)).some((a) => a.id === draft.id));
  const page = await deliveryPage(srv, ha.token, draft.id);
  assert.equal(page.targeted, 3, 'E1, E2, E3: not the issuing hub');
  assert.equal(page.reached, 3);
  await deliveryPage(srv, coord.ca.token, draft.id);
  // The hub's corrections stay within its sectors; recipients may not version it.
  assertProblem(await call(srv, ha.token, 'POST', `/api/v1/alerts/${draft.id}/versions`, { kind: 'correction', audience: { sectors: [w.T] } }), 403, 'forbidden');
  assertProblem(await call(srv, ha.token, 'POST', `/api/v1/alerts/${draft.id}/versions`, { kind: 'correction', audience: { all_members: true } }), 403, 'forbidden');
  const hv2 = await newVersion(srv, ha.token, draft.id, { kind: 'correction', urgency: 'urgent' });
  assert.deepEqual(hv2.audience, draft.audience);
  assertProblem(await call(srv, ha.token, 'PATCH', `/api/v1/alerts/${hv2.id}`, { audience: { sectors: [w.S, w.T] } }), 403, 'forbidden');
  assertProblem(await call(srv, w.e1a.token, 'POST', `/api/v1/alerts/${draft.id}/versions`, { kind: 'withdrawal', reason: 'x' }), 403, 'forbidden');
});

test('validation: 422 with every offending field; nothing stored', async () => {
  const S = await newSector(srv);
  const { ca } = coord;
  const ok = alertBody({ sectors: [S] });
  const before = (await listAlerts(srv, ca.token, 'state=any&exercise=any')).length;
  const long = (n) => 'あ'.repeat(n);
  const cases = [
    [{}, ['title', 'actions']],
    [{ ...ok, title: undefined }, ['title']],
    [{ ...ok, actions: undefined }, ['actions']],
    [{ ...ok, title: {} }, ['title']],
    [{ ...ok, title: { en: '   ' } }, [['title.en', 'title']]],
    [{ ...ok, title: { ja: long(201) } }, ['title.ja']],
    [{ ...ok, title: { fr: 'Alerte' } }, ['title.fr']],
    [{ ...ok, title: 'a string' }, ['title']],
    [{ ...ok, actions: {} }, ['actions']],
    [{ ...ok, actions: { en: 'x'.repeat(4001) } }, ['actions.en']],
    [{ ...ok, summary: { ja: long(4001) } }, ['summary.ja']],
    [{ ...ok, title: { en: 'bell\u0007' } }, ['title.en']],
    [{ ...ok, urgency: 'panic' }, ['urgency']],
    [{ ...ok, exercise: 'yes' }, ['exercise']],
    [{ ...ok, tlp: 'PURPLE' }, ['tlp']],
    [{ ...ok, tlp: 'amber' }, ['tlp']],
    [{ ...ok, links: { releases: ['not-an-id'] } }, ['links.releases[0]']],
    [{ ...ok, links: { reports: Array.from({ length: 51 }, () => '01936a8e-4f5e-7c2a-9b1d-2f3e4a5b6c7d') } }, ['links.reports']],
    [{ ...ok, links: { foo: [] } }, ['links.foo']],
    [{ ...ok, observables: [{ type: 'ipv4', value: '999.1.1.1' }] }, ['observables[0].value']],
    [{ ...ok, observables: [{ type: 'cve', value: 'CVE-2024-1' }, { type: 'nope', value: 'x' }] }, ['observables[0].value', 'observables[1].type']],
    [{ ...ok, observables: Array.from({ length: 501 }, (_, i) => ({ type: 'text', value: `t${i}` })) }, ['observables']],
    [{ ...ok, audience: { sectors: ['nosuchsector'] } }, ['audience.sectors[0]']],
    [{ ...ok, audience: { orgs: ['not-a-uuid'] } }, ['audience.orgs[0]']],
    [{ ...ok, audience: { tiers: ['gold'] } }, ['audience.tiers[0]']],
    [{ ...ok, audience: { all_members: 'yes' } }, ['audience.all_members']],
    [{ ...ok, audience: { sectors: [S], nobody: true } }, ['audience.nobody']],
    [{ ...ok, foo: 1 }, ['foo']],
    [{ ...ok, state: 'published' }, ['state']],
    [{ ...ok, issuer: { org_id: srv.coordOrgId } }, ['issuer']],
  ];
  // Every case is tried before failing, so one run lists every disagreement. A field given as
  // an array accepts any of its names (a blank language may be reported on the object).
  const wrong = [];
  for (const [b, fields] of cases) {
    const sent = JSON.parse(JSON.stringify(b));
    const r = await call(srv, ca.token, 'POST', '/api/v1/alerts', sent);
    const named = (f) => (Array.isArray(f) ? f : [f]).some((x) => r.json?.errors?.some((e) => e.field === x));
    if (r.status !== 422 || r.json?.type !== 'urn:isac:problem:validation' || !fields.every(named)) {
      wrong.push(`${JSON.stringify(sent).slice(0, 160)} → want 422 [${fields.map((f) => [f].flat().join('|'))}], got ${r.status} ${r.text.slice(0, 300)}`);
      continue;
    }
    assertResponse('POST', '/api/v1/alerts', r);
  }
  assert.deepEqual(wrong, [], wrong.join('\n'));
  const unk = await call(srv, ca.token, 'POST', '/api/v1/alerts', { ...ok, foo: 1 });
  assert.equal(unk.json.errors.find((e) => e.field === 'foo').reason, 'unknown field');
  // TLP:RED only with named organisations.
  const red = await call(srv, ca.token, 'POST', '/api/v1/alerts', { ...ok, tlp: 'RED' });
  assertProblem(red, 422, 'validation');
  assert.ok(red.json.errors.some((e) => e.field === 'tlp' || e.field.startsWith('audience')), JSON.stringify(red.json.errors));
  const org = await srv.createOrg({ sectors: [S] });
  const redOk = await createAlert(srv, ca.token, { ...ok, tlp: 'RED', audience: { orgs: [org.id] } });
  assert.equal(redOk.tlp, 'RED');
  assert.equal((await listAlerts(srv, ca.token, 'state=any&exercise=any')).length, before + 1, 'only the valid alert was stored');

  // PATCH: the same checks; a draft stays as it was.
  for (const [b, fields] of [[{ urgency: 'panic' }, ['urgency']], [{ title: {} }, ['title']], [{ foo: 1 }, ['foo']],
    [{ observables: [{ type: 'ipv4', value: '1.2.3' }] }, ['observables[0].value']], [{ tlp: 'RED', audience: { sectors: [S] } }, []]]) {
    const r = await call(srv, ca.token, 'PATCH', `/api/v1/alerts/${redOk.id}`, b);
    assertProblem(r, 422, 'validation', fields);
    assertResponse('PATCH', '/api/v1/alerts/{id}', r);
  }
  assert.deepEqual((await getAlert(srv, ca.token, redOk.id, 200)).json, redOk, 'a refused PATCH changes nothing');

  // Receipts.
  const pub = await issueAlert(srv, ca.token, alertBody({ orgs: [org.id] }));
  const u = await srv.userWithToken({ org_id: org.id, roles: ['member'] });
  for (const [b, fields] of [[{}, ['kind']], [{ kind: 'seen' }, ['kind']], [{ kind: 'acted', note: 'x'.repeat(4001) }, ['note']],
    [{ kind: 'read', foo: 1 }, ['foo']]]) {
    const r = await call(srv, u.token, 'POST', `/api/v1/alerts/${pub.id}/receipts`, b);
    assertProblem(r, 422, 'validation', fields);
    assertResponse('POST', '/api/v1/alerts/{id}/receipts', r);
  }
  // Query parameters and path ids.
  for (const q of ['exercise=maybe', 'urgency=panic', 'state=bogus', 'since=yesterday', 'until=2026-13-01T00:00:00Z', 'limit=0', 'cursor=%%%']) {
    const r = await call(srv, ca.token, 'GET', `/api/v1/alerts?${q}`);
    assertProblem(r, 400, 'bad-request', [q.split('=')[0]]);
    assertResponse('GET', '/api/v1/alerts', r);
  }
  for (const q of ['', '?org_id=nope']) {
    const r = await call(srv, ca.token, 'GET', `/api/v1/alerts/${pub.id}/preview${q}`);
    assertProblem(r, 400, 'bad-request', ['org_id']);
  }
  assertProblem(await call(srv, ca.token, 'GET', `/api/v1/alerts/${pub.id}/preview?org_id=01936a8e-4f5e-7c2a-9b1d-2f3e4a5b6c7d`), 404, 'not-found');
  assertProblem(await call(srv, ca.token, 'GET', '/api/v1/alerts/01936a8e-4f5e-7c2a-9b1d-2f3e4a5b6c7d'), 404, 'not-found');
  const bad = await call(srv, ca.token, 'GET', '/api/v1/alerts/not-an-id');
  assertProblem(bad, 404, 'not-found');
  assertResponse('GET', '/api/v1/alerts/{id}', bad);
  // Without credentials: 401.
  for (const [m, p] of [['GET', '/api/v1/alerts'], ['POST', '/api/v1/alerts'], ['GET', `/api/v1/alerts/${pub.id}`],
    ['GET', `/api/v1/alerts/${pub.id}/delivery`], ['POST', `/api/v1/alerts/${pub.id}/receipts`]]) {
    assertProblem(await srv.api(m, p, { body: m === 'POST' ? ok : undefined }), 401, 'unauthenticated');
  }
});

test('exercises: kept apart from real traffic in lists, marked, with the same receipts', async () => {
  const w = await world();
  const { ca } = coord;
  const real = await issueAlert(srv, ca.token, alertBody({ sectors: [w.S] }));
  const drill = await issueAlert(srv, ca.token, alertBody({ sectors: [w.S] }, { exercise: true, urgency: 'critical' }));
  assert.equal(drill.exercise, true);
  const ids = (items) => items.filter((a) => [real.id, drill.id].includes(a.id)).map((a) => a.id).sort();
  assert.deepEqual(ids(await listAlerts(srv, w.e1.token)), [real.id], 'default: real traffic only');
  assert.deepEqual(ids(await listAlerts(srv, w.e1.token, 'exercise=false')), [real.id]);
  assert.deepEqual(ids(await listAlerts(srv, w.e1.token, 'exercise=true')), [drill.id], 'exercise=true: exercises only');
  assert.deepEqual(ids(await listAlerts(srv, w.e1.token, 'exercise=any')), [real.id, drill.id].sort());
  assert.deepEqual(ids(await listAlerts(srv, ca.token, 'state=any')), [real.id], 'the issuer side too: real traffic by default');
  assert.deepEqual(ids(await listAlerts(srv, ca.token, 'state=any&exercise=true')), [drill.id]);
  const det = (await getAlert(srv, w.e1.token, drill.id, 200)).json;
  assert.equal(det.exercise, true, 'marked');
  assertRecipientView(det, { receipt: true });
  assert.ok(det.receipt.delivered_at, 'listing exercises records the inbox delivery too');
  // The same receipts and delivery page.
  await receipt(srv, w.e1.token, drill.id, { kind: 'read' });
  await receipt(srv, w.e2.token, drill.id, { kind: 'acted', note: '訓練手順を確認' });
  await listAlerts(srv, w.e2.token, 'exercise=true');
  const page = await deliveryPage(srv, ca.token, drill.id);
  assert.equal(page.exercise, true);
  assert.equal(page.targeted, 4);
  assert.equal(page.reached, 2);
  assert.equal(page.read, 1);
  assert.equal(page.acted, 1);
  assert.equal(orgRow(page, w.e2.org.id).note, '訓練手順を確認');
  const realPage = await deliveryPage(srv, ca.token, real.id);
  assert.equal(realPage.exercise, false);
  assert.equal(realPage.read, 0, 'counted apart');
});

test('inbox filters, order and paging', async () => {
  const w = await world();
  const { ca } = coord;
  const tag = uniq('Q');
  const a1 = await issueAlert(srv, ca.token, alertBody({ sectors: [w.S] }, { title: { ja: `停電の恐れ ${tag}`, en: `Outage risk ${tag}` } }));
  await sleep(1100); // since/until below: a whole second between a1 and a2
  const a2 = await issueAlert(srv, ca.token, alertBody({ sectors: [w.S] }, { urgency: 'urgent', title: { en: `Ransomware ${tag}` } }));
  const a3 = await issueAlert(srv, ca.token, alertBody({ sectors: [w.S] }, { urgency: 'critical', title: { ja: `制御系への侵入 ${tag}` } }));
  const all = (await listAlerts(srv, w.e1.token)).filter((a) => [a1.id, a2.id, a3.id].includes(a.id));
  assert.deepEqual(all.map((a) => a.id), [a3.id, a2.id, a1.id], 'newest published first');
  const only = async (q) => (await listAlerts(srv, w.e1.token, q)).filter((a) => [a1.id, a2.id, a3.id].includes(a.id)).map((a) => a.id);
  assert.deepEqual(await only('urgency=urgent'), [a2.id]);
  assert.deepEqual(await only('urgency=critical'), [a3.id]);
  assert.deepEqual(await only(`q=${encodeURIComponent(`ransomware ${tag}`)}`), [a2.id], 'q: case-insensitive');
  assert.deepEqual(await only(`q=${encodeURIComponent('制御系への侵入')}`), [a3.id], 'q: Japanese');
  assert.deepEqual(await only(`q=${encodeURIComponent('停電')}`), [a1.id]);
  // since: published at or after (times may be whole seconds: expect what the times say).
  const t2 = Date.parse(a2.published_at);
  const want = [a3, a2, a1].filter((a) => Date.parse(a.published_at) >= t2).map((a) => a.id);
  assert.deepEqual(await only(`since=${encodeURIComponent(a2.published_at)}`), want);
  assert.deepEqual(await only(`until=${encodeURIComponent('2000-01-01T00:00:00+09:00')}`), []);
  assert.deepEqual(await only(`since=${encodeURIComponent('2000-01-01T09:00:00+09:00')}`), [a3.id, a2.id, a1.id]);
  // Paging: one by one, the same order, no repeats.
  const seen = [];
  let cursor = null;
  for (let i = 0; i < 50; i++) {
    const r = await call(srv, w.e1.token, 'GET', `/api/v1/alerts?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, undefined, 200);
    assertResponse('GET', '/api/v1/alerts', r);
    seen.push(...r.json.items.map((a) => a.id));
    cursor = r.json.next_cursor;
    if (!cursor) break;
  }
  assert.deepEqual(seen.filter((id) => [a1.id, a2.id, a3.id].includes(id)), [a3.id, a2.id, a1.id]);
  assert.equal(new Set(seen).size, seen.length, 'no alert twice');
});

test('webhook URLs: https:// only unless the config allows http:// (tests)', async () => {
  const org = await srv.createOrg({ sectors: ['gas'] });
  const url = (u) => call(srv, srv.adminToken, 'POST', `/api/v1/orgs/${org.id}/webhooks`, { url: u });
  assertProblem(await url('http://hooks.example.jp/isac'), 422, 'validation', ['url']);
  assertProblem(await url('HTTP://hooks.example.jp/isac'), 422, 'validation', ['url']);
  const ok = await url('https://hooks.example.jp/isac');
  assert.equal(ok.status, 201, ok.text);
  const h = ok.json.id;
  assertProblem(await call(srv, srv.adminToken, 'PATCH', `/api/v1/webhooks/${h}`, { url: 'http://hooks.example.jp/x' }), 422, 'validation', ['url']);
});

test('audit: alert actions are recorded with ids, never content', async () => {
  const w = await world();
  const { ca } = coord;
  const body = alertBody({ sectors: [w.S] });
  const a = await createAlert(srv, ca.token, body);
  await call(srv, ca.token, 'PATCH', `/api/v1/alerts/${a.id}`, { urgency: 'urgent' }, 200);
  await publishAlert(srv, ca.token, a.id);
  await receipt(srv, w.e1.token, a.id, { kind: 'read' });
  const v2 = await newVersion(srv, ca.token, a.id, { kind: 'correction', urgency: 'critical' });
  const entries = await srv.listAll('/api/v1/audit');
  const acts = (id) => entries.filter((e) => e.object.id === id).map((e) => e.action);
  for (const act of ['alert.create', 'alert.update', 'alert.publish', 'alert.receipt']) {
    assert.ok(acts(a.id).includes(act), `${act} of ${a.id}: ${acts(a.id)}`);
  }
  assert.ok(acts(v2.id).includes('alert.version') || acts(a.id).includes('alert.version'), 'alert.version recorded');
  const text = JSON.stringify(entries);
  assert.ok(!text.includes(body.title.en) && !text.includes(body.actions.ja), 'no alert content in the audit log');
});

test('an organisation that read an alert was reached, whatever channel brought it', async () => {
  const S = await newSector(srv);
  const o = await orgWith(srv, { sectors: [S], tier: 'general' });
  const a = await issueAlert(srv, coord.ca.token, alertBody({ sectors: [S] }));
  // No stream, no inbox listing, no webhook: the member opens it by its id and reads it.
  await receipt(srv, o.token, a.id, { kind: 'read' });
  const page = await deliveryPage(srv, coord.ca.token, a.id);
  assert.equal(page.targeted, 1);
  assert.equal(page.reached, 1, 'read implies reached');
  assert.equal(page.read, 1);
  assert.deepEqual(page.not_reached, []);
});
