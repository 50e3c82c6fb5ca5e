// Alert delivery over webhooks and e-mail, and escalation (issue 5), against a REAL webhook
// receiver (lib/webhook.mjs: node:http on a free port) and a REAL SMTP server (lib/smtp.mjs:
// aiosmtpd). The server runs with webhook_allow_http = true, a short backoff and 3 tries, smtp_url
// pointing at the test SMTP server, and escalation after 2 s checked every 200 ms.
//
// Escalation applies to every urgent or critical alert of this server, so the tests that are not
// about it publish routine alerts, or mark urgent ones read at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertProblem, sleep, uniq } from './lib/server.mjs';
import { assertResponse, assertSchema } from './lib/openapi.mjs';
import { startReceiver, verifySignature } from './lib/webhook.mjs';
import { startSmtp } from './lib/smtp.mjs';
import { openStream } from './lib/sse.mjs';
import {
  newSector, alertBody, call, issueAlert, receipt, deliveryPage, deliveryUntil, orgRow, assertRecipientView,
  orgWith, userOf,
} from './lib/alerts.mjs';

const BACKOFF_MS = 150;
const MAX_TRIES = 3;
const FROM = 'isac-alerts@example.test';
const ESCALATE_S = 2;

let srv;
let rx;
let mx;
let ca;

before(async () => {
  [rx, mx] = await Promise.all([startReceiver(), startSmtp()]);
  srv = await startServer({
    config: {
      webhook_allow_http: true, webhook_allow_private: true, webhook_backoff_ms: BACKOFF_MS, webhook_max_tries: MAX_TRIES, webhook_timeout_ms: 3000,
      deliver_poll_ms: 50, smtp_url: mx.url, smtp_from: FROM, alert_escalate_after_s: ESCALATE_S, escalation_check_ms: 200,
    },
  });
  ca = await srv.userWithToken({ org_id: srv.coordOrgId, roles: ['analyst'] });
});
after(async () => {
  try { await srv?.cleanup(); } finally {
    await rx?.close();
    await mx?.stop();
  }
});

/** An org of sector S with an org_admin (token) and a webhook at rx path; resolves {org, token, hook, path}. */
async function orgWithHook(S, name, fields = {}) {
  const o = await orgWith(srv, { sectors: [S], ...fields }, ['org_admin', 'member']);
  const path = `/${name}-${uniq('h')}`;
  const r = await call(srv, o.token, 'POST', `/api/v1/orgs/${o.org.id}/webhooks`, { url: rx.url(path) }, 201);
  return { ...o, hook: r.json, path };
}

/** The delivery log of a webhook (checked against the document). */
async function deliveries(token, hookId) {
  const r = await call(srv, token, 'GET', `/api/v1/webhooks/${hookId}/deliveries`, undefined, 200);
  assertResponse('GET', '/api/v1/webhooks/{id}/deliveries', r);
  return r.json.items;
}

const text = (m) => m.text.replace(/\r\n/g, '\n');

