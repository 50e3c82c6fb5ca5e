// Shared pieces of the isac web UI: session state, role checks, reference data,
// banners and problem+json errors, form helpers, page heads and paginated lists.
// Used by app.js (shell, members pages) and reports.js (reports pages).
import { h, tx, clear, bindText, uid } from './dom.js';
import { t, has, pick } from './i18n.js';
import { api, ApiError } from './api.js';

export const state = {
  me: null,          // GET /api/v1/me
  sectors: null,     // [Sector]
  tiers: null,       // [Tier]
  regimes: null,     // [Regime] (reports.js)
  orgCache: new Map(),
  flash: null,       // {kind, text: fn} shown once on the next page
  version: '',
};

// Page title: a localized function, re-evaluated when the language changes.
let titleFn = () => '';
export function setTitle(fn) { titleFn = fn; updateTitle(); }
export function updateTitle() {
  const p = titleFn();
  document.title = p ? p + ' — isac' : 'isac';
}

// ---------------------------------------------------------------- roles

export function roles() { return (state.me && state.me.user && state.me.user.roles) || []; }
export function hasRole(r) { return roles().includes(r); }
export function isAdmin() { return hasRole('admin'); }
// Auditors read the audit log only: no members pages, no reports (reports.js).
export function canListOrgs() { return hasRole('admin'); }
export function canListUsers() { return hasRole('admin') || hasRole('org_admin'); }
export function canReadAudit() { return hasRole('admin') || hasRole('auditor'); }
export function canCreateUsers() { return hasRole('admin') || hasRole('org_admin'); }

// ---------------------------------------------------------------- reference data

export function itemsOf(data) {
  if (Array.isArray(data)) return data;
  return (data && Array.isArray(data.items)) ? data.items : [];
}

export async function loadRefData() {
  if (state.sectors && state.tiers) return;
  const [sectors, tiers] = await Promise.all([api('GET', '/sectors'), api('GET', '/tiers')]);
  state.sectors = itemsOf(sectors);
  state.tiers = itemsOf(tiers);
}

export function sectorName(code) {
  const s = (state.sectors || []).find((x) => x.code === code)
    || ((state.me && state.me.sectors) || []).find((x) => x.code === code);
  return s ? pick(s.name) || code : code;
}

export function tierName(code) {
  const tr = (state.tiers || []).find((x) => x.code === code)
    || (state.me && state.me.tier && state.me.tier.code === code ? state.me.tier : null);
  if (tr && tr.name && pick(tr.name)) return pick(tr.name);
  return has('tier.' + code) ? t('tier.' + code) : (code || '—');
}

export function kindName(code) { return has('kind.' + code) ? t('kind.' + code) : code; }
export function roleName(code) { return has('role.' + code) ? t('role.' + code) : code; }
export function localeName(code) { return code === 'ja' ? '日本語' : code === 'en' ? 'English' : (code || '—'); }

export function orgName(id) {
  if (state.me && state.me.org && state.me.org.id === id) return pick(state.me.org.name);
  const o = state.orgCache.get(id);
  return o ? pick(o.name) : '…';
}

// ---------------------------------------------------------------- banners and errors

export function banner(kind, textFn, extra) {
  const el = h('div.banner.banner-' + kind, { role: kind === 'error' ? 'alert' : 'status' },
    h('p.banner-title', textFn), extra || null);
  return el;
}

export function problemTitle(err) {
  if (err.status === 0) return t('problem.network');
  if (err.slug && has('problem.' + err.slug)) return t('problem.' + err.slug);
  return err.problem.title || t('problem.unknown');
}

/** A banner for a problem+json error: localized title, the server's detail below it. */
export function problemBanner(err, unmatched) {
  const detail = err.problem && typeof err.problem.detail === 'string' ? err.problem.detail : '';
  const extra = [];
  if (detail) extra.push(h('p.banner-detail', detail));
  if (unmatched && unmatched.length) {
    extra.push(h('ul.banner-list', unmatched.map((e) => h('li', h('code', String(e.field || '')), ' ', tx(() => reasonText(e.reason))))));
  }
  return banner('error', () => problemTitle(err), extra.length ? extra : null);
}

