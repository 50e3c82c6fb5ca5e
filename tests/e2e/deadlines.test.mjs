// Deadlines (DOMAIN.md §5): regimes are data; the next due step of a report is computed from
// its anchor (detected_at, else occurred_at, else first submission / creation for a draft) in
// the anchor's own UTC offset; calendar months clamp to the month end; the due list; editing
// a regime recomputes its reports. Expected times below are worked out by hand.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertProblem, uniq, sleep } from './lib/server.mjs';
import { assertResponse, assertSchema, requestAccepts } from './lib/openapi.mjs';
import { orgWithUser, userOf, minimal, fileReport, revise, getReport, hoursAgo, secs, utc } from './lib/reports.mjs';

let srv;
let D; // an electricity operator with a member
before(async () => {
  srv = await startServer();
  D = await orgWithUser(srv, { sectors: ['electricity', 'ict'] });
});
after(async () => { await srv?.cleanup(); });

const file = (fields) => fileReport(srv, D.token, minimal(fields)).then((r) => r.json);
const dueOf = async (id) => (await getReport(srv, D.token, id)).json.due;
const assertDue = (due, stage, dueAt, what = '') => {
  assert.ok(due, `${what}: a deadline, got null`);
  assert.equal(due.stage, stage, `${what}: due stage`);
  assert.equal(due.due_at, dueAt, `${what}: due_at`);
  const left = secs(dueAt) - Math.floor(Date.now() / 1000);
  assert.ok(Math.abs(due.seconds_left - left) <= 120, `${what}: seconds_left ${due.seconds_left}, want about ${left}`);
  assert.equal(due.overdue, left < 0, `${what}: overdue`);
  assertSchema('Due', due, what);
};

test('the seeded regimes carry the deadlines of DOMAIN.md §5', async () => {
  const r = await srv.api('GET', '/api/v1/regimes', { token: D.token });
  assert.equal(r.status, 200);
  assertResponse('GET', '/api/v1/regimes', r);
  const byCode = Object.fromEntries(r.json.items.map((x) => [x.code, x]));
  assert.deepEqual(byCode.jp_electricity.steps, [{ stage: 'first', within: '24h' }, { stage: 'final', within: '30d' }]);
  assert.deepEqual(byCode.jp_telecom.steps, [{ stage: 'first', within: null }, { stage: 'final', within: '30d' }]);
  assert.deepEqual(byCode.jp_personal_data.steps, [{ stage: 'first', within: '5d' }, { stage: 'final', within: '30d', within_if_intentional: '60d' }]);
  assert.deepEqual(byCode.eu_nis2.steps, [{ stage: 'first', within: '24h' }, { stage: 'update', within: '72h' }, { stage: 'final', within: '1M' }]);
  for (const x of r.json.items) assert.equal(x.disabled, false);
  const one = await srv.api('GET', '/api/v1/regimes/eu_nis2', { token: D.token });
  assertResponse('GET', '/api/v1/regimes/{code}', one);
  assert.deepEqual(one.json, byCode.eu_nis2);
  assertProblem(await srv.api('GET', '/api/v1/regimes/us_cisa', { token: D.token }), 404, 'not-found');
  const bad = await srv.api('GET', '/api/v1/regimes?include_disabled=maybe', { token: D.token });
  assertProblem(bad, 400, 'bad-request', ['include_disabled']);
});

