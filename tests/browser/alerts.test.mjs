// Browser tests of alerts (node --test tests/browser/): a member of an operator has its home
// page open; the coordinator analyst, in another browser, composes an urgent alert for all
// members, previews it as that operator and publishes it; the member's open page shows the
// banner live, without a reload; the member opens it (read) and reports it acted on with a
// note; the coordinator's delivery page shows the operator reached, read and acted. An
// exercise alert is marked as one and kept out of the default list. The operator's org
// admin manages a webhook on the organisation page. Both languages; a clean console.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, login, apiAs } from './server.mjs';

const MEM = { login: 'soc.kanto', password: 'operator password 123', name: '佐藤 花子' };
const OP_ADMIN = { login: 'admin.kanto', password: 'org admin password 12', name: '鈴木 一郎' };
const COORD = { login: 'coord.analyst', password: 'coordinator password 1', name: '調整 次郎' };
const GAS = { login: 'soc.gas', password: 'gas operator password', name: '高橋 美咲' };
const HUB = { login: 'hub.electric', password: 'sector hub password 1', name: '電力 三郎' };

const KANTO = { ja: '関東電力株式会社', en: 'Kanto Electric Power' };
const ALERT = {
  ja: 'VPN 装置の脆弱性を悪用した侵入が多発',
  en: 'Intrusions through a VPN appliance vulnerability',
  actions: '該当する VPN 装置のファームウェアを直ちに更新し、管理画面へのアクセスを社内からに限定してください。',
  summary: '複数の事業者で、保守用 VPN 装置の脆弱性を悪用した不正アクセスが確認されています。',
};
const DRILL = { ja: '【訓練】制御系ネットワークへの侵入を想定した連絡訓練', en: 'Drill: intrusion into a control network' };
const NOTE = '全拠点の VPN 装置を更新済み（5/12 18:00）';
const isCall = (method, re) => (r) => r.request().method() === method && re.test(new URL(r.url()).pathname);
const isStream = (r) => new URL(r.url()).pathname === '/api/v1/stream';

