// Canaries and channels: proof (b) of issue 4 (tests/e2e/canary.test.mjs).
//
// A CANARY is a unique string planted where only the provider and the coordinator may read it:
// the provider's registered names and identifiers (aliases, domains, IP ranges, host names,
// persons) and the text of one of its reports (title, description, service, follow-up, cause
// details, victim observables, contact). makeCanaries() makes a fresh set; scan() finds them.
//
// A CHANNEL is one way a reader can get something out of isac. Every channel is read by every
// user of every organisation other than the provider and the coordinator, and no canary may
// appear in anything it returned. To add a channel (the SSE stream, webhooks, e-mail, TAXII ...)
// register it, here or in the test file that brings the feature, with a few lines:
//
//   registerChannel('taxii objects', async (reader, world) => {
//     const r = await world.srv.api('GET', '/taxii2/api/collections/x/objects/', { token: reader.token });
//     return [r.text];
//   }, { shows: 'release' });
//
//   fn(reader, world) resolves an array of strings: whatever the reader received (response bodies
//     of every status, error bodies too; e-mails; webhook payloads; stream events).
//   reader: {name, org, role, token}; world: {srv, provider, report, release, marker, canaries,
//     readers} (see canary.test.mjs).
//   opts.shows = 'release': recipients get the published release through this channel; the test
//     then also checks that some reader's texts carry world.marker (a channel that returns
//     nothing proves nothing).
//   opts.allow = [canary names] this channel may legitimately carry (the member directory shows
//     every organisation's official name, so 'org name ja' / 'org name en' are allowed there).
//
// scan() matches case-insensitively after NFKC normalisation, in the raw text and in its
// JSON-decoded form (so \uXXXX escapes cannot hide a Japanese canary), and also with the spaces
// inside a canary removed (山田 太郎 / 山田太郎).
import { uniq } from './server.mjs';

const registry = [];

/** Adds a channel; see the top of this file. Returns the registry entry. */
export function registerChannel(name, fn, opts = {}) {
  if (registry.some((c) => c.name === name)) throw new Error(`channel ${name} registered twice`);
  const c = { name, fn, shows: opts.shows || null, allow: opts.allow || [] };
  registry.push(c);
  return c;
}

/** The registered channels, in registration order. */
export const channels = () => [...registry];

