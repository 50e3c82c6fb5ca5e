// isac web UI: the audit log, for auditors and administrators. Search (actor, action,
// object, dates) newest first with "more", a row expands to its detail and hashes, and
// the whole hash chain can be verified. Entries hold ids and codes, never report content.
// Same rules as app.js: h() only, localized bindings, no inline style or script.
import { h, tx, append, clear, uid } from './dom.js';
import { t, has, lang } from './i18n.js';
import { api, ApiError } from './api.js';
import {
  banner, problemBanner, field, textInput, setBusy, pageHead, filterBox, filterForm, makeList,
} from './ui.js';

// Action codes of the server (README "Audit log"), grouped for the filter. Labels: i18n.js.
const ACTION_GROUPS = [
  ['session', ['login.success', 'login.failure', 'login.throttled', 'logout', 'password.change']],
  ['org', ['org.create', 'org.update', 'org.disable', 'org.enable']],
  ['user', ['user.create', 'user.update', 'user.disable', 'user.enable']],
  ['token', ['token.create', 'token.update', 'token.revoke']],
  ['refdata', ['sector.create', 'sector.update', 'regime.create', 'regime.update']],
  ['report', ['report.read', 'report.list']],
  ['release', ['release.create', 'release.update', 'release.submit', 'release.approve', 'release.refuse',
    'release.publish', 'release.withdraw', 'release.read', 'release.list', 'release.export',
    'audience.request', 'audience.approve', 'audience.refuse', 'anon_rules.update']],
  ['audit', ['audit.search', 'audit.verify']],
];
const OUTCOMES = ['ok', 'denied', 'failed'];
// The server's reasons for a broken chain (src/store/sqlite_audit.c), in the user's language.
const VERIFY_REASONS = [
  [/entries are missing before/i, 'audit.reason.missing'],
  [/an entry was inserted/i, 'audit.reason.inserted'],
  [/does not link to the previous/i, 'audit.reason.unlinked'],
  [/do not match its hash/i, 'audit.reason.altered'],
  [/recorded head does not match/i, 'audit.reason.head'],
];

export function actionName(code) { return has('audit.action.' + code) ? t('audit.action.' + code) : String(code || '—'); }
function kindName(code) { return has('audit.kind.' + code) ? t('audit.kind.' + code) : String(code || ''); }
function outcomeName(code) { return has('audit.outcome.' + code) ? t('audit.outcome.' + code) : String(code || '—'); }
function verifyReason(r) {
  const s = String(r || '');
  for (const [re, key] of VERIFY_REASONS) if (re.test(s)) return t(key);
  return s || t('problem.unknown');
}

// ---------------------------------------------------------------- time

function pad(n) { return String(n).padStart(2, '0'); }
function locale() { return lang() === 'ja' ? 'ja-JP' : 'en-GB'; }

/** "2026/05/12 18:30:05" in the browser's time zone (seconds matter in a log). */
function fmtLocal(iso, part) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return String(iso || '—');
  const o = part === 'date' ? { year: 'numeric', month: '2-digit', day: '2-digit' }
    : { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' };
  return new Intl.DateTimeFormat(locale(), o).format(d);
}

function timeCell(e) {
  return h('time.dt-stack', { datetime: e.at, title: e.at },
    h('span.dt-date', () => fmtLocal(e.at, 'date')),
    h('span.dt-time', () => fmtLocal(e.at, 'time')));
}

