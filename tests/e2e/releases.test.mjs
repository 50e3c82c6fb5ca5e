// Releases (issue 4): a coordinator analyst makes an anonymized draft of a report, edits its
// redactions (byte offsets into the original text, Japanese included), may only narrow its
// audience and tighten its marking, submits it; the provider approves or refuses (with a
// reason); the analyst publishes and may withdraw; a newer version supersedes the older one; a
// pre-approved report skips approval; consent requests widen the audience with the provider's
// consent. Every step is in the audit log. Originals stay with the provider and the coordinator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertProblem, uniq, UUID_RE } from './lib/server.mjs';
import { assertResponse, assertSchema } from './lib/openapi.mjs';
import { orgWithUser, userOf, minimal, fileReport, revise, getReport } from './lib/reports.mjs';
import {
  RECIPIENT_KEYS, tsec, byteRange, bytesAt, normAudience, call, createRelease, releaseAction, releaseTo,
} from './lib/releases.mjs';

const ORG_JA = '東都電力株式会社';
const ORG_EN = 'Toto Electric Power Co.';

let srv;
let ca; // coordinator analyst
let cm; // coordinator member (not an analyst)
let cAud; // coordinator auditor-only
let P; // the provider (operator, electricity, class1): a member
let Padm; // the provider's org_admin
let Paud; // the provider's auditor-only user
let O; // operator, electricity, class2: named in audiences
let G; // operator, gas, general
let H; // sector hub of electricity
let Hgas; // sector hub of gas
let M; // ministry of electricity
let V; // vendor

before(async () => {
  srv = await startServer();
  const coord = { id: srv.coordOrgId };
  [ca, cm, cAud] = await Promise.all([
    userOf(srv, coord, { roles: ['analyst'] }), userOf(srv, coord, { roles: ['member'] }), userOf(srv, coord, { roles: ['auditor'] }),
  ]);
  P = await orgWithUser(srv, { name: { ja: ORG_JA, en: ORG_EN }, sectors: ['electricity'], tier: 'class1' });
  [Padm, Paud, O, G, H, Hgas, M, V] = await Promise.all([
    userOf(srv, P.org, { roles: ['org_admin'] }),
    userOf(srv, P.org, { roles: ['auditor'] }),
    orgWithUser(srv, { sectors: ['electricity'], tier: 'class2' }),
    orgWithUser(srv, { sectors: ['gas'], tier: 'general' }),
    orgWithUser(srv, { kind: 'sector_hub', sectors: ['electricity'], tier: 'general' }),
    orgWithUser(srv, { kind: 'sector_hub', sectors: ['gas'], tier: 'general' }),
    orgWithUser(srv, { kind: 'ministry', sectors: ['electricity'], tier: 'general' }),
    orgWithUser(srv, { kind: 'vendor', sectors: [], tier: 'general' }),
  ]);
});
after(async () => { await srv?.cleanup(); });

/** A report naming the provider all over, with an e-mail, an attacker IP and a victim domain. */
function namedReport(fields = {}) {
  return minimal({
    title: `${ORG_JA} 第二変電所の保守端末でランサムウェアを検知`,
    description: `${ORG_EN} の第二変電所で、保守用端末からランサムウェアを検知した。連絡先 soc@toto-denryoku.co.jp。攻撃元 203.0.113.7 からの通信あり。`,
    service: `送配電 (${ORG_JA})`,
    followup: `${ORG_EN} will report again after the forensic analysis.`,
    causes: [{ code: 'intentional', detail: `VPN 装置の脆弱性 (${ORG_JA} 管理)` }],
    observables: [
      { type: 'ipv4', value: '203.0.113.7', role: 'attacker' },
      { type: 'domain', value: 'toto-denryoku.co.jp', role: 'victim' },
    ],
    audience: { orgs: [O.org.id], sectors: [], tiers: [], all_members: false },
    tlp: 'AMBER',
    purpose: 'for defence only',
    ...fields,
  });
}

const TEXT_FIELDS = ['title', 'description', 'service', 'followup'];
const path = (id) => `/api/v1/releases/${id}`;
const getRelease = (tok, id) => srv.api('GET', path(id), { token: tok });
const patch = (tok, id, body) => srv.api('PATCH', path(id), { token: tok, body });
/** Ids in the caller's inbox (all pages). */
const inboxIds = async (tok, q = '') => new Set((await srv.listAll(`/api/v1/releases${q ? `?${q}` : ''}`, { token: tok })).map((x) => x.id));
/** The field text of a report (the original) by redaction field name. */
function fieldText(report, field) {
  const m = /^causes\[(\d+)\]\.detail$/.exec(field);
  if (m) return report.causes[Number(m[1])].detail;
  const o = /^observables\[(\d+)\]\.value$/.exec(field);
  if (o) return report.observables[Number(o[1])].value;
  return report[field];
}
/** All text of a release's content, for "appears nowhere" checks. */
const contentText = (rel) => JSON.stringify(rel.content);

/** Asserts a 422 naming a field that matches re (exact names are asserted where the contract fixes them). */
function assert422Like(res, re, what) {
  assertProblem(res, 422, 'validation');
  assert.ok(res.json.errors.some((e) => re.test(e.field)), `${what}: errors[] ${JSON.stringify(res.json.errors)} do not name ${re}`);
}

