// Monthly near-miss counts (DOMAIN.md §5): an operator submits counts per sector, month and
// event type; re-submitting replaces (history kept); the coordinator reads every organisation's
// counts and the totals, nobody else does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertProblem, uniq } from './lib/server.mjs';
import { assertResponse, assertSchema, requestAccepts } from './lib/openapi.mjs';
import { orgWithUser, userOf, monthFromNow } from './lib/reports.mjs';

let srv;
let N1; // operator: electricity (first) and gas
let N1b; // a colleague in N1
let N2; // operator: electricity
let coord; // coordinator member
let hub; // sector hub of electricity
let auditorCoord; // auditor-only in the coordinator org
const M1 = monthFromNow(-1);
const M2 = monthFromNow(-2);

before(async () => {
  srv = await startServer();
  N1 = await orgWithUser(srv, { sectors: ['electricity', 'gas'] });
  N1b = await userOf(srv, N1.org, { roles: ['org_admin'] });
  N2 = await orgWithUser(srv, { sectors: ['electricity'] });
  coord = await userOf(srv, { id: srv.coordOrgId });
  hub = await orgWithUser(srv, { kind: 'sector_hub', sectors: ['electricity'] });
  auditorCoord = await userOf(srv, { id: srv.coordOrgId }, { roles: ['auditor'] });
});
after(async () => { await srv?.cleanup(); });

const put = (token, body) => srv.api('POST', '/api/v1/near-miss-counts', { token, body });
const list = async (token, qs = '') => {
  const r = await srv.api('GET', `/api/v1/near-miss-counts${qs ? `?${qs}` : ''}`, { token });
  assert.equal(r.status, 200, r.text);
  assertResponse('GET', '/api/v1/near-miss-counts', r);
  return r.json.items;
};
const key = (e) => `${e.sector}/${e.month}/${e.event_type}`;

test('submit a month of counts; re-submitting replaces a count and keeps the old one as history', async () => {
  const body = { month: M1, entries: [{ event_type: 'near_miss', count: 12, note: '標的型メールを開封前に検知' }, { event_type: 'malware', count: 3, sector: 'gas' }] };
  assert.ok(requestAccepts('POST', '/api/v1/near-miss-counts', body));
  const r = await put(N1.token, body);
  assert.equal(r.status, 201, r.text);
  assertResponse('POST', '/api/v1/near-miss-counts', r);
  const items = r.json.items;
  assert.equal(items.length, 2);
  const nm = items.find((e) => e.event_type === 'near_miss');
  assert.deepEqual({ ...nm, id: 0, submitted_at: '' }, {
    id: 0, org_id: N1.org.id, sector: 'electricity', month: M1, event_type: 'near_miss', count: 12, note: '標的型メールを開封前に検知',
    submitted_by: N1.user.id, submitted_at: '', current: true,
  }, 'the sector defaults to the org\'s first');
  assert.ok(Math.abs(Date.parse(nm.submitted_at) - Date.now()) < 120e3);
  const mw = items.find((e) => e.event_type === 'malware');
  assert.equal(mw.sector, 'gas');
  assert.equal(mw.note, null);

  // Re-submit the near_miss count (by a colleague): replaced; the malware count stays.
  const r2 = await put(N1b.token, { month: M1, entries: [{ event_type: 'near_miss', count: 15 }] });
  assert.equal(r2.status, 201, r2.text);
  assert.deepEqual(r2.json.items.map((e) => [key(e), e.count, e.current]).sort(),
    [[`electricity/${M1}/near_miss`, 15, true], [`gas/${M1}/malware`, 3, true]]);
  assert.equal(r2.json.items.find((e) => e.event_type === 'near_miss').submitted_by, N1b.user.id);
  const cur = await list(N1.token, `month=${M1}`);
  assert.deepEqual(cur.map((e) => [key(e), e.count]).sort(), [[`electricity/${M1}/near_miss`, 15], [`gas/${M1}/malware`, 3]]);
  const hist = await list(N1.token, `month=${M1}&history=true`);
  assert.equal(hist.length, 3);
  const old = hist.find((e) => !e.current);
  assert.deepEqual([key(old), old.count, old.submitted_by, old.note], [`electricity/${M1}/near_miss`, 12, N1.user.id, '標的型メールを開封前に検知'], 'the replaced count is kept');
  assert.deepEqual(old, nm.id === old.id ? { ...nm, current: false } : old, 'history keeps the old entry as it was');
  for (const e of hist) assertSchema('NearMissEntry', e);

  // Another month; listing without a month gives every month, newest submission first.
  assert.equal((await put(N1.token, { month: M2, entries: [{ event_type: 'availability', count: 0 }] })).status, 201);
  const all = await list(N1.token);
  assert.deepEqual(all.map((e) => e.month), [M2, M1, M1]);
  assert.equal((await list(N1.token, 'history=1')).length, 4);
});