test('webhooks: the org\'s org_admins and administrators manage them; the secret is shown once; validation', async () => {
  const S = await newSector(srv);
  const a = await orgWith(srv, { sectors: [S] }, ['org_admin']);
  const mem = await userOf(srv, a.org, ['member', 'analyst']);
  const other = await orgWith(srv, { sectors: [S] }, ['org_admin']);

  const r = await call(srv, a.token, 'POST', `/api/v1/orgs/${a.org.id}/webhooks`, { url: rx.url('/mgmt') }, 201);
  assertResponse('POST', '/api/v1/orgs/{id}/webhooks', r);
  const hook = r.json;
  assertSchema('WebhookCreated', hook);
  assert.equal(hook.org_id, a.org.id);
  assert.equal(hook.url, rx.url('/mgmt'));
  assert.equal(hook.enabled, true);
  assert.match(hook.secret, /^[A-Za-z0-9_-]{43}$/, 'base64url of 32 bytes');
  assert.equal(Buffer.from(hook.secret, 'base64url').length, 32);
  const h2 = await call(srv, srv.adminToken, 'POST', `/api/v1/orgs/${a.org.id}/webhooks`, { url: 'https://hooks.example.invalid/x', enabled: false }, 201);
  assert.equal(h2.json.enabled, false);
  assert.notEqual(h2.json.secret, hook.secret, 'a secret of its own');

  // Read back: never the secret.
  const one = await call(srv, a.token, 'GET', `/api/v1/webhooks/${hook.id}`, undefined, 200);
  assertResponse('GET', '/api/v1/webhooks/{id}', one);
  assert.ok(!('secret' in one.json) && !one.text.includes(hook.secret));
  const list = await call(srv, a.token, 'GET', `/api/v1/orgs/${a.org.id}/webhooks`, undefined, 200);
  assertResponse('GET', '/api/v1/orgs/{id}/webhooks', list);
  assert.deepEqual(list.json.items.map((h) => h.id).sort(), [hook.id, h2.json.id].sort());
  assert.ok(!list.text.includes(hook.secret) && !list.text.includes(h2.json.secret));
  assert.ok((await call(srv, srv.adminToken, 'GET', `/api/v1/orgs/${a.org.id}/webhooks`, undefined, 200)).json.items.length === 2);
  assert.deepEqual((await call(srv, other.token, 'GET', `/api/v1/orgs/${other.org.id}/webhooks`, undefined, 200)).json.items, []);

  // Everyone else: 403 (or 404), whatever the call.
  for (const [who, t] of [['member/analyst of the org', mem.token], ['org_admin of another org', other.token], ['coordinator analyst', ca.token]]) {
    for (const [m, p, b] of [['GET', `/api/v1/orgs/${a.org.id}/webhooks`], ['POST', `/api/v1/orgs/${a.org.id}/webhooks`, { url: rx.url('/x') }],
      ['GET', `/api/v1/webhooks/${hook.id}`], ['PATCH', `/api/v1/webhooks/${hook.id}`, { enabled: false }],
      ['DELETE', `/api/v1/webhooks/${hook.id}`], ['GET', `/api/v1/webhooks/${hook.id}/deliveries`]]) {
      const res = await call(srv, t, m, p, b);
      assert.ok([403, 404].includes(res.status), `${who}: ${m} ${p} → ${res.status} ${res.text.slice(0, 200)}`);
      assert.match(res.contentType, /^application\/problem\+json/);
    }
  }
  assert.equal((await call(srv, a.token, 'GET', `/api/v1/orgs/${a.org.id}/webhooks`, undefined, 200)).json.items.length, 2, 'nothing created by refused calls');

  // Validation.
  for (const [b, field] of [[{}, 'url'], [{ url: '' }, 'url'], [{ url: 'ftp://files.example.jp/x' }, 'url'], [{ url: 'not a url' }, 'url'],
    [{ url: 'javascript:alert(1)' }, 'url'], [{ url: 'https://ok.example.jp/', foo: 1 }, 'foo'], [{ url: 'https://ok.example.jp/', enabled: 'yes' }, 'enabled'],
    [{ url: `https://ok.example.jp/${'x'.repeat(2100)}` }, 'url']]) {
    const res = await call(srv, a.token, 'POST', `/api/v1/orgs/${a.org.id}/webhooks`, b);
    assertProblem(res, 422, 'validation', [field]);
    assertResponse('POST', '/api/v1/orgs/{id}/webhooks', res);
  }
  for (const [b, field] of [[{ enabled: 'no' }, 'enabled'], [{ url: 'gopher://x' }, 'url'], [{ secret: 'x' }, 'secret']]) {
    const res = await call(srv, a.token, 'PATCH', `/api/v1/webhooks/${hook.id}`, b);
    assertProblem(res, 422, 'validation', [field]);
    assertResponse('PATCH', '/api/v1/webhooks/{id}', res);
  }
  assertProblem(await call(srv, a.token, 'GET', '/api/v1/webhooks/01936a8e-4f5e-7c2a-9b1d-2f3e4a5b6c7d'), 404, 'not-found');
  assertProblem(await call(srv, srv.adminToken, 'GET', '/api/v1/orgs/01936a8e-4f5e-7c2a-9b1d-2f3e4a5b6c7d/webhooks'), 404, 'not-found');

  // Change, disable, delete.
  const p = await call(srv, a.token, 'PATCH', `/api/v1/webhooks/${hook.id}`, { enabled: false, url: rx.url('/mgmt2') }, 200);
  assertResponse('PATCH', '/api/v1/webhooks/{id}', p);
  assert.equal(p.json.enabled, false);
  assert.equal(p.json.url, rx.url('/mgmt2'));
  assert.ok(!('secret' in p.json));
  assert.ok(Date.parse(p.json.updated_at) >= Date.parse(hook.created_at));
  const d = await call(srv, a.token, 'DELETE', `/api/v1/webhooks/${hook.id}`);
  assert.ok([200, 204].includes(d.status), `DELETE: ${d.status} ${d.text}`);
  assertResponse('DELETE', '/api/v1/webhooks/{id}', d);
  assertProblem(await call(srv, a.token, 'GET', `/api/v1/webhooks/${hook.id}`), 404, 'not-found');
  assert.deepEqual((await call(srv, a.token, 'GET', `/api/v1/orgs/${a.org.id}/webhooks`, undefined, 200)).json.items.map((h) => h.id), [h2.json.id]);

  // Audited, without the secret.
  const audit = await srv.listAll('/api/v1/audit');
  const acts = audit.filter((e) => e.object.id === hook.id).map((e) => e.action);
  for (const act of ['webhook.create', 'webhook.update', 'webhook.delete']) assert.ok(acts.includes(act), `${act}: ${acts}`);
  assert.ok(!JSON.stringify(audit).includes(hook.secret), 'no secret in the audit log');
});

