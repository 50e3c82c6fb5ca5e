// Helpers for the release tests (issue 4): the release workflow in one call, inbox and queue
// reads, the contract's visibility rule as an oracle written from the contract (never asked of
// the server), bounded parallelism and byte offsets into UTF-8 text.
import assert from 'node:assert/strict';

export const TLPS = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'];
export const STATES = ['draft', 'pending', 'approved', 'refused', 'published', 'superseded', 'withdrawn'];
/** Keys of the recipients' view (contract: "Recipients' view"). */
export const RECIPIENT_KEYS = ['content', 'handling', 'id', 'published_at', 'purpose', 'state', 'tlp', 'version'];

/** Runs fn over items with at most n in flight; resolves the results in order. */
export async function pmap(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/** Epoch seconds of a release time, whether the server sends RFC 3339 or seconds. */
export function tsec(v) {
  if (v === null || v === undefined) return null;
  return typeof v === 'number' ? v : Math.floor(Date.parse(v) / 1000);
}

/** [start, end) byte offsets of the first `needle` in `text` (UTF-8), after char index `from`. */
export function byteRange(text, needle, from = 0) {
  const i = text.indexOf(needle, from);
  assert.ok(i >= 0, `${JSON.stringify(needle)} not in ${JSON.stringify(text.slice(0, 200))}`);
  const start = Buffer.byteLength(text.slice(0, i));
  return { start, end: start + Buffer.byteLength(needle) };
}

/** The text at byte offsets [start, end) of a UTF-8 string. */
export const bytesAt = (text, start, end) => Buffer.from(text, 'utf8').subarray(start, end).toString('utf8');

/** The report audience widened by share_with_hub: the audience a new release starts with. */
export function releaseAudienceOf(report) {
  return { hub: report.share_with_hub === true, ...report.audience };
}

/** Sorted copy of an audience, to compare two audiences whatever the order of their lists. */
export function normAudience(a) {
  return {
    hub: !!a.hub, orgs: [...(a.orgs || [])].sort(), sectors: [...(a.sectors || [])].sort(),
    tiers: [...(a.tiers || [])].sort(), all_members: !!a.all_members,
  };
}

/** One call; asserts the status; resolves the response. */
export async function call(srv, token, method, path, body, status) {
  const r = await srv.api(method, path, { token, body });
  if (status !== undefined) {
    assert.equal(r.status, status, `${method} ${path} ${body === undefined ? '' : JSON.stringify(body).slice(0, 300)}: ${r.status} ${r.text.slice(0, 600)}`);
  }
  return r;
}

/** POST /reports/{id}/releases as a coordinator analyst; the new draft. */
export async function createRelease(srv, token, reportId, status = 201) {
  return (await call(srv, token, 'POST', `/api/v1/reports/${reportId}/releases`, {}, status)).json;
}

/** POST /releases/{id}/<verb>; resolves the response (asserting the status when given). */
export function releaseAction(srv, token, id, verb, body = {}, status) {
  return call(srv, token, 'POST', `/api/v1/releases/${id}/${verb}`, body, status);
}

/**
 * Drives a report's new release to `until` (a state): create as `coord`, optional PATCH,
 * submit, approve as `provider` (unless pre-approved), publish; refused / withdrawn /
 * superseded need more than one call and are reached by the caller. Resolves the release.
 */
export async function releaseTo(srv, { coord, provider }, reportId, until = 'published', patch) {
  let rel = await createRelease(srv, coord, reportId);
  if (patch) rel = (await call(srv, coord, 'PATCH', `/api/v1/releases/${rel.id}`, patch, 200)).json;
  if (until === 'draft') return rel;
  rel = (await releaseAction(srv, coord, rel.id, 'submit', {}, 200)).json;
  if (until === 'pending' && rel.state === 'pending') return rel;
  if (until === 'refused') return (await releaseAction(srv, provider, rel.id, 'refuse', { reason: 'not yet' }, 200)).json;
  if (rel.state === 'pending') rel = (await releaseAction(srv, provider, rel.id, 'approve', {}, 200)).json;
  if (until === 'approved') return rel;
  rel = (await releaseAction(srv, coord, rel.id, 'publish', {}, 200)).json;
  if (until === 'withdrawn') rel = (await releaseAction(srv, coord, rel.id, 'withdraw', { reason: 'test' }, 200)).json;
  return rel;
}

/**
 * The contract's rule (releases-contract.md, "Who sees what"), written independently of the
 * server. reader: {org: {id, kind, sectors, tier}, auditorOnly}; rel: {state, org_id (the
 * provider), audience, providerSectors}. Returns 'full', 'recipient' or null (invisible).
 */
export function releaseView(reader, rel) {
  if (reader.auditorOnly) return null;
  if (reader.org.kind === 'coordinator') return 'full';
  if (reader.org.id === rel.org_id) return rel.state === 'draft' ? null : 'full';
  if (rel.state !== 'published') return null;
  const a = rel.audience;
  const mine = reader.org.sectors || [];
  const targeted = a.all_members
    || a.orgs.includes(reader.org.id)
    || mine.some((s) => a.sectors.includes(s))
    || a.tiers.includes(reader.org.tier)
    || (a.hub && reader.org.kind === 'sector_hub' && mine.some((s) => rel.providerSectors.includes(s)));
  return targeted ? 'recipient' : null;
}

/** Whether reader receives rel in the inbox (published and visible). */
export const inInbox = (reader, rel) => rel.state === 'published' && releaseView(reader, rel) !== null;

/** Original reports: the provider and the coordinator only (contract, "What changes for reports"). */
export function seesReport(reader, providerOrgId) {
  if (reader.auditorOnly) return false;
  return reader.org.kind === 'coordinator' || reader.org.id === providerOrgId;
}

/** The work queue (?state=): coordinator all; provider its own except drafts; others none. */
export function inQueue(reader, rel, state) {
  if (reader.auditorOnly) return false;
  if (state !== 'any' && rel.state !== state) return false;
  if (reader.org.kind === 'coordinator') return true;
  return reader.org.id === rel.org_id && rel.state !== 'draft';
}

/**
 * Consent requests (the negotiation about a release): the contract says "coordinator, provider",
 * i.e. every user of either who is not auditor-only.
 */
export const seesWorkflow = (reader, providerOrgId) => seesReport(reader, providerOrgId);

/**
 * Walks a list with `limit` per page and checks that paging reveals nothing: every page is
 * full until the last, the last has next_cursor null, no empty page carries a cursor.
 * Resolves {items, pages}.
 */
export async function walk(srv, token, path, limit) {
  const items = [];
  let cursor = null;
  for (let pages = 1; pages < 10000; pages++) {
    const sep = path.includes('?') ? '&' : '?';
    const url = `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await srv.api('GET', url, { token });
    assert.equal(r.status, 200, `GET ${url}: ${r.status} ${r.text.slice(0, 300)}`);
    const { items: got, next_cursor: next } = r.json;
    assert.ok(got.length <= limit, `GET ${url}: ${got.length} items > limit ${limit}`);
    if (next !== null) assert.equal(got.length, limit, `GET ${url}: a page short of the limit carries a cursor`);
    items.push(...got);
    if (next === null) return { items, pages };
    cursor = next;
  }
  throw new Error(`GET ${path}: pagination did not end`);
}
