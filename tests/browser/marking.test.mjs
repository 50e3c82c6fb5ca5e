// Browser tests of a report's audience and TLP marking (node --test tests/browser/): an
// operator picks TLP:AMBER+STRICT, a sector and a member tier in Japanese; the report page
// shows the TLP label in FIRST's colours; TLP:RED cannot go to all members; an update to
// TLP:RED naming an organisation shows in the timeline.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, login } from './server.mjs';

const OP = { login: 'soc.kanto', password: 'operator password 123', name: '佐藤 花子' };
const isPost = (suffix) => (r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith(suffix);

describe('reports UI: audience and TLP marking', () => {
  let srv; let browser; let page; let seen;
  let gasId = null;
  let reportId = null;
  const title = '制御系ネットワークへの不審な通信（取り扱い注意）';

  before(async () => {
    srv = await startServer({
      setup: async (ctx) => {
        const d = ['--data', ctx.dir];
        const kanto = await ctx.isac(['org', 'add', ...d, '--name', 'Kanto Electric Power', '--name-ja', '関東電力株式会社',
          '--kind', 'operator', '--sector', 'electricity', '--tier', 'general']);
        gasId = await ctx.isac(['org', 'add', ...d, '--name', 'Metropolitan Gas', '--name-ja', '首都ガス株式会社',
          '--kind', 'operator', '--sector', 'gas', '--tier', 'general']);
        await ctx.isac(['user', 'add', ...d, '--org', kanto, '--login', OP.login, '--role', 'member', '--name', OP.name, '--locale', 'ja'], OP.password + '\n');
      },
    });
    browser = await launchBrowser();
    ({ page, seen } = await newPage(browser, { timezoneId: 'Asia/Tokyo' }));
    await login(page, srv.base, OP);
    await page.getByRole('button', { name: '日本語' }).click();
  });
  after(async () => {
    if (browser) await browser.close();
    if (srv) await srv.stop();
  });

  test('the first screen shows a one-line summary; the picker opens from its button', async () => {
    await page.goto(srv.base + '/#/reports/new');
    await page.getByRole('heading', { level: 1, name: '報告の作成' }).waitFor();
    const summary = page.locator('.marking-summary');
    assert.equal((await summary.innerText()).replace(/\s+/g, ' ').trim(), '共有先: 調整機関のみ · TLP:AMBER');
    const toggle = page.getByRole('button', { name: '共有範囲を変更' });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    assert.equal(await page.locator('.marking-picker').isVisible(), false, 'the picker is folded away at first');
    await toggle.click();
    assert.equal(await page.getByRole('button', { name: '閉じる' }).getAttribute('aria-expanded'), 'true');
    await page.getByRole('group', { name: 'TLP（情報の取り扱い区分）' }).waitFor();
    // Labels are never translated; each has a one-line explanation in the current language.
    const options = await page.locator('.tlp-option').allInnerTexts();
    assert.equal(options.length, 5);
    assert.match(options[3].replace(/\s+/g, ' '), /^TLP:AMBER\+STRICT 受信組織内に限る$/);
    assert.equal(await page.getByRole('radio', { name: /^TLP:AMBER 受信組織/ }).isChecked(), true, 'AMBER by default');
  });

  test('files a report marked TLP:AMBER+STRICT for a sector and a tier', async () => {
    await page.getByLabel('システム等への侵入', { exact: true }).check();
    await page.getByLabel('件名', { exact: true }).fill(title);
    const picker = page.locator('.marking-picker');
    await picker.getByRole('radio', { name: /^TLP:AMBER\+STRICT/ }).check();
    await picker.getByRole('group', { name: '分野を指定' }).getByRole('checkbox', { name: '情報通信', exact: true }).check();
    await picker.getByRole('group', { name: '構成員区分を指定' }).getByRole('checkbox', { name: '第一類構成員', exact: true }).check();
    await picker.getByLabel('利用目的').fill('自組織の制御系ネットワークの監視強化のため');
    await picker.getByLabel('取り扱い').fill('組織外への転送禁止');
    const summary = (await page.locator('.marking-summary').innerText()).replace(/\s+/g, ' ').trim();
    assert.equal(summary, '共有先: 調整機関、分野: 情報通信、構成員区分: 第一類構成員 · TLP:AMBER+STRICT');

    const [resp] = await Promise.all([
      page.waitForResponse(isPost('/api/v1/reports')),
      page.getByRole('button', { name: '速報を送信' }).click(),
    ]);
    assert.equal(resp.status(), 201);
    const sent = resp.request().postDataJSON();
    assert.deepEqual(sent.audience, { orgs: [], sectors: ['ict'], tiers: ['class1'], all_members: false });
    assert.equal(sent.tlp, 'AMBER+STRICT');
    assert.equal(sent.purpose, '自組織の制御系ネットワークの監視強化のため');
    assert.equal(sent.handling, '組織外への転送禁止');
    assert.equal('share_with_hub' in sent, false, 'unchecked hub sharing is left to the default');
    reportId = (await resp.json()).id;

    await page.getByRole('heading', { level: 1, name: title }).waitFor();
    const pill = page.locator('.report-title-row .tlp-pill');
    assert.equal(await pill.innerText(), 'TLP:AMBER+STRICT');
    const colours = await pill.evaluate((el) => { const cs = getComputedStyle(el); return [cs.color, cs.backgroundColor]; });
    assert.deepEqual(colours, ['rgb(255, 192, 0)', 'rgb(0, 0, 0)']);
    const marking = page.locator('section').filter({ has: page.getByRole('heading', { level: 2, name: '共有範囲と取り扱い' }) });
    const text = await marking.innerText();
    assert.match(text, /調整機関/);
    assert.match(text, /分野: 情報通信/);
    assert.match(text, /構成員区分: 第一類構成員/);
    assert.match(text, /受信組織内に限る/);
    assert.match(text, /利用目的\s*自組織の制御系ネットワークの監視強化のため/);
    assert.match(text, /取り扱い\s*組織外への転送禁止/);
  });

  test('the reports list shows a compact TLP pill', async () => {
    await page.goto(srv.base + '/#/reports');
    const row = page.locator('table tbody tr').filter({ hasText: title });
    await row.waitFor();
    assert.equal(await row.locator('.tlp-pill').innerText(), 'TLP:AMBER+STRICT');
  });

  test('TLP:RED cannot go to all members; a bad organisation id is shown at its line', async () => {
    await page.goto(srv.base + '/#/reports/' + reportId + '/update');
    await page.getByRole('heading', { level: 1, name: '続報の追加' }).waitFor();
    assert.match(await page.locator('.marking-summary').innerText(), /TLP:AMBER\+STRICT/, 'prefilled');
    await page.getByRole('button', { name: '共有範囲を変更' }).click();
    const picker = page.locator('.marking-picker');
    const all = picker.getByRole('checkbox', { name: '全会員', exact: true });
    await all.check();
    await picker.getByRole('radio', { name: /^TLP:RED/ }).check();
    assert.equal(await all.isDisabled(), true, 'all members is disabled under TLP:RED');
    assert.equal(await picker.getByRole('group', { name: '分野を指定' }).getByRole('checkbox', { name: '情報通信', exact: true }).isDisabled(), true);
    await picker.getByText('TLP:RED では、名前を挙げた組織にだけ共有できます。').waitFor();

    const orgs = picker.getByLabel('組織を指定（組織 ID）');
    await orgs.fill(`not-an-id\n${gasId}\n`);
    const [bad] = await Promise.all([
      page.waitForResponse(isPost('/revisions')),
      page.getByRole('button', { name: '続報を送信' }).click(),
    ]);
    assert.equal(bad.status(), 422);
    assert.deepEqual((await bad.json()).errors.map((e) => e.field), ['audience.orgs[0]']);
    assert.equal(await orgs.getAttribute('aria-invalid'), 'true');
    await picker.getByText('1 行目（not-an-id）: 組織 ID（UUID）の形式ではありません。').waitFor();

    await orgs.fill(gasId);
    await page.getByLabel('変更の理由・概要').fill('関係事業者に限定して共有');
    assert.match(await page.locator('.pending-changes').innerText(), /2 項目（共有先、TLP）/);
    const [ok] = await Promise.all([
      page.waitForResponse(isPost('/revisions')),
      page.getByRole('button', { name: '続報を送信' }).click(),
    ]);
    assert.equal(ok.status(), 201);
    assert.deepEqual(ok.request().postDataJSON(), {
      stage: 'update',
      changes: { audience: { orgs: [gasId], sectors: [], tiers: [], all_members: false }, tlp: 'RED' },
      reason: '関係事業者に限定して共有',
    });

    await page.getByRole('heading', { level: 1, name: title }).waitFor();
    const pill = page.locator('.report-title-row .tlp-pill');
    assert.equal(await pill.innerText(), 'TLP:RED');
    assert.equal(await pill.evaluate((el) => getComputedStyle(el).color), 'rgb(255, 43, 43)');
    await page.waitForFunction(() => document.querySelectorAll('.tl-item').length === 2);
    const latest = (await page.locator('.tl-item').first().innerText()).replace(/\s+/g, ' ');
    assert.match(latest, /TLP 変更前 TLP:AMBER\+STRICT →? ?変更後 TLP:RED/);
    assert.match(latest, /共有先 変更前 調整機関、分野: 情報通信、構成員区分: 第一類構成員 →? ?変更後 調整機関 指定組織: /);
    assert.match(latest, new RegExp(gasId));
  });

  test('the server refuses TLP:RED to all members at the audience', async () => {
    // The form cannot send it; a made-up answer shows where the server's error lands.
    await page.goto(srv.base + '/#/reports/' + reportId + '/update');
    await page.getByRole('heading', { level: 1, name: '続報の追加' }).waitFor();
    await page.route('**/revisions', (route) => route.fulfill({ status: 422, contentType: 'application/problem+json', json: {
      type: 'urn:isac:problem:validation', title: 'Validation failed', status: 422,
      errors: [{ field: 'audience', reason: 'TLP:RED is for named recipients: name organisations, not sectors, tiers or all members' }] } }));
    await page.getByLabel('変更の理由・概要').fill('test');
    await page.getByRole('button', { name: '続報を送信' }).click();
    const err = page.locator('.marking .group-invalid .field-error').first();
    await err.waitFor();
    assert.match(await err.innerText(), /TLP:RED では、名前を挙げた組織にだけ共有できます/);
    assert.equal(await page.locator('.marking-picker').isVisible(), true, 'the picker opens to show the error');
    await page.unroute('**/revisions');

    // English: the explanations follow the language, the labels do not.
    await page.getByRole('button', { name: 'English' }).click();
    assert.match(await page.locator('.marking-summary').innerText(), /^Shared with: the coordinator, named organisations: 1/);
    assert.match(await page.locator('.tlp-option').last().innerText(), /TLP:RED\s+Named recipients only/);
    await page.getByRole('button', { name: '日本語' }).click();
    assert.deepEqual(seen.pageErrors, []);
  });
});
