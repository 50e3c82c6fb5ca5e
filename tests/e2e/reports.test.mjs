// Reports (issue 3): the lifecycle first → update → final → reopen with an append-only history,
// drafts, idempotent retries (sequential and concurrent), concurrent revisions, visibility per
// organisation kind (issue 4: originals only to the reporter and the coordinator), contact
// redaction, list filters and pagination.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertProblem, uniq, UUID_RE } from './lib/server.mjs';
import { assertResponse, assertSchema, requestAccepts } from './lib/openapi.mjs';
import { orgWithUser, userOf, minimal, fileReport, revise, getReport, listReports } from './lib/reports.mjs';

let srv;
let A; // operator (electricity): the reporter
let A2; // a second member of the same operator
let B; // another operator in the same sector: unrelated
let coord; // a member of the coordinator org
let hub; // sector hub of electricity
let hubGas; // sector hub of gas: no common sector with A
let ministry; // ministry of electricity
let ministryGas; // ministry of gas
let auditorCoord; // auditor-only user of the coordinator org
let auditorA; // auditor-only user of the reporting org

before(async () => {
  srv = await startServer();
  A = await orgWithUser(srv, { name: { en: uniq('Reporter '), ja: '報告電力' }, sectors: ['electricity'] });
  A2 = await userOf(srv, A.org, { roles: ['analyst'] });
  B = await orgWithUser(srv, { sectors: ['electricity'] });
  coord = await userOf(srv, { id: srv.coordOrgId }, { roles: ['member'] });
  hub = await orgWithUser(srv, { kind: 'sector_hub', sectors: ['electricity'] });
  hubGas = await orgWithUser(srv, { kind: 'sector_hub', sectors: ['gas'] });
  ministry = await orgWithUser(srv, { kind: 'ministry', sectors: ['electricity'] });
  ministryGas = await orgWithUser(srv, { kind: 'ministry', sectors: ['gas'] });
  auditorCoord = await userOf(srv, { id: srv.coordOrgId }, { roles: ['auditor'] });
  auditorA = await userOf(srv, A.org, { roles: ['auditor'] });
});
after(async () => { await srv?.cleanup(); });

const NULL_FIELDS = ['layer', 'service', 'description', 'occurred_at', 'detected_at', 'recovered_at', 'basis', 'regime', 'followup', 'contact'];
const near = (iso, what) => assert.ok(Math.abs(Date.parse(iso) - Date.now()) < 120e3, `${what} is now: ${iso}`);

test('a first report needs only event_type, title and sectors; the rest is null (unknown) or default', async () => {
  const body = { event_type: 'malware', title: 'オフィスPCが一斉にロック', sectors: ['electricity'] };
  assert.ok(requestAccepts('POST', '/api/v1/reports', body));
  const r = await fileReport(srv, A.token, body);
  assertResponse('POST', '/api/v1/reports', r);
  const rep = r.json;
  assert.match(rep.id, UUID_RE);
  assert.equal(r.headers.get('location'), `/api/v1/reports/${rep.id}`);
  assert.equal(r.headers.get('idempotent-replayed'), null, 'a fresh create is not a replay');
  assert.equal(rep.org_id, A.org.id);
  assert.deepEqual(rep.org_name, A.org.name);
  assert.equal(rep.created_by, A.user.id);
  assert.equal(rep.stage, 'first');
  assert.equal(rep.revision, 1);
  assert.equal(rep.kind, 'incident');
  assert.equal(rep.event_type, 'malware');
  assert.equal(rep.title, body.title);
  assert.deepEqual(rep.sectors, ['electricity']);
  for (const f of NULL_FIELDS) assert.equal(rep[f], null, `${f} is null (unknown) in a first report`);
  assert.deepEqual(rep.severity, { continuity: null, safety: null, trust: null, overall: null });
  assert.deepEqual(rep.causes, []);
  assert.deepEqual(rep.observables, []);
  assert.equal(rep.status, 'open');
  assert.equal(rep.share_with_hub, false);
  assert.equal(rep.due, null, 'no regime, no deadline');
  near(rep.created_at, 'created_at');
  assert.equal(rep.submitted_at, rep.created_at, 'a first report is submitted when created');
  assert.equal(rep.revisions.length, 1);
  const [r1] = rep.revisions;
  assert.equal(r1.n, 1);
  assert.equal(r1.stage, 'first');
  assert.deepEqual(r1.by, { id: A.user.id, login: A.user.login, display_name: A.user.display_name });
  near(r1.at, 'revisions[0].at');
  assert.equal(r1.reason, null);

  const g = await getReport(srv, A.token, rep.id);
  assert.equal(g.status, 200);
  assertResponse('GET', '/api/v1/reports/{id}', g);
  assert.deepEqual({ ...g.json, due: null }, { ...rep, due: null }, 'GET answers what POST answered');

  // event_type near_miss makes a near_miss kind by default; kind may be given.
  const nm = await fileReport(srv, A.token, minimal({ event_type: 'near_miss' }));
  assert.equal(nm.json.kind, 'near_miss');
  const k = await fileReport(srv, A.token, minimal({ event_type: 'other', kind: 'near_miss' }));
  assert.equal(k.json.kind, 'near_miss');
});

