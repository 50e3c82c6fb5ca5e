// Cookie sessions, CSRF, bearer writes, logout, login throttling, password change.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertProblem, parseSetCookie, uniq, ADMIN_LOGIN, ADMIN_PASSWORD } from './lib/server.mjs';
import { assertResponse } from './lib/openapi.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.cleanup(); });

test('login sets an HttpOnly SameSite=Strict cookie (no Secure over plain HTTP) and returns user, org, csrf_token', async () => {
  const { status, res, session } = await srv.login(ADMIN_LOGIN, ADMIN_PASSWORD);
  assert.equal(status, 201, res.text);
  assertResponse('POST', '/api/v1/session', res);
  assert.equal(res.json.user.login, ADMIN_LOGIN);
  assert.equal(res.json.user.id, srv.adminUserId);
  assert.equal(res.json.org.id, srv.coordOrgId);
  assert.equal(typeof res.json.csrf_token, 'string');
  assert.ok(res.json.csrf_token.length >= 16);

  const cookies = res.headers.getSetCookie().map(parseSetCookie).filter((c) => c.name === 'isac_session');
  assert.equal(cookies.length, 1, 'exactly one isac_session cookie');
  const c = cookies[0];
  assert.ok(c.value.length >= 16, 'session id has some entropy');
  assert.equal(c.attrs.get('path'), '/');
  assert.equal(c.attrs.get('httponly'), true, 'HttpOnly');
  assert.equal(String(c.attrs.get('samesite')).toLowerCase(), 'strict', 'SameSite=Strict');
  assert.ok(!c.attrs.has('secure'), 'no Secure over plain HTTP');
  assert.ok(!c.attrs.has('domain'), 'host-only cookie');
  assert.notEqual(c.value, res.json.csrf_token, 'csrf token differs from the session id');
  assert.ok(!res.text.includes(c.value), 'session id is not in the body');

  // Two logins give two different sessions.
  const again = await srv.mustLogin(ADMIN_LOGIN, ADMIN_PASSWORD);
  assert.notEqual(again.cookie, session.cookie);
  assert.notEqual(again.csrf, session.csrf);
});

test('wrong password and unknown login → 401 invalid-credentials, no cookie', async () => {
  const bad = await srv.login(ADMIN_LOGIN, 'wrong-password-123');
  const r = assertProblem(bad.res, 401, 'invalid-credentials');
  assert.ok(!bad.res.headers.getSetCookie().some((c) => /^isac_session=[^;\s]/.test(c) && !/max-age=0/i.test(c)), 'no session cookie');
  const unknown = await srv.login('no-such-user', 'whatever-password-123');
  const r2 = assertProblem(unknown.res, 401, 'invalid-credentials');
  assert.equal(r.title, r2.title, 'same answer for unknown login and wrong password');
  assertResponse('POST', '/api/v1/session', bad.res);
});

test('/me with the cookie; csrf_token of /me is the session one', async () => {
  const s = await srv.mustLogin(ADMIN_LOGIN, ADMIN_PASSWORD);
  const me = await srv.api('GET', '/api/v1/me', { session: s });
  assert.equal(me.status, 200, me.text);
  assertResponse('GET', '/api/v1/me', me);
  assert.equal(me.json.user.login, ADMIN_LOGIN);
  assert.equal(me.json.csrf_token, s.csrf);
  const viaBearer = await srv.admin('GET', '/api/v1/me');
  assert.equal(viaBearer.json.csrf_token, null);
});