/** A date input (YYYY-MM-DD) → RFC 3339 at local midnight of that day, `addDays` later. */
function dayStart(v, addDays) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v || '');
  if (!m) return '';
  const d = new Date(+m[1], +m[2] - 1, +m[3] + (addDays || 0), 0, 0, 0);
  const off = -d.getTimezoneOffset();
  const a = Math.abs(off);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T00:00:00`
    + (off >= 0 ? '+' : '-') + pad(Math.floor(a / 60)) + ':' + pad(a % 60);
}

// ---------------------------------------------------------------- cells

function actorCell(e) {
  const login = e.actor && e.actor.login;
  const tried = e.detail && typeof e.detail.login === 'string' ? e.detail.login : '';
  if (!login) {
    return h('div.name-cell',
      h('span.actor-anon', () => t('audit.unauthenticated')),
      tried ? h('span.name-secondary', tx(() => t('audit.tried_login')), ' ', h('code', tried)) : null);
  }
  if (login.startsWith('cli:')) {
    return h('div.name-cell', h('code.actor-login', login), h('span.name-secondary', () => t('audit.cli')));
  }
  return h('div.name-cell', h('code.actor-login', login));
}

function actionCell(e) {
  return h('div.name-cell',
    h('span.action-label', () => actionName(e.action)),
    h('code.name-secondary', e.action));
}

function objectCell(e) {
  const o = e.object || {};
  if (!o.kind && !o.id) return h('span.muted', '—');
  return h('div.name-cell',
    o.kind ? h('span', () => kindName(o.kind)) : null,
    o.id ? h('code.object-id', o.id) : null);
}

function outcomeBadge(code) {
  return h('span.outcome-badge', { 'data-outcome': code || '' }, () => outcomeName(code));
}

function hashValue(hex) { return h('code.hash', hex || '—'); }

/** The expandable part of a row: numbers, ids, the detail JSON, the hashes. */
function detailRow(e, ncols, toggle) {
  const id = uid('audit-detail');
  toggle.setAttribute('aria-controls', id);
  const actor = e.actor || {};
  const prop = (key, value) => h('div.prop', h('dt', () => t(key)), h('dd', value));
  const json = JSON.stringify(e.detail || {}, null, 2);
  return h('tr.audit-detail-row', { id, hidden: true },
    h('td.audit-detail-cell', { colspan: ncols },
      h('dl.props.audit-props',
        prop('audit.seq', h('span.num', String(e.seq))),
        prop('audit.at_utc', h('code', e.at || '—')),
        prop('audit.actor_user_id', actor.user_id ? h('code.object-id', actor.user_id) : h('span.muted', '—')),
        prop('audit.actor_org_id', actor.org_id ? h('code.object-id', actor.org_id) : h('span.muted', '—')),
        prop('audit.detail', h('pre.audit-json', json)),
        prop('audit.hash', hashValue(e.hash)),
        prop('audit.prev_hash', hashValue(e.prev_hash)))));
}

// ---------------------------------------------------------------- verify

function verifyResult(res) {
  const short = String(res.head || '').slice(0, 12);
  if (res.intact) {
    return banner('success', () => t('audit.verify.intact', { n: res.entries, head: short }),
      h('p.banner-detail', tx(() => t('audit.verify.head')), ' ', hashValue(res.head)));
  }
  return banner('error', () => t('audit.verify.broken', { seq: res.first_bad }), [
    h('p.banner-detail', tx(() => t('audit.verify.reason')), ' ', tx(() => verifyReason(res.reason))),
    h('p.banner-detail.muted', () => t('audit.verify.checked', { n: res.entries })),
  ]);
}

// ---------------------------------------------------------------- the page

export async function viewAudit(page) {
  // The server decides who may read the log: ask for the first page before drawing the
  // search, so anyone else sees the 403 problem and nothing of the page.
  let first;
  try {
    first = await api('GET', '/audit', undefined, { query: { limit: 50 } });
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) {
      append(page, [
        pageHead('page.forbidden', () => t('audit.forbidden')),
        problemBanner(err),
        h('p.page-back', h('a.btn.btn-secondary', { href: '#/home' }, () => t('page.back_home'))),
      ]);
      return;
    }
    throw err;
  }

  const verifySlot = h('div.banner-slot.verify-slot', { 'aria-live': 'polite' });
  const verifyBtn = h('button.btn.btn-secondary.verify-btn', { type: 'button', on: { click: verify } }, () => t('audit.verify'));
  append(page, pageHead('audit.title', () => t('audit.lead'), verifyBtn));
  page.appendChild(h('p.audit-note', h('span.notice-icon', { 'aria-hidden': 'true' }, 'i'), tx(() => t('audit.no_content'))));
  page.appendChild(verifySlot);
  const slot = h('div.banner-slot');
  page.appendChild(slot);

  async function verify() {
    clear(verifySlot);
    setBusy(verifyBtn, true, 'audit.verifying', 'audit.verify');
    try {
      const res = await api('GET', '/audit/verify');
      verifySlot.appendChild(verifyResult(res || {}));
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) verifySlot.appendChild(problemBanner(err));
    } finally {
      setBusy(verifyBtn, false, 'audit.verifying', 'audit.verify');
    }
  }

  const actorIn = textInput({ name: 'actor', type: 'search', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', maxlength: 64 });
  const actionSel = h('select.input.select', { name: 'action' }, h('option', { value: '' }, () => t('filter.any')),
    ACTION_GROUPS.map(([g, codes]) => h('optgroup', { label: () => t('audit.group.' + g) },
      codes.map((c) => h('option', { value: c }, () => actionName(c))))));
  const objectIn = textInput({ name: 'object_id', type: 'search', autocomplete: 'off', spellcheck: 'false', maxlength: 64 });
  const sinceIn = h('input.input', { type: 'date', name: 'since' });
  const untilIn = h('input.input', { type: 'date', name: 'until' });
  const filters = filterForm(() => list.reset(), [
    field({ label: () => t('audit.f.actor'), input: actorIn, cls: 'filter-field' }).el,
    field({ label: () => t('audit.f.action'), input: actionSel, cls: 'filter-field' }).el,
    field({ label: () => t('audit.f.object'), input: objectIn, cls: 'filter-field filter-wide' }).el,
    field({ label: () => t('audit.f.since'), input: sinceIn, cls: 'filter-field' }).el,
    field({ label: () => t('audit.f.until'), input: untilIn, cls: 'filter-field' }).el,
  ]);
  page.appendChild(filterBox(filters));

  const toggles = new WeakMap();
  const list = makeList({
    caption: () => t('audit.caption'),
    empty: () => t('audit.empty'),
    columns: [
      { label: () => t('audit.col.time'), cls: 'col-time', cell: timeCell },
      { label: () => t('audit.col.actor'), cls: 'col-actor', cell: actorCell },
      { label: () => t('audit.col.action'), cls: 'col-action', cell: actionCell },
      { label: () => t('audit.col.object'), cls: 'col-object', cell: objectCell },
      { label: () => t('audit.col.outcome'), cls: 'col-nowrap', cell: (e) => outcomeBadge(e.outcome) },
      { label: () => t('audit.col.remote'), cls: 'col-remote', cell: (e) => (e.remote ? h('code.remote', e.remote) : h('span.muted', '—')) },
      { label: () => t('audit.col.more'), cls: 'col-toggle', cell: (e) => toggleButton(e) },
    ],
    rowClass: (e) => 'audit-row' + (e.outcome && e.outcome !== 'ok' ? ' audit-row-' + e.outcome : ''),
    extraRow: (e, n) => detailRow(e, n, toggles.get(e)),
    fetch: (cursor) => {
      if (first && !cursor) { const d = first; first = null; return Promise.resolve(d); }
      return api('GET', '/audit', undefined, {
        query: { actor: actorIn.value.trim(), action: actionSel.value, object_id: objectIn.value.trim(),
          since: dayStart(sinceIn.value, 0), until: dayStart(untilIn.value, 1), cursor, limit: 50 },
      });
    },
    slot,
  });

  function toggleButton(e) {
    const b = h('button.btn.btn-quiet.btn-small.audit-toggle', {
      type: 'button', 'aria-expanded': 'false',
      'aria-label': () => t('audit.expand_n', { n: e.seq }),
      on: {
        click: () => {
          const row = document.getElementById(b.getAttribute('aria-controls'));
          const open = b.getAttribute('aria-expanded') !== 'true';
          b.setAttribute('aria-expanded', open ? 'true' : 'false');
          row.hidden = !open;
          b.closest('tr').classList.toggle('is-open', open);
        },
      },
    }, h('span.toggle-mark', { 'aria-hidden': 'true' }), tx(() => t('audit.expand')));
    toggles.set(e, b);
    return b;
  }

  page.appendChild(list.el);
  await list.reset();
}