test('a signed POST per published alert to each enabled webhook of each targeted org; log and receipt', async () => {
  const S = await newSector(srv);
  const T = await newSector(srv);
  const a = await orgWithHook(S, 'sig');
  const b = await orgWithHook(S, 'disabled');
  await call(srv, b.token, 'PATCH', `/api/v1/webhooks/${b.hook.id}`, { enabled: false }, 200);
  const c = await orgWithHook(T, 'outside');
  const sA = await openStream(srv, { token: a.token });

  const t0 = Date.now();
  const x = await issueAlert(srv, ca.token, alertBody({ sectors: [S] }));
  const [hit] = await rx.waitFor((h) => h.path === a.path);
  assert.equal(hit.method, 'POST');
  assert.match(hit.headers['content-type'], /^application\/json/);
  assert.equal(hit.headers['x-isac-event'], 'alert');
  assert.match(hit.headers['x-isac-delivery'], /^[1-9][0-9]*$/);
  const ts = Number(hit.headers['x-isac-timestamp']);
  assert.ok(Number.isInteger(ts) && Math.abs(ts * 1000 - t0) < 60e3, `X-Isac-Timestamp ${hit.headers['x-isac-timestamp']}`);
  assert.match(hit.headers['x-isac-signature'], /^sha256=[0-9a-f]{64}$/);
  assert.ok(verifySignature(a.hook.secret, hit), 'HMAC-SHA256(secret, timestamp + "." + body) with the secret returned at creation');
  assert.ok(!verifySignature(b.hook.secret, hit), 'another webhook\'s secret does not verify');
  assert.ok(!verifySignature(a.hook.secret, { ...hit, body: hit.body.replace('"alert"', '"alerT"') }), 'a changed body does not verify');
  assert.ok(!verifySignature(a.hook.secret, { ...hit, headers: { ...hit.headers, 'x-isac-timestamp': String(ts + 1) } }), 'a changed timestamp does not verify');
  assert.deepEqual(Object.keys(hit.json).sort(), ['alert', 'event_id', 'type']);
  assert.equal(hit.json.type, 'alert');
  assert.equal(hit.json.alert.id, x.id);
  assertRecipientView(hit.json.alert, { what: 'webhook body' });
  assertSchema('RecipientAlert', hit.json.alert, 'webhook body');
  assert.deepEqual(hit.json.alert.title, x.title);
  const ev = await sA.waitFor((e) => e.json?.id === x.id, 10000, 'the same alert on the stream');
  assert.equal(String(hit.json.event_id), ev.id, 'event_id is the stream\'s event id');
  await sA.close();

  // Logged, and a delivered receipt on the webhook channel.
  const page = await deliveryUntil(srv, ca.token, x.id, (p) => orgRow(p, a.org.id).delivered.webhook !== null, 10000, 'a webhook receipt');
  assert.ok(Date.parse(orgRow(page, a.org.id).delivered.webhook) >= Date.parse(page.published_at) - 1000);
  assert.equal(orgRow(page, b.org.id).delivered.webhook, null, 'a disabled webhook delivers nothing');
  const log = await deliveries(a.token, a.hook.id);
  assert.equal(log.length, 1, JSON.stringify(log));
  assert.equal(log[0].status, 200);
  assert.equal(log[0].error, null);
  assert.equal(log[0].alert_id, x.id);
  assert.equal(String(log[0].delivery_id), hit.headers['x-isac-delivery']);
  assert.ok(Number.isInteger(log[0].duration_ms) && log[0].duration_ms >= 0);
  assert.ok(Math.abs(Date.parse(log[0].at) - hit.at) < 5000, `log at ${log[0].at}`);
  assert.deepEqual(await deliveries(b.token, b.hook.id), []);

  await sleep(500);
  assert.deepEqual(rx.of(b.path), [], 'disabled: nothing sent');
  assert.deepEqual(rx.of(c.path), [], 'an organisation outside the audience: nothing sent');
  assert.equal(rx.of(a.path).length, 1, 'one POST per alert version and webhook');
});