test('jp_electricity: detected in +09:00 → final due 30 days later; draft → first due in 24 h; final → none', async () => {
  const det = '2026-05-12T18:30:00+09:00'; // 2026-05-12T09:30:00Z
  const first = await file({ regime: 'jp_electricity', detected_at: det });
  assertDue(first.due, 'final', '2026-06-11T09:30:00Z', 'first report');
  const draft = await file({ regime: 'jp_electricity', detected_at: det, draft: true });
  assertDue(draft.due, 'first', '2026-05-13T09:30:00Z', 'draft');
  const fin = (await revise(srv, D.token, first.id, { stage: 'final' })).json;
  assert.equal(fin.due, null, 'a final report has nothing due');
  const reo = (await revise(srv, D.token, first.id, { stage: 'reopen', reason: 'new facts' })).json;
  assertDue(reo.due, 'final', '2026-06-11T09:30:00Z', 'reopened: the final report is due again');

  // The anchor: detected_at, else occurred_at, else the submission.
  const occ = await file({ regime: 'jp_electricity', occurred_at: '2026-04-01T00:00:00-05:00' });
  assertDue(occ.due, 'final', '2026-05-01T05:00:00Z', 'occurred_at only');
  const both = await file({ regime: 'jp_electricity', occurred_at: '2026-04-01T00:00:00+09:00', detected_at: '2026-04-03T12:00:00+09:00' });
  assertDue(both.due, 'final', '2026-05-03T03:00:00Z', 'detected_at wins over occurred_at');
  const none = await file({ regime: 'jp_electricity' });
  assert.equal(none.due.stage, 'final');
  assert.ok(Math.abs(secs(none.due.due_at) - (secs(none.submitted_at) + 30 * 86400)) <= 1,
    `no times: due 30 d after the submission ${none.submitted_at}, got ${none.due.due_at}`);
  // Adding detected_at later moves the anchor.
  const moved = (await revise(srv, D.token, none.id, { stage: 'update', changes: { detected_at: '2026-07-01T09:00:00+09:00' } })).json;
  assertDue(moved.due, 'final', '2026-07-31T00:00:00Z', 'anchor moved by a revision');
  // Leaving the regime drops the deadline.
  const off = (await revise(srv, D.token, none.id, { stage: 'update', changes: { regime: null } })).json;
  assert.equal(off.due, null);
});

test('eu_nis2: early warning 24 h → notification 72 h → final one calendar month, counted in the local calendar', async () => {
  const det = '2026-01-31T10:00:00+09:00'; // 2026-01-31T01:00:00Z
  const d = await file({ regime: 'eu_nis2', detected_at: det, draft: true });
  assertDue(d.due, 'first', '2026-02-01T01:00:00Z', 'draft: early warning');
  let r = (await revise(srv, D.token, d.id, { stage: 'first' })).json;
  assertDue(r.due, 'update', '2026-02-03T01:00:00Z', 'first: notification 72 h');
  r = (await revise(srv, D.token, d.id, { stage: 'update', changes: { severity: { continuity: 2 } } })).json;
  assertDue(r.due, 'final', '2026-02-28T01:00:00Z', 'update: final 1 month, clamped to 28 February (local 2026-02-28T10:00+09:00)');
  r = (await revise(srv, D.token, d.id, { stage: 'final' })).json;
  assert.equal(r.due, null);
  r = (await revise(srv, D.token, d.id, { stage: 'reopen', reason: '再調査' })).json;
  assertDue(r.due, 'final', '2026-02-28T01:00:00Z', 'reopened');

  // [detected_at, final due] — the month is added in the detected_at's own offset.
  const cases = [
    ['2024-01-31T10:00:00+09:00', '2024-02-29T01:00:00Z', 'leap year: 31 January → 29 February'],
    ['2024-02-29T12:00:00+09:00', '2024-03-29T03:00:00Z', 'leap day → 29 March'],
    ['2025-01-29T10:00:00+09:00', '2025-02-28T01:00:00Z', 'not a leap year: 29 January → 28 February'],
    ['2026-01-30T21:00:00-05:00', '2026-03-01T02:00:00Z', '-05:00 with the UTC date a day later: local 30 Jan → 28 Feb 21:00-05:00'],
    ['2026-01-31T20:00:00-05:00', '2026-03-01T01:00:00Z', '-05:00: local 31 Jan (1 Feb UTC) → 28 Feb 20:00-05:00'],
    ['2026-03-31T05:00:00+09:00', '2026-04-29T20:00:00Z', '+09:00 with the UTC date a day earlier: local 31 Mar → 30 Apr 05:00+09:00'],
    ['2026-08-31T00:30:00+09:00', '2026-09-29T15:30:00Z', '+09:00: local 31 Aug → 30 Sep 00:30+09:00'],
    ['2025-12-31T23:30:00+09:00', '2026-01-31T14:30:00Z', 'December → January of the next year'],
    ['2026-05-31T12:00:00Z', '2026-06-30T12:00:00Z', 'UTC: 31 May → 30 June'],
    ['2026-06-15T08:00:00+05:30', '2026-07-15T02:30:00Z', 'half-hour offset'],
  ];
  const failures = [];
  for (const [detected, want, what] of cases) {
    const rep = await file({ regime: 'eu_nis2', detected_at: detected });
    const up = (await revise(srv, D.token, rep.id, { stage: 'update', changes: { followup: 'x' } })).json;
    try { assertDue(up.due, 'final', want, `${what} (detected ${detected})`); } catch (e) { failures.push(e.message.split('\n')[0]); }
  }
  assert.deepEqual(failures, [], failures.join('\n'));
  // The 72 h step in -05:00: plain hours, whatever the calendar.
  const w = await file({ regime: 'eu_nis2', detected_at: '2026-01-30T21:00:00-05:00' });
  assertDue(w.due, 'update', '2026-02-03T02:00:00Z', '72 h after 2026-01-31T02:00:00Z');
});

