// healthz, security headers, 404/405/401 basics, the OpenAPI document and its agreement with
// what the server answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, assertProblem, uniq, ADMIN_LOGIN, ADMIN_PASSWORD } from './lib/server.mjs';
import { doc, DOC_PATH, assertResponse, assertSchema, schemaErrors } from './lib/openapi.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.cleanup(); });

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self'; manifest-src 'self'; form-action 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'";

// The 15 sectors of DOMAIN.md §3, seeded by `isac init`.
const SECTORS = {
  ict: ['情報通信', 'Information and communication'],
  finance: ['金融', 'Financial services'],
  aviation: ['航空', 'Aviation'],
  airport: ['空港', 'Airports'],
  railway: ['鉄道', 'Railways'],
  electricity: ['電力', 'Electric power'],
  gas: ['ガス', 'Gas'],
  government: ['政府・行政サービス（地方公共団体を含む）', 'Government and administrative services (incl. local government)'],
  medical: ['医療', 'Medical services'],
  water: ['水道', 'Water'],
  logistics: ['物流', 'Logistics'],
  chemical: ['化学', 'Chemical industry'],
  credit: ['クレジット', 'Credit card services'],
  petroleum: ['石油', 'Petroleum'],
  port: ['港湾', 'Ports'],
};

// Every path and method of the contract (issue 2).
const CONTRACT = {
  '/healthz': ['get'],
  '/api/v1/openapi.json': ['get'],
  '/api/v1/session': ['post', 'delete'],
  '/api/v1/me': ['get'],
  '/api/v1/me/password': ['post'],
  '/api/v1/sectors': ['get', 'post'],
  '/api/v1/sectors/{code}': ['get', 'patch'],
  '/api/v1/tiers': ['get'],
  '/api/v1/tiers/{code}': ['get'],
  '/api/v1/orgs': ['get', 'post'],
  '/api/v1/orgs/{id}': ['get', 'patch', 'delete'],
  '/api/v1/users': ['get', 'post'],
  '/api/v1/users/{id}': ['get', 'patch', 'delete'],
  '/api/v1/tokens': ['get', 'post'],
  '/api/v1/tokens/{id}': ['get', 'patch', 'delete'],
  // issue 3: reports, regimes, monthly near-miss counts
  '/api/v1/reports': ['get', 'post'],
  '/api/v1/reports/due': ['get'],
  '/api/v1/reports/{id}': ['get'],
  '/api/v1/reports/{id}/revisions': ['post'],
  '/api/v1/regimes': ['get', 'post'],
  '/api/v1/regimes/{code}': ['get', 'patch'],
  '/api/v1/near-miss-counts': ['get', 'post'],
  '/api/v1/near-miss-counts/totals': ['get'],
  // issue 4 (started): the audit log
  '/api/v1/audit': ['get'],
  '/api/v1/audit/verify': ['get'],
  // issue 4: releases, consent requests, the inbox and its export, redaction rules
  '/api/v1/anon-rules': ['get', 'put'],
  '/api/v1/reports/{id}/releases': ['get', 'post'],
  '/api/v1/releases': ['get'],
  '/api/v1/releases/export': ['get'],
  '/api/v1/releases/{id}': ['get', 'patch'],
  '/api/v1/releases/{id}/submit': ['post'],
  '/api/v1/releases/{id}/approve': ['post'],
  '/api/v1/releases/{id}/refuse': ['post'],
  '/api/v1/releases/{id}/publish': ['post'],
  '/api/v1/releases/{id}/withdraw': ['post'],
  '/api/v1/releases/{id}/audience-requests': ['get', 'post'],
  '/api/v1/audience-requests': ['get'],
  '/api/v1/audience-requests/{id}/approve': ['post'],
  '/api/v1/audience-requests/{id}/refuse': ['post'],
  // issue 5: alerts, receipts, the delivery page, the event stream, webhooks and their logs
  '/api/v1/alerts': ['get', 'post'],
  '/api/v1/alerts/{id}': ['get', 'patch'],
  '/api/v1/alerts/{id}/preview': ['get'],
  '/api/v1/alerts/{id}/publish': ['post'],
  '/api/v1/alerts/{id}/versions': ['post'],
  '/api/v1/alerts/{id}/receipts': ['post'],
  '/api/v1/alerts/{id}/delivery': ['get'],
  '/api/v1/stream': ['get'],
  '/api/v1/orgs/{id}/webhooks': ['get', 'post'],
  '/api/v1/webhooks/{id}': ['get', 'patch', 'delete'],
  '/api/v1/webhooks/{id}/deliveries': ['get'],
};
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function assertSecurityHeaders(res, what) {
  const h = res.headers;
  assert.equal(h.get('content-security-policy'), CSP, `${what}: CSP`);
  assert.equal(h.get('x-content-type-options'), 'nosniff', `${what}: X-Content-Type-Options`);
  assert.equal(h.get('referrer-policy'), 'no-referrer', `${what}: Referrer-Policy`);
  assert.equal(h.get('x-frame-options'), 'DENY', `${what}: X-Frame-Options`);
  assert.equal(h.get('cross-origin-opener-policy'), 'same-origin', `${what}: Cross-Origin-Opener-Policy`);
  assert.equal(h.get('permissions-policy'), 'camera=(), microphone=(), geolocation=()', `${what}: Permissions-Policy`);
}