test('publishing never waits for receivers, and a slow receiver does not hold up the others', async () => {
  const S = await newSector(srv);
  const slow = await orgWithHook(S, 'slow');
  const fast = await orgWithHook(S, 'fast');
  rx.delay(slow.path, 2500);
  const t0 = Date.now();
  const x = await issueAlert(srv, ca.token, alertBody({ sectors: [S] }));
  const took = Date.now() - t0;
  const [f] = await rx.waitFor((h) => h.path === fast.path && h.json?.alert?.id === x.id);
  const [s] = await rx.waitFor((h) => h.path === slow.path && h.json?.alert?.id === x.id);
  assert.ok(took < 2000, `compose + publish took ${took} ms (the slow receiver takes 2500)`);
  assert.ok(f.at - t0 < 2000, `the fast receiver got it ${f.at - t0} ms after publishing, not after the slow one`);
  // A second alert while the slow receiver still holds the first: the fast one gets it at once.
  const y = await issueAlert(srv, ca.token, alertBody({ sectors: [S] }));
  const t1 = Date.now();
  const [f2] = await rx.waitFor((h) => h.path === fast.path && h.json?.alert?.id === y.id);
  assert.ok(f2.at - t1 < 2000, `the second alert reached the fast receiver ${f2.at - t1} ms after publishing`);
  await deliveryUntil(srv, ca.token, x.id, (p) => orgRow(p, slow.org.id).delivered.webhook !== null, 10000, 'the slow receiver\'s receipt');
  assert.ok(s.at >= t0);
});