test('a coordinator analyst makes a draft from a report: the anonymizer\'s proposal, the report\'s audience and marking', async () => {
  const rep = (await fileReport(srv, P.token, namedReport())).json;
  // Only a coordinator analyst: everyone else gets 403 whatever the id (a report that does not
  // exist too, so the 403 reveals nothing); the analyst gets 404 for an unknown report.
  const none = '01936a8e-4f5e-7c2a-9b1d-2f3e4a5b6c7d';
  for (const [who, tok] of [['coordinator member', cm.token], ['provider', P.token], ['named org', O.token],
    ['hub', H.token], ['coordinator auditor', cAud.token]]) {
    for (const id of [rep.id, none]) {
      const r = await srv.api('POST', `/api/v1/reports/${id}/releases`, { token: tok, body: {} });
      try {
        assertProblem(r, 403, 'forbidden');
        assertResponse('POST', '/api/v1/reports/{id}/releases', r);
      } catch (e) { throw new Error(`${who}: ${e.message}`); }
    }
  }
  assertProblem(await srv.api('POST', `/api/v1/reports/${none}/releases`, { token: ca.token, body: {} }), 404, 'not-found');
  const r = await call(srv, ca.token, 'POST', `/api/v1/reports/${rep.id}/releases`, {}, 201);
  assertResponse('POST', '/api/v1/reports/{id}/releases', r);
  const rel = r.json;
  assert.match(rel.id, UUID_RE);
  assert.equal(rel.report_id, rep.id);
  assert.equal(rel.org_id, P.org.id);
  assert.equal(rel.version, 1);
  assert.equal(rel.state, 'draft');
  assert.equal(rel.report_revision, 1);
  assert.equal(rel.created_by, ca.user.id);
  assert.ok(Math.abs(tsec(rel.created_at) - Date.now() / 1000) < 120, `created_at is now: ${rel.created_at}`);
  for (const k of ['submitted_at', 'submitted_by', 'decided_at', 'decided_by', 'decision_note', 'published_at', 'published_by']) {
    assert.equal(rel[k], null, `${k} is null in a new draft`);
  }
  // Audience, marking, purpose and handling come from the report (hub from share_with_hub).
  assert.deepEqual(normAudience(rel.audience), normAudience({ hub: false, orgs: [O.org.id] }));
  assert.equal(rel.tlp, 'AMBER');
  assert.equal(rel.purpose, 'for defence only');
  assert.equal(rel.handling, null);

  // The proposal: the provider's names are gone from every text field, a pseudonym stands in.
  const all = contentText(rel);
  assert.ok(!all.includes(ORG_JA), `${ORG_JA} appears in the content: ${all}`);
  assert.ok(!all.toLowerCase().includes(ORG_EN.toLowerCase()), `${ORG_EN} appears in the content: ${all}`);
  assert.ok(rel.content.title.includes('[org]'), `the title names the provider by the placeholder: ${rel.content.title}`);
  assert.ok(rel.content.title.includes('第二変電所の保守端末でランサムウェアを検知'), 'the rest of the title stays');
  assert.match(rel.content.provider.ja, /事業者/);
  assert.match(rel.content.provider.en, /^an operator in /);
  // The e-mail goes, the attacker's address (a shared indicator) stays; no contact; the victim
  // observable is removed, the attacker's kept.
  assert.ok(!rel.content.description.includes('soc@toto-denryoku.co.jp'), rel.content.description);
  assert.ok(rel.content.description.includes('203.0.113.7'), 'the attacker address is kept');
  assert.ok(!('contact' in rel.content));
  assert.deepEqual(rel.content.observables, [{ type: 'ipv4', value: '203.0.113.7', role: 'attacker' }]);
  for (const k of ['audience', 'tlp', 'basis', 'regime', 'share_with_hub', 'purpose', 'handling']) {
    assert.ok(!(k in rel.content), `content carries no ${k}`);
  }
  // Redactions: byte offsets into the original field text; the org name in the title is bytes 0..24.
  const orig = (await getReport(srv, ca.token, rep.id)).json;
  assert.ok(rel.redactions.length >= 5, JSON.stringify(rel.redactions));
  for (const x of rel.redactions) {
    if (x.field.startsWith('observables[')) continue;
    assert.equal(bytesAt(fieldText(orig, x.field), x.start, x.end), x.original, `redaction ${JSON.stringify(x)} matches its offsets`);
    assert.ok(rel.content[x.field] === undefined || x.placeholder === null || contentText(rel).includes(x.placeholder),
      `placeholder ${x.placeholder} in the content`);
  }
  const name = rel.redactions.find((x) => x.field === 'title' && x.original === ORG_JA);
  assert.ok(name, `the org name in the title is a redaction: ${JSON.stringify(rel.redactions)}`);
  assert.deepEqual([name.start, name.end, name.rule, name.placeholder], [0, Buffer.byteLength(ORG_JA), 'org:name', '[org]']);
  assert.ok(rel.redactions.some((x) => x.field === 'causes[0].detail' && x.original === ORG_JA));

  // Only the coordinator sees a draft; a second open version → 409.
  assertSchema('Release', (await call(srv, ca.token, 'GET', path(rel.id), undefined, 200)).json);
  for (const [who, tok] of [['provider', P.token], ['named org', O.token], ['coordinator auditor', cAud.token]]) {
    const g = await getRelease(tok, rel.id);
    assertProblem(g, 404, 'not-found');
    assertResponse('GET', '/api/v1/releases/{id}', g);
    assert.ok(!g.text.includes(rel.content.title), `${who}: nothing of the draft`);
  }
  const versions = await call(srv, P.token, 'GET', `/api/v1/reports/${rep.id}/releases`, undefined, 200);
  assertResponse('GET', '/api/v1/reports/{id}/releases', versions);
  assert.deepEqual(versions.json.items, [], 'the provider does not see drafts in the versions either');
  const again = await srv.api('POST', `/api/v1/reports/${rep.id}/releases`, { token: ca.token, body: {} });
  assertProblem(again, 409, 'conflict');
  assertResponse('POST', '/api/v1/reports/{id}/releases', again);
  // An administrator of the coordinator may do what its analysts do.
  const rep2 = (await fileReport(srv, P.token, minimal())).json;
  assert.equal((await createRelease(srv, srv.adminToken, rep2.id)).state, 'draft');
  // A report still in draft is not the coordinator's to release (the contract says 422; a draft
  // is also invisible to the coordinator, so 404 is as good): either way nothing is made.
  const draftRep = (await fileReport(srv, P.token, minimal({ draft: true }))).json;
  const d = await srv.api('POST', `/api/v1/reports/${draftRep.id}/releases`, { token: ca.token, body: {} });
  assert.ok([404, 422].includes(d.status), `release of a draft report: ${d.status} ${d.text}`);
  assertResponse('POST', '/api/v1/reports/{id}/releases', d);
});

