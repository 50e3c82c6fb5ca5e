// Browser tests of the audit log viewer against a real isac daemon (node --test tests/browser/):
// an auditor sees sign-ins and user creations, filters, pages with "more", expands an entry
// to its hashes, verifies the chain (intact, then broken after the database is altered
// behind the daemon's back), in both languages; a member gets no menu entry and the 403.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { startServer, launchBrowser, newPage, login, apiAs, ADMIN } from './server.mjs';

const AUDITOR = { login: 'audit.only', password: 'auditor password 123', name: '監査 三郎' };
const MEMBER = { login: 'kanto.member', password: 'member password 123', name: '関東 一般' };
const HEX64 = /^[0-9a-f]{64}$/;
const isGet = (suffix) => (r) => r.request().method() === 'GET' && new URL(r.url()).pathname.endsWith(suffix);

function sqlite(db, sql) {
  return new Promise((resolve, reject) => {
    execFile('sqlite3', ['-cmd', '.timeout 5000', db, sql], { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`sqlite3 failed: ${stderr || err.message}`)); else resolve(stdout.trim());
    });
  });
}

describe('audit log UI', () => {
  let srv; let browser; let page; let context; let seen;
  let createdId = null;

  before(async () => {
    srv = await startServer({
      setup: async (ctx) => {
        const d = ['--data', ctx.dir];
        const kanto = await ctx.isac(['org', 'add', ...d, '--name', 'Kanto Electric', '--name-ja', '関東電力', '--kind', 'operator', '--sector', 'electricity', '--tier', 'general']);
        await ctx.isac(['user', 'add', ...d, '--org', kanto, '--login', MEMBER.login, '--role', 'member', '--name', MEMBER.name, '--locale', 'ja'], MEMBER.password + '\n');
        await ctx.isac(['user', 'add', ...d, '--org', ctx.orgId, '--login', AUDITOR.login, '--role', 'auditor', '--name', AUDITOR.name, '--locale', 'ja'], AUDITOR.password + '\n');
        // More than one page of entries (the page size is 50): 55 org.create by the CLI.
        for (let i = 1; i <= 55; i += 1) {
          await ctx.isac(['org', 'add', ...d, '--name', `Vendor ${String(i).padStart(2, '0')}`, '--kind', 'vendor', '--tier', 'class1']);
        }
      },
    });
    browser = await launchBrowser();
    // An administrator creates a user through the API: a user.create with a real actor.
    {
      const { page: p, context: c } = await newPage(browser);
      await login(p, srv.base);
      const made = await apiAs(p, srv.base, 'POST', '/users', {
        login: 'new.analyst', display_name: '新規 分析', org_id: srv.orgId, roles: ['analyst'], locale: 'ja', password: 'a long enough password',
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      createdId = made.body.id;
      await c.close();
    }
    ({ page, context, seen } = await newPage(browser, { timezoneId: 'Asia/Tokyo' }));
    await login(page, srv.base, AUDITOR);
  });
  after(async () => {
    if (browser) await browser.close();
    if (srv) await srv.stop();
  });

  test('an auditor-only user sees Home, Audit log and Password, nothing else', async () => {
    const nav = page.getByRole('navigation');
    await nav.getByRole('link', { name: '監査ログ' }).waitFor();
    assert.deepEqual(await nav.getByRole('link').allInnerTexts(), ['ホーム', '監査ログ', 'パスワード']);
    for (const hash of ['#/reports', '#/orgs', '#/users']) {
      await page.goto(srv.base + '/' + hash);
      await page.getByRole('heading', { level: 1, name: '権限がありません' }).waitFor();
    }
  });

  test('lists the sign-in and the user creation, newest first, and says there is no content', async () => {
    const [resp] = await Promise.all([
      page.waitForResponse(isGet('/api/v1/audit')),
      page.getByRole('navigation').getByRole('link', { name: '監査ログ' }).click(),
    ]);
    await page.getByRole('heading', { level: 1, name: '監査ログ' }).waitFor();
    assert.equal(resp.status(), 200);
    assert.equal(await page.title(), '監査ログ — isac');
    await page.getByText('報告の内容は監査ログに含まれず', { exact: false }).waitFor();

    const rows = page.locator('table tbody tr.audit-row');
    await rows.first().waitFor();
    // Newest first: the auditor's own sign-in is on top.
    const top = await rows.first().innerText();
    assert.match(top, /ログイン/);
    assert.match(top, /login\.success/);
    assert.match(top, new RegExp(AUDITOR.login.replace('.', '\\.')));
    assert.match(top, /成功/);
    assert.match(top, /127\.0\.0\.1/);
    const seqs = (await resp.json()).items.map((e) => e.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => b - a), 'server order is newest first');

    const created = rows.filter({ hasText: createdId });
    await created.waitFor();
    const text = await created.innerText();
    assert.match(text, /利用者の登録/);
    assert.match(text, new RegExp(ADMIN.login.replace('.', '\\.')));
    // The CLI's own entries name the CLI user.
    await rows.filter({ hasText: /cli:/ }).first().waitFor();
    assert.match(await rows.filter({ hasText: /cli:/ }).first().innerText(), /管理コマンド（CLI）/);
  });

  test('"more" loads the next page with the cursor', async () => {
    const rows = page.locator('table tbody tr.audit-row');
    const first = await rows.count();
    assert.equal(first, 50, 'first page holds 50 entries');
    const [resp] = await Promise.all([
      page.waitForResponse((r) => isGet('/api/v1/audit')(r) && new URL(r.url()).searchParams.has('cursor')),
      page.getByRole('button', { name: 'さらに表示' }).click(),
    ]);
    assert.equal(resp.status(), 200);
    await page.waitForFunction(() => document.querySelectorAll('table tbody tr.audit-row').length > 50);
    const nums = await page.evaluate(() => [...document.querySelectorAll('table tbody tr.audit-row')]
      .map((tr) => Number(tr.querySelector('.audit-toggle').getAttribute('aria-label').match(/\d+/)[0])));
    assert.equal(new Set(nums).size, nums.length, 'no entry twice');
    assert.deepEqual(nums, [...nums].sort((a, b) => b - a), 'still newest first');
  });

  test('filters by action, actor and object id', async () => {
    const form = page.locator('form.filters');
    await form.getByLabel('操作', { exact: true }).selectOption({ label: '利用者の登録' });
    const [resp] = await Promise.all([
      page.waitForResponse((r) => isGet('/api/v1/audit')(r) && new URL(r.url()).searchParams.get('action') === 'user.create'),
      form.getByRole('button', { name: '絞り込む' }).click(),
    ]);
    assert.equal(resp.status(), 200);
    const items = (await resp.json()).items;
    assert.equal(items.length, 4, 'three users made by the CLI, one through the API');
    const rows = page.locator('table tbody tr.audit-row');
    await page.waitForFunction(() => document.querySelectorAll('table tbody tr.audit-row').length === 4);
    for (const txt of await rows.allInnerTexts()) assert.match(txt, /利用者の登録/);

    await form.getByLabel('操作者のログイン名').fill(ADMIN.login);
    await form.getByRole('button', { name: '絞り込む' }).click();
    await page.waitForFunction(() => document.querySelectorAll('table tbody tr.audit-row').length === 1);
    assert.match(await rows.first().innerText(), new RegExp(createdId));

    // Only the object: every entry about the new user (its creation).
    await form.getByRole('button', { name: '条件をクリア' }).click();
    await page.waitForFunction(() => document.querySelectorAll('table tbody tr.audit-row').length === 50);
    await form.getByLabel('対象の ID').fill(createdId);
    await form.getByRole('button', { name: '絞り込む' }).click();
    await page.waitForFunction(() => document.querySelectorAll('table tbody tr.audit-row').length === 1);

    // From tomorrow: nothing.
    await form.getByLabel('対象の ID').fill('');
    const tomorrow = new Date(Date.now() + 9 * 3600_000 + 86400_000).toISOString().slice(0, 10);
    await form.getByLabel('開始日').fill(tomorrow);
    const [r2] = await Promise.all([
      page.waitForResponse((r) => isGet('/api/v1/audit')(r) && new URL(r.url()).searchParams.has('since')),
      form.getByRole('button', { name: '絞り込む' }).click(),
    ]);
    assert.equal(r2.status(), 200, 'since is sent as RFC 3339 with an offset');
    assert.match(new URL(r2.url()).searchParams.get('since'), /^\d{4}-\d{2}-\d{2}T00:00:00\+09:00$/);
    await page.getByText('条件に合う記録はありません。').waitFor();
    await form.getByRole('button', { name: '条件をクリア' }).click();
    await page.waitForFunction(() => document.querySelectorAll('table tbody tr.audit-row').length === 50);
  });

  test('a row expands to the detail JSON and the hashes', async () => {
    const [resp] = await Promise.all([
      page.waitForResponse(isGet('/api/v1/audit')),
      page.reload(),
    ]);
    const entry = (await resp.json()).items[0];
    assert.match(entry.hash, HEX64);
    const row = page.locator('table tbody tr.audit-row').first();
    const toggle = row.getByRole('button', { name: `第 ${entry.seq} 番の記録の詳細` });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    const detail = page.locator('#' + await toggle.getAttribute('aria-controls'));
    assert.equal(await detail.isVisible(), false);
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    await detail.waitFor({ state: 'visible' });
    const hashes = await detail.locator('code.hash').allInnerTexts();
    assert.deepEqual(hashes, [entry.hash, entry.prev_hash]);
    const text = await detail.innerText();
    assert.match(text, /ハッシュ値/);
    assert.match(text, /直前のハッシュ値/);
    assert.equal(JSON.stringify(JSON.parse(await detail.locator('pre.audit-json').innerText())), JSON.stringify(entry.detail));
    const font = await detail.locator('code.hash').first().evaluate((el) => getComputedStyle(el).fontFamily);
    assert.match(font, /mono/i, 'hashes are monospace');
    await toggle.click();
    await detail.waitFor({ state: 'hidden' });
    await toggle.click();
  });

  test('verifies the chain: intact', async () => {
    const [resp] = await Promise.all([
      page.waitForResponse(isGet('/api/v1/audit/verify')),
      page.getByRole('button', { name: 'チェーンを検証' }).click(),
    ]);
    const res = await resp.json();
    assert.equal(res.intact, true);
    const ok = page.getByRole('status').filter({ hasText: '改ざんなし' });
    await ok.waitFor();
    const text = await ok.innerText();
    assert.ok(text.includes(`改ざんなし（${res.entries} 件、先頭ハッシュ ${res.head.slice(0, 12)}…）`), text);
    assert.ok(text.includes(res.head), 'the whole head hash is shown');
  });

  test('switching language changes the labels in place', async () => {
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    assert.equal(await page.title(), 'Audit log — isac');
    await page.getByRole('navigation').getByRole('link', { name: 'Audit log' }).waitFor();
    await page.getByRole('button', { name: 'Verify chain' }).waitFor();
    await page.getByRole('status').filter({ hasText: /^Intact \(\d+ entries, head [0-9a-f]{12}…\)/ }).waitFor();
    const rows = page.locator('table tbody tr.audit-row');
    // Newest first: the auditor's own search of the log is recorded too.
    const top = await rows.first().innerText();
    assert.match(top, /Audit log searched/);
    assert.match(top, /Succeeded/);
    assert.doesNotMatch(top, /成功|検索/);
    const signin = await rows.filter({ hasText: 'login.success' }).first().innerText();
    assert.match(signin, /Sign-in/);
    assert.doesNotMatch(signin, /ログイン/);
    assert.match(await rows.filter({ hasText: createdId }).first().innerText(), /User created/);
    assert.match(await page.locator('thead').innerText(), /Time[\s\S]*Actor[\s\S]*Action[\s\S]*Object[\s\S]*Outcome[\s\S]*Remote address/);
    assert.match(await page.locator('tr.audit-detail-row:not([hidden])').innerText(), /Previous hash/);
    await page.locator('form.filters').getByLabel('Action', { exact: true }).locator('option[value="user.create"]').waitFor({ state: 'attached' });
    assert.equal(await page.locator('select[name="action"] option[value="user.create"]').innerText(), 'User created');
    await page.getByText('No report content is in the audit log', { exact: false }).waitFor();
    await page.getByRole('button', { name: '日本語' }).click();
    await page.getByRole('heading', { level: 1, name: '監査ログ' }).waitFor();
    assert.match(await rows.first().innerText(), /成功/);
  });

  test('a member gets no menu entry, and the 403 at #/audit', async () => {
    const { page: p, context: c, seen: s } = await newPage(browser);
    await login(p, srv.base, MEMBER);
    const nav = p.getByRole('navigation');
    await nav.getByRole('link', { name: 'ホーム' }).waitFor();
    assert.equal(await nav.getByRole('link', { name: '監査ログ' }).count(), 0, 'no audit menu for members');
    const [resp] = await Promise.all([
      p.waitForResponse(isGet('/api/v1/audit')),
      p.goto(srv.base + '/#/audit'),
    ]);
    assert.equal(resp.status(), 403);
    await p.getByRole('heading', { level: 1, name: '権限がありません' }).waitFor();
    const alert = p.getByRole('alert');
    await alert.waitFor();
    const text = await alert.innerText();
    assert.match(text, /この操作を行う権限がありません/);
    assert.match(text, /the audit log is for auditors/, 'the server\'s detail is shown');
    assert.equal(await p.locator('table').count(), 0, 'nothing of the log is drawn');
    assert.equal(await p.getByRole('button', { name: 'チェーンを検証' }).count(), 0);
    assert.deepEqual(s.pageErrors, []);
    await c.close();
  });

  test('verify names the first altered entry after the database is changed', async () => {
    const db = path.join(srv.dir, 'isac.db');
    // Alter entry 3 (an org.create by the CLI) behind the daemon's back.
    const before = await sqlite(db, 'SELECT action FROM audit WHERE seq = 3');
    assert.ok(before, 'entry 3 exists');
    await sqlite(db, `UPDATE audit SET detail = '{"tampered":true}' WHERE seq = 3`);
    await page.reload();
    await page.getByRole('heading', { level: 1, name: '監査ログ' }).waitFor();
    const [resp] = await Promise.all([
      page.waitForResponse(isGet('/api/v1/audit/verify')),
      page.getByRole('button', { name: 'チェーンを検証' }).click(),
    ]);
    const res = await resp.json();
    assert.equal(res.intact, false);
    assert.equal(res.first_bad, 3);
    const alert = page.getByRole('alert').filter({ hasText: '改ざんを検知しました' });
    await alert.waitFor();
    const text = await alert.innerText();
    assert.match(text, /第 3 番の記録/);
    assert.match(text, /記録の内容がハッシュ値と一致しません（改変されています）/);
    assert.equal(await alert.evaluate((el) => el.classList.contains('banner-error')), true, 'a red alert');
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('alert').filter({ hasText: 'Tampering detected: the chain breaks at entry #3' }).waitFor();
    assert.match(await page.getByRole('alert').innerText(), /Its fields do not match its hash \(altered\)/);
    await page.getByRole('button', { name: '日本語' }).click();
    assert.deepEqual(seen.pageErrors, []);
  });
});
