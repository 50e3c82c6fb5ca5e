// Proof (a) of issue 4: who sees which release, over every read path, against an oracle.
//
// A world of organisations over kinds × tiers × sectors (the coordinator, the electricity sector
// hub, the finance ministry, operators in electricity / railway / finance / water in each of
// class1 / class2 / general, a vendor), each with a member, an analyst, an org_admin and an
// auditor-only user. Two providers (an electricity operator and a water operator whose reports
// also name electricity) file reports whose audiences are: the coordinator only, the hub, a named
// organisation, a sector, a tier, all members — crossed with TLP CLEAR / GREEN / AMBER /
// AMBER+STRICT (and RED to the named organisation) — and each gets a published release. A few
// more sit in every other state (draft, pending, approved, refused, superseded, withdrawn), one
// was narrowed after publication, one widened by an approved consent request.
//
// Then every reader × every read path (inbox, inbox under each filter, release detail, the STIX
// export, report list / detail / search of the originals, the work queues, a report's versions,
// consent requests) is compared, cell by cell, with releaseView() / seesReport() / inQueue() of
// lib/releases.mjs: the contract's rule written in the test, never asked of the server. Paging
// must not reveal hidden items either (full pages until the last, whose cursor is null).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, uniq } from './lib/server.mjs';
import { assertResponse } from './lib/openapi.mjs';
import { fileReport, revise, isoAt } from './lib/reports.mjs';
import {
  RECIPIENT_KEYS, STATES, pmap, tsec, normAudience, call, releaseTo, releaseView, inInbox,
  seesReport, seesWorkflow, inQueue, walk,
} from './lib/releases.mjs';

const SECTORS = ['electricity', 'railway', 'finance', 'water'];
const TIERS = ['class1', 'class2', 'general'];
const ROLES = ['member', 'analyst', 'org_admin', 'auditor'];
const BROAD_TLPS = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT'];
const PAR = 6; // requests in flight per phase (2 cores, ASan)

let srv;
const W = { orgs: {}, readers: [], releases: [], requests: [], tag: uniq('Mx') };
let coordAnalyst;