test('PATCH redactions: leave one out to undo it, add one by byte offsets (Japanese too); bad offsets → 422 naming the entry', async () => {
  const rep = (await fileReport(srv, P.token, namedReport())).json;
  const orig = (await getReport(srv, ca.token, rep.id)).json;
  let rel = await createRelease(srv, ca.token, rep.id);
  const email = rel.redactions.find((x) => x.field === 'description' && x.original === 'soc@toto-denryoku.co.jp');
  assert.ok(email, `the e-mail is a proposed redaction: ${JSON.stringify(rel.redactions)}`);

  // Undo: the e-mail is back in the text.
  const rest = rel.redactions.filter((x) => x !== email);
  let r = await patch(ca.token, rel.id, { redactions: rest });
  assert.equal(r.status, 200, r.text);
  assertResponse('PATCH', '/api/v1/releases/{id}', r);
  rel = r.json;
  assert.ok(rel.content.description.includes('soc@toto-denryoku.co.jp'), rel.content.description);
  assert.equal(rel.redactions.length, rest.length);
  assert.equal(rel.state, 'draft');

  // Add: a Japanese place name in the description and in the title, a phrase in a cause.
  const place = byteRange(orig.description, '第二変電所');
  const titleWord = byteRange(orig.title, 'ランサムウェア');
  const cause = byteRange(orig.causes[0].detail, 'VPN 装置');
  const added = [
    { field: 'description', ...place, kind: 'place' },
    { field: 'title', ...titleWord },
    { field: 'causes[0].detail', ...cause, kind: 'device' },
  ];
  r = await patch(ca.token, rel.id, { redactions: [...rel.redactions, ...added] });
  assert.equal(r.status, 200, r.text);
  rel = r.json;
  assert.ok(!rel.content.description.includes('第二変電所'), rel.content.description);
  assert.ok(!rel.content.title.includes('ランサムウェア'), rel.content.title);
  assert.ok(rel.content.title.includes('第二変電所'), 'only the redacted part of the title went');
  assert.ok(!rel.content.causes[0].detail.includes('VPN 装置'), rel.content.causes[0].detail);
  const p = rel.redactions.find((x) => x.field === 'description' && x.start === place.start);
  assert.ok(p, JSON.stringify(rel.redactions));
  assert.equal(p.end, place.end);
  assert.equal(p.original, '第二変電所');
  assert.equal(p.kind, 'place');
  assert.match(p.placeholder, /^\[place-[0-9a-f]{6}\]$/);
  assert.ok(rel.content.description.includes(p.placeholder));
  assert.equal(rel.redactions.find((x) => x.field === 'causes[0].detail' && x.start === cause.start)?.original, 'VPN 装置');
  // The provider's names stay redacted through the edits.
  assert.ok(!contentText(rel).includes(ORG_JA));

  // Bad entries: 422 naming redactions[N].<member>; nothing changes.
  const N = rel.redactions.length;
  const descLen = Buffer.byteLength(orig.description);
  const bad = [
    ['start inside a character', { field: 'description', start: place.start + 1, end: place.end }, new RegExp(`^redactions\\[${N}\\]\\.start$`)],
    ['end inside a character', { field: 'description', start: place.start, end: place.start + 4 }, new RegExp(`^redactions\\[${N}\\]\\.end$`)],
    ['end past the field', { field: 'description', start: 0, end: descLen + 10 }, new RegExp(`^redactions\\[${N}\\]\\.end$`)],
    ['end before start', { field: 'description', start: 12, end: 3 }, new RegExp(`^redactions\\[${N}\\]\\.(start|end)$`)],
    ['negative start', { field: 'description', start: -1, end: 3 }, new RegExp(`^redactions\\[${N}\\]\\.start$`)],
    ['start not an integer', { field: 'description', start: '0', end: 3 }, new RegExp(`^redactions\\[${N}\\]\\.start$`)],
    ['unknown field', { field: 'contact.email', start: 0, end: 3 }, new RegExp(`^redactions\\[${N}\\]\\.field$`)],
    ['no field', { start: 0, end: 3 }, new RegExp(`^redactions\\[${N}\\]\\.field$`)],
    ['overlapping another', { field: 'description', start: place.start, end: place.end }, /^redactions\[\d+\](\.(start|end))?$/],
    ['original not the text at the offsets', { field: 'title', start: 0, end: 3, original: 'xyz' }, new RegExp(`^redactions\\[${N}\\]\\.`)],
  ];
  for (const [what, entry, re] of bad) {
    const b = await patch(ca.token, rel.id, { redactions: [...rel.redactions, entry] });
    try {
      assert422Like(b, re, what);
      assertResponse('PATCH', '/api/v1/releases/{id}', b);
    } catch (e) { throw new Error(`${what}: ${e.message} (errors ${JSON.stringify(b.json?.errors)})`); }
  }
  assert422Like(await patch(ca.token, rel.id, { redactions: 'all' }), /^redactions$/, 'not a list');
  assert422Like(await patch(ca.token, rel.id, { colour: 'red' }), /^colour$/, 'unknown member');
  const now = (await call(srv, ca.token, 'GET', path(rel.id), undefined, 200)).json;
  assert.deepEqual(now.redactions, rel.redactions, 'a refused PATCH changed nothing');
  assert.deepEqual(now.content, rel.content);
  // Only a coordinator analyst edits.
  assertProblem(await patch(cm.token, rel.id, { redactions: [] }), 403, 'forbidden');
  assertProblem(await patch(P.token, rel.id, { redactions: [] }), 403, 'forbidden');
});