test('jp_personal_data: first 5 days; final 30 days, 60 if a cause is intentional', async () => {
  const det = '2026-09-01T09:00:00+09:00'; // 2026-09-01T00:00:00Z
  assertDue((await file({ regime: 'jp_personal_data', detected_at: det, draft: true })).due, 'first', '2026-09-06T00:00:00Z', 'draft');
  const acc = await file({ regime: 'jp_personal_data', detected_at: det, causes: [{ code: 'accidental', detail: '誤送信' }] });
  assertDue(acc.due, 'final', '2026-10-01T00:00:00Z', 'accidental: 30 d');
  const int = await file({ regime: 'jp_personal_data', detected_at: det, causes: [{ code: 'intentional', detail: '不正アクセス' }] });
  assertDue(int.due, 'final', '2026-10-31T00:00:00Z', 'intentional: 60 d');
  const mix = await file({ regime: 'jp_personal_data', detected_at: det, causes: [{ code: 'accidental' }, { code: 'intentional' }] });
  assertDue(mix.due, 'final', '2026-10-31T00:00:00Z', 'one intentional cause among others: 60 d');
  const none = await file({ regime: 'jp_personal_data', detected_at: det });
  assertDue(none.due, 'final', '2026-10-01T00:00:00Z', 'no cause: 30 d');
  // Learning later that it was malicious extends the deadline, and back.
  let r = (await revise(srv, D.token, acc.id, { stage: 'update', changes: { causes: [{ code: 'accidental' }, { code: 'intentional', detail: '内部不正' }] } })).json;
  assertDue(r.due, 'final', '2026-10-31T00:00:00Z', 'intentional cause added');
  r = (await revise(srv, D.token, acc.id, { stage: 'update', changes: { causes: [{ code: 'other' }] } })).json;
  assertDue(r.due, 'final', '2026-10-01T00:00:00Z', 'intentional cause removed');
});

test('jp_telecom "promptly": due at the anchor (detected_at, else occurred_at, else now)', async () => {
  const det = await file({ regime: 'jp_telecom', detected_at: '2026-10-01T12:00:00+09:00', draft: true });
  assertDue(det.due, 'first', '2026-10-01T03:00:00Z', 'detected_at');
  const none = await file({ regime: 'jp_telecom', draft: true });
  assert.equal(none.due.stage, 'first');
  assert.ok(Math.abs(secs(none.due.due_at) - secs(none.created_at)) <= 1, 'no times: due at once');
  assert.equal((await file({ regime: 'jp_telecom', detected_at: '2026-10-01T12:00:00+09:00' })).due.due_at, '2026-10-31T03:00:00Z', 'first: final 30 d');
  const occ = await file({ regime: 'jp_telecom', occurred_at: '2026-10-01T12:00:00+09:00', draft: true });
  assertDue(occ.due, 'first', '2026-10-01T03:00:00Z', 'occurred_at only: the anchor is occurred_at');
});

