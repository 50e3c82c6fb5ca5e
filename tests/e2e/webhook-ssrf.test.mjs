// Webhooks cannot probe the hub's network (issue 5): with the default webhook_allow_private =
// false, a webhook URL naming a loopback, private or reserved address is refused when it is
// registered (422, field url), and a name that resolves to such an address (localhost here) is
// refused at every connection, after resolution: the receiver on 127.0.0.1 gets nothing and the
// delivery log says why. (webhooks.test.mjs runs with webhook_allow_private = true.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertProblem, sleep, uniq } from './lib/server.mjs';
import { startReceiver } from './lib/webhook.mjs';
import { newSector, alertBody, call, issueAlert, orgWith } from './lib/alerts.mjs';

const MAX_TRIES = 2;
let srv;
let rx;
let ca;

before(async () => {
  rx = await startReceiver();
  srv = await startServer({
    config: { webhook_allow_http: true, webhook_backoff_ms: 100, webhook_max_tries: MAX_TRIES, deliver_poll_ms: 50 },
  });
  ca = await srv.userWithToken({ org_id: srv.coordOrgId, roles: ['analyst'] });
});
after(async () => {
  try { await srv?.cleanup(); } finally { await rx?.close(); }
});

test('a URL with a literal non-public address is refused at registration', async () => {
  const S = await newSector(srv);
  const a = await orgWith(srv, { sectors: [S] }, ['org_admin']);
  for (const url of [rx.url('/x'), 'http://127.1.2.3/x', 'https://10.0.0.8/x', 'https://172.16.5.4:8443/x',
    'https://192.168.1.1/x', 'https://169.254.169.254/latest/meta-data', 'https://100.64.0.1/x', 'https://0.0.0.0/x',
    'https://[::1]/x', 'https://[fd00::1]/x', 'https://[fe80::1]/x', 'https://[::ffff:127.0.0.1]/x',
    'https://[64:ff9b::a00:1]/x', 'https://224.0.0.1/x', 'https://198.51.100.7/x']) {
    const r = await call(srv, a.token, 'POST', `/api/v1/orgs/${a.org.id}/webhooks`, { url });
    const p = assertProblem(r, 422, 'validation', ['url']);
    assert.match(JSON.stringify(p.errors), /public addresses/, url);
  }
  const hook = (await call(srv, a.token, 'POST', `/api/v1/orgs/${a.org.id}/webhooks`, { url: 'https://hooks.example.test/x' }, 201)).json;
  const r = await call(srv, a.token, 'PATCH', `/api/v1/webhooks/${hook.id}`, { url: 'https://[::1]:8443/x' });
  assertProblem(r, 422, 'validation', ['url']);
  for (const url of ['https://8.8.8.8/x', 'https://[2001:4860:4860::8888]/x', 'https://hooks.example.jp:8443/x']) {
    await call(srv, a.token, 'PATCH', `/api/v1/webhooks/${hook.id}`, { url }, 200);
  }
});

test('a name that resolves to loopback is refused at connection time; the log says why', async () => {
  const S = await newSector(srv);
  const a = await orgWith(srv, { sectors: [S] }, ['org_admin']);
  const path = `/ssrf-${uniq('h')}`;
  const url = `http://localhost:${rx.port}${path}`;
  const hook = (await call(srv, a.token, 'POST', `/api/v1/orgs/${a.org.id}/webhooks`, { url }, 201)).json;
  await issueAlert(srv, ca.token, alertBody({ sectors: [S] }));
  const deadline = Date.now() + 10000;
  let log = [];
  while (Date.now() < deadline) {
    log = (await call(srv, a.token, 'GET', `/api/v1/webhooks/${hook.id}/deliveries`, undefined, 200)).json.items;
    if (log.length >= MAX_TRIES) break;
    await sleep(100);
  }
  assert.equal(log.length, MAX_TRIES, JSON.stringify(log));
  for (const e of log) {
    assert.ok(!e.status, JSON.stringify(e));
    assert.match(e.error, /refused to connect to (127\.0\.0\.1|::1): not a public address/, JSON.stringify(e));
  }
  await sleep(300);
  assert.equal(rx.of(path).length, 0, 'the receiver on loopback got nothing');
});