test('the audience may only narrow (relative to the report\'s) and the marking only get stricter; RED only to named organisations', async () => {
  const audience = { orgs: [O.org.id], sectors: ['gas'], tiers: ['class2'], all_members: false };
  const rep = (await fileReport(srv, P.token, minimal({ audience, tlp: 'GREEN' }))).json;
  const rel = await createRelease(srv, ca.token, rep.id);
  const full = { hub: false, ...audience };
  assert.deepEqual(normAudience(rel.audience), normAudience(full));
  const widen = [
    ['all members', { ...full, all_members: true }, /^audience\.all_members$/],
    ['another sector', { ...full, sectors: ['gas', 'water'] }, /^audience\.sectors(\[\d+\])?$/],
    ['another tier', { ...full, tiers: ['class2', 'class1'] }, /^audience\.tiers(\[\d+\])?$/],
    ['another org', { ...full, orgs: [O.org.id, G.org.id] }, /^audience\.orgs(\[\d+\])?$/],
    ['the hub', { ...full, hub: true }, /^audience\.hub$/],
  ];
  for (const [what, a, re] of widen) {
    const r = await patch(ca.token, rel.id, { audience: a });
    assert422Like(r, re, what);
    assertResponse('PATCH', '/api/v1/releases/{id}', r);
  }
  assert422Like(await patch(ca.token, rel.id, { audience: { ...full, everyone: true } }), /^audience\.everyone$/, 'unknown member');
  assert422Like(await patch(ca.token, rel.id, { tlp: 'CLEAR' }), /^tlp$/, 'a looser marking');
  assert422Like(await patch(ca.token, rel.id, { tlp: 'amber' }), /^tlp$/, 'not a TLP label');
  assert422Like(await patch(ca.token, rel.id, { tlp: 'RED' }), /^(tlp|audience.*)$/, 'RED to sectors and tiers');
  // Narrowing and tightening are fine; re-adding what the report allowed is narrowing too.
  let r = await patch(ca.token, rel.id, { audience: { orgs: [O.org.id], sectors: [], tiers: [], all_members: false, hub: false }, tlp: 'AMBER' });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(normAudience(r.json.audience), normAudience({ orgs: [O.org.id] }));
  assert.equal(r.json.tlp, 'AMBER');
  r = await patch(ca.token, rel.id, { audience: full });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(normAudience(r.json.audience), normAudience(full));
  r = await patch(ca.token, rel.id, { audience: { orgs: [O.org.id] }, tlp: 'RED', purpose: '対策の検討のみ', handling: 'do not forward' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.tlp, 'RED');
  assert.equal(r.json.purpose, '対策の検討のみ');
  assert.equal(r.json.handling, 'do not forward');
  assert422Like(await patch(ca.token, rel.id, { audience: { orgs: [O.org.id], sectors: ['gas'] } }), /^(tlp|audience.*)$/, 'sectors under RED');
  assertResponse('PATCH', '/api/v1/releases/{id}', r);
});

test('submit → pending → refused (a reason needed) → edited back to draft → approved by the provider only → published by a coordinator analyst only; wrong states → 409', async () => {
  const rep = (await fileReport(srv, P.token, namedReport({ title: uniq('Flow ') }))).json;
  const rel = await createRelease(srv, ca.token, rep.id);
  const id = rel.id;
  const tr = async (tok, verb, body, status, slug) => {
    const r = await releaseAction(srv, tok, id, verb, body);
    try {
      if (status === 200) assert.equal(r.status, 200, r.text);
      else assertProblem(r, status, slug);
      assertResponse('POST', `/api/v1/releases/{id}/${verb}`, r);
    } catch (e) { throw new Error(`${verb}: ${e.message}`); }
    return r;
  };
  const conflict = async (tok, verb, body, state) => {
    const r = await tr(tok, verb, body, 409, 'conflict');
    assert.match(r.json.detail || '', new RegExp(state), `409 of ${verb} names the state ${state}: ${r.json.detail}`);
  };
  // Draft: only a coordinator analyst submits (403 for everyone else, whatever they see);
  // publish/withdraw are the wrong state.
  for (const tok of [cm.token, P.token, O.token, cAud.token]) await tr(tok, 'submit', {}, 403, 'forbidden');
  await conflict(ca.token, 'publish', {}, 'draft');
  await conflict(ca.token, 'withdraw', { reason: 'x' }, 'draft');
  let r = await tr(ca.token, 'submit', {}, 200);
  assert.equal(r.json.state, 'pending');
  assert.equal(r.json.submitted_by, ca.user.id);
  assert.ok(tsec(r.json.submitted_at) > 0);
  // Pending: the provider sees it now (full view); recipients do not.
  const pv = await call(srv, P.token, 'GET', path(id), undefined, 200);
  assertSchema('Release', pv.json);
  assert.equal(pv.json.report_id, rep.id);
  assertProblem(await getRelease(O.token, id), 404, 'not-found');
  await conflict(ca.token, 'submit', {}, 'pending');
  await conflict(ca.token, 'publish', {}, 'pending');
  assertProblem(await patch(ca.token, id, { purpose: 'x' }), 409, 'conflict');
  // Refusal needs a reason; only the provider refuses or approves.
  for (const body of [{}, { reason: '' }, { reason: null }, { reason: 5 }, { reason: 'x'.repeat(1001) }]) {
    const x = await tr(P.token, 'refuse', body, 422, 'validation');
    assert.ok(x.json.errors.some((e) => e.field === 'reason'), JSON.stringify(x.json.errors));
  }
  for (const [who, tok, st] of [['coordinator analyst', ca.token, 403], ['admin', srv.adminToken, 403], ['coordinator member', cm.token, 403],
    ['another org', O.token, 404], ['the hub', H.token, 404], ['provider auditor', Paud.token, 404]]) {
    try {
      await tr(tok, 'approve', {}, st, st === 403 ? 'forbidden' : 'not-found');
      await tr(tok, 'refuse', { reason: 'no' }, st, st === 403 ? 'forbidden' : 'not-found');
    } catch (e) { throw new Error(`${who}: ${e.message}`); }
  }
  r = await tr(P.token, 'refuse', { reason: '第二変電所の名前は出さないでください' }, 200);
  assert.equal(r.json.state, 'refused');
  assert.equal(r.json.decided_by, P.user.id);
  assert.equal(r.json.decision_note, '第二変電所の名前は出さないでください');
  assert.ok(tsec(r.json.decided_at) > 0);
  await conflict(P.token, 'approve', {}, 'refused');
  await conflict(ca.token, 'submit', {}, 'refused');
  await conflict(ca.token, 'publish', {}, 'refused');
  // The analyst edits the refused release: a draft again, invisible to the provider.
  const orig = (await getReport(srv, ca.token, rep.id)).json;
  r = await patch(ca.token, id, { redactions: [...r.json.redactions, { field: 'description', ...byteRange(orig.description, '第二変電所') }] });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.state, 'draft');
  assertProblem(await getRelease(P.token, id), 404, 'not-found');
  assert.equal((await tr(ca.token, 'submit', {}, 200)).json.state, 'pending');
  // The provider's org_admin approves with a note.
  r = await tr(Padm.token, 'approve', { note: 'OK です' }, 200);
  assert.equal(r.json.state, 'approved');
  assert.equal(r.json.decided_by, Padm.user.id);
  assert.equal(r.json.decision_note, 'OK です');
  await conflict(P.token, 'approve', {}, 'approved');
  await conflict(P.token, 'refuse', { reason: 'late' }, 'approved');
  assertProblem(await patch(ca.token, id, { purpose: 'x' }), 409, 'conflict');
  assertProblem(await getRelease(O.token, id), 404, 'not-found');
  // Only a coordinator analyst publishes.
  for (const tok of [P.token, Padm.token, cm.token, O.token]) await tr(tok, 'publish', {}, 403, 'forbidden');
  r = await tr(ca.token, 'publish', {}, 200);
  assert.equal(r.json.state, 'published');
  assert.equal(r.json.published_by, ca.user.id);
  assert.ok(tsec(r.json.published_at) >= tsec(r.json.decided_at));
  const published = r.json;
  await conflict(ca.token, 'publish', {}, 'published');
  await conflict(ca.token, 'submit', {}, 'published');
  await conflict(P.token, 'approve', {}, 'published');
  // The named organisation receives the recipients' view: content and marking, nothing else.
  const g = await call(srv, O.token, 'GET', path(id), undefined, 200);
  assertResponse('GET', '/api/v1/releases/{id}', g);
  assertSchema('RecipientRelease', g.json);
  assert.deepEqual(Object.keys(g.json).sort(), RECIPIENT_KEYS);
  assert.deepEqual(g.json.content, published.content);
  for (const secret of [rep.id, P.org.id, ca.user.id, P.user.id, Padm.user.id, '第二変電所', ORG_JA]) {
    assert.ok(!g.text.includes(secret), `the recipient's view does not include ${secret}`);
  }
  assert.ok((await inboxIds(O.token)).has(id), 'in the named organisation\'s inbox');
  for (const [who, tok] of [['gas operator', G.token], ['hub', H.token], ['ministry', M.token], ['vendor', V.token], ['coordinator auditor', cAud.token]]) {
    assertProblem(await getRelease(tok, id), 404, 'not-found');
    assert.ok(!(await inboxIds(tok)).has(id), `${who}: not in the inbox`);
  }
  // A published release accepts an audience change only (narrowing: at once).
  const narrowed = await patch(ca.token, id, { audience: { orgs: [], sectors: [], tiers: [], all_members: false, hub: false } });
  assert.equal(narrowed.status, 200, narrowed.text);
  assertResponse('PATCH', '/api/v1/releases/{id}', narrowed);
  assert.equal(narrowed.json.state, 'published');
  assert.equal((await getRelease(O.token, id)).status, 404, 'narrowed away from the named organisation at once');
  assert.equal((await patch(ca.token, id, { audience: { orgs: [O.org.id] } })).status, 200);
  assert.equal((await getRelease(O.token, id)).status, 200, 'and back');
  assert.ok([409, 422].includes((await patch(ca.token, id, { purpose: 'changed after publication' })).status), 'a published release keeps its text');
  // Withdraw: gone from the recipients at once; the coordinator and the provider still see it.
  await tr(P.token, 'withdraw', { reason: 'x' }, 403, 'forbidden');
  r = await tr(ca.token, 'withdraw', { reason: '誤りがあったため' }, 200);
  assert.equal(r.json.state, 'withdrawn');
  assertProblem(await getRelease(O.token, id), 404, 'not-found');
  assert.ok(!(await inboxIds(O.token)).has(id));
  assert.equal((await call(srv, P.token, 'GET', path(id), undefined, 200)).json.state, 'withdrawn');
  await conflict(ca.token, 'withdraw', { reason: 'again' }, 'withdrawn');
  await conflict(ca.token, 'publish', {}, 'withdrawn');
  assertProblem(await patch(ca.token, id, { audience: { orgs: [O.org.id] } }), 409, 'conflict');
  // Unknown ids → 404.
  assertProblem(await releaseAction(srv, ca.token, '01936a8e-4f5e-7c2a-9b1d-2f3e4a5b6c7d', 'submit', {}), 404, 'not-found');
});

