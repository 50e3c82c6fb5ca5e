// The alert event stream (issue 5), read with a real server-sent-events client (lib/sse.mjs):
// live delivery to targeted users only, heartbeats (stream_heartbeat_s = 1), resumption with
// Last-Event-ID after a disconnect (exactly the missed events, in order, none lost or duplicated,
// also while alerts are being published), and stream receipts on the delivery page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertProblem, sleep, ADMIN_LOGIN, ADMIN_PASSWORD } from './lib/server.mjs';
import { assertSchema } from './lib/openapi.mjs';
import { openStream } from './lib/sse.mjs';
import {
  newSector, alertBody, call, createAlert, issueAlert, newVersion, publishAlert, getAlert, deliveryPage, deliveryUntil,
  orgRow, assertRecipientView, orgWith, userOf,
} from './lib/alerts.mjs';

let srv;
let ca;       // coordinator analyst
let w;        // sector S: A (a1 member, a2 analyst, aAud auditor), B (silent); sector T: C (c1)
const open = new Set();

before(async () => {
  srv = await startServer({ config: { stream_heartbeat_s: 1 } });
  ca = await srv.userWithToken({ org_id: srv.coordOrgId, roles: ['analyst'] });
  const S = await newSector(srv);
  const T = await newSector(srv);
  const a = await orgWith(srv, { sectors: [S], tier: 'class1' });
  const [a2, aAud, b, c] = await Promise.all([
    userOf(srv, a.org, ['analyst']), userOf(srv, a.org, ['auditor']),
    orgWith(srv, { sectors: [S], tier: 'class2' }), orgWith(srv, { sectors: [T], tier: 'class1' }),
  ]);
  w = { S, T, a, a1: a, a2, aAud, b, c };
});
after(async () => {
  for (const s of open) await s.close();
  await srv?.cleanup();
});

/** Opens a stream and remembers it for after(). */
async function stream(opts) {
  const s = await openStream(srv, opts);
  open.add(s);
  return s;
}

const toS = (fields) => alertBody({ sectors: [w.S] }, fields);
const alertEvent = (id) => (e) => e.event === 'alert' && e.json?.id === id;

test('live delivery to targeted users, in the recipients\' view; nothing to others', async () => {
  const sA = await stream({ token: w.a1.token });
  assert.equal(sA.status, 200, sA.body);
  assert.match(sA.headers['content-type'], /^text\/event-stream/);
  assert.match(sA.headers['cache-control'] || '', /no-store|no-cache/);
  const sA2 = await stream({ token: w.a2.token });
  const sC = await stream({ token: w.c.token });
  const sCoord = await stream({ token: ca.token });
  const aud = await openStream(srv, { token: w.aAud.token });
  open.add(aud);
  assert.ok([200, 403].includes(aud.status), `auditor-only stream: ${aud.status} ${aud.body}`);

  const x = await issueAlert(srv, ca.token, toS({ urgency: 'urgent' }));
  const ev = await sA.waitFor(alertEvent(x.id), 10000, `the alert ${x.id} on A's stream`);
  assert.match(ev.id, /^[1-9][0-9]*$/, `event id ${ev.id}`);
  assert.equal(ev.event, 'alert');
  assertRecipientView(ev.json, { what: 'stream event' });
  assertSchema('RecipientAlert', ev.json, 'stream event');
  assert.deepEqual(ev.json.title, x.title);
  assert.equal(ev.json.urgency, 'urgent');
  const ev2 = await sA2.waitFor(alertEvent(x.id), 10000, 'the alert on the second user\'s stream');
  assert.equal(ev2.id, ev.id, 'one event id per alert version, whoever reads it');
  assert.equal(ev2.data, ev.data, 'the same bytes to every subscriber');
  const evc = await sCoord.waitFor(alertEvent(x.id), 10000, 'the alert on the coordinator\'s stream');
  assert.equal(evc.id, ev.id);

  // Outsiders: alive (heartbeats) but never the event.
  const hbs = sC.comments.length;
  await sC.waitUntil(() => sC.comments.filter((c) => c.text === 'hb').length >= hbs + 2, 5000, 'two heartbeats on C\'s stream');
  assert.deepEqual(sC.alerts.map((e) => e.json?.id), [], 'C (another sector) receives nothing');
  if (aud.status === 200) assert.deepEqual(aud.alerts, [], 'an auditor-only user receives nothing');

  // A draft, or a publication elsewhere, sends nothing to A.
  const before = sA.alerts.length;
  await createAlert(srv, ca.token, toS());
  const elsewhere = await issueAlert(srv, ca.token, alertBody({ sectors: [w.T] }));
  await sC.waitFor(alertEvent(elsewhere.id), 10000, 'the other sector\'s alert on C\'s stream');
  await sleep(300);
  assert.equal(sA.alerts.length, before, `A got ${JSON.stringify(sA.alerts.slice(before).map((e) => e.json?.title))}`);
  for (const s of [sA, sA2, sC, sCoord, aud]) await s.close();
});