// The server's validation reasons are short English phrases; known ones are shown in the
// user's language, anything else as the server wrote it.
export const REASONS = [
  [/^required$/i, 'reason.required'],
  [/must not be blank/i, 'reason.blank'],
  [/give a name in japanese or english/i, 'reason.name_required'],
  [/at least one role/i, 'reason.role_required'],
  [/at least one sector|needs? (a|at least one) sector/i, 'reason.sector_required'],
  [/too long:.*at most (\d+) bytes/i, 'reason.too_long_bytes', (m) => ({ n: m[1] })],
  [/too long:.*at most (\d+)/i, 'reason.too_long', (m) => ({ n: m[1] })],
  [/too short:.*at least (\d+)/i, 'reason.too_short', (m) => ({ n: m[1] })],
  [/must be (\d+) to (\d+) characters/i, 'reason.length', (m) => ({ a: m[1], b: m[2] })],
  [/may use only a-z/i, 'reason.login_chars'],
  [/must be operator, sector_hub/i, 'reason.kind'],
  [/must be ja or en/i, 'reason.locale'],
  [/must be email, phone, webhook or url/i, 'reason.contact_type'],
  [/unknown sector/i, 'reason.unknown_sector'],
  [/unknown tier/i, 'reason.unknown_tier'],
  [/unknown role/i, 'reason.unknown_role'],
  [/not an e-?mail address/i, 'reason.email'],
  [/not a phone number/i, 'reason.phone'],
  [/not an http\(s\) url/i, 'reason.url'],
  [/not an organi[sz]ation id/i, 'reason.org_id'],
  [/control characters|must not contain nul/i, 'reason.control_chars'],
  [/too many:.*at most (\d+)/i, 'reason.too_many', (m) => ({ n: m[1] })],
  [/^too many/i, 'reason.too_many_plain'],
  [/listed twice|duplicate/i, 'reason.duplicate'],
  [/^unknown field$/i, 'reason.unknown_field'],
  [/(wrong|incorrect|does not match).*password|password.*(wrong|incorrect)/i, 'reason.wrong_password'],
  [/already (taken|in use|exists)/i, 'reason.taken'],
  // reports and near-miss counts
  [/at least one affected sector/i, 'reason.sector_required'],
  [/is in the future/i, 'reason.future'],
  [/is before occurred_at/i, 'reason.before_occurred'],
  [/must be an RFC 3339 date-time/i, 'reason.datetime'],
  [/not an IPv4 address/i, 'reason.ipv4'],
  [/not an IPv6 address/i, 'reason.ipv6'],
  [/not a network in ADDRESS\/PREFIX form/i, 'reason.cidr'],
  [/not a domain name/i, 'reason.domain'],
  [/not a URL with a scheme/i, 'reason.url_scheme'],
  [/a URL may not contain spaces/i, 'reason.url_space'],
  [/the URL has no host/i, 'reason.url_host'],
  [/an MD5 hash is 32 hex digits/i, 'reason.md5'],
  [/a SHA-1 hash is 40 hex digits/i, 'reason.sha1'],
  [/a SHA-256 hash is 64 hex digits/i, 'reason.sha256'],
  [/a file name without directories/i, 'reason.file'],
  [/not a CVE id/i, 'reason.cve'],
  [/not an AS number/i, 'reason.asn'],
  [/not an ATT&CK technique id/i, 'reason.attack'],
  [/^nothing changed$/i, 'reason.nothing_changed'],
  [/reopening a final report needs a reason/i, 'reason.reopen_reason'],
  [/must be a month YYYY-MM/i, 'reason.month'],
  [/must be an integer from 0 to (\d+)/i, 'reason.count_range', (m) => ({ n: m[1] })],
  [/must be a level from 0 to 4/i, 'reason.level'],
  [/unknown event type/i, 'reason.event_type'],
  [/only a final report can be reopened|the report is final|submit a draft as|a submitted report takes/i, 'reason.stage'],
  [/unknown regime/i, 'reason.unknown_regime'],
  [/not a sector of your organi[sz]ation/i, 'reason.not_own_sector'],
  [/TLP:RED is for named recipients/i, 'reason.tlp_red'],
  // releases
  [/widening (the audience )?needs the provider.s consent/i, 'reason.widening'],
  [/loosening the marking needs the provider.s consent/i, 'reason.tlp_looser'],
  [/has since narrowed the report.s audience/i, 'reason.narrowed_since'],
  [/a published release changes only its audience/i, 'reason.published_audience_only'],
  [/a draft cannot be released/i, 'reason.release_draft'],
  // alerts and webhooks
  [/give it in japanese or english/i, 'reason.lang_required'],
  [/required: why the alert is withdrawn/i, 'reason.withdraw_reason'],
  [/a correction changes at least one field/i, 'reason.correction_nothing'],
  [/a series stays an exercise or real traffic/i, 'reason.exercise_fixed'],
  [/must be routine, urgent or critical/i, 'reason.urgency'],
  [/a webhook must be an https:\/\/ URL/i, 'reason.webhook_https'],
  [/must be an http:\/\/ or https:\/\/ URL/i, 'reason.webhook_url'],
  [/delivers only to public addresses/i, 'reason.webhook_private'],
];