test('GET /healthz answers 200 {status:"ok", version}', async () => {
  const r = await srv.api('GET', '/healthz');
  assert.equal(r.status, 200);
  assert.match(r.contentType, /^application\/json/);
  assert.equal(r.json.status, 'ok');
  assert.match(r.json.version, /^\d+\.\d+\.\d+/);
  assert.equal(r.json.version, doc.info.version, 'healthz version and openapi info.version agree');
  assertResponse('GET', '/healthz', r);
});

test('security headers on every kind of response; no-store on the API', async () => {
  const cases = [
    ['healthz', await srv.api('GET', '/healthz')],
    ['api 200', await srv.admin('GET', '/api/v1/me')],
    ['api 401', await srv.api('GET', '/api/v1/me')],
    ['api 404', await srv.admin('GET', '/api/v1/no-such-thing')],
    ['api 422', await srv.admin('POST', '/api/v1/orgs', {})],
    ['static 404', await srv.api('GET', '/no-such-file.html')],
    ['openapi', await srv.api('GET', '/api/v1/openapi.json')],
  ];
  for (const [what, res] of cases) assertSecurityHeaders(res, what);
  for (const [what, res] of cases.filter(([w]) => w.startsWith('api'))) {
    assert.match(res.headers.get('cache-control') || '', /\bno-store\b/, `${what}: Cache-Control`);
  }
});

test('unknown paths: 404 (problem+json under /api)', async () => {
  const s = await srv.api('GET', '/definitely/not/here');
  assert.equal(s.status, 404);
  const a = await srv.admin('GET', '/api/v1/definitely-not-here');
  assertProblem(a, 404, 'not-found');
  const b = await srv.admin('GET', '/api/v1/orgs/01936a8e-4f5e-7c2a-9b1d-2f3e4a5b6c7d');
  assertProblem(b, 404, 'not-found');
  assertResponse('GET', '/api/v1/orgs/{id}', b);
  const c = await srv.admin('GET', '/api/v1/orgs/not-a-uuid');
  assert.ok([404, 400].includes(c.status), `GET /orgs/not-a-uuid: ${c.status}`);
  assert.match(c.contentType, /^application\/problem\+json/);
});

