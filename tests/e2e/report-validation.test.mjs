// Report validation: every refused field → 422 naming it exactly (create and revisions), the
// document agreeing where it can know; inclusive limits; observable normalisation; 512 KiB body
// limit; nothing half-written after a refused request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, assertProblem, rawRequest, uniq } from './lib/server.mjs';
import { assertResponse, requestAccepts } from './lib/openapi.mjs';
import { orgWithUser, minimal, fileReport, revise, getReport, listReports, hoursAgo, isoAt } from './lib/reports.mjs';

let srv;
let A;
before(async () => {
  srv = await startServer();
  A = await orgWithUser(srv, { sectors: ['electricity', 'gas'] });
});
after(async () => { await srv?.cleanup(); });

const ob = (type, value, extra = {}) => ({ observables: [{ type, value, ...extra }] });
const tomorrow = () => isoAt(Date.now() + 86400e3, 540);

/**
 * [label, body fields (merged over a minimal report), field, {schema: false} when api/openapi.json
 * cannot know (codes that are data, calendar, clock, normalisation), {reason}]
 */
function createCases() {
  const C = [];
  const add = (label, fields, field, opts = {}) => C.push({ label, fields, field, ...opts });
  const nof = { schema: false };
  // codes
  add('missing event_type', { event_type: undefined }, 'event_type');
  add('unknown event_type', { event_type: 'ransomware' }, 'event_type');
  add('event_type not a string', { event_type: 3 }, 'event_type');
  add('event_type null', { event_type: null }, 'event_type');
  add('unknown kind', { kind: 'accident' }, 'kind');
  add('unknown cause code', { causes: [{ code: 'malice' }] }, 'causes[0].code');
  add('second cause unknown', { causes: [{ code: 'intentional' }, { code: 'deliberate', detail: 'x' }] }, 'causes[1].code');
  add('cause without code', { causes: [{ detail: 'x' }] }, 'causes[0].code');
  add('cause as a bare string', { causes: ['intentional'] }, 'causes[0]');
  add('cause unknown field', { causes: [{ code: 'other', why: 'x' }] }, 'causes[0].why', { reason: 'unknown field' });
  add('cause detail too long', { causes: [{ code: 'other', detail: 'd'.repeat(4001) }] }, 'causes[0].detail');
  add('9 causes', { causes: Array.from({ length: 9 }, () => ({ code: 'other' })) }, 'causes');
  add('causes not an array', { causes: 'intentional' }, 'causes');
  add('unknown layer', { layer: 'disaster' }, 'layer');
  add('unknown basis', { basis: 'rumour' }, 'basis');
  add('unknown status', { status: 'done' }, 'status');
  add('status null', { status: null }, 'status');
  add('unknown regime', { regime: 'us_cisa' }, 'regime', nof);
  add('regime not a code', { regime: 'Bad Regime' }, 'regime');
  add('missing sectors', { sectors: undefined }, 'sectors');
  add('empty sectors', { sectors: [] }, 'sectors');
  add('sectors not an array', { sectors: 'electricity' }, 'sectors');
  add('unknown sector', { sectors: ['atlantis'] }, 'sectors[0]', nof);
  add('second sector unknown', { sectors: ['electricity', 'mars'] }, 'sectors[1]', nof);
  add('sector code wrong type', { sectors: ['gas', 7] }, 'sectors[1]');
  // severity
  add('severity 5', { severity: { continuity: 5 } }, 'severity.continuity');
  add('severity -1', { severity: { safety: -1 } }, 'severity.safety');
  add('severity "2"', { severity: { trust: '2' } }, 'severity.trust');
  add('severity 2.5', { severity: { continuity: 2.5 } }, 'severity.continuity');
  add('severity true', { severity: { trust: true } }, 'severity.trust');
  add('severity not an object', { severity: 3 }, 'severity');
  add('severity unknown viewpoint', { severity: { impact: 1 } }, 'severity.impact', { reason: 'unknown field' });
  // text
  add('missing title', { title: undefined }, 'title');
  add('title 201 chars', { title: 't'.repeat(201) }, 'title');
  add('title 201 4-byte chars', { title: '𠮷'.repeat(201) }, 'title');
  add('blank title', { title: '  \t ' }, 'title');
  add('title not a string', { title: ['x'] }, 'title');
  add('title with a newline', { title: 'line 1\nline 2' }, 'title', nof);
  add('description over 20000 chars', { description: 'd'.repeat(20001) }, 'description');
  add('description not a string', { description: { text: 'x' } }, 'description');
  add('service 201 chars', { service: 's'.repeat(201) }, 'service');
  add('followup 4001 chars', { followup: 'f'.repeat(4001) }, 'followup');
  add('contact not an object', { contact: 'soc@example.jp' }, 'contact');
  add('contact bad email', { contact: { email: 'not an address' } }, 'contact.email', nof);
  add('contact unknown field', { contact: { name: 'x', fax: '03' } }, 'contact.fax', { reason: 'unknown field' });
  add('share_with_hub not a boolean', { share_with_hub: 'yes' }, 'share_with_hub');
  add('draft not a boolean', { draft: 1 }, 'draft');
  // dates
  add('occurred_at without offset', { occurred_at: '2026-05-12T18:30:00' }, 'occurred_at');
  add('occurred_at date only', { occurred_at: '2026-05-12' }, 'occurred_at');
  add('occurred_at with a space', { occurred_at: '2026-05-12 18:30:00+09:00' }, 'occurred_at');
  add('occurred_at as a number', { occurred_at: 1778578200 }, 'occurred_at');
  add('detected_at without offset', { detected_at: '2026-05-12T18:30:00.123' }, 'detected_at');
  add('recovered_at offset without colon', { recovered_at: '2026-05-12T18:30:00+0900' }, 'recovered_at');
  add('impossible date Feb 30', { occurred_at: '2026-02-30T10:00:00+09:00' }, 'occurred_at', nof);
  add('impossible date Feb 29 2025', { detected_at: '2025-02-29T10:00:00+09:00' }, 'detected_at', nof);
  add('month 13', { occurred_at: '2026-13-01T00:00:00Z' }, 'occurred_at');
  add('hour 24', { occurred_at: '2026-05-12T24:00:00+09:00' }, 'occurred_at', nof);
  add('offset +24:00', { occurred_at: '2026-05-12T10:00:00+24:00' }, 'occurred_at', nof);
  add('occurred_at in the future', { occurred_at: tomorrow() }, 'occurred_at', nof);
  add('detected_at in the future', { detected_at: isoAt(Date.now() + 3600e3, -300) }, 'detected_at', nof);
  add('recovered_at in the future', { recovered_at: tomorrow() }, 'recovered_at', nof);
  add('detected before occurred', { occurred_at: '2026-05-12T18:30:00+09:00', detected_at: '2026-05-12T18:29:59+09:00' }, 'detected_at', nof);
  add('detected before occurred across offsets', { occurred_at: '2026-05-12T10:00:00Z', detected_at: '2026-05-12T18:30:00+09:00' }, 'detected_at', nof);
  add('recovered before occurred', { occurred_at: '2026-05-12T18:30:00+09:00', recovered_at: '2026-05-11T18:30:00+09:00' }, 'recovered_at', nof);
  // observables, one bad value per type
  add('ipv4 octet 256', ob('ipv4', '256.1.1.1'), 'observables[0].value', nof);
  add('ipv4 three octets', ob('ipv4', '10.1.2'), 'observables[0].value');
  add('ipv4 with a port', ob('ipv4', '10.1.2.3:80'), 'observables[0].value');
  add('ipv6 two ::', ob('ipv6', '2001:db8::1::2'), 'observables[0].value', nof);
  add('ipv6 bad hex', ob('ipv6', '2001:db8:zz::1'), 'observables[0].value', nof);
  add('ipv6 is an ipv4', ob('ipv6', '192.0.2.1'), 'observables[0].value', nof);
  add('cidr prefix 33', ob('cidr', '10.0.0.0/33'), 'observables[0].value', nof);
  add('cidr ipv6 prefix 129', ob('cidr', '2001:db8::/129'), 'observables[0].value', nof);
  add('cidr without prefix', ob('cidr', '10.0.0.0'), 'observables[0].value');
  add('cidr negative prefix', ob('cidr', '10.0.0.0/-1'), 'observables[0].value');
  add('domain with a space', ob('domain', 'exa mple.com'), 'observables[0].value');
  add('domain in unicode', ob('domain', '例え.jp'), 'observables[0].value');
  add('domain with an umlaut', ob('domain', 'bücher.de'), 'observables[0].value');
  add('domain label starting with -', ob('domain', '-bad.example.com'), 'observables[0].value', nof);
  add('domain empty label', ob('domain', 'a..example.com'), 'observables[0].value', nof);
  add('url without scheme', ob('url', 'example.com/path'), 'observables[0].value', nof);
  add('url with a space', ob('url', 'http://exa mple.com/'), 'observables[0].value', nof);
  add('url without host', ob('url', 'https:///path'), 'observables[0].value', nof);
  add('email without @', ob('email', 'soc.example.jp'), 'observables[0].value', nof);
  add('md5 31 digits', ob('md5', 'd41d8cd98f00b204e9800998ecf8427'), 'observables[0].value');
  add('md5 33 digits', ob('md5', 'd41d8cd98f00b204e9800998ecf8427ee'), 'observables[0].value');
  add('md5 not hex', ob('md5', 'g41d8cd98f00b204e9800998ecf8427e'), 'observables[0].value');
  add('sha1 39 digits', ob('sha1', 'da39a3ee5e6b4b0d3255bfef95601890afd8070'), 'observables[0].value');
  add('sha256 65 digits', ob('sha256', `${'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'}5`), 'observables[0].value');
  add('file with a directory', ob('file', 'C:\\Users\\x\\invoice.exe'), 'observables[0].value', nof);
  add('file with a slash', ob('file', 'tmp/x.sh'), 'observables[0].value', nof);
  add('cve short year', ob('cve', 'CVE-17-0144'), 'observables[0].value');
  add('cve 3-digit number', ob('cve', 'CVE-2017-144'), 'observables[0].value');
  add('cve trailing letter', ob('cve', 'CVE-2017-0144a'), 'observables[0].value');
  add('asn 0', ob('asn', 'AS0'), 'observables[0].value', nof);
  add('asn bare 0', ob('asn', '0'), 'observables[0].value', nof);
  add('asn above 32 bits', ob('asn', 'AS4294967296'), 'observables[0].value', nof);
  add('asn not a number', ob('asn', 'ASX'), 'observables[0].value');
  add('technique T12', ob('attack_technique', 'T12'), 'observables[0].value');
  add('technique short sub', ob('attack_technique', 'T1059.1'), 'observables[0].value');
  add('technique without T', ob('attack_technique', '1059'), 'observables[0].value');
  add('blank malware name', ob('malware', '   '), 'observables[0].value', nof);
  add('empty text', ob('text', ''), 'observables[0].value');
  add('unknown observable type', ob('hostname', 'pc-01'), 'observables[0].type');
  add('unknown observable role', ob('ipv4', '192.0.2.1', { role: 'suspect' }), 'observables[0].role');
  add('observable without value', { observables: [{ type: 'ipv4' }] }, 'observables[0].value');
  add('observable value not a string', ob('asn', 13335), 'observables[0].value');
  add('observable unknown field', ob('ipv4', '192.0.2.1', { ttl: 60 }), 'observables[0].ttl', { reason: 'unknown field' });
  add('second observable bad', { observables: [{ type: 'ipv4', value: '192.0.2.1' }, { type: 'ipv4', value: '999.0.0.1' }] }, 'observables[1].value', nof);
  add('observables not an array', { observables: { type: 'ipv4' } }, 'observables');
  add('501 observables', { observables: Array.from({ length: 501 }, (_, i) => ({ type: 'text', value: `o${i}` })) }, 'observables');
  // unknown and read-only fields
  add('unknown field', { colour: 'red' }, 'colour', { reason: 'unknown field' });
  add('id is not writable', { id: '01936a8e-4f5e-7c2a-9b1d-2f3e4a5b6c7d' }, 'id', { reason: 'unknown field' });
  add('stage is not writable', { stage: 'final' }, 'stage', { reason: 'unknown field' });
  add('org_id is not writable', { org_id: '01936a8e-4f5e-7c2a-9b1d-2f3e4a5b6c7d' }, 'org_id', { reason: 'unknown field' });
  add('revisions are not writable', { revisions: [] }, 'revisions', { reason: 'unknown field' });
  return C;
}