before(async () => {
  srv = await startServer();
  W.start = Date.now();
  // Organisations.
  const specs = [
    ['hub', { kind: 'sector_hub', sectors: ['electricity'], tier: 'class2' }],
    ['ministry', { kind: 'ministry', sectors: ['finance'], tier: 'general' }],
    ['vendor', { kind: 'vendor', sectors: [], tier: 'general' }],
  ];
  for (const s of SECTORS) for (const t of TIERS) specs.push([`op-${s}-${t}`, { kind: 'operator', sectors: [s], tier: t }]);
  // Two more operators per sector, without users: five operators make a sector big enough for
  // the anonymizer to name it, so the sector filters below have something to filter.
  const fillers = SECTORS.flatMap((s) => [{ kind: 'operator', sectors: [s], tier: 'general' }, { kind: 'operator', sectors: [s], tier: 'class2' }]);
  const made = await pmap([...specs.map(([, f]) => f), ...fillers], PAR, (f) => srv.createOrg({ name: { en: uniq('Matrix org ') }, ...f }));
  specs.forEach(([k], i) => { W.orgs[k] = made[i]; });
  W.orgs.coord = (await call(srv, srv.adminToken, 'GET', `/api/v1/orgs/${srv.coordOrgId}`, undefined, 200)).json;
  // Users: one per role in every organisation (auditor-only included), plus the admin.
  const jobs = [];
  for (const [key, org] of Object.entries(W.orgs)) for (const role of ROLES) jobs.push({ key, org, role });
  const users = await pmap(jobs, PAR, (j) => srv.userWithToken({ org_id: j.org.id, roles: [j.role] }));
  jobs.forEach((j, i) => W.readers.push({
    name: `${j.key}/${j.role}`, org: j.org, role: j.role, auditorOnly: j.role === 'auditor', token: users[i].token,
  }));
  W.readers.push({ name: 'coord/admin', org: W.orgs.coord, role: 'admin', auditorOnly: false, token: srv.adminToken });
  const tok = (name) => W.readers.find((r) => r.name === name).token;
  coordAnalyst = tok('coord/analyst');
  W.P1 = { org: W.orgs['op-electricity-class1'], token: tok('op-electricity-class1/member') };
  W.P2 = { org: W.orgs['op-water-general'], token: tok('op-water-general/member') };

  // Reports and their releases.
  const plans = [];
  const add = (prov, aud, tlp, fields = {}, extra = {}) => plans.push({ prov, aud, tlp, fields, ...extra });
  const audiences = (named, sector, tier) => ({
    coord: { audience: {}, share: false },
    hub: { audience: {}, share: true },
    org: { audience: { orgs: [named.id] }, share: false },
    sector: { audience: { sectors: [sector] }, share: false },
    tier: { audience: { tiers: [tier] }, share: false },
    all: { audience: { all_members: true }, share: false },
  });
  const A1 = audiences(W.orgs['op-railway-class2'], 'finance', 'class2');
  const A2 = audiences(W.orgs.vendor, 'electricity', 'class1');
  for (const [prov, A] of [['P1', A1], ['P2', A2]]) {
    for (const aud of Object.keys(A)) for (const tlp of BROAD_TLPS) add(prov, aud, tlp);
    add(prov, 'org', 'RED');
  }
  // Every other state, with the widest audience (a leak would show).
  for (const st of ['draft', 'pending', 'approved', 'refused', 'withdrawn']) add('P1', 'all', 'CLEAR', {}, { until: st });
  add('P1', 'all', 'CLEAR', {}, { special: 'superseded' });
  add('P1', 'sector', 'GREEN', {}, { special: 'narrowed' });
  add('P2', 'org', 'AMBER', {}, { special: 'consent' });
  const code = (i) => `${W.tag}-${String.fromCharCode(97 + Math.floor(i / 26))}${String.fromCharCode(97 + (i % 26))}`;
  await pmap(plans, PAR, async (p, i) => {
    const P = W[p.prov];
    const A = p.prov === 'P1' ? A1 : A2;
    const spec = A[p.aud];
    let audience = { orgs: [], sectors: [], tiers: [], all_members: false, ...spec.audience };
    if (p.special === 'narrowed') audience = { ...audience, sectors: ['finance', 'railway'] };
    const body = {
      event_type: ['malware', 'availability', 'intrusion'][i % 3],
      title: `${code(i)} ${p.aud} ${p.tlp} incident`,
      sectors: p.prov === 'P1' ? (i % 2 ? ['electricity', 'railway'] : ['electricity', 'finance']) : ['water', 'electricity'],
      severity: { continuity: i % 5 },
      share_with_hub: spec.share,
      audience,
      tlp: p.tlp,
    };
    const rep = (await fileReport(srv, P.token, body)).json;
    const cp = { coord: coordAnalyst, provider: P.token };
    const base = { code: code(i), report_id: rep.id, org_id: P.org.id, providerSectors: P.org.sectors, tlp: p.tlp };
    const aud = normAudience({ hub: spec.share, ...audience });
    if (p.special === 'superseded') {
      const v1 = await releaseTo(srv, cp, rep.id);
      // v2 gets a code of its own (outside the plans' range) so the export tells them apart.
      await revise(srv, P.token, rep.id, { stage: 'update', changes: { title: `${code(i + 300)} second version` } });
      const v2 = await releaseTo(srv, cp, rep.id);
      W.releases.push({ ...base, id: v1.id, state: 'superseded', audience: aud, label: `${p.prov} superseded v1` });
      W.releases.push({ ...base, code: code(i + 300), id: v2.id, state: 'published', audience: aud, label: `${p.prov} superseding v2` });
      return;
    }
    const rel = await releaseTo(srv, cp, rep.id, p.until || 'published');
    let final = aud;
    if (p.special === 'narrowed') {
      final = normAudience({ sectors: ['railway'] });
      await call(srv, coordAnalyst, 'PATCH', `/api/v1/releases/${rel.id}`, { audience: final }, 200);
    }
    if (p.special === 'consent') {
      final = normAudience({ orgs: audience.orgs, tiers: ['general'] });
      const rq = (await call(srv, coordAnalyst, 'POST', `/api/v1/releases/${rel.id}/audience-requests`, { audience: final, reason: 'general tier too' }, 201)).json;
      await call(srv, P.token, 'POST', `/api/v1/audience-requests/${rq.id}/approve`, {}, 200);
      W.requests.push({ id: rq.id, release_id: rel.id, org_id: P.org.id, state: 'approved', label: `${p.prov} approved request` });
    }
    W.releases.push({ ...base, id: rel.id, state: p.until || 'published', audience: final, label: `${p.prov} ${p.special || p.aud} ${p.tlp}${p.until ? ` ${p.until}` : ''}` });
  });
  // Consent requests left pending (P2) and refused (P1): visible to the coordinator and the provider.
  const pub = (prov) => W.releases.find((r) => r.state === 'published' && r.org_id === W[prov].org.id && r.audience.all_members === false);
  for (const [prov, decide] of [['P2', null], ['P1', 'refuse']]) {
    const rel = pub(prov);
    const rq = (await call(srv, coordAnalyst, 'POST', `/api/v1/releases/${rel.id}/audience-requests`, { audience: { all_members: true }, reason: 'wider' }, 201)).json;
    if (decide) await call(srv, W[prov].token, 'POST', `/api/v1/audience-requests/${rq.id}/refuse`, { reason: 'no' }, 200);
    W.requests.push({ id: rq.id, release_id: rel.id, org_id: W[prov].org.id, state: decide ? 'refused' : 'pending', label: `${prov} ${decide ? 'refused' : 'pending'} request` });
  }
  // What the coordinator sees must be what was made (state, audience, marking); the content from
  // there feeds the filters' predicates (content filters are not access rules).
  await pmap(W.releases, PAR, async (r) => {
    const g = (await call(srv, coordAnalyst, 'GET', `/api/v1/releases/${r.id}`, undefined, 200)).json;
    assert.equal(g.state, r.state, `${r.label}: state`);
    assert.deepEqual(normAudience(g.audience), r.audience, `${r.label}: audience`);
    assert.equal(g.tlp, r.tlp, `${r.label}: tlp`);
    assert.ok(g.content.title.startsWith(r.code), `${r.label}: the title keeps its code: ${g.content.title}`);
    r.content = g.content;
    r.published_at = tsec(g.published_at);
  });
  W.reports = [...new Set(W.releases.map((r) => r.report_id))].map((id) => ({ id, org_id: W.releases.find((r) => r.report_id === id).org_id }));
  W.setupMs = Date.now() - W.start;
});
after(async () => { await srv?.cleanup(); });

