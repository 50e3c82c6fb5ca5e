// `isac report` against the live server over HTTP: submit (file, stdin, draft, idempotency key),
// revise, list, show, due; exit codes and output; validation errors printed with the field.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, runCli, freePort, uniq, UUID_RE } from './lib/server.mjs';
import { assertSchema } from './lib/openapi.mjs';
import { orgWithUser, minimal, getReport, listReports } from './lib/reports.mjs';

let srv;
let A;
let dir;
before(async () => {
  srv = await startServer();
  A = await orgWithUser(srv, { sectors: ['electricity'] });
  dir = await mkdtemp(join(tmpdir(), 'isac-e2e-cli-'));
});
after(async () => {
  await srv?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const SANITIZER_RE = /AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:/;
let n = 0;
async function jsonFile(obj) {
  n += 1;
  const p = join(dir, `body${n}.json`);
  await writeFile(p, typeof obj === 'string' ? obj : JSON.stringify(obj));
  return p;
}
/** Runs `isac report ...` with --url and --token (unless given in env); asserts no sanitizer report. */
async function report(args, { token = A.token, url = srv.base, env, input, flags = true } = {}) {
  const r = await runCli(['report', ...args, ...(flags ? ['--url', url, '--token', token] : [])], { env, input });
  assert.ok(!SANITIZER_RE.test(r.stderr), `isac report ${args.join(' ')}: sanitizer report:\n${r.stderr}`);
  return r;
}

test('submit --file prints the new report as JSON and exits 0; show --id prints it; list prints a line', async () => {
  const body = minimal({ title: uniq('CLI 報告 '), severity: { continuity: 2 }, regime: 'jp_electricity', detected_at: '2026-05-12T18:30:00+09:00' });
  const r = await report(['submit', '--file', await jsonFile(body)]);
  assert.equal(r.code, 0, r.stderr);
  const created = JSON.parse(r.stdout);
  assert.match(created.id, UUID_RE);
  assertSchema('Report', created, 'isac report submit output');
  assert.equal(created.title, body.title);
  assert.equal(created.stage, 'first');
  assert.equal(created.created_by, A.user.id);
  const g = await getReport(srv, A.token, created.id);
  assert.equal(g.status, 200, 'stored on the server');

  const s = await report(['show', '--id', created.id]);
  assert.equal(s.code, 0, s.stderr);
  const shown = JSON.parse(s.stdout);
  assert.deepEqual({ ...shown, due: { ...shown.due, seconds_left: 0 } }, { ...g.json, due: { ...g.json.due, seconds_left: 0 } }, 'show prints the report as the API has it');

  const l = await report(['list']);
  assert.equal(l.code, 0, l.stderr);
  const lines = l.stdout.trim().split('\n');
  const line = lines.find((x) => x.startsWith(`${created.id}\t`));
  assert.ok(line, `list shows the report:\n${l.stdout}`);
  assert.deepEqual(line.split('\t'), [created.id, 'first', 'malware', '2', 'open', body.title, 'due 2026-06-11T09:30:00Z']);
  assert.equal(lines.length, Math.min(50, (await listReports(srv, A.token)).length), 'one line per report of the first page');
  const f = await report(['list', '--event-type', 'near_miss']);
  assert.equal(f.code, 0, f.stderr);
  assert.ok(!f.stdout.includes(created.id), 'list filters are passed on');

  const d = await report(['due', '--within-hours', '8784']);
  assert.equal(d.code, 0, d.stderr);
  assert.ok(d.stdout.split('\n').some((x) => x.startsWith(`${created.id}\t`) && x.endsWith('\tdue 2026-06-11T09:30:00Z')), d.stdout);
});

test('submit from stdin, as a draft, with an idempotency key; revise --id --file', async () => {
  const body = minimal({ title: uniq('stdin ') });
  const key = uniq('cli-key-');
  const r1 = await report(['submit', '--file', '-', '--draft', '--idempotency-key', key], { input: JSON.stringify(body) });
  assert.equal(r1.code, 0, r1.stderr);
  const d = JSON.parse(r1.stdout);
  assert.equal(d.stage, 'draft');
  assert.equal(d.title, body.title);
  const r2 = await report(['submit', '--file', '-', '--draft', '--idempotency-key', key], { input: JSON.stringify(body) });
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(JSON.parse(r2.stdout).id, d.id, 'the retried submit made nothing new');
  assert.equal((await listReports(srv, A.token, `q=${encodeURIComponent(body.title)}`)).length, 1);

  const rv = await report(['revise', '--id', d.id, '--file', await jsonFile({ stage: 'first', changes: { description: '続報\n二行目' } })]);
  assert.equal(rv.code, 0, rv.stderr);
  const out = JSON.parse(rv.stdout);
  assert.equal(out.stage, 'first');
  assert.equal(out.description, '続報\n二行目');
  assert.equal(out.revision, 2);

  // Environment instead of flags.
  const e = await report(['show', '--id', d.id], { flags: false, env: { ISAC_URL: `${srv.base}/`, ISAC_TOKEN: A.token } });
  assert.equal(e.code, 0, e.stderr);
  assert.equal(JSON.parse(e.stdout).id, d.id);
});

test('a validation error: exit 1, the status and each field with its reason on stderr, nothing on stdout, nothing stored', async () => {
  const before = (await listReports(srv, A.token)).length;
  const r = await report(['submit', '--file', await jsonFile({ event_type: 'ransomware', title: 'x', sectors: ['atlantis'], severity: { trust: 7 } })]);
  assert.equal(r.code, 1, `exit code: ${r.code} ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /\b422\b/);
  for (const f of ['event_type', 'sectors[0]', 'severity.trust']) {
    assert.ok(r.stderr.split('\n').some((l) => l.trim().startsWith(`${f}: `) && l.trim().length > f.length + 2), `stderr names ${f} with a reason:\n${r.stderr}`);
  }
  assert.equal((await listReports(srv, A.token)).length, before);
  const rv = await report(['revise', '--id', (await srv.api('POST', '/api/v1/reports', { token: A.token, body: minimal() })).json.id, '--file', await jsonFile({ stage: 'reopen', reason: 'x' })]);
  assert.equal(rv.code, 1);
  assert.match(rv.stderr, /\b422\b/);
  assert.match(rv.stderr, /^\s+stage: \S/m);
});

test('errors: not found, bad token, unreachable server, no token, not JSON, usage', async () => {
  const nf = await report(['show', '--id', '01936a8e-4f5e-7c2a-9b1d-2f3e4a5b6c7d']);
  assert.equal(nf.code, 1);
  assert.match(nf.stderr, /\b404\b/);
  assert.equal(nf.stdout, '');
  const bad = await report(['list'], { token: 'isac_notatoken0000000000000000' });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /\b401\b/);
  const down = await report(['list'], { url: `http://127.0.0.1:${await freePort()}` });
  assert.equal(down.code, 1);
  assert.match(down.stderr, /cannot reach/);
  const noTok = await runCli(['report', 'list', '--url', srv.base], { env: { ISAC_TOKEN: '' } });
  assert.notEqual(noTok.code, 0);
  const notJson = await report(['submit', '--file', await jsonFile('{"event_type": ')]);
  assert.equal(notJson.code, 1);
  assert.match(notJson.stderr, /not a JSON object/);
  const missing = await report(['submit', '--file', join(dir, 'no-such-file.json')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot open/);
  const usage = await report(['submit']);
  assert.equal(usage.code, 2, 'submit without --file is a usage error');
  const unknown = await report(['explode']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown report command/);
  const help = await runCli(['report', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /isac report submit --file FILE/);
  const auditor = await srv.userWithToken({ org_id: A.org.id, roles: ['auditor'] });
  const forb = await report(['submit', '--file', await jsonFile(minimal())], { token: auditor.token });
  assert.equal(forb.code, 1);
  assert.match(forb.stderr, /\b403\b/);
});