test('a blank reason is no reason: refusing, withdrawing, asking for and refusing consent', async () => {
  const blank = ' \n\t ';
  const rep = (await fileReport(srv, P.token, minimal({ title: uniq('Blank ') }))).json;
  const rel = await releaseTo(srv, { coord: ca.token, provider: P.token }, rep.id, 'pending');
  assert422Like(await releaseAction(srv, P.token, rel.id, 'refuse', { reason: blank }), /^reason$/, 'refuse');
  await releaseAction(srv, P.token, rel.id, 'approve', {}, 200);
  await releaseAction(srv, ca.token, rel.id, 'publish', {}, 200);
  assert422Like(await releaseAction(srv, ca.token, rel.id, 'withdraw', { reason: blank }), /^reason$/, 'withdraw');
  const url = `/api/v1/releases/${rel.id}/audience-requests`;
  assert422Like(await srv.api('POST', url, { token: ca.token, body: { audience: { all_members: true }, reason: blank } }), /^reason$/, 'consent request');
  const rq = (await call(srv, ca.token, 'POST', url, { audience: { all_members: true }, reason: 'why' }, 201)).json;
  assert422Like(await srv.api('POST', `/api/v1/audience-requests/${rq.id}/refuse`, { token: P.token, body: { reason: blank } }), /^reason$/, 'refuse consent');
  assert.equal((await call(srv, ca.token, 'GET', path(rel.id), undefined, 200)).json.state, 'published');
});