function bodyOf(fields) {
  const b = minimal(fields);
  for (const [k, v] of Object.entries(b)) if (v === undefined) delete b[k];
  return b;
}

test('every invalid report field → 422 naming the exact field; the document agrees; nothing is stored', async () => {
  const before = (await listReports(srv, A.token)).length;
  const failures = [];
  for (const c of createCases()) {
    const body = bodyOf(c.fields);
    const r = await srv.api('POST', '/api/v1/reports', { token: A.token, body });
    try {
      const p = assertProblem(r, 422, 'validation', [c.field]);
      assertResponse('POST', '/api/v1/reports', r);
      if (c.reason) assert.equal(p.errors.find((x) => x.field === c.field).reason, c.reason, `reason for ${c.field}`);
      for (const e of p.errors) assert.ok(typeof e.reason === 'string' && e.reason.length > 0, 'every error has a reason');
    } catch (e) {
      failures.push(`${c.label}: ${JSON.stringify(body).slice(0, 140)} → ${e.message.split('\n')[0].slice(0, 300)}`);
    }
    if (c.schema !== false && requestAccepts('POST', '/api/v1/reports', body)) failures.push(`${c.label}: api/openapi.json accepts this body`);
  }
  assert.equal((await listReports(srv, A.token)).length, before, 'no refused report was stored');
  assert.deepEqual(failures, [], `${failures.length} cases failed:\n${failures.join('\n')}`);
});