test('any 2xx is a delivery; a redirect is not followed (and is a failure)', async () => {
  const S = await newSector(srv);
  const a = await orgWithHook(S, 'accepted');
  const b = await orgWithHook(S, 'moved');
  rx.respond(a.path, [202]);
  rx.respond(b.path, [302]);
  const x = await issueAlert(srv, ca.token, alertBody({ sectors: [S] }));
  await deliveryUntil(srv, ca.token, x.id, (p) => orgRow(p, a.org.id).delivered.webhook !== null, 10000, '202 is delivered');
  await rx.waitFor((h) => h.path === b.path, MAX_TRIES, 15000);
  await sleep(BACKOFF_MS * 4);
  assert.deepEqual(rx.hits.filter((h) => h.path.startsWith(`${b.path}/`)).map((h) => h.path), [], 'the redirect was not followed');
  assert.equal(orgRow(await deliveryPage(srv, ca.token, x.id), b.org.id).delivered.webhook, null, 'a redirect is no delivery');
  const log = await deliveries(b.token, b.hook.id);
  assert.deepEqual(log.map((e) => e.status), [302, 302, 302]);
});

test('retries with exponential backoff after failures, then success', async () => {
  const S = await newSector(srv);
  const a = await orgWithHook(S, 'flaky');
  rx.respond(a.path, [500, 503, 200]);
  const x = await issueAlert(srv, ca.token, alertBody({ sectors: [S] }));
  const hits = await rx.waitFor((h) => h.path === a.path, 3, 15000);
  assert.deepEqual(hits.map((h) => h.status), [500, 503, 200]);
  const gaps = [hits[1].at - hits[0].at, hits[2].at - hits[1].at];
  assert.ok(gaps[0] >= BACKOFF_MS * 0.9, `first retry after ${gaps[0]} ms (backoff ${BACKOFF_MS})`);
  assert.ok(gaps[1] >= 2 * BACKOFF_MS * 0.9, `second retry after ${gaps[1]} ms (doubled: ${2 * BACKOFF_MS})`);
  assert.ok(gaps[0] < 5000 && gaps[1] < 5000, `retries come soon: ${gaps}`);
  const ids = new Set(hits.map((h) => h.headers['x-isac-delivery']));
  assert.equal(ids.size, 1, 'one delivery, several tries');
  for (const h of hits) {
    assert.ok(verifySignature(a.hook.secret, h), 'every try is signed');
    assert.equal(h.json.alert.id, x.id);
  }
  await deliveryUntil(srv, ca.token, x.id, (p) => orgRow(p, a.org.id).delivered.webhook !== null, 10000, 'a webhook receipt after the retries');
  const log = await deliveries(a.token, a.hook.id);
  assert.deepEqual(log.map((e) => e.status), [200, 503, 500], 'every try logged, newest first');
  assert.equal(log[0].error, null);
  assert.ok(log[1].error && log[2].error, 'failed tries say why');
  assert.ok(log.every((e) => String(e.delivery_id) === [...ids][0]));
  await sleep(600);
  assert.equal(rx.of(a.path).length, 3, 'no try after the success');
});