describe('alerts UI: compose → publish → live banner → receipts → delivery', () => {
  let srv; let browser;
  const pages = {};
  const ids = {};
  let alertId = null;

  /** One browser context per user, signed in once (its event stream open), Japanese UI. */
  async function as(user) {
    if (pages[user.login]) return pages[user.login].page;
    const p = await newPage(browser, { timezoneId: 'Asia/Tokyo' });
    const stream = p.page.waitForResponse(isStream, { timeout: 15_000 });
    await login(p.page, srv.base, user);
    await p.page.getByRole('button', { name: '日本語' }).click();
    assert.equal((await stream).status(), 200, 'the event stream opens on sign-in');
    pages[user.login] = p;
    return p.page;
  }

  before(async () => {
    srv = await startServer({
      setup: async (ctx) => {
        const d = ['--data', ctx.dir];
        ids.kanto = await ctx.isac(['org', 'add', ...d, '--name', KANTO.en, '--name-ja', KANTO.ja,
          '--kind', 'operator', '--sector', 'electricity', '--tier', 'general']);
        ids.gas = await ctx.isac(['org', 'add', ...d, '--name', 'Metropolitan Gas', '--name-ja', '首都ガス株式会社',
          '--kind', 'operator', '--sector', 'gas', '--tier', 'general']);
        await ctx.isac(['user', 'add', ...d, '--org', ids.kanto, '--login', MEM.login, '--role', 'member', '--name', MEM.name, '--locale', 'ja'], MEM.password + '\n');
        await ctx.isac(['user', 'add', ...d, '--org', ids.kanto, '--login', OP_ADMIN.login, '--role', 'org_admin', '--name', OP_ADMIN.name, '--locale', 'ja'], OP_ADMIN.password + '\n');
        await ctx.isac(['user', 'add', ...d, '--org', ctx.orgId, '--login', COORD.login, '--role', 'analyst', '--name', COORD.name, '--locale', 'ja'], COORD.password + '\n');
        ids.hub = await ctx.isac(['org', 'add', ...d, '--name', 'Electricity ISAC', '--name-ja', '電力セプター',
          '--kind', 'sector_hub', '--sector', 'electricity', '--tier', 'class2']);
        await ctx.isac(['user', 'add', ...d, '--org', ids.hub, '--login', HUB.login, '--role', 'analyst', '--name', HUB.name, '--locale', 'ja'], HUB.password + '\n');
        await ctx.isac(['user', 'add', ...d, '--org', ids.gas, '--login', GAS.login, '--role', 'member', '--name', GAS.name, '--locale', 'ja'], GAS.password + '\n');
      },
    });
    browser = await launchBrowser();
  });
  after(async () => {
    if (browser) await browser.close();
    if (srv) await srv.stop();
  });

  test('the menu has the alerts page; only issuers may compose', async () => {
    const member = await as(MEM);
    await member.getByRole('navigation').getByRole('link', { name: '注意喚起' }).click();
    await member.getByRole('heading', { level: 1, name: '注意喚起・対策情報' }).waitFor();
    assert.equal(await member.getByRole('link', { name: '注意喚起を作成' }).count(), 0, 'members do not compose');
    await member.goto(srv.base + '/#/alerts/new');
    await member.locator('main h1').waitFor();
    assert.notEqual(await member.locator('main h1').innerText(), '注意喚起の作成');
    const coord = await as(COORD);
    await coord.goto(srv.base + '/#/alerts');
    await coord.getByRole('link', { name: '注意喚起を作成' }).waitFor();
  });

  test('the coordinator publishes an urgent alert; the member\'s open page shows it live', async () => {
    const member = await as(MEM);
    await member.goto(srv.base + '/#/home');
    await member.getByRole('heading', { level: 1, name: 'ホーム' }).waitFor();
    // Proof that the page is never reloaded: this survives only in the same document.
    await member.evaluate(() => { window.__sameDocument = true; });

    const coord = await as(COORD);
    await coord.goto(srv.base + '/#/alerts');
    await coord.getByRole('link', { name: '注意喚起を作成' }).click();
    await coord.getByRole('heading', { level: 1, name: '注意喚起の作成' }).waitFor();
    const form = coord.locator('form.alert-form');
    await form.locator('input[name="title.ja"]').fill(ALERT.ja);
    await form.locator('input[name="title.en"]').fill(ALERT.en);
    await form.locator('textarea[name="actions.ja"]').fill(ALERT.actions);
    await form.locator('textarea[name="summary.ja"]').fill(ALERT.summary);
    await form.getByLabel('至急').check();
    // Nobody chosen yet: the summary says so before anything is sent.
    assert.match(await form.locator('.marking-summary').innerText(), /配信先が選ばれていません/);
    await form.locator('.marking-picker input[name="audience.all_members"]').check();
    assert.match(await form.locator('.marking-summary').innerText(), /配信先: 全会員/);
    await form.locator('.alert-form-flags').waitFor();
    const [made] = await Promise.all([
      coord.waitForResponse(isCall('POST', /^\/api\/v1\/alerts$/)),
      form.getByRole('button', { name: '下書きを保存' }).click(),
    ]);
    assert.equal(made.status(), 201, await made.text());
    const sent = made.request().postDataJSON();
    assert.deepEqual(sent.title, { ja: ALERT.ja, en: ALERT.en });
    assert.equal(sent.urgency, 'urgent');
    assert.equal(sent.exercise, false);
    assert.equal(sent.audience.all_members, true);
    alertId = (await made.json()).id;
    await coord.getByRole('heading', { level: 1, name: ALERT.ja }).waitFor();
    await coord.getByRole('status').filter({ hasText: '下書きを保存しました' }).waitFor();

    // Preview as the operator: a recipient, over the on-screen stream (its user is signed in).
    await coord.locator('.alert-preview input[name="org_id"]').fill(ids.kanto);
    const [pv] = await Promise.all([
      coord.waitForResponse(isCall('GET', /\/preview$/)),
      coord.getByRole('button', { name: 'プレビュー', exact: true }).click(),
    ]);
    assert.equal(pv.status(), 200, await pv.text());
    await coord.locator('.preview-verdict[data-targeted="true"]').waitFor();
    assert.ok((await coord.locator('.preview-frame').innerText()).includes(ALERT.actions), 'the recipient view shows the actions');

    await coord.getByRole('button', { name: '公開', exact: true }).click();
    await coord.getByRole('heading', { name: '公開の確認' }).waitFor();
    const [pub] = await Promise.all([
      coord.waitForResponse(isCall('POST', /\/publish$/)),
      coord.getByRole('button', { name: '公開する' }).click(),
    ]);
    assert.equal(pub.status(), 200, await pub.text());
    const publishedAt = Date.now();
    await coord.getByRole('heading', { level: 1, name: '配信状況' }).waitFor();

    // The member's page, untouched since: the banner arrives within a few seconds.
    const bannerEl = member.locator('.live-alert').filter({ hasText: ALERT.ja });
    await bannerEl.waitFor({ timeout: 5000 });
    const took = Date.now() - publishedAt;
    assert.ok(took < 5000, `banner after ${took} ms`);
    assert.equal(await bannerEl.getAttribute('data-urgency'), 'urgent');
    assert.equal(await bannerEl.getAttribute('role'), 'alert', 'urgent alerts interrupt screen readers');
    assert.ok((await bannerEl.innerText()).includes('至急'));
    assert.equal(await member.evaluate(() => window.__sameDocument), true, 'no reload');
    assert.equal(await member.locator('main h1').innerText(), 'ホーム', 'the page under the banner stays');
    const badge = member.getByRole('navigation').locator('.nav-badge');
    await badge.waitFor();
    assert.equal(await badge.locator('.nav-badge-num').innerText(), '1');
  });

  test('the member opens it (read) and reports it acted on with a note', async () => {
    const member = await as(MEM);
    const read = member.waitForResponse(isCall('POST', /\/receipts$/));
    await member.locator('.live-alert').filter({ hasText: ALERT.ja }).getByRole('link', { name: '注意喚起を開く' }).click();
    await member.getByRole('heading', { level: 1, name: ALERT.ja }).waitFor();
    const r1 = await read;
    assert.equal(r1.status(), 200, await r1.text());
    assert.deepEqual(r1.request().postDataJSON(), { kind: 'read' });
    assert.equal(await member.locator('.live-alert').count(), 0, 'the banner goes once opened');
    assert.ok(await member.getByRole('navigation').locator('.nav-badge').isHidden(), 'nothing unread');
    // Actions first and prominent; the TLP label as FIRST shows it.
    assert.ok((await member.locator('.alert-actions').innerText()).includes(ALERT.actions));
    assert.equal(await member.locator('.tlp-banner .tlp-banner-label').innerText(), 'TLP:AMBER');
    const panel = member.locator('.receipt-panel');
    await panel.locator('.receipt-props dd time').first().waitFor();
    assert.doesNotMatch(await panel.locator('.receipt-props').innerText(), /既読\s*まだありません/);

    await panel.locator('textarea[name="note"]').fill(NOTE);
    const [acted] = await Promise.all([
      member.waitForResponse(isCall('POST', /\/receipts$/)),
      panel.getByRole('button', { name: '対応済みとして報告' }).click(),
    ]);
    assert.equal(acted.status(), 200, await acted.text());
    assert.deepEqual(acted.request().postDataJSON(), { kind: 'acted', note: NOTE });
    await panel.getByRole('status').filter({ hasText: '対応済みとして報告しました' }).waitFor();
    assert.ok((await panel.innerText()).includes(NOTE));
    await panel.getByRole('button', { name: '対応内容のメモを更新' }).waitFor();
  });

  test('the coordinator\'s delivery page shows the operator reached, read and acted', async () => {
    const coord = await as(COORD);
    // The page refreshes itself: no reload here either.
    const row = coord.locator(`.delivery-table tr[data-org="${ids.kanto}"]`);
    await row.waitFor();
    await coord.waitForFunction((org) => {
      const tr = document.querySelector(`.delivery-table tr[data-org="${org}"]`);
      return tr && tr.querySelectorAll('.at-yes').length === 2;
    }, ids.kanto, { timeout: 15_000 });
    const text = await row.innerText();
    assert.ok(text.includes(KANTO.ja), text);
    assert.ok(text.includes('画面の通知'), 'reached over the stream: ' + text);
    assert.ok(text.includes(NOTE), 'the note: ' + text);
    assert.match(await coord.locator('.stat-tile[data-stat="targeted"] .stat-n').innerText(), /^3$/, 'two operators and the hub targeted');
    assert.match(await coord.locator('.stat-tile[data-stat="read"] .stat-n').innerText(), /^1$/);
    assert.match(await coord.locator('.stat-tile[data-stat="acted"] .stat-n').innerText(), /^1$/);
    assert.ok((await coord.locator('.stat-tile[data-stat="reached"]').innerText()).includes('疎通確認率'));
    // The gas operator's user never signed in: not reached, and said so.
    assert.ok((await coord.locator('.not-reached').innerText()).includes('首都ガス株式会社'));
    assert.ok(await coord.locator('.ttr-chart .ttr-row').count() > 0, 'a time-to-receipt chart');
  });

  test('an exercise is marked as one and kept out of the default list', async () => {
    const member = await as(MEM);
    await member.goto(srv.base + '/#/home');
    await member.locator('main h1').waitFor();
    const coord = await as(COORD);
    const made = await apiAs(coord, srv.base, 'POST', '/alerts', {
      title: DRILL, actions: { ja: '訓練手順書に従って連絡体制を確認してください。', en: 'Check the contact chain as the drill plan says.' },
      urgency: 'critical', exercise: true, audience: { all_members: true }, tlp: 'GREEN' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const pub = await apiAs(coord, srv.base, 'POST', `/alerts/${made.body.id}/publish`, {});
    assert.equal(pub.status, 200, JSON.stringify(pub.body));

    const drill = member.locator('.live-alert').filter({ hasText: DRILL.ja });
    await drill.waitFor({ timeout: 5000 });
    assert.equal(await drill.getAttribute('data-exercise'), 'true');
    assert.ok((await drill.locator('.exercise-tag').innerText()).includes('訓練'));
    assert.ok((await drill.innerText()).includes('これは訓練です'));

    await member.getByRole('navigation').getByRole('link', { name: /注意喚起/ }).click();
    await member.getByRole('heading', { level: 1, name: '注意喚起・対策情報' }).waitFor();
    await member.locator('table tbody tr').first().waitFor();
    const real = await member.locator('table tbody').innerText();
    assert.ok(real.includes(ALERT.ja), 'the real alert is listed');
    assert.ok(!real.includes(DRILL.ja), 'the exercise is not in the default list');
    const [ex] = await Promise.all([
      member.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/alerts' && new URL(r.url()).searchParams.get('exercise') === 'true'),
      member.locator('.alert-kind-switch label').filter({ hasText: '訓練' }).click(),
    ]);
    assert.equal(ex.status(), 200);
    await member.locator('table tbody tr.row-exercise').filter({ hasText: DRILL.ja }).waitFor();
    assert.ok(!(await member.locator('table tbody').innerText()).includes(ALERT.ja), 'exercises only');
    await member.locator('.exercise-strip').waitFor();

    // In English: EXERCISE, the English title.
    await member.getByRole('button', { name: 'English' }).click();
    await member.locator('table tbody tr.row-exercise').getByRole('link', { name: DRILL.en }).click();
    await member.getByRole('heading', { level: 1, name: DRILL.en }).waitFor();
    assert.ok((await member.locator('.exercise-strip').innerText()).includes('EXERCISE'));
    assert.ok((await member.locator('.exercise-strip').innerText()).includes('This is an exercise'));
    assert.equal(await member.locator('.urgency-badge-big').innerText(), 'Critical');
    await member.getByRole('button', { name: '日本語' }).click();
    await member.getByRole('heading', { level: 1, name: DRILL.ja }).waitFor();
  });

  test('a correction and a withdrawal reach the member as new versions', async () => {
    const coord = await as(COORD);
    await coord.goto(srv.base + `/#/alerts/${alertId}`);
    await coord.getByRole('link', { name: '訂正版を作成' }).click();
    await coord.getByRole('heading', { level: 1, name: '訂正版の作成' }).waitFor();
    const form = coord.locator('form.alert-form');
    await form.locator('textarea[name="actions.en"]').fill('Update the firmware of the affected VPN appliances now.');
    const [v] = await Promise.all([
      coord.waitForResponse(isCall('POST', /\/versions$/)),
      form.getByRole('button', { name: '訂正版（下書き）を作成' }).click(),
    ]);
    assert.equal(v.status(), 201, await v.text());
    const body = v.request().postDataJSON();
    assert.deepEqual(Object.keys(body).sort(), ['actions', 'kind'], 'only what changed');
    await coord.getByRole('status').filter({ hasText: '訂正版（下書き）を作成しました' }).waitFor();
    await coord.getByRole('button', { name: '公開', exact: true }).click();
    await Promise.all([
      coord.waitForResponse(isCall('POST', /\/publish$/)),
      coord.getByRole('button', { name: '公開する' }).click(),
    ]);
    await coord.getByRole('heading', { level: 1, name: '配信状況' }).waitFor();

    const member = await as(MEM);
    const banner = member.locator('.live-alert').filter({ hasText: ALERT.ja });
    await banner.waitFor({ timeout: 5000 });
    assert.equal(await banner.getAttribute('data-kind'), 'correction');
    assert.ok((await banner.innerText()).includes('訂正'));
    await banner.getByRole('link', { name: '注意喚起を開く' }).click();
    await member.getByText('訂正版（第 2 版）です').waitFor();

    // Withdraw it: a reason, a draft, publish.
    await coord.goto(srv.base + `/#/alerts/${(await v.json()).id}`);
    await coord.getByRole('button', { name: '取り消す' }).click();
    await coord.locator('textarea[name="reason"]').fill('対象の装置が異なっていたため');
    const [w] = await Promise.all([
      coord.waitForResponse(isCall('POST', /\/versions$/)),
      coord.getByRole('button', { name: '取り消し版を作成' }).click(),
    ]);
    assert.equal(w.status(), 201, await w.text());
    await coord.getByRole('button', { name: '公開', exact: true }).click();
    await Promise.all([
      coord.waitForResponse(isCall('POST', /\/publish$/)),
      coord.getByRole('button', { name: '公開する' }).click(),
    ]);
    const wb = member.locator('.live-alert[data-kind="withdrawal"]');
    await wb.waitFor({ timeout: 5000 });
    await wb.getByRole('link', { name: '注意喚起を開く' }).click();
    await member.getByText('この注意喚起は取り消されました', { exact: true }).waitFor();
    assert.ok((await member.locator('.state-note').innerText()).includes('対象の装置が異なっていたため'));
  });

  test('a sector hub analyst writes to the organisations of its own sectors only', async () => {
    const hub = await as(HUB);
    await hub.getByRole('navigation').getByRole('link', { name: '注意喚起' }).click();
    await hub.getByRole('link', { name: '注意喚起を作成' }).click();
    await hub.getByRole('heading', { level: 1, name: '注意喚起の作成' }).waitFor();
    const form = hub.locator('form.alert-form');
    const sectors = form.locator('.marking-picker input[name="audience.sectors"]');
    assert.deepEqual(await sectors.evaluateAll((els) => els.map((e) => e.value)), ['electricity'], 'its own sectors only');
    assert.ok(await form.locator('.marking-picker input[name="audience.all_members"]').isHidden());
    assert.ok(await form.locator('.marking-picker textarea[name="audience.orgs"]').isHidden());
    assert.equal(await form.locator('.marking-picker input[type="radio"][value="RED"]').count(), 0, 'no TLP:RED without named organisations');
    await form.locator('input[name="title.ja"]').fill('電力分野: 制御系ベンダーを装うフィッシングメール');
    await form.locator('textarea[name="actions.ja"]').fill('添付ファイルを開かず、セプター事務局に転送してください。');
    await sectors.check();
    const [made] = await Promise.all([
      hub.waitForResponse(isCall('POST', /^\/api\/v1\/alerts$/)),
      form.getByRole('button', { name: '下書きを保存' }).click(),
    ]);
    assert.equal(made.status(), 201, await made.text());
    assert.deepEqual(made.request().postDataJSON().audience, { orgs: [], sectors: ['electricity'], tiers: [], all_members: false });
    await hub.getByRole('button', { name: '公開', exact: true }).click();
    const [pub] = await Promise.all([
      hub.waitForResponse(isCall('POST', /\/publish$/)),
      hub.getByRole('button', { name: '公開する' }).click(),
    ]);
    assert.equal(pub.status(), 200, await pub.text());
    await hub.getByRole('heading', { level: 1, name: '配信状況' }).waitFor();
    await hub.locator('.stat-tile[data-stat="targeted"] .stat-n').filter({ hasText: /^1$/ }).waitFor();
    const member = await as(MEM);
    const b = member.locator('.live-alert').filter({ hasText: '制御系ベンダーを装うフィッシングメール' });
    await b.waitFor({ timeout: 5000 });
    assert.ok((await b.innerText()).includes('電力セプター'), 'from the hub');
  });

  test('the org admin adds, disables and deletes a webhook; its secret is shown once', async () => {
    const page = await as(OP_ADMIN);
    await page.goto(srv.base + `/#/orgs/${ids.kanto}`);
    await page.getByRole('heading', { level: 2, name: /Webhook/ }).waitFor();
    await page.getByText('Webhook は登録されていません。').waitFor();
    const url = page.locator('.webhook-form input[name="url"]');
    await url.fill('ftp://example.test/hook');
    const [bad] = await Promise.all([
      page.waitForResponse(isCall('POST', /\/webhooks$/)),
      page.getByRole('button', { name: '追加', exact: true }).click(),
    ]);
    assert.equal(bad.status(), 422);
    await page.locator('.webhook-form input[name="url"][aria-invalid="true"]').waitFor();
    assert.ok((await page.locator('.webhook-form .field-error').innerText()).includes('https://'), 'the reason, in Japanese');
    // The hub delivers only to public addresses (webhook_allow_private is off here).
    await url.fill('https://127.0.0.1:9/isac-hook');
    const [priv] = await Promise.all([
      page.waitForResponse(isCall('POST', /\/webhooks$/)),
      page.getByRole('button', { name: '追加', exact: true }).click(),
    ]);
    assert.equal(priv.status(), 422);
    await page.locator('.webhook-form .field-error').filter({ hasText: '公開アドレス' }).waitFor();
    await url.fill('https://hooks.example.test:9/isac-hook');
    const [ok] = await Promise.all([
      page.waitForResponse(isCall('POST', /\/webhooks$/)),
      page.getByRole('button', { name: '追加', exact: true }).click(),
    ]);
    assert.equal(ok.status(), 201, await ok.text());
    const { secret } = await ok.json();
    assert.equal(await page.locator('.secret-box .secret-value').innerText(), secret);
    await page.locator('.webhook-table tbody tr[data-webhook]').waitFor();
    assert.ok((await page.locator('.webhook-table').innerText()).includes('https://hooks.example.test:9/isac-hook'));
    assert.ok(!(await page.locator('.webhook-table').innerText()).includes(secret), 'the secret is not in the list');
    await page.getByRole('button', { name: '控えたので閉じる' }).click();
    assert.equal(await page.locator('.secret-box').count(), 0);

    const [off] = await Promise.all([
      page.waitForResponse(isCall('PATCH', /^\/api\/v1\/webhooks\//)),
      page.getByRole('button', { name: '無効にする' }).click(),
    ]);
    assert.deepEqual(off.request().postDataJSON(), { enabled: false });
    await page.locator('.webhook-table').getByText('無効', { exact: true }).waitFor();
    await page.getByRole('button', { name: '有効にする' }).waitFor();

    await page.getByRole('button', { name: '配信記録' }).click();
    await page.locator('.webhook-log-box').filter({ hasText: 'まだ配信していません。' }).waitFor();

    await page.getByRole('button', { name: '削除', exact: true }).click();
    const [del] = await Promise.all([
      page.waitForResponse(isCall('DELETE', /^\/api\/v1\/webhooks\//)),
      page.getByRole('button', { name: '削除する' }).click(),
    ]);
    assert.equal(del.status(), 204);
    await page.getByText('Webhook は登録されていません。').waitFor();
  });

  test('the alerts pages load in both languages with no CSP violation or console error', async () => {
    for (const user of [MEM, COORD]) {
      const page = await as(user);
      const hashes = user === COORD
        ? ['#/alerts', '#/alerts/new', `#/alerts/${alertId}`, `#/alerts/${alertId}/delivery`, '#/alerts?state=any']
        : ['#/alerts', '#/alerts?exercise=true', `#/alerts/${alertId}`];
      for (const lang of ['English', '日本語']) {
        await page.getByRole('button', { name: lang }).click();
        for (const hash of hashes) {
          await page.goto(srv.base + '/' + hash);
          await page.locator('main h1').waitFor();
          await page.waitForLoadState('networkidle');
          assert.equal(await page.locator('main .banner-error').count(), 0, `no error banner on ${hash}`);
        }
      }
      // Nothing scrolls sideways on a phone.
      await page.setViewportSize({ width: 375, height: 740 });
      for (const hash of hashes) {
        await page.goto(srv.base + '/' + hash);
        await page.locator('main h1').waitFor();
        await page.waitForLoadState('networkidle');
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 0, `${hash} scrolls sideways by ${overflow}px at 375 px`);
      }
      await page.setViewportSize({ width: 1280, height: 900 });
      const { seen } = pages[user.login];
      const violations = await page.evaluate(() => window.__cspViolations);
      assert.deepEqual(violations, [], 'CSP violations');
      assert.deepEqual(seen.console, [], 'console errors');
      assert.deepEqual(seen.pageErrors, [], 'page errors');
      assert.equal(await page.evaluate(() => document.querySelectorAll('[style]').length), 0, 'no inline style');
    }
  });
});