test('a full report round-trips; overall severity is the maximum of the viewpoints', async () => {
  const body = {
    kind: 'incident', event_type: 'availability', causes: [{ code: 'intentional', detail: 'ランサムウェア' }, { code: 'accidental', detail: '未適用パッチ' }],
    layer: 'outage', severity: { continuity: 3, safety: 0, trust: 2 }, sectors: ['port', 'logistics'], service: 'コンテナターミナル',
    title: 'Port terminal stopped', description: '行1\n行2\n\nline 4', occurred_at: '2026-06-01T08:00:00+09:00',
    detected_at: '2026-06-01T08:30:00+09:00', recovered_at: '2026-06-03T20:00:00+09:00', basis: 'serious', regime: 'jp_telecom',
    status: 'monitoring', followup: '復旧済み、監視中', contact: { name: '港 太郎', email: 'soc@port.example.jp', phone: '+81-3-0000-0000' },
    share_with_hub: true, observables: [{ type: 'ipv4', value: '203.0.113.7', role: 'attacker' }, { type: 'text', value: 'note' }],
  };
  assert.ok(requestAccepts('POST', '/api/v1/reports', body));
  const r = await fileReport(srv, A.token, body);
  assertResponse('POST', '/api/v1/reports', r);
  const rep = r.json;
  for (const [k, v] of Object.entries(body)) {
    if (k === 'severity') assert.deepEqual(rep.severity, { ...v, overall: 3 });
    else if (k === 'observables') assert.deepEqual(rep.observables, [v[0], { ...v[1], role: 'other' }]);
    else assert.deepEqual(rep[k], v, k);
  }
});

test('update, final, reopen: stages, revisions (who, when, stage, changes), nothing overwritten', async () => {
  const rep = (await fileReport(srv, A.token, minimal({ title: 'Ticket machines encrypted' }))).json;
  const id = rep.id;

  // update by another member of the org: severity and description.
  let r = await revise(srv, A2.token, id, {
    stage: 'update', reason: '続報', changes: { severity: { continuity: 1, trust: 2 }, description: 'Riders let through free', event_type: 'availability' },
  });
  assertResponse('POST', '/api/v1/reports/{id}/revisions', r);
  assert.equal(r.headers.get('location'), `/api/v1/reports/${id}`);
  let cur = r.json;
  assert.equal(cur.stage, 'update');
  assert.equal(cur.revision, 2);
  assert.deepEqual(cur.severity, { continuity: 1, safety: null, trust: 2, overall: 2 });
  assert.equal(cur.title, 'Ticket machines encrypted', 'fields not named stay');
  const r2 = cur.revisions[1];
  assert.equal(r2.n, 2);
  assert.equal(r2.stage, 'update');
  assert.equal(r2.reason, '続報');
  assert.deepEqual(r2.by, { id: A2.user.id, login: A2.user.login, display_name: A2.user.display_name });
  near(r2.at, 'revision 2 at');
  const byField = (rev) => Object.fromEntries(rev.changes.map((c) => [c.field, c]));
  const ch2 = byField(r2);
  assert.deepEqual(Object.keys(ch2).sort(), ['description', 'event_type', 'severity']);
  assert.deepEqual(ch2.description, { field: 'description', before: null, after: 'Riders let through free' });
  assert.deepEqual(ch2.event_type, { field: 'event_type', before: 'malware', after: 'availability' });
  assert.deepEqual(ch2.severity.before, { continuity: null, safety: null, trust: null, overall: null });
  assert.deepEqual(ch2.severity.after, { continuity: 1, safety: null, trust: 2, overall: 2 });

  // A revision may change one viewpoint only; the others stay.
  cur = (await revise(srv, A.token, id, { stage: 'update', changes: { severity: { safety: 3 } } })).json;
  assert.deepEqual(cur.severity, { continuity: 1, safety: 3, trust: 2, overall: 3 });
  assert.deepEqual(byField(cur.revisions[2]).severity.after, cur.severity);
  assert.equal(cur.revisions[2].reason, null);

  // An update that changes nothing (no changes, or the same values) is refused.
  assertProblem(await revise(srv, A.token, id, { stage: 'update' }, { status: 422 }), 422, 'validation', ['changes']);
  assertProblem(await revise(srv, A.token, id, { stage: 'update', changes: { severity: { safety: 3 }, description: 'Riders let through free' } }, { status: 422 }),
    422, 'validation', ['changes']);

  // final (with a change) freezes it.
  cur = (await revise(srv, A.token, id, { stage: 'final', changes: { status: 'closed', followup: '全台復旧' } })).json;
  assert.equal(cur.stage, 'final');
  assert.equal(cur.status, 'closed');
  const frozen = cur;
  for (const stage of ['update', 'first', 'draft', 'final']) {
    const x = await revise(srv, A.token, id, { stage, changes: { title: 'changed after final' } }, { status: 422 });
    assertProblem(x, 422, 'validation', ['stage']);
    assertResponse('POST', '/api/v1/reports/{id}/revisions', x);
  }
  // Reopening needs a reason (not missing, null or empty; blank: see below) and takes no changes.
  for (const reason of [undefined, null, '']) {
    const body = { stage: 'reopen' };
    if (reason !== undefined) body.reason = reason;
    assertProblem(await revise(srv, A.token, id, body, { status: 422 }), 422, 'validation', ['reason']);
  }
  assertProblem(await revise(srv, A.token, id, { stage: 'reopen', reason: 'new facts', changes: { title: 'x' } }, { status: 422 }),
    422, 'validation', ['changes']);
  const still = (await getReport(srv, A.token, id)).json;
  assert.deepEqual({ ...still, due: null }, { ...frozen, due: null }, 'refused revisions changed nothing');

  cur = (await revise(srv, A.token, id, { stage: 'reopen', reason: 'A second wave was found' })).json;
  assert.equal(cur.stage, 'update', 'reopen takes the report back to update');
  const reo = cur.revisions.at(-1);
  assert.equal(reo.stage, 'reopen');
  assert.equal(reo.reason, 'A second wave was found');
  assert.deepEqual(reo.changes, []);
  assert.equal(cur.title, 'Ticket machines encrypted');
  cur = (await revise(srv, A.token, id, { stage: 'update', changes: { title: 'Ticket machines encrypted (second wave)' } })).json;

  // The whole history: consecutive n, each revision's "before" is the value the previous left.
  const g = await getReport(srv, coord.token, id);
  assert.equal(g.status, 200);
  assertResponse('GET', '/api/v1/reports/{id}', g);
  const revs = g.json.revisions;
  assert.equal(revs.length, g.json.revision);
  assert.deepEqual(revs.map((x) => x.n), revs.map((_, i) => i + 1));
  assert.deepEqual(revs.map((x) => x.stage), ['first', 'update', 'update', 'final', 'reopen', 'update']);
  const seen = { title: 'Ticket machines encrypted', description: null, event_type: 'malware', status: 'open', followup: null };
  for (const rev of revs.slice(1)) {
    for (const c of rev.changes) {
      if (c.field in seen) assert.deepEqual(c.before, seen[c.field], `revision ${rev.n}: before of ${c.field} is what revision ${rev.n - 1} left`);
      seen[c.field] = c.after;
      assert.notDeepEqual(c.before, c.after, `revision ${rev.n}: ${c.field} listed although unchanged`);
    }
  }
  assert.equal(seen.title, g.json.title);
  assert.equal(seen.status, g.json.status);
  for (let i = 1; i < revs.length; i++) assert.ok(revs[i].at >= revs[i - 1].at, 'revisions in time order');
});