test('dead letter after webhook_max_tries; unreachable receivers too', async () => {
  const S = await newSector(srv);
  const a = await orgWithHook(S, 'dead');
  rx.respond(a.path, [500]);
  // A receiver that is not listening: the port of a closed server.
  const gone = await startReceiver();
  const deadUrl = gone.url('/gone');
  await gone.close();
  const b = await orgWith(srv, { sectors: [S] }, ['org_admin']);
  const bh = (await call(srv, b.token, 'POST', `/api/v1/orgs/${b.org.id}/webhooks`, { url: deadUrl }, 201)).json;

  const x = await issueAlert(srv, ca.token, alertBody({ sectors: [S] }));
  await rx.waitFor((h) => h.path === a.path, MAX_TRIES, 15000);
  // Well past the time another try would come (backoff 150, 300, then 600 ms).
  await sleep(BACKOFF_MS * 8);
  assert.equal(rx.of(a.path).length, MAX_TRIES, `exactly webhook_max_tries (${MAX_TRIES}) tries`);
  const log = await deliveries(a.token, a.hook.id);
  assert.equal(log.length, MAX_TRIES);
  assert.ok(log.every((e) => e.status === 500 && e.error), JSON.stringify(log));
  if ('state' in log[0]) assert.equal(log[0].state, 'dead', 'the delivery is dead');
  const logB = await (async () => {
    const deadline = Date.now() + 10000;
    for (;;) {
      const l = await deliveries(b.token, bh.id);
      if (l.length >= MAX_TRIES || Date.now() > deadline) return l;
      await sleep(100);
    }
  })();
  assert.equal(logB.length, MAX_TRIES, JSON.stringify(logB));
  assert.ok(logB.every((e) => (e.status === 0 || e.status === null) && typeof e.error === 'string' && e.error.length > 0),
    `a connection failure has no status and says why: ${JSON.stringify(logB)}`);
  const page = await deliveryPage(srv, ca.token, x.id);
  assert.equal(orgRow(page, a.org.id).delivered.webhook, null, 'a dead delivery is no receipt');
  assert.equal(orgRow(page, b.org.id).delivered.webhook, null);
  assert.equal(page.reached, 0);
});

test('disabling or deleting a webhook stops its retries', async () => {
  const S = await newSector(srv);
  const a = await orgWithHook(S, 'disable-me');
  const b = await orgWithHook(S, 'delete-me');
  rx.respond(a.path, [500]);
  rx.respond(b.path, [500]);
  await issueAlert(srv, ca.token, alertBody({ sectors: [S] }));
  await rx.waitFor((h) => h.path === a.path);
  await rx.waitFor((h) => h.path === b.path);
  await call(srv, a.token, 'PATCH', `/api/v1/webhooks/${a.hook.id}`, { enabled: false }, 200);
  await call(srv, b.token, 'DELETE', `/api/v1/webhooks/${b.hook.id}`);
  // A try in flight when the call came may still land; nothing after it.
  await sleep(BACKOFF_MS * 2);
  const [na, nb] = [rx.of(a.path).length, rx.of(b.path).length];
  await sleep(BACKOFF_MS * 8);
  assert.equal(rx.of(a.path).length, na, 'a disabled webhook gets no more tries');
  assert.equal(rx.of(b.path).length, nb, 'a deleted webhook gets no more tries');
  assert.ok(na <= 2 && nb <= 2, `tries after the change: ${na}, ${nb}`);
});