test('a draft without times is anchored at its creation: editing it does not move the deadline', async () => {
  const d = await file({ regime: 'jp_electricity', draft: true });
  const want = secs(d.created_at) + 24 * 3600;
  assert.equal(d.due.stage, 'first');
  assert.ok(Math.abs(secs(d.due.due_at) - want) <= 1, `due 24 h after creation ${d.created_at}: ${d.due.due_at}`);
  await sleep(2500);
  const e = (await revise(srv, D.token, d.id, { stage: 'draft', changes: { description: 'more detail' } })).json;
  assert.ok(Math.abs(secs(e.due.due_at) - want) <= 1,
    `after an edit the draft is still due 24 h after its creation (${utc(want)}), got ${e.due.due_at}`);
  // Submitting anchors it at the first submission.
  const s = (await revise(srv, D.token, d.id, { stage: 'first' })).json;
  assert.equal(s.due.stage, 'final');
  assert.ok(Math.abs(secs(s.due.due_at) - (secs(s.submitted_at) + 30 * 86400)) <= 1, `final due 30 d after the submission ${s.submitted_at}: ${s.due.due_at}`);
});

test('due list: only visible reports with a deadline before now + within_hours, overdue first', async () => {
  const E = await orgWithUser(srv, { sectors: ['gas'] });
  const B = await orgWithUser(srv, { sectors: ['gas'] });
  const coord = await userOf(srv, { id: srv.coordOrgId });
  const mk = (fields) => fileReport(srv, E.token, minimal({ sectors: ['gas'], ...fields })).then((r) => r.json);
  const R = {
    a: await mk({ regime: 'jp_electricity', detected_at: hoursAgo(40 * 24, 540) }), // final due 10 days ago
    b: await mk({ regime: 'jp_electricity', detected_at: hoursAgo(31 * 24, -300), event_type: 'intrusion' }), // due a day ago
    c: await mk({ regime: 'eu_nis2', detected_at: hoursAgo(62, 60) }), // update due in 10 h
    d: await mk({ regime: 'jp_electricity', detected_at: hoursAgo(26 * 24, 540) }), // final due in 4 days
    e: await mk({}), // no regime
    f: await mk({ regime: 'jp_electricity', detected_at: hoursAgo(40 * 24, 540) }), // to be finalised
    g: await mk({ regime: 'jp_electricity', detected_at: hoursAgo(1, 540), draft: true }), // first due in 23 h
  };
  await revise(srv, E.token, R.f.id, { stage: 'final' });
  const due = async (qs, token = E.token) => {
    const r = await srv.api('GET', `/api/v1/reports/due?org_id=${E.org.id}${qs ? `&${qs}` : ''}`, { token });
    assert.equal(r.status, 200, r.text);
    assertResponse('GET', '/api/v1/reports/due', r);
    assert.equal(r.json.next_cursor, null);
    const ats = r.json.items.map((x) => secs(x.due.due_at));
    assert.deepEqual(ats, [...ats].sort((x, y) => x - y), 'ordered by due time');
    return r.json.items;
  };
  const names = (items) => items.map((x) => Object.keys(R).find((k) => R[k].id === x.id));
  const def = await due('');
  assert.deepEqual(names(def), ['a', 'b', 'c', 'g'], 'default within_hours=72');
  assert.deepEqual(def.map((x) => x.due.overdue), [true, true, false, false]);
  assert.ok(def[0].due.seconds_left < def[1].due.seconds_left && def[1].due.seconds_left < 0 && def[2].due.seconds_left > 0);
  assert.equal(def[0].due.due_at, utc(secs(R.a.detected_at) + 30 * 86400));
  assert.equal(def[2].due.stage, 'update');
  assert.equal(def[2].due.due_at, utc(secs(R.c.detected_at) + 72 * 3600));
  assert.equal(def[3].due.stage, 'first');
  assert.deepEqual(names(await due('within_hours=0')), ['a', 'b'], 'within_hours=0: the overdue only');
  assert.deepEqual(names(await due('within_hours=12')), ['a', 'b', 'c']);
  assert.deepEqual(names(await due('within_hours=200')), ['a', 'b', 'c', 'g', 'd']);
  assert.deepEqual(names(await due('within_hours=8784')), ['a', 'b', 'c', 'g', 'd']);
  assert.deepEqual(names(await due('within_hours=8784&event_type=intrusion')), ['b']);
  assert.deepEqual(names(await due('within_hours=8784&stage=draft')), ['g']);
  // Visibility: the coordinator sees all but the draft; another operator of the same sector none.
  assert.deepEqual(names(await due('within_hours=8784', coord.token)), ['a', 'b', 'c', 'd']);
  assert.deepEqual(names(await due('within_hours=8784', B.token)), []);
  assert.deepEqual(names(await due('within_hours=8784', srv.adminToken)), ['a', 'b', 'c', 'd']);

  for (const v of ['-1', '8785', 'abc', '1.5', '72h', '']) {
    const r = await srv.api('GET', `/api/v1/reports/due?within_hours=${v}`, { token: E.token });
    if (v === '') { assert.equal(r.status, 200, 'an empty within_hours is the default'); continue; }
    assertProblem(r, 400, 'bad-request', ['within_hours']);
    assertResponse('GET', '/api/v1/reports/due', r);
  }
});

