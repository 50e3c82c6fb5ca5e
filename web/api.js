// JSON API client: cookie session + X-CSRF-Token on every state-changing request,
// problem+json errors turned into ApiError.

const BASE = '/api/v1';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

let csrfToken = null;
let unauthenticatedHandler = null;

export function setCsrf(token) { csrfToken = typeof token === 'string' && token ? token : null; }
export function onUnauthenticated(fn) { unauthenticatedHandler = fn; }

export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super((problem && (problem.detail || problem.title)) || ('HTTP ' + status));
    this.status = status;
    this.problem = problem || {};
    this.retryAfter = retryAfter;
    const type = typeof this.problem.type === 'string' ? this.problem.type : '';
    this.slug = type.startsWith('urn:isac:problem:') ? type.slice('urn:isac:problem:'.length) : '';
    this.errors = Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }
}

/**
 * api('GET', '/me') → parsed JSON (null for 204).
 * opts.query: object of query parameters (empty values are left out).
 * opts.login: true for POST /session (a 401 there is a wrong password, not an expired session).
 * opts.headers: extra request headers (e.g. Idempotency-Key).
 * opts.meta: an object that receives {status, replayed} of a successful response.
 */
export async function api(method, path, body, opts = {}) {
  let url = BASE + path;
  if (opts.query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null && v !== '') qs.append(k, String(v));
    }
    const s = qs.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  const headers = { Accept: 'application/json', ...(opts.headers || {}) };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (UNSAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;

  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new ApiError(0, { type: 'urn:isac:problem:network', title: String(e && e.message || e) });
  }

  if (res.status === 204) return null;
  const ctype = res.headers.get('Content-Type') || '';
  let data = null;
  if (/json/i.test(ctype)) {
    try { data = await res.json(); } catch { data = null; }
  }
  if (res.ok) {
    if (opts.meta) {
      opts.meta.status = res.status;
      opts.meta.replayed = res.headers.get('Idempotent-Replayed') === 'true';
    }
    return data;
  }

  const err = new ApiError(res.status, data, res.headers.get('Retry-After'));
  if (res.status === 401 && !opts.login && unauthenticatedHandler) unauthenticatedHandler(err);
  throw err;
}

/** Fetch every page of a list endpoint, up to `max` items. */
export async function listAll(path, query, max = 5000) {
  const items = [];
  let cursor = null;
  do {
    const page = await api('GET', path, undefined, { query: { ...query, limit: 200, cursor } });
    items.push(...(page.items || []));
    cursor = page.next_cursor || null;
  } while (cursor && items.length < max);
  return items;
}