test('authentication: 401 without credentials; a session cookie works; a bad Last-Event-ID is 400', async () => {
  const none = await stream({});
  assert.equal(none.status, 401);
  assert.match(none.headers['content-type'], /^application\/problem\+json/);
  assertProblem({ status: none.status, contentType: none.headers['content-type'], text: none.body, json: JSON.parse(none.body) },
    401, 'unauthenticated');
  const bogus = await stream({ token: 'isac_notatoken0000000000000000' });
  assert.equal(bogus.status, 401);
  const bad = await stream({ token: w.a1.token, lastEventId: 'abc' });
  assert.equal(bad.status, 400, bad.body);
  assert.match(bad.headers['content-type'], /^application\/problem\+json/);

  const session = await srv.mustLogin(ADMIN_LOGIN, ADMIN_PASSWORD);
  const s = await stream({ cookie: session.cookie });
  assert.equal(s.status, 200, s.body);
  const x = await issueAlert(srv, ca.token, toS());
  await s.waitFor(alertEvent(x.id), 10000, 'the alert on a cookie-authenticated stream');
  await s.close();
});

test('an open stream stops delivering once its credentials stop working', async () => {
  // Like any request after it, a stream must not outlive a disabled user, a revoked token, a
  // disabled organisation or a logged-out session. (A sector of its own: the counts of the other
  // tests stay exact.)
  const S2 = await newSector(srv);
  const to2 = () => alertBody({ sectors: [S2] });
  const org = (await orgWith(srv, { sectors: [S2], tier: 'general' })).org;
  const [uDis, uTok] = await Promise.all([1, 2].map(() => srv.userWithToken({ org_id: org.id, roles: ['member'] })));
  const orgB = (await orgWith(srv, { sectors: [S2], tier: 'general' })).org;
  const uB = await srv.userWithToken({ org_id: orgB.id, roles: ['member'] });
  const k = await orgWith(srv, { sectors: [S2], tier: 'general' });
  const login = await srv.createUser({ org_id: org.id, roles: ['member'] });
  const session = await srv.mustLogin(login.login, login.password);
  const keep = await stream({ token: k.token });
  const s = {
    'disabled user': await stream({ token: uDis.token }),
    'revoked token': await stream({ token: uTok.token }),
    'disabled organisation': await stream({ token: uB.token }),
    'logged-out session': await stream({ cookie: session.cookie }),
  };
  const x0 = await issueAlert(srv, ca.token, to2());
  for (const [what, st] of Object.entries(s)) await st.waitFor(alertEvent(x0.id), 10000, `${what}: the first alert`);
  await call(srv, srv.adminToken, 'PATCH', `/api/v1/users/${uDis.user.id}`, { disabled: true }, 200);
  await call(srv, srv.adminToken, 'DELETE', `/api/v1/tokens/${uTok.tokenId}`, undefined, 200);
  await call(srv, srv.adminToken, 'PATCH', `/api/v1/orgs/${orgB.id}`, { disabled: true }, 200);
  const out = await srv.api('DELETE', '/api/v1/session', { session });
  assert.ok([200, 204].includes(out.status), `logout: ${out.status}`);
  const x1 = await issueAlert(srv, ca.token, to2());
  await keep.waitFor(alertEvent(x1.id), 10000, 'the second alert on a stream that is still entitled');
  await sleep(2500); // two heartbeats
  const leaks = Object.entries(s).filter(([, st]) => st.events.some(alertEvent(x1.id))).map(([what]) => what);
  assert.deepEqual(leaks, [], `streams that went on after their credentials stopped working: ${leaks}`);
  for (const st of [keep, ...Object.values(s)]) await st.close();
});

