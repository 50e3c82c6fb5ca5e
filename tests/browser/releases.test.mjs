// Browser tests of releases (node --test tests/browser/): the provider's org admin registers
// identifiers on the organisation page; an operator files a report in Japanese that names
// itself, a host and a person, for all members; the coordinator analyst prepares a release,
// undoes a redaction and adds it again by selecting the text, and asks for approval; the
// provider approves on its approvals page; the analyst publishes; a member of another sector
// finds it in the inbox with its TLP label and reads it without any trace of the provider.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, launchBrowser, newPage, login } from './server.mjs';

const OP = { login: 'soc.kanto', password: 'operator password 123', name: '佐藤 花子' };
const OP_ADMIN = { login: 'admin.kanto', password: 'org admin password 12', name: '鈴木 一郎' };
const COORD = { login: 'coord.analyst', password: 'coordinator password 1', name: '調整 次郎' };
const GAS = { login: 'soc.gas', password: 'gas operator password', name: '高橋 美咲' };

const PROVIDER = { ja: '関東電力株式会社', en: 'Kanto Electric Power' };
const HOST = 'scada-gw01';
const PERSON = '山田 太郎';
const DOMAIN = 'kanto-ep.example.jp';
const TITLE = '関東電力株式会社の制御系ゲートウェイで不審な通信を検知';
const DESCRIPTION = `${PROVIDER.ja} 本店の監視端末 ${HOST} から外部の 198.51.100.23 へ不審な通信を検知した。\n`
  + `当直の${PERSON}が通信を遮断し、${HOST}.${DOMAIN} のログを調査している。`;
const isCall = (method, suffix) => (r) => r.request().method() === method && new URL(r.url()).pathname.endsWith(suffix);