test('reopening a final report with a blank reason is refused (the reason must not be blank)', async () => {
  const rep = (await fileReport(srv, A.token, minimal())).json;
  await revise(srv, A.token, rep.id, { stage: 'final' });
  const failures = [];
  for (const reason of [' ', '   \n\t ']) {
    const r = await srv.api('POST', `/api/v1/reports/${rep.id}/revisions`, { token: A.token, body: { stage: 'reopen', reason } });
    try { assertProblem(r, 422, 'validation', ['reason']); } catch (e) { failures.push(`reason ${JSON.stringify(reason)}: ${e.message.split('\n')[0].slice(0, 160)}`); }
    assert.ok(!requestAccepts('POST', '/api/v1/reports/{id}/revisions', { stage: 'reopen', reason }), 'the document refuses a blank reason');
    if (r.status === 201) await revise(srv, A.token, rep.id, { stage: 'final' }); // put it back for the next case
  }
  assert.deepEqual(failures, [], failures.join('\n'));
});

test('null clears a field in a revision; severity null means "not assessed" again', async () => {
  const rep = (await fileReport(srv, A.token, minimal({
    description: 'x', layer: 'malfunction', causes: [{ code: 'other' }], severity: { continuity: 2, safety: 1, trust: 0 },
  }))).json;
  let cur = (await revise(srv, A.token, rep.id, { stage: 'update', changes: { description: null, layer: null, causes: null } })).json;
  assert.equal(cur.description, null);
  assert.equal(cur.layer, null);
  assert.deepEqual(cur.causes, []);
  cur = (await revise(srv, A.token, rep.id, { stage: 'update', changes: { severity: { trust: null, safety: null } } })).json;
  assert.deepEqual(cur.severity, { continuity: 2, safety: null, trust: null, overall: 2 });
  const r = await srv.api('POST', `/api/v1/reports/${rep.id}/revisions`, { token: A.token, body: { stage: 'update', changes: { severity: null } } });
  assert.equal(r.status, 201, `changes {severity: null} clears every viewpoint: ${r.status} ${r.text.slice(0, 300)}`);
  assert.deepEqual(r.json.severity, { continuity: null, safety: null, trust: null, overall: null });
});