/** Inbox filters: query → predicate on a world release (content as the coordinator sees it). */
function filters() {
  const start = Math.floor(W.start / 1000) - 60;
  const one = W.releases.find((r) => r.label === 'P1 org RED');
  // Each filter but the last two keeps some of the world and drops some (checked below).
  return [
    ['sector=finance', (r) => r.content.sectors.includes('finance')],
    ['sector=electricity', (r) => r.content.sectors.includes('electricity')],
    ['sector=railway', (r) => r.content.sectors.includes('railway')],
    ['event_type=malware', (r) => r.content.event_type === 'malware'],
    ['min_severity=3', (r) => (r.content.severity.overall ?? -1) >= 3],
    ['tlp=AMBER', (r) => r.tlp === 'AMBER'],
    ['tlp=RED', (r) => r.tlp === 'RED'],
    [`q=${encodeURIComponent(one.code)}`, (r) => r.content.title.toLowerCase().includes(one.code.toLowerCase())],
    [`q=${encodeURIComponent(W.tag.toLowerCase())}`, () => true],
    ['sector=railway&tlp=GREEN', (r) => r.content.sectors.includes('railway') && r.tlp === 'GREEN'],
    [`since=${encodeURIComponent(isoAt(start * 1000))}`, (r) => r.published_at >= start],
    [`until=${encodeURIComponent(isoAt(start * 1000))}`, (r) => r.published_at < start],
  ];
}