const rnd = (alphabet, n) => Array.from({ length: n }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
const KATAKANA = 'アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワ';
const LOWER = 'abcdefghijkmnpqrstuvwxyz';

/**
 * A fresh set of canaries. Returns {identifiers (for PATCH /orgs), name {ja, en} (for the org),
 * report (the fields of a report body planting them), list [{name, value}] (what scan() looks
 * for), marker (a harmless word in the title: proves the release went through)}.
 */
export function makeCanaries() {
  const k = rnd(KATAKANA, 4);
  const l = rnd(LOWER, 6);
  const octet = 1 + Math.floor(Math.random() * 250);
  const hex = (0x1000 + Math.floor(Math.random() * 0xe000)).toString(16);
  const c = {
    orgJa: `ツバメ${k}電力株式会社`,
    orgEn: `Swallowtail ${l[0].toUpperCase()}${l.slice(1)} Power Co.`,
    aliasJa: `燕${k}パワー`,
    aliasEn: `Swtl${l}`,
    domain: `swallow-${l}.co.jp`,
    ipRange: `198.18.${octet}.0/24`,
    ip: `198.18.${octet}.23`,
    ip6Range: `2001:db8:${hex}::/48`,
    ip6: `2001:db8:${hex}::15`,
    host: `scada-gw-${l}`,
    fqdn: `vpn01.swallow-${l}.co.jp`,
    personJa: `鷺沼 ${k}太郎`,
    personEn: `Taro Saginuma${l}`,
    email: `t.saginuma@swallow-${l}.co.jp`,
    email2: `saginuma.${l}@example.net`,
    phone: `03-5550-${String(1000 + Math.floor(Math.random() * 9000))}`,
    url: `https://vpn01.swallow-${l}.co.jp/remote/login`,
  };
  const marker = `Kestrel${rnd(LOWER, 6)}`;
  const identifiers = {
    aliases: [c.aliasJa, c.aliasEn],
    domains: [c.domain],
    ip_ranges: [c.ipRange, c.ip6Range],
    hostnames: [c.host],
    persons: [c.personJa, c.personEn],
  };
  const report = {
    event_type: 'intrusion',
    title: `${c.orgJa} ${marker} ${c.host} で不正通信`,
    description: [
      `${c.orgEn} (${c.aliasEn}, ${c.aliasJa}) のリモートアクセス装置 ${c.fqdn} (${c.ip}, ${c.ip6}) に不正ログイン。`,
      `担当: ${c.personJa} / ${c.personEn} <${c.email}>, 私用 ${c.email2}, 電話 ${c.phone}。`,
      `ログイン画面 ${c.url} への総当たり。攻撃元 203.0.113.99。`,
    ].join('\n'),
    service: `${c.aliasEn} remote access (${c.fqdn})`,
    followup: `${c.personJa} (${c.phone}) が続報予定。${c.email}`,
    causes: [{ code: 'intentional', detail: `${c.orgEn} の VPN 装置 ${c.host} (${c.ip}) の脆弱性` }],
    observables: [
      { type: 'ipv4', value: '203.0.113.99', role: 'attacker' },
      { type: 'malware', value: `${marker}Loader`, role: 'attacker' },
      { type: 'ipv4', value: c.ip, role: 'victim' },
      { type: 'ipv6', value: c.ip6, role: 'victim' },
      { type: 'domain', value: c.domain, role: 'victim' },
      { type: 'email', value: c.email, role: 'victim' },
      { type: 'url', value: c.url, role: 'victim' },
      { type: 'text', value: `${c.host} ${c.personEn}`, role: 'victim' },
      // Not a victim observable, but it names the provider's host: removed too (anon.h).
      { type: 'domain', value: c.fqdn, role: 'other' },
    ],
    contact: { name: c.personJa, email: c.email, phone: c.phone },
  };
  const list = [
    ['org name ja', c.orgJa], ['org name en', c.orgEn], ['alias ja', c.aliasJa], ['alias en', c.aliasEn],
    ['domain', c.domain], ['domain label', `swallow-${l}`], ['ip', c.ip], ['ip range', `198.18.${octet}.`],
    ['ipv6', c.ip6], ['ipv6 range', `2001:db8:${hex}:`], ['host', c.host], ['fqdn', c.fqdn],
    ['person ja', c.personJa], ['person en', c.personEn], ['surname en', `Saginuma${l}`],
    ['email', c.email], ['email 2', c.email2], ['phone', c.phone], ['phone digits', c.phone.replace(/-/g, '')],
    ['url', c.url],
  ].map(([name, value]) => ({ name, value }));
  return { c, identifiers, name: { ja: c.orgJa, en: c.orgEn }, report, list, marker, tag: uniq('cn') };
}

const norm = (s) => s.normalize('NFKC').toLowerCase();

/** The forms of a text that are searched: raw and JSON-decoded, NFKC, lower case. */
function forms(text) {
  const out = [norm(text)];
  const t = text.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try { out.push(norm(JSON.stringify(JSON.parse(t)))); } catch { /* not JSON */ }
  }
  return out;
}

/**
 * Canaries found in texts: [{name, value, at}] (at: a short excerpt around the hit).
 * allow: canary names to skip.
 */
export function scan(texts, list, allow = []) {
  const hits = [];
  const wanted = list.filter((x) => !allow.includes(x.name)).flatMap((x) => {
    const v = norm(x.value);
    const tight = v.replace(/\s+/g, '');
    return tight !== v ? [{ ...x, v }, { ...x, v: tight }] : [{ ...x, v }];
  });
  for (const text of texts) {
    if (typeof text !== 'string' || text === '') continue;
    for (const f of forms(text)) {
      for (const w of wanted) {
        const i = f.indexOf(w.v);
        if (i >= 0 && !hits.some((h) => h.name === w.name)) {
          hits.push({ name: w.name, value: w.value, at: f.slice(Math.max(0, i - 60), i + w.v.length + 60) });
        }
      }
    }
  }
  return hits;
}