test('stage transitions: only the documented ones; a refused one appends nothing', async () => {
  const draft = (await fileReport(srv, A.token, minimal({ draft: true }))).json;
  assert.equal(draft.stage, 'draft');
  const first = (await fileReport(srv, A.token, minimal())).json;
  // [report, body, field, whether api/openapi.json can tell (it cannot know the report's stage)]
  const bad = [
    [draft, { stage: 'update', changes: { title: 'x' } }, 'stage', false], // a draft is submitted as first or final
    [draft, { stage: 'reopen', reason: 'why' }, 'stage', false],
    [draft, { stage: 'draft' }, 'changes', false], // an edit needs a change
    [first, { stage: 'first', changes: { title: 'again' } }, 'stage', false],
    [first, { stage: 'draft', changes: { title: 'back to draft' } }, 'stage', false],
    [first, { stage: 'reopen', reason: 'not final' }, 'stage', false],
    [first, { stage: 'closed' }, 'stage', true],
    [first, { stage: 3 }, 'stage', true],
    [first, { changes: { title: 'no stage' } }, 'stage', true],
    [first, { stage: 'update', changes: { title: 'x' }, note: 'extra' }, 'note', true],
    [first, { stage: 'update', changes: 'title=x' }, 'changes', true],
    [first, { stage: 'update', changes: { title: 'x' }, reason: 7 }, 'reason', true],
    [first, { stage: 'update', changes: { title: 'x' }, reason: 'r'.repeat(4001) }, 'reason', true],
  ];
  const failures = [];
  for (const [rep, body, field, docKnows] of bad) {
    const r = await srv.api('POST', `/api/v1/reports/${rep.id}/revisions`, { token: A.token, body });
    try {
      assertProblem(r, 422, 'validation', [field]);
      assertResponse('POST', '/api/v1/reports/{id}/revisions', r);
    } catch (e) { failures.push(`${rep.stage} + ${JSON.stringify(body).slice(0, 80)}: ${e.message.split('\n')[0]}`); }
    if (docKnows && requestAccepts('POST', '/api/v1/reports/{id}/revisions', body)) failures.push(`${JSON.stringify(body).slice(0, 80)}: api/openapi.json accepts it`);
  }
  assert.deepEqual(failures, [], failures.join('\n'));
  assert.equal((await getReport(srv, A.token, draft.id)).json.revision, 1);
  assert.equal((await getReport(srv, A.token, first.id)).json.revision, 1);

  // The allowed ones: draft → draft (edit) → final; first → final.
  const d2 = (await revise(srv, A.token, draft.id, { stage: 'draft', changes: { title: 'edited draft' } })).json;
  assert.equal(d2.stage, 'draft');
  assert.equal(d2.submitted_at, null);
  const d3 = (await revise(srv, A.token, draft.id, { stage: 'final' })).json;
  assert.equal(d3.stage, 'final');
  assert.notEqual(d3.submitted_at, null);
  const f2 = (await revise(srv, A.token, first.id, { stage: 'final' })).json;
  assert.equal(f2.stage, 'final');
  assertProblem(await srv.api('POST', '/api/v1/reports/01936a8e-4f5e-7c2a-9b1d-2f3e4a5b6c7d/revisions', { token: A.token, body: { stage: 'update', changes: { title: 'x' } } }),
    404, 'not-found');
});

test('a draft stays inside the organisation: the coordinator sees it only once submitted, with its history', async () => {
  const r = await fileReport(srv, A.token, minimal({ draft: true, title: uniq('Draft ') }));
  const d = r.json;
  assert.equal(d.stage, 'draft');
  assert.equal(d.submitted_at, null);
  assert.equal(d.revisions[0].stage, 'draft');
  // Inside the org: the author and a colleague.
  assert.equal((await getReport(srv, A2.token, d.id)).status, 200);
  assert.ok((await listReports(srv, A2.token)).some((x) => x.id === d.id));
  assert.ok((await listReports(srv, A.token, 'stage=draft')).some((x) => x.id === d.id));
  // Outside: nobody, not even the coordinator or the admin.
  for (const [who, tok] of [['coordinator', coord.token], ['admin', srv.adminToken], ['hub', hub.token], ['ministry', ministry.token], ['operator B', B.token]]) {
    const g = await getReport(srv, tok, d.id);
    assertProblem(g, 404, 'not-found');
    assert.ok(!(await listReports(srv, tok)).some((x) => x.id === d.id), `${who} does not list the draft`);
    assert.ok(!(await listReports(srv, tok, 'stage=draft')).some((x) => x.id === d.id), `${who} does not list the draft by stage`);
  }
  await revise(srv, A.token, d.id, { stage: 'draft', changes: { description: 'still drafting' } });
  assertProblem(await getReport(srv, coord.token, d.id), 404, 'not-found');

  const sub = (await revise(srv, A2.token, d.id, { stage: 'first' })).json;
  assert.equal(sub.stage, 'first');
  near(sub.submitted_at, 'submitted_at');
  const g = await getReport(srv, coord.token, d.id);
  assert.equal(g.status, 200, 'the coordinator sees it once submitted');
  assertResponse('GET', '/api/v1/reports/{id}', g);
  assert.deepEqual(g.json.revisions.map((x) => x.stage), ['draft', 'draft', 'first']);
  assert.ok((await listReports(srv, coord.token)).some((x) => x.id === d.id));
});

