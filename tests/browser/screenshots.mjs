// Full-page screenshots of every page, in Japanese and English, at desktop and phone width.
// Usage (from the repo root): node tests/browser/screenshots.mjs [outdir]
// Default outdir: tests/out/screenshots/ (gitignored). Needs build/isac (or ISAC_BIN).
import fs from 'node:fs';
import path from 'node:path';
import { startServer, launchBrowser, ADMIN, REPO } from './server.mjs';

const OUT = path.resolve(process.argv[2] || path.join(REPO, 'tests', 'out', 'screenshots'));
const WIDTHS = [{ name: 'desktop', width: 1280, height: 800 }, { name: 'phone', width: 375, height: 740 }];
const LANGS = ['ja', 'en'];
const PAGES = [
  ['home', '#/home'],
  ['orgs', '#/orgs'],
  ['org-new', '#/orgs/new'],
  ['users', '#/users'],
  ['user-new', '#/users/new'],
  ['password', '#/password'],
];

// Demo organisations and users, so lists look like real use.
const ORGS = [
  ['Kanto Electric Power Co., Inc.', '関東電力株式会社', 'operator', ['electricity'], 'general'],
  ['Metropolitan Gas Co., Ltd.', '首都ガス株式会社', 'operator', ['gas'], 'general'],
  ['Electricity ISAC', '電力セプター', 'sector_hub', ['electricity'], 'class2'],
  ['Finance ISAC (CEPTOAR)', '金融セプター', 'sector_hub', ['finance', 'credit'], 'class2'],
  ['Ministry of Economy, Trade and Industry', '経済産業省', 'ministry', ['electricity', 'gas', 'chemical', 'petroleum', 'credit'], 'class2'],
  ['Minato Port Terminal Co.', '港湾ターミナル株式会社', 'operator', ['port', 'logistics'], 'general'],
  ['Sakura Security Research', 'さくらセキュリティ研究所', 'vendor', [], 'class1'],
  ['JP Computer Emergency Response Team', 'JPCERT コーディネーションセンター', 'agency', ['ict'], 'class1'],
];

async function seed(ctx) {
  const ids = [];
  for (const [en, ja, kind, sectors, tier] of ORGS) {
    const args = ['org', 'add', '--data', ctx.dir, '--name', en, '--name-ja', ja, '--kind', kind, '--tier', tier];
    for (const s of sectors) args.push('--sector', s);
    ids.push(await ctx.isac(args));
  }
  const users = [
    [ids[0], 'soc.kanto', '佐藤 花子', ['member', 'analyst'], 'ja'],
    [ids[0], 'it.admin@kanto-ep.example.jp', '鈴木 一郎', ['org_admin'], 'ja'],
    [ids[2], 'hub.electric', 'Electric ISAC desk', ['member', 'org_admin'], 'en'],
    [ctx.orgId, 'audit', '監査 次郎', ['auditor'], 'ja'],
  ];
  for (const [org, login, name, roles, locale] of users) {
    const args = ['user', 'add', '--data', ctx.dir, '--org', org, '--login', login, '--name', name, '--locale', locale];
    for (const r of roles) args.push('--role', r);
    await ctx.isac(args, 'a long enough password 123\n');
  }
}

// Reports, filed through the API as the Kanto operator once the daemon runs: the DOMAIN.md
// scenarios, one with updates (timeline), one overdue, one final, a draft, near-miss counts.
const OPERATOR = { login: 'soc.kanto', password: 'a long enough password 123' };
const AUDITOR = { login: 'audit', password: 'a long enough password 123' };

