// Helpers for the alert tests (issue 5): a sector of one's own (so counts of targeted
// organisations are exact whatever else the file created), alert bodies, compose + publish in one
// call, inbox and delivery-page reads, and the recipients' view as the contract lists it.
import assert from 'node:assert/strict';
import { uniq, sleep } from './server.mjs';
import { assertResponse, assertSchema } from './openapi.mjs';

/** Keys of the recipients' view (contract: no created_by, published_by, audience). */
export const RECIPIENT_KEYS = ['actions', 'created_at', 'exercise', 'id', 'issuer', 'kind', 'links', 'observables',
  'published_at', 'series_id', 'state', 'summary', 'title', 'tlp', 'updated_at', 'urgency', 'version'];

/** A new sector (admin creates it); resolves its code. */
export async function newSector(srv) {
  const code = uniq('s').toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 32);
  const r = await srv.admin('POST', '/api/v1/sectors', { code, name: { ja: `テスト部門 ${code}`, en: `Test sector ${code}` } });
  assert.equal(r.status, 201, `create sector ${code}: ${r.status} ${r.text}`);
  return code;
}

/** A valid alert body: bilingual title and actions, routine, to `audience`; fields override. */
export function alertBody(audience, fields = {}) {
  const tag = uniq('A');
  return {
    title: { ja: `変電所 VPN 装置の脆弱性 ${tag}`, en: `VPN appliance flaw at substations ${tag}` },
    summary: { ja: '外部から認証なしで操作できる脆弱性。', en: 'Unauthenticated remote access flaw.' },
    actions: { ja: '修正版を適用し、管理画面を外部から遮断してください。', en: 'Apply the fix and block the admin interface from outside.' },
    urgency: 'routine',
    audience: { orgs: [], sectors: [], tiers: [], all_members: false, ...audience },
    ...fields,
  };
}

/** One call; asserts the status when given; resolves the response. */
export async function call(srv, token, method, path, body, status) {
  const r = await srv.api(method, path, { token, body });
  if (status !== undefined) {
    assert.equal(r.status, status, `${method} ${path} ${body === undefined ? '' : JSON.stringify(body).slice(0, 300)}: ${r.status} ${r.text.slice(0, 600)}`);
  }
  return r;
}

/** POST /api/v1/alerts (201 unless told) and check the answer against the document; resolves the draft. */
export async function createAlert(srv, token, body, status = 201) {
  const r = await call(srv, token, 'POST', '/api/v1/alerts', body, status);
  assertResponse('POST', '/api/v1/alerts', r);
  return r.json;
}

/** POST /api/v1/alerts/{id}/publish; resolves the published version. */
export async function publishAlert(srv, token, id, status = 200) {
  const r = await call(srv, token, 'POST', `/api/v1/alerts/${id}/publish`, {}, status);
  assertResponse('POST', '/api/v1/alerts/{id}/publish', r);
  return r.json;
}

/** Compose and publish in one go; resolves the published version. */
export async function issueAlert(srv, token, body) {
  const a = await createAlert(srv, token, body);
  return publishAlert(srv, token, a.id);
}

/** POST /api/v1/alerts/{id}/versions; resolves the new draft (or the problem). */
export async function newVersion(srv, token, id, body, status = 201) {
  const r = await call(srv, token, 'POST', `/api/v1/alerts/${id}/versions`, body, status);
  assertResponse('POST', '/api/v1/alerts/{id}/versions', r);
  return r.json;
}

/** Every alert in the caller's list (following cursors), with a query string. */
export function listAlerts(srv, token, query = '') {
  return srv.listAll(`/api/v1/alerts${query ? `?${query}` : ''}`, { token });
}

/** GET /api/v1/alerts/{id} (status asserted when given). */
export async function getAlert(srv, token, id, status) {
  const r = await call(srv, token, 'GET', `/api/v1/alerts/${id}`, undefined, status);
  assertResponse('GET', '/api/v1/alerts/{id}', r);
  return r;
}

/** POST /api/v1/alerts/{id}/receipts (200 unless told); resolves the response. */
export async function receipt(srv, token, id, body, status = 200) {
  const r = await call(srv, token, 'POST', `/api/v1/alerts/${id}/receipts`, body, status);
  assertResponse('POST', '/api/v1/alerts/{id}/receipts', r);
  return r;
}

/** GET /api/v1/alerts/{id}/delivery (200 unless told), checked against the document. */
export async function deliveryPage(srv, token, id, status = 200) {
  const r = await call(srv, token, 'GET', `/api/v1/alerts/${id}/delivery`, undefined, status);
  assertResponse('GET', '/api/v1/alerts/{id}/delivery', r);
  return r.json;
}

/** Polls the delivery page until pred(page) holds (receipts of some channels are recorded asynchronously). */
export async function deliveryUntil(srv, token, id, pred, timeoutMs = 10000, what = 'the delivery page to agree') {
  const deadline = Date.now() + timeoutMs;
  let page;
  for (;;) {
    page = await deliveryPage(srv, token, id);
    if (pred(page)) return page;
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs} ms: ${JSON.stringify(page)}`);
    await sleep(100);
  }
}

/** The row of the delivery page for org_id. */
export function orgRow(page, orgId) {
  const row = page.orgs.find((o) => o.org_id === orgId);
  assert.ok(row, `delivery page has no row for ${orgId}: ${JSON.stringify(page.orgs.map((o) => o.org_id))}`);
  return row;
}

/**
 * Asserts the recipients' view: its keys (plus receipt when told), none of the issuer side's, no
 * report links, and the document's RecipientAlert schema (which allows nothing else).
 */
export function assertRecipientView(a, { receipt: withReceipt = false, what = 'alert' } = {}) {
  for (const k of RECIPIENT_KEYS) assert.ok(k in a, `${what}: the recipients' view has ${k}: ${JSON.stringify(a).slice(0, 300)}`);
  for (const k of ['created_by', 'published_by', 'audience']) assert.ok(!(k in a), `${what}: the recipients' view has no ${k}`);
  assert.equal('receipt' in a, withReceipt, `${what}: ${withReceipt ? 'with' : 'without'} the organisation's receipt`);
  assertSchema('RecipientAlert', a, what);
  assert.deepEqual(a.links.reports, [], `${what}: no links to reports in the recipients' view`);
  assert.equal(a.state, 'published', `${what}: recipients see published versions only`);
}

/** An org in `sector` (admin creates it) with one user (roles) and its token. */
export async function orgWith(srv, orgFields, roles = ['member']) {
  const org = await srv.createOrg({ kind: 'operator', tier: 'general', ...orgFields });
  const u = await srv.userWithToken({ org_id: org.id, roles });
  return { org, user: u.user, token: u.token };
}

/** Another user (with a token) of an existing org. */
export async function userOf(srv, org, roles = ['member']) {
  const u = await srv.userWithToken({ org_id: org.id, roles });
  return { org, user: u.user, token: u.token };
}
