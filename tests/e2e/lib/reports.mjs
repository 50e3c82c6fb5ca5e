// Helpers for the report, deadline and near-miss tests: organisations of each kind with a user
// and a bearer token, report bodies, filing and revising, times with an offset.
import assert from 'node:assert/strict';
import { uniq } from './server.mjs';

/** An org (admin creates it) plus one user of it with a bearer token. */
export async function orgWithUser(srv, orgFields = {}, userFields = {}) {
  const org = await srv.createOrg({ kind: 'operator', sectors: ['electricity'], ...orgFields });
  const u = await srv.userWithToken({ org_id: org.id, roles: ['member'], ...userFields });
  return { org, user: u.user, token: u.token };
}

/** Another user (with a token) of an existing org. */
export async function userOf(srv, org, fields = {}) {
  const u = await srv.userWithToken({ org_id: org.id, roles: ['member'], ...fields });
  return { org, user: u.user, token: u.token };
}

/** The smallest first report: event type, title and sector. */
export function minimal(fields = {}) {
  return { event_type: 'malware', title: uniq('Report '), sectors: ['electricity'], ...fields };
}

/** POST /api/v1/reports; asserts the status (201 unless told). */
export async function fileReport(srv, token, body, { key, status = 201 } = {}) {
  const headers = key === undefined ? {} : { 'idempotency-key': key };
  const r = await srv.api('POST', '/api/v1/reports', { token, body, headers });
  assert.equal(r.status, status, `POST /api/v1/reports ${JSON.stringify(body).slice(0, 200)}: ${r.status} ${r.text.slice(0, 500)}`);
  return r;
}

/** POST /api/v1/reports/{id}/revisions; asserts the status (201 unless told). */
export async function revise(srv, token, id, body, { key, status = 201 } = {}) {
  const headers = key === undefined ? {} : { 'idempotency-key': key };
  const r = await srv.api('POST', `/api/v1/reports/${id}/revisions`, { token, body, headers });
  assert.equal(r.status, status, `revise ${id} ${JSON.stringify(body).slice(0, 200)}: ${r.status} ${r.text.slice(0, 500)}`);
  return r;
}

/** GET /api/v1/reports/{id} as token; resolves the response. */
export function getReport(srv, token, id) {
  return srv.api('GET', `/api/v1/reports/${id}`, { token });
}

/** All report summaries visible to token (following cursors), optionally filtered by a query string. */
export function listReports(srv, token, query = '') {
  return srv.listAll(`/api/v1/reports${query ? `?${query}` : ''}`, { token });
}

/** RFC 3339 of epoch ms `ms` in the local time of UTC offset `offMin` minutes (e.g. +09:00). */
export function isoAt(ms, offMin = 540) {
  const local = new Date(Math.floor(ms / 1000) * 1000 + offMin * 60000).toISOString().slice(0, 19);
  if (offMin === 0) return `${local}Z`;
  const a = Math.abs(offMin);
  return `${local}${offMin < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** RFC 3339 (with offset) of `hours` before now. */
export function hoursAgo(hours, offMin = 540) {
  return isoAt(Date.now() - hours * 3600e3, offMin);
}

/** Epoch seconds of an RFC 3339 string. */
export const secs = (iso) => Math.floor(Date.parse(iso) / 1000);

/** The UTC "Z" form (whole seconds) of epoch seconds. */
export const utc = (s) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

/** YYYY-MM of the month `delta` months from the current UTC month. */
export function monthFromNow(delta) {
  const d = new Date();
  const m = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + delta, 1));
  return m.toISOString().slice(0, 7);
}
