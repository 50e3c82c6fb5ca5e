// Browser tests of the web UI against a real isac daemon (node --test tests/browser/).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, login, apiAs, ADMIN, COORDINATOR } from './server.mjs';

describe('web UI: sign in, language, organisations, sign out', () => {
  let srv; let browser; let page; let context;
  const orgJa = 'テスト電力株式会社 ' + Math.random().toString(36).slice(2, 8);

  before(async () => {
    srv = await startServer();
    browser = await launchBrowser();
    ({ page, context } = await newPage(browser));
  });
  after(async () => {
    if (browser) await browser.close();
    if (srv) await srv.stop();
  });

  test('login page follows the browser language; a wrong password is reported', async () => {
    await page.goto(srv.base + '/');
    assert.equal(await page.getAttribute('html', 'lang'), 'ja');
    await page.getByRole('heading', { level: 1, name: 'ログイン' }).waitFor();
    await page.getByLabel('ログイン名').fill(ADMIN.login);
    await page.getByLabel('パスワード').fill('not the right password');
    await page.getByRole('button', { name: 'ログイン' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /ログイン名またはパスワードが正しくありません/);
    assert.equal(await page.locator('nav.mainnav').isVisible(), false);
  });

  test('signs in and shows the home page with the organisation', async () => {
    await page.getByLabel('ログイン名').fill(ADMIN.login);
    await page.getByLabel('パスワード').fill(ADMIN.password);
    await page.getByRole('button', { name: 'ログイン' }).click();
    await page.getByRole('heading', { level: 1, name: 'ホーム' }).waitFor();
    assert.match(page.url(), /#\/home$/);
    const main = page.locator('main');
    await main.getByText(COORDINATOR.nameJa, { exact: true }).waitFor();
    const text = await main.innerText();
    assert.match(text, /調整機関（ナショナルセンター）/, 'kind shown by its Japanese label');
    assert.match(text, /第一類構成員/, 'tier shown by its Japanese name');
    assert.match(text, /システム管理者/, 'role shown by its Japanese label');
    assert.match(text, /情報通信/, 'sector shown by its Japanese name');
    assert.match(text, new RegExp(ADMIN.login.replace('.', '\\.')));
    assert.match(await page.locator('header').innerText(), new RegExp(ADMIN.name));
  });

  test('switches between 日本語 and English', async () => {
    const nav = page.getByRole('navigation');
    await nav.getByRole('link', { name: 'ホーム' }).waitFor();
    await page.getByRole('button', { name: 'English' }).click();
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await nav.getByRole('link', { name: 'Home' }).waitFor();
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    const text = await page.locator('main').innerText();
    assert.match(text, /Coordinator \(national centre\)/);
    assert.match(text, /National cyber coordination centre/);
    assert.doesNotMatch(text, /調整機関/);
    assert.equal(await page.getByRole('button', { name: 'English' }).getAttribute('aria-pressed'), 'true');
    // The choice survives a reload.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    // And back.
    await page.getByRole('button', { name: '日本語' }).click();
    assert.equal(await page.getAttribute('html', 'lang'), 'ja');
    await page.getByRole('heading', { level: 1, name: 'ホーム' }).waitFor();
    assert.equal(await page.title(), 'ホーム — isac');
  });

  test('creates an organisation with a Japanese name and finds it in the list', async () => {
    await page.getByRole('navigation').getByRole('link', { name: '組織' }).click();
    await page.getByRole('heading', { level: 1, name: '組織一覧' }).waitFor();
    await page.locator('table tbody tr').first().waitFor();
    await page.getByRole('link', { name: '組織を登録' }).click();
    await page.getByRole('heading', { level: 1, name: '組織の登録' }).waitFor();
    assert.match(page.url(), /#\/orgs\/new$/);

    await page.getByLabel('日本語名').fill(orgJa);
    await page.getByLabel('英語名').fill('Test Electric Power Co.');
    await page.getByLabel('組織種別').selectOption('operator');
    await page.getByLabel('電力', { exact: true }).check();
    await page.getByLabel('ガス', { exact: true }).check();
    await page.getByLabel('構成員区分').selectOption('class2');
    await page.getByRole('button', { name: '連絡先を追加' }).click();
    const row = page.locator('.contact-row').first();
    await row.getByLabel('種類').selectOption('email');
    await row.getByLabel('アドレス・番号').fill('soc@example.jp');
    await row.getByLabel('用途・メモ').fill('SOC 24h');

    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/orgs') && r.request().method() === 'POST'),
      page.getByRole('button', { name: '登録する' }).click(),
    ]);
    assert.equal(resp.status(), 201, 'POST /api/v1/orgs → 201');
    const sent = resp.request().postDataJSON();
    assert.deepEqual(sent.name, { ja: orgJa, en: 'Test Electric Power Co.' });
    assert.deepEqual([...sent.sectors].sort(), ['electricity', 'gas']);
    assert.deepEqual(sent.contacts, [{ type: 'email', value: 'soc@example.jp', label: 'SOC 24h' }]);
    assert.ok(resp.request().headers()['x-csrf-token'], 'X-CSRF-Token sent');

    await page.getByRole('heading', { level: 1, name: '組織一覧' }).waitFor();
    await page.getByRole('status').filter({ hasText: orgJa }).waitFor();
    const newRow = page.locator('table tbody tr').filter({ hasText: orgJa });
    await newRow.waitFor();
    const rowText = await newRow.innerText();
    assert.match(rowText, /重要インフラ事業者/);
    assert.match(rowText, /電力/);
    assert.match(rowText, /第二類構成員/);

    // The kind filter narrows the list on the server.
    await page.locator('form.filters').getByLabel('組織種別').selectOption('coordinator');
    await page.getByRole('button', { name: '絞り込む' }).click();
    await page.locator('table tbody tr').filter({ hasText: COORDINATOR.nameJa }).waitFor();
    await newRow.waitFor({ state: 'detached' });
  });

  test('shows validation errors next to the fields (and in both languages)', async () => {
    await page.goto(srv.base + '/#/orgs/new');
    await page.getByRole('heading', { level: 1, name: '組織の登録' }).waitFor();
    // No kind chosen.
    await page.getByLabel('英語名').fill('Nameless kind Ltd.');
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/orgs') && r.request().method() === 'POST'),
      page.getByRole('button', { name: '登録する' }).click(),
    ]);
    assert.equal(resp.status(), 422);
    const problem = await resp.json();
    assert.ok(problem.errors.some((e) => e.field === 'kind'), 'server reports field kind: ' + JSON.stringify(problem));
    const kind = page.getByLabel('組織種別');
    await page.waitForFunction(() => document.querySelector('select[name="kind"]')?.getAttribute('aria-invalid') === 'true');
    const errId = (await kind.getAttribute('aria-describedby')).split(' ').pop();
    const err = page.locator('#' + errId);
    await err.waitFor({ state: 'visible' });
    const jaText = (await err.innerText()).trim();
    assert.ok(jaText.length > 0);
    assert.ok(await kind.evaluate((el) => el === document.activeElement), 'focus moves to the first invalid field');
    await page.getByRole('alert').filter({ hasText: '入力内容を確認してください' }).waitFor();

    // Switching language translates the message in place; the typed value stays.
    await page.getByRole('button', { name: 'English' }).click();
    const enText = (await err.innerText()).trim();
    assert.ok(enText.length > 0);
    assert.notEqual(enText, jaText, 'error message follows the language');
    assert.equal(await page.getByLabel('English name').inputValue(), 'Nameless kind Ltd.');
    await page.getByRole('button', { name: '日本語' }).click();

    // An operator needs at least one sector.
    await kind.selectOption('operator');
    const [resp2] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/orgs') && r.request().method() === 'POST'),
      page.getByRole('button', { name: '登録する' }).click(),
    ]);
    assert.equal(resp2.status(), 422, 'operator without sectors is rejected');
    const p2 = await resp2.json();
    assert.ok(p2.errors.some((e) => /^sectors/.test(e.field)), 'server reports field sectors: ' + JSON.stringify(p2));
    const sectorsGroup = page.getByRole('group', { name: '分野', exact: true });
    await page.waitForFunction(() => document.querySelector('fieldset.group-invalid') !== null);
    assert.match(await sectorsGroup.locator('.field-error').innerText(), /\S/);
    assert.equal(await kind.getAttribute('aria-invalid'), null, 'kind error cleared');
  });

  test('creates a user through the admin page', async () => {
    await page.goto(srv.base + '/#/users/new');
    await page.getByRole('heading', { level: 1, name: '利用者の登録' }).waitFor();
    await page.getByLabel('ログイン名').fill('soc.tester');
    await page.getByLabel('表示名').fill('検証 花子');
    const orgSelect = page.locator('select[name="org_id"]');
    await page.waitForFunction(() => document.querySelectorAll('select[name="org_id"] option').length > 1);
    await orgSelect.selectOption({ label: orgJa });
    await page.getByLabel('分析担当').check();
    await page.getByLabel('表示言語').selectOption('en');
    await page.getByLabel('パスワード', { exact: true }).fill('short');
    // Too short a password: the server's error appears next to the field.
    await page.getByRole('button', { name: '登録する' }).click();
    await page.waitForFunction(() => document.querySelector('input[name="password"]')?.getAttribute('aria-invalid') === 'true');
    await page.getByLabel('パスワード', { exact: true }).fill('a long enough password');
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/users') && r.request().method() === 'POST'),
      page.getByRole('button', { name: '登録する' }).click(),
    ]);
    assert.equal(resp.status(), 201);
    const sent = resp.request().postDataJSON();
    assert.deepEqual([...sent.roles].sort(), ['analyst', 'member']);
    await page.getByRole('heading', { level: 1, name: '利用者一覧' }).waitFor();
    const row = page.locator('table tbody tr').filter({ hasText: 'soc.tester' });
    await row.waitFor();
    const rowText = await row.innerText();
    assert.match(rowText, /検証 花子/);
    assert.match(rowText, new RegExp(orgJa));
    assert.match(rowText, /分析担当/);

    // The same login again: 409, shown at the login field.
    await page.goto(srv.base + '/#/users/new');
    await page.getByLabel('ログイン名').fill('soc.tester');
    await page.getByLabel('表示名').fill('二人目');
    await page.waitForFunction(() => document.querySelectorAll('select[name="org_id"] option').length > 1);
    await orgSelect.selectOption({ label: orgJa });
    await page.getByLabel('パスワード', { exact: true }).fill('a long enough password');
    await page.getByRole('button', { name: '登録する' }).click();
    await page.waitForFunction(() => document.querySelector('input[name="login"]')?.getAttribute('aria-invalid') === 'true');
    assert.equal(await page.locator('input[name="login"]').evaluate((el) => el === document.activeElement), true);
  });

  test('signs out', async () => {
    await page.getByRole('button', { name: 'ログアウト' }).click();
    await page.getByRole('heading', { level: 1, name: 'ログイン' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'ログアウトしました' }).waitFor();
    assert.equal(await page.locator('nav.mainnav').isVisible(), false);
    const me = await context.request.get(srv.base + '/api/v1/me');
    assert.equal(me.status(), 401, 'session is gone on the server');
    await page.goto(srv.base + '/#/orgs');
    await page.getByRole('heading', { level: 1, name: 'ログイン' }).waitFor();
  });
});