test('Idempotency-Key: a retry creates nothing and is marked replayed; another key or another user creates anew', async () => {
  const before = (await listReports(srv, A.token)).length;
  const key = uniq('key-');
  const body = minimal({ title: uniq('Idempotent ') });
  const r1 = await fileReport(srv, A.token, body, { key });
  assert.equal(r1.headers.get('idempotent-replayed'), null);
  const r2 = await fileReport(srv, A.token, body, { key });
  assertResponse('POST', '/api/v1/reports', r2);
  assert.equal(r2.headers.get('idempotent-replayed'), 'true');
  assert.equal(r2.json.id, r1.json.id);
  assert.equal(r2.headers.get('location'), `/api/v1/reports/${r1.json.id}`);
  assert.equal(r2.json.revision, 1);
  // Even with another body, the key names what it made the first time.
  const r3 = await fileReport(srv, A.token, minimal({ title: 'different body' }), { key });
  assert.equal(r3.json.id, r1.json.id);
  assert.equal(r3.json.title, body.title);
  assert.equal(r3.headers.get('idempotent-replayed'), 'true');
  assert.equal((await listReports(srv, A.token)).length, before + 1, 'one report for three requests');

  const other = await fileReport(srv, A.token, body, { key: `${key}-2` });
  assert.notEqual(other.json.id, r1.json.id, 'another key, another report');
  assert.equal(other.headers.get('idempotent-replayed'), null);
  const colleague = await fileReport(srv, A2.token, body, { key });
  assert.notEqual(colleague.json.id, r1.json.id, 'keys are per user');
  assert.equal(colleague.json.created_by, A2.user.id);
  assert.equal(colleague.headers.get('idempotent-replayed'), null);
  assert.equal((await listReports(srv, A.token)).length, before + 3);

  // A refused request does not use up its key.
  const k2 = uniq('key-');
  assertProblem(await fileReport(srv, A.token, minimal({ event_type: 'bogus' }), { key: k2, status: 422 }), 422, 'validation', ['event_type']);
  const ok = await fileReport(srv, A.token, body, { key: k2 });
  assert.equal(ok.headers.get('idempotent-replayed'), null);
  assert.equal(ok.json.title, body.title);

  // The key: 1 to 128 visible ASCII characters, else 400 naming the header; nothing created.
  const n = (await listReports(srv, A.token)).length;
  const unnamed = [];
  for (const bad of ['', 'k'.repeat(129), 'has space', 'tab\there', 'ключ']) {
    const r = await srv.api('POST', '/api/v1/reports', { token: A.token, body, headers: { 'idempotency-key': bad } }).catch((e) => ({ fetchError: e }));
    if (r.fetchError) continue; // fetch refuses to send some header values at all
    assertProblem(r, 400, 'bad-request');
    assertResponse('POST', '/api/v1/reports', r);
    if (!(r.json.errors || []).some((e) => e.field === 'Idempotency-Key')) unnamed.push(`key ${JSON.stringify(bad.slice(0, 20))}: ${r.text.slice(0, 200)}`);
  }
  assert.equal((await listReports(srv, A.token)).length, n);
  const long = await fileReport(srv, A.token, body, { key: '~'.repeat(128) });
  assert.equal(long.status, 201);
  const rv = await srv.api('POST', `/api/v1/reports/${long.json.id}/revisions`, { token: A.token, body: { stage: 'final' }, headers: { 'idempotency-key': 'k'.repeat(129) } });
  assertProblem(rv, 400, 'bad-request');
  if (!(rv.json.errors || []).some((e) => e.field === 'Idempotency-Key')) unnamed.push(`revision, key of 129: ${rv.text.slice(0, 200)}`);
  assert.equal((await getReport(srv, A.token, long.json.id)).json.revision, 1);
  assert.deepEqual(unnamed, [], `a bad Idempotency-Key → 400 whose errors[] names the header:\n${unnamed.join('\n')}`);
});

test('Idempotency-Key: 10 parallel requests with one key create exactly one report', async () => {
  const before = (await listReports(srv, A.token)).length;
  const key = uniq('race-');
  const title = uniq('Race ');
  const rs = await Promise.all(Array.from({ length: 10 }, () => srv.api('POST', '/api/v1/reports', {
    token: A.token, body: minimal({ title }), headers: { 'idempotency-key': key },
  })));
  assert.deepEqual(rs.map((r) => r.status), Array(10).fill(201), rs.map((r) => r.text.slice(0, 200)).join('\n'));
  const ids = new Set(rs.map((r) => r.json.id));
  assert.equal(ids.size, 1, `one report id for all: ${[...ids]}`);
  assert.equal(rs.filter((r) => r.headers.get('idempotent-replayed') === 'true').length, 9, 'all but the first are replays');
  const after = await listReports(srv, A.token);
  assert.equal(after.length, before + 1);
  assert.equal(after.filter((x) => x.title === title).length, 1);
  // Ten different keys in parallel: ten reports.
  const title2 = uniq('Race2 ');
  const rs2 = await Promise.all(Array.from({ length: 10 }, (_, i) => srv.api('POST', '/api/v1/reports', {
    token: A.token, body: minimal({ title: title2 }), headers: { 'idempotency-key': `${key}-${i}` },
  })));
  assert.deepEqual(rs2.map((r) => r.status), Array(10).fill(201));
  assert.equal(new Set(rs2.map((r) => r.json.id)).size, 10);
  assert.equal((await listReports(srv, A.token, `q=${encodeURIComponent(title2)}`)).length, 10);
});

test('Idempotency-Key on revisions: a retried revision is appended once', async () => {
  const rep = (await fileReport(srv, A.token, minimal())).json;
  const key = uniq('rev-');
  const body = { stage: 'update', changes: { followup: '調査中' } };
  const r1 = await revise(srv, A.token, rep.id, body, { key });
  assert.equal(r1.json.revision, 2);
  assert.equal(r1.headers.get('idempotent-replayed'), null);
  const r2 = await revise(srv, A.token, rep.id, body, { key });
  assert.equal(r2.headers.get('idempotent-replayed'), 'true');
  assertResponse('POST', '/api/v1/reports/{id}/revisions', r2);
  assert.equal(r2.json.revision, 2, 'the retry appended nothing');
});