test('a newer version supersedes the published one: recipients see only the newest', async () => {
  const rep = (await fileReport(srv, P.token, minimal({ title: uniq('V1 '), audience: { orgs: [], sectors: ['electricity'], tiers: [], all_members: false }, tlp: 'GREEN' }))).json;
  const cp = { coord: ca.token, provider: P.token };
  const v1 = await releaseTo(srv, cp, rep.id);
  assert.equal(v1.state, 'published');
  for (const tok of [O.token, H.token, M.token]) assert.equal((await getRelease(tok, v1.id)).status, 200, 'electricity sees v1');
  assertProblem(await getRelease(G.token, v1.id), 404, 'not-found');
  const newTitle = uniq('V2 ');
  await revise(srv, P.token, rep.id, { stage: 'update', changes: { title: newTitle } });
  const v2 = await createRelease(srv, ca.token, rep.id);
  assert.equal(v2.version, 2);
  assert.equal(v2.report_revision, 2);
  assert.equal(v2.content.title, newTitle);
  assertProblem(await srv.api('POST', `/api/v1/reports/${rep.id}/releases`, { token: ca.token, body: {} }), 409, 'conflict');
  assert.equal((await getRelease(O.token, v1.id)).status, 200, 'v1 stays published while v2 is prepared');
  await releaseAction(srv, ca.token, v2.id, 'submit', {}, 200);
  await releaseAction(srv, P.token, v2.id, 'approve', {}, 200);
  await releaseAction(srv, ca.token, v2.id, 'publish', {}, 200);
  assert.equal((await call(srv, ca.token, 'GET', path(v1.id), undefined, 200)).json.state, 'superseded');
  for (const [who, tok] of [['operator', O.token], ['hub', H.token], ['ministry', M.token]]) {
    assertProblem(await getRelease(tok, v1.id), 404, 'not-found');
    const g = await call(srv, tok, 'GET', path(v2.id), undefined, 200);
    assert.equal(g.json.content.title, newTitle);
    assert.equal(g.json.version, 2);
    const ids = await inboxIds(tok);
    assert.ok(ids.has(v2.id) && !ids.has(v1.id), `${who}: the inbox has v2 only`);
  }
  for (const tok of [ca.token, P.token]) {
    const vs = await call(srv, tok, 'GET', `/api/v1/reports/${rep.id}/releases`, undefined, 200);
    assertResponse('GET', '/api/v1/reports/{id}/releases', vs);
    assert.deepEqual(vs.json.items.map((x) => [x.version, x.state]), [[2, 'published'], [1, 'superseded']]);
  }
  for (const tok of [O.token, H.token, cAud.token]) {
    const vs = await srv.api('GET', `/api/v1/reports/${rep.id}/releases`, { token: tok });
    assertProblem(vs, 404, 'not-found');
    assertResponse('GET', '/api/v1/reports/{id}/releases', vs);
  }
});

test('sector hubs and ministries see releases, never originals: share_with_hub becomes audience.hub', async () => {
  const rep = (await fileReport(srv, P.token, minimal({ title: uniq('Hub '), share_with_hub: true, basis: 'law', tlp: 'AMBER' }))).json;
  for (const tok of [H.token, M.token, Hgas.token]) assertProblem(await getReport(srv, tok, rep.id), 404, 'not-found');
  const rel = await releaseTo(srv, { coord: ca.token, provider: P.token }, rep.id);
  assert.deepEqual(normAudience(rel.audience), normAudience({ hub: true }));
  assert.equal((await getRelease(H.token, rel.id)).status, 200, 'the hub of the provider\'s sector');
  for (const [who, tok] of [['hub of gas', Hgas.token], ['ministry', M.token], ['operator', O.token]]) {
    assertProblem(await getRelease(tok, rel.id), 404, 'not-found');
    assert.ok(!(await inboxIds(tok)).has(rel.id), who);
  }
  for (const tok of [H.token, M.token]) assertProblem(await getReport(srv, tok, rep.id), 404, 'not-found');
});

test('a pre-approved report skips the provider\'s approval', async () => {
  const rep = (await fileReport(srv, P.token, minimal({ title: uniq('Pre '), preapproved: true, audience: { orgs: [], sectors: [], tiers: [], all_members: true }, tlp: 'CLEAR' }))).json;
  const rel = await createRelease(srv, ca.token, rep.id);
  const r = await releaseAction(srv, ca.token, rel.id, 'submit', {}, 200);
  assert.equal(r.json.state, 'approved');
  assert.equal(r.json.decided_by, null);
  assert.equal(r.json.decision_note, 'pre-approved in the report');
  assertResponse('POST', '/api/v1/releases/{id}/submit', r);
  await releaseAction(srv, ca.token, rel.id, 'publish', {}, 200);
  for (const tok of [O.token, G.token, V.token, M.token]) assert.equal((await getRelease(tok, rel.id)).status, 200);
});