test('access matrix: every reader × every read path × every release against the contract\'s oracle', async (t) => {
  const t0 = Date.now();
  let cells = 0;
  const fails = [];
  const byPath = new Map(); // read path → failed cells, for a summary that fits on a screen
  const fail = (reader, path, item, msg) => {
    fails.push(`${reader.name}: ${path}${item ? ` ${item}` : ''}: ${msg}`);
    byPath.set(path, (byPath.get(path) || 0) + 1);
  };
  const check = (reader, path, item, want, got) => {
    cells += 1;
    if (want !== got) fail(reader, path, item, `${got ? 'visible' : 'invisible'}, want ${want ? 'visible' : 'invisible'}`);
  };
  const byId = new Map(W.releases.map((r) => [r.id, r]));
  const reportIds = new Set(W.reports.map((r) => r.id));
  const FILTERS = filters();
  FILTERS.slice(0, -2).forEach(([q, pred]) => {
    const n = W.releases.filter((r) => r.state === 'published' && pred(r)).length;
    assert.ok(n > 0 && n < W.releases.length, `filter ${decodeURIComponent(q)} is not vacuous: ${n} published releases match`);
  });
  const exact = (reader, where, items, want) => {
    // Exact set: every world item visible iff the oracle says so, and nothing unknown at all.
    const got = new Set(items.map((x) => x.id));
    for (const r of W.releases) check(reader, where, r.label, want(r), got.has(r.id));
    for (const id of got) if (!byId.has(id)) fail(reader, where, id, 'unknown id');
    cells += 1;
    if (got.size !== items.length) fail(reader, where, '', 'an item repeated');
  };
  const viewOk = (reader, where, item) => {
    const r = byId.get(item.id);
    if (!r) return;
    const want = releaseView(reader, r);
    const keys = Object.keys(item).sort();
    const got = keys.includes('report_id') ? 'full' : 'recipient';
    cells += 1;
    if (want && got !== want) fail(reader, `${where} (view)`, r.label, `${got} view, want ${want}`);
    if (got === 'recipient' && JSON.stringify(keys) !== JSON.stringify(RECIPIENT_KEYS)) fail(reader, `${where} (view)`, r.label, `recipient keys ${keys}`);
  };

  // A list that cannot be paged is a failed cell, not the end of the run.
  const walkOr = (reader, path, url, limit) => walk(srv, reader.token, url, limit)
    .catch((e) => { fail(reader, path, '', e.message.split('\n')[0].slice(0, 300)); return { items: [] }; });

  await pmap(W.readers, 3, async (reader) => {
    const tok = reader.token;
    const get = (p) => srv.api('GET', p, { token: tok });
    // Inbox, paged small: pages reveal nothing.
    const inbox = await walkOr(reader, 'inbox (paging)', '/api/v1/releases', 7);
    exact(reader, 'inbox', inbox.items, (r) => inInbox(reader, r));
    inbox.items.forEach((x) => viewOk(reader, 'inbox', x));
    for (let i = 1; i < inbox.items.length; i++) {
      cells += 1;
      if (tsec(inbox.items[i].published_at) > tsec(inbox.items[i - 1].published_at)) fail(reader, 'inbox (order)', '', 'not newest published first');
    }
    await pmap(FILTERS, 4, async ([q, pred]) => {
      const items = (await walkOr(reader, `inbox?${decodeURIComponent(q)} (paging)`, `/api/v1/releases?${q}`, 200)).items;
      exact(reader, `inbox?${decodeURIComponent(q)}`, items, (r) => inInbox(reader, r) && pred(r));
    });
    // Release detail.
    await pmap(W.releases, 6, async (r) => {
      const g = await get(`/api/v1/releases/${r.id}`);
      const want = releaseView(reader, r);
      check(reader, 'GET /releases/{id}', r.label, want !== null, g.status === 200);
      if (g.status === 200) viewOk(reader, 'GET /releases/{id}', g.json);
      else if (g.status !== 404) fail(reader, 'GET /releases/{id}', r.label, `${g.status}, want 200 or 404`);
      if (g.status !== 200 && g.text.includes(r.code)) fail(reader, 'GET /releases/{id}', r.label, 'the error names the title');
      // Consent requests of the release: the coordinator and the provider (where they see it).
      const q = await get(`/api/v1/releases/${r.id}/audience-requests`);
      check(reader, 'GET /releases/{id}/audience-requests', r.label, want === 'full' && seesWorkflow(reader, r.org_id), q.status === 200);
      if (q.status !== 200 && q.status !== 404) fail(reader, 'GET /releases/{id}/audience-requests', r.label, `${q.status}, want 200 or 404`);
      if (q.status === 200) {
        const ids = new Set(q.json.items.map((x) => x.id));
        for (const rq of W.requests.filter((x) => x.release_id === r.id)) check(reader, 'GET /releases/{id}/audience-requests items', r.label, true, ids.has(rq.id));
      }
    });
    // The STIX export: search the bundle's text for each title's code.
    const ex = await get('/api/v1/releases/export?format=stix');
    if (ex.status !== 200) fail(reader, 'export', '', `${ex.status} ${ex.text.slice(0, 200)}`);
    else for (const r of W.releases) check(reader, 'export', r.label, inInbox(reader, r), ex.text.includes(r.code));
    // Originals: list, search, detail; a report's versions.
    const listed = await srv.listAll('/api/v1/reports', { token: tok });
    const searched = await srv.listAll(`/api/v1/reports?q=${encodeURIComponent(W.tag)}`, { token: tok });
    for (const [where, items] of [['report list', listed], ['report q=', searched]]) {
      const got = new Set(items.map((x) => x.id));
      for (const rep of W.reports) check(reader, where, rep.id, seesReport(reader, rep.org_id), got.has(rep.id));
      for (const id of got) if (!reportIds.has(id)) fail(reader, where, id, 'unknown report');
    }
    await pmap(W.reports, 6, async (rep) => {
      const g = await get(`/api/v1/reports/${rep.id}`);
      check(reader, 'GET /reports/{id}', rep.id, seesReport(reader, rep.org_id), g.status === 200);
      const v = await get(`/api/v1/reports/${rep.id}/releases`);
      const mine = W.releases.filter((r) => r.report_id === rep.id);
      check(reader, 'GET /reports/{id}/releases', rep.id, seesReport(reader, rep.org_id), v.status === 200);
      if (v.status === 200) {
        const got = new Set(v.json.items.map((x) => x.id));
        for (const r of mine) check(reader, 'GET /reports/{id}/releases items', r.label, releaseView(reader, r) === 'full', got.has(r.id));
      }
    });
    // Work queues.
    await pmap([...STATES, 'any'], 4, async (st) => {
      const items = (await walkOr(reader, `queue state=${st} (paging)`, `/api/v1/releases?state=${st}`, 5)).items;
      exact(reader, `queue state=${st}`, items, (r) => inQueue(reader, r, st));
    });
    // Consent requests to decide.
    for (const q of ['', '?state=pending']) {
      const rq = await get(`/api/v1/audience-requests${q}`);
      if (rq.status !== 200) { fail(reader, `GET /audience-requests${q}`, '', `${rq.status}`); continue; }
      const got = new Set(rq.json.items.map((x) => x.id));
      for (const x of W.requests) {
        check(reader, `GET /audience-requests${q}`, x.label, seesWorkflow(reader, x.org_id) && (q === '' || x.state === 'pending'), got.has(x.id));
      }
    }
  });

  // A few responses against the document (not every one: the matrix is about visibility).
  const rcp = W.readers.find((r) => r.name === 'op-finance-general/member');
  for (const [reader, tpl, url] of [[rcp, '/api/v1/releases', '/api/v1/releases'], [rcp, '/api/v1/releases/export', '/api/v1/releases/export?format=stix'],
    [rcp, '/api/v1/releases/{id}', `/api/v1/releases/${W.releases.find((r) => r.label === 'P1 all CLEAR').id}`],
    [W.readers.find((r) => r.name === 'coord/analyst'), '/api/v1/releases', '/api/v1/releases?state=any'],
    [W.readers.find((r) => r.name === 'coord/analyst'), '/api/v1/audience-requests', '/api/v1/audience-requests']]) {
    try {
      assertResponse('GET', tpl, await srv.api('GET', url, { token: reader.token }));
    } catch (e) { fail(reader, 'schema', url, e.message.slice(0, 400)); }
  }

  const msg = `access matrix: ${cells} cells, ${W.readers.length} readers, ${W.releases.length} releases, ${W.reports.length} reports; ` +
    `setup ${W.setupMs} ms, reads ${Date.now() - t0} ms; ${fails.length} failed`;
  t.diagnostic(msg);
  console.log(msg);
  const summary = [...byPath].map(([p, n]) => `  ${p}: ${n}`).join('\n');
  assert.equal(fails.length, 0, `${fails.length} cells failed; by read path:\n${summary}\nfirst ones:\n${fails.slice(0, 40).join('\n')}`);
  assert.ok(cells > 10000, `the matrix is not vacuous: ${cells} cells`);
});