describe('releases UI: report → release → approval → publish → inbox', () => {
  let srv; let browser;
  const pages = {};
  let reportId = null;
  let releaseId = null;

  /** One browser context per user, signed in once, Japanese UI. */
  async function as(user) {
    if (pages[user.login]) return pages[user.login].page;
    const p = await newPage(browser, { timezoneId: 'Asia/Tokyo' });
    await login(p.page, srv.base, user);
    await p.page.getByRole('button', { name: '日本語' }).click();
    pages[user.login] = p;
    return p.page;
  }

  before(async () => {
    srv = await startServer({
      setup: async (ctx) => {
        const d = ['--data', ctx.dir];
        const kanto = await ctx.isac(['org', 'add', ...d, '--name', PROVIDER.en, '--name-ja', PROVIDER.ja,
          '--kind', 'operator', '--sector', 'electricity', '--tier', 'general', '--identifiers', '-'],
        JSON.stringify({ domains: [DOMAIN] }));
        // Enough operators in the sector that the pseudonym may name it (anon.h: k = 5).
        for (let i = 1; i <= 4; i += 1) {
          await ctx.isac(['org', 'add', ...d, '--name', `Electric Co ${i}`, '--name-ja', `電力会社${i}`,
            '--kind', 'operator', '--sector', 'electricity', '--tier', 'general']);
        }
        const gas = await ctx.isac(['org', 'add', ...d, '--name', 'Metropolitan Gas', '--name-ja', '首都ガス株式会社',
          '--kind', 'operator', '--sector', 'gas', '--tier', 'general']);
        await ctx.isac(['user', 'add', ...d, '--org', kanto, '--login', OP.login, '--role', 'member', '--name', OP.name, '--locale', 'ja'], OP.password + '\n');
        await ctx.isac(['user', 'add', ...d, '--org', kanto, '--login', OP_ADMIN.login, '--role', 'org_admin', '--name', OP_ADMIN.name, '--locale', 'ja'], OP_ADMIN.password + '\n');
        await ctx.isac(['user', 'add', ...d, '--org', ctx.orgId, '--login', COORD.login, '--role', 'analyst', '--name', COORD.name, '--locale', 'ja'], COORD.password + '\n');
        await ctx.isac(['user', 'add', ...d, '--org', gas, '--login', GAS.login, '--role', 'member', '--name', GAS.name, '--locale', 'ja'], GAS.password + '\n');
      },
    });
    browser = await launchBrowser();
  });
  after(async () => {
    if (browser) await browser.close();
    if (srv) await srv.stop();
  });

  test('the menu shows each user what is theirs', async () => {
    const nav = async (user) => (await (await as(user)).getByRole('navigation').innerText()).split(/\s+/);
    assert.ok((await nav(OP)).includes('受信箱'));
    assert.ok((await nav(OP)).includes('共有の承認'), 'providers approve');
    assert.ok(!(await nav(OP)).includes('共有情報の作業'));
    assert.ok((await nav(COORD)).includes('共有情報の作業'), 'coordinator analysts have the work queue');
    assert.ok(!(await nav(COORD)).includes('共有の承認'));
    assert.ok((await nav(GAS)).includes('受信箱'));
  });

  test('the org admin registers a host name and a person on the organisation page', async () => {
    const page = await as(OP_ADMIN);
    await page.goto(srv.base + '/#/home');
    await page.getByRole('link', { name: '組織の詳細と匿名化用の識別情報' }).click();
    await page.getByRole('heading', { level: 1, name: PROVIDER.ja }).waitFor();
    assert.equal(await page.locator('textarea[name="identifiers.domains"]').inputValue(), DOMAIN, 'the registered domain is shown');
    // A bad network is shown at its line.
    const ranges = page.locator('textarea[name="identifiers.ip_ranges"]');
    await ranges.fill('192.0.2.0/24\n\n198.51.100.300/24');
    const [bad] = await Promise.all([
      page.waitForResponse(isCall('PATCH', '/api/v1/orgs/' + (await orgIdOf(page)))),
      page.getByRole('button', { name: '識別情報を保存' }).click(),
    ]);
    assert.equal(bad.status(), 422);
    assert.ok((await bad.json()).errors.some((e) => e.field === 'identifiers.ip_ranges[1]'), 'the server names the entry');
    await page.locator('.org-line-errors .field-error').filter({ hasText: '3 行目（198.51.100.300/24）' }).waitFor();
    assert.equal(await ranges.getAttribute('aria-invalid'), 'true');
    await ranges.fill('');
    await page.locator('textarea[name="identifiers.hostnames"]').fill(`${HOST}\n\n${HOST}`);
    await page.locator('textarea[name="identifiers.persons"]').fill(PERSON);
    const [resp] = await Promise.all([
      page.waitForResponse(isCall('PATCH', '/api/v1/orgs/' + (await orgIdOf(page)))),
      page.getByRole('button', { name: '識別情報を保存' }).click(),
    ]);
    assert.equal(resp.status(), 200, await resp.text());
    const sent = resp.request().postDataJSON();
    assert.deepEqual(sent.identifiers.hostnames, [HOST], 'blank and repeated lines are left out');
    assert.deepEqual(sent.identifiers.persons, [PERSON]);
    await page.getByRole('status').filter({ hasText: '識別情報を保存しました' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { level: 1, name: PROVIDER.ja }).waitFor();
    assert.equal(await page.locator('textarea[name="identifiers.hostnames"]').inputValue(), HOST);
  });

  test('an operator files a report in Japanese for all members', async () => {
    const page = await as(OP);
    await page.goto(srv.base + '/#/reports/new');
    await page.getByRole('heading', { level: 1, name: '報告の作成' }).waitFor();
    await page.getByLabel('システム等への侵入', { exact: true }).check();
    await page.getByLabel('件名', { exact: true }).fill(TITLE);
    await page.locator('.marking-toggle').click();
    await page.locator('.marking-picker input[name="audience.all_members"]').check();
    await page.locator('.marking-picker input[type="radio"][value="AMBER+STRICT"]').check();
    await page.locator('details.form-details > summary').click();
    await page.locator('textarea[name="description"]').fill(DESCRIPTION);
    const [resp] = await Promise.all([
      page.waitForResponse(isCall('POST', '/api/v1/reports')),
      page.getByRole('button', { name: '速報を送信' }).click(),
    ]);
    assert.equal(resp.status(), 201);
    reportId = (await resp.json()).id;
    await page.getByRole('heading', { level: 1, name: TITLE }).waitFor();
    // The provider's report page lists releases (none yet) but offers no "prepare".
    await page.locator('.release-versions').getByText('承認を依頼された共有情報はまだありません').waitFor();
    assert.equal(await page.getByRole('button', { name: '共有情報を作成' }).count(), 0);
  });

  test('the coordinator analyst prepares a release: the provider\'s names are hidden', async () => {
    const page = await as(COORD);
    await page.goto(srv.base + '/#/reports/' + reportId);
    await page.getByRole('heading', { level: 1, name: TITLE }).waitFor();
    await page.locator('.release-versions').getByText('まだ共有情報はありません').waitFor();
    const [resp] = await Promise.all([
      page.waitForResponse(isCall('POST', `/api/v1/reports/${reportId}/releases`)),
      page.getByRole('button', { name: '共有情報を作成' }).click(),
    ]);
    assert.equal(resp.status(), 201, await resp.text());
    releaseId = (await resp.json()).id;
    await page.waitForURL(new RegExp('#/releases/' + releaseId + '$'));
    await page.getByRole('heading', { level: 2, name: /匿名化（伏せ字）/ }).waitFor();
    await page.getByRole('status').filter({ hasText: '共有情報（第 1 版）を作成しました' }).waitFor();
    assert.match(await page.locator('.report-badges').innerText(), /作成中/);

    // Original beside release: every identifier is marked in the original, gone from the release.
    const desc = page.locator('.redact-field').filter({ has: page.locator('.redact-text[data-field="description"]') });
    assert.equal(await desc.locator('.redact-text').innerText(), DESCRIPTION, 'the original is the report text, unchanged');
    const released = await desc.locator('.redact-result').innerText();
    for (const x of [PROVIDER.ja, HOST, PERSON, DOMAIN]) assert.ok(!released.includes(x), `release text hides ${x}: ${released}`);
    assert.match(released, /\[org\]/);
    const marked = await desc.locator('mark.redact-span').allInnerTexts();
    assert.ok(marked.includes(PERSON), 'the person is marked in the original: ' + marked.join(' | '));
    const title = page.locator('.redact-field').filter({ has: page.locator('.redact-text[data-field="title"]') });
    assert.match(await title.locator('.redact-result').innerText(), /^\[org\]の制御系ゲートウェイで不審な通信を検知$/);

    // The list names the rule that made each redaction.
    const row = page.locator('table.redact-list tbody tr').filter({ hasText: PERSON });
    assert.match(await row.innerText(), /組織の人名/);
  });

  test('undoes the person\'s redaction, then hides it again by selecting it in the original', async () => {
    const page = await as(COORD);
    const row = page.locator('table.redact-list tbody tr').filter({ hasText: PERSON });
    const [undo] = await Promise.all([
      page.waitForResponse(isCall('PATCH', '/api/v1/releases/' + releaseId)),
      row.getByRole('button', { name: `「${PERSON}」の伏せ字を元に戻す` }).click(),
    ]);
    assert.equal(undo.status(), 200, await undo.text());
    assert.ok(!undo.request().postDataJSON().redactions.some((x) => x.original === PERSON), 'the list sent lacks the person');
    await page.getByRole('status').filter({ hasText: `「${PERSON}」の伏せ字を元に戻しました` }).waitFor();
    const result = page.locator('.redact-result').filter({ hasText: '通信を遮断し' });
    assert.ok((await result.innerText()).includes(PERSON), 'the release text shows the name again');

    // Select the name in the description's original, as a mouse would.
    const selected = await page.evaluate((needle) => {
      const box = document.querySelector('.redact-text[data-field="description"]');
      const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const i = n.data.indexOf(needle);
        if (i < 0) continue;
        const r = document.createRange();
        r.setStart(n, i);
        r.setEnd(n, i + needle.length);
        getSelection().removeAllRanges();
        getSelection().addRange(r);
        return true;
      }
      return false;
    }, PERSON);
    assert.ok(selected);
    await page.locator('.redact-selection').filter({ hasText: `選択中（事象の内容）: 「${PERSON}」` }).waitFor();
    await page.getByLabel('伏せ字の種類').selectOption('person');
    const [add] = await Promise.all([
      page.waitForResponse(isCall('PATCH', '/api/v1/releases/' + releaseId)),
      page.getByRole('button', { name: '選択した部分を伏せる' }).click(),
    ]);
    assert.equal(add.status(), 200, await add.text());
    // Offsets are UTF-8 bytes into the original field, as the API counts them.
    const at = DESCRIPTION.indexOf(PERSON);
    const start = Buffer.byteLength(DESCRIPTION.slice(0, at));
    const sent = add.request().postDataJSON().redactions.find((x) => x.field === 'description' && x.start === start);
    assert.deepEqual(sent, { field: 'description', start, end: start + Buffer.byteLength(PERSON), original: PERSON, kind: 'person' });
    await page.getByRole('status').filter({ hasText: `「${PERSON}」を [person-` }).waitFor();
    assert.ok(!(await page.locator('.redact-result').filter({ hasText: '通信を遮断し' }).innerText()).includes(PERSON));
    const made = (await add.json()).redactions.find((x) => x.original === PERSON);
    assert.equal(made.rule, 'manual');

    // Without a mouse: hide a text wherever it occurs.
    await page.getByLabel('文字列をすべて伏せる').fill('本店');
    const [all] = await Promise.all([
      page.waitForResponse(isCall('PATCH', '/api/v1/releases/' + releaseId)),
      page.getByRole('button', { name: 'すべて伏せる' }).click(),
    ]);
    assert.equal(all.status(), 200, await all.text());
    const branch = Buffer.byteLength(DESCRIPTION.slice(0, DESCRIPTION.indexOf('本店')));
    assert.ok(all.request().postDataJSON().redactions.some((x) => x.field === 'description' && x.start === branch && x.end === branch + 6));
    await page.getByRole('status').filter({ hasText: '「本店」を [' }).waitFor();
  });

  test('asks the provider to approve', async () => {
    const page = await as(COORD);
    const [resp] = await Promise.all([
      page.waitForResponse(isCall('POST', `/api/v1/releases/${releaseId}/submit`)),
      page.getByRole('button', { name: '提供元に承認を依頼' }).click(),
    ]);
    assert.equal(resp.status(), 200, await resp.text());
    await page.getByRole('status').filter({ hasText: '提供元に承認を依頼しました' }).waitFor();
    assert.match(await page.locator('.report-badges').innerText(), /承認待ち/);
    assert.match(await page.locator('.state-note').innerText(), new RegExp('提供元: ' + PROVIDER.ja));
  });

  test('the provider approves on its approvals page, seeing exactly what will be shared', async () => {
    const page = await as(OP);
    await page.getByRole('navigation').getByRole('link', { name: '共有の承認', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: '共有の承認' }).waitFor();
    const row = page.locator('table tbody tr').filter({ hasText: '制御系ゲートウェイ' });
    await row.waitFor();
    assert.match(await row.innerText(), /TLP:AMBER\+STRICT/);
    await row.getByRole('link', { name: '確認する' }).click();
    await page.getByRole('heading', { level: 2, name: 'この内容での公開を承認しますか' }).waitFor();
    const preview = await page.locator('.release-preview').innerText();
    for (const x of [HOST, PERSON, DOMAIN]) assert.ok(!preview.split('伏せた情報')[0].includes(x), `preview hides ${x}`);
    assert.match(preview, /全会員/, 'the audience is shown');
    assert.match(preview, /TLP:AMBER\+STRICT/);
    assert.match(preview, /電力分野の事業者/, 'the pseudonym the recipients will see');

    // Refusing needs a reason.
    await page.getByRole('button', { name: '承認しない' }).click();
    await page.getByRole('alert').filter({ hasText: '承認しない場合は、コメント欄に理由を書いてください' }).waitFor();

    await page.getByLabel('コメント').fill('内容を確認しました。');
    const [resp] = await Promise.all([
      page.waitForResponse(isCall('POST', `/api/v1/releases/${releaseId}/approve`)),
      page.getByRole('button', { name: '承認する' }).click(),
    ]);
    assert.equal(resp.status(), 200, await resp.text());
    assert.deepEqual(resp.request().postDataJSON(), { note: '内容を確認しました。' });
    await page.getByRole('status').filter({ hasText: /^承認しました。$/ }).waitFor();
    assert.match(await page.locator('.state-note').innerText(), /承認済みです。調整機関が公開します。[\s\S]*内容を確認しました。/);
    assert.match(await page.locator('.report-badges').innerText(), /承認済み/);
  });

  test('the analyst publishes', async () => {
    const page = await as(COORD);
    await page.goto(srv.base + '/#/release-queue?state=approved');
    await page.getByRole('heading', { level: 1, name: '共有情報の作業' }).waitFor();
    await page.locator('table tbody tr').filter({ hasText: '制御系ゲートウェイ' }).getByRole('link').first().click();
    await page.getByRole('heading', { level: 2, name: /匿名化（伏せ字）/ }).waitFor();
    assert.match(await page.locator('.state-note').innerText(), /内容を確認しました。/, 'the provider\'s note is shown');
    const [resp] = await Promise.all([
      page.waitForResponse(isCall('POST', `/api/v1/releases/${releaseId}/publish`)),
      page.getByRole('button', { name: '公開する' }).click(),
    ]);
    assert.equal(resp.status(), 200, await resp.text());
    await page.getByRole('status').filter({ hasText: '共有情報を公開しました' }).waitFor();
    assert.match(await page.locator('.report-badges').innerText(), /公開中/);
    // The report page lists the version and its state.
    await page.goto(srv.base + '/#/reports/' + reportId);
    const versions = page.locator('.release-versions table tbody tr');
    await versions.first().waitFor();
    assert.match(await versions.first().innerText(), /第 1 版[\s\S]*公開中/);
  });

  test('a member of another sector reads it in the inbox with no trace of the provider', async () => {
    const page = await as(GAS);
    await page.getByRole('navigation').getByRole('link', { name: '受信箱', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: '受信箱' }).waitFor();
    const row = page.locator('table tbody tr').filter({ hasText: '制御系ゲートウェイ' });
    await row.waitFor();
    const label = row.locator('.tlp-pill');
    assert.equal(await label.innerText(), 'TLP:AMBER+STRICT');
    const look = await label.evaluate((el) => { const s = getComputedStyle(el); return [s.color, s.backgroundColor]; });
    assert.deepEqual(look, ['rgb(255, 192, 0)', 'rgb(0, 0, 0)'], 'FIRST colours: amber on black');
    assert.match(await row.innerText(), /電力分野の事業者/);
    assert.ok(!(await row.innerText()).includes(PROVIDER.ja));

    // Filters go to the server.
    await page.getByLabel('TLP', { exact: true }).selectOption('RED');
    const [filtered] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/releases' && new URL(r.url()).searchParams.get('tlp') === 'RED'),
      page.getByRole('button', { name: '絞り込む' }).click(),
    ]);
    assert.equal(filtered.status(), 200);
    await page.getByText('条件に合う共有情報はありません。').waitFor();
    await page.getByRole('button', { name: '条件をクリア' }).click();
    await row.waitFor();

    // The inbox as a STIX bundle, with the same filters: no trace of the provider either.
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'STIX 形式で書き出す' }).click()]);
    const bundle = JSON.parse(fs.readFileSync(await dl.path(), 'utf8'));
    assert.equal(bundle.type, 'bundle');
    const raw = JSON.stringify(bundle);
    assert.ok(raw.includes('制御系ゲートウェイ'), 'the release is in the bundle');
    for (const x of [PROVIDER.ja, PROVIDER.en, HOST, PERSON, DOMAIN]) assert.ok(!raw.includes(x), `no "${x}" in the STIX bundle`);

    await row.getByRole('link').first().click();
    await page.getByRole('heading', { level: 1, name: /制御系ゲートウェイ/ }).waitFor();
    await page.locator('.tlp-banner').getByText('TLP:AMBER+STRICT').waitFor();
    await page.locator('.handling-box').getByText('TLP:AMBER+STRICT の範囲を超えて共有しないでください').waitFor();
    const check = async (names) => {
      const text = await page.locator('main').innerText();
      for (const x of names) assert.ok(!text.includes(x), `no trace of "${x}" in:\n${text}`);
      return text;
    };
    const ids = [PROVIDER.ja, PROVIDER.en, 'Kanto', HOST, PERSON, '山田', DOMAIN, 'kanto-ep'];
    assert.match(await check(ids), /電力分野の事業者/);
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 2, name: 'Handling' }).waitFor();
    assert.match(await check(ids), /an operator in the electric power sector/i);
    await page.getByRole('button', { name: '日本語' }).click();
  });

  test('the analyst asks to widen the audience; the provider consents on its approvals page', async () => {
    const analyst = await as(COORD);
    await analyst.goto(srv.base + '/#/releases/' + releaseId);
    await analyst.getByRole('heading', { level: 2, name: /匿名化（伏せ字）/ }).waitFor();
    await analyst.getByRole('button', { name: '共有範囲の拡大を依頼' }).click();
    const panel = analyst.locator('form.consent-panel');
    await panel.getByRole('heading', { name: '共有範囲の拡大（提供元の同意）' }).waitFor();
    await panel.getByLabel('提供元の分野のセプター').check();
    await panel.locator('input[type="radio"][value="AMBER"]').check();
    await panel.getByLabel('依頼の理由').fill('同じ装置を使う事業者に広く注意を促したい。');
    const [resp] = await Promise.all([
      analyst.waitForResponse(isCall('POST', `/api/v1/releases/${releaseId}/audience-requests`)),
      panel.getByRole('button', { name: '同意を依頼' }).click(),
    ]);
    assert.equal(resp.status(), 201, await resp.text());
    const sent = resp.request().postDataJSON();
    assert.equal(sent.audience.hub, true);
    assert.equal(sent.audience.all_members, true);
    assert.equal(sent.tlp, 'AMBER');
    await analyst.locator('.consent-card[data-state="pending"]').waitFor();

    const provider = await as(OP);
    await provider.goto(srv.base + '/#/approvals');
    const card = provider.locator('.consent-card').filter({ hasText: '同じ装置を使う事業者' });
    await card.waitFor();
    assert.match(await card.innerText(), /提供元の分野のセプター|報告組織の分野のセプター/);
    const [ok] = await Promise.all([
      provider.waitForResponse((r) => r.request().method() === 'POST' && /\/api\/v1\/audience-requests\/[^/]+\/approve$/.test(new URL(r.url()).pathname)),
      card.getByRole('button', { name: '同意する' }).click(),
    ]);
    assert.equal(ok.status(), 200, await ok.text());
    await provider.getByRole('status').filter({ hasText: '共有範囲の拡大に同意しました' }).waitFor();
    await provider.getByText('同意を待っている依頼はありません。').waitFor();

    await analyst.reload();
    await analyst.locator('.consent-card[data-state="approved"]').waitFor();
    assert.match(await analyst.locator('.report-title-row .tlp-pill').innerText(), /^TLP:AMBER$/, 'the release takes the consented marking');
  });

  test('withdrawn, the release leaves the recipients\' inbox', async () => {
    const analyst = await as(COORD);
    await analyst.getByRole('button', { name: '取り下げる' }).click();
    await analyst.getByLabel('取り下げの理由').fill('提供元の依頼により取り下げ');
    const [resp] = await Promise.all([
      analyst.waitForResponse(isCall('POST', `/api/v1/releases/${releaseId}/withdraw`)),
      analyst.locator('form.action-panel').getByRole('button', { name: '取り下げる' }).click(),
    ]);
    assert.equal(resp.status(), 200, await resp.text());
    await analyst.getByRole('status').filter({ hasText: '共有情報を取り下げました' }).waitFor();
    assert.match(await analyst.locator('.report-badges').innerText(), /取り下げ/);

    const page = await as(GAS);
    await page.goto(srv.base + '/#/inbox');
    await page.getByText('条件に合う共有情報はありません。').waitFor();
  });

  test('no page broke the content security policy or logged errors', async () => {
    for (const { page, seen } of Object.values(pages)) {
      assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
      assert.deepEqual(seen.pageErrors, []);
      const errors = seen.console.filter((m) => !/status of (401|409|422)/.test(m));
      assert.deepEqual(errors, []);
    }
  });
});

async function orgIdOf(page) {
  const m = /#\/orgs\/([0-9a-f-]{36})/.exec(page.url());
  return m ? m[1] : '';
}