test('the due list is complete: 205 overdue reports are all reachable through its cursor, in deadline order', async () => {
  const F = await orgWithUser(srv, { sectors: ['water'] });
  const det = hoursAgo(45 * 24, 540);
  const ids = [];
  for (let i = 0; i < 205; i += 15) {
    const batch = await Promise.all(Array.from({ length: Math.min(15, 205 - i) }, (_, j) => srv.api('POST', '/api/v1/reports', {
      token: F.token, body: minimal({ sectors: ['water'], title: `overdue ${i + j}`, regime: 'jp_electricity', detected_at: det }),
    })));
    for (const r of batch) { assert.equal(r.status, 201, r.text); ids.push(r.json.id); }
  }
  // Follow the cursor: every overdue report is reachable exactly once, in deadline order.
  const seen = [];
  let cursor = null;
  let pages = 0;
  do {
    const q = `/api/v1/reports/due?within_hours=0&org_id=${F.org.id}&limit=60${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await srv.api('GET', q, { token: F.token });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.items.length <= 60);
    seen.push(...r.json.items);
    cursor = r.json.next_cursor;
    pages++;
  } while (cursor && pages < 20);
  assert.equal(cursor, null, 'the last page has no next cursor');
  assert.equal(pages, 4, '205 reports in pages of 60');
  assert.equal(seen.length, 205, `every overdue report is listed once; got ${seen.length}`);
  assert.deepEqual(new Set(seen.map((x) => x.id)), new Set(ids));
  const dues = seen.map((x) => Date.parse(x.due.due_at));
  assert.deepEqual(dues, [...dues].sort((a, b) => a - b), 'ordered by deadline across pages');
});

test('regimes are data: admin creates one; PATCHing its steps (or disabling it) recomputes the due dates of its reports', async () => {
  const code = `e2e_${uniq('r').toLowerCase().replace(/[^a-z0-9]/g, '')}`.slice(0, 32);
  const body = { code, name: { ja: 'テスト制度', en: 'Test regime' }, steps: [{ stage: 'first', within: '24h' }, { stage: 'final', within: '30d' }] };
  assert.ok(requestAccepts('POST', '/api/v1/regimes', body));
  const c = await srv.admin('POST', '/api/v1/regimes', body);
  assert.equal(c.status, 201, c.text);
  assertResponse('POST', '/api/v1/regimes', c);
  assert.equal(c.headers.get('location'), `/api/v1/regimes/${code}`);
  assert.deepEqual(c.json, { ...body, disabled: false });
  assertProblem(await srv.admin('POST', '/api/v1/regimes', body), 409, 'conflict');

  const det = '2026-03-01T09:00:00+09:00'; // 2026-03-01T00:00:00Z
  const r1 = await file({ regime: code, detected_at: det }); // usable at once
  assertDue(r1.due, 'final', '2026-03-31T00:00:00Z', 'new regime, first report');
  const r2 = await file({ regime: code, detected_at: det, draft: true });
  assertDue(r2.due, 'first', '2026-03-02T00:00:00Z', 'new regime, draft');
  const r3 = await file({ regime: code, detected_at: det });
  await revise(srv, D.token, r3.id, { stage: 'final' });
  const other = await file({ regime: 'jp_electricity', detected_at: det });

  const p = await srv.admin('PATCH', `/api/v1/regimes/${code}`, { steps: [{ stage: 'first', within: '48h' }, { stage: 'update', within: '72h' }, { stage: 'final', within: '10d' }] });
  assert.equal(p.status, 200, p.text);
  assertResponse('PATCH', '/api/v1/regimes/{code}', p);
  assert.equal(p.json.steps.length, 3);
  assert.deepEqual(p.json.name, body.name, 'a PATCH of the steps keeps the name');
  assertDue(await dueOf(r1.id), 'update', '2026-03-04T00:00:00Z', 'recomputed: first → update in 72 h');
  assertDue(await dueOf(r2.id), 'first', '2026-03-03T00:00:00Z', 'recomputed: draft → first in 48 h');
  assert.equal(await dueOf(r3.id), null, 'a final report stays without deadline');
  assertDue(await dueOf(other.id), 'final', '2026-03-31T00:00:00Z', 'reports of other regimes untouched');
  const list = await srv.api('GET', `/api/v1/reports/due?within_hours=8784&org_id=${D.org.id}`, { token: D.token });
  assert.equal(list.json.items.find((x) => x.id === r1.id).due.due_at, '2026-03-04T00:00:00Z', 'the due list agrees');

  // Disabling: no deadlines, hidden from the list, not selectable; enabling brings them back.
  const dis = await srv.admin('PATCH', `/api/v1/regimes/${code}`, { disabled: true });
  assert.equal(dis.status, 200, dis.text);
  assert.equal(dis.json.disabled, true);
  assert.equal(await dueOf(r1.id), null, 'disabled regime: no deadline');
  assert.ok(!(await srv.api('GET', '/api/v1/regimes', { token: D.token })).json.items.some((x) => x.code === code));
  assert.ok((await srv.api('GET', '/api/v1/regimes?include_disabled=true', { token: D.token })).json.items.some((x) => x.code === code && x.disabled));
  assert.equal((await srv.api('GET', `/api/v1/regimes/${code}`, { token: D.token })).json.disabled, true);
  assertProblem(await fileReport(srv, D.token, minimal({ regime: code }), { status: 422 }), 422, 'validation', ['regime']);
  await srv.admin('PATCH', `/api/v1/regimes/${code}`, { disabled: false });
  assertDue(await dueOf(r1.id), 'update', '2026-03-04T00:00:00Z', 're-enabled');
  const ren = await srv.admin('PATCH', `/api/v1/regimes/${code}`, { name: { en: 'Renamed' } });
  assert.equal(ren.json.name.en, 'Renamed');
  assert.equal(ren.json.name.ja, 'テスト制度');
  assert.equal(ren.json.steps.length, 3, 'a rename keeps the steps');

  // Only admins write regimes.
  const oa = await userOf(srv, D.org, { roles: ['org_admin'] });
  const coordAnalyst = await userOf(srv, { id: srv.coordOrgId }, { roles: ['analyst'] });
  for (const tok of [D.token, oa.token, coordAnalyst.token]) {
    const x = await srv.api('PATCH', `/api/v1/regimes/${code}`, { token: tok, body: { steps: [{ stage: 'final', within: '1h' }] } });
    assertProblem(x, 403, 'forbidden');
    assertResponse('PATCH', '/api/v1/regimes/{code}', x);
    assertProblem(await srv.api('PATCH', '/api/v1/regimes/jp_electricity', { token: tok, body: { disabled: true } }), 403, 'forbidden');
    const y = await srv.api('POST', '/api/v1/regimes', { token: tok, body: { ...body, code: `${code.slice(0, 28)}_x` } });
    assertProblem(y, 403, 'forbidden');
  }
  assert.equal((await srv.admin('GET', `/api/v1/regimes/${code}`)).json.steps.length, 3, 'refused PATCHes changed nothing');
  assertDue(await dueOf(r1.id), 'update', '2026-03-04T00:00:00Z', 'after refused PATCHes');
  assert.equal((await srv.admin('GET', '/api/v1/regimes/jp_electricity')).json.disabled, false);
  assertProblem(await srv.admin('PATCH', '/api/v1/regimes/no_such_regime', { disabled: true }), 404, 'not-found');
});

test('regime validation: 422 naming the field', async () => {
  const ok = { code: 'valid_code', name: { en: 'X' }, steps: [{ stage: 'final', within: '30d' }] };
  const cases = [
    ['code with capitals', { ...ok, code: 'BadCode' }, 'code'],
    ['missing code', { name: ok.name, steps: ok.steps }, 'code'],
    ['missing name', { code: ok.code, steps: ok.steps }, 'name'],
    ['missing steps', { code: ok.code, name: ok.name }, 'steps'],
    ['no steps', { ...ok, steps: [] }, 'steps'],
    ['9 steps', { ...ok, steps: Array(9).fill({ stage: 'final', within: '1d' }) }, 'steps'],
    ['steps out of order', { ...ok, steps: [{ stage: 'final', within: '30d' }, { stage: 'first', within: '24h' }] }, 'steps[1].stage', false],
    ['draft is not a step', { ...ok, steps: [{ stage: 'draft', within: '1h' }] }, 'steps[0].stage'],
    ['unknown unit', { ...ok, steps: [{ stage: 'first', within: '24x' }] }, 'steps[0].within'],
    ['within missing', { ...ok, steps: [{ stage: 'first' }] }, 'steps[0].within'],
    ['within a number', { ...ok, steps: [{ stage: 'first', within: 24 }] }, 'steps[0].within'],
    ['negative within', { ...ok, steps: [{ stage: 'first', within: '-1h' }] }, 'steps[0].within'],
    ['within_if_intentional null', { ...ok, steps: [{ stage: 'final', within: '30d', within_if_intentional: null }] }, 'steps[0].within_if_intentional'],
    ['within_if_intentional bad', { ...ok, steps: [{ stage: 'final', within: '30d', within_if_intentional: 'forever' }] }, 'steps[0].within_if_intentional'],
    ['unknown step field', { ...ok, steps: [{ stage: 'final', within: '30d', grace: '1d' }] }, 'steps[0].grace'],
    ['unknown field', { ...ok, country: 'jp' }, 'country'],
    ['disabled on create', { ...ok, disabled: true }, 'disabled'],
  ];
  const failures = [];
  for (const [label, body, field, docKnows = true] of cases) {
    const r = await srv.admin('POST', '/api/v1/regimes', body);
    try {
      assertProblem(r, 422, 'validation', [field]);
      assertResponse('POST', '/api/v1/regimes', r);
    } catch (e) { failures.push(`${label}: ${e.message.split('\n')[0].slice(0, 240)}`); }
    if (docKnows && requestAccepts('POST', '/api/v1/regimes', body)) failures.push(`${label}: api/openapi.json accepts it`);
  }
  for (const [label, body, field] of [['patch: steps not an array', { steps: 'final' }, 'steps'], ['patch: code not writable', { code: 'x' }, 'code'],
    ['patch: disabled not a boolean', { disabled: 'no' }, 'disabled'], ['patch: bad step', { steps: [{ stage: 'final', within: '1y' }] }, 'steps[0].within']]) {
    const r = await srv.admin('PATCH', '/api/v1/regimes/jp_telecom', body);
    try { assertProblem(r, 422, 'validation', [field]); } catch (e) { failures.push(`${label}: ${e.message.split('\n')[0].slice(0, 240)}`); }
    if (requestAccepts('PATCH', '/api/v1/regimes/{code}', body)) failures.push(`${label}: api/openapi.json accepts it`);
  }
  assert.equal((await srv.admin('GET', '/api/v1/regimes?include_disabled=true')).json.items.filter((x) => x.code === 'valid_code').length, 0, 'nothing stored');
  assert.deepEqual((await srv.admin('GET', '/api/v1/regimes/jp_telecom')).json.steps, [{ stage: 'first', within: null }, { stage: 'final', within: '30d' }]);
  assert.deepEqual(failures, [], failures.join('\n'));
});