test('e-mail: subject marks, the contact\'s language, From, delivered receipt', async () => {
  const S = await newSector(srv);
  const tag = uniq('M').toLowerCase();
  const en = `soc-en-${tag}@example.test`;
  const ja = `soc-ja-${tag}@example.test`;
  const e = await orgWith(srv, { sectors: [S], name: { ja: `メール電力 ${tag}`, en: `Mail Power ${tag}` } }, ['org_admin', 'member']);
  await call(srv, e.token, 'PATCH', `/api/v1/orgs/${e.org.id}`, {
    contacts: [{ type: 'email', value: en, locale: 'en' }, { type: 'email', value: ja }, { type: 'phone', value: '+81-3-0000-0000' }],
  }, 200);
  const got = (await call(srv, e.token, 'GET', `/api/v1/orgs/${e.org.id}`, undefined, 200)).json;
  assert.equal(got.contacts[0].locale, 'en');
  assert.ok([undefined, 'ja'].includes(got.contacts[1].locale), `default locale: ${got.contacts[1].locale}`);
  const bad = await call(srv, e.token, 'PATCH', `/api/v1/orgs/${e.org.id}`, { contacts: [{ type: 'email', value: en, locale: 'fr' }] });
  assertProblem(bad, 422, 'validation', ['contacts[0].locale']);

  const body = alertBody({ sectors: [S] }, { tlp: 'AMBER' });
  const x = await issueAlert(srv, ca.token, body);
  const [mEn] = await mx.waitFor((m) => m.to.includes(en) && m.subject.includes(x.title.en));
  const [mJa] = await mx.waitFor((m) => m.to.includes(ja) && m.subject.includes(x.title.ja));
  assert.equal(mEn.subject, `[TLP:AMBER] ${body.title.en}`, 'routine: no urgency label');
  assert.equal(mJa.subject, `[TLP:AMBER] ${body.title.ja}`, 'Japanese for a contact without a locale');
  assert.equal(mEn.mail_from, FROM);
  assert.match(mEn.from, new RegExp(FROM.replace(/[.]/g, '\\.')));
  assert.ok(text(mEn).includes(body.actions.en) && !text(mEn).includes(body.actions.ja), `English body: ${text(mEn).slice(0, 400)}`);
  assert.ok(text(mJa).includes(body.actions.ja) && !text(mJa).includes(body.actions.en), `Japanese body: ${text(mJa).slice(0, 400)}`);
  assert.ok(text(mEn).includes(body.summary.en));
  assert.ok(text(mEn).includes('TLP:AMBER'));
  assert.ok(!mx.messages.some((m) => m.to.some((t) => t.includes('+81'))), 'phone contacts get no mail');
  const page = await deliveryUntil(srv, ca.token, x.id, (p) => orgRow(p, e.org.id).delivered.email !== null, 10000, 'an e-mail receipt');
  assert.ok(Date.parse(orgRow(page, e.org.id).delivered.email) >= Date.parse(page.published_at) - 1000);
  assert.equal(page.reached, 1);

  // Marks: urgency, exercise; a missing language falls back to the other.
  const reader = await userOf(srv, e.org, ['member']);
  const cases = [
    [{ urgency: 'urgent', tlp: 'GREEN' }, (t) => `[TLP:GREEN] [URGENT] ${t}`],
    [{ urgency: 'critical', tlp: 'CLEAR' }, (t) => `[TLP:CLEAR] [CRITICAL] ${t}`],
    [{ exercise: true }, (t) => `[EXERCISE/訓練] [TLP:AMBER] ${t}`],
    [{ exercise: true, urgency: 'urgent', tlp: 'AMBER+STRICT' }, (t) => `[EXERCISE/訓練] [TLP:AMBER+STRICT] [URGENT] ${t}`],
  ];
  for (const [fields, want] of cases) {
    const b2 = alertBody({ sectors: [S] }, fields);
    const a2 = await issueAlert(srv, ca.token, b2);
    if (fields.urgency) await receipt(srv, reader.token, a2.id, { kind: 'read' }); // no escalation here
    const [m1] = await mx.waitFor((m) => m.to.includes(en) && m.subject.includes(b2.title.en));
    const [m2] = await mx.waitFor((m) => m.to.includes(ja) && m.subject.includes(b2.title.ja));
    assert.equal(m1.subject, want(b2.title.en));
    assert.equal(m2.subject, want(b2.title.ja));
    if (fields.exercise) assert.match(text(m1), /EXERCISE/, 'the body says it is an exercise');
  }
  const only = alertBody({ sectors: [S] }, { title: { en: `English only ${tag}` }, summary: {}, actions: { en: 'Only in English.' } });
  await issueAlert(srv, ca.token, only);
  const [fb] = await mx.waitFor((m) => m.to.includes(ja) && m.subject.includes(`English only ${tag}`));
  assert.equal(fb.subject, `[TLP:AMBER] English only ${tag}`, 'the other language when the alert has none in the contact\'s');
  assert.ok(text(fb).includes('Only in English.'));

  // A refused recipient: no receipt (and the other contacts are unaffected).
  const bounce = `bounce-${tag}@example.test`;
  await mx.reject(bounce);
  const f = await orgWith(srv, { sectors: [S] }, ['org_admin']);
  await call(srv, f.token, 'PATCH', `/api/v1/orgs/${f.org.id}`, { contacts: [{ type: 'email', value: bounce }] }, 200);
  const y = await issueAlert(srv, ca.token, alertBody({ sectors: [S] }));
  await deliveryUntil(srv, ca.token, y.id, (p) => orgRow(p, e.org.id).delivered.email !== null, 10000, 'E got y');
  await sleep(BACKOFF_MS * 8);
  assert.equal(orgRow(await deliveryPage(srv, ca.token, y.id), f.org.id).delivered.email, null, 'a refused message is no receipt');
  assert.deepEqual(mx.to(bounce), []);
});