test('CSRF: cookie writes need X-CSRF-Token of the same session; bearer writes do not', async () => {
  const s = await srv.mustLogin(ADMIN_LOGIN, ADMIN_PASSWORD);
  const other = await srv.mustLogin(ADMIN_LOGIN, ADMIN_PASSWORD);
  const count = async () => (await srv.listAll('/api/v1/tokens')).length;
  const n0 = await count();

  const name = uniq('csrf');
  assertProblem(await srv.api('POST', '/api/v1/tokens', { session: s, csrf: false, body: { name } }), 403, 'csrf');
  assertProblem(await srv.api('POST', '/api/v1/tokens', { session: s, csrfValue: 'wrong', body: { name } }), 403, 'csrf');
  assertProblem(await srv.api('POST', '/api/v1/tokens', { session: s, csrfValue: '', body: { name } }), 403, 'csrf');
  assertProblem(await srv.api('POST', '/api/v1/tokens', { session: s, csrfValue: other.csrf, body: { name } }), 403, 'csrf');
  assert.equal(await count(), n0, 'refused writes created nothing');

  const ok = await srv.api('POST', '/api/v1/tokens', { session: s, body: { name } });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(await count(), n0 + 1);

  // PATCH and DELETE are protected too, and a refused DELETE changes nothing.
  assertProblem(await srv.api('PATCH', `/api/v1/tokens/${ok.json.id}`, { session: s, csrf: false, body: { name: 'x' } }), 403, 'csrf');
  assertProblem(await srv.api('DELETE', `/api/v1/tokens/${ok.json.id}`, { session: s, csrf: false }), 403, 'csrf');
  assertProblem(await srv.api('PATCH', `/api/v1/users/${srv.adminUserId}`, { session: s, csrf: false, body: { display_name: 'x' } }), 403, 'csrf');
  assertProblem(await srv.api('POST', '/api/v1/me/password', { session: s, csrf: false, body: { current_password: ADMIN_PASSWORD, new_password: 'whatever-new-pass' } }), 403, 'csrf');
  const still = await srv.api('GET', '/api/v1/me', { token: ok.json.token });
  assert.equal(still.status, 200, 'token not revoked by the refused DELETE');
  const t = await srv.admin('GET', `/api/v1/tokens/${ok.json.id}`);
  assert.equal(t.json.name, name, 'not renamed by the refused PATCH');
  const me = await srv.admin('GET', '/api/v1/me');
  assert.equal(me.json.user.display_name, 'Administrator');

  const renamed = await srv.api('PATCH', `/api/v1/tokens/${ok.json.id}`, { session: s, body: { name: 'via cookie' } });
  assert.equal(renamed.status, 200, renamed.text);

  // Bearer: no CSRF header needed, and a CSRF header is not a credential.
  const b = await srv.api('POST', '/api/v1/tokens', { token: srv.adminToken, body: { name: uniq('bearer') } });
  assert.equal(b.status, 201, b.text);
  assertProblem(await srv.api('POST', '/api/v1/tokens', { headers: { 'x-csrf-token': s.csrf }, body: { name: 'x' } }), 401, 'unauthenticated');
  // Reads with the cookie need no CSRF header.
  assert.equal((await srv.api('GET', '/api/v1/tokens', { session: s })).status, 200);
});

test('logout (needs CSRF) → 204, clears the cookie, the session stops working', async () => {
  const s = await srv.mustLogin(ADMIN_LOGIN, ADMIN_PASSWORD);
  const other = await srv.mustLogin(ADMIN_LOGIN, ADMIN_PASSWORD);
  assertProblem(await srv.api('DELETE', '/api/v1/session', { session: s, csrf: false }), 403, 'csrf');
  assert.equal((await srv.api('GET', '/api/v1/me', { session: s })).status, 200, 'refused logout kept the session');

  const r = await srv.api('DELETE', '/api/v1/session', { session: s });
  assert.equal(r.status, 204, r.text);
  assert.equal(r.text, '');
  assertResponse('DELETE', '/api/v1/session', r);
  const cleared = r.headers.getSetCookie().map(parseSetCookie).find((c) => c.name === 'isac_session');
  assert.ok(cleared, 'Set-Cookie clears isac_session');
  const expired = cleared.attrs.get('max-age') === '0' ||
    (cleared.attrs.has('expires') && Date.parse(cleared.attrs.get('expires')) < Date.now());
  assert.ok(expired && cleared.value !== s.cookie, `cookie cleared: ${JSON.stringify([...cleared.attrs])}`);

  assertProblem(await srv.api('GET', '/api/v1/me', { session: s }), 401, 'unauthenticated');
  assertProblem(await srv.api('POST', '/api/v1/tokens', { session: s, body: { name: 'after logout' } }), 401, 'unauthenticated');
  assert.equal((await srv.api('GET', '/api/v1/me', { session: other })).status, 200, 'other sessions survive');
});