test('Idempotency-Key on revisions: 10 parallel retries of one revision all answer 201 and append it once', async () => {
  // Five rounds, so a race between the retries is all but certain to happen at least once.
  const bad = [];
  for (let round = 0; round < 5; round++) {
    const rep = (await fileReport(srv, A.token, minimal())).json;
    const key = uniq('rev-par-');
    const rs = await Promise.all(Array.from({ length: 10 }, () => srv.api('POST', `/api/v1/reports/${rep.id}/revisions`, {
      token: A.token, body: { stage: 'update', changes: { followup: '対応完了' } }, headers: { 'idempotency-key': key },
    })));
    const g = (await getReport(srv, A.token, rep.id)).json;
    assert.equal(g.revision, 2, 'ten parallel retries appended one revision');
    assert.equal(g.followup, '対応完了');
    for (const r of rs) if (r.status !== 201) bad.push(`round ${round}: ${r.status} ${r.text.slice(0, 160)}`);
    if (rs.every((r) => r.status === 201)) assert.equal(rs.filter((r) => r.headers.get('idempotent-replayed') === 'true').length, 9);
  }
  assert.deepEqual(bad, [], `a retry with the key of a revision in flight is answered as a replay (201), not as a conflict:\n${bad.join('\n')}`);
});

test('concurrent revisions: the losers get 409, the history has no gap and no duplicate', async () => {
  const rep = (await fileReport(srv, A.token, minimal())).json;
  const rs = await Promise.all(Array.from({ length: 8 }, (_, i) => srv.api('POST', `/api/v1/reports/${rep.id}/revisions`, {
    token: i % 2 ? A.token : A2.token, body: { stage: 'update', changes: { title: `parallel ${i}` } },
  })));
  const ok = rs.filter((r) => r.status === 201);
  for (const r of rs) {
    assert.ok([201, 409].includes(r.status), `${r.status} ${r.text.slice(0, 200)}`);
    if (r.status === 409) {
      assertProblem(r, 409, 'conflict');
      assertResponse('POST', '/api/v1/reports/{id}/revisions', r);
    }
  }
  assert.ok(ok.length >= 1);
  const g = (await getReport(srv, A.token, rep.id)).json;
  assert.equal(g.revision, 1 + ok.length);
  assert.deepEqual(g.revisions.map((x) => x.n), Array.from({ length: g.revision }, (_, i) => i + 1));
  assert.equal(g.title, g.revisions.at(-1).changes.find((c) => c.field === 'title').after);
});

test('visibility per organisation kind: reporter, coordinator, sector hub, ministry, unrelated operator, auditor', async () => {
  const tag = uniq('Vis');
  const mk = (fields) => fileReport(srv, A.token, minimal({ regime: 'jp_electricity', detected_at: '2026-05-12T18:30:00+09:00', ...fields, title: `${tag} ${fields.title}` }))
    .then((r) => r.json);
  const R = {
    lawShared: await mk({ title: 'law shared', share_with_hub: true, basis: 'law', contact: { name: 'SOC', email: 'soc@a.example.jp' } }),
    serious: await mk({ title: 'serious', share_with_hub: false, basis: 'serious' }),
    draft: await mk({ title: 'draft', share_with_hub: true, basis: 'law', draft: true }),
    lawGas: await mk({ title: 'law gas', basis: 'law', sectors: ['gas'] }),
    sharedNoBasis: await mk({ title: 'shared voluntary', share_with_hub: true, basis: 'voluntary', sectors: ['gas'] }),
  };
  const all = Object.keys(R);
  const expect = {
    reporter: [A.token, all],
    colleague: [A2.token, all],
    coordinator: [coord.token, all.filter((k) => k !== 'draft')],
    admin: [srv.adminToken, all.filter((k) => k !== 'draft')],
    // Issue 4: sector hubs and ministries no longer see originals, whatever share_with_hub and
    // the basis say; they receive releases (releases.test.mjs, access-matrix.test.mjs).
    'hub (electricity)': [hub.token, []],
    'hub (gas)': [hubGas.token, []],
    'ministry (electricity)': [ministry.token, []],
    'ministry (gas)': [ministryGas.token, []],
    'operator B (same sector)': [B.token, []],
    'auditor of the coordinator': [auditorCoord.token, []],
    'auditor of the reporting org': [auditorA.token, []],
  };
  const failures = [];
  for (const [who, [tok, visible]] of Object.entries(expect)) {
    const listed = new Set((await listReports(srv, tok, `q=${encodeURIComponent(tag)}`)).map((x) => x.id));
    const due = await srv.api('GET', '/api/v1/reports/due?within_hours=8784', { token: tok });
    assert.equal(due.status, 200, due.text);
    assertResponse('GET', '/api/v1/reports/due', due);
    const dueIds = new Set(due.json.items.map((x) => x.id));
    for (const k of all) {
      const want = visible.includes(k);
      const g = await getReport(srv, tok, R[k].id);
      if (want && g.status !== 200) failures.push(`${who}: GET ${k} → ${g.status}, want 200`);
      if (!want && g.status !== 404) failures.push(`${who}: GET ${k} → ${g.status}, want 404`);
      if (!want && g.status === 404) assertProblem(g, 404, 'not-found');
      if (listed.has(R[k].id) !== want) failures.push(`${who}: list ${want ? 'lacks' : 'shows'} ${k}`);
      if (dueIds.has(R[k].id) !== want) failures.push(`${who}: due list ${want ? 'lacks' : 'shows'} ${k}`);
    }
  }
  assert.deepEqual(failures, [], failures.join('\n'));

  // Neither share_with_hub nor the basis opens the original to the hub or the ministry, before
  // or after a revision; the reporter and the coordinator keep it.
  await revise(srv, A.token, R.lawShared.id, { stage: 'update', changes: { share_with_hub: false } });
  await revise(srv, A.token, R.serious.id, { stage: 'update', changes: { share_with_hub: true, basis: 'law' } });
  for (const k of ['lawShared', 'serious']) {
    for (const tok of [hub.token, ministry.token]) assertProblem(await getReport(srv, tok, R[k].id), 404, 'not-found');
    for (const tok of [A.token, coord.token]) assert.equal((await getReport(srv, tok, R[k].id)).status, 200);
  }

  // The auditor-only user and the admin alone cannot file.
  const n = (await listReports(srv, A.token)).length;
  for (const tok of [auditorA.token, auditorCoord.token, srv.adminToken]) {
    const r = await srv.api('POST', '/api/v1/reports', { token: tok, body: minimal() });
    assertProblem(r, 403, 'forbidden');
    assertResponse('POST', '/api/v1/reports', r);
  }
  assert.equal((await listReports(srv, A.token)).length, n);
});