test('escalation: an urgent alert unread after alert_escalate_after_s is re-sent (once) over webhook and e-mail; a read one is not', async () => {
  const S = await newSector(srv);
  const tag = uniq('E').toLowerCase();
  const mk = async (name) => {
    const o = await orgWithHook(S, name);
    const mail = `${name}-${tag}@example.test`;
    await call(srv, o.token, 'PATCH', `/api/v1/orgs/${o.org.id}`, { contacts: [{ type: 'email', value: mail, locale: 'en' }] }, 200);
    return { ...o, mail };
  };
  const r = await mk('reads');
  const u = await mk('unread');
  const routine = await issueAlert(srv, ca.token, alertBody({ sectors: [S] }, { urgency: 'routine' }));
  const x = await issueAlert(srv, ca.token, alertBody({ sectors: [S] }, { urgency: 'urgent' }));
  const isX = (h) => h.json?.alert?.id === x.id;
  await rx.waitFor((h) => h.path === r.path && isX(h));
  await rx.waitFor((h) => h.path === u.path && isX(h));
  await receipt(srv, r.token, x.id, { kind: 'read' });
  const published = Date.parse(x.published_at);

  // U has not read it: sent again after 2 s, with a new delivery id.
  const uh = await rx.waitFor((h) => h.path === u.path && isX(h), 2, 15000);
  assert.ok(uh[1].at - published >= ESCALATE_S * 1000 - 1000, `re-sent ${uh[1].at - published} ms after publication`);
  assert.notEqual(uh[1].headers['x-isac-delivery'], uh[0].headers['x-isac-delivery'], 'a new delivery');
  assert.ok(verifySignature(u.hook.secret, uh[1]));
  assert.equal(uh[1].json.alert.id, x.id);
  const um = await mx.waitFor((m) => m.to.includes(u.mail) && m.subject.includes(x.title.en), 2, 15000);
  assert.match(um[1].subject, /\[URGENT\]/);
  const page = await deliveryUntil(srv, ca.token, x.id, (p) => orgRow(p, u.org.id).escalated_at !== null, 10000, 'escalated_at');
  assert.ok(Date.parse(orgRow(page, u.org.id).escalated_at) >= published + ESCALATE_S * 1000 - 1000);
  assert.equal(orgRow(page, r.org.id).escalated_at, null, 'read in time: not escalated');

  // Once only; nothing for the reader, nothing for a routine alert.
  await sleep(ESCALATE_S * 1000 + 800);
  assert.equal(rx.of(u.path).filter(isX).length, 2, 'escalated once');
  assert.equal(mx.to(u.mail).filter((m) => m.subject.includes(x.title.en)).length, 2);
  assert.equal(rx.of(r.path).filter(isX).length, 1, 'the reader: not re-sent');
  assert.equal(mx.to(r.mail).filter((m) => m.subject.includes(x.title.en)).length, 1);
  const isRoutine = (h) => h.json?.alert?.id === routine.id;
  assert.equal(rx.of(u.path).filter(isRoutine).length, 1, 'a routine alert is never escalated');
  const rp = await deliveryPage(srv, ca.token, routine.id);
  assert.equal(orgRow(rp, u.org.id).escalated_at, null);
  const audit = await srv.listAll(`/api/v1/audit?action=alert.escalate&object_id=${x.id}`);
  assert.ok(audit.length >= 1, 'alert.escalate audited');
});