export function reasonText(reason) {
  const r = String(reason || '').trim();
  for (const [re, key, params] of REASONS) {
    const m = re.exec(r);
    if (m) return t(key, params ? params(m) : undefined);
  }
  return r ? r.charAt(0).toUpperCase() + r.slice(1) : t('problem.unknown');
}

export function takeFlash(container) {
  if (!state.flash) return;
  container.appendChild(banner(state.flash.kind, state.flash.text));
  state.flash = null;
}

// ---------------------------------------------------------------- form helpers

/**
 * A form field: label (tied to the input), optional hint, the control, an error slot.
 * Returns {el, input, err}. `reg`/`name` register it for server-side validation errors.
 */
export function field(opts) {
  const id = opts.id || uid('f');
  const input = opts.input;
  input.id = id;
  const hintId = id + '-hint';
  const errId = id + '-err';
  const err = h('p.field-error', { id: errId, hidden: true });
  const describedBy = [];
  let hint = null;
  if (opts.hint) { hint = h('p.field-hint', { id: hintId }, opts.hint); describedBy.push(hintId); }
  describedBy.push(errId);
  input.setAttribute('aria-describedby', describedBy.join(' '));
  const label = h('label.field-label', { for: id }, opts.label,
    opts.optional ? h('span.field-tag', () => t('form.optional')) : null);
  const el = h('div.field' + (opts.cls ? '.' + opts.cls.trim().split(/\s+/).join('.') : ''), label, input, hint, err);
  const f = { el, input, err, focus: input };
  if (opts.reg && opts.name) opts.reg.set(opts.name, f);
  return f;
}

/** A fieldset group (radio/checkbox sets, name pairs) with a legend, hint and error slot. */
export function group(opts) {
  const id = uid('g');
  const err = h('p.field-error', { id: id + '-err', hidden: true });
  const hint = opts.hint ? h('p.field-hint', { id: id + '-hint' }, opts.hint) : null;
  const body = h('div.group-body' + (opts.bodyCls ? '.' + opts.bodyCls.trim().split(/\s+/).join('.') : ''), opts.children);
  const el = h('fieldset.group' + (opts.cls ? '.' + opts.cls.trim().split(/\s+/).join('.') : ''), {
    'aria-describedby': (hint ? id + '-hint ' : '') + id + '-err',
  }, h('legend.group-legend', opts.legend), hint, err, body);
  const f = { el, err, body, focus: null };
  if (opts.reg && opts.name) opts.reg.set(opts.name, f);
  return f;
}

export function textInput(attrs) { return h('input.input', { type: 'text', ...attrs }); }

export function selectInput(options, attrs) {
  const sel = h('select.input.select', attrs || {});
  for (const o of options) sel.appendChild(h('option', { value: o.value }, o.text));
  return sel;
}

export function setFieldError(f, textFn) {
  bindText(f.err, textFn);
  f.err.hidden = false;
  if (f.input) f.input.setAttribute('aria-invalid', 'true');
  else if (f.el) f.el.classList.add('group-invalid');
}

export function clearFieldErrors(reg) {
  for (const f of reg.values()) {
    f.err.hidden = true;
    f.err.textContent = '';
    if (f.input) f.input.removeAttribute('aria-invalid');
    if (f.el) f.el.classList.remove('group-invalid');
  }
}

/** Find the registered field for a dotted path like "contacts[0].value", "sectors[2]", "name.ja". */
export function resolveField(reg, path) {
  let p = String(path || '');
  while (p) {
    if (reg.has(p)) return reg.get(p);
    const next = p.replace(/(\[\d+\]|\.[^.[\]]+)$/, '');
    if (next === p) break;
    p = next;
  }
  return null;
}

/**
 * Show a 422's errors[] next to the matching fields; anything unmatched goes in the banner.
 * Returns true when the error was a validation error.
 */
export function showProblem(err, reg, bannerSlot) {
  clear(bannerSlot);
  clearFieldErrors(reg);
  if (!(err instanceof ApiError)) {
    bannerSlot.appendChild(banner('error', () => t('problem.unknown'), h('p.banner-detail', String(err && err.message || err))));
    return false;
  }
  if (err.status === 401) return false; // handled globally (back to login)
  const unmatched = [];
  let first = null;
  for (const e of err.errors) {
    const f = resolveField(reg, e.field);
    if (!f) { unmatched.push(e); continue; }
    const reason = e.reason;
    // Several errors may land on one field: keep them all.
    const prev = f.err.hidden ? null : f.errFns;
    const fns = (prev || []).concat([() => reasonText(reason)]);
    f.errFns = fns;
    setFieldError(f, () => fns.map((fn) => fn()).join(' '));
    if (!first) first = f;
  }
  if (err.errors.length && !unmatched.length) {
    bannerSlot.appendChild(banner('error', () => t('form.has_errors')));
  } else {
    bannerSlot.appendChild(problemBanner(err, unmatched));
  }
  const target = first ? (first.focus || first.el.querySelector('input, select, textarea')) : null;
  if (target) target.focus(); else bannerSlot.scrollIntoView({ block: 'nearest' });
  return err.status === 422;
}

