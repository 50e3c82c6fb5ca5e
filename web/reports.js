// isac web UI: incident and near-miss reports. The report form (first report, draft,
// update), the list, the report page with its revision timeline, the due list and the
// monthly near-miss counts. Same rules as app.js: h() only, localized bindings, no inline
// style or script.
import { h, tx, append, clear, relocalize, bindText, uid } from './dom.js';
import { t, has, lang, pick } from './i18n.js';
import { api, ApiError } from './api.js';
import {
  state, hasRole, itemsOf, loadRefData, sectorName, tierName, banner, problemBanner, takeFlash,
  field, group, textInput, selectInput, clearFieldErrors, resolveField, setFieldError, reasonText,
  showProblem, setBusy, pageHead, setTitle, loadingEl, filterBox, filterForm, makeList,
} from './ui.js';
// releases.js imports display pieces from here and this page shows a report's releases: the
// cycle is safe because neither module touches the other's bindings while it loads.
import { canPrepareRelease, prepareReleaseButton, releasesSection } from './releases.js';

// Codes of the domain (DOMAIN.md §4, reports contract). Labels live in i18n.js.
export const EVENT_TYPES = ['near_miss', 'confidentiality', 'integrity', 'availability', 'malware',
  'code_execution', 'intrusion', 'other'];
const CAUSES = ['intentional', 'accidental', 'environmental', 'other'];
const LAYERS = ['near_miss', 'malfunction', 'outage'];
const BASES = ['law', 'serious', 'voluntary'];
const STATUSES = ['open', 'monitoring', 'closed'];
const STAGES = ['draft', 'first', 'update', 'final'];
const VIEWPOINTS = ['continuity', 'safety', 'trust'];
const LEVELS = [0, 1, 2, 3, 4];
const OBS_TYPES = ['ipv4', 'ipv6', 'cidr', 'domain', 'url', 'email', 'md5', 'sha1', 'sha256', 'file',
  'cve', 'asn', 'attack_technique', 'malware', 'text'];
const OBS_ROLES = ['attacker', 'victim', 'other'];
const MAX_CAUSES = 8;
const MAX_OBSERVABLES = 500;
const DUE_WINDOWS = [24, 72, 168, 720];
// Content fields in the order of the API (and of the report page).
const FIELDS = ['kind', 'event_type', 'causes', 'layer', 'severity', 'sectors', 'service', 'title',
  'description', 'occurred_at', 'detected_at', 'recovered_at', 'basis', 'regime', 'status',
  'followup', 'contact', 'share_with_hub', 'observables', 'audience', 'tlp', 'purpose', 'handling'];
// TLP 2.0 (FIRST): the labels are never translated; their explanations are (tlp.desc.*).
export const TLPS = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'];
const NO_AUDIENCE = { orgs: [], sectors: [], tiers: [], all_members: false };
const TIME_FIELDS = ['occurred_at', 'detected_at', 'recovered_at'];

// ---------------------------------------------------------------- who may do what

/** Content roles see reports, due dates and near-miss counts (auditors do not). */
export function canReadReports() { return ['member', 'analyst', 'org_admin', 'admin'].some(hasRole); }
/** Filing and revising needs a working role (administrators manage, they do not report). */
export function canFileReports() { return ['member', 'analyst', 'org_admin'].some(hasRole); }
function isCoordinator() { return !!(state.me && state.me.org && state.me.org.kind === 'coordinator'); }
function ownReport(r) { return !!(state.me && state.me.org && r.org_id === state.me.org.id); }

// ---------------------------------------------------------------- labels

function label(prefix) {
  return (code) => {
    if (code === null || code === undefined || code === '') return t('value.none');
    return has(prefix + code) ? t(prefix + code) : String(code);
  };
}
const eventName = label('event.');
const eventShort = label('event.short.');
const causeName = label('cause.');
const layerName = label('layer.');
const basisName = label('basis.');
const statusName = label('rstatus.');
const stageName = label('stage.');
const kindName = label('rkind.');
const obsTypeName = label('obs.');
const obsRoleName = label('obsrole.');

/** "2 中: 一定の影響" / "Not assessed". */
function levelName(n) {
  if (n === null || n === undefined) return t('sev.unassessed');
  return n + ' ' + t('sev.' + n);
}
function levelShort(n) {
  if (n === null || n === undefined) return t('sev.unassessed');
  return n + ' ' + t('sev.short.' + n);
}

async function loadRegimes() {
  if (state.regimes) return state.regimes;
  state.regimes = itemsOf(await api('GET', '/regimes'));
  return state.regimes;
}

function regimeName(code) {
  if (!code) return t('value.none');
  const r = (state.regimes || []).find((x) => x.code === code);
  return r ? pick(r.name) || code : code;
}

function withinText(w) {
  if (w === null || w === undefined) return t('within.promptly');
  const m = /^(\d+)([hdM])$/.exec(String(w));
  if (!m) return String(w);
  return t('within.' + m[2], { n: m[1] });
}

/** "速報 24 時間以内 → 最終報 30 日以内" */
function regimeSteps(code) {
  const r = (state.regimes || []).find((x) => x.code === code);
  if (!r) return '';
  return (r.steps || []).map((s) => {
    let txt = stageName(s.stage) + ' ' + withinText(s.within);
    if (s.within_if_intentional) txt += t('within.if_intentional', { w: withinText(s.within_if_intentional) });
    return txt;
  }).join(' → ');
}

function listSep() { return lang() === 'ja' ? '、' : ', '; }
function sectorList(codes) { return (codes || []).map(sectorName).join(listSep()) || t('value.none'); }

// ---------------------------------------------------------------- time

function locale() { return lang() === 'ja' ? 'ja-JP' : 'en-GB'; }