test('heartbeats: a `: hb` comment every stream_heartbeat_s (1 s here)', async () => {
  const s = await stream({ token: w.b.token });
  const t0 = Date.now();
  await s.waitUntil(() => s.comments.filter((c) => c.text === 'hb').length >= 3, 6000, 'three heartbeats');
  const beats = s.comments.filter((c) => c.text === 'hb').map((c) => c.at);
  assert.ok(beats[0] - t0 <= 2500, `first heartbeat after ${beats[0] - t0} ms`);
  for (let i = 1; i < beats.length; i++) {
    const gap = beats[i] - beats[i - 1];
    assert.ok(gap >= 400 && gap <= 3000, `heartbeat gap ${gap} ms (want about 1000)`);
  }
  assert.deepEqual(s.events, [], 'heartbeats are comments, not events');
  await s.close();
});

test('resume with Last-Event-ID: exactly the missed events, in order, then live', async () => {
  const s1 = await stream({ token: w.a1.token });
  const p0 = await issueAlert(srv, ca.token, toS());
  const last = (await s1.waitFor(alertEvent(p0.id), 10000, 'p0')).id;
  await s1.close();

  // While A is away: three alerts for it, one for another sector, a draft.
  const missed = [];
  for (let i = 0; i < 3; i++) missed.push(await issueAlert(srv, ca.token, toS({ title: { en: `Missed ${i} ${Date.now()}` } })));
  const other = await issueAlert(srv, ca.token, alertBody({ sectors: [w.T] }));
  await createAlert(srv, ca.token, toS());

  const s2 = await stream({ token: w.a1.token, lastEventId: last });
  assert.equal(s2.status, 200, s2.body);
  await s2.waitUntil(() => s2.alerts.length >= 3, 10000, 'the three missed events');
  const p4 = await issueAlert(srv, ca.token, toS());
  await s2.waitFor(alertEvent(p4.id), 10000, 'the live event after the replay');
  await sleep(300);
  const got = s2.alerts.map((e) => e.json.id);
  assert.deepEqual(got, [...missed.map((a) => a.id), p4.id], 'the missed events in order, then the live one; no duplicates');
  const ids = s2.alerts.map((e) => Number(e.id));
  assert.ok(ids[0] > Number(last) && ids.every((v, i) => i === 0 || v > ids[i - 1]), `event ids ascend after ${last}: ${ids}`);
  assert.ok(!got.includes(other.id) && !got.includes(p0.id));
  for (const e of s2.alerts) assertRecipientView(e.json, { what: 'replayed event' });

  // The same with ?last_event_id= (for clients that cannot set the header).
  const s3 = await stream({ token: w.a1.token, query: `last_event_id=${last}` });
  await s3.waitUntil(() => s3.alerts.length >= 4, 10000, 'the four events after last_event_id');
  await sleep(200);
  assert.deepEqual(s3.alerts.map((e) => e.json.id), got);
  assert.deepEqual(s3.alerts.map((e) => e.id), s2.alerts.map((e) => e.id), 'the same event ids on replay');
  // Last-Event-ID: 0 replays every visible event (they all have larger ids).
  const s4 = await stream({ token: w.a1.token, lastEventId: '0' });
  await s4.waitUntil(() => s4.alerts.some((e) => e.json.id === p4.id), 5000, 'the whole history after Last-Event-ID: 0');
  const all = s4.alerts.map((e) => e.json.id);
  for (const id of [p0.id, ...got]) assert.ok(all.includes(id), `history has ${id}`);
  assert.ok(!all.includes(other.id), 'history holds only what A may see');
  assert.equal(new Set(all).size, all.length, 'no duplicates in the history');
  for (const s of [s2, s3, s4]) await s.close();
});