test('several bad fields at once are all reported', async () => {
  const r = await srv.api('POST', '/api/v1/reports', {
    token: A.token,
    body: { event_type: 'x', title: '', sectors: ['nowhere'], severity: { continuity: 9 }, occurred_at: 'yesterday', observables: [{ type: 'md5', value: 'abc' }], colour: 1 },
  });
  assertProblem(r, 422, 'validation', ['event_type', 'title', 'sectors[0]', 'severity.continuity', 'occurred_at', 'observables[0].value', 'colour']);
});

test('limits are inclusive: 200-char title, 20000-char description, 500 observables, 8 causes, levels 0 and 4, now', async () => {
  const body = {
    event_type: 'intrusion', title: '𠮷'.repeat(200), sectors: ['electricity', 'gas'], description: 'あ'.repeat(20000),
    causes: Array.from({ length: 8 }, (_, i) => ({ code: ['intentional', 'accidental', 'environmental', 'other'][i % 4], detail: 'd'.repeat(4000) })),
    severity: { continuity: 0, safety: 4, trust: null }, service: 's'.repeat(200), followup: 'f'.repeat(4000),
    occurred_at: hoursAgo(0, 540), detected_at: hoursAgo(0, -300), recovered_at: hoursAgo(0, 0),
    observables: Array.from({ length: 500 }, (_, i) => ({ type: 'ipv4', value: `10.0.${i >> 8}.${i & 255}`, role: 'victim' })),
  };
  assert.ok(requestAccepts('POST', '/api/v1/reports', body));
  const r = await fileReport(srv, A.token, body);
  assertResponse('POST', '/api/v1/reports', r);
  assert.equal([...r.json.title].length, 200);
  assert.equal([...r.json.description].length, 20000);
  assert.equal(r.json.observables.length, 500);
  assert.equal(r.json.causes.length, 8);
  assert.deepEqual(r.json.severity, { continuity: 0, safety: 4, trust: null, overall: 4 });
  // detected == occurred is fine; ISO fractions and Z are fine.
  const t = await fileReport(srv, A.token, minimal({ occurred_at: '2026-05-12T09:30:00.250Z', detected_at: '2026-05-12T18:30:00.250+09:00' }));
  assert.equal(t.json.detected_at, '2026-05-12T18:30:00.250+09:00', 'times are returned as given');
});