/** A timestamp in the browser's time zone; `tz` adds the zone's short name. */
function fmtTime(iso, tz) {
  if (!iso) return t('value.none');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const o = { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  if (tz) o.timeZoneName = 'short';
  return new Intl.DateTimeFormat(locale(), o).format(d);
}

function timeEl(iso, tz) {
  return h('time', { datetime: iso || false }, () => fmtTime(iso, tz));
}

/** 3 日 4 時間 / 5 時間 20 分 / 12 分 */
function fmtDuration(secs) {
  const s = Math.abs(Number(secs) || 0);
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  if (d) return hh ? t('dur.dh', { d, h: hh }) : t('dur.d', { d });
  if (hh) return t('dur.hm', { h: hh, m: mm });
  return t('dur.m', { m: Math.max(mm, 1) });
}

const pad = (n) => String(n).padStart(2, '0');

/** The browser's UTC offset at a local date (DST-aware), e.g. "+09:00". */
function offsetOf(d) {
  const off = -d.getTimezoneOffset();
  const a = Math.abs(off);
  return (off >= 0 ? '+' : '-') + pad(Math.floor(a / 60)) + ':' + pad(a % 60);
}

/** RFC 3339 → the value of a datetime-local input (local time, minutes). */
function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value → RFC 3339 with the browser's offset ("2026-05-12T18:30:00+09:00"). */
function fromLocalInput(v) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(v || '');
  if (!m) return v ? v : null;
  const d = new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] || '00'}${offsetOf(d)}`;
}

/** A date input (YYYY-MM-DD) → RFC 3339 at the start or the end of that local day. */
function fromLocalDate(v, endOfDay) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v || '')) return '';
  return fromLocalInput(v + (endOfDay ? 'T23:59:59' : 'T00:00:00'));
}

function monthOf(d) { return d.getFullYear() + '-' + pad(d.getMonth() + 1); }
function lastMonth() { const d = new Date(); d.setDate(1); d.setMonth(d.getMonth() - 1); return monthOf(d); }
function addMonths(m, n) {
  const [y, mo] = m.split('-').map(Number);
  const d = new Date(y, mo - 1 + n, 1);
  return monthOf(d);
}
function fmtMonth(m) {
  const x = /^(\d{4})-(\d{2})$/.exec(m || '');
  if (!x) return m || '';
  return new Intl.DateTimeFormat(locale(), { year: 'numeric', month: 'long' }).format(new Date(+x[1], +x[2] - 1, 1));
}

/** An Idempotency-Key: a random UUID (also where randomUUID needs a secure context). */
function newKey() {
  if (window.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * One key per submission, reused when the same submission is sent again: after a network
 * error or a 5xx the outcome is unknown, so the key stays whatever the user changes (the
 * server then answers with what the first attempt made, never a second report); after a
 * 4xx nothing was stored, so a changed body is a new submission with a new key.
 */
function idempotency() {
  let cur = null;
  return {
    key(body) {
      const s = JSON.stringify(body);
      if (cur && (cur.body === s || cur.uncertain)) return cur.key;
      cur = { key: newKey(), body: s, uncertain: false };
      return cur.key;
    },
    failed(err) {
      if (cur && (!(err instanceof ApiError) || err.status === 0 || err.status >= 500)) cur.uncertain = true;
    },
  };
}

function deepEqual(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

// ---------------------------------------------------------------- small display pieces

function stageBadge(stage) {
  return h('span.stage-badge', { 'data-stage': stage || '' }, () => stageName(stage));
}

function severityBadge(n) {
  const v = n === null || n === undefined ? '' : String(n);
  return h('span.sev-badge', { 'data-level': v, title: () => levelName(n) }, () => levelShort(n));
}

/** The TLP label as FIRST shows it: coloured text on black, never translated. */
function tlpPill(tlp, compact) {
  const v = TLPS.includes(tlp) ? tlp : 'AMBER';
  return h('span.tlp-pill' + (compact ? '.tlp-pill-compact' : ''), { 'data-tlp': v, title: () => t('tlp.desc.' + v) }, 'TLP:' + v);
}

function audienceOf(r) { return { ...NO_AUDIENCE, ...((r && r.audience) || {}) }; }

/**
 * Who may receive releases, as a list of localized phrases: the coordinator always,
 * then the sector hub, all members, sectors, tiers, named organisations.
 */
function audienceParts(aud, hub, hubKey) {
  const a = { ...NO_AUDIENCE, ...(aud || {}) };
  const parts = [];
  if (hub) parts.push(() => t(hubKey || 'aud.hub'));
  if (a.all_members) parts.push(() => t('aud.all_members'));
  if (a.sectors.length) parts.push(() => t('aud.sectors', { list: a.sectors.map(sectorName).join(listSep()) }));
  if (a.tiers.length) parts.push(() => t('aud.tiers', { list: a.tiers.map(tierName).join(listSep()) }));
  if (a.orgs.length) parts.push(() => t('aud.orgs', { n: a.orgs.length }));
  return parts;
}

function audienceText(aud, hub, hubKey) {
  const parts = audienceParts(aud, hub, hubKey);
  if (!parts.length) return t('aud.coordinator_only');
  return [t('aud.coordinator'), ...parts.map((fn) => fn())].join(listSep());
}

function statusBadge(s) {
  return h('span.rstatus', { 'data-status': s || '' }, () => statusName(s));
}

/** The due cell/box text: "期限超過 3 日 2 時間" or "あと 20 時間". */
function dueText(due) {
  if (!due) return t('value.none');
  return due.overdue ? t('due.overdue_by', { d: fmtDuration(due.seconds_left) }) : t('due.left', { d: fmtDuration(due.seconds_left) });
}

function dueCell(r) {
  const due = r.due;
  if (!due) return h('span.muted', () => (r.stage === 'final' ? t('due.none_final') : t('value.none')));
  return h('div.due-cell' + (due.overdue ? '.is-overdue' : ''),
    h('span.due-when', timeEl(due.due_at)),
    h('span.due-rel', due.overdue ? h('span.overdue-flag', () => t('due.overdue')) : null, tx(() => dueText(due))),
    h('span.due-stage', () => t('due.next', { stage: stageName(due.stage) })));
}

/** The short label in tables; the full one (DOMAIN.md §4) as its tooltip. */
function eventCell(r) {
  return h('span.event-short', { title: () => eventName(r.event_type) }, () => eventShort(r.event_type));
}

/** Date over time, for narrow table columns. */
function stackedTime(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return h('span.muted', () => t('value.none'));
  return h('time.dt-stack', { datetime: iso },
    h('span.dt-date', () => new Intl.DateTimeFormat(locale(), { year: 'numeric', month: '2-digit', day: '2-digit' }).format(d)),
    h('span.dt-time', () => new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d)));
}

function titleCell(r) {
  return h('div.name-cell',
    h('a.name-primary.report-link', { href: '#/reports/' + r.id }, r.title),
    ownReport(r) ? null : h('span.name-secondary', () => pick(r.org_name)));
}

function textBlock(s) {
  return s ? h('p.text-block', s) : h('span.muted', () => t('value.empty'));
}

// ---------------------------------------------------------------- reports list

export async function viewReports(page) {
  const actions = canFileReports() ? h('a.btn.btn-primary', { href: '#/reports/new' }, h('span.btn-icon', { 'aria-hidden': 'true' }, '+'), tx(() => t('reports.new'))) : null;
  append(page, pageHead('reports.title', () => t(isCoordinator() ? 'reports.lead_all' : 'reports.lead'), actions));
  takeFlash(page);
  const slot = h('div.banner-slot');
  page.appendChild(slot);
  const loading = loadingEl();
  page.appendChild(loading);
  await loadRefData();
  loading.remove();

  const any = { value: '', text: () => t('filter.any') };
  const kindSel = selectInput([any, ...['incident', 'near_miss'].map((k) => ({ value: k, text: () => kindName(k) }))], { name: 'kind' });
  const eventSel = selectInput([any, ...EVENT_TYPES.map((k) => ({ value: k, text: () => eventName(k) }))], { name: 'event_type' });
  const sevSel = selectInput([any, ...[1, 2, 3, 4].map((n) => ({ value: String(n), text: () => t('filter.min_level', { level: levelShort(n) }) }))], { name: 'min_severity' });
  const sectorSel = selectInput([any, ...state.sectors.map((s) => ({ value: s.code, text: () => pick(s.name) || s.code }))], { name: 'sector' });
  const statusSel = selectInput([any, ...STATUSES.map((k) => ({ value: k, text: () => statusName(k) }))], { name: 'status' });
  const stageSel = selectInput([any, ...STAGES.map((k) => ({ value: k, text: () => stageName(k) }))], { name: 'stage' });
  const sinceIn = h('input.input', { type: 'date', name: 'since' });
  const untilIn = h('input.input', { type: 'date', name: 'until' });
  const qIn = textInput({ name: 'q', type: 'search', autocomplete: 'off' });

  const filters = filterForm(() => list.reset(), [
    field({ label: () => t('reports.filter.q'), input: qIn, cls: 'filter-field filter-wide' }).el,
    field({ label: () => t('report.event_type'), input: eventSel, cls: 'filter-field' }).el,
    field({ label: () => t('report.kind'), input: kindSel, cls: 'filter-field' }).el,
    field({ label: () => t('reports.filter.min_severity'), input: sevSel, cls: 'filter-field' }).el,
    field({ label: () => t('field.sector'), input: sectorSel, cls: 'filter-field' }).el,
    field({ label: () => t('report.status'), input: statusSel, cls: 'filter-field' }).el,
    field({ label: () => t('report.stage'), input: stageSel, cls: 'filter-field' }).el,
    field({ label: () => t('reports.filter.since'), input: sinceIn, cls: 'filter-field' }).el,
    field({ label: () => t('reports.filter.until'), input: untilIn, cls: 'filter-field' }).el,
  ]);
  page.appendChild(filterBox(filters));

  const list = makeList({
    caption: () => t('reports.caption'),
    empty: () => t('reports.empty'),
    columns: reportColumns(),
    rowClass: (r) => (r.due && r.due.overdue ? 'row-overdue' : ''),
    fetch: (cursor) => api('GET', '/reports', undefined, {
      query: { kind: kindSel.value, event_type: eventSel.value, min_severity: sevSel.value, sector: sectorSel.value,
        status: statusSel.value, stage: stageSel.value, since: fromLocalDate(sinceIn.value, false),
        until: fromLocalDate(untilIn.value, true), q: qIn.value.trim(), cursor, limit: 50 },
    }),
    slot,
  });
  page.appendChild(list.el);
  await list.reset();
}

function reportColumns() {
  return [
    { label: () => t('report.title'), cls: 'col-name', cell: titleCell },
    { label: () => t('report.tlp'), cls: 'col-nowrap col-tlp', cell: (r) => tlpPill(r.tlp, true) },
    { label: () => t('report.event_type'), cls: 'col-event', cell: eventCell },
    { label: () => t('report.severity_overall'), cls: 'col-nowrap', cell: (r) => severityBadge(r.severity && r.severity.overall) },
    { label: () => t('report.sectors_short'), cls: 'col-sectors', cell: (r) => tx(() => sectorList(r.sectors)) },
    { label: () => t('report.stage'), cls: 'col-nowrap', cell: (r) => stageBadge(r.stage) },
    { label: () => t('report.status'), cls: 'col-nowrap', cell: (r) => statusBadge(r.status) },
    { label: () => t('report.due'), cls: 'col-due', cell: dueCell },
    { label: () => t('report.updated_at'), cls: 'col-nowrap', cell: (r) => stackedTime(r.updated_at) },
  ];
}

// ---------------------------------------------------------------- due list

export async function viewDue(page, params) {
  append(page, pageHead('due.title', () => t('due.lead')));
  takeFlash(page);
  const slot = h('div.banner-slot');
  page.appendChild(slot);
  await loadRegimes();

  let within = Number(params.get('within')) || 72;
  if (!DUE_WINDOWS.includes(within)) within = 72;
  const name = uid('within');
  const radios = DUE_WINDOWS.map((hrs) => {
    const id = uid('w');
    const input = h('input.seg-input', { type: 'radio', name, id, value: String(hrs), checked: hrs === within,
      on: { change: () => { within = hrs; list.reset(); } } });
    return h('span.seg-item', input, h('label.seg-label', { for: id }, () => t('due.window.' + hrs)));
  });
  const seg = h('fieldset.segmented', h('legend.seg-legend', () => t('due.window')), h('div.seg-body', radios));
  const summary = h('p.due-summary', { 'aria-live': 'polite' });
  page.appendChild(h('div.due-toolbar', seg, summary));

  const list = makeList({
    caption: () => t('due.caption'),
    empty: () => t('due.empty'),
    columns: [
      { label: () => t('report.due'), cls: 'col-due', cell: dueCell },
      { label: () => t('report.title'), cls: 'col-name', cell: titleCell },
      { label: () => t('report.regime'), cls: 'col-regime', cell: (r) => tx(() => regimeName(r.regime)) },
      { label: () => t('report.stage'), cls: 'col-nowrap', cell: (r) => stageBadge(r.stage) },
      { label: () => t('report.event_type'), cls: 'col-event', cell: eventCell },
      { label: () => t('report.severity_overall'), cls: 'col-nowrap', cell: (r) => severityBadge(r.severity && r.severity.overall) },
    ],
    rowClass: (r) => (r.due && r.due.overdue ? 'row-overdue' : 'row-due-soon'),
    fetch: () => api('GET', '/reports/due', undefined, { query: { within_hours: within } }),
    onItems: (items) => {
      // The server orders by due time, overdue first; keep that order but make sure of it.
      items.sort((a, b) => (b.due && b.due.overdue ? 1 : 0) - (a.due && a.due.overdue ? 1 : 0));
      const over = items.filter((r) => r.due && r.due.overdue).length;
      const soon = items.length - over;
      bindText(summary, () => t('due.summary', { over, soon }));
      summary.classList.toggle('has-overdue', over > 0);
    },
    slot,
  });
  page.appendChild(list.el);
  await list.reset();
}

// ---------------------------------------------------------------- the report form

export async function viewReportNew(page) {
  page.classList.add('page-form');
  append(page, pageHead('rform.title_new', () => t('rform.lead_new')));
  const slot = h('div.banner-slot', { 'aria-live': 'polite' });
  page.appendChild(slot);
  const loading = loadingEl();
  page.appendChild(loading);
  await Promise.all([loadRefData(), loadRegimes()]);
  loading.remove();
  buildReportForm(page, slot, 'new', null);
}

/** #/reports/{id}/update (first/update) and #/reports/{id}/edit (draft). */
export async function viewReportRevise(page, params, id, mode) {
  page.classList.add('page-form');
  const head = pageHead(mode === 'draft' ? 'rform.title_draft' : 'rform.title_update', () => t(mode === 'draft' ? 'rform.lead_draft' : 'rform.lead_update'));
  page.appendChild(head);
  const slot = h('div.banner-slot', { 'aria-live': 'polite' });
  page.appendChild(slot);
  const loading = loadingEl();
  page.appendChild(loading);
  const [report] = await Promise.all([api('GET', '/reports/' + encodeURIComponent(id)), loadRefData(), loadRegimes()]);
  loading.remove();
  head.querySelector('.page-head-text').insertBefore(
    h('p.page-kicker', h('a', { href: '#/reports/' + report.id }, '← ', report.title)), head.querySelector('.page-title'));
  const wantDraft = mode === 'draft';
  if (!ownReport(report) || !canFileReports() || (report.stage === 'draft') !== wantDraft || report.stage === 'final') {
    slot.appendChild(banner('info', () => t('rform.cannot_revise'), h('p.banner-detail', h('a', { href: '#/reports/' + report.id }, () => t('rform.back_to_report')))));
    return;
  }
  buildReportForm(page, slot, mode, report);
}

function buildReportForm(page, slot, mode, report) {
  const reg = new Map();
  const idem = idempotency();
  const cur = report || {};
  const isNew = mode === 'new';

  // -- required: event type, title, sectors
  const evName = uid('event_type');
  const evRadios = EVENT_TYPES.map((code) => {
    const id = uid('ev');
    const input = h('input.radio', { type: 'radio', name: evName, id, value: code, checked: cur.event_type === code });
    return { input, el: h('div.check-item', input, h('label', { for: id }, () => eventName(code))) };
  });
  const gEvent = group({ legend: () => t('report.event_type'), hint: () => t('rform.event_hint'), reg, name: 'event_type', children: evRadios.map((x) => x.el), bodyCls: 'check-grid check-grid-wide' });
  gEvent.focus = evRadios[0].input;
  gEvent.el.classList.add('group-required');

  const titleIn = textInput({ name: 'title', maxlength: 200, autocomplete: 'off', value: cur.title || '' });
  const fTitle = field({ label: () => t('report.title'), input: titleIn, hint: () => t('rform.title_hint'), reg, name: 'title' });

  const initialSectors = report ? (report.sectors || []) : ((state.me.org && state.me.org.sectors) || []);
  const sectorBoxes = state.sectors.filter((s) => !s.disabled || initialSectors.includes(s.code)).map((s) => {
    const id = uid('sec');
    const cb = h('input.checkbox', { type: 'checkbox', id, name: 'sectors', value: s.code, checked: initialSectors.includes(s.code) });
    const long = () => ((pick(s.name) || '').length > (lang() === 'ja' ? 10 : 20) ? 'true' : false);
    return { cb, el: h('div.check-item', { 'data-long': long }, cb, h('label', { for: id }, () => pick(s.name) || s.code)) };
  });
  const gSectors = group({ legend: () => t('report.sectors'), hint: isNew ? () => t('rform.sectors_hint') : null, reg, name: 'sectors', children: sectorBoxes.map((x) => x.el), bodyCls: 'check-grid' });
  gSectors.focus = sectorBoxes.length ? sectorBoxes[0].cb : null;

  // -- details: classification
  const kindOpts = [...(isNew ? [{ value: '', text: () => t('rform.kind_auto') }] : []), ...['incident', 'near_miss'].map((k) => ({ value: k, text: () => kindName(k) }))];
  const kindSel = selectInput(kindOpts, { name: 'kind' });
  kindSel.value = cur.kind || '';
  const fKind = field({ label: () => t('report.kind'), input: kindSel, reg, name: 'kind' });
  const layerSel = selectInput([{ value: '', text: () => t('value.unset') }, ...LAYERS.map((k) => ({ value: k, text: () => layerName(k) }))], { name: 'layer' });
  layerSel.value = cur.layer || '';
  const fLayer = field({ label: () => t('report.layer'), input: layerSel, hint: () => t('rform.layer_hint'), reg, name: 'layer' });
  const basisSel = selectInput([{ value: '', text: () => t('value.unset') }, ...BASES.map((k) => ({ value: k, text: () => basisName(k) }))], { name: 'basis' });
  basisSel.value = cur.basis || '';
  const fBasis = field({ label: () => t('report.basis'), input: basisSel, hint: () => t('rform.basis_hint'), reg, name: 'basis' });
  const regimes = (state.regimes || []).filter((r) => !r.disabled || r.code === cur.regime);
  const regimeSel = selectInput([{ value: '', text: () => t('rform.regime_none') }, ...regimes.map((r) => ({ value: r.code, text: () => pick(r.name) || r.code }))], { name: 'regime' });
  regimeSel.value = cur.regime || '';
  const regimeHint = () => (regimeSel.value ? t('rform.regime_steps', { steps: regimeSteps(regimeSel.value) }) : t('rform.regime_hint'));
  const fRegime = field({ label: () => t('report.regime'), input: regimeSel, hint: regimeHint, reg, name: 'regime' });
  regimeSel.addEventListener('change', () => relocalize(fRegime.el));
  const gClass = group({ legend: () => t('rform.sec.classification'), children: [h('div.two-col', fKind.el, fLayer.el), h('div.two-col', fBasis.el, fRegime.el)], bodyCls: 'stack' });

  // -- causes: rows of code + detail
  const causeRows = [];
  const causeRowsEl = h('div.rows');
  const causeAdd = h('button.btn.btn-secondary.btn-small', { type: 'button', on: { click: () => { const r = addCause(); r.code.focus(); } } },
    h('span.btn-icon', { 'aria-hidden': 'true' }, '+'), tx(() => t('rform.cause_add')));
  const noCauses = h('p.muted.rows-none', () => t('rform.causes_none'));
  const gCauses = group({ legend: () => t('report.causes'), hint: () => t('rform.causes_hint'), reg, name: 'causes', children: [noCauses, causeRowsEl, h('div.rows-add', causeAdd)] });
  function renumberCauses() {
    causeRows.forEach((r, i) => { r.index = i; relocalize(r.el); });
    noCauses.hidden = causeRows.length > 0;
    causeAdd.disabled = causeRows.length >= MAX_CAUSES;
  }
  function addCause(c) {
    const r = { index: causeRows.length };
    r.code = selectInput(CAUSES.map((k) => ({ value: k, text: () => causeName(k) })), {});
    if (c && c.code) r.code.value = c.code;
    r.detail = h('textarea.input.textarea', { rows: 2 });
    r.detail.value = (c && c.detail) || '';
    r.fCode = field({ label: () => t('rform.cause_code'), input: r.code, cls: 'row-code' });
    r.fDetail = field({ label: () => t('rform.cause_detail'), input: r.detail, optional: true, cls: 'row-wide' });
    r.remove = h('button.btn.btn-quiet.btn-small.row-remove', { type: 'button', 'aria-label': () => t('rform.cause_remove_n', { n: r.index + 1 }),
      on: { click: () => { const i = causeRows.indexOf(r); causeRows.splice(i, 1); r.el.remove(); renumberCauses(); (causeRows[i] || causeRows[i - 1] || { code: causeAdd }).code.focus(); } } },
    () => t('rform.remove'));
    r.rowErr = h('p.field-error', { hidden: true });
    r.el = h('div.row-box', { role: 'group', 'aria-label': () => t('rform.cause_n', { n: r.index + 1 }) },
      h('div.row-fields.row-fields-cause', r.fCode.el, r.fDetail.el, h('div.row-actions', r.remove)), r.rowErr);
    causeRows.push(r);
    causeRowsEl.appendChild(r.el);
    renumberCauses();
    return r;
  }
  for (const c of cur.causes || []) addCause(c);
  renumberCauses();

  // -- severity: three viewpoints, overall computed
  const sev = cur.severity || {};
  const sevSels = {};
  const sevFields = VIEWPOINTS.map((vp) => {
    const sel = selectInput([{ value: '', text: () => t('sev.unassessed') }, ...LEVELS.map((n) => ({ value: String(n), text: () => levelName(n) }))], { name: 'severity.' + vp });
    sel.value = sev[vp] === null || sev[vp] === undefined ? '' : String(sev[vp]);
    sel.addEventListener('change', updateOverall);
    sevSels[vp] = sel;
    return field({ label: () => t('viewpoint.' + vp), input: sel, reg, name: 'severity.' + vp });
  });
  const overallOut = h('output.sev-overall', { 'aria-live': 'polite' });
  function overallValue() {
    const vals = VIEWPOINTS.map((vp) => sevSels[vp].value).filter((v) => v !== '').map(Number);
    return vals.length ? Math.max(...vals) : null;
  }
  function updateOverall() {
    const n = overallValue();
    clear(overallOut);
    append(overallOut, [tx(() => t('viewpoint.overall')), ' ', severityBadge(n)]);
  }
  updateOverall();
  const gSeverity = group({ legend: () => t('report.severity'), hint: () => t('rform.severity_hint'), reg, name: 'severity',
    children: [h('div.three-col', sevFields.map((f) => f.el)), overallOut], bodyCls: 'stack' });

  // -- when
  const timeInputs = {};
  const timeFields = TIME_FIELDS.map((k) => {
    const input = h('input.input', { type: 'datetime-local', name: k, value: toLocalInput(cur[k]) });
    timeInputs[k] = input;
    return field({ label: () => t('report.' + k), input, optional: true, reg, name: k });
  });
  const gTimes = group({ legend: () => t('rform.sec.times'), hint: () => t('rform.times_hint', { offset: offsetOf(new Date()) }), children: [h('div.three-col', timeFields.map((f) => f.el))] });

  // -- what
  const serviceIn = textInput({ name: 'service', maxlength: 200, autocomplete: 'off', value: cur.service || '' });
  const fService = field({ label: () => t('report.service'), input: serviceIn, optional: true, hint: () => t('rform.service_hint'), reg, name: 'service' });
  const descIn = h('textarea.input.textarea.textarea-long', { name: 'description', rows: 7, maxlength: 20000 });
  descIn.value = cur.description || '';
  const fDesc = field({ label: () => t('report.description'), input: descIn, optional: true, hint: () => t('rform.description_hint'), reg, name: 'description' });
  const gWhat = group({ legend: () => t('rform.sec.what'), children: [fService.el, fDesc.el], bodyCls: 'stack' });

  // -- follow-up
  const statusSel = selectInput(STATUSES.map((k) => ({ value: k, text: () => statusName(k) })), { name: 'status' });
  statusSel.value = cur.status || 'open';
  const fStatus = field({ label: () => t('report.status'), input: statusSel, reg, name: 'status' });
  const followIn = h('textarea.input.textarea', { name: 'followup', rows: 3 });
  followIn.value = cur.followup || '';
  const fFollow = field({ label: () => t('report.followup'), input: followIn, optional: true, hint: () => t('rform.followup_hint'), reg, name: 'followup' });
  const gFollow = group({ legend: () => t('rform.sec.followup'), children: [h('div.two-col', fStatus.el), fFollow.el], bodyCls: 'stack' });

  // -- contact and sharing
  const contact = cur.contact || {};
  const cName = textInput({ name: 'contact.name', autocomplete: 'name', value: contact.name || '' });
  const cEmail = textInput({ name: 'contact.email', type: 'email', autocomplete: 'email', value: contact.email || '' });
  const cPhone = textInput({ name: 'contact.phone', type: 'tel', autocomplete: 'tel', value: contact.phone || '' });
  const gContact = group({ legend: () => t('report.contact'), hint: () => t('rform.contact_hint'), reg, name: 'contact', children: [h('div.three-col',
    field({ label: () => t('report.contact.name'), input: cName, optional: true, reg, name: 'contact.name' }).el,
    field({ label: () => t('report.contact.email'), input: cEmail, optional: true, reg, name: 'contact.email' }).el,
    field({ label: () => t('report.contact.phone'), input: cPhone, optional: true, reg, name: 'contact.phone' }).el)] });
  const marking = markingPicker(cur, reg, isNew);
  const shareCb = marking.shareCb;

  // -- observables: rows of type / value / role
  const obsRows = [];
  const obsRowsEl = h('div.rows');
  const obsAdd = h('button.btn.btn-secondary.btn-small', { type: 'button', on: { click: () => { const r = addObs(); r.type.focus(); } } },
    h('span.btn-icon', { 'aria-hidden': 'true' }, '+'), tx(() => t('rform.obs_add')));
  const noObs = h('p.muted.rows-none', () => t('rform.obs_none'));
  const gObs = group({ legend: () => t('report.observables'), hint: () => t('rform.obs_hint'), reg, name: 'observables', children: [noObs, obsRowsEl, h('div.rows-add', obsAdd)] });
  function renumberObs() {
    obsRows.forEach((r, i) => { r.index = i; relocalize(r.el); });
    noObs.hidden = obsRows.length > 0;
    obsAdd.disabled = obsRows.length >= MAX_OBSERVABLES;
  }
  function addObs(o) {
    const r = { index: obsRows.length };
    r.type = selectInput(OBS_TYPES.map((k) => ({ value: k, text: () => obsTypeName(k) })), {});
    r.value = textInput({ autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' });
    r.role = selectInput(OBS_ROLES.map((k) => ({ value: k, text: () => obsRoleName(k) })), {});
    r.type.value = (o && o.type) || 'ipv4';
    r.value.value = (o && o.value) || '';
    r.role.value = (o && o.role) || 'attacker';
    r.fType = field({ label: () => t('rform.obs_type'), input: r.type, cls: 'row-code' });
    r.fValue = field({ label: () => t('rform.obs_value'), input: r.value, cls: 'row-wide' });
    r.fRole = field({ label: () => t('rform.obs_role'), input: r.role, cls: 'row-role' });
    r.remove = h('button.btn.btn-quiet.btn-small.row-remove', { type: 'button', 'aria-label': () => t('rform.obs_remove_n', { n: r.index + 1 }),
      on: { click: () => { const i = obsRows.indexOf(r); obsRows.splice(i, 1); r.el.remove(); renumberObs(); (obsRows[i] || obsRows[i - 1] || { type: obsAdd }).type.focus(); } } },
    () => t('rform.remove'));
    r.rowErr = h('p.field-error', { hidden: true });
    r.el = h('div.row-box', { role: 'group', 'aria-label': () => t('rform.obs_n', { n: r.index + 1 }) },
      h('div.row-fields.row-fields-obs', r.fType.el, r.fValue.el, r.fRole.el, h('div.row-actions', r.remove)), r.rowErr);
    obsRows.push(r);
    obsRowsEl.appendChild(r.el);
    renumberObs();
    return r;
  }
  for (const o of cur.observables || []) addObs(o);
  renumberObs();

  // -- reason (revisions only)
  let reasonIn = null;
  let fReason = null;
  if (!isNew) {
    reasonIn = h('textarea.input.textarea', { name: 'reason', rows: 2 });
    fReason = field({ label: () => t('rform.reason'), input: reasonIn, optional: true, hint: () => t('rform.reason_hint'), reg, name: 'reason' });
  }

  const details = h('details.form-details', { open: !isNew },
    h('summary.details-summary', h('span.details-title', () => t(isNew ? 'rform.details' : 'rform.details_all')), h('span.details-hint', () => t('rform.details_hint'))),
    h('div.details-body', [gClass, gCauses, gSeverity, gTimes, gWhat, gFollow, gContact, gObs].map((g) => h('div.details-section', g.el))));

  // -- actions
  const buttons = {
    new: [['primary', 'first', 'rform.submit_first'], ['secondary', 'draft', 'rform.save_draft']],
    draft: [['primary', 'first', 'rform.submit_first'], ['secondary', 'draft', 'rform.save_draft_again']],
    update: [['primary', 'update', 'rform.submit_update'], ['secondary', 'final', 'rform.submit_final_with']],
  }[mode].map(([kind, stage, key]) => {
    const b = h('button.btn.btn-' + kind, { type: 'submit', value: stage, 'data-stage': stage }, () => t(key));
    b.dataset.key = key;
    return b;
  });
  const actionsErr = h('p.field-error', { hidden: true });
  const cancel = h('a.btn.btn-quiet', { href: report ? '#/reports/' + report.id : '#/reports' }, () => t('form.cancel'));
  const actions = h('div.form-actions', buttons, cancel);
  // Revisions: what will be sent, kept up to date as the user edits.
  const pending = isNew ? null : h('p.pending-changes', { 'aria-live': 'polite' });
  const actionsBox = h('div.form-actions-box', pending, actionsErr, actions);
  reg.set('changes', { el: actionsBox, err: actionsErr, focus: buttons[0] });
  reg.set('stage', { el: actionsBox, err: actionsErr, focus: buttons[0] });

  const requiredBox = h('div.form-required', isNew ? h('p.form-note', () => t('rform.required_note')) : null, gEvent.el, fTitle.el, gSectors.el, marking.el);
  const form = h('form.form.report-form', { novalidate: true, on: { submit: onSubmit } },
    requiredBox, details, fReason ? fReason.el : null, actionsBox);
  page.appendChild(form);

  function registerRows() {
    for (const key of [...reg.keys()]) if (/^(causes|observables)\[/.test(key)) reg.delete(key);
    causeRows.forEach((r, i) => {
      reg.set(`causes[${i}].code`, r.fCode);
      reg.set(`causes[${i}].detail`, r.fDetail);
      reg.set(`causes[${i}]`, { el: r.el, err: r.rowErr, focus: r.code });
    });
    obsRows.forEach((r, i) => {
      reg.set(`observables[${i}].type`, r.fType);
      reg.set(`observables[${i}].value`, r.fValue);
      reg.set(`observables[${i}].role`, r.fRole);
      reg.set(`observables[${i}]`, { el: r.el, err: r.rowErr, focus: r.value });
    });
  }

  /** The form's content in the API's shape (every field). */
  function collect() {
    const ev = evRadios.find((x) => x.input.checked);
    const nul = (s) => (s && s.trim() ? s.trim() : null);
    const sevVal = (vp) => (sevSels[vp].value === '' ? null : Number(sevSels[vp].value));
    const c = {
      kind: kindSel.value || null,
      event_type: ev ? ev.input.value : null,
      causes: causeRows.map((r) => ({ code: r.code.value, detail: nul(r.detail.value) })),
      layer: layerSel.value || null,
      severity: { continuity: sevVal('continuity'), safety: sevVal('safety'), trust: sevVal('trust') },
      sectors: sectorBoxes.filter((x) => x.cb.checked).map((x) => x.cb.value),
      service: nul(serviceIn.value),
      title: titleIn.value.trim(),
      description: descIn.value.trim() ? descIn.value.replace(/\s+$/, '') : null,
      basis: basisSel.value || null,
      regime: regimeSel.value || null,
      status: statusSel.value,
      followup: followIn.value.trim() ? followIn.value.replace(/\s+$/, '') : null,
      contact: (cName.value.trim() || cEmail.value.trim() || cPhone.value.trim())
        ? { name: nul(cName.value), email: nul(cEmail.value), phone: nul(cPhone.value) } : null,
      share_with_hub: shareCb.checked,
      observables: obsRows.map((r) => ({ type: r.type.value, value: r.value.value.trim(), role: r.role.value })),
      ...marking.collect(),
    };
    for (const k of TIME_FIELDS) c[k] = fromLocalInput(timeInputs[k].value);
    return c;
  }

  // What the form held when it opened: an update sends only what differs from it.
  const baseline = collect();
  if (pending) {
    const update = () => {
      const keys = Object.keys(changes());
      pending.classList.toggle('has-changes', keys.length > 0);
      bindText(pending, () => (keys.length
        ? t('rform.pending', { n: keys.length, fields: keys.map((k) => t('report.' + k)).join(listSep()) })
        : t('rform.pending_none')));
    };
    form.addEventListener('input', update);
    form.addEventListener('change', update);
    form.addEventListener('click', (e) => { if (e.target.closest('.row-remove, .rows-add')) setTimeout(update, 0); });
    update();
  }

  /** Only the changed fields; severity only the changed viewpoints; times to the minute. */
  function changes() {
    const now = collect();
    const out = {};
    for (const k of FIELDS) {
      if (k === 'severity') {
        const s = {};
        for (const vp of VIEWPOINTS) if (now.severity[vp] !== baseline.severity[vp]) s[vp] = now.severity[vp];
        if (Object.keys(s).length) out.severity = s;
      } else if (!deepEqual(now[k], baseline[k])) {
        out[k] = now[k];
      }
    }
    return out;
  }

  /** A first report or draft: leave out what is unknown (the server fills in the defaults). */
  function createBody(draft) {
    const c = collect();
    const body = {};
    for (const k of FIELDS) {
      const v = c[k];
      if (v === null || v === undefined || (Array.isArray(v) && !v.length && k !== 'sectors')) continue;
      if (k === 'severity' && VIEWPOINTS.every((vp) => v[vp] === null)) continue;
      if (k === 'share_with_hub' && !v) continue;
      if (k === 'audience' && deepEqual(v, NO_AUDIENCE)) continue;
      body[k] = v;
    }
    if (draft) body.draft = true;
    return body;
  }

  function openDetailsFor(err) {
    if (!(err instanceof ApiError)) return;
    for (const e of err.errors) {
      const f = resolveField(reg, e.field);
      if (f && details.contains(f.el)) details.open = true;
      if (f && marking.el.contains(f.el)) marking.open(true);
    }
  }

  async function onSubmit(ev) {
    ev.preventDefault();
    const submitter = ev.submitter && ev.submitter.dataset.stage ? ev.submitter : buttons[0];
    const stage = submitter.dataset.stage;
    registerRows();
    marking.registerOrgs();
    clearFieldErrors(reg);
    clear(slot);
    let path; let body;
    if (isNew) {
      path = '/reports';
      body = createBody(stage === 'draft');
    } else {
      path = '/reports/' + encodeURIComponent(report.id) + '/revisions';
      body = { stage, changes: changes() };
      if (reasonIn.value.trim()) body.reason = reasonIn.value.trim();
    }
    const meta = {};
    for (const b of buttons) b.disabled = true;
    setBusy(submitter, true, 'form.saving', submitter.dataset.key);
    try {
      const r = await api('POST', path, body, { headers: { 'Idempotency-Key': idem.key(body) }, meta });
      const doneKey = meta.replayed ? 'rform.replayed' : ({ first: 'rform.done_first', draft: 'rform.done_draft', update: 'rform.done_update', final: 'rform.done_final' })[stage];
      state.flash = { kind: meta.replayed ? 'info' : 'success', text: () => t(doneKey, { title: r.title }) };
      location.hash = '#/reports/' + r.id;
    } catch (err) {
      idem.failed(err);
      for (const b of buttons) b.disabled = false;
      setBusy(submitter, false, 'form.saving', submitter.dataset.key);
      if (err instanceof ApiError && err.status === 409) {
        slot.appendChild(banner('error', () => t('report.conflict'), h('p.banner-detail', h('a', { href: '#/reports/' + (report ? report.id : '') }, () => t('rform.back_to_report')))));
        slot.scrollIntoView({ block: 'nearest' });
        return;
      }
      openDetailsFor(err);
      showProblem(err, reg, slot);
      marking.orgLineErrors(err);
    }
  }
}

/**
 * Audience and handling: a one-line summary ("共有先: 調整機関のみ · TLP:AMBER") with a
 * button that opens the picker (TLP, audience, purpose, handling), so the first screen of
 * the form stays short. Returns {el, shareCb, collect(), open(bool), registerOrgs(),
 * orgLineErrors(err)}. opts.shareKey, opts.hintKey, opts.hubKey: other wording (releases.js);
 * for alerts (alerts.js): noShare (no hub choice), noPurpose (no purpose/handling), titleKey,
 * legendKey, tlpHintKey, sectors (the only sector codes offered), sectorsOnly (no all-members,
 * tiers or named orgs), tlps (the TLP codes offered), summary(audience) → the summary text.
 */
function markingPicker(cur, reg, isNew, opts = {}) {
  const aud = audienceOf(cur);
  const pickerId = uid('marking');

  // -- TLP
  const tlpName = uid('tlp');
  const tlpRadios = TLPS.filter((code) => !opts.tlps || opts.tlps.includes(code)).map((code) => {
    const id = uid('tlp');
    const input = h('input.radio', { type: 'radio', name: tlpName, id, value: code, checked: (cur.tlp || 'AMBER') === code });
    return { input, el: h('div.check-item.tlp-item', input, h('label.tlp-option', { for: id }, tlpPill(code), h('span.tlp-desc', () => t('tlp.desc.' + code)))) };
  });
  const gTlp = group({ legend: () => t('rform.tlp_legend'), hint: () => t(opts.tlpHintKey || 'rform.tlp_hint'), reg, name: 'tlp', children: tlpRadios.map((x) => x.el), bodyCls: 'tlp-grid' });
  gTlp.focus = tlpRadios[0].input;

  // -- audience
  const shareId = uid('share');
  const shareCb = h('input.checkbox', { type: 'checkbox', id: shareId, name: 'share_with_hub', checked: !!cur.share_with_hub });
  const shareItem = h('div.check-item', { hidden: !!opts.noShare }, shareCb, h('label', { for: shareId }, () => t(opts.shareKey || 'rform.share_label')));
  const fShare = { el: shareItem, err: h('p.field-error', { hidden: true }), input: shareCb, focus: shareCb };
  shareItem.appendChild(fShare.err);
  reg.set('share_with_hub', fShare);
  const allId = uid('all');
  const allCb = h('input.checkbox', { type: 'checkbox', id: allId, name: 'audience.all_members', checked: !!aud.all_members });
  const allItem = h('div.check-item', { hidden: !!opts.sectorsOnly }, allCb, h('label', { for: allId }, () => t('rform.aud_all')));

  const offered = (x) => (opts.sectors ? opts.sectors.includes(x.code) : !x.disabled || aud.sectors.includes(x.code));
  const secBoxes = state.sectors.filter(offered).map((x) => {
    const id = uid('asec');
    const cb = h('input.checkbox', { type: 'checkbox', id, name: 'audience.sectors', value: x.code, checked: aud.sectors.includes(x.code) });
    return { cb, el: h('div.check-item', cb, h('label', { for: id }, () => pick(x.name) || x.code)) };
  });
  const gSecs = group({ legend: () => t('rform.aud_sectors'), reg, name: 'audience.sectors', children: secBoxes.map((x) => x.el), bodyCls: 'check-grid', cls: 'aud-sub' });
  gSecs.focus = secBoxes.length ? secBoxes[0].cb : null;
  const tierBoxes = (state.tiers || []).map((x) => {
    const id = uid('atier');
    const cb = h('input.checkbox', { type: 'checkbox', id, name: 'audience.tiers', value: x.code, checked: aud.tiers.includes(x.code) });
    return { cb, el: h('div.check-item', cb, h('label', { for: id }, () => tierName(x.code))) };
  });
  const gTiers = group({ legend: () => t('rform.aud_tiers'), reg, name: 'audience.tiers', children: tierBoxes.map((x) => x.el), bodyCls: 'check-grid', cls: 'aud-sub' });
  gTiers.el.hidden = !!opts.sectorsOnly;
  gTiers.focus = tierBoxes.length ? tierBoxes[0].cb : null;

  const orgsIn = h('textarea.input.textarea.textarea-ids', { name: 'audience.orgs', rows: 3, spellcheck: 'false', autocapitalize: 'none', autocomplete: 'off' });
  orgsIn.value = aud.orgs.join('\n');
  const fOrgs = field({ label: () => t('rform.aud_orgs'), input: orgsIn, optional: true, hint: () => t('rform.aud_orgs_hint'), reg, name: 'audience.orgs' });
  fOrgs.el.hidden = !!opts.sectorsOnly;
  const lineErrs = h('div.org-line-errors');
  fOrgs.el.appendChild(lineErrs);
  const baseDescribed = orgsIn.getAttribute('aria-describedby');

  const redNote = h('p.aud-red-note', { role: 'note' }, () => t('rform.aud_red_note'));
  const gAud = group({ legend: () => t(opts.legendKey || 'rform.aud_legend'), hint: () => t(opts.hintKey || 'rform.aud_hint'), reg, name: 'audience',
    children: [h('div.aud-checks', shareItem, allItem), redNote, gSecs.el, gTiers.el, fOrgs.el], bodyCls: 'stack' });
  // Errors on the audience focus its first choice that is shown.
  gAud.focus = !opts.noShare ? shareCb : !opts.sectorsOnly ? allCb : (secBoxes[0] ? secBoxes[0].cb : null);
  reg.set('audience.all_members', { el: allItem, err: gAud.err, input: allCb, focus: allCb });

  // -- purpose, handling
  const purposeIn = h('textarea.input.textarea', { name: 'purpose', rows: 2, maxlength: 1000 });
  purposeIn.value = cur.purpose || '';
  const fPurpose = field({ label: () => t('report.purpose'), input: purposeIn, optional: true, hint: () => t('rform.purpose_hint'), reg, name: 'purpose' });
  const handlingIn = h('textarea.input.textarea', { name: 'handling', rows: 2, maxlength: 1000 });
  handlingIn.value = cur.handling || '';
  const fHandling = field({ label: () => t('report.handling'), input: handlingIn, optional: true, hint: () => t('rform.handling_hint'), reg, name: 'handling' });

  const picker = h('div.marking-picker', { id: pickerId, hidden: true },
    gTlp.el, gAud.el, opts.noPurpose ? null : h('div.two-col', fPurpose.el, fHandling.el));

  // -- the summary line and the button
  const summaryText = h('span.marking-summary-text');
  const summaryTlp = h('span.marking-summary-tlp');
  const toggle = h('button.btn.btn-secondary.btn-small.marking-toggle', { type: 'button', 'aria-expanded': 'false', 'aria-controls': pickerId,
    on: { click: () => open(picker.hidden) } });
  const headId = uid('mk');
  const el = h('section.marking', { 'aria-labelledby': headId },
    h('div.marking-head',
      h('h2.marking-title', { id: headId }, () => t(opts.titleKey || 'rform.sec.marking')),
      h('p.marking-summary', { 'aria-live': 'polite' }, summaryText, h('span.marking-sep', { 'aria-hidden': 'true' }, ' · '), summaryTlp),
      toggle),
    picker);

  function tlp() { const x = tlpRadios.find((r) => r.input.checked); return x ? x.input.value : 'AMBER'; }
  function orgLines() {
    const seen = new Set();
    const out = [];
    orgsIn.value.split(/\r?\n/).forEach((raw, i) => {
      const id = raw.trim();
      if (!id || seen.has(id)) return;
      seen.add(id);
      out.push({ id, line: i + 1 });
    });
    return out;
  }
  function collect() {
    const red = tlp() === 'RED';
    const nul = (x) => (x.value.trim() ? x.value.replace(/\s+$/, '') : null);
    return {
      audience: {
        orgs: orgLines().map((x) => x.id),
        sectors: red ? [] : secBoxes.filter((x) => x.cb.checked).map((x) => x.cb.value),
        tiers: red ? [] : tierBoxes.filter((x) => x.cb.checked).map((x) => x.cb.value),
        all_members: red ? false : allCb.checked,
      },
      tlp: tlp(),
      purpose: nul(purposeIn),
      handling: nul(handlingIn),
    };
  }
  function update() {
    const red = tlp() === 'RED';
    // What is shown is what is sent: TLP:RED clears (and locks) what it does not allow.
    for (const cb of [allCb, ...secBoxes.map((x) => x.cb), ...tierBoxes.map((x) => x.cb)]) {
      cb.disabled = red;
      if (red) cb.checked = false;
    }
    redNote.hidden = !red;
    for (const g of [gSecs.el, gTiers.el, allItem]) g.classList.toggle('is-disabled', red);
    const c = collect();
    const hub = shareCb.checked;
    bindText(summaryText, opts.summary ? () => opts.summary(c.audience) : () => t('aud.summary', { audience: audienceText(c.audience, hub, opts.hubKey) }));
    clear(summaryTlp);
    summaryTlp.appendChild(tlpPill(c.tlp, true));
  }
  function open(on) {
    picker.hidden = !on;
    toggle.setAttribute('aria-expanded', on ? 'true' : 'false');
    bindText(toggle, () => t(on ? 'rform.marking_close' : 'rform.marking_open'));
  }
  /** Before a submission: one error slot per organisation line the server may name. */
  let sent = [];
  function registerOrgs() {
    for (const key of [...reg.keys()]) if (/^audience\.orgs\[/.test(key)) reg.delete(key);
    clear(lineErrs);
    sent = orgLines();
    const ids = [];
    sent.forEach((x, i) => {
      const err = h('p.field-error', { id: uid('orgerr'), hidden: true });
      ids.push(err.id);
      lineErrs.appendChild(err);
      reg.set(`audience.orgs[${i}]`, { el: fOrgs.el, input: orgsIn, err, focus: orgsIn });
    });
    orgsIn.setAttribute('aria-describedby', [baseDescribed, ...ids].join(' '));
  }
  /** After showProblem: say which line (and which id) each audience.orgs[i] error is about. */
  function orgLineErrors(err) {
    if (!(err instanceof ApiError)) return;
    for (const e of err.errors) {
      const m = /^audience\.orgs\[(\d+)\]$/.exec(e.field || '');
      const f = m ? reg.get(e.field) : null;
      const x = m ? sent[Number(m[1])] : null;
      if (f && x) setFieldError(f, () => t('rform.aud_org_line', { n: x.line, id: x.id, reason: /not an organi[sz]ation id/i.test(e.reason || '') ? t('rform.aud_org_invalid') : reasonText(e.reason) }));
    }
  }
  picker.addEventListener('change', update);
  picker.addEventListener('input', update);
  open(false);
  update();
  return { el, shareCb, collect, open, registerOrgs, orgLineErrors };
}

// ---------------------------------------------------------------- report page

export async function viewReport(page, params, id) {
  const loading = loadingEl();
  page.appendChild(loading);
  setTitle(() => t('report.page_title'));
  const [r] = await Promise.all([api('GET', '/reports/' + encodeURIComponent(id)), loadRefData(), loadRegimes()]);
  loading.remove();
  page.classList.add('page-report');
  setTitle(() => r.title);

  const own = ownReport(r) && canFileReports();
  const panel = h('div.action-panel-slot');
  const actions = [];
  if (own) {
    if (r.stage === 'draft') {
      actions.push(h('button.btn.btn-primary', { type: 'button', on: { click: () => openPanel('first') } }, () => t('report.action.submit_draft')));
      actions.push(h('a.btn.btn-secondary', { href: '#/reports/' + r.id + '/edit' }, () => t('report.action.edit_draft')));
    } else if (r.stage === 'first' || r.stage === 'update') {
      actions.push(h('a.btn.btn-primary', { href: '#/reports/' + r.id + '/update' }, h('span.btn-icon', { 'aria-hidden': 'true' }, '+'), tx(() => t('report.action.update'))));
      actions.push(h('button.btn.btn-secondary', { type: 'button', on: { click: () => openPanel('final') } }, () => t('report.action.final')));
    } else if (r.stage === 'final') {
      actions.push(h('button.btn.btn-secondary', { type: 'button', on: { click: () => openPanel('reopen') } }, () => t('report.action.reopen')));
    }
  }
  const releaseBtn = canPrepareRelease(r) ? prepareReleaseButton(r) : null;
  if (releaseBtn) actions.push(releaseBtn);

  const head = h('div.page-head.report-head',
    h('div.page-head-text',
      h('p.page-kicker', h('a', { href: '#/reports' }, '← ', tx(() => t('reports.title')))),
      h('div.report-title-row', tlpPill(r.tlp), h('h1.page-title', { tabindex: '-1' }, r.title)),
      h('ul.report-badges', { 'aria-label': () => t('report.summary') },
        h('li', stageBadge(r.stage)),
        h('li', statusBadge(r.status)),
        h('li', severityBadge(r.severity && r.severity.overall)),
        h('li.report-event', () => eventName(r.event_type)))),
    actions.length ? h('div.page-actions', actions) : null);
  page.appendChild(head);
  takeFlash(page);
  const slot = h('div.banner-slot', { 'aria-live': 'polite' });
  page.appendChild(slot);
  page.appendChild(panel);
  page.appendChild(dueBox(r));

  const main = h('div.report-main',
    section('report.sec.summary', h('dl.props.props-wide',
      prop('report.event_type', () => eventName(r.event_type)),
      prop('report.kind', () => kindName(r.kind)),
      prop('report.layer', () => (r.layer ? layerName(r.layer) : t('value.empty')), !r.layer),
      prop('report.sectors', () => sectorList(r.sectors)),
      prop('report.service', r.service ? r.service : () => t('value.empty'), !r.service),
      prop('report.basis', () => (r.basis ? basisName(r.basis) : t('value.empty')), !r.basis),
      prop('report.regime', () => (r.regime ? regimeName(r.regime) + t('paren', { x: regimeSteps(r.regime) }) : t('rform.regime_none')), !r.regime))),
    section('report.sec.marking', markingView(r), 'report.marking_note'),
    section('report.severity', severityTable(r.severity || {})),
    section('rform.sec.times', h('dl.props.props-wide', TIME_FIELDS.map((k) => prop('report.' + k, r[k] ? timeEl(r[k], true) : () => t('value.empty'), !r[k])))),
    section('report.causes', (r.causes || []).length
      ? h('ul.cause-list', r.causes.map((c) => h('li', h('span.cause-code', () => causeName(c.code)), c.detail ? h('p.text-block.cause-detail', c.detail) : null)))
      : h('p.muted', () => t('value.empty'))),
    section('report.description', textBlock(r.description)),
    section('rform.sec.followup', h('dl.props.props-wide',
      prop('report.status', statusBadge(r.status)),
      prop('report.followup', textBlock(r.followup)))),
    section('report.observables', observablesTable(r.observables || [])));

  const side = h('div.report-side',
    section('report.sec.record', h('dl.props',
      prop('report.org', () => pick(r.org_name)),
      prop('report.id', h('code.report-id', r.id)),
      prop('report.created_at', timeEl(r.created_at, true)),
      prop('report.submitted_at', r.submitted_at ? timeEl(r.submitted_at, true) : () => t('report.not_submitted'), !r.submitted_at),
      prop('report.updated_at', timeEl(r.updated_at, true)),
      prop('report.revision', () => t('report.revision_n', { n: r.revision })))),
    'contact' in r ? section('report.contact', contactView(r.contact), 'report.contact_note') : null);

  page.appendChild(h('div.report-grid', main, side));
  const releases = releasesSection(r, releaseBtn);
  if (releases) page.appendChild(releases);
  page.appendChild(timeline(r));

  function openPanel(kind) {
    clear(panel);
    clear(slot);
    const reg = new Map();
    const idem = idempotency();
    const reasonIn = h('textarea.input.textarea', { name: 'reason', rows: 3 });
    const fReason = field({ label: () => t(kind === 'reopen' ? 'report.reopen_reason' : 'report.panel_reason'), input: reasonIn,
      optional: kind !== 'reopen', hint: () => t('report.panel_hint.' + kind), reg, name: 'reason' });
    const errSlot = h('div.banner-slot');
    const goKey = 'report.panel_go.' + kind;
    const go = h('button.btn.btn-primary', { type: 'submit' }, () => t(goKey));
    const cancel = h('button.btn.btn-quiet', { type: 'button', on: { click: () => { clear(panel); } } }, () => t('form.cancel'));
    const actionsErr = h('p.field-error', { hidden: true });
    reg.set('stage', { el: panel, err: actionsErr, focus: go });
    reg.set('changes', { el: panel, err: actionsErr, focus: go });
    const form = h('form.action-panel', { novalidate: true, 'aria-labelledby': 'panel-h', on: { submit: onGo } },
      h('h2.panel-title#panel-h', { tabindex: '-1' }, () => t('report.panel_title.' + kind)),
      h('p.panel-text', () => t('report.panel_text.' + kind)),
      errSlot, fReason.el, actionsErr,
      h('div.form-actions', go, cancel));
    panel.appendChild(form);
    (kind === 'reopen' ? reasonIn : form.querySelector('h2')).focus();

    async function onGo(ev) {
      ev.preventDefault();
      clearFieldErrors(reg);
      clear(errSlot);
      const body = { stage: kind, changes: {} };
      if (reasonIn.value.trim()) body.reason = reasonIn.value.trim();
      if (kind === 'reopen') delete body.changes;
      setBusy(go, true, 'form.saving', goKey);
      const meta = {};
      try {
        await api('POST', '/reports/' + encodeURIComponent(r.id) + '/revisions', body, { headers: { 'Idempotency-Key': idem.key(body) }, meta });
        state.flash = { kind: 'success', text: () => t('report.panel_done.' + kind) };
        // Same hash: render the page again from the server's state.
        window.dispatchEvent(new HashChangeEvent('hashchange'));
      } catch (err) {
        idem.failed(err);
        setBusy(go, false, 'form.saving', goKey);
        if (err instanceof ApiError && err.status === 409) {
          errSlot.appendChild(banner('error', () => t('report.conflict')));
          return;
        }
        showProblem(err, reg, errSlot);
      }
    }
  }
}

function section(titleKey, body, noteKey) {
  const id = uid('sec');
  return h('section.card.report-section', { 'aria-labelledby': id },
    h('h2.card-title', { id }, () => t(titleKey)),
    noteKey ? h('p.card-note', () => t(noteKey)) : null,
    body);
}

/** A dt/dd pair; `value` is a node, a string or a localized function; `empty` mutes it. */
function prop(labelKey, value, empty) {
  return h('div.prop', h('dt', () => t(labelKey)), h('dd' + (empty ? '.muted' : ''), value));
}

function severityTable(sev) {
  return h('div.sev-table',
    VIEWPOINTS.map((vp) => h('div.sev-row', h('span.sev-vp', () => t('viewpoint.' + vp)), h('span.sev-val', severityBadge(sev[vp]), h('span.sev-desc', () => (sev[vp] === null || sev[vp] === undefined ? '' : t('sev.' + sev[vp])))))),
    h('div.sev-row.sev-row-overall', h('span.sev-vp', () => t('viewpoint.overall')), h('span.sev-val', severityBadge(sev.overall), h('span.sev-desc', () => t('rform.severity_max')))));
}

function observablesTable(obs) {
  if (!obs.length) return h('p.muted', () => t('value.empty'));
  return h('div.table-wrap.table-wrap-flat', h('table.table.table-compact.obs-table',
    h('caption.visually-hidden', () => t('report.observables')),
    h('thead', h('tr', h('th', { scope: 'col' }, () => t('rform.obs_type')), h('th', { scope: 'col' }, () => t('rform.obs_value')), h('th', { scope: 'col' }, () => t('rform.obs_role')))),
    h('tbody', obs.map((o) => h('tr',
      h('td.col-nowrap', { 'data-label': () => t('rform.obs_type') }, () => obsTypeName(o.type)),
      h('td.obs-value', { 'data-label': () => t('rform.obs_value') }, h('code', o.value)),
      h('td.col-nowrap', { 'data-label': () => t('rform.obs_role') }, () => obsRoleName(o.role)))))));
}

/** TLP, audience (one line per kind of recipient), purpose and handling. */
function markingView(r) {
  const a = audienceOf(r);
  const items = [h('li', () => t('aud.coordinator'))];
  if (r.share_with_hub) items.push(h('li', () => t('aud.hub_report')));
  if (a.all_members) items.push(h('li', () => t('aud.all_members')));
  if (a.sectors.length) items.push(h('li', () => t('aud.sectors', { list: a.sectors.map(sectorName).join(listSep()) })));
  if (a.tiers.length) items.push(h('li', () => t('aud.tiers', { list: a.tiers.map(tierName).join(listSep()) })));
  if (a.orgs.length) {
    items.push(h('li', tx(() => t('aud.orgs_list')), h('ul.aud-orgs', a.orgs.map((id) => h('li',
      state.me && state.me.org && state.me.org.id === id ? tx(() => pick(state.me.org.name)) : h('code.org-id', id))))));
  }
  return h('dl.props.props-wide',
    prop('report.tlp', h('span.tlp-line', tlpPill(r.tlp), ' ', h('span.tlp-desc', () => t('tlp.desc.' + (TLPS.includes(r.tlp) ? r.tlp : 'AMBER'))))),
    prop('report.audience', h('ul.aud-list', items)),
    prop('report.purpose', textBlock(r.purpose), !r.purpose),
    prop('report.handling', textBlock(r.handling), !r.handling));
}

function contactView(c) {
  if (!c || !(c.name || c.email || c.phone)) return h('p.muted', () => t('value.empty'));
  return h('dl.props',
    prop('report.contact.name', c.name || (() => t('value.empty')), !c.name),
    prop('report.contact.email', c.email || (() => t('value.empty')), !c.email),
    prop('report.contact.phone', c.phone || (() => t('value.empty')), !c.phone));
}

function dueBox(r) {
  const due = r.due;
  if (!due) {
    const key = r.stage === 'final' ? 'due.box_final' : r.regime ? 'due.box_none' : 'due.box_no_regime';
    return h('div.due-box.due-box-none', { role: 'note' }, h('p.due-box-title', () => t(key)));
  }
  return h('div.due-box' + (due.overdue ? '.due-box-overdue' : ''), { role: due.overdue ? 'alert' : 'note' },
    h('p.due-box-label', () => (due.overdue ? t('due.box_overdue') : t('due.box_next'))),
    h('p.due-box-title', () => t('due.box_stage', { stage: stageName(due.stage) }), ' ', timeEl(due.due_at, true)),
    h('p.due-box-rel', () => dueText(due)),
    h('p.due-box-regime', () => t('due.box_regime', { regime: regimeName(r.regime), steps: regimeSteps(r.regime) })));
}

// ---------------------------------------------------------------- revision timeline

function timeline(r) {
  const revs = (r.revisions || []).slice().sort((a, b) => b.n - a.n);
  const first = initialContent(r);
  const id = uid('tl');
  return h('section.timeline-section', { 'aria-labelledby': id },
    h('h2.section-title', { id }, () => t('timeline.title'), h('span.section-count', () => t('timeline.count', { n: revs.length }))),
    h('p.section-lead', () => t('timeline.lead')),
    h('ol.timeline', { reversed: true }, revs.map((rev) => revisionItem(rev, first))));
}

/**
 * The content as the first revision filed it: the current content with every later
 * revision's changes undone (each change carries the field's whole value before it).
 * The server lists no changes for revision 1, whose content is the report itself.
 */
function initialContent(r) { return contentAt(r, 1); }

/** The content as revision n left it (a release is made from one revision). */
export function contentAt(r, n) {
  const revs = (r.revisions || []).slice().sort((a, b) => b.n - a.n);
  const c = {};
  for (const k of FIELDS) if (k in r) c[k] = r[k];
  for (const rev of revs) {
    if (rev.n <= n) break;
    for (const ch of rev.changes || []) c[ch.field] = ch.before;
  }
  return c;
}

function isEmptyValue(v) {
  return v === null || v === undefined || v === '' || v === false || (Array.isArray(v) && !v.length);
}

function revisionItem(rev, first) {
  const by = rev.by || {};
  const who = () => (by.display_name ? by.display_name + (by.login ? t('paren', { x: by.login }) : '') : (by.login || '—'));
  const initial = rev.n === 1;
  const changes = initial && !(rev.changes || []).length
    ? FIELDS.filter((f) => !isEmptyValue(first[f])).map((f) => ({ field: f, before: null, after: first[f] }))
    : (rev.changes || []);
  const rows = [];
  for (const ch of changes) rows.push(...expandChange(ch, initial));
  let body;
  if (!rows.length) {
    body = h('p.muted.tl-nochange', () => t('timeline.no_changes'));
  } else if (initial) {
    body = h('details.tl-initial', h('summary', () => t('timeline.initial', { n: rows.length })), h('dl.changes.changes-initial', rows.map(initialRow)));
  } else {
    body = h('dl.changes', rows.map(changeRow));
  }
  return h('li.tl-item', { 'data-stage': rev.stage },
    h('div.tl-marker', { 'aria-hidden': 'true' }),
    h('div.tl-card',
      h('div.tl-head',
        stageBadge(rev.stage),
        h('span.tl-n', () => t('timeline.rev_n', { n: rev.n })),
        h('span.tl-at', timeEl(rev.at, true)),
        h('span.tl-by', tx(() => t('timeline.by')), ' ', h('span.tl-who', who))),
      rev.reason ? h('p.tl-reason', h('span.tl-reason-label', () => t('timeline.reason')), h('span.text-block', rev.reason)) : null,
      body));
}

/**
 * One API change → display rows {label: fn, before, after, list}. Objects are split into
 * their parts (severity per viewpoint, contact per item); lists show what was added and
 * removed.
 */
function expandChange(ch, initial) {
  const f = ch.field;
  const b = ch.before;
  const a = ch.after;
  const lab = (k) => () => t('report.' + k);
  if (f === 'severity') {
    const out = [];
    for (const vp of [...VIEWPOINTS, 'overall']) {
      const bv = b ? b[vp] : null;
      const av = a ? a[vp] : null;
      if (bv === av || (initial && av === null)) continue;
      out.push({ label: () => t('change.part', { field: t('report.severity'), part: t('viewpoint.' + vp) }), before: severityBadge(bv), after: severityBadge(av) });
    }
    return out;
  }
  if (f === 'contact') {
    const out = [];
    for (const k of ['name', 'email', 'phone']) {
      const bv = b ? b[k] : null;
      const av = a ? a[k] : null;
      if (bv === av || (initial && !av)) continue;
      out.push({ label: () => t('change.part', { field: t('report.contact'), part: t('report.contact.' + k) }), before: plain(bv), after: plain(av) });
    }
    return out;
  }
  if (f === 'causes' || f === 'observables') {
    const bl = Array.isArray(b) ? b : [];
    const al = Array.isArray(a) ? a : [];
    const inList = (list, x) => list.some((y) => deepEqual(y, x));
    const removed = bl.filter((x) => !inList(al, x));
    const added = al.filter((x) => !inList(bl, x));
    const show = f === 'causes' ? causeText : obsText;
    return [{ label: lab(f), list: [...removed.map((x) => ({ op: '-', node: show(x) })), ...added.map((x) => ({ op: '+', node: show(x) }))], after: h('span', al.map(show).map((n, i) => [i ? h('br') : null, n])) }];
  }
  if (f === 'sectors') return [{ label: lab(f), before: codeValue(() => sectorList(b)), after: codeValue(() => sectorList(a)), nullBefore: !b }];
  const fmt = {
    kind: kindName, event_type: eventName, layer: layerName, basis: basisName, status: statusName, regime: regimeName,
  }[f];
  if (fmt) return [{ label: lab(f), before: b === null ? nothing() : codeValue(() => fmt(b)), after: a === null ? nothing() : codeValue(() => fmt(a)) }];
  if (TIME_FIELDS.includes(f)) return [{ label: lab(f), before: b ? timeEl(b, true) : nothing(), after: a ? timeEl(a, true) : nothing() }];
  if (f === 'share_with_hub') return [{ label: lab(f), before: b === null ? nothing() : codeValue(() => t(b ? 'report.shared_yes' : 'report.shared_no')), after: codeValue(() => t(a ? 'report.shared_yes' : 'report.shared_no')) }];
  if (f === 'tlp') return [{ label: lab(f), before: b ? tlpPill(b, true) : nothing(), after: tlpPill(a, true) }];
  if (f === 'audience') {
    if (initial && deepEqual({ ...NO_AUDIENCE, ...(a || {}) }, NO_AUDIENCE)) return [];
    return [{ label: lab(f), before: b ? audienceValue(b) : nothing(), after: audienceValue(a) }];
  }
  if (f === 'description' || f === 'followup' || f === 'purpose' || f === 'handling') return [{ label: lab(f), before: longText(b), after: longText(a), long: true }];
  return [{ label: has('report.' + f) ? lab(f) : () => f, before: plain(b), after: plain(a) }];
}

/** An audience in the timeline: the phrases, and the named organisation ids in full. */
function audienceValue(aud) {
  const a = { ...NO_AUDIENCE, ...(aud || {}) };
  const text = () => {
    const parts = audienceParts({ ...a, orgs: [] }, false).map((fn) => fn());
    return parts.length || a.orgs.length ? [t('aud.coordinator'), ...parts].join(listSep()) : t('aud.coordinator_only');
  };
  return h('span.val.aud-val', tx(text),
    a.orgs.length ? h('span.aud-val-orgs', tx(() => t('aud.orgs_list') + ': '), a.orgs.map((id, i) => [i ? ', ' : '', h('code.org-id', id)])) : null);
}

function nothing() { return h('span.muted.val-none', () => t('value.empty')); }
function codeValue(fn) { return h('span.val', fn); }
function plain(v) {
  if (v === null || v === undefined || v === '') return nothing();
  return h('span.val', typeof v === 'object' ? JSON.stringify(v) : String(v));
}
function longText(v) { return v ? h('span.val.text-block.val-long', v) : nothing(); }
function causeText(c) {
  return h('span.val', tx(() => causeName(c.code)), c.detail ? ': ' + c.detail : '');
}
function obsText(o) {
  return h('span.val', tx(() => obsTypeName(o.type)), ' ', h('code', o.value), ' ', tx(() => t('paren', { x: obsRoleName(o.role) })));
}

function changeRow(row) {
  let dd;
  if (row.list) {
    dd = h('dd', h('ul.change-list', row.list.map((x) => h('li.change-' + (x.op === '+' ? 'added' : 'removed'),
      h('span.change-op', { 'aria-hidden': 'true' }, x.op === '+' ? '+' : '−'),
      h('span.visually-hidden', () => t(x.op === '+' ? 'timeline.added' : 'timeline.removed')),
      x.node))));
  } else {
    const lab = row.long ? 'span.change-label' : 'span.visually-hidden';
    dd = h('dd.change-values' + (row.long ? '.change-long' : ''),
      h('span.change-before', h(lab, () => t('timeline.before')), row.before),
      h('span.change-arrow', { 'aria-hidden': 'true' }, '→'),
      h('span.change-after', h(lab, () => t('timeline.after')), row.after));
  }
  return h('div.change', h('dt.change-field', row.label), dd);
}

function initialRow(row) {
  return h('div.change', h('dt.change-field', row.label), h('dd.change-values', h('span.change-after', row.after)));
}

// ---------------------------------------------------------------- monthly near-miss counts

export async function viewNearMiss(page) {
  append(page, pageHead('nm.title', () => t('nm.lead')));
  takeFlash(page);
  const loading = loadingEl();
  page.appendChild(loading);
  await loadRefData();
  loading.remove();

  if (canFileReports()) page.appendChild(nearMissForm());
  else if (!isCoordinator()) page.appendChild(h('p.muted.nm-readonly', () => t('nm.readonly')));
  if (isCoordinator()) page.appendChild(nearMissTotals());
}

function nearMissForm() {
  const org = state.me.org;
  const mySectors = org.sectors || [];
  const reg = new Map();
  const slot = h('div.banner-slot', { 'aria-live': 'polite' });
  const monthIn = h('input.input', { type: 'month', name: 'month', value: lastMonth(), max: monthOf(new Date()) });
  const fMonth = field({ label: () => t('nm.month'), input: monthIn, reg, name: 'month' });
  let sectorSel = null;
  let fSector = null;
  if (mySectors.length > 1) {
    sectorSel = selectInput(mySectors.map((c) => ({ value: c, text: () => sectorName(c) })), { name: 'sector' });
    fSector = field({ label: () => t('field.sector'), input: sectorSel });
  }
  const sectorRo = mySectors.length === 1
    ? h('div.field', h('span.field-label', () => t('field.sector')), h('p.readonly-value', () => sectorName(mySectors[0]))) : null;

  const rows = EVENT_TYPES.map((et, i) => {
    const count = h('input.input.input-count', { type: 'number', min: 0, max: 1000000, step: 1, inputmode: 'numeric', name: 'count.' + et });
    const note = textInput({ name: 'note.' + et, autocomplete: 'off' });
    const cur = h('span.nm-current');
    const countId = uid('cnt');
    const noteId = uid('note');
    count.id = countId; note.id = noteId;
    const err = h('p.field-error', { hidden: true });
    const rowEl = h('tr',
      h('th.nm-type', { scope: 'row' }, h('label', { for: countId }, () => eventName(et))),
      h('td.nm-cur', { 'data-label': () => t('nm.current') }, cur),
      h('td.nm-count', { 'data-label': () => t('nm.count') }, count, err),
      h('td.nm-note', { 'data-label': () => t('nm.note') }, h('label.visually-hidden', { for: noteId }, () => t('nm.note_for', { type: eventName(et) })), note));
    count.setAttribute('aria-describedby', countId + '-err');
    err.id = countId + '-err';
    const f = { el: rowEl, input: count, err, focus: count };
    return { et, count, note, cur, f, i, el: rowEl };
  });
  const table = h('table.table.nm-table',
    h('caption.visually-hidden', () => t('nm.caption')),
    h('thead', h('tr',
      h('th', { scope: 'col' }, () => t('report.event_type')),
      h('th', { scope: 'col' }, () => t('nm.current')),
      h('th', { scope: 'col' }, () => t('nm.count')),
      h('th', { scope: 'col' }, () => t('nm.note')))),
    h('tbody', rows.map((r) => r.el)));

  const submit = h('button.btn.btn-primary', { type: 'submit' }, () => t('nm.submit'));
  const form = h('form.form.nm-form', { novalidate: true, on: { submit: onSubmit } },
    h('div.two-col', fMonth.el, fSector ? fSector.el : sectorRo),
    h('p.field-hint', () => t('nm.form_hint')),
    h('div.table-wrap.table-wrap-flat', table),
    h('div.form-actions', submit));

  const histBody = h('div.nm-history-body');
  const history = h('section.nm-history', { 'aria-labelledby': 'nm-hist-h' },
    h('h2.section-title#nm-hist-h', () => t('nm.history')),
    h('p.section-lead', () => t('nm.history_lead')),
    histBody);

  let current = [];
  monthIn.addEventListener('change', load);
  if (sectorSel) sectorSel.addEventListener('change', () => { fill(); });

  function sector() { return sectorSel ? sectorSel.value : mySectors[0]; }

  function fill() {
    for (const r of rows) {
      const c = current.find((x) => x.current && x.event_type === r.et && x.sector === sector());
      r.count.value = c ? String(c.count) : '';
      r.note.value = c && c.note ? c.note : '';
      r.cur.textContent = '';
      if (c) append(r.cur, h('strong', String(c.count)));
      else append(r.cur, h('span.muted', () => t('nm.not_reported')));
    }
  }

  async function load() {
    clear(slot);
    clearFieldErrors(reg);
    const month = monthIn.value;
    clear(histBody);
    if (!/^\d{4}-\d{2}$/.test(month)) return;
    histBody.appendChild(loadingEl());
    try {
      const data = await api('GET', '/near-miss-counts', undefined, { query: { month, org_id: org.id, history: 'true' } });
      current = itemsOf(data);
    } catch (err) {
      current = [];
      if (!(err instanceof ApiError && err.status === 401)) slot.appendChild(err instanceof ApiError ? problemBanner(err) : banner('error', () => t('problem.unknown')));
    }
    fill();
    renderHistory(month);
  }

  function renderHistory(month) {
    clear(histBody);
    const items = current.slice().sort((a, b) => (b.submitted_at || '').localeCompare(a.submitted_at || '') || b.id - a.id);
    if (!items.length) {
      histBody.appendChild(h('p.empty', () => t('nm.history_empty', { month: fmtMonth(month) })));
      return;
    }
    histBody.appendChild(h('div.table-wrap', h('table.table.nm-hist-table',
      h('caption.visually-hidden', () => t('nm.history')),
      h('thead', h('tr', ['nm.submitted_at', 'report.event_type', 'field.sector', 'nm.count', 'nm.note', 'nm.state', 'nm.by'].map((k) => h('th', { scope: 'col' }, () => t(k))))),
      h('tbody', items.map((x) => h('tr', { class: x.current ? 'nm-row-current' : 'nm-row-old' },
        h('td.col-nowrap', { 'data-label': () => t('nm.submitted_at') }, timeEl(x.submitted_at)),
        h('td', { 'data-label': () => t('report.event_type') }, () => eventName(x.event_type)),
        h('td.col-nowrap', { 'data-label': () => t('field.sector') }, () => sectorName(x.sector)),
        h('td.num', { 'data-label': () => t('nm.count') }, String(x.count)),
        h('td', { 'data-label': () => t('nm.note') }, x.note || ''),
        h('td.col-nowrap', { 'data-label': () => t('nm.state') }, h('span.nm-state' + (x.current ? '.is-current' : '.is-old'), () => t(x.current ? 'nm.state_current' : 'nm.state_replaced'))),
        h('td.col-nowrap', { 'data-label': () => t('nm.by') }, () => (x.submitted_by === state.me.user.id ? t('nm.by_me') : t('nm.by_other')))))))));
  }

  async function onSubmit(ev) {
    ev.preventDefault();
    reg.clear();
    reg.set('month', fMonth);
    clearFieldErrors(new Map(rows.map((r) => [r.et, r.f])));
    clearFieldErrors(reg);
    clear(slot);
    const entries = [];
    const sent = [];
    for (const r of rows) {
      const raw = r.count.value.trim();
      if (raw === '' && r.count.validity && !r.count.validity.badInput) continue;
      const c = current.find((x) => x.current && x.event_type === r.et && x.sector === sector());
      const note = r.note.value.trim() || null;
      const count = /^\d+$/.test(raw) ? Number(raw) : raw;
      if (c && c.count === count && (c.note || null) === note) continue;
      const e = { event_type: r.et, count };
      if (note) e.note = note;
      if (sectorSel) e.sector = sector();
      entries.push(e);
      sent.push(r);
    }
    if (!entries.length) {
      slot.appendChild(banner('info', () => t('nm.nothing')));
      return;
    }
    sent.forEach((r, i) => {
      reg.set(`entries[${i}].count`, r.f);
      reg.set(`entries[${i}].event_type`, r.f);
      reg.set(`entries[${i}].note`, { el: r.el, err: r.f.err, input: r.note, focus: r.note });
      reg.set(`entries[${i}].sector`, r.f);
    });
    setBusy(submit, true, 'form.saving', 'nm.submit');
    try {
      const res = await api('POST', '/near-miss-counts', { month: monthIn.value, entries });
      setBusy(submit, false, 'form.saving', 'nm.submit');
      const n = itemsOf(res).length;
      await load();
      const month = monthIn.value;
      slot.appendChild(banner('success', () => t('nm.done', { n: entries.length, month: fmtMonth(month), total: n })));
    } catch (err) {
      setBusy(submit, false, 'form.saving', 'nm.submit');
      showProblem(err, reg, slot);
    }
  }

  load();
  return h('div.nm-wrap',
    h('section.nm-own', { 'aria-labelledby': 'nm-own-h' },
      h('h2.section-title#nm-own-h', () => t('nm.own', { org: pick(org.name) })),
      slot, form),
    history);
}

function nearMissTotals() {
  const slot = h('div.banner-slot');
  const toIn = h('input.input', { type: 'month', name: 'to', value: lastMonth() });
  const fromIn = h('input.input', { type: 'month', name: 'from', value: addMonths(lastMonth(), -11) });
  const body = h('div.nm-totals-body');
  const form = h('form.filters.filters-short.nm-totals-filters', { novalidate: true, 'aria-label': () => t('nm.totals_range'), on: { submit: (e) => { e.preventDefault(); load(); } } },
    field({ label: () => t('nm.from'), input: fromIn, cls: 'filter-field' }).el,
    field({ label: () => t('nm.to'), input: toIn, cls: 'filter-field' }).el,
    h('div.filter-actions', h('button.btn.btn-secondary', { type: 'submit' }, () => t('nm.show'))));

  async function load() {
    clear(slot);
    clear(body);
    body.appendChild(loadingEl());
    let items = [];
    try {
      items = itemsOf(await api('GET', '/near-miss-counts/totals', undefined, { query: { from: fromIn.value, to: toIn.value } }));
    } catch (err) {
      clear(body);
      if (!(err instanceof ApiError && err.status === 401)) slot.appendChild(err instanceof ApiError ? problemBanner(err) : banner('error', () => t('problem.unknown')));
      return;
    }
    clear(body);
    // Sector × event type, summed over the months of the range.
    const sum = new Map();
    const orgs = new Map();
    for (const x of items) {
      const k = x.sector + '|' + x.event_type;
      sum.set(k, (sum.get(k) || 0) + x.count);
      orgs.set(x.sector, Math.max(orgs.get(x.sector) || 0, x.orgs || 0));
    }
    const sectors = (state.sectors || []).map((s) => s.code).filter((c) => EVENT_TYPES.some((et) => sum.has(c + '|' + et)));
    for (const x of items) if (!sectors.includes(x.sector)) sectors.push(x.sector);
    if (!sectors.length) {
      body.appendChild(h('p.empty', () => t('nm.totals_empty')));
      return;
    }
    const colTotal = (et) => sectors.reduce((s, c) => s + (sum.get(c + '|' + et) || 0), 0);
    const rowTotal = (c) => EVENT_TYPES.reduce((s, et) => s + (sum.get(c + '|' + et) || 0), 0);
    const cell = (n) => h('td.num' + (n ? '' : '.zero'), n ? String(n) : '0');
    body.appendChild(h('div.matrix-wrap', { tabindex: '0', role: 'region', 'aria-label': () => t('nm.totals') },
      h('table.matrix',
        h('caption.matrix-caption', () => t('nm.totals_caption', { from: fmtMonth(fromIn.value), to: fmtMonth(toIn.value) })),
        h('thead', h('tr', h('th.matrix-corner', { scope: 'col' }, () => t('field.sector')),
          EVENT_TYPES.map((et) => h('th', { scope: 'col' }, () => t('event.short.' + et))),
          h('th.matrix-total', { scope: 'col' }, () => t('nm.total')))),
        h('tbody', sectors.map((c) => h('tr', h('th', { scope: 'row' }, () => sectorName(c)),
          EVENT_TYPES.map((et) => cell(sum.get(c + '|' + et) || 0)),
          h('td.num.matrix-total', String(rowTotal(c)))))),
        h('tfoot', h('tr', h('th', { scope: 'row' }, () => t('nm.total')),
          EVENT_TYPES.map((et) => h('td.num.matrix-total', String(colTotal(et)))),
          h('td.num.matrix-total', String(EVENT_TYPES.reduce((s, et) => s + colTotal(et), 0))))))));
  }

  load();
  return h('section.nm-totals', { 'aria-labelledby': 'nm-tot-h' },
    h('h2.section-title#nm-tot-h', () => t('nm.totals')),
    h('p.section-lead', () => t('nm.totals_lead')),
    h('div.filter-box.filter-box-plain', form),
    slot, body);
}


// ---------------------------------------------------------------- shared with releases.js

export {
  tlpPill, severityBadge, eventName, eventShort, levelName, levelShort, causeName, layerName, statusName,
  kindName as reportKindName, obsTypeName, obsRoleName, sectorList, listSep, fmtTime, timeEl, stackedTime,
  fromLocalDate, section, prop, severityTable, textBlock, observablesTable, markingPicker, audienceParts,
  isCoordinator, TIME_FIELDS, NO_AUDIENCE, idempotency, OBS_TYPES, OBS_ROLES, MAX_OBSERVABLES,
};