/** Every page of a list endpoint: the text of each page (whatever the status). */
export async function pages(srv, token, path, max = 50) {
  const texts = [];
  let cursor = null;
  for (let i = 0; i < max; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const r = await srv.api('GET', `${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
    texts.push(r.text);
    cursor = r.status === 200 ? r.json?.next_cursor : null;
    if (!cursor) break;
  }
  return texts;
}

const get = async (world, reader, path) => (await world.srv.api('GET', path, { token: reader.token })).text;

// ---- the channels of issue 4: every HTTP read path another organisation can reach ----

registerChannel('inbox', (reader, w) => pages(w.srv, reader.token, '/api/v1/releases'), { shows: 'release' });

registerChannel('inbox filters', async (reader, w) => {
  const qs = ['sector=electricity', 'event_type=intrusion', 'tlp=CLEAR', 'min_severity=0',
    `q=${encodeURIComponent(w.marker)}`, `since=${encodeURIComponent('2000-01-01T00:00:00+09:00')}`];
  return (await Promise.all(qs.map((q) => pages(w.srv, reader.token, `/api/v1/releases?${q}`)))).flat();
}, { shows: 'release' });

registerChannel('release detail', (reader, w) => Promise.all([get(w, reader, `/api/v1/releases/${w.release.id}`)]), { shows: 'release' });

registerChannel('release export (STIX)', (reader, w) => Promise.all([
  get(w, reader, '/api/v1/releases/export?format=stix'),
  get(w, reader, `/api/v1/releases/export?format=stix&q=${encodeURIComponent(w.marker)}`),
]), { shows: 'release' });

registerChannel('work queues', async (reader, w) => {
  const states = ['draft', 'pending', 'approved', 'refused', 'published', 'superseded', 'withdrawn', 'any'];
  return (await Promise.all(states.map((s) => pages(w.srv, reader.token, `/api/v1/releases?state=${s}`)))).flat();
});

registerChannel('report versions', (reader, w) => Promise.all([get(w, reader, `/api/v1/reports/${w.report.id}/releases`)]));

registerChannel('consent requests', async (reader, w) => [
  await get(w, reader, `/api/v1/releases/${w.release.id}/audience-requests`),
  ...(await pages(w.srv, reader.token, '/api/v1/audience-requests')),
  ...(await pages(w.srv, reader.token, '/api/v1/audience-requests?state=pending')),
]);

registerChannel('original report', async (reader, w) => [
  await get(w, reader, `/api/v1/reports/${w.report.id}`),
  ...(await pages(w.srv, reader.token, '/api/v1/reports')),
  ...(await pages(w.srv, reader.token, `/api/v1/reports?q=${encodeURIComponent(w.marker)}`)),
  ...(await pages(w.srv, reader.token, '/api/v1/reports?sector=electricity')),
  await get(w, reader, '/api/v1/reports/due?within_hours=8784'),
]);

// The member directory shows every organisation's official name: that is what it is for.
registerChannel('organisation directory', async (reader, w) => [
  await get(w, reader, `/api/v1/orgs/${w.provider.org.id}`),
  ...(await pages(w.srv, reader.token, '/api/v1/orgs')),
  ...(await pages(w.srv, reader.token, `/api/v1/orgs?q=${encodeURIComponent('Swallowtail')}`)),
], { allow: ['org name ja', 'org name en'] });

registerChannel('users and me', async (reader, w) => [
  await get(w, reader, '/api/v1/me'),
  ...(await pages(w.srv, reader.token, '/api/v1/users')),
]);

registerChannel('anonymizer rules', (reader, w) => Promise.all([get(w, reader, '/api/v1/anon-rules')]));

// Auditors of every organisation read the log: ids and codes, never content.
registerChannel('audit log', (reader, w) => pages(w.srv, reader.token, '/api/v1/audit', 200));
