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
  const browser = await launchBrowser();
  const shots = [];
  try {
    for (const w of WIDTHS) {
      for (const lang of LANGS) {
        const context = await browser.newContext({ viewport: { width: w.width, height: w.height }, locale: lang === 'ja' ? 'ja-JP' : 'en-GB', deviceScaleFactor: 1, reducedMotion: 'reduce' });
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

        const unexpected = errors.filter((e) => !/status of (401|422)/.test(e));
        if (unexpected.length) console.error(`${w.name}/${lang}: page errors:\n  ` + unexpected.join('\n  '));
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