test('no, bogus or malformed credentials → 401 unauthenticated on every protected endpoint', async () => {
  const paths = ['/api/v1/me', '/api/v1/sectors', '/api/v1/sectors/electricity', '/api/v1/tiers', '/api/v1/orgs',
    '/api/v1/users', '/api/v1/tokens', `/api/v1/orgs/${srv.coordOrgId}`, `/api/v1/users/${srv.adminUserId}`,
    '/api/v1/reports', '/api/v1/reports/due', '/api/v1/reports/01936a8e-4f5e-7c2a-9b1d-2f3e4a5b6c7d', '/api/v1/regimes',
    '/api/v1/regimes/jp_electricity', '/api/v1/near-miss-counts', '/api/v1/near-miss-counts/totals',
    '/api/v1/audit', '/api/v1/audit/verify', '/api/v1/releases', '/api/v1/releases/export',
    '/api/v1/audience-requests', '/api/v1/anon-rules'];
  for (const p of paths) {
    assertProblem(await srv.api('GET', p), 401, 'unauthenticated');
    assertProblem(await srv.api('GET', p, { token: 'isac_notatoken0000000000000000' }), 401, 'unauthenticated');
    assertProblem(await srv.api('GET', p, { headers: { cookie: 'isac_session=forged' } }), 401, 'unauthenticated');
  }
  assertProblem(await srv.api('GET', '/api/v1/me', { headers: { authorization: 'Basic YWRtaW46eA==' } }), 401, 'unauthenticated');
  assertProblem(await srv.api('GET', '/api/v1/me', { headers: { authorization: 'Bearer' } }), 401, 'unauthenticated');
  // Writes without credentials: 401, never 403/422 (nothing is disclosed or created).
  const before = (await srv.listAll('/api/v1/orgs?include_disabled=true')).length;
  assertProblem(await srv.api('POST', '/api/v1/orgs', { body: { name: { en: 'x' }, kind: 'vendor', tier: 'general' } }),
    401, 'unauthenticated');
  assert.equal((await srv.listAll('/api/v1/orgs?include_disabled=true')).length, before);
  const reports = (await srv.listAll('/api/v1/reports')).length;
  assertProblem(await srv.api('POST', '/api/v1/reports', { body: { event_type: 'malware', title: 'x', sectors: ['gas'] } }),
    401, 'unauthenticated');
  assertProblem(await srv.api('POST', '/api/v1/near-miss-counts', { body: { month: '2026-01', entries: [{ event_type: 'near_miss', count: 1 }] } }),
    401, 'unauthenticated');
  assert.equal((await srv.listAll('/api/v1/reports')).length, reports);
});