export function setBusy(button, busy, busyKey, idleKey) {
  button.disabled = busy;
  button.setAttribute('aria-busy', busy ? 'true' : 'false');
  bindText(button, () => t(busy ? busyKey : idleKey));
}

export function pageHead(titleKey, leadFn, actions) {
  setTitle(() => t(titleKey));
  return h('div.page-head',
    h('div.page-head-text',
      h('h1.page-title', { tabindex: '-1' }, () => t(titleKey)),
      leadFn ? h('p.lead', leadFn) : null),
    actions ? h('div.page-actions', actions) : null);
}

export function loadingEl() { return h('p.loading', { role: 'status' }, () => t('loading')); }

/**
 * The filter form of a list: a search form whose apply and reset both call
 * onChange (reset once the inputs are back to their defaults), with the
 * apply/reset buttons after the fields (end: pushed to the end of the row).
 */
export function filterForm(onChange, fields, { end = true } = {}) {
  return h('form.filters', { role: 'search', 'aria-label': () => t('filter.legend'), novalidate: true, on: { submit: (e) => { e.preventDefault(); onChange(); }, reset: () => setTimeout(onChange, 0) } },
    ...fields,
    h(end ? 'div.filter-actions.filter-actions-end' : 'div.filter-actions',
      h('button.btn.btn-secondary', { type: 'submit' }, () => t('filter.apply')),
      h('button.btn.btn-quiet', { type: 'reset' }, () => t('filter.reset'))));
}

/** Filters fold away on narrow screens (a <details> the user can open), open on wide ones. */
export function filterBox(form) {
  const wide = window.matchMedia('(min-width: 761px)').matches;
  return h('details.filter-box', { open: wide },
    h('summary.filter-summary', () => t('filter.legend')), form);
}

/**
 * A paginated table with a "more" button driven by next_cursor.
 * opts: caption, empty, columns [{label, cls, cell(item)}], fetch(cursor), onItems(items),
 * rowClass(item) → class of the row, extraRow(item, ncols) → a second <tr> after the row
 * (or null), afterRender(tbody), slot (for errors).
 */
export function makeList(opts) {
  const tbody = h('tbody');
  const head = h('thead', h('tr', opts.columns.map((c) => h('th', { scope: 'col', class: c.cls || '' }, c.label))));
  const table = h('table.table', h('caption.visually-hidden', opts.caption), head, tbody);
  const count = h('p.list-count', { 'aria-live': 'polite' });
  const empty = h('p.empty', { hidden: true }, opts.empty);
  const more = h('button.btn.btn-secondary', { type: 'button', hidden: true, on: { click: () => loadMore() } }, () => t('list.more'));
  const el = h('div.list', count, h('div.table-wrap', table), empty, h('div.list-more', more));
  let cursor = null;
  let n = 0;
  let gen = 0;

  function updateCount() {
    bindText(count, () => t(cursor ? 'list.count_more' : 'list.count', { n }));
  }

  async function loadPage(myGen) {
    more.disabled = true;
    try {
      const data = await opts.fetch(cursor);
      if (myGen !== gen) return;
      const items = itemsOf(data);
      if (opts.onItems) await opts.onItems(items);
      for (const item of items) {
        tbody.appendChild(h('tr', { class: opts.rowClass ? opts.rowClass(item) : '' },
          opts.columns.map((c) => h('td', { class: c.cls || '', 'data-label': c.label }, c.cell(item)))));
        const extra = opts.extraRow ? opts.extraRow(item, opts.columns.length) : null;
        if (extra) tbody.appendChild(extra);
      }
      n += items.length;
      cursor = (data && data.next_cursor) || null;
      more.hidden = !cursor;
      empty.hidden = n > 0;
      table.hidden = n === 0;
      updateCount();
      if (opts.afterRender) opts.afterRender(tbody);
    } catch (err) {
      if (myGen !== gen) return;
      if (!(err instanceof ApiError && err.status === 401)) {
        clear(opts.slot);
        opts.slot.appendChild(err instanceof ApiError ? problemBanner(err) : banner('error', () => t('problem.unknown')));
      }
    } finally {
      more.disabled = false;
    }
  }

  function loadMore() { return loadPage(gen); }

  function reset() {
    gen += 1;
    cursor = null; n = 0;
    clear(tbody);
    clear(opts.slot);
    more.hidden = true;
    return loadPage(gen);
  }

  return { el, reset };
}