test('counts are the organisation\'s own; the coordinator reads every organisation\'s', async () => {
  assert.equal((await put(N2.token, { month: M1, entries: [{ event_type: 'near_miss', count: 5 }, { event_type: 'intrusion', count: 1 }] })).status, 201);
  const n2 = await list(N2.token);
  assert.ok(n2.length === 2 && n2.every((e) => e.org_id === N2.org.id), 'an operator sees only its own');
  assert.deepEqual(await list(N2.token, `org_id=${N1.org.id}`), [], 'another org\'s counts: none');
  assert.deepEqual(await list(hub.token, `org_id=${N1.org.id}`), [], 'the sector hub: none of its members\'');
  assert.deepEqual(await list(hub.token), []);
  assert.deepEqual(await list(auditorCoord.token), [], 'an auditor-only user: none');
  const c = await list(coord.token, `month=${M1}`);
  assert.deepEqual([...new Set(c.map((e) => e.org_id))].sort(), [N1.org.id, N2.org.id].sort());
  assert.deepEqual((await list(coord.token, `month=${M1}&org_id=${N2.org.id}`)).map((e) => e.org_id), [N2.org.id, N2.org.id]);
  assert.equal((await list(srv.adminToken, `month=${M1}`)).length, c.length, 'the admin of the coordinator org too');
});

test('totals per sector, month and event type: the coordinator only; current counts only', async () => {
  const tot = async (qs, token = coord.token) => {
    const r = await srv.api('GET', `/api/v1/near-miss-counts/totals${qs ? `?${qs}` : ''}`, { token });
    assert.equal(r.status, 200, r.text);
    assertResponse('GET', '/api/v1/near-miss-counts/totals', r);
    return r.json.items.map((x) => [x.sector, x.month, x.event_type, x.count, x.orgs]);
  };
  assert.deepEqual(await tot(`from=${M1}&to=${M1}`), [
    ['electricity', M1, 'intrusion', 1, 1],
    ['electricity', M1, 'near_miss', 20, 2], // 15 (N1, the replaced 12 not counted) + 5 (N2)
    ['gas', M1, 'malware', 3, 1],
  ]);
  assert.deepEqual(await tot(`from=${M2}&to=${M1}&sector=electricity&event_type=near_miss`), [['electricity', M1, 'near_miss', 20, 2]]);
  assert.deepEqual(await tot(`from=${M2}&to=${M2}`), [['electricity', M2, 'availability', 0, 1]]);
  assert.deepEqual(await tot(`from=${M2}&to=${M1}&sector=gas`), [['gas', M1, 'malware', 3, 1]]);
  const everything = await tot('');
  assert.deepEqual(everything.map((x) => x[1]), [M2, M1, M1, M1], 'ordered by month');
  assert.deepEqual(await tot('from=2001-01&to=2001-12'), []);
  assert.deepEqual(await tot('', srv.adminToken), everything);

  for (const [who, tok] of [['operator', N1.token], ['org_admin', N1b.token], ['sector hub', hub.token], ['auditor of the coordinator', auditorCoord.token]]) {
    const r = await srv.api('GET', '/api/v1/near-miss-counts/totals', { token: tok });
    try {
      assertProblem(r, 403, 'forbidden');
      assertResponse('GET', '/api/v1/near-miss-counts/totals', r);
    } catch (e) { throw new Error(`${who}: ${e.message}`); }
  }
  for (const [qs, field] of [['from=2026-13', 'from'], ['to=26-01', 'to'], ['from=2026/01', 'from'], ['sector=atlantis', 'sector'],
    ['event_type=ransomware', 'event_type']]) {
    const r = await srv.api('GET', `/api/v1/near-miss-counts/totals?${qs}`, { token: coord.token });
    assertProblem(r, 400, 'bad-request', [field]);
    assertResponse('GET', '/api/v1/near-miss-counts/totals', r);
  }
});