test('consent requests: the provider widens the audience (at once for a published release) or refuses (nothing changes)', async () => {
  const rep = (await fileReport(srv, P.token, minimal({ title: uniq('Consent '), audience: { orgs: [O.org.id], sectors: [], tiers: [], all_members: false }, tlp: 'AMBER' }))).json;
  const rel = await releaseTo(srv, { coord: ca.token, provider: P.token }, rep.id);
  assertProblem(await getRelease(G.token, rel.id), 404, 'not-found');
  const url = `/api/v1/releases/${rel.id}/audience-requests`;
  const wider = { hub: false, orgs: [O.org.id], sectors: ['gas'], tiers: [], all_members: false };
  const body = { audience: wider, tlp: 'GREEN', reason: 'ガス事業者にも同じ攻撃が見られるため' };
  for (const tok of [cm.token, P.token, O.token, G.token]) {
    const x = await srv.api('POST', url, { token: tok, body });
    assertProblem(x, 403, 'forbidden');
    assertResponse('POST', '/api/v1/releases/{id}/audience-requests', x);
  }
  assert422Like(await srv.api('POST', url, { token: ca.token, body: { audience: wider } }), /^reason$/, 'no reason');
  assert422Like(await srv.api('POST', url, { token: ca.token, body: { ...body, audience: { ...wider, sectors: ['nosuch'] } } }), /^audience\.sectors/, 'unknown sector');
  const c = await call(srv, ca.token, 'POST', url, body, 201);
  assertResponse('POST', '/api/v1/releases/{id}/audience-requests', c);
  const req = c.json;
  assert.equal(req.state, 'pending');
  assert.equal(req.release_id, rel.id);
  assert.equal(req.org_id, P.org.id);
  assert.equal(req.requested_by, ca.user.id);
  assert.equal(req.reason, body.reason);
  assert.deepEqual(normAudience(req.audience), normAudience(wider));
  // Lists: the coordinator and the provider; others see none.
  for (const tok of [ca.token, P.token]) {
    const l = await call(srv, tok, 'GET', url, undefined, 200);
    assertResponse('GET', '/api/v1/releases/{id}/audience-requests', l);
    assert.deepEqual(l.json.items.map((x) => x.id), [req.id]);
    const q = await call(srv, tok, 'GET', '/api/v1/audience-requests?state=pending', undefined, 200);
    assertResponse('GET', '/api/v1/audience-requests', q);
    assert.ok(q.json.items.some((x) => x.id === req.id));
  }
  for (const tok of [O.token, G.token, cAud.token, Paud.token]) {
    assertProblem(await srv.api('GET', url, { token: tok }), 404, 'not-found');
    const q = await call(srv, tok, 'GET', '/api/v1/audience-requests?state=pending', undefined, 200);
    assert.deepEqual(q.json.items, []);
  }
  assertProblem(await getRelease(G.token, rel.id), 404, 'not-found');
  // Only the provider decides.
  const dec = (id, verb) => `/api/v1/audience-requests/${id}/${verb}`;
  for (const [tok, st] of [[ca.token, 403], [srv.adminToken, 403], [O.token, 404], [Paud.token, 404]]) {
    const x = await srv.api('POST', dec(req.id, 'approve'), { token: tok, body: {} });
    assertProblem(x, st, st === 403 ? 'forbidden' : 'not-found');
    assertResponse('POST', '/api/v1/audience-requests/{id}/approve', x);
  }
  const a = await call(srv, P.token, 'POST', dec(req.id, 'approve'), { note: '了解' }, 200);
  assertResponse('POST', '/api/v1/audience-requests/{id}/approve', a);
  assert.equal(a.json.state, 'approved');
  assert.equal(a.json.decided_by, P.user.id);
  assert.equal(a.json.decision_note, '了解');
  assertProblem(await srv.api('POST', dec(req.id, 'approve'), { token: P.token, body: {} }), 409, 'conflict');
  // The release now reaches the gas sector, at once.
  const now = (await call(srv, ca.token, 'GET', path(rel.id), undefined, 200)).json;
  assert.deepEqual(normAudience(now.audience), normAudience(wider));
  assert.equal(now.tlp, 'GREEN');
  assert.equal((await call(srv, G.token, 'GET', path(rel.id), undefined, 200)).json.tlp, 'GREEN');
  assert.ok((await inboxIds(G.token)).has(rel.id));
  assert.ok((await inboxIds(Hgas.token)).has(rel.id), 'the gas hub is in the gas sector too');
  // Narrowing a published release works at once, and the consented audience may come back.
  assert.equal((await patch(ca.token, rel.id, { audience: { orgs: [O.org.id] } })).status, 200);
  assertProblem(await getRelease(G.token, rel.id), 404, 'not-found');
  assert.equal((await patch(ca.token, rel.id, { audience: wider })).status, 200, 'the consented audience is within bounds');
  assert.equal((await getRelease(G.token, rel.id)).status, 200);

  // A refused request changes nothing.
  const before = (await call(srv, ca.token, 'GET', path(rel.id), undefined, 200)).json;
  const req2 = (await call(srv, ca.token, 'POST', url, { audience: { ...wider, all_members: true }, tlp: 'CLEAR', reason: 'everyone' }, 201)).json;
  assert.equal((await getRelease(V.token, rel.id)).status, 404);
  for (const b of [{}, { reason: '' }]) {
    assert422Like(await srv.api('POST', dec(req2.id, 'refuse'), { token: P.token, body: b }), /^reason$/, 'refuse without a reason');
  }
  const f = await call(srv, P.token, 'POST', dec(req2.id, 'refuse'), { reason: '全体共有は不可' }, 200);
  assertResponse('POST', '/api/v1/audience-requests/{id}/refuse', f);
  assert.equal(f.json.state, 'refused');
  assert.equal(f.json.decision_note, '全体共有は不可');
  assertProblem(await srv.api('POST', dec(req2.id, 'approve'), { token: P.token, body: {} }), 409, 'conflict');
  const after = (await call(srv, ca.token, 'GET', path(rel.id), undefined, 200)).json;
  assert.deepEqual(normAudience(after.audience), normAudience(before.audience));
  assert.equal(after.tlp, before.tlp);
  assertProblem(await getRelease(V.token, rel.id), 404, 'not-found');
  assert422Like(await patch(ca.token, rel.id, { audience: { ...wider, all_members: true } }), /^audience\.all_members$/, 'refused consent does not widen');
  const l = await call(srv, P.token, 'GET', '/api/v1/audience-requests', undefined, 200);
  assert.ok(l.json.items.some((x) => x.id === req2.id && x.state === 'refused'));
  assert.ok(!(await call(srv, P.token, 'GET', '/api/v1/audience-requests?state=pending', undefined, 200)).json.items.some((x) => x.id === req2.id));
});