test('GET /api/v1/openapi.json serves api/openapi.json, a valid-looking OpenAPI 3.1 document', async () => {
  const r = await srv.api('GET', '/api/v1/openapi.json');
  assert.equal(r.status, 200);
  assert.match(r.contentType, /^application\/json/);
  assert.deepEqual(r.json, JSON.parse(readFileSync(DOC_PATH, 'utf8')), 'served document equals the file in the repo');

  assert.match(doc.openapi, /^3\.1\.\d+$/);
  assert.equal(typeof doc.info.title, 'string');
  assert.equal(typeof doc.info.version, 'string');
  for (const [tpl, methods] of Object.entries(CONTRACT)) {
    assert.ok(doc.paths[tpl], `contract path ${tpl} documented`);
    const documented = METHODS.filter((m) => doc.paths[tpl][m]);
    assert.deepEqual(documented.sort(), [...methods].sort(), `methods of ${tpl}`);
  }
  assert.deepEqual(Object.keys(doc.paths).sort(), Object.keys(CONTRACT).sort(), 'no paths beyond the contract');
  for (const n of ['Sector', 'Tier', 'Org', 'User', 'Token', 'TokenCreated', 'Problem', 'FieldError', 'Me', 'Session',
    'SectorList', 'TierList', 'OrgList', 'UserList', 'TokenList', 'OrgCreate', 'OrgPatch', 'UserCreate', 'UserPatch',
    'TokenCreate', 'TokenPatch', 'SectorCreate', 'SectorPatch', 'PasswordChange', 'SessionCreate',
    'Report', 'ReportSummary', 'ReportCreate', 'ReportChanges', 'RevisionCreate', 'Revision', 'Change', 'Observable',
    'ObservableInput', 'Severity', 'SeverityInput', 'Cause', 'CauseInput', 'Due', 'ReportList', 'DueList', 'Regime',
    'RegimeStep', 'RegimeCreate', 'RegimePatch', 'RegimeList', 'NearMissEntry', 'NearMissEntryInput', 'NearMissSubmit',
    'NearMissList', 'NearMissTotal', 'NearMissTotalList',
    'Alert', 'RecipientAlert', 'AnyAlert', 'AlertList', 'AlertCreate', 'AlertPatch', 'AlertVersionCreate', 'AlertPreview',
    'Receipt', 'ReceiptCreate', 'AlertDelivery', 'Webhook', 'WebhookCreated', 'WebhookCreate', 'WebhookPatch',
    'WebhookList', 'DeliveryLogEntry', 'DeliveryLog']) {
    assert.ok(doc.components.schemas[n], `components.schemas.${n}`);
    schemaErrors(n, null); // compiles
  }
  // Retry safety of the report writes is documented: the header in, the replay marker out.
  for (const tpl of ['/api/v1/reports', '/api/v1/reports/{id}/revisions']) {
    const o = doc.paths[tpl].post;
    const params = (o.parameters || []).map((p) => (p.$ref ? doc.components.parameters[p.$ref.split('/').pop()] : p));
    assert.ok(params.some((p) => p.in === 'header' && p.name === 'Idempotency-Key'), `POST ${tpl}: Idempotency-Key header`);
    assert.ok(o.responses['201'].headers['Idempotent-Replayed'], `POST ${tpl} 201: Idempotent-Replayed header`);
  }
  const ss = doc.components.securitySchemes;
  assert.deepEqual(ss.sessionCookie, { ...ss.sessionCookie, type: 'apiKey', in: 'cookie', name: 'isac_session' });
  assert.deepEqual(ss.csrfToken, { ...ss.csrfToken, type: 'apiKey', in: 'header', name: 'X-CSRF-Token' });
  assert.deepEqual(ss.bearerAuth, { ...ss.bearerAuth, type: 'http', scheme: 'bearer' });

  const ids = new Set();
  for (const [tpl, item] of Object.entries(doc.paths)) {
    for (const m of METHODS.filter((x) => item[x])) {
      const o = item[m];
      assert.ok(o.operationId && !ids.has(o.operationId), `${m} ${tpl}: unique operationId`);
      ids.add(o.operationId);
      assert.ok(Object.keys(o.responses).some((s) => /^2\d\d$/.test(s)), `${m} ${tpl}: a 2xx response`);
      for (const [st, resp0] of Object.entries(o.responses)) {
        const resp = resp0.$ref ? doc.components.responses[resp0.$ref.split('/').pop()] : resp0;
        if (Number(st) >= 400) assert.deepEqual(Object.keys(resp.content), ['application/problem+json'], `${m} ${tpl} ${st}`);
      }
      if (['post', 'patch'].includes(m) && o.requestBody) {
        assert.ok(o.requestBody.content['application/json'].schema, `${m} ${tpl}: JSON request body`);
      }
      const pub = Array.isArray(o.security) && o.security.length === 0;
      const shouldBePublic = tpl === '/healthz' || tpl === '/api/v1/openapi.json' || (tpl === '/api/v1/session' && m === 'post');
      assert.equal(pub, shouldBePublic, `${m} ${tpl}: security`);
    }
  }
});