test('observables are normalised: IPv6 RFC 5952, CIDR host bits, domains, URLs, e-mail, hashes, CVE, ASN, techniques; duplicates dropped', async () => {
  const inp = [
    ['ipv6', '2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['ipv6', '2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['ipv6', '2001:DB8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['ipv6', 'FE80:0:0:0:0:0:0:0', 'fe80::'],
    ['ipv6', '2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['ipv4', '192.0.2.1', '192.0.2.1'],
    ['cidr', '10.1.2.3/8', '10.0.0.0/8'],
    ['cidr', '192.168.1.77/28', '192.168.1.64/28'],
    ['cidr', '203.0.113.9/32', '203.0.113.9/32'],
    ['cidr', '172.16.5.4/0', '0.0.0.0/0'],
    ['cidr', '2001:DB8:ABCD:12::1/48', '2001:db8:abcd::/48'],
    ['domain', 'Mail.Example.COM.', 'mail.example.com'],
    ['domain', 'xn--r8jz45g.JP', 'xn--r8jz45g.jp'],
    ['url', 'HTTPS://Example.COM/Path/File.EXE?Q=A#Frag', 'https://example.com/Path/File.EXE?Q=A#Frag'],
    ['email', 'Soc.Team@Example.JP', 'Soc.Team@example.jp'],
    ['md5', 'D41D8CD98F00B204E9800998ECF8427E', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['sha1', 'DA39A3EE5E6B4B0D3255BFEF95601890AFD80709', 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
    ['sha256', 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['cve', 'cve-2017-0144', 'CVE-2017-0144'],
    ['cve', 'Cve-2021-44228', 'CVE-2021-44228'],
    ['asn', '13335', 'AS13335'],
    ['asn', 'as2497', 'AS2497'],
    ['asn', 'AS4294967295', 'AS4294967295'],
    ['attack_technique', 't1059.001', 'T1059.001'],
    ['attack_technique', 't1566', 'T1566'],
    ['file', 'invoice.pdf.exe', 'invoice.pdf.exe'],
    ['malware', 'WannaCry', 'WannaCry'],
  ];
  const dups = [['ipv6', '2001:DB8::0:1'], ['domain', 'MAIL.example.com'], ['md5', 'd41d8cd98f00b204e9800998ecf8427e'], ['asn', 'AS13335']];
  const observables = [...inp.map(([type, value]) => ({ type, value, role: 'attacker' })), ...dups.map(([type, value]) => ({ type, value, role: 'victim' }))];
  const r = await fileReport(srv, A.token, minimal({ observables }));
  assertResponse('POST', '/api/v1/reports', r);
  const got = r.json.observables.map((o) => [o.type, o.value, o.role]);
  assert.deepEqual(got, inp.map(([type, , want]) => [type, want, 'attacker']), 'normalised, in order, duplicates (the later ones) dropped');
  const g = await getReport(srv, A.token, r.json.id);
  assert.deepEqual(g.json.observables, r.json.observables);
  // Revisions normalise too.
  const u = await revise(srv, A.token, r.json.id, { stage: 'update', changes: { observables: [{ type: 'ipv6', value: '2001:DB8:0:0:0:0:0:FF' }, { type: 'cidr', value: '10.9.8.7/16' }] } });
  assert.deepEqual(u.json.observables, [{ type: 'ipv6', value: '2001:db8::ff', role: 'other' }, { type: 'cidr', value: '10.9.0.0/16', role: 'other' }]);
});

test('revisions are validated like a create: 422 naming the content field; the report is unchanged', async () => {
  const rep = (await fileReport(srv, A.token, minimal({ severity: { continuity: 1 }, status: 'open', description: 'kept' }))).json;
  const cases = [
    [{ severity: { continuity: 5 } }, 'severity.continuity'],
    [{ severity: { trust: '2' } }, 'severity.trust'],
    [{ event_type: 'ransomware' }, 'event_type'],
    [{ event_type: null }, 'event_type'],
    [{ status: null }, 'status'],
    [{ status: 'finished' }, 'status'],
    [{ kind: null }, 'kind'],
    [{ title: null }, 'title'],
    [{ title: '   ' }, 'title'],
    [{ sectors: [] }, 'sectors'],
    [{ sectors: null }, 'sectors'],
    [{ sectors: ['electricity', 'atlantis'] }, 'sectors[1]'],
    [{ regime: 'nope' }, 'regime'],
    [{ detected_at: tomorrow() }, 'detected_at'],
    [{ occurred_at: '2026-05-12T18:30:00+09:00', detected_at: '2026-05-12T09:00:00Z' }, 'detected_at'],
    [{ observables: [{ type: 'cve', value: 'CVE-2017' }] }, 'observables[0].value'],
    [{ causes: [{ code: 'fate' }] }, 'causes[0].code'],
    [{ description: 'x'.repeat(20001) }, 'description'],
    [{ colour: 'red' }, 'colour'],
    [{ id: rep.id }, 'id'],
  ];
  const failures = [];
  for (const [changes, field] of cases) {
    const r = await srv.api('POST', `/api/v1/reports/${rep.id}/revisions`, { token: A.token, body: { stage: 'update', changes } });
    try {
      assertProblem(r, 422, 'validation', [field]);
      assertResponse('POST', '/api/v1/reports/{id}/revisions', r);
    } catch (e) { failures.push(`changes ${JSON.stringify(changes).slice(0, 100)}: ${e.message.split('\n')[0].slice(0, 240)}`); }
  }
  // A problem recorded before the store reached (the occurred_at of the report, not of the change) is caught too.
  const withOcc = (await fileReport(srv, A.token, minimal({ occurred_at: '2026-05-12T18:30:00+09:00' }))).json;
  const r = await srv.api('POST', `/api/v1/reports/${withOcc.id}/revisions`, { token: A.token, body: { stage: 'update', changes: { detected_at: '2026-05-01T00:00:00+09:00' } } });
  try { assertProblem(r, 422, 'validation', ['detected_at']); } catch (e) { failures.push(`detected_at before the stored occurred_at: ${e.message.split('\n')[0].slice(0, 200)}`); }
  const g = (await getReport(srv, A.token, rep.id)).json;
  assert.equal(g.revision, 1, 'no refused revision was appended');
  assert.equal(g.event_type, rep.event_type);
  assert.equal(g.status, 'open');
  assert.equal(g.description, 'kept');
  assert.deepEqual(failures, [], `${failures.length} cases failed:\n${failures.join('\n')}`);
});

test('report bodies up to 512 KiB are accepted (above the 64 KiB member limit); larger → 413, nothing stored', async () => {
  const before = (await listReports(srv, A.token)).length;
  const title = uniq('Big ');
  const padded = (bytes, t = title) => {
    const core = JSON.stringify(minimal({ title: t, description: 'x'.repeat(20000) }));
    return core.slice(0, -1) + ' '.repeat(bytes - Buffer.byteLength(core)) + '}';
  };
  const auth = { authorization: `Bearer ${A.token}`, 'content-type': 'application/json' };
  const at100k = await srv.api('POST', '/api/v1/reports', { token: A.token, body: padded(100 * 1024, `${title} 100k`) });
  assert.equal(at100k.status, 201, `100 KiB report: ${at100k.text.slice(0, 200)}`);
  const exact = await srv.api('POST', '/api/v1/reports', { token: A.token, body: padded(512 * 1024, `${title} exact`) });
  assert.equal(exact.status, 201, `exactly 512 KiB: ${exact.text.slice(0, 200)}`);
  for (const size of [512 * 1024 + 1, 600 * 1024, 2 * 1024 * 1024]) {
    const r = await rawRequest(srv.port, { path: '/api/v1/reports', body: padded(size), headers: { ...auth, 'content-length': String(size) } });
    assert.equal(r.status, 413, `${size} bytes: ${r.status} ${r.text.slice(0, 200)}`);
    assert.equal(r.json?.type, 'urn:isac:problem:too-large');
  }
  const big = padded(700 * 1024);
  const chunks = [];
  for (let i = 0; i < big.length; i += 16384) chunks.push(big.slice(i, i + 16384));
  const rc = await rawRequest(srv.port, { path: '/api/v1/reports', chunks, headers: auth });
  assert.equal(rc.status, 413, `chunked 700 KiB: ${rc.status} ${rc.text.slice(0, 200)}`);
  // Revisions: the same limit.
  const id = at100k.json.id;
  const rev = (n) => { const core = JSON.stringify({ stage: 'update', changes: { title: `${title} revised` } }); return core.slice(0, -1) + ' '.repeat(n - core.length) + '}'; };
  const rr = await rawRequest(srv.port, { path: `/api/v1/reports/${id}/revisions`, body: rev(600 * 1024), headers: { ...auth, 'content-length': String(600 * 1024) } });
  assert.equal(rr.status, 413, `600 KiB revision: ${rr.status} ${rr.text.slice(0, 200)}`);
  assert.equal((await getReport(srv, A.token, id)).json.revision, 1);
  const ok = await srv.api('POST', `/api/v1/reports/${id}/revisions`, { token: A.token, body: rev(200 * 1024) });
  assert.equal(ok.status, 201, `200 KiB revision: ${ok.text.slice(0, 200)}`);

  const after = await listReports(srv, A.token);
  assert.equal(after.length, before + 2);
  assert.equal(after.filter((x) => x.title === title).length, 0, 'no oversize report stored');
  assert.equal((await srv.api('GET', '/healthz')).status, 200);
});

test('malformed JSON, wrong content type, a non-object body → 400/415, nothing stored', async () => {
  const before = (await listReports(srv, A.token)).length;
  for (const text of ['{"event_type":"malware",', '[]', '"report"', '{"title":"a","title":"b","event_type":"malware","sectors":["gas"]}']) {
    const r = await srv.api('POST', '/api/v1/reports', { token: A.token, body: text });
    assertProblem(r, 400, 'malformed-json');
    assertResponse('POST', '/api/v1/reports', r);
  }
  const r = await srv.api('POST', '/api/v1/reports', { token: A.token, body: JSON.stringify(minimal()), contentType: 'text/plain' });
  assertProblem(r, 415, 'unsupported-media-type');
  assertResponse('POST', '/api/v1/reports', r);
  // Bytes that are not UTF-8 in a string (a stray byte, an overlong '/', a UTF-16 surrogate, past
  // U+10FFFF, a cut sequence) or outside one: 400 naming the encoding.
  const good = Buffer.from(JSON.stringify({ ...minimal(), title: 'TITLE-X' }));
  const at = good.indexOf('TITLE-X');
  for (const bad of [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe6, 0x97]]) {
    const body = Buffer.concat([good.subarray(0, at), Buffer.from(bad), good.subarray(at + 7)]);
    const res = await rawRequest(srv.port, { path: '/api/v1/reports', body,
      headers: { authorization: `Bearer ${A.token}`, 'content-type': 'application/json' } });
    const p = assertProblem({ ...res, contentType: res.headers['content-type'] }, 400, 'malformed-json');
    assert.match(p.detail, /UTF-8/, JSON.stringify(bad));
  }
  const outside = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf, 0x80]), good]);
  const res = await rawRequest(srv.port, { path: '/api/v1/reports', body: outside,
    headers: { authorization: `Bearer ${A.token}`, 'content-type': 'application/json' } });
  assertProblem({ ...res, contentType: res.headers['content-type'] }, 400, 'malformed-json');
  // ...and the same title in valid UTF-8 (Japanese, an emoji) is taken as is
  const ok = await srv.api('POST', '/api/v1/reports', { token: A.token, body: JSON.stringify({ ...minimal(), title: '変電所 🔒 停止' }) });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.json.title, '変電所 🔒 停止');
  assert.equal((await listReports(srv, A.token)).length, before + 1);
});
