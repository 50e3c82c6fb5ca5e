// isac web UI: an organisation's webhooks (the alerts contract), a section of the
// organisation page for its org admins and the system administrators: the list, a new
// webhook (its signing secret shown once), enable/disable, delete, the delivery log.
// Same rules as app.js: h() only, localized bindings, no inline style or script.
import { h, tx, append, clear, bindText, uid } from './dom.js';
import { t, lang } from './i18n.js';
import { api, ApiError } from './api.js';
import { state, hasRole, isAdmin, itemsOf, banner, problemBanner, field, textInput, clearFieldErrors, showProblem, setBusy, loadingEl } from './ui.js';
import { stackedTime } from './reports.js';

const LOG_PAGE = 20;

/** Admins, and the organisation's own org admins (the server decides in the end). */
export function canManageWebhooks(org) {
  return isAdmin() || (hasRole('org_admin') && !!state.me && !!state.me.org && state.me.org.id === org.id);
}

function problemOrUnknown(err) {
  return err instanceof ApiError ? problemBanner(err) : banner('error', () => t('problem.unknown'));
}

export function webhooksSection(org) {
  const id = uid('wh');
  const slot = h('div.banner-slot', { 'aria-live': 'polite' });
  const secretSlot = h('div.secret-slot');
  const listSlot = h('div.webhook-list', loadingEl());
  const sec = h('section.webhooks', { 'aria-labelledby': id },
    h('h2.section-title', { id }, () => t('wh.title')),
    h('p.section-lead', () => t('wh.lead')),
    slot, secretSlot, listSlot, addForm());
  load();

  async function load() {
    let items;
    try {
      items = itemsOf(await api('GET', '/orgs/' + encodeURIComponent(org.id) + '/webhooks'));
    } catch (err) {
      clear(listSlot);
      if (!(err instanceof ApiError && err.status === 401)) listSlot.appendChild(problemOrUnknown(err));
      return;
    }
    clear(listSlot);
    if (!items.length) { listSlot.appendChild(h('p.empty', () => t('wh.none'))); return; }
    const tbody = h('tbody');
    for (const w of items) for (const row of webhookRows(w)) tbody.appendChild(row);
    listSlot.appendChild(h('div.table-wrap', h('table.table.table-compact.webhook-table',
      h('caption.visually-hidden', () => t('wh.title')),
      h('thead', h('tr', ['wh.url', 'wh.state', 'wh.created_at', 'wh.actions'].map((k) => h('th', { scope: 'col' }, () => t(k))))),
      tbody)));
  }

  function webhookRows(w) {
    const logRow = h('tr.webhook-log-row', { hidden: true });
    const logCell = h('td', { colspan: 4 });
    logRow.appendChild(logCell);
    const toggle = h('button.btn.btn-secondary.btn-small', { type: 'button', on: { click: () => setEnabled(w, !w.enabled, toggle) } },
      () => t(w.enabled ? 'wh.disable' : 'wh.enable'));
    const logBtn = h('button.btn.btn-quiet.btn-small', { type: 'button', 'aria-expanded': 'false', on: { click: () => toggleLog() } }, () => t('wh.log'));
    const del = h('button.btn.btn-quiet.btn-small.btn-danger-quiet', { type: 'button', on: { click: () => confirmDelete() } }, () => t('wh.delete'));
    const actions = h('div.webhook-actions', toggle, logBtn, del);
    const row = h('tr', { 'data-webhook': w.id },
      h('td.webhook-url', { 'data-label': () => t('wh.url') }, h('code', w.url)),
      h('td.col-nowrap', { 'data-label': () => t('wh.state') }, h('span.status' + (w.enabled ? '.status-on' : '.status-off'), () => t(w.enabled ? 'wh.enabled' : 'wh.disabled'))),
      h('td.col-nowrap', { 'data-label': () => t('wh.created_at') }, stackedTime(w.created_at)),
      h('td', { 'data-label': () => t('wh.actions') }, actions));

    function confirmDelete() {
      clear(actions);
      const yes = h('button.btn.btn-danger.btn-small', { type: 'button', on: { click: () => remove(w, yes) } }, () => t('wh.delete_confirm'));
      const no = h('button.btn.btn-quiet.btn-small', { type: 'button', on: { click: () => { clear(actions); append(actions, [toggle, logBtn, del]); del.focus(); } } }, () => t('form.cancel'));
      append(actions, [h('span.webhook-confirm', () => t('wh.delete_question')), yes, no]);
      no.focus();
    }

    async function toggleLog() {
      const open = logRow.hidden;
      logRow.hidden = !open;
      logBtn.setAttribute('aria-expanded', open ? 'true' : 'false');
      if (open && !logCell.firstChild) logCell.appendChild(deliveryLog(w));
    }
    return [row, logRow];
  }

  async function setEnabled(w, enabled, btn) {
    clear(slot);
    btn.disabled = true;
    try {
      await api('PATCH', '/webhooks/' + encodeURIComponent(w.id), { enabled });
      slot.appendChild(banner('success', () => t(enabled ? 'wh.enabled_done' : 'wh.disabled_done')));
      await load();
    } catch (err) {
      btn.disabled = false;
      if (!(err instanceof ApiError && err.status === 401)) slot.appendChild(problemOrUnknown(err));
    }
  }

  async function remove(w, btn) {
    clear(slot);
    btn.disabled = true;
    try {
      await api('DELETE', '/webhooks/' + encodeURIComponent(w.id));
      slot.appendChild(banner('success', () => t('wh.deleted')));
      await load();
    } catch (err) {
      btn.disabled = false;
      if (!(err instanceof ApiError && err.status === 401)) slot.appendChild(problemOrUnknown(err));
    }
  }

  function addForm() {
    const reg = new Map();
    const urlIn = textInput({ name: 'url', type: 'url', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none', maxlength: 2048, placeholder: 'https://' });
    const fUrl = field({ label: () => t('wh.url'), input: urlIn, hint: () => t('wh.url_hint'), reg, name: 'url' });
    const formSlot = h('div.banner-slot');
    const add = h('button.btn.btn-primary', { type: 'submit' }, () => t('wh.add'));
    const form = h('form.webhook-form', { novalidate: true, 'aria-labelledby': id + '-add', on: { submit: onAdd } },
      h('h3.webhook-form-title', { id: id + '-add' }, () => t('wh.add_title')),
      formSlot,
      h('div.webhook-form-row', fUrl.el, h('div.webhook-form-go', add)));
    async function onAdd(ev) {
      ev.preventDefault();
      clearFieldErrors(reg);
      clear(formSlot);
      clear(slot);
      setBusy(add, true, 'form.saving', 'wh.add');
      try {
        const w = await api('POST', '/orgs/' + encodeURIComponent(org.id) + '/webhooks', { url: urlIn.value.trim() });
        urlIn.value = '';
        showSecret(w);
        await load();
      } catch (err) {
        showProblem(err, reg, formSlot);
      } finally {
        setBusy(add, false, 'form.saving', 'wh.add');
      }
    }
    return form;
  }

  /** The signing secret exists in the POST answer only: show it once, with a copy button. */
  function showSecret(w) {
    clear(secretSlot);
    const code = h('code.secret-value', w.secret || '');
    const status = h('span.secret-copied', { 'aria-live': 'polite' });
    const copy = h('button.btn.btn-secondary.btn-small', { type: 'button', on: { click: doCopy } }, () => t('wh.copy'));
    const close = h('button.btn.btn-quiet.btn-small', { type: 'button', on: { click: () => clear(secretSlot) } }, () => t('wh.secret_done'));
    const box = h('section.secret-box', { role: 'status', 'aria-labelledby': id + '-secret' },
      h('h3.secret-title', { id: id + '-secret' }, () => t('wh.secret_title')),
      h('p.secret-text', () => t('wh.secret_text')),
      h('p.secret-url', h('code', w.url)),
      h('div.secret-row', code, copy, status),
      h('p.secret-hint', () => t('wh.secret_hint')),
      h('div.secret-actions', close));
    secretSlot.appendChild(box);
    copy.focus();
    async function doCopy() {
      try {
        await navigator.clipboard.writeText(w.secret);
        bindText(status, () => t('wh.copied'));
      } catch {
        // No clipboard access: select the text so Ctrl+C copies it.
        const r = document.createRange();
        r.selectNodeContents(code);
        getSelection().removeAllRanges();
        getSelection().addRange(r);
        bindText(status, () => t('wh.copy_manually'));
      }
    }
  }
  return sec;
}

/** One webhook's tries, newest first, a page at a time. */
function deliveryLog(w) {
  const tbody = h('tbody');
  const empty = h('p.muted', { hidden: true }, () => t('wh.log_empty'));
  const more = h('button.btn.btn-secondary.btn-small', { type: 'button', hidden: true, on: { click: () => page() } }, () => t('list.more'));
  const slot = h('div.banner-slot');
  const table = h('div.table-wrap.table-wrap-flat', h('table.table.table-compact.webhook-log',
    h('caption', () => t('wh.log_title', { url: w.url })),
    h('thead', h('tr', ['wh.log_at', 'wh.log_try', 'wh.log_status', 'wh.log_result', 'wh.log_duration', 'wh.log_delivery'].map((k) => h('th', { scope: 'col' }, () => t(k))))),
    tbody));
  const el = h('div.webhook-log-box', slot, table, empty, h('div.list-more', more));
  let cursor = null;
  page();

  async function page() {
    more.disabled = true;
    try {
      const data = await api('GET', '/webhooks/' + encodeURIComponent(w.id) + '/deliveries', undefined, { query: { limit: LOG_PAGE, cursor } });
      for (const x of itemsOf(data)) tbody.appendChild(logRow(x));
      cursor = (data && data.next_cursor) || null;
      more.hidden = !cursor;
      empty.hidden = tbody.children.length > 0;
      table.hidden = tbody.children.length === 0;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) { clear(slot); slot.appendChild(problemOrUnknown(err)); }
    } finally {
      more.disabled = false;
    }
  }
  return el;
}

/** Tries follow each other within seconds: the log shows them to the second. */
function secondsEl(iso) {
  const d = new Date(iso);
  const fmt = () => (Number.isNaN(d.getTime()) ? String(iso || '') : new Intl.DateTimeFormat(lang() === 'ja' ? 'ja-JP' : 'en-GB',
    { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(d));
  return h('time', { datetime: iso || false }, fmt);
}

function logRow(x) {
  const ok = x.status >= 200 && x.status < 300;
  const result = ok ? h('span.log-ok', () => t('wh.log_ok'))
    : h('span.log-fail', tx(() => (x.state === 'dead' ? t('wh.log_dead') : t('wh.log_retry'))), x.error ? h('span.log-error', x.error) : null);
  return h('tr', { class: ok ? 'log-row-ok' : 'log-row-fail' },
    h('td.col-nowrap', { 'data-label': () => t('wh.log_at') }, secondsEl(x.at)),
    h('td.col-nowrap', { 'data-label': () => t('wh.log_try') }, String(x.try)),
    h('td.col-nowrap', { 'data-label': () => t('wh.log_status') }, x.status ? h('code', String(x.status)) : h('span.muted', () => t('wh.log_no_status'))),
    h('td', { 'data-label': () => t('wh.log_result') }, result),
    h('td.col-nowrap', { 'data-label': () => t('wh.log_duration') }, () => t('wh.log_ms', { n: x.duration_ms })),
    h('td.col-nowrap', { 'data-label': () => t('wh.log_delivery') }, h('div.log-delivery', h('code', String(x.delivery_id)),
      x.alert_id ? h('a.log-alert', { href: '#/alerts/' + x.alert_id }, () => t('wh.log_alert')) : null)));
}