test('the oracle itself: a few hand-checked cells', () => {
  // Guards against an oracle bug making the matrix agree with a wrong server.
  const rel = (label) => W.releases.find((r) => r.label === label);
  const reader = (name) => W.readers.find((r) => r.name === name);
  const sees = (name, label) => releaseView(reader(name), rel(label));
  assert.equal(sees('hub/member', 'P1 hub AMBER'), 'recipient', 'the hub of the provider\'s sector');
  assert.equal(sees('hub/member', 'P2 hub AMBER'), null, 'not the hub of another provider\'s sector');
  assert.equal(sees('hub/member', 'P1 tier AMBER'), 'recipient', 'the hub is class2');
  assert.equal(sees('ministry/member', 'P1 sector CLEAR'), 'recipient', 'the finance ministry: sector finance');
  assert.equal(sees('ministry/member', 'P1 hub CLEAR'), null, 'a ministry is no hub');
  assert.equal(sees('op-railway-class2/member', 'P1 org RED'), 'recipient');
  assert.equal(sees('op-railway-class1/member', 'P1 org RED'), null);
  assert.equal(sees('op-railway-class2/auditor', 'P1 org RED'), null, 'auditor-only: nothing');
  assert.equal(sees('vendor/member', 'P1 coord AMBER'), null);
  assert.equal(sees('vendor/member', 'P2 org AMBER'), 'recipient');
  assert.equal(sees('coord/auditor', 'P1 all CLEAR'), null);
  assert.equal(sees('coord/member', 'P1 all CLEAR draft'), 'full');
  assert.equal(sees('op-electricity-class1/member', 'P1 all CLEAR draft'), null, 'the provider does not see drafts');
  assert.equal(sees('op-electricity-class1/member', 'P1 all CLEAR refused'), 'full');
  assert.equal(sees('op-water-general/member', 'P1 all CLEAR pending'), null);
  assert.equal(sees('op-water-general/member', 'P1 all CLEAR withdrawn'), null);
  assert.equal(sees('op-finance-class1/member', 'P1 narrowed GREEN'), null, 'narrowed away');
  assert.equal(sees('op-railway-general/member', 'P1 narrowed GREEN'), 'recipient');
  assert.equal(sees('op-finance-general/member', 'P2 consent AMBER'), 'recipient', 'widened by consent to the general tier');
  assert.equal(sees('op-electricity-general/member', 'P2 sector AMBER'), 'recipient', 'P2\'s sector audience is electricity');
});
