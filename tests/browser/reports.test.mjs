// Browser tests of the reports UI against a real isac daemon (node --test tests/browser/):
// an operator files a first report in Japanese, adds details, an update, the final report,
// reopens it; validation errors land at their fields; the due list and the monthly
// near-miss counts; what coordinators and auditors see.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, login, apiAs } from './server.mjs';

const OP = { login: 'soc.kanto', password: 'operator password 123', name: '佐藤 花子' };
const COORD = { login: 'coord.analyst', password: 'coordinator password 1', name: '調整 次郎' };
const AUDITOR = { login: 'audit.only', password: 'auditor password 123', name: '監査 三郎' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TOKYO = 9 * 3600 * 1000;

/** A datetime-local value in Tokyo time, `days` from now (negative: in the past). */
function tokyoLocal(days) {
  return new Date(Date.now() + days * 86400_000 + TOKYO).toISOString().slice(0, 16);
}
function tokyoLastMonth() {
  const d = new Date(Date.now() + TOKYO);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth(); // 0-based: this month; last month is m - 1
  return m === 0 ? `${y - 1}-12` : `${y}-${String(m).padStart(2, '0')}`;
}
const isPost = (suffix) => (r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith(suffix);

describe('reports UI: file, update, finalise, reopen; due list; near-miss counts', () => {
  let srv; let browser; let page; let context; let seen;
  let detailedId = null;
  const titleFirst = '事務用PCの画面がロックされ身代金要求が表示';
  const titleDetailed = '制御系ネットワークへの不審な通信を検知';

  before(async () => {
    srv = await startServer({
      setup: async (ctx) => {
        const d = ['--data', ctx.dir];
        const kanto = await ctx.isac(['org', 'add', ...d, '--name', 'Kanto Electric Power', '--name-ja', '関東電力株式会社',
          '--kind', 'operator', '--sector', 'electricity', '--tier', 'general']);
        await ctx.isac(['user', 'add', ...d, '--org', kanto, '--login', OP.login, '--role', 'member', '--name', OP.name, '--locale', 'ja'], OP.password + '\n');
        await ctx.isac(['user', 'add', ...d, '--org', ctx.orgId, '--login', COORD.login, '--role', 'analyst', '--name', COORD.name, '--locale', 'ja'], COORD.password + '\n');
        await ctx.isac(['user', 'add', ...d, '--org', ctx.orgId, '--login', AUDITOR.login, '--role', 'auditor', '--name', AUDITOR.name, '--locale', 'ja'], AUDITOR.password + '\n');
      },
    });
    browser = await launchBrowser();
    ({ page, context, seen } = await newPage(browser, { timezoneId: 'Asia/Tokyo' }));
    await login(page, srv.base, OP);
    await page.getByRole('button', { name: '日本語' }).click();
  });
  after(async () => {
    if (browser) await browser.close();
    if (srv) await srv.stop();
  });

  test('the menu offers reports, due dates and near misses to a member', async () => {
    const nav = page.getByRole('navigation');
    for (const name of ['報告', '報告期限', 'ヒヤリハット件数']) await nav.getByRole('link', { name, exact: true }).waitFor();
  });

  test('files a first report with the required fields only (and retries with the same Idempotency-Key)', async () => {
    await page.getByRole('navigation').getByRole('link', { name: '報告', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: '報告一覧' }).waitFor();
    await page.getByRole('link', { name: '報告を作成' }).click();
    await page.getByRole('heading', { level: 1, name: '報告の作成' }).waitFor();

    // First screen: only the required fields; the details are folded away.
    const details = page.locator('details.form-details');
    assert.equal(await details.evaluate((d) => d.open), false, 'details closed at first');
    assert.equal(await page.getByLabel('サービスの継続性').isVisible(), false, 'severity hidden until "add details"');
    assert.equal(await page.getByRole('checkbox', { name: '電力', exact: true }).isChecked(), true, 'the org\'s sector is preselected');
    await page.getByRole('button', { name: '速報を送信' }).waitFor();
    await page.getByRole('button', { name: '下書き保存' }).waitFor();

    await page.getByLabel('マルウェア等の感染', { exact: true }).check();
    await page.getByLabel('件名', { exact: true }).fill(titleFirst);

    // The first attempt never reaches the server; the retry is the same submission.
    const keys = [];
    let failOnce = true;
    await page.route('**/api/v1/reports', (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      keys.push(route.request().headers()['idempotency-key']);
      if (failOnce) { failOnce = false; return route.abort('failed'); }
      return route.continue();
    });
    await page.getByRole('button', { name: '速報を送信' }).click();
    await page.getByRole('alert').filter({ hasText: 'サーバーに接続できません' }).waitFor();
    const [resp] = await Promise.all([
      page.waitForResponse(isPost('/api/v1/reports')),
      page.getByRole('button', { name: '速報を送信' }).click(),
    ]);
    await page.unroute('**/api/v1/reports');
    assert.equal(resp.status(), 201);
    assert.equal(keys.length, 2);
    assert.match(keys[0], UUID, 'Idempotency-Key is a random UUID');
    assert.equal(keys[1], keys[0], 'the retry reuses the key');
    assert.deepEqual(resp.request().postDataJSON(), { event_type: 'malware', sectors: ['electricity'], title: titleFirst, status: 'open', tlp: 'AMBER' });

    await page.getByRole('heading', { level: 1, name: titleFirst }).waitFor();
    await page.getByRole('status').filter({ hasText: `速報「${titleFirst}」を送信しました` }).waitFor();
    const badges = await page.locator('.report-badges').innerText();
    assert.match(badges, /速報/);
    assert.match(badges, /未評価/);
    assert.match(await page.locator('.due-box').innerText(), /報告制度が指定されていない/);
  });

  test('validation errors are shown at their fields (future detected_at, bad observable)', async () => {
    await page.goto(srv.base + '/#/reports/new');
    await page.getByRole('heading', { level: 1, name: '報告の作成' }).waitFor();
    await page.getByLabel('システム等への侵入', { exact: true }).check();
    await page.getByLabel('件名', { exact: true }).fill(titleDetailed);
    await page.getByText('詳細を追加').click();
    await page.getByLabel('サービスの継続性').selectOption('2');
    assert.match(await page.locator('.sev-overall').innerText(), /総合\s*2 中/, 'overall is computed');
    await page.getByLabel('報告制度').selectOption('jp_electricity');
    await page.getByRole('button', { name: '原因を追加' }).click();
    await page.locator('.row-box').first().getByLabel('原因の類型').selectOption('intentional');
    await page.locator('.row-box').first().getByLabel('詳細').fill('委託先の VPN 機器の脆弱性を悪用された可能性');
    await page.locator('input[name="detected_at"]').fill(tokyoLocal(2));
    await page.getByRole('button', { name: '観測情報を追加' }).click();
    const obs = page.locator('.row-box').filter({ has: page.getByLabel('値', { exact: true }) });
    await obs.getByLabel('値', { exact: true }).fill('203.0.113.300');

    const [bad] = await Promise.all([
      page.waitForResponse(isPost('/api/v1/reports')),
      page.getByRole('button', { name: '速報を送信' }).click(),
    ]);
    assert.equal(bad.status(), 422);
    const fields = (await bad.json()).errors.map((e) => e.field).sort();
    assert.deepEqual(fields, ['detected_at', 'observables[0].value']);
    const badKey = bad.request().headers()['idempotency-key'];

    const detected = page.locator('input[name="detected_at"]');
    await page.waitForFunction(() => document.querySelector('input[name="detected_at"]')?.getAttribute('aria-invalid') === 'true');
    const detErr = page.locator('#' + (await detected.getAttribute('aria-describedby')).split(' ').pop());
    assert.match(await detErr.innerText(), /未来の日時は指定できません/);
    const value = obs.getByLabel('値', { exact: true });
    assert.equal(await value.getAttribute('aria-invalid'), 'true');
    const valErr = page.locator('#' + (await value.getAttribute('aria-describedby')).split(' ').pop());
    assert.match(await valErr.innerText(), /IPv4 アドレスの形式が正しくありません/);
    await page.getByRole('alert').filter({ hasText: '入力内容を確認してください' }).waitFor();

    // Corrected: a new submission, with a new key.
    const det = tokyoLocal(-2);
    await detected.fill(det);
    await value.fill('203.0.113.30');
    const [ok] = await Promise.all([
      page.waitForResponse(isPost('/api/v1/reports')),
      page.getByRole('button', { name: '速報を送信' }).click(),
    ]);
    assert.equal(ok.status(), 201);
    assert.notEqual(ok.request().headers()['idempotency-key'], badKey, 'a changed submission gets a new key');
    const sent = ok.request().postDataJSON();
    assert.equal(sent.detected_at, det + ':00+09:00', 'datetime-local sent as RFC 3339 with the browser offset');
    assert.deepEqual(sent.severity, { continuity: 2, safety: null, trust: null });
    assert.deepEqual(sent.observables, [{ type: 'ipv4', value: '203.0.113.30', role: 'attacker' }]);
    assert.deepEqual(sent.causes, [{ code: 'intentional', detail: '委託先の VPN 機器の脆弱性を悪用された可能性' }]);
    assert.equal(sent.regime, 'jp_electricity');
    detailedId = (await ok.json()).id;

    await page.getByRole('heading', { level: 1, name: titleDetailed }).waitFor();
    const main = await page.locator('.report-main').innerText();
    assert.match(main, /システム等への侵入/);
    assert.match(main, /203\.0\.113\.30/);
    assert.match(main, /攻撃側/);
    assert.match(main, /意図的な原因/);
    assert.match(main, /2 中/);
    const due = await page.locator('.due-box').innerText();
    assert.match(due, /最終報の期限/);
    assert.match(due, /電気事業法/);
  });

  test('adds an update that sends only the changed fields; the timeline shows what changed', async () => {
    await page.getByRole('link', { name: '続報を追加' }).click();
    await page.getByRole('heading', { level: 1, name: '続報の追加' }).waitFor();
    assert.equal(await page.getByLabel('件名', { exact: true }).inputValue(), titleDetailed, 'prefilled');
    await page.getByLabel('安全性').selectOption('1');
    await page.getByLabel('対応状況').selectOption('monitoring');
    await page.getByLabel('変更の理由・概要').fill('ベンダーの解析で制御系への影響は軽微と判明');
    assert.match(await page.locator('.pending-changes').innerText(), /送信される変更: 2 項目（深刻度、対応状況）/);
    const [resp] = await Promise.all([
      page.waitForResponse(isPost('/revisions')),
      page.getByRole('button', { name: '続報を送信' }).click(),
    ]);
    assert.equal(resp.status(), 201);
    assert.deepEqual(resp.request().postDataJSON(), {
      stage: 'update',
      changes: { severity: { safety: 1 }, status: 'monitoring' },
      reason: 'ベンダーの解析で制御系への影響は軽微と判明',
    });
    await page.getByRole('status').filter({ hasText: '続報を送信しました' }).waitFor();
    const items = page.locator('.tl-item');
    await page.waitForFunction(() => document.querySelectorAll('.tl-item').length === 2);
    const latest = await items.first().innerText();
    assert.match(latest, /続報/);
    assert.match(latest, /第 2 版/);
    assert.match(latest, /ベンダーの解析/);
    assert.match(latest, /深刻度（安全性）\s*変更前\s*未評価\s*→?\s*変更後\s*1 低/);
    assert.match(latest, /対応状況\s*変更前\s*対応中\s*→?\s*変更後\s*経過観察中/);
    assert.doesNotMatch(latest, /件名/, 'unchanged fields are not listed');
  });

  test('submits the final report; the timeline reads 最終報 / 続報 / 速報', async () => {
    await page.getByRole('button', { name: '最終報を提出…' }).click();
    await page.getByRole('heading', { level: 2, name: '最終報の提出' }).waitFor();
    const [resp] = await Promise.all([
      page.waitForResponse(isPost('/revisions')),
      page.getByRole('button', { name: '最終報を提出する' }).click(),
    ]);
    assert.equal(resp.status(), 201);
    assert.equal(resp.request().postDataJSON().stage, 'final');
    await page.waitForFunction(() => document.querySelectorAll('.tl-item').length === 3);
    const stages = await page.locator('.tl-item > .tl-card > .tl-head .stage-badge').allInnerTexts();
    assert.deepEqual(stages, ['最終報', '続報', '速報']);
    assert.match(await page.locator('.report-badges').innerText(), /最終報/);
    assert.match(await page.locator('.due-box').innerText(), /最終報を提出済み/);
    assert.equal(await page.getByRole('link', { name: '続報を追加' }).count(), 0, 'no more updates once final');
    // The first revision lists the initial content.
    assert.match(await page.locator('.tl-item').last().innerText(), /初版の記載内容/);
  });

  test('reopens the final report: a reason is required', async () => {
    await page.getByRole('button', { name: '再開…' }).click();
    const reason = page.getByLabel('再開の理由');
    await reason.waitFor();
    const [bad] = await Promise.all([
      page.waitForResponse(isPost('/revisions')),
      page.getByRole('button', { name: '報告を再開する' }).click(),
    ]);
    assert.equal(bad.status(), 422);
    await page.waitForFunction(() => document.querySelector('textarea[name="reason"]')?.getAttribute('aria-invalid') === 'true');
    const err = page.locator('#' + (await reason.getAttribute('aria-describedby')).split(' ').pop());
    assert.match(await err.innerText(), /再開の理由を入力してください/);

    await reason.fill('同様の通信を別の拠点でも確認したため');
    const [ok] = await Promise.all([
      page.waitForResponse(isPost('/revisions')),
      page.getByRole('button', { name: '報告を再開する' }).click(),
    ]);
    assert.equal(ok.status(), 201);
    await page.waitForFunction(() => document.querySelectorAll('.tl-item').length === 4);
    const top = await page.locator('.tl-item').first().innerText();
    assert.match(top, /再開/);
    assert.match(top, /同様の通信を別の拠点でも確認したため/);
    assert.match(await page.locator('.report-badges').innerText(), /続報/, 'a reopened report is at the update stage');
    assert.match(await page.locator('.due-box').innerText(), /最終報の期限/, 'the final report is due again');

    // Every label follows the language.
    await page.getByRole('button', { name: 'English' }).click();
    assert.deepEqual(await page.locator('.tl-item > .tl-card > .tl-head .stage-badge').allInnerTexts(),
      ['Reopened', 'Final report', 'Update', 'First report']);
    assert.match(await page.locator('.tl-item').nth(2).innerText(), /Severity: Safety/);
    await page.getByRole('button', { name: '日本語' }).click();
    await page.getByRole('heading', { level: 2, name: '改訂履歴' }).waitFor();
  });

  test('the due list puts overdue reports first and shows the jp_electricity regime', async () => {
    // Detected 40 days ago: the 30-day final report of jp_electricity is 10 days late.
    const late = await apiAs(page, srv.base, 'POST', '/reports', {
      event_type: 'availability', title: '料金収受システムの停止', sectors: ['electricity'],
      regime: 'jp_electricity', detected_at: tokyoLocal(-40) + ':00+09:00',
    });
    assert.equal(late.status, 201);
    await page.getByRole('navigation').getByRole('link', { name: '報告期限' }).click();
    await page.getByRole('heading', { level: 1, name: '報告期限' }).waitFor();
    const rows = page.locator('table tbody tr');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1, 'within 72 h: only the overdue report');
    assert.match(await rows.first().innerText(), /期限超過[\s\S]*料金収受システムの停止/);

    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/api/v1/reports/due?within_hours=720')),
      page.getByText('30 日以内').click(),
    ]);
    assert.equal(resp.status(), 200);
    await page.waitForFunction(() => document.querySelectorAll('table tbody tr').length === 2);
    const first = rows.nth(0);
    const second = rows.nth(1);
    assert.match(await first.getAttribute('class'), /row-overdue/);
    assert.match(await first.innerText(), /期限超過/);
    const text = await second.innerText();
    assert.match(text, new RegExp(titleDetailed));
    assert.match(text, /電気事業法（電力）/);
    assert.match(text, /あと \d+ 日/);
    assert.doesNotMatch(text, /期限超過/);
    assert.match(await page.locator('.due-summary').innerText(), /期限超過 1 件・期限間近 1 件/);
    await second.getByRole('link', { name: titleDetailed }).click();
    await page.getByRole('heading', { level: 1, name: titleDetailed }).waitFor();
    assert.match(page.url(), new RegExp('#/reports/' + detailedId + '$'));
  });

  test('the reports list filters on the server and marks overdue rows', async () => {
    await page.getByRole('navigation').getByRole('link', { name: '報告', exact: true }).click();
    const rows = page.locator('table tbody tr');
    await page.waitForFunction(() => document.querySelectorAll('table tbody tr').length === 3);
    assert.match(await rows.filter({ hasText: '料金収受システムの停止' }).getAttribute('class'), /row-overdue/);
    const detailedRow = rows.filter({ hasText: titleDetailed });
    const detailed = await detailedRow.innerText();
    assert.match(detailed, /侵入/, 'short event label in the table');
    assert.equal(await detailedRow.locator('.event-short').getAttribute('title'), 'システム等への侵入', 'full label as tooltip');
    assert.match(detailed, /2 中/);
    assert.match(detailed, /続報/);
    assert.match(detailed, /経過観察中/);
    await page.locator('form.filters').getByLabel('事象の類型').selectOption('malware');
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/api/v1/reports?') && r.url().includes('event_type=malware')),
      page.getByRole('button', { name: '絞り込む' }).click(),
    ]);
    assert.equal(resp.status(), 200);
    await page.waitForFunction(() => document.querySelectorAll('table tbody tr').length === 1);
    assert.match(await rows.first().innerText(), new RegExp(titleFirst));
  });

  test('monthly near-miss counts: submit, re-submit replaces, history keeps the old value', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'ヒヤリハット件数' }).click();
    await page.getByRole('heading', { level: 1, name: 'ヒヤリハット件数（月次）' }).waitFor();
    const month = page.getByLabel('対象月');
    assert.equal(await month.inputValue(), tokyoLastMonth(), 'defaults to last month');
    await page.getByText('件数はまだ送信されていません').waitFor();
    await page.getByLabel('予兆・ヒヤリハット（未発生の事象）', { exact: true }).fill('3');
    await page.getByLabel('予兆・ヒヤリハット（未発生の事象） のメモ').fill('標的型メールを受信前に検知');
    await page.getByLabel('マルウェア等の感染', { exact: true }).fill('1');
    const [r1] = await Promise.all([
      page.waitForResponse(isPost('/api/v1/near-miss-counts')),
      page.getByRole('button', { name: '件数を送信' }).click(),
    ]);
    assert.equal(r1.status(), 201);
    assert.deepEqual(r1.request().postDataJSON(), {
      month: tokyoLastMonth(),
      entries: [{ event_type: 'near_miss', count: 3, note: '標的型メールを受信前に検知' }, { event_type: 'malware', count: 1 }],
    });
    await page.getByRole('status').filter({ hasText: '2 件送信しました' }).waitFor();
    const hist = page.locator('.nm-history tbody tr');
    await page.waitForFunction(() => document.querySelectorAll('.nm-history tbody tr').length === 2);

    await page.getByLabel('予兆・ヒヤリハット（未発生の事象）', { exact: true }).fill('5');
    const [r2] = await Promise.all([
      page.waitForResponse(isPost('/api/v1/near-miss-counts')),
      page.getByRole('button', { name: '件数を送信' }).click(),
    ]);
    assert.equal(r2.status(), 201);
    assert.deepEqual(r2.request().postDataJSON().entries, [{ event_type: 'near_miss', count: 5, note: '標的型メールを受信前に検知' }],
      'only the changed count is sent');
    await page.waitForFunction(() => document.querySelectorAll('.nm-history tbody tr').length === 3);
    const replaced = hist.filter({ hasText: '置き換え済み' });
    assert.equal(await replaced.count(), 1);
    assert.match(await replaced.innerText(), /予兆・ヒヤリハット[\s\S]*\b3\b/);
    assert.equal(await hist.filter({ hasText: '現在の値' }).count(), 2);
    assert.match(await page.locator('.nm-table tbody tr').first().innerText(), /\b5\b/, 'current value shown in the form');
    assert.deepEqual(seen.pageErrors, []);
  });

  test('a coordinator sees the totals by sector × event type', async () => {
    const { page: p, context: c } = await newPage(browser, { timezoneId: 'Asia/Tokyo' });
    await login(p, srv.base, COORD);
    await p.goto(srv.base + '/#/near-miss');
    const table = p.locator('table.matrix');
    await table.waitFor();
    const row = table.locator('tbody tr').filter({ hasText: '電力' });
    const cells = await row.locator('td').allInnerTexts();
    // near_miss, confidentiality, integrity, availability, malware, …, total
    assert.equal(cells[0], '5');
    assert.equal(cells[4], '1');
    assert.equal(cells[cells.length - 1], '6');
    // The coordinator's list has the operator's reports.
    await p.goto(srv.base + '/#/reports');
    await p.locator('table tbody tr').filter({ hasText: titleDetailed }).waitFor();
    assert.match(await p.locator('table tbody tr').filter({ hasText: titleDetailed }).innerText(), /関東電力株式会社/);
    await c.close();
  });

  test('an auditor-only user gets no reports menu', async () => {
    const { page: p, context: c } = await newPage(browser);
    await login(p, srv.base, AUDITOR);
    const nav = p.getByRole('navigation');
    await nav.getByRole('link', { name: 'ホーム' }).waitFor();
    for (const name of ['報告', '報告期限', 'ヒヤリハット件数']) {
      assert.equal(await nav.getByRole('link', { name, exact: true }).count(), 0, `no ${name} for auditors`);
    }
    await p.goto(srv.base + '/#/reports');
    await p.getByRole('heading', { level: 1, name: '権限がありません' }).waitFor();
    await c.close();
  });
  test('saves a draft, edits it, then submits it as the first report', async () => {
    await page.goto(srv.base + '/#/reports/new');
    await page.getByRole('heading', { level: 1, name: '報告の作成' }).waitFor();
    await page.getByLabel('不正コード等の実行', { exact: true }).check();
    await page.getByLabel('件名', { exact: true }).fill('保守端末で不審なスクリプトが実行された形跡');
    const [saved] = await Promise.all([
      page.waitForResponse(isPost('/api/v1/reports')),
      page.getByRole('button', { name: '下書き保存' }).click(),
    ]);
    assert.equal(saved.status(), 201);
    assert.equal(saved.request().postDataJSON().draft, true);
    await page.getByRole('status').filter({ hasText: '下書き「保守端末で不審なスクリプトが実行された形跡」を保存しました' }).waitFor();
    assert.match(await page.locator('.report-badges').innerText(), /下書き/);

    await page.getByRole('link', { name: '下書きを編集' }).click();
    await page.getByRole('heading', { level: 1, name: '下書きの編集' }).waitFor();
    await page.getByLabel('件名', { exact: true }).fill('保守端末で不審なスクリプトが実行された形跡（調査中）');
    const [edited] = await Promise.all([
      page.waitForResponse(isPost('/revisions')),
      page.getByRole('button', { name: '下書きを更新' }).click(),
    ]);
    assert.equal(edited.status(), 201);
    assert.deepEqual(edited.request().postDataJSON(), { stage: 'draft', changes: { title: '保守端末で不審なスクリプトが実行された形跡（調査中）' } });

    await page.getByRole('button', { name: '速報として提出…' }).click();
    const [submitted] = await Promise.all([
      page.waitForResponse(isPost('/revisions')),
      page.getByRole('button', { name: '速報を提出する' }).click(),
    ]);
    assert.equal(submitted.status(), 201);
    await page.waitForFunction(() => document.querySelectorAll('.tl-item').length === 3);
    assert.deepEqual(await page.locator('.tl-item > .tl-card > .tl-head .stage-badge').allInnerTexts(), ['速報', '下書き', '下書き']);
    assert.match(await page.locator('.tl-item').nth(1).innerText(), /件名[\s\S]*（調査中）/);
  });
});