describe('web UI: strict CSP, no console errors', () => {
  let srv; let browser;

  const OA = { login: 'oa.kanto', password: 'org admin password 1', name: '組織 管理者' };
  before(async () => {
    srv = await startServer({
      setup: async (ctx) => {
        const d = ['--data', ctx.dir];
        const kanto = await ctx.isac(['org', 'add', ...d, '--name', 'Kanto Electric', '--name-ja', '関東電力', '--kind', 'operator', '--sector', 'electricity', '--tier', 'general']);
        await ctx.isac(['user', 'add', ...d, '--org', kanto, '--login', OA.login, '--role', 'org_admin', '--name', OA.name, '--locale', 'ja'], OA.password + '\n');
        await ctx.isac(['user', 'add', ...d, '--org', kanto, '--login', 'kanto.member', '--role', 'member', '--name', '関東 一般'], 'member password 123\n');
        // Enough vendors for more than one page of organisations (the API's default limit is 50).
        for (let i = 1; i <= 55; i += 1) {
          await ctx.isac(['org', 'add', ...d, '--name', `Vendor ${String(i).padStart(2, '0')}`, '--kind', 'vendor', '--tier', 'class1']);
        }
      },
    });
    browser = await launchBrowser();
  });
  after(async () => {
    if (browser) await browser.close();
    if (srv) await srv.stop();
  });

  test('an organisation administrator sees and manages only their own organisation', async () => {
    const { page, context } = await newPage(browser);
    await login(page, srv.base, OA);
    const nav = page.getByRole('navigation');
    await nav.getByRole('link', { name: '利用者' }).waitFor();
    assert.equal(await nav.getByRole('link', { name: '組織' }).count(), 0, 'no organisations menu');
    assert.equal(await nav.getByRole('link', { name: '監査ログ' }).count(), 0, 'no audit log menu');
    await nav.getByRole('link', { name: '利用者' }).click();
    await page.getByRole('heading', { level: 1, name: '利用者一覧' }).waitFor();
    await page.locator('table tbody tr').filter({ hasText: 'kanto.member' }).waitFor();
    const text = await page.locator('table').innerText();
    assert.doesNotMatch(text, new RegExp(ADMIN.login.replace('.', '\\.')), 'users of other organisations are not listed');
    // Creating a user: own organisation fixed, no admin/auditor roles offered.
    await page.getByRole('link', { name: '利用者を登録' }).click();
    await page.getByRole('heading', { level: 1, name: '利用者の登録' }).waitFor();
    assert.equal(await page.locator('select[name="org_id"]').count(), 0);
    assert.match(await page.locator('form.form').innerText(), /関東電力/);
    assert.equal(await page.getByLabel('システム管理者').count(), 0);
    assert.equal(await page.getByLabel('監査担当').count(), 0);
    await page.goto(srv.base + '/#/orgs/new');
    await page.getByRole('heading', { level: 1, name: '権限がありません' }).waitFor();
    await context.close();
  });

  test('the organisation list pages with "more" (cursor pagination)', async () => {
    const { page, context } = await newPage(browser);
    await login(page, srv.base);
    await page.goto(srv.base + '/#/orgs');
    const rows = page.locator('table tbody tr');
    await rows.first().waitFor();
    const more = page.getByRole('button', { name: 'さらに表示' });
    await more.waitFor();
    const first = await rows.count();
    assert.ok(first < 57, `first page is partial (${first} rows)`);
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/api/v1/orgs?') && r.url().includes('cursor=')),
      more.click(),
    ]);
    assert.equal(resp.status(), 200);
    await page.waitForFunction((n) => document.querySelectorAll('table tbody tr').length > n, first);
    // Keep going until the list is complete: 55 vendors + coordinator + Kanto.
    while (await more.isVisible()) {
      const n = await rows.count();
      await more.click();
      await page.waitForFunction((k) => document.querySelectorAll('table tbody tr').length > k, n);
    }
    assert.equal(await rows.count(), 57);
    const names = await rows.locator('.name-primary').allInnerTexts();
    assert.equal(new Set(names).size, 57, 'no row shown twice');
    await context.close();
  });

  /** Visit pages in both languages; every one renders an h1 and no error banner. */
  async function visitAll(page, pages) {
    for (const lang of ['日本語', 'English']) {
      await page.getByRole('button', { name: lang }).click();
      for (const hash of pages) {
        await page.goto(srv.base + '/' + hash);
        await page.locator('main h1').waitFor();
        await page.waitForLoadState('networkidle');
        // Open every disclosure (the report form's details and its audience picker) so all of it renders.
        await page.evaluate(() => { for (const d of document.querySelectorAll('main details')) d.open = true; });
        await page.evaluate(() => { for (const b of document.querySelectorAll('.marking-toggle[aria-expanded="false"]')) b.click(); });
        assert.equal(await page.locator('main .banner-error').count(), 0, `no error banner on ${hash}`);
      }
    }
  }

  async function assertClean(page, seen) {
    const violations = await page.evaluate(() => window.__cspViolations);
    const styled = await page.evaluate(() => document.querySelectorAll('[style]').length);
    const inlineScripts = await page.evaluate(() => [...document.scripts].filter((s) => !s.src).length);
    assert.deepEqual(violations, [], 'CSP violations');
    assert.deepEqual(seen.console, [], 'console errors/warnings');
    assert.deepEqual(seen.pageErrors, [], 'uncaught page errors');
    assert.deepEqual(seen.responses, [], 'failed requests');
    assert.equal(styled, 0, 'no inline style attributes');
    assert.equal(inlineScripts, 0, 'no inline scripts');
  }

  test('every page loads with zero CSP violations and zero console errors', async () => {
    const { page, seen } = await newPage(browser);
    const res = await page.goto(srv.base + '/');
    const csp = res.headers()['content-security-policy'] || '';
    assert.match(csp, /script-src 'self'/, 'CSP header present on /');
    assert.match(csp, /style-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    await page.locator('input[name="login"]').waitFor();
    await login(page, srv.base);

    // The administrator of the coordinator: members pages, the reports list, the due
    // list and the near-miss totals (administrators do not file reports themselves).
    await visitAll(page, ['#/home', '#/orgs', '#/orgs/new', '#/users', '#/users/new', '#/password',
      '#/reports', '#/reports/new', '#/due', '#/near-miss', '#/audit']);
    // The audit log with an entry opened and the chain verified.
    await page.goto(srv.base + '/#/audit');
    await page.locator('table tbody tr.audit-row').first().waitFor();
    await page.locator('.audit-toggle').first().click();
    await page.locator('tr.audit-detail-row:not([hidden]) code.hash').first().waitFor();
    await page.locator('.verify-btn').click();
    await page.locator('.verify-slot .banner-success').waitFor();
    assert.ok(await page.getByRole('navigation').getByRole('link', { name: /監査ログ|Audit log/ }).isVisible(), 'admins get the audit menu');
    // Reload with an existing session (GET /me on start).
    await page.reload();
    await page.locator('main h1').waitFor();
    await page.waitForLoadState('networkidle');
    await assertClean(page, seen);
  });

  test('the reports pages load with zero CSP violations and zero console errors', async () => {
    const { page, seen } = await newPage(browser, { timezoneId: 'Asia/Tokyo' });
    await login(page, srv.base, OA);
    // A report with details and one update, so the report page has a timeline with changes.
    const made = await apiAs(page, srv.base, 'POST', '/reports', {
      event_type: 'malware', title: '事務用PCのランサムウェア感染', sectors: ['electricity'], regime: 'jp_electricity',
      severity: { continuity: 2 }, causes: [{ code: 'intentional', detail: '不審メールの添付ファイル' }],
      observables: [{ type: 'sha256', value: 'a'.repeat(64), role: 'attacker' }], description: '金曜夕方に発生。\n週末に解析。',
      tlp: 'AMBER+STRICT', audience: { sectors: ['electricity'], tiers: ['class1'], all_members: false, orgs: [] },
      purpose: '監視の強化のため', handling: '組織外への転送禁止',
    });
    assert.equal(made.status, 201);
    const id = made.body.id;
    const upd = await apiAs(page, srv.base, 'POST', `/reports/${id}/revisions`, {
      stage: 'update', changes: { severity: { trust: 1 }, status: 'monitoring', observables: [{ type: 'domain', value: 'evil.example', role: 'attacker' }],
        tlp: 'RED', audience: { orgs: ['00000000-0000-4000-8000-000000000001'], sectors: [], tiers: [], all_members: false } },
    });
    assert.equal(upd.status, 201);
    const pages = ['#/reports', '#/reports/new', `#/reports/${id}`, `#/reports/${id}/update`, '#/due', '#/near-miss'];
    await visitAll(page, pages);
    // Nothing scrolls sideways on a phone either.
    await page.setViewportSize({ width: 375, height: 740 });
    for (const hash of pages) {
      await page.goto(srv.base + '/' + hash);
      await page.locator('main h1').waitFor();
      await page.waitForLoadState('networkidle');
      await page.evaluate(() => { for (const d of document.querySelectorAll('main details')) d.open = true; });
      await page.evaluate(() => { for (const b of document.querySelectorAll('.marking-toggle[aria-expanded="false"]')) b.click(); });
      if (/\/(new|update)$/.test(hash)) assert.ok(await page.locator('.marking-picker').isVisible(), `audience picker open on ${hash}`);
      else if (/^#\/reports\/[0-9a-f-]+$/.test(hash)) assert.equal(await page.locator('.report-title-row .tlp-pill').innerText(), 'TLP:RED');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${hash} scrolls sideways by ${overflow}px at 375 px`);
    }
    await assertClean(page, seen);
  });

  test('the UI is usable at 375 px with the keyboard alone', async () => {
    const { page, seen } = await newPage(browser, { viewport: { width: 375, height: 740 }, locale: 'en-US' });
    await page.goto(srv.base + '/');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    // Tab from the top of the page (skip link, brand, language buttons) to the form.
    let tabs = 0;
    while (tabs < 10 && await page.evaluate(() => document.activeElement?.name) !== 'login') {
      await page.keyboard.press('Tab');
      tabs += 1;
    }
    assert.ok(tabs < 10, 'login field reachable with Tab');
    await page.keyboard.type(ADMIN.login);
    await page.keyboard.press('Tab');
    await page.keyboard.type(ADMIN.password);
    await page.keyboard.press('Enter');
    await page.locator('nav.mainnav').waitFor({ state: 'visible' });
    // The account's locale (ja) applies when no language was chosen explicitly.
    await page.getByRole('heading', { level: 1, name: 'ホーム' }).waitFor();
    for (const hash of ['#/home', '#/orgs', '#/orgs/new', '#/users', '#/users/new', '#/password', '#/reports', '#/due', '#/near-miss', '#/audit']) {
      await page.goto(srv.base + '/' + hash);
      await page.locator('main h1').waitFor();
      await page.waitForLoadState('networkidle');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${hash} scrolls sideways by ${overflow}px at 375 px`);
    }
    assert.deepEqual(seen.pageErrors, []);
  });
});