test('password change: wrong current → 422; byte-based length; old fails, new works', async () => {
  const u = await srv.createUser({ password: 'first-password-1' });
  const s = await srv.mustLogin(u.login, 'first-password-1');
  const change = (body) => srv.api('POST', '/api/v1/me/password', { session: s, body });

  let r = await change({ current_password: 'not-the-password', new_password: 'second-password-2' });
  assertProblem(r, 422, 'validation', ['current_password']);
  assertResponse('POST', '/api/v1/me/password', r);
  assertProblem(await change({ current_password: 'first-password-1', new_password: 'short' }), 422, 'validation', ['new_password']);
  assertProblem(await change({ current_password: 'first-password-1', new_password: 'abcdefghijk' }), 422, 'validation', ['new_password']);
  assertProblem(await change({ current_password: 'first-password-1', new_password: '漢字漢ab' }), 422, 'validation', ['new_password']); // 11 bytes
  assertProblem(await change({ current_password: 'first-password-1', new_password: 'x'.repeat(1025) }), 422, 'validation', ['new_password']);
  assertProblem(await change({ current_password: 'first-password-1', new_password: 'あ'.repeat(342) }), 422, 'validation', ['new_password']); // 1026 bytes
  assertProblem(await change({ current_password: 'first-password-1' }), 422, 'validation', ['new_password']);
  assertProblem(await change({ current_password: 'first-password-1', new_password: 'second-password-2', extra: 1 }), 422, 'validation', ['extra']);
  assert.equal((await srv.login(u.login, 'first-password-1')).status, 201, 'refused changes kept the password');

  r = await change({ current_password: 'first-password-1', new_password: 'second-password-2' });
  assert.equal(r.status, 204, r.text);
  assert.equal(r.text, '');
  assertProblem((await srv.login(u.login, 'first-password-1')).res, 401, 'invalid-credentials');
  assert.equal((await srv.login(u.login, 'second-password-2')).status, 201);

  // 12 bytes of UTF-8 is long enough even though it is 4 characters; bearer needs no CSRF.
  const tok = await srv.createToken({ user_id: u.id });
  r = await srv.api('POST', '/api/v1/me/password', { token: tok.token, body: { current_password: 'second-password-2', new_password: '漢字漢字' } });
  assert.equal(r.status, 204, r.text);
  assert.equal((await srv.login(u.login, '漢字漢字')).status, 201);
});

test('throttling: 5 failed logins for one account → 429 with Retry-After, even with the right password', async () => {
  const u = await srv.createUser({ password: 'throttle-password-1' });
  for (let i = 0; i < 5; i++) {
    assertProblem((await srv.login(u.login, `wrong-password-${i}`)).res, 401, 'invalid-credentials');
  }
  const { res } = await srv.login(u.login, 'throttle-password-1');
  assertProblem(res, 429, 'throttled');
  assertResponse('POST', '/api/v1/session', res);
  const ra = res.headers.get('retry-after');
  assert.match(ra || '', /^\d+$/, `Retry-After: ${ra}`);
  assert.ok(Number(ra) >= 1 && Number(ra) <= 15 * 60, `Retry-After ${ra} within 15 min`);
  assert.ok(!res.headers.getSetCookie().some((c) => /^isac_session=[^;\s]/.test(c) && !/max-age=0/i.test(c)), 'no session while throttled');
  // Another spelling of the login does not get around the limit.
  const upper = await srv.login(u.login.toUpperCase(), 'throttle-password-1');
  assert.ok([401, 429].includes(upper.status), `upper-case login while throttled: ${upper.status}`);
  // Other accounts are not affected by one account's limit; bearer tokens of the account still work.
  assert.equal((await srv.login(ADMIN_LOGIN, ADMIN_PASSWORD)).status, 201);
  const tok = await srv.createToken({ user_id: u.id });
  assert.equal((await srv.api('GET', '/api/v1/me', { token: tok.token })).status, 200);
});

// Last in the file: it exhausts the per-address budget of 127.0.0.1.
test('throttling: 20 failures from one address → 429 for every account from it', async () => {
  const u = await srv.createUser({ password: 'address-password-1' });
  let throttled = null;
  for (let i = 0; i < 21 && !throttled; i++) {
    const { res } = await srv.login(uniq('ghost'), 'wrong-password-xx');
    if (res.status === 429) throttled = res;
    else assertProblem(res, 401, 'invalid-credentials');
  }
  // Earlier tests of this file already failed some logins from this address; at most 20 more are needed.
  const { res } = await srv.login(u.login, 'address-password-1');
  assertProblem(res, 429, 'throttled');
  assert.match(res.headers.get('retry-after') || '', /^\d+$/);
});