test('only the reporting organisation revises: 403 for those who see the report, 404 for the others', async () => {
  const rep = (await fileReport(srv, A.token, minimal({ share_with_hub: true, basis: 'law' }))).json;
  const body = { stage: 'update', changes: { title: 'taken over' } };
  for (const [who, tok, status] of [['coordinator', coord.token, 403], ['admin', srv.adminToken, 403], ['hub', hub.token, 404],
    ['ministry', ministry.token, 404], ['operator B', B.token, 404], ['auditor of the org', auditorA.token, 404]]) {
    const r = await srv.api('POST', `/api/v1/reports/${rep.id}/revisions`, { token: tok, body });
    try {
      assertProblem(r, status, status === 403 ? 'forbidden' : 'not-found');
      assertResponse('POST', '/api/v1/reports/{id}/revisions', r);
    } catch (e) { throw new Error(`${who}: ${e.message}`); }
  }
  const g = (await getReport(srv, A.token, rep.id)).json;
  assert.equal(g.revision, 1);
  assert.equal(g.title, rep.title);
  // The org_admin of the reporting org may revise.
  const oa = await userOf(srv, A.org, { roles: ['org_admin'] });
  assert.equal((await revise(srv, oa.token, rep.id, body)).json.revision, 2);
});

test('the contact is shown to the reporting org and the coordinator only, in the revisions too', async () => {
  const contact = { name: '電力 花子', email: 'hanako@a.example.jp', phone: '03-1234-5678' };
  const rep = (await fileReport(srv, A.token, minimal({ share_with_hub: true, basis: 'law', contact }))).json;
  await revise(srv, A.token, rep.id, { stage: 'update', changes: { contact: { ...contact, phone: '03-9999-0000' }, followup: 'x' } });
  for (const [who, tok] of [['reporter', A.token], ['colleague', A2.token], ['coordinator', coord.token], ['admin', srv.adminToken]]) {
    const g = await getReport(srv, tok, rep.id);
    assert.equal(g.status, 200, who);
    assert.equal(g.json.contact.phone, '03-9999-0000', `${who} sees the contact`);
    assert.ok(g.json.revisions[1].changes.some((c) => c.field === 'contact'), `${who} sees the contact change`);
  }
  // Issue 4: the hub and the ministry no longer read the original at all (they used to get it
  // without the contact); the contact appears nowhere in what they get.
  for (const [who, tok] of [['hub', hub.token], ['ministry', ministry.token], ['operator B', B.token]]) {
    const g = await getReport(srv, tok, rep.id);
    assertProblem(g, 404, 'not-found');
    assertResponse('GET', '/api/v1/reports/{id}', g);
    const listed = await listReports(srv, tok);
    assert.ok(!listed.some((x) => x.id === rep.id), `${who}: not listed`);
    for (const text of [g.text, JSON.stringify(listed)]) {
      assert.ok(!text.includes('hanako@a.example.jp') && !text.includes('03-9999-0000') && !text.includes('電力 花子'),
        `${who}: the contact appears nowhere in the body`);
    }
  }
  // Lists never carry the contact (nor the description and observables).
  const listed = (await listReports(srv, A.token)).find((x) => x.id === rep.id);
  for (const k of ['contact', 'description', 'observables', 'revisions']) assert.ok(!(k in listed), `summary without ${k}`);
});