test('no event lost or duplicated when reconnecting while alerts are being published', async () => {
  const s0 = await stream({ token: w.a2.token });
  const m = await issueAlert(srv, ca.token, toS());
  let last = (await s0.waitFor(alertEvent(m.id), 10000, 'the marker')).id;
  await s0.close();

  const N = 8;
  const published = [];
  const publisher = (async () => {
    for (let i = 0; i < N; i++) {
      published.push((await issueAlert(srv, ca.token, toS({ title: { en: `Burst ${i}` } }))).id);
      await sleep(40);
    }
  })();
  const received = [];
  let done = false;
  publisher.then(() => { done = true; });
  for (let round = 0; round < 60; round++) {
    const s = await stream({ token: w.a2.token, lastEventId: last });
    assert.equal(s.status, 200, s.body);
    // Stay for a short, varying while, then drop the connection mid-flow.
    await sleep(60 + (round % 4) * 70);
    await s.close();
    for (const e of s.alerts) { received.push({ id: Number(e.id), alert: e.json.id }); last = e.id; }
    if (done && published.every((id) => received.some((r) => r.alert === id))) break;
  }
  await publisher;
  // One last resume picks up anything the final hang-up missed.
  const fin = await stream({ token: w.a2.token, lastEventId: last });
  await sleep(500);
  await fin.close();
  for (const e of fin.alerts) received.push({ id: Number(e.id), alert: e.json.id });
  assert.deepEqual(received.map((r) => r.alert), published, 'every alert exactly once, in publication order');
  assert.ok(received.every((r, i) => i === 0 || r.id > received[i - 1].id), 'event ids ascend');
});

test('stream deliveries are receipts on the delivery page; versions and exercises arrive like the first', async () => {
  const sA = await stream({ token: w.a1.token });
  const x = await issueAlert(srv, ca.token, toS({ urgency: 'critical' }));
  const ev = await sA.waitFor(alertEvent(x.id), 10000, 'the alert');
  const page = await deliveryUntil(srv, ca.token, x.id, (p) => orgRow(p, w.a.org.id).delivered.stream !== null, 10000,
    'a stream receipt for A');
  const row = orgRow(page, w.a.org.id);
  assert.ok(Date.parse(row.delivered.stream) >= Date.parse(page.published_at) - 1000, JSON.stringify(row));
  assert.ok(Date.parse(row.delivered.stream) <= ev.at + 2000, 'recorded when written');
  assert.equal(row.delivered.inbox, null, 'A has not listed its inbox');
  assert.equal(page.targeted, 2);
  assert.equal(page.reached, 1);
  assert.deepEqual(page.not_reached.map((o) => o.org_id), [w.b.org.id]);
  assert.ok(page.time_to_receipt.max_ms !== null && page.time_to_receipt.max_ms < 10000, JSON.stringify(page.time_to_receipt));
  const det = (await getAlert(srv, w.a1.token, x.id, 200)).json;
  assert.equal(det.receipt.delivered_at, row.delivered.stream, 'the org\'s first delivery was the stream');

  // A correction and a withdrawal are new events; an exercise is marked.
  const v2 = await newVersion(srv, ca.token, x.id, { kind: 'correction', urgency: 'urgent' });
  await publishAlert(srv, ca.token, v2.id);
  const e2 = await sA.waitFor(alertEvent(v2.id), 10000, 'the correction');
  assert.equal(e2.json.kind, 'correction');
  assert.equal(e2.json.series_id, x.id);
  assert.ok(Number(e2.id) > Number(ev.id));
  const v3 = await newVersion(srv, ca.token, v2.id, { kind: 'withdrawal', reason: '誤報' });
  await publishAlert(srv, ca.token, v3.id);
  const e3 = await sA.waitFor(alertEvent(v3.id), 10000, 'the withdrawal');
  assert.equal(e3.json.kind, 'withdrawal');
  await deliveryUntil(srv, ca.token, v3.id, (p) => orgRow(p, w.a.org.id).delivered.stream !== null, 10000, 'a stream receipt for the withdrawal');
  const drill = await issueAlert(srv, ca.token, toS({ exercise: true }));
  const e4 = await sA.waitFor(alertEvent(drill.id), 10000, 'the exercise');
  assert.equal(e4.json.exercise, true);
  const dp = await deliveryUntil(srv, ca.token, drill.id, (p) => p.reached === 1, 10000, 'the exercise reached A');
  assert.equal(dp.exercise, true);
  await sA.close();
  const p2 = await deliveryPage(srv, ca.token, x.id);
  assert.equal(p2.reached, 1, 'receipts stay with their version');
});