async function apiSession(base, user) {
  const res = await fetch(base + '/api/v1/session', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ login: user.login, password: user.password }) });
  if (res.status !== 201 && res.status !== 200) throw new Error('login ' + user.login + ': ' + res.status);
  const cookie = res.headers.get('set-cookie').split(';')[0];
  const { csrf_token: csrf } = await res.json();
  return async (method, path, body) => {
    const r = await fetch(base + '/api/v1' + path, { method, headers: { 'Content-Type': 'application/json', Cookie: cookie, 'X-CSRF-Token': csrf },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const data = await r.json().catch(() => null);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(data)}`);
    return data;
  };
}

/** RFC 3339 in Japan time, `days` from now, on the minute. */
function jst(days, hour) {
  const d = new Date(Date.now() + days * 86400_000 + 9 * 3600_000);
  if (hour !== undefined) d.setUTCHours(hour, 0, 0, 0);
  return d.toISOString().slice(0, 16) + ':00+09:00';
}

function lastMonth() {
  const d = new Date(Date.now() + 9 * 3600_000);
  d.setUTCDate(1); d.setUTCMonth(d.getUTCMonth() - 1);
  return d.toISOString().slice(0, 7);
}

async function seedReports(base) {
  const call = await apiSession(base, OPERATOR);
  const ids = {};
  // WannaCry-like: first report, then two updates.
  const w = await call('POST', '/reports', {
    event_type: 'malware', title: '事務用PCが起動直後にロックされ、身代金を要求する画面が表示',
    sectors: ['electricity'], service: '本社事務用PC（約120台）', regime: 'jp_electricity', basis: 'law',
    layer: 'malfunction', occurred_at: jst(-2, 18), detected_at: jst(-2, 19),
    severity: { continuity: 2, safety: 0 },
    causes: [{ code: 'intentional', detail: 'ワーム型ランサムウェアの可能性（SMB経由で拡散）' },
      { code: 'accidental', detail: '3月公開の更新プログラムが未適用のPCが残っていた' }],
    description: '金曜18時頃、本社事務フロアのPC数台が再起動後にロックされ、身代金を要求する画面が表示された。\n制御系ネットワークとは分離されており、電力供給への影響は確認されていない。\n感染端末はネットワークから切り離し済み。',
    contact: { name: '佐藤 花子（SOC）', email: 'soc@kanto-ep.example.jp', phone: '03-1234-5678' },
    observables: [
      { type: 'sha256', value: 'ed01ebfbc9eb5bbea545af4d01bf5f1071661840480439c6e5babe8e080e41aa', role: 'attacker' },
      { type: 'domain', value: 'iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com', role: 'attacker' },
      { type: 'cve', value: 'CVE-2017-0144', role: 'other' }],
    tlp: 'AMBER+STRICT', audience: { sectors: ['electricity', 'gas'], tiers: ['class1'], all_members: false, orgs: [] }, share_with_hub: true,
    purpose: '同種のシステムを運用する事業者の監視強化のため', handling: '組織外への転送禁止。対応完了後に破棄すること。',
  });
  ids.timeline = w.id;
  await call('POST', `/reports/${w.id}/revisions`, { stage: 'update', reason: 'ベンダーの解析で既知のワームと確認',
    changes: { severity: { continuity: 2, trust: 1 }, status: 'monitoring',
      followup: '未適用PCへ更新プログラムを適用中。適用前のPCは電源を入れないよう全社に通知した。' } });
  await call('POST', `/reports/${w.id}/revisions`, { stage: 'update', reason: '通信先を追加',
    changes: { observables: [...w.observables, { type: 'ipv4', value: '203.0.113.45', role: 'attacker' }], recovered_at: jst(-1, 9) } });
  await call('POST', `/reports/${w.id}/revisions`, { stage: 'update', reason: '関係事業者に限定',
    changes: { tlp: 'RED', audience: { orgs: ['3f2b8c1e-5a4d-4e6f-9b7a-1c2d3e4f5a6b'], sectors: [], tiers: [], all_members: false } } });

  // Port terminal: first → update → final (a full timeline).
  const p = await call('POST', '/reports', {
    event_type: 'availability', title: 'コンテナターミナルの管理システムが暗号化され荷役が停止',
    sectors: ['electricity'], severity: { continuity: 3 }, detected_at: jst(-12, 7), regime: 'jp_electricity', basis: 'serious',
    causes: [{ code: 'intentional', detail: 'リモート保守用VPN機器の脆弱性を悪用' }] });
  await call('POST', `/reports/${p.id}/revisions`, { stage: 'update', changes: { recovered_at: jst(-10, 15), status: 'monitoring' }, reason: '約2日半で荷役を再開' });
  await call('POST', `/reports/${p.id}/revisions`, { stage: 'final', changes: { status: 'closed', followup: 'VPN機器を更新し、保守回線を多要素認証に切り替えた。' } });
  ids.final = p.id;

  // Overdue: detected 40 days ago, the 30-day final report is late.
  await call('POST', '/reports', { event_type: 'availability', title: '料金収受システムの一部停止（乗客は無料で通過）',
    sectors: ['electricity'], severity: { continuity: 1, trust: 2 }, detected_at: jst(-40, 10), regime: 'jp_electricity' });
  // Near miss without a regime, and a draft.
  await call('POST', '/reports', { event_type: 'near_miss', title: '標的型メールを開封前に検知（添付ファイルのハッシュ値あり）',
    sectors: ['electricity'], causes: [{ code: 'intentional', detail: '取引先を装った送信元' }],
    observables: [{ type: 'email', value: 'invoice@example-trade.test', role: 'attacker' }] });
  await call('POST', '/reports', { event_type: 'intrusion', title: '（下書き）保守端末からの不審なログイン', sectors: ['electricity'], draft: true, regime: 'jp_electricity' });

  // Monthly near-miss counts, one of them re-submitted (history).
  const month = lastMonth();
  await call('POST', '/near-miss-counts', { month, entries: [{ event_type: 'near_miss', count: 12, note: '標的型メール' }, { event_type: 'malware', count: 2 }] });
  await call('POST', '/near-miss-counts', { month, entries: [{ event_type: 'near_miss', count: 14, note: '標的型メール（2件追加で判明）' }] });
  return ids;
}

// Releases (issue 4): the Kanto operator's identifiers, a gas operator to receive, and
// releases in each state the screens show: published (with a pending request for a wider
// audience), awaiting the provider's approval, and a draft in the analyst's editor.
const GAS_USER = { login: 'soc.gas', password: 'a long enough password 123' };

async function seedReleases(base) {
  const admin = await apiSession(base, { login: ADMIN.login, password: ADMIN.password });
  const op = await apiSession(base, OPERATOR);
  const orgs = (await admin('GET', '/orgs?limit=200')).items;
  const kanto = orgs.find((o) => o.name.en === 'Kanto Electric Power Co., Inc.');
  const gas = orgs.find((o) => o.name.en === 'Metropolitan Gas Co., Ltd.');
  await admin('PATCH', '/orgs/' + kanto.id, { identifiers: {
    aliases: ['関東電力', '関電', 'KEP'], domains: ['kanto-ep.example.jp'], ip_ranges: ['192.0.2.0/24'],
    hostnames: ['scada-gw01', 'hist-srv02'], persons: ['佐藤 花子', '山田 太郎'] } });
  await admin('POST', '/users', { login: GAS_USER.login, display_name: '高橋 美咲', org_id: gas.id, roles: ['member'],
    locale: 'ja', password: GAS_USER.password });
  const file = (body) => op('POST', '/reports', { sectors: ['electricity'], audience: { all_members: true, sectors: [], tiers: [], orgs: [] }, ...body });
  const ids = {};

  const a = await file({ event_type: 'intrusion', title: '関東電力の制御系ゲートウェイ scada-gw01 で不審な通信を検知',
    severity: { continuity: 1, safety: 0, trust: 2 }, layer: 'malfunction', detected_at: jst(-3, 9), tlp: 'AMBER+STRICT',
    description: '関東電力株式会社 本店の監視端末 scada-gw01 から外部の 198.51.100.23 へ不審な通信を検知した。\n当直の山田 太郎が通信を遮断し、hist-srv02.kanto-ep.example.jp のログを調査している。\n問い合わせ: soc@kanto-ep.example.jp / 03-1234-5678',
    causes: [{ code: 'intentional', detail: 'KEP の保守用 VPN 装置（192.0.2.10）の脆弱性を悪用された可能性' }],
    observables: [{ type: 'ipv4', value: '198.51.100.23', role: 'attacker' }, { type: 'ipv4', value: '192.0.2.10', role: 'victim' },
      { type: 'domain', value: 'update-check.example.net', role: 'attacker' }],
    purpose: '同種の装置を使う事業者の監視強化のため', handling: '組織内での共有に限る。対応完了後に破棄すること。' });
  const ra = await admin('POST', `/reports/${a.id}/releases`, {});
  await admin('POST', `/releases/${ra.id}/submit`, {});
  await op('POST', `/releases/${ra.id}/approve`, { note: '内容を確認しました。' });
  await admin('POST', `/releases/${ra.id}/publish`, {});
  await admin('POST', `/releases/${ra.id}/audience-requests`, { audience: { hub: true, all_members: true, sectors: [], tiers: [], orgs: [] },
    tlp: 'GREEN', reason: '他分野でも同じ装置が使われているため、TLP:GREEN で広く注意喚起したい。' });
  ids.published = ra.id;

  const b = await file({ event_type: 'malware', title: '事務用PCで身代金要求画面（佐藤 花子が発見）', tlp: 'AMBER',
    severity: { continuity: 2 }, description: '本社の事務用PC数台がロックされた。発見者は佐藤 花子（内線 1234）。\n感染源は kanto-ep.example.jp 宛のなりすましメールとみられる。' });
  const rb = await admin('POST', `/reports/${b.id}/releases`, {});
  await admin('POST', `/releases/${rb.id}/submit`, {});
  ids.pending = rb.id;

  const c = await file({ event_type: 'availability', title: '関電 hist-srv02 のディスク障害で監視データが欠落', tlp: 'GREEN',
    description: 'ヒストリアンサーバ hist-srv02 のディスク障害により、約 3 時間分の監視データが欠落した。\n復旧作業は山田 太郎（設備部）が担当。ベンダーの保守窓口 support@vendor.example.com に連絡済み。',
    followup: 'KEP 全拠点のヒストリアンで同型ディスクを点検する。' });
  const rc = await admin('POST', `/reports/${c.id}/releases`, {});
  ids.draft = rc.id;
  ids.draftReport = c.id;
  ids.kanto = kanto.id;
  return ids;
}

// Alerts (issue 5): a webhook for Kanto that nothing answers (its delivery log shows the
// failed tries), published alerts in each kind (routine and its correction, urgent with a
// release link and observables, a critical exercise), a draft to preview and publish, and
// receipts: the gas operator read and acted on the urgent one, Kanto read it.
async function seedAlerts(base, rel) {
  const admin = await apiSession(base, { login: ADMIN.login, password: ADMIN.password });
  const gas = await apiSession(base, GAS_USER);
  const op = await apiSession(base, OPERATOR);
  await admin('POST', `/orgs/${rel.kanto}/webhooks`, { url: 'https://127.0.0.1:9/isac/alerts' });
  const all = { all_members: true, orgs: [], sectors: [], tiers: [] };
  const publish = async (body) => {
    const a = await admin('POST', '/alerts', body);
    return admin('POST', `/alerts/${a.id}/publish`, {});
  };
  // A false alarm, withdrawn.
  const wrong = await publish({ title: { ja: '特定の監視カメラ製品を狙う攻撃（誤報）', en: 'Attacks on a CCTV product (false alarm)' },
    actions: { ja: '該当製品の管理画面をインターネットから遮断してください。', en: 'Take the product\'s management interface off the internet.' },
    urgency: 'urgent', audience: all, tlp: 'GREEN' });
  const gone = await admin('POST', `/alerts/${wrong.id}/versions`, { kind: 'withdrawal', reason: '製品の取り違えによる誤報でした。対応は不要です。' });
  await admin('POST', `/alerts/${gone.id}/publish`, {});
  const routine = await publish({ title: { ja: '年末年始の連絡体制の確認のお願い', en: 'Check your contact details before the holidays' },
    actions: { ja: '緊急連絡先（夜間・休日）が最新であることを確認し、変更があれば調整機関に届け出てください。', en: 'Make sure your out-of-hours contacts are current and report any change to the coordinator.' },
    urgency: 'routine', audience: all, tlp: 'GREEN' });
  const fix = await admin('POST', `/alerts/${routine.id}/versions`, { kind: 'correction',
    actions: { ja: '緊急連絡先（夜間・休日）が最新であることを 12 月 20 日までに確認し、変更があれば調整機関に届け出てください。', en: 'Make sure your out-of-hours contacts are current by 20 December and report any change to the coordinator.' } });
  await admin('POST', `/alerts/${fix.id}/publish`, {});
  const urgent = await publish({
    title: { ja: '保守用 VPN 装置の脆弱性を悪用した侵入が多発', en: 'Intrusions through a maintenance VPN appliance vulnerability' },
    summary: { ja: '電力分野を中心に、保守用 VPN 装置の既知の脆弱性を悪用した不正アクセスが複数確認されています。攻撃者は管理画面から設定を書き換え、内部ネットワークへの足掛かりとしています。', en: 'Several operators, mostly in electricity, have seen intrusions through a known vulnerability of maintenance VPN appliances.' },
    actions: { ja: '1. 該当する VPN 装置のファームウェアを直ちに最新版に更新してください。\n2. 管理画面へのアクセスを社内ネットワークからに限定してください。\n3. 下記の通信先への接続記録がないか、過去 30 日分のログを確認してください。', en: '1. Update the firmware of the affected VPN appliances now.\n2. Allow the management interface from the internal network only.\n3. Search 30 days of logs for connections to the addresses below.' },
    urgency: 'urgent', audience: all, tlp: 'AMBER', links: { releases: [rel.published], reports: [] },
    observables: [{ type: 'ipv4', value: '198.51.100.23', role: 'attacker' }, { type: 'domain', value: 'update-check.example.net', role: 'attacker' },
      { type: 'cve', value: 'CVE-2024-21762', role: 'other' }] });
  const drill = await publish({ title: { ja: '制御系ネットワークへの侵入を想定した連絡訓練', en: 'Drill: intrusion into a control network' },
    summary: { ja: '年次の連絡訓練です。実際の事象ではありません。', en: 'The yearly contact drill. Not a real event.' },
    actions: { ja: '訓練手順書に従って社内の連絡体制を確認し、この画面で「対応済み」を報告してください。', en: 'Check your contact chain as the drill plan says, then report it acted on here.' },
    urgency: 'critical', exercise: true, audience: all, tlp: 'GREEN' });
  const draft = await admin('POST', '/alerts', { title: { ja: 'ランサムウェアの侵入経路に関する注意喚起（電力・ガス）', en: 'Ransomware entry points (electricity and gas)' },
    actions: { ja: 'リモートデスクトップをインターネットに公開していないか確認してください。', en: 'Check that no remote desktop service is exposed to the internet.' },
    urgency: 'critical', audience: { sectors: ['electricity', 'gas'], orgs: [], tiers: [], all_members: false }, tlp: 'AMBER+STRICT' });
  await gas('GET', '/alerts');
  await gas('POST', `/alerts/${urgent.id}/receipts`, { kind: 'read' });
  await gas('POST', `/alerts/${urgent.id}/receipts`, { kind: 'acted', note: '全拠点の VPN 装置を更新し、管理画面のアクセス元を制限しました。' });
  await op('POST', `/alerts/${urgent.id}/receipts`, { kind: 'read' });
  const gasMe = await gas('GET', '/me');
  return { urgent: urgent.id, correction: fix.id, drill: drill.id, draft: draft.id, withdrawn: gone.id, firstEvent: wrong.event_id || 1,
    gasUserId: gasMe.user.id, kanto: rel.kanto, gasOrg: gasMe.org.id };
}

async function settle(page) {
  await page.locator('main h1').waitFor();
  await page.waitForLoadState('networkidle');
  await page.evaluate(() => document.fonts.ready);
  // Keep the screenshot free of the focus ring that route changes put on <h1>,
  // and of hover effects under wherever the mouse was left.
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.mouse.move(0, page.viewportSize().height - 1);
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const srv = await startServer({ setup: seed });
  const ids = await seedReports(srv.base);
  const browser = await launchBrowser();
  const shots = [];
  try {
    for (const w of WIDTHS) {
      for (const lang of LANGS) {
        const context = await browser.newContext({ viewport: { width: w.width, height: w.height }, locale: lang === 'ja' ? 'ja-JP' : 'en-GB', timezoneId: 'Asia/Tokyo', deviceScaleFactor: 1, reducedMotion: 'reduce' });
        await context.addInitScript((l) => { try { localStorage.setItem('isac.lang', l); } catch { /* */ } }, lang);
        const page = await context.newPage();
        page.setDefaultTimeout(15_000);
        const errors = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
        const shot = async (name) => {
          const file = path.join(OUT, `${w.name}-${lang}-${name}.png`);
          await page.screenshot({ path: file, fullPage: true });
          shots.push(file);
        };

        await page.goto(srv.base + '/');
        await page.locator('input[name="login"]').waitFor();
        await page.evaluate(() => document.fonts.ready);
        await shot('01-login');

        await page.locator('input[name="login"]').fill(ADMIN.login);
        await page.locator('input[name="password"]').fill(ADMIN.password);
        await page.locator('form.login-form button[type="submit"]').click();
        await page.locator('nav.mainnav').waitFor({ state: 'visible' });

        let n = 2;
        for (const [name, hash] of PAGES) {
          await page.goto(srv.base + '/' + hash);
          await settle(page);
          if (name === 'org-new') {
            // Show one contact row so its layout is visible too.
            await page.locator('.contacts-add button').click();
          }
          await shot(String(n).padStart(2, '0') + '-' + name);
          n += 1;
        }

        // The organisation form with validation errors from the server.
        await page.goto(srv.base + '/#/orgs/new');
        await settle(page);
        await page.locator('select[name="kind"]').selectOption('operator');
        await page.locator('.contacts-add button').click();
        await page.locator('.contact-row select').first().selectOption('email');
        await page.locator('form.form button[type="submit"]').click();
        await page.locator('.banner-error').waitFor();
        await page.evaluate(() => document.activeElement && document.activeElement.blur());
        await page.mouse.move(0, page.viewportSize().height - 1);
        await shot(String(n).padStart(2, '0') + '-org-new-errors');

        // A wrong sign-in attempt.
        await page.locator('header button.btn-on-dark').click();
        await page.locator('input[name="login"]').fill('nobody');
        await page.locator('input[name="password"]').fill('wrong password!');
        await page.locator('form.login-form button[type="submit"]').click();
        await page.locator('.login-msg .banner-error').waitFor();
        await shot(String(n + 1).padStart(2, '0') + '-login-error');

        // The reports pages, as the operator who filed them.
        await page.locator('header button.btn-on-dark').click().catch(() => {});
        await page.goto(srv.base + '/');
        await page.locator('input[name="login"]').fill(OPERATOR.login);
        await page.locator('input[name="password"]').fill(OPERATOR.password);
        await page.locator('form.login-form button[type="submit"]').click();
        await page.locator('nav.mainnav').waitFor({ state: 'visible' });
        n = 20;
        const next = () => String(n++).padStart(2, '0');
        await page.goto(srv.base + '/#/reports');
        await settle(page);
        await page.locator('table tbody tr').first().waitFor();
        await shot(next() + '-reports');
        await page.goto(srv.base + '/#/reports/new');
        await settle(page);
        await shot(next() + '-report-new');
        // The audience and TLP picker, opened from the first screen, with TLP:RED chosen.
        await page.locator('.marking-toggle').click();
        await page.locator('.marking-picker input[type="checkbox"][name="audience.all_members"]').check();
        await page.locator('.marking-picker input[type="radio"][value="RED"]').check();
        await page.locator('.marking-picker textarea[name="audience.orgs"]').fill('3f2b8c1e-5a4d-4e6f-9b7a-1c2d3e4f5a6b');
        await page.evaluate(() => document.activeElement && document.activeElement.blur());
        await page.mouse.move(0, page.viewportSize().height - 1);
        await shot(next() + '-report-new-marking');
        await page.locator('.marking-picker input[type="radio"][value="AMBER"]').check();
        await page.locator('.marking-picker textarea[name="audience.orgs"]').fill('');
        await page.locator('.marking-toggle').click();
        await page.locator('details.form-details > summary').click();
        await page.locator('.report-form input[type="radio"][value="malware"]').check();
        await page.locator('.report-form input[name="title"]').fill(lang === 'ja' ? '不審な通信を検知' : 'Suspicious traffic detected');
        await page.locator('select[name="severity.continuity"]').selectOption('2');
        await page.locator('.report-form .rows-add button').first().click();
        await page.locator('.report-form .rows-add button').last().click();
        await page.locator('.row-fields-obs input').fill('203.0.113.300');
        await page.locator('input[name="detected_at"]').fill(jst(1).slice(0, 16));
        await page.locator('.report-form button[type="submit"]').first().click();
        await page.locator('.banner-error').waitFor();
        await page.evaluate(() => document.activeElement && document.activeElement.blur());
        await page.mouse.move(0, page.viewportSize().height - 1);
        await shot(next() + '-report-new-details-errors');
        await page.goto(srv.base + '/#/reports/' + ids.timeline);
        await settle(page);
        await shot(next() + '-report-timeline');
        await page.locator('.page-actions button').first().click();
        await page.locator('.action-panel').waitFor();
        await page.evaluate(() => document.activeElement && document.activeElement.blur());
        await shot(next() + '-report-final-panel');
        await page.goto(srv.base + '/#/reports/' + ids.final);
        await settle(page);
        await page.evaluate(() => { for (const d of document.querySelectorAll('.tl-initial')) d.open = true; });
        await shot(next() + '-report-final');
        await page.goto(srv.base + '/#/reports/' + ids.timeline + '/update');
        await settle(page);
        await shot(next() + '-report-update');
        await page.goto(srv.base + '/#/due?within=720');
        await settle(page);
        await shot(next() + '-due');
        await page.goto(srv.base + '/#/near-miss');
        await settle(page);
        await page.locator('.nm-history tbody tr').first().waitFor();
        await shot(next() + '-near-miss');
        // The coordinator's view: every organisation's reports and the near-miss totals.
        await page.locator('header button.btn-on-dark').click();
        await page.locator('input[name="login"]').fill(ADMIN.login);
        await page.locator('input[name="password"]').fill(ADMIN.password);
        await page.locator('form.login-form button[type="submit"]').click();
        await page.locator('nav.mainnav').waitFor({ state: 'visible' });
        await page.goto(srv.base + '/#/near-miss');
        await settle(page);
        await page.locator('table.matrix').waitFor();
        await shot(next() + '-near-miss-totals');

        // The audit log, as the auditor: the list (with the failed sign-in above), an entry
        // opened and the chain verified, then a broken chain (the verify answer is faked).
        await page.locator('header button.btn-on-dark').click();
        await page.locator('input[name="login"]').fill(AUDITOR.login);
        await page.locator('input[name="password"]').fill(AUDITOR.password);
        await page.locator('form.login-form button[type="submit"]').click();
        await page.locator('nav.mainnav').waitFor({ state: 'visible' });
        await page.goto(srv.base + '/#/audit');
        await settle(page);
        await page.locator('table tbody tr.audit-row').first().waitFor();
        await shot(next() + '-audit');
        await page.locator('table tbody tr.audit-row').filter({ hasText: 'user.create' }).first().locator('.audit-toggle').click();
        await page.locator('.verify-btn').click();
        await page.locator('.verify-slot .banner').waitFor();
        await page.evaluate(() => document.activeElement && document.activeElement.blur());
        await page.mouse.move(0, page.viewportSize().height - 1);
        await shot(next() + '-audit-open-verified');
        await page.route('**/api/v1/audit/verify', (route) => route.fulfill({ json: {
          intact: false, entries: 42, head: 'ab'.repeat(32), first_bad: 17, reason: 'its fields do not match its hash (altered)' } }));
        await page.locator('.verify-btn').click();
        await page.locator('.verify-slot .banner-error').waitFor();
        await page.evaluate(() => document.activeElement && document.activeElement.blur());
        await page.mouse.move(0, page.viewportSize().height - 1);
        await shot(next() + '-audit-broken');
        await page.unroute('**/api/v1/audit/verify');

        const unexpected = errors.filter((e) => !/status of (401|422)/.test(e));
        if (unexpected.length) console.error(`${w.name}/${lang}: page errors:\n  ` + unexpected.join('\n  '));
        await context.close();
      }
    }
    // Releases, seeded only now so that the audit screens above still show their first page.
    const rel = await seedReleases(srv.base);
    for (const w of WIDTHS) {
      for (const lang of LANGS) {
        const context = await browser.newContext({ viewport: { width: w.width, height: w.height }, locale: lang === 'ja' ? 'ja-JP' : 'en-GB', timezoneId: 'Asia/Tokyo', deviceScaleFactor: 1, reducedMotion: 'reduce' });
        await context.addInitScript((l) => { try { localStorage.setItem('isac.lang', l); } catch { /* */ } }, lang);
        const page = await context.newPage();
        page.setDefaultTimeout(15_000);
        const errors = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
        const shot = async (name) => {
          const file = path.join(OUT, `${w.name}-${lang}-${name}.png`);
          await page.screenshot({ path: file, fullPage: true });
          shots.push(file);
        };
        let n = 60;
        const next = () => String(n++).padStart(2, '0');
        // Releases: the recipient's inbox and release page, the provider's approvals, the
        // analyst's redaction editor and work queue, the organisation's identifiers.
        const signIn = async (user) => {
          const out = page.locator('header button.btn-on-dark');
          if (await out.isVisible()) await out.click();
          await page.goto(srv.base + '/');
          await page.locator('input[name="login"]').fill(user.login);
          await page.locator('input[name="password"]').fill(user.password);
          await page.locator('form.login-form button[type="submit"]').click();
          await page.locator('nav.mainnav').waitFor({ state: 'visible' });
        };
        await signIn(GAS_USER);
        await page.goto(srv.base + '/#/inbox');
        await settle(page);
        await page.locator('table tbody tr').first().waitFor();
        await shot(next() + '-inbox');
        await page.goto(srv.base + '/#/releases/' + rel.published);
        await settle(page);
        await shot(next() + '-release-recipient');
        await signIn(OPERATOR);
        await page.goto(srv.base + '/#/approvals');
        await settle(page);
        await page.locator('.consent-card').first().waitFor();
        await shot(next() + '-approvals');
        await page.goto(srv.base + '/#/releases/' + rel.pending);
        await settle(page);
        await page.locator('.decision-panel').waitFor();
        await shot(next() + '-release-approve');
        await signIn({ login: ADMIN.login, password: ADMIN.password });
        await page.goto(srv.base + '/#/releases/' + rel.draft);
        await settle(page);
        await page.locator('.redaction-editor').waitFor();
        await page.evaluate(() => {
          // A selection in the original, as the analyst makes one before "hide the selection".
          const box = document.querySelector('.redact-text[data-field="description"]');
          const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
          for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            const i = n.data.indexOf('設備部');
            if (i < 0) continue;
            const r = document.createRange();
            r.setStart(n, i); r.setEnd(n, i + 3);
            getSelection().removeAllRanges(); getSelection().addRange(r);
            break;
          }
        });
        await page.locator('.redact-selection.has-selection').waitFor();
        await shot(next() + '-release-editor');
        await page.evaluate(() => getSelection().removeAllRanges());
        await page.goto(srv.base + '/#/releases/' + rel.published);
        await settle(page);
        await page.locator('.consent-card').first().waitFor();
        await shot(next() + '-release-published-analyst');
        await page.goto(srv.base + '/#/release-queue?state=any');
        await settle(page);
        await page.locator('table tbody tr').first().waitFor();
        await shot(next() + '-release-queue');
        await page.goto(srv.base + '/#/reports/' + rel.draftReport);
        await settle(page);
        await page.locator('.release-versions table').waitFor();
        await shot(next() + '-report-releases');
        await page.goto(srv.base + '/#/orgs/' + rel.kanto);
        await settle(page);
        await shot(next() + '-org-identifiers');

        const unexpected = errors.filter((e) => !/status of (401|422)/.test(e));
        if (unexpected.length) console.error(`${w.name}/${lang}: page errors (releases):\n  ` + unexpected.join('\n  '));
        await context.close();
      }
    }
    // Alerts: the live banner over a member's home page (events replayed from the first
    // alert's), the inbox, the alert pages, the compose form, preview, publish, delivery, webhooks.
    const al = await seedAlerts(srv.base, rel);
    for (const w of WIDTHS) {
      for (const lang of LANGS) {
        const context = await browser.newContext({ viewport: { width: w.width, height: w.height }, locale: lang === 'ja' ? 'ja-JP' : 'en-GB', timezoneId: 'Asia/Tokyo', deviceScaleFactor: 1, reducedMotion: 'reduce' });
        await context.addInitScript((l) => { try { localStorage.setItem('isac.lang', l); } catch { /* */ } }, lang);
        const page = await context.newPage();
        page.setDefaultTimeout(15_000);
        const errors = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
        const shot = async (name) => {
          const file = path.join(OUT, `${w.name}-${lang}-${name}.png`);
          await page.screenshot({ path: file, fullPage: true });
          shots.push(file);
        };
        const quiet = async () => {
          await page.evaluate(() => document.activeElement && document.activeElement.blur());
          await page.mouse.move(0, page.viewportSize().height - 1);
        };
        let n = 80;
        const next = () => String(n++).padStart(2, '0');
        const signIn = async (user) => {
          const out = page.locator('header button.btn-on-dark');
          if (await out.isVisible()) await out.click();
          await page.goto(srv.base + '/');
          await page.locator('input[name="login"]').fill(user.login);
          await page.locator('input[name="password"]').fill(user.password);
          await page.locator('form.login-form button[type="submit"]').click();
          await page.locator('nav.mainnav').waitFor({ state: 'visible' });
        };
        await signIn(GAS_USER);
        // Resume the stream from before the first alert, as after a reload: every alert since arrives.
        await page.evaluate(([k, v]) => sessionStorage.setItem(k, v), ['isac.alerts.last.' + al.gasUserId, String(al.firstEvent - 1)]);
        await page.reload();
        await page.locator('.live-alert').nth(2).waitFor({ state: 'attached' });
        await settle(page);
        await shot(next() + '-alert-banners');
        while (await page.locator('.live-alert-close').count()) await page.locator('.live-alert-close').first().click();
        await page.goto(srv.base + '/#/alerts');
        await settle(page);
        await page.locator('table tbody tr').first().waitFor();
        await shot(next() + '-alerts');
        await page.goto(srv.base + '/#/alerts?exercise=true');
        await settle(page);
        await page.locator('table tbody tr').first().waitFor();
        await shot(next() + '-alerts-exercises');
        await page.goto(srv.base + '/#/alerts/' + al.urgent);
        await settle(page);
        await page.locator('.receipt-panel.is-acted').waitFor();
        await shot(next() + '-alert-recipient');
        await page.goto(srv.base + '/#/alerts/' + al.drill);
        await settle(page);
        await shot(next() + '-alert-exercise');
        await page.goto(srv.base + '/#/alerts/' + al.withdrawn);
        await settle(page);
        await shot(next() + '-alert-withdrawn');

        await signIn({ login: ADMIN.login, password: ADMIN.password });
        await page.goto(srv.base + '/#/alerts/new');
        await settle(page);
        await shot(next() + '-alert-new');
        await page.locator('form.alert-form input[name="title.en"]').fill(lang === 'ja' ? ' ' : 'Phishing mails posing as the coordinator');
        await page.locator('form.alert-form button[type="submit"]').click();
        await page.locator('.banner-error').waitFor();
        await quiet();
        await shot(next() + '-alert-new-errors');
        await page.goto(srv.base + '/#/alerts/' + al.draft);
        await settle(page);
        await page.locator('.alert-preview input[name="org_id"]').fill(al.gasOrg);
        await page.locator('.alert-preview button[type="submit"]').click();
        await page.locator('.preview-frame').waitFor();
        await quiet();
        await shot(next() + '-alert-draft-preview');
        await page.locator('button[data-action="publish"]').click();
        await page.locator('.publish-panel').waitFor();
        await quiet();
        await shot(next() + '-alert-publish-confirm');
        await page.goto(srv.base + '/#/alerts/' + al.urgent + '/delivery');
        await settle(page);
        await page.locator('.stat-tiles').waitFor();
        await shot(next() + '-alert-delivery');
        await page.goto(srv.base + '/#/alerts?state=any');
        await settle(page);
        await page.locator('table tbody tr').first().waitFor();
        await shot(next() + '-alerts-issuer');
        await page.goto(srv.base + '/#/orgs/' + al.kanto);
        await settle(page);
        await page.locator('.webhook-table tbody tr[data-webhook]').first().waitFor();
        await page.locator('.webhook-form input[name="url"]').fill('https://soc.kanto-ep.example.jp/hooks/isac');
        await page.locator('.webhook-form button[type="submit"]').click();
        await page.locator('.secret-box').waitFor();
        await page.locator('.webhook-table tbody tr[data-webhook]').nth(1).waitFor();
        // The failing webhook's log: its tries so far.
        await page.locator('.webhook-table tr[data-webhook]').filter({ hasText: '127.0.0.1:9' }).locator('button[aria-expanded]').click();
        await page.locator('.webhook-log-box table:not([hidden]), .webhook-log-box p.muted:not([hidden])').first().waitFor();
        await quiet();
        await page.locator('.webhooks').scrollIntoViewIfNeeded();
        await shot(next() + '-org-webhooks');
        // Leave the list as it was for the next language and width.
        const added = page.locator('.webhook-table tbody tr[data-webhook]').filter({ hasText: 'soc.kanto-ep.example.jp' });
        await added.locator('.btn-danger-quiet').click();
        await added.locator('.btn-danger').click();
        await page.locator('.webhook-table tbody tr[data-webhook]').filter({ hasText: 'soc.kanto-ep.example.jp' }).waitFor({ state: 'detached' });

        const unexpected = errors.filter((e) => !/status of (401|422)/.test(e));
        if (unexpected.length) console.error(`${w.name}/${lang}: page errors (alerts):\n  ` + unexpected.join('\n  '));
        await context.close();
      }
    }
  } finally {
    await browser.close();
    await srv.stop();
  }
  console.log(`${shots.length} screenshots in ${path.relative(process.cwd(), OUT) || OUT}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