test('every route the daemon serves (src/api/api.c) is in the OpenAPI document', () => {
  const src = readFileSync(new URL('../../src/api/api.c', import.meta.url), 'utf8');
  const routes = [...src.matchAll(/\{"(GET|POST|PUT|PATCH|DELETE)", "(\/api\/v1[^"]*)"/g)];
  assert.ok(routes.length > 50, `found the route table (${routes.length} routes)`);
  for (const [, method, path] of routes) {
    assert.ok(doc.paths[path]?.[method.toLowerCase()], `${method} ${path} is documented`);
  }
});

test('every documented path and method answers (not 404/405) with an admin token, with a documented status and body', async () => {
  // Throwaway targets so DELETE does not disable what the suite relies on.
  const org = await srv.createOrg({ name: { en: uniq('Throwaway ') }, kind: 'vendor', sectors: [] });
  const user = await srv.createUser({ org_id: org.id });
  const tok = await srv.createToken();
  const session = await srv.mustLogin(ADMIN_LOGIN, ADMIN_PASSWORD);
  // A submitted report of an operator, which the admin (coordinator org) may read but not revise.
  const op = await srv.createOrg({ kind: 'operator', sectors: ['electricity'] });
  const reporter = await srv.userWithToken({ org_id: op.id, roles: ['member'] });
  const rep = await srv.api('POST', '/api/v1/reports', { token: reporter.token, body: { event_type: 'malware', title: 'Every path', sectors: ['electricity'] } });
  assert.equal(rep.status, 201, rep.text);
  // A release of it (the admin is the coordinator's) and a consent request about it.
  const rel = await srv.api('POST', `/api/v1/reports/${rep.json.id}/releases`, { token: srv.adminToken, body: {} });
  assert.equal(rel.status, 201, rel.text);
  const areq = await srv.api('POST', `/api/v1/releases/${rel.json.id}/audience-requests`, { token: srv.adminToken, body: {} });
  assert.equal(areq.status, 409, areq.text); // a draft: nothing to ask the provider about yet
  const sub = await srv.api('POST', `/api/v1/releases/${rel.json.id}/submit`, { token: srv.adminToken, body: {} });
  assert.equal(sub.status, 200, sub.text);
  const req = await srv.api('POST', `/api/v1/releases/${rel.json.id}/audience-requests`, { token: srv.adminToken,
    body: { audience: { all_members: true }, reason: 'every path' } });
  assert.equal(req.status, 201, req.text);
  // Alerts (issue 5): a published one (read, versions, receipts, delivery page) and a draft (edit,
  // preview, publish); webhooks of the coordinator (an organisation DELETE below leaves alone).
  const mkAlert = async () => {
    const a = await srv.api('POST', '/api/v1/alerts', { token: srv.adminToken,
      body: { title: { en: 'Every path' }, actions: { en: 'Patch' }, urgency: 'routine', audience: { orgs: [op.id] } } });
    assert.equal(a.status, 201, a.text);
    return a.json;
  };
  const published = await mkAlert();
  const pub = await srv.api('POST', `/api/v1/alerts/${published.id}/publish`, { token: srv.adminToken, body: {} });
  assert.equal(pub.status, 200, pub.text);
  const draft = await mkAlert();
  const mkHook = async () => {
    const h = await srv.api('POST', `/api/v1/orgs/${srv.coordOrgId}/webhooks`, { token: srv.adminToken,
      body: { url: 'https://hooks.example.invalid/isac' } });
    assert.equal(h.status, 201, h.text);
    return h.json;
  };
  const hook = await mkHook();
  const hookDel = await mkHook();
  const alertFor = (tpl, m) => (m === 'patch' || /\/(preview|publish)$/.test(tpl) ? draft.id : published.id);
  const fill = (tpl, m) => tpl
    .replace(/alerts\/\{id\}/, `alerts/${alertFor(tpl, m)}`)
    .replace(/\/preview$/, `/preview?org_id=${op.id}`)
    .replace(/webhooks\/\{id\}/, `webhooks/${m === 'delete' ? hookDel.id : hook.id}`)
    .replace(/releases\/\{id\}/, `releases/${rel.json.id}`)
    .replace(/audience-requests\/\{id\}/, `audience-requests/${req.json.id}`)
    .replace('regimes/{code}', 'regimes/jp_telecom')
    .replace('tiers/{code}', 'tiers/general')
    .replace('{code}', 'electricity')
    .replace(/reports\/\{id\}/, `reports/${rep.json.id}`)
    .replace(/orgs\/\{id\}/, `orgs/${m === 'delete' ? org.id : srv.coordOrgId}`)
    .replace(/users\/\{id\}/, `users/${m === 'delete' ? user.id : srv.adminUserId}`)
    .replace(/tokens\/\{id\}/, `tokens/${tok.id}`);
  for (const [tpl, item] of Object.entries(doc.paths)) {
    for (const m of ['get', 'put', 'post', 'patch', 'delete'].filter((x) => item[x])) {
      const url = fill(tpl, m);
      if (tpl === '/api/v1/stream') {
        // An event stream never ends: check the head and hang up.
        const ac = new AbortController();
        const r = await fetch(srv.base + url, { headers: { authorization: `Bearer ${srv.adminToken}` }, signal: ac.signal });
        assert.equal(r.status, 200, `GET ${url}`);
        assert.match(r.headers.get('content-type') || '', /^text\/event-stream/, `GET ${url}: Content-Type`);
        ac.abort();
        continue;
      }
      const opts = tpl === '/api/v1/session' && m === 'delete' ? { session } : { token: srv.adminToken };
      if (['put', 'post', 'patch'].includes(m)) opts.body = {};
      const r = await srv.api(m.toUpperCase(), url, opts);
      assert.ok(![404, 405].includes(r.status), `${m.toUpperCase()} ${url} answered ${r.status}: ${r.text.slice(0, 300)}`);
      assert.ok(r.status < 500, `${m.toUpperCase()} ${url} answered ${r.status}: ${r.text.slice(0, 300)}`);
      if (m === 'get') assert.equal(r.status, 200, `GET ${url}: ${r.text.slice(0, 300)}`);
      assertResponse(m, tpl, r);
    }
    // A method the document does not list → 405 problem+json.
    const unlisted = ['put', 'delete', 'patch'].find((x) => !item[x]);
    if (tpl !== '/healthz') {
      const r = await srv.api(unlisted.toUpperCase(), fill(tpl, unlisted), { token: srv.adminToken, body: {} });
      assertProblem(r, 405, 'method-not-allowed');
    }
  }
});

test('sectors and tiers seeded by isac init, with their names', async () => {
  const r = await srv.admin('GET', '/api/v1/sectors');
  assert.equal(r.status, 200);
  assertResponse('GET', '/api/v1/sectors', r);
  const got = Object.fromEntries(r.json.items.map((s) => [s.code, [s.name.ja, s.name.en]]));
  assert.deepEqual(got, SECTORS);
  assert.ok(r.json.items.every((s) => s.disabled === false));
  assert.equal(r.json.next_cursor, null);

  const one = await srv.admin('GET', '/api/v1/sectors/government');
  assert.equal(one.status, 200);
  assertResponse('GET', '/api/v1/sectors/{code}', one);
  assert.deepEqual(one.json, { code: 'government', name: { ja: SECTORS.government[0], en: SECTORS.government[1] }, disabled: false });
  assertProblem(await srv.admin('GET', '/api/v1/sectors/nosuchsector'), 404, 'not-found');

  const t = await srv.admin('GET', '/api/v1/tiers');
  assert.equal(t.status, 200);
  assertResponse('GET', '/api/v1/tiers', t);
  assert.deepEqual(t.json.items.map((x) => x.code), ['class1', 'class2', 'general']);
  assert.deepEqual(t.json.items.map((x) => x.name.ja), ['第一類構成員', '第二類構成員', '一般構成員']);
  assert.equal(t.json.items[0].name.en, 'Class 1 member');
});

test('response bodies of the main calls validate against the document', async () => {
  const check = async (method, tpl, url, opts, want) => {
    const r = await srv.api(method, url, { token: srv.adminToken, ...opts });
    assert.equal(r.status, want, `${method} ${url}: ${r.text.slice(0, 400)}`);
    assertResponse(method, tpl, r);
    if (r.status === 201) {
      const key = r.json.id ?? r.json.code;
      assert.equal(r.headers.get('location'), `${url}/${key}`, `${method} ${url}: Location of the new resource`);
    }
    return r.json;
  };
  const me = await check('GET', '/api/v1/me', '/api/v1/me', {}, 200);
  assert.equal(me.user.login, ADMIN_LOGIN);
  assert.deepEqual(me.user.roles, ['admin']);
  assert.equal(me.org.id, srv.coordOrgId);
  assert.equal(me.org.kind, 'coordinator');
  assert.deepEqual(me.org.name, { ja: '国家調整センター', en: 'National Coordination Center' });
  assert.equal(me.tier.code, 'class1');
  assert.equal(me.csrf_token, null, 'bearer /me has csrf_token null');

  const org = await check('POST', '/api/v1/orgs', '/api/v1/orgs', {
    body: {
      name: { ja: '東京テスト電力', en: 'Tokyo Test Power' }, kind: 'operator', sectors: ['electricity', 'gas'],
      tier: 'class2', contacts: [{ type: 'email', value: 'soc@example.jp', label: 'SOC' }, { type: 'phone', value: '+81-3-0000-0000' }],
    },
  }, 201);
  assert.deepEqual(org.sectors, ['electricity', 'gas']);
  assert.equal(org.tier, 'class2');
  assert.equal(org.contacts[0].value, 'soc@example.jp');
  assert.equal(org.contacts[0].label, 'SOC');
  assert.equal(org.disabled, false);
  assert.ok(Date.parse(org.created_at) <= Date.parse(org.updated_at));
  assert.ok(Math.abs(Date.parse(org.created_at) - Date.now()) < 5 * 60e3, 'created_at is now (UTC)');
  await check('GET', '/api/v1/orgs/{id}', `/api/v1/orgs/${org.id}`, {}, 200);
  await check('GET', '/api/v1/orgs', '/api/v1/orgs', {}, 200);
  const patched = await check('PATCH', '/api/v1/orgs/{id}', `/api/v1/orgs/${org.id}`, { body: { tier: 'class1' } }, 200);
  assert.equal(patched.tier, 'class1');
  assert.deepEqual(patched.name, org.name);

  const user = await check('POST', '/api/v1/users', '/api/v1/users', {
    body: { login: uniq('val'), display_name: '検証 太郎', org_id: org.id, roles: ['member', 'analyst'], locale: 'ja', email: 'taro@example.jp', password: 'a long enough password' },
  }, 201);
  assert.equal(user.org_id, org.id);
  assert.deepEqual(user.roles, ['member', 'analyst']);
  assert.equal(user.email, 'taro@example.jp');
  assert.ok(!('password' in user) && !JSON.stringify(user).includes('a long enough password'));
  await check('GET', '/api/v1/users/{id}', `/api/v1/users/${user.id}`, {}, 200);
  await check('GET', '/api/v1/users', '/api/v1/users', {}, 200);
  const u2 = await check('PATCH', '/api/v1/users/{id}', `/api/v1/users/${user.id}`, { body: { locale: 'en', email: null } }, 200);
  assert.equal(u2.locale, 'en');
  assert.equal(u2.email, null);

  const tok = await check('POST', '/api/v1/tokens', '/api/v1/tokens', { body: { name: 'schema check' } }, 201);
  await check('GET', '/api/v1/tokens/{id}', `/api/v1/tokens/${tok.id}`, {}, 200);
  await check('GET', '/api/v1/tokens', '/api/v1/tokens', {}, 200);
  await check('PATCH', '/api/v1/tokens/{id}', `/api/v1/tokens/${tok.id}`, { body: { name: 'renamed' } }, 200);
  await check('DELETE', '/api/v1/tokens/{id}', `/api/v1/tokens/${tok.id}`, {}, 200);

  const sec = await check('POST', '/api/v1/sectors', '/api/v1/sectors', { body: { code: 'space', name: { ja: '宇宙', en: 'Space' } } }, 201);
  assert.deepEqual(sec, { code: 'space', name: { ja: '宇宙', en: 'Space' }, disabled: false });
  const dis = await check('PATCH', '/api/v1/sectors/{code}', '/api/v1/sectors/space', { body: { disabled: true } }, 200);
  assert.equal(dis.disabled, true);
  assert.ok(!(await srv.admin('GET', '/api/v1/sectors')).json.items.some((x) => x.code === 'space'), 'disabled sector hidden by default');
  assert.ok((await srv.admin('GET', '/api/v1/sectors?include_disabled=true')).json.items.some((x) => x.code === 'space' && x.disabled));

  const s = await srv.api('POST', '/api/v1/session', { body: { login: ADMIN_LOGIN, password: ADMIN_PASSWORD } });
  assert.equal(s.status, 201);
  assertResponse('POST', '/api/v1/session', s);
  assertSchema('Session', s.json);

  await check('DELETE', '/api/v1/users/{id}', `/api/v1/users/${user.id}`, {}, 200);
  await check('DELETE', '/api/v1/orgs/{id}', `/api/v1/orgs/${org.id}`, {}, 200);
  await check('GET', '/api/v1/users/{id}', '/api/v1/users/01936a8e-4f5e-7c2a-9b1d-2f3e4a5b6c7d', {}, 404);
  await check('POST', '/api/v1/orgs', '/api/v1/orgs', { body: { kind: 'nope' } }, 422);
});