test('invalid counts → 422 naming the field; nothing stored', async () => {
  const V = await orgWithUser(srv, { sectors: ['water'] });
  const vendor = await orgWithUser(srv, { kind: 'vendor', sectors: [] });
  const e0 = (fields) => ({ month: M1, entries: [{ event_type: 'near_miss', count: 1, ...fields }] });
  const cases = [
    ['future month', V, { month: monthFromNow(2), entries: [{ event_type: 'near_miss', count: 1 }] }, 'month', false],
    ['far future month', V, { month: '2099-01', entries: [{ event_type: 'near_miss', count: 1 }] }, 'month', false],
    ['month 13', V, { ...e0({}), month: '2026-13' }, 'month'],
    ['month 00', V, { ...e0({}), month: '2026-00' }, 'month'],
    ['two-digit year', V, { ...e0({}), month: '26-01' }, 'month'],
    ['one-digit month', V, { ...e0({}), month: '2026-1' }, 'month'],
    ['slash', V, { ...e0({}), month: '2026/01' }, 'month'],
    ['a full date', V, { ...e0({}), month: '2026-01-01' }, 'month'],
    ['month a number', V, { ...e0({}), month: 202601 }, 'month'],
    ['missing month', V, { entries: [{ event_type: 'near_miss', count: 1 }] }, 'month'],
    ['count -1', V, e0({ count: -1 }), 'entries[0].count'],
    ['count 1000001', V, e0({ count: 1000001 }), 'entries[0].count'],
    ['count 2.5', V, e0({ count: 2.5 }), 'entries[0].count'],
    ['count "5"', V, e0({ count: '5' }), 'entries[0].count'],
    ['count null', V, e0({ count: null }), 'entries[0].count'],
    ['missing count', V, { month: M1, entries: [{ event_type: 'near_miss' }] }, 'entries[0].count'],
    ['unknown event type', V, e0({ event_type: 'phishing' }), 'entries[0].event_type'],
    ['missing event type', V, { month: M1, entries: [{ count: 1 }] }, 'entries[0].event_type'],
    ['sector not of the org', V, e0({ sector: 'electricity' }), 'entries[0].sector', false],
    ['unknown sector', V, e0({ sector: 'atlantis' }), 'entries[0].sector', false],
    ['no sector to count under', vendor, e0({}), 'entries[0].sector', false],
    ['note too long', V, e0({ note: 'n'.repeat(4001) }), 'entries[0].note'],
    ['unknown entry field', V, e0({ org_id: V.org.id }), 'entries[0].org_id'],
    ['entry not an object', V, { month: M1, entries: ['near_miss'] }, 'entries[0]'],
    ['second entry bad', V, { month: M1, entries: [{ event_type: 'near_miss', count: 1 }, { event_type: 'malware', count: -5 }] }, 'entries[1].count'],
    ['no entries', V, { month: M1, entries: [] }, 'entries'],
    ['65 entries', V, { month: M1, entries: Array(65).fill({ event_type: 'near_miss', count: 1 }) }, 'entries'],
    ['entries not an array', V, { month: M1, entries: { event_type: 'near_miss', count: 1 } }, 'entries'],
    ['unknown field', V, { ...e0({}), year: 2026 }, 'year'],
  ];
  const failures = [];
  for (const [label, who, body, field, docKnows = true] of cases) {
    const r = await put(who.token, body);
    try {
      assertProblem(r, 422, 'validation', [field]);
      assertResponse('POST', '/api/v1/near-miss-counts', r);
    } catch (e) { failures.push(`${label}: ${JSON.stringify(body).slice(0, 120)} → ${e.message.split('\n')[0].slice(0, 220)}`); }
    if (docKnows && requestAccepts('POST', '/api/v1/near-miss-counts', body)) failures.push(`${label}: api/openapi.json accepts it`);
  }
  assert.deepEqual(await list(V.token, 'history=true'), [], 'nothing stored');
  assert.deepEqual(await list(vendor.token, 'history=true'), []);
  assert.deepEqual(failures, [], `${failures.length} cases failed:\n${failures.join('\n')}`);

  // A request with one bad entry stores none of its good ones.
  const mixed = await put(V.token, { month: M1, entries: [{ event_type: 'near_miss', count: 4 }, { event_type: 'nope', count: 1 }] });
  assertProblem(mixed, 422, 'validation', ['entries[1].event_type']);
  assert.deepEqual(await list(V.token, 'history=true'), []);

  // Inclusive limits: count 0 and 1,000,000, this month, 64 entries.
  const ok = await put(V.token, { month: monthFromNow(0), entries: [{ event_type: 'near_miss', count: 0 }, { event_type: 'malware', count: 1000000 }] });
  assert.equal(ok.status, 201, ok.text);
  const types = ['near_miss', 'confidentiality', 'integrity', 'availability', 'malware', 'code_execution', 'intrusion', 'other'];
  const many = await put(V.token, { month: M2, entries: Array.from({ length: 64 }, (_, i) => ({ event_type: types[i % 8], count: i })) });
  assert.equal(many.status, 201, many.text);
  assert.equal(many.json.items.length, 8, 'one current count per event type');
  assert.deepEqual(many.json.items.map((e) => [e.event_type, e.count]).sort(), types.map((t, i) => [t, 56 + i]).sort(), 'the last of each wins');
});