test('every step is in the audit log, by id and code, never content', async () => {
  const title = uniq('Audited ');
  const rep = (await fileReport(srv, P.token, namedReport({ title }))).json;
  const rel = await createRelease(srv, ca.token, rep.id);
  await call(srv, ca.token, 'PATCH', path(rel.id), { purpose: 'p' }, 200);
  await releaseAction(srv, ca.token, rel.id, 'submit', {}, 200);
  await releaseAction(srv, P.token, rel.id, 'refuse', { reason: 'r' }, 200);
  await call(srv, ca.token, 'PATCH', path(rel.id), { purpose: 'q' }, 200);
  await releaseAction(srv, ca.token, rel.id, 'submit', {}, 200);
  await releaseAction(srv, P.token, rel.id, 'approve', {}, 200);
  await releaseAction(srv, ca.token, rel.id, 'publish', {}, 200);
  await call(srv, O.token, 'GET', path(rel.id), undefined, 200);
  await call(srv, ca.token, 'GET', path(rel.id), undefined, 200);
  await call(srv, O.token, 'GET', '/api/v1/releases', undefined, 200);
  const ex = await call(srv, O.token, 'GET', '/api/v1/releases/export?format=stix', undefined, 200);
  assertResponse('GET', '/api/v1/releases/export', ex);
  const url = `/api/v1/releases/${rel.id}/audience-requests`;
  const q1 = (await call(srv, ca.token, 'POST', url, { audience: { orgs: [O.org.id], sectors: ['gas'] }, reason: 'a' }, 201)).json;
  const q2 = (await call(srv, ca.token, 'POST', url, { audience: { orgs: [O.org.id], sectors: ['water'] }, reason: 'b' }, 201)).json;
  await call(srv, P.token, 'POST', `/api/v1/audience-requests/${q1.id}/approve`, {}, 200);
  await call(srv, P.token, 'POST', `/api/v1/audience-requests/${q2.id}/refuse`, { reason: 'no' }, 200);
  await releaseAction(srv, ca.token, rel.id, 'withdraw', { reason: 'w' }, 200);

  const audit = async (q) => {
    const r = await call(srv, cAud.token, 'GET', `/api/v1/audit?limit=200&${q}`, undefined, 200);
    assertResponse('GET', '/api/v1/audit', r);
    return r.json.items;
  };
  const mentions = (e, ...ids) => ids.some((id) => e.object.id === id || JSON.stringify(e.detail).includes(id));
  const byRelease = await audit(`object_id=${rel.id}`);
  const actions = byRelease.map((e) => e.action);
  for (const a of ['release.create', 'release.update', 'release.submit', 'release.refuse', 'release.approve', 'release.publish', 'release.withdraw', 'release.read']) {
    assert.ok(actions.includes(a), `${a} recorded for the release: ${actions}`);
  }
  const count = (a) => actions.filter((x) => x === a).length;
  assert.equal(count('release.submit'), 2);
  assert.equal(count('release.update'), 2);
  const who = (a) => byRelease.filter((e) => e.action === a).map((e) => e.actor.login);
  assert.deepEqual(who('release.create'), [ca.user.login]);
  assert.deepEqual(who('release.approve'), [P.user.login]);
  assert.ok(who('release.read').includes(O.user.login), 'the recipient\'s read');
  assert.ok(who('release.read').includes(ca.user.login), 'the coordinator\'s read');
  for (const e of byRelease) assert.equal(e.outcome, 'ok', JSON.stringify(e));
  const lists = await audit(`action=release.list&actor=${encodeURIComponent(O.user.login)}`);
  assert.ok(lists.some((e) => JSON.stringify(e.detail).includes(rel.id)), 'the inbox listing names the ids it showed');
  assert.ok((await audit(`action=release.export&actor=${encodeURIComponent(O.user.login)}`)).length >= 1);
  assert.ok((await audit('action=audience.request')).some((e) => mentions(e, q1.id)));
  assert.ok((await audit('action=audience.request')).some((e) => mentions(e, q2.id)));
  assert.ok((await audit('action=audience.approve')).some((e) => mentions(e, q1.id)));
  assert.ok((await audit('action=audience.refuse')).some((e) => mentions(e, q2.id)));
  const all = JSON.stringify(await audit(''));
  for (const s of [title, ORG_JA, 'soc@toto-denryoku.co.jp']) assert.ok(!all.includes(s), `no content in the log: ${s}`);
});