test('list: newest first, filters, pagination without repeats; bad filters → 400 naming the parameter', async () => {
  const { org, token } = await orgWithUser(srv, { sectors: ['railway', 'water'] });
  const tag = uniq('List');
  const made = [];
  const specs = [
    { event_type: 'malware', sectors: ['railway'], severity: { continuity: 1 }, status: 'open' },
    { event_type: 'availability', sectors: ['railway', 'water'], severity: { trust: 3 }, status: 'monitoring' },
    { event_type: 'near_miss', sectors: ['water'], status: 'closed' },
    { event_type: 'malware', sectors: ['water'], severity: { safety: 4 }, draft: true },
    { event_type: 'intrusion', sectors: ['railway'], severity: { continuity: 2 } },
  ];
  for (const [i, s] of specs.entries()) made.push((await fileReport(srv, token, { title: `${tag} ${i} Ticketing`, ...s })).json);
  const ids = (items) => items.map((x) => x.id);
  const mine = await listReports(srv, token, `org_id=${org.id}`);
  assert.deepEqual(ids(mine), ids(made).reverse(), 'newest first');
  const page = await srv.api('GET', `/api/v1/reports?org_id=${org.id}&limit=2`, { token });
  assertResponse('GET', '/api/v1/reports', page);
  assert.equal(page.json.items.length, 2);
  assert.equal(typeof page.json.next_cursor, 'string');
  const paged = await srv.listAll(`/api/v1/reports?org_id=${org.id}`, { token }, 2);
  assert.deepEqual(ids(paged), ids(mine), 'limit=2 pages: each exactly once, same order');
  for (const x of mine) assertSchema('ReportSummary', x);

  const q = async (qs) => ids(await listReports(srv, token, `org_id=${org.id}&${qs}`)).sort();
  const pick = (...is) => is.map((i) => made[i].id).sort();
  assert.deepEqual(await q('event_type=malware'), pick(0, 3));
  assert.deepEqual(await q('kind=near_miss'), pick(2));
  assert.deepEqual(await q('kind=incident'), pick(0, 1, 3, 4));
  assert.deepEqual(await q('sector=water'), pick(1, 2, 3));
  assert.deepEqual(await q('status=monitoring'), pick(1));
  assert.deepEqual(await q('stage=draft'), pick(3));
  assert.deepEqual(await q('stage=first'), pick(0, 1, 2, 4));
  assert.deepEqual(await q('min_severity=2'), pick(1, 3, 4));
  assert.deepEqual(await q('min_severity=4'), pick(3));
  assert.deepEqual(await q('min_severity=0'), pick(0, 1, 3, 4));
  assert.deepEqual(await q(`q=${encodeURIComponent(`${tag} 1 ticketing`.toUpperCase())}`), pick(1));
  assert.deepEqual(await q('since=2000-01-01T00:00:00%2B09:00'), pick(0, 1, 2, 3, 4));
  assert.deepEqual(await q(`since=${encodeURIComponent(new Date(Date.now() + 3600e3).toISOString())}`), []);
  assert.deepEqual(await q('until=2000-01-01T00:00:00Z'), []);
  assert.deepEqual(await q('event_type=malware&sector=railway'), pick(0));

  const failures = [];
  for (const [qs, field] of [['kind=accident', 'kind'], ['event_type=ransomware', 'event_type'], ['sector=atlantis', 'sector'],
    ['status=done', 'status'], ['stage=reopen', 'stage'], ['org_id=acme', 'org_id'], ['min_severity=5', 'min_severity'],
    ['min_severity=-1', 'min_severity'], ['min_severity=high', 'min_severity'], ['since=2026-01-01', 'since'],
    ['since=2026-01-01T00:00:00', 'since'], ['until=yesterday', 'until'], ['limit=0', 'limit'], ['cursor=nope!', 'cursor'],
    [`q=${'q'.repeat(201)}`, 'q']]) {
    const r = await srv.api('GET', `/api/v1/reports?${qs}`, { token });
    try {
      assertProblem(r, 400, 'bad-request', [field]);
      assertResponse('GET', '/api/v1/reports', r);
    } catch (e) { failures.push(`GET /api/v1/reports?${qs}: ${e.message.split('\n')[0].slice(0, 200)}`); }
    const d = await srv.api('GET', `/api/v1/reports/due?${qs}`, { token });
    if (!['limit', 'cursor'].includes(field)) {
      try { assertProblem(d, 400, 'bad-request', [field]); } catch (e) { failures.push(`GET /api/v1/reports/due?${qs}: ${e.message.split('\n')[0].slice(0, 200)}`); }
    }
  }
  assert.deepEqual(failures, [], failures.join('\n'));
  assertProblem(await getReport(srv, token, 'not-a-uuid'), 404, 'not-found');
  assertProblem(await getReport(srv, token, '01936a8e-4f5e-7c2a-9b1d-2f3e4a5b6c7d'), 404, 'not-found');
});

test('with a session cookie, report writes need the CSRF token (403 csrf without it, nothing stored)', async () => {
  const s = await srv.mustLogin(A.user.login, A.user.password);
  const before = (await listReports(srv, A.token)).length;
  const body = minimal({ title: uniq('Cookie ') });
  const no = await srv.api('POST', '/api/v1/reports', { session: s, csrf: false, body });
  assertProblem(no, 403, 'csrf');
  assertResponse('POST', '/api/v1/reports', no);
  assertProblem(await srv.api('POST', '/api/v1/reports', { session: s, csrfValue: 'wrong', body }), 403, 'csrf');
  assert.equal((await listReports(srv, A.token)).length, before);
  const ok = await srv.api('POST', '/api/v1/reports', { session: s, body });
  assert.equal(ok.status, 201, ok.text);
  const rv = await srv.api('POST', `/api/v1/reports/${ok.json.id}/revisions`, { session: s, csrf: false, body: { stage: 'final' } });
  assertProblem(rv, 403, 'csrf');
  assert.equal((await srv.api('POST', `/api/v1/reports/${ok.json.id}/revisions`, { session: s, body: { stage: 'final' } })).status, 201);
  assert.equal((await srv.api('GET', `/api/v1/reports/${ok.json.id}`, { session: s })).json.stage, 'final');
});