test('the list is complete: 5,056 history entries of one organisation are all reachable through its cursor', async () => {
  const H = await orgWithUser(srv, { sectors: ['chemical'] });
  const types = ['near_miss', 'confidentiality', 'integrity', 'availability', 'malware', 'code_execution', 'intrusion', 'other'];
  const entries = Array.from({ length: 64 }, (_, i) => ({ event_type: types[i % 8], count: i }));
  for (let i = 0; i < 79; i += 8) {
    const rs = await Promise.all(Array.from({ length: Math.min(8, 79 - i) }, () => put(H.token, { month: M2, entries })));
    for (const r of rs) assert.equal(r.status, 201, r.text);
  }
  const items = [];
  let cursor = null;
  let pages = 0;
  do {
    const r = await srv.api('GET', `/api/v1/near-miss-counts?history=true&org_id=${H.org.id}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: coord.token });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.items.length <= 1000, 'pages of at most 1000');
    items.push(...r.json.items);
    cursor = r.json.next_cursor;
    pages++;
  } while (cursor && pages < 20);
  assert.equal(cursor, null);
  assert.equal(pages, 6, '5,056 entries in pages of 1000');
  assert.equal(new Set(items.map((e) => e.id)).size, items.length, 'no entry twice');
  assert.equal(items.filter((e) => e.current).length, 8);
  assert.equal(items.length, 79 * 64, `every entry is reachable; got ${items.length}`);
});

test('who may submit: member, analyst, org_admin; not an auditor-only user, not a bare admin', async () => {
  const body = { month: M1, entries: [{ event_type: 'near_miss', count: 2 }] };
  for (const tok of [auditorCoord.token, srv.adminToken, (await userOf(srv, N2.org, { roles: ['auditor'] })).token]) {
    const r = await put(tok, body);
    assertProblem(r, 403, 'forbidden');
    assertResponse('POST', '/api/v1/near-miss-counts', r);
  }
  const an = await userOf(srv, N2.org, { roles: ['analyst'] });
  assert.equal((await put(an.token, { month: M2, entries: [{ event_type: 'other', count: 7, note: uniq('n') }] })).status, 201);
  for (const [qs, field] of [['month=2026-13', 'month'], ['month=26-01', 'month'], ['org_id=acme', 'org_id'], ['history=maybe', 'history']]) {
    const r = await srv.api('GET', `/api/v1/near-miss-counts?${qs}`, { token: N2.token });
    assertProblem(r, 400, 'bad-request', [field]);
    assertResponse('GET', '/api/v1/near-miss-counts', r);
  }
});
